//! The command line: clap definitions here, one subcommand per file.
//!
//! Exit codes: 0 ok, 1 user error (bad input, invalid schedule), 2 internal error. Errors
//! print as one line with their causes (`error: a: b: c`), never a panic or a debug dump.

pub mod analyze;
pub mod backup;
pub mod check;
pub mod feed;
pub mod ingest;
pub mod listen;
pub mod report;
pub mod report_audience;
pub mod restore;
pub mod schedule;
pub mod serve;
pub mod token;

use clap::{Parser, Subcommand};

use crate::config::{Overrides, Settings};

/// How a subcommand failed: the user's input, or Antenne itself.
#[derive(Debug)]
pub enum CliError {
    /// Bad input, invalid schedule, rejected file: exit 1.
    User(anyhow::Error),
    /// Anything else: exit 2.
    Internal(anyhow::Error),
}

impl CliError {
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::User(_) => 1,
            CliError::Internal(_) => 2,
        }
    }

    pub fn user(msg: impl std::fmt::Display) -> CliError {
        CliError::User(anyhow::anyhow!("{msg}"))
    }
}

impl From<crate::catalog::CatalogError> for CliError {
    fn from(e: crate::catalog::CatalogError) -> Self {
        CliError::Internal(e.into())
    }
}

/// Antenne, a community radio daemon: weekly schedule, loudness-normalised episodes, one
/// live MP3 stream and podcast feeds.
#[derive(Debug, Parser)]
#[command(name = "antenne", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub overrides: Overrides,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the station: playout, live stream, feeds, web page, API, metrics
    Serve(serve::Args),
    /// Measure a recording's loudness (EBU R128): integrated, range, true peak, duration
    Analyze(analyze::Args),
    /// Ingest a recording into the catalog: decode, normalise, encode, publish
    Ingest(ingest::Args),
    /// Monitor the live stream or a file on the local sound card (build with `--features monitor`)
    Listen(listen::Args),
    /// Validate a schedule file: every error and warning at once, with line and column
    Check(check::Args),
    /// Print the timeline of occurrences, or compare two schedule files (`schedule diff`)
    Schedule(schedule::Args),
    /// Manage upload tokens (add, list, revoke)
    Token(token::Args),
    /// Print a podcast feed exactly as the daemon serves it (the station's, or `--show SLUG`)
    Feed(feed::Args),
    /// Back up the station, running or not: catalog, episodes' files, schedule, settings
    Backup(backup::Args),
    /// Check a backup against its manifest and restore it into an empty data folder
    Restore(restore::Args),
    /// Reports: the music declaration (SACEM/SPRÉ), the audience figures for funders
    Report(report::Args),
}

/// Runs the command line and returns the process exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // --help and --version are successes; usage errors are the user's.
            return if e.use_stderr() { 1 } else { 0 };
        }
    };
    init_logging(matches!(cli.command, Command::Serve(_)));
    let cwd = std::env::current_dir().unwrap_or_else(|_| ".".into());
    let result = Settings::resolve(&cli.overrides, &cwd)
        .map_err(|e| CliError::User(e.into()))
        .and_then(|settings| run(&cli.command, &settings));
    match result {
        Ok(()) => 0,
        Err(e) => {
            let (CliError::User(err) | CliError::Internal(err)) = &e;
            eprintln!("error: {err:#}");
            e.exit_code()
        }
    }
}

fn run(command: &Command, settings: &Settings) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    match command {
        Command::Serve(args) => serve::run(args, settings, &mut out),
        Command::Token(args) => token::run(args, settings, &mut out),
        Command::Check(args) => check::run(args, settings, &mut out),
        Command::Listen(args) => listen::run(args, settings, &mut out),
        Command::Analyze(args) => analyze::run(args, settings, &mut out),
        Command::Ingest(args) => ingest::run(args, settings, &mut out),
        Command::Schedule(args) => schedule::run(args, settings, &mut out),
        Command::Feed(args) => feed::run(args, settings, &mut out),
        Command::Backup(args) => backup::run(args, settings, &mut out),
        Command::Restore(args) => restore::run(args, settings, &mut out),
        Command::Report(args) => report::run(args, settings, &mut out),
    }
}

/// Logs go to stderr; `RUST_LOG` wins, else `info` for the daemon and `warn` for one-shot
/// commands (their output is the answer, not the log).
fn init_logging(daemon: bool) {
    let default = if daemon { "info" } else { "warn" };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(crate::log_line::OneLine(std::io::stderr))
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}
