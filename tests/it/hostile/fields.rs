//! Upload field values are data everywhere: markup, CDATA ends, quotes, newlines, SQL and
//! ICY breakers, control characters, `../` file names and very long values go through the
//! upload route and come out escaped in the feeds (well-formed: parsed with quick-xml and
//! roxmltree), the HTML pages and the ICY `StreamTitle`; stored file names never come from
//! the client; and a logged value never forges a log line.

use antenne::broadcast::icy;
use axum::body::Body;

use crate::support;
use crate::support::upload::{form, json, token, upload_request, wav};

const HOSTILE: &[&str] = &[
    "<script>alert('x')</script>",
    "]]><evil/><![CDATA[",
    "Tom & Jerry &amp; &#x3C; &lt; &unknown;",
    "\"double\" and 'single' quotes",
    "line one\nline two\r\nline three",
    "'; DROP TABLE episodes; --",
    "Title';StreamUrl='http://evil.example/';",
    "bell\u{7} nul\u{0} esc\u{1b}[31m del\u{7f} vt\u{b} c1\u{85}",
    "../../etc/passwd",
    "\u{202e}gnp.exe emoji 🎙️ é",
];

/// The text of every element named `name` in `xml`.
fn texts(xml: &str, name: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    doc.descendants()
        .filter(|n| n.tag_name().name() == name)
        .map(|n| n.text().unwrap_or_default().to_string())
        .collect()
}

/// Every event of `xml` through quick-xml: no error, and no character XML 1.0 forbids.
fn well_formed(xml: &str) {
    let mut reader = quick_xml::Reader::from_str(xml);
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("at {}: {e}\n{xml}", reader.buffer_position()),
        }
    }
    let bad: Vec<char> = xml
        .chars()
        .filter(|&c| (c < ' ' && !matches!(c, '\t' | '\n' | '\r')) || c == '\u{fffe}')
        .collect();
    assert!(bad.is_empty(), "characters XML 1.0 forbids: {bad:?}");
}

/// What a feed or page should show for `v` once control characters are dealt with: the
/// printable text, in order.
fn printable(v: &str) -> String {
    v.chars().filter(|c| !c.is_control()).collect()
}

#[tokio::test]
async fn hostile_field_values_stay_data_in_feeds_pages_and_file_names() {
    let st = support::station().await;
    let secret = token(&st.state, "ops", &[]);
    let mut accepted = Vec::new();
    for (i, v) in HOSTILE.iter().enumerate() {
        let long = format!("{v} {}", "x".repeat(200_000));
        let numbered = format!("Titre {i}");
        // The value as title and description, else as description only (titles are one
        // line); a very long value is refused with 422 whatever the field.
        for (title, description) in [(*v, *v), (&numbered[..], &long[..]), (&numbered[..], *v)] {
            let body = form(
                &[
                    ("show", "la-matinale"),
                    ("title", title),
                    ("description", description),
                ],
                Some(("../../../etc/passwd.wav", &wav(800, i as u32 + 1))),
            );
            let len = body.len();
            let resp = support::send(
                &st.state,
                upload_request(Some(&secret), Body::from(body), Some(len)),
            )
            .await;
            let (code, v) = json(resp).await;
            assert!(matches!(code, 202 | 422), "{code} {v}");
            if code == 202 {
                accepted.push((v["id"].as_str().unwrap().to_string(), title.to_string()));
                break;
            }
            // A refusal names its field, quoting no raw control character.
            let text = v.to_string();
            assert!(!text.chars().any(|c| c.is_control()), "{text}");
        }
    }
    assert_eq!(
        accepted.len(),
        HOSTILE.len(),
        "each value stored in some field"
    );
    // Stored names are the station's, never the client's.
    let data = st.state.settings().process.data_dir.clone();
    for (id, _) in &accepted {
        let e = st.state.catalog().episode(id).unwrap().unwrap();
        assert!(
            e.original_path.starts_with("originals/")
                && !e.original_path.contains("..")
                && !e.original_path.contains("passwd"),
            "{}",
            e.original_path
        );
        assert!(data.join(&e.original_path).is_file());
        assert!(!data.join("etc").exists() && !st.dir.path().join("etc").exists());
    }
    // Publish them as the ingest worker would.
    let c = st.state.catalog();
    let now = jiff::Timestamp::now();
    while let Some(job) = c.claim_next_job(now).unwrap() {
        let rel = format!("episodes/{}.mp3", job.episode.id);
        std::fs::create_dir_all(data.join("episodes")).unwrap();
        std::fs::write(data.join(&rel), b"ID3").unwrap();
        support::complete(c, &job, &rel, 60_000);
    }
    st.state.rebuild_feeds().await;

    for path in ["/feed.xml", "/shows/la-matinale/feed.xml"] {
        let (code, xml) = support::get(&st.state, path).await;
        assert_eq!(code, 200, "{xml}");
        well_formed(&xml);
        let titles = texts(&xml, "title");
        for (_, title) in &accepted {
            assert!(
                titles.iter().any(|t| t.contains(&printable(title))),
                "{title:?} not among {titles:?}"
            );
        }
        assert!(
            !xml.contains("<script>") && !xml.contains("<evil/>"),
            "{xml}"
        );
    }
    for path in ["/", "/shows/la-matinale"] {
        let (code, html) = support::get(&st.state, path).await;
        assert_eq!(code, 200);
        assert!(!html.contains("<script>alert"), "{path}");
        assert!(!html.contains("<evil/>"), "{path}");
        assert!(!html.contains("\"double\""), "{path}: quotes escaped");
    }
    let (code, html) = support::get(&st.state, "/shows/la-matinale").await;
    assert_eq!(code, 200);
    assert!(
        html.contains("&lt;script&gt;alert("),
        "escaped, still shown"
    );
    // The JSON API returns the values as stored, as JSON strings.
    let (code, list) = support::get(&st.state, "/api/episodes?show=la-matinale").await;
    assert_eq!(code, 200);
    let v: serde_json::Value = serde_json::from_str(&list).unwrap();
    assert!(v.to_string().contains("<script>alert('x')</script>"));
}

#[test]
fn an_icy_title_cannot_break_out_of_stream_title() {
    for v in HOSTILE
        .iter()
        .map(|s| s.to_string())
        .chain(["'".repeat(5000), "';".repeat(3000)])
    {
        let block = icy::encode_block(&v);
        assert_eq!(usize::from(block[0]) * 16 + 1, block.len());
        let payload = std::str::from_utf8(&block[1..])
            .unwrap()
            .trim_end_matches('\0');
        // Exactly one key, one quoted value, one terminator: `StreamTitle='...';`.
        assert!(payload.starts_with("StreamTitle='"), "{payload}");
        assert!(payload.ends_with("';"), "{payload}");
        assert_eq!(payload.matches('\'').count(), 2, "{payload}");
        assert!(!payload.chars().any(|c| c.is_control()), "{payload:?}");
        let title = icy::stream_title(payload).unwrap();
        assert_eq!(title.len() + "StreamTitle='';".len(), payload.len());
    }
}

#[test]
fn a_logged_value_cannot_forge_a_log_line() {
    let cap = support::LogCapture::default();
    let writer = cap.writer();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(writer)
        .with_ansi(false)
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        for v in HOSTILE {
            tracing::warn!(file = %v, "ingest failed: {v}");
        }
    });
    let out = cap.text();
    assert_eq!(out.lines().count(), HOSTILE.len(), "{out}");
    assert!(out.lines().all(|l| l.contains("WARN")), "{out}");
}
