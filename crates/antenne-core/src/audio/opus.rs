//! Opus, through libopus: a packet decoder registered with symphonia (so Ogg Opus files and
//! live sources decode like every other format) and a packet encoder (the Opus stream).
//!
//! libopus comes as `unsafe-libopus`, the reference C library (1.3.1) translated to Rust: it
//! builds with the Rust toolchain alone, where the crates that compile the C sources need
//! cmake. This file is the only place that calls it; everything above sees safe types.

use std::ptr::NonNull;
use std::sync::LazyLock;

use symphonia::core::audio::{AsGenericAudioBufferRef, AudioBuffer, AudioMut, AudioSpec};
use symphonia::core::audio::{Channels, GenericAudioBufferRef};
use symphonia::core::codecs::CodecInfo;
use symphonia::core::codecs::audio::well_known::CODEC_ID_OPUS;
use symphonia::core::codecs::audio::{
    AudioCodecParameters, AudioDecoder, AudioDecoderOptions, FinalizeResult,
};
use symphonia::core::codecs::registry::{
    CodecRegistry, RegisterableAudioDecoder, SupportedAudioCodec,
};
use symphonia::core::errors::{Error as SymError, Result as SymResult};
use symphonia::core::packet::PacketRef;
use unsafe_libopus as unsafe_lib;

/// Opus always decodes and encodes at 48 kHz here (the Ogg Opus mapping's output rate).
pub const OPUS_RATE: u32 = 48_000;
/// The longest Opus packet: 120 ms at 48 kHz.
const MAX_PACKET_FRAMES: usize = 5_760;

/// symphonia's decoders plus Opus: what every [`super::decode::Decoder`] is made from.
pub fn codecs() -> &'static CodecRegistry {
    static CODECS: LazyLock<CodecRegistry> = LazyLock::new(|| {
        let mut registry = CodecRegistry::new();
        symphonia::default::register_enabled_codecs(&mut registry);
        registry.register_audio_decoder::<OpusTrackDecoder>();
        registry
    });
    &CODECS
}

fn opus_error(code: i32) -> String {
    let text = match code {
        unsafe_lib::OPUS_BAD_ARG => "bad argument",
        unsafe_lib::OPUS_BUFFER_TOO_SMALL => "buffer too small",
        unsafe_lib::OPUS_INTERNAL_ERROR => "internal error",
        unsafe_lib::OPUS_INVALID_PACKET => "invalid packet",
        unsafe_lib::OPUS_UNIMPLEMENTED => "unimplemented",
        unsafe_lib::OPUS_INVALID_STATE => "invalid state",
        unsafe_lib::OPUS_ALLOC_FAIL => "allocation failed",
        _ => "unknown error",
    };
    format!("opus: {text} ({code})")
}

/// One libopus decoder (mono or stereo, 48 kHz).
pub struct PacketDecoder {
    state: NonNull<unsafe_lib::OpusDecoder>,
    channels: usize,
}

// SAFETY: the state is owned by this value alone and only touched through `&mut self`.
unsafe impl Send for PacketDecoder {}
// SAFETY: no method taking `&self` reads or writes the state.
unsafe impl Sync for PacketDecoder {}

impl PacketDecoder {
    pub fn new(channels: usize) -> Result<PacketDecoder, String> {
        if !(1..=2).contains(&channels) {
            return Err(format!(
                "opus: {channels} channels (only mono and stereo streams are decoded)"
            ));
        }
        let mut error = 0;
        // SAFETY: valid rate and channel count; `error` outlives the call.
        let state = unsafe {
            unsafe_lib::opus_decoder_create(OPUS_RATE as i32, channels as i32, &mut error)
        };
        match NonNull::new(state) {
            Some(state) if error == unsafe_lib::OPUS_OK => Ok(PacketDecoder { state, channels }),
            _ => Err(opus_error(error)),
        }
    }

    pub fn channels(&self) -> usize {
        self.channels
    }

    /// Decodes one packet into `out` (interleaved); returns the frames decoded. `out` must hold
    /// 120 ms ([`MAX_PACKET_FRAMES`] frames).
    pub fn decode(&mut self, packet: &[u8], out: &mut [f32]) -> Result<usize, String> {
        let max_frames = out.len() / self.channels;
        // SAFETY: `packet` and `out` are valid for the lengths passed; the state is ours.
        let n = unsafe {
            unsafe_lib::opus_decode_float(
                self.state.as_ptr(),
                packet.as_ptr(),
                packet.len() as i32,
                out.as_mut_ptr(),
                max_frames as i32,
                0,
            )
        };
        if n < 0 {
            Err(opus_error(n))
        } else {
            Ok(n as usize)
        }
    }

    fn reset(&mut self) {
        // SAFETY: a reset request takes no argument.
        unsafe {
            unsafe_lib::opus_decoder_ctl_impl(
                self.state.as_ptr(),
                unsafe_lib::OPUS_RESET_STATE,
                unsafe_lib::varargs!(),
            )
        };
    }
}

impl Drop for PacketDecoder {
    fn drop(&mut self) {
        // SAFETY: created by `opus_decoder_create`, destroyed once.
        unsafe { unsafe_lib::opus_decoder_destroy(self.state.as_ptr()) }
    }
}

/// The symphonia face of [`PacketDecoder`]: Ogg Opus tracks (the demuxer reads `OpusHead`,
/// the pre-skip and the end trim) decode to `f32` at 48 kHz.
pub struct OpusTrackDecoder {
    params: AudioCodecParameters,
    packets: PacketDecoder,
    buf: AudioBuffer<f32>,
    scratch: Vec<f32>,
}

impl OpusTrackDecoder {
    fn try_new(params: &AudioCodecParameters) -> SymResult<OpusTrackDecoder> {
        let channels = params.channels.clone().unwrap_or(Channels::Discrete(2));
        let packets = PacketDecoder::new(channels.count())
            .map_err(|_| SymError::Unsupported("opus: channel layout"))?;
        let count = packets.channels();
        let spec = AudioSpec::new(OPUS_RATE, channels);
        Ok(OpusTrackDecoder {
            params: params.clone(),
            packets,
            buf: AudioBuffer::new(spec, MAX_PACKET_FRAMES),
            scratch: vec![0.0; MAX_PACKET_FRAMES * count],
        })
    }
}

impl AudioDecoder for OpusTrackDecoder {
    fn reset(&mut self) {
        self.packets.reset();
    }

    fn codec_info(&self) -> &CodecInfo {
        &Self::supported_codecs()[0].info
    }

    fn codec_params(&self) -> &AudioCodecParameters {
        &self.params
    }

    fn decode_ref(&mut self, packet: &PacketRef<'_>) -> SymResult<GenericAudioBufferRef<'_>> {
        self.buf.clear();
        match self.packets.decode(packet.data, &mut self.scratch) {
            Ok(frames) => {
                self.buf.render_uninit(Some(frames));
                let channels = self.packets.channels();
                self.buf
                    .copy_from_slice_interleaved(&&self.scratch[..frames * channels]);
                Ok(self.buf.as_generic_audio_buffer_ref())
            }
            Err(_) => Err(SymError::DecodeError("opus: invalid packet")),
        }
    }

    fn finalize(&mut self) -> FinalizeResult {
        FinalizeResult::default()
    }

    fn last_decoded(&self) -> GenericAudioBufferRef<'_> {
        self.buf.as_generic_audio_buffer_ref()
    }
}

impl RegisterableAudioDecoder for OpusTrackDecoder {
    fn try_registry_new(
        params: &AudioCodecParameters,
        _opts: &AudioDecoderOptions,
    ) -> SymResult<Box<dyn AudioDecoder>> {
        Ok(Box::new(OpusTrackDecoder::try_new(params)?))
    }

    fn supported_codecs() -> &'static [SupportedAudioCodec] {
        const OPUS: [SupportedAudioCodec; 1] = [SupportedAudioCodec {
            id: CODEC_ID_OPUS,
            info: CodecInfo {
                short_name: "opus",
                long_name: "Opus (libopus)",
                profiles: &[],
            },
        }];
        &OPUS
    }
}

/// One libopus encoder for music at 48 kHz, stereo, with a fixed bitrate target (VBR, as
/// Icecast stations use it).
pub struct PacketEncoder {
    state: NonNull<unsafe_lib::OpusEncoder>,
    channels: usize,
    out: Vec<u8>,
}

// SAFETY: as `PacketDecoder`: the state is owned and only touched through `&mut self`.
unsafe impl Send for PacketEncoder {}

/// Frames in one encoded packet: 20 ms at 48 kHz, Opus's default and best music size.
pub const PACKET_FRAMES: usize = 960;

impl PacketEncoder {
    pub fn new(channels: usize, bitrate_bps: u32) -> Result<PacketEncoder, String> {
        if !(1..=2).contains(&channels) {
            return Err(format!("opus: cannot encode {channels} channels"));
        }
        let mut error = 0;
        // SAFETY: valid rate, channel count and application; `error` outlives the call.
        let state = unsafe {
            unsafe_lib::opus_encoder_create(
                OPUS_RATE as i32,
                channels as i32,
                unsafe_lib::OPUS_APPLICATION_AUDIO,
                &mut error,
            )
        };
        let state = match NonNull::new(state) {
            Some(state) if error == unsafe_lib::OPUS_OK => state,
            _ => return Err(opus_error(error)),
        };
        let mut encoder = PacketEncoder {
            state,
            channels,
            out: vec![0; 4_000],
        };
        encoder.ctl(unsafe_lib::OPUS_SET_BITRATE_REQUEST, bitrate_bps as i32)?;
        encoder.ctl(
            unsafe_lib::OPUS_SET_SIGNAL_REQUEST,
            unsafe_lib::OPUS_SIGNAL_MUSIC,
        )?;
        Ok(encoder)
    }

    fn ctl(&mut self, request: i32, value: i32) -> Result<(), String> {
        // SAFETY: setter requests take one i32.
        let code = unsafe {
            unsafe_lib::opus_encoder_ctl_impl(
                self.state.as_ptr(),
                request,
                unsafe_lib::varargs!(value),
            )
        };
        if code == unsafe_lib::OPUS_OK {
            Ok(())
        } else {
            Err(opus_error(code))
        }
    }

    /// The encoder's look-ahead in frames: the Ogg Opus pre-skip.
    pub fn lookahead(&mut self) -> u16 {
        let mut frames = 0i32;
        // SAFETY: a getter request takes one `&mut i32`.
        unsafe {
            unsafe_lib::opus_encoder_ctl_impl(
                self.state.as_ptr(),
                unsafe_lib::OPUS_GET_LOOKAHEAD_REQUEST,
                unsafe_lib::varargs!(&mut frames),
            )
        };
        frames.clamp(0, u16::MAX as i32) as u16
    }

    /// Encodes exactly [`PACKET_FRAMES`] interleaved frames into one packet.
    pub fn encode(&mut self, pcm: &[f32]) -> Result<&[u8], String> {
        assert_eq!(pcm.len(), PACKET_FRAMES * self.channels, "one 20 ms packet");
        // SAFETY: `pcm` holds one packet's frames, `out` its capacity; the state is ours.
        let n = unsafe {
            unsafe_lib::opus_encode_float(
                self.state.as_ptr(),
                pcm.as_ptr(),
                PACKET_FRAMES as i32,
                self.out.as_mut_ptr(),
                self.out.len() as i32,
            )
        };
        if n < 0 {
            Err(opus_error(n))
        } else {
            Ok(&self.out[..n as usize])
        }
    }
}

impl Drop for PacketEncoder {
    fn drop(&mut self) {
        // SAFETY: created by `opus_encoder_create`, destroyed once.
        unsafe { unsafe_lib::opus_encoder_destroy(self.state.as_ptr()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(frames: usize, hz: f32) -> Vec<f32> {
        (0..frames)
            .flat_map(|i| {
                let s = (i as f32 * hz * std::f32::consts::TAU / OPUS_RATE as f32).sin() * 0.5;
                [s, s]
            })
            .collect()
    }

    #[test]
    fn a_tone_survives_encoding_and_decoding() {
        let mut encoder = PacketEncoder::new(2, 96_000).unwrap();
        let mut decoder = PacketDecoder::new(2).unwrap();
        let input = tone(PACKET_FRAMES * 50, 1_000.0);
        let mut decoded = Vec::new();
        let mut out = vec![0.0; MAX_PACKET_FRAMES * 2];
        for chunk in input.chunks(PACKET_FRAMES * 2) {
            let packet = encoder.encode(chunk).unwrap().to_vec();
            let n = decoder.decode(&packet, &mut out).unwrap();
            assert_eq!(n, PACKET_FRAMES);
            decoded.extend_from_slice(&out[..n * 2]);
        }
        // Compare after the codec's delay: the decoded tone lags by the look-ahead.
        let delay = encoder.lookahead() as usize;
        let tail = PACKET_FRAMES * 10;
        let err: f32 = (tail..tail + 4_800)
            .map(|i| (decoded[(i + delay) * 2] - input[i * 2]).powi(2))
            .sum::<f32>()
            / 4_800.0;
        let power: f32 = (tail..tail + 4_800)
            .map(|i| input[i * 2].powi(2))
            .sum::<f32>()
            / 4_800.0;
        assert!(
            err < power * 0.01,
            "SNR under 20 dB: err {err}, power {power}"
        );
    }

    #[test]
    fn garbage_is_an_error_not_a_crash() {
        let mut decoder = PacketDecoder::new(2).unwrap();
        let mut out = vec![0.0; MAX_PACKET_FRAMES * 2];
        // A TOC byte announcing more frames than the packet holds.
        assert!(decoder.decode(&[0xff, 0xff, 0xff], &mut out).is_err());
        assert!(PacketDecoder::new(6).is_err());
    }
}
