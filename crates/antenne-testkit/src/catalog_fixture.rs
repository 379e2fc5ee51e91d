//! The upgrade fixture: a catalog made by today's code from a pinned description (shows,
//! ready, failed and queued episodes, a live recording, upload, live and operator tokens, a
//! revoked one, airings, downloads, an analysed bed), dumped as SQL text. `tests/fixtures/catalog-v2.sql` was
//! written by `cargo run -p antenne-testkit --bin catalog-fixture > tests/fixtures/catalog-v2.sql`
//! with the release whose schema it holds; it is never rewritten: the next schema gets a new
//! fixture beside it, and `tests/it/catalog.rs` opens each one with the code of the day.

use std::fmt::Write;
use std::path::Path;

use antenne::catalog::{
    Catalog, Completed, FileStamp, Grant, Loudness, MediaLoudness, NewEpisode, hash_secret,
};

/// The operator token's secret in the fixture.
pub const OPERATOR_SECRET: &str = "fixture-operator-secret";
/// A volunteer's (upload to `la-matinale`) secret in the fixture.
pub const VOLUNTEER_SECRET: &str = "fixture-volunteer-secret";
/// A revoked token's secret in the fixture.
pub const REVOKED_SECRET: &str = "fixture-revoked-secret";

fn t(s: i64) -> jiff::Timestamp {
    jiff::Timestamp::from_second(1_796_000_000 + s).expect("valid")
}

fn episode(id: &str, show: &str, title: &str) -> NewEpisode {
    NewEpisode {
        id: id.into(),
        show: show.into(),
        title: title.into(),
        description: format!("{title} : la description."),
        date: Some("2026-11-30".into()),
        season: Some(1),
        episode: Some(3),
        original_sha256: format!("{:0>64}", id.replace('-', "")),
        original_path: format!("originals/{id}.wav"),
        original_bytes: 441_044,
        original_name: Some(format!("{title}.wav")),
        ..NewEpisode::default()
    }
}

fn loudness(lufs: f64) -> Loudness {
    Loudness {
        integrated_lufs: lufs,
        loudness_range_lu: 4.5,
        true_peak_dbtp: -1.2,
        sample_peak_dbfs: -1.5,
    }
}

/// Builds the pinned catalog in `data_dir` (no media files: the catalog alone).
pub fn build(data_dir: &Path) -> Catalog {
    let c = Catalog::open(data_dir).expect("a new catalog");
    c.sync_shows(
        &[
            ("la-matinale".into(), "La matinale des quartiers".into()),
            ("paroles-d-anciens".into(), "Paroles d'anciens".into()),
        ],
        t(0),
    )
    .unwrap();
    let ids = [
        "a1b2c3d4-0001",
        "a1b2c3d4-0002",
        "a1b2c3d4-0003",
        "a1b2c3d4-0004",
    ];
    c.create_episode(&episode(ids[0], "la-matinale", "Lundi"), t(10))
        .unwrap();
    c.create_episode(
        &episode(ids[1], "paroles-d-anciens", "Les Ors en 1970"),
        t(20),
    )
    .unwrap();
    c.create_episode(&episode(ids[2], "la-matinale", "Mardi"), t(30))
        .unwrap();
    // Two rendered, one failed; the fourth stays queued.
    for (k, ok) in [true, true, false].into_iter().enumerate() {
        let job = c
            .claim_next_job(t(40 + k as i64))
            .unwrap()
            .expect("a queued job");
        if ok {
            let done = Completed {
                rendition_path: format!("renditions/{}.mp3", job.episode.id),
                rendition_bytes: 96_000 + k as u64,
                duration_ms: 6_000,
                before: loudness(-23.0),
                after: loudness(-16.0),
                gain_db: 7.0,
            };
            c.complete_job(job.id, &done, t(50 + k as i64)).unwrap();
        } else {
            c.fail_job(job.id, "undecodable: not audio", t(50)).unwrap();
        }
    }
    c.create_episode(&episode(ids[3], "la-matinale", "Mercredi"), t(60))
        .unwrap();
    c.set_occurrence(ids[1], "paroles-d-anciens@2026-11-30T10:00", t(70))
        .unwrap();
    c.airing_for("la-matinale@2026-12-01T07:00", Some(ids[0]), t(80))
        .unwrap();
    c.record_download(ids[0], "f00d", t(90)).unwrap();
    c.add_token(
        "regie",
        &hash_secret(OPERATOR_SECRET),
        &Grant::default(),
        t(100),
    )
    .unwrap();
    c.add_token(
        "lea",
        &hash_secret(VOLUNTEER_SECRET),
        &Grant::upload(&["la-matinale"]),
        t(110),
    )
    .unwrap();
    c.add_token(
        "studio",
        &hash_secret(REVOKED_SECRET),
        &Grant::live(&["paroles-d-anciens"]),
        t(120),
    )
    .unwrap();
    c.revoke_token("studio", t(130)).unwrap();
    // The analysed beds of the media folder (schema 3).
    let bed = format!("{:0>64}", "bed1");
    let stamp = FileStamp {
        size: 1_764_044,
        mtime_ns: 1_796_000_140_000_000_000,
    };
    c.record_media_hash("beds/nappe.wav", stamp, &bed).unwrap();
    let figures = MediaLoudness {
        integrated_lufs: Some(-21.5),
        true_peak_dbtp: -3.0,
        duration_ms: 10_000,
        analysed_at: t(140).as_second(),
    };
    c.record_media_loudness(&bed, &figures).unwrap();
    c
}

/// The catalog at `path` as SQL: `PRAGMA user_version`, then every table's schema and rows in
/// creation order, then its indexes.
pub fn dump(path: &Path) -> String {
    let conn = rusqlite::Connection::open(path).expect("the catalog opens");
    let version: u32 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    let mut out = format!(
        "-- An Antenne catalog of schema {version}, made by antenne-testkit's catalog_fixture.\n\
         -- Load it into an empty SQLite file; never edit it: add the next schema's beside it.\n\
         PRAGMA user_version = {version};\n"
    );
    let mut stmt = conn
        .prepare(
            "SELECT type, name, sql FROM sqlite_master
             WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%'
             ORDER BY type = 'index', rowid",
        )
        .unwrap();
    let items: Vec<(String, String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for (kind, name, sql) in items {
        writeln!(out, "{sql};").unwrap();
        if kind != "table" {
            continue;
        }
        let mut rows = conn
            .prepare(&format!("SELECT * FROM \"{name}\" ORDER BY rowid"))
            .unwrap();
        let n = rows.column_count();
        let values: Vec<String> = rows
            .query_map([], |r| {
                let cols: Vec<String> = (0..n)
                    .map(|i| match r.get_ref(i).unwrap() {
                        rusqlite::types::ValueRef::Null => "NULL".into(),
                        rusqlite::types::ValueRef::Integer(v) => v.to_string(),
                        rusqlite::types::ValueRef::Real(v) => format!("{v:?}"),
                        rusqlite::types::ValueRef::Text(t) => {
                            format!("'{}'", String::from_utf8_lossy(t).replace('\'', "''"))
                        }
                        rusqlite::types::ValueRef::Blob(b) => {
                            let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
                            format!("X'{hex}'")
                        }
                    })
                    .collect();
                Ok(cols.join(", "))
            })
            .unwrap()
            .map(Result::unwrap)
            .collect();
        for v in values {
            writeln!(out, "INSERT INTO \"{name}\" VALUES ({v});").unwrap();
        }
    }
    out
}
