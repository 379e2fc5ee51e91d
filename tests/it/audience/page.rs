//! `/audience` and its CSV for operators, and `antenne report audience`: who may see them,
//! well-formed SVG charts with the expected labels, the CSV header rows.

use antenne::catalog::{ClientFamily, Grant, ListenerSession, StreamKind, hash_secret};
use axum::body::Body;
use axum::http::Request;
use base64::Engine as _;
use http_body_util::BodyExt;
use jiff::{SignedDuration, Timestamp};

use crate::support;

const OPERATOR: &str = "ant_operator_secret_for_audience_tests";
const SHOW_TOKEN: &str = "ant_show_secret_for_audience_tests";

/// A station with an operator token, a show token, and two listeners (30 and 10 minutes) from
/// the start of the last occurrence that ended (the demo schedule airs every day, each
/// occurrence at least 30 minutes long); returns that occurrence's show title.
async fn station() -> (support::TestStation, String) {
    let st = support::station().await;
    let catalog = st.state.catalog();
    let now = Timestamp::now();
    for (name, secret, shows) in [
        ("ops", OPERATOR, vec![]),
        ("cuisine", SHOW_TOKEN, vec!["cuisines-du-monde".to_string()]),
    ] {
        let grant = Grant { shows, live: false };
        catalog
            .add_token(name, &hash_secret(secret), &grant, now)
            .unwrap();
    }
    let schedule = st.state.current_schedule();
    let last = schedule
        .occurrences(now - SignedDuration::from_hours(72), now)
        .into_iter()
        .filter(|o| o.end <= now)
        .max_by_key(|o| o.start)
        .expect("an occurrence in the last three days");
    let title = schedule.show(&last.show).unwrap().title.clone();
    let session = |client, start: Timestamp, end: Timestamp| ListenerSession {
        output: StreamKind::Mp3,
        client,
        start,
        end,
    };
    catalog
        .record_sessions(&[
            session(
                ClientFamily::Browser,
                last.start,
                last.start + SignedDuration::from_mins(30),
            ),
            session(
                ClientFamily::App,
                last.start,
                last.start + SignedDuration::from_mins(10),
            ),
        ])
        .unwrap();
    (st, title)
}

async fn get(
    st: &support::TestStation,
    uri: &str,
    auth: Option<String>,
) -> (u16, axum::http::HeaderMap, String) {
    let mut req = Request::get(uri);
    if let Some(a) = auth {
        req = req.header("authorization", a);
    }
    let resp = support::send(&st.state, req.body(Body::empty()).unwrap()).await;
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (status, headers, String::from_utf8(body.to_vec()).unwrap())
}

fn bearer(secret: &str) -> Option<String> {
    Some(format!("Bearer {secret}"))
}

#[tokio::test]
async fn only_operators_see_the_figures() {
    let (st, _) = station().await;
    let (status, headers, _) = get(&st, "/audience", None).await;
    assert_eq!(status, 401);
    assert!(
        headers["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Basic ")
    );
    assert_eq!(get(&st, "/audience", bearer("ant_wrong")).await.0, 401);
    assert_eq!(get(&st, "/audience", bearer(SHOW_TOKEN)).await.0, 403);
    assert_eq!(
        get(&st, "/audience/shows.csv", bearer(SHOW_TOKEN)).await.0,
        403
    );
    assert_eq!(get(&st, "/audience", bearer(OPERATOR)).await.0, 200);
    // A browser's Basic prompt: any user name, the token as the password.
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("ops:{OPERATOR}"));
    assert_eq!(
        get(&st, "/audience", Some(format!("Basic {basic}")))
            .await
            .0,
        200
    );
    assert_eq!(
        get(&st, "/audience?period=year", bearer(OPERATOR)).await.0,
        400
    );
    assert_eq!(
        get(&st, "/audience/other.csv", bearer(OPERATOR)).await.0,
        404
    );
}

#[tokio::test]
async fn the_page_draws_well_formed_svg_charts() {
    let (st, title) = station().await;
    for (query, lang_heading) in [
        ("period=week", "Heures d'écoute par émission"),
        ("period=month&lang=en", "Listening hours per show"),
        ("period=season", "Pic d'auditeurs par diffusion"),
    ] {
        let (status, headers, html) =
            get(&st, &format!("/audience?{query}"), bearer(OPERATOR)).await;
        assert_eq!(status, 200, "{query}");
        assert!(
            headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        assert!(html.contains(lang_heading), "{query}");
        assert!(!html.contains("<script"), "readable without JavaScript");
        let svgs: Vec<&str> = html
            .match_indices("<svg")
            .map(|(i, _)| &html[i..i + html[i..].find("</svg>").unwrap() + 6])
            .collect();
        assert_eq!(svgs.len(), 3, "{query}");
        let mut texts = Vec::new();
        for svg in &svgs {
            let doc = roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("{e}: {svg}"));
            let root = doc.root_element();
            assert_eq!(root.tag_name().name(), "svg");
            assert_eq!(root.attribute("role"), Some("img"));
            assert!(root.children().any(|n| n.has_tag_name("title")));
            texts.extend(
                doc.descendants()
                    .filter(|n| n.has_tag_name("text"))
                    .filter_map(|n| n.text().map(str::to_owned)),
            );
        }
        // The show that aired is a labelled bar, with its hours (forty minutes).
        assert!(texts.contains(&title), "{title} in {texts:?}");
        assert!(
            texts
                .iter()
                .any(|t| t.starts_with("0,7 h · pic 2") || t.starts_with("0.7 h · peak 2")),
            "{texts:?}"
        );
    }
}

#[tokio::test]
async fn csv_headers_are_stable() {
    let (st, title) = station().await;
    let (status, headers, body) =
        get(&st, "/audience/shows.csv?period=week", bearer(OPERATOR)).await;
    assert_eq!(status, 200);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(
        headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"audience-shows-")
    );
    let body = body
        .strip_prefix('\u{feff}')
        .expect("a UTF-8 BOM for spreadsheets");
    let mut lines = body.lines();
    assert_eq!(
        lines.next().unwrap(),
        "show,title,occurrences,hours_on_air,peak_listeners,average_listeners,listening_hours,sessions,sessions_over_1_min"
    );
    let rows: Vec<&str> = lines.collect();
    assert!(
        rows.iter()
            .any(|r| r.contains(&title) && r.ends_with(",0.667,2,2")),
        "{rows:?}"
    );
    for (table, header) in [
        (
            "occurrences",
            "occurrence,show,start,end,peak_listeners,average_listeners,listening_hours,sessions,sessions_over_1_min",
        ),
        ("downloads", "date,episode,show,title,downloads"),
    ] {
        let (status, _, body) = get(
            &st,
            &format!("/audience/{table}.csv?period=month"),
            bearer(OPERATOR),
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(
            body.trim_start_matches('\u{feff}').lines().next(),
            Some(header)
        );
    }
}

#[tokio::test]
async fn report_audience_prints_csv_and_json() {
    let (st, title) = station().await;
    let settings = support::settings(st.dir.path());
    let tz = st.state.current_schedule().station().timezone.clone();
    let today = tz.to_datetime(Timestamp::now()).date();
    let from = today.checked_sub(jiff::Span::new().days(3)).unwrap();
    let run = |format: &str, table: &str| {
        let args = antenne::cli::report_audience::Args {
            from,
            to: today,
            format: format.into(),
            table: table.into(),
            bom: false,
        };
        let mut out = Vec::new();
        antenne::cli::report_audience::run(&args, &settings, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    };
    let csv = run("csv", "occurrences");
    assert!(csv.starts_with("occurrence,show,start,end,"), "{csv}");
    let json: serde_json::Value = serde_json::from_str(&run("json", "shows")).unwrap();
    let shows = json["shows"].as_array().unwrap();
    let aired = shows.iter().find(|s| s["title"] == title.as_str()).unwrap();
    assert_eq!(aired["listening_ms"], 40 * 60_000);
    assert_eq!(aired["peak"], 2);
}
