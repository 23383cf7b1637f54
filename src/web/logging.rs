//! `tracing` events to the browser console (panics: [`super::panic`]).

use std::sync::Once;

static INIT: Once = Once::new();

/// Install a `tracing` subscriber writing to the console (debug level: SIP
/// messages are logged; the password never is: `Settings` and `Prepared`
/// print it as `***`, and SIP messages carry only the digest response).
pub fn init() {
    INIT.call_once(|| {
        let config = tracing_wasm::WASMLayerConfigBuilder::new()
            .set_max_level(tracing::Level::DEBUG)
            .set_report_logs_in_timings(false)
            .set_console_config(tracing_wasm::ConsoleConfig::ReportWithoutConsoleColor)
            .build();
        tracing_wasm::set_as_global_default_with_config(config);
    });
}
