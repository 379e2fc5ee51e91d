//! `antenne restore SRC --data-dir D`: checks a backup against its manifest and restores it
//! into an empty data folder (and, with `--config-dir`, its settings file and schedule).

use std::io::Write;
use std::path::PathBuf;

use crate::cli::CliError;
use crate::config::Settings;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The backup's folder (the one holding manifest.json)
    pub src: PathBuf,
    /// Where the settings file, the schedule and its saved versions go (none of them may
    /// exist there yet) [default: not restored; they stay in SRC/config/]
    #[arg(long, value_name = "DIR")]
    pub config_dir: Option<PathBuf>,
}

pub fn run(args: &Args, settings: &Settings, out: &mut dyn Write) -> Result<(), CliError> {
    let data_dir = &settings.process.data_dir;
    let r = crate::backup::restore(&args.src, data_dir, args.config_dir.as_deref())
        .map_err(super::backup::classify)?;
    let io = |e: std::io::Error| CliError::Internal(e.into());
    writeln!(
        out,
        "restored {} files ({:.1} MB) of the backup of {} into {} (catalog schema {})",
        r.data_files,
        r.manifest.total_bytes() as f64 / 1e6,
        r.manifest.created_at,
        data_dir.display(),
        r.schema
    )
    .map_err(io)?;
    for f in &r.config_files {
        writeln!(out, "restored {}", f.display()).map_err(io)?;
    }
    for f in &r.config_left {
        writeln!(
            out,
            "not restored (no --config-dir): {}",
            args.src.join(f).display()
        )
        .map_err(io)?;
    }
    Ok(())
}
