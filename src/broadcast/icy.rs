//! ICY (SHOUTcast/Icecast) in-band metadata: encoding of `StreamTitle` blocks, the per-listener
//! interleaver, and a reader used by tests and tools.
//!
//! A listener that sends `Icy-MetaData: 1` receives, after every [`METAINT`] audio bytes, one
//! length byte `n` followed by `16 * n` bytes of metadata (`StreamTitle='...';` padded with
//! NULs). As Icecast does, the full block is sent at the first boundary and after each title
//! change; the other boundaries carry an empty block (a single zero byte).

use bytes::Bytes;

/// Audio bytes between two metadata blocks (`icy-metaint`), Icecast's and SHOUTcast's default.
pub const METAINT: usize = 16_000;

/// Largest metadata payload: the length byte counts 16-byte units, at most 255 of them.
pub const MAX_BLOCK: usize = 255 * 16;

/// The one-byte empty metadata block.
pub static EMPTY_BLOCK: Bytes = Bytes::from_static(&[0]);

/// Makes a title safe inside `StreamTitle='...';`: control characters become spaces and the
/// ASCII apostrophe becomes U+2019 (’). Clients find the end of the title by searching `';`,
/// and none of them unescapes backslashes, so a typographic apostrophe is the one escape that
/// both parses and reads right ("L’heure des quartiers").
pub fn escape(title: &str) -> String {
    title
        .chars()
        .map(|c| match c {
            '\'' => '\u{2019}',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect()
}

/// Encodes the full metadata block (length byte included) for `title`: escaped, truncated on
/// a character boundary so the block fits in [`MAX_BLOCK`] bytes, NUL-padded to 16 bytes.
pub fn encode_block(title: &str) -> Bytes {
    const PREFIX: &str = "StreamTitle='";
    const SUFFIX: &str = "';";
    let escaped = escape(title);
    let room = MAX_BLOCK - PREFIX.len() - SUFFIX.len();
    let mut end = escaped.len().min(room);
    while !escaped.is_char_boundary(end) {
        end -= 1;
    }
    let text = format!("{PREFIX}{}{SUFFIX}", &escaped[..end]);
    let units = text.len().div_ceil(16);
    let mut block = Vec::with_capacity(1 + units * 16);
    block.push(units as u8);
    block.extend_from_slice(text.as_bytes());
    block.resize(1 + units * 16, 0);
    Bytes::from(block)
}

/// Per-listener interleaving state: how many audio bytes remain before the next block.
#[derive(Debug, Clone)]
pub struct Interleaver {
    until_block: usize,
    /// Version of the title last sent; `None` before the first block.
    sent_version: Option<u64>,
}

impl Default for Interleaver {
    fn default() -> Self {
        Interleaver {
            until_block: METAINT,
            sent_version: None,
        }
    }
}

impl Interleaver {
    /// Splits `audio` around metadata boundaries, pushing audio slices (zero-copy) and
    /// metadata blocks to `out`. `title` returns the current title's version and block, read
    /// only when a boundary is reached so a change shows at the very next block.
    pub fn push(
        &mut self,
        mut audio: Bytes,
        title: impl Fn() -> (u64, Bytes),
        out: &mut impl Extend<Bytes>,
    ) {
        while audio.len() >= self.until_block {
            let head = audio.split_to(self.until_block);
            if !head.is_empty() {
                out.extend([head]);
            }
            let (version, block) = title();
            if self.sent_version == Some(version) {
                out.extend([EMPTY_BLOCK.clone()]);
            } else {
                self.sent_version = Some(version);
                out.extend([block]);
            }
            self.until_block = METAINT;
        }
        self.until_block -= audio.len();
        if !audio.is_empty() {
            out.extend([audio]);
        }
    }
}

/// Reads an ICY stream back: separates audio from metadata. Used by tests and tools.
#[derive(Debug, Clone, Default)]
pub struct Reader {
    audio_left: usize,
    meta_len: Option<usize>,
    meta: Vec<u8>,
    started: bool,
    /// Every audio byte seen.
    pub audio: Vec<u8>,
    /// Every non-empty metadata payload (NUL padding stripped), with the audio offset at
    /// which it arrived.
    pub blocks: Vec<(usize, String)>,
}

impl Reader {
    pub fn new() -> Reader {
        Reader::default()
    }

    pub fn push(&mut self, mut data: &[u8]) {
        if !self.started {
            self.started = true;
            self.audio_left = METAINT;
        }
        while !data.is_empty() {
            if let Some(len) = self.meta_len {
                let take = (len - self.meta.len()).min(data.len());
                self.meta.extend_from_slice(&data[..take]);
                data = &data[take..];
                if self.meta.len() == len {
                    let text = String::from_utf8_lossy(&self.meta)
                        .trim_end_matches('\0')
                        .to_owned();
                    self.blocks.push((self.audio.len(), text));
                    self.meta.clear();
                    self.meta_len = None;
                }
            } else if self.audio_left == 0 {
                let len = usize::from(data[0]) * 16;
                data = &data[1..];
                self.audio_left = METAINT;
                if len > 0 {
                    self.meta_len = Some(len);
                }
            } else {
                let take = self.audio_left.min(data.len());
                self.audio.extend_from_slice(&data[..take]);
                self.audio_left -= take;
                data = &data[take..];
            }
        }
    }
}

/// Extracts the title from a `StreamTitle='...';` payload.
pub fn stream_title(payload: &str) -> Option<&str> {
    let rest = payload.strip_prefix("StreamTitle='")?;
    Some(&rest[..rest.find("';")?])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(title: &str, expected_payload: &str) {
        let block = encode_block(title);
        assert_eq!(usize::from(block[0]) * 16 + 1, block.len());
        assert!(block.len() <= MAX_BLOCK + 1);
        let payload = std::str::from_utf8(&block[1..])
            .unwrap()
            .trim_end_matches('\0');
        assert_eq!(payload, expected_payload);
    }

    #[test]
    fn blocks() {
        check("", "StreamTitle='';");
        check("Show - Episode", "StreamTitle='Show - Episode';");
        check(
            "L'heure des quartiers",
            "StreamTitle='L\u{2019}heure des quartiers';",
        );
        check("a\nb\r\0c';d", "StreamTitle='a b  c\u{2019};d';");
    }

    #[test]
    fn truncates_on_a_char_boundary() {
        let long = "é".repeat(3000); // 6000 bytes
        let block = encode_block(&long);
        assert_eq!(block.len(), MAX_BLOCK + 1);
        let payload = std::str::from_utf8(&block[1..])
            .unwrap()
            .trim_end_matches('\0');
        let title = stream_title(payload).unwrap();
        assert_eq!(title.len(), (MAX_BLOCK - 15) / 2 * 2);
    }
}
