//! The library build (issue 15): the phone without its UI, for host pages
//! that draw their own (`SipPhone.createAgent(config)`, docs/embedding.md).
//! The same phone model, browser edges, commands and events as the
//! embedded phone; no Leptos.

#[cfg(target_arch = "wasm32")]
fn main() {
    softphone::web::init_runtime();
}

#[cfg(target_arch = "wasm32")]
mod agent_exports {
    use wasm_bindgen::prelude::*;

    /// Start the phone; `config` is name, value, name, value, …; events are
    /// dispatched on `events`. Returns the configuration warnings.
    #[wasm_bindgen]
    pub fn agent_start(
        events: web_sys::EventTarget,
        config: Vec<String>,
    ) -> Result<Vec<String>, JsValue> {
        softphone::web::embed::start_agent(events, config)
    }

    softphone::embed_exports!();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("the library build runs in a browser: see docs/embedding.md");
}
