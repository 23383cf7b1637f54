//! `tracing` events to the browser console (panics: [`super::panic`]).
//!
//! A small [`Subscriber`] of our own instead of `tracing-wasm` (which
//! brings `tracing-subscriber`'s span registry, unused here: the phone
//! records events, not spans). The console lines are the same as
//! `tracing-wasm`'s without colours: `LEVEL file:line  message` and any
//! other fields as ` name = value;`, one a line.
//!
//! The line is built by the pure [`line`], which is unit-tested natively
//! (`lib.rs` compiles this file for native tests; the console part only
//! exists on wasm32).

use std::fmt::{self, Write};
use tracing::field::{Field, Visit};
use tracing::Level;

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
        "debug" | "trace" => Level::DEBUG,
        "warn" => Level::WARN,
        "error" => Level::ERROR,
        _ => Level::INFO,
    }
}

/// An event's fields as text: the message first, then the other fields.
#[derive(Default)]
struct Fields {
    text: String,
    more: bool,
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            self.text = if self.text.is_empty() {
                format!("{value:?}")
            } else {
                format!("{value:?}\n{}", self.text)
            };
        } else {
            self.text.push_str(if self.more { "\n" } else { " " });
            self.more = true;
            let _ = write!(self.text, "{} = {value:?};", field.name());
        }
    }
}

/// The console line of an event: level, origin, then the fields.
pub fn line(
    level: &Level,
    file: Option<&str>,
    line_no: Option<u32>,
    fields: &dyn Fn(&mut dyn Visit),
) -> String {
    let mut f = Fields::default();
    fields(&mut f);
    let origin = match (file, line_no) {
        (Some(file), Some(n)) => format!("{file}:{n}"),
        _ => String::new(),
    };
    if f.text.is_empty() {
        format!("{level} {origin} ")
    } else {
        format!("{level} {origin}  {}", f.text)
    }
}

#[cfg(target_arch = "wasm32")]
mod browser {
    use super::{line, max_level};
    use std::sync::Once;
    use tracing::level_filters::LevelFilter;
    use tracing::span::{Attributes, Id, Record};
    use tracing::subscriber::Interest;
    use tracing::{Event, Level, Metadata, Subscriber};
    use wasm_bindgen::prelude::wasm_bindgen;

    #[wasm_bindgen]
    extern "C" {
        #[wasm_bindgen(js_namespace = console, js_name = log)]
        fn console_log(line: &str);
    }

    static INIT: Once = Once::new();

    /// Writes every event up to `max` to the console; spans are accepted
    /// and ignored.
    struct Console {
        max: Level,
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

    impl Subscriber for Console {
        fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
            if self.enabled(metadata) {
                Interest::always()
            } else {
                Interest::never()
            }
        }
        fn enabled(&self, metadata: &Metadata<'_>) -> bool {
            *metadata.level() <= self.max
        }
        fn max_level_hint(&self) -> Option<LevelFilter> {
            Some(LevelFilter::from_level(self.max))
        }
        fn new_span(&self, _: &Attributes<'_>) -> Id {
            Id::from_u64(1)
        }
        fn record(&self, _: &Id, _: &Record<'_>) {}
        fn record_follows_from(&self, _: &Id, _: &Id) {}
        fn event(&self, event: &Event<'_>) {
            let meta = event.metadata();
            console_log(&line(meta.level(), meta.file(), meta.line(), &|v| {
                event.record(v)
            }));
        }
        fn enter(&self, _: &Id) {}
        fn exit(&self, _: &Id) {}
    }

    /// Install the console subscriber (once; at start-up).
    pub fn init() {
        INIT.call_once(|| {
            let max = max_level(asked_level().as_deref());
            let _ = tracing::subscriber::set_global_default(Console { max });
        });
    }
}

#[cfg(target_arch = "wasm32")]
pub use browser::init;

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use tracing::span::{Attributes, Id, Record};
    use tracing::{Event, Metadata, Subscriber};

    /// Keeps the lines [`line`] makes of the events.
    struct Lines(Mutex<Vec<String>>);

    impl Subscriber for Lines {
        fn enabled(&self, _: &Metadata<'_>) -> bool {
            true
        }
        fn new_span(&self, _: &Attributes<'_>) -> Id {
            Id::from_u64(1)
        }
        fn record(&self, _: &Id, _: &Record<'_>) {}
        fn record_follows_from(&self, _: &Id, _: &Id) {}
        fn event(&self, event: &Event<'_>) {
            let meta = event.metadata();
            let l = line(meta.level(), meta.file(), meta.line(), &|v| event.record(v));
            self.0.lock().unwrap().push(l);
        }
        fn enter(&self, _: &Id) {}
        fn exit(&self, _: &Id) {}
    }

    /// The lines are those `tracing-wasm` wrote (`{level} {file}:{line}{""}
    /// {fields}`, the fields with a leading space, the message first).
    #[test]
    fn lines_are_those_of_tracing_wasm() {
        let sub = std::sync::Arc::new(Lines(Mutex::new(Vec::new())));
        let here = line!();
        tracing::subscriber::with_default(sub.clone(), || {
            tracing::debug!("SIP >>> sent\n{}", "REGISTER sip:x SIP/2.0");
            tracing::warn!(code = 404, reason = "Not Found", "call {} failed", 7);
            tracing::info!(who = "pat");
            tracing::error!("");
        });
        let file = file!();
        let lines = sub.0.lock().unwrap().clone();
        assert_eq!(
            lines,
            vec![
                format!(
                    "DEBUG {file}:{}  SIP >>> sent\nREGISTER sip:x SIP/2.0",
                    here + 2
                ),
                format!(
                    "WARN {file}:{}  call 7 failed code = 404;\nreason = \"Not Found\";",
                    here + 3
                ),
                format!("INFO {file}:{}   who = \"pat\";", here + 4),
                format!("ERROR {file}:{} ", here + 5),
            ]
        );
    }

    #[test]
    fn info_unless_the_page_asks_for_more_or_less() {
        assert_eq!(max_level(None), Level::INFO);
        assert_eq!(max_level(Some("")), Level::INFO);
        assert_eq!(max_level(Some("nonsense")), Level::INFO);
        assert_eq!(max_level(Some(" Debug ")), Level::DEBUG);
        assert_eq!(max_level(Some("trace")), Level::DEBUG);
        assert_eq!(max_level(Some("warn")), Level::WARN);
        assert_eq!(max_level(Some("error")), Level::ERROR);
        // debug lets SIP messages through, info does not
        assert!(Level::DEBUG <= max_level(Some("debug")));
        assert!(Level::DEBUG > max_level(None));
    }
}
