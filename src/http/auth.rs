//! Bearer tokens: `Authorization: Bearer ant_…` is hashed (SHA-256) and looked up in the
//! catalog. The secret itself is never compared, stored or logged: only its hash reaches the
//! database, and an equality lookup on a hash reveals nothing usable about another secret
//! (finding a secret from timing would need a SHA-256 preimage), so no comparison of secrets
//! happens anywhere, constant-time or not.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use super::ApiError;
use crate::catalog::{TokenRecord, hash_secret};
use crate::daemon::AppState;

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

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let secret = bearer(parts).ok_or(ApiError::Unauthorized)?;
        let hash = hash_secret(secret);
        let record = state
            .with_catalog(move |c| c.token_by_hash(&hash))
            .await?
            .ok_or(ApiError::Unauthorized)?;
        Ok(Auth(record))
    }
}

/// The token of an `Authorization: Bearer` header; the scheme is case-insensitive.
fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() && token.len() <= 256)
        .then_some(token)
}
