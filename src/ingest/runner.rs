//! Worker threads that drain the catalog's job queue, and crash recovery at start.
//!
//! The daemon's workers run at the lowest priority the process can give them (`nice 19` and
//! the lowest best-effort IO priority, per thread on Linux, inherited by the threads a render
//! spawns): the playout shares the machine with them and must win every time, since its
//! deadline is the clock's and ingest's is only a volunteer's patience. On a two-core machine
//! the daemon runs one worker ([`workers_beside_playout`]): one render already spreads over
//! both cores.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::audio::RenderOptions;
use crate::catalog::{Catalog, Recovery};

use super::IngestError;
use super::job::{RENDITIONS, process_job};
use crate::clock::Clock;

/// A job interrupted this many times (a crash each time) is failed instead of retried.
pub const MAX_ATTEMPTS: u32 = 3;

/// At start: jobs left `processing` are re-queued (or failed after [`MAX_ATTEMPTS`]), and temp
/// files a crash left in the renditions folder are removed (never visible as episodes).
pub fn recover(catalog: &Catalog, clock: &dyn Clock) -> Result<Recovery, IngestError> {
    let r = catalog.recover_interrupted(MAX_ATTEMPTS, clock.now())?;
    if let Ok(entries) = std::fs::read_dir(catalog.data_dir().join(RENDITIONS)) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with('.')
                && name.ends_with(".tmp")
                && std::fs::remove_file(e.path()).is_ok()
            {
                tracing::info!(file = %format!("{RENDITIONS}/{name}"), "swept a temp file a crash left");
            }
        }
    }
    Ok(r)
}

/// Processes queued jobs on `workers` threads until the queue is empty (the CLI's way).
pub fn drain_queue(
    catalog: &Catalog,
    render: &RenderOptions,
    workers: usize,
    clock: &dyn Clock,
) -> Result<u32, IngestError> {
    let done = Arc::new(Mutex::new(0u32));
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers.max(1))
            .map(|_| {
                let done = done.clone();
                s.spawn(move || -> Result<(), IngestError> {
                    while let Some(job) = catalog.claim_next_job(clock.now())? {
                        process_job(catalog, render, &job, clock)?;
                        *done.lock().unwrap_or_else(|p| p.into_inner()) += 1;
                    }
                    Ok(())
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap_or(Err(IngestError::WorkerPanicked))?;
        }
        Ok(*done.lock().unwrap_or_else(|p| p.into_inner()))
    })
}

/// How many daemon workers leave the playout its share: half the cores (a render spreads
/// over two), one on a two-core machine, never more than two.
pub fn workers_beside_playout() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    (cores / 2).clamp(1, 2)
}

/// Lowers the calling thread's CPU and IO priority as far as an unprivileged process can (best
/// effort; Linux only, where both are per thread and inherited by the threads it spawns).
pub fn background_priority() {
    #[cfg(target_os = "linux")]
    {
        /// `IOPRIO_WHO_PROCESS` (a thread id) and the best-effort class at its lowest level
        /// (`IOPRIO_PRIO_VALUE(IOPRIO_CLASS_BE, 7)`): unlike the idle class, it cannot starve.
        const WHO_THREAD: libc::c_long = 1;
        const BEST_EFFORT_LOWEST: libc::c_long = (2 << 13) | 7;
        // SAFETY: both calls only change this thread's scheduling priorities; failure
        // leaves them unchanged.
        unsafe {
            let tid = libc::syscall(libc::SYS_gettid);
            libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, 19);
            libc::syscall(libc::SYS_ioprio_set, WHO_THREAD, tid, BEST_EFFORT_LOWEST);
        }
    }
}

/// Hands the memory a render freed back to the system. A render's threads allocate tens of
/// megabytes (decoders, meters, encoders) in malloc arenas of their own; glibc keeps what they
/// free for reuse, so a daemon that ingested once would otherwise stay that large for good.
/// (The daemon also calls it now and then: playout starts a decoder thread per item.)
pub fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free heap pages to the kernel.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Called by a worker after each job it ran (ready or failed).
pub type OnDone = Arc<dyn Fn() + Send + Sync>;

/// Long-lived workers for the daemon: they sleep until [`IngestRunner::notify`] (or a poll
/// interval) and stop on [`IngestRunner::shutdown`].
pub struct IngestRunner {
    wake: Arc<(Mutex<bool>, Condvar)>,
    stop: Arc<AtomicBool>,
    handles: Vec<JoinHandle<()>>,
}

impl IngestRunner {
    /// Starts `workers` threads at background priority ([`background_priority`]).
    pub fn start(
        catalog: Catalog,
        render: RenderOptions,
        workers: usize,
        clock: Arc<dyn Clock>,
    ) -> IngestRunner {
        Self::start_notifying(catalog, render, workers, clock, Arc::new(|| {}))
    }

    /// [`IngestRunner::start`], calling `on_done` after each job ends (ready or failed), e.g.
    /// to re-render the feeds.
    pub fn start_notifying(
        catalog: Catalog,
        render: RenderOptions,
        workers: usize,
        clock: Arc<dyn Clock>,
        on_done: OnDone,
    ) -> IngestRunner {
        let wake = Arc::new((Mutex::new(false), Condvar::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let handles = (0..workers.max(1))
            .map(|i| {
                let (catalog, render, clock) = (catalog.clone(), render.clone(), clock.clone());
                let (wake, stop, on_done) = (wake.clone(), stop.clone(), on_done.clone());
                std::thread::Builder::new()
                    .name(format!("ingest-{i}"))
                    .spawn(move || {
                        background_priority();
                        worker(catalog, render, clock, wake, stop, on_done)
                    })
                    .expect("spawn ingest worker")
            })
            .collect();
        IngestRunner {
            wake,
            stop,
            handles,
        }
    }

    /// A job was queued: wake the workers.
    pub fn notify(&self) {
        let (lock, cv) = &*self.wake;
        *lock.lock().unwrap_or_else(|p| p.into_inner()) = true;
        cv.notify_all();
    }

    /// [`IngestRunner::notify`] as a callback, for whoever queues episodes (uploads).
    pub fn waker(&self) -> Arc<dyn Fn() + Send + Sync> {
        let wake = self.wake.clone();
        Arc::new(move || {
            let (lock, cv) = &*wake;
            *lock.lock().unwrap_or_else(|p| p.into_inner()) = true;
            cv.notify_all();
        })
    }

    /// Asks the workers to stop after the job in hand, without waiting for them (the daemon's
    /// shutdown must not wait for a long render; a job cut short by the process exiting is
    /// retried at the next start).
    pub fn request_stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        self.notify();
    }

    /// Stops after the jobs in progress finish; an interrupted render would be retried anyway.
    pub fn shutdown(self) {
        self.stop.store(true, Ordering::SeqCst);
        self.notify();
        for h in self.handles {
            let _ = h.join();
        }
    }
}

fn worker(
    catalog: Catalog,
    render: RenderOptions,
    clock: Arc<dyn Clock>,
    wake: Arc<(Mutex<bool>, Condvar)>,
    stop: Arc<AtomicBool>,
    on_done: OnDone,
) {
    while !stop.load(Ordering::SeqCst) {
        match catalog.claim_next_job(clock.now()) {
            Ok(Some(job)) => {
                if let Err(e) = process_job(&catalog, &render, &job, &clock) {
                    tracing::error!(job = job.id, "ingest job: {e}");
                }
                release_freed_memory();
                on_done();
                continue;
            }
            Ok(None) => {}
            Err(e) => tracing::error!("claiming an ingest job: {e}"),
        }
        let (lock, cv) = &*wake;
        let mut woken = lock.lock().unwrap_or_else(|p| p.into_inner());
        if !*woken {
            woken = cv
                .wait_timeout(woken, Duration::from_secs(5))
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        *woken = false;
    }
}
