//! Fuzz target `cert_import`: feeds libFuzzer's bytes to `mqtt_doctor::fuzzing::cert_import`.
//! Run with `fuzz/run` (see fuzz/README.md).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    mqtt_doctor::fuzzing::cert_import(data);
});
