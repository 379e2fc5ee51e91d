//! Upload tokens: only a hash of each token is stored; the secret is shown once at creation.

use rusqlite::{OptionalExtension, params};

use super::{Catalog, CatalogError, Result};

/// A token as the catalog knows it (never the secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    pub name: String,
    /// Shows this token may upload to; empty = an operator token (every show, edit and delete).
    pub shows: Vec<String>,
    pub created_at: jiff::Timestamp,
    pub revoked: bool,
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
        shows: &[String],
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
                "INSERT INTO tokens (name, hash, created_at) VALUES (?1, ?2, ?3)",
                params![name, hash, now.as_second()],
            )?;
            for show in shows {
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
        let names: Vec<(String, i64, bool)> = self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT name, created_at, revoked_at IS NOT NULL FROM tokens ORDER BY name",
            )?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            rows.collect()
        })?;
        names
            .into_iter()
            .map(|(name, created, revoked)| self.record(name, created, revoked))
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

    /// Name and stored hash of every live (not revoked) token, for a constant-time match of a
    /// presented secret against all of them (`http::auth`).
    pub fn live_token_hashes(&self) -> Result<Vec<(String, String)>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT name, hash FROM tokens WHERE revoked_at IS NULL ORDER BY name",
            )?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect()
        })
    }

    /// The live token named `name`.
    pub fn live_token(&self, name: &str) -> Result<Option<TokenRecord>> {
        let created: Option<i64> = self.read(|c| {
            c.query_row(
                "SELECT created_at FROM tokens WHERE name = ?1 AND revoked_at IS NULL",
                [name],
                |r| r.get(0),
            )
            .optional()
        })?;
        created
            .map(|created| self.record(name.to_string(), created, false))
            .transpose()
    }

    /// The live (not revoked) token with this hash.
    pub fn token_by_hash(&self, hash: &str) -> Result<Option<TokenRecord>> {
        let found: Option<(String, i64)> = self.read(|c| {
            c.query_row(
                "SELECT name, created_at FROM tokens WHERE hash = ?1 AND revoked_at IS NULL",
                [hash],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
        })?;
        found
            .map(|(name, created)| self.record(name, created, false))
            .transpose()
    }

    /// The record of token `name` (created at `created`, in seconds), with its shows.
    fn record(&self, name: String, created: i64, revoked: bool) -> Result<TokenRecord> {
        Ok(TokenRecord {
            shows: self.token_shows(&name)?,
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
/// presented secret in constant time (`http::auth`).
pub fn secret_digest(secret: &str) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(secret.as_bytes()).into()
}
