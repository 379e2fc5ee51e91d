//! The two alert events added with the airplay log (issue 16), from where they happen to the
//! tracker: a token of a revoked name (or an unknown one) refused by HTTP is one alert per
//! name and incident, and a live source dropped during its slot fires once and resolves once.

use antenne::alerts::{AlertState, Event, Lang, LiveSeen, LiveWatch, Signal, Tracker};
use axum::body::Body;
use axum::http::Request;
use jiff::{SignedDuration, Timestamp};
use tokio::time::{Duration, Instant};

use crate::support::{self, upload::token};

#[tokio::test(start_paused = true)]
async fn a_revoked_or_unknown_token_is_one_alert_per_name() {
    let st = support::station().await;
    let old = token(&st.state, "ancien-benevole", &["la-matinale"]);
    assert!(
        st.state
            .catalog()
            .revoke_token("ancien-benevole", Timestamp::now())
            .unwrap()
    );
    let live = token(&st.state, "regie", &[]);
    let refused = st.state.http().process.refused.clone();
    let mut tracker = Tracker::new(Duration::from_secs(600));
    let mut alerts = Vec::new();
    // Two watcher ticks, each after three uses of the revoked token and two unknown ones.
    for _ in 0..2 {
        for secret in [
            &old,
            &old,
            &old,
            &"ant_guess".to_owned(),
            &"ant_other".to_owned(),
        ] {
            let req = Request::get("/api/reports/airplay?from=2027-03-01&to=2027-03-01")
                .header("authorization", format!("Bearer {secret}"))
                .body(Body::empty())
                .unwrap();
            assert_eq!(support::send(&st.state, req).await.status(), 401);
        }
        let (names, overflow) = refused.drain();
        assert_eq!(
            (names.as_slice(), overflow),
            (["ancien-benevole".to_owned(), String::new()].as_slice(), 0)
        );
        for name in names {
            let raised = Signal::Raise(Event::UploadUnauthorised { name });
            alerts.extend(tracker.signal(raised, Instant::now()));
        }
        tokio::time::advance(Duration::from_secs(1)).await;
    }
    // A valid token is not noted.
    let req = Request::get("/api/reports/airplay?from=2027-03-01&to=2027-03-01")
        .header("authorization", format!("Bearer {live}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(support::send(&st.state, req).await.status(), 200);
    assert_eq!(refused.drain(), (vec![], 0));
    assert_eq!(alerts.len(), 2, "{alerts:?}");
    let fr = alerts[0].event.text(Lang::Fr);
    assert!(fr.contains("« ancien-benevole »"), "{fr}");
    assert!(
        alerts[0]
            .event
            .text(Lang::En)
            .contains("\"ancien-benevole\"")
    );
    assert!(alerts[1].event.text(Lang::Fr).contains("jeton inconnu"));
    assert!(alerts[1].event.text(Lang::En).contains("unknown token"));
    // Once the quiet period is over, a new use is a new incident.
    tokio::time::advance(Duration::from_secs(600)).await;
    let again = Event::UploadUnauthorised {
        name: "ancien-benevole".into(),
    };
    assert!(
        tracker
            .signal(Signal::Raise(again), Instant::now())
            .is_some()
    );
}

#[tokio::test(start_paused = true)]
async fn a_live_source_dropped_in_its_slot_fires_once_and_resolves_once() {
    let t0 = Timestamp::from_second(1_800_000_000).unwrap();
    let at = |s: i64| t0 + SignedDuration::from_secs(s);
    let seen = |streaming| LiveSeen {
        show: Some("la-matinale".into()),
        occurrence: Some("matinale/2027-03-03T07:00".into()),
        ends_at: Some(at(3600)),
        streaming,
    };
    let mut watch = LiveWatch::new(SignedDuration::from_secs(10));
    let mut tracker = Tracker::new(Duration::from_secs(600));
    let mut states = Vec::new();
    // One tick a second: on air, dropped (grace, then the input is free) for a minute, back,
    // dropped again until the slot ends.
    for s in 0..3700 {
        let now = match s {
            0..100 => Some(seen(true)),
            100..110 => Some(seen(false)),
            110..160 => None,
            160..1000 => Some(seen(true)),
            _ => None,
        };
        for signal in watch.observe(now.as_ref(), at(s)) {
            if let Some(a) = tracker.signal(signal, Instant::now()) {
                states.push((s, a.state));
            }
        }
    }
    use AlertState::{Firing, Resolved};
    assert_eq!(
        states,
        [
            (110, Firing),
            (160, Resolved),
            (1010, Firing),
            (3600, Resolved)
        ]
    );
    let text = Event::LiveDropped {
        show: "La matinale".into(),
    };
    assert!(text.text(Lang::Fr).contains("Direct interrompu"));
    assert_eq!(
        text.resolved_text(Lang::En),
        "Resolved: live source dropped."
    );
}
