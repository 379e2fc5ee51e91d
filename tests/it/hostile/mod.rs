//! Hostile input (issue 8): connections against the real server loop, tokens and sizes,
//! field values, paths. The fuzz regressions are in `fuzz`.

mod auth;
mod connections;
mod fields;
mod paths;
