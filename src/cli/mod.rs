//! The command line: clap definitions here, one subcommand per file.
//!
//! Exit codes: 0 ok, 1 user error (bad input, invalid schedule), 2 internal error.

pub mod analyze;
pub mod ingest;

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
}

/// Runs the command line and returns the process exit code.
pub fn main() -> i32 {
    0
}
