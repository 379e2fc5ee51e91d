//! Sign-in, sessions and CSRF.
//!
//! - Sign-in takes an operator token (a token limited to shows is refused like a wrong one).
//!   A failure answers the same page with the same words, later each time for an address that
//!   keeps failing ([`crate::input::throttle`], as live sources are slowed).
//! - A session is a random 256-bit id in the `antenne_console` cookie (`HttpOnly`,
//!   `SameSite=Strict`, `Path=/console`, `Secure` behind https). Sessions live in memory
//!   only: a restart signs everyone out, which costs a sign-in and keeps no secret on disk.
//!   One expires after [`IDLE_EXPIRY`] without a request, at sign-out, and as soon as its
//!   token is revoked (checked against the catalog on every request).
//! - Every form carries the session's CSRF token; a `POST` without it, or with another,
//!   is refused with `403` ([`Posted`]).

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Mutex;
use std::time::Duration;

use axum::extract::{ConnectInfo, FromRef, FromRequest, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tokio::time::Instant;

use super::page::{self, Frame};
use super::text::t;
use super::{Console, audit};
use crate::http::conn::PeerAddr;
use crate::http::state::{CatalogAccess, HttpConfig};
use crate::http::web::{Lang, esc};

/// The session cookie's name.
pub const COOKIE: &str = "antenne_console";
/// A session unused this long is over.
pub const IDLE_EXPIRY: Duration = Duration::from_secs(12 * 3600);
/// Sessions kept at most (beyond, the least recently used goes).
const MAX_SESSIONS: usize = 1024;
/// The largest form the console accepts (a schedule file is a few kilobytes).
const MAX_FORM: usize = 1 << 20;

struct Session {
    /// The operator token's name: who, in the audit log.
    who: String,
    csrf: String,
    last_seen: Instant,
}

/// The open sessions, by id.
#[derive(Default)]
pub(super) struct Sessions(Mutex<HashMap<String, Session>>);

impl Sessions {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn open(&self, who: &str) -> String {
        let id = hex::encode(rand::random::<[u8; 32]>());
        let now = Instant::now();
        let mut map = self.lock();
        map.retain(|_, s| now.duration_since(s.last_seen) < IDLE_EXPIRY);
        if map.len() >= MAX_SESSIONS
            && let Some(oldest) = map
                .iter()
                .min_by_key(|(_, s)| s.last_seen)
                .map(|(k, _)| k.clone())
        {
            map.remove(&oldest);
        }
        map.insert(
            id.clone(),
            Session {
                who: who.to_owned(),
                csrf: hex::encode(rand::random::<[u8; 32]>()),
                last_seen: now,
            },
        );
        id
    }

    /// The session's operator and CSRF token, refreshing its idle clock; `None` once expired.
    fn touch(&self, id: &str) -> Option<(String, String)> {
        let now = Instant::now();
        let mut map = self.lock();
        let s = map.get_mut(id)?;
        if now.duration_since(s.last_seen) >= IDLE_EXPIRY {
            map.remove(id);
            return None;
        }
        s.last_seen = now;
        Some((s.who.clone(), s.csrf.clone()))
    }

    fn end(&self, id: &str) {
        self.lock().remove(id);
    }

    pub(super) fn end_all_of(&self, who: &str) {
        self.lock().retain(|_, s| s.who != who);
    }
}

/// A signed-in operator (extracting it answers the sign-in page with `401` otherwise).
#[derive(Debug, Clone)]
pub struct Operator {
    pub who: String,
    pub csrf: String,
    session: String,
    pub lang: Lang,
}

/// The session id of the request's cookie.
fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.to_owned())
        .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The language: `?lang=`, then `Accept-Language`.
pub fn lang_of(parts: &Parts) -> Lang {
    let q = parts.uri.query().unwrap_or("");
    let lang = form_urlencoded::parse(q.as_bytes())
        .find(|(k, _)| k == "lang")
        .map(|(_, v)| v.into_owned());
    let accept = parts
        .headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    Lang::negotiate(lang.as_deref(), accept)
}

impl<S> FromRequestParts<S> for Operator
where
    Console: FromRef<S>,
    CatalogAccess: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let lang = lang_of(parts);
        let console = Console::from_ref(state);
        let refused = || sign_in_response(StatusCode::UNAUTHORIZED, lang, None);
        let id = session_cookie(&parts.headers).ok_or_else(refused)?;
        let (who, csrf) = console.0.sessions.touch(&id).ok_or_else(refused)?;
        // Revoked (from here or `antenne token revoke`): the session ends with its token.
        let name = who.clone();
        let active = CatalogAccess::from_ref(state)
            .with_catalog(move |c| {
                Ok(c.list_tokens()?
                    .iter()
                    .any(|t| t.name == name && !t.revoked && t.is_operator()))
            })
            .await
            .map_err(|e| crate::http::ApiError::Internal(e).into_response())?;
        if !active {
            console.0.sessions.end(&id);
            return Err(refused());
        }
        Ok(Operator {
            who,
            csrf,
            session: id,
            lang,
        })
    }
}

/// A form posted by a signed-in operator, its CSRF token checked: `403` without it or with
/// another session's.
pub struct Posted {
    pub op: Operator,
    fields: Vec<(String, String)>,
}

impl Posted {
    /// A field's value ("" when absent).
    pub fn get(&self, name: &str) -> &str {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }

    /// Every value of a repeated field (checkboxes).
    pub fn all(&self, name: &str) -> Vec<String> {
        self.fields
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

impl<S> FromRequest<S> for Posted
where
    Console: FromRef<S>,
    CatalogAccess: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let mut op = Operator::from_request_parts(&mut parts, state).await?;
        let bytes = axum::body::to_bytes(body, MAX_FORM)
            .await
            .map_err(|_| StatusCode::PAYLOAD_TOO_LARGE.into_response())?;
        let fields: Vec<(String, String)> = form_urlencoded::parse(&bytes)
            .map(|(k, v)| (k.into_owned(), v.replace("\r\n", "\n")))
            .collect();
        let posted = Posted {
            op: op.clone(),
            fields,
        };
        if !same(posted.get("csrf").as_bytes(), op.csrf.as_bytes()) {
            return Err(page::message(
                StatusCode::FORBIDDEN,
                op.lang,
                t(op.lang, "csrf_title"),
                t(op.lang, "csrf_body"),
            ));
        }
        match posted.get("lang") {
            "en" => op.lang = Lang::En,
            "fr" => op.lang = Lang::Fr,
            _ => {}
        }
        Ok(Posted { op, ..posted })
    }
}

/// Constant-time equality of two secrets of the same length.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The sign-in page with `status` (and a message after a failure).
fn sign_in_response(status: StatusCode, lang: Lang, error: Option<&str>) -> Response {
    let mut body = String::new();
    if let Some(e) = error {
        body.push_str(&format!("<p class=\"error\" role=\"alert\">{}</p>", esc(e)));
    }
    body.push_str(&format!(
        "<form method=\"post\" action=\"/console/sign-in\" class=\"card narrow\">\
         <input type=\"hidden\" name=\"lang\" value=\"{code}\">\
         <label for=\"token\">{label}</label>\
         <input id=\"token\" name=\"token\" type=\"password\" autocomplete=\"current-password\" required>\
         <p class=\"help\">{help}</p>\
         <button type=\"submit\">{go}</button></form>",
        code = lang.code(),
        label = t(lang, "token_label"),
        help = t(lang, "token_help"),
        go = t(lang, "sign_in"),
    ));
    page::render(
        status,
        &Frame {
            lang,
            title: t(lang, "sign_in_title"),
            who: None,
            path: "/console/sign-in",
        },
        &body,
    )
}

/// `GET /console/sign-in`.
pub async fn sign_in_page(parts: Parts) -> Response {
    sign_in_response(StatusCode::OK, lang_of(&parts), None)
}

/// `POST /console/sign-in` (`token`): a session and its cookie, or the same refusal.
pub async fn sign_in(
    State(console): State<Console>,
    State(catalog): State<CatalogAccess>,
    State(config): State<std::sync::Arc<HttpConfig>>,
    req: Request,
) -> Response {
    let (parts, body) = req.into_parts();
    let peer = parts.extensions.get::<ConnectInfo<PeerAddr>>().copied();
    let mut lang = lang_of(&parts);
    let Ok(bytes) = axum::body::to_bytes(body, 4096).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    let mut secret = String::new();
    for (k, v) in form_urlencoded::parse(&bytes) {
        match (k.as_ref(), v.as_ref()) {
            ("token", v) => secret = v.trim().to_owned(),
            ("lang", "en") => lang = Lang::En,
            ("lang", "fr") => lang = Lang::Fr,
            _ => {}
        }
    }
    let ip = peer.map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.0.ip());
    let throttle = &console.0.throttle;
    let wait = throttle.delay(ip, std::time::Instant::now());
    if !wait.is_zero() {
        tokio::time::sleep(wait).await;
    }
    let record = if secret.is_empty() || secret.len() > 256 {
        None
    } else {
        catalog
            .with_catalog(move |c| c.token_for_secret(&secret))
            .await
            .ok()
            .flatten()
            .filter(|t| t.is_operator())
    };
    let Some(record) = record else {
        throttle.failed(ip, std::time::Instant::now());
        tracing::warn!(%ip, "console sign-in refused");
        return sign_in_response(
            StatusCode::UNAUTHORIZED,
            lang,
            Some(t(lang, "sign_in_refused")),
        );
    };
    throttle.succeeded(ip);
    let id = console.0.sessions.open(&record.name);
    audit(&catalog, &record.name, "session.open", String::new()).await;
    let secure = if config.public_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!("{COOKIE}={id}; Path=/console; HttpOnly; SameSite=Strict{secure}");
    let mut resp = page::see_other(&format!("/console?lang={}", lang.code()));
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    resp
}

/// `POST /console/sign-out`: the session ends here and now; its cookie is cleared.
pub async fn sign_out(
    State(console): State<Console>,
    State(catalog): State<CatalogAccess>,
    posted: Posted,
) -> Response {
    console.0.sessions.end(&posted.op.session);
    audit(&catalog, &posted.op.who, "session.close", String::new()).await;
    let mut resp = page::see_other(&format!("/console/sign-in?lang={}", posted.op.lang.code()));
    resp.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static(
            "antenne_console=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0",
        ),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_is_found_among_others_and_must_look_like_an_id() {
        let id = "a".repeat(64);
        let mut h = HeaderMap::new();
        h.append(header::COOKIE, HeaderValue::from_static("x=1; y=2"));
        h.append(
            header::COOKIE,
            HeaderValue::from_str(&format!("z=3; {COOKIE}={id}")).unwrap(),
        );
        assert_eq!(session_cookie(&h), Some(id));
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("antenne_console=short"),
        );
        assert_eq!(session_cookie(&h), None);
    }

    #[test]
    fn sessions_end_with_their_token() {
        let s = Sessions::default();
        let a = s.open("alice");
        let b = s.open("bob");
        assert_eq!(s.touch(&a).unwrap().0, "alice");
        s.end_all_of("alice");
        assert!(s.touch(&a).is_none());
        assert!(s.touch(&b).is_some());
        assert!(same(b"abc", b"abc") && !same(b"abc", b"abd") && !same(b"ab", b"abc"));
    }
}
