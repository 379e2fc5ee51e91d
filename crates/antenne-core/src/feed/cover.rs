//! Generated cover art for a show without artwork: a square RGB PNG, deterministic from the
//! show's title, within Apple's 1400-3000 px bounds.
//!
//! The motif is radio waves (concentric rings from an off-centre source) over a flat
//! background; colours and geometry come from a SHA-256 of the title, so two shows differ and
//! one show keeps its cover across restarts. Large flat areas keep the PNG small.

use sha2::{Digest, Sha256};

/// Side of the generated cover, pixels (Apple's minimum).
pub const COVER_SIDE: u32 = 1400;

/// The cover for `title` as PNG bytes (`COVER_SIDE` square, 8-bit RGB).
pub fn cover_png(title: &str) -> Vec<u8> {
    let pixels = draw(title, COVER_SIDE);
    let mut out = Vec::with_capacity(64 * 1024);
    let mut encoder = png::Encoder::new(&mut out, COVER_SIDE, COVER_SIDE);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Balanced);
    // Writing into a Vec cannot fail and the dimensions match the buffer by construction.
    let mut writer = encoder.write_header().expect("in-memory PNG header");
    writer
        .write_image_data(&pixels)
        .expect("in-memory PNG data");
    writer.finish().expect("in-memory PNG end");
    out
}

/// RGB pixels, row-major.
fn draw(title: &str, side: u32) -> Vec<u8> {
    let h: [u8; 32] = Sha256::digest(title.trim().as_bytes()).into();
    let hue = f32::from(u16::from_be_bytes([h[0], h[1]]) % 360);
    let background = hsl(hue, 0.55, 0.20);
    let wave = hsl((hue + 140.0 + f32::from(h[2] % 80)) % 360.0, 0.70, 0.58);
    let core = hsl((hue + 40.0) % 360.0, 0.80, 0.70);
    let side_f = side as f32;
    // The source of the waves: somewhere in the lower-left to lower-right band.
    let cx = side_f * (0.2 + 0.6 * f32::from(h[3]) / 255.0);
    let cy = side_f * (0.55 + 0.35 * f32::from(h[4]) / 255.0);
    let spacing = side_f * (0.045 + 0.03 * f32::from(h[5]) / 255.0);
    let thickness = spacing * (0.25 + 0.25 * f32::from(h[6]) / 255.0);
    let core_radius = spacing * 1.2;
    // Waves only within a cone pointing up (an antenna's beam), angle from the hash.
    let half_angle = 0.6 + 0.6 * f32::from(h[7]) / 255.0;

    let mut pixels = Vec::with_capacity((side * side * 3) as usize);
    for y in 0..side {
        for x in 0..side {
            let dx = x as f32 + 0.5 - cx;
            let dy = y as f32 + 0.5 - cy;
            let r2 = dx * dx + dy * dy;
            // The cheap tests first: atan2 only for pixels on a ring (debug builds draw this too).
            let colour = if r2 < core_radius * core_radius {
                core
            } else {
                let r = r2.sqrt();
                let on_ring = (r % spacing) < thickness && r < side_f * 1.5;
                if on_ring && dx.atan2(-dy).abs() < half_angle {
                    wave
                } else {
                    background
                }
            };
            pixels.extend_from_slice(&colour);
        }
    }
    pixels
}

/// HSL (degrees, 0-1, 0-1) to 8-bit RGB.
fn hsl(h: f32, s: f32, l: f32) -> [u8; 3] {
    let c = (1.0 - (2.0 * l - 1.0).abs()) * s;
    let hp = h / 60.0;
    let x = c * (1.0 - (hp % 2.0 - 1.0).abs());
    let (r, g, b) = match hp as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let m = l - c / 2.0;
    let to_byte = |v: f32| ((v + m) * 255.0).round().clamp(0.0, 255.0) as u8;
    [to_byte(r), to_byte(g), to_byte(b)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hsl_primaries() {
        assert_eq!(hsl(0.0, 1.0, 0.5), [255, 0, 0]);
        assert_eq!(hsl(120.0, 1.0, 0.5), [0, 255, 0]);
        assert_eq!(hsl(240.0, 1.0, 0.5), [0, 0, 255]);
        assert_eq!(hsl(0.0, 0.0, 1.0), [255, 255, 255]);
    }

    #[test]
    fn titles_differ_and_repeat() {
        let a = draw("Au fil des quartiers", 64);
        assert_eq!(a, draw("Au fil des quartiers", 64));
        assert_ne!(a, draw("La Monnaie", 64));
        // Not a flat square: at least the background and the waves.
        let mut colours: Vec<&[u8]> = a.chunks(3).collect();
        colours.sort();
        colours.dedup();
        assert!(colours.len() >= 2, "{colours:?}");
    }
}
