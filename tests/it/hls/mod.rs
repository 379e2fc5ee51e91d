//! HLS with its DVR window (issue 15): the playlist read back and checked against the audio
//! time of its frames, a restart, pruning, and what `/hls/` answers.

mod http;
mod onair;
mod playlist;

use std::path::Path;
use std::time::Duration;

use antenne::audio::PcmSink;
use antenne::broadcast::hls::{HlsConfig, HlsOutput, HlsStore, Playlist};
use antenne::broadcast::{EncoderSink, Hub, HubConfig, Mount, Output, StationInfo};
use antenne::timebase::Timebase;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub const RATE: u32 = 44_100;

/// An MP3 mount with an HLS output on `dir`, fed PCM from frame `first` on.
pub struct Rig {
    pub store: HlsStore,
    pub config: HlsConfig,
    sink: EncoderSink,
    next: u64,
    fed: u64,
    shutdown: CancellationToken,
    task: JoinHandle<()>,
}

pub fn config(dir: &Path, window_s: u64, segment_s: f64) -> HlsConfig {
    HlsConfig {
        dir: dir.to_path_buf(),
        window: Duration::from_secs(window_s),
        segment: Duration::from_secs_f64(segment_s),
        rate: RATE,
    }
}

pub fn info() -> StationInfo {
    StationInfo {
        name: "Au fil des quartiers".into(),
        description: String::new(),
        genre: "Community".into(),
        url: "http://radio.test/".into(),
        bitrate_kbps: 128,
        sample_rate: RATE,
    }
}

impl Rig {
    /// A new hub and output on `config`, the PCM starting at programme frame `first`.
    pub async fn start(config: HlsConfig, first: u64) -> Rig {
        let shutdown = CancellationToken::new();
        let hub = Hub::new(HubConfig::default(), shutdown.clone());
        let store = HlsStore::new(config.dir.clone());
        Rig::on(Mount::mp3(hub, info()), config, store, shutdown, first).await
    }

    /// The output on an existing mount and store.
    pub async fn on(
        mount: Mount,
        config: HlsConfig,
        store: HlsStore,
        shutdown: CancellationToken,
        first: u64,
    ) -> Rig {
        let hub = mount.hub.clone();
        let output: Box<dyn Output> = Box::new(HlsOutput {
            config: config.clone(),
            store: store.clone(),
        });
        let task = tokio::spawn(output.run(mount, shutdown.clone()));
        // Let the output subscribe before the first frame.
        tokio::time::sleep(Duration::from_millis(50)).await;
        Rig {
            store,
            sink: EncoderSink::new(hub, RATE, 128).unwrap(),
            config,
            next: first,
            fed: 0,
            shutdown,
            task,
        }
    }

    /// Encodes `seconds` of a tone, titled `title`, half a second at a time, letting the
    /// writer keep up (a test machine's disk is not what is tested here).
    pub async fn feed(&mut self, seconds: f64, title: &str) {
        self.sink.title(title);
        let block = (RATE / 2) as usize;
        let blocks = (seconds * 2.0).round() as usize;
        let segment = self.config.segment.as_secs_f64();
        for _ in 0..blocks {
            let pcm: Vec<f32> = (0..block * 2)
                .map(|i| {
                    let t = (self.next + (i / 2) as u64) as f64 / f64::from(RATE);
                    (t * 440.0 * std::f64::consts::TAU).sin() as f32 * 0.3
                })
                .collect();
            self.sink.write(self.next, &pcm);
            self.next += block as u64;
            self.fed += block as u64;
            let closed = (self.fed as f64 / f64::from(RATE) / segment) as u64;
            let want = closed.saturating_sub(2);
            for _ in 0..2_000 {
                if self.store.written_total() + self.store.dropped_total() >= want {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    }

    /// Flushes the encoder, stops the output and waits for its writer.
    pub async fn stop(mut self) -> HlsStore {
        self.sink.finish();
        tokio::time::sleep(Duration::from_millis(100)).await;
        self.shutdown.cancel();
        self.task.await.unwrap();
        self.store
    }
}

/// The playlist on disk, parsed.
pub fn read_playlist(dir: &Path) -> (String, Playlist) {
    let text = std::fs::read_to_string(dir.join("live.m3u8")).unwrap();
    let p = Playlist::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    (text, p)
}

/// Samples in a segment file: its ID3 tag skipped, its frames counted.
pub fn segment_samples(bytes: &[u8]) -> u64 {
    assert_eq!(&bytes[..3], b"ID3", "a segment starts with its ID3 tag");
    let size = bytes[6..10]
        .iter()
        .fold(0usize, |acc, b| (acc << 7) | usize::from(b & 0x7F));
    let mut pos = 10 + size;
    let mut samples = 0;
    while pos < bytes.len() {
        let h = antenne::broadcast::FrameHeader::parse([
            bytes[pos],
            bytes[pos + 1],
            bytes[pos + 2],
            bytes[pos + 3],
        ])
        .expect("whole frames after the tag");
        samples += u64::from(h.samples());
        pos += h.frame_len();
    }
    assert_eq!(pos, bytes.len(), "the segment ends on a frame boundary");
    samples
}

pub fn timebase() -> Timebase {
    Timebase::unix(RATE)
}
