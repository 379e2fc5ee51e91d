//! A 200 MB upload streamed from a generator goes to disk with flat memory (alone in a
//! process of its own, so the process's peak RSS is this test's).

use axum::body::{Body, Bytes};

use crate::support;
use crate::support::upload::*;

fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_200_mb_upload_streams_to_disk_with_flat_memory() {
    if !std::path::Path::new("/proc/self/status").exists() {
        return; // peak RSS is read from procfs
    }
    if !support::alone(
        module_path!(),
        "a_200_mb_upload_streams_to_disk_with_flat_memory",
    ) {
        return; // it ran in a process of its own
    }
    let st = support::station().await;
    let secret = token(&st.state, "alice", &[]);
    const CHUNK: usize = 64 * 1024;
    const CHUNKS: usize = 3200; // 200 MiB
    static ZEROS: [u8; CHUNK] = [0; CHUNK];
    let mut head = form(&[("show", "la-matinale"), ("title", "Long")], None);
    head.truncate(head.len() - tail().len());
    head.extend_from_slice(file_head("long.wav").as_bytes());
    // A WAV header announcing the data that follows: the sniffed container is WAV.
    let audio_len = (CHUNK * CHUNKS) as u32;
    let mut wav = b"RIFF".to_vec();
    wav.extend_from_slice(&(audio_len + 36).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&[
        16, 0, 0, 0, 1, 0, 2, 0, 0x44, 0xAC, 0, 0, 0x10, 0xB1, 2, 0, 4, 0, 16, 0,
    ]);
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&audio_len.to_le_bytes());
    head.extend_from_slice(&wav);
    let total = head.len() + CHUNK * CHUNKS + 2 + tail().len();
    let chunks = std::iter::once(Bytes::from(head))
        .chain((0..CHUNKS).map(|_| Bytes::from_static(&ZEROS)))
        .chain(std::iter::once(Bytes::from(format!("\r\n{}", tail()))))
        .map(Ok::<_, std::io::Error>);
    let body = Body::from_stream(futures_util::stream::iter(chunks));

    let before = peak_rss_kib();
    let started = std::time::Instant::now();
    let resp = support::send(&st.state, upload_request(Some(&secret), body, Some(total))).await;
    let elapsed = started.elapsed();
    let (code, v) = json(resp).await;
    let growth_kib = peak_rss_kib().saturating_sub(before);
    assert_eq!(code, 202, "{v}");
    let e = st
        .state
        .catalog()
        .episode(v["id"].as_str().unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(e.original_bytes, (wav.len() + CHUNK * CHUNKS) as u64);
    let path = st.state.settings().process.data_dir.join(&e.original_path);
    assert_eq!(std::fs::metadata(path).unwrap().len(), e.original_bytes);
    eprintln!(
        "200 MiB upload: {:.0} MB/s, peak RSS growth {} KiB",
        e.original_bytes as f64 / 1e6 / elapsed.as_secs_f64(),
        growth_kib
    );
    assert!(growth_kib < 20 * 1024, "peak RSS grew by {growth_kib} KiB");
}
