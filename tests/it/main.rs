//! Antenne's integration tests, one binary: the crate is linked once for all of them, not once
//! per file. Each area is a module (`cargo test --test it schedule::` runs one area,
//! `cargo test --test it schedule::errors::` one file); shared helpers are in `support/`,
//! fixtures shared with the benches and the fuzz targets in `antenne_testkit`. The tests that
//! start the real `antenne` executable are the other binary, `tests/binary/`.
//!
//! Tests run in threads of one process: a test that needs the process to itself (peak RSS, a
//! global tracing subscriber) runs again alone in a child process ([`support::alone`]).

mod support;

mod airplay;
mod alerts;
mod architecture;
mod audience;
mod audio;
mod broadcast;
mod catalog;
mod config;
mod console;
mod demo;
mod doors;
mod feed;
mod fuzz;
mod hls;
mod hostile;
mod http;
mod ingest;
mod live;
mod live_clock;
mod live_formats;
mod playout;
mod reload;
mod schedule;
mod source_clients;
mod upload;
mod web;
