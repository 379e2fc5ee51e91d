//! The schedule's saved versions: the list (who, when, what each restores), one version's
//! text, and its restore, which goes through the same check and preview as an edit.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::Console;
use super::page::{self, Frame, form_fields, local};
use super::schedule::{blocking, check_text, read_disk};
use super::session::{Operator, Posted};
use super::store;
use super::text::t;
use super::views::editor_html;
use crate::http::ApiError;
use crate::http::state::OnAir;
use crate::http::web::esc;

fn stem(console: &Console) -> String {
    console
        .config()
        .schedule
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "schedule".into())
}

/// `GET /console/schedule/history`: every saved version, newest first.
pub async fn list(
    op: Operator,
    State(console): State<Console>,
    State(on_air): State<OnAir>,
) -> Result<Response, ApiError> {
    let lang = op.lang;
    let (dir, stem) = (console.config().history.clone(), stem(&console));
    let versions = blocking(move || store::list(&dir, &stem))
        .await?
        .map_err(|e| ApiError::Internal(e.into()))?;
    let mut body = format!(
        "<table class=\"history\"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th></th></tr></thead><tbody>",
        t(lang, "when"),
        t(lang, "who"),
        t(lang, "version")
    );
    for v in &versions {
        let who = v.who.as_deref().unwrap_or(t(lang, "found_on_disk"));
        let restored = v
            .restored
            .as_ref()
            .map(|r| format!(" <small>({} {})</small>", t(lang, "restores"), esc(r)))
            .unwrap_or_default();
        body.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td><code>{}</code>{restored}</td><td><a href=\"/console/schedule/history/{}?lang={}\">{}</a></td></tr>",
            esc(&local(&on_air, v.at)),
            esc(who),
            esc(&v.sha256[..12]),
            esc(&v.name),
            lang.code(),
            t(lang, "view")
        ));
    }
    if versions.is_empty() {
        body.push_str(&format!(
            "<tr><td colspan=\"4\">{}</td></tr>",
            t(lang, "history_empty")
        ));
    }
    body.push_str("</tbody></table>");
    Ok(page::render(
        StatusCode::OK,
        &Frame {
            lang,
            title: t(lang, "history"),
            who: Some(&op),
            path: "/console/schedule/history",
        },
        &body,
    ))
}

/// `GET /console/schedule/history/{name}`: one version's text and the restore button.
pub async fn version(
    op: Operator,
    State(console): State<Console>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let lang = op.lang;
    let (dir, st, n) = (
        console.config().history.clone(),
        stem(&console),
        name.clone(),
    );
    let text = blocking(move || store::version_text(&dir, &st, &n))
        .await?
        .map_err(|e| ApiError::Internal(e.into()))?
        .ok_or(ApiError::NotFound)?;
    let (_, base) = read_disk(&console).await?;
    let body = format!(
        "<form method=\"post\" action=\"/console/schedule/restore\">{fields}\
         <input type=\"hidden\" name=\"base\" value=\"{base}\"><input type=\"hidden\" name=\"name\" value=\"{name}\">\
         <p>{explain}</p><p class=\"actions\"><button type=\"submit\">{restore}</button></p></form>\
         {editor}",
        fields = form_fields(&op),
        base = esc(&base),
        name = esc(&name),
        explain = t(lang, "restore_explain"),
        restore = t(lang, "restore"),
        editor = editor_html(&text, &[]).replace("<textarea ", "<textarea readonly "),
    );
    Ok(page::render(
        StatusCode::OK,
        &Frame {
            lang,
            title: &format!("{} {name}", t(lang, "version")),
            who: Some(&op),
            path: "/console/schedule/history",
        },
        &body,
    ))
}

/// `POST /console/schedule/restore` (`name`, `base`): the version checked and previewed like
/// an edit; saving it is a new version that says what it restored.
pub async fn restore(
    State(console): State<Console>,
    State(on_air): State<OnAir>,
    posted: Posted,
) -> Result<Response, ApiError> {
    let (dir, st, n) = (
        console.config().history.clone(),
        stem(&console),
        posted.get("name").to_owned(),
    );
    let text = blocking(move || store::version_text(&dir, &st, &n))
        .await?
        .map_err(|e| ApiError::Internal(e.into()))?
        .ok_or(ApiError::NotFound)?;
    check_text(
        &posted.op,
        &console,
        &on_air,
        &text,
        posted.get("base"),
        Some(posted.get("name")),
    )
    .await
}
