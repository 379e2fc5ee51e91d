//! Audio stages shared by ingest and playout: decode, analyse, normalise, encode. Sync code, no IO but the files it is handed.
