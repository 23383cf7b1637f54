//! `classify` on arbitrary bytes: no panic, and what it accepts survives
//! `to_bytes()` and a second parse unchanged (see `harness::check_frame`).
#![no_main]

#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    harness::check_frame(data);
});
