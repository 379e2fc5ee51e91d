//! HTTP surfaces: the only module that knows axum and JSON.
//!
//! [`router`] builds every route over an [`AppState`]; [`serve`] is what `main` and the tests
//! both call. Handlers do no blocking work: catalog calls go through
//! [`AppState::with_catalog`], audio work is the daemon's tasks'.

mod auth;
pub mod conn;
mod episodes;
mod error;
pub mod feed;
pub mod media;
mod resumable;
mod schedule;
mod status;
pub mod stream;
mod upload;
pub(crate) mod web;
pub mod wire;

use std::future::{Future, IntoFuture};
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::handler::Handler;
use axum::routing::{get, head, post};
use tokio::net::TcpListener;

pub use error::ApiError;
pub use resumable::parse_metadata as parse_tus_metadata;

use crate::daemon::AppState;

/// Every route of the station.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(web::station))
        .route("/shows/{slug}", get(web::show))
        .route("/upload", get(web::upload))
        .route("/static/style.css", get(web::style_css))
        .route("/static/app.js", get(web::app_js))
        .route("/static/upload.js", get(web::upload_js))
        .route("/healthz", get(status::healthz))
        .route("/api/status", get(status::status))
        .route("/metrics", get(status::metrics))
        .route("/stream", get(live).head(live))
        .route("/stream.mp3", get(live).head(live))
        .route("/api/schedule", get(schedule::schedule))
        .route("/api/now", get(schedule::now))
        .route(
            "/api/episodes",
            // Uploads stream to disk under their own limit (`upload_limit_bytes`).
            get(episodes::list).post(upload::create.layer(DefaultBodyLimit::disable())),
        )
        .route(
            "/api/episodes/{id}",
            get(episodes::get_one)
                .patch(episodes::patch)
                .delete(episodes::delete),
        )
        .route(
            "/api/uploads",
            post(resumable::create).options(resumable::options),
        )
        .route(
            "/api/uploads/{uid}",
            head(resumable::head)
                .patch(resumable::patch)
                .delete(resumable::terminate),
        )
        .route("/feed.xml", get(feed::station_feed))
        .route("/shows/{slug}/{file}", get(feed::show_file))
        .route("/cover.png", get(feed::station_cover))
        .route("/cover.jpg", get(feed::station_cover))
        .route("/media/{file}", get(media::media))
        .fallback(|| async { ApiError::NotFound })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            status::count_requests,
        ))
        .with_state(state)
}

async fn live(
    axum::extract::State(state): axum::extract::State<AppState>,
    method: axum::http::Method,
    headers: axum::http::HeaderMap,
) -> axum::response::Response {
    stream::stream(state.hub(), state.station_info(), &headers, &method).await
}

/// Serves `state` on `listener` until `shutdown` resolves; then stops accepting, ends open
/// stream bodies (through the state's shutdown token) and returns within a few seconds.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let token = state.shutdown_token().clone();
    let app = router(state);
    let signal = {
        let token = token.clone();
        async move {
            tokio::select! {
                () = shutdown => {}
                () = token.cancelled() => {}
            }
            // Stream bodies end on this token; without it graceful shutdown would wait for
            // every listener forever (axum#2673).
            token.cancel();
        }
    };
    // Client addresses feed download counting (hashed there, never stored).
    let app = app.into_make_service_with_connect_info::<conn::PeerAddr>();
    let listener = conn::GuardedListener::new(listener, conn::WRITE_STALL);
    let server = axum::serve(listener, app)
        .with_graceful_shutdown(signal)
        .into_future();
    tokio::pin!(server);
    tokio::select! {
        res = &mut server => res,
        () = async {
            token.cancelled().await;
            tokio::time::sleep(Duration::from_secs(2)).await;
        } => {
            tracing::warn!("connections still open 2 s after shutdown; closing them");
            Ok(())
        }
    }
}
