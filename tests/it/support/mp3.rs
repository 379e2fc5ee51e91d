//! MP3 material: synthetic MPEG frames, a LAME-encoded tone, and a symphonia decode check.

use antenne::broadcast::{Frame, FrameSplitter};
use mp3lame_encoder::{Bitrate, Builder, FlushNoGap, InterleavedPcm, Mode, Quality};

/// A valid MPEG-1 Layer III 128 kbps 44.1 kHz stereo frame (417 or 418 bytes) whose payload
/// is `fill` (never 0xFF, so it holds no false sync word).
pub fn synth_frame(padding: bool, fill: u8) -> Vec<u8> {
    assert_ne!(fill, 0xFF);
    let header = [0xFF, 0xFB, 0x90 | if padding { 0x02 } else { 0 }, 0x64];
    let mut frame = header.to_vec();
    frame.resize(if padding { 418 } else { 417 }, fill);
    frame
}

/// `n` synthetic frames with a padding pattern like LAME's at 44.1 kHz.
pub fn synth_frames(n: usize) -> Vec<Frame> {
    let bytes: Vec<u8> = (0..n)
        .flat_map(|i| synth_frame(i % 3 != 0, (i % 250) as u8))
        .collect();
    split_all(&bytes)
}

pub fn split_all(bytes: &[u8]) -> Vec<Frame> {
    let mut splitter = FrameSplitter::new();
    let mut out = Vec::new();
    splitter.push(bytes, &mut out);
    splitter.finish(&mut out);
    out
}

/// `seconds` of a 440 Hz stereo tone encoded by LAME at 128 kbps CBR, 44.1 kHz, including
/// LAME's Info tag frame.
pub fn lame_tone(seconds: f64) -> Vec<u8> {
    let mut builder = Builder::new().expect("lame");
    builder.set_num_channels(2).unwrap();
    builder.set_sample_rate(44_100).unwrap();
    builder.set_brate(Bitrate::Kbps128).unwrap();
    builder.set_mode(Mode::JointStereo).unwrap();
    builder.set_quality(Quality::Good).unwrap();
    let mut encoder = builder.build().unwrap();
    let frames = (seconds * 44_100.0) as usize;
    let pcm: Vec<f32> = (0..frames)
        .flat_map(|i| {
            let s = (i as f32 * 440.0 * std::f32::consts::TAU / 44_100.0).sin() * 0.3;
            [s, s]
        })
        .collect();
    let mut out = Vec::with_capacity(mp3lame_encoder::max_required_buffer_size(frames));
    encoder
        .encode_to_vec(InterleavedPcm(&pcm), &mut out)
        .unwrap();
    encoder.flush_to_vec::<FlushNoGap>(&mut out).unwrap();
    out
}

/// Decodes MP3 bytes with symphonia; returns the PCM frames decoded or the first error.
pub fn decode_mp3(bytes: Vec<u8>) -> Result<usize, String> {
    decode_mp3_with_rate(bytes).map(|(frames, _)| frames)
}

/// [`decode_mp3`], with the stream's sample rate.
pub fn decode_mp3_with_rate(bytes: Vec<u8>) -> Result<(usize, Option<u32>), String> {
    use symphonia::core::codecs::audio::AudioDecoderOptions;
    use symphonia::core::formats::probe::Hint;
    use symphonia::core::formats::{FormatOptions, TrackType};
    use symphonia::core::io::MediaSourceStream;
    use symphonia::core::meta::MetadataOptions;

    let mss = MediaSourceStream::new(Box::new(std::io::Cursor::new(bytes)), Default::default());
    let mut hint = Hint::new();
    hint.with_extension("mp3");
    let mut format = symphonia::default::get_probe()
        .probe(
            &hint,
            mss,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .map_err(|e| format!("probe: {e}"))?;
    let track = format
        .default_track(TrackType::Audio)
        .ok_or("no audio track")?;
    let params = track
        .codec_params
        .as_ref()
        .and_then(|p| p.audio())
        .ok_or("no audio params")?
        .clone();
    let track_id = track.id;
    let rate = params.sample_rate;
    let mut decoder = symphonia::default::get_codecs()
        .make_audio_decoder(&params, &AudioDecoderOptions::default())
        .map_err(|e| format!("decoder: {e}"))?;
    let mut decoded = 0;
    while let Some(packet) = format.next_packet().map_err(|e| format!("packet: {e}"))? {
        if packet.track_id != track_id {
            continue;
        }
        decoded += decoder
            .decode(&packet)
            .map_err(|e| format!("decode: {e}"))?
            .frames();
    }
    Ok((decoded, rate))
}

/// Concatenates frames back into a byte stream.
pub fn concat(frames: &[Frame]) -> Vec<u8> {
    frames
        .iter()
        .flat_map(|f| f.bytes.iter().copied())
        .collect()
}
