//! `antenne listen [URL|FILE]`: local monitoring through the sound card with rodio.
//!
//! Plays the live stream (by default this station's `/stream`) or a file, decoded by the same
//! [`crate::audio`] stages as everything else. Sound output needs rodio's `playback` feature
//! (ALSA on Linux), so it is behind Antenne's non-default `monitor` feature: the default build
//! needs no sound library, and answers this command with how to get one.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::num::NonZero;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, anyhow, bail};

use crate::audio::{AudioError, CHANNELS, PcmSource};
use crate::cli::CliError;
use crate::config::Settings;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// A stream URL (http://…) or an audio file [default: this station's live stream]
    pub target: Option<String>,
}

pub fn run(args: &Args, settings: &Settings, _out: &mut dyn Write) -> Result<(), CliError> {
    let target = args
        .target
        .clone()
        .unwrap_or_else(|| format!("{}/stream", settings.process.public_url));
    let source = open(&target, settings.station.sample_rate).map_err(CliError::User)?;
    play(RodioSource::new(source, settings.station.sample_rate))
}

/// Opens a URL or a file as station-format PCM.
pub fn open(target: &str, rate: u32) -> anyhow::Result<Box<dyn PcmSource>> {
    if target.starts_with("http://") {
        let body = http_get(target)?;
        let source = symphonia::core::io::ReadOnlySource::new(body);
        // The `.mp3` label is only the probe's hint: live streams are MP3.
        Ok(crate::audio::open_source(
            Box::new(source),
            Path::new("stream.mp3"),
            rate,
        )?)
    } else if target.contains("://") {
        bail!("{target}: only http:// URLs are supported (put TLS in front with a reverse proxy)")
    } else {
        Ok(crate::audio::open_pcm(Path::new(target), rate)?)
    }
}

/// A plain HTTP/1.0 GET (the response ends when the server closes), returning the body.
fn http_get(url: &str) -> anyhow::Result<BufReader<TcpStream>> {
    let rest = url.strip_prefix("http://").unwrap_or(url);
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };
    let addr = if authority.contains(':') {
        authority.to_string()
    } else {
        format!("{authority}:80")
    };
    let mut stream =
        TcpStream::connect(&addr).with_context(|| format!("cannot connect to {addr}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(15)))?;
    // One write: `write!` would send the request in pieces.
    let request =
        format!("GET {path} HTTP/1.0\r\nHost: {authority}\r\nUser-Agent: antenne-listen\r\n\r\n");
    stream.write_all(request.as_bytes())?;
    let mut reader = BufReader::new(stream);
    let mut status = String::new();
    reader.read_line(&mut status)?;
    if status.split_whitespace().nth(1) != Some("200") {
        bail!("{url}: the server answered {:?}", status.trim_end());
    }
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            bail!("{url}: the connection closed in the response headers");
        }
        if line == "\r\n" || line == "\n" {
            return Ok(reader);
        }
    }
}

/// A [`PcmSource`] as a rodio [`rodio::Source`]: interleaved stereo `f32` at the station rate.
/// A decode error ends the source (logged) rather than playing garbage.
pub struct RodioSource {
    inner: Box<dyn PcmSource>,
    rate: u32,
    buf: Vec<f32>,
    pos: usize,
    ended: bool,
}

impl RodioSource {
    pub fn new(inner: Box<dyn PcmSource>, rate: u32) -> RodioSource {
        RodioSource {
            inner,
            rate,
            buf: Vec::new(),
            pos: 0,
            ended: false,
        }
    }

    fn refill(&mut self) -> Result<bool, AudioError> {
        self.buf.clear();
        self.pos = 0;
        Ok(self.inner.read(&mut self.buf, 4096)? > 0)
    }
}

impl Iterator for RodioSource {
    type Item = f32;

    fn next(&mut self) -> Option<f32> {
        if self.pos == self.buf.len() {
            if self.ended {
                return None;
            }
            match self.refill() {
                Ok(true) => {}
                Ok(false) => {
                    self.ended = true;
                    return None;
                }
                Err(e) => {
                    tracing::error!("{e}");
                    self.ended = true;
                    return None;
                }
            }
        }
        let s = self.buf[self.pos];
        self.pos += 1;
        Some(s)
    }
}

impl rodio::Source for RodioSource {
    fn current_span_len(&self) -> Option<usize> {
        None
    }

    fn channels(&self) -> rodio::ChannelCount {
        NonZero::new(CHANNELS as u16).expect("stereo")
    }

    fn sample_rate(&self) -> rodio::SampleRate {
        NonZero::new(self.rate).unwrap_or(NonZero::<u32>::MIN)
    }

    fn total_duration(&self) -> Option<Duration> {
        self.inner
            .len_frames()
            .map(|f| Duration::from_secs_f64(f as f64 / f64::from(self.rate)))
    }
}

#[cfg(feature = "monitor")]
fn play(source: RodioSource) -> Result<(), CliError> {
    let handle = rodio::DeviceSinkBuilder::open_default_sink()
        .map_err(|e| CliError::User(anyhow!("no sound output: {e}")))?;
    let player = rodio::Player::connect_new(handle.mixer());
    player.append(source);
    eprintln!("playing; Ctrl-C stops");
    player.sleep_until_end();
    Ok(())
}

#[cfg(not(feature = "monitor"))]
fn play(_source: RodioSource) -> Result<(), CliError> {
    Err(CliError::User(anyhow!(
        "this antenne was built without sound output: rebuild with `cargo build --release --features monitor` \
         (needs ALSA headers: apt-get install libasound2-dev pkg-config)"
    )))
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    /// A generated tone, as a station source.
    struct Tone {
        left: u64,
    }

    impl PcmSource for Tone {
        fn read(&mut self, out: &mut Vec<f32>, max_frames: usize) -> Result<usize, AudioError> {
            let n = (max_frames as u64).min(self.left) as usize;
            out.extend((0..n).flat_map(|i| [i as f32 / 1e4, -(i as f32) / 1e4]));
            self.left -= n as u64;
            Ok(n)
        }
        fn seek(&mut self, _frame: u64) -> Result<(), AudioError> {
            Ok(())
        }
        fn len_frames(&self) -> Option<u64> {
            Some(10_000)
        }
    }

    #[test]
    fn rodio_sees_every_sample_in_order_and_the_format() {
        use rodio::Source;
        let src = RodioSource::new(Box::new(Tone { left: 10_000 }), 44_100);
        assert_eq!((src.channels().get(), src.sample_rate().get()), (2, 44_100));
        assert_eq!(
            src.total_duration(),
            Some(Duration::from_secs_f64(10_000.0 / 44_100.0))
        );
        let samples: Vec<f32> = src.collect();
        assert_eq!(samples.len(), 20_000);
        assert_eq!(&samples[..4], &[0.0, -0.0, 1e-4, -1e-4]);
    }

    #[test]
    fn only_http_urls_and_files() {
        let err = open("https://radio.example/stream", 44_100).err().unwrap();
        assert!(err.to_string().contains("only http://"), "{err}");
        let err = open("/no/such/file.mp3", 44_100).err().unwrap();
        assert!(err.to_string().contains("/no/such/file.mp3"), "{err}");
    }

    #[test]
    fn a_live_stream_decodes_over_http() {
        // A one-shot HTTP server answering with an MP3 body made by the station's encoder.
        let mut enc = crate::audio::Mp3StreamEncoder::new(44_100, 128).unwrap();
        let pcm: Vec<f32> = (0..44_100 * 2)
            .flat_map(|i| {
                let s = (i as f32 * 440.0 * std::f32::consts::TAU / 44_100.0).sin() * 0.3;
                [s, s]
            })
            .collect();
        let mut mp3 = Vec::new();
        enc.encode(&pcm, &mut mp3).unwrap();
        enc.flush(&mut mp3).unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/stream", listener.local_addr().unwrap());
        let server = std::thread::spawn(move || {
            let (mut conn, _) = listener.accept().unwrap();
            // Read the whole request: closing with unread bytes would reset the connection
            // and could drop the response in flight.
            let mut req = Vec::new();
            let mut byte = [0u8; 1];
            while !req.ends_with(b"\r\n\r\n") && conn.read(&mut byte).unwrap() == 1 {
                req.push(byte[0]);
            }
            conn.write_all(b"HTTP/1.0 200 OK\r\nContent-Type: audio/mpeg\r\n\r\n")
                .unwrap();
            conn.write_all(&mp3).unwrap();
        });
        let mut src = open(&url, 44_100).unwrap();
        let mut out = Vec::new();
        let mut frames = 0;
        loop {
            out.clear();
            match src.read(&mut out, 4096).unwrap() {
                0 => break,
                n => frames += n,
            }
        }
        server.join().unwrap();
        assert!((80_000..=92_000).contains(&frames), "{frames} frames");
    }
}
