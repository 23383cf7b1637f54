//! The account settings form: saves the settings and signs in.

use super::state::PhoneState;
use crate::web::{driver, storage::Settings};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;

#[component]
pub fn SettingsForm(state: PhoneState, initial: Settings) -> impl IntoView {
    let ws_url = RwSignal::new(initial.ws_url);
    let sip_uri = RwSignal::new(initial.sip_uri);
    let auth_user = RwSignal::new(initial.auth_user);
    let password = RwSignal::new(initial.password);
    let display_name = RwSignal::new(initial.display_name);
    let busy = move || {
        state
            .reg
            .with(|r| matches!(r.data_state(), "connecting" | "registering"))
    };

    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        driver::register(Settings {
            ws_url: ws_url.get_untracked(),
            sip_uri: sip_uri.get_untracked(),
            auth_user: auth_user.get_untracked(),
            password: password.get_untracked(),
            display_name: display_name.get_untracked(),
        });
    };

    view! {
        <form id="settings-form" class="card settings" on:submit=on_submit autocomplete="off">
            <h2>"Your account"</h2>
            <p class="hint">
                "Enter the details your phone provider gave you. They are kept in this browser only; "
                "each tab can use its own account."
            </p>
            <Field id="ws-url" label="Server (WebSocket)" kind="url" placeholder="ws://127.0.0.1:8088" value=ws_url />
            <Field id="sip-uri" label="SIP address" kind="text" placeholder="sip:1000@127.0.0.1" value=sip_uri />
            <Field id="auth-user" label="User name" kind="text" placeholder="Optional: 1000" value=auth_user />
            <Field id="password" label="Password" kind="password" placeholder="Password" value=password />
            <Field id="display-name" label="Your name" kind="text" placeholder="Optional: shown to people you call" value=display_name />
            <div class="actions">
                <button id="save-register" type="submit" class="primary">
                    {move || if busy() { "Signing in…" } else { "Save and sign in" }}
                </button>
            </div>
        </form>
    }
}

#[component]
fn Field(
    id: &'static str,
    label: &'static str,
    kind: &'static str,
    placeholder: &'static str,
    value: RwSignal<String>,
) -> impl IntoView {
    view! {
        <label class="field" for=id>
            <span class="label">{label}</span>
            <input
                id=id
                name=id
                type=kind
                placeholder=placeholder
                spellcheck="false"
                autocapitalize="off"
                autocomplete=if kind == "password" { "current-password" } else { "off" }
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
            />
        </label>
    }
}
