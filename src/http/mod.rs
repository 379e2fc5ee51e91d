//! HTTP surfaces: the only module that knows axum and JSON.
//!
//! [`router`] builds every route over an [`HttpState`] (each handler extracts only the
//! substates it uses); [`serve`] is what the daemon and the tests both call. Handlers do no
//! blocking work: catalog calls go through [`CatalogAccess::with_catalog`], audio work is
//! the daemon's tasks'. Each route declares its own request-body policy (see
//! [`conn::long_body`]).

mod audience;
mod auth;
mod calendar;
pub mod conn;
pub mod console;
mod episodes;
mod error;
pub mod feed;
pub mod hls;
pub mod media;
pub mod refresh;
pub mod reports;
mod resumable;
mod schedule;
pub mod splice;
pub mod state;
mod status;
pub mod stream;
mod upload;
pub(crate) mod web;
pub mod wire;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::DefaultBodyLimit;
use axum::handler::Handler;
use axum::routing::{get, head, post};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use error::ApiError;
pub use hls::{HlsAccess, HlsService};
pub use resumable::parse_metadata as parse_tus_metadata;
pub use state::{CatalogAccess, HttpConfig, HttpState, LiveAccess, MediaFiles, OnAir, Process};

/// Every route of the station.
pub fn router(state: HttpState) -> Router {
    // Uploads stream to disk under their own limit (`upload_limit_bytes`) and take as long
    // as the recording needs: no body size limit, no total body deadline (the idle timeout
    // still applies).
    let long = || axum::middleware::from_fn(conn::long_body);
    mount_routes(Router::new(), &state)
        .merge(console::routes())
        .route("/", get(web::station))
        .route("/shows/{slug}", get(web::show))
        .route("/upload", get(web::upload))
        .route("/live", get(web::live))
        .route("/static/style.css", get(web::style_css))
        .route("/static/app.js", get(web::app_js))
        .route("/static/upload.js", get(web::upload_js))
        .route("/favicon.svg", get(web::favicon))
        .route(
            "/favicon.ico",
            get(|| async { axum::response::Redirect::permanent("/favicon.svg") }),
        )
        .route("/embed/player", get(web::embed_player))
        .route("/embed/programme", get(web::embed_programme))
        .route("/programme.ics", get(calendar::programme))
        .route("/audience", get(audience::page))
        .route("/audience/{file}", get(audience::csv))
        .route("/healthz", get(status::healthz))
        .route("/api/status", get(status::status))
        .route("/api/library", get(status::library))
        .route("/api/library/untagged", get(reports::untagged))
        .route("/api/reports/airplay", get(reports::airplay))
        .route("/metrics", get(status::metrics))
        .route("/api/schedule", get(schedule::schedule))
        .route("/api/now", get(schedule::now))
        .route("/hls/{file}", get(hls::file))
        .route(
            "/api/episodes",
            get(episodes::list).post(
                upload::create
                    .layer(DefaultBodyLimit::disable())
                    .layer(long()),
            ),
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
                .patch(resumable::patch.layer(long()))
                .delete(resumable::terminate),
        )
        .route("/feed.xml", get(feed::station_feed))
        .route("/shows/{slug}/{file}", get(feed::show_file))
        .route("/cover.png", get(feed::station_cover))
        .route("/cover.jpg", get(feed::station_cover))
        .route("/media/{file}", get(media::media))
        .fallback(|| async { ApiError::NotFound })
        .layer(axum::middleware::from_fn(refuse_framing))
        .layer(axum::middleware::from_fn_with_state(
            state.process.clone(),
            status::count_requests,
        ))
        .with_state(state)
}

/// Every response but the embeds' refuses to be framed by another page (clickjacking): the
/// CSP's `frame-ancestors 'none'` (pages set theirs whole) and the older `X-Frame-Options`.
async fn refuse_framing(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::{HeaderValue, header};
    let embed = req.uri().path().starts_with("/embed/");
    let mut resp = next.run(req).await;
    if !embed {
        let h = resp.headers_mut();
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
            h.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("frame-ancestors 'none'"),
            );
        }
    }
    resp
}

/// Adds `GET`/`HEAD` at every path of every mount: a new mount is served without a new
/// route here.
fn mount_routes(mut router: Router<HttpState>, state: &HttpState) -> Router<HttpState> {
    for (i, mount) in state.on_air.mounts().iter().enumerate() {
        let handler = move |axum::extract::State(on_air): axum::extract::State<OnAir>,
                            method: axum::http::Method,
                            headers: axum::http::HeaderMap| async move {
            stream::stream(&on_air.mounts()[i], &headers, &method).await
        };
        for path in &mount.paths {
            router = router.route(path, get(handler).head(handler));
        }
    }
    router
}

/// Serves `state` on `listener` until `shutdown` resolves; then stops accepting, ends open
/// stream bodies (through the state's shutdown token) and returns within a few seconds.
/// Limits come from the state's [`HttpConfig`].
pub async fn serve(
    listener: TcpListener,
    state: HttpState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = state.config.limits.clone();
    serve_with(listener, state, shutdown, limits).await
}

/// Whether a connection's first bytes are a live source client's (`SOURCE`, `PUT /live`,
/// `GET /admin/`), looked at without consuming them.
async fn is_live_source(stream: &tokio::net::TcpStream, within: Duration) -> bool {
    use crate::input::protocol::{Opening, opening};
    let deadline = tokio::time::Instant::now() + within;
    let mut buf = [0u8; 16];
    loop {
        let n = match tokio::time::timeout_at(deadline, stream.peek(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => n,
            _ => return false,
        };
        match opening(&buf[..n]) {
            Opening::Source => return true,
            Opening::Http => return false,
            // A request line split across packets: wait for more of it.
            Opening::Unknown if n < buf.len() => {
                if tokio::time::timeout_at(deadline, tokio::time::sleep(Duration::from_millis(5)))
                    .await
                    .is_err()
                {
                    return false;
                }
            }
            Opening::Unknown => return false,
        }
    }
}

/// [`serve`] with explicit [`conn::Limits`] (tests use short timeouts).
///
/// Each connection is one hyper HTTP/1 connection on its own task, holding one permit of the
/// connection limit; over the limit a connection is answered `503` and closed at once, so idle
/// clients can never exhaust file descriptors. Request bodies are wrapped in
/// [`conn::TimedBody`]. On shutdown, every connection is asked to finish its current request
/// and close; those still open after `shutdown_grace` are closed.
pub async fn serve_with(
    listener: TcpListener,
    state: HttpState,
    shutdown: impl Future<Output = ()> + Send + 'static,
    limits: conn::Limits,
) -> std::io::Result<()> {
    use hyper_util::rt::TokioTimer;

    let token = state.process.shutdown_token().clone();
    let live = state.live.0.clone();
    let (on_air, process) = (state.on_air.clone(), state.process.clone());
    let first_request = stream::FirstRequest {
        header_read: limits.header_read,
        max_header_bytes: limits.max_header_bytes,
        write_stall: limits.write_stall,
    };
    let app = router(state);
    let max = conn::effective_max_connections(limits.max_connections);
    let permits = Arc::new(tokio::sync::Semaphore::new(max));
    let closing = CancellationToken::new();
    let tracker = TaskTracker::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read)
        .max_header_size(limits.max_header_bytes)
        .max_buf_size(limits.max_header_bytes.max(8192) * 2)
        .max_headers(100);
    let ctx = Arc::new(ConnContext {
        app,
        builder,
        limits: limits.clone(),
        token: token.clone(),
        closing: closing.clone(),
        live,
        on_air,
        process,
        first_request,
    });
    let mut listener = conn::GuardedListener::new(listener);
    let mut refused = 0u64;
    tokio::pin!(shutdown);
    loop {
        let (stream, addr) = tokio::select! {
            () = &mut shutdown => break,
            () = token.cancelled() => break,
            accepted = listener.accept_raw() => accepted,
        };
        let Ok(permit) = Arc::clone(&permits).try_acquire_owned() else {
            conn::refuse(stream);
            refused += 1;
            if refused.is_power_of_two() {
                tracing::warn!(
                    max,
                    refused,
                    "connection limit reached; refusing connections"
                );
            }
            continue;
        };
        // The task holds only the socket, its permit and one shared context: a listener's
        // task lives for hours, thousands at once, so its size is memory per listener (the
        // hyper connection and the live input's session are boxed, off the task).
        let ctx = Arc::clone(&ctx);
        tracker.spawn(async move {
            let _permit = permit;
            // Source clients (the live input) speak a protocol of their own on this port.
            if let Some(live) = &ctx.live
                && is_live_source(&stream, ctx.limits.header_read).await
            {
                Box::pin(crate::input::session::handle(live.clone(), stream, addr)).await;
                return;
            }
            // Stream listeners are served without hyper (see `stream`'s module doc).
            let taken = crate::broadcast::cancel::UntilCancelled::new(
                ctx.closing.clone(),
                stream::take_listener(stream, ctx.on_air.mounts(), &ctx.first_request, || {
                    ctx.process.count_request()
                }),
            );
            if let Some(stream::Taken::Http(stream, header_left)) = taken.await {
                Box::pin(serve_http(&ctx, stream, addr, header_left)).await;
            }
        });
    }
    // Stream bodies end on this token; without it graceful shutdown would wait for every
    // listener forever (axum#2673).
    token.cancel();
    drop(listener);
    tracker.close();
    if tokio::time::timeout(limits.shutdown_grace, tracker.wait())
        .await
        .is_err()
    {
        tracing::warn!(
            open = tracker.len(),
            "connections still open {:?} after shutdown; closing them",
            limits.shutdown_grace
        );
        closing.cancel();
        let _ = tokio::time::timeout(Duration::from_millis(500), tracker.wait()).await;
    }
    Ok(())
}

/// What every connection's task shares (one `Arc` per task, see [`serve_with`]).
struct ConnContext {
    app: Router,
    builder: hyper::server::conn::http1::Builder,
    limits: conn::Limits,
    token: CancellationToken,
    closing: CancellationToken,
    live: Option<crate::input::LiveService>,
    on_air: OnAir,
    process: Process,
    first_request: stream::FirstRequest,
}

/// One hyper HTTP/1 connection, from the request whose first bytes were already read, until
/// the client closes it or the server shuts down.
async fn serve_http(
    ctx: &ConnContext,
    stream: conn::Rewound<tokio::net::TcpStream>,
    addr: std::net::SocketAddr,
    header_left: Duration,
) {
    use hyper::body::Incoming;
    use hyper_util::rt::TokioIo;
    use tower::ServiceExt;

    let app = ctx.app.clone();
    let (idle, total) = (ctx.limits.body_idle, ctx.limits.body_total);
    // Bodies that are also a file's go out with sendfile (see `splice`).
    let slot = splice::Slot::default();
    let io_slot = slot.clone();
    let service = hyper::service::service_fn(move |req: axum::http::Request<Incoming>| {
        // A total body deadline by default; routes that take long bodies lift it.
        let deadline = conn::TotalDeadline::new(total);
        let mut req = req.map(|body| {
            Body::new(conn::TimedBody::new(
                Body::new(body),
                idle,
                Some(deadline.clone()),
            ))
        });
        req.extensions_mut().insert(deadline);
        // Client addresses feed download counting (hashed there, never stored).
        req.extensions_mut()
            .insert(axum::extract::ConnectInfo(conn::PeerAddr(addr)));
        splice::track(app.clone().oneshot(req), slot.clone())
    });
    let mut builder = ctx.builder.clone();
    builder.header_read_timeout(header_left);
    let io = TokioIo::new(conn::StallGuard::new(
        splice::Spliced::new(stream, io_slot),
        ctx.limits.write_stall,
    ));
    let connection = builder.serve_connection(io, service);
    tokio::pin!(connection);
    let result = tokio::select! {
        r = connection.as_mut() => r,
        () = ctx.token.cancelled() => {
            connection.as_mut().graceful_shutdown();
            tokio::select! {
                r = connection.as_mut() => r,
                () = ctx.closing.cancelled() => Ok(()),
            }
        }
    };
    if let Err(e) = result {
        tracing::debug!(%addr, "connection closed: {e}");
    }
}
