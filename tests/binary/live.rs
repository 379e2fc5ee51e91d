//! A live show through the real executable (issue 14): a source streams into a live special,
//! the daemon is killed with SIGKILL in the middle of it, and at the next start the recording
//! of what was received still becomes an episode of the show.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use antenne::audio::Mp3StreamEncoder;
use base64::Engine as _;

use crate::support::{SHOW, Station, all_episodes, connect};

/// `seconds` of a 440 Hz tone, MP3 at 128 kbps, as a source client would send it.
fn mp3_tone(seconds: f32) -> Vec<u8> {
    let mut enc = Mp3StreamEncoder::new(44_100, 128).unwrap();
    let pcm: Vec<f32> = (0..(44_100.0 * seconds) as usize)
        .flat_map(|i| {
            let s = (i as f32 * 440.0 * std::f32::consts::TAU / 44_100.0).sin() * 0.3;
            [s, s]
        })
        .collect();
    let mut out = Vec::new();
    enc.encode(&pcm, &mut out).unwrap();
    enc.flush(&mut out).unwrap();
    out
}

/// The schedule with a live special of `SHOW` from this minute until `seconds_left` from now.
fn live_special(st: &Station, seconds_left: i64) {
    let tz = jiff::tz::TimeZone::get("Europe/Paris").unwrap();
    let now = tz.to_datetime(jiff::Timestamp::now());
    let since_minute = i64::from(now.second());
    let text = format!(
        "{}\n[[exception]]\nid = \"direct\"\nshow = \"{SHOW}\"\ndate = {}\nstart = \"{:02}:{:02}\"\n\
         duration = \"{}s\"\nplay = \"live\"\n",
        crate::support::schedule_text("Atelier en direct"),
        now.date(),
        now.hour(),
        now.minute(),
        since_minute + seconds_left,
    );
    std::fs::write(st.schedule_path(), text).unwrap();
}

// issue 14
#[test]
fn issue14_a_live_show_cut_by_sigkill_becomes_an_episode_of_what_was_received() {
    let st = Station::new();
    live_special(&st, 4);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_antenne"))
        .args(["--data-dir", st.data_dir().to_str().unwrap()])
        .args(["token", "add", "amina", "--show", SHOW, "--live"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let d = st.start();
    let mut s = connect(st.port);
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{SHOW}:{token}"));
    write!(
        s,
        "PUT /live HTTP/1.1\r\nHost: radio\r\nAuthorization: Basic {auth}\r\n\
         Content-Type: audio/mpeg\r\nExpect: 100-continue\r\n\r\n"
    )
    .unwrap();
    let mut answer = [0u8; 12];
    s.read_exact(&mut answer).unwrap();
    assert_eq!(
        &answer,
        b"HTTP/1.1 100",
        "{}",
        String::from_utf8_lossy(&answer)
    );
    // 1 s of audio in real time (what SIGKILL cuts short is in the file: the page cache
    // survives the process; the 2 s syncs are for a power cut).
    let mp3 = mp3_tone(1.0);
    let started = Instant::now();
    for (i, chunk) in mp3.chunks(4000).enumerate() {
        s.write_all(chunk).unwrap();
        let due = Duration::from_secs_f64(i as f64 * 0.25);
        std::thread::sleep(due.saturating_sub(started.elapsed()));
    }
    std::thread::sleep(Duration::from_millis(300));
    d.kill9();
    drop(s);
    let pieces: Vec<_> = walk(&st.data_dir().join("live"));
    assert!(!pieces.is_empty(), "the recording was on disk");

    // The next start finishes it once the special is over: an episode of what was received.
    let d = st.start();
    let deadline = Instant::now() + Duration::from_secs(30);
    let episode = loop {
        let catalog = antenne::catalog::Catalog::open(&st.data_dir()).unwrap();
        let live = all_episodes(&catalog)
            .into_iter()
            .find(|e| e.title.contains("en direct du"));
        if let Some(ep) = live.filter(|e| e.status == antenne::catalog::EpisodeStatus::Ready) {
            break ep;
        }
        assert!(Instant::now() < deadline, "no episode:\n{}", st.log());
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(episode.show, SHOW);
    let ms = episode.duration_ms.unwrap();
    assert!((600..=1_200).contains(&ms), "{ms} ms of the 1 s received");
    assert!(
        walk(&st.data_dir().join("live")).is_empty(),
        "the recording is handed over"
    );
    drop(d);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if e.path().is_dir() {
            out.extend(walk(&e.path()));
        } else {
            out.push(e.path());
        }
    }
    out
}
