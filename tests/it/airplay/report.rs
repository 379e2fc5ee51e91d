//! The declaration: the summary sums plays and seconds per track (checked against the
//! simulated day), untagged files are flagged, the CSV parses back with the `csv` crate with
//! the expected header (snapshot), and the operators' download is the same bytes.

use std::collections::HashMap;

use antenne::catalog::{AirEnd, AirKind, AirStart, AirplayWrite, Catalog, MediaTags, summarise};
use antenne::http::reports::{self, DETAIL_HEADER, Format, Options, SUMMARY_HEADER};
use antenne_testkit::playout::{R, ts};
use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use jiff::tz::TimeZone;

use super::day::{Day, FILES};
use crate::support::{self, upload::token};

/// Records of a CSV body: BOM checked and stripped, header first.
fn parse(bytes: &[u8], delimiter: u8) -> Vec<Vec<String>> {
    let text = bytes
        .strip_prefix("\u{feff}".as_bytes())
        .expect("a UTF-8 BOM first");
    assert!(text.ends_with(b"\r\n"), "CRLF line ends (RFC 4180)");
    csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .from_reader(text)
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

/// Called by the day's test on its log: plays and seconds per file, from the log's frames.
pub fn the_summary_sums_plays_and_seconds_per_track(day: &Day) {
    let mut want: HashMap<String, (u64, u64)> = HashMap::new();
    for a in &day.log {
        let e = want.entry(a.path.clone().unwrap()).or_default();
        e.0 += 1;
        e.1 += a.frames.unwrap();
    }
    let rows = summarise(&day.log);
    assert_eq!(rows.len(), FILES.len() + 1, "five files and the episode");
    for r in &rows {
        let (plays, frames) = want[&r.file];
        assert_eq!(r.plays, plays, "{}", r.file);
        assert_eq!(r.seconds_aired, frames as f64 / f64::from(R), "{}", r.file);
    }
    let tz = TimeZone::get("Europe/Paris").unwrap();
    let period = reports::period("2027-03-03", "2027-03-03", &tz).unwrap();
    assert_eq!(
        (period.start, period.end),
        (ts(super::day::DAY.0), ts(super::day::DAY.1))
    );
    let csv = reports::render(&day.log, &period, &tz, Options::default());
    let records = parse(&csv, b',');
    assert_eq!(records[0], SUMMARY_HEADER);
    assert_eq!(records.len(), rows.len() + 1);
    let flagged: Vec<&str> = records[1..]
        .iter()
        .filter(|r| r[12] == "oui")
        .map(|r| r[11].as_str())
        .collect();
    let mut flagged = flagged;
    flagged.sort();
    assert_eq!(flagged, ["beds/bed-b.wav", "music/02-sans-tags.wav"]);
    let chanson = records
        .iter()
        .find(|r| r[11] == "music/01-chanson.wav")
        .unwrap();
    assert_eq!(chanson[0], "Chanson, \"douce\"");
    assert_eq!(chanson[2], "Amélie Roux; Karim Benali");
    assert_eq!(
        (chanson[4].as_str(), chanson[7].as_str()),
        ("FRZ039800212", "200.000")
    );
    assert_eq!((chanson[8].as_str(), chanson[9].as_str()), ("1", "200.000"));
    // The detailed log: one row per airing.
    let detail = Options {
        detail: true,
        ..Options::default()
    };
    let records = parse(&reports::render(&day.log, &period, &tz, detail), b',');
    assert_eq!(records[0], DETAIL_HEADER);
    assert_eq!(records.len(), day.log.len() + 1);
    assert_eq!(records[1][0], "2027-03-03T00:00:00+01:00");
}

/// A small log written straight into a catalog: a tagged track twice, an untagged bed, a
/// live show.
fn small_log(catalog: &Catalog) {
    let t0 = ts("2027-03-03T09:00:00Z").as_second() as u64 * u64::from(R);
    let start = |frame: u64, kind: AirKind, title: &str, path: Option<&str>| {
        AirplayWrite::Start(AirStart {
            start_frame: frame,
            sample_rate: R,
            kind,
            show: Some("musiques".into()),
            show_title: "Musiques".into(),
            occurrence_id: Some("soir/2027-03-03T10:00".into()),
            episode_id: None,
            title: title.into(),
            path: path.map(str::to_owned),
            file_offset: path.map(|_| 0),
            sha256: path.map(|p| format!("sha-{p}")),
        })
    };
    let end = |frame: u64, frames: u64| {
        AirplayWrite::End(AirEnd {
            start_frame: frame,
            sample_rate: R,
            frames,
        })
    };
    let s = u64::from(R);
    catalog
        .record_airplay(&[
            start(
                t0,
                AirKind::Track,
                "01-chanson",
                Some("music/01-chanson.mp3"),
            ),
            end(t0, 200 * s),
            start(t0 + 200 * s, AirKind::Bed, "nappe", Some("beds/nappe.mp3")),
            end(t0 + 200 * s, 61 * s + s / 2),
            start(t0 + 261 * s + s / 2, AirKind::Live, "En direct", None),
            end(t0 + 261 * s + s / 2, 1800 * s),
            start(
                t0 + 2061 * s + s / 2,
                AirKind::Track,
                "01-chanson",
                Some("music/01-chanson.mp3"),
            ),
            end(t0 + 2061 * s + s / 2, 150 * s),
        ])
        .unwrap();
    let tags = MediaTags {
        title: Some("Chanson, \"douce\"".into()),
        artist: Some("Amélie & les Quartiers".into()),
        composer: Some("Amélie Roux; Karim Benali".into()),
        publisher: Some("Label associatif".into()),
        isrc: Some("FRZ039800212".into()),
        album: Some("Les quartiers chantent".into()),
        year: Some(2024),
        duration_ms: Some(200_000),
    };
    catalog
        .record_media_tags(
            "sha-music/01-chanson.mp3",
            &tags,
            ts("2027-03-03T09:00:00Z"),
        )
        .unwrap();
    catalog
        .record_media_tags(
            "sha-beds/nappe.mp3",
            &MediaTags::default(),
            ts("2027-03-03T09:00:00Z"),
        )
        .unwrap();
}

#[test]
fn the_csv_is_rfc_4180_with_a_bom_and_the_french_excel_variant() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = Catalog::open(dir.path()).unwrap();
    small_log(&catalog);
    let tz = TimeZone::get("Europe/Paris").unwrap();
    let period = reports::period("2027-03-01", "2027-03-31", &tz).unwrap();
    let log = catalog.airplay_between(period.start, period.end).unwrap();
    assert_eq!(log.len(), 4);
    let csv = reports::render(&log, &period, &tz, Options::default());
    let records = parse(&csv, b',');
    assert_eq!(records[0], SUMMARY_HEADER);
    // The tagged track twice, the untagged bed flagged; the live show is in the detail only.
    assert_eq!(records.len(), 3);
    assert_eq!(records[1][8..10], ["2", "350.000"]);
    assert_eq!(records[2][11..13], ["beds/nappe.mp3", "oui"]);
    let text = String::from_utf8(csv[3..].to_vec()).unwrap();
    insta::assert_snapshot!("summary_csv", text);
    let semi = Options {
        semicolon: true,
        ..Options::default()
    };
    let csv = reports::render(&log, &period, &tz, semi);
    let records = parse(&csv, b';');
    assert_eq!(records[1][9], "350,000");
    assert_eq!(records[2][9], "61,500");
    let detail = Options {
        detail: true,
        semicolon: true,
        ..Options::default()
    };
    let text = String::from_utf8(reports::render(&log, &period, &tz, detail)[3..].to_vec());
    insta::assert_snapshot!("detail_csv_semicolon", text.unwrap());
    let json = Options {
        format: Format::Json,
        ..Options::default()
    };
    let v: serde_json::Value =
        serde_json::from_slice(&reports::render(&log, &period, &tz, json)).unwrap();
    assert_eq!(v["from"], "2027-03-01");
    assert_eq!(v["tracks"][0]["plays"], 2);
    assert_eq!(v["tracks"][1]["tagged"], false);
    // A period must be whole, ordered days.
    assert!(reports::period("2027-03-31", "2027-03-01", &tz).is_err());
    assert!(reports::period("mars", "2027-03-01", &tz).is_err());
}

#[tokio::test]
async fn operators_download_the_same_declaration_over_http() {
    let st = support::station().await;
    small_log(st.state.catalog());
    let operator = token(&st.state, "regie", &[]);
    let show = token(&st.state, "matin", &["la-matinale"]);
    let uri = "/api/reports/airplay?from=2027-03-01&to=2027-03-31&format=csv";
    let get = |secret: Option<String>, uri: &'static str| {
        let state = st.state.clone();
        async move {
            let mut req = Request::get(uri);
            if let Some(s) = secret {
                req = req.header("authorization", format!("Bearer {s}"));
            }
            let resp = support::send(&state, req.body(Body::empty()).unwrap()).await;
            let status = resp.status().as_u16();
            let headers = resp.headers().clone();
            let body = resp.into_body().collect().await.unwrap().to_bytes();
            (status, headers, body)
        }
    };
    assert_eq!(get(None, uri).await.0, 401);
    assert_eq!(get(Some(show), uri).await.0, 403);
    let (status, headers, body) = get(Some(operator.clone()), uri).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "text/csv; charset=utf-8");
    assert_eq!(
        headers["content-disposition"],
        "attachment; filename=\"airplay-2027-03-01-2027-03-31.csv\""
    );
    let tz = TimeZone::get("Europe/Paris").unwrap();
    let period = reports::period("2027-03-01", "2027-03-31", &tz).unwrap();
    let log = st
        .state
        .catalog()
        .airplay_between(period.start, period.end)
        .unwrap();
    assert_eq!(
        body,
        reports::render(&log, &period, &tz, Options::default())
    );
    let bad = "/api/reports/airplay?from=2027-03-31&to=2027-03-01";
    assert_eq!(get(Some(operator.clone()), bad).await.0, 400);
    // The untagged files, by name, for operators only.
    let untagged = "/api/library/untagged";
    let show = token(&st.state, "soir", &["musiques"]);
    assert_eq!(get(None, untagged).await.0, 401);
    assert_eq!(get(Some(show), untagged).await.0, 403);
    let (status, _, body) = get(Some(operator.clone()), untagged).await;
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["untagged"][0]["path"], "beds/nappe.mp3");
    assert_eq!(v["untagged"].as_array().unwrap().len(), 1);
    // The log's own counters, for operators and Prometheus.
    let (_, body) = support::get(&st.state, "/api/status").await;
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["airplay"]["dropped"], 0);
    let (_, body) = support::get(&st.state, "/metrics").await;
    assert!(body.contains("antenne_airplay_dropped_total 0"), "{body}");
}

#[test]
fn the_command_prints_the_declaration_and_refuses_a_bad_period() {
    use antenne::cli::CliError;
    use antenne::cli::report::{AirplayArgs, Args, FormatArg, Report, run};
    let dir = tempfile::tempdir().unwrap();
    let settings = support::settings(dir.path());
    small_log(&Catalog::open(&settings.process.data_dir).unwrap());
    let args = |from: &str, to: &str, format| Args {
        report: Report::Airplay(AirplayArgs {
            from: from.into(),
            to: to.into(),
            format,
            detail: false,
            semicolon: false,
        }),
    };
    let mut out = Vec::new();
    run(
        &args("2027-03-03", "2027-03-03", FormatArg::Csv),
        &settings,
        &mut out,
    )
    .unwrap();
    let records = parse(&out, b',');
    assert_eq!(records[0], SUMMARY_HEADER);
    assert_eq!(records.len(), 3);
    let mut out = Vec::new();
    run(
        &args("2027-03-03", "2027-03-03", FormatArg::Json),
        &settings,
        &mut out,
    )
    .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["tracks"][0]["isrc"], "FRZ039800212");
    for (from, to) in [("2027-03-04", "2027-03-03"), ("hier", "2027-03-03")] {
        let err = run(&args(from, to, FormatArg::Csv), &settings, &mut Vec::new()).unwrap_err();
        assert!(matches!(err, CliError::User(_)), "{err:?}");
        assert_eq!(err.exit_code(), 1);
    }
}

#[tokio::test]
async fn a_signed_in_operator_downloads_the_declaration_from_the_console() {
    use crate::console::{Browser, desk, operator};
    let desk = desk().await;
    small_log(desk.state.catalog());
    let query = |detail: &str| {
        format!(
            "/console/declaration?format=csv&from=2027-03-01&to=2027-03-31&detail={detail}&semicolon=1"
        )
    };
    // Signed out: the sign-in page, no file.
    let p = Browser::new().get(&desk.state, &query("0")).await;
    assert_eq!(p.status, 401);
    assert!(p.headers.get("content-disposition").is_none());
    // The form on the console's home, with every field the download reads.
    let b = operator(&desk).await;
    let home = b.get(&desk.state, "/console").await;
    assert_eq!(home.status, 200);
    for field in [
        "action=\"/console/declaration\"",
        "name=\"from\"",
        "name=\"to\"",
        "<option value=\"0\">",
        "<option value=\"1\">",
        "name=\"semicolon\" value=\"1\" checked",
        "name=\"format\" value=\"csv\"",
        "Déclaration SACEM/SPRÉ",
    ] {
        assert!(home.body.contains(field), "{field} not in {}", home.body);
    }
    // What the browser submits: the same bytes as the API's and the command's.
    let tz = TimeZone::get("Europe/Paris").unwrap();
    let period = reports::period("2027-03-01", "2027-03-31", &tz).unwrap();
    let log = desk
        .state
        .catalog()
        .airplay_between(period.start, period.end)
        .unwrap();
    for (detail, header, name) in [
        ("0", SUMMARY_HEADER, "airplay"),
        ("1", DETAIL_HEADER, "airplay-log"),
    ] {
        let p = b.get(&desk.state, &query(detail)).await;
        assert_eq!(p.status, 200, "{}", p.body);
        assert_eq!(p.headers["content-type"], "text/csv; charset=utf-8");
        assert_eq!(
            p.headers["content-disposition"],
            format!("attachment; filename=\"{name}-2027-03-01-2027-03-31.csv\"").as_str()
        );
        let opts = Options {
            format: Format::Csv,
            detail: detail == "1",
            semicolon: true,
        };
        assert_eq!(
            p.body.as_bytes(),
            reports::render(&log, &period, &tz, opts).as_slice()
        );
        let rows = parse(p.body.as_bytes(), b';');
        assert_eq!(rows[0], header);
        assert!(rows.len() > 2, "{rows:?}");
    }
}
