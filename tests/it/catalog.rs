//! The catalog: migrations, the episode/job lifecycle, crash recovery, tokens, downloads.

use antenne::catalog::{
    Catalog, CatalogError, Completed, EpisodeQuery, EpisodeStatus, Grant, Loudness, MetadataPatch,
    NewEpisode, hash_secret,
};
use jiff::Timestamp;

fn t(s: i64) -> Timestamp {
    Timestamp::from_second(1_800_000_000 + s).unwrap()
}

fn new_episode(id: &str, sha: &str) -> NewEpisode {
    NewEpisode {
        id: id.into(),
        show: "la-monnaie".into(),
        title: format!("Épisode {id}"),
        original_sha256: sha.into(),
        original_path: format!("originals/{id}.wav"),
        original_bytes: 1234,
        ..Default::default()
    }
}

fn loud(i: f64) -> Loudness {
    Loudness {
        integrated_lufs: i,
        loudness_range_lu: 5.0,
        true_peak_dbtp: -1.2,
        sample_peak_dbfs: -1.5,
    }
}

#[test]
fn migrations_create_an_empty_catalog_and_reopen_an_existing_one() {
    let dir = tempfile::tempdir().unwrap();
    let cat = Catalog::open(dir.path()).unwrap();
    let v = cat.schema_version().unwrap();
    assert!(v >= 1);
    cat.create_episode(&new_episode("a", "sha-a"), t(0))
        .unwrap();
    drop(cat);
    // Reopening applies nothing new and keeps the rows.
    let cat = Catalog::open(dir.path()).unwrap();
    assert_eq!(cat.schema_version().unwrap(), v);
    assert_eq!(cat.episode("a").unwrap().unwrap().title, "Épisode a");
}

#[test]
fn a_catalog_from_a_newer_antenne_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    drop(Catalog::open(dir.path()).unwrap());
    let conn = rusqlite::Connection::open(dir.path().join("catalog.sqlite3")).unwrap();
    conn.pragma_update(None, "user_version", 999).unwrap();
    drop(conn);
    let err = Catalog::open(dir.path()).err().unwrap();
    assert!(
        matches!(err, CatalogError::TooNew { found: 999, .. }),
        "{err}"
    );
}

#[test]
fn the_same_original_is_not_ingested_twice() {
    let dir = tempfile::tempdir().unwrap();
    let cat = Catalog::open(dir.path()).unwrap();
    cat.create_episode(&new_episode("a", "same"), t(0)).unwrap();
    let err = cat
        .create_episode(&new_episode("b", "same"), t(1))
        .unwrap_err();
    assert!(
        matches!(&err, CatalogError::Duplicate(id) if id == "a"),
        "{err}"
    );
    assert!(cat.episode("b").unwrap().is_none());
}

#[test]
fn job_lifecycle_queued_processing_ready() {
    let dir = tempfile::tempdir().unwrap();
    let cat = Catalog::open(dir.path()).unwrap();
    cat.create_episode(&new_episode("a", "sha-a"), t(0))
        .unwrap();
    cat.create_episode(&new_episode("b", "sha-b"), t(1))
        .unwrap();
    let job = cat.claim_next_job(t(2)).unwrap().unwrap();
    assert_eq!(job.episode.id, "a", "oldest first");
    assert_eq!(
        cat.episode("a").unwrap().unwrap().status,
        EpisodeStatus::Processing
    );
    cat.set_progress(job.id, 0.5).unwrap();
    assert_eq!(cat.job_progress("a").unwrap(), Some(0.5));
    let done = Completed {
        rendition_path: "renditions/a.mp3".into(),
        rendition_bytes: 999,
        duration_ms: 60_000,
        before: loud(-23.0),
        after: loud(-16.0),
        gain_db: 7.0,
    };
    cat.complete_job(job.id, &done, t(3)).unwrap();
    let a = cat.episode("a").unwrap().unwrap();
    assert_eq!(a.status, EpisodeStatus::Ready);
    assert_eq!(a.rendition_bytes, Some(999));
    assert_eq!(a.after, Some(loud(-16.0)));
    assert_eq!(a.before, Some(loud(-23.0)));
    let job = cat.claim_next_job(t(4)).unwrap().unwrap();
    cat.fail_job(job.id, "b.wav: not an audio file", t(5))
        .unwrap();
    let b = cat.episode("b").unwrap().unwrap();
    assert_eq!(b.status, EpisodeStatus::Failed);
    assert_eq!(b.error.as_deref(), Some("b.wav: not an audio file"));
    assert!(cat.claim_next_job(t(6)).unwrap().is_none());
    let c = cat.counts().unwrap();
    assert_eq!((c.ready, c.failed, c.queued), (1, 1, 0));
}

#[test]
fn interrupted_jobs_are_retried_then_failed_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    {
        let cat = Catalog::open(dir.path()).unwrap();
        cat.create_episode(&new_episode("a", "sha-a"), t(0))
            .unwrap();
        cat.claim_next_job(t(1)).unwrap().unwrap();
        // The process dies here: no complete, no fail.
    }
    for attempt in 1..=2 {
        let cat = Catalog::open(dir.path()).unwrap();
        let r = cat.recover_interrupted(3, t(10)).unwrap();
        assert_eq!((r.requeued, r.failed), (1, 0), "attempt {attempt}");
        assert_eq!(
            cat.episode("a").unwrap().unwrap().status,
            EpisodeStatus::Queued
        );
        assert!(cat.claim_next_job(t(11)).unwrap().is_some());
    }
    let cat = Catalog::open(dir.path()).unwrap();
    let r = cat.recover_interrupted(3, t(20)).unwrap();
    assert_eq!((r.requeued, r.failed), (0, 1));
    let a = cat.episode("a").unwrap().unwrap();
    assert_eq!(a.status, EpisodeStatus::Failed);
    assert!(a.error.unwrap().contains("interrupted 3 times"));
    assert!(a.rendition_path.is_none(), "never ready without its file");
}

#[test]
fn a_ready_episode_always_has_its_rendition_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let cat = Catalog::open(dir.path()).unwrap();
    cat.create_episode(&new_episode("a", "sha-a"), t(0))
        .unwrap();
    let conn = rusqlite::Connection::open(dir.path().join("catalog.sqlite3")).unwrap();
    let err = conn.execute("UPDATE episodes SET status = 'ready' WHERE id = 'a'", []);
    assert!(err.is_err(), "the schema refuses ready without a rendition");
}

#[test]
fn metadata_edits_and_unpublish_keep_the_id() {
    let dir = tempfile::tempdir().unwrap();
    let cat = Catalog::open(dir.path()).unwrap();
    cat.create_episode(&new_episode("a", "sha-a"), t(0))
        .unwrap();
    let patch = MetadataPatch {
        title: Some("Nouveau titre".into()),
        season: Some(Some(2)),
        ..Default::default()
    };
    let e = cat.update_metadata("a", &patch, t(1)).unwrap().unwrap();
    assert_eq!(
        (e.title.as_str(), e.season, e.id.as_str()),
        ("Nouveau titre", Some(2), "a")
    );
    assert!(cat.update_metadata("zz", &patch, t(1)).unwrap().is_none());
    assert!(cat.unpublish("a", t(2)).unwrap());
    assert!(
        cat.list_episodes(&EpisodeQuery::default())
            .unwrap()
            .is_empty()
    );
    let all = cat
        .list_episodes(&EpisodeQuery {
            include_unpublished: true,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(all.len(), 1);
    // The id stays taken: the same original cannot come back under a new guid.
    assert!(
        cat.create_episode(&new_episode("a", "other"), t(3))
            .is_err()
    );
}

#[test]
fn tokens_are_stored_hashed_limited_and_revocable() {
    let dir = tempfile::tempdir().unwrap();
    let cat = Catalog::open(dir.path()).unwrap();
    let grant = Grant::upload(&["la-monnaie"]);
    cat.add_token("amina", &hash_secret("ant_amina"), &grant, t(0))
        .unwrap();
    cat.add_token("ops", &hash_secret("ant_ops"), &Grant::default(), t(0))
        .unwrap();
    let again = cat.add_token("ops", &hash_secret("ant_x"), &Grant::default(), t(0));
    assert!(matches!(again, Err(CatalogError::Exists(_))));
    cat.add_token(
        "live",
        &hash_secret("ant_live"),
        &Grant::live(&["les-ors"]),
        t(0),
    )
    .unwrap();
    let amina = cat.token_for_secret("ant_amina").unwrap().unwrap();
    assert!(amina.may_use("la-monnaie") && !amina.may_use("les-ors") && !amina.is_operator());
    assert!(!amina.live, "upload tokens do not go live");
    let ops = cat.token_for_secret("ant_ops").unwrap().unwrap();
    assert!(ops.is_operator() && !ops.live);
    let live = cat.token_for_secret("ant_live").unwrap().unwrap();
    assert!(live.live && live.may_use("les-ors"));
    assert!(cat.token_for_secret("ant_nobody").unwrap().is_none());
    assert!(cat.revoke_token("amina", t(1)).unwrap());
    assert!(cat.token_for_secret("ant_amina").unwrap().is_none());
    let listed = cat.list_tokens().unwrap();
    assert_eq!(listed.len(), 3);
    assert!(listed.iter().any(|t| t.name == "live" && t.live));
    assert!(listed.iter().any(|t| t.name == "amina" && t.revoked));
}

#[test]
fn airings_choose_once_per_occurrence() {
    let dir = tempfile::tempdir().unwrap();
    let cat = Catalog::open(dir.path()).unwrap();
    for (id, sha) in [("a", "1"), ("b", "2")] {
        cat.create_episode(&new_episode(id, sha), t(0)).unwrap();
        let job = cat.claim_next_job(t(0)).unwrap().unwrap();
        let done = Completed {
            rendition_path: format!("renditions/{id}.mp3"),
            rendition_bytes: 1,
            duration_ms: 1,
            before: loud(-20.0),
            after: loud(-16.0),
            gain_db: 4.0,
        };
        cat.complete_job(job.id, &done, t(0)).unwrap();
    }
    assert_eq!(cat.unaired_ready("la-monnaie").unwrap().len(), 2);
    assert_eq!(
        cat.airing_for("occ1", Some("a"), t(5)).unwrap().as_deref(),
        Some("a")
    );
    // A restart asks again with another choice: the first one stands.
    assert_eq!(
        cat.airing_for("occ1", Some("b"), t(6)).unwrap().as_deref(),
        Some("a")
    );
    assert_eq!(cat.last_premiered("la-monnaie").unwrap().unwrap().id, "a");
    assert_eq!(cat.unaired_ready("la-monnaie").unwrap()[0].id, "b");
    cat.record_download("a", "h", t(7)).unwrap();
    assert_eq!(cat.download_counts().unwrap()["a"], 1);
}

/// Upgrades keep the data (issue 17): a catalog made by each release (the SQL of
/// `tests/fixtures/catalog-vN.sql`, written by antenne-testkit's `catalog-fixture`) opens with
/// today's code, migrates to the latest schema, and still holds its episodes and tokens.
#[test]
fn issue17_a_catalog_made_by_an_earlier_release_opens_and_migrates() {
    use antenne_testkit::catalog_fixture::{OPERATOR_SECRET, REVOKED_SECRET, VOLUNTEER_SECRET};
    let fixtures = antenne_testkit::repo().join("tests/fixtures");
    let mut seen = 0;
    for entry in std::fs::read_dir(&fixtures).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let Some(v) = name
            .strip_prefix("catalog-v")
            .and_then(|r| r.strip_suffix(".sql"))
        else {
            continue;
        };
        let version: u32 = v.parse().unwrap();
        seen += 1;
        let dir = tempfile::tempdir().unwrap();
        {
            let conn = rusqlite::Connection::open(dir.path().join(antenne::catalog::CATALOG_FILE))
                .unwrap();
            conn.execute_batch(&std::fs::read_to_string(&path).unwrap())
                .unwrap();
            let found: u32 = conn
                .query_row("PRAGMA user_version", [], |r| r.get(0))
                .unwrap();
            assert_eq!(found, version, "{name} holds schema {found}");
        }
        let c = Catalog::open(dir.path()).unwrap_or_else(|e| panic!("{name}: {e}"));
        let latest = c.schema_version().unwrap();
        assert!(latest >= version);
        let all = c
            .list_episodes(&antenne::catalog::EpisodeQuery {
                include_unpublished: true,
                ..Default::default()
            })
            .unwrap();
        assert_eq!(all.len(), 4, "{name}");
        let ready: Vec<_> = all
            .iter()
            .filter(|e| e.status == EpisodeStatus::Ready)
            .collect();
        assert_eq!(ready.len(), 2, "{name}");
        assert!(ready.iter().all(|e| e.rendition_path.is_some()));
        let counts = c.counts().unwrap();
        assert_eq!(
            (counts.shows, counts.queued, counts.failed),
            (2, 1, 1),
            "{name}"
        );
        assert!(
            c.token_for_secret(OPERATOR_SECRET)
                .unwrap()
                .unwrap()
                .is_operator()
        );
        let lea = c.token_for_secret(VOLUNTEER_SECRET).unwrap().unwrap();
        assert!(lea.may_use("la-matinale") && !lea.may_use("paroles-d-anciens"));
        assert!(c.token_for_secret(REVOKED_SECRET).unwrap().is_none());
        assert_eq!(
            c.episode_of_occurrence("paroles-d-anciens@2026-11-30T10:00")
                .unwrap()
                .as_deref(),
            Some("a1b2c3d4-0002")
        );
        assert_eq!(c.download_counts().unwrap()["a1b2c3d4-0001"], 1);
        if version >= 3 {
            // The media folder's analysis survives: no bed is measured again after an upgrade.
            let stamp = antenne::catalog::FileStamp {
                size: 1_764_044,
                mtime_ns: 1_796_000_140_000_000_000,
            };
            let hash = c
                .media_hash("beds/nappe.wav", stamp)
                .unwrap()
                .unwrap_or_else(|| panic!("{name}: no media row"));
            let bed = c
                .media_loudness(&hash)
                .unwrap()
                .unwrap_or_else(|| panic!("{name}: no media row"));
            assert_eq!(bed.integrated_lufs, Some(-21.5), "{name}");
        }
        // Reopened by the migrated schema: nothing more to do.
        drop(c);
        assert_eq!(
            Catalog::open(dir.path()).unwrap().schema_version().unwrap(),
            latest
        );
    }
    assert!(seen >= 2, "no catalog fixture in {}", fixtures.display());
}
