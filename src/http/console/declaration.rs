//! The music declaration from a browser: the form on the console's home (a period, the
//! summary or the detailed log, `;` for French Excel) and `GET /console/declaration`, which
//! answers the same file as `GET /api/reports/airplay` (`reports::download`) to a signed-in
//! operator.

use axum::extract::{Query, State};
use axum::response::Response;

use super::session::Operator;
use crate::http::ApiError;
use crate::http::reports::{self, ReportQuery};
use crate::http::state::{CatalogAccess, OnAir};
use crate::http::web::Lang;

/// `GET /console/declaration?from=&to=&detail=0|1[&semicolon=1]`: the declaration as a
/// download (the `Operator` extractor answers the sign-in page to anyone else).
pub async fn download(
    _op: Operator,
    State(catalog): State<CatalogAccess>,
    State(on_air): State<OnAir>,
    Query(q): Query<ReportQuery>,
) -> Result<Response, ApiError> {
    reports::download(&catalog, &on_air, &q).await
}

/// The form, for the console's home: the current semester by default, in the station's time.
pub fn form(lang: Lang, on_air: &OnAir) -> String {
    let tz = on_air.schedule().schedule.station().timezone.clone();
    let today = tz.to_datetime(jiff::Timestamp::now()).date();
    let first = jiff::civil::date(today.year(), if today.month() <= 6 { 1 } else { 7 }, 1);
    let fr = lang == Lang::Fr;
    let s = |f: &'static str, e: &'static str| if fr { f } else { e };
    format!(
        "<section><h2>{}</h2><p>{}</p>\
         <form method=\"get\" action=\"/console/declaration\" class=\"card\">\
         <input type=\"hidden\" name=\"format\" value=\"csv\">\
         <label>{} <input type=\"date\" name=\"from\" value=\"{first}\" required></label> \
         <label>{} <input type=\"date\" name=\"to\" value=\"{today}\" required></label> \
         <label>{} <select name=\"detail\"><option value=\"0\">{}</option>\
         <option value=\"1\">{}</option></select></label> \
         <label><input type=\"checkbox\" name=\"semicolon\" value=\"1\" checked> {}</label> \
         <button type=\"submit\">{}</button></form></section>",
        s("Déclaration SACEM/SPRÉ", "SACEM/SPRÉ declaration"),
        s(
            "Le relevé de diffusion d'une période, en CSV (jours entiers à l'heure de la station).",
            "The airplay log of a period, as CSV (whole days in the station's time).",
        ),
        s("Du", "From"),
        s("au", "to"),
        s("Contenu", "Content"),
        s("Résumé : une ligne par titre", "Summary: one row per track"),
        s(
            "Relevé détaillé : une ligne par diffusion",
            "Detailed log: one row per airing"
        ),
        s(
            "Séparateur « ; » (Excel en français)",
            "\";\" separator (French Excel)"
        ),
        s("Télécharger", "Download"),
    )
}
