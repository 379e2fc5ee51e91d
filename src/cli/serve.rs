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
    limit_malloc_arenas();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Internal(e.into()))?;
    let result = runtime.block_on(async {
        let stop = shutdown_signal();
        crate::daemon::run(settings.clone(), stop).await
    });
    // Do not wait for blocking work still in hand (an ingest worker rendering a long episode):
    // the catalog is consistent at every instant, and a job cut short is retried at the next
    // start. Without this, dropping the runtime would wait for it, well past the 5 s promise.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    result.map_err(classify)
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

/// Waits for one signal; a handler that could not be installed never fires.
#[cfg(unix)]
async fn recv(s: Option<&mut tokio::signal::unix::Signal>) {
    match s {
        Some(s) => {
            s.recv().await;
        }
        None => std::future::pending::<()>().await,
    }
}

/// Installs the SIGINT and SIGTERM handlers now (so a signal that arrives while the station
/// is still starting is not fatal) and returns a future that resolves on the first of them.
/// Must be called inside the runtime.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let (mut int, mut term) = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::interrupt()).ok(),
            signal(SignalKind::terminate()).ok(),
        )
    };
    async move {
        #[cfg(unix)]
        {
            tokio::select! {
                () = recv(int.as_mut()) => {}
                () = recv(term.as_mut()) => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
        tracing::info!("shutting down");
    }
}

/// glibc gives threads up to eight malloc arenas per core, and each keeps what its threads
/// freed: the daemon's short-lived threads (a decoder per item aired, the media library's
/// meters, ingest renders) spread their garbage over all of them. Four arenas are plenty for
/// a daemon whose hot paths barely allocate, and bound what free memory can be held (issue 18).
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter (before the runtime starts threads).
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 4);
    }
}
