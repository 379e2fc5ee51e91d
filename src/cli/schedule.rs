//! `antenne schedule [FILE]`: the timeline of occurrences; `antenne schedule diff OLD NEW`: what an edit changes.

use std::io::Write;
use std::path::PathBuf;

use anyhow::anyhow;
use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use crate::cli::CliError;
use crate::cli::check::{io_err, load};
use crate::config::Settings;
use crate::daemon::schedule::MediaFacts;
use crate::schedule::{Occurrence, Schedule, WallShift, diff};

/// Print the timeline of occurrences (local time with UTC offset, show, slot, what plays).
#[derive(clap::Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    pub command: Option<ScheduleCommand>,
    /// Schedule file (default: the configured `schedule`).
    pub file: Option<PathBuf>,
    #[command(flatten)]
    pub window: Window,
    /// Print a JSON array of occurrences (`show`, `slot`, `start`, `end`, `play`…).
    #[arg(long)]
    pub json: bool,
}

/// The period to expand.
#[derive(clap::Args, Debug, Clone)]
pub struct Window {
    /// First day or instant: DATE or DATETIME in the station's zone, or RFC 3339 (default: now).
    #[arg(long)]
    pub from: Option<String>,
    /// Number of days to show.
    #[arg(long, default_value_t = 7)]
    pub days: u32,
}

#[derive(clap::Subcommand, Debug)]
pub enum ScheduleCommand {
    /// List occurrences added, removed and moved between two schedule files.
    Diff {
        old: PathBuf,
        new: PathBuf,
        #[command(flatten)]
        window: Window,
    },
}

pub fn run(args: &Args, settings: &Settings, out: &mut dyn Write) -> Result<(), CliError> {
    let facts = MediaFacts {
        media_dir: settings.process.media_dir.clone(),
    };
    let now = Timestamp::now();
    if let Some(ScheduleCommand::Diff { old, new, window }) = &args.command {
        let (a, _) = load(old, &facts, now, out)?;
        let (b, _) = load(new, &facts, now, out)?;
        let (from, to) = window_of(window, &b.station().timezone, now)?;
        return print_diff(&a, &b, from, to, out).map_err(io_err);
    }
    let path = args
        .file
        .clone()
        .unwrap_or_else(|| settings.process.schedule.clone());
    let (schedule, _) = load(&path, &facts, now, out)?;
    let tz = schedule.station().timezone.clone();
    let (from, to) = window_of(&args.window, &tz, now)?;
    let occ = schedule.occurrences(from, to);
    if args.json {
        let items: Vec<serde_json::Value> = occ
            .iter()
            .map(|o| crate::http::wire::occurrence(&schedule, o))
            .collect();
        let text =
            serde_json::to_string_pretty(&items).map_err(|e| CliError::Internal(e.into()))?;
        writeln!(out, "{text}").map_err(io_err)?;
        return Ok(());
    }
    writeln!(
        out,
        "{} ({}), {} → {}",
        schedule.station().name,
        schedule.station().tz_name,
        crate::http::wire::rfc3339(&tz, from),
        crate::http::wire::rfc3339(&tz, to)
    )
    .map_err(io_err)?;
    for o in &occ {
        writeln!(out, "{}", line(&tz, o)).map_err(io_err)?;
    }
    if occ.is_empty() {
        writeln!(out, "(nothing scheduled: the fallback rotation airs)").map_err(io_err)?;
    }
    Ok(())
}

/// The instant range `--from`/`--days` names.
fn window_of(
    w: &Window,
    tz: &TimeZone,
    now: Timestamp,
) -> Result<(Timestamp, Timestamp), CliError> {
    let from = match &w.from {
        None => now,
        Some(s) => parse_from(s, tz).map_err(|e| CliError::User(anyhow!("--from {s:?}: {e}")))?,
    };
    let to = from
        .checked_add(SignedDuration::from_hours(24 * i64::from(w.days)))
        .map_err(|e| CliError::User(anyhow!("--days {}: {e}", w.days)))?;
    Ok((from, to))
}

/// `2026-03-29` (local midnight), `2026-03-29T18:00` (local), or RFC 3339 with an offset.
pub fn parse_from(s: &str, tz: &TimeZone) -> Result<Timestamp, String> {
    if let Ok(t) = s.parse::<Timestamp>() {
        return Ok(t);
    }
    let wall = if let Ok(dt) = s.parse::<DateTime>() {
        dt
    } else if let Ok(d) = s.parse::<Date>() {
        d.to_datetime(jiff::civil::Time::midnight())
    } else {
        return Err(
            "expected a date (2026-03-29), a local date-time (2026-03-29T18:00) or RFC 3339".into(),
        );
    };
    tz.to_ambiguous_timestamp(wall)
        .compatible()
        .map_err(|e| e.to_string())
}

fn line(tz: &TimeZone, o: &Occurrence) -> String {
    let z = o.start.to_zoned_datetime(tz.clone());
    let e = o.end.to_zoned_datetime(tz.clone());
    let mut l = format!(
        "{} – {}  {:<24} {:<22} {}",
        z.strftime("%a %Y-%m-%d %H:%M %:z"),
        e.strftime("%H:%M %:z"),
        o.show,
        o.slot,
        o.play
    );
    match o.shift {
        WallShift::Gap(_) => l.push_str(&format!(
            "  (declared {}, not a local time that day)",
            o.wall.strftime("%H:%M")
        )),
        WallShift::Fold => l.push_str("  (first of two identical local times)"),
        WallShift::None => {}
    }
    if o.exceptional {
        l.push_str("  [exception]");
    }
    l
}

fn print_diff(
    a: &Schedule,
    b: &Schedule,
    from: Timestamp,
    to: Timestamp,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let tz = &b.station().timezone;
    let d = diff(a, b, from, to);
    for o in &d.removed {
        writeln!(out, "- {}", line(tz, o))?;
    }
    for o in &d.added {
        writeln!(out, "+ {}", line(tz, o))?;
    }
    for m in &d.moved {
        writeln!(out, "~ {}\n  {}", line(tz, &m.old), line(tz, &m.new))?;
    }
    writeln!(
        out,
        "{} added, {} removed, {} moved or changed ({} → {})",
        d.added.len(),
        d.removed.len(),
        d.moved.len(),
        crate::http::wire::rfc3339(tz, from),
        crate::http::wire::rfc3339(tz, to)
    )
}
