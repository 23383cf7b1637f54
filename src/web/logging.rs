//! `tracing` events to the browser console (panics: [`super::panic`]).
//!
//! Info level by default: what the phone does, warnings and errors. Debug
//! level adds every SIP message sent and received and every input and
//! event of the core; it costs milliseconds per message (formatting and
//! console output), so it is asked for: `?log=debug` in the page's address,
//! or `localStorage.setItem("softphone.log", "debug")` (README "Debugging
//! your PBX"). The password is never logged: `Settings` and `Prepared`
//! print it as `***`, and SIP messages carry only the digest response.

use std::sync::Once;

static INIT: Once = Once::new();

/// The level asked for by the page's address or its storage, else info.
fn level() -> tracing::Level {
    let from_query = web_sys::window()
        .and_then(|w| w.location().search().ok())
        .and_then(|q| crate::embed::query_param(&q, "log"));
    let from_storage = || {
        web_sys::window()
            .and_then(|w| w.local_storage().ok().flatten())
            .and_then(|s| s.get_item("softphone.log").ok().flatten())
    };
    match from_query
        .or_else(from_storage)
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
        .as_str()
    {
        "debug" | "trace" => tracing::Level::DEBUG,
        "warn" => tracing::Level::WARN,
        "error" => tracing::Level::ERROR,
        _ => tracing::Level::INFO,
    }
}

/// Install a `tracing` subscriber writing to the console.
pub fn init() {
    INIT.call_once(|| {
        let config = tracing_wasm::WASMLayerConfigBuilder::new()
            .set_max_level(level())
            .set_report_logs_in_timings(false)
            .set_console_config(tracing_wasm::ConsoleConfig::ReportWithoutConsoleColor)
            .build();
        tracing_wasm::set_as_global_default_with_config(config);
    });
}
