//! What happens when the program panics: the message goes to the console
//! (`console_error_panic_hook`, with its stack trace) and a fixed banner
//! (`#fatal`, `role="alert"`) tells the user that the phone stopped.
//!
//! The banner is made with plain DOM calls, not Leptos: after a panic the
//! reactive system may be in any state. The panic message is set as text
//! (`textContent`), never as HTML.
//!
//! The text is built by the pure [`banner_detail`], which is unit-tested
//! natively (`lib.rs` compiles this file for native tests; the DOM part
//! only exists on wasm32). A debug build (`trunk build`, not `--release`)
//! also exports `__softphone_test_panic` from `main.rs` so the end-to-end
//! test can see the banner; a release build has no such export.

/// The banner's first line.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))] // used by the DOM part
pub const BANNER_TEXT: &str =
    "The phone stopped because of an internal error. Reload the page to start it again.";

/// Longest panic message shown on the page (the console has all of it).
const DETAIL_MAX_CHARS: usize = 600;

/// The panic message as shown under [`BANNER_TEXT`]: trimmed, at most
/// [`DETAIL_MAX_CHARS`] characters (cut on a character boundary, with "…").
pub fn banner_detail(panic_message: &str) -> String {
    let text = panic_message.trim();
    if text.is_empty() {
        return "(no details)".to_string();
    }
    match text.char_indices().nth(DETAIL_MAX_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

#[cfg(target_arch = "wasm32")]
mod browser {
    use super::{banner_detail, BANNER_TEXT};
    use std::sync::Once;

    static INSTALL: Once = Once::new();

    thread_local! {
        /// Where the banner goes instead of the page's body: the embedded
        /// phone's own box (the host page is not ours to cover).
        static PARENT: std::cell::RefCell<Option<web_sys::Element>> =
            const { std::cell::RefCell::new(None) };
    }

    /// Put the banner into `parent` (the embedded phone), or back into the
    /// page's body (`None`).
    pub fn set_banner_parent(parent: Option<web_sys::Element>) {
        PARENT.with(|p| *p.borrow_mut() = parent);
    }

    /// Install the panic hook (once; first thing at start-up).
    pub fn install() {
        INSTALL.call_once(|| {
            std::panic::set_hook(Box::new(|info| {
                crate::web::logging::flush();
                console_error_panic_hook::hook(info);
                let detail = banner_detail(&info.to_string());
                show_banner(&detail);
                crate::web::embed::on_panic(&detail);
            }));
        });
    }

    /// Add `#fatal` to the page, or add one more detail line to it. Every
    /// step may fail (no document, …): then there is just the console.
    fn show_banner(detail: &str) {
        let Some(document) = web_sys::window().and_then(|w| w.document()) else {
            return;
        };
        let parent = PARENT
            .try_with(|p| p.try_borrow().ok().and_then(|p| p.clone()))
            .ok()
            .flatten();
        let existing = match &parent {
            Some(p) => p.query_selector(".fatal").ok().flatten(),
            None => document.get_element_by_id("fatal"),
        };
        let banner = match existing {
            Some(b) => b,
            None => {
                let Ok(b) = document.create_element("div") else {
                    return;
                };
                b.set_id("fatal");
                b.set_class_name("fatal");
                let _ = b.set_attribute("role", "alert");
                if let Ok(p) = document.create_element("p") {
                    p.set_class_name("fatal-text");
                    p.set_text_content(Some(BANNER_TEXT));
                    let _ = b.append_child(&p);
                }
                let Some(parent) = parent.or_else(|| document.body().map(Into::into)) else {
                    return;
                };
                let _ = parent.insert_before(&b, parent.first_child().as_ref());
                b
            }
        };
        if let Ok(p) = document.create_element("p") {
            p.set_class_name("fatal-detail");
            p.set_text_content(Some(detail));
            let _ = banner.append_child(&p);
        }
    }
}

#[cfg(target_arch = "wasm32")]
pub use browser::{install, set_banner_parent};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_messages_are_shown_whole() {
        assert_eq!(
            banner_detail("  panicked at src/x.rs:1:2:\nboom \n"),
            "panicked at src/x.rs:1:2:\nboom"
        );
        assert_eq!(banner_detail(""), "(no details)");
        assert_eq!(banner_detail(" \n "), "(no details)");
    }

    #[test]
    fn long_messages_are_cut_on_a_character_boundary() {
        let long = "é".repeat(DETAIL_MAX_CHARS + 10);
        let shown = banner_detail(&long);
        assert_eq!(shown.chars().count(), DETAIL_MAX_CHARS + 1);
        assert!(shown.ends_with("…"));
        assert!(shown.starts_with("éé"));
        let exact = "x".repeat(DETAIL_MAX_CHARS);
        assert_eq!(banner_detail(&exact), exact);
    }

    #[test]
    fn html_stays_text() {
        // the detail is set with textContent; it is passed on unchanged
        let html = "<img src=x onerror=alert(1)>";
        assert_eq!(banner_detail(html), html);
    }
}
