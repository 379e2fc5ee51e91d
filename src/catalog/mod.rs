//! The crash-safe catalog (SQLite): shows, episodes, ingest jobs, upload tokens, download counters.
