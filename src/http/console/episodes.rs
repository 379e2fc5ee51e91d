//! The shows' episodes from the console: every episode of a show (unpublished and failed
//! ones too) with its status; one episode's metadata edit (the upload's rules), its
//! loudness report and job, unpublish/republish, and a failed job queued again.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::audit;
use super::page::{self, Frame, form_fields, local};
use super::session::{Operator, Posted};
use super::text::t;
use crate::catalog::{Episode, EpisodeQuery, EpisodeStatus, MetadataPatch};
use crate::http::ApiError;
use crate::http::state::{CatalogAccess, OnAir};
use crate::http::web::esc;
use crate::ingest::intake;

#[derive(serde::Deserialize)]
pub struct ShowQuery {
    show: Option<String>,
}

fn status_word(op: &Operator, e: &Episode) -> &'static str {
    t(op.lang, e.status.as_str())
}

/// `GET /console/episodes?show=`: one show's episodes (the first show by default).
pub async fn list(
    op: Operator,
    State(catalog): State<CatalogAccess>,
    State(on_air): State<OnAir>,
    Query(q): Query<ShowQuery>,
) -> Result<Response, ApiError> {
    let lang = op.lang;
    let schedule = on_air.current_schedule();
    let show = q
        .show
        .filter(|s| schedule.show(s).is_some())
        .or_else(|| schedule.shows().first().map(|s| s.slug.clone()))
        .unwrap_or_default();
    let s = show.clone();
    let episodes = catalog
        .with_catalog(move |c| {
            c.list_episodes(&EpisodeQuery {
                show: Some(s),
                include_unpublished: true,
                limit: Some(500),
                ..Default::default()
            })
        })
        .await?;
    let options: String = schedule
        .shows()
        .iter()
        .map(|sh| {
            format!(
                "<option value=\"{}\"{}>{}</option>",
                esc(&sh.slug),
                if sh.slug == show { " selected" } else { "" },
                esc(&sh.title)
            )
        })
        .collect();
    let mut body = format!(
        "<form method=\"get\" action=\"/console/episodes\" class=\"inline\">\
         <input type=\"hidden\" name=\"lang\" value=\"{}\"><label>{} <select name=\"show\">{options}</select></label> \
         <button type=\"submit\">{}</button></form>\
         <table class=\"episodes\"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
        lang.code(),
        t(lang, "show"),
        t(lang, "see"),
        t(lang, "date"),
        t(lang, "title"),
        t(lang, "state"),
        t(lang, "published"),
    );
    for e in &episodes {
        body.push_str(&format!(
            "<tr><td>{}</td><td><a href=\"/console/episodes/{}?lang={}\">{}</a></td><td>{}</td><td>{}</td></tr>",
            esc(e.date.as_deref().unwrap_or("")),
            esc(&e.id),
            lang.code(),
            esc(&e.title),
            status_word(&op, e),
            t(lang, if e.published { "yes" } else { "no" }),
        ));
    }
    if episodes.is_empty() {
        body.push_str(&format!(
            "<tr><td colspan=\"4\">{}</td></tr>",
            t(lang, "no_episodes")
        ));
    }
    body.push_str("</tbody></table>");
    Ok(page::render(
        StatusCode::OK,
        &Frame {
            lang,
            title: t(lang, "episodes"),
            who: Some(&op),
            path: "/console/episodes",
        },
        &body,
    ))
}

async fn load(catalog: &CatalogAccess, id: &str) -> Result<(Episode, Option<f64>), ApiError> {
    let id = id.to_owned();
    catalog
        .with_catalog(move |c| {
            let e = c.episode(&id)?;
            let p = c.job_progress(&id)?;
            Ok(e.map(|e| (e, p)))
        })
        .await?
        .ok_or(ApiError::NotFound)
}

/// `GET /console/episodes/{id}`.
pub async fn one(
    op: Operator,
    State(catalog): State<CatalogAccess>,
    State(on_air): State<OnAir>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (e, progress) = load(&catalog, &id).await?;
    Ok(episode_page(
        &op,
        &on_air,
        &e,
        progress,
        StatusCode::OK,
        &[],
    ))
}

fn episode_page(
    op: &Operator,
    on_air: &OnAir,
    e: &Episode,
    progress: Option<f64>,
    status: StatusCode,
    errors: &[(String, String)],
) -> Response {
    let lang = op.lang;
    let mut body = String::new();
    if !errors.is_empty() {
        body.push_str("<ul class=\"error\" role=\"alert\">");
        for (k, m) in errors {
            body.push_str(&format!("<li>{} : {}</li>", esc(k), esc(m)));
        }
        body.push_str("</ul>");
    }
    let opt = |v: Option<u32>| v.map(|n| n.to_string()).unwrap_or_default();
    body.push_str(&format!(
        "<form method=\"post\" action=\"/console/episodes/{id}\" class=\"card\">{fields}\
         <label>{title_l}<input name=\"title\" value=\"{title}\" required maxlength=\"300\"></label>\
         <label>{desc_l}<textarea name=\"description\" rows=\"5\">\n{desc}</textarea></label>\
         <label>{date_l}<input type=\"date\" name=\"date\" value=\"{date}\"></label>\
         <label>{season_l}<input type=\"number\" min=\"1\" name=\"season\" value=\"{season}\"></label>\
         <label>{number_l}<input type=\"number\" min=\"1\" name=\"episode\" value=\"{number}\"></label>\
         <p><button type=\"submit\">{save}</button></p></form>",
        id = esc(&e.id),
        fields = form_fields(op),
        title_l = t(lang, "title"),
        title = esc(&e.title),
        desc_l = t(lang, "description"),
        desc = esc(&e.description),
        date_l = t(lang, "date"),
        date = esc(e.date.as_deref().unwrap_or("")),
        season_l = t(lang, "season"),
        season = opt(e.season),
        number_l = t(lang, "number"),
        number = opt(e.episode),
        save = t(lang, "save_episode"),
    ));
    // The job and the loudness report.
    let mut job = format!(
        "<dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd>",
        t(lang, "state"),
        status_word(op, e),
        t(lang, "published"),
        t(lang, if e.published { "yes" } else { "no" }),
        t(lang, "updated"),
        esc(&local(on_air, e.updated_at)),
    );
    if let (EpisodeStatus::Processing, Some(p)) = (e.status, progress) {
        job.push_str(&format!(
            "<dt>{}</dt><dd>{:.0} %</dd>",
            t(lang, "progress"),
            p * 100.0
        ));
    }
    if let Some(err) = &e.error {
        job.push_str(&format!(
            "<dt>{}</dt><dd class=\"error\">{}</dd>",
            t(lang, "job_error"),
            esc(err)
        ));
    }
    if let Some(ms) = e.duration_ms {
        job.push_str(&format!(
            "<dt>{}</dt><dd>{} min {:02} s</dd>",
            t(lang, "length"),
            ms / 60_000,
            ms / 1000 % 60
        ));
    }
    if let (Some(b), Some(a)) = (&e.before, &e.after) {
        job.push_str(&format!(
            "<dt>{}</dt><dd>{:.1} LUFS → {:.1} LUFS ({} {:+.1} dB)</dd>\
             <dt>{}</dt><dd>{:.1} dBTP → {:.1} dBTP</dd><dt>{}</dt><dd>{:.1} LU</dd>",
            t(lang, "loudness"),
            b.integrated_lufs,
            a.integrated_lufs,
            t(lang, "gain"),
            e.gain_db.unwrap_or(0.0),
            t(lang, "true_peak"),
            b.true_peak_dbtp,
            a.true_peak_dbtp,
            t(lang, "range"),
            a.loudness_range_lu,
        ));
    }
    body.push_str(&format!(
        "<section class=\"card\"><h2>{}</h2><dl class=\"facts\">{job}</dl>",
        t(lang, "job_and_loudness")
    ));
    let (publish, label) = if e.published {
        ("0", t(lang, "unpublish"))
    } else {
        ("1", t(lang, "republish"))
    };
    body.push_str(&format!(
        "<form method=\"post\" action=\"/console/episodes/{}/publish\" class=\"inline\">{}\
         <input type=\"hidden\" name=\"published\" value=\"{publish}\"><button type=\"submit\" class=\"secondary\">{label}</button></form>",
        esc(&e.id),
        form_fields(op)
    ));
    if e.status == EpisodeStatus::Failed {
        body.push_str(&format!(
            " <form method=\"post\" action=\"/console/episodes/{}/retry\" class=\"inline\">{}\
             <button type=\"submit\">{}</button></form>",
            esc(&e.id),
            form_fields(op),
            t(lang, "retry")
        ));
    }
    body.push_str("</section>");
    // The CSRF token before the file: the recording is refused before a byte is stored.
    body.push_str(&format!(
        "<form method=\"post\" action=\"/console/episodes/{}/audio\" enctype=\"multipart/form-data\" class=\"card\">{}\
         <h2>{}</h2><p class=\"help\">{}</p><input type=\"file\" name=\"file\" accept=\"audio/*\" required> \
         <button type=\"submit\">{}</button></form>",
        esc(&e.id),
        form_fields(op),
        t(lang, "replace_audio"),
        t(lang, "replace_help"),
        t(lang, "replace_audio"),
    ));
    body.push_str(&format!(
        "<p><a href=\"/console/episodes?show={}&amp;lang={}\">{}</a></p>",
        esc(&e.show),
        lang.code(),
        t(lang, "back_episodes")
    ));
    page::render(
        status,
        &Frame {
            lang,
            title: &e.title,
            who: Some(op),
            path: "/console/episodes",
        },
        &body,
    )
}

/// `POST /console/episodes/{id}`: title, description, date, season, number (the upload's
/// rules; every bad field at once).
pub async fn edit(
    State(catalog): State<CatalogAccess>,
    State(on_air): State<OnAir>,
    Path(id): Path<String>,
    posted: Posted,
) -> Result<Response, ApiError> {
    let op = &posted.op;
    let (e, progress) = load(&catalog, &id).await?;
    let mut fields = vec![("show".to_string(), e.show.clone())];
    for k in ["title", "description", "date", "season", "episode"] {
        fields.push((k.to_string(), posted.get(k).to_owned()));
    }
    let mut m = match intake::validate(&fields, None) {
        Ok(m) => m,
        Err(errors) => {
            return Ok(episode_page(
                op,
                &on_air,
                &e,
                progress,
                StatusCode::UNPROCESSABLE_ENTITY,
                &errors,
            ));
        }
    };
    if posted.get("title").trim().is_empty() {
        m.title = e.title.clone();
    }
    let patch = MetadataPatch {
        title: Some(m.title.clone()),
        description: Some(m.description.clone()),
        date: Some(m.date.clone()),
        season: Some(m.season),
        episode: Some(m.episode),
    };
    let i = e.id.clone();
    catalog
        .with_catalog(move |c| c.update_metadata(&i, &patch, jiff::Timestamp::now()))
        .await?
        .ok_or(ApiError::NotFound)?;
    catalog.changed();
    audit(
        &catalog,
        &op.who,
        "episode.edit",
        format!("{} ({})", m.title, e.id),
    )
    .await;
    Ok(back_to(&e.id, op))
}

/// `POST /console/episodes/{id}/publish` (`published` = 0 or 1).
pub async fn publish(
    State(catalog): State<CatalogAccess>,
    Path(id): Path<String>,
    posted: Posted,
) -> Result<Response, ApiError> {
    let op = &posted.op;
    let (e, _) = load(&catalog, &id).await?;
    let on = posted.get("published") == "1";
    let i = e.id.clone();
    let now = jiff::Timestamp::now();
    catalog
        .with_catalog(move |c| {
            if on {
                c.republish(&i, now)
            } else {
                c.unpublish(&i, now)
            }
        })
        .await?;
    catalog.changed();
    let action = if on {
        "episode.republish"
    } else {
        "episode.unpublish"
    };
    audit(&catalog, &op.who, action, format!("{} ({})", e.title, e.id)).await;
    Ok(back_to(&e.id, op))
}

/// `POST /console/episodes/{id}/retry`: a failed episode queued again (same id, same guid).
pub async fn retry(
    State(catalog): State<CatalogAccess>,
    Path(id): Path<String>,
    posted: Posted,
) -> Result<Response, ApiError> {
    let op = &posted.op;
    let (e, _) = load(&catalog, &id).await?;
    if e.status != EpisodeStatus::Failed {
        return Err(ApiError::Conflict("only a failed job is retried".into()));
    }
    let i = e.id.clone();
    catalog
        .with_catalog(move |c| c.requeue(&i, jiff::Timestamp::now()))
        .await?;
    catalog.ingest_queued();
    catalog.changed();
    audit(
        &catalog,
        &op.who,
        "episode.retry",
        format!("{} ({})", e.title, e.id),
    )
    .await;
    Ok(back_to(&e.id, op))
}

/// After a change: back to the episode's page, in the operator's language.
fn back_to(id: &str, op: &Operator) -> Response {
    page::see_other(&format!("/console/episodes/{id}?lang={}", op.lang.code()))
}
