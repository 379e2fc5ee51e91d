//! Antenne: a community radio daemon.
//!
//! Two pipelines share the [`audio`] stages:
//! - ingest: decode → analyse → normalise → encode → store ([`ingest`], [`catalog`]);
//! - playout: schedule → clock → PCM → encode → broadcast ([`schedule`], [`playout`], [`broadcast`]).
//!
//! Live sources come in through [`input`] (the Icecast source protocol) and air as one more
//! kind of playout segment.
//!
//! [`http`] is the only module that knows axum and JSON; [`daemon`] owns every long-lived task.
//! See `ARCHITECTURE.md` for the map and its invariants.

pub mod alerts;
pub mod audience;
pub mod backup;
pub mod broadcast;
pub mod cli;
pub mod config;
pub mod daemon;
pub mod http;
pub mod ingest;
pub mod input;
pub mod log_line;
pub mod playout;

pub use antenne_core::{audio, catalog, clock, feed, schedule, timebase};
