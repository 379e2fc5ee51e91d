//! The daemon: owns the state and every long-lived task, reloads and shuts down.
