//! Text hygiene for feed values: XML 1.0 character filtering, byte-limited truncation on a
//! char boundary, and ASCII-only URLs.
//!
//! Escaping itself is quick-xml's job; these functions make the *content* acceptable first.

use std::borrow::Cow;

/// Apple's limit for channel and episode descriptions, in bytes of text.
pub const DESCRIPTION_LIMIT: usize = 4000;

/// Whether `c` may appear in an XML 1.0 document and is not a discouraged control character.
///
/// XML 1.0 forbids C0 controls other than TAB, LF, CR, and U+FFFE/U+FFFF; it allows but
/// discourages C1 controls (U+007F-U+009F), which strict feed parsers reject too.
fn is_clean_char(c: char) -> bool {
    match c {
        '\t' | '\n' | '\r' => true,
        '\u{0}'..='\u{1F}' | '\u{7F}'..='\u{9F}' | '\u{FFFE}' | '\u{FFFF}' => false,
        _ => true,
    }
}

/// `s` without the characters XML 1.0 forbids or discourages (borrowed when already clean).
pub fn clean(s: &str) -> Cow<'_, str> {
    if s.chars().all(is_clean_char) {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(s.chars().filter(|&c| is_clean_char(c)).collect())
    }
}

/// A one-line value (title, author): cleaned, whitespace runs collapsed to one space, trimmed.
pub fn one_line(s: &str) -> Cow<'_, str> {
    let cleaned = clean(s);
    let needs_work = cleaned.trim() != cleaned
        || cleaned
            .as_bytes()
            .windows(2)
            .any(|w| w[0].is_ascii_whitespace() && w[1].is_ascii_whitespace())
        || cleaned.bytes().any(|b| matches!(b, b'\t' | b'\n' | b'\r'));
    if !needs_work {
        return cleaned;
    }
    Cow::Owned(cleaned.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// Cleaned `s` cut to at most `limit` bytes on a char boundary; a cut text ends with `…`.
pub fn truncate(s: &str, limit: usize) -> Cow<'_, str> {
    let cleaned = clean(s);
    if cleaned.len() <= limit {
        return cleaned;
    }
    const ELLIPSIS: &str = "…";
    let mut end = limit.saturating_sub(ELLIPSIS.len());
    while !cleaned.is_char_boundary(end) {
        end -= 1;
    }
    Cow::Owned(format!("{}{ELLIPSIS}", cleaned[..end].trim_end()))
}

/// Like [`truncate`] for HTML: never cuts inside a tag or an entity.
pub fn truncate_html(s: &str, limit: usize) -> Cow<'_, str> {
    let cleaned = clean(s);
    if cleaned.len() <= limit {
        return cleaned;
    }
    let cut = truncate(&cleaned, limit).into_owned();
    let body = cut.strip_suffix('…').unwrap_or(&cut);
    // Back off to before an unfinished tag or entity.
    let open_tag = body.rfind('<').filter(|&i| !body[i..].contains('>'));
    let open_entity = body.rfind('&').filter(|&i| !body[i..].contains(';'));
    let end = open_tag
        .into_iter()
        .chain(open_entity)
        .min()
        .unwrap_or(body.len());
    Cow::Owned(format!("{}…", &body[..end]))
}

/// `url` with every byte that is not a printable, URL-safe ASCII character percent-encoded
/// (UTF-8 paths, spaces, quotes); existing `%XX` escapes are kept as they are.
pub fn ascii_url(url: &str) -> Cow<'_, str> {
    fn keep(b: u8) -> bool {
        b.is_ascii_graphic()
            && !matches!(
                b,
                b'"' | b'<' | b'>' | b'\\' | b'^' | b'`' | b'{' | b'|' | b'}'
            )
    }
    let url = clean(url);
    if url.bytes().all(keep) {
        return url;
    }
    let mut out = String::with_capacity(url.len() + 16);
    for b in url.trim().bytes() {
        if keep(b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    Cow::Owned(out)
}

/// Weekday names, Monday first: French, then English (the page's two languages; feeds speak
/// French).
pub const WEEKDAYS: [[&str; 7]; 2] = [
    [
        "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
    ],
    [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ],
];

/// Month names, January first: French, then English.
pub const MONTHS: [[&str; 12]; 2] = [
    [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ],
    [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
];

/// `lundi 16 mars` (`english = false`) or `Monday 16 March`.
pub fn long_day(d: jiff::civil::Date, english: bool) -> String {
    let l = usize::from(english);
    let wd = WEEKDAYS[l][d.weekday().to_monday_zero_offset() as usize];
    format!("{wd} {} {}", d.day(), MONTHS[l][(d.month() - 1) as usize])
}

/// `3 décembre 2026` / `3 December 2026`: an episode's date.
pub fn long_date(d: jiff::civil::Date, english: bool) -> String {
    let l = usize::from(english);
    format!(
        "{} {} {}",
        d.day(),
        MONTHS[l][(d.month() - 1) as usize],
        d.year()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_both_languages() {
        let d = jiff::civil::date(2026, 12, 3);
        assert_eq!(long_day(d, false), "jeudi 3 décembre");
        assert_eq!(long_date(d, false), "3 décembre 2026");
        assert_eq!(long_date(d, true), "3 December 2026");
    }

    #[test]
    fn clean_drops_controls_keeps_emoji() {
        assert_eq!(clean("a\u{1}b\u{7}c\u{85}d\u{FFFE}🎙\té"), "abcd🎙\té");
    }

    #[test]
    fn one_line_collapses() {
        assert_eq!(
            one_line("  Le  journal\n\tdu\u{0} quartier "),
            "Le journal du quartier"
        );
        assert!(matches!(one_line("déjà propre"), Cow::Borrowed(_)));
    }

    #[test]
    fn truncate_on_char_boundary() {
        let s = "é".repeat(3000); // 6000 bytes
        let t = truncate(&s, 4000);
        assert!(t.len() <= 4000, "{}", t.len());
        assert!(t.ends_with('…'));
        assert_eq!(truncate("court", 4000), "court");
    }

    #[test]
    fn truncate_html_never_splits_a_tag() {
        let s = format!("{}<a href=\"x\">lien</a>", "x".repeat(3990));
        let t = truncate_html(&s, 4000);
        assert!(t.len() <= 4000);
        assert!(!t.contains('<'), "{t}");
        let s = format!("{}&amp; fin", "x".repeat(3993));
        assert!(!truncate_html(&s, 4000).contains('&'));
    }

    #[test]
    fn ascii_url_encodes() {
        assert_eq!(
            ascii_url("https://r.example/médias/épisode 1.mp3"),
            "https://r.example/m%C3%A9dias/%C3%A9pisode%201.mp3"
        );
        assert_eq!(
            ascii_url("https://r.example/a%20b.mp3?x=1&y=2"),
            "https://r.example/a%20b.mp3?x=1&y=2"
        );
    }
}
