//! The weekly schedule: parse with spans, validate into [`Schedule`], pure queries of an instant. No IO, no clock.
