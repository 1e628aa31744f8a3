//! Fuzz target `profiles_toml`: feeds libFuzzer's bytes to `mqtt_doctor::fuzzing::profiles_toml`.
//! Run with `fuzz/run` (see fuzz/README.md).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    mqtt_doctor::fuzzing::profiles_toml(data);
});
