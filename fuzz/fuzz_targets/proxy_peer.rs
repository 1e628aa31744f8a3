//! Fuzz target `proxy_peer`: feeds libFuzzer's bytes to `mqtt_doctor::fuzzing::proxy_peer`.
//! Run with `fuzz/run` (see fuzz/README.md).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    mqtt_doctor::fuzzing::proxy_peer(data);
});
