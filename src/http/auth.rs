//! Bearer tokens: `Authorization: Bearer ant_…` is hashed (SHA-256) and matched against the
//! hashes of the active (not revoked) tokens in the catalog.
//!
//! - The secret itself is never stored, compared or logged: only its hash reaches the
//!   database (`antenne token add` shows the secret once), and no tracing call names it.
//! - The presented digest is compared with **every** active token's digest in constant time
//!   ([`crate::catalog::Catalog::token_for_secret`]), so neither the comparison nor a
//!   database index lookup leaks through timing how close a guess came.
//! - A missing, malformed, unknown or revoked token answers the same bare `401`; a known
//!   token acting outside its shows answers `403`. Neither says more. A revoked or unknown
//!   token is noted for the alerts (`alerts::refused`: the revoked name, never the secret).

use axum::extract::{FromRef, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use super::ApiError;
use super::state::{CatalogAccess, Process};
use crate::catalog::TokenRecord;

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
    Process: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let secret = bearer(parts).ok_or(ApiError::Unauthorized)?.to_owned();
        let found = CatalogAccess::from_ref(state)
            .with_catalog(move |c| {
                Ok(match c.token_for_secret(&secret)? {
                    Some(record) => Ok(record),
                    // For the alert: a revoked token's name, or "" for an unknown secret.
                    None => Err(c.revoked_token_name(&secret)?.unwrap_or_default()),
                })
            })
            .await?;
        match found {
            Ok(record) => Ok(Auth(record)),
            Err(name) => {
                Process::from_ref(state).refused.note(&name);
                Err(ApiError::Unauthorized)
            }
        }
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
