//! The phone's log lines ([`crate::log`]) to the browser console (panics:
//! [`super::panic`]).
//!
//! The console lines are those `tracing-wasm` wrote before (without
//! colours): `LEVEL file:line  message`, one a line.
//!
//! The line is built by the pure [`line`], which is unit-tested natively
//! (`lib.rs` compiles this file for native tests; the console part only
//! exists on wasm32).

use crate::log::Level;
use std::fmt;

/// The most detailed level logged, from what the page asked for: info by
/// default (what the phone does, warnings, errors); `debug` adds every SIP
/// message sent and received and every input and event of the core. Debug
/// costs time per message (formatting and console output), so it is asked
/// for: `?log=debug` in the page's address, or
/// `localStorage.setItem("softphone.log", "debug")` (docs/debugging.md). The password is never logged: `Settings` and `Prepared` print it
/// as `***`, and SIP messages carry only the digest response.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))] // used by the console part
pub fn max_level(asked: Option<&str>) -> Level {
    match asked.unwrap_or("").trim().to_ascii_lowercase().as_str() {
        "debug" | "trace" => Level::Debug,
        "warn" => Level::Warn,
        "error" => Level::Error,
        _ => Level::Info,
    }
}

/// The console line of a log line: level, origin, then the message.
pub fn line(level: Level, file: &str, line_no: u32, message: fmt::Arguments<'_>) -> String {
    let text = message.to_string();
    if text.is_empty() {
        format!("{level} {file}:{line_no} ")
    } else {
        format!("{level} {file}:{line_no}  {text}")
    }
}

#[cfg(target_arch = "wasm32")]
mod browser {
    use super::{line, max_level};
    use crate::log::Level;
    use std::fmt;
    use wasm_bindgen::prelude::wasm_bindgen;

    #[wasm_bindgen]
    extern "C" {
        #[wasm_bindgen(js_namespace = console, js_name = log)]
        fn console_log(line: &str);
    }

    /// `?log=…` in the page's address, else `softphone.log` in localStorage.
    fn asked_level() -> Option<String> {
        let window = web_sys::window()?;
        window
            .location()
            .search()
            .ok()
            .and_then(|q| crate::app::embed::query_param(&q, "log"))
            .or_else(|| {
                window
                    .local_storage()
                    .ok()
                    .flatten()
                    .and_then(|s| s.get_item("softphone.log").ok().flatten())
            })
    }

    thread_local! {
        /// Info and debug lines not yet in the console (see [`to_console`]).
        static PENDING: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
    }

    /// Warnings and errors go to the console at once; info and debug lines
    /// a task later, in order: `console.log` takes a millisecond or more
    /// per line when developer tools listen (2 ms of an INVITE's path to
    /// ringing shown, before), and the lines that come with a ringing call
    /// or an answer are not what the user waits for.
    fn to_console(level: Level, file: &'static str, line_no: u32, message: fmt::Arguments<'_>) {
        let text = line(level, file, line_no, message);
        if level <= Level::Warn {
            flush();
            console_log(&text);
            return;
        }
        let first = PENDING.with(|p| {
            let mut p = p.borrow_mut();
            p.push(text);
            p.len() == 1
        });
        if first {
            crate::web::next_task(flush);
        }
    }

    /// Every pending line to the console now (a panic calls it before its
    /// own report).
    pub fn flush() {
        // (never panics: a panic may have interrupted the push)
        let lines = PENDING
            .try_with(|p| {
                p.try_borrow_mut()
                    .map(|mut p| std::mem::take(&mut *p))
                    .unwrap_or_default()
            })
            .unwrap_or_default();
        for text in lines {
            console_log(&text);
        }
    }

    /// Send the log to the console (at start-up).
    pub fn init() {
        crate::log::set_sink(to_console, max_level(asked_level().as_deref()));
    }
}

#[cfg(target_arch = "wasm32")]
pub use browser::{flush, init};

#[cfg(test)]
mod tests {
    use super::*;

    /// The lines are those `tracing-wasm` wrote (`{level} {file}:{line}{""}
    /// {message}`).
    #[test]
    fn lines_are_those_of_tracing_wasm() {
        assert_eq!(
            line(
                Level::Debug,
                "src/web/driver.rs",
                9,
                format_args!("SIP >>> sent\n{}", "REGISTER sip:x SIP/2.0")
            ),
            "DEBUG src/web/driver.rs:9  SIP >>> sent\nREGISTER sip:x SIP/2.0"
        );
        assert_eq!(
            line(Level::Warn, "a.rs", 1, format_args!("call {} failed", 7)),
            "WARN a.rs:1  call 7 failed"
        );
        assert_eq!(
            line(Level::Error, "a.rs", 2, format_args!("")),
            "ERROR a.rs:2 "
        );
    }

    #[test]
    fn info_unless_the_page_asks_for_more_or_less() {
        assert_eq!(max_level(None), Level::Info);
        assert_eq!(max_level(Some("")), Level::Info);
        assert_eq!(max_level(Some("nonsense")), Level::Info);
        assert_eq!(max_level(Some(" Debug ")), Level::Debug);
        assert_eq!(max_level(Some("trace")), Level::Debug);
        assert_eq!(max_level(Some("warn")), Level::Warn);
        assert_eq!(max_level(Some("error")), Level::Error);
        // debug lets SIP messages through, info does not
        assert!(Level::Debug <= max_level(Some("debug")));
        assert!(Level::Debug > max_level(None));
    }
}
