//! The watch folder: a file is taken once its size is stable across two polls, becomes a
//! queued episode (sidecar metadata applied) and moves to the archive; failures move to
//! `failed/` with an explanation.

use antenne::catalog::{Catalog, EpisodeQuery, EpisodeStatus};
use antenne::ingest::watch::{Taken, WatchFolder};

use crate::support::upload::{files, wav};

fn setup() -> (tempfile::TempDir, Catalog, WatchFolder, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let catalog = Catalog::open(&dir.path().join("data")).unwrap();
    let media = dir.path().join("media");
    let mut folder = WatchFolder::new(catalog.clone(), &media).unwrap();
    folder.set_known_shows(Some(vec!["la-monnaie".into(), "le-chaffal".into()]));
    let inbox = media.join("inbox");
    std::fs::create_dir_all(inbox.join("la-monnaie")).unwrap();
    (dir, catalog, folder, inbox)
}

fn now() -> jiff::Timestamp {
    jiff::Timestamp::now()
}

#[test]
fn a_stable_file_becomes_a_queued_episode_and_is_archived() {
    let (_dir, catalog, mut folder, inbox) = setup();
    let file = inbox.join("la-monnaie/marche.wav");
    let audio = wav(2000, 11);
    std::fs::write(&file, &audio[..1000]).unwrap();
    std::fs::write(
        inbox.join("la-monnaie/marche.toml"),
        "title = \"Le marché\"\ndate = 2026-03-14\nepisode = 3\n",
    )
    .unwrap();
    assert_eq!(folder.poll(now()), vec![], "first sight: not taken");
    // Still growing: not taken.
    std::fs::write(&file, &audio).unwrap();
    assert_eq!(folder.poll(now()), vec![]);
    let taken = folder.poll(now());
    let [Taken::Stored { episode_id, .. }] = taken.as_slice() else {
        panic!("{taken:?}");
    };
    let e = catalog.episode(episode_id).unwrap().unwrap();
    assert_eq!(e.status, EpisodeStatus::Queued);
    assert_eq!(
        (e.show.as_str(), e.title.as_str()),
        ("la-monnaie", "Le marché")
    );
    assert_eq!(
        (e.date.as_deref(), e.episode),
        (Some("2026-03-14"), Some(3))
    );
    assert_eq!(e.original_name.as_deref(), Some("marche.wav"));
    let stored = std::fs::read(catalog.data_dir().join(&e.original_path)).unwrap();
    assert!(stored == audio);
    assert!(!file.exists());
    assert_eq!(
        files(&inbox.join("archive/la-monnaie")),
        ["marche.toml", "marche.wav"]
    );
    assert_eq!(folder.poll(now()), vec![], "taken once");
    assert_eq!(
        catalog
            .list_episodes(&EpisodeQuery::default())
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn failures_land_in_failed_with_an_explanation() {
    let (_dir, catalog, mut folder, inbox) = setup();
    std::fs::create_dir_all(inbox.join("radio-inconnue")).unwrap();
    std::fs::write(inbox.join("la-monnaie/notes.txt"), "pas du son").unwrap();
    std::fs::write(inbox.join("la-monnaie/bad.wav"), wav(500, 12)).unwrap();
    std::fs::write(inbox.join("la-monnaie/bad.toml"), "titel = \"typo\"\n").unwrap();
    std::fs::write(inbox.join("radio-inconnue/a.wav"), wav(500, 13)).unwrap();
    std::fs::write(inbox.join("loose.wav"), wav(500, 14)).unwrap();
    assert_eq!(folder.poll(now()), vec![]);
    let mut taken = folder.poll(now());
    taken.sort_by_key(|t| format!("{t:?}"));
    assert_eq!(taken.len(), 4, "{taken:?}");
    assert!(
        taken.iter().all(|t| matches!(t, Taken::Failed { .. })),
        "{taken:?}"
    );

    let failed = inbox.join("failed");
    assert_eq!(
        files(&failed),
        [
            "a.wav",
            "a.wav.error.txt",
            "bad.toml",
            "bad.wav",
            "bad.wav.error.txt",
            "loose.wav",
            "loose.wav.error.txt",
            "notes.txt",
            "notes.txt.error.txt"
        ]
    );
    let read = |n: &str| std::fs::read_to_string(failed.join(n)).unwrap();
    assert!(
        read("notes.txt.error.txt").contains("not a recognised audio file"),
        "{}",
        read("notes.txt.error.txt")
    );
    assert!(
        read("bad.wav.error.txt").contains("unknown key \"titel\""),
        "{}",
        read("bad.wav.error.txt")
    );
    let unknown = read("a.wav.error.txt");
    assert!(
        unknown.contains("no show named \"radio-inconnue\"")
            && unknown.contains("la-monnaie, le-chaffal"),
        "{unknown}"
    );
    assert!(read("loose.wav.error.txt").contains("put recordings in inbox/SHOW/"));
    assert!(
        catalog
            .list_episodes(&EpisodeQuery::default())
            .unwrap()
            .is_empty()
    );
    assert!(
        files(&catalog.data_dir().join("uploads")).is_empty(),
        "nothing left staged"
    );

    // The same recording dropped twice: the second is explained, not ingested again.
    let audio = wav(700, 15);
    std::fs::write(inbox.join("la-monnaie/one.wav"), &audio).unwrap();
    folder.poll(now());
    folder.poll(now());
    std::fs::write(inbox.join("la-monnaie/two.wav"), &audio).unwrap();
    folder.poll(now());
    let taken = folder.poll(now());
    let [Taken::Failed { reason, .. }] = taken.as_slice() else {
        panic!("{taken:?}")
    };
    assert!(reason.contains("already ingested as episode"), "{reason}");
    assert_eq!(
        catalog
            .list_episodes(&EpisodeQuery::default())
            .unwrap()
            .len(),
        1
    );
}

/// A recording whose episode failed (a full disk, a crash too many), dropped in again, is how a
/// volunteer retries: the same episode is queued again and the file archived, not explained
/// away as a duplicate.
#[test]
fn issue8_a_failed_recording_dropped_again_is_queued_again() {
    let (_dir, catalog, mut folder, inbox) = setup();
    let audio = wav(700, 16);
    std::fs::write(inbox.join("la-monnaie/essai.wav"), &audio).unwrap();
    folder.poll(now());
    let taken = folder.poll(now());
    let [Taken::Stored { episode_id, .. }] = taken.as_slice() else {
        panic!("{taken:?}")
    };
    let job = catalog.claim_next_job(now()).unwrap().unwrap();
    catalog.fail_job(job.id, "disk full", now()).unwrap();
    assert_eq!(
        catalog.episode(episode_id).unwrap().unwrap().status,
        EpisodeStatus::Failed
    );

    std::fs::write(inbox.join("la-monnaie/essai-2.wav"), &audio).unwrap();
    folder.poll(now());
    let again = folder.poll(now());
    let [
        Taken::Stored {
            episode_id: same, ..
        },
    ] = again.as_slice()
    else {
        panic!("{again:?}")
    };
    assert_eq!(same, episode_id);
    assert_eq!(
        catalog.episode(episode_id).unwrap().unwrap().status,
        EpisodeStatus::Queued
    );
    assert_eq!(
        files(&inbox.join("archive/la-monnaie")),
        ["essai-2.wav", "essai.wav"]
    );
    assert!(!inbox.join("failed/la-monnaie/essai-2.wav").exists());
}

#[tokio::test]
async fn run_watch_folder_stops_on_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = Catalog::open(&dir.path().join("data")).unwrap();
    let token = tokio_util::sync::CancellationToken::new();
    let task = tokio::spawn(antenne::ingest::watch::run_watch_folder(
        catalog,
        dir.path().join("media"),
        || None,
        token.clone(),
    ));
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(dir.path().join("media/inbox/failed").is_dir());
    token.cancel();
    tokio::time::timeout(std::time::Duration::from_secs(1), task)
        .await
        .unwrap()
        .unwrap();
}
