//! Fuzz target `schedule`: see `antenne_testkit::fuzz::schedule` for what it feeds and checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    antenne_testkit::fuzz::schedule(data);
});
