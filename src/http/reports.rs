//! The music declaration (SACEM/SPRÉ): the airplay log of a period as the summary the
//! collecting societies ask for (one row per track: title, performer, authors/composers,
//! ISRC, duration, plays, seconds aired) or as the detailed log (one row per airing), in CSV
//! or JSON. `antenne report airplay`, `GET /api/reports/airplay` (operator token) and the
//! console's form (`/console/declaration`) all call [`render`], so the file downloaded and
//! the file printed are the same bytes.
//!
//! CSV follows RFC 4180 (the `csv` crate: quoting, CRLF), starts with a UTF-8 BOM so that
//! spreadsheet applications read the accents, and with `semicolon` uses `;` and a decimal
//! comma, as French Excel expects. Items without a title or performer tag are flagged, with
//! their file, so operators can fix them (`GET /api/library/untagged`, operator token, lists
//! those files).

use axum::Json;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::Deserialize;

use super::auth::Auth;
use super::state::{CatalogAccess, OnAir};
use super::{ApiError, wire};
use crate::catalog::{AirplayEntry, TrackSummary, summarise};

/// The output's encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    #[default]
    Csv,
    Json,
}

/// What to produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Options {
    pub format: Format,
    /// One row per airing instead of one per track.
    pub detail: bool,
    /// `;` between fields and a decimal comma (French spreadsheets).
    pub semicolon: bool,
}

/// A period of whole days in the station's time zone: `from` 00:00 to the day after `to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    pub first_day: Date,
    pub last_day: Date,
    pub start: Timestamp,
    pub end: Timestamp,
}

/// The period from `from` to `to` (both `YYYY-MM-DD`, inclusive) in `tz`.
pub fn period(from: &str, to: &str, tz: &TimeZone) -> Result<Period, String> {
    let day = |s: &str, what: &str| {
        s.trim()
            .parse::<Date>()
            .map_err(|_| format!("{what} {s:?} is not a date (YYYY-MM-DD)"))
    };
    let (first_day, last_day) = (day(from, "--from")?, day(to, "--to")?);
    if last_day < first_day {
        return Err(format!("--to {last_day} is before --from {first_day}"));
    }
    let midnight = |d: Date| {
        d.to_zoned_datetime(tz.clone())
            .map(|z| z.timestamp())
            .map_err(|e| format!("{d}: {e}"))
    };
    let after = last_day
        .tomorrow()
        .map_err(|e| format!("--to {last_day}: {e}"))?;
    Ok(Period {
        first_day,
        last_day,
        start: midnight(first_day)?,
        end: midnight(after)?,
    })
}

/// The declaration of `airings` (those of `period`) as bytes; instants in `tz`.
pub fn render(airings: &[AirplayEntry], period: &Period, tz: &TimeZone, opts: Options) -> Vec<u8> {
    match (opts.format, opts.detail) {
        (Format::Json, false) => json(period, "tracks", &summarise(airings)),
        (Format::Json, true) => json(period, "airings", airings),
        (Format::Csv, false) => csv_bytes(opts, SUMMARY_HEADER, summary_rows(airings, opts)),
        (Format::Csv, true) => csv_bytes(opts, DETAIL_HEADER, detail_rows(airings, tz, opts)),
    }
}

/// The summary's columns.
pub const SUMMARY_HEADER: &[&str] = &[
    "Titre",
    "Interprète",
    "Auteurs-compositeurs",
    "Éditeur",
    "ISRC",
    "Album",
    "Année",
    "Durée (s)",
    "Diffusions",
    "Secondes diffusées",
    "Type",
    "Fichier",
    "Tags manquants",
];

/// The detailed log's columns.
pub const DETAIL_HEADER: &[&str] = &[
    "Début",
    "Fin",
    "Secondes diffusées",
    "Trames",
    "Type",
    "Émission",
    "Occurrence",
    "Titre",
    "Interprète",
    "Auteurs-compositeurs",
    "ISRC",
    "Fichier",
    "SHA-256",
    "Tags manquants",
];

fn json<T: serde::Serialize + ?Sized>(period: &Period, key: &str, rows: &T) -> Vec<u8> {
    let mut v = serde_json::json!({
        "from": period.first_day.to_string(),
        "to": period.last_day.to_string(),
    });
    v[key] = serde_json::to_value(rows).unwrap_or_default();
    let mut out = serde_json::to_vec_pretty(&v).unwrap_or_default();
    out.push(b'\n');
    out
}

fn seconds(s: f64, opts: Options) -> String {
    let text = format!("{s:.3}");
    if opts.semicolon {
        text.replace('.', ",")
    } else {
        text
    }
}

fn flag(tagged: bool) -> &'static str {
    if tagged { "" } else { "oui" }
}

fn summary_rows(airings: &[AirplayEntry], opts: Options) -> Vec<Vec<String>> {
    summarise(airings)
        .into_iter()
        .map(|t: TrackSummary| {
            vec![
                t.title,
                t.performer,
                t.composers,
                t.publisher,
                t.isrc,
                t.album,
                t.year.map(|y| y.to_string()).unwrap_or_default(),
                t.duration_s.map(|d| seconds(d, opts)).unwrap_or_default(),
                t.plays.to_string(),
                seconds(t.seconds_aired, opts),
                t.kind.as_str().to_owned(),
                t.file,
                flag(t.tagged).to_owned(),
            ]
        })
        .collect()
}

fn detail_rows(airings: &[AirplayEntry], tz: &TimeZone, opts: Options) -> Vec<Vec<String>> {
    airings
        .iter()
        .map(|a| {
            let tags = a.tags.clone().unwrap_or_default();
            let title = tags
                .title
                .clone()
                .filter(|t| !t.trim().is_empty())
                .unwrap_or_else(|| a.title.clone());
            let file_flag = if a.path.is_some() {
                flag(a.is_tagged())
            } else {
                ""
            };
            vec![
                wire::rfc3339(tz, a.started_at),
                a.ended_at.map(|t| wire::rfc3339(tz, t)).unwrap_or_default(),
                seconds(a.seconds(), opts),
                a.frames.map(|f| f.to_string()).unwrap_or_default(),
                a.kind.as_str().to_owned(),
                a.show_title.clone(),
                a.occurrence_id.clone().unwrap_or_default(),
                title,
                tags.artist.unwrap_or_default(),
                tags.composer.unwrap_or_default(),
                tags.isrc.unwrap_or_default(),
                a.path.clone().unwrap_or_default(),
                a.sha256.clone().unwrap_or_default(),
                file_flag.to_owned(),
            ]
        })
        .collect()
}

fn csv_bytes(opts: Options, header: &[&str], rows: Vec<Vec<String>>) -> Vec<u8> {
    let mut out = "\u{feff}".as_bytes().to_vec();
    {
        let mut w = csv::WriterBuilder::new()
            .delimiter(if opts.semicolon { b';' } else { b',' })
            .terminator(csv::Terminator::CRLF)
            .from_writer(&mut out);
        // Writing to a Vec cannot fail.
        let _ = w.write_record(header);
        for r in rows {
            let _ = w.write_record(&r);
        }
        let _ = w.flush();
    }
    out
}

/// The query of `GET /api/reports/airplay`.
#[derive(Debug, Deserialize)]
pub struct ReportQuery {
    pub from: String,
    pub to: String,
    #[serde(default)]
    pub format: Format,
    #[serde(default)]
    pub detail: Option<String>,
    #[serde(default)]
    pub semicolon: Option<String>,
}

fn yes(v: &Option<String>) -> bool {
    v.as_deref()
        .is_some_and(|s| matches!(s, "" | "1" | "true" | "yes" | "on"))
}

/// `GET /api/reports/airplay?from=YYYY-MM-DD&to=YYYY-MM-DD[&format=csv|json][&detail=1]
/// [&semicolon=1]`: the declaration as a download; operator tokens only.
pub async fn airplay(
    auth: Auth,
    State(catalog): State<CatalogAccess>,
    State(on_air): State<OnAir>,
    Query(q): Query<ReportQuery>,
) -> Result<Response, ApiError> {
    if !auth.0.is_operator() {
        return Err(ApiError::Forbidden);
    }
    download(&catalog, &on_air, &q).await
}

/// The declaration of `q`'s period as a file to download (`Content-Disposition`), for the
/// API and for the operators' console (`/console/declaration`): the caller checked who asks.
pub async fn download(
    catalog: &CatalogAccess,
    on_air: &OnAir,
    q: &ReportQuery,
) -> Result<Response, ApiError> {
    let tz = on_air.schedule().schedule.station().timezone.clone();
    let period = period(&q.from, &q.to, &tz).map_err(ApiError::BadRequest)?;
    let opts = Options {
        format: q.format,
        detail: yes(&q.detail),
        semicolon: yes(&q.semicolon),
    };
    let (start, end) = (period.start, period.end);
    let airings = catalog
        .with_catalog(move |c| c.airplay_between(start, end))
        .await?;
    let body = tokio::task::spawn_blocking(move || {
        let bytes = render(&airings, &period, &tz, opts);
        (bytes, period)
    })
    .await
    .map_err(|e| ApiError::Internal(e.into()))?;
    let (bytes, period) = body;
    let (mime, ext) = match opts.format {
        Format::Csv => ("text/csv; charset=utf-8", "csv"),
        Format::Json => ("application/json", "json"),
    };
    let kind = if opts.detail {
        "airplay-log"
    } else {
        "airplay"
    };
    let name = format!(
        "attachment; filename=\"{kind}-{}-{}.{ext}\"",
        period.first_day, period.last_day
    );
    Ok((
        [
            (header::CONTENT_TYPE, mime.to_owned()),
            (header::CONTENT_DISPOSITION, name),
        ],
        bytes,
    )
        .into_response())
}

/// `GET /api/library/untagged`: the aired files without a title or performer tag, for the
/// operators to fix before the declaration; operator tokens only (the files' names are the
/// station's business).
pub async fn untagged(
    auth: Auth,
    State(catalog): State<CatalogAccess>,
) -> Result<Json<serde_json::Value>, ApiError> {
    if !auth.0.is_operator() {
        return Err(ApiError::Forbidden);
    }
    let files = catalog.with_catalog(|c| c.untagged_media()).await?;
    Ok(Json(serde_json::json!({ "untagged": files })))
}
