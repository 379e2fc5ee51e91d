//! Fuzz target `upload_meta`: see `antenne_testkit::fuzz::upload_meta` for what it feeds and checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    antenne_testkit::fuzz::upload_meta(data);
});
