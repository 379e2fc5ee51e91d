//! Fuzz target `http_headers`: see `antenne_testkit::fuzz::http_headers` for what it feeds and checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    antenne_testkit::fuzz::http_headers(data);
});
