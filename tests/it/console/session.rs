//! Sign-in, sessions, CSRF, and failed sign-ins slowed per address.

use std::time::{Duration, Instant};

use antenne::catalog::Grant;

use antenne::http::console::IDLE_EXPIRY;

use super::{Browser, OPERATOR, desk, desk_with, operator};
use crate::support::upload::grant;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_signs_in_and_out_and_the_cookie_is_dead_after() {
    let d = desk().await;
    // Without a session: the sign-in page, 401.
    let anon = Browser::new();
    let p = anon.get(&d.state, "/console").await;
    assert_eq!(p.status, 401);
    assert!(p.body.contains("action=\"/console/sign-in\""), "{}", p.body);

    let mut b = Browser::new();
    let p = b.sign_in(&d.state, OPERATOR).await;
    assert_eq!(p.status, 303, "{}", p.body);
    let cookie = p.headers["set-cookie"].to_str().unwrap().to_owned();
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/console"] {
        assert!(cookie.contains(attr), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain http: {cookie}");
    let id = b.cookie.clone().unwrap();
    assert_eq!(id.len(), 64, "256 random bits, hex");

    let home = b.get(&d.state, "/console").await;
    assert_eq!(home.status, 200, "{}", home.body);
    assert_eq!(home.headers["cache-control"], "no-store");
    let csp = home.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"));
    // The audit log lists the sign-in.
    assert!(home.body.contains("connexion"), "{}", home.body);
    assert!(home.body.contains("alice"));

    // Sign out; the same cookie replayed is refused, for pages and forms alike.
    let out = b.submit(&d.state, &home, "/console/sign-out", &[]).await;
    assert_eq!(out.status, 303);
    assert!(
        out.headers["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    let replay = b.get(&d.state, "/console").await;
    assert_eq!(replay.status, 401);
    let replay = b
        .submit(
            &d.state,
            &home,
            "/console/tokens/revoke",
            &[("name", "alice")],
        )
        .await;
    assert_eq!(replay.status, 401);
    assert!(
        !d.state.catalog().list_tokens().unwrap()[0].revoked,
        "nothing done by a dead session"
    );
}

/// The idle expiry on a paused clock: a request within 12 h keeps the session and starts its
/// idle clock again; 12 h without one ends it, for pages and forms alike.
#[tokio::test(start_paused = true)]
async fn a_session_idle_for_12_hours_is_over() {
    assert_eq!(IDLE_EXPIRY, Duration::from_secs(12 * 3600));
    let d = desk().await;
    let b = operator(&d).await;
    let second = Duration::from_secs(1);
    tokio::time::advance(IDLE_EXPIRY - second).await;
    let home = b.get(&d.state, "/console").await;
    assert_eq!(home.status, 200, "11:59:59 after sign-in: {}", home.body);
    // Counted from that request, not from the sign-in: 23:59:58 after it, still open.
    tokio::time::advance(IDLE_EXPIRY - second).await;
    let home = b.get(&d.state, "/console").await;
    assert_eq!(
        home.status, 200,
        "11:59:59 after the last request: {}",
        home.body
    );

    tokio::time::advance(IDLE_EXPIRY).await;
    let form = b
        .submit(
            &d.state,
            &home,
            "/console/tokens/revoke",
            &[("name", "alice")],
        )
        .await;
    assert_eq!(form.status, 401, "a form 12 h after the last request");
    assert!(
        form.body.contains("action=\"/console/sign-in\""),
        "{}",
        form.body
    );
    let page = b.get(&d.state, "/console").await;
    assert_eq!(page.status, 401, "a page 12 h after the last request");
    assert!(
        !d.state.catalog().list_tokens().unwrap()[0].revoked,
        "the expired session's form revoked a token"
    );
    // A new sign-in opens a new session.
    let again = operator(&d).await;
    assert_ne!(again.cookie, b.cookie);
    assert_eq!(again.get(&d.state, "/console").await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_https_the_cookie_is_secure() {
    let d = desk_with("https://radio.example.org").await;
    let mut b = Browser::new();
    let p = b.sign_in(&d.state, OPERATOR).await;
    assert_eq!(p.status, 303);
    assert!(
        p.headers["set-cookie"]
            .to_str()
            .unwrap()
            .contains("; Secure")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_volunteer_token_or_a_wrong_one_gets_the_same_refusal_slower_each_time() {
    let d = desk().await;
    let volunteer = grant(&d.state, "bea", &Grant::upload(&["la-matinale"]));
    let mut b = Browser::new();
    let mut answers = Vec::new();
    let mut waits = Vec::new();
    for secret in ["ant_wrong", volunteer.as_str(), "ant_wrong_again"] {
        let start = Instant::now();
        let p = b.sign_in(&d.state, secret).await;
        waits.push(start.elapsed());
        assert_eq!(p.status, 401);
        assert!(p.headers.get("set-cookie").is_none());
        answers.push(p.body);
    }
    assert!(answers.iter().all(|a| a == &answers[0]), "the same answer");
    assert!(answers[0].contains("Jeton refusé."));
    assert!(waits[0] < Duration::from_millis(250), "{waits:?}");
    assert!(waits[1] >= Duration::from_millis(250), "{waits:?}");
    assert!(waits[2] >= Duration::from_millis(500), "{waits:?}");
    // Another address is not slowed.
    let mut other = Browser::new();
    other.addr = "198.51.100.7:40000".parse().unwrap();
    let start = Instant::now();
    assert_eq!(other.sign_in(&d.state, "ant_nope").await.status, 401);
    assert!(start.elapsed() < Duration::from_millis(250));
    // The right token still opens a session (after the wait), and forgives the address.
    assert_eq!(b.sign_in(&d.state, OPERATOR).await.status, 303);
    let start = Instant::now();
    assert_eq!(b.sign_in(&d.state, "ant_wrong").await.status, 401);
    assert!(start.elapsed() < Duration::from_millis(250));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_without_its_csrf_token_is_refused() {
    let d = desk().await;
    let b = operator(&d).await;
    grant(&d.state, "bea", &Grant::upload(&["la-matinale"]));
    // Missing, then another value: 403, the token stays active.
    let p = b
        .post(&d.state, "/console/tokens/revoke", &[("name", "bea")])
        .await;
    assert_eq!(p.status, 403, "{}", p.body);
    let p = b
        .post(
            &d.state,
            "/console/tokens/revoke",
            &[("name", "bea"), ("csrf", &"0".repeat(64))],
        )
        .await;
    assert_eq!(p.status, 403);
    assert!(p.body.contains("Formulaire refusé"));
    let bea = d
        .state
        .catalog()
        .list_tokens()
        .unwrap()
        .into_iter()
        .find(|t| t.name == "bea")
        .unwrap();
    assert!(!bea.revoked);
    // Another session's token is no better.
    let other = operator(&d).await;
    let theirs = other.get(&d.state, "/console/tokens").await;
    let p = b
        .submit(
            &d.state,
            &theirs,
            "/console/tokens/revoke",
            &[("name", "bea")],
        )
        .await;
    assert_eq!(p.status, 403);
    // With its own: done.
    let mine = b.get(&d.state, "/console/tokens").await;
    let p = b
        .submit(
            &d.state,
            &mine,
            "/console/tokens/revoke",
            &[("name", "bea")],
        )
        .await;
    assert_eq!(p.status, 303, "{}", p.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_ends_when_its_token_is_revoked_anywhere() {
    let d = desk().await;
    let b = operator(&d).await;
    assert_eq!(b.get(&d.state, "/console").await.status, 200);
    // Revoked on the server (`antenne token revoke alice`).
    d.state
        .catalog()
        .revoke_token("alice", jiff::Timestamp::now())
        .unwrap();
    assert_eq!(b.get(&d.state, "/console").await.status, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_speaks_english_when_asked() {
    let d = desk().await;
    let b = operator(&d).await;
    let p = b.get(&d.state, "/console?lang=en").await;
    assert!(p.body.contains("<html lang=\"en\">"));
    assert!(p.body.contains("Change log") && p.body.contains("signed in"));
    let p = b.get(&d.state, "/console/schedule").await;
    assert!(p.body.contains("<html lang=\"fr\">") && p.body.contains("Vérifier"));
}
