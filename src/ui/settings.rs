//! The account settings form: saves the settings and signs in.
//!
//! The form collects text and checks it with [`crate::settings::prepare`]
//! before handing it to the driver (which prepares it again for its own
//! use): settings that cannot be used (a `ws://` address to a remote host
//! without the checkbox, a bad ICE server line, …) go nowhere, not even to
//! storage, and the reason is shown.

use super::state::PhoneState;
use crate::settings::prepare;
use crate::web::{driver, storage, storage::Settings};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;

#[component]
pub fn SettingsForm(state: PhoneState, initial: Settings) -> impl IntoView {
    let ws_url = RwSignal::new(initial.ws_url);
    let sip_uri = RwSignal::new(initial.sip_uri);
    let auth_user = RwSignal::new(initial.auth_user);
    let password = RwSignal::new(initial.password);
    let display_name = RwSignal::new(initial.display_name);
    let allow_insecure = RwSignal::new(initial.allow_insecure_ws);
    let ice_servers = RwSignal::new(initial.ice_servers);
    let ice_timeout = RwSignal::new(match initial.ice_gather_timeout_ms {
        0 => String::new(),
        ms => ms.to_string(),
    });
    // open the advanced part when it holds something
    let advanced_open =
        !ice_servers.get_untracked().trim().is_empty() || !ice_timeout.get_untracked().is_empty();
    let busy = move || {
        state
            .reg
            .with(|r| matches!(r.data_state(), "connecting" | "registering"))
    };

    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let ice_gather_timeout_ms = match parse_timeout(&ice_timeout.get_untracked()) {
            Ok(ms) => ms,
            Err(msg) => {
                state.show_error(msg);
                return;
            }
        };
        let settings = Settings {
            ws_url: ws_url.get_untracked(),
            sip_uri: sip_uri.get_untracked(),
            auth_user: auth_user.get_untracked(),
            password: password.get_untracked(),
            display_name: display_name.get_untracked(),
            allow_insecure_ws: allow_insecure.get_untracked(),
            ice_servers: ice_servers.get_untracked(),
            ice_gather_timeout_ms,
        };
        if let Err(msg) = prepare(&settings, &storage::instance_id()) {
            // the account in use (if any) stays as it is
            tracing::info!("settings refused: {msg}");
            state.show_error(msg);
            return;
        }
        driver::register(settings);
    };

    view! {
        <form
            id="settings-form"
            class="card settings"
            on:submit=on_submit
            autocomplete="off"
            novalidate=true
        >
            <h2>"Your account"</h2>
            <p class="hint">
                "Enter the details your phone provider gave you. They are kept in this browser only; "
                "each tab can use its own account."
            </p>
            <Field
                id="ws-url"
                label="Server (WebSocket)"
                kind="text"
                placeholder="wss://sip.example.org"
                hint="Several addresses, separated by spaces or commas, are tried in order when one cannot be reached."
                value=ws_url
            />
            <label class="check" for="allow-insecure">
                <input
                    id="allow-insecure"
                    name="allow-insecure"
                    type="checkbox"
                    prop:checked=move || allow_insecure.get()
                    on:change=move |ev| allow_insecure.set(event_target_checked(&ev))
                />
                <span>"Allow unencrypted ws:// to a remote server"</span>
            </label>
            <Field id="sip-uri" label="SIP address" kind="text" placeholder="sip:1000@127.0.0.1" hint="" value=sip_uri />
            <Field id="auth-user" label="User name" kind="text" placeholder="Optional: 1000" hint="" value=auth_user />
            <Field id="password" label="Password" kind="password" placeholder="Password" hint="" value=password />
            <Field id="display-name" label="Your name" kind="text" placeholder="Optional: shown to people you call" hint="" value=display_name />
            <details id="advanced" class="advanced" open=advanced_open>
                <summary>"Advanced"</summary>
                <label class="field" for="ice-servers">
                    <span class="label">"ICE servers (STUN / TURN), one a line"</span>
                    <textarea
                        id="ice-servers"
                        name="ice-servers"
                        rows="3"
                        spellcheck="false"
                        autocapitalize="off"
                        placeholder="stun:stun.example.org:3478\nturn:turn.example.org:3478 user secret"
                        prop:value=move || ice_servers.get()
                        on:input=move |ev| ice_servers.set(event_target_value(&ev))
                    ></textarea>
                    <span class="hint small">
                        "stun:stun.example.org:3478 · turn:turn.example.org:3478 user secret · "
                        "lines starting with # are ignored. Without any, calls work only where "
                        "the phones can reach each other directly."
                    </span>
                </label>
                <label class="field" for="ice-timeout">
                    <span class="label">"Longest wait for network candidates (ms)"</span>
                    <input
                        id="ice-timeout"
                        name="ice-timeout"
                        type="number"
                        inputmode="numeric"
                        min="100"
                        max="10000"
                        step="100"
                        placeholder="1500"
                        prop:value=move || ice_timeout.get()
                        on:input=move |ev| ice_timeout.set(event_target_value(&ev))
                    />
                    <span class="hint small">"100 to 10000; empty means 1500."</span>
                </label>
            </details>
            <div class="actions">
                <button id="save-register" type="submit" class="primary">
                    {move || if busy() { "Signing in…" } else { "Save and sign in" }}
                </button>
            </div>
        </form>
    }
}

/// The ICE wait as typed: empty is 0 (the default), else whole milliseconds.
fn parse_timeout(text: &str) -> Result<u32, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(0);
    }
    text.parse::<u32>().map_err(|_| {
        format!(
            "The ICE gathering time must be a whole number of milliseconds between 100 and 10000 (it is \"{text}\")."
        )
    })
}

#[component]
fn Field(
    id: &'static str,
    label: &'static str,
    kind: &'static str,
    placeholder: &'static str,
    /// A line under the input; empty: none.
    hint: &'static str,
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
            {(!hint.is_empty()).then(|| view! { <span class="hint small">{hint}</span> })}
        </label>
    }
}
