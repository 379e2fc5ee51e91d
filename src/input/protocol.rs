//! The Icecast source protocol, as source clients speak it: the request head (`SOURCE /live
//! HTTP/1.0`, or `PUT /live HTTP/1.1` with `Expect: 100-continue`, Basic auth, `Ice-*`
//! headers), the metadata update (`GET /admin/metadata?mode=updinfo&song=…`), and the answers
//! they expect. Pure parsing and formatting; the connection is [`super::session`]'s.
//!
//! A source's body has no length: it is the audio until the connection closes, which is why
//! these requests are taken off the HTTP server before hyper reads them (hyper would take an
//! HTTP/1.0 request without `Content-Length` as bodiless and parse the audio as the next
//! request).

use base64::Engine as _;

/// Longest request head taken from a source client.
pub const MAX_HEAD: usize = 16 * 1024;

/// What a connection's first bytes are, once enough of them arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opening {
    /// A live source or a metadata update: the live input's.
    Source,
    /// Anything else: the HTTP server's.
    Http,
    /// Too few bytes to tell yet.
    Unknown,
}

/// Classifies a connection by its first bytes: `SOURCE …`, `PUT /live…`,
/// `GET /admin/metadata…` and `OPTIONS *` are the live input's. libshout (ices2, Mixxx)
/// opens with `OPTIONS *` to ask whether the server upgrades to TLS, then reconnects for its
/// `SOURCE`: hyper would answer it on a connection kept alive, which libshout then reuses for
/// the `SOURCE` that hyper cannot take.
pub fn opening(first: &[u8]) -> Opening {
    const OURS: [&[u8]; 4] = [b"SOURCE ", b"PUT /live", b"GET /admin/", b"OPTIONS * "];
    for prefix in OURS {
        let n = first.len().min(prefix.len());
        if first[..n] == prefix[..n] {
            if n == prefix.len() {
                return Opening::Source;
            }
            return Opening::Unknown;
        }
    }
    Opening::Http
}

/// A parsed request head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub method: String,
    /// The path, without its query.
    pub path: String,
    pub query: Vec<(String, String)>,
    pub version: String,
    /// Lower-cased names, in order.
    pub headers: Vec<(String, String)>,
}

/// Why a head was refused before any credential was looked at.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeadError {
    #[error("the request head is not HTTP")]
    Malformed,
    #[error("the request head is larger than {MAX_HEAD} bytes")]
    TooLarge,
}

impl Head {
    /// Parses a head ending with an empty line (`\r\n\r\n` or `\n\n`). Returns the head and
    /// the length it took, or `Ok(None)` when the empty line has not arrived yet.
    pub fn parse(bytes: &[u8]) -> Result<Option<(Head, usize)>, HeadError> {
        let Some(end) = head_end(bytes) else {
            return if bytes.len() >= MAX_HEAD {
                Err(HeadError::TooLarge)
            } else {
                Ok(None)
            };
        };
        let text = std::str::from_utf8(&bytes[..end]).map_err(|_| HeadError::Malformed)?;
        let mut lines = text.lines();
        let request = lines.next().ok_or(HeadError::Malformed)?;
        let mut parts = request.split(' ').filter(|p| !p.is_empty());
        let (Some(method), Some(target), version) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(HeadError::Malformed);
        };
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let asterisk = method == "OPTIONS" && path == "*";
        if !(path.starts_with('/') || asterisk) || method.bytes().any(|b| !b.is_ascii_uppercase()) {
            return Err(HeadError::Malformed);
        }
        let mut headers = Vec::new();
        for line in lines {
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':').ok_or(HeadError::Malformed)?;
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
        let query = form_urlencoded::parse(query.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let head = Head {
            method: method.to_owned(),
            path: path.to_owned(),
            query,
            version: version.unwrap_or("HTTP/1.0").to_owned(),
            headers,
        };
        Ok(Some((head, end)))
    }

    /// The first value of header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The Basic credentials, `(user, password)`. Legacy Icecast sources send only a password
    /// (the user is then `source`).
    pub fn credentials(&self) -> Option<(String, String)> {
        let value = self.header("authorization")?;
        let (scheme, encoded) = value.split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("basic") || encoded.len() > 1024 {
            return None;
        }
        let raw = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .ok()?;
        let text = String::from_utf8(raw).ok()?;
        match text.split_once(':') {
            Some((user, password)) => Some((user.to_owned(), password.to_owned())),
            None => Some(("source".to_owned(), text)),
        }
    }

    /// Whether the client waits for `100 Continue` before it sends audio.
    pub fn expects_continue(&self) -> bool {
        self.header("expect")
            .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
    }

    /// The stream's own name (`Ice-Name`), if it gave a printable one.
    pub fn stream_name(&self) -> Option<String> {
        self.header("ice-name")
            .map(printable)
            .filter(|n| !n.is_empty())
    }
}

/// Where the head ends (the index after its empty line).
fn head_end(bytes: &[u8]) -> Option<usize> {
    let crlf = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| i + 4);
    let lf = bytes.windows(2).position(|w| w == b"\n\n").map(|i| i + 2);
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Text fit for a title: control characters dropped, at most 200 characters.
pub fn printable(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect::<String>()
        .trim()
        .to_owned()
}

/// The answers a source client is given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Go ahead: for `SOURCE` and for `PUT` without `Expect`.
    Ok,
    /// Go ahead: for `PUT` with `Expect: 100-continue`.
    Continue,
    /// Missing, wrong or revoked credentials: the same bare answer every time.
    Unauthorized,
    /// Known credentials that may not go live now, and why.
    Forbidden(String),
    /// Not a method or a path the live input knows.
    NotFound,
    /// `OPTIONS *`: the methods taken, no TLS upgrade offered (so libshout goes on in plain
    /// text).
    Options,
    BadRequest(String),
    /// The metadata update was taken.
    MetadataUpdated,
    Unavailable(String),
}

impl Answer {
    pub fn status(&self) -> u16 {
        match self {
            Answer::Ok | Answer::MetadataUpdated => 200,
            Answer::Continue => 100,
            Answer::Unauthorized => 401,
            Answer::Forbidden(_) => 403,
            Answer::NotFound => 404,
            Answer::Options => 204,
            Answer::BadRequest(_) => 400,
            Answer::Unavailable(_) => 503,
        }
    }

    /// The bytes on the wire. Icecast answers sources in HTTP/1.0; clients read the status
    /// line and, on refusal, show the body.
    pub fn to_bytes(&self) -> Vec<u8> {
        let text = |status: &str, extra: &str, body: &str| {
            format!(
                "HTTP/1.0 {status}\r\nServer: Antenne\r\nConnection: close\r\n{extra}\
                 Content-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )
        };
        let s = match self {
            Answer::Ok => "HTTP/1.0 200 OK\r\nServer: Antenne\r\n\r\n".to_owned(),
            Answer::Continue => "HTTP/1.1 100 Continue\r\nServer: Antenne\r\n\r\n".to_owned(),
            Answer::Options => {
                "HTTP/1.0 204 No Content\r\nServer: Antenne\r\nConnection: close\r\n\
                                Allow: GET, PUT, SOURCE, OPTIONS\r\n\r\n"
                    .to_owned()
            }
            Answer::Unauthorized => text(
                "401 Unauthorized",
                "WWW-Authenticate: Basic realm=\"Antenne live\"\r\n",
                "Unauthorized\n",
            ),
            Answer::Forbidden(why) => text("403 Forbidden", "", &format!("{why}\n")),
            Answer::NotFound => text("404 Not Found", "", "Not found\n"),
            Answer::BadRequest(why) => text("400 Bad Request", "", &format!("{why}\n")),
            Answer::Unavailable(why) => text("503 Service Unavailable", "", &format!("{why}\n")),
            Answer::MetadataUpdated => {
                let body = "<?xml version=\"1.0\"?>\n<iceresponse><message>Metadata update \
                            successful</message><return>1</return></iceresponse>\n";
                format!(
                    "HTTP/1.0 200 OK\r\nServer: Antenne\r\nConnection: close\r\n\
                     Content-Type: text/xml\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                )
            }
        };
        s.into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(text: &str) -> Head {
        Head::parse(text.as_bytes()).unwrap().unwrap().0
    }

    #[test]
    fn openings_are_told_apart_from_their_first_bytes() {
        let check = |bytes: &[u8], expected| assert_eq!(opening(bytes), expected, "{bytes:?}");
        check(b"SOURCE /live HTTP/1.0\r\n", Opening::Source);
        check(b"PUT /live HTTP/1.1\r\n", Opening::Source);
        check(b"PUT /live.mp3 HTTP/1.1\r\n", Opening::Source);
        check(b"GET /admin/metadata?mode=updinfo", Opening::Source);
        check(b"GET /stream HTTP/1.1\r\n", Opening::Http);
        check(b"PATCH /api/uploads/x", Opening::Http);
        check(b"PUT /api", Opening::Http);
        check(b"OPTIONS * HTTP/1.1\r\n", Opening::Source);
        check(b"OPTIONS /api/episodes HTTP/1.1\r\n", Opening::Http);
        check(b"SOU", Opening::Unknown);
        check(b"PUT /li", Opening::Unknown);
        check(b"", Opening::Unknown);
    }

    #[test]
    fn a_source_head_gives_its_method_mount_credentials_and_name() {
        let h = head(
            "PUT /live?until=18%3A00 HTTP/1.1\r\nHost: radio\r\n\
             Authorization: Basic bGEtbWF0aW5hbGU6YW50X3NlY3JldA==\r\n\
             Expect: 100-continue\r\nIce-Name: Fête\u{7} des Ors\r\n\
             Content-Type: audio/mpeg\r\n\r\nAUDIO",
        );
        assert_eq!((h.method.as_str(), h.path.as_str()), ("PUT", "/live"));
        assert_eq!(h.param("until"), Some("18:00"));
        assert_eq!(
            h.credentials(),
            Some(("la-matinale".to_owned(), "ant_secret".to_owned()))
        );
        assert!(h.expects_continue());
        assert_eq!(h.stream_name().as_deref(), Some("Fête des Ors"));
        assert_eq!(h.header("content-type"), Some("audio/mpeg"));
        // Legacy: `SOURCE`, a bare-password credential, LF line ends.
        let h = head("SOURCE /live HTTP/1.0\nAuthorization: Basic aGFja21l\n\n");
        assert_eq!(h.method, "SOURCE");
        assert_eq!(
            h.credentials(),
            Some(("source".to_owned(), "hackme".to_owned()))
        );
        assert!(!h.expects_continue());
    }

    #[test]
    fn heads_are_refused_when_malformed_or_too_large_and_awaited_when_short() {
        assert_eq!(Head::parse(b"SOURCE /live HTTP/1.0\r\nIce"), Ok(None));
        let check = |bytes: &[u8]| assert_eq!(Head::parse(bytes), Err(HeadError::Malformed));
        check(b"SOURCE\r\n\r\n");
        check(b"source /live HTTP/1.0\r\n\r\n");
        check(b"SOURCE live HTTP/1.0\r\n\r\n");
        check(b"SOURCE * HTTP/1.0\r\n\r\n");
        assert_eq!(head("OPTIONS * HTTP/1.1\r\nHost: radio\r\n\r\n").path, "*");
        check(b"SOURCE /live HTTP/1.0\r\nno colon\r\n\r\n");
        check(b"SOURCE /live HTTP/1.0\r\nX: \xff\r\n\r\n");
        let huge = vec![b'a'; MAX_HEAD];
        assert_eq!(Head::parse(&huge), Err(HeadError::TooLarge));
        // Credentials that are not Basic, not base64 or not UTF-8 are none.
        for auth in ["Bearer abc", "Basic !!!", "Basic /w=="] {
            let h = head(&format!(
                "SOURCE /live HTTP/1.0\r\nAuthorization: {auth}\r\n\r\n"
            ));
            assert_eq!(h.credentials(), None, "{auth}");
        }
    }

    #[test]
    fn answers_are_what_source_clients_read() {
        let text = |a: Answer| String::from_utf8(a.to_bytes()).unwrap();
        assert!(text(Answer::Ok).starts_with("HTTP/1.0 200 OK\r\n"));
        assert!(text(Answer::Continue).starts_with("HTTP/1.1 100 Continue\r\n"));
        let denied = text(Answer::Unauthorized);
        assert!(denied.starts_with("HTTP/1.0 401 Unauthorized\r\n"));
        assert!(denied.contains("WWW-Authenticate: Basic"));
        assert!(denied.ends_with("\r\n\r\nUnauthorized\n"));
        let refused = text(Answer::Forbidden("no live slot now".into()));
        assert!(refused.starts_with("HTTP/1.0 403 Forbidden\r\n") && refused.ends_with("now\n"));
        assert!(text(Answer::MetadataUpdated).contains("<return>1</return>"));
        // libshout takes any 2xx to `OPTIONS *` and, without `Upgrade`, stays in plain text.
        let options = text(Answer::Options);
        assert!(
            options.starts_with("HTTP/1.0 204 No Content\r\n"),
            "{options}"
        );
        assert!(options.contains("Connection: close\r\n") && options.contains("SOURCE"));
        assert!(!options.to_ascii_lowercase().contains("upgrade"));
    }
}
