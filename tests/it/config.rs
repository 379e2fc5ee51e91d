//! Configuration precedence: defaults < antenne.toml < ANTENNE_* < flags, and file errors
//! that point at file:line:col.

use std::path::Path;

use antenne::config::{ConfigError, Overrides, Settings};
use clap::Parser;

#[derive(Parser)]
struct Cmd {
    #[command(flatten)]
    o: Overrides,
}

/// Parses flags and environment the way the binary does (clap: flag > env).
fn overrides(args: &[&str], env: &[(&str, &str)]) -> Overrides {
    // clap reads env through std::env; tests run in threads, so each uses distinct variables
    // only through this lock.
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _g = LOCK.lock().unwrap();
    for (k, v) in env {
        unsafe { std::env::set_var(k, v) };
    }
    let o = Cmd::try_parse_from(std::iter::once("antenne").chain(args.iter().copied()))
        .unwrap()
        .o;
    for (k, _) in env {
        unsafe { std::env::remove_var(k) };
    }
    o
}

fn write(dir: &Path, text: &str) {
    std::fs::write(dir.join("antenne.toml"), text).unwrap();
}

#[test]
fn defaults_without_file_env_or_flags() {
    let dir = tempfile::tempdir().unwrap();
    let s = Settings::resolve(&overrides(&[], &[]), dir.path()).unwrap();
    assert_eq!(s.process.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(s.process.public_url, "http://127.0.0.1:8080");
    assert_eq!(s.process.data_dir, dir.path().join("data"));
    assert_eq!(s.process.schedule, dir.path().join("schedules/weekly.toml"));
    assert_eq!(
        (
            s.station.loudness_target,
            s.station.true_peak_ceiling,
            s.station.bitrate_kbps,
            s.station.sample_rate
        ),
        (-16.0, -1.0, 128, 44_100)
    );
}

#[test]
fn file_then_env_then_flag() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "listen = \"127.0.0.1:9001\"\nbitrate = 96\nloudness_target = -18.0\ndata_dir = \"station-data\"\n",
    );
    let check = |args: &[&str], env: &[(&str, &str)], listen: &str, bitrate: u32, lufs: f64| {
        let s = Settings::resolve(&overrides(args, env), dir.path()).unwrap();
        assert_eq!(
            (
                s.process.listen.to_string().as_str(),
                s.station.bitrate_kbps,
                s.station.loudness_target
            ),
            (listen, bitrate, lufs),
            "{args:?} {env:?}"
        );
        s
    };
    let s = check(&[], &[], "127.0.0.1:9001", 96, -18.0);
    assert_eq!(
        s.process.data_dir,
        dir.path().join("station-data"),
        "file paths resolve against the file's folder"
    );
    assert_eq!(
        s.process.public_url, "http://127.0.0.1:9001",
        "public_url follows listen"
    );
    check(
        &[],
        &[("ANTENNE_BITRATE", "160")],
        "127.0.0.1:9001",
        160,
        -18.0,
    );
    check(
        &["--bitrate", "192"],
        &[("ANTENNE_BITRATE", "160")],
        "127.0.0.1:9001",
        192,
        -18.0,
    );
    check(
        &["--loudness-target", "-14", "--listen", "127.0.0.1:9002"],
        &[("ANTENNE_LISTEN", "127.0.0.1:9003")],
        "127.0.0.1:9002",
        96,
        -14.0,
    );
}

#[test]
fn explicit_config_path_and_unknown_keys_with_position() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("other.toml"),
        "bitrate = 128\n\nlisten_addr = \"x\"\n",
    )
    .unwrap();
    let err =
        Settings::resolve(&overrides(&["--config", "other.toml"], &[]), dir.path()).unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(
            err,
            ConfigError::Syntax {
                line: 3,
                col: 1,
                ..
            }
        ),
        "{msg}"
    );
    assert!(
        msg.contains("other.toml:3:1: error: unknown field `listen_addr`"),
        "{msg}"
    );
}

#[test]
fn invalid_values_are_named() {
    let dir = tempfile::tempdir().unwrap();
    for (args, key) in [
        (&["--bitrate", "100"][..], "bitrate"),
        (&["--sample-rate", "22050"][..], "sample_rate"),
        (&["--listen", "nowhere"][..], "listen"),
        (&["--public-url", "radio.example"][..], "public_url"),
        (&["--true-peak-ceiling", "3"][..], "true_peak_ceiling"),
    ] {
        let err = Settings::resolve(&overrides(args, &[]), dir.path()).unwrap_err();
        assert!(err.to_string().starts_with(key), "{args:?}: {err}");
    }
}

#[test]
fn hls_settings_from_the_file_and_their_limits() {
    let dir = tempfile::tempdir().unwrap();
    let s = Settings::resolve(&overrides(&[], &[]), dir.path()).unwrap();
    assert_eq!(
        (s.station.hls_window_s, s.station.hls_segment_s),
        (3 * 3600, 6.0)
    );
    assert_eq!(s.station.hls_js_url, "");
    write(
        dir.path(),
        "hls_window = 600\nhls_segment = 2.5\nhls_js_url = \"/vendor/hls.min.js\"\n",
    );
    let s = Settings::resolve(&overrides(&[], &[]), dir.path()).unwrap();
    assert_eq!(
        (s.station.hls_window_s, s.station.hls_segment_s),
        (600, 2.5)
    );
    assert_eq!(s.station.hls_js_url, "/vendor/hls.min.js");
    write(dir.path(), "hls_window = 0\n");
    let off = Settings::resolve(&overrides(&[], &[]), dir.path()).unwrap();
    assert!(
        antenne::daemon::edge::hls_config(&off).is_none(),
        "0: no HLS"
    );
    for (text, key) in [
        ("hls_segment = 0.5\n", "hls_segment"),
        (
            "hls_segment = 6\nhls_window = 10\n",
            "hls_segment/hls_window",
        ),
        ("hls_window = 999999999\n", "hls_segment/hls_window"),
        (
            "hls_js_url = \"https://cdn.example/hls.js\"\n",
            "hls_js_url",
        ),
    ] {
        write(dir.path(), text);
        let err = Settings::resolve(&overrides(&[], &[]), dir.path()).unwrap_err();
        assert!(err.to_string().starts_with(key), "{text}: {err}");
    }
}

#[test]
fn icecast_targets_from_the_file() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "[[icecast]]\nurl = \"http://127.0.0.1:8000/live.mp3\"\npassword = \"hackme\"\n",
    );
    let s = Settings::resolve(&overrides(&[], &[]), dir.path()).unwrap();
    assert_eq!(s.station.icecast.len(), 1);
    assert_eq!(
        (
            s.station.icecast[0].user.as_str(),
            s.station.icecast[0].password.as_str()
        ),
        ("source", "hackme")
    );
}

#[test]
fn feed_redirects_from_the_file() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "[[feed_redirect]]\nfrom = \"/shows/old/feed.xml\"\nto = \"https://radio.example/shows/new/feed.xml\"\n",
    );
    let s = Settings::resolve(&overrides(&[], &[]), dir.path()).unwrap();
    assert_eq!(s.station.feed_redirects.len(), 1);
    assert_eq!(s.station.feed_redirects[0].from, "/shows/old/feed.xml");
    write(
        dir.path(),
        "[[feed_redirect]]\nfrom = \"old.xml\"\nto = \"https://x/\"\n",
    );
    let err = Settings::resolve(&overrides(&[], &[]), dir.path()).unwrap_err();
    assert!(err.to_string().starts_with("feed_redirect"), "{err}");
}

#[test]
fn embed_ancestors_from_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let s = Settings::resolve(&overrides(&[], &[]), dir.path()).unwrap();
    assert_eq!(s.process.embed_ancestors, "*");
    write(
        dir.path(),
        "embed_ancestors = \"'self'   https://centre-monnaie.example\"\n",
    );
    let s = Settings::resolve(&overrides(&[], &[]), dir.path()).unwrap();
    assert_eq!(
        s.process.embed_ancestors,
        "'self' https://centre-monnaie.example"
    );
    // Nothing that could end the directive and add another.
    for bad in ["* ; script-src *", "", "https://a.example, https://b"] {
        write(dir.path(), &format!("embed_ancestors = {bad:?}\n"));
        let err = Settings::resolve(&overrides(&[], &[]), dir.path()).unwrap_err();
        assert!(err.to_string().contains("embed_ancestors"), "{bad}: {err}");
    }
}

#[test]
fn issue17_backups_and_systemd_from_file_env_and_flags() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "backup_dir = \"sauvegardes\"\nbackup_every = 3600\nbackup_keep = 3\n",
    );
    let s = Settings::resolve(&overrides(&[], &[]), dir.path()).unwrap();
    let p = &s.process;
    assert_eq!(
        p.config_file.as_deref(),
        Some(dir.path().join("antenne.toml").as_path())
    );
    assert_eq!(
        p.backup_dir.as_deref(),
        Some(dir.path().join("sauvegardes").as_path())
    );
    assert_eq!((p.backup_every_s, p.backup_keep), (3600, 3));
    assert_eq!(p.schedule_history(), dir.path().join("schedules/history"));
    assert!(p.service.notify_socket.is_none());
    let o = overrides(
        &["--backup-keep", "9"],
        &[
            ("ANTENNE_BACKUP_EVERY", "60"),
            ("NOTIFY_SOCKET", "@antenne-test"),
            ("WATCHDOG_USEC", "30000000"),
        ],
    );
    let p = Settings::resolve(&o, dir.path()).unwrap().process;
    assert_eq!((p.backup_every_s, p.backup_keep), (60, 9));
    assert_eq!(p.service.notify_socket.as_deref(), Some("@antenne-test"));
    assert_eq!(p.service.watchdog_usec, Some(30_000_000));
    write(dir.path(), "backup_keep = 0\n");
    let e = Settings::resolve(&overrides(&[], &[]), dir.path()).unwrap_err();
    assert!(e.to_string().contains("backup_keep"), "{e}");
}

#[test]
fn alerts_webhooks_and_smtp_from_the_file_and_what_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "[alerts]\nstream_down = 20\ndisk_min_mb = 0\n\n[[webhook]]\nurl = \"http://127.0.0.1:9000/a\"\nsecret = \"s\"\nevents = [\"dead_air\", \"now_playing\"]\n\n[smtp]\nhost = \"smtp.example\"\nfrom = \"a@example.org\"\nto = [\"b@example.org\"]\n",
    );
    let s = Settings::resolve(&overrides(&[], &[]), dir.path()).unwrap();
    let a = &s.station.alerts;
    assert_eq!((a.stream_down_s, a.disk_min_mb, a.quiet_s), (20, 0, 600));
    assert_eq!(a.webhooks[0].events, ["dead_air", "now_playing"]);
    let smtp = a.smtp.as_ref().unwrap();
    assert_eq!((smtp.tls.as_str(), smtp.port), ("starttls", None));
    for (text, key) in [
        (
            "[[webhook]]\nurl = \"https://bot.example/\"\nsecret = \"s\"\n",
            "webhook.url",
        ),
        (
            "[[webhook]]\nurl = \"http://h/\"\nsecret = \"s\"\nevents = [\"fire\"]\n",
            "webhook.events",
        ),
        (
            "[smtp]\nhost = \"h\"\ntls = \"ssl\"\nfrom = \"a@b.c\"\nto = [\"d@e.f\"]\n",
            "smtp.tls",
        ),
        ("[smtp]\nhost = \"h\"\nfrom = \"a@b.c\"\nto = []\n", "smtp"),
    ] {
        write(dir.path(), text);
        let err = Settings::resolve(&overrides(&[], &[]), dir.path()).unwrap_err();
        assert!(
            matches!(&err, ConfigError::Invalid { key: k, .. } if *k == key),
            "{text}: {err}"
        );
    }
}
