//! The airplay log and the music declaration (issue 16): a simulated day on a manual clock
//! whose log matches, frame for frame, what the engine rendered; the SACEM/SPRÉ summary and
//! its CSV; the operators' download.

mod day;
mod report;
