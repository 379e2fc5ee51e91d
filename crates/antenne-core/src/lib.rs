//! Antenne's core: the station's domain and media processing, with no async runtime, no
//! HTTP and no configuration file.
//!
//! - [`schedule`]: the weekly schedule file, parsed and validated with spans, and pure
//!   queries of an instant (no IO, no clock);
//! - [`audio`]: decode → analyse → normalise → encode, the stages ingest and playout share;
//! - [`feed`]: podcast RSS, conditional requests and download statistics (pure);
//! - [`catalog`]: the crash-safe SQLite store of episodes, jobs, tokens and airings.
//!
//! The `antenne` package (daemon, HTTP, CLI) re-exports these modules under the same names.

pub mod audio;
pub mod catalog;
pub mod clock;
pub mod feed;
pub mod schedule;
pub mod timebase;
