//! `antenne ingest`: waiting for the catalog.
