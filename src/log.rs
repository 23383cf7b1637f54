//! The phone's log: `log::info!("…")` and its siblings, each a level, a
//! place (file and line) and a message made by `format_args!` only when the
//! level is on. Plain Rust (the sans-IO core logs through it too): the
//! lines go to the [`Sink`] the browser edge sets (`web::logging`: the
//! console), and nowhere before one is set (native tests).
//!
//! It replaced `tracing` (issue 15): the phone records events, never
//! spans or fields, and `tracing`'s per-call-site metadata and dispatch
//! were about 12 % of the library build's gzip size.

use std::fmt;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::OnceLock;

/// How much a line matters; a level lets through itself and those above.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Error = 1,
    Warn = 2,
    Info = 3,
    Debug = 4,
    Trace = 5,
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Level::Error => "ERROR",
            Level::Warn => "WARN",
            Level::Info => "INFO",
            Level::Debug => "DEBUG",
            Level::Trace => "TRACE",
        })
    }
}

/// Where the lines go: level, file, line, message.
pub type Sink = fn(Level, &'static str, u32, fmt::Arguments<'_>);

/// The most detailed level let through (0: none).
static MAX: AtomicU8 = AtomicU8::new(0);
static SINK: OnceLock<Sink> = OnceLock::new();

/// Send the lines up to `max` to `sink` from now on (the sink is set once;
/// the level may change).
pub fn set_sink(sink: Sink, max: Level) {
    let _ = SINK.set(sink);
    MAX.store(max as u8, Ordering::Relaxed);
}

/// Whether lines of `level` go anywhere (the message is not made when not).
#[inline]
pub fn enabled(level: Level) -> bool {
    level as u8 <= MAX.load(Ordering::Relaxed)
}

/// One line to the sink (the macros call it once [`enabled`] said yes).
#[doc(hidden)]
#[inline(never)]
pub fn emit(level: Level, file: &'static str, line: u32, message: fmt::Arguments<'_>) {
    if let Some(sink) = SINK.get() {
        sink(level, file, line, message);
    }
}

/// A line at `level` (the others are this with their level).
macro_rules! event {
    ($level:expr, $($arg:tt)+) => {
        if $crate::log::enabled($level) {
            $crate::log::emit($level, file!(), line!(), format_args!($($arg)+))
        }
    };
}

#[allow(unused_macros)] // (no error line yet)
macro_rules! error {
    ($($arg:tt)+) => { $crate::log::event!($crate::log::Level::Error, $($arg)+) };
}

#[allow(unused_macros)] // (some levels are used only on wasm32)
macro_rules! warning {
    ($($arg:tt)+) => { $crate::log::event!($crate::log::Level::Warn, $($arg)+) };
}

#[allow(unused_macros)] // (some levels are used only on wasm32)
macro_rules! info {
    ($($arg:tt)+) => { $crate::log::event!($crate::log::Level::Info, $($arg)+) };
}

#[allow(unused_macros)] // (some levels are used only on wasm32)
macro_rules! debug {
    ($($arg:tt)+) => { $crate::log::event!($crate::log::Level::Debug, $($arg)+) };
}

#[allow(unused_macros)] // (some levels are used only on wasm32)
macro_rules! trace {
    ($($arg:tt)+) => { $crate::log::event!($crate::log::Level::Trace, $($arg)+) };
}

#[allow(unused_imports)] // (not every level is used in every build)
pub(crate) use {debug, error, event, info, trace, warning as warn};

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    static LINES: Mutex<Vec<String>> = Mutex::new(Vec::new());

    /// Keeps this file's lines (other tests log meanwhile, in other threads).
    fn keep(level: Level, file: &'static str, line: u32, message: fmt::Arguments<'_>) {
        if file != file!() {
            return;
        }
        LINES
            .lock()
            .unwrap()
            .push(format!("{level} {file}:{line} {message}"));
    }

    /// (the only test that sets the sink: it is set once per process)
    #[test]
    fn lines_up_to_the_level_reach_the_sink_and_others_cost_nothing() {
        let made = std::cell::Cell::new(0);
        let costly = || {
            made.set(made.get() + 1);
            "x"
        };
        debug!("before any sink {}", costly());
        assert_eq!(made.get(), 0, "nothing is formatted without a sink");
        set_sink(keep, Level::Info);
        let here = line!();
        info!("call {} failed", 7);
        debug!("not shown {}", costly());
        warn!("shown");
        assert_eq!(made.get(), 0, "a line below the level is never made");
        let lines = LINES.lock().unwrap().clone();
        let file = file!();
        assert_eq!(
            lines,
            vec![
                format!("INFO {file}:{} call 7 failed", here + 1),
                format!("WARN {file}:{} shown", here + 3),
            ]
        );
        set_sink(keep, Level::Debug);
        debug!("now {}", costly());
        assert_eq!(made.get(), 1);
    }
}
