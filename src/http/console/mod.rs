//! The operators' console (`/console`, issue 17): server-rendered forms, French first, for
//! the people who run the station without a terminal.
//!
//! - `session.rs`: sign-in with an operator token, sessions kept in memory (a random id in an
//!   `HttpOnly`, `SameSite=Strict` cookie), the CSRF token every form carries, slowed failed
//!   sign-ins;
//! - `store.rs`: the schedule file read with its hash, saved atomically, every saved version
//!   kept in `history/` (who, when) to view and restore;
//! - `edits.rs`: the frequent edits (cancel a date, add a special, move a slot) as text edits
//!   of the TOML that keep its comments (`toml_edit`);
//! - `schedule.rs`, `views.rs`, `history.rs`: the editor: check (the validation of
//!   `antenne check`, every error at its line), preview (the `schedule diff` of the next 14
//!   days), save; the saved versions, viewed and restored;
//! - `tokens.rs`, `episodes.rs`, `audio.rs`: volunteers' tokens, the shows' episodes, and an
//!   episode's recording replaced;
//! - `page.rs`, `text.rs`: the HTML frame and the console's strings.
//!
//! Every change is written to the catalog's audit log (who, when, what), listed on the
//! console's home. The daemon builds the [`Console`] with the schedule's paths and the
//! validation it runs on reload ([`Validator`]): `http` never names the daemon.

mod audio;
mod declaration;
mod edits;
mod episodes;
mod history;
mod page;
mod schedule;
mod session;
mod store;
mod text;
mod tokens;
mod views;

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::handler::Handler;
use axum::routing::{get, post};

pub use edits::{Edit, apply_edit};
pub use session::{COOKIE, IDLE_EXPIRY};

use super::state::{CatalogAccess, HttpState};
use crate::input::throttle::Throttle;
use crate::schedule::{Diagnostic, Schedule};

/// Validates a schedule text as the daemon's reload does (`(text, file label, now)`): the
/// schedule and its warnings, or every diagnostic.
pub type Validator = Arc<
    dyn Fn(&str, &str, jiff::Timestamp) -> Result<(Schedule, Vec<Diagnostic>), Vec<Diagnostic>>
        + Send
        + Sync,
>;

/// Where the console finds the schedule it edits.
#[derive(Debug, Clone)]
pub struct ConsoleConfig {
    /// The schedule file the daemon reloads.
    pub schedule: PathBuf,
    /// Its saved versions (`ProcessSettings::schedule_history`).
    pub history: PathBuf,
}

/// The console's state: its config, the validation, the sessions, the sign-in throttle.
#[derive(Clone)]
pub struct Console(Arc<Inner>);

struct Inner {
    config: ConsoleConfig,
    validate: Validator,
    sessions: session::Sessions,
    throttle: Throttle,
    /// Saves one at a time: the on-disk hash check and the rename are one step.
    saving: tokio::sync::Mutex<()>,
}

impl Console {
    pub fn new(config: ConsoleConfig, validate: Validator) -> Console {
        Console(Arc::new(Inner {
            config,
            validate,
            sessions: session::Sessions::default(),
            throttle: Throttle::default(),
            saving: tokio::sync::Mutex::new(()),
        }))
    }

    pub fn config(&self) -> &ConsoleConfig {
        &self.0.config
    }

    /// Ends every session opened with token `name` (it was revoked).
    pub fn end_sessions_of(&self, name: &str) {
        self.0.sessions.end_all_of(name);
    }

    /// The file label diagnostics use (the schedule's file name).
    fn file_label(&self) -> String {
        self.0
            .config
            .schedule
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "schedule.toml".into())
    }
}

/// Writes one entry of the audit log (an error is logged: the change itself is done).
async fn audit(catalog: &CatalogAccess, who: &str, action: &'static str, detail: String) {
    let who = who.to_owned();
    let r = catalog
        .with_catalog(move |c| c.record_audit(&who, action, &detail, jiff::Timestamp::now()))
        .await;
    if let Err(e) = r {
        tracing::error!("console audit log: {e:#}");
    }
}

/// The console's routes (merged into [`super::router`]).
pub fn routes() -> Router<HttpState> {
    Router::new()
        .route("/console", get(page::home))
        .route(
            "/console/sign-in",
            get(session::sign_in_page).post(session::sign_in),
        )
        .route("/console/sign-out", post(session::sign_out))
        .route("/console/schedule", get(schedule::editor))
        .route("/console/schedule/check", post(schedule::check))
        .route("/console/schedule/edit", post(schedule::edit))
        .route("/console/schedule/save", post(schedule::save))
        .route("/console/schedule/history", get(history::list))
        .route("/console/schedule/history/{name}", get(history::version))
        .route("/console/schedule/restore", post(history::restore))
        .route("/console/declaration", get(declaration::download))
        .route("/console/tokens", get(tokens::list).post(tokens::create))
        .route("/console/tokens/revoke", post(tokens::revoke))
        .route("/console/episodes", get(episodes::list))
        .route(
            "/console/episodes/{id}",
            get(episodes::one).post(episodes::edit),
        )
        .route("/console/episodes/{id}/publish", post(episodes::publish))
        .route("/console/episodes/{id}/retry", post(episodes::retry))
        .route(
            "/console/episodes/{id}/audio",
            // A recording: no body size limit but `upload_limit`, no total deadline.
            post(
                audio::replace
                    .layer(axum::extract::DefaultBodyLimit::disable())
                    .layer(axum::middleware::from_fn(super::conn::long_body)),
            ),
        )
        .route("/static/console.css", get(page::css))
        .route("/static/console.js", get(page::js))
}

impl axum::extract::FromRef<HttpState> for Console {
    fn from_ref(state: &HttpState) -> Console {
        state.console.clone()
    }
}
