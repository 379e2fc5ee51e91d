//! The schedule from the browser: the file's text in an editor with line numbers, the forms
//! of the frequent edits, then one path for every change: **check** (the validation the
//! daemon's reload runs, every error at its line and column with its hint) → **preview**
//! (the `schedule diff` of the next 14 days against the schedule on air) → **save** (atomic,
//! kept in the history, refused if the file changed on disk since the editor loaded it).
//! The daemon's reload picks the saved file up like any other edit. The pages are drawn in
//! `views.rs`; the saved versions are `history.rs`'s.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use jiff::Timestamp;

use super::edits::{Edit, EditError, apply_edit};
use super::page::{self, Frame};
use super::session::{Operator, Posted};
use super::store::{self, SaveError};
use super::text::t;
use super::views::{EditorView, editor_page, preview_page};
use super::{Console, audit};
use crate::http::ApiError;
use crate::http::state::{CatalogAccess, OnAir};
use crate::http::web::esc;
use crate::schedule::{Diagnostic, Schedule};

/// Runs a blocking closure off the runtime.
pub(super) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::Internal(e.into()))
}

pub(super) async fn read_disk(console: &Console) -> Result<(String, String), ApiError> {
    let path = console.config().schedule.clone();
    blocking(move || store::read(&path))
        .await?
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("reading the schedule: {e}")))
}

#[derive(serde::Deserialize)]
pub struct EditorQuery {
    saved: Option<String>,
}

/// `GET /console/schedule`: the editor on the file as it is on disk.
pub async fn editor(
    op: Operator,
    State(console): State<Console>,
    State(on_air): State<OnAir>,
    Query(q): Query<EditorQuery>,
) -> Result<Response, ApiError> {
    let (text, base) = read_disk(&console).await?;
    let notice = q
        .saved
        .map(|name| (false, format!("{} ({})", t(op.lang, "saved"), name)));
    Ok(editor_page(
        StatusCode::OK,
        &op,
        &on_air,
        &text,
        &base,
        EditorView {
            notice,
            ..Default::default()
        },
    ))
}

/// Validates `text` as the reload does.
async fn validate(
    console: &Console,
    text: &str,
) -> Result<Result<(Schedule, Vec<Diagnostic>), Vec<Diagnostic>>, ApiError> {
    let (v, text, label) = (
        console.0.validate.clone(),
        text.to_owned(),
        console.file_label(),
    );
    blocking(move || v(&text, &label, Timestamp::now())).await
}

/// The editor with its errors, or the preview of a valid text.
pub(super) async fn check_text(
    op: &Operator,
    console: &Console,
    on_air: &OnAir,
    text: &str,
    base: &str,
    restored: Option<&str>,
) -> Result<Response, ApiError> {
    match validate(console, text).await? {
        Err(diags) => Ok(editor_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            op,
            on_air,
            text,
            base,
            EditorView {
                diagnostics: &diags,
                notice: None,
            },
        )),
        Ok((schedule, warnings)) => Ok(preview_page(
            op, on_air, &schedule, &warnings, text, base, restored,
        )),
    }
}

/// `POST /console/schedule/check` (`text`, `base`).
pub async fn check(
    State(console): State<Console>,
    State(on_air): State<OnAir>,
    posted: Posted,
) -> Result<Response, ApiError> {
    if posted.get("back") == "1" {
        return Ok(editor_page(
            StatusCode::OK,
            &posted.op,
            &on_air,
            posted.get("text"),
            posted.get("base"),
            EditorView::default(),
        ));
    }
    check_text(
        &posted.op,
        &console,
        &on_air,
        posted.get("text"),
        posted.get("base"),
        None,
    )
    .await
}

/// The edit a form describes, or what is wrong with it.
fn edit_of(p: &Posted) -> Result<Edit, String> {
    let lang = p.op.lang;
    let date = || {
        p.get("date")
            .parse::<jiff::civil::Date>()
            .map_err(|_| t(lang, "bad_date").to_owned())
    };
    let start = || {
        let s = p.get("start");
        jiff::civil::Time::strptime("%H:%M", s)
            .map(|_| s.to_owned())
            .map_err(|_| t(lang, "bad_time").to_owned())
    };
    match p.get("kind") {
        "cancel" => Ok(Edit::Cancel {
            slot: p.get("slot").to_owned(),
            date: date()?,
        }),
        "special" => {
            let id = p.get("id").trim();
            Ok(Edit::Special {
                id: (!id.is_empty()).then(|| id.to_owned()),
                show: p.get("show").to_owned(),
                date: date()?,
                start: start()?,
                duration: p.get("duration").trim().to_owned(),
                play: p.get("play").to_owned(),
            })
        }
        "move" => Ok(Edit::Move {
            slot: p.get("slot").to_owned(),
            start: start()?,
            days: p.all("days"),
        }),
        _ => Err(t(lang, "bad_form").to_owned()),
    }
}

/// `POST /console/schedule/edit` (`kind` = `cancel` | `special` | `move` and its fields):
/// the edit made on the text on disk, then checked and previewed like a hand edit.
pub async fn edit(
    State(console): State<Console>,
    State(on_air): State<OnAir>,
    posted: Posted,
) -> Result<Response, ApiError> {
    let op = &posted.op;
    let (text, base) = read_disk(&console).await?;
    let made = edit_of(&posted).and_then(|e| {
        apply_edit(&text, &e).map_err(|e| match e {
            EditError::Syntax => t(op.lang, "edit_syntax").to_owned(),
            EditError::NoSlot(s) => format!("{} {s:?}", t(op.lang, "edit_no_slot")),
            EditError::Cron(s) => format!("{s:?} : {}", t(op.lang, "edit_cron")),
        })
    });
    match made {
        Ok(new) => check_text(op, &console, &on_air, &new, &base, None).await,
        Err(msg) => Ok(editor_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            op,
            &on_air,
            &text,
            &base,
            EditorView {
                notice: Some((true, msg)),
                ..Default::default()
            },
        )),
    }
}

/// `POST /console/schedule/save` (`text`, `base`, `restored`): checked again (an invalid
/// text is never saved), then saved unless the file changed on disk.
pub async fn save(
    State(console): State<Console>,
    State(on_air): State<OnAir>,
    State(catalog): State<CatalogAccess>,
    posted: Posted,
) -> Result<Response, ApiError> {
    let op = &posted.op;
    let lang = op.lang;
    let (text, base) = (posted.get("text").to_owned(), posted.get("base").to_owned());
    let restored = Some(posted.get("restored"))
        .filter(|r| !r.is_empty())
        .map(str::to_owned);
    let diags = validate(&console, &text).await?.err();
    if let Some(diags) = diags {
        return Ok(editor_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            op,
            &on_air,
            &text,
            &base,
            EditorView {
                diagnostics: &diags,
                notice: None,
            },
        ));
    }
    let saved = {
        let _one_at_a_time = console.0.saving.lock().await;
        let (path, history, who) = (
            console.config().schedule.clone(),
            console.config().history.clone(),
            op.who.clone(),
        );
        let (text, base, restored) = (text.clone(), base.clone(), restored.clone());
        blocking(move || {
            store::save(
                &path,
                &history,
                &text,
                &base,
                &who,
                restored.as_deref(),
                Timestamp::now(),
            )
        })
        .await?
    };
    match saved {
        Ok(v) => {
            let detail = match &restored {
                Some(r) => format!("{} ← {r}", v.name),
                None => v.name.clone(),
            };
            let action = if restored.is_some() {
                "schedule.restore"
            } else {
                "schedule.save"
            };
            audit(&catalog, &op.who, action, detail).await;
            tracing::info!(who = %op.who, version = %v.name, "schedule saved from the console");
            Ok(page::see_other(&format!(
                "/console/schedule?lang={}&saved={}",
                lang.code(),
                v.name
            )))
        }
        Err(SaveError::Changed) => {
            let body = format!(
                "<p class=\"error\" role=\"alert\">{}</p>\
                 <p><a class=\"button\" href=\"/console/schedule?lang={}\">{}</a></p>\
                 <label for=\"yours\">{}</label><textarea id=\"yours\" rows=\"20\" readonly>\n{}</textarea>",
                t(lang, "conflict"),
                lang.code(),
                t(lang, "reload_editor"),
                t(lang, "your_text"),
                esc(&text)
            );
            Ok(page::render(
                StatusCode::CONFLICT,
                &Frame {
                    lang,
                    title: t(lang, "conflict_title"),
                    who: Some(op),
                    path: "/console/schedule",
                },
                &body,
            ))
        }
        Err(SaveError::Io(path, e)) => Err(ApiError::Internal(anyhow::anyhow!(
            "saving the schedule {}: {e}",
            path.display()
        ))),
    }
}
