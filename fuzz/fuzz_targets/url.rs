//! Fuzz target `url`: feeds libFuzzer's bytes to `mqtt_doctor::fuzzing::url`.
//! Run with `fuzz/run` (see fuzz/README.md).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    mqtt_doctor::fuzzing::url(data);
});
