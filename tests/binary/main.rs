//! The tests that run the real `antenne` executable (`CARGO_BIN_EXE_antenne`): its exit codes
//! and signals, SIGKILL at random points, resource faults. One binary beside `tests/it/`;
//! `support` starts a station, talks HTTP to it and checks its data folder.

mod support;

mod alerts;
mod audience;
mod backup;
mod cli;
mod crash;
mod faults;
mod library;
mod live;
mod priority;
mod service;
