//! The HTTP surfaces through the router, and `serve`'s graceful shutdown.

use std::time::Duration;

use crate::support::{get, station};

#[tokio::test]
async fn health_status_and_metrics() {
    let st = station().await;
    assert_eq!(get(&st.state, "/healthz").await, (200, "ok\n".to_string()));
    let (code, body) = get(&st.state, "/api/status").await;
    assert_eq!(code, 200);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["version"], env!("CARGO_PKG_VERSION"));
    assert!(v["catalog"]["episodes"]["ready"].is_u64(), "{v}");
    let (code, body) = get(&st.state, "/metrics").await;
    assert_eq!(code, 200);
    assert!(
        body.contains("# TYPE antenne_uptime_seconds gauge"),
        "{body}"
    );
    assert!(
        body.contains("antenne_episodes{status=\"ready\"}"),
        "{body}"
    );
}

#[tokio::test]
async fn unknown_paths_get_a_json_404() {
    let st = station().await;
    let (code, body) = get(&st.state, "/no/such/thing").await;
    assert_eq!((code, body.as_str()), (404, r#"{"error":"not found"}"#));
}

#[tokio::test]
async fn serve_stops_within_five_seconds_of_the_signal() {
    let st = station().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(antenne::http::serve(listener, st.state.http(), async {
        let _ = rx.await;
    }));
    // A client that keeps its connection open must not hold the shutdown.
    let mut idle = tokio::net::TcpStream::connect(addr).await.unwrap();
    use tokio::io::AsyncWriteExt;
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let started = std::time::Instant::now();
    tx.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("stopped in time")
        .unwrap()
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(
        st.state.shutdown_token().is_cancelled(),
        "stream bodies are told to end"
    );
}
