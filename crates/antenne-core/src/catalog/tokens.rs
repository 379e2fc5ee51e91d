//! Tokens: who may upload to which shows, and who may go on air from a live source. Only a
//! hash of each token is stored; the secret is shown once at creation.

use rusqlite::{OptionalExtension, params};

use super::{Catalog, CatalogError, Result};

/// A token as the catalog knows it (never the secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    pub name: String,
    /// Shows this token may upload to; empty = an operator token (every show, edit and delete).
    pub shows: Vec<String>,
    /// May go on air from a live source: during its shows' live slots, or at any time for an
    /// operator token.
    pub live: bool,
    pub created_at: jiff::Timestamp,
    pub revoked: bool,
}

/// What a new token may do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grant {
    /// Its shows; none = an operator token.
    pub shows: Vec<String>,
    /// Live sources too ([`TokenRecord::live`]).
    pub live: bool,
}

impl Grant {
    /// Uploads to `shows` (an operator's when empty).
    pub fn upload(shows: &[&str]) -> Grant {
        Grant {
            shows: shows.iter().map(|s| s.to_string()).collect(),
            live: false,
        }
    }

    /// Uploads to `shows` and live sources during their live slots.
    pub fn live(shows: &[&str]) -> Grant {
        Grant {
            live: true,
            ..Grant::upload(shows)
        }
    }
}

impl TokenRecord {
    pub fn is_operator(&self) -> bool {
        self.shows.is_empty()
    }

    pub fn may_use(&self, show: &str) -> bool {
        self.is_operator() || self.shows.iter().any(|s| s == show)
    }
}

impl Catalog {
    /// Stores a new token's hash; fails with [`CatalogError::Exists`] if the name is taken.
    pub fn add_token(
        &self,
        name: &str,
        hash: &str,
        grant: &Grant,
        now: jiff::Timestamp,
    ) -> Result<()> {
        let taken = self.read(|c| {
            c.query_row("SELECT 1 FROM tokens WHERE name = ?1", [name], |_| Ok(()))
                .optional()
        })?;
        if taken.is_some() {
            return Err(CatalogError::Exists(format!("a token named {name:?}")));
        }
        self.write(|tx| {
            tx.execute(
                "INSERT INTO tokens (name, hash, created_at, live) VALUES (?1, ?2, ?3, ?4)",
                params![name, hash, now.as_second(), grant.live],
            )?;
            for show in &grant.shows {
                tx.execute(
                    "INSERT OR IGNORE INTO token_shows (token, show) VALUES (?1, ?2)",
                    params![name, show],
                )?;
            }
            Ok(())
        })
    }

    /// Every token, revoked ones included, by name.
    pub fn list_tokens(&self) -> Result<Vec<TokenRecord>> {
        let names: Vec<(String, i64, bool, bool)> = self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT name, created_at, revoked_at IS NOT NULL, live FROM tokens ORDER BY name",
            )?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
            rows.collect()
        })?;
        names
            .into_iter()
            .map(|(name, created, revoked, live)| self.record(name, created, revoked, live))
            .collect()
    }

    /// Revokes a token by name; false when there is none (or it was already revoked).
    pub fn revoke_token(&self, name: &str, now: jiff::Timestamp) -> Result<bool> {
        self.write(|tx| {
            let n = tx.execute(
                "UPDATE tokens SET revoked_at = ?2 WHERE name = ?1 AND revoked_at IS NULL",
                params![name, now.as_second()],
            )?;
            Ok(n == 1)
        })
    }

    /// The active (not revoked) token whose secret is `secret`. The secret's digest is
    /// compared with **every** active token's stored hash in constant time
    /// ([`subtle::ConstantTimeEq`], no early exit, no index lookup), so timing does not tell
    /// how close a guess came. Unknown and revoked secrets alike give `None`.
    pub fn token_for_secret(&self, secret: &str) -> Result<Option<TokenRecord>> {
        let digest = secret_digest(secret);
        let active: Vec<(String, String, i64, bool)> = self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT name, hash, created_at, live FROM tokens WHERE revoked_at IS NULL \
                 ORDER BY name",
            )?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
            rows.collect()
        })?;
        let hashes: Vec<(&str, &str)> = active
            .iter()
            .map(|(name, hash, ..)| (name.as_str(), hash.as_str()))
            .collect();
        match matching(&hashes, &digest) {
            Some(i) => {
                let (name, _, created, live) = &active[i];
                self.record(name.clone(), *created, false, *live).map(Some)
            }
            None => Ok(None),
        }
    }

    /// The name of the revoked token whose secret is `secret`, if any (compared like
    /// [`Catalog::token_for_secret`]): who keeps using a withdrawn token, for the alert.
    pub fn revoked_token_name(&self, secret: &str) -> Result<Option<String>> {
        let digest = secret_digest(secret);
        let revoked: Vec<(String, String)> = self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT name, hash FROM tokens WHERE revoked_at IS NOT NULL ORDER BY name",
            )?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect()
        })?;
        let hashes: Vec<(&str, &str)> = revoked
            .iter()
            .map(|(name, hash)| (name.as_str(), hash.as_str()))
            .collect();
        Ok(matching(&hashes, &digest).map(|i| revoked[i].0.clone()))
    }

    /// The record of token `name` (created at `created`, in seconds), with its shows.
    fn record(&self, name: String, created: i64, revoked: bool, live: bool) -> Result<TokenRecord> {
        Ok(TokenRecord {
            shows: self.token_shows(&name)?,
            live,
            name,
            created_at: jiff::Timestamp::from_second(created).unwrap_or_default(),
            revoked,
        })
    }

    fn token_shows(&self, name: &str) -> Result<Vec<String>> {
        self.read(|c| {
            let mut stmt =
                c.prepare_cached("SELECT show FROM token_shows WHERE token = ?1 ORDER BY show")?;
            let rows = stmt.query_map([name], |r| r.get(0))?;
            rows.collect()
        })
    }
}

/// The index of the `(name, hex hash)` whose hash is `digest`. Every candidate is compared in
/// full and in constant time, whatever matches; a malformed stored hash never matches.
fn matching(candidates: &[(&str, &str)], digest: &[u8; 32]) -> Option<usize> {
    use subtle::{Choice, ConstantTimeEq};
    let mut found = None;
    for (i, (_, hash)) in candidates.iter().enumerate() {
        let mut stored = [0u8; 32];
        let valid = Choice::from(u8::from(hex::decode_to_slice(hash, &mut stored).is_ok()));
        let hit: bool = (stored.ct_eq(digest) & valid).into();
        // Assigning on a hit only: the loop itself always runs over every candidate.
        if hit {
            found = Some(i);
        }
    }
    found
}

/// A new token secret: 256 random bits, hex, with a prefix that makes it recognisable in a
/// leaked paste.
pub fn new_secret() -> String {
    let bytes: [u8; 32] = rand::random();
    format!("ant_{}", hex::encode(bytes))
}

/// What the catalog stores for a secret. A plain SHA-256 suffices: the secret is 256 random
/// bits, so there is nothing to brute-force (a password would need argon2).
pub fn hash_secret(secret: &str) -> String {
    hex::encode(secret_digest(secret))
}

/// The SHA-256 of a secret, as bytes: [`hash_secret`] before hex encoding, for comparing a
/// presented secret in constant time ([`Catalog::token_for_secret`]).
pub fn secret_digest(secret: &str) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(secret.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_matches_its_own_token_only() {
        let (a, b) = (hash_secret("ant_a"), hash_secret("ant_b"));
        let candidates = [
            ("alice", a.as_str()),
            ("broken", "not hex"),
            ("bob", b.as_str()),
        ];
        assert_eq!(matching(&candidates, &secret_digest("ant_a")), Some(0));
        assert_eq!(matching(&candidates, &secret_digest("ant_b")), Some(2));
        assert_eq!(matching(&candidates, &secret_digest("ant_c")), None);
        assert_eq!(matching(&candidates, &secret_digest("")), None);
        assert_eq!(matching(&[], &secret_digest("ant_a")), None);
        // The stored form is the hex of the same digest.
        assert_eq!(hex::encode(secret_digest("ant_a")), hash_secret("ant_a"));
    }
}
