//! `antenne report …`: the station's reports for the people it answers to, one subcommand
//! per report (each in a file of its own: `report_audience.rs`).

use std::io::Write;

use crate::cli::CliError;
use crate::config::Settings;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub report: Report,
}

#[derive(clap::Subcommand, Debug)]
pub enum Report {
    /// Audience figures: listeners per occurrence and per show, downloads per day
    Audience(super::report_audience::Args),
}

pub fn run(args: &Args, settings: &Settings, out: &mut dyn Write) -> Result<(), CliError> {
    match &args.report {
        Report::Audience(a) => super::report_audience::run(a, settings, out),
    }
}
