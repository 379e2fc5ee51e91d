//! The error and exit-code contract of the binary: 0 ok, 1 user error, 2 internal error;
//! errors are one readable line with causes, never a panic or a debug dump.

use std::process::Command;

fn antenne(args: &[&str], cwd: &std::path::Path) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_antenne"))
        .args(args)
        .current_dir(cwd)
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[track_caller]
fn check(args: &[&str], code: i32, stderr_has: &str) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a-file"), "x").unwrap();
    let (got, _out, err) = antenne(args, dir.path());
    assert_eq!(got, code, "{args:?}: {err}");
    assert!(err.contains(stderr_has), "{args:?}: {err}");
    assert!(
        !err.contains("panicked") && !err.contains("Backtrace"),
        "{err}"
    );
}

#[test]
fn exit_codes() {
    check(&["--help"], 0, "");
    check(&["--version"], 0, "");
    check(&["no-such-command"], 1, "unrecognized subcommand");
    check(
        &["--bitrate", "7", "token", "list"],
        1,
        "error: bitrate: 7 kbps is not an MP3 bitrate",
    );
    check(
        &["token", "revoke", "nobody"],
        1,
        "error: no active token named \"nobody\"",
    );
    // The data folder cannot be created (a file is in the way): Antenne's side, exit 2.
    check(
        &["--data-dir", "a-file/data", "token", "list"],
        2,
        "error: cannot create the data folder",
    );
}

#[test]
fn every_subcommand_is_documented_in_help() {
    let (code, out, _) = antenne(&["--help"], std::path::Path::new("."));
    assert_eq!(code, 0);
    for cmd in ["serve", "token"] {
        assert!(
            out.contains(&format!("  {cmd} ")),
            "{cmd} missing from:\n{out}"
        );
    }
}

#[test]
fn a_token_is_printed_once_and_only_its_hash_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, _) = antenne(
        &["token", "add", "amina", "--show", "la-monnaie"],
        dir.path(),
    );
    assert_eq!(code, 0);
    let secret = out.trim();
    assert!(secret.starts_with("ant_") && secret.len() == 68, "{secret}");
    let db = std::fs::read(dir.path().join("data/catalog.sqlite3")).unwrap();
    let wal = std::fs::read(dir.path().join("data/catalog.sqlite3-wal")).unwrap_or_default();
    for bytes in [&db, &wal] {
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "secret stored in clear"
        );
    }
    let (_, list, _) = antenne(&["token", "list"], dir.path());
    assert!(list.starts_with("amina\tla-monnaie\tactive"), "{list}");
    assert!(!list.contains(secret));
    assert_eq!(
        antenne(&["token", "add", "amina"], dir.path()).0,
        1,
        "names are unique"
    );
}

/// `antenne serve` stops within 5 s of SIGTERM even while the ingest workers are busy (a new
/// demo station is ingesting its demo episodes right after start).
#[cfg(unix)]
#[test]
fn serve_stops_within_five_seconds_of_sigterm_while_ingesting() {
    use std::io::BufRead;
    use std::time::{Duration, Instant};
    let dir = tempfile::tempdir().unwrap();
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    // Port 0: the kernel picks a free one and the daemon prints it (the interop scripts rely
    // on it: a port chosen beforehand may be taken by the time the daemon binds, CI run of
    // 2026-12-06).
    let mut child = Command::new(env!("CARGO_BIN_EXE_antenne"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .arg("--schedule")
        .arg(repo.join("schedules/weekly.toml"))
        .arg("--media-dir")
        .arg(repo.join("media"))
        .current_dir(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut printed = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut out = String::new();
    while !out.contains("feed:") {
        assert!(printed.read_line(&mut out).unwrap() > 0, "{out}");
    }
    let page = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("page:"))
        .expect("the page URL is printed")
        .trim();
    let port: u16 = page
        .strip_prefix("http://127.0.0.1:")
        .and_then(|p| p.trim_end_matches('/').parse().ok())
        .unwrap_or_else(|| panic!("a real port in {page}"));
    assert_ne!(port, 0, "{out}");
    assert!(
        out.contains(&format!("stream: http://127.0.0.1:{port}/stream")),
        "{out}"
    );
    // Up when it answers on the printed port.
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "serve did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(300));
    let sent = Instant::now();
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            sent.elapsed() < Duration::from_secs(5),
            "still running 5 s after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0));
}
