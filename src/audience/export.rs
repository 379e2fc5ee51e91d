//! The figures as CSV (RFC 4180 through the `csv` crate, one table per file, an optional
//! UTF-8 byte order mark for spreadsheet apps). JSON is the CLI's (`report audience --format
//! json` serialises [`super::Figures`]): only `http` and `cli` speak JSON.
//!
//! Instants are written in the station's time zone with their offset (RFC 3339), durations as
//! hours with three decimals (exact to the 3.6 s), averages with two.

use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::aggregate::{Figures, hours};

/// One of the tables a report holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    /// One row per occurrence.
    Occurrences,
    /// One row per show.
    Shows,
    /// One row per day and episode.
    Downloads,
}

impl Table {
    pub const ALL: [Table; 3] = [Table::Occurrences, Table::Shows, Table::Downloads];

    /// Its name in URLs and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Table::Occurrences => "occurrences",
            Table::Shows => "shows",
            Table::Downloads => "downloads",
        }
    }

    pub fn from_name(name: &str) -> Option<Table> {
        Table::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The CSV header row.
    pub fn header(self) -> &'static [&'static str] {
        match self {
            Table::Occurrences => &[
                "occurrence",
                "show",
                "start",
                "end",
                "peak_listeners",
                "average_listeners",
                "listening_hours",
                "sessions",
                "sessions_over_1_min",
            ],
            Table::Shows => &[
                "show",
                "title",
                "occurrences",
                "hours_on_air",
                "peak_listeners",
                "average_listeners",
                "listening_hours",
                "sessions",
                "sessions_over_1_min",
            ],
            Table::Downloads => &["date", "episode", "show", "title", "downloads"],
        }
    }
}

fn local(t: Timestamp, tz: &TimeZone) -> String {
    t.to_zoned_datetime(tz.clone())
        .strftime("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

/// `table` of `figures` as CSV text, the instants in `tz`; `bom` starts it with a UTF-8 byte
/// order mark (spreadsheet apps then read the accents right).
pub fn csv(figures: &Figures, table: Table, tz: &TimeZone, bom: bool) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let rows: Vec<Vec<String>> = match table {
        Table::Occurrences => figures
            .occurrences
            .iter()
            .map(|o| {
                vec![
                    o.occurrence.clone(),
                    o.show.clone(),
                    local(o.start, tz),
                    local(o.end, tz),
                    o.peak.to_string(),
                    format!("{:.2}", o.average),
                    format!("{:.3}", hours(o.listening_ms)),
                    o.sessions.to_string(),
                    o.sessions_over_minute.to_string(),
                ]
            })
            .collect(),
        Table::Shows => figures
            .shows
            .iter()
            .map(|s| {
                vec![
                    s.show.clone(),
                    s.title.clone(),
                    s.occurrences.to_string(),
                    format!("{:.3}", hours(s.on_air_ms)),
                    s.peak.to_string(),
                    format!("{:.2}", s.average),
                    format!("{:.3}", hours(s.listening_ms)),
                    s.sessions.to_string(),
                    s.sessions_over_minute.to_string(),
                ]
            })
            .collect(),
        Table::Downloads => figures
            .downloads
            .iter()
            .map(|d| {
                vec![
                    d.date.to_string(),
                    d.episode.clone(),
                    d.show.clone(),
                    d.title.clone(),
                    d.downloads.to_string(),
                ]
            })
            .collect(),
    };
    // Writing to a Vec cannot fail.
    let _ = w.write_record(table.header());
    for row in rows {
        let _ = w.write_record(&row);
    }
    let bytes = w.into_inner().unwrap_or_default();
    let text = String::from_utf8(bytes).unwrap_or_default();
    if bom { format!("\u{feff}{text}") } else { text }
}
