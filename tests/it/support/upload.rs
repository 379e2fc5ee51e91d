//! Upload material: tokens, generated WAV files, multipart bodies, JSON answers.

use antenne::catalog::hash_secret;
use antenne::daemon::AppState;
use axum::body::Body;
use axum::http::{Request, Response};
use http_body_util::BodyExt;

pub const BOUNDARY: &str = "antenne-test-boundary-7d3f";

/// A new token for `shows` (empty: an operator token); returns the secret.
pub fn token(state: &AppState, name: &str, shows: &[&str]) -> String {
    grant(state, name, &antenne::catalog::Grant::upload(shows))
}

/// A new token with `grant`; returns the secret.
pub fn grant(state: &AppState, name: &str, grant: &antenne::catalog::Grant) -> String {
    let secret = format!("ant_test_{name}_0123456789abcdef");
    state
        .catalog()
        .add_token(name, &hash_secret(&secret), grant, jiff::Timestamp::now())
        .unwrap();
    secret
}

/// A short mono 16-bit WAV; `seed` changes its samples (and so its sha256).
pub fn wav(samples: u32, seed: u32) -> Vec<u8> {
    let mut cur = std::io::Cursor::new(Vec::new());
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 8000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::new(&mut cur, spec).unwrap();
    for i in 0..samples {
        let t = i as f32 / 8000.0;
        let f = 220.0 + seed as f32;
        w.write_sample(((t * f * std::f32::consts::TAU).sin() * 8000.0) as i16)
            .unwrap();
    }
    w.finalize().unwrap();
    cur.into_inner()
}

/// A multipart/form-data body: text fields, then the file (if any).
pub fn form(fields: &[(&str, &str)], file: Option<(&str, &[u8])>) -> Vec<u8> {
    let mut b = Vec::new();
    for (k, v) in fields {
        b.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    if let Some((name, bytes)) = file {
        b.extend_from_slice(file_head(name).as_bytes());
        b.extend_from_slice(bytes);
        b.extend_from_slice(b"\r\n");
    }
    b.extend_from_slice(tail().as_bytes());
    b
}

pub fn file_head(name: &str) -> String {
    format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    )
}

pub fn tail() -> String {
    format!("--{BOUNDARY}--\r\n")
}

pub fn upload_request(secret: Option<&str>, body: Body, len: Option<usize>) -> Request<Body> {
    let mut r = Request::post("/api/episodes").header(
        "content-type",
        format!("multipart/form-data; boundary={BOUNDARY}"),
    );
    if let Some(s) = secret {
        r = r.header("authorization", format!("Bearer {s}"));
    }
    if let Some(n) = len {
        r = r.header("content-length", n);
    }
    r.body(body).unwrap()
}

pub async fn json(resp: Response<Body>) -> (u16, serde_json::Value) {
    let status = resp.status().as_u16();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    let v = if body.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_slice(&body)
            .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&body)))
    };
    (status, v)
}

/// Files in a folder (empty when it does not exist).
pub fn files(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}
