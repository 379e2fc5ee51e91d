//! The live input through real connections (issue 14): a source client written here speaks
//! the Icecast source protocol (`PUT` with `Expect: 100-continue`, legacy `SOURCE`) to a live
//! input on loopback, on a station clock the test sets. Refused outside the slot, taken in its
//! pre-roll, a second source refused, wrong credentials answered alike and slowed down, a drop
//! resumed within the grace without a switch, garbage refused, metadata updates on air, and
//! the recording handed to ingest once the slot is over.

use std::sync::Arc;
use std::time::Duration;

use antenne::catalog::{Catalog, EpisodeStatus, Grant, hash_secret};
use antenne::clock::ManualClock;
use antenne::input::{LiveConfig, LiveService};
use antenne::playout::{LiveBuffer, LiveInputs};
use antenne::schedule::{NoFacts, Schedule, ScheduleState};
use base64::Engine as _;
use jiff::Timestamp;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

use crate::support::mp3::lame_tone;

const SCHEDULE: &str = r#"
[station]
name = "Test"
timezone = "Europe/Paris"
language = "fr"

[[show]]
slug = "debat"
title = "Le débat des Ors"

[[show]]
slug = "musique"
title = "Musiques"

[[slot]]
id = "debat-live"
show = "debat"
days = ["sat"]
start = "10:00"
duration = "1h"
play = "live"

[[slot]]
id = "musique"
show = "musique"
days = ["sat"]
start = "11:00"
duration = "1h"
play = "latest"

[fallback]
playlist = "beds"
"#;

pub(crate) const DEBAT: &str = "ant_test_debat_live_0123456789abcdef";
const UPLOAD_ONLY: &str = "ant_test_upload_0123456789abcdef";
const OPS: &str = "ant_test_ops_0123456789abcdef";

/// Saturday 2026-12-05 at `hm`, Paris time.
pub(crate) fn at(hm: &str) -> Timestamp {
    // December: Paris is UTC+1.
    format!("2026-12-05T{hm}:00+01:00").parse().unwrap()
}

pub(crate) struct Live {
    _dir: tempfile::TempDir,
    pub(crate) catalog: Catalog,
    pub(crate) inputs: LiveInputs,
    pub(crate) service: LiveService,
    pub(crate) clock: Arc<ManualClock>,
    pub(crate) addr: std::net::SocketAddr,
    shutdown: CancellationToken,
    _schedule: tokio::sync::watch::Sender<ScheduleState>,
}

impl Drop for Live {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

pub(crate) async fn live(now: &str) -> Live {
    live_with(now, SCHEDULE).await
}

async fn live_with(now: &str, schedule: &str) -> Live {
    let dir = tempfile::tempdir().unwrap();
    let catalog = Catalog::open(&dir.path().join("data")).unwrap();
    let t0 = Timestamp::now();
    catalog
        .add_token("debat", &hash_secret(DEBAT), &Grant::live(&["debat"]), t0)
        .unwrap();
    catalog
        .add_token(
            "upload",
            &hash_secret(UPLOAD_ONLY),
            &Grant::upload(&["debat"]),
            t0,
        )
        .unwrap();
    catalog
        .add_token("ops", &hash_secret(OPS), &Grant::live(&[]), t0)
        .unwrap();
    let schedule = Schedule::parse(schedule, "test.toml", at("00:00"), &NoFacts)
        .unwrap()
        .0;
    let state = ScheduleState {
        schedule: Arc::new(schedule),
        path: "test.toml".into(),
        loaded_at: t0,
        warnings: vec![],
        refused: None,
    };
    let (schedule_tx, rx) = tokio::sync::watch::channel(state);
    let inputs = LiveInputs::new(
        ["live"],
        LiveBuffer {
            capacity_frames: 4 * 44_100,
            prime_frames: 44_100 / 2,
        },
    );
    let clock = Arc::new(ManualClock::new(at(now)));
    let shutdown = CancellationToken::new();
    let config = LiveConfig {
        grace: Duration::from_millis(400),
        stall: Duration::from_secs(1),
        head_timeout: Duration::from_secs(2),
        data_dir: dir.path().join("data"),
        ..LiveConfig::default()
    };
    let service = LiveService::new(
        config,
        catalog.clone(),
        rx,
        &inputs,
        clock.clone(),
        Arc::new(|| {}),
        shutdown.clone(),
    )
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(antenne::input::serve(listener, service.clone()));
    Live {
        _dir: dir,
        catalog,
        inputs,
        service,
        clock,
        addr,
        shutdown,
        _schedule: schedule_tx,
    }
}

pub(crate) fn basic(user: &str, password: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
}

/// Sends a source head; returns the connection and the answer's head (status line first).
async fn connect(live: &Live, method: &str, user: &str, password: &str) -> (TcpStream, String) {
    connect_to(live, "/live", method, user, password).await
}

async fn connect_to(
    live: &Live,
    mount: &str,
    method: &str,
    user: &str,
    password: &str,
) -> (TcpStream, String) {
    let mut s = TcpStream::connect(live.addr).await.unwrap();
    let (version, expect) = if method == "PUT" {
        ("HTTP/1.1", "Expect: 100-continue\r\n")
    } else {
        ("HTTP/1.0", "")
    };
    let head = format!(
        "{method} {mount} {version}\r\nHost: radio\r\nAuthorization: Basic {}\r\n\
         Content-Type: audio/mpeg\r\nIce-Name: Fête des Ors\r\nUser-Agent: test-source\r\n{expect}\r\n",
        basic(user, password)
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let answer = read_answer(&mut s).await;
    (s, answer)
}

pub(crate) async fn read_answer(s: &mut TcpStream) -> String {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    let read = async {
        while !buf.ends_with(b"\r\n\r\n") {
            if s.read(&mut byte).await.unwrap_or(0) == 0 {
                break;
            }
            buf.push(byte[0]);
        }
    };
    tokio::time::timeout(Duration::from_secs(20), read)
        .await
        .unwrap();
    String::from_utf8_lossy(&buf).into_owned()
}

async fn body(s: &mut TcpStream) -> String {
    let mut rest = String::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), s.read_to_string(&mut rest)).await;
    rest
}

/// Sends MP3 audio in real-time-ish packets (faster than real time: the buffer keeps the
/// newest cushion before the slot, and bounds it on air).
async fn send_audio(s: &mut TcpStream, mp3: &[u8]) {
    for chunk in mp3.chunks(4096) {
        if s.write_all(chunk).await.is_err() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Once the source has gone: the grace over, the slot ended (11:00), the recording handed to
/// ingest; the episode of the 10:00 occurrence, queued.
pub(crate) async fn recorded_episode(live: &Live) -> antenne::catalog::Episode {
    let inputs = live.inputs.clone();
    wait_for("the end of the grace", || !inputs.is_connected("live")).await;
    live.clock.set(at("11:00"));
    let service = live.service.clone();
    tokio::task::spawn_blocking(move || service.finish_recordings())
        .await
        .unwrap();
    let id = live
        .catalog
        .episode_of_occurrence("debat-live/2026-12-05T10:00")
        .unwrap()
        .expect("an episode of what was received");
    live.catalog.episode(&id).unwrap().unwrap()
}

/// Runs the ingest queue as the workers would; the episode `id` as it then is.
pub(crate) async fn rendered(live: &Live, id: &str) -> antenne::catalog::Episode {
    let render = antenne::config::StationSettings::default().render_options();
    let clock = antenne::ingest::system_clock();
    let catalog = live.catalog.clone();
    tokio::task::spawn_blocking(move || {
        antenne::ingest::drain_queue(&catalog, &render, 1, &*clock)
    })
    .await
    .unwrap()
    .unwrap();
    live.catalog.episode(id).unwrap().unwrap()
}

pub(crate) async fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    for _ in 0..400 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("timed out waiting for {what}");
}

// issue 14
#[tokio::test]
async fn a_show_is_refused_outside_its_slot_and_taken_in_its_pre_roll() {
    let live = live("09:40").await;
    let (mut s, answer) = connect(&live, "PUT", "debat", DEBAT).await;
    assert!(answer.starts_with("HTTP/1.0 403 Forbidden\r\n"), "{answer}");
    let why = body(&mut s).await;
    assert!(
        why.contains("no live slot for your shows now; the next one: Le débat des Ors"),
        "{why}"
    );
    assert!(!live.inputs.is_connected("live"));

    live.clock.set(at("09:55"));
    let (mut s, answer) = connect(&live, "PUT", "debat", DEBAT).await;
    assert!(answer.starts_with("HTTP/1.1 100 Continue\r\n"), "{answer}");
    assert!(live.inputs.is_connected("live"));
    send_audio(&mut s, &lame_tone(3.0)).await;
    let input = live.inputs.get("live").unwrap().clone();
    wait_for("the pre-roll cushion", || input.buffered_frames() > 0).await;
    // In the pre-roll the buffer keeps the newest cushion only (sent at once, the 3 s set it
    // to its largest, 2.5 s), and counts no overflow.
    wait_for("the whole burst", || input.cushion_frames() == 110_250).await;
    assert!(input.buffered_frames() as u64 <= input.cushion_frames());
    assert_eq!(
        input
            .counters()
            .overflow_frames
            .load(std::sync::atomic::Ordering::Relaxed),
        0
    );
    let status = live.service.status();
    let connected = status.connected.unwrap();
    assert_eq!(connected.show.as_deref(), Some("debat"));
    assert_eq!(connected.on_air_at, at("10:00"));
    assert_eq!(connected.software.as_deref(), Some("test-source"));
    assert_eq!(status.format.unwrap().codec, "mp3");
    assert_eq!(
        input.title().as_deref(),
        Some("Fête des Ors"),
        "the stream name is on air"
    );
}

// issue 14
#[tokio::test]
async fn legacy_source_is_answered_200_and_a_second_source_is_refused() {
    let live = live("10:10").await;
    let (mut first, answer) = connect(&live, "SOURCE", "source", DEBAT).await;
    assert!(answer.starts_with("HTTP/1.0 200 OK\r\n"), "{answer}");
    let (mut second, answer) = connect(&live, "SOURCE", "source", OPS).await;
    assert!(answer.starts_with("HTTP/1.0 403 Forbidden\r\n"), "{answer}");
    assert!(body(&mut second).await.contains("Mountpoint in use"));
    // The first one still streams.
    send_audio(&mut first, &lame_tone(1.0)).await;
    assert!(live.service.status().connected.unwrap().streaming);
    assert_eq!(live.service.status().refused, 1);
}

// issue 14
#[tokio::test]
async fn wrong_revoked_or_upload_only_credentials_are_refused_and_failures_slow_down() {
    let live = live("10:10").await;
    let mut answers = Vec::new();
    let started = std::time::Instant::now();
    for (user, password) in [
        ("debat", "ant_wrong"),
        ("source", ""),
        ("debat", "ant_wrong2"),
    ] {
        let (mut s, head) = connect(&live, "PUT", user, password).await;
        let rest = body(&mut s).await;
        answers.push(format!("{}{rest}", head.lines().next().unwrap()));
    }
    assert!(
        answers
            .iter()
            .all(|a| a == "HTTP/1.0 401 UnauthorizedUnauthorized\n"),
        "{answers:?}"
    );
    // The second and third waited 250 ms and 500 ms first.
    assert!(
        started.elapsed() >= Duration::from_millis(700),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(live.service.status().unauthorized, 3);
    // A token without the live scope is known: refused with the reason.
    let (mut s, head) = connect(&live, "PUT", "debat", UPLOAD_ONLY).await;
    assert!(head.starts_with("HTTP/1.0 403"), "{head}");
    assert!(body(&mut s).await.contains("may not go live"));
    // Revoked: the same bare 401.
    live.catalog
        .revoke_token("debat", Timestamp::now())
        .unwrap();
    let (mut s, head) = connect(&live, "PUT", "debat", DEBAT).await;
    assert!(head.starts_with("HTTP/1.0 401 Unauthorized\r\n"), "{head}");
    assert_eq!(body(&mut s).await, "Unauthorized\n");
}

// issue 14
#[tokio::test]
async fn a_source_back_within_its_grace_resumes_without_a_switch_and_one_gone_frees_the_input() {
    let live = live("10:10").await;
    let (mut s, _) = connect(&live, "PUT", "source", DEBAT).await;
    send_audio(&mut s, &lame_tone(1.0)).await;
    let generation = live.inputs.generation();
    drop(s); // a network cut
    let service = live.service.clone();
    wait_for("the drop", || {
        service.status().connected.is_some_and(|c| !c.streaming)
    })
    .await;
    assert!(live.inputs.is_connected("live"), "held during the grace");
    let (mut s, answer) = connect(&live, "PUT", "source", DEBAT).await;
    assert!(answer.starts_with("HTTP/1.1 100 Continue"), "{answer}");
    send_audio(&mut s, &lame_tone(1.0)).await;
    assert_eq!(live.inputs.generation(), generation, "no second switch");
    assert_eq!(live.service.status().reconnects, 1);
    drop(s);
    // Gone for good: after the grace, the input is free (the planner airs the underrun).
    let inputs = live.inputs.clone();
    wait_for("the end of the grace", || !inputs.is_connected("live")).await;
    assert!(live.inputs.generation() > generation);
    assert!(live.service.status().connected.is_none());
}

// issue 14
#[tokio::test]
async fn garbage_is_not_aired_and_frees_the_input() {
    let live = live("10:10").await;
    let (mut s, _) = connect(&live, "SOURCE", "source", DEBAT).await;
    let garbage: Vec<u8> = (0..200_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let _ = s.write_all(&garbage).await;
    drop(s);
    let inputs = live.inputs.clone();
    wait_for("the garbage to be refused", || !inputs.is_connected("live")).await;
    assert_eq!(live.service.status().undecodable, 1);
    assert_eq!(live.inputs.get("live").unwrap().buffered_frames(), 0);
}

// issue 14
#[tokio::test]
async fn metadata_updates_set_the_title_on_air() {
    let live = live("10:10").await;
    let (mut s, _) = connect(&live, "PUT", "source", DEBAT).await;
    send_audio(&mut s, &lame_tone(0.5)).await;
    let update = |password: &str, song: &str| {
        let addr = live.addr;
        let request = format!(
            "GET /admin/metadata?mount=/live&mode=updinfo&song={song} HTTP/1.0\r\n\
             Authorization: Basic {}\r\nUser-Agent: BUTT\r\n\r\n",
            basic("source", password)
        );
        async move {
            let mut c = TcpStream::connect(addr).await.unwrap();
            c.write_all(request.as_bytes()).await.unwrap();
            let mut out = String::new();
            let _ = c.read_to_string(&mut out).await;
            out
        }
    };
    let ok = update(DEBAT, "Yasmina%20-%20La%20chanson%20des%20Ors").await;
    assert!(
        ok.starts_with("HTTP/1.0 200 OK") && ok.contains("<return>1</return>"),
        "{ok}"
    );
    let input = live.inputs.get("live").unwrap();
    assert_eq!(
        input.title().as_deref(),
        Some("Yasmina - La chanson des Ors")
    );
    assert!(update("ant_wrong", "x").await.starts_with("HTTP/1.0 401"));
    assert_eq!(
        input.title().as_deref(),
        Some("Yasmina - La chanson des Ors")
    );
}

// issue 14
#[tokio::test]
async fn the_live_show_becomes_an_episode_once_its_slot_is_over() {
    let live = live("10:10").await;
    let (mut s, _) = connect(&live, "PUT", "debat", DEBAT).await;
    send_audio(&mut s, &lame_tone(2.0)).await;
    drop(s);
    // Cut once, back within the grace: one recording, two pieces.
    let service = live.service.clone();
    wait_for("the drop", || {
        service.status().connected.is_some_and(|c| !c.streaming)
    })
    .await;
    let (mut s, _) = connect(&live, "PUT", "debat", DEBAT).await;
    send_audio(&mut s, &lame_tone(2.0)).await;
    drop(s);
    let inputs = live.inputs.clone();
    wait_for("the end of the grace", || !inputs.is_connected("live")).await;
    // Not over yet: kept.
    let s2 = live.service.clone();
    tokio::task::spawn_blocking(move || s2.finish_recordings())
        .await
        .unwrap();
    assert_eq!(live.service.status().recordings, 0);
    // Over: handed to ingest as an episode of the show, with the occurrence's title and date.
    live.clock.set(at("11:00"));
    let s2 = live.service.clone();
    tokio::task::spawn_blocking(move || s2.finish_recordings())
        .await
        .unwrap();
    assert_eq!(live.service.status().recordings, 1);
    let occurrence = "debat-live/2026-12-05T10:00";
    let id = live
        .catalog
        .episode_of_occurrence(occurrence)
        .unwrap()
        .unwrap();
    let ep = live.catalog.episode(&id).unwrap().unwrap();
    assert_eq!(ep.show, "debat");
    assert_eq!(ep.title, "Le débat des Ors — en direct du 5 décembre 2026");
    assert_eq!(ep.date.as_deref(), Some("2026-12-05"));
    assert_eq!(ep.status, EpisodeStatus::Queued);
    // Rendered as any recording: about 4 s of audio, normalised.
    let ep = rendered(&live, &id).await;
    assert_eq!(ep.status, EpisodeStatus::Ready, "{:?}", ep.error);
    let ms = ep.duration_ms.unwrap();
    assert!((3_500..=4_500).contains(&ms), "{ms} ms");
    // Nothing left to finish.
    assert!(antenne::input::record::pending(live.catalog.data_dir()).is_empty());
    // The occurrence's podcast:liveItem, ended, now points to its recording.
    let schedule = live._schedule.borrow().schedule.clone();
    let episodes = vec![ep];
    let src = antenne::feed::FeedSource {
        schedule: &schedule,
        episodes: &episodes,
        public_url: "http://radio.test",
        stream_bitrate_kbps: 128,
        redirects: &[],
    };
    let pages = antenne::feed::build(&src, at("11:30"));
    let (_, channel) = pages
        .iter()
        .find(|(path, _)| path.starts_with("/shows/debat/"))
        .unwrap();
    let ended = channel
        .live_items
        .iter()
        .find(|l| l.status == antenne::feed::LiveStatus::Ended)
        .unwrap();
    let url = format!("http://radio.test/media/{id}.mp3");
    assert_eq!(
        ended.recording.as_ref().map(|r| r.url.as_str()),
        Some(url.as_str())
    );
    let xml = String::from_utf8(antenne::feed::rss::write(channel)).unwrap();
    let live_item = &xml[xml.find("<podcast:liveItem status=\"ended\"").unwrap()..];
    let live_item = &live_item[..live_item.find("</podcast:liveItem>").unwrap()];
    assert!(
        live_item.contains(&format!("<enclosure url=\"{url}\"")),
        "{live_item}"
    );
}

// issue 14
#[tokio::test]
async fn an_operator_takes_the_air_outside_any_live_slot_until_the_end_it_gave() {
    let live = live("11:30").await;
    // A show's live token is refused outside its slot...
    let (_, answer) = connect(&live, "PUT", "source", DEBAT).await;
    assert!(answer.starts_with("HTTP/1.0 403"), "{answer}");
    // ...an operator's overrides whatever plays, until 12:15.
    let (mut s, answer) = connect_to(&live, "/live?until=12:15", "PUT", "source", OPS).await;
    assert!(answer.starts_with("HTTP/1.1 100 Continue"), "{answer}");
    send_audio(&mut s, &lame_tone(0.5)).await;
    let takeover = live.inputs.get("live").unwrap().takeover().unwrap();
    assert_eq!(
        (takeover.since, takeover.until),
        (at("11:30"), Some(at("12:15")))
    );
    let connected = live.service.status().connected.unwrap();
    assert_eq!(
        (connected.show, connected.ends_at),
        (None, Some(at("12:15")))
    );
    drop(s);
    let inputs = live.inputs.clone();
    wait_for("the end of the grace", || !inputs.is_connected("live")).await;
    assert!(live.inputs.get("live").unwrap().takeover().is_none());
}

/// Whether the input holds at least a second and its cushion: a source sending its seconds at
/// once (as these tests do) makes the cushion as long as the burst, up to 2.5 s.
pub(crate) fn primed(input: &antenne::playout::LiveInput) -> bool {
    input.buffered_frames() >= 44_100 && input.buffered_frames() as u64 >= input.cushion_frames()
}

/// The share of `freq` (give or take the drift control's 1 %) in mono `pcm` at `rate`.
pub(crate) fn tone_share(pcm: &[f32], rate: f64, freq: f64) -> f64 {
    (-10..=10)
        .map(|k| goertzel_share(pcm, rate, freq * (1.0 + f64::from(k) / 1000.0)))
        .fold(0.0, f64::max)
}

/// Goertzel power at `freq` over total power: 1 for a pure tone at `freq`.
fn goertzel_share(pcm: &[f32], rate: f64, freq: f64) -> f64 {
    let k = 2.0 * (std::f64::consts::TAU * freq / rate).cos();
    let (mut a, mut b) = (0.0f64, 0.0f64);
    for &x in pcm {
        (a, b) = (f64::from(x) + k * a - b, a);
    }
    let power = a * a + b * b - k * a * b;
    let total: f64 = pcm
        .iter()
        .map(|&x| f64::from(x) * f64::from(x))
        .sum::<f64>()
        * pcm.len() as f64
        / 2.0;
    power / total.max(f64::MIN_POSITIVE)
}

// issue 14
#[tokio::test]
async fn the_source_tone_comes_out_of_the_live_input_at_the_station_rate() {
    let live = live("10:10").await;
    let (mut s, _) = connect(&live, "PUT", "source", DEBAT).await;
    send_audio(&mut s, &lame_tone(3.0)).await;
    let input = live.inputs.get("live").unwrap().clone();
    wait_for("the cushion", || primed(&input)).await;
    let mut out = vec![0.0f32; 2 * 22_050];
    input.read(&mut out, |_| 1.0);
    let left: Vec<f32> = out.chunks_exact(2).map(|f| f[0]).collect();
    let share = tone_share(&left, 44_100.0, 440.0);
    assert!(share > 0.8, "440 Hz is {share} of the live input");
}

// issue 14
#[tokio::test]
async fn a_silent_source_is_dropped_after_the_stall_limit_and_the_input_freed() {
    let live = live("10:10").await;
    let (mut s, _) = connect(&live, "PUT", "source", DEBAT).await;
    // Before the last byte is sent, so that `stall` after it is a lower bound of the wait.
    let started = std::time::Instant::now();
    send_audio(&mut s, &lame_tone(0.5)).await;
    // The connection stays open but sends nothing: dropped after `stall` (1 s here).
    let inputs = live.inputs.clone();
    wait_for("the stalled source to be dropped", || {
        !inputs.is_connected("live")
    })
    .await;
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    drop(s);
}

// issue 14
#[tokio::test]
async fn a_source_cut_mid_frame_is_still_recorded_and_becomes_an_episode() {
    let live = live("10:10").await;
    let (mut s, _) = connect(&live, "SOURCE", "source", DEBAT).await;
    let mp3 = lame_tone(2.0);
    // Cut in the middle of an MP3 frame.
    send_audio(&mut s, &mp3[..mp3.len() - 217]).await;
    drop(s);
    let ep = recorded_episode(&live).await;
    assert_eq!(
        ep.original_bytes,
        (mp3.len() - 217) as u64,
        "the bytes as received"
    );
}

// issue 14
#[tokio::test]
async fn a_live_slot_with_record_false_is_not_kept() {
    let text = SCHEDULE.replacen("play = \"live\"", "play = \"live\"\nrecord = false", 1);
    let live = live_with("10:10", &text).await;
    let (mut s, answer) = connect(&live, "PUT", "source", DEBAT).await;
    assert!(answer.starts_with("HTTP/1.1 100"), "{answer}");
    send_audio(&mut s, &lame_tone(1.0)).await;
    assert!(live.service.status().bytes > 0);
    assert!(antenne::input::record::pending(live.catalog.data_dir()).is_empty());
}
