//! The width of the space the phone has (the page's body, or the
//! embedded phone's container), told to the phone whenever it changes: the
//! phone decides the layout ([`TabAction::Width`]).

use crate::app::phone::{Action, TabAction};
use crate::web::driver;
use std::cell::RefCell;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

struct Watch {
    observer: web_sys::ResizeObserver,
    _on_resize: Closure<dyn FnMut(js_sys::Array)>,
}

thread_local! {
    /// The one element watched (the page has one phone at a time).
    static WATCH: RefCell<Option<Watch>> = const { RefCell::new(None) };
}

/// Watch `space` (replacing the element watched before). The observer
/// reports the first width at once, then each change; an element taken
/// out of the page is no longer watched.
pub fn watch(space: &web_sys::Element) {
    stop();
    let el = space.clone();
    let mut last = None;
    let on_resize = Closure::<dyn FnMut(js_sys::Array)>::new(move |_entries| {
        if !el.is_connected() {
            stop();
            return;
        }
        let px = u32::try_from(el.client_width()).unwrap_or(0);
        if last != Some(px) {
            last = Some(px);
            driver::dispatch(Action::Tab(TabAction::Width(px)));
        }
    });
    let Ok(observer) = web_sys::ResizeObserver::new(on_resize.as_ref().unchecked_ref()) else {
        crate::log::warn!("no ResizeObserver: the phone keeps the narrow layout");
        return;
    };
    observer.observe(space);
    WATCH.with(|w| {
        *w.borrow_mut() = Some(Watch {
            observer,
            _on_resize: on_resize,
        })
    });
}

/// Stop watching (the closure stays until the next [`watch`]: it may be
/// the one running).
fn stop() {
    WATCH.with(|w| {
        if let Some(w) = w.borrow().as_ref() {
            w.observer.disconnect();
        }
    });
}
