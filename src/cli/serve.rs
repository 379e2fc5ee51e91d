//! `antenne serve`: the daemon, until SIGINT or SIGTERM.

use crate::cli::CliError;
use crate::config::Settings;

#[derive(clap::Args, Debug)]
pub struct Args {}

pub fn run(
    _args: &Args,
    settings: &Settings,
    _out: &mut dyn std::io::Write,
) -> Result<(), CliError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Internal(e.into()))?;
    runtime
        .block_on(crate::daemon::run(settings.clone(), shutdown_signal()))
        .map_err(classify)
}

/// A daemon that cannot start because of its input (port taken, invalid schedule) is the
/// user's error; anything else is ours.
fn classify(e: anyhow::Error) -> CliError {
    let user = e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>().is_some_and(|io| {
            matches!(
                io.kind(),
                std::io::ErrorKind::AddrInUse
                    | std::io::ErrorKind::AddrNotAvailable
                    | std::io::ErrorKind::PermissionDenied
            )
        })
    }) || e.downcast_ref::<crate::daemon::StartError>().is_some();
    if user {
        CliError::User(e)
    } else {
        CliError::Internal(e)
    }
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
    tracing::info!("shutting down");
}
