//! Fixtures shared by Antenne's test binaries (`tests/it/`, `tests/binary/`), its benches
//! (`benches/`) and its fuzz targets (`fuzz/`). Dev-only: never published, never a dependency
//! of the daemon. A helper only one test binary needs stays in that binary's `support`.
//!
//! - [`catalog_fixture`]: the upgrade fixture, a catalog of today's schema as SQL text (and
//!   the `catalog-fixture` bin that writes it).
//! - [`fuzz`]: what each fuzz target feeds Antenne and checks; the targets call it under
//!   libFuzzer, `tests/it/fuzz.rs` replays the committed corpus and every finding through it.
//! - [`playout`]: generated 1 kHz media and ready episodes for playout (the playout tests and
//!   the soak bench's simulated week).
//! - [`stream`]: the library's `/stream` handler alone on a router (the broadcast HTTP tests
//!   and the listener load bench).

use std::path::Path;

pub mod catalog_fixture;
pub mod fuzz;
pub mod playout;
pub mod stream;

/// The repository's root: its `schedules/`, `media/` and `fuzz/corpus/`.
pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .and_then(Path::parent)
        .expect("the testkit lives in crates/antenne-testkit")
}
