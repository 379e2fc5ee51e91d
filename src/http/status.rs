//! Health, status and Prometheus metrics.

use std::fmt::Write;

use axum::Json;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::ApiError;
use crate::daemon::{AppState, Metrics};

pub async fn count_requests(State(state): State<AppState>, req: Request, next: Next) -> Response {
    Metrics::inc(&state.metrics().http_requests);
    next.run(req).await
}

/// Liveness: the process answers.
pub async fn healthz() -> &'static str {
    "ok\n"
}

pub async fn status(State(state): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    let counts = state.with_catalog(|c| c.counts()).await?;
    let schedule = {
        let s = state.schedule();
        serde_json::json!({
            "file": s.path.display().to_string(),
            "loaded_at": s.loaded_at.to_string(),
            "slots": s.schedule.slots().len(),
            "shows": s.schedule.shows().len(),
            "warnings": s.warnings,
            "refused": s.refused.as_ref().map(|r| serde_json::json!({
                "at": r.at.to_string(),
                "errors": r.errors,
            })),
        })
    };
    Ok(Json(serde_json::json!({
        "schedule": schedule,
        "version": env!("CARGO_PKG_VERSION"),
        "started_at": state.started_at().to_string(),
        "uptime_s": state.uptime().as_secs(),
        "catalog": {
            "shows": counts.shows,
            "episodes": {
                "queued": counts.queued,
                "processing": counts.processing,
                "ready": counts.ready,
                "failed": counts.failed,
            },
            "tokens": counts.tokens,
        },
    })))
}

pub async fn metrics(State(state): State<AppState>) -> Result<Response, ApiError> {
    let counts = state.with_catalog(|c| c.counts()).await?;
    let mut out = String::new();
    let mut metric = |name: &str, kind: &str, help: &str, samples: &[(&str, f64)]| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for (labels, v) in samples {
            let _ = writeln!(out, "{name}{labels} {v}");
        }
    };
    metric(
        "antenne_uptime_seconds",
        "gauge",
        "Seconds since the daemon started.",
        &[("", state.uptime().as_secs_f64())],
    );
    metric(
        "antenne_http_requests_total",
        "counter",
        "HTTP requests received.",
        &[(
            "",
            state
                .metrics()
                .http_requests
                .load(std::sync::atomic::Ordering::Relaxed) as f64,
        )],
    );
    metric(
        "antenne_episodes",
        "gauge",
        "Episodes in the catalog by status.",
        &[
            ("{status=\"queued\"}", counts.queued as f64),
            ("{status=\"processing\"}", counts.processing as f64),
            ("{status=\"ready\"}", counts.ready as f64),
            ("{status=\"failed\"}", counts.failed as f64),
        ],
    );
    metric(
        "antenne_shows",
        "gauge",
        "Shows in the catalog.",
        &[("", counts.shows as f64)],
    );
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    )
        .into_response())
}
