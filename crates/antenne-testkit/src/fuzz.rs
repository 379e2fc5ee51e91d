//! What each fuzz target feeds Antenne and which properties it checks. Shared by the libFuzzer
//! targets (`fuzz/fuzz_targets/`) and `cargo test` (`tests/it/fuzz.rs`), so the committed
//! corpus and every finding replay without nightly.
//!
//! The property everywhere: no input panics, hangs or allocates without bound, and every
//! answer is a clear `Err`/4xx rather than a crash. Each function takes the raw fuzz bytes.

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use antenne::broadcast::{StationInfo, icecast, icy};
use antenne::config::{IcecastTarget, ProcessSettings, Settings};
use antenne::daemon::AppState;
use antenne::feed::conditional::{self, RangeOutcome};
use antenne::ingest::{intake, watch};
use antenne::schedule::{Facts, PathFact, Schedule};
use axum::body::Body;
use axum::http::{HeaderValue, Request};
use http_body_util::BodyExt;
use jiff::{SignedDuration, Timestamp};
use tower::ServiceExt;

/// A fixed reference instant (2026-09-21T12:00:00Z): runs are reproducible.
fn now() -> Timestamp {
    Timestamp::from_second(1_790_000_000).expect("valid instant")
}

/// Answers every IO question from the path itself, so the fact-based warnings run too.
struct FuzzFacts;

impl Facts for FuzzFacts {
    fn episode_count(&self, show: &str) -> Option<usize> {
        Some(show.len() % 3)
    }
    fn newest_episode_duration(&self, show: &str) -> Option<SignedDuration> {
        Some(SignedDuration::from_mins(show.len() as i64 * 7))
    }
    fn path(&self, relative: &Path) -> Option<PathFact> {
        Some(match relative.as_os_str().len() % 4 {
            0 => PathFact::Missing,
            1 => PathFact::File,
            2 => PathFact::Folder { entries: 0 },
            _ => PathFact::Folder { entries: 3 },
        })
    }
}

/// `schedule`: schedule file text (UTF-8) through `Schedule::parse` as `antenne check` does,
/// every diagnostic rendered (`FILE:LINE:COL` with a caret), then the queries playout and the
/// feeds make of a valid schedule: a week of occurrences, `slot_at`, `next_change_after`,
/// each show's RRULE and a diff against itself. Also each line as a crontab.
pub fn schedule(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let t = now();
    match Schedule::parse(text, "weekly.toml", t, &FuzzFacts) {
        Ok((s, warnings)) => {
            for d in &warnings {
                assert!(!d.is_error(), "an accepted schedule carries an error: {d}");
                let _ = d.to_string();
            }
            let week = t + SignedDuration::from_hours(24 * 7);
            let occ = s.occurrences(t, week);
            for w in occ.windows(2) {
                assert!(w[0].start <= w[1].start, "occurrences out of order");
            }
            let _ = s.slot_at(t);
            if let Some(next) = s.next_change_after(t) {
                assert!(next > t, "next change {next} is not after {t}");
            }
            for show in s.shows() {
                let _ = s.rrule_for_show(&show.slug);
            }
            let calendar = s.calendar(&antenne::schedule::CalendarSpec {
                show: None,
                from: t,
                until: t + SignedDuration::from_hours(48),
                stamp: t,
                base_url: "https://radio.test",
            });
            assert!(
                calendar.ends_with("END:VCALENDAR\r\n")
                    && calendar
                        .split("\r\n")
                        .all(|l| l.len() <= 75 && !l.contains('\n')),
                "a calendar line is over 75 octets or not CRLF"
            );
            assert!(antenne::schedule::diff(&s, &s, t, week).is_empty());
        }
        Err(diags) => {
            assert!(
                diags.iter().any(|d| d.is_error()),
                "a refused schedule must say why"
            );
            for d in &diags {
                let _ = d.to_string();
            }
        }
    }
    for line in text.lines().take(8) {
        let _ = antenne::schedule::crontab::parse(line);
    }
}

/// The station every router-level check talks to: a data folder on tmpfs when there is one
/// (uploads fsync), the repository's schedule and media, one operator token.
struct Station {
    rt: tokio::runtime::Runtime,
    state: AppState,
}

static SCRATCH: OnceLock<PathBuf> = OnceLock::new();

/// Keeps the station of the router-level checks under `dir` (`cargo test` passes its scratch
/// folder, `CARGO_TARGET_TMPDIR`) instead of tmpfs. Call it before the first check; later
/// calls change nothing.
pub fn keep_station_in(dir: &Path) {
    let _ = SCRATCH.set(dir.to_path_buf());
}

/// The station's folder: `antenne-fuzz-station/<pid>` under [`keep_station_in`]'s folder,
/// else on tmpfs when there is one. A static is never dropped (a `TempDir` would leak), so
/// each start removes the folders of processes that are gone.
fn station_dir() -> PathBuf {
    let base = match SCRATCH.get() {
        Some(dir) => dir.clone(),
        None if Path::new("/dev/shm").is_dir() => PathBuf::from("/dev/shm"),
        None => std::env::temp_dir(),
    };
    let root = base.join("antenne-fuzz-station");
    if let Ok(entries) = std::fs::read_dir(&root) {
        for e in entries.flatten() {
            if !Path::new("/proc").join(e.file_name()).exists() {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
    let dir = root.join(std::process::id().to_string());
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("station folder");
    dir
}

const SECRET: &str = "ant_fuzz_operator_0123456789abcdef";

fn station() -> &'static Station {
    static STATION: OnceLock<Station> = OnceLock::new();
    STATION.get_or_init(|| {
        let repo = crate::repo();
        let dir = station_dir();
        let settings = Settings {
            process: ProcessSettings {
                listen: "127.0.0.1:0".parse().expect("address"),
                public_url: "http://radio.test".into(),
                data_dir: dir.join("data"),
                media_dir: repo.join("media"),
                schedule: repo.join("schedules/weekly.toml"),
                upload_limit_bytes: 1 << 20,
                ..Default::default()
            },
            ..Settings::default()
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let state = rt
            .block_on(AppState::open(settings))
            .expect("station opens");
        state
            .catalog()
            .add_token(
                "fuzz",
                &antenne::catalog::hash_secret(SECRET),
                &antenne::catalog::Grant::default(),
                Timestamp::now(),
            )
            .expect("token");
        Station { rt, state }
    })
}

/// Sends one request through the router; the status and the body (read to the end).
fn send(req: Request<Body>) -> (u16, Vec<u8>) {
    let st = station();
    st.rt.block_on(async {
        let resp = antenne::http::router(st.state.http())
            .oneshot(req)
            .await
            .expect("the router is infallible");
        let status = resp.status().as_u16();
        let body = resp
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes().to_vec())
            .unwrap_or_default();
        (status, body)
    })
}

/// Splits `data` at the first `\n` (at most `max` bytes before it).
fn split_line(data: &[u8], max: usize) -> (&[u8], &[u8]) {
    match data.iter().take(max + 1).position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (&[], data),
    }
}

/// `upload_meta`: the first byte picks the door.
/// - `0`: a tus `Upload-Metadata` header value through `http::parse_tus_metadata`, then
///   `intake::validate`, as `POST /api/uploads` does;
/// - `1`: a watch-folder sidecar `.toml` through `watch::sidecar_fields`, then
///   `intake::validate`, as the watch folder does;
/// - otherwise: `POST /api/episodes` through the real router (auth, multer, the field limits,
///   staging, validation, storage): the first line is the multipart boundary, the rest the
///   body, sent in chunks of a size set by the first byte. The answer must be a 2xx or a 4xx
///   with a JSON body, never a 500.
pub fn upload_meta(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let known: Vec<String> = ["la-matinale", "fil-des-quartiers"]
        .map(String::from)
        .to_vec();
    match mode {
        0 => {
            let Ok(raw) = std::str::from_utf8(rest) else {
                return;
            };
            // Only what a header value can carry reaches the handler.
            if HeaderValue::from_str(raw).is_err() {
                return;
            }
            if let Ok(fields) = antenne::http::parse_tus_metadata(raw) {
                check_metadata(&fields, &known);
            }
        }
        1 => {
            let text = String::from_utf8_lossy(rest);
            let mut fields = vec![
                ("show".to_string(), "la-matinale".to_string()),
                ("title".to_string(), "from the file name".to_string()),
            ];
            match watch::sidecar_fields(&text, "episode.toml") {
                Ok(f) => {
                    fields.extend(f);
                    check_metadata(&fields, &known);
                }
                Err(errors) => assert!(!errors.is_empty()),
            }
        }
        _ => {
            let (boundary, body) = split_line(rest, 70);
            let Ok(boundary) = std::str::from_utf8(boundary) else {
                return;
            };
            let Ok(ct) =
                HeaderValue::from_str(&format!("multipart/form-data; boundary={boundary}"))
            else {
                return;
            };
            let chunk = usize::from(mode).max(1) * 7;
            let chunks: Vec<Result<bytes::Bytes, std::io::Error>> = body
                .chunks(chunk)
                .map(|c| Ok(bytes::Bytes::copy_from_slice(c)))
                .collect();
            let req = Request::post("/api/episodes")
                .header("content-type", ct)
                .header("authorization", format!("Bearer {SECRET}"))
                .header("content-length", body.len())
                .body(Body::from_stream(futures_util::stream::iter(chunks)))
                .expect("request");
            let (status, answer) = send(req);
            assert!(
                (200..300).contains(&status) || (400..500).contains(&status),
                "POST /api/episodes answered {status}: {}",
                String::from_utf8_lossy(&answer)
            );
            assert!(
                serde_json::from_slice::<serde_json::Value>(&answer).is_ok(),
                "the answer is not JSON: {}",
                String::from_utf8_lossy(&answer)
            );
        }
    }
}

/// `intake::validate` on raw fields: accepted metadata holds the promised invariants.
fn check_metadata(fields: &[(String, String)], known: &[String]) {
    for shows in [None, Some(known)] {
        match intake::validate(fields, shows) {
            Ok(m) => {
                assert!(intake::is_slug(&m.show), "show {:?}", m.show);
                assert!(!m.title.is_empty() && !m.title.chars().any(char::is_control));
                assert!(m.title.chars().count() <= intake::MAX_TITLE_CHARS);
                assert!(m.description.chars().count() <= intake::MAX_DESCRIPTION_CHARS);
                if let Some(d) = &m.date {
                    assert!(d.parse::<jiff::civil::Date>().is_ok(), "date {d:?}");
                }
            }
            Err(errors) => assert!(!errors.is_empty()),
        }
    }
}

/// `http_headers`: the first byte picks the header.
/// - `0`: an ICY title through `icy::encode_block`, interleaved with audio by `Interleaver` at
///   chunk sizes from the input and read back by `icy::Reader`: the block is well formed, the
///   title reads back (escaped), audio comes back byte-exact;
/// - `1`: a `Range` header and a body length through `conditional::evaluate_range` (a 206
///   range lies inside the body), and `If-None-Match`/`If-Modified-Since` through
///   `not_modified`;
/// - `2`: an Icecast server's answer through `icecast::read_status`, as a push session reads
///   it, and each line through `parse_status`;
/// - `3`: an Icecast URL and title through `Endpoint::parse`, `source_request` and
///   `metadata_request`: the request head is one head (no injected line or header);
/// - otherwise: `HEAD /stream` (`Icy-MetaData`), `GET /feed.xml` (`Range`, `If-None-Match`,
///   `If-Modified-Since`) and `GET /api/now` through the real router with the input's lines as
///   header values: never a 5xx.
pub fn http_headers(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode {
        0 => icy_roundtrip(rest),
        1 => {
            let (len, header) = match rest.split_first_chunk::<8>() {
                Some((len, header)) => (u64::from_le_bytes(*len), header),
                None => return,
            };
            let header = String::from_utf8_lossy(header);
            match conditional::evaluate_range(Some(&header), len) {
                RangeOutcome::Partial { start, end } => {
                    assert!(
                        start <= end && end < len,
                        "{header:?} on {len}: {start}-{end}"
                    );
                    let _ = conditional::content_range(start, end, len);
                }
                RangeOutcome::Full | RangeOutcome::Unsatisfiable => {}
            }
            let modified = now();
            let etag = conditional::file_etag(len, modified);
            let _ = conditional::not_modified(Some(&header), None, &etag, modified);
            let _ = conditional::not_modified(None, Some(&header), &etag, modified);
            if let Some(t) = conditional::parse_http_date(&header) {
                let _ = t.as_second();
            }
        }
        2 => {
            let endpoint = icecast::Endpoint {
                host: "icecast.test".into(),
                port: 8000,
                mount: "/live.mp3".into(),
                user: "source".into(),
                password: "hackme".into(),
            };
            let mut reader = rest;
            let rt = tokio::runtime::Builder::new_current_thread()
                .build()
                .expect("runtime");
            let outcome = rt.block_on(icecast::read_status(&endpoint, &mut reader));
            if let Ok(Ok(())) = outcome {
                // Accepted only on a 2xx status line.
                let text = String::from_utf8_lossy(rest);
                assert!(
                    text.lines()
                        .any(|l| matches!(icecast::parse_status(l.trim()), Some(200..=299))),
                    "accepted without a 2xx status line"
                );
            }
            for line in String::from_utf8_lossy(rest).lines().take(16) {
                if let Some(code) = icecast::parse_status(line) {
                    assert!((100..600).contains(&code));
                }
            }
        }
        3 => {
            let text = String::from_utf8_lossy(rest);
            let mut parts = text.splitn(3, '\n');
            let url = parts.next().unwrap_or_default().to_string();
            let title = parts.next().unwrap_or_default();
            let password = parts.next().unwrap_or_default().to_string();
            let target = IcecastTarget {
                url,
                user: String::new(),
                password,
                stream: "mp3".into(),
            };
            let Ok(endpoint) = icecast::Endpoint::parse(&target) else {
                return;
            };
            let info = StationInfo {
                name: title.to_string(),
                description: title.to_string(),
                genre: "Community".into(),
                url: "http://radio.test".into(),
                bitrate_kbps: 128,
                sample_rate: 44_100,
            };
            for head in [
                endpoint.source_request(&info, "audio/mpeg"),
                endpoint.metadata_request(title),
            ] {
                assert_one_head(&head);
            }
        }
        _ => router_headers(rest),
    }
}

/// A request head: CRLF-terminated lines, no bare CR or LF, one blank line at the very end.
fn assert_one_head(head: &str) {
    let body = head
        .strip_suffix("\r\n\r\n")
        .unwrap_or_else(|| panic!("head does not end with a blank line: {head:?}"));
    for line in body.split("\r\n") {
        assert!(
            !line.is_empty() && !line.contains(['\r', '\n']),
            "injected line in {head:?}"
        );
    }
    let request_line = body.split("\r\n").next().unwrap_or_default();
    assert_eq!(
        request_line.split(' ').count(),
        3,
        "request line {request_line:?} is not METHOD TARGET VERSION"
    );
}

fn icy_roundtrip(data: &[u8]) {
    let (sizes, title) = data.split_at(data.len().min(4));
    let title = String::from_utf8_lossy(title);
    let block = icy::encode_block(&title);
    assert_eq!(usize::from(block[0]) * 16 + 1, block.len());
    assert!(block.len() <= icy::MAX_BLOCK + 1);
    let payload = std::str::from_utf8(&block[1..])
        .expect("UTF-8 block")
        .trim_end_matches('\0');
    let shown = icy::stream_title(payload).expect("StreamTitle='...';");
    assert!(
        icy::escape(&title).starts_with(shown),
        "title {title:?} read back as {shown:?}"
    );
    // Audio through the interleaver in chunks sized by the input, read back exactly.
    let mut il = icy::Interleaver::default();
    let mut wire: Vec<bytes::Bytes> = Vec::new();
    let mut audio = Vec::new();
    for (i, &s) in sizes.iter().cycle().take(12).enumerate() {
        let n = usize::from(s) * 97 + i;
        let chunk: Vec<u8> = (0..n).map(|k| (k + i) as u8).collect();
        audio.extend_from_slice(&chunk);
        let version = (i / 5) as u64;
        let b = block.clone();
        il.push(
            bytes::Bytes::from(chunk),
            || (version, b.clone()),
            &mut wire,
        );
    }
    let mut reader = icy::Reader::new();
    for piece in &wire {
        reader.push(piece);
    }
    assert_eq!(reader.audio, audio, "audio changed by the interleaver");
    for (_, text) in &reader.blocks {
        assert_eq!(text, payload);
    }
}

fn router_headers(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.lines();
    let mut next = || HeaderValue::from_str(lines.next().unwrap_or_default()).ok();
    let (icy_meta, range, inm, ims) = (next(), next(), next(), next());
    let with = |mut r: axum::http::request::Builder| {
        for (name, value) in [
            ("icy-metadata", &icy_meta),
            ("range", &range),
            ("if-none-match", &inm),
            ("if-modified-since", &ims),
        ] {
            if let Some(v) = value {
                r = r.header(name, v.clone());
            }
        }
        r.body(Body::empty()).expect("request")
    };
    for (method, uri) in [
        ("HEAD", "/stream"),
        ("GET", "/feed.xml"),
        ("HEAD", "/feed.xml"),
        ("GET", "/api/now"),
    ] {
        let (status, body) = send(with(Request::builder().method(method).uri(uri)));
        assert!(
            status < 500 || (uri == "/stream" && status == 503),
            "{method} {uri} answered {status}: {}",
            String::from_utf8_lossy(&body)
        );
    }
}

/// Longest audio one fuzz input may decode to: the ingest limit is 12 h, which a few bytes of
/// FLAC can claim; the fuzzer's time limit would then report long audio, not a hang.
pub const DECODE_MAX_S: f64 = 30.0;

/// `decode`: arbitrary bytes through Antenne's decode and analysis (`audio::analyze_source`:
/// symphonia probe and decode, downmix, resample to the station rate, EBU R128 analysis with
/// excerpts) inside `audio::render::contained`, exactly as an ingest job runs it; the first
/// byte picks the file-name extension (the probe hint) and, with its top bit, a seek as
/// playout makes. The property: the call returns (`Ok` or `Err`); a panic in a decoder is
/// contained, never the caller's.
pub fn decode(data: &[u8]) {
    install_panic_filter();
    let Some((&first, bytes)) = data.split_first() else {
        return;
    };
    const EXTS: [&str; 10] = [
        "bin", "wav", "mp3", "flac", "ogg", "m4a", "mka", "aiff", "caf", "opus",
    ];
    let label = PathBuf::from(format!("upload.{}", EXTS[usize::from(first & 0x0f) % 10]));
    let seek = first & 0x80 != 0;
    let bytes = bytes.to_vec();
    let rate = Settings::default().station.sample_rate;
    let l = label.clone();
    let result = antenne::audio::render::contained(&label, move || {
        if seek {
            use antenne::audio::PcmSource;
            let source = Box::new(Cursor::new(bytes));
            let mut src = antenne::audio::decode::open_station_source(source, &l, rate)?;
            src.seek(u64::from(rate) / 2)?;
            let mut out = Vec::new();
            for _ in 0..4 {
                if src.read(&mut out, 4096)? == 0 {
                    break;
                }
                out.clear();
            }
            Ok(())
        } else {
            antenne::audio::analyze_source(
                Box::new(Cursor::new(bytes)),
                &l,
                rate,
                true,
                DECODE_MAX_S,
            )
            .map(|a| {
                assert!(
                    a.report.duration_frames <= (DECODE_MAX_S * f64::from(rate)) as u64 + 65_536
                );
            })
        }
    });
    if let Err(e) = result {
        let _ = e.to_string();
    }
}

/// Under libFuzzer every panic aborts (its hook), even one `contained` would catch. A panic on
/// the audio job thread is the contained case: it is reported on stderr (a third-party bug
/// worth knowing) and left to `contained`; any other panic still aborts.
fn install_panic_filter() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if std::thread::current().name() == Some("audio-job") {
                eprintln!("CONTAINED PANIC: {info}");
            } else {
                previous(info);
            }
        }));
    });
}
