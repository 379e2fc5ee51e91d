//! `/audience`: the audience figures for operators (issue 16), as server-rendered SVG charts
//! (no JavaScript) for a week, a month or a season, and `/audience/{table}.csv` with the same
//! figures for a spreadsheet.
//!
//! Operators only: an operator token as `Authorization: Bearer`, or as the password of HTTP
//! Basic (any user name), so a browser asks for it once and sends it with the CSV links.
//! Anything else answers the same bare `401`; a show's token answers `403`.
//!
//! Query: `period=week|month|season` (default `month`), `to=YYYY-MM-DD` (the last day,
//! default today in the station's time zone), `lang=fr|en`.

use std::fmt::Write as _;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;

use super::state::{CatalogAccess, OnAir};
use super::web::{Lang, esc};
use crate::audience::chart::{self, Bar};
use crate::audience::export::{self, Table};
use crate::audience::{Figures, Period, Span, figures, hours};

#[derive(Debug, Default, serde::Deserialize)]
pub struct AudienceQuery {
    period: Option<String>,
    to: Option<String>,
    lang: Option<String>,
}

/// `GET /audience`.
pub async fn page(
    State(catalog): State<CatalogAccess>,
    State(on_air): State<OnAir>,
    Query(q): Query<AudienceQuery>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = operator(&catalog, &headers).await {
        return *r;
    }
    let accept = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    let lang = Lang::negotiate(q.lang.as_deref(), accept);
    let (span, period) = match period(&on_air, &q) {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    match load(&catalog, &on_air, period).await {
        Ok(f) => html(render(&on_air, &f, span, &q, lang)),
        Err(e) => super::ApiError::from(e).into_response(),
    }
}

/// `GET /audience/{table}.csv` (`occurrences`, `shows`, `downloads`).
pub async fn csv(
    State(catalog): State<CatalogAccess>,
    State(on_air): State<OnAir>,
    Path(file): Path<String>,
    Query(q): Query<AudienceQuery>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = operator(&catalog, &headers).await {
        return *r;
    }
    let Some(table) = file.strip_suffix(".csv").and_then(Table::from_name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let (_, period) = match period(&on_air, &q) {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let f = match load(&catalog, &on_air, period).await {
        Ok(f) => f,
        Err(e) => return super::ApiError::from(e).into_response(),
    };
    let tz = on_air.current_schedule().station().timezone.clone();
    let body = export::csv(&f, table, &tz, true);
    let name = format!(
        "audience-{}-{}-{}.csv",
        table.name(),
        tz.to_datetime(period.from).date(),
        tz.to_datetime(period.to).date()
    );
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8; header=present"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    r
}

/// `Ok` for an operator token (Bearer, or Basic's password); else the answer to send.
async fn operator(catalog: &CatalogAccess, headers: &HeaderMap) -> Result<(), Box<Response>> {
    let secret = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(presented_secret);
    let Some(secret) = secret else {
        return Err(Box::new(unauthorized()));
    };
    let record = catalog
        .with_catalog(move |c| c.token_for_secret(&secret))
        .await
        .map_err(|e| Box::new(super::ApiError::from(e).into_response()))?;
    match record {
        Some(r) if r.is_operator() => Ok(()),
        Some(_) => Err(Box::new(super::ApiError::Forbidden.into_response())),
        None => Err(Box::new(unauthorized())),
    }
}

/// The token of `Bearer TOKEN` or of `Basic base64(user:TOKEN)`.
fn presented_secret(value: &str) -> Option<String> {
    let (scheme, rest) = value.split_once(' ')?;
    let rest = rest.trim();
    if rest.is_empty() || rest.len() > 512 {
        return None;
    }
    if scheme.eq_ignore_ascii_case("bearer") {
        return Some(rest.to_owned());
    }
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(rest)
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (_, password) = text.split_once(':')?;
    (!password.is_empty()).then(|| password.to_owned())
}

fn unauthorized() -> Response {
    let mut r = (StatusCode::UNAUTHORIZED, "operator token required\n").into_response();
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"Antenne operators\", charset=\"UTF-8\""),
    );
    r
}

fn bad_request(msg: &str) -> super::ApiError {
    super::ApiError::BadRequest(msg.to_owned())
}

/// The period the query asks for, in the station's time zone.
fn period(on_air: &OnAir, q: &AudienceQuery) -> Result<(Span, Period), super::ApiError> {
    let span = match q.period.as_deref() {
        None | Some("") => Span::Month,
        Some(s) => {
            Span::from_name(s).ok_or_else(|| bad_request("period: week, month or season"))?
        }
    };
    let tz = on_air.current_schedule().station().timezone.clone();
    let now = jiff::Timestamp::now();
    let last = match q.to.as_deref() {
        None | Some("") => tz.to_datetime(now).date(),
        Some(d) => d
            .parse::<jiff::civil::Date>()
            .map_err(|_| bad_request("to: a date, YYYY-MM-DD"))?,
    };
    let period = Period::ending(span, last, &tz, now)
        .ok_or_else(|| bad_request("no such period (a date in the future?)"))?;
    Ok((span, period))
}

async fn load(catalog: &CatalogAccess, on_air: &OnAir, period: Period) -> anyhow::Result<Figures> {
    let schedule = on_air.current_schedule();
    catalog
        .with_catalog(move |c| {
            let sessions = c.sessions_between(period.from, period.to)?;
            let downloads = c.downloads_between(period.from, period.to)?;
            Ok(figures(&schedule, period, &sessions, &downloads))
        })
        .await
}

fn html(body: String) -> Response {
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; \
             base-uri 'none'; frame-ancestors 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    r
}

/// A number with `decimals`, with a decimal comma in French.
fn num(v: f64, decimals: usize, lang: Lang) -> String {
    let s = format!("{v:.decimals$}");
    match lang {
        Lang::Fr => s.replace('.', ","),
        Lang::En => s,
    }
}

fn pick(lang: Lang, fr: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Fr => fr,
        Lang::En => en,
    }
}

fn render(on_air: &OnAir, f: &Figures, span: Span, q: &AudienceQuery, l: Lang) -> String {
    let schedule = on_air.current_schedule();
    let tz = schedule.station().timezone.clone();
    let station = &schedule.station().name;
    let day = |t: jiff::Timestamp| tz.to_datetime(t).date();
    let first = day(f.period.from);
    // The period ends at a midnight or now: its last day is the one before `to`'s instant.
    let last = day(f
        .period
        .to
        .saturating_sub(jiff::SignedDuration::from_millis(1))
        .unwrap_or(f.period.to));
    let title = pick(l, "Audience", "Audience");
    let mut out = String::new();
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"{code}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title} · {station}</title>\n<link rel=\"stylesheet\" href=\"/static/style.css\">\n\
         </head>\n<body>\n<main id=\"main\">\n<h1>{title} · {station}</h1>\n",
        code = l.code(),
        station = esc(station),
    );
    let to =
        q.to.as_deref()
            .map(|t| format!("&amp;to={}", esc(t)))
            .unwrap_or_default();
    let _ = write!(
        out,
        "<nav aria-label=\"{}\"><p>",
        pick(l, "Période", "Period")
    );
    for s in Span::ALL {
        let name = match s {
            Span::Week => pick(l, "Semaine", "Week"),
            Span::Month => pick(l, "Mois", "Month"),
            Span::Season => pick(l, "Saison (3 mois)", "Season (3 months)"),
        };
        if s == span {
            let _ = write!(out, "<strong aria-current=\"page\">{name}</strong> ");
        } else {
            let _ = write!(
                out,
                "<a href=\"/audience?period={}{to}&amp;lang={}\">{name}</a> ",
                s.name(),
                l.code()
            );
        }
    }
    let (code, name) = match l {
        Lang::Fr => ("en", "English"),
        Lang::En => ("fr", "Français"),
    };
    let other = format!(
        "<a href=\"/audience?period={}{to}&amp;lang={code}\" lang=\"{code}\" hreflang=\"{code}\">{name}</a>",
        span.name()
    );
    let _ = writeln!(out, "· {other}</p></nav>");
    let total_ms: i64 = f.by_output.values().map(|t| t.listening_ms).sum();
    let total_sessions: u32 = f.by_output.values().map(|t| t.sessions).sum();
    let _ = writeln!(
        out,
        "<p>{} {first} {} {last} : <strong>{}</strong> {}, <strong>{total_sessions}</strong> {}.</p>",
        pick(l, "Du", "From"),
        pick(l, "au", "to"),
        num(hours(total_ms), 1, l),
        pick(l, "heures d'écoute", "listening hours"),
        pick(l, "sessions", "sessions"),
    );

    let shows: Vec<Bar> = f
        .shows
        .iter()
        .map(|s| Bar {
            label: s.title.clone(),
            value: hours(s.listening_ms),
            text: format!(
                "{} h · {} {}",
                num(hours(s.listening_ms), 1, l),
                pick(l, "pic", "peak"),
                s.peak
            ),
        })
        .collect();
    let none = pick(
        l,
        "Aucune donnée pour cette période.",
        "No figures for this period.",
    );
    let h_shows = pick(
        l,
        "Heures d'écoute par émission",
        "Listening hours per show",
    );
    let _ = writeln!(
        out,
        "<section><h2>{h_shows}</h2>\n{}</section>",
        chart::horizontal(
            h_shows,
            pick(
                l,
                "Heures d'écoute et pic d'auditeurs de chaque émission sur la période.",
                "Listening hours and peak listeners of each show over the period."
            ),
            none,
            &shows
        )
    );
    let peaks: Vec<Bar> = f
        .occurrences
        .iter()
        .map(|o| {
            let title = schedule
                .show(&o.show)
                .map_or(o.show.as_str(), |s| s.title.as_str());
            let when = tz.to_datetime(o.start);
            Bar {
                label: when.strftime("%d/%m").to_string(),
                value: f64::from(o.peak),
                text: format!(
                    "{} {} · {} {} · {} {}",
                    title,
                    when.strftime("%H:%M"),
                    o.peak,
                    pick(l, "au plus", "at most"),
                    num(o.average, 1, l),
                    pick(l, "en moyenne", "on average")
                ),
            }
        })
        .collect();
    let h_peaks = pick(
        l,
        "Pic d'auditeurs par diffusion",
        "Peak listeners per occurrence",
    );
    let _ = writeln!(
        out,
        "<section><h2>{h_peaks}</h2>\n{}</section>",
        chart::vertical(
            h_peaks,
            pick(
                l,
                "Le plus grand nombre d'auditeurs simultanés de chaque diffusion, dans l'ordre.",
                "The most simultaneous listeners of each occurrence, in order."
            ),
            none,
            &peaks
        )
    );
    let mut per_day: std::collections::BTreeMap<jiff::civil::Date, u64> = Default::default();
    let mut d = first;
    while d <= last {
        per_day.insert(d, 0);
        match d.tomorrow() {
            Ok(n) => d = n,
            Err(_) => break,
        }
    }
    for x in &f.downloads {
        *per_day.entry(x.date).or_default() += x.downloads;
    }
    let days: Vec<Bar> = per_day
        .iter()
        .map(|(d, n)| Bar {
            label: d.strftime("%d/%m").to_string(),
            value: *n as f64,
            text: format!("{n} {}", pick(l, "téléchargements", "downloads")),
        })
        .collect();
    let h_dl = pick(
        l,
        "Téléchargements d'épisodes par jour",
        "Episode downloads per day",
    );
    let _ = writeln!(
        out,
        "<section><h2>{h_dl}</h2>\n{}</section>",
        chart::vertical(
            h_dl,
            pick(
                l,
                "Téléchargements comptés (IAB v2) de tous les épisodes, jour par jour.",
                "Counted downloads (IAB v2) of every episode, day by day."
            ),
            none,
            &days
        )
    );
    let _ = write!(
        out,
        "<section><h2>{}</h2>\n<table>\n<thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead>\n<tbody>\n",
        pick(
            l,
            "Par sortie et par type d'appareil",
            "By output and by kind of player"
        ),
        pick(l, "Sortie ou appareil", "Output or player"),
        pick(l, "Sessions", "Sessions"),
        pick(l, "Heures d'écoute", "Listening hours"),
        pick(l, "Part", "Share"),
    );
    let share = |ms: i64| num(100.0 * ms as f64 / total_ms.max(1) as f64, 0, l);
    for (k, t) in &f.by_output {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{} %</td></tr>",
            k.name(),
            t.sessions,
            num(hours(t.listening_ms), 1, l),
            share(t.listening_ms)
        );
    }
    for (k, t) in &f.by_client {
        let name = match k {
            crate::catalog::ClientFamily::Browser => pick(l, "navigateur", "browser"),
            crate::catalog::ClientFamily::App => {
                pick(l, "appli (podcast, radio)", "app (podcast, radio)")
            }
            crate::catalog::ClientFamily::Vlc => "VLC",
            crate::catalog::ClientFamily::SmartSpeaker => {
                pick(l, "enceinte connectée", "smart speaker")
            }
            crate::catalog::ClientFamily::Other => pick(l, "autre", "other"),
        };
        let _ = writeln!(
            out,
            "<tr><td>{name}</td><td>{}</td><td>{}</td><td>{} %</td></tr>",
            t.sessions,
            num(hours(t.listening_ms), 1, l),
            share(t.listening_ms)
        );
    }
    out.push_str("</tbody>\n</table>\n</section>\n");
    let _ = write!(
        out,
        "<section><h2>{}</h2>\n<ul>\n",
        pick(l, "Les chiffres en CSV", "The figures as CSV")
    );
    let query = format!("period={}{to}", span.name());
    for (table, fr, en) in [
        (Table::Occurrences, "par diffusion", "per occurrence"),
        (Table::Shows, "par émission", "per show"),
        (
            Table::Downloads,
            "téléchargements par jour et par épisode",
            "downloads per day and episode",
        ),
    ] {
        let _ = writeln!(
            out,
            "<li><a href=\"/audience/{}.csv?{query}\" download>{}</a></li>",
            table.name(),
            pick(l, fr, en)
        );
    }
    let _ = writeln!(
        out,
        "</ul>\n<p><small>{}</small></p>\n</section>\n</main>\n</body>\n</html>",
        pick(
            l,
            "Une session est l'écoute d'un auditeur sur une sortie, du début à la fin ; aucune adresse ni aucun identifiant n'est conservé. Les sessions HLS sont estimées d'après les requêtes de la playlist.",
            "A session is one listener's time on one output, from start to end; no address or identifier is kept. HLS sessions are estimated from playlist fetches."
        )
    );
    out
}
