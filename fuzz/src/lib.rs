//! Antenne's fuzz targets, as plain functions: `fuzz_targets/*.rs` call them under libFuzzer,
//! and the main package's `tests/fuzz_regressions.rs` includes `checks.rs` by path to replay
//! the committed corpus and every finding in `cargo test` (no nightly, no libFuzzer).

pub mod checks;
