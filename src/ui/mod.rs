//! The Leptos UI. Components render [`state::PhoneState`] and send commands
//! through [`crate::web::driver`]; they hold no SIP logic.
//!
//! DOM contract (used by the end-to-end tests): `#phone[data-phone]`,
//! `#reg-status[data-state]`, `#error`, `#notice`, `#settings-form` and its
//! inputs, `#open-settings`, `#dial-input`, `#call-button`, `#incoming`,
//! `#incoming-from`, `#answer-button`, `#decline-button`, `#in-call`,
//! `#call-peer`, `#call-timer`, `#call-remote-hold`, `#call-link`,
//! `#hangup-button`; the settings form's `#allow-insecure`, `#advanced`,
//! `#ice-servers`, `#ice-timeout`; `#fatal` (the panic banner, outside
//! `#phone`).

pub mod call;
pub mod dialpad;
pub mod lines;
pub mod settings;
pub mod state;
pub mod status;

use crate::web::{driver, logging, panic, storage};
use leptos::prelude::*;
use state::PhoneState;

/// Entry point (called by `main`): panic banner, logging, driver, UI.
pub fn start() {
    panic::install();
    logging::init();
    tracing::info!("softphone {} starting", env!("CARGO_PKG_VERSION"));
    let settings = storage::load();
    // a reload of a tab that had signed in signs in again
    let resume = storage::has_session_settings() && !settings.sip_uri.is_empty();
    leptos::mount::mount_to_body(move || {
        let state = PhoneState::new(!resume);
        driver::init(state);
        if resume {
            driver::register(settings.clone());
        }
        view! { <App state=state /> }
    });
}

#[component]
fn App(state: PhoneState) -> impl IntoView {
    let in_call = move || state.call.with(|c| c.is_some());
    view! {
        <main id="phone" class="phone" data-phone=move || state.data_phone()>
            <status::Header state=state />
            <status::Messages state=state />
            <Show when=move || state.settings_open.get()>
                // the settings as last saved, each time the form opens
                <settings::SettingsForm state=state initial=storage::load() />
            </Show>
            <lines::Lines state=state />
            <call::IncomingPanel state=state />
            <call::InCallPanel state=state />
            <Show when=move || !in_call()>
                <dialpad::Dialpad />
            </Show>
            <footer class="foot">"SIP over WebSocket · audio by WebRTC"</footer>
        </main>
    }
}
