//! HTTP surfaces: the only module that knows axum and JSON.
