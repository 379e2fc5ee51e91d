//! `antenne backup DEST`: a consistent backup of the station, running or not, into a new
//! folder (see [`crate::backup`]).

use std::io::Write;
use std::path::PathBuf;

use crate::backup::BackupError;
use crate::catalog::{CATALOG_FILE, Catalog};
use crate::cli::CliError;
use crate::config::Settings;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The backup's folder, which must not exist yet
    pub dest: PathBuf,
}

pub fn run(args: &Args, settings: &Settings, out: &mut dyn Write) -> Result<(), CliError> {
    let data_dir = &settings.process.data_dir;
    if !data_dir.join(CATALOG_FILE).is_file() {
        return Err(CliError::user(format!(
            "no catalog in {}: nothing to back up (is --data-dir right?)",
            data_dir.display()
        )));
    }
    let catalog = Catalog::open(data_dir)?;
    let config = crate::daemon::edge::backup_config(settings);
    let taken = crate::backup::take(&catalog, &config, &args.dest, jiff::Timestamp::now())
        .map_err(classify)?;
    let m = &taken.manifest;
    writeln!(
        out,
        "backup written to {}: {} files, {:.1} MB (catalog schema {})",
        taken.path.display(),
        m.files.len(),
        m.total_bytes() as f64 / 1e6,
        m.catalog_schema
    )
    .map_err(|e| CliError::Internal(e.into()))?;
    Ok(())
}

/// A refused destination or a corrupted backup is the user's; an IO fault is ours.
pub(crate) fn classify(e: BackupError) -> CliError {
    if e.is_user_error() {
        CliError::User(e.into())
    } else {
        CliError::Internal(e.into())
    }
}
