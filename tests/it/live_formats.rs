//! Every format a live source may send (issue 14): Ogg Vorbis, Ogg FLAC, Ogg Opus and AAC in
//! ADTS, made by real encoders at other rates and layouts than the station's, decoded as the
//! bytes arrive and brought to the station format; the recording becomes a normalised episode.
//! MP3 is in `live.rs`.

use std::time::Duration;

use antenne::catalog::EpisodeStatus;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::live::{
    DEBAT, Live, basic, live, primed, read_answer, recorded_episode, rendered, tone_share, wait_for,
};
use crate::support::sources::{Format, encoded_tone};

/// Connects as a source sending `format` with `method`; returns the connection once taken.
async fn source(live: &Live, method: &str, format: Format) -> TcpStream {
    let mut s = TcpStream::connect(live.addr).await.unwrap();
    let (version, expect) = if method == "PUT" {
        ("HTTP/1.1", "Expect: 100-continue\r\n")
    } else {
        ("HTTP/1.0", "")
    };
    let head = format!(
        "{method} /live {version}\r\nHost: radio\r\nAuthorization: Basic {}\r\n\
         Content-Type: {}\r\nIce-Name: Fête des Ors\r\n{expect}\r\n",
        basic("debat", DEBAT),
        format.content_type(),
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let answer = read_answer(&mut s).await;
    assert!(
        answer.starts_with("HTTP/1.1 100") || answer.contains(" 200 "),
        "{format:?}: {answer}"
    );
    s
}

/// Sends `format` as a source would, checks that its tone comes out of the live input at the
/// station rate (44.1 kHz stereo), and that the recording is rendered into a ready episode.
async fn check(method: &str, format: Format, rate: u32, channels: usize) {
    let live = live("10:10").await;
    let mut s = source(&live, method, format).await;
    let bytes = encoded_tone(format, 3.0, rate, channels);
    for chunk in bytes.chunks(2_048) {
        s.write_all(chunk).await.unwrap();
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let input = live.inputs.get("live").unwrap().clone();
    let what = format!("a second of {format:?} audio");
    wait_for(&what, || primed(&input)).await;
    let mut out = vec![0.0f32; 2 * 22_050];
    input.read(&mut out, |_| 1.0);
    for side in [0, 1] {
        let pcm: Vec<f32> = out.chunks_exact(2).map(|f| f[side]).collect();
        let share = tone_share(&pcm, 44_100.0, 440.0);
        assert!(
            share > 0.8,
            "{format:?} {rate} Hz x{channels}: 440 Hz is {share}"
        );
    }
    drop(s);
    let id = recorded_episode(&live).await.id;
    let ep = rendered(&live, &id).await;
    assert_eq!(
        ep.status,
        EpisodeStatus::Ready,
        "{format:?}: {:?}",
        ep.error
    );
    let ms = ep.duration_ms.unwrap();
    assert!((2_500..=3_500).contains(&ms), "{format:?}: {ms} ms");
}

// issue 14
#[tokio::test]
async fn an_ogg_vorbis_source_at_48_khz_airs_and_is_kept() {
    check("PUT", Format::OggVorbis, 48_000, 2).await;
}

// issue 14
#[tokio::test]
async fn an_ogg_flac_source_in_mono_at_22_khz_airs_and_is_kept() {
    check("SOURCE", Format::OggFlac, 22_050, 1).await;
}

// issue 14
#[tokio::test]
async fn an_ogg_opus_source_airs_and_is_kept() {
    check("PUT", Format::OggOpus, 48_000, 2).await;
}

// issue 14
#[tokio::test]
async fn an_aac_adts_source_in_mono_at_32_khz_airs_and_is_kept() {
    check("SOURCE", Format::AacAdts, 32_000, 1).await;
}
