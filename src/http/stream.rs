//! `GET`/`HEAD` on a mount's paths (`/stream`, `/stream.mp3`): the live stream as an endless
//! HTTP body.
//!
//! The only axum-facing part of the broadcast: it admits a listener on the hub (503 beyond the
//! limit) with the family of its player (from the `User-Agent`, which is not kept), answers
//! the `icy-*` headers players expect, and streams the listener's bytes. The
//! body ends when the hub shuts down, so graceful shutdown is not held open by listeners.

use std::convert::Infallible;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;

use crate::broadcast::{HubError, Mount, icy};
use crate::catalog::ClientFamily;

/// Answers a stream request on `mount` (the router adds its paths).
pub async fn stream(mount: &Mount, headers: &HeaderMap, method: &Method) -> Response {
    let (hub, info) = (&mount.hub, &mount.info);
    let icy = mount.icy && wants_icy(headers);
    let body = if method == Method::HEAD {
        if !hub.has_room() {
            return unavailable(&HubError::Full {
                limit: hub.config().max_listeners,
            });
        }
        Body::empty()
    } else {
        let client = headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map_or(ClientFamily::Other, ClientFamily::from_user_agent);
        match hub.subscribe_from(icy, client) {
            Ok(listener) => Body::from_stream(listener.map(Ok::<_, Infallible>)),
            Err(e) => return unavailable(&e),
        }
    };
    let mut response = Response::new(body);
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(mount.content_type),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, no-store"),
    );
    h.insert("icy-name", text_header(&info.name));
    h.insert("icy-description", text_header(&info.description));
    h.insert("icy-genre", text_header(&info.genre));
    h.insert("icy-url", text_header(&info.url));
    h.insert("icy-br", HeaderValue::from(info.bitrate_kbps));
    h.insert("icy-pub", HeaderValue::from_static("0"));
    if icy {
        h.insert("icy-metaint", HeaderValue::from(icy::METAINT));
    }
    response
}

/// Whether the client asked for in-band metadata (`Icy-MetaData: 1`).
fn wants_icy(headers: &HeaderMap) -> bool {
    headers
        .get("icy-metadata")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim() == "1")
}

/// A header value from free text: control characters dropped, non-ASCII kept as UTF-8 bytes
/// (what Icecast sends and players display).
fn text_header(text: &str) -> HeaderValue {
    let clean: String = text.chars().filter(|c| !c.is_control()).collect();
    HeaderValue::from_bytes(clean.as_bytes()).unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn unavailable(error: &HubError) -> Response {
    tracing::debug!("stream refused: {error}");
    let mut response = (StatusCode::SERVICE_UNAVAILABLE, format!("{error}\n")).into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("30"));
    response
}
