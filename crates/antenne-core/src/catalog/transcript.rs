//! The format of an episode's transcript: one value that intake records, the catalog stores,
//! the feed announces and `/media` serves, so the four cannot disagree.

/// A transcript's format. The catalog stores its [`mime`](TranscriptKind::mime) type; the
/// feed announces `{base}/media/{id}.{ext}` with that type in `podcast:transcript`, and the
/// `/media` route serves that name with that type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TranscriptKind {
    /// WebVTT (`text/vtt`), the Podcasting 2.0 namespace's recommended format.
    WebVtt,
    /// SubRip (`application/x-subrip`, the type the Podcasting 2.0 namespace's examples give).
    Srt,
}

impl TranscriptKind {
    pub const ALL: [TranscriptKind; 2] = [TranscriptKind::WebVtt, TranscriptKind::Srt];

    /// The MIME type: stored in the catalog, announced in the feed, served as Content-Type.
    pub fn mime(self) -> &'static str {
        match self {
            TranscriptKind::WebVtt => "text/vtt",
            TranscriptKind::Srt => "application/x-subrip",
        }
    }

    /// The extension of its file under `meta/` and of its `/media` name.
    pub fn ext(self) -> &'static str {
        match self {
            TranscriptKind::WebVtt => "vtt",
            TranscriptKind::Srt => "srt",
        }
    }

    /// The kind of a MIME type, parameters and case ignored. SRT has no registered type: the
    /// other names in use (`application/srt`, which Antenne stored before, `text/srt`) are
    /// read too.
    pub fn from_mime(mime: &str) -> Option<TranscriptKind> {
        let essence = mime.split(';').next().unwrap_or("").trim();
        let is = |m: &str| essence.eq_ignore_ascii_case(m);
        if is("text/vtt") {
            Some(TranscriptKind::WebVtt)
        } else if is("application/x-subrip") || is("application/srt") || is("text/srt") {
            Some(TranscriptKind::Srt)
        } else {
            None
        }
    }

    /// The kind of a file extension (`vtt`, `srt`; exact, as `/media` names are).
    pub fn from_ext(ext: &str) -> Option<TranscriptKind> {
        TranscriptKind::ALL.into_iter().find(|k| k.ext() == ext)
    }

    /// Recognises a transcript from its text: WebVTT starts with `WEBVTT` (after an optional
    /// byte order mark), SRT with a cue number followed by a `-->` time line.
    pub fn sniff(text: &str) -> Option<TranscriptKind> {
        let text = text.trim_start_matches('\u{feff}');
        if text.starts_with("WEBVTT") {
            return Some(TranscriptKind::WebVtt);
        }
        let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
        let first = lines.next().unwrap_or("");
        let second = lines.next().unwrap_or("");
        (first.parse::<u32>().is_ok() && second.contains("-->")).then_some(TranscriptKind::Srt)
    }
}

impl std::fmt::Display for TranscriptKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.mime())
    }
}

impl rusqlite::ToSql for TranscriptKind {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        Ok(self.mime().into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mime_ext_and_back() {
        for k in TranscriptKind::ALL {
            assert_eq!(TranscriptKind::from_mime(k.mime()), Some(k));
            assert_eq!(TranscriptKind::from_ext(k.ext()), Some(k));
        }
        for (mime, kind) in [
            ("text/vtt; charset=utf-8", Some(TranscriptKind::WebVtt)),
            ("TEXT/VTT", Some(TranscriptKind::WebVtt)),
            ("application/srt", Some(TranscriptKind::Srt)),
            ("text/srt", Some(TranscriptKind::Srt)),
            ("application/x-subrip", Some(TranscriptKind::Srt)),
            ("text/plain", None),
            ("", None),
        ] {
            assert_eq!(TranscriptKind::from_mime(mime), kind, "{mime}");
        }
        assert_eq!(TranscriptKind::from_ext("VTT"), None);
        assert_eq!(TranscriptKind::from_ext("txt"), None);
    }

    #[test]
    fn sniffed_from_the_text() {
        for (text, kind) in [
            (
                "WEBVTT\n\n00:00.000 --> 00:01.000\nBonjour\n",
                Some(TranscriptKind::WebVtt),
            ),
            ("\u{feff}WEBVTT - titre\n", Some(TranscriptKind::WebVtt)),
            (
                "1\n00:00:00,000 --> 00:00:01,000\nBonjour\n",
                Some(TranscriptKind::Srt),
            ),
            (
                "\n\n 1 \r\n00:00:00,000 --> 00:00:01,000\r\n",
                Some(TranscriptKind::Srt),
            ),
            ("just some words", None),
            ("1\nno time line\n", None),
            ("", None),
        ] {
            assert_eq!(TranscriptKind::sniff(text), kind, "{text:?}");
        }
    }

    #[test]
    fn stored_as_its_mime_type_and_read_back_from_older_rows() {
        use crate::catalog::{CATALOG_FILE, Catalog, NewEpisode};
        let dir = tempfile::tempdir().unwrap();
        let catalog = Catalog::open(dir.path()).unwrap();
        let now = jiff::Timestamp::now();
        for (id, kind) in [("v", TranscriptKind::WebVtt), ("s", TranscriptKind::Srt)] {
            let new = NewEpisode {
                id: id.into(),
                show: "la-matinale".into(),
                title: id.into(),
                original_sha256: id.into(),
                original_path: format!("originals/{id}.wav"),
                original_bytes: 1,
                transcript_path: Some(format!("meta/{id}.{}", kind.ext())),
                transcript_type: Some(kind),
                ..Default::default()
            };
            catalog.create_episode(&new, now).unwrap();
            assert_eq!(
                catalog.episode(id).unwrap().unwrap().transcript_type,
                Some(kind)
            );
        }
        let raw = rusqlite::Connection::open(dir.path().join(CATALOG_FILE)).unwrap();
        let stored = |id: &str| -> String {
            raw.query_row(
                "SELECT transcript_type FROM episodes WHERE id = ?1",
                [id],
                |r| r.get(0),
            )
            .unwrap()
        };
        assert_eq!(
            (stored("v"), stored("s")),
            ("text/vtt".into(), "application/x-subrip".into())
        );
        // Rows written before TranscriptKind said `application/srt`; an unknown type is no
        // transcript rather than an unreadable episode.
        for (stored, kind) in [
            ("application/srt", Some(TranscriptKind::Srt)),
            ("text/html", None),
        ] {
            raw.execute(
                "UPDATE episodes SET transcript_type = ?1 WHERE id = 's'",
                [stored],
            )
            .unwrap();
            assert_eq!(
                catalog.episode("s").unwrap().unwrap().transcript_type,
                kind,
                "{stored}"
            );
        }
    }
}
