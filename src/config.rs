//! Configuration: `antenne.toml` < `ANTENNE_*` variables < flags, resolved into validated [`Settings`].
