//! Playout: the planner and engine on a manual clock, and the engine feeding the broadcast.

mod engine;
mod loudness;
mod segues;
mod stream;
