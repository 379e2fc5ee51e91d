//! `antenne report audience --from DATE --to DATE [--format csv|json] [--table T]`: the
//! audience figures of the station page's `/audience`, from the catalog and the schedule, for
//! the local days `from..=to` of the station's time zone.

use std::io::Write;

use anyhow::anyhow;
use jiff::civil::Date;

use crate::audience::export::{self, Table};
use crate::audience::{Period, figures};
use crate::catalog::Catalog;
use crate::cli::CliError;
use crate::config::Settings;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// First day (YYYY-MM-DD, in the station's time zone)
    #[arg(long)]
    pub from: Date,
    /// Last day, included (YYYY-MM-DD)
    #[arg(long)]
    pub to: Date,
    /// `csv` (one table, see --table) or `json` (every table)
    #[arg(long, default_value = "csv", value_parser = ["csv", "json"])]
    pub format: String,
    /// The CSV's table: `shows`, `occurrences` or `downloads` (per day and episode)
    #[arg(long, default_value = "shows", value_parser = ["shows", "occurrences", "downloads"])]
    pub table: String,
    /// Start the CSV with a UTF-8 byte order mark (for spreadsheet apps)
    #[arg(long)]
    pub bom: bool,
}

pub fn run(args: &Args, settings: &Settings, out: &mut dyn Write) -> Result<(), CliError> {
    if args.to < args.from {
        return Err(CliError::user("--to is before --from"));
    }
    let catalog = Catalog::open(&settings.process.data_dir)?;
    let now = jiff::Timestamp::now();
    let (schedule, _warnings) = crate::daemon::schedule::load(
        &settings.process.schedule,
        &settings.process.media_dir,
        &catalog,
        now,
    )
    .map_err(|errors| {
        CliError::User(anyhow!(
            "the schedule {} is invalid:\n{}",
            settings.process.schedule.display(),
            errors.join("\n")
        ))
    })?;
    let tz = schedule.station().timezone.clone();
    let period =
        Period::days(args.from, args.to, &tz).ok_or_else(|| CliError::user("no such period"))?;
    let sessions = catalog.sessions_between(period.from, period.to)?;
    let downloads = catalog.downloads_between(period.from, period.to)?;
    let f = figures(&schedule, period, &sessions, &downloads);
    let text = match args.format.as_str() {
        "json" => {
            let mut s =
                serde_json::to_string_pretty(&f).map_err(|e| CliError::Internal(e.into()))?;
            s.push('\n');
            s
        }
        _ => {
            let table = Table::from_name(&args.table).unwrap_or(Table::Shows);
            export::csv(&f, table, &tz, args.bom)
        }
    };
    out.write_all(text.as_bytes())
        .map_err(|e| CliError::Internal(e.into()))
}
