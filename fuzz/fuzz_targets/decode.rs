//! Fuzz target `decode`: see `antenne_testkit::fuzz::decode` for what it feeds and checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    antenne_testkit::fuzz::decode(data);
});
