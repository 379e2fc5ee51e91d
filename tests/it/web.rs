//! The station's web page through the router: languages, content, escaping, accessibility
//! basics.

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;

use crate::support;
use crate::support::{get, send, station};

async fn page(state: &antenne::daemon::AppState, uri: &str, accept: Option<&str>) -> (u16, String) {
    let mut r = Request::get(uri);
    if let Some(a) = accept {
        r = r.header("accept-language", a);
    }
    let resp = send(state, r.body(Body::empty()).unwrap()).await;
    let code = resp.status().as_u16();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (code, String::from_utf8(body.to_vec()).unwrap())
}

/// A ready episode with the given title, straight through the catalog.
fn ready_episode(st: &support::TestStation, id: &str, show: &str, title: &str) {
    let episode = antenne::catalog::NewEpisode {
        description: "Une <em>description</em> & plus".into(),
        ..support::new_episode(id, show, title)
    };
    support::publish(
        st.state.catalog(),
        &episode,
        &format!("episodes/{id}.mp3"),
        1_800_000,
    );
}

#[tokio::test]
async fn the_station_page_is_french_by_default_and_english_on_request() {
    let st = station().await;
    let (code, fr) = page(&st.state, "/", None).await;
    assert_eq!(code, 200);
    assert!(
        fr.starts_with("<!doctype html>\n<html lang=\"fr\">"),
        "{}",
        &fr[..80]
    );
    assert!(fr.contains("<h1>Au fil des quartiers</h1>"));
    assert!(fr.contains("Programme de la semaine"));
    assert!(fr.contains("<audio id=\"live\" controls preload=\"none\" src=\"/stream\""));
    assert!(fr.contains("<label for=\"live\">Écouter le direct</label>"));
    // "Listen from the start": offered by app.js during a show (hidden until it knows).
    assert!(fr.contains(
        "<button id=\"from-start\" type=\"button\" hidden data-hls=\"/hls/live.m3u8\" \
         data-hlsjs=\"\">Écouter depuis le début</button>"
    ));
    assert_eq!(
        fr.matches("<section class=\"day\">").count(),
        7,
        "a week of days"
    );
    assert!(fr.contains("(Europe/Paris)"));
    assert!(fr.contains("href=\"/shows/la-matinale\""));
    assert!(fr.contains("href=\"podcast://radio.test/shows/la-matinale/feed.xml\""));
    assert!(fr.contains("href=\"pcast://radio.test/shows/la-matinale/feed.xml\""));
    assert!(fr.contains("href=\"/shows/la-matinale/feed.xml\""));
    assert!(fr.contains("id=\"now\"") && fr.contains("id=\"next\""));

    for (uri, accept) in [("/?lang=en", None), ("/", Some("en-GB,en;q=0.9,fr;q=0.5"))] {
        let (code, en) = page(&st.state, uri, accept).await;
        assert_eq!(code, 200);
        assert!(en.contains("<html lang=\"en\">"), "{uri} {accept:?}");
        assert!(en.contains("This week&#39;s programme"));
        assert!(en.contains("href=\"/shows/la-matinale?lang=en\""));
    }
    let (_, fr_again) = page(&st.state, "/?lang=fr", Some("en")).await;
    assert!(fr_again.contains("<html lang=\"fr\">"));
}

#[tokio::test]
async fn episodes_have_players_and_download_links_and_every_value_is_escaped() {
    let st = station().await;
    let hostile = "<script>alert(\"x\")</script> & 'co' 🎙";
    ready_episode(&st, "ep-1", "la-matinale", hostile);
    let (_, html) = page(&st.state, "/", None).await;
    assert!(!html.contains("<script>alert"), "raw markup leaked");
    assert!(html.contains(
        "<h4>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;co&#39; 🎙</h4>"
    ));
    assert!(html.contains("Une &lt;em&gt;description&lt;/em&gt; &amp; plus"));
    assert!(html.contains("<audio controls preload=\"none\" src=\"/media/ep-1.mp3\""));
    assert!(html.contains("<a href=\"/media/ep-1.mp3\" download>Télécharger</a>"));
    assert!(html.contains("30 min"));

    let (code, show) = page(&st.state, "/shows/la-matinale?lang=en", None).await;
    assert_eq!(code, 200);
    assert!(show.contains("<html lang=\"en\">"));
    assert!(show.contains("<h1>La matinale des quartiers</h1>"));
    assert!(show.contains("/media/ep-1.mp3"));
    assert!(show.contains("On air this week"));
    let (code, missing) = page(&st.state, "/shows/nope", None).await;
    assert_eq!(code, 404);
    assert!(missing.contains("<html lang=\"fr\">"));
}

#[tokio::test]
async fn the_upload_page_labels_every_field() {
    let st = station().await;
    let (code, html) = page(&st.state, "/upload", None).await;
    assert_eq!(code, 200);
    assert!(html.contains("<html lang=\"fr\">"));
    let ids: Vec<&str> = html
        .split("<input id=\"")
        .skip(1)
        .chain(html.split("<select id=\"").skip(1))
        .chain(html.split("<textarea id=\"").skip(1))
        .map(|s| &s[..s.find('"').unwrap()])
        .collect();
    assert!(ids.len() >= 9, "{ids:?}");
    for id in ids.iter().filter(|id| **id != "remember") {
        assert!(
            html.contains(&format!("<label for=\"{id}\"")),
            "no label for #{id}"
        );
    }
    assert!(html.contains("<option value=\"la-matinale\">La matinale des quartiers</option>"));
    assert!(html.contains("<progress id=\"bar\""));
    assert!(html.contains("<script src=\"/static/upload.js\" defer></script>"));
    assert!(html.contains("<noscript>"));
    let (_, en) = page(&st.state, "/upload?lang=en", None).await;
    assert!(en.contains("<html lang=\"en\">") && en.contains("Upload token"));
}

#[tokio::test]
async fn assets_and_security_headers() {
    let st = station().await;
    let resp = send(&st.state, Request::get("/").body(Body::empty()).unwrap()).await;
    let h = resp.headers();
    assert_eq!(h["content-type"], "text/html; charset=utf-8");
    assert_eq!(h["vary"], "Accept-Language");
    assert!(
        h["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("script-src 'self'")
    );
    for (uri, ct, needle) in [
        (
            "/static/style.css",
            "text/css; charset=utf-8",
            ":focus-visible",
        ),
        (
            "/static/app.js",
            "text/javascript; charset=utf-8",
            "/api/now",
        ),
        (
            "/static/upload.js",
            "text/javascript; charset=utf-8",
            "Tus-Resumable",
        ),
    ] {
        let resp = send(&st.state, Request::get(uri).body(Body::empty()).unwrap()).await;
        assert_eq!(resp.headers()["content-type"], ct);
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        assert!(String::from_utf8_lossy(&body).contains(needle), "{uri}");
    }
    let (code, _) = get(&st.state, "/static/nope.js").await;
    assert_eq!(code, 404);
}

// issue 14
#[tokio::test]
async fn the_live_page_tells_volunteers_what_to_type_into_butt_or_mixxx() {
    let st = station().await;
    let (code, fr) = page(&st.state, "/live", None).await;
    assert_eq!(code, 200);
    for want in [
        "<h1>Passer en direct</h1>",
        "<dt>Point de montage</dt><dd><code>/live</code></dd>",
        "<dt>Adresse</dt><dd>radio.test</dd>",
        "<dt>Port</dt><dd>80</dd>",
        "votre jeton de direct",
        "MP3 128 kbit/s",
    ] {
        assert!(fr.contains(want), "{want} missing from {fr}");
    }
    let (_, en) = page(&st.state, "/live?lang=en", None).await;
    assert!(
        en.contains("<dt>Mount point</dt>") && en.contains("your live token"),
        "{en}"
    );
}

// issue 16: the programme everywhere
#[tokio::test]
async fn calendars_are_served_like_the_feeds() {
    let st = station().await;
    let resp = send(
        &st.state,
        Request::get("/programme.ics").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(resp.status(), 200);
    let h = resp.headers().clone();
    assert_eq!(h["content-type"], "text/calendar; charset=utf-8");
    let etag = h["etag"].to_str().unwrap().to_owned();
    assert!(h.contains_key("last-modified"));
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    let text = String::from_utf8(body.to_vec()).unwrap();
    assert!(text.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"));
    assert!(text.contains("BEGIN:VTIMEZONE\r\nTZID:Europe/Paris\r\n"));
    assert!(text.contains("SUMMARY:La matinale des quartiers\r\n"));
    assert!(text.contains("URL:http://radio.test/shows/la-matinale\r\n"));
    let again = send(
        &st.state,
        Request::get("/programme.ics")
            .header("if-none-match", &etag)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(again.status(), 304);

    let (code, one) = get(&st.state, "/shows/cuisines-du-monde.ics").await;
    assert_eq!(code, 200);
    assert!(one.contains("SUMMARY:Cuisines du monde\r\n"));
    assert!(!one.contains("SUMMARY:La matinale"));
    let (code, _) = get(&st.state, "/shows/nope.ics").await;
    assert_eq!(code, 404);
    // The pages link them: subscribe (webcal) or download.
    let (_, fr) = page(&st.state, "/", None).await;
    assert!(fr.contains("<a href=\"webcal://radio.test/programme.ics\">Ajouter à mon agenda</a>"));
    let (_, show) = page(&st.state, "/shows/cuisines-du-monde?lang=en", None).await;
    assert!(show.contains(
        "href=\"webcal://radio.test/shows/cuisines-du-monde.ics\">Add to my calendar</a>"
    ));
}

fn header<'a>(resp: &'a axum::response::Response, name: &str) -> &'a str {
    resp.headers().get(name).map_or("", |v| v.to_str().unwrap())
}

#[tokio::test]
async fn only_the_embeds_may_be_framed() {
    let st = station().await;
    for uri in ["/embed/player", "/embed/programme?lang=en"] {
        let resp = send(&st.state, Request::get(uri).body(Body::empty()).unwrap()).await;
        assert_eq!(resp.status(), 200, "{uri}");
        assert!(
            header(&resp, "content-security-policy").ends_with("frame-ancestors *"),
            "{uri}"
        );
        assert_eq!(header(&resp, "x-frame-options"), "", "{uri}");
    }
    for uri in [
        "/",
        "/shows/la-matinale",
        "/upload",
        "/feed.xml",
        "/api/now",
        "/programme.ics",
        "/nope",
    ] {
        let resp = send(&st.state, Request::get(uri).body(Body::empty()).unwrap()).await;
        assert_eq!(header(&resp, "x-frame-options"), "DENY", "{uri}");
        assert!(
            header(&resp, "content-security-policy").contains("frame-ancestors 'none'"),
            "{uri}"
        );
    }
    // The setting narrows who may embed them.
    let dir = tempfile::tempdir().unwrap();
    let mut settings = support::settings(dir.path());
    settings.process.embed_ancestors = "'self' https://centre-monnaie.example".into();
    let state = antenne::daemon::AppState::open(settings).await.unwrap();
    let resp = send(
        &state,
        Request::get("/embed/player").body(Body::empty()).unwrap(),
    )
    .await;
    assert!(
        header(&resp, "content-security-policy")
            .ends_with("frame-ancestors 'self' https://centre-monnaie.example")
    );
}

#[tokio::test]
async fn the_embeds_are_small_and_in_both_languages() {
    let st = station().await;
    let (code, player) = page(&st.state, "/embed/player", None).await;
    assert_eq!(code, 200);
    assert!(player.contains("<html lang=\"fr\">"));
    assert!(player.contains("<base target=\"_blank\">"));
    assert!(player.contains("<audio id=\"live\" controls preload=\"none\" src=\"/stream\" aria-label=\"Lecteur du direct\">"));
    assert!(player.contains("<dd id=\"now\" aria-live=\"polite\">"));
    assert!(player.contains("<script src=\"/static/app.js\" defer></script>"));
    assert!(!player.contains("<nav"), "no site navigation in an embed");
    let (_, en) = page(&st.state, "/embed/player", Some("en-GB,en;q=0.9")).await;
    assert!(en.contains("<html lang=\"en\">") && en.contains("Live stream player"));
    let (code, week) = page(&st.state, "/embed/programme?lang=en", None).await;
    assert_eq!(code, 200);
    assert!(week.contains("This week&#39;s programme"));
    assert_eq!(week.matches("<section class=\"day\">").count(), 7);
}

// issue 17: the public pages, polished
#[tokio::test]
async fn episode_dates_artwork_favicon_and_day_names() {
    let st = station().await;
    ready_episode(&st, "ep-1", "la-matinale", "Le marché");
    let (_, fr) = page(&st.state, "/", None).await;
    assert!(
        fr.contains(
            "<p class=\"meta\"><time datetime=\"2026-03-14\">14 mars 2026</time> · 30 min</p>"
        ),
        "{fr}"
    );
    assert!(fr.contains("<img class=\"artwork\" src=\"/cover.png\" alt=\"\""));
    assert!(fr.contains("<link rel=\"icon\" href=\"/favicon.svg\" type=\"image/svg+xml\">"));
    // Day names as French writes them; the stylesheet capitalises the first letter only.
    assert!(fr.contains("<h3>lundi ") || fr.contains("<h3>mardi ") || fr.contains("<h3>dimanche "));
    let (_, en) = page(&st.state, "/shows/la-matinale?lang=en", None).await;
    assert!(en.contains("14 March 2026"));
    assert!(en.contains("<img class=\"artwork\" src=\"/shows/la-matinale/cover.png\""));
    let resp = send(
        &st.state,
        Request::get("/favicon.svg").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(header(&resp, "content-type"), "image/svg+xml");
    let resp = send(
        &st.state,
        Request::get("/favicon.ico").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(resp.status(), 308);
    assert_eq!(header(&resp, "location"), "/favicon.svg");
    let (_, css) = get(&st.state, "/static/style.css").await;
    assert!(css.contains("repeat(7, minmax(0, 1fr))") && !css.contains("capitalize"));
}
