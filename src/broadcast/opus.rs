//! The Opus encoding: the programme's PCM resampled to 48 kHz, encoded once by libopus in 20 ms
//! packets, paged into Ogg and published on its mount's [`Hub`] about every 200 ms.
//!
//! Now-playing titles travel as Icecast relays them for Ogg: each title change ends the logical
//! stream and begins a new one whose `OpusTags` carry `TITLE`. One encoded packet is held back
//! so that the packet before a title change can be marked as its stream's last. The encoder
//! itself goes on across the chain (no gap); later links declare no pre-skip.

use bytes::Bytes;

use super::Hub;
use crate::audio::PcmSink;
use crate::audio::oggopus::{OggOpusWriter, PacketEnd};
use crate::audio::opus::{OPUS_RATE, PACKET_FRAMES, PacketEncoder};
use crate::audio::resample::Resampler;

/// Packets per Ogg page: 10 × 20 ms, the hub's chunk.
const PACKETS_PER_PAGE: u32 = 10;
const VENDOR: &str = "Antenne (libopus 1.3.1)";

/// Encodes once and publishes Ogg pages on the hub; see the module doc.
pub struct OpusSink {
    hub: Hub,
    station: String,
    resampler: Option<Resampler>,
    encoder: PacketEncoder,
    ogg: OggOpusWriter,
    /// 48 kHz stereo frames waiting for a whole packet.
    pcm: Vec<f32>,
    resampled: Vec<f32>,
    /// The last packet encoded, not yet paged.
    held: Option<Vec<u8>>,
    packets_in_page: u32,
    /// A title to begin the next logical stream with; `None` once begun.
    next_title: Option<String>,
    begun: bool,
    failed: bool,
}

impl OpusSink {
    /// `station`: the `ARTIST` of every logical stream; `bitrate_kbps`: the Opus bitrate.
    pub fn new(
        hub: Hub,
        station: &str,
        station_rate: u32,
        bitrate_kbps: u32,
    ) -> Result<OpusSink, String> {
        let mut encoder = PacketEncoder::new(2, bitrate_kbps * 1_000)?;
        let resampler = if station_rate == OPUS_RATE {
            None
        } else {
            Some(Resampler::new(station_rate, OPUS_RATE)?)
        };
        let ogg = OggOpusWriter::new(2, encoder.lookahead(), station_rate, rand::random());
        Ok(OpusSink {
            hub,
            station: station.to_owned(),
            resampler,
            encoder,
            ogg,
            pcm: Vec::new(),
            resampled: Vec::new(),
            held: None,
            packets_in_page: 0,
            next_title: Some(String::new()),
            begun: false,
            failed: false,
        })
    }

    /// Pages `packet` (the held one) and publishes the page once it is complete.
    fn page(&mut self, packet: &[u8], end: PacketEnd) {
        self.packets_in_page += 1;
        let end = match end {
            PacketEnd::Packet if self.packets_in_page >= PACKETS_PER_PAGE => PacketEnd::Page,
            other => other,
        };
        self.ogg.packet(packet, PACKET_FRAMES as u64, end);
        if end != PacketEnd::Packet {
            let frames = self.packets_in_page * PACKET_FRAMES as u32;
            self.packets_in_page = 0;
            self.hub
                .push_audio(Bytes::from(self.ogg.take()), frames, OPUS_RATE);
        }
    }

    /// Ends the current logical stream (if any) and begins one titled `title`.
    fn begin(&mut self, title: &str) {
        if let Some(last) = self.held.take() {
            self.page(&last, PacketEnd::Stream);
        }
        if self.begun {
            // The encoder goes on: nothing to skip in the next link.
            self.ogg.set_pre_skip(0);
        }
        let mut tags = vec![("ARTIST", self.station.as_str())];
        if !title.is_empty() {
            tags.push(("TITLE", title));
        }
        self.ogg.begin(VENDOR, &tags);
        self.hub.start_chain(Bytes::from(self.ogg.take()));
        self.begun = true;
    }

    fn encode_ready(&mut self) {
        let packet_len = PACKET_FRAMES * 2;
        let mut used = 0;
        while self.pcm.len() - used >= packet_len {
            if let Some(title) = self.next_title.take() {
                self.begin(&title);
            }
            match self.encoder.encode(&self.pcm[used..used + packet_len]) {
                Ok(packet) => {
                    let packet = packet.to_vec();
                    if let Some(previous) = self.held.replace(packet) {
                        self.page(&previous, PacketEnd::Packet);
                    }
                    self.failed = false;
                }
                Err(e) => {
                    if !self.failed {
                        tracing::error!(error = %e, "broadcast: Opus encoder failed on a packet");
                    }
                    self.failed = true;
                }
            }
            used += packet_len;
        }
        self.pcm.drain(..used);
    }
}

impl PcmSink for OpusSink {
    fn write(&mut self, _first_frame: u64, pcm: &[f32]) {
        match &mut self.resampler {
            Some(r) => {
                self.resampled.clear();
                r.process(pcm, &mut self.resampled);
                self.pcm.extend_from_slice(&self.resampled);
            }
            None => self.pcm.extend_from_slice(pcm),
        }
        self.encode_ready();
    }

    fn title(&mut self, title: &str) {
        self.hub.set_title(title);
        // Effective from the next block: the packets already encoded belong to the old title.
        self.next_title = Some(title.to_owned());
    }

    fn finish(&mut self) {
        if let Some(last) = self.held.take() {
            self.page(&last, PacketEnd::Stream);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::broadcast::HubConfig;
    use tokio_util::sync::CancellationToken;

    #[tokio::test]
    async fn a_title_change_begins_a_new_logical_stream_and_new_listeners_get_its_headers() {
        let hub = Hub::new(HubConfig::default(), CancellationToken::new());
        let mut sink = OpusSink::new(hub.clone(), "Radio", 44_100, 48).unwrap();
        let block = vec![0.1f32; 4_410 * 2];
        sink.title("Premier");
        for _ in 0..30 {
            sink.write(0, &block);
        }
        sink.title("Second");
        for _ in 0..30 {
            sink.write(0, &block);
        }
        assert_eq!(hub.title().text, "Second");
        // A listener joining now starts with the second link's headers.
        let mut listener = hub.subscribe(false).unwrap();
        let first = futures_util::StreamExt::next(&mut listener).await.unwrap();
        assert_eq!(&first[..4], b"OggS");
        let text = String::from_utf8_lossy(&first);
        assert!(text.contains("OpusHead"), "starts with the headers");
        let all: Vec<u8> = first.to_vec();
        let text = String::from_utf8_lossy(&all);
        assert!(text.contains("TITLE=Second") && !text.contains("TITLE=Premier"));
    }
}
