//! Audience figures for the funders (issue 16): listener sessions recorded off the hot path,
//! aggregated per occurrence and per show, episode downloads per day, as SVG charts, CSV and
//! JSON.
//!
//! - `writer.rs`: the daemon's task that drains the [`crate::broadcast::SessionLog`] channel
//!   and writes the ended sessions in batches (one transaction a second at most);
//! - `aggregate.rs`: pure figures from sessions, the schedule's occurrences and the download
//!   log: peak and average concurrent listeners, listening hours, sessions of a minute or more
//!   per occurrence and per show, downloads per day per episode;
//! - `chart.rs`: the figures as hand-written SVG bar charts (labels are `<text>`, so the page
//!   reads without JavaScript and the browser lays out the French and English text);
//! - `export.rs`: the same figures as CSV (RFC 4180, through the `csv` crate); they
//!   serialise with serde for the CLI's JSON.
//!
//! **Invariant:** nothing here sees an address or a user agent: sessions arrive as
//! [`crate::catalog::ListenerSession`] (output, client family, start, end).

pub mod aggregate;
pub mod chart;
pub mod export;
pub mod writer;

pub use aggregate::{
    DayDownloads, Figures, OccurrenceFigures, Period, ShowFigures, Span, Totals, figures, hours,
    occurrence_figures,
};
