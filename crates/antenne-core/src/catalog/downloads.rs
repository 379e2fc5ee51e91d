//! Download counters: one row per counted download (the counting rules live in `feed::stats`);
//! the listener is a salted hash, never an address.

use std::collections::HashMap;

use rusqlite::params;

use super::{Catalog, Result};

impl Catalog {
    /// Records one counted download.
    pub fn record_download(
        &self,
        episode_id: &str,
        listener_hash: &str,
        now: jiff::Timestamp,
    ) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO downloads (episode_id, listener, counted_at) VALUES (?1, ?2, ?3)",
                params![episode_id, listener_hash, now.as_second()],
            )?;
            Ok(())
        })
    }

    /// Counted downloads per episode id.
    pub fn download_counts(&self) -> Result<HashMap<String, u64>> {
        self.read(|c| {
            let mut stmt =
                c.prepare_cached("SELECT episode_id, COUNT(*) FROM downloads GROUP BY episode_id")?;
            let rows = stmt.query_map([], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
            })?;
            rows.collect()
        })
    }
}
