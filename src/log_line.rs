//! Log output where one event is always one line: a value from outside (a volunteer's file
//! name, an upload's text, an error quoting either) cannot forge a log line by carrying a
//! newline. `tracing_subscriber::fmt` writes each event as one buffer ending in `\n`;
//! [`OneLine`] escapes every other line break and control character in it (`\n` → `\\n`,
//! others as `\\x..`; tabs and the formatter's colour codes kept) before it reaches the real
//! writer.

use std::io::{self, Write};

use tracing_subscriber::fmt::MakeWriter;

/// A [`MakeWriter`] whose writers escape line breaks inside an event; see the module doc.
#[derive(Debug, Clone, Copy)]
pub struct OneLine<M>(pub M);

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for OneLine<M> {
    type Writer = Guard<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        Guard(self.0.make_writer())
    }
}

/// One event's writer; see [`OneLine`].
#[derive(Debug)]
pub struct Guard<W>(W);

/// `event` with its final newline kept and every other control character escaped.
pub fn escape_event(event: &[u8]) -> Vec<u8> {
    let (body, end) = match event.strip_suffix(b"\n") {
        Some(body) => (body, &b"\n"[..]),
        None => (event, &b""[..]),
    };
    let mut out = Vec::with_capacity(event.len() + 8);
    for &b in body {
        match b {
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            // Tabs, and ESC: the formatter's own colours on a terminal (tracing-subscriber
            // already escapes ESC inside values).
            b'\t' | 0x1b => out.push(b),
            b if b < 0x20 || b == 0x7f => out.extend_from_slice(format!("\\x{b:02x}").as_bytes()),
            b => out.push(b),
        }
    }
    out.extend_from_slice(end);
    out
}

impl<W: Write> Write for Guard<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write_all(&escape_event(buf))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::escape_event;

    #[track_caller]
    fn check(event: &str, expected: &str) {
        assert_eq!(
            String::from_utf8(escape_event(event.as_bytes())).unwrap(),
            expected
        );
    }

    #[test]
    fn one_event_one_line() {
        check("plain\n", "plain\n");
        check(
            "ingest failed: a\nINFO forged line\n",
            "ingest failed: a\\nINFO forged line\n",
        );
        check("x\r\ny\n", "x\\r\\ny\n");
        check(
            "tab\tkept, \u{7}\u{0} escaped\n",
            "tab\tkept, \\x07\\x00 escaped\n",
        );
        check("\u{1b}[2mcolour\u{1b}[0m\n", "\u{1b}[2mcolour\u{1b}[0m\n");
        check("no newline", "no newline");
        check("épisode ’quoted’\n", "épisode ’quoted’\n");
    }
}
