//! The schedule: what `antenne check` prints (insta snapshots in `snapshots/`), time
//! semantics, properties, the demo schedule, the README's examples, the CLI commands.

mod calendar;
mod cli;
mod demo;
mod errors;
mod idents;
mod props;
mod readme;
mod time;
