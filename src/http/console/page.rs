//! The console's HTML frame (header, navigation, sign-out form), its responses (a strict CSP,
//! never cached, never framed) and its home: the schedule's state and the audit log.

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::session::Operator;
use super::text::t;
use crate::http::ApiError;
use crate::http::state::{CatalogAccess, OnAir};
use crate::http::web::{Lang, esc};

const CSS: &str = include_str!("../web/console.css");
const JS: &str = include_str!("../web/console.js");

/// Audit entries listed on the home page.
const AUDIT_SHOWN: u32 = 50;

/// What every console page's frame needs.
pub struct Frame<'a> {
    pub lang: Lang,
    pub title: &'a str,
    /// The signed-in operator (navigation and sign-out), if any.
    pub who: Option<&'a Operator>,
    /// This page's path, for the language switch.
    pub path: &'a str,
}

/// A hidden field with the session's CSRF token and the language: the start of every form.
pub fn form_fields(op: &Operator) -> String {
    format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\"><input type=\"hidden\" name=\"lang\" value=\"{}\">",
        esc(&op.csrf),
        op.lang.code()
    )
}

/// A whole page around `body`.
pub fn render(status: StatusCode, frame: &Frame<'_>, body: &str) -> Response {
    let lang = frame.lang;
    let q = format!("?lang={}", lang.code());
    let nav = match frame.who {
        Some(op) => format!(
            "<nav aria-label=\"{menu}\"><a href=\"/console{q}\">{home}</a>\
             <a href=\"/console/schedule{q}\">{sched}</a>\
             <a href=\"/console/tokens{q}\">{tokens}</a>\
             <a href=\"/console/episodes{q}\">{eps}</a></nav>\
             <form method=\"post\" action=\"/console/sign-out\" class=\"inline\">{fields}\
             <span class=\"who\">{who}</span> <button type=\"submit\" class=\"link\">{out}</button></form>",
            menu = t(lang, "menu"),
            home = t(lang, "home"),
            sched = t(lang, "schedule"),
            tokens = t(lang, "tokens"),
            eps = t(lang, "episodes"),
            fields = form_fields(op),
            who = esc(&op.who),
            out = t(lang, "sign_out"),
        ),
        None => String::new(),
    };
    let other = match lang {
        Lang::Fr => "en",
        Lang::En => "fr",
    };
    let html = format!(
        "<!doctype html><html lang=\"{code}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"referrer\" content=\"no-referrer\">\
         <title>{title} · {console}</title>\
         <link rel=\"icon\" href=\"/favicon.svg\" type=\"image/svg+xml\">\
         <link rel=\"stylesheet\" href=\"/static/console.css\">\
         <script src=\"/static/console.js\" defer></script></head>\
         <body><header class=\"console\"><p class=\"brand\"><a href=\"/console{q}\">{console}</a></p>{nav}\
         <a class=\"lang\" href=\"{path}?lang={other}\" hreflang=\"{other}\">{switch}</a></header>\
         <main id=\"main\"><h1>{title}</h1>{body}</main></body></html>",
        code = lang.code(),
        title = esc(frame.title),
        console = t(lang, "console"),
        path = esc(frame.path),
        switch = t(lang, "lang_switch"),
    );
    let mut resp = (status, html).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
             connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    resp
}

/// A page of one message (refusals, conflicts).
pub fn message(status: StatusCode, lang: Lang, title: &str, text: &str) -> Response {
    let body = format!(
        "<p class=\"error\" role=\"alert\">{}</p><p><a href=\"/console?lang={}\">{}</a></p>",
        esc(text),
        lang.code(),
        t(lang, "back_home")
    );
    render(
        status,
        &Frame {
            lang,
            title,
            who: None,
            path: "/console",
        },
        &body,
    )
}

/// `303 See Other` to `to` (after a POST).
pub fn see_other(to: &str) -> Response {
    let mut resp = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp
}

/// `yyyy-mm-dd hh:mm` in the station's zone.
pub fn local(on_air: &OnAir, at: jiff::Timestamp) -> String {
    let tz = on_air.current_schedule().station().timezone.clone();
    at.to_zoned_datetime(tz)
        .strftime("%Y-%m-%d %H:%M")
        .to_string()
}

/// `GET /console`: what the schedule on air is, the last refused edit, the aired files whose
/// tags the music declaration misses, the audit log.
pub async fn home(
    op: Operator,
    State(catalog): State<CatalogAccess>,
    State(on_air): State<OnAir>,
) -> Result<Response, ApiError> {
    let lang = op.lang;
    let log = catalog.with_catalog(|c| c.audit_log(AUDIT_SHOWN)).await?;
    let untagged = catalog.with_catalog(|c| c.untagged_media()).await?;
    let mut body = String::new();
    {
        let state = on_air.schedule();
        body.push_str(&format!(
            "<section class=\"card\"><h2>{}</h2><p>{} <strong>{}</strong> · {}</p>",
            t(lang, "on_air_schedule"),
            t(lang, "loaded_at"),
            esc(&local(&on_air, state.loaded_at)),
            esc(&state.path.display().to_string()),
        ));
        if let Some(r) = &state.refused {
            body.push_str(&format!(
                "<p class=\"error\">{} ({})</p><pre class=\"diag\">{}</pre>",
                t(lang, "last_refused"),
                esc(&local(&on_air, r.at)),
                esc(&r.errors.join("\n\n"))
            ));
        }
        body.push_str(&format!(
            "<p><a class=\"button\" href=\"/console/schedule?lang={}\">{}</a></p></section>",
            lang.code(),
            t(lang, "edit_schedule")
        ));
    }
    body.push_str(&format!(
        "<section><h2>{}</h2><p>{}</p><table class=\"untagged\"><thead><tr><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
        t(lang, "untagged"),
        t(lang, "untagged_help"),
        t(lang, "file"),
        t(lang, "plays"),
        t(lang, "last_aired"),
    ));
    for u in &untagged {
        body.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&u.path),
            u.plays,
            esc(&local(&on_air, u.last_aired)),
        ));
    }
    if untagged.is_empty() {
        body.push_str(&format!(
            "<tr><td colspan=\"3\">{}</td></tr>",
            t(lang, "untagged_none")
        ));
    }
    body.push_str("</tbody></table></section>");
    body.push_str(&super::declaration::form(lang, &on_air));
    body.push_str(&format!(
        "<section><h2>{}</h2><table class=\"audit\"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
        t(lang, "audit"),
        t(lang, "when"),
        t(lang, "who"),
        t(lang, "what"),
        t(lang, "detail"),
    ));
    for e in &log {
        body.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&local(&on_air, e.at)),
            esc(&e.who),
            esc(super::text::action(lang, &e.action)),
            esc(&e.detail)
        ));
    }
    if log.is_empty() {
        body.push_str(&format!(
            "<tr><td colspan=\"4\">{}</td></tr>",
            t(lang, "audit_empty")
        ));
    }
    body.push_str("</tbody></table></section>");
    Ok(render(
        StatusCode::OK,
        &Frame {
            lang,
            title: t(lang, "console"),
            who: Some(&op),
            path: "/console",
        },
        &body,
    ))
}

fn asset(ct: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, ct),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        body,
    )
        .into_response()
}

pub async fn css() -> Response {
    asset("text/css; charset=utf-8", CSS)
}

pub async fn js() -> Response {
    asset("text/javascript; charset=utf-8", JS)
}
