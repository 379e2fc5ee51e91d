//! The schedule editor's pages: the text beside its line numbers with every error at its line
//! and column, the forms of the frequent edits, and the preview of what a change does to the
//! next 14 days on air.

use axum::http::StatusCode;
use axum::response::Response;
use jiff::{SignedDuration, Timestamp};

use super::page::{self, Frame, form_fields};
use super::session::Operator;
use super::text::t;
use crate::http::state::OnAir;
use crate::http::web::{Lang, esc};
use crate::schedule::{Diagnostic, Occurrence, Schedule, diff};

/// How far the preview looks ahead.
const PREVIEW_DAYS: i64 = 14;

/// What the editor page shows around the text.
#[derive(Default)]
pub(super) struct EditorView<'a> {
    pub diagnostics: &'a [Diagnostic],
    /// A message above the editor (an edit form's refusal, a save done).
    pub notice: Option<(bool, String)>,
}

pub(super) fn editor_page(
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
/// numbers in step with the text as it scrolls and changes. A newline follows each
/// `<textarea>` tag: HTML drops the first one, so a text that starts with one keeps it.
pub(super) fn editor_html(text: &str, bad: &[usize]) -> String {
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
         autocapitalize=\"off\" autocomplete=\"off\">\n{}</textarea></div>",
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
         <label>{id} <small>({optional})</small><input name=\"id\" pattern=\"[a-z0-9\\-]*\"></label>\
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
pub(super) fn preview_page(
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
         <textarea name=\"text\" hidden readonly>\n{text}</textarea>\
         <p class=\"actions\"><button type=\"submit\" id=\"save\">{save}</button></p></form>\
         <form method=\"post\" action=\"/console/schedule/check\">{fields}\
         <input type=\"hidden\" name=\"base\" value=\"{base}\">\
         <textarea name=\"text\" hidden readonly>\n{text}</textarea>\
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
