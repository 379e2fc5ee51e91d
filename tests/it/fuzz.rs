//! Issue #8, hostile input: every fuzz finding as a regression test, and the committed fuzz
//! corpus (`fuzz/corpus/<target>/`) replayed through the very functions the libFuzzer targets
//! call (`antenne_testkit::fuzz`), so CI exercises them without nightly or cargo-fuzz.
//! See RELIABILITY.md, "Fuzzing".

use std::path::Path;

use antenne_testkit::fuzz as checks;

/// Feeds every file of `fuzz/corpus/<target>/` to `check`; returns how many there were.
fn replay(target: &str, check: fn(&[u8])) -> usize {
    // The router-level checks' station goes in cargo's scratch folder, not on tmpfs.
    checks::keep_station_in(Path::new(env!("CARGO_TARGET_TMPDIR")));
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for f in &files {
        let data = std::fs::read(f).unwrap();
        // A failing input names itself before the check's own message.
        eprintln!("replaying {}", f.display());
        check(&data);
    }
    assert!(!files.is_empty(), "empty corpus for {target}");
    files.len()
}

#[test]
fn fuzz_corpus_schedule() {
    replay("schedule", checks::schedule);
}

#[test]
fn fuzz_corpus_upload_meta() {
    replay("upload_meta", checks::upload_meta);
}

#[test]
fn fuzz_corpus_http_headers() {
    replay("http_headers", checks::http_headers);
}

#[test]
fn fuzz_corpus_decode() {
    replay("decode", checks::decode);
}

/// Found by `http_headers` in its first seconds: an Icecast URL whose mount held a CR (and a
/// host with a NUL) went verbatim into the `PUT` request head, so a configuration value could
/// inject header lines or break the request line. `Endpoint::parse` now refuses anything but
/// visible ASCII in host and mount.
#[test]
fn issue8_icecast_url_cannot_inject_header_lines() {
    use antenne::broadcast::icecast::Endpoint;
    use antenne::config::IcecastTarget;
    let parse = |url: &str| {
        Endpoint::parse(&IcecastTarget {
            url: url.into(),
            user: String::new(),
            password: "hackme".into(),
            stream: "mp3".into(),
        })
    };
    for url in [
        "http://127.0.0.1:8000/live\r\nX-Injected: 1",
        "http://127.0.0.1:8000/live\r.mp3",
        "http://icecast\0.test:8000/live.mp3",
        "http://icecast.test:8000/live mp3",
        "http://ic\u{e9}cast.test:8000/live.mp3",
        "http://icecast.test:8000/\u{e9}t\u{e9}",
    ] {
        assert!(parse(url).is_err(), "{url:?} accepted");
    }
    assert!(parse("http://127.0.0.1:8000/live.mp3").is_ok());
    // The fuzz input that found it, through the target's own check (one request head).
    checks::http_headers(b"\x03http://127.0.0.1:8000/\xc3\xa9\r HTTP/1.1\nL'heure\npw");
    checks::http_headers(b"\x03http://127\x00.0.0.1/live\nL'heure\npw");
}

/// Runs bytes through the ingest job's decode and analysis, contained as a job is.
fn analyse_contained(name: &str, bytes: Vec<u8>) -> Result<(), antenne::audio::AudioError> {
    let label = Path::new(name).to_path_buf();
    let l = label.clone();
    antenne::audio::render::contained(&label, move || {
        antenne::audio::analyze_source(
            Box::new(std::io::Cursor::new(bytes)),
            &l,
            44_100,
            true,
            checks::DECODE_MAX_S,
        )
        .map(|_| ())
    })
}

/// A WAVE_FORMAT_EXTENSIBLE PCM file with `channels` channels, `mask` and `bits` per sample.
fn wav_extensible(channels: u16, mask: u32, bits: u16) -> Vec<u8> {
    let data: Vec<u8> = (0..400u32)
        .flat_map(|i| ((i * 97) as i16).to_le_bytes())
        .collect();
    let mut w = Vec::new();
    w.extend_from_slice(b"RIFF");
    w.extend_from_slice(&(4 + 8 + 40 + 8 + data.len() as u32).to_le_bytes());
    w.extend_from_slice(b"WAVEfmt ");
    w.extend_from_slice(&40u32.to_le_bytes());
    w.extend_from_slice(&0xFFFEu16.to_le_bytes());
    w.extend_from_slice(&channels.to_le_bytes());
    w.extend_from_slice(&8000u32.to_le_bytes());
    w.extend_from_slice(&(8000 * 2 * u32::from(channels)).to_le_bytes());
    w.extend_from_slice(&(2 * channels).to_le_bytes());
    w.extend_from_slice(&bits.to_le_bytes());
    w.extend_from_slice(&22u16.to_le_bytes());
    w.extend_from_slice(&16u16.to_le_bytes());
    w.extend_from_slice(&mask.to_le_bytes());
    w.extend_from_slice(&[
        0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b,
        0x71,
    ]);
    w.extend_from_slice(b"data");
    w.extend_from_slice(&(data.len() as u32).to_le_bytes());
    w.extend_from_slice(&data);
    w
}

/// Found by `decode` (80 of its inputs): a WAV whose channel mask has its top bit set and one
/// bit too few makes symphonia-format-riff 0.6.1 shift left by 32 (`fix_wave_channel_mask`,
/// chunks.rs:690) and panic where overflow checks are on. Antenne's side: the panic stays on
/// the audio job's thread and the job fails naming the file; nothing else is affected.
#[test]
fn issue8_wav_channel_mask_overflow_in_symphonia_is_contained() {
    let wav = wav_extensible(2, 0x8000_0000, 16);
    let result = analyse_contained("marche.wav", wav.clone());
    if cfg!(debug_assertions) {
        let e = result
            .expect_err("symphonia panics on this mask")
            .to_string();
        assert!(e.contains("crashed") && e.contains("marche.wav"), "{e}");
    }
    // A sane mask on the same file decodes.
    analyse_contained("ok.wav", wav_extensible(2, 0b11, 16)).expect("a valid extensible WAV");
    let mut input = vec![1u8];
    input.extend_from_slice(&wav);
    checks::decode(&input);
}

/// Found by `decode` (22 of its inputs): a CAF `desc` chunk whose bytes-per-packet times 8
/// overflows a u32 panics in symphonia-format-caf 0.6.1 (demuxer.rs:389). Contained the same
/// way: a failed job, never a crashed worker.
#[test]
fn issue8_caf_description_overflow_in_symphonia_is_contained() {
    let mut caf = Vec::new();
    caf.extend_from_slice(b"caff");
    caf.extend_from_slice(&1u16.to_be_bytes());
    caf.extend_from_slice(&0u16.to_be_bytes());
    caf.extend_from_slice(b"desc");
    caf.extend_from_slice(&32i64.to_be_bytes());
    caf.extend_from_slice(&8000f64.to_be_bytes());
    caf.extend_from_slice(b"lpcm");
    caf.extend_from_slice(&0u32.to_be_bytes());
    caf.extend_from_slice(&0x2000_0000u32.to_be_bytes()); // bytes per packet
    caf.extend_from_slice(&1u32.to_be_bytes()); // frames per packet
    caf.extend_from_slice(&1u32.to_be_bytes()); // channels per frame
    caf.extend_from_slice(&16u32.to_be_bytes()); // bits per channel
    caf.extend_from_slice(b"data");
    caf.extend_from_slice(&(-1i64).to_be_bytes());
    caf.extend_from_slice(&[0u8; 64]);
    let result = analyse_contained("interview.caf", caf.clone());
    if cfg!(debug_assertions) {
        let e = result
            .expect_err("symphonia panics on this CAF")
            .to_string();
        assert!(e.contains("crashed") && e.contains("interview.caf"), "{e}");
    }
    let mut input = vec![8u8];
    input.extend_from_slice(&caf);
    checks::decode(&input);
}

/// Found reviewing what the `upload_meta` target feeds (the watch folder's sidecar): the
/// sidecar `NAME.toml` was read whole into memory, so a huge file dropped under that name
/// allocated without bound. It is now read up to `MAX_SIDECAR_BYTES`; a larger one fails the
/// recording with a reason, and nothing else is read.
#[test]
fn issue8_a_huge_sidecar_fails_the_recording_without_being_read_whole() {
    use antenne::ingest::watch::{MAX_SIDECAR_BYTES, Taken, WatchFolder};
    let dir = tempfile::tempdir().unwrap();
    let catalog = antenne::catalog::Catalog::open(&dir.path().join("data")).unwrap();
    let media = dir.path().join("media");
    let mut folder = WatchFolder::new(catalog, &media).unwrap();
    let show = media.join("inbox/la-monnaie");
    std::fs::create_dir_all(&show).unwrap();
    let mut wav = Vec::new();
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 8000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::new(std::io::Cursor::new(&mut wav), spec).unwrap();
    for i in 0..800 {
        w.write_sample(((i * 37) % 2000) as i16).unwrap();
    }
    w.finalize().unwrap();
    std::fs::write(show.join("marche.wav"), &wav).unwrap();
    let line = format!("# {}\n", "x".repeat(1000));
    let huge = line.repeat((MAX_SIDECAR_BYTES as usize / line.len()) + 2);
    std::fs::write(
        show.join("marche.toml"),
        format!("title = \"Le marché\"\n{huge}"),
    )
    .unwrap();
    let now = jiff::Timestamp::now();
    let mut taken = folder.poll(now);
    if taken.is_empty() {
        taken = folder.poll(now);
    }
    let [Taken::Failed { reason, .. }] = taken.as_slice() else {
        panic!("{taken:?}");
    };
    assert!(reason.contains("larger than"), "{reason}");
    // Within the bound, the same sidecar text is parsed as ever.
    let fields = antenne::ingest::watch::sidecar_fields("title = \"Le marché\"\n# x\n", "m.toml");
    assert_eq!(fields.unwrap(), vec![("title".into(), "Le marché".into())]);
}

/// A plain WAV (16-byte `fmt `) with any format tag, channel count and sample size.
fn wav_plain(tag: u16, channels: u16, bits: u16) -> Vec<u8> {
    let data = vec![0x40u8; 512];
    let block = u32::from(channels) * u32::from(bits / 8);
    let mut w = Vec::new();
    w.extend_from_slice(b"RIFF");
    w.extend_from_slice(&(4 + 8 + 16 + 8 + data.len() as u32).to_le_bytes());
    w.extend_from_slice(b"WAVEfmt ");
    w.extend_from_slice(&16u32.to_le_bytes());
    w.extend_from_slice(&tag.to_le_bytes());
    w.extend_from_slice(&channels.to_le_bytes());
    w.extend_from_slice(&8000u32.to_le_bytes());
    w.extend_from_slice(&(8000 * block).to_le_bytes());
    w.extend_from_slice(&(block as u16).to_le_bytes());
    w.extend_from_slice(&bits.to_le_bytes());
    w.extend_from_slice(b"data");
    w.extend_from_slice(&(data.len() as u32).to_le_bytes());
    w.extend_from_slice(&data);
    w
}

/// Found by `decode` in its long-input run (`-len_control=0`): a WAV declaring 16384 channels
/// of 32-bit PCM overflows a u16 block size in symphonia-format-riff 0.6.1 (wave/chunks.rs:100;
/// the same multiplication in common.rs:215 was hit too). With overflow checks off the size
/// wraps (possibly to 0) instead, so the job's containment keeps the worker alive either way.
#[test]
fn issue8_wav_block_size_overflow_in_symphonia_is_contained() {
    let wav = wav_plain(1, 16_384, 32);
    let result = analyse_contained("pcm.wav", wav.clone());
    if cfg!(debug_assertions) {
        let e = result
            .expect_err("symphonia panics on this header")
            .to_string();
        assert!(e.contains("crashed") && e.contains("pcm.wav"), "{e}");
    }
    let mut input = vec![1u8];
    input.extend_from_slice(&wav);
    checks::decode(&input);
    analyse_contained("ok.wav", wav_plain(1, 2, 16)).expect("a valid 16-bit stereo WAV");
    // The fuzzer's input for common.rs:215 (`FormatPcm::make_packet_info`), as it found it.
    let input = include_bytes!("../../fuzz/regressions/decode-riff-packet-info-overflow.bin");
    let result = analyse_contained("found.mp3", input[1..].to_vec());
    if cfg!(debug_assertions) {
        let e = result
            .expect_err("symphonia panics on this input")
            .to_string();
        assert!(e.contains("crashed"), "{e}");
    }
    checks::decode(input);
}
