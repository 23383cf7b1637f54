//! The header (title, registration status, settings button) and the
//! message lines (error banner, notice).

use super::state::PhoneState;
use leptos::prelude::*;

#[component]
pub fn Header(state: PhoneState) -> impl IntoView {
    let reg = state.reg;
    view! {
        <header class="top">
            <div class="brand">
                <span class="logo" aria-hidden="true">"☎"</span>
                <h1>"Softphone"</h1>
            </div>
            <button
                id="open-settings"
                type="button"
                class="ghost"
                aria-expanded=move || state.settings_open.get().to_string()
                on:click=move |_| state.settings_open.update(|o| *o = !*o)
            >
                {move || if state.settings_open.get() { "Hide account" } else { "Account" }}
            </button>
        </header>
        <div
            id="reg-status"
            class="reg"
            data-state=move || reg.with(|r| r.data_state())
            role="status"
            aria-live="polite"
        >
            <span class="dot" aria-hidden="true"></span>
            <span class="reg-text">{move || reg.with(|r| r.text())}</span>
        </div>
    }
}

#[component]
pub fn Messages(state: PhoneState) -> impl IntoView {
    view! {
        <Show when=move || state.error.with(|e| e.as_ref().is_some_and(|t| !t.is_empty()))>
            <div class="banner error">
                <p id="error" class="banner-text" role="alert">
                    {move || state.error.get().unwrap_or_default()}
                </p>
                <button
                    type="button"
                    class="dismiss"
                    aria-label="Dismiss"
                    title="Dismiss"
                    on:click=move |_| state.error.set(None)
                >
                    "×"
                </button>
            </div>
        </Show>
        <p id="notice" class="notice" aria-live="polite">
            {move || state.notice.get().unwrap_or_default()}
        </p>
    }
}
