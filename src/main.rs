#[cfg(target_arch = "wasm32")]
fn main() {
    if softphone::web::embed::is_embed_page() {
        // loaded by sip-phone.js: the host page mounts the phone itself
        softphone::ui::init_runtime();
    } else {
        softphone::ui::start();
    }
}

/// The embedding API (docs/embedding.md), called by `sip-phone.js`; the
/// work is in `softphone::web::embed`.
#[cfg(target_arch = "wasm32")]
mod embed_exports {
    use softphone::web::embed;
    use wasm_bindgen::prelude::*;

    /// Mount the phone into `container`; `config` is name, value, name,
    /// value, …; events are dispatched on `events`. Returns warnings.
    #[wasm_bindgen]
    pub fn embed_mount(
        container: web_sys::HtmlElement,
        events: web_sys::EventTarget,
        config: Vec<String>,
    ) -> Result<Vec<String>, JsValue> {
        embed::mount(container, events, config, softphone::ui::mount_embedded)
    }

    softphone::embed_exports!();
}

/// Debug builds only (`trunk build` without `--release`): panic on purpose,
/// so that the end-to-end test (tests/e2e/security.mjs) can check the panic
/// banner. Called from the page as `window.wasmBindings.__softphone_test_panic()`.
/// A release build has no such export: there is no way to crash it on purpose.
#[cfg(all(target_arch = "wasm32", debug_assertions))]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn __softphone_test_panic(message: String) {
    panic!("test panic asked by the page: {message}");
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("the softphone runs in a browser: build it with `trunk build` (see README.md)");
}
