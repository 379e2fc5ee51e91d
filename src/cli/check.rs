//! `antenne check [FILE]`: validate a schedule file, print every error and warning.
//!
//! Exit 0 with warnings printed, or 1 (`CliError::User`) when the file has errors. This is the
//! one place (with `antenne schedule`) where schedule validation meets the disk: it reads the
//! file and answers [`Facts`] about folders under `media_dir`.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::anyhow;
use jiff::Timestamp;

use crate::cli::CliError;
use crate::config::Settings;
use crate::daemon::schedule::MediaFacts;
use crate::schedule::{Diagnostic, Facts, Schedule};

/// Validate a schedule file: every problem at once, with line, column and hint.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Schedule file to check (default: the configured `schedule`, schedules/weekly.toml).
    pub file: Option<PathBuf>,
}

pub fn run(args: &Args, settings: &Settings, out: &mut dyn Write) -> Result<(), CliError> {
    let path = args
        .file
        .clone()
        .unwrap_or_else(|| settings.process.schedule.clone());
    let facts = MediaFacts {
        media_dir: settings.process.media_dir.clone(),
    };
    let (schedule, warnings) = load(&path, &facts, Timestamp::now(), out)?;
    print_diags(out, &warnings)?;
    let slots = schedule.slots().len();
    writeln!(
        out,
        "{}: ok ({} shows, {slots} slots, {} warning{}), time zone {}",
        path.display(),
        schedule.shows().len(),
        warnings.len(),
        if warnings.len() == 1 { "" } else { "s" },
        schedule.station().tz_name
    )
    .map_err(io_err)?;
    Ok(())
}

/// Reads and validates a schedule; on errors prints every diagnostic to `out` and returns
/// `CliError::User`.
pub fn load(
    path: &Path,
    facts: &dyn Facts,
    now: Timestamp,
    out: &mut dyn Write,
) -> Result<(Schedule, Vec<Diagnostic>), CliError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::User(anyhow!("cannot read schedule {}: {e}", path.display())))?;
    match Schedule::parse(&text, &path.display().to_string(), now, facts) {
        Ok(ok) => Ok(ok),
        Err(diags) => {
            print_diags(out, &diags)?;
            let n = diags.iter().filter(|d| d.is_error()).count();
            Err(CliError::User(anyhow!(
                "{}: {n} error{} in the schedule",
                path.display(),
                if n == 1 { "" } else { "s" }
            )))
        }
    }
}

fn print_diags(out: &mut dyn Write, diags: &[Diagnostic]) -> Result<(), CliError> {
    for d in diags {
        writeln!(out, "{d}\n").map_err(io_err)?;
    }
    Ok(())
}

pub(crate) fn io_err(e: std::io::Error) -> CliError {
    CliError::Internal(anyhow!("cannot write output: {e}"))
}
