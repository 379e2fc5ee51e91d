//! A minimal ID3v2.4 tag writer (UTF-8 text frames and one picture): LAME's own tagging is
//! Latin-1 only and our titles are French.

/// What the episode file is tagged with; empty fields are left out.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EpisodeTags {
    pub title: String,
    /// The show's name (album and artist in podcast apps).
    pub show: String,
    /// `YYYY-MM-DD`.
    pub date: String,
    pub description: String,
    /// JPEG or PNG bytes.
    pub artwork: Option<Vec<u8>>,
}

fn syncsafe(n: usize) -> [u8; 4] {
    [
        (n >> 21) as u8 & 0x7f,
        (n >> 14) as u8 & 0x7f,
        (n >> 7) as u8 & 0x7f,
        n as u8 & 0x7f,
    ]
}

fn frame(out: &mut Vec<u8>, id: &[u8; 4], body: &[u8]) {
    out.extend_from_slice(id);
    out.extend_from_slice(&syncsafe(body.len()));
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(body);
}

fn text(out: &mut Vec<u8>, id: &[u8; 4], value: &str) {
    if value.is_empty() {
        return;
    }
    let mut body = vec![3u8]; // UTF-8
    body.extend_from_slice(value.as_bytes());
    frame(out, id, &body);
}

/// Serialises the tag; empty `Vec` when there is nothing to say.
pub fn encode_tag(tags: &EpisodeTags) -> Vec<u8> {
    let mut frames = Vec::new();
    text(&mut frames, b"TIT2", &tags.title);
    text(&mut frames, b"TALB", &tags.show);
    text(&mut frames, b"TPE1", &tags.show);
    text(&mut frames, b"TDRC", &tags.date);
    text(
        &mut frames,
        b"TCON",
        if tags.title.is_empty() { "" } else { "Podcast" },
    );
    if !tags.description.is_empty() {
        let mut body = vec![3u8];
        body.extend_from_slice(b"fra");
        body.push(0); // empty content descriptor
        body.extend_from_slice(tags.description.as_bytes());
        frame(&mut frames, b"COMM", &body);
    }
    if let Some(art) = tags.artwork.as_ref().filter(|a| !a.is_empty()) {
        let mime: &[u8] = if art.starts_with(b"\x89PNG") {
            b"image/png"
        } else {
            b"image/jpeg"
        };
        let mut body = vec![0u8];
        body.extend_from_slice(mime);
        body.push(0);
        body.push(3); // front cover
        body.push(0); // empty description
        body.extend_from_slice(art);
        frame(&mut frames, b"APIC", &body);
    }
    if frames.is_empty() {
        return frames;
    }
    let mut tag = b"ID3\x04\x00\x00".to_vec();
    tag.extend_from_slice(&syncsafe(frames.len()));
    tag.extend_from_slice(&frames);
    tag
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_and_utf8_title() {
        let tag = encode_tag(&EpisodeTags {
            title: "Été".into(),
            ..Default::default()
        });
        assert_eq!(&tag[..5], b"ID3\x04\x00");
        let size = tag[6..10]
            .iter()
            .fold(0usize, |a, b| (a << 7) | *b as usize);
        assert_eq!(size, tag.len() - 10);
        assert!(tag.windows(5).any(|w| w == "Été".as_bytes()));
        assert!(encode_tag(&EpisodeTags::default()).is_empty());
    }
}
