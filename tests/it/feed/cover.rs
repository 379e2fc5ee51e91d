//! The generated cover decodes as a square RGB PNG within Apple's 1400-3000 px bounds.

use antenne::feed::cover::{COVER_SIDE, cover_png};

#[test]
fn cover_is_a_square_rgb_png_apple_accepts() {
    let bytes = cover_png("Au fil des quartiers");
    let decoder = png::Decoder::new(std::io::Cursor::new(&bytes));
    let mut reader = decoder.read_info().expect("a valid PNG");
    let info = reader.info();
    assert_eq!((info.width, info.height), (COVER_SIDE, COVER_SIDE));
    assert!((1400..=3000).contains(&info.width));
    assert_eq!(info.color_type, png::ColorType::Rgb, "Apple wants RGB");
    assert_eq!(info.bit_depth, png::BitDepth::Eight);
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    reader.next_frame(&mut pixels).expect("pixels decode");
    assert!(
        bytes.len() < 512 * 1024,
        "flat areas keep it small: {} bytes",
        bytes.len()
    );
    // Determinism and per-title variation are unit-tested on small drawings (feed::cover).
}

/// Writes the demo cover for eyes and for the interop suite: to `$ANTENNE_COVER_FIXTURE` when
/// set, else under Cargo's test temp dir.
#[test]
fn write_cover_fixture() {
    let path = std::env::var_os("ANTENNE_COVER_FIXTURE")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("cover-fixture.png")
        });
    let bytes = cover_png("Au fil des quartiers");
    std::fs::write(&path, &bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
}
