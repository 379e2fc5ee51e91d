//! The schedule from the browser: the file's text in an editor with line numbers, the forms
//! of the frequent edits, then one path for every change: **check** (the validation the
//! daemon's reload runs, every error at its line and column with its hint) → **preview**
//! (the `schedule diff` of the next 14 days against the schedule on air) → **save** (atomic,
//! kept in the history, refused if the file changed on disk since the editor loaded it).
//! The daemon's reload picks the saved file up like any other edit.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use jiff::{SignedDuration, Timestamp};

use super::edits::{Edit, EditError, apply_edit};
use super::page::{self, Frame, form_fields, local};
use super::session::{Operator, Posted};
use super::store::{self, SaveError};
use super::text::t;
use super::{Console, audit};
use crate::http::ApiError;
use crate::http::state::{CatalogAccess, OnAir};
use crate::http::web::{Lang, esc};
use crate::schedule::{Diagnostic, Occurrence, Schedule, diff};

/// How far the preview looks ahead.
const PREVIEW_DAYS: i64 = 14;

/// Runs a blocking closure off the runtime.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::Internal(e.into()))
}

async fn read_disk(console: &Console) -> Result<(String, String), ApiError> {
    let path = console.config().schedule.clone();
    blocking(move || store::read(&path))
        .await?
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("reading the schedule: {e}")))
}

/// What the editor page shows around the text.
#[derive(Default)]
struct EditorView<'a> {
    diagnostics: &'a [Diagnostic],
    /// A message above the editor (an edit form's refusal, a save done).
    notice: Option<(bool, String)>,
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

fn editor_page(
    status: StatusCode,
    op: &Operator,
    on_air: &OnAir,
    text: &str,
    base: &str,
    view: EditorView<'_>,
) -> Response {
    let lang = op.lang;
    let mut body = String::new();
    if let Some((bad, msg)) = &view.notice {
        let class = if *bad { "error" } else { "ok" };
        body.push_str(&format!(
            "<p class=\"{class}\" role=\"status\">{}</p>",
            esc(msg)
        ));
    }
    let errors: Vec<&Diagnostic> = view.diagnostics.iter().filter(|d| d.is_error()).collect();
    if !errors.is_empty() {
        body.push_str(&format!(
            "<section class=\"diagnostics\" role=\"alert\"><h2>{} ({})</h2><ol>",
            t(lang, "errors"),
            errors.len()
        ));
        for d in &errors {
            body.push_str(&diagnostic_html(lang, d));
        }
        body.push_str("</ol></section>");
    }
    let bad_lines: Vec<usize> = errors.iter().map(|d| d.line).collect();
    body.push_str(&format!(
        "<form method=\"post\" action=\"/console/schedule/check\" class=\"editor-form\">{fields}\
         <input type=\"hidden\" name=\"base\" value=\"{base}\">\
         <label for=\"text\">{label}</label>{editor}\
         <p class=\"actions\"><button type=\"submit\">{check}</button> \
         <a href=\"/console/schedule/history?lang={code}\">{history}</a></p></form>",
        fields = form_fields(op),
        base = esc(base),
        label = t(lang, "schedule_file"),
        editor = editor_html(text, &bad_lines),
        check = t(lang, "check"),
        code = lang.code(),
        history = t(lang, "history"),
    ));
    body.push_str(&forms_html(op, on_air, base));
    page::render(
        status,
        &Frame {
            lang,
            title: t(lang, "schedule"),
            who: Some(op),
            path: "/console/schedule",
        },
        &body,
    )
}

/// The textarea beside its line numbers (error lines marked); `console.js` keeps the
/// numbers in step with the text as it scrolls and changes.
fn editor_html(text: &str, bad: &[usize]) -> String {
    let lines = text.lines().count().max(1);
    let mut gutter = String::new();
    for n in 1..=lines {
        if bad.contains(&n) {
            gutter.push_str(&format!("<span class=\"bad\" id=\"line-{n}\">{n}</span>\n"));
        } else {
            gutter.push_str(&format!("<span>{n}</span>\n"));
        }
    }
    format!(
        "<div class=\"editor\"><pre class=\"gutter\" aria-hidden=\"true\">{gutter}</pre>\
         <textarea id=\"text\" name=\"text\" rows=\"30\" wrap=\"off\" spellcheck=\"false\" \
         autocapitalize=\"off\" autocomplete=\"off\">{}</textarea></div>",
        esc(text)
    )
}

/// One diagnostic: where, what, the line with a caret, the hint.
fn diagnostic_html(lang: Lang, d: &Diagnostic) -> String {
    let caret: String = d
        .source_line
        .chars()
        .take(d.column.saturating_sub(1))
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect::<String>()
        + &"^".repeat(d.width.max(1));
    let hint = d
        .hint
        .as_ref()
        .map(|h| format!("<p class=\"hint\">{} {}</p>", t(lang, "hint"), esc(h)))
        .unwrap_or_default();
    format!(
        "<li class=\"diag-item\" data-line=\"{line}\"><p><a href=\"#line-{line}\" class=\"at\">{where_} {line}, {col} {column}</a> : {msg}</p>\
         <pre class=\"diag\">{line} | {src}\n{pad} | {caret}</pre>{hint}</li>",
        line = d.line,
        column = d.column,
        where_ = t(lang, "line"),
        col = t(lang, "column"),
        msg = esc(&d.message),
        src = esc(&d.source_line),
        pad = " ".repeat(d.line.to_string().len()),
        caret = esc(&caret),
    )
}

/// The forms of the frequent edits.
fn forms_html(op: &Operator, on_air: &OnAir, base: &str) -> String {
    let lang = op.lang;
    let s = on_air.current_schedule();
    let slots: String = s
        .slots()
        .iter()
        .map(|sl| {
            format!(
                "<option value=\"{id}\">{id} ({show})</option>",
                id = esc(&sl.id),
                show = esc(&sl.show)
            )
        })
        .collect();
    let shows: String = s
        .shows()
        .iter()
        .map(|sh| {
            format!(
                "<option value=\"{}\">{}</option>",
                esc(&sh.slug),
                esc(&sh.title)
            )
        })
        .collect();
    let plays: String = ["live", "premiere", "rerun", "latest"]
        .iter()
        .map(|p| format!("<option value=\"{p}\">{}</option>", t(lang, p)))
        .collect();
    let days: String = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        .iter()
        .map(|d| {
            format!(
                "<label class=\"day\"><input type=\"checkbox\" name=\"days\" value=\"{d}\"> {}</label>",
                t(lang, d)
            )
        })
        .collect();
    let head = |kind: &str| {
        format!(
            "<form method=\"post\" action=\"/console/schedule/edit\" class=\"card\">{}\
             <input type=\"hidden\" name=\"base\" value=\"{}\"><input type=\"hidden\" name=\"kind\" value=\"{kind}\">",
            form_fields(op),
            esc(base)
        )
    };
    format!(
        "<section class=\"edits\"><h2>{title}</h2><div class=\"grid\">\
         {cancel_head}<h3>{cancel}</h3>\
         <label>{slot}<select name=\"slot\" required>{slots}</select></label>\
         <label>{date}<input type=\"date\" name=\"date\" required></label>\
         <button type=\"submit\">{preview}</button></form>\
         {special_head}<h3>{special}</h3>\
         <label>{show}<select name=\"show\" required>{shows}</select></label>\
         <label>{date}<input type=\"date\" name=\"date\" required></label>\
         <label>{start}<input type=\"time\" name=\"start\" required></label>\
         <label>{duration}<input name=\"duration\" value=\"1h\" required pattern=\"[0-9hms ]+\"></label>\
         <label>{play}<select name=\"play\">{plays}</select></label>\
         <label>{id} <small>({optional})</small><input name=\"id\" pattern=\"[a-z0-9-]*\"></label>\
         <button type=\"submit\">{preview}</button></form>\
         {move_head}<h3>{move_}</h3>\
         <label>{slot}<select name=\"slot\" required>{slots}</select></label>\
         <label>{start}<input type=\"time\" name=\"start\" required></label>\
         <fieldset><legend>{days_l} <small>({days_help})</small></legend>{days}</fieldset>\
         <button type=\"submit\">{preview}</button></form>\
         </div></section>",
        title = t(lang, "frequent_edits"),
        cancel_head = head("cancel"),
        special_head = head("special"),
        move_head = head("move"),
        cancel = t(lang, "cancel_date"),
        special = t(lang, "add_special"),
        move_ = t(lang, "move_slot"),
        slot = t(lang, "slot"),
        show = t(lang, "show"),
        date = t(lang, "date"),
        start = t(lang, "start"),
        duration = t(lang, "duration"),
        play = t(lang, "play"),
        id = t(lang, "special_id"),
        optional = t(lang, "optional"),
        days_l = t(lang, "days"),
        days_help = t(lang, "days_help"),
        preview = t(lang, "to_preview"),
    )
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
async fn check_text(
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

fn occurrence_row(lang: Lang, s: &Schedule, sign: &str, o: &Occurrence) -> String {
    let tz = s.station().timezone.clone();
    let (a, b) = (
        o.start.to_zoned_datetime(tz.clone()),
        o.end.to_zoned_datetime(tz),
    );
    let title = s
        .show(&o.show)
        .map_or(o.show.as_str(), |sh| sh.title.as_str());
    format!(
        "<tr class=\"{class}\"><td>{sign}</td><td>{day}</td><td>{from} – {to}</td><td>{title}</td><td>{play}</td></tr>",
        class = match sign {
            "+" => "added",
            "−" => "removed",
            _ => "moved",
        },
        day = esc(&lang.day(a.date())),
        from = a.strftime("%H:%M"),
        to = b.strftime("%H:%M"),
        title = esc(title),
        play = esc(&play_words(lang, &o.play.to_string())),
    )
}

/// What plays, in the console's words when it is one of the usual ones.
fn play_words(lang: Lang, play: &str) -> String {
    match play {
        "live" | "premiere" | "rerun" | "latest" => t(lang, play).to_owned(),
        other => other.to_owned(),
    }
}

/// The preview: what changes over the next 14 days, the warnings, and the save button.
fn preview_page(
    op: &Operator,
    on_air: &OnAir,
    new: &Schedule,
    warnings: &[Diagnostic],
    text: &str,
    base: &str,
    restored: Option<&str>,
) -> Response {
    let lang = op.lang;
    let old = on_air.current_schedule();
    let now = Timestamp::now();
    let to = now + SignedDuration::from_hours(24 * PREVIEW_DAYS);
    let d = diff(&old, new, now, to);
    let mut body = format!(
        "<p class=\"ok\" role=\"status\">{}</p><h2>{}</h2>",
        t(lang, "valid"),
        t(lang, "changes_14")
    );
    if d.is_empty() {
        body.push_str(&format!("<p>{}</p>", t(lang, "no_change")));
    } else {
        body.push_str(&format!(
            "<table class=\"diff\"><thead><tr><th></th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
            t(lang, "day"),
            t(lang, "hours"),
            t(lang, "show"),
            t(lang, "play")
        ));
        for o in &d.removed {
            body.push_str(&occurrence_row(lang, &old, "−", o));
        }
        for o in &d.added {
            body.push_str(&occurrence_row(lang, new, "+", o));
        }
        for m in &d.moved {
            body.push_str(&occurrence_row(lang, &old, "~", &m.old));
            body.push_str(&occurrence_row(lang, new, "→", &m.new));
        }
        body.push_str("</tbody></table>");
        body.push_str(&format!(
            "<p class=\"summary\">{} {} · {} {} · {} {}</p>",
            d.added.len(),
            t(lang, "added"),
            d.removed.len(),
            t(lang, "removed"),
            d.moved.len(),
            t(lang, "moved"),
        ));
    }
    if !warnings.is_empty() {
        body.push_str(&format!(
            "<details><summary>{} ({})</summary><pre class=\"diag\">{}</pre></details>",
            t(lang, "warnings"),
            warnings.len(),
            esc(&warnings
                .iter()
                .map(|w| w.to_string())
                .collect::<Vec<_>>()
                .join("\n\n"))
        ));
    }
    body.push_str(&format!(
        "<form method=\"post\" action=\"/console/schedule/save\">{fields}\
         <input type=\"hidden\" name=\"base\" value=\"{base}\">\
         <input type=\"hidden\" name=\"restored\" value=\"{restored}\">\
         <textarea name=\"text\" hidden readonly>{text}</textarea>\
         <p class=\"actions\"><button type=\"submit\" id=\"save\">{save}</button></p></form>\
         <form method=\"post\" action=\"/console/schedule/check\">{fields}\
         <input type=\"hidden\" name=\"base\" value=\"{base}\">\
         <textarea name=\"text\" hidden readonly>{text}</textarea>\
         <p><button type=\"submit\" name=\"back\" value=\"1\" class=\"secondary\" >{back}</button></p></form>",
        fields = form_fields(op),
        base = esc(base),
        restored = esc(restored.unwrap_or("")),
        text = esc(text),
        save = t(lang, "save"),
        back = t(lang, "back_to_editor"),
    ));
    body.push_str(&format!(
        "<details><summary>{}</summary><pre class=\"text\">{}</pre></details>",
        t(lang, "new_text"),
        esc(text)
    ));
    page::render(
        StatusCode::OK,
        &Frame {
            lang,
            title: t(lang, "preview"),
            who: Some(op),
            path: "/console/schedule",
        },
        &body,
    )
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
                 <label for=\"yours\">{}</label><textarea id=\"yours\" rows=\"20\" readonly>{}</textarea>",
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

fn stem(console: &Console) -> String {
    console
        .config()
        .schedule
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "schedule".into())
}

/// `GET /console/schedule/history`: every saved version, newest first.
pub async fn history(
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
