//! The live stream alone: `antenne::http::stream` over one mount on an axum router, without
//! the rest of the station.

use std::sync::Arc;

use antenne::broadcast::{Hub, Mount, StationInfo};
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, Method};
use axum::response::Response;
use axum::routing::get;

async fn handler(State(mount): State<Arc<Mount>>, method: Method, headers: HeaderMap) -> Response {
    antenne::http::stream::stream(&mount, &headers, &method).await
}

/// `GET`/`HEAD` at the MP3 mount's paths (`/stream`, `/stream.mp3`) on `hub`, announcing
/// `info`, as the daemon serves them.
pub fn router(hub: Hub, info: StationInfo) -> Router {
    let mount = Mount::mp3(hub, info);
    let mut router = Router::new();
    for path in &mount.paths {
        router = router.route(path, get(handler).head(handler));
    }
    router.with_state(Arc::new(mount))
}
