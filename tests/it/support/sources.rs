//! A 440 Hz tone in every format a live source may send, made by real encoders (libvorbis,
//! FDK AAC, flacenc, libopus), at the rate and channel count a test asks for: what BUTT,
//! Mixxx, ices or ffmpeg would put on the wire.

use std::num::{NonZeroU8, NonZeroU32};

use antenne::audio::oggopus::{OggOpusWriter, PacketEnd};
use antenne::audio::opus::{OPUS_RATE, PACKET_FRAMES, PacketEncoder};
use ogg::writing::{PacketWriteEndInfo, PacketWriter};

/// A live source's format, as named in its `Content-Type`.
#[derive(Debug, Clone, Copy)]
pub enum Format {
    OggVorbis,
    OggFlac,
    OggOpus,
    AacAdts,
}

impl Format {
    pub fn content_type(self) -> &'static str {
        match self {
            Format::OggVorbis | Format::OggFlac | Format::OggOpus => "application/ogg",
            Format::AacAdts => "audio/aac",
        }
    }
}

/// `seconds` of a 440 Hz tone at `rate` over `channels`, planar.
fn tone(seconds: f64, rate: u32, channels: usize) -> Vec<Vec<f32>> {
    let frames = (seconds * f64::from(rate)) as usize;
    let wave: Vec<f32> = (0..frames)
        .map(|i| (i as f32 * 440.0 * std::f32::consts::TAU / rate as f32).sin() * 0.3)
        .collect();
    vec![wave; channels]
}

fn interleave(planes: &[Vec<f32>]) -> Vec<f32> {
    (0..planes[0].len())
        .flat_map(|i| planes.iter().map(move |p| p[i]))
        .collect()
}

/// The tone encoded as `format`; Opus is always 48 kHz, whatever `rate` says.
pub fn encoded_tone(format: Format, seconds: f64, rate: u32, channels: usize) -> Vec<u8> {
    match format {
        Format::OggVorbis => vorbis(seconds, rate, channels),
        Format::OggFlac => ogg_flac(seconds, rate, channels),
        Format::OggOpus => ogg_opus(seconds, channels),
        Format::AacAdts => aac_adts(seconds, rate, channels),
    }
}

fn vorbis(seconds: f64, rate: u32, channels: usize) -> Vec<u8> {
    let mut encoder = vorbis_rs::VorbisEncoderBuilder::new_with_serial(
        NonZeroU32::new(rate).unwrap(),
        NonZeroU8::new(channels as u8).unwrap(),
        Vec::new(),
        1,
    )
    .build()
    .unwrap();
    let planes = tone(seconds, rate, channels);
    for start in (0..planes[0].len()).step_by(4_096) {
        let end = (start + 4_096).min(planes[0].len());
        let block: Vec<&[f32]> = planes.iter().map(|p| &p[start..end]).collect();
        encoder.encode_audio_block(&block).unwrap();
    }
    encoder.finish().unwrap()
}

fn aac_adts(seconds: f64, rate: u32, channels: usize) -> Vec<u8> {
    use fdk_aac::enc::{AudioObjectType, BitRate, ChannelMode, Encoder, EncoderParams, Transport};
    let encoder = Encoder::new(EncoderParams {
        bit_rate: BitRate::Cbr(96_000),
        sample_rate: rate,
        transport: Transport::Adts,
        channels: if channels == 1 {
            ChannelMode::Mono
        } else {
            ChannelMode::Stereo
        },
        audio_object_type: AudioObjectType::Mpeg4LowComplexity,
    })
    .unwrap();
    let pcm: Vec<i16> = interleave(&tone(seconds, rate, channels))
        .iter()
        .map(|&s| (s * 32_767.0) as i16)
        .collect();
    let mut out = Vec::new();
    let mut buf = vec![0u8; 8_192];
    // One AAC frame (1,024 frames) per call.
    for chunk in pcm.chunks(1_024 * channels) {
        let mut input = chunk;
        while !input.is_empty() {
            let info = encoder.encode(input, &mut buf).unwrap();
            out.extend_from_slice(&buf[..info.output_size]);
            input = &input[info.input_consumed..];
        }
    }
    out
}

fn ogg_flac(seconds: f64, rate: u32, channels: usize) -> Vec<u8> {
    use flacenc::component::BitRepr;
    use flacenc::error::Verify;
    let samples: Vec<i32> = interleave(&tone(seconds, rate, channels))
        .iter()
        .map(|&s| (s * 32_767.0) as i32)
        .collect();
    let source = flacenc::source::MemSource::from_samples(&samples, channels, 16, rate as usize);
    let config = flacenc::config::Encoder::default().into_verified().unwrap();
    let stream = flacenc::encode_with_fixed_block_size(&config, source, 4_096).unwrap();
    let mut info = flacenc::bitsink::ByteSink::new();
    stream.stream_info().write(&mut info).unwrap();
    let info = info.into_inner();
    // The Ogg FLAC mapping's first packet: 0x7F "FLAC" 1.0, no further header packets,
    // then the native signature and the STREAMINFO block (flagged last).
    let mut head = vec![0x7f];
    head.extend_from_slice(b"FLAC");
    head.extend_from_slice(&[1, 0, 0, 0]);
    head.extend_from_slice(b"fLaC");
    head.push(0x80);
    head.extend_from_slice(&(info.len() as u32).to_be_bytes()[1..]);
    head.extend_from_slice(&info);
    let mut ogg = PacketWriter::new(Vec::new());
    ogg.write_packet(head, 3, PacketWriteEndInfo::EndPage, 0)
        .unwrap();
    let mut granule = 0u64;
    for n in 0..stream.frame_count() {
        let frame = stream.frame(n).unwrap();
        let mut bytes = flacenc::bitsink::ByteSink::new();
        frame.write(&mut bytes).unwrap();
        granule += frame.block_size() as u64;
        let end = if n + 1 == stream.frame_count() {
            PacketWriteEndInfo::EndStream
        } else {
            PacketWriteEndInfo::NormalPacket
        };
        ogg.write_packet(bytes.into_inner(), 3, end, granule)
            .unwrap();
    }
    ogg.into_inner()
}

fn ogg_opus(seconds: f64, channels: usize) -> Vec<u8> {
    let mut encoder = PacketEncoder::new(channels, 96_000).unwrap();
    let mut ogg = OggOpusWriter::new(channels as u8, encoder.lookahead(), OPUS_RATE, 5);
    ogg.begin("test", &[("TITLE", "La fête des Ors")]);
    let pcm = interleave(&tone(seconds, OPUS_RATE, channels));
    let packets: Vec<&[f32]> = pcm.chunks_exact(PACKET_FRAMES * channels).collect();
    for (i, packet) in packets.iter().enumerate() {
        let bytes = encoder.encode(packet).unwrap().to_vec();
        let end = if i + 1 == packets.len() {
            PacketEnd::Stream
        } else if i % 10 == 9 {
            PacketEnd::Page
        } else {
            PacketEnd::Packet
        };
        ogg.packet(&bytes, PACKET_FRAMES as u64, end);
    }
    ogg.take()
}
