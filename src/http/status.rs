//! Health, status and Prometheus metrics.

use std::fmt::Write;

use axum::Json;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::ApiError;
use super::state::{CatalogAccess, LiveAccess, OnAir, Process};
use crate::input::LiveSnapshot;

pub async fn count_requests(State(process): State<Process>, req: Request, next: Next) -> Response {
    process.count_request();
    next.run(req).await
}

/// Health: `ok` while the process answers and the air is not dead; `503 dead air` while the
/// playout's silence alarm is raised (sustained silence outside slots meant to be silent), so
/// a monitor never sees green over a silent stream.
pub async fn healthz(State(on_air): State<OnAir>) -> Response {
    if on_air.playout_status().silence_alarm {
        return (axum::http::StatusCode::SERVICE_UNAVAILABLE, "dead air\n").into_response();
    }
    "ok\n".into_response()
}

/// `GET /api/library`: every audio file of the media folder analysed so far, with its
/// loudness, true peak and the gain it airs with (files not listed air at the default gain).
pub async fn library(State(levels): State<crate::playout::Levels>) -> Json<serde_json::Value> {
    let policy = levels.policy();
    Json(serde_json::json!({
        "target_lufs": policy.map(|p| p.target_lufs),
        "unanalysed_gain_db": policy.map(|p| p.unanalysed_db),
        "max_boost_db": policy.map(|p| p.max_boost_db),
        "files": levels.list(),
    }))
}

pub async fn status(
    State(catalog): State<CatalogAccess>,
    State(on_air): State<OnAir>,
    State(process): State<Process>,
    State(live): State<LiveAccess>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let counts = catalog.with_catalog(|c| c.counts()).await?;
    let schedule = {
        let s = on_air.schedule();
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
    let p = on_air.playout_status();
    let airplay_counts = on_air.airplay_counts();
    let np = on_air.now_playing();
    let hub = on_air.hub();
    let on_air = serde_json::json!({
        "ok": !p.silence_alarm,
        "silence_alarm": p.silence_alarm,
        "now_playing": np.stream_title(),
        "kind": np.kind,
        "listeners": hub.listeners(),
        "listeners_dropped": hub.dropped_total(),
        "late_frames": p.late_frames,
        "skipped_frames": p.skipped_frames,
        "failed_items": p.failed_items,
        "lead_ms": p.lead_ms,
    });
    let [sent, dropped, written, failed] = airplay_counts;
    let airplay = serde_json::json!({
        "events": sent,
        "dropped": dropped,
        "rows_written": written,
        "failed_batches": failed,
    });
    Ok(Json(serde_json::json!({
        "on_air": on_air,
        "airplay": airplay,
        "live": live.0.as_ref().map(|l| live_status(&l.status())),
        "schedule": schedule,
        "version": env!("CARGO_PKG_VERSION"),
        "started_at": process.started_at.to_string(),
        "backups": backups_status(&process.backups.snapshot()),
        "alert_deliveries": process.alerts.snapshot(),
        "uptime_s": process.uptime().as_secs(),
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

pub async fn metrics(
    State(catalog): State<CatalogAccess>,
    State(on_air): State<OnAir>,
    State(process): State<Process>,
    State(live): State<LiveAccess>,
    State(hls): State<super::hls::HlsAccess>,
) -> Result<Response, ApiError> {
    let counts = catalog.with_catalog(|c| c.counts()).await?;
    let mut downloads: Vec<(String, u64)> = catalog
        .with_catalog(|c| c.download_counts())
        .await?
        .into_iter()
        .collect();
    downloads.sort();
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
        &[("", process.uptime().as_secs_f64())],
    );
    metric(
        "antenne_http_requests_total",
        "counter",
        "HTTP requests received.",
        &[(
            "",
            process
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
    let labels: Vec<(String, f64)> = downloads
        .iter()
        .map(|(id, n)| (format!("{{episode=\"{}\"}}", label_value(id)), *n as f64))
        .collect();
    let samples: Vec<(&str, f64)> = labels.iter().map(|(l, v)| (l.as_str(), *v)).collect();
    metric(
        "antenne_episode_downloads_total",
        "counter",
        "Downloads counted per episode (IAB v2 rules: no probes, no bots, once a day).",
        &samples,
    );
    let by_output = super::schedule::listeners_by_output(&on_air, &hls);
    let labels: Vec<(String, f64)> = by_output
        .iter()
        .map(|(name, n)| {
            let n = n.as_u64().unwrap_or(0) as f64;
            (format!("{{output=\"{}\"}}", label_value(name)), n)
        })
        .collect();
    let samples: Vec<(&str, f64)> = labels.iter().map(|(l, v)| (l.as_str(), *v)).collect();
    metric(
        "antenne_output_listeners",
        "gauge",
        "Listeners per output (HLS: sessions estimated from playlist fetches).",
        &samples,
    );
    if let Some(hls) = &hls.0 {
        metric(
            "antenne_hls_segments_written_total",
            "counter",
            "HLS segments written to disk.",
            &[("", hls.store.written_total() as f64)],
        );
        metric(
            "antenne_hls_segments_dropped_total",
            "counter",
            "HLS segments dropped because the disk was behind.",
            &[("", hls.store.dropped_total() as f64)],
        );
    }
    let p = on_air.playout_status();
    let hub = on_air.hub();
    let gauges: [(&str, &str, &str, f64); 8] = [
        (
            "antenne_listeners",
            "gauge",
            "Listeners of the live stream.",
            hub.listeners() as f64,
        ),
        (
            "antenne_listeners_dropped_total",
            "counter",
            "Listeners dropped for lagging.",
            hub.dropped_total() as f64,
        ),
        (
            "antenne_stream_bytes_total",
            "counter",
            "MP3 bytes pushed to the hub.",
            hub.bytes_pushed() as f64,
        ),
        (
            "antenne_playout_frames_total",
            "counter",
            "Frames rendered by the playout.",
            p.frames_rendered as f64,
        ),
        (
            "antenne_playout_late_frames_total",
            "counter",
            "Frames left silent because data was late.",
            p.late_frames as f64,
        ),
        (
            "antenne_playout_failed_items_total",
            "counter",
            "Items replaced by the fallback after failing on air.",
            p.failed_items as f64,
        ),
        (
            "antenne_silence_alarm",
            "gauge",
            "1 while the output has been silent for over 30 s outside meant silence.",
            u8::from(p.silence_alarm) as f64,
        ),
        (
            "antenne_playout_lead_ms",
            "gauge",
            "How far rendered audio is ahead of the clock.",
            p.lead_ms as f64,
        ),
    ];
    for (name, kind, help, v) in gauges {
        metric(name, kind, help, &[("", v)]);
    }
    let [_, dropped, written, _] = on_air.airplay_counts();
    metric(
        "antenne_airplay_rows_total",
        "counter",
        "Airplay log rows written (starts and ends).",
        &[("", written as f64)],
    );
    metric(
        "antenne_airplay_dropped_total",
        "counter",
        "Airplay events dropped because the log's writer lagged.",
        &[("", dropped as f64)],
    );
    let [written, lost] = on_air.session_counts();
    metric(
        "antenne_listener_sessions_total",
        "counter",
        "Listener sessions ended and written for the audience figures.",
        &[("", written as f64)],
    );
    metric(
        "antenne_listener_sessions_lost_total",
        "counter",
        "Listener sessions not written (the writer lagged or a write failed).",
        &[("", lost as f64)],
    );
    if let Some(l) = &live.0 {
        for (name, kind, help, v) in live_metrics(&l.status()) {
            metric(name, kind, help, &[("", v)]);
        }
    }
    let b = process.backups.snapshot();
    if b.enabled {
        let at = |t: Option<jiff::Timestamp>| t.map_or(0.0, |t| t.as_millisecond() as f64 / 1000.0);
        metric(
            "antenne_backups_total",
            "counter",
            "Scheduled backups by outcome.",
            &[
                ("{outcome=\"ok\"}", b.succeeded as f64),
                ("{outcome=\"failed\"}", b.failed as f64),
            ],
        );
        for (name, help, v) in [
            (
                "antenne_backup_last_success_timestamp_seconds",
                "When the last scheduled backup succeeded (0: never).",
                at(b.last_success),
            ),
            (
                "antenne_backup_last_failure_timestamp_seconds",
                "When the last scheduled backup failed (0: never).",
                at(b.last_failure),
            ),
            (
                "antenne_backup_last_bytes",
                "Bytes of the last successful backup.",
                b.last_bytes as f64,
            ),
            (
                "antenne_backup_last_duration_seconds",
                "How long the last successful backup took.",
                b.last_duration_ms as f64 / 1000.0,
            ),
        ] {
            metric(name, "gauge", help, &[("", v)]);
        }
    }
    let np = on_air.now_playing();
    let info = format!(
        "{{title=\"{}\",kind=\"{}\"}}",
        label_value(&np.stream_title()),
        np.kind
    );
    metric(
        "antenne_now_playing_info",
        "gauge",
        "What is on air (title and kind as labels).",
        &[(info.as_str(), 1.0)],
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

/// The scheduled backups: `null` when `backup_dir` is not set; else the last success and the
/// last failure with its reason (a failure newer than the last success is `"ok": false`).
fn backups_status(b: &crate::backup::BackupOutcome) -> serde_json::Value {
    if !b.enabled {
        return serde_json::Value::Null;
    }
    let ok = match (b.last_success, b.last_failure) {
        (_, None) => true,
        (Some(s), Some(f)) => s > f,
        (None, Some(_)) => false,
    };
    serde_json::json!({
        "ok": ok,
        "dir": b.dir.as_ref().map(|d| d.display().to_string()),
        "every_s": b.every_s,
        "keep": b.keep,
        "next_at": b.next_at.map(|t| t.to_string()),
        "last_success": b.last_success.map(|t| serde_json::json!({
            "at": t.to_string(),
            "path": b.last_path.as_ref().map(|p| p.display().to_string()),
            "files": b.last_files,
            "bytes": b.last_bytes,
            "duration_ms": b.last_duration_ms,
        })),
        "last_failure": b.last_failure.map(|t| serde_json::json!({
            "at": t.to_string(),
            "reason": b.last_error,
        })),
        "succeeded": b.succeeded,
        "failed": b.failed,
    })
}

/// The live input for operators: who is connected and since when, the source's format, the
/// buffer, the drift, the level, and the counts.
fn live_status(s: &LiveSnapshot) -> serde_json::Value {
    serde_json::json!({
        "connected": s.connected.as_ref().map(|c| serde_json::json!({
            "token": c.token,
            "show": c.show,
            "occurrence": c.occurrence,
            "since": c.since.to_string(),
            "on_air_at": c.on_air_at.to_string(),
            "ends_at": c.ends_at.map(|t| t.to_string()),
            "software": c.software,
            "streaming": c.streaming,
        })),
        "format": s.format.as_ref().map(|f| serde_json::json!({
            "codec": f.codec,
            "sample_rate": f.sample_rate,
            "channels": f.channels,
        })),
        "buffer_ms": s.buffered_ms,
        "cushion_ms": s.cushion_ms,
        "drift_ppm": (s.drift_ppm * 10.0).round() / 10.0,
        "gain_db": (s.gain_db * 10.0).round() / 10.0,
        "source_lufs": s.source_lufs.map(|l| (l * 10.0).round() / 10.0),
        "bytes": s.bytes,
        "connections": s.connections,
        "reconnects": s.reconnects,
        "refused": s.refused,
        "unauthorized": s.unauthorized,
        "undecodable": s.undecodable,
        "recordings": s.recordings,
        "underruns": s.underruns,
        "overflow_frames": s.overflow_frames,
    })
}

fn live_metrics(s: &LiveSnapshot) -> [(&'static str, &'static str, &'static str, f64); 9] {
    [
        (
            "antenne_live_connected",
            "gauge",
            "1 while a live source is connected.",
            f64::from(u8::from(s.connected.as_ref().is_some_and(|c| c.streaming))),
        ),
        (
            "antenne_live_buffer_ms",
            "gauge",
            "Live audio buffered ahead of the programme.",
            s.buffered_ms as f64,
        ),
        (
            "antenne_live_drift_ppm",
            "gauge",
            "Correction of the live source's clock (positive: it runs fast).",
            s.drift_ppm,
        ),
        (
            "antenne_live_gain_db",
            "gauge",
            "Gain applied to the live source.",
            s.gain_db,
        ),
        (
            "antenne_live_connections_total",
            "counter",
            "Live sources let in.",
            s.connections as f64,
        ),
        (
            "antenne_live_reconnects_total",
            "counter",
            "Live sources back within their grace.",
            s.reconnects as f64,
        ),
        (
            "antenne_live_refused_total",
            "counter",
            "Live sources refused (valid credentials: outside their slot, input in use).",
            (s.refused) as f64,
        ),
        (
            "antenne_live_unauthorized_total",
            "counter",
            "Live sources refused for missing, wrong or revoked credentials.",
            s.unauthorized as f64,
        ),
        (
            "antenne_live_underruns_total",
            "counter",
            "Times the live buffer ran dry on air.",
            s.underruns as f64,
        ),
    ]
}

/// A Prometheus label value, escaped (`\\`, `\"`, newline).
fn label_value(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
