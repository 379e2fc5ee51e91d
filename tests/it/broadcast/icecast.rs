//! The Icecast source client against a fake Icecast on loopback: request head, audio bytes,
//! metadata updates, and reconnection after a refusal.

use std::time::Duration;

use antenne::broadcast::icecast::{self, Endpoint};
use antenne::broadcast::{FrameHeader, Hub, HubConfig, Mount, StationInfo};
use antenne::config::IcecastTarget;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

use crate::support::mp3::*;

async fn read_head(stream: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(
            stream.read(&mut byte).await.unwrap(),
            1,
            "connection closed in the head"
        );
        head.push(byte[0]);
    }
    String::from_utf8(head).unwrap()
}

async fn accept(listener: &TcpListener) -> (TcpStream, String) {
    let (mut stream, _) = tokio::time::timeout(Duration::from_secs(10), listener.accept())
        .await
        .expect("a connection")
        .unwrap();
    let head = read_head(&mut stream).await;
    (stream, head)
}

#[tokio::test]
async fn pushes_frames_and_titles_and_reconnects_after_a_refusal() {
    let server = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = server.local_addr().unwrap().port();
    let token = CancellationToken::new();
    let hub = Hub::new(HubConfig::default(), token.clone());
    hub.set_title("Matinale - 1");
    for f in synth_frames(100) {
        hub.push(f);
    }
    let target = IcecastTarget {
        url: format!("http://127.0.0.1:{port}/live.mp3"),
        user: String::new(),
        password: "pw".into(),
        stream: "mp3".into(),
    };
    let info = StationInfo {
        name: "Au fil des quartiers".into(),
        description: "d".into(),
        genre: "g".into(),
        url: "http://u".into(),
        bitrate_kbps: 128,
        sample_rate: 44_100,
    };
    let pusher = tokio::spawn(icecast::run(
        Mount::mp3(hub.clone(), info),
        Endpoint::parse(&target).unwrap(),
        token.clone(),
    ));

    // First attempt: refused (wrong password, say). The pusher backs off and retries.
    let (mut refused, head) = accept(&server).await;
    assert!(head.starts_with("PUT /live.mp3 HTTP/1.1\r\n"), "{head}");
    refused
        .write_all(b"HTTP/1.0 401 Authentication Required\r\n\r\n")
        .await
        .unwrap();
    drop(refused);

    let (mut source, head) = accept(&server).await;
    for expected in [
        "Authorization: Basic c291cmNlOnB3\r\n",
        "Content-Type: audio/mpeg\r\n",
        "ice-public: 0\r\n",
        "ice-name: Au fil des quartiers\r\n",
    ] {
        assert!(head.contains(expected), "{expected:?} missing in {head}");
    }
    source.write_all(b"HTTP/1.0 200 OK\r\n\r\n").await.unwrap();

    // The title is set through /admin/metadata on its own connection.
    let (mut meta, head) = accept(&server).await;
    assert!(head.starts_with("GET /admin/metadata?mount=/live.mp3&mode=updinfo&charset=UTF-8&song=Matinale%20-%201 HTTP/1.0\r\n"), "{head}");
    assert!(head.contains("Authorization: Basic c291cmNlOnB3\r\n"));
    meta.write_all(b"HTTP/1.0 200 OK\r\n\r\n").await.unwrap();
    drop(meta);

    // The audio: the burst first, starting on a frame header.
    let mut audio = vec![0u8; 4096];
    source.read_exact(&mut audio).await.unwrap();
    assert!(FrameHeader::parse(audio[..4].try_into().unwrap()).is_some());

    hub.set_title("Matinale - 2");
    let (mut meta, head) = accept(&server).await;
    assert!(head.contains("song=Matinale%20-%202 "), "{head}");
    meta.write_all(b"HTTP/1.0 200 OK\r\n\r\n").await.unwrap();

    token.cancel();
    tokio::time::timeout(Duration::from_secs(5), pusher)
        .await
        .expect("the pusher stops on shutdown")
        .unwrap();
}
