//! The operators' console through the router (issue 17): sign-in, sessions, CSRF and the
//! slowed failures (`session.rs`); the schedule editor's check, preview, save, history,
//! conflicts and restore, and the daemon's reload of a save (`schedule.rs`); tokens and
//! episodes (`manage.rs`). Helpers here: a station on a copy of the demo schedule, and a
//! signed-in browser (its cookie and the CSRF token read from a page).

mod manage;
mod schedule;
mod session;

use std::net::SocketAddr;

use antenne::catalog::{Grant, hash_secret};
use antenne::daemon::AppState;
use axum::body::Body;
use axum::http::{Request, Response};
use http_body_util::BodyExt;

use crate::support;

pub const OPERATOR: &str = "ant_console_operator_secret_0123456789";

/// A station whose schedule is a copy of the demo's in its own folder, with one operator
/// token (`alice`, [`OPERATOR`]).
pub struct Desk {
    /// Holds the station's folder until the test ends.
    pub _dir: tempfile::TempDir,
    pub state: AppState,
    pub schedule: std::path::PathBuf,
}

pub async fn desk_with(public_url: &str) -> Desk {
    let dir = tempfile::tempdir().unwrap();
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let schedule = dir.path().join("schedules/weekly.toml");
    std::fs::create_dir_all(schedule.parent().unwrap()).unwrap();
    std::fs::copy(repo.join("schedules/weekly.toml"), &schedule).unwrap();
    let mut settings = support::settings(dir.path());
    settings.process.schedule = schedule.clone();
    settings.process.public_url = public_url.into();
    let state = AppState::open(settings).await.unwrap();
    state
        .catalog()
        .add_token(
            "alice",
            &hash_secret(OPERATOR),
            &Grant::default(),
            jiff::Timestamp::now(),
        )
        .unwrap();
    Desk {
        _dir: dir,
        state,
        schedule,
    }
}

pub async fn desk() -> Desk {
    desk_with("http://radio.test").await
}

/// A response's status, headers and text.
pub struct Page {
    pub status: u16,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

impl Page {
    pub fn location(&self) -> &str {
        self.headers
            .get("location")
            .map(|v| v.to_str().unwrap())
            .unwrap_or("")
    }

    /// The first form's CSRF token on the page.
    pub fn csrf(&self) -> String {
        self.field("csrf").expect("a form with a CSRF token")
    }

    /// The value of the first hidden field `name`.
    pub fn field(&self, name: &str) -> Option<String> {
        let key = format!("name=\"{name}\" value=\"");
        let at = self.body.find(&key)? + key.len();
        let end = self.body[at..].find('"')? + at;
        Some(unescape(&self.body[at..end]))
    }

    /// The text of the first `<textarea … name="text" …>`.
    pub fn textarea(&self) -> String {
        let mut from = 0;
        let at = loop {
            let at = self.body[from..].find("<textarea").expect("a text area") + from;
            let tag_end = self.body[at..].find('>').unwrap() + at;
            if self.body[at..tag_end].contains("name=\"text\"") {
                break at;
            }
            from = tag_end;
        };
        let open = self.body[at..].find('>').unwrap() + at + 1;
        let close = self.body[open..].find("</textarea>").unwrap() + open;
        // As a browser reads it: the newline right after the tag is not part of the text.
        let text = &self.body[open..close];
        unescape(text.strip_prefix('\n').unwrap_or(text))
    }
}

pub fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

pub async fn page(resp: Response<Body>) -> Page {
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    Page {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

/// A browser: its session cookie, from one address.
#[derive(Clone)]
pub struct Browser {
    pub cookie: Option<String>,
    pub addr: SocketAddr,
}

impl Browser {
    pub fn new() -> Browser {
        Browser {
            cookie: None,
            addr: "192.0.2.10:50000".parse().unwrap(),
        }
    }

    fn request(&self, req: axum::http::request::Builder) -> axum::http::request::Builder {
        let req = req.extension(axum::extract::ConnectInfo(antenne::http::conn::PeerAddr(
            self.addr,
        )));
        match &self.cookie {
            Some(c) => req.header("cookie", format!("{}={c}", antenne::http::console::COOKIE)),
            None => req,
        }
    }

    pub async fn get(&self, state: &AppState, uri: &str) -> Page {
        let req = self.request(Request::get(uri)).body(Body::empty()).unwrap();
        page(support::send(state, req).await).await
    }

    pub async fn post(&self, state: &AppState, uri: &str, fields: &[(&str, &str)]) -> Page {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let req = self
            .request(Request::post(uri))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap();
        page(support::send(state, req).await).await
    }

    /// Posts a multipart form (text fields, then the file).
    pub async fn post_multipart(
        &self,
        state: &AppState,
        uri: &str,
        fields: &[(&str, &str)],
        file: (&str, &[u8]),
    ) -> Page {
        use crate::support::upload::{BOUNDARY, form};
        let req = self
            .request(Request::post(uri))
            .header(
                "content-type",
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .body(Body::from(form(fields, Some(file))))
            .unwrap();
        page(support::send(state, req).await).await
    }

    /// Signs in with `secret`; keeps the session cookie when one is set.
    pub async fn sign_in(&mut self, state: &AppState, secret: &str) -> Page {
        let p = self
            .post(state, "/console/sign-in", &[("token", secret)])
            .await;
        if let Some(c) = p.headers.get("set-cookie") {
            let c = c.to_str().unwrap();
            let value = c.split(';').next().unwrap().split_once('=').unwrap().1;
            self.cookie = Some(value.to_owned());
        }
        p
    }

    /// Posts a form of `page` (its CSRF token added).
    pub async fn submit(
        &self,
        state: &AppState,
        from: &Page,
        uri: &str,
        fields: &[(&str, &str)],
    ) -> Page {
        let csrf = from.csrf();
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        self.post(state, uri, &all).await
    }
}

/// The daemon's schedule reload, running until the station's shutdown token is cancelled.
pub fn reloading(d: &Desk) -> tokio::task::JoinHandle<()> {
    tokio::spawn(antenne::daemon::schedule::reload_task(
        d.state.schedule_sender().clone(),
        d.state.settings().process.media_dir.clone(),
        d.state.catalog().clone(),
        d.state.shutdown_token().clone(),
    ))
}

/// A signed-in operator.
pub async fn operator(desk: &Desk) -> Browser {
    let mut b = Browser::new();
    let p = b.sign_in(&desk.state, OPERATOR).await;
    assert_eq!(p.status, 303, "{}", p.body);
    b
}
