//! Ingest jobs: a recording in, a normalised MP3 episode in the catalog out, on blocking threads.

pub mod intake;
pub mod watch;
