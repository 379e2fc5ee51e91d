//! Feeds and enclosures through `http::serve` on a real socket, where bodies that are also a
//! file's (a feed's sealed memfd, a rendition kept in memory or mapped) leave with `sendfile`
//! (`http::splice`): every answer of a keep-alive connection carries exactly the bytes the
//! router answers, whichever way they were sent.

use std::collections::HashMap;
use std::sync::Arc;

use antenne::http::feed::FeedSnapshot;
use axum::http::Request;
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};

use super::wiring::{episode, ingest};
use crate::support::station;

/// One client connection, kept alive across requests.
struct Client(hyper::client::conn::http1::SendRequest<Empty<Bytes>>);

impl Client {
    async fn connect(addr: std::net::SocketAddr) -> Client {
        let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let io = hyper_util::rt::TokioIo::new(stream);
        let (sender, conn) = hyper::client::conn::http1::handshake(io).await.unwrap();
        tokio::spawn(conn);
        Client(sender)
    }

    /// Status, `Content-Encoding` and body of `method path` with `headers`.
    async fn send(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
    ) -> (u16, String, Bytes) {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header("host", "radio.test");
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = self
            .0
            .send_request(req.body(Empty::new()).unwrap())
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let encoding = resp
            .headers()
            .get("content-encoding")
            .map_or("", |v| v.to_str().unwrap())
            .to_owned();
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        (status, encoding, body)
    }
}

#[tokio::test]
async fn a_keep_alive_connection_gets_the_exact_bytes_of_feeds_and_enclosures() {
    let st = station().await;
    let id = ingest(&st, "la-matinale", "Un ton").await;
    let rendition = std::fs::read(
        st.dir
            .path()
            .join("data/renditions")
            .join(format!("{id}.mp3")),
    )
    .unwrap();
    assert!(
        rendition.len() > 20_000,
        "large enough to be sent from the file"
    );
    // A feed of 300 items (a few hundred KB), as large stations serve.
    let schedule = st.state.schedule().schedule.clone();
    let episodes: Vec<_> = (0..300).rev().map(|n| episode(n, "la-matinale")).collect();
    let src = antenne::feed::FeedSource {
        schedule: &schedule,
        episodes: &episodes,
        public_url: "http://radio.test",
        stream_bitrate_kbps: 128,
        redirects: &[],
    };
    let now = "2026-11-30T06:30:00Z".parse().unwrap();
    let feeds: HashMap<_, _> = antenne::feed::build(&src, now)
        .into_iter()
        .map(|(path, channel)| (path, Arc::new(FeedSnapshot::render(&channel, now))))
        .collect();
    let feed = feeds["/feed.xml"].feed.clone();
    assert!(
        feed.body.len() > 100_000,
        "large enough to be sent from its memfd"
    );
    st.state.http().feeds.replace(feeds, HashMap::new());

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(antenne::http::serve(listener, st.state.http(), async {
        let _ = stopped.await;
    }));
    let mut client = Client::connect(addr).await;
    let media = format!("/media/{id}.mp3");
    let gzip = [("accept-encoding", "gzip")];
    for _ in 0..3 {
        let got = client.send("GET", "/feed.xml", &[]).await;
        assert_eq!((got.0, got.1.as_str()), (200, ""));
        assert!(got.2 == feed.body, "the identity feed, byte for byte");
        let got = client.send("GET", "/feed.xml", &gzip).await;
        assert_eq!((got.0, got.1.as_str()), (200, "gzip"));
        assert!(got.2 == feed.gzip, "the gzip feed, byte for byte");
        let inm = [("if-none-match", feed.etag.as_str())];
        let got = client.send("GET", "/feed.xml", &inm).await;
        assert_eq!((got.0, got.2.len()), (304, 0));
        let got = client.send("HEAD", "/feed.xml", &[]).await;
        assert_eq!((got.0, got.2.len()), (200, 0));
        let got = client.send("GET", &media, &[]).await;
        assert_eq!(got.0, 200);
        assert!(got.2 == rendition, "the rendition, byte for byte");
        let got = client
            .send("GET", &media, &[("range", "bytes=1000-")])
            .await;
        assert_eq!(got.0, 206);
        assert!(got.2 == rendition[1000..], "a range, from its offset");
        let got = client.send("GET", &media, &[("range", "bytes=0-1")]).await;
        assert_eq!((got.0, &got.2[..]), (206, &rendition[..2]));
    }
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}

/// Issue 18: a rendition past the 4 MiB kept in memory (a 30-minute episode is 29 MB) is
/// mapped and sent with `sendfile` in 1 MiB chunks; whole, and from ranges that start in the
/// kept prefix, cross a chunk's edge or end at the last byte, on one keep-alive connection.
#[tokio::test]
async fn a_rendition_past_what_memory_keeps_is_sent_exactly_from_its_mapping() {
    let st = station().await;
    let id = ingest(&st, "la-matinale", "Un ton").await;
    let path = st
        .dir
        .path()
        .join("data/renditions")
        .join(format!("{id}.mp3"));
    // 5.5 MiB and an odd byte of made-up content, renamed into place as renditions are.
    let mut x = 0x2545_f491_u32;
    let large: Vec<u8> = (0..5 * 1024 * 1024 + 512 * 1024 + 1)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect();
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, &large).unwrap();
    std::fs::rename(&tmp, &path).unwrap();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(antenne::http::serve(listener, st.state.http(), async {
        let _ = stopped.await;
    }));
    let mut client = Client::connect(addr).await;
    let media = format!("/media/{id}.mp3");
    let n = large.len();
    let mib = 1024 * 1024;
    for _ in 0..2 {
        let got = client.send("GET", &media, &[]).await;
        assert_eq!(got.0, 200);
        assert!(got.2 == large, "the whole rendition, byte for byte");
        for (from, to) in [
            (1000, n - 1),
            (mib - 7, mib + 7),
            (4 * mib - 1, 5 * mib + 1),
            (n - 1, n - 1),
        ] {
            let range = format!("bytes={from}-{to}");
            let got = client.send("GET", &media, &[("range", &range)]).await;
            assert_eq!(got.0, 206, "{range}");
            assert!(got.2 == large[from..=to], "{range}");
        }
        let got = client.send("GET", &media, &[("range", "bytes=0-1")]).await;
        assert_eq!((got.0, &got.2[..]), (206, &large[..2]));
    }
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}
