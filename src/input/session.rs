//! One source client's connection, from its request head to its last byte.
//!
//! 1. The head (within `head_timeout`), then the credentials: a missing, wrong or revoked
//!    token gets the same bare `401`, later each time for an address that keeps failing
//!    (a request with no credentials at all is a client's challenge, never slowed).
//! 2. [`super::access::admit`]: in the show's live slot or its pre-roll, or an operator's
//!    override; else `403` with the reason and the next live slot.
//! 3. The input: free, or held by this show's dropped source within its grace (then this
//!    connection resumes it: no second switch on air); held by another source: `403`.
//! 4. `100 Continue` (PUT with `Expect`) or `200 OK`, then the bytes go to the pipeline
//!    thread until the client closes, stays silent for `stall`, or its slot ends.
//! 5. The input's place is kept for `grace`; after it, the planner puts the slot's underrun
//!    on air. A source dropped for its silence (`stall`) gets no grace: it has held the air
//!    silent long enough already.
//!
//! A metadata update (`GET /admin/metadata?mode=updinfo&song=…`, as BUTT and Mixxx send
//! it) sets the title on air, with the same credentials.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use jiff::{SignedDuration, Timestamp};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::access::{self, Admission};
use super::pipeline::{self, Ended, PipelineConfig};
use super::protocol::{self, Answer, Head};
use super::record::{Recording, RecordingMeta};
use super::status::{Connected, SourceStats};
use super::{Current, LiveService, MOUNT};
use crate::catalog::TokenRecord;
use crate::playout::LiveWriter;

/// A source client's connection: a TCP stream on air, an in-memory pipe in tests (whose
/// timing then follows a paused clock alone).
pub trait Connection: AsyncRead + AsyncWrite + Unpin + Send {}

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Connection for S {}

/// Serves one connection whose first bytes are a source client's.
pub async fn handle(service: LiveService, mut stream: impl Connection, peer: SocketAddr) {
    let timeout = service.0.config.head_timeout;
    let head = match tokio::time::timeout(timeout, read_head(&mut stream)).await {
        Ok(Ok(Some(h))) => h,
        Ok(Ok(None)) | Err(_) => return,
        Ok(Err(e)) => {
            let _ = answer(&mut stream, &Answer::BadRequest(e.to_string())).await;
            return;
        }
    };
    let (head, body) = head;
    let result = match (head.method.as_str(), head.path.as_str()) {
        ("GET", "/admin/metadata") => metadata(&service, &head, peer).await,
        ("OPTIONS", "*") => Answer::Options,
        ("SOURCE" | "PUT", path) if is_mount(path) => {
            source(&service, &mut stream, head, body, peer).await;
            return;
        }
        _ => Answer::NotFound,
    };
    let _ = answer(&mut stream, &result).await;
}

/// `/live`, or `/live.<ext>` (ffmpeg's and Liquidsoap's examples name mounts so).
fn is_mount(path: &str) -> bool {
    path == MOUNT
        || path
            .strip_prefix(MOUNT)
            .and_then(|rest| rest.strip_prefix('.'))
            .is_some_and(|ext| !ext.is_empty() && ext.chars().all(|c| c.is_ascii_alphanumeric()))
}

async fn answer(stream: &mut impl Connection, a: &Answer) -> std::io::Result<()> {
    stream.write_all(&a.to_bytes()).await?;
    stream.flush().await
}

/// Reads the head; returns it and the body bytes that came with it.
async fn read_head(
    stream: &mut impl Connection,
) -> Result<Option<(Head, Bytes)>, protocol::HeadError> {
    let mut buf = BytesMut::with_capacity(2048);
    loop {
        match stream.read_buf(&mut buf).await {
            Ok(0) | Err(_) => return Ok(None),
            Ok(_) => {}
        }
        if let Some((head, len)) = Head::parse(&buf)? {
            let body = buf.split_off(len).freeze();
            return Ok(Some((head, body)));
        }
    }
}

/// The token behind a request's credentials, slowed down for an address that keeps failing.
/// A request with no credentials at all is a challenge (libshout, behind ices2 and Mixxx,
/// first asks without them and sends them on the `401`): answered `401` at once, neither
/// counted nor slowed, since it guesses nothing.
async fn authenticate(service: &LiveService, head: &Head, peer: SocketAddr) -> Option<TokenRecord> {
    if head.header("authorization").is_none() {
        tracing::debug!(peer = %peer.ip(), "live: a request without credentials (a challenge)");
        return None;
    }
    let delay = service.0.throttle.delay(peer.ip(), Instant::now());
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let (user, password) = head.credentials().unwrap_or_default();
    let catalog = service.0.catalog.clone();
    let found = if password.is_empty() {
        None
    } else {
        tokio::task::spawn_blocking(move || catalog.token_for_secret(&password))
            .await
            .ok()
            .and_then(Result::ok)
            .flatten()
    };
    match found {
        Some(token) => {
            service.0.throttle.succeeded(peer.ip());
            tracing::debug!(token = %token.name, user = %protocol::printable(&user), "live: credentials accepted");
            Some(token)
        }
        None => {
            service.0.throttle.failed(peer.ip(), Instant::now());
            service
                .0
                .counters
                .unauthorized
                .fetch_add(1, Ordering::Relaxed);
            tracing::warn!(peer = %peer.ip(), "live: refused: unknown or revoked credentials");
            None
        }
    }
}

async fn metadata(service: &LiveService, head: &Head, peer: SocketAddr) -> Answer {
    if head.param("mode") != Some("updinfo") {
        return Answer::BadRequest("only mode=updinfo is supported".into());
    }
    if head.param("mount").is_some_and(|m| !is_mount(m)) {
        return Answer::NotFound;
    }
    let Some(token) = authenticate(service, head, peer).await else {
        return Answer::Unauthorized;
    };
    let holder = service
        .0
        .current
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .as_ref()
        .map(|c| c.connected.token.clone());
    let allowed = token.live && (token.is_operator() || holder.as_deref() == Some(&token.name));
    if !allowed {
        return Answer::Forbidden("this token is not the one on air".into());
    }
    let song = head
        .param("song")
        .map(protocol::printable)
        .unwrap_or_default();
    service
        .0
        .input
        .set_title((!song.is_empty()).then_some(song.clone()));
    tracing::info!(title = %song, "live: metadata update");
    Answer::MetadataUpdated
}

/// What a connection that was let in gets.
struct Begun {
    writer: LiveWriter,
    stats: Arc<SourceStats>,
    generation: u64,
    on_air_at: Timestamp,
    ends_at: Option<Timestamp>,
    recording: Option<Recording>,
}

async fn source(
    service: &LiveService,
    stream: &mut impl Connection,
    head: Head,
    body: Bytes,
    peer: SocketAddr,
) {
    let Some(token) = authenticate(service, &head, peer).await else {
        let _ = answer(stream, &Answer::Unauthorized).await;
        return;
    };
    let (user, _) = head.credentials().unwrap_or_default();
    let now = service.0.clock.now();
    let schedule = service.0.schedule.borrow().schedule.clone();
    let until = head
        .param("until")
        .and_then(|t| access::until_from_clock(t, &schedule, now));
    let preroll = SignedDuration::try_from(service.0.config.preroll).unwrap_or_default();
    let admission = match access::admit(&token, &user, &schedule, now, preroll, until) {
        Ok(a) => a,
        Err(refusal) => {
            service.0.counters.refused.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(token = %token.name, "live: refused: {refusal}");
            let _ = answer(stream, &Answer::Forbidden(refusal.to_string())).await;
            return;
        }
    };
    let software = head.header("user-agent").map(protocol::printable);
    let begun = match begin(service, &token, &admission, &schedule, software, now) {
        Ok(b) => b,
        Err(why) => {
            service.0.counters.refused.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(token = %token.name, "live: refused: {why}");
            let _ = answer(stream, &Answer::Forbidden(why)).await;
            return;
        }
    };
    if let Some(name) = head.stream_name() {
        begun.writer.input().set_title(Some(name));
    }
    // An override resumed within its grace keeps its start: no second switch.
    if let Admission::Override { until } = &admission
        && begun.writer.input().takeover().is_none()
    {
        let takeover = crate::playout::Takeover {
            since: begun.on_air_at,
            until: *until,
        };
        begun.writer.input().set_takeover(Some(takeover));
    }
    let go = if head.expects_continue() {
        Answer::Continue
    } else {
        Answer::Ok
    };
    if answer(stream, &go).await.is_err() {
        release(
            service,
            begun.generation,
            begun.writer,
            service.0.config.grace,
        );
        return;
    }
    tracing::info!(
        token = %token.name,
        peer = %peer.ip(),
        on_air_at = %begun.on_air_at,
        "live: source connected"
    );
    let ext = extension(&head);
    let recorder = begun.recording.as_ref().and_then(|r| match r.piece(&ext) {
        Ok(rec) => Some(rec),
        Err(e) => {
            tracing::error!("live: cannot record this show: {e}");
            None
        }
    });
    let frames = |d: Duration| (d.as_secs_f64() * f64::from(service.0.config.station_rate)) as u64;
    let config = PipelineConfig {
        station_rate: service.0.config.station_rate,
        target_lufs: service.0.config.target_lufs,
        ceiling_dbtp: service.0.config.ceiling_dbtp,
        cushion_frames: frames(service.0.config.cushion),
        max_cushion_frames: frames(service.0.config.max_cushion),
        on_air_at: begun.on_air_at,
        clock: service.0.clock.clone(),
        name: format!("live.{ext}").into(),
    };
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(256);
    let (writer, stats) = (begun.writer, begun.stats.clone());
    let audio = tokio::task::spawn_blocking(move || {
        let (ended, recorder) = pipeline::run(&config, rx, recorder, &writer, &stats);
        (ended, recorder, writer)
    });
    if !body.is_empty() {
        let _ = tx.send(body).await;
    }
    let why = stream_bytes(service, stream, &tx, begun.ends_at).await;
    drop(tx);
    match audio.await {
        Ok((ended, recorder, writer)) => {
            if let Some(r) = recorder {
                let _ = tokio::task::spawn_blocking(move || r.close()).await;
            }
            if let Ended::Undecodable(reason) = &ended {
                service
                    .0
                    .counters
                    .undecodable
                    .fetch_add(1, Ordering::Relaxed);
                tracing::warn!(token = %token.name, "live: the source's bytes are not audio: {reason}");
            }
            tracing::info!(token = %token.name, "live: source gone ({why})");
            // A stalled source already held the air, silent, for the whole stall limit: its
            // slot's underrun airs now rather than after a grace of more dead air.
            let grace = if why == STALLED {
                Duration::ZERO
            } else {
                service.0.config.grace
            };
            release(service, begun.generation, writer, grace);
        }
        Err(e) => {
            // A decoder panic on hostile bytes: the writer went with it (the input is free).
            tracing::error!(token = %token.name, "live: the decoder crashed: {e}");
            clear(service, begun.generation);
        }
    }
}

/// Why a source that kept its connection open but sent nothing for `stall` was dropped.
const STALLED: &str = "no audio for too long";

/// Copies the connection's bytes to the pipeline until it closes, stalls or must end.
async fn stream_bytes(
    service: &LiveService,
    stream: &mut impl Connection,
    tx: &tokio::sync::mpsc::Sender<Bytes>,
    ends_at: Option<Timestamp>,
) -> &'static str {
    let stall = service.0.config.stall;
    let end = async {
        match ends_at {
            Some(end) => {
                let left = end.duration_since(service.0.clock.now());
                let left = std::time::Duration::try_from(left).unwrap_or_default();
                tokio::time::sleep(left).await
            }
            None => std::future::pending().await,
        }
    };
    tokio::pin!(end);
    loop {
        let mut buf = BytesMut::with_capacity(16 * 1024);
        tokio::select! {
            read = tokio::time::timeout(stall, stream.read_buf(&mut buf)) => match read {
                Ok(Ok(0)) => return "disconnected",
                Ok(Ok(_)) => {
                    if tx.send(buf.freeze()).await.is_err() {
                        return "the decoder stopped";
                    }
                }
                Ok(Err(_)) => return "connection error",
                Err(_) => return STALLED,
            },
            () = &mut end => return "its slot ended",
            () = service.0.shutdown.cancelled() => return "the daemon stops",
        }
    }
}

/// The recording's extension, from the content type the client declared.
fn extension(head: &Head) -> String {
    let ct = head
        .header("content-type")
        .unwrap_or("")
        .to_ascii_lowercase();
    let from_path = head.path.strip_prefix("/live.").unwrap_or("");
    if ct.contains("mpeg") || ct.contains("mp3") {
        "mp3"
    } else if ct.contains("ogg") || ct.contains("opus") || ct.contains("vorbis") {
        "ogg"
    } else if ct.contains("aac") {
        "aac"
    } else if ct.contains("flac") {
        "flac"
    } else if ["mp3", "ogg", "opus", "aac", "flac"].contains(&from_path) {
        from_path
    } else {
        "bin"
    }
    .to_owned()
}

/// Takes the live input for an admitted source: a fresh connection, or the resumption of
/// this slot's dropped source within its grace.
fn begin(
    service: &LiveService,
    token: &TokenRecord,
    admission: &Admission,
    schedule: &crate::schedule::Schedule,
    software: Option<String>,
    now: Timestamp,
) -> Result<Begun, String> {
    let (show, occurrence, on_air_at, ends_at) = match admission {
        Admission::Slot(o) => (
            Some(o.show.clone()),
            Some(o.id.clone()),
            o.start.max(now),
            Some(o.end),
        ),
        Admission::Override { until } => (None, None, now, *until),
    };
    let mut current = service.0.current.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(c) = current.as_mut() {
        let same = c.connected.occurrence == occurrence
            && (occurrence.is_some() || c.connected.token == token.name);
        match (c.held.take(), same) {
            (Some(writer), true) => {
                // Back within the grace: resume, the programme never switched.
                c.generation = next_generation(service);
                c.connected.streaming = true;
                c.connected.token = token.name.clone();
                c.connected.software = software;
                service
                    .0
                    .counters
                    .reconnects
                    .fetch_add(1, Ordering::Relaxed);
                service
                    .0
                    .counters
                    .connections
                    .fetch_add(1, Ordering::Relaxed);
                return Ok(Begun {
                    writer,
                    stats: c.stats.clone(),
                    generation: c.generation,
                    on_air_at,
                    ends_at,
                    recording: c.recording.clone(),
                });
            }
            (Some(writer), false) => {
                // Another slot's source in its grace: that show is over.
                drop(writer);
                *current = None;
            }
            (None, _) => {
                return Err("Mountpoint in use: another source is on air".into());
            }
        }
    }
    let writer = service
        .0
        .input
        .connect()
        .ok_or_else(|| "Mountpoint in use: another source is on air".to_string())?;
    let keep = match admission {
        Admission::Slot(o) => o.record,
        Admission::Override { .. } => true,
    };
    let recording = if service.0.config.record && keep {
        let meta = recording_meta(schedule, admission, now);
        let key = occurrence
            .clone()
            .unwrap_or_else(|| format!("direct-{}", now.as_second()));
        match Recording::open(&service.0.config.data_dir, &key, &meta) {
            Ok(r) => Some(r),
            Err(e) => {
                tracing::error!("live: cannot record this show: {e}");
                None
            }
        }
    } else {
        None
    };
    let generation = next_generation(service);
    let stats = Arc::new(SourceStats::default());
    *current = Some(Current {
        connected: Connected {
            token: token.name.clone(),
            show,
            occurrence,
            since: now,
            on_air_at,
            ends_at,
            software,
            streaming: true,
        },
        stats: stats.clone(),
        generation,
        held: None,
        recording: recording.clone(),
    });
    service
        .0
        .counters
        .connections
        .fetch_add(1, Ordering::Relaxed);
    Ok(Begun {
        writer,
        stats,
        generation,
        on_air_at,
        ends_at,
        recording,
    })
}

/// What the episode of this live show will say.
fn recording_meta(
    schedule: &crate::schedule::Schedule,
    admission: &Admission,
    now: Timestamp,
) -> RecordingMeta {
    let tz = &schedule.station().timezone;
    let date = |t: Timestamp| tz.to_datetime(t).date();
    match admission {
        Admission::Slot(o) => {
            let show = schedule.show(&o.show);
            let title = show.map_or(o.show.clone(), |s| s.title.clone());
            let d = date(o.start);
            RecordingMeta {
                show: o.show.clone(),
                occurrence: Some(o.id.clone()),
                title: format!("{title} — en direct du {}", french_date(d)),
                date: d.to_string(),
                description: format!("Enregistré en direct le {}.", french_date(d)),
                ends_at: Some(o.end),
            }
        }
        Admission::Override { until } => {
            let d = date(now);
            // An override belongs to no show: its episode goes to the first show of the
            // schedule until an operator moves it.
            let show = schedule
                .shows()
                .first()
                .map(|s| s.slug.clone())
                .unwrap_or_default();
            RecordingMeta {
                show,
                occurrence: None,
                title: format!("Direct spécial du {}", french_date(d)),
                date: d.to_string(),
                description: format!("Direct spécial enregistré le {}.", french_date(d)),
                ends_at: *until,
            }
        }
    }
}

fn french_date(d: jiff::civil::Date) -> String {
    let month = crate::feed::text::MONTHS[0][(d.month() - 1) as usize];
    if d.day() == 1 {
        format!("1er {month} {}", d.year())
    } else {
        format!("{} {month} {}", d.day(), d.year())
    }
}

fn next_generation(service: &LiveService) -> u64 {
    service.0.generations.fetch_add(1, Ordering::Relaxed) + 1
}

/// The source of `generation` is gone: its place is kept for `grace`, then the input is
/// freed (the planner airs the slot's underrun) unless it came back.
fn release(service: &LiveService, generation: u64, writer: LiveWriter, grace: Duration) {
    {
        let mut current = service.0.current.lock().unwrap_or_else(|e| e.into_inner());
        match current.as_mut() {
            Some(c) if c.generation == generation => {
                c.held = Some(writer);
                c.connected.streaming = false;
            }
            _ => return,
        }
    }
    let s = service.clone();
    service.0.tasks.spawn(async move {
        tokio::select! {
            () = tokio::time::sleep(grace) => {}
            () = s.0.shutdown.cancelled() => {}
        }
        clear(&s, generation);
        let s2 = s.clone();
        let _ = tokio::task::spawn_blocking(move || s2.finish_recordings()).await;
    });
}

/// Frees the input if `generation` still holds it (its source did not come back, or its
/// decoder crashed): the held writer is dropped, the planner airs the slot's underrun.
fn clear(service: &LiveService, generation: u64) {
    let mut current = service.0.current.lock().unwrap_or_else(|e| e.into_inner());
    if current.as_ref().is_some_and(|c| c.generation == generation) {
        *current = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mounts_and_extensions() {
        for (path, ok) in [
            ("/live", true),
            ("/live.mp3", true),
            ("/live.ogg", true),
            ("/lives", false),
            ("/live.", false),
            ("/live.m/p", false),
            ("/stream", false),
        ] {
            assert_eq!(is_mount(path), ok, "{path}");
        }
        assert_eq!(
            french_date(jiff::civil::date(2026, 7, 14)),
            "14 juillet 2026"
        );
        assert_eq!(
            french_date(jiff::civil::date(2026, 12, 1)),
            "1er décembre 2026"
        );
    }
}
