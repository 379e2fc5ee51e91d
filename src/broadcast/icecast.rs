//! Icecast 2 source client: pushes the live frames to an Icecast server (HTTP `PUT`, Icecast
//! ≥ 2.4) and keeps its now-playing title current through `/admin/metadata`.
//!
//! The pusher is just another hub subscriber ([`Hub::subscribe_relay`]): if Icecast stalls,
//! the pusher falls behind, is dropped like any slow listener, and reconnects; the hub never
//! waits. Reconnection uses exponential backoff from 1 s, capped at 60 s, reset after a session
//! that lasted a minute. Plain HTTP/1.1 over a tokio `TcpStream`: no TLS (a relay on the same
//! host or LAN is the intended setup).

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout};
use tokio_util::sync::CancellationToken;

use super::StationInfo;
use super::output::{Mount, Output, OutputTask};
use crate::config::IcecastTarget;

const BACKOFF_MIN: Duration = Duration::from_secs(1);
const BACKOFF_MAX: Duration = Duration::from_secs(60);
/// A session that lasted this long resets the backoff.
const STABLE: Duration = Duration::from_secs(60);
/// Connect, response and single-write deadline.
const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a push session ended.
#[derive(Debug, thiserror::Error)]
pub enum IcecastError {
    #[error("invalid Icecast URL {0:?}: expected http://host[:port]/mount")]
    Url(String),
    #[error("{endpoint}: {error}")]
    Io {
        endpoint: String,
        error: std::io::Error,
    },
    #[error("{endpoint}: no answer within {IO_TIMEOUT:?}")]
    Timeout { endpoint: String },
    #[error("{endpoint}: Icecast answered {status}")]
    Status { endpoint: String, status: String },
    #[error("{endpoint}: fell behind the live stream")]
    FellBehind { endpoint: String },
}

/// A parsed Icecast mount point with its source credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub host: String,
    pub port: u16,
    /// Starts with `/`, e.g. `/live.mp3`.
    pub mount: String,
    pub user: String,
    pub password: String,
}

impl Endpoint {
    pub fn parse(target: &IcecastTarget) -> Result<Endpoint, IcecastError> {
        let bad = || IcecastError::Url(target.url.clone());
        let rest = target.url.strip_prefix("http://").ok_or_else(bad)?;
        let (authority, path) = rest.split_at(rest.find('/').ok_or_else(bad)?);
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) => (host, port.parse().map_err(|_| bad())?),
            None => (authority, 80),
        };
        // Host and mount go verbatim into the request head: visible ASCII only, so a stray
        // CR/LF or space cannot inject a header or break the request line (issue #8, fuzzing).
        let visible = |s: &str| s.bytes().all(|b| b.is_ascii_graphic());
        if host.is_empty()
            || path.len() < 2
            || path.contains(['?', '#'])
            || !visible(host)
            || !visible(path)
        {
            return Err(bad());
        }
        let user = if target.user.is_empty() {
            "source"
        } else {
            &target.user
        };
        Ok(Endpoint {
            host: host.to_owned(),
            port,
            mount: path.to_owned(),
            user: user.to_owned(),
            password: target.password.clone(),
        })
    }

    fn name(&self) -> String {
        format!("http://{}:{}{}", self.host, self.port, self.mount)
    }

    fn authorization(&self) -> String {
        format!(
            "Basic {}",
            base64(format!("{}:{}", self.user, self.password).as_bytes())
        )
    }

    fn io(&self, source: std::io::Error) -> IcecastError {
        IcecastError::Io {
            endpoint: self.name(),
            error: source,
        }
    }

    /// The source request head (Icecast ≥ 2.4 `PUT`).
    pub fn source_request(&self, info: &StationInfo, content_type: &str) -> String {
        let h = header_value;
        format!(
            "PUT {mount} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: {auth}\r\nUser-Agent: antenne/{version}\r\n\
             Content-Type: {content_type}\r\nice-name: {name}\r\nice-description: {description}\r\nice-genre: {genre}\r\n\
             ice-url: {url}\r\nice-public: 0\r\nice-bitrate: {br}\r\n\
             ice-audio-info: ice-samplerate={rate};ice-bitrate={br};ice-channels=2\r\n\r\n",
            mount = self.mount,
            host = self.host,
            port = self.port,
            auth = self.authorization(),
            version = env!("CARGO_PKG_VERSION"),
            name = h(&info.name),
            description = h(&info.description),
            genre = h(&info.genre),
            url = h(&info.url),
            br = info.bitrate_kbps,
            rate = info.sample_rate,
        )
    }

    /// The metadata update request head.
    pub fn metadata_request(&self, title: &str) -> String {
        format!(
            "GET /admin/metadata?mount={mount}&mode=updinfo&charset=UTF-8&song={song} HTTP/1.0\r\nHost: {host}:{port}\r\n\
             Authorization: {auth}\r\nUser-Agent: antenne/{version}\r\n\r\n",
            mount = percent_encode(&self.mount),
            song = percent_encode(title),
            host = self.host,
            port = self.port,
            auth = self.authorization(),
            version = env!("CARGO_PKG_VERSION"),
        )
    }
}

/// The Icecast relay as an [`Output`]: pushes its mount to one Icecast mount point.
pub struct IcecastPush {
    pub endpoint: Endpoint,
}

impl Output for IcecastPush {
    fn describe(&self) -> String {
        format!(
            "icecast http://{}:{}{}",
            self.endpoint.host, self.endpoint.port, self.endpoint.mount
        )
    }

    fn run(self: Box<Self>, mount: Mount, shutdown: CancellationToken) -> OutputTask {
        Box::pin(run(mount, self.endpoint, shutdown))
    }
}

/// Pushes the mount's stream to `endpoint` until `shutdown`, reconnecting with backoff.
pub async fn run(mount: Mount, endpoint: Endpoint, shutdown: CancellationToken) {
    let mut delay = BACKOFF_MIN;
    while !shutdown.is_cancelled() {
        let started = Instant::now();
        match session(&mount, &endpoint, &shutdown).await {
            Ok(()) => return,
            Err(e) => tracing::warn!("icecast push: {e}; retrying in {delay:?}"),
        }
        if started.elapsed() >= STABLE {
            delay = BACKOFF_MIN;
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(delay) => {}
        }
        delay = (delay * 2).min(BACKOFF_MAX);
    }
}

type MetadataUpdate = Pin<Box<dyn Future<Output = Result<(), IcecastError>> + Send>>;

/// One connection: `Ok` only when it ended on shutdown.
async fn session(
    mount: &Mount,
    endpoint: &Endpoint,
    shutdown: &CancellationToken,
) -> Result<(), IcecastError> {
    let hub = &mount.hub;
    let mut stream = connect(endpoint).await?;
    let head = endpoint.source_request(&mount.info, mount.content_type);
    deadline(endpoint, stream.write_all(head.as_bytes())).await?;
    deadline(endpoint, read_status(endpoint, &mut stream)).await??;
    tracing::info!("icecast push: streaming to {}", endpoint.name());

    let mut frames = hub
        .subscribe_relay()
        .map_err(|_| IcecastError::FellBehind {
            endpoint: endpoint.name(),
        })?;
    let mut titles = hub.watch_title();
    // An Ogg stream carries its titles in its own headers: Icecast reads them there.
    if mount.icy {
        titles.mark_changed();
    }
    let mut update: Option<MetadataUpdate> = None;
    let mut title_dirty = false;
    loop {
        if update.is_none() && title_dirty {
            title_dirty = false;
            let (endpoint, title) = (endpoint.clone(), titles.borrow_and_update().text.clone());
            update = Some(Box::pin(
                async move { update_metadata(&endpoint, &title).await },
            ));
        }
        tokio::select! {
            () = shutdown.cancelled() => return Ok(()),
            bytes = frames.next() => match bytes {
                Some(bytes) => deadline(endpoint, stream.write_all(&bytes)).await?,
                None if shutdown.is_cancelled() => return Ok(()),
                None => return Err(IcecastError::FellBehind { endpoint: endpoint.name() }),
            },
            changed = titles.changed(), if !title_dirty && mount.icy => {
                if changed.is_ok() {
                    title_dirty = true;
                }
            }
            result = async { update.as_mut().expect("guarded").await }, if update.is_some() => {
                update = None;
                if let Err(e) = result {
                    tracing::warn!("icecast metadata: {e}");
                }
            }
        }
    }
}

/// Sets the title of `endpoint`'s mount through Icecast's admin metadata endpoint.
pub async fn update_metadata(endpoint: &Endpoint, title: &str) -> Result<(), IcecastError> {
    let mut stream = connect(endpoint).await?;
    deadline(
        endpoint,
        stream.write_all(endpoint.metadata_request(title).as_bytes()),
    )
    .await?;
    deadline(endpoint, read_status(endpoint, &mut stream)).await?
}

async fn connect(endpoint: &Endpoint) -> Result<TcpStream, IcecastError> {
    let stream = deadline(
        endpoint,
        TcpStream::connect((endpoint.host.as_str(), endpoint.port)),
    )
    .await?;
    // Frames are small and already paced: send each at once.
    stream.set_nodelay(true).map_err(|e| endpoint.io(e))?;
    Ok(stream)
}

async fn deadline<T>(
    endpoint: &Endpoint,
    fut: impl Future<Output = std::io::Result<T>>,
) -> Result<T, IcecastError> {
    match timeout(IO_TIMEOUT, fut).await {
        Ok(result) => result.map_err(|e| endpoint.io(e)),
        Err(_) => Err(IcecastError::Timeout {
            endpoint: endpoint.name(),
        }),
    }
}

/// Reads response heads until a final one; `Ok` for 2xx. Generic over the reader (public) so
/// the fuzz targets feed it hostile server answers exactly as a session reads them.
pub async fn read_status<R: tokio::io::AsyncRead + Unpin>(
    endpoint: &Endpoint,
    stream: &mut R,
) -> std::io::Result<Result<(), IcecastError>> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    loop {
        // Byte by byte: nothing after the head may be consumed, and heads are tiny.
        if stream.read(&mut byte).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        head.push(byte[0]);
        if head.len() > 16 * 1024 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "response head too long",
            ));
        }
        if head.ends_with(b"\r\n\r\n") || head.ends_with(b"\n\n") {
            let status_line = String::from_utf8_lossy(&head)
                .lines()
                .next()
                .unwrap_or_default()
                .trim()
                .to_owned();
            match parse_status(&status_line) {
                Some(100) => head.clear(),
                Some(200..=299) => return Ok(Ok(())),
                _ => {
                    return Ok(Err(IcecastError::Status {
                        endpoint: endpoint.name(),
                        status: status_line,
                    }));
                }
            }
        }
    }
}

/// The code of an `HTTP/1.x NNN reason` (or Icecast 2.3's `ICY NNN`) status line.
pub fn parse_status(line: &str) -> Option<u16> {
    let mut parts = line.split_ascii_whitespace();
    let proto = parts.next()?;
    if !(proto.starts_with("HTTP/") || proto == "ICY") {
        return None;
    }
    parts
        .next()?
        .parse()
        .ok()
        .filter(|c| (100..600).contains(c))
}

/// Keeps a header value on one line.
fn header_value(value: &str) -> String {
    value
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, &b)| acc | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(url: &str) -> IcecastTarget {
        IcecastTarget {
            url: url.to_owned(),
            user: String::new(),
            password: "hackme".to_owned(),
            stream: "mp3".into(),
        }
    }

    #[test]
    fn endpoints() {
        let e = Endpoint::parse(&target("http://127.0.0.1:8000/live.mp3")).unwrap();
        assert_eq!(
            (e.host.as_str(), e.port, e.mount.as_str(), e.user.as_str()),
            ("127.0.0.1", 8000, "/live.mp3", "source")
        );
        assert_eq!(
            Endpoint::parse(&target("http://radio.example/a"))
                .unwrap()
                .port,
            80
        );
        for bad in [
            "https://x/live",
            "http://x",
            "http://x:port/live",
            "http:///live",
            "http://x/",
            "http://x/a?b",
        ] {
            assert!(Endpoint::parse(&target(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn encodings() {
        assert_eq!(base64(b"source:hackme"), "c291cmNlOmhhY2ttZQ==");
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(base64(b"abc"), "YWJj");
        assert_eq!(percent_encode("L'été & co"), "L%27%C3%A9t%C3%A9%20%26%20co");
        assert_eq!(parse_status("HTTP/1.0 200 OK"), Some(200));
        assert_eq!(
            parse_status("HTTP/1.1 401 Authentication Required"),
            Some(401)
        );
        assert_eq!(parse_status("ICY 200 OK"), Some(200));
        assert_eq!(parse_status("garbage"), None);
    }

    #[test]
    fn source_request_head() {
        let e = Endpoint::parse(&target("http://127.0.0.1:8000/live.mp3")).unwrap();
        let info = StationInfo {
            name: "Radio\r\nX-Evil: 1".to_owned(),
            description: "d".to_owned(),
            genre: "g".to_owned(),
            url: "http://u".to_owned(),
            bitrate_kbps: 128,
            sample_rate: 44_100,
        };
        let head = e.source_request(&info, "audio/mpeg");
        assert!(head.starts_with("PUT /live.mp3 HTTP/1.1\r\n"));
        assert!(head.contains("\r\nAuthorization: Basic c291cmNlOmhhY2ttZQ==\r\n"));
        assert!(head.contains("\r\nice-name: Radio  X-Evil: 1\r\n"));
        assert!(head.contains(
            "\r\nice-audio-info: ice-samplerate=44100;ice-bitrate=128;ice-channels=2\r\n"
        ));
        assert!(head.ends_with("\r\n\r\n"));
        let meta = e.metadata_request("Show - Épisode 1");
        assert!(meta.starts_with("GET /admin/metadata?mount=/live.mp3&mode=updinfo&charset=UTF-8&song=Show%20-%20%C3%89pisode%201 HTTP/1.0\r\n"));
    }
}
