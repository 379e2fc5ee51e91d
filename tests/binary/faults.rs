//! Resource faults and housekeeping against the real binary (issue 8): a full disk (the
//! process's file size limit lowered with `prlimit`, so a write fails with `EFBIG` as it
//! would with `ENOSPC`: no root needed), vanished or unreadable media, a broken schedule,
//! the start-up sweep of orphan files and the expiry of abandoned resumable uploads.

use std::io::Read;
use std::time::{Duration, Instant};

use antenne::catalog::{Catalog, EpisodeStatus};

use crate::support::*;

/// Sets the soft `RLIMIT_FSIZE` of a running process (the hard limit stays, so it can be
/// raised again: "space returns").
fn set_file_size_limit(pid: u32, bytes: Option<u64>) {
    let mut old = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: plain syscalls with valid pointers to local structs.
    unsafe {
        assert_eq!(
            libc::prlimit(
                pid as libc::pid_t,
                libc::RLIMIT_FSIZE,
                std::ptr::null(),
                &mut old
            ),
            0
        );
        let new = libc::rlimit {
            rlim_cur: bytes.unwrap_or(old.rlim_max),
            rlim_max: old.rlim_max,
        };
        assert_eq!(
            libc::prlimit(
                pid as libc::pid_t,
                libc::RLIMIT_FSIZE,
                &new,
                std::ptr::null_mut()
            ),
            0,
            "prlimit: {}",
            std::io::Error::last_os_error()
        );
    }
}

/// A mono 16-bit WAV at 8 kHz: a small original whose 320 kbps rendition is 2.5x larger.
fn small_rate_wav(seed: u32, seconds: u32) -> Vec<u8> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 8_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut cur = std::io::Cursor::new(Vec::new());
    {
        let mut w = hound::WavWriter::new(&mut cur, spec).unwrap();
        w.write_sample(seed as u16 as i16).unwrap();
        for i in 1..8_000 * seconds {
            let t = i as f32 / 8_000.0;
            w.write_sample(((t * 330.0 * std::f32::consts::TAU).sin() * 9000.0) as i16)
                .unwrap();
        }
        w.finalize().unwrap();
    }
    cur.into_inner()
}

fn post(st: &Station, title: &str, audio: &[u8]) -> Answer {
    let (ct, body) = multipart(title, audio);
    request(
        st.port,
        "POST",
        "/api/episodes",
        &format!("{ct}{}", st.auth()),
        &body,
    )
    .unwrap()
}

fn episode_status(st: &Station, id: &str) -> serde_json::Value {
    let a = request(
        st.port,
        "GET",
        &format!("/api/episodes/{id}"),
        &st.auth(),
        b"",
    )
    .unwrap();
    assert_eq!(a.status, 200, "{a:?}");
    a.json()
}

fn wait_status(st: &Station, id: &str, want: &str) -> serde_json::Value {
    let start = Instant::now();
    loop {
        let v = episode_status(st, id);
        if v["status"] == want {
            return v;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{id} never {want}: {v}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Reads `/stream` for `secs` seconds; the bytes received.
fn listen(port: u16, secs: f32) -> usize {
    let mut s = connect(port);
    use std::io::Write;
    s.write_all(b"GET /stream HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap();
    let start = Instant::now();
    let (mut total, mut buf) = (0, [0u8; 8192]);
    while start.elapsed().as_secs_f32() < secs {
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "the stream closed");
        total += n;
    }
    total
}

fn files_in(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[cfg(target_os = "linux")]
#[test]
fn issue8_disk_full_answers_507_fails_the_job_with_a_reason_and_recovers() {
    let mut st = Station::new();
    st.extra = vec!["--bitrate".into(), "320".into()];
    let d = st.start();
    d.time_to_audio();
    let limit = 300_000;
    set_file_size_limit(d.pid(), Some(limit));

    // An upload larger than the room left: 507, nothing staged is left.
    let big = wav_bytes(1, 2.0);
    assert!(big.len() as u64 > limit);
    let a = post(&st, "trop gros", &big);
    assert_eq!(a.status, 507, "{a:?}");
    assert_eq!(a.json()["error"], "the disk is full");
    assert_eq!(
        files_in(&st.data_dir().join("uploads")),
        Vec::<String>::new()
    );

    // A resumable upload: 507 too, and the bytes that fitted are kept for later.
    let headers = format!(
        "{}Tus-Resumable: 1.0.0\r\nUpload-Length: {}\r\nUpload-Metadata: {}\r\n",
        st.auth(),
        big.len(),
        tus_metadata("reprise")
    );
    let created = request(st.port, "POST", "/api/uploads", &headers, b"").unwrap();
    assert_eq!(created.status, 201, "{created:?}");
    let loc = created.header("location").unwrap();
    let patch_headers = |offset: usize| {
        format!(
            "{}Tus-Resumable: 1.0.0\r\nContent-Type: application/offset+octet-stream\r\nUpload-Offset: {offset}\r\n",
            st.auth()
        )
    };
    let p = request(st.port, "PATCH", &loc, &patch_headers(0), &big).unwrap();
    assert_eq!(p.status, 507, "{p:?}");

    // A recording that fits, whose rendition does not: the job fails with the reason.
    let small = small_rate_wav(2, 10);
    assert!((small.len() as u64) < limit);
    let a = post(&st, "petit", &small);
    assert_eq!(a.status, 202, "{a:?}");
    let id = a.json()["id"].as_str().unwrap().to_string();
    let v = wait_status(&st, &id, "failed");
    assert_eq!(
        v["error"], "disk full while writing the rendition of r.wav",
        "{v}"
    );
    let renditions = files_in(&st.data_dir().join("renditions"));
    assert!(
        renditions.iter().all(|n| !n.ends_with(".tmp")),
        "{renditions:?}"
    );
    // The stream played on through all of it.
    assert!(listen(st.port, 0.5) > 0);

    // Space returns: the same uploads succeed; sending the failed recording again retries it.
    set_file_size_limit(d.pid(), None);
    let head = request(
        st.port,
        "HEAD",
        &loc,
        &format!("{}Tus-Resumable: 1.0.0\r\n", st.auth()),
        b"",
    )
    .unwrap();
    let offset: usize = head.header("upload-offset").unwrap().parse().unwrap();
    assert!(offset as u64 <= limit, "{offset}");
    let p = request(
        st.port,
        "PATCH",
        &loc,
        &patch_headers(offset),
        &big[offset..],
    )
    .unwrap();
    assert_eq!(p.status, 204, "{p:?}");
    let resumed = p.header("antenne-episode").unwrap();
    let a = post(&st, "trop gros", &wav_bytes(3, 2.0));
    assert_eq!(a.status, 202, "{a:?}");
    let again = post(&st, "petit", &small);
    assert_eq!(again.status, 200, "{again:?}");
    assert_eq!(again.json()["id"], id.as_str());
    for e in [&id, &resumed, &a.json()["id"].as_str().unwrap().to_string()] {
        wait_status(&st, e, "ready");
    }
    drop(d);
    let catalog = check_catalog(&st.data_dir());
    check_no_orphans(&st.data_dir(), &catalog, None);
    assert!(!st.log().contains("panicked"));
}

#[test]
fn issue8_vanished_and_garbage_fallback_files_are_skipped_and_the_stream_plays() {
    let st = Station::new();
    let beds = st.media_dir().join("beds");
    std::fs::write(beds.join("bed-2.wav"), wav_bytes(902, 6.0)).unwrap();
    let d = st.start();
    d.time_to_audio();
    std::fs::remove_file(beds.join("bed-0.wav")).unwrap();
    std::fs::write(beds.join("bed-1.wav"), b"RIFF\x10\x00\x00\x00WAVEgarbage").unwrap();
    // 128 kbps is 16 kB/s: the stream keeps its rate (a burst may come first).
    let got = listen(st.port, 2.0);
    assert!(got > 20_000, "{got} bytes in 2 s");
    // The garbage is skipped with its reason. The vanished file is skipped with its reason
    // when the playout opens it after it went, or plays out from the decoder that had it open
    // already (a race with the rotation): either way nothing stops.
    let start = Instant::now();
    loop {
        let log = st.log();
        if log.contains("bed-1.wav") && log.contains("skipping") {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no reason logged:\n{log}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(!st.log().contains("panicked"));
    assert!(listen(st.port, 1.0) > 0);
}

#[test]
fn issue8_a_garbage_or_deleted_schedule_keeps_the_last_good_one_on_air() {
    let st = Station::new();
    std::fs::write(st.schedule_path(), schedule_text("Atelier du jeudi")).unwrap();
    let d = st.start();
    d.time_to_audio();
    let on_air = || {
        let a = request(st.port, "GET", "/api/schedule", "", b"").unwrap();
        String::from_utf8_lossy(&a.body).contains("Atelier du jeudi")
    };
    assert!(on_air());
    std::fs::write(st.schedule_path(), [0xFFu8, 0, 0x13, b'[', b'[']).unwrap();
    let start = Instant::now();
    loop {
        let a = request(st.port, "GET", "/api/status", "", b"").unwrap();
        if !a.json()["schedule"]["refused"].is_null() {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "garbage not refused"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(on_air());
    assert!(listen(st.port, 0.5) > 0);
    std::fs::remove_file(st.schedule_path()).unwrap();
    std::thread::sleep(Duration::from_millis(500));
    assert!(on_air());
    assert!(listen(st.port, 0.5) > 0);
}

#[test]
fn issue8_start_up_sweeps_orphans_a_crash_left_and_nothing_the_catalog_refers_to() {
    let st = Station::new();
    let d = st.start();
    let a = post(&st, "gardé", &wav_bytes(7, 1.0));
    assert_eq!(a.status, 202);
    let id = a.json()["id"].as_str().unwrap().to_string();
    wait_for_idle_queue(&st.data_dir(), Duration::from_secs(30));
    d.kill9();
    let data = st.data_dir();
    let uid = "0b7ad1d4-5d4f-4b8e-9a51-2f3c0c1e7a10";
    let orphans = [
        "originals/deadbeef.wav".to_string(),
        "originals/.upload-x.tmp".into(),
        "renditions/0c0c0c0c.mp3".into(),
        format!("renditions/.{id}.mp3.4242.tmp"),
        "meta/0c0c0c0c.vtt".into(),
        "uploads/1234.part".into(),
        format!("uploads/{uid}.tus"),
        "uploads/5678.json.tmp".into(),
    ];
    for o in &orphans {
        std::fs::create_dir_all(data.join(o).parent().unwrap()).unwrap();
        std::fs::write(data.join(o), b"left by a crash").unwrap();
    }
    // A resumable upload in progress (data and state) stays.
    let live = "3e1f7a52-64c4-4d0e-8f0e-6f2a3c9b1d22";
    std::fs::write(data.join(format!("uploads/{live}.tus")), b"half").unwrap();
    std::fs::write(
        data.join(format!("uploads/{live}.json")),
        r#"{"token":"crash","length":10,"fields":[],"original_name":null,"episode_id":null}"#,
    )
    .unwrap();
    let d = st.start();
    d.time_to_audio();
    for o in &orphans {
        assert!(!data.join(o).exists(), "{o} not swept");
        assert!(st.log().contains(o.as_str()), "{o} not logged");
    }
    assert!(data.join(format!("uploads/{live}.tus")).exists());
    assert!(data.join(format!("uploads/{live}.json")).exists());
    drop(d);
    let catalog = check_catalog(&data);
    let e = catalog.episode(&id).unwrap().unwrap();
    assert_eq!(e.status, EpisodeStatus::Ready);
    assert!(data.join(e.rendition_path.unwrap()).exists());
    assert!(data.join(e.original_path).exists());
    check_no_orphans(&data, &catalog, None);
}

#[test]
fn issue8_abandoned_resumable_uploads_expire() {
    let mut st = Station::new();
    st.extra = vec!["--upload-expiry".into(), "2".into()];
    let d = st.start();
    let headers = format!(
        "{}Tus-Resumable: 1.0.0\r\nUpload-Length: 1000\r\nUpload-Metadata: {}\r\n",
        st.auth(),
        tus_metadata("abandonné")
    );
    let created = request(st.port, "POST", "/api/uploads", &headers, b"").unwrap();
    assert_eq!(created.status, 201);
    let loc = created.header("location").unwrap();
    let p = request(
        st.port,
        "PATCH",
        &loc,
        &format!(
            "{}Tus-Resumable: 1.0.0\r\nContent-Type: application/offset+octet-stream\r\nUpload-Offset: 0\r\n",
            st.auth()
        ),
        &[7u8; 400],
    )
    .unwrap();
    assert_eq!(p.status, 204);
    let head = || {
        request(
            st.port,
            "HEAD",
            &loc,
            &format!("{}Tus-Resumable: 1.0.0\r\n", st.auth()),
            b"",
        )
        .unwrap()
        .status
    };
    assert_eq!(head(), 200);
    let start = Instant::now();
    while head() != 404 {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the abandoned upload was not expired"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(
        files_in(&st.data_dir().join("uploads")),
        Vec::<String>::new()
    );
    assert!(st.log().contains("abandoned resumable upload"));
    drop(d);
}

/// Every byte of a resumable upload arrived, then a crash cut its completion short: the next
/// `HEAD` stores it (a client seeing the full offset sends nothing more).
#[test]
fn issue8_a_resumable_upload_complete_before_a_crash_is_stored_on_resume() {
    let st = Station::new();
    let d = st.start();
    let audio = wav_bytes(11, 1.0);
    let headers = format!(
        "{}Tus-Resumable: 1.0.0\r\nUpload-Length: {}\r\nUpload-Metadata: {}\r\n",
        st.auth(),
        audio.len(),
        tus_metadata("coupé")
    );
    let created = request(st.port, "POST", "/api/uploads", &headers, b"").unwrap();
    assert_eq!(created.status, 201);
    let loc = created.header("location").unwrap();
    d.kill9();
    // The bytes reached the disk; the process died before storing the episode.
    let uid = loc.rsplit('/').next().unwrap();
    std::fs::write(st.data_dir().join(format!("uploads/{uid}.tus")), &audio).unwrap();
    let d = st.start();
    let head = request(
        st.port,
        "HEAD",
        &loc,
        &format!("{}Tus-Resumable: 1.0.0\r\n", st.auth()),
        b"",
    )
    .unwrap();
    assert_eq!(head.status, 200, "{head:?}");
    assert_eq!(
        head.header("upload-offset").unwrap(),
        audio.len().to_string()
    );
    let id = head.header("antenne-episode").expect("stored on resume");
    wait_status(&st, &id, "ready");
    drop(d);
    let catalog = Catalog::open(&st.data_dir()).unwrap();
    assert!(catalog.episode(&id).unwrap().is_some());
}
