//! Bearer tokens: `Authorization: Bearer ant_…` is hashed (SHA-256) and matched against the
//! hashes of the live tokens in the catalog.
//!
//! - The secret itself is never stored, compared or logged: only its hash reaches the
//!   database (`antenne token add` shows the secret once), and no tracing call names it.
//! - The presented digest is compared with **every** live token's digest in constant time
//!   ([`subtle::ConstantTimeEq`], no early exit), so neither the comparison nor a database
//!   index lookup leaks through timing how close a guess came.
//! - A missing, malformed, unknown or revoked token answers the same bare `401`; a known
//!   token acting outside its shows answers `403`. Neither says more.

use axum::extract::{FromRef, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use subtle::{Choice, ConstantTimeEq};

use super::ApiError;
use super::state::CatalogAccess;
use crate::catalog::{TokenRecord, secret_digest};

/// The authenticated caller of a request. Extracting it answers `401` (with
/// `WWW-Authenticate`) when the token is missing, malformed, unknown or revoked.
#[derive(Debug, Clone)]
pub struct Auth(pub TokenRecord);

impl Auth {
    /// `403` unless this token may act on `show`.
    pub fn require_show(&self, show: &str) -> Result<(), ApiError> {
        if self.0.may_use(show) {
            Ok(())
        } else {
            Err(ApiError::Forbidden)
        }
    }
}

impl<S> FromRequestParts<S> for Auth
where
    CatalogAccess: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let digest = secret_digest(bearer(parts).ok_or(ApiError::Unauthorized)?);
        let record = CatalogAccess::from_ref(state)
            .with_catalog(move |c| {
                let live = c.live_token_hashes()?;
                match matching(&live, &digest) {
                    Some(name) => c.live_token(name),
                    None => Ok(None),
                }
            })
            .await?
            .ok_or(ApiError::Unauthorized)?;
        Ok(Auth(record))
    }
}

/// The name of the token whose stored (hex) hash is `digest`. Every candidate is compared in
/// full and in constant time, whatever matches; a malformed stored hash never matches.
fn matching<'a>(live: &'a [(String, String)], digest: &[u8; 32]) -> Option<&'a str> {
    let mut found: Option<&str> = None;
    for (name, hash) in live {
        let mut stored = [0u8; 32];
        let valid = Choice::from(u8::from(hex::decode_to_slice(hash, &mut stored).is_ok()));
        let hit: bool = (stored.ct_eq(digest) & valid).into();
        // Assigning on a hit only: the loop itself always runs over every candidate.
        if hit {
            found = Some(name);
        }
    }
    found
}

/// The token of an `Authorization: Bearer` header; the scheme is case-insensitive.
fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() && token.len() <= 256)
        .then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::hash_secret;

    #[test]
    fn a_secret_matches_its_own_token_only() {
        let live = vec![
            ("alice".to_string(), hash_secret("ant_a")),
            ("broken".to_string(), "not hex".to_string()),
            ("bob".to_string(), hash_secret("ant_b")),
        ];
        assert_eq!(matching(&live, &secret_digest("ant_a")), Some("alice"));
        assert_eq!(matching(&live, &secret_digest("ant_b")), Some("bob"));
        assert_eq!(matching(&live, &secret_digest("ant_c")), None);
        assert_eq!(matching(&live, &secret_digest("")), None);
        assert_eq!(matching(&[], &secret_digest("ant_a")), None);
        // The stored form is the hex of the same digest.
        assert_eq!(hex::encode(secret_digest("ant_a")), hash_secret("ant_a"));
    }
}
