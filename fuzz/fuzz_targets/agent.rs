//! The whole sans-IO input path: a user agent driven by operations read
//! from the bytes (see `harness::run_agent`). No panic allowed.
#![no_main]

#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    harness::run_agent(data);
});
