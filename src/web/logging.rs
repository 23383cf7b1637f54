//! Panics and `tracing` events to the browser console.

use std::sync::Once;

static INIT: Once = Once::new();

/// Install the panic hook and a `tracing` subscriber writing to the console
/// (debug level: SIP messages are logged, the password never is).
pub fn init() {
    INIT.call_once(|| {
        console_error_panic_hook::set_once();
        let config = tracing_wasm::WASMLayerConfigBuilder::new()
            .set_max_level(tracing::Level::DEBUG)
            .set_report_logs_in_timings(false)
            .set_console_config(tracing_wasm::ConsoleConfig::ReportWithoutConsoleColor)
            .build();
        tracing_wasm::set_as_global_default_with_config(config);
    });
}
