//! Fuzz target `http_headers`: see `antenne_fuzz::checks::http_headers` for what it feeds and checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    antenne_fuzz::checks::http_headers(data);
});
