//! The frequent schedule edits as text edits of the TOML: cancel one date of a slot, add a
//! one-off special, move a slot. `toml_edit` keeps every comment and the layout; the result
//! then goes through the same check, preview and save as a hand edit.

use jiff::civil::Date;
use toml_edit::{Array, ArrayOfTables, DocumentMut, Item, Table, Value, value};

/// One of the console's forms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit {
    /// No broadcast of `slot` on `date` (an `[[exception]]` with `cancel = true`).
    Cancel { slot: String, date: Date },
    /// A broadcast outside any slot (an `[[exception]]` with `show`, `start`, `duration`).
    Special {
        id: Option<String>,
        show: String,
        date: Date,
        /// `HH:MM`, local.
        start: String,
        /// As the schedule writes it: `2h`, `1h30m`.
        duration: String,
        /// `live`, `premiere`, `rerun`, `latest`.
        play: String,
    },
    /// `slot` starts at `start` from now on, on `days` when given (a slot with a `cron` line
    /// is edited as text).
    Move {
        slot: String,
        start: String,
        days: Vec<String>,
    },
}

/// Why an edit could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    #[error("the schedule is not valid TOML; fix it in the editor first")]
    Syntax,
    #[error("no slot {0:?}")]
    NoSlot(String),
    #[error("slot {0:?} is set by a cron line")]
    Cron(String),
}

/// `text` with `edit` made, comments and layout kept.
pub fn apply_edit(text: &str, edit: &Edit) -> Result<String, EditError> {
    let mut doc: DocumentMut = text.parse().map_err(|_| EditError::Syntax)?;
    match edit {
        Edit::Cancel { slot, date } => {
            slot_table(&mut doc, slot)?;
            let mut t = Table::new();
            t.decor_mut()
                .set_prefix(format!("\n# {date} : {slot} annulé (console).\n"));
            t["slot"] = value(slot.as_str());
            t["date"] = value(datetime(*date));
            t["cancel"] = value(true);
            exceptions(&mut doc).push(t);
        }
        Edit::Special {
            id,
            show,
            date,
            start,
            duration,
            play,
        } => {
            let mut t = Table::new();
            t.decor_mut()
                .set_prefix(format!("\n# {date} : émission spéciale (console).\n"));
            if let Some(id) = id {
                t["id"] = value(id.as_str());
            }
            t["show"] = value(show.as_str());
            t["date"] = value(datetime(*date));
            t["start"] = value(start.as_str());
            t["duration"] = value(duration.as_str());
            t["play"] = value(play.as_str());
            exceptions(&mut doc).push(t);
        }
        Edit::Move { slot, start, days } => {
            let t = slot_table(&mut doc, slot)?;
            if t.contains_key("cron") {
                return Err(EditError::Cron(slot.clone()));
            }
            set_keeping_decor(t, "start", Value::from(start.as_str()));
            if !days.is_empty() {
                let mut a = Array::new();
                for d in days {
                    a.push(d.as_str());
                }
                set_keeping_decor(t, "days", Value::Array(a));
            }
        }
    }
    Ok(doc.to_string())
}

/// The `[[exception]]` array, created at the end when the schedule has none.
fn exceptions(doc: &mut DocumentMut) -> &mut ArrayOfTables {
    if !doc.contains_key("exception") {
        doc.insert("exception", Item::ArrayOfTables(ArrayOfTables::new()));
    }
    doc["exception"]
        .as_array_of_tables_mut()
        .expect("`exception` is an array of tables here")
}

/// The `[[slot]]` whose id (given, or the default: the show's slug, then `slug-2`...) is `id`.
fn slot_table<'d>(doc: &'d mut DocumentMut, id: &str) -> Result<&'d mut Table, EditError> {
    let none = || EditError::NoSlot(id.to_owned());
    let slots = doc
        .get_mut("slot")
        .and_then(Item::as_array_of_tables_mut)
        .ok_or_else(none)?;
    let mut seen: std::collections::HashMap<String, usize> = Default::default();
    let mut found = None;
    for (i, t) in slots.iter().enumerate() {
        let show = t.get("show").and_then(Item::as_str).unwrap_or("");
        let n = seen.entry(show.to_owned()).or_default();
        *n += 1;
        let default = if *n == 1 {
            show.to_owned()
        } else {
            format!("{show}-{n}")
        };
        let this = t.get("id").and_then(Item::as_str).map(str::to_owned);
        if this.unwrap_or(default) == id {
            found = Some(i);
            break;
        }
    }
    slots.get_mut(found.ok_or_else(none)?).ok_or_else(none)
}

fn set_keeping_decor(t: &mut Table, key: &str, mut new: Value) {
    if let Some(old) = t.get(key).and_then(Item::as_value) {
        *new.decor_mut() = old.decor().clone();
    }
    t[key] = Item::Value(new);
}

fn datetime(d: Date) -> toml_edit::Datetime {
    toml_edit::Datetime {
        date: Some(toml_edit::Date {
            year: d.year() as u16,
            month: d.month() as u8,
            day: d.day() as u8,
        }),
        time: None,
        offset: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "# La grille.\n[[show]]\nslug = \"a\"\n\n# Le matin.\n[[slot]]\nshow = \"a\"\ndays = [\"mon\"]\nstart = \"07:00\" # tôt\nduration = \"1h\"\n\n[[slot]]\nshow = \"a\"\ncron = \"0 9 * * *\"\nduration = \"1h\"\n";

    #[test]
    fn a_cancelled_date_is_an_exception_appended_with_the_comments_kept() {
        let d = jiff::civil::date(2026, 12, 9);
        let out = apply_edit(
            TEXT,
            &Edit::Cancel {
                slot: "a".into(),
                date: d,
            },
        )
        .unwrap();
        assert!(out.starts_with(TEXT.trim_end()), "{out}");
        assert!(
            out.ends_with("[[exception]]\nslot = \"a\"\ndate = 2026-12-09\ncancel = true\n"),
            "{out}"
        );
        // The second slot's default id is `a-2`.
        let e = apply_edit(
            TEXT,
            &Edit::Cancel {
                slot: "b".into(),
                date: d,
            },
        );
        assert_eq!(e, Err(EditError::NoSlot("b".into())));
    }

    #[test]
    fn a_move_rewrites_start_and_days_in_place_and_refuses_cron_slots() {
        let out = apply_edit(
            TEXT,
            &Edit::Move {
                slot: "a".into(),
                start: "08:30".into(),
                days: vec!["tue".into(), "thu".into()],
            },
        )
        .unwrap();
        assert!(out.contains("start = \"08:30\" # tôt\n"), "{out}");
        assert!(out.contains("days = [\"tue\", \"thu\"]\n"), "{out}");
        assert!(out.contains("# Le matin.\n[[slot]]"), "{out}");
        let cron = apply_edit(
            TEXT,
            &Edit::Move {
                slot: "a-2".into(),
                start: "08:30".into(),
                days: vec![],
            },
        );
        assert_eq!(cron, Err(EditError::Cron("a-2".into())));
        assert_eq!(
            apply_edit(
                "[[slot",
                &Edit::Cancel {
                    slot: "a".into(),
                    date: jiff::civil::date(2026, 1, 1)
                }
            ),
            Err(EditError::Syntax)
        );
    }

    #[test]
    fn a_special_names_its_show_date_start_and_duration() {
        let out = apply_edit(
            TEXT,
            &Edit::Special {
                id: Some("fete".into()),
                show: "a".into(),
                date: jiff::civil::date(2026, 12, 12),
                start: "15:00".into(),
                duration: "2h".into(),
                play: "live".into(),
            },
        )
        .unwrap();
        assert!(
            out.ends_with("[[exception]]\nid = \"fete\"\nshow = \"a\"\ndate = 2026-12-12\nstart = \"15:00\"\nduration = \"2h\"\nplay = \"live\"\n"),
            "{out}"
        );
    }
}
