//! The console's audit log: every change an operator made from `/console` (who: the token's
//! name, when, what), append-only, listed newest first on the console.

use rusqlite::params;

use super::{Catalog, Result};

/// One change made from the console.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub at: jiff::Timestamp,
    /// The name of the operator token the session was opened with.
    pub who: String,
    /// A short fixed word: `schedule.save`, `token.revoke`, `episode.edit`...
    pub action: String,
    /// What it applied to, in words (a token's name, an episode's title, a file's hash).
    pub detail: String,
}

impl Catalog {
    /// Appends one entry to the audit log.
    pub fn record_audit(
        &self,
        who: &str,
        action: &str,
        detail: &str,
        now: jiff::Timestamp,
    ) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO console_audit (at, who, action, detail) VALUES (?1, ?2, ?3, ?4)",
                params![now.as_millisecond(), who, action, detail],
            )?;
            Ok(())
        })
    }

    /// The newest `limit` entries, newest first.
    pub fn audit_log(&self, limit: u32) -> Result<Vec<AuditEntry>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT at, who, action, detail FROM console_audit ORDER BY id DESC LIMIT ?1",
            )?;
            let rows = stmt.query_map([limit], |r| {
                Ok(AuditEntry {
                    at: jiff::Timestamp::from_millisecond(r.get(0)?).unwrap_or_default(),
                    who: r.get(1)?,
                    action: r.get(2)?,
                    detail: r.get(3)?,
                })
            })?;
            rows.collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_listed_newest_first() {
        let dir = tempfile::tempdir().unwrap();
        let c = Catalog::open(dir.path()).unwrap();
        let t = jiff::Timestamp::from_second(1_800_000_000).unwrap();
        c.record_audit("alice", "schedule.save", "sha256 ab", t)
            .unwrap();
        c.record_audit("bob", "token.revoke", "carla", t).unwrap();
        let log = c.audit_log(10).unwrap();
        assert_eq!(log.len(), 2);
        assert_eq!(
            (log[0].who.as_str(), log[0].action.as_str()),
            ("bob", "token.revoke")
        );
        assert_eq!(log[1].at, t);
        assert_eq!(c.audit_log(1).unwrap().len(), 1);
    }
}
