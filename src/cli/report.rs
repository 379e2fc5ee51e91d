//! `antenne report airplay`: the music declaration of a period (SACEM/SPRÉ), the same bytes
//! as the operators' download (`GET /api/reports/airplay`): the summary, one row per track,
//! or with `--detail` the log, one row per airing; CSV (RFC 4180, UTF-8 with BOM) or JSON.
//! `antenne report audience` is `report_audience.rs`.

use std::io::Write;

use anyhow::anyhow;

use crate::catalog::Catalog;
use crate::cli::CliError;
use crate::config::Settings;
use crate::http::reports::{self, Format, Options};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub report: Report,
}

#[derive(clap::Subcommand, Debug)]
pub enum Report {
    /// What aired in a period: the music declaration (one row per track) or the airplay log
    Airplay(AirplayArgs),
    /// Audience figures: listeners per occurrence and per show, downloads per day
    Audience(super::report_audience::Args),
}

#[derive(clap::Args, Debug)]
pub struct AirplayArgs {
    /// First day of the period (YYYY-MM-DD, station time)
    #[arg(long, value_name = "DATE")]
    pub from: String,
    /// Last day of the period, included (YYYY-MM-DD, station time)
    #[arg(long, value_name = "DATE")]
    pub to: String,
    #[arg(long, value_enum, default_value_t = FormatArg::Csv)]
    pub format: FormatArg,
    /// One row per airing instead of one per track
    #[arg(long)]
    pub detail: bool,
    /// CSV with `;` and a decimal comma (French spreadsheets)
    #[arg(long)]
    pub semicolon: bool,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FormatArg {
    Csv,
    Json,
}

pub fn run(args: &Args, settings: &Settings, out: &mut dyn Write) -> Result<(), CliError> {
    let a = match &args.report {
        Report::Airplay(a) => a,
        Report::Audience(a) => return super::report_audience::run(a, settings, out),
    };
    let catalog = Catalog::open(&settings.process.data_dir)?;
    let (schedule, _warnings) = crate::daemon::schedule::load(
        &settings.process.schedule,
        &settings.process.media_dir,
        &catalog,
        jiff::Timestamp::now(),
    )
    .map_err(|errors| {
        CliError::User(anyhow!(
            "the schedule {} is invalid:\n{}",
            settings.process.schedule.display(),
            errors.join("\n")
        ))
    })?;
    let tz = schedule.station().timezone.clone();
    let period = reports::period(&a.from, &a.to, &tz).map_err(CliError::user)?;
    let airings = catalog.airplay_between(period.start, period.end)?;
    let opts = Options {
        format: match a.format {
            FormatArg::Csv => Format::Csv,
            FormatArg::Json => Format::Json,
        },
        detail: a.detail,
        semicolon: a.semicolon,
    };
    out.write_all(&reports::render(&airings, &period, &tz, opts))
        .map_err(|e| CliError::Internal(e.into()))
}
