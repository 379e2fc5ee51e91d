//! `GET`/`HEAD` on a mount's paths (`/stream`, `/stream.mp3`): the live stream as an endless
//! HTTP body.
//!
//! The only HTTP-facing part of the broadcast: it admits a listener on the hub (503 beyond the
//! limit) with the family of its player (from the `User-Agent`, which is not kept), answers
//! the `icy-*` headers players expect, and streams the listener's bytes. The
//! body ends when the hub shuts down, so graceful shutdown is not held open by listeners.
//!
//! A listener is the one client that stays for hours, thousands at once, so the server loop
//! serves it without hyper ([`take_listener`]): it reads a connection's first request head
//! itself, and a `GET` of a mount path becomes a task holding the socket, its place on the
//! hub's ring and the pieces in flight ([`Pieces`]: references to the shared chunks, never a
//! copy), writing the chunks as they are published, all it has to catch up in one vectored
//! write (a close-delimited body, as Icecast answers). The task's size is most of a
//! listener's memory: nothing else lives in it (the server loop boxes hyper's connection). Any other request goes to hyper with the bytes
//! read so far ([`Rewound`]). The router's [`stream`] handler serves the same answer
//! through axum (`HEAD`, and the router used on its own).

use std::convert::Infallible;
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::BytesMut;
use futures_util::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::conn::{Rewound, StallGuard};
use crate::broadcast::cancel::UntilCancelled;
use crate::broadcast::{HubError, Listener, Mount, Pieces, icy};
use crate::catalog::ClientFamily;

/// Answers a stream request on `mount` (the router adds its paths).
pub async fn stream(mount: &Mount, headers: &HeaderMap, method: &Method) -> Response {
    let hub = &mount.hub;
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
    for (name, value) in stream_headers(mount, icy) {
        h.insert(name, value);
    }
    response
}

/// The headers of a stream answer, whichever way it is served.
fn stream_headers(mount: &Mount, icy: bool) -> Vec<(HeaderName, HeaderValue)> {
    let info = &mount.info;
    let mut h = vec![
        (
            header::CONTENT_TYPE,
            HeaderValue::from_static(mount.content_type),
        ),
        (
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache, no-store"),
        ),
        (HeaderName::from_static("icy-name"), text_header(&info.name)),
        (
            HeaderName::from_static("icy-description"),
            text_header(&info.description),
        ),
        (
            HeaderName::from_static("icy-genre"),
            text_header(&info.genre),
        ),
        (HeaderName::from_static("icy-url"), text_header(&info.url)),
        (
            HeaderName::from_static("icy-br"),
            HeaderValue::from(info.bitrate_kbps),
        ),
        (
            HeaderName::from_static("icy-pub"),
            HeaderValue::from_static("0"),
        ),
    ];
    if icy {
        h.push((
            HeaderName::from_static("icy-metaint"),
            HeaderValue::from(icy::METAINT),
        ));
    }
    h
}

/// Limits of [`take_listener`] (the server's [`super::conn::Limits`]).
#[derive(Debug, Clone)]
pub struct FirstRequest {
    pub header_read: Duration,
    pub max_header_bytes: usize,
    pub write_stall: Duration,
}

/// What became of a connection once its first request was looked at.
pub enum Taken {
    /// A listener of a mount, served until its stream ended; or a client that closed, or sent
    /// no whole request head within the header timeout. The connection is over.
    Done,
    /// Any other request: for hyper, from its first byte, with the header time left.
    Http(Rewound<TcpStream>, Duration),
}

/// What the bytes of a request head read so far are.
enum Head {
    /// Not a `GET` of a mount path (or malformed: hyper answers it).
    Other,
    /// A `GET` of `mounts[mount]`.
    Listener {
        mount: usize,
        icy: bool,
        http10: bool,
        client: ClientFamily,
    },
    /// Undecided yet.
    More,
}

fn classify(buf: &[u8], mounts: &[Mount]) -> Head {
    let method = b"GET ";
    if !buf.starts_with(&method[..buf.len().min(4)]) {
        return Head::Other;
    }
    let Some(target) = buf.get(4..) else {
        return Head::More;
    };
    let end = target.iter().position(|&b| b == b' ' || b == b'?');
    let path = &target[..end.unwrap_or(target.len())];
    let paths = || {
        mounts
            .iter()
            .enumerate()
            .flat_map(|(i, m)| m.paths.iter().map(move |p| (i, p)))
    };
    let mount = match end {
        None if paths().any(|(_, p)| p.as_bytes().starts_with(path)) => return Head::More,
        None => return Head::Other,
        Some(_) => match paths().find(|(_, p)| p.as_bytes() == path) {
            Some((i, _)) => i,
            None => return Head::Other,
        },
    };
    let mut headers = [httparse::EMPTY_HEADER; 100];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(buf) {
        Ok(httparse::Status::Complete(_)) => Head::Listener {
            mount,
            icy: mounts[mount].icy
                && req.headers.iter().any(|h| {
                    h.name.eq_ignore_ascii_case("icy-metadata") && h.value.trim_ascii() == b"1"
                }),
            http10: req.version == Some(0),
            client: req
                .headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case("user-agent"))
                .and_then(|h| std::str::from_utf8(h.value).ok())
                .map_or(ClientFamily::Other, ClientFamily::from_user_agent),
        },
        Ok(httparse::Status::Partial) => Head::More,
        Err(_) => Head::Other,
    }
}

/// Reads `stream`'s first request head: a `GET` of one of `mounts`' paths is served here as a
/// listener (see the module doc; `counted` is called once the request is whole), anything
/// else is handed back for hyper. Cancel-safe only in the sense that dropping it closes the
/// connection.
pub async fn take_listener(
    mut stream: TcpStream,
    mounts: &[Mount],
    limits: &FirstRequest,
    counted: impl FnOnce(),
) -> Taken {
    let (mount, icy, http10, client) = match read_head(&mut stream, mounts, limits).await {
        Read::Listener {
            mount,
            icy,
            http10,
            client,
        } => (mount, icy, http10, client),
        Read::Http(read, left) => return Taken::Http(Rewound::new(read, stream), left),
        Read::Done => return Taken::Done,
    };
    counted();
    let mount = &mounts[mount];
    match mount.hub.subscribe_from(icy, client) {
        Ok(listener) => {
            let head = response_head(mount, icy, http10);
            // `None`: the hub shut down.
            let _ = serve(StallGuard::new(stream, limits.write_stall), listener, head).await;
        }
        Err(e) => {
            tracing::debug!("stream refused: {e}");
            let _ = stream.write_all(&refusal(&e, http10)).await;
        }
    }
    Taken::Done
}

/// What [`read_head`] found.
enum Read {
    Listener {
        mount: usize,
        icy: bool,
        http10: bool,
        client: ClientFamily,
    },
    /// For hyper: the bytes read so far and the header time left.
    Http(bytes::Bytes, Duration),
    Done,
}

/// Reads until the request head tells a listener from any other request (the head's bytes
/// are consumed for a listener).
async fn read_head(stream: &mut TcpStream, mounts: &[Mount], limits: &FirstRequest) -> Read {
    let deadline = tokio::time::Instant::now() + limits.header_read;
    let mut buf = BytesMut::with_capacity(1024);
    loop {
        match classify(&buf, mounts) {
            Head::Listener {
                mount,
                icy,
                http10,
                client,
            } => {
                return Read::Listener {
                    mount,
                    icy,
                    http10,
                    client,
                };
            }
            Head::Other => {
                let left = deadline.saturating_duration_since(tokio::time::Instant::now());
                return Read::Http(buf.freeze(), left);
            }
            // Hyper answers `431`.
            Head::More if buf.len() >= limits.max_header_bytes => {
                return Read::Http(buf.freeze(), Duration::from_secs(1));
            }
            Head::More => {}
        }
        match tokio::time::timeout_at(deadline, stream.read_buf(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => {}
            // Closed, failed, or too slow to send a request head (hyper closes those too).
            _ => return Read::Done,
        }
    }
}

/// The `503` of a listener the hub did not admit.
fn refusal(e: &HubError, http10: bool) -> Vec<u8> {
    let status = if http10 { "HTTP/1.0" } else { "HTTP/1.1" };
    let date = crate::feed::conditional::http_date(jiff::Timestamp::now());
    let body = format!("{e}\n");
    format!(
        "{status} 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\n\
         retry-after: 30\r\ncontent-length: {}\r\nconnection: close\r\ndate: {date}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// The `200` head of a listener's answer (a close-delimited body follows).
fn response_head(mount: &Mount, icy: bool, http10: bool) -> BytesMut {
    let status = if http10 { "HTTP/1.0" } else { "HTTP/1.1" };
    let date = crate::feed::conditional::http_date(jiff::Timestamp::now());
    let mut head = BytesMut::with_capacity(1024);
    head.extend_from_slice(format!("{status} 200 OK\r\n").as_bytes());
    let framing = [
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("frame-ancestors 'none'"),
        ),
        (header::CONNECTION, HeaderValue::from_static("close")),
    ];
    for (name, value) in stream_headers(mount, icy).into_iter().chain(framing) {
        head.extend_from_slice(name.as_str().as_bytes());
        head.extend_from_slice(b": ");
        head.extend_from_slice(value.as_bytes());
        head.extend_from_slice(b"\r\n");
    }
    head.extend_from_slice(format!("date: {date}\r\n\r\n").as_bytes());
    head
}

/// A listener's answer: the head, the burst (a few frames per vectored write, never copied),
/// then its bytes as they are published, until its stream ends or the client is gone (a write that failed, or stalled
/// past the limit). All it holds meanwhile is the socket, its place on the ring and the
/// pieces in flight (shared chunks, never copied).
fn serve(
    mut io: StallGuard<TcpStream>,
    mut listener: Listener,
    mut head: BytesMut,
) -> UntilCancelled<impl Future<Output = ()>> {
    let ending = listener.ending();
    let work = async move {
        // The burst follows from the listener's queue, written by reference like the rest.
        if io.write_all(&head).await.is_err() {
            return;
        }
        drop(std::mem::take(&mut head));
        let mut pieces = Pieces::default();
        while listener.recv_batch(&mut pieces).await {
            if write_pieces(&mut io, &mut pieces).await.is_err() {
                return;
            }
        }
    };
    UntilCancelled::new(ending, work)
}

/// Writes every piece, as few vectored writes as the socket allows. The slices are rebuilt
/// at each poll rather than kept in the task across the wait.
async fn write_pieces(io: &mut StallGuard<TcpStream>, pieces: &mut Pieces) -> std::io::Result<()> {
    use tokio::io::AsyncWrite;
    while !pieces.is_empty() {
        let n = std::future::poll_fn(|cx| {
            std::pin::Pin::new(&mut *io)
                .poll_write_vectored(cx, &pieces.io_slices()[..pieces.len()])
        })
        .await?;
        if n == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        pieces.advance(n);
    }
    Ok(())
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
