//! The engine: a planner thread and a render thread, off the async runtime.
//!
//! - The **planner** keeps a [`Plan`] of the next minutes (default 10) from the render cursor,
//!   re-planning when half of it is used, when the schedule changes (a `watch` of
//!   `Arc<Schedule>`: changes take effect for every frame not yet rendered), and when an item
//!   fails on air. It is the only thread that touches the catalog or probes files.
//! - The **renderer** writes blocks of PCM to the [`PcmSink`], staying `lead` (default 200 ms)
//!   ahead of the [`Clock`]: it renders while behind `now + lead`, then sleeps. Files are
//!   decoded ahead by [`Prefetch`] workers started `prefetch` before they are due; the renderer
//!   waits for a decoder until its frames are due on the clock (the lead is that slack), and
//!   what is still missing then becomes silence: the item stays on the clock's time. It
//!   never waits on IO past a frame's due time, except in `wait_for_data` mode (simulations,
//!   where the clock is virtual).
//!
//! Files that were not normalised at ingest are decoded through [`super::level`]'s gain and
//! limiter (on the decoder thread). A crossfade's incoming track is added into the block
//! before the outgoing one ([`Plan::overlays`]). Every edge has a short fade; the output feeds the silence detector, whose alarm replaces
//! a silent show item by the fallback.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::watch;

use super::PlayoutConfig;
use super::clock::{Clock, Timebase};
use super::media::{FsMedia, Media, Opener};
use super::now::{NowPlaying, PlayoutStatus, StatusSnapshot};
use super::picks::Episodes;
use super::prefetch::Prefetch;
use super::programme::{Fades, Programme};
use super::timeline::{Key, Kind, Plan, Source, ramp};
use crate::audio::{PcmSink, SilenceDetector, SilenceEvent};
use crate::schedule::Schedule;

/// Real-time bound on every wait, so `stop()` is honoured promptly.
const POLL: Duration = Duration::from_millis(50);
/// How long the renderer waits at start for the planner's first plan (it takes milliseconds;
/// the bound is for a planner that cannot plan, whose time then plays as silence anyway).
const FIRST_PLAN_WAIT: Duration = Duration::from_secs(2);
/// How far the first plan reaches (later ones: `plan_ahead`).
const FIRST_PLAN_AHEAD: Duration = Duration::from_secs(60);
/// At start-up, how long the first blocks may wait for their decoders (see `Renderer::due`).
const START_GRACE: Duration = Duration::from_millis(500);

struct Ctl {
    plan: Arc<Plan>,
    /// Files that failed on air, for the planner.
    bad: Vec<(PathBuf, String)>,
    /// The renderer needs a plan covering its cursor.
    wanted: bool,
}

struct Shared {
    ctl: Mutex<Ctl>,
    changed: Condvar,
    stop: AtomicBool,
    status: Arc<PlayoutStatus>,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Ctl> {
        self.ctl.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The running engine. Dropping it stops it too.
pub struct PlayoutHandle {
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
    now_playing: watch::Receiver<NowPlaying>,
}

impl PlayoutHandle {
    /// Now-playing, updated at every change of item.
    pub fn now_playing(&self) -> watch::Receiver<NowPlaying> {
        self.now_playing.clone()
    }

    /// Live counters (shared; cheap to read at any time).
    pub fn status(&self) -> Arc<PlayoutStatus> {
        self.shared.status.clone()
    }

    pub fn snapshot(&self) -> StatusSnapshot {
        self.shared.status.snapshot()
    }

    /// Stops rendering (the sink is flushed) and joins both threads.
    pub fn stop(mut self) {
        self.shutdown();
    }

    /// Waits until the engine ends by itself (`run_until`), then joins.
    pub fn join(mut self) {
        if let Some(render) = self.threads.pop() {
            let _ = render.join();
        }
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        self.shared.changed.notify_all();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

impl Drop for PlayoutHandle {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Starts the engine with an explicit episode chooser and file opener (tests, benchmarks).
/// See [`super::start`] for the daemon's entry point.
pub fn start_with(
    config: PlayoutConfig,
    schedule: watch::Receiver<Arc<Schedule>>,
    episodes: Arc<dyn Episodes>,
    opener: Opener,
    sink: Box<dyn PcmSink>,
    clock: Arc<dyn Clock>,
) -> std::io::Result<PlayoutHandle> {
    let tb = Timebase::unix(config.sample_rate);
    let status = Arc::new(PlayoutStatus::default());
    let first = tb.frame_containing(clock.now());
    status.cursor.store(first, Ordering::Relaxed);
    let shared = Arc::new(Shared {
        ctl: Mutex::new(Ctl {
            plan: Arc::new(Plan::default()),
            bad: Vec::new(),
            wanted: true,
        }),
        changed: Condvar::new(),
        stop: AtomicBool::new(false),
        status,
    });
    let (np_tx, now_playing) = watch::channel(NowPlaying::idle());
    let planner = {
        let shared = shared.clone();
        let config = config.clone();
        let opener = opener.clone();
        std::thread::Builder::new()
            .name("playout-plan".into())
            .spawn(move || plan_loop(&config, schedule, episodes.as_ref(), opener, &shared))?
    };
    let render = {
        let shared = shared.clone();
        let mut renderer = Renderer {
            tb,
            detector: silence_detector(&config),
            airplay: super::airplay::Tap::new(config.airplay.clone()),
            config,
            clock,
            sink,
            shared,
            opener,
            prefetches: HashMap::new(),
            failed: HashSet::new(),
            np_tx,
            live_join: None,
            buf: Vec::new(),
            at: first,
            started: std::time::Instant::now(),
        };
        std::thread::Builder::new()
            .name("playout-render".into())
            .spawn(move || renderer.run(first))
    };
    let render = match render {
        Ok(t) => t,
        Err(e) => {
            shared.stop.store(true, Ordering::Relaxed);
            shared.changed.notify_all();
            let _ = planner.join();
            return Err(e);
        }
    };
    Ok(PlayoutHandle {
        shared,
        threads: vec![planner, render],
        now_playing,
    })
}

fn silence_detector(config: &PlayoutConfig) -> SilenceDetector {
    let tb = Timebase::unix(config.sample_rate);
    SilenceDetector::new(
        config.silence_threshold_dbfs,
        tb.frames_in(config.silence_hold),
    )
}

fn plan_loop(
    config: &PlayoutConfig,
    mut schedule_rx: watch::Receiver<Arc<Schedule>>,
    episodes: &dyn Episodes,
    opener: Opener,
    shared: &Shared,
) {
    let tb = Timebase::unix(config.sample_rate);
    let mut media = FsMedia::new(opener, config.sample_rate);
    let mut schedule = schedule_rx.borrow_and_update().clone();
    let ahead = tb.frames_in(config.plan_ahead).max(1);
    // The first plan covers a minute only: planning a crossfaded rotation measures each
    // track's length and silent ends, which for ten minutes of short tracks took seconds that
    // the first audio waited for (issue 18: start-up). The full plan follows at once, since
    // a plan this short is already stale.
    let first = ahead.min(tb.frames_in(FIRST_PLAN_AHEAD));
    let horizon = |version: u64| if version == 0 { first } else { ahead };
    let fades = Fades {
        edge: tb.frames_in(config.edge_fade),
        overrun: tb.frames_in(config.overrun_fade),
    };
    let mut version = 0;
    let mut planned = (0u64, 0u64);
    let mut live_generation = config.live.generation();
    while !shared.stop.load(Ordering::Relaxed) {
        let (bad, wanted) = {
            let mut ctl = shared.lock();
            (
                std::mem::take(&mut ctl.bad),
                std::mem::take(&mut ctl.wanted),
            )
        };
        for (path, reason) in &bad {
            media.mark_bad(path, reason);
        }
        let reloaded = schedule_rx.has_changed().unwrap_or(false);
        if reloaded {
            schedule = schedule_rx.borrow_and_update().clone();
            tracing::info!("playout: schedule reloaded; re-planning from the next block");
        }
        let cursor = shared.status.cursor.load(Ordering::Relaxed);
        let stale = cursor < planned.0 || cursor + ahead / 2 > planned.1;
        // A live source connected or dropped: its slots change from the next block.
        let live_changed = config.live.generation() != live_generation;
        live_generation = config.live.generation();
        if reloaded || !bad.is_empty() || wanted || stale || live_changed {
            let segments = Programme {
                schedule: &schedule,
                timebase: tb,
                media_dir: &config.media_dir,
                media: &mut media,
                episodes,
                fades,
                live: &config.live,
            }
            .plan(cursor, cursor + horizon(version));
            version += 1;
            planned = (cursor, cursor + horizon(version - 1));
            shared.lock().plan = Arc::new(Plan { segments, version });
            shared.changed.notify_all();
        }
        let ctl = shared.lock();
        if ctl.bad.is_empty() && !ctl.wanted && !shared.stop.load(Ordering::Relaxed) {
            let _ = shared.changed.wait_timeout(ctl, POLL * 4);
        }
    }
}

struct Renderer {
    config: PlayoutConfig,
    tb: Timebase,
    clock: Arc<dyn Clock>,
    sink: Box<dyn PcmSink>,
    shared: Arc<Shared>,
    opener: Opener,
    /// Decoders of the current and upcoming file segments, with the frame each starts at.
    prefetches: HashMap<Key, (Prefetch, u64)>,
    /// Segments whose file failed, silent until the planner replaces them.
    failed: HashSet<Key>,
    np_tx: watch::Sender<NowPlaying>,
    detector: SilenceDetector,
    /// The live segment being read and the frame the renderer joined it at.
    live_join: Option<(Key, u64)>,
    /// What airs, for the airplay log.
    airplay: super::airplay::Tap,
    buf: Vec<f32>,
    /// The first frame of the block in `buf`.
    at: u64,
    /// When the engine started (see [`Renderer::due`]).
    started: std::time::Instant,
}

impl Renderer {
    fn stopping(&self) -> bool {
        self.shared.stop.load(Ordering::Relaxed)
    }

    fn run(&mut self, mut cursor: u64) {
        let tb = self.tb;
        let status = self.shared.status.clone();
        let lead = tb.frames_in(self.config.lead);
        let limit = tb.frames_in(self.config.catch_up_limit);
        let block = self.config.block_frames.max(1) as u64;
        let until = self.config.run_until.map(|t| tb.frame_at(t));
        if !self.config.wait_for_data {
            self.await_first_plan(cursor);
        }
        self.started = std::time::Instant::now();
        while !self.stopping() {
            if until.is_some_and(|u| cursor >= u) {
                break;
            }
            let now = self.clock.now();
            let now_f = tb.frame_containing(now);
            if now_f > cursor + limit {
                // A stall longer than any buffer (suspend, overload): stay clock-true.
                tracing::warn!(
                    frames = now_f - cursor,
                    "playout: fell behind the clock; skipping ahead"
                );
                status
                    .skipped_frames
                    .fetch_add(now_f - cursor, Ordering::Relaxed);
                cursor = now_f;
                status.cursor.store(cursor, Ordering::Relaxed);
            }
            if cursor < now_f + lead {
                let n = until.map_or(block, |u| block.min(u - cursor));
                self.render(cursor, n as usize);
                self.sink.write(cursor, &self.buf);
                cursor += n;
                status.cursor.store(cursor, Ordering::Relaxed);
                status.frames_rendered.fetch_add(n, Ordering::Relaxed);
                let ahead = tb.instant(cursor).duration_since(now);
                status
                    .lead_ms
                    .store(ahead.as_millis() as i64, Ordering::Relaxed);
                continue;
            }
            // Wake when the lead has shrunk by one frame (+1 ns: `instant` rounds down).
            let wake = tb.instant(cursor + 1 - lead) + jiff::SignedDuration::from_nanos(1);
            self.clock.sleep_until(wake, POLL);
        }
        self.airplay.finish();
        self.sink.finish();
    }

    /// At start, waits (up to [`FIRST_PLAN_WAIT`]) for the planner's first plan covering
    /// `f`: rendering before it would play its time as silence (counted late).
    fn await_first_plan(&self, f: u64) {
        let deadline = std::time::Instant::now() + FIRST_PLAN_WAIT;
        let mut ctl = self.shared.lock();
        while ctl.plan.at(f).is_none() && !self.stopping() {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return;
            }
            ctl.wanted = true;
            self.shared.changed.notify_all();
            ctl = self
                .shared
                .changed
                .wait_timeout(ctl, left.min(POLL))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// The current plan; in `wait_for_data` mode, one covering `f` (waits for the planner).
    fn plan_for(&self, f: u64, newer_than: u64) -> Arc<Plan> {
        let mut ctl = self.shared.lock();
        loop {
            let ok = ctl.plan.version > newer_than && ctl.plan.at(f).is_some();
            if ok || !self.config.wait_for_data || self.stopping() {
                if ctl.plan.at(f).is_none() {
                    ctl.wanted = true;
                    self.shared.changed.notify_all();
                }
                return ctl.plan.clone();
            }
            ctl.wanted = true;
            self.shared.changed.notify_all();
            ctl = self
                .shared
                .changed
                .wait_timeout(ctl, POLL)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// The real instant by which the block starting at frame `at` must be rendered: when the
    /// clock reaches it (the renderer stays up to `lead` ahead, so that is the slack a late
    /// decoder gets), and never before [`START_GRACE`] (or `lead`) after the first plan: at
    /// start-up nothing has aired yet, so the first audio may wait for decoders opening and
    /// seeking under load (a fresh start ingests its demo episodes on both cores) instead of
    /// airing as silence.
    fn due(&self, at: u64) -> std::time::Instant {
        let ahead = self.tb.instant(at).duration_since(self.clock.now());
        let ahead = std::time::Duration::try_from(ahead)
            .unwrap_or_default()
            .min(self.config.lead);
        let now = std::time::Instant::now();
        (now + ahead).max(self.started + self.config.lead.max(START_GRACE))
    }

    /// Renders frames `[at, at + n)` into `self.buf`.
    fn render(&mut self, at: u64, n: usize) {
        self.at = at;
        self.buf.clear();
        self.buf.resize(n * 2, 0.0);
        let end = at + n as u64;
        let status = self.shared.status.clone();
        let mut plan = self.plan_for(at, 0);
        let due = self.due(at);
        self.render_overlays(&plan, at, end);
        let mut f = at;
        while f < end {
            let Some(seg) = plan.at(f) else {
                if self.config.wait_for_data && !self.stopping() {
                    // Simulation: the plan ends inside this block; wait for the next one.
                    plan = self.plan_for(f, 0);
                    if plan.at(f).is_some() {
                        continue;
                    }
                }
                // The planner is late (or found nothing): silence up to the next segment.
                let next = plan.starting_in(f, end).next().map_or(end, |s| s.start);
                status.late_frames.fetch_add(next - f, Ordering::Relaxed);
                self.detect_silence(f, next, false, None);
                f = next;
                continue;
            };
            let m = seg.end.min(end);
            match &seg.source {
                // A live source names what airs (its stream name, its metadata updates).
                Source::Live { input } => {
                    match self.config.live.get(input).and_then(|l| l.title()) {
                        Some(title) => {
                            let item = super::timeline::Airing {
                                title,
                                ..(*seg.item).clone()
                            };
                            self.publish(seg.kind, &item);
                        }
                        None => self.publish(seg.kind, &seg.item),
                    }
                }
                _ => self.publish(seg.kind, &seg.item),
            }
            let lo = 2 * (f - at) as usize;
            let hi = 2 * (m - at) as usize;
            let mut filled_to = m;
            if let Source::Live { input } = &seg.source {
                self.render_live(input, seg, f, lo..hi);
            }
            if let Source::File { path, offset } = &seg.source {
                let key = seg.key();
                if !self.failed.contains(&key) {
                    let opener = self.config.levels.opener_for(&self.opener, seg, path);
                    let (prefetch, first) =
                        self.prefetches.entry(key.clone()).or_insert_with(|| {
                            let prefetch = Prefetch::start(
                                &opener,
                                path.clone(),
                                self.tb.rate(),
                                f,
                                offset + (f - seg.start),
                                seg.end - f,
                                self.config.decode_chunks,
                            );
                            (prefetch, f)
                        });
                    // Joined mid-segment (start-up, re-plan): an edge fade-in from there.
                    let join = if *first > seg.start { *first } else { u64::MAX };
                    let edge = self.tb.frames_in(self.config.edge_fade);
                    let gain = |x: u64| {
                        let j = if x >= join { ramp(x - join, edge) } else { 1.0 };
                        seg.gain(x) * j
                    };
                    let r = if self.config.wait_for_data {
                        prefetch.fill(f, &mut self.buf[lo..hi], true, gain)
                    } else {
                        // A decoder behind (descheduled by background work, opening a file
                        // joined under way) has until the frames are due, not a moment less.
                        prefetch.fill_until(f, &mut self.buf[lo..hi], due, gain)
                    };
                    status
                        .late_frames
                        .fetch_add(r.late as u64, Ordering::Relaxed);
                    if let Some(reason) = r.failed {
                        self.prefetches.remove(&key);
                        self.failed.insert(key);
                        status.failed_items.fetch_add(1, Ordering::Relaxed);
                        let version = plan.version;
                        {
                            let mut ctl = self.shared.lock();
                            ctl.bad.push((path.clone(), reason));
                            self.shared.changed.notify_all();
                        }
                        if self.config.wait_for_data {
                            // Simulation: play the replacement from the first unfilled frame.
                            filled_to = f + r.frames as u64;
                            self.airplay.aired(seg, f, filled_to);
                            let kind = seg.kind;
                            self.detect_silence(f, filled_to, kind == Kind::MeantSilence, None);
                            f = filled_to;
                            // Wait for a plan that no longer holds the failed segment.
                            let mut version = version;
                            loop {
                                plan = self.plan_for(f, version);
                                let stale =
                                    plan.at(f).is_some_and(|s| self.failed.contains(&s.key()));
                                if !stale || self.stopping() {
                                    break;
                                }
                                version = plan.version;
                            }
                            continue;
                        }
                    }
                }
            }
            let show_path = match (&seg.source, seg.kind) {
                (Source::File { path, .. }, Kind::Show) => Some(path.clone()),
                _ => None,
            };
            self.airplay.aired(seg, f, filled_to);
            self.detect_silence(f, filled_to, seg.kind == Kind::MeantSilence, show_path);
            f = m;
        }
        self.maintain_prefetches(&plan, end);
    }

    /// Adds the incoming track of each crossfade in `[at, end)` into `self.buf` (before the
    /// main pass adds the outgoing one, so the silence detector sees the sum).
    fn render_overlays(&mut self, plan: &Plan, at: u64, end: u64) {
        for (seg, until) in plan.overlays(at, end) {
            let (f, m) = (seg.start.max(at), until.min(end));
            let Source::File { path, offset } = &seg.source else {
                continue;
            };
            let key = seg.key();
            if self.failed.contains(&key) {
                continue;
            }
            let fresh = !self.prefetches.contains_key(&key);
            let opener = self.config.levels.opener_for(&self.opener, seg, path);
            let (prefetch, first) = self.prefetches.entry(key.clone()).or_insert_with(|| {
                let prefetch = Prefetch::start(
                    &opener,
                    path.clone(),
                    self.tb.rate(),
                    f,
                    offset + (f - seg.start),
                    seg.end - f,
                    self.config.decode_chunks,
                );
                (prefetch, f)
            });
            let join = if *first > seg.start { *first } else { u64::MAX };
            let edge = self.tb.frames_in(self.config.edge_fade);
            let gain = |x: u64| {
                let j = if x >= join { ramp(x - join, edge) } else { 1.0 };
                seg.gain(x) * j
            };
            let range = 2 * (f - at) as usize..2 * (m - at) as usize;
            let r = if fresh && !self.config.wait_for_data {
                // Joined mid-crossfade (start-up, re-plan): as in the main pass.
                let deadline = std::time::Instant::now() + self.config.lead / 2;
                prefetch.fill_until(f, &mut self.buf[range], deadline, gain)
            } else {
                prefetch.fill(f, &mut self.buf[range], self.config.wait_for_data, gain)
            };
            self.airplay.overlaid(seg, f);
            let status = &self.shared.status;
            status
                .late_frames
                .fetch_add(r.late as u64, Ordering::Relaxed);
            if let Some(reason) = r.failed {
                // Silent from here; the planner replaces it (the main pass would too).
                self.prefetches.remove(&key);
                self.failed.insert(key);
                status.failed_items.fetch_add(1, Ordering::Relaxed);
                let mut ctl = self.shared.lock();
                ctl.bad.push((path.clone(), reason));
                self.shared.changed.notify_all();
            }
        }
    }

    /// Reads live segment `seg`'s frames from `f` into `self.buf[range]`: an edge fade-in
    /// where the renderer joined it under way (a source connecting mid-slot).
    fn render_live(
        &mut self,
        input: &str,
        seg: &super::timeline::Segment,
        f: u64,
        range: std::ops::Range<usize>,
    ) {
        let Some(live) = self.config.live.get(input) else {
            return;
        };
        let key = seg.key();
        let join = match &self.live_join {
            Some((k, first)) if *k == key => *first,
            _ => {
                self.live_join = Some((key, f));
                f
            }
        };
        let edge = self.tb.frames_in(self.config.edge_fade);
        let join = if join > seg.start { join } else { u64::MAX };
        live.read(&mut self.buf[range], |k| {
            let x = f + k as u64;
            let j = if x >= join { ramp(x - join, edge) } else { 1.0 };
            seg.gain(x) * j
        });
    }

    /// Starts decoders for segments due within `prefetch`, drops those no longer planned.
    fn maintain_prefetches(&mut self, plan: &Plan, end: u64) {
        let horizon = end + self.tb.frames_in(self.config.prefetch);
        for seg in plan.starting_in(end, horizon) {
            if let Source::File { path, offset } = &seg.source {
                let key = seg.key();
                if !self.prefetches.contains_key(&key) && !self.failed.contains(&key) {
                    let opener = self.config.levels.opener_for(&self.opener, seg, path);
                    let prefetch = Prefetch::start(
                        &opener,
                        path.clone(),
                        self.tb.rate(),
                        seg.start,
                        *offset,
                        seg.len(),
                        self.config.decode_chunks,
                    );
                    self.prefetches.insert(key, (prefetch, seg.start));
                }
            }
        }
        let planned = |k: &Key| k.end > end && plan.holds(k);
        self.prefetches.retain(|k, _| planned(k));
        self.failed.retain(|k| k.end > end);
    }

    /// Passes frames `[from, to)` of `self.buf` (relative to the block) to the silence detector.
    fn detect_silence(&mut self, from: u64, to: u64, meant: bool, show_file: Option<PathBuf>) {
        let status = &self.shared.status;
        if meant {
            self.detector = silence_detector(&self.config);
            status.quiet_frames.store(0, Ordering::Relaxed);
            if status.silence_alarm.swap(false, Ordering::Relaxed) {
                tracing::info!("playout: silence alarm cleared (scheduled silence)");
            }
            return;
        }
        let lo = 2 * (from - self.at) as usize;
        let hi = 2 * (to - self.at) as usize;
        let event = self.detector.push(&self.buf[lo..hi]);
        status
            .quiet_frames
            .store(self.detector.quiet_frames(), Ordering::Relaxed);
        match event {
            Some(SilenceEvent::Started) => {
                status.silence_alarms.fetch_add(1, Ordering::Relaxed);
                status.silence_alarm.store(true, Ordering::Relaxed);
                let secs = self.tb.duration_of(self.detector.quiet_frames()).as_secs();
                tracing::error!(seconds = secs, "playout: sustained silence on air");
                if let Some(path) = show_file {
                    let mut ctl = self.shared.lock();
                    ctl.bad.push((path, format!("silent for {secs} s on air")));
                    self.shared.changed.notify_all();
                }
            }
            Some(SilenceEvent::Ended) => {
                status.silence_alarm.store(false, Ordering::Relaxed);
                tracing::info!("playout: sound is back on air");
            }
            None => {}
        }
    }

    fn publish(&mut self, kind: Kind, item: &super::timeline::Airing) {
        let now = NowPlaying::of(item, kind);
        let changed = self.np_tx.send_if_modified(|cur| {
            if *cur == now {
                return false;
            }
            *cur = now.clone();
            true
        });
        if changed {
            tracing::info!(title = %now.stream_title(), kind = now.kind, "playout: now playing");
            self.sink.title(&now.stream_title());
        }
    }
}
