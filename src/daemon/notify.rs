//! systemd's service notifications (`sd_notify(3)`): `READY=1` once the station listens and
//! airs, `WATCHDOG=1` while the playout makes progress, `STOPPING=1` when it shuts down.
//!
//! The protocol is one datagram per message to the Unix socket named by `NOTIFY_SOCKET` (a
//! path, or `@name` in the abstract namespace); without it (not run by systemd, or a unit
//! that is not `Type=notify`) every call does nothing. The variables come in through the
//! settings, like every other part of the environment.

use std::os::unix::net::UnixDatagram;
use std::time::Duration;

use crate::config::ServiceManager;

/// A connection to the service manager, or nothing.
pub struct Notifier {
    socket: Option<(UnixDatagram, std::os::unix::net::SocketAddr)>,
    watchdog: Option<Duration>,
}

impl Notifier {
    pub fn new(service: &ServiceManager) -> Notifier {
        let socket = service.notify_socket.as_deref().and_then(|name| {
            let addr = address(name)
                .inspect_err(|e| tracing::warn!("NOTIFY_SOCKET {name:?}: {e}"))
                .ok()?;
            let socket = UnixDatagram::unbound()
                .inspect_err(|e| tracing::warn!("cannot notify systemd: {e}"))
                .ok()?;
            Some((socket, addr))
        });
        // The watchdog is ours only when systemd names this process (or no process).
        let ours = service
            .watchdog_pid
            .is_none_or(|pid| pid == std::process::id());
        let watchdog = service
            .watchdog_usec
            .filter(|&us| us > 0 && ours)
            .map(Duration::from_micros);
        Notifier { socket, watchdog }
    }

    /// Sends one notification (`READY=1`, `WATCHDOG=1`...); a failure is logged, never fatal.
    pub fn notify(&self, message: &str) {
        if let Some((socket, addr)) = &self.socket
            && let Err(e) = socket.send_to_addr(message.as_bytes(), addr)
        {
            tracing::warn!("cannot notify systemd ({message}): {e}");
        }
    }

    /// How often to send `WATCHDOG=1` (half the unit's `WatchdogSec`), when a watchdog is on.
    pub fn watchdog_every(&self) -> Option<Duration> {
        self.socket.as_ref().and(self.watchdog).map(|d| d / 2)
    }
}

fn address(name: &str) -> std::io::Result<std::os::unix::net::SocketAddr> {
    if let Some(abstract_name) = name.strip_prefix('@') {
        #[cfg(target_os = "linux")]
        {
            use std::os::linux::net::SocketAddrExt;
            return std::os::unix::net::SocketAddr::from_abstract_name(abstract_name.as_bytes());
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = abstract_name;
            return Err(std::io::Error::other(
                "abstract sockets exist only on Linux",
            ));
        }
    }
    std::os::unix::net::SocketAddr::from_pathname(name)
}

/// Sends `WATCHDOG=1` every `every` while the playout's rendered frames advance: a stuck
/// playout (or a stuck runtime) stops the pings, and systemd restarts the service.
pub async fn watchdog(
    notifier: std::sync::Arc<Notifier>,
    every: Duration,
    frames: impl Fn() -> u64 + Send + 'static,
    shutdown: tokio_util::sync::CancellationToken,
) {
    let mut last = frames();
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = ticks.tick() => {}
        }
        let now = frames();
        if now > last {
            notifier.notify("WATCHDOG=1");
        } else {
            tracing::warn!("the playout made no progress: no watchdog ping");
        }
        last = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_reach_the_socket_and_the_watchdog_is_half_its_period() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify");
        let listener = UnixDatagram::bind(&path).unwrap();
        let n = Notifier::new(&ServiceManager {
            notify_socket: Some(path.display().to_string()),
            watchdog_usec: Some(20_000_000),
            watchdog_pid: Some(std::process::id()),
        });
        n.notify("READY=1");
        let mut buf = [0u8; 64];
        let len = listener.recv(&mut buf).unwrap();
        assert_eq!(&buf[..len], b"READY=1");
        assert_eq!(n.watchdog_every(), Some(Duration::from_secs(10)));
        // Another process's watchdog, or no socket: none.
        let other = Notifier::new(&ServiceManager {
            notify_socket: Some(path.display().to_string()),
            watchdog_usec: Some(20_000_000),
            watchdog_pid: Some(1),
        });
        assert_eq!(other.watchdog_every(), None);
        let none = Notifier::new(&ServiceManager::default());
        none.notify("READY=1");
        assert_eq!(none.watchdog_every(), None);
    }

    #[tokio::test(start_paused = true)]
    async fn the_watchdog_is_pinged_only_while_frames_advance() {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicU64, Ordering};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify");
        let listener = UnixDatagram::bind(&path).unwrap();
        listener.set_nonblocking(true).unwrap();
        let n = Arc::new(Notifier::new(&ServiceManager {
            notify_socket: Some(path.display().to_string()),
            watchdog_usec: Some(2_000_000),
            watchdog_pid: None,
        }));
        let frames = Arc::new(AtomicU64::new(0));
        let shutdown = tokio_util::sync::CancellationToken::new();
        let f = frames.clone();
        let task = tokio::spawn(watchdog(
            n.clone(),
            n.watchdog_every().unwrap(),
            move || f.load(Ordering::Relaxed),
            shutdown.clone(),
        ));
        let pings = || {
            let mut buf = [0u8; 64];
            let mut count = 0;
            while let Ok(len) = listener.recv(&mut buf) {
                assert_eq!(&buf[..len], b"WATCHDOG=1");
                count += 1;
            }
            count
        };
        // The playout renders: a ping a second.
        for _ in 0..3 {
            frames.fetch_add(44_100, Ordering::Relaxed);
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        assert!(pings() >= 2);
        // Stuck: no ping, and systemd restarts the service after WatchdogSec.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        pings();
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert_eq!(pings(), 0);
        shutdown.cancel();
        task.await.unwrap();
    }
}
