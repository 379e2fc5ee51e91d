//! The airplay log and the music declaration (issue 16): a simulated day on a manual clock
//! whose log matches, frame for frame, what the engine rendered; the SACEM/SPRÉ summary and
//! its CSV; the operators' download; and the two alert events that came with it (a live
//! source dropped in its slot, a revoked or unknown token).

mod alerts;
mod day;
mod live;
mod report;
