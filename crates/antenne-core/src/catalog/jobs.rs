//! Ingest jobs: the queue of episodes waiting to be processed, claimed one at a time by the
//! ingest workers, and recovered after a crash.

use rusqlite::{OptionalExtension, params};

use super::episodes::{COLUMNS, Loudness, from_row};
use super::{Catalog, Episode, Result};

/// A claimed job with the episode it processes.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub id: i64,
    pub attempts: u32,
    pub episode: Episode,
}

/// What a finished job publishes. The rendition file is already fsynced and renamed into place.
#[derive(Debug, Clone, PartialEq)]
pub struct Completed {
    /// Relative to `data_dir`.
    pub rendition_path: String,
    pub rendition_bytes: u64,
    pub duration_ms: u64,
    pub before: Loudness,
    pub after: Loudness,
    pub gain_db: f64,
}

/// What [`Catalog::recover_interrupted`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Recovery {
    pub requeued: u32,
    pub failed: u32,
}

fn set_loudness(prefix: &str) -> String {
    format!("{prefix}_lufs = ?, {prefix}_lra = ?, {prefix}_tp = ?, {prefix}_peak = ?")
}

impl Catalog {
    /// Claims the oldest queued job: it and its episode become `processing`.
    pub fn claim_next_job(&self, now: jiff::Timestamp) -> Result<Option<Job>> {
        self.write(|tx| {
            let Some((id, episode_id, attempts)) = tx
                .query_row(
                    "SELECT id, episode_id, attempts FROM jobs WHERE state = 'queued' ORDER BY id LIMIT 1",
                    [],
                    |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, u32>(2)?)),
                )
                .optional()?
            else {
                return Ok(None);
            };
            tx.execute(
                "UPDATE jobs SET state = 'processing', attempts = attempts + 1, started_at = ?2,
                    progress = 0 WHERE id = ?1",
                params![id, now.as_second()],
            )?;
            tx.execute(
                "UPDATE episodes SET status = 'processing', error = NULL, updated_at = ?2 WHERE id = ?1",
                params![episode_id, now.as_second()],
            )?;
            let episode = tx.query_row(
                &format!("SELECT {COLUMNS} FROM episodes WHERE id = ?1"),
                [&episode_id],
                from_row,
            )?;
            Ok(Some(Job {
                id,
                attempts: attempts + 1,
                episode,
            }))
        })
    }

    /// Progress of a running job, 0.0 to 1.0 (not fsync-critical, but still transactional).
    pub fn set_progress(&self, job_id: i64, progress: f64) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE jobs SET progress = ?2 WHERE id = ?1",
                params![job_id, progress.clamp(0.0, 1.0)],
            )?;
            Ok(())
        })
    }

    /// Progress of the latest job of an episode.
    pub fn job_progress(&self, episode_id: &str) -> Result<Option<f64>> {
        self.read(|c| {
            c.query_row(
                "SELECT progress FROM jobs WHERE episode_id = ?1 ORDER BY id DESC LIMIT 1",
                [episode_id],
                |r| r.get(0),
            )
            .optional()
        })
    }

    /// Marks a job done and its episode ready with its rendition, in one transaction.
    pub fn complete_job(&self, job_id: i64, done: &Completed, now: jiff::Timestamp) -> Result<()> {
        self.write(|tx| {
            let t = now.as_second();
            tx.execute(
                "UPDATE jobs SET state = 'done', progress = 1, finished_at = ?2, error = NULL WHERE id = ?1",
                params![job_id, t],
            )?;
            let sql = format!(
                "UPDATE episodes SET status = 'ready', error = NULL, rendition_path = ?, rendition_bytes = ?,
                    duration_ms = ?, gain_db = ?, updated_at = ?, ready_at = ?, {}, {}
                 WHERE id = (SELECT episode_id FROM jobs WHERE id = ?)",
                set_loudness("before"),
                set_loudness("after")
            );
            let (b, a) = (&done.before, &done.after);
            tx.execute(
                &sql,
                params![
                    done.rendition_path,
                    done.rendition_bytes as i64,
                    done.duration_ms as i64,
                    done.gain_db,
                    t,
                    t,
                    b.integrated_lufs,
                    b.loudness_range_lu,
                    b.true_peak_dbtp,
                    b.sample_peak_dbfs,
                    a.integrated_lufs,
                    a.loudness_range_lu,
                    a.true_peak_dbtp,
                    a.sample_peak_dbfs,
                    job_id
                ],
            )?;
            Ok(())
        })
    }

    /// Marks a job and its episode failed with a reason the volunteer can read.
    pub fn fail_job(&self, job_id: i64, reason: &str, now: jiff::Timestamp) -> Result<()> {
        self.write(|tx| {
            let t = now.as_second();
            tx.execute(
                "UPDATE jobs SET state = 'failed', finished_at = ?2, error = ?3 WHERE id = ?1",
                params![job_id, t, reason],
            )?;
            tx.execute(
                "UPDATE episodes SET status = 'failed', error = ?2, updated_at = ?3
                 WHERE id = (SELECT episode_id FROM jobs WHERE id = ?1)",
                params![job_id, reason, t],
            )?;
            Ok(())
        })
    }

    /// After a crash: jobs left `processing` are queued again, or failed once they have had
    /// `max_attempts` tries (a file that crashes the process every time must not loop forever).
    pub fn recover_interrupted(&self, max_attempts: u32, now: jiff::Timestamp) -> Result<Recovery> {
        self.write(|tx| {
            let t = now.as_second();
            let failed = tx.execute(
                "UPDATE jobs SET state = 'failed', finished_at = ?2,
                    error = 'interrupted ' || attempts || ' times while processing; giving up'
                 WHERE state = 'processing' AND attempts >= ?1",
                params![max_attempts, t],
            )?;
            let requeued = tx.execute(
                "UPDATE jobs SET state = 'queued', progress = 0 WHERE state = 'processing'",
                [],
            )?;
            // Episodes follow their latest job.
            tx.execute(
                "UPDATE episodes SET status = 'failed', updated_at = ?1,
                    error = (SELECT error FROM jobs j WHERE j.episode_id = episodes.id ORDER BY j.id DESC LIMIT 1)
                 WHERE status = 'processing' AND (SELECT state FROM jobs j WHERE j.episode_id = episodes.id
                    ORDER BY j.id DESC LIMIT 1) = 'failed'",
                [t],
            )?;
            tx.execute(
                "UPDATE episodes SET status = 'queued', updated_at = ?1 WHERE status = 'processing'",
                [t],
            )?;
            Ok(Recovery {
                requeued: requeued as u32,
                failed: failed as u32,
            })
        })
    }

    /// Queues a failed or ready episode again (e.g. after the disk had space again, or a
    /// re-ingest with new settings). Its id, and so its feed guid, stays the same.
    pub fn requeue(&self, episode_id: &str, now: jiff::Timestamp) -> Result<bool> {
        self.write(|tx| {
            let t = now.as_second();
            let n = tx.execute(
                "UPDATE episodes SET status = 'queued', error = NULL, updated_at = ?2
                 WHERE id = ?1 AND status IN ('failed', 'ready')",
                params![episode_id, t],
            )?;
            if n == 1 {
                tx.execute(
                    "INSERT INTO jobs (episode_id, state, created_at) VALUES (?1, 'queued', ?2)",
                    params![episode_id, t],
                )?;
            }
            Ok(n == 1)
        })
    }
}
