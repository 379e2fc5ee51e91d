//! Backups that restore (issue 17): `antenne backup` taken while uploads, ingest jobs and
//! schedule edits run, restored by `antenne restore` into fresh folders where the daemon
//! serves the same feeds byte for byte and every rendition matches the manifest; corrupted
//! backups and non-empty targets refused; scheduled backups rotated, their outcome reported,
//! a failed one alerted to a webhook.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use antenne::catalog::{Catalog, EpisodeStatus};
use sha2::{Digest, Sha256};

use crate::support::*;

const PUBLIC: &str = "http://radio.test";

fn antenne(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_antenne"))
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .unwrap()
}

fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// `antenne backup DEST` against the station's folders.
fn backup(st: &Station, dest: &Path) -> std::process::Output {
    antenne(&[
        "--data-dir",
        &s(&st.data_dir()),
        "--schedule",
        &s(&st.schedule_path()),
        "backup",
        &s(dest),
    ])
}

fn restore(src: &Path, data: &Path, config: &Path) -> std::process::Output {
    antenne(&[
        "--data-dir",
        &s(data),
        "restore",
        &s(src),
        "--config-dir",
        &s(config),
    ])
}

fn upload(st: &Station, title: &str, audio: &[u8]) -> Option<String> {
    let (ct, body) = multipart(title, audio);
    let headers = format!("{ct}{}", st.auth());
    let a = request(st.port, "POST", "/api/episodes", &headers, &body).ok()?;
    (a.status == 202).then(|| a.json()["id"].as_str().unwrap().to_string())
}

/// A daemon on restored folders (the original's media), on a port of its own.
fn serve_restored(dir: &Path, data: &Path, schedule: &Path, media: &Path) -> (Daemon, u16) {
    let port = free_port();
    let log = std::fs::File::create(dir.join("restored.log")).unwrap();
    let started = Instant::now();
    let child = Command::new(env!("CARGO_BIN_EXE_antenne"))
        .args(["--data-dir", &s(data), "--schedule", &s(schedule)])
        .args(["--media-dir", &s(media), "--public-url", PUBLIC])
        .args(["--listen", &format!("127.0.0.1:{port}"), "serve"])
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "restored daemon did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    (
        Daemon {
            child,
            port,
            started,
        },
        port,
    )
}

fn feeds(port: u16) -> Vec<Vec<u8>> {
    ["/feed.xml", &format!("/shows/{SHOW}/feed.xml")]
        .iter()
        .map(|path| {
            let a = request(port, "GET", path, "", b"").unwrap();
            assert_eq!(a.status, 200, "{path}");
            a.body
        })
        .collect()
}

/// The feeds once they list every ready episode of the catalog in `data` (the feeds are
/// rebuilt after a job ends, not in its transaction: a moment after the queue is idle), or
/// as they are after 30 s, for the assertions to report.
fn feeds_listing_every_ready_episode(port: u16, data: &Path) -> Vec<Vec<u8>> {
    let start = Instant::now();
    loop {
        let ready: Vec<String> = all_episodes(&Catalog::open(data).unwrap())
            .into_iter()
            .filter(|e| e.status == EpisodeStatus::Ready)
            .map(|e| e.id)
            .collect();
        let now = feeds(port);
        let complete = now.iter().all(|f| {
            let f = String::from_utf8_lossy(f);
            ready.iter().all(|id| f.contains(id.as_str()))
        });
        if complete || start.elapsed() > Duration::from_secs(30) {
            return now;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn sha256(path: &Path) -> String {
    hex::encode(Sha256::digest(std::fs::read(path).unwrap()))
}

fn manifest(backup: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(backup.join("manifest.json")).unwrap()).unwrap()
}

/// Every file the restored catalog names exists, and every rendition's SHA-256 is the
/// manifest's; returns how many renditions were checked.
fn check_restored(data: &Path, backup: &Path) -> usize {
    let m = manifest(backup);
    let entries: std::collections::HashMap<String, String> = m["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["sha256"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let catalog = Catalog::open(data).unwrap();
    for rel in catalog.referenced_files().unwrap() {
        assert!(
            data.join(&rel).is_file(),
            "restored catalog names {rel}, absent"
        );
        assert!(
            entries.contains_key(&format!("data/{rel}")),
            "{rel} not in the manifest"
        );
    }
    let mut renditions = 0;
    for e in all_episodes(&catalog) {
        if let Some(r) = &e.rendition_path {
            assert_eq!(
                sha256(&data.join(r)),
                entries[&format!("data/{r}")],
                "rendition {r} differs from the manifest"
            );
            renditions += 1;
        }
    }
    renditions
}

#[cfg(unix)]
#[test]
fn issue17_a_backup_taken_under_load_restores_to_the_same_station() {
    let mut st = Station::new();
    st.extra = vec!["--public-url".into(), PUBLIC.into()];
    let d = st.start();
    // Episodes already published before the load.
    for k in 0..2 {
        upload(&st, &format!("avant {k}"), &wav_bytes(7000 + k, 2.0)).unwrap();
    }
    wait_for_idle_queue(&st.data_dir(), Duration::from_secs(60));

    // The load: uploads whose jobs render, and schedule edits, until told to stop.
    let st = Arc::new(st);
    let stop = Arc::new(AtomicBool::new(false));
    let uploads = {
        let (st, stop) = (st.clone(), stop.clone());
        std::thread::spawn(move || {
            // When each accepted upload's request began and ended.
            let mut accepted = Vec::new();
            let mut k = 0;
            while !stop.load(Ordering::Relaxed) {
                let began = Instant::now();
                if upload(&st, &format!("pendant {k}"), &wav_bytes(7100 + k, 3.0)).is_some() {
                    accepted.push((began, Instant::now()));
                }
                k += 1;
            }
            accepted
        })
    };
    let edits = {
        let (st, stop) = (st.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut k = 0;
            while !stop.load(Ordering::Relaxed) {
                let path = st.schedule_path();
                let text = schedule_text(&format!("Atelier {k}"));
                if k % 2 == 0 {
                    // An editor's save: a temp file renamed over the schedule.
                    let tmp = path.with_extension("tmp");
                    std::fs::write(&tmp, text).unwrap();
                    std::fs::rename(&tmp, &path).unwrap();
                } else {
                    // Rewritten in place (truncated, then written).
                    std::fs::write(&path, text).unwrap();
                }
                std::thread::sleep(Duration::from_millis(40));
                k += 1;
            }
            k
        })
    };
    std::thread::sleep(Duration::from_millis(1500));
    let backups = tempfile::tempdir().unwrap();
    let under_load = backups.path().join("under-load");
    let began = Instant::now();
    let out = backup(&st, &under_load);
    let ended = Instant::now();
    assert!(out.status.success(), "{out:?}");
    stop.store(true, Ordering::Relaxed);
    let accepted = uploads.join().unwrap();
    let edited = edits.join().unwrap();
    // The load really ran while the backup did: uploads accepted during it (their request
    // overlapping the backup), not only before or after.
    let during = accepted
        .iter()
        .filter(|(from, to)| *to >= began && *from <= ended)
        .count();
    println!(
        "backup under load ({} ms): {} uploads accepted, {during} of them during the backup; \
         {edited} schedule edits",
        (ended - began).as_millis(),
        accepted.len()
    );
    assert!(
        during >= 1,
        "no upload accepted during the backup ({} ms; {} in all)",
        (ended - began).as_millis(),
        accepted.len()
    );
    assert!(edited >= 2, "{edited} schedule edits during the load");

    // Once the load is over: a backup of the settled station.
    wait_for_idle_queue(&st.data_dir(), Duration::from_secs(120));
    let settled = backups.path().join("settled");
    let out = backup(&st, &settled);
    assert!(out.status.success(), "{out:?}");
    let original = feeds(d.port);

    let target = tempfile::tempdir().unwrap();
    for (name, b) in [("settled", &settled), ("under-load", &under_load)] {
        let (data, config) = (
            target.path().join(name),
            target.path().join(format!("{name}-config")),
        );
        let out = restore(b, &data, &config);
        assert!(out.status.success(), "{out:?}");
        let renditions = check_restored(&data, b);
        assert!(renditions >= 2, "{name}: {renditions} renditions");
        let busy = all_episodes(&Catalog::open(&data).unwrap())
            .iter()
            .filter(|e| matches!(e.status, EpisodeStatus::Queued | EpisodeStatus::Processing))
            .count();
        println!("{name}: {renditions} renditions, {busy} jobs in flight in the backup");
        if name == "under-load" {
            // Taken while uploads kept coming: it caught jobs queued or rendering, which the
            // restored station must render again (the point of this test).
            assert!(busy >= 1, "the backup under load caught no job in flight");
        } else {
            assert_eq!(busy, 0, "the settled station's backup has jobs in flight");
        }
        let (r, port) = serve_restored(
            target.path(),
            &data,
            &config.join("weekly.toml"),
            &st.media_dir(),
        );
        wait_for_idle_queue(&data, Duration::from_secs(120));
        let restored = feeds_listing_every_ready_episode(port, &data);
        if name == "settled" {
            for (a, b) in original.iter().zip(&restored) {
                assert!(
                    a == b,
                    "the restored station's feed differs:\n{}\n---\n{}",
                    String::from_utf8_lossy(a),
                    String::from_utf8_lossy(b)
                );
            }
        } else {
            // Jobs the backup caught in flight are rendered again by the restored station,
            // the same bytes as the original's (rendering is deterministic): every item of its
            // feeds is, byte for byte, an item of the original's, and every rendition is
            // the original's.
            let catalog = Catalog::open(&data).unwrap();
            let ready: Vec<_> = all_episodes(&catalog)
                .into_iter()
                .filter(|e| e.status == EpisodeStatus::Ready)
                .collect();
            assert!(
                ready.len() >= 2 + busy.min(1),
                "{} ready after restore",
                ready.len()
            );
            for e in &ready {
                let r = e.rendition_path.as_ref().unwrap();
                assert_eq!(
                    sha256(&data.join(r)),
                    sha256(&st.data_dir().join(r)),
                    "rendition {r} differs from the original station's"
                );
            }
            for (orig, rest) in original.iter().zip(&restored) {
                let (orig, rest) = (String::from_utf8_lossy(orig), String::from_utf8_lossy(rest));
                let items: Vec<&str> = rest.split("<item>").skip(1).collect();
                for e in &ready {
                    assert!(
                        rest.contains(&e.id),
                        "{} missing from the restored feed",
                        e.id
                    );
                }
                for item in items {
                    let item = &item[..item.find("</item>").unwrap()];
                    assert!(
                        orig.contains(item),
                        "an item the original does not serve:\n{item}"
                    );
                }
            }
        }
        // A working station: it airs.
        assert!(r.time_to_audio() < Duration::from_secs(30));
        r.kill9();
    }
    drop(d);
}

#[test]
fn issue17_a_corrupted_backup_or_a_used_folder_is_refused_naming_the_file() {
    let st = Station::new();
    let d = st.start();
    upload(&st, "un", &wav_bytes(7300, 1.0)).unwrap();
    wait_for_idle_queue(&st.data_dir(), Duration::from_secs(60));
    drop(d);
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good");
    assert!(backup(&st, &good).status.success());
    // The same destination twice: refused.
    let again = backup(&st, &good);
    assert_eq!(again.status.code(), Some(1), "{again:?}");
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));

    let copy = |name: &str| -> PathBuf {
        let to = dir.path().join(name);
        let m = manifest(&good);
        for f in m["files"].as_array().unwrap() {
            let rel = f["path"].as_str().unwrap();
            std::fs::create_dir_all(to.join(rel).parent().unwrap()).unwrap();
            std::fs::copy(good.join(rel), to.join(rel)).unwrap();
        }
        std::fs::copy(good.join("manifest.json"), to.join("manifest.json")).unwrap();
        to
    };
    // Read from the manifest: opening the backup's catalog would change it.
    let rendition = manifest(&good)["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .find(|p| p.starts_with("data/renditions/"))
        .unwrap();
    // One byte changed.
    let flipped = copy("flipped");
    let mut bytes = std::fs::read(flipped.join(&rendition)).unwrap();
    let i = bytes.len() / 2;
    bytes[i] ^= 0x01;
    std::fs::write(flipped.join(&rendition), bytes).unwrap();
    // A file missing.
    let missing = copy("missing");
    std::fs::remove_file(missing.join("data/catalog.sqlite3")).unwrap();
    for (b, file, why) in [
        (&flipped, rendition.as_str(), "SHA-256 differs"),
        (&missing, "data/catalog.sqlite3", "missing"),
    ] {
        let data = dir.path().join("target-data");
        let out = restore(b, &data, &dir.path().join("target-config"));
        assert_eq!(out.status.code(), Some(1), "{out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(&format!("{file}: {why}")), "{err}");
        assert!(!data.exists(), "nothing is written from a corrupted backup");
    }
    // A folder in use: refused, left as it was.
    let used = dir.path().join("used");
    std::fs::create_dir_all(&used).unwrap();
    std::fs::write(used.join("notes.txt"), "à garder").unwrap();
    let out = restore(&good, &used, &dir.path().join("c2"));
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not empty"),
        "{out:?}"
    );
    assert_eq!(std::fs::read_dir(&used).unwrap().count(), 1);
    // The good one restores.
    let out = restore(
        &good,
        &dir.path().join("fresh"),
        &dir.path().join("fresh-config"),
    );
    assert!(out.status.success(), "{out:?}");
    assert_eq!(check_restored(&dir.path().join("fresh"), &good), 1);
}

#[test]
fn issue17_scheduled_backups_rotate_and_report_their_outcome() {
    let mut st = Station::new();
    let dir = tempfile::tempdir().unwrap();
    let backups = dir.path().join("backups");
    st.extra = vec![
        "--backup-dir".into(),
        s(&backups),
        "--backup-every".into(),
        "1".into(),
        "--backup-keep".into(),
        "2".into(),
    ];
    let d = st.start();
    let started = Instant::now();
    let status = loop {
        let a = request(st.port, "GET", "/api/status", "", b"").unwrap();
        let b = a.json()["backups"].clone();
        if b["succeeded"].as_u64().unwrap_or(0) >= 3 {
            break b;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "{b}");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(status["ok"], true, "{status}");
    assert!(status["last_failure"].is_null(), "{status}");
    let kept: Vec<String> = std::fs::read_dir(&backups)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with("antenne-"))
        .collect();
    assert!(
        kept.len() <= 3 && kept.len() >= 2,
        "backup_keep = 2: {kept:?}"
    );
    let metrics = request(st.port, "GET", "/metrics", "", b"").unwrap();
    let text = String::from_utf8_lossy(&metrics.body);
    assert!(
        text.contains("antenne_backups_total{outcome=\"ok\"}"),
        "{text}"
    );
    assert!(
        text.contains("antenne_backup_last_success_timestamp_seconds"),
        "{text}"
    );
    drop(d);
}

/// A webhook receiver on 127.0.0.1: every request's body, answered 204.
fn webhook_receiver() -> (String, std::sync::mpsc::Receiver<String>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/alertes", listener.local_addr().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for mut sock in listener.incoming().flatten() {
            let mut got = Vec::new();
            let mut buf = [0u8; 4096];
            let body = loop {
                let Ok(n) = sock.read(&mut buf) else {
                    break None;
                };
                if n == 0 {
                    break None;
                }
                got.extend_from_slice(&buf[..n]);
                let Some(h) = find(&got, b"\r\n\r\n") else {
                    continue;
                };
                let head = String::from_utf8_lossy(&got[..h]).to_lowercase();
                let length: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(0);
                if got.len() >= h + 4 + length {
                    break Some(String::from_utf8_lossy(&got[h + 4..h + 4 + length]).into_owned());
                }
            };
            let _ = sock.write_all(
                b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
            if let Some(body) = body
                && tx.send(body).is_err()
            {
                return;
            }
        }
    });
    (url, rx)
}

#[test]
fn issue17_a_failed_scheduled_backup_is_reported_and_alerted() {
    // A backup folder that cannot be written (its parent is a file: refused even to root).
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("a-file");
    std::fs::write(&blocker, "not a folder").unwrap();
    let (url, alerts) = webhook_receiver();
    let settings = dir.path().join("antenne.toml");
    std::fs::write(
        &settings,
        format!(
            "[[webhook]]\nurl = \"{url}\"\nsecret = \"le secret de la station\"\n\
             events = [\"backup_failed\"]\n"
        ),
    )
    .unwrap();
    let mut st = Station::new();
    st.extra = vec![
        "--config".into(),
        s(&settings),
        "--backup-dir".into(),
        s(&blocker.join("backups")),
        "--backup-every".into(),
        "1".into(),
    ];
    let _d = st.start();
    let started = Instant::now();
    let status = loop {
        let a = request(st.port, "GET", "/api/status", "", b"").unwrap();
        let b = a.json()["backups"].clone();
        if b["failed"].as_u64().unwrap_or(0) >= 1 {
            break b;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "{b}");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(status["ok"], false, "{status}");
    let reason = status["last_failure"]["reason"]
        .as_str()
        .unwrap_or_default();
    assert!(reason.contains("a-file"), "{status}");
    assert!(st.log().contains("scheduled backup failed"), "{}", st.log());

    // The webhook gets a `backup_failed` alert naming the reason, in both languages.
    let body = alerts
        .recv_timeout(Duration::from_secs(30))
        .unwrap_or_else(|_| panic!("no alert within 30 s:\n{}", st.log()));
    let alert: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(alert["event"], "backup_failed", "{alert}");
    assert_eq!(alert["state"], "firing", "{alert}");
    for lang in ["fr", "en"] {
        let text = alert["text"][lang].as_str().unwrap_or_default();
        assert!(text.contains("a-file"), "{lang}: {alert}");
    }
    assert!(
        alert["text"]["fr"]
            .as_str()
            .unwrap()
            .starts_with("Échec de la sauvegarde"),
        "{alert}"
    );
}

#[test]
fn issue17_the_settings_file_and_the_schedule_history_keep_their_layout() {
    let st = Station::new();
    let dir = st.dir.path();
    std::fs::write(
        dir.join("antenne.toml"),
        "data_dir = \"data\"\nmedia_dir = \"media\"\nschedule = \"weekly.toml\"\n",
    )
    .unwrap();
    let history = dir.join("history");
    std::fs::create_dir_all(history.join("2026")).unwrap();
    std::fs::write(history.join("2026/weekly-1.toml"), schedule_text("Avant")).unwrap();
    let b = tempfile::tempdir().unwrap();
    let dest = b.path().join("b");
    let out = antenne(&[
        "--config",
        &s(&dir.join("antenne.toml")),
        "backup",
        &s(&dest),
    ]);
    assert!(out.status.success(), "{out:?}");
    let (data, config) = (b.path().join("data"), b.path().join("config"));
    let out = restore(&dest, &data, &config);
    assert!(out.status.success(), "{out:?}");
    for rel in ["antenne.toml", "weekly.toml", "history/2026/weekly-1.toml"] {
        assert_eq!(
            std::fs::read(config.join(rel)).unwrap(),
            std::fs::read(dir.join(rel)).unwrap(),
            "{rel}"
        );
    }
    // The restored settings name the restored schedule: `check` finds it.
    let out = antenne(&["--config", &s(&config.join("antenne.toml")), "check"]);
    assert!(out.status.success(), "{out:?}");
    // A second restore of the configuration into the same folder would overwrite: refused.
    let out = restore(&dest, &b.path().join("data2"), &config);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
}
