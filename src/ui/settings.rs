//! The account settings form: saves the settings and signs in.
//!
//! The form collects text and checks it with [`crate::app::settings::prepare`]
//! before handing it to the driver (which prepares it again for its own
//! use): settings that cannot be used (a `ws://` address to a remote host
//! without the checkbox, a bad ICE server line, …) go nowhere, not even to
//! storage, and the reason is shown.

use super::state::PhoneState;
use crate::app::phone::Action;
use crate::app::settings::{prepare, DtmfSetting, RecordPolicy};
use crate::app::view::Notice;
use crate::web::{driver, media, storage, storage::Settings};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::time::Duration;

#[component]
pub fn SettingsForm(state: PhoneState, initial: Settings) -> impl IntoView {
    let ws_url = RwSignal::new(initial.ws_url);
    let sip_uri = RwSignal::new(initial.sip_uri);
    let auth_user = RwSignal::new(initial.auth_user);
    let password = RwSignal::new(initial.password);
    let display_name = RwSignal::new(initial.display_name);
    let allow_insecure = RwSignal::new(initial.allow_insecure_ws);
    let ice_servers = RwSignal::new(initial.ice_servers);
    let relay_only = RwSignal::new(initial.relay_only);
    let ice_timeout = RwSignal::new(match initial.ice_gather_timeout_ms {
        0 => String::new(),
        ms => ms.to_string(),
    });
    let dtmf_method = RwSignal::new(initial.dtmf_method);
    let auto_answer = RwSignal::new(initial.auto_answer);
    let record_calls = RwSignal::new(initial.record_calls);
    let ring_volume = RwSignal::new(initial.ring_volume.min(100));
    let mic_device = RwSignal::new(initial.mic_device);
    let speaker_device = RwSignal::new(initial.speaker_device);
    let camera_device = RwSignal::new(initial.camera_device);
    let echo_cancel = RwSignal::new(initial.echo_cancellation);
    let noise_suppress = RwSignal::new(initial.noise_suppression);
    let auto_gain = RwSignal::new(initial.auto_gain);
    let audio_codecs = RwSignal::new(initial.audio_codecs);
    let video_codecs = RwSignal::new(initial.video_codecs);
    // the audio devices (labelled once the microphone is allowed)
    let devices = RwSignal::new(Vec::<media::Device>::new());
    spawn_local(async move {
        let found = media::devices().await;
        // the form may be gone by now
        let _ = devices.try_set(found);
    });
    // the microphone level, live while the form is open (a preview stream
    // of the chosen microphone when no call has one open)
    // only once signed in: a first visit is not greeted by a microphone prompt
    let preview_alive = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    if state.reg.with_untracked(|r| r.data_state() == "registered") {
        let alive = preview_alive.clone();
        spawn_local(async move {
            let started = media::start_level_preview().await;
            if !alive.load(std::sync::atomic::Ordering::Relaxed) {
                // the form closed while the microphone was opening
                media::stop_level_preview();
            } else if let Err(e) = started {
                crate::log::info!("no microphone level preview: {e}");
            }
        });
    }
    on_cleanup(move || {
        preview_alive.store(false, std::sync::atomic::Ordering::Relaxed);
        media::stop_level_preview();
    });
    let level = RwSignal::new(0.0f32);
    if let Ok(handle) = set_interval_with_handle(
        move || {
            let _ = level.try_set(media::mic_level().clamp(0.0, 1.0));
        },
        Duration::from_millis(100),
    ) {
        on_cleanup(move || handle.clear());
    }
    // the error shown next to the button takes the focus when it appears
    let error_ref = NodeRef::<leptos::html::P>::new();
    Effect::new(move |shown: Option<Option<String>>| {
        let now = state.error.get().filter(|e| !e.is_empty());
        if now.is_some() && now != shown.flatten() {
            if let Some(p) = error_ref.get() {
                let _ = p.focus();
            }
        }
        now
    });
    // open the advanced part when it holds something
    let advanced_open = !ice_servers.get_untracked().trim().is_empty()
        || !ice_timeout.get_untracked().is_empty()
        || relay_only.get_untracked();
    // everything beyond the account, open when something there is set
    let more_open = advanced_open
        || allow_insecure.get_untracked()
        || !audio_codecs.get_untracked().trim().is_empty()
        || !video_codecs.get_untracked().trim().is_empty();
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
                driver::dispatch(Action::ShowError(Notice::Text(msg)));
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
            relay_only: relay_only.get_untracked(),
            ice_gather_timeout_ms,
            dtmf_method: dtmf_method.get_untracked(),
            audio_codecs: audio_codecs.get_untracked(),
            video_codecs: video_codecs.get_untracked(),
            auto_answer: auto_answer.get_untracked(),
            dnd: state.dnd.get_untracked(),
            ring_volume: ring_volume.get_untracked().min(100),
            mic_device: mic_device.get_untracked(),
            speaker_device: speaker_device.get_untracked(),
            camera_device: camera_device.get_untracked(),
            echo_cancellation: echo_cancel.get_untracked(),
            noise_suppression: noise_suppress.get_untracked(),
            auto_gain: auto_gain.get_untracked(),
            record_calls: record_calls.get_untracked(),
        };
        if let Err(msg) = prepare(&settings, &storage::instance_id()) {
            // the account in use (if any) stays as it is
            crate::log::info!("settings refused: {msg}");
            driver::dispatch(Action::ShowError(Notice::Text(msg)));
            return;
        }
        driver::dispatch(Action::SignIn(Box::new(settings)));
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
                {if crate::web::embed::is_embed_page() {
                    "Enter the details your phone provider gave you. They are kept only while \
                     this page is open (never stored)."
                } else {
                    "Enter the details your phone provider gave you. They are kept in this \
                     browser only; each tab can use its own account."
                }}
            </p>
            <Field
                id="ws-url"
                label="Server (WebSocket)"
                kind="text"
                placeholder="e.g. wss://sip.example.org"
                hint="More than one? Separate them with spaces: they are tried in order."
                value=ws_url
            />
            <Field id="sip-uri" label="SIP address" kind="text" placeholder="e.g. sip:1000@pbx.example.org" hint="" value=sip_uri />
            <Field id="auth-user" label="User name" kind="text" placeholder="Optional: 1000" hint="" value=auth_user />
            <Field id="password" label="Password" kind="password" placeholder="Password" hint="" value=password />
            <Field id="display-name" label="Your name" kind="text" placeholder="Optional: shown to people you call" hint="" value=display_name />
            <div class="actions">
                <button id="save-register" type="submit" class="primary">
                    {move || if busy() { "Signing in…" } else { "Save and sign in" }}
                </button>
            </div>
            // the error of the last try, next to the button (and focused):
            // the banner at the top is out of sight on a small screen
            <p
                id="settings-error"
                class="form-error"
                tabindex="-1"
                node_ref=error_ref
                hidden=move || state.error.with(|e| e.as_ref().is_none_or(|t| t.is_empty()))
            >
                {move || state.error.get().unwrap_or_default()}
            </p>
            <details id="more-settings" class="more-settings" open=more_open>
                <summary>"More settings"</summary>
                <Check id="allow-insecure" label="Allow unencrypted ws:// to a remote server" value=allow_insecure />
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
                    <Check
                        id="relay-only"
                        label="Only through a TURN relay (hides your address; needs a TURN server above)"
                        value=relay_only
                    />
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
                    <ProtocolHandlers />
                </details>
                <fieldset class="prefs">
                    <legend>"Phone"</legend>
                    <label class="field" for="dtmf-method">
                        <span class="label">"Send keypad tones (DTMF) as"</span>
                        <select
                            id="dtmf-method"
                            name="dtmf-method"
                            prop:value=move || dtmf_method.get().as_str()
                            on:change=move |ev| dtmf_method.set(DtmfSetting::from_value(&event_target_value(&ev)))
                        >
                            <option value="rfc4733" selected=move || dtmf_method.get() == DtmfSetting::Rfc4733>
                                "Audio tones (RFC 4733)"
                            </option>
                            <option value="info" selected=move || dtmf_method.get() == DtmfSetting::Info>
                                "SIP INFO messages"
                            </option>
                        </select>
                    </label>
                    <label class="field" for="record-policy">
                        <span class="label">"Record calls (kept in this browser only)"</span>
                        <select
                            id="record-policy"
                            name="record-policy"
                            on:change=move |ev| record_calls.set(RecordPolicy::from_value(&event_target_value(&ev)))
                        >
                            {[
                                (RecordPolicy::Never, "Never"),
                                (RecordPolicy::Ask, "When I press Record"),
                                (RecordPolicy::Always, "Every call, from the answer"),
                            ]
                                .into_iter()
                                .map(|(p, label)| {
                                    view! {
                                        <option value=p.as_str() selected=move || record_calls.get() == p>
                                            {label}
                                        </option>
                                    }
                                })
                                .collect_view()}
                        </select>
                    </label>
                    <Check
                        id="auto-answer"
                        label="Answer calls automatically (when no other call is up)"
                        value=auto_answer
                    />
                    <label class="field" for="ring-volume">
                        <span class="label">
                            "Ring volume: " {move || ring_volume.get().to_string()} " %"
                        </span>
                        <input
                            id="ring-volume"
                            name="ring-volume"
                            type="range"
                            min="0"
                            max="100"
                            step="5"
                            prop:value=move || ring_volume.get().to_string()
                            on:input=move |ev| {
                                let v = event_target_value(&ev).parse::<u8>().unwrap_or(0).min(100);
                                ring_volume.set(v);
                            }
                        />
                    </label>
                </fieldset>
                <fieldset class="prefs">
                    <legend>"Audio and video"</legend>
                    <DeviceSelect id="mic-select" label="Microphone" kind=media::DeviceKind::Microphone devices=devices value=mic_device />
                    <label class="field" for="mic-level">
                        <span class="label">"Microphone level"</span>
                        <meter
                            id="mic-level"
                            min="0"
                            max="1"
                            low="0.05"
                            high="0.85"
                            optimum="0.5"
                            prop:value=move || f64::from(level.get())
                        ></meter>
                    </label>
                    <DeviceSelect id="speaker-select" label="Speaker" kind=media::DeviceKind::Speaker devices=devices value=speaker_device />
                    <DeviceSelect id="camera-select" label="Camera" kind=media::DeviceKind::Camera devices=devices value=camera_device />
                    <Check id="echo-cancel" label="Echo cancellation" value=echo_cancel />
                    <Check id="noise-suppress" label="Noise suppression" value=noise_suppress />
                    <Check id="auto-gain" label="Automatic microphone volume" value=auto_gain />
                    <Field
                        id="audio-codecs"
                        label="Audio codecs, most wanted first"
                        kind="text"
                        placeholder="Empty: the browser's choice (opus first)"
                        hint="opus, G722, PCMU, PCMA: only these are used. \"PCMU PCMA\" suits old gateways."
                        value=audio_codecs
                    />
                    <Field
                        id="video-codecs"
                        label="Video codecs, most wanted first"
                        kind="text"
                        placeholder="Empty: the browser's choice (VP8 first)"
                        hint="VP8, VP9, H264, AV1: only these are used, in this order."
                        value=video_codecs
                    />
                </fieldset>
            </details>
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
fn Check(id: &'static str, label: &'static str, value: RwSignal<bool>) -> impl IntoView {
    view! {
        <label class="check" for=id>
            <input
                id=id
                name=id
                type="checkbox"
                prop:checked=move || value.get()
                on:change=move |ev| value.set(event_target_checked(&ev))
            />
            <span>{label}</span>
        </label>
    }
}

/// A microphone or speaker choice; "" is the browser's default. A saved
/// device that is not (or not yet) listed stays selected as "Saved device".
#[component]
fn DeviceSelect(
    id: &'static str,
    label: &'static str,
    kind: media::DeviceKind,
    devices: RwSignal<Vec<media::Device>>,
    value: RwSignal<String>,
) -> impl IntoView {
    let options = move || {
        let chosen = value.get();
        let mut list: Vec<(String, String)> = devices.with(|d| {
            d.iter()
                .filter(|d| d.kind == kind && !d.id.is_empty() && d.id != "default")
                .enumerate()
                .map(|(i, d)| {
                    let name = if d.label.trim().is_empty() {
                        format!("{label} {}", i + 1)
                    } else {
                        d.label.clone()
                    };
                    (d.id.clone(), name)
                })
                .collect()
        });
        if !chosen.is_empty() && !list.iter().any(|(id, _)| *id == chosen) {
            list.push((chosen.clone(), "Saved device (not connected now)".into()));
        }
        list.into_iter()
            .map(|(dev, name)| {
                let selected = dev == chosen;
                view! { <option value=dev selected=selected>{name}</option> }
            })
            .collect_view()
    };
    view! {
        <label class="field" for=id>
            <span class="label">{label}</span>
            <select
                id=id
                name=id
                prop:value=move || value.get()
                on:change=move |ev| value.set(event_target_value(&ev))
            >
                <option value="" selected=move || value.get().is_empty()>"Browser default"</option>
                {options}
            </select>
        </label>
    }
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

/// "Open sip: and tel: links here": asks the browser to hand such links to
/// this app (`/?call=%s`). Not in an embedded phone (the host page's links
/// go to it through `click-to-call`).
#[component]
fn ProtocolHandlers() -> impl IntoView {
    if crate::web::embed::is_embed_page() {
        return None;
    }
    let on_click = move |_| match crate::web::embed::register_protocol_handlers() {
        Ok(()) => driver::dispatch(Action::ShowNotice(Notice::Text(
            "sip: and tel: links now open this phone (if the browser agreed).".into(),
        ))),
        Err(msg) => driver::dispatch(Action::ShowError(Notice::Text(msg))),
    };
    Some(view! {
        <div class="field">
            <button id="protocol-handler" type="button" class="ghost" on:click=on_click>
                "Open sip: and tel: links with this phone"
            </button>
        </div>
    })
}
