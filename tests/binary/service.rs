//! The daemon as a systemd `Type=notify` service (issue 17): with a fake `NOTIFY_SOCKET` (a
//! Unix datagram socket of the test), `READY=1` arrives once the station listens,
//! `WATCHDOG=1` while the playout makes progress, `STOPPING=1` on SIGTERM.

use std::os::unix::net::UnixDatagram;
use std::time::{Duration, Instant};

use crate::support::*;

#[cfg(unix)]
#[test]
fn issue17_systemd_hears_ready_then_watchdog_pings_then_stopping() {
    let st = Station::new();
    let socket_path = st.dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let d = st.start_with(|cmd| {
        cmd.env("NOTIFY_SOCKET", &socket_path)
            // WatchdogSec=2s: a ping every second.
            .env("WATCHDOG_USEC", "2000000");
    });
    let mut got = Vec::new();
    let started = Instant::now();
    let mut buf = [0u8; 256];
    while got.iter().filter(|m| *m == "WATCHDOG=1").count() < 2 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "notifications so far: {got:?}"
        );
        let n = socket.recv(&mut buf).expect("a notification within 20 s");
        got.push(String::from_utf8_lossy(&buf[..n]).into_owned());
    }
    assert_eq!(got[0], "READY=1", "{got:?}");
    // Ready only once it answers.
    let a = request(d.port, "GET", "/healthz", "", b"").unwrap();
    assert_eq!(a.status, 200);
    unsafe {
        libc::kill(d.pid() as i32, libc::SIGTERM);
    }
    loop {
        let n = socket.recv(&mut buf).expect("STOPPING=1 after SIGTERM");
        if &buf[..n] == b"STOPPING=1" {
            break;
        }
    }
}
