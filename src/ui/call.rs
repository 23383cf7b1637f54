//! The incoming-call panel and the in-call panel.

use super::state::{CallPhase, PhoneState};
use crate::web::driver;
use leptos::prelude::*;
use std::time::Duration;

#[component]
pub fn IncomingPanel(state: PhoneState) -> impl IntoView {
    let incoming = move || {
        state
            .call
            .with(|c| c.as_ref().is_some_and(|c| c.phase == CallPhase::Incoming))
    };
    let name = move || {
        state
            .call
            .with(|c| c.as_ref().map(|c| c.peer_label.clone()))
    };
    let number = move || {
        state.call.with(|c| {
            c.as_ref()
                .filter(|c| c.peer_number != c.peer_label && !c.peer_number.is_empty())
                .map(|c| c.peer_number.clone())
        })
    };
    view! {
        <Show when=incoming>
            <section id="incoming" class="card call-panel incoming" aria-label="Incoming call">
                <p class="call-kind">"Incoming call"</p>
                <p id="incoming-from" class="peer">
                    <span class="peer-name">{name}</span>
                    {move || number().map(|n| view! { " " <span class="peer-number">{n}</span> })}
                </p>
                <div class="call-actions">
                    <button
                        id="decline-button"
                        type="button"
                        class="round hangup"
                        on:click=move |_| driver::hangup()
                    >
                        "Decline"
                    </button>
                    <button
                        id="answer-button"
                        type="button"
                        class="round answer"
                        on:click=move |_| driver::answer()
                    >
                        "Answer"
                    </button>
                </div>
            </section>
        </Show>
    }
}

#[component]
pub fn InCallPanel(state: PhoneState) -> impl IntoView {
    let shown = move || {
        state
            .call
            .with(|c| c.as_ref().is_some_and(|c| c.phase != CallPhase::Incoming))
    };
    view! {
        <Show when=shown>
            <InCall state=state />
        </Show>
    }
}

#[component]
fn InCall(state: PhoneState) -> impl IntoView {
    // a clock for the call timer, ticking while this panel is shown
    let now = RwSignal::new(js_sys::Date::now());
    if let Ok(handle) = set_interval_with_handle(
        move || now.set(js_sys::Date::now()),
        Duration::from_millis(250),
    ) {
        on_cleanup(move || handle.clear());
    }
    let peer = move || {
        state
            .call
            .with(|c| c.as_ref().map(|c| c.peer_label.clone()).unwrap_or_default())
    };
    let number = move || {
        state.call.with(|c| {
            c.as_ref()
                .filter(|c| c.peer_number != c.peer_label && !c.peer_number.is_empty())
                .map(|c| c.peer_number.clone())
        })
    };
    let status = move || {
        state
            .call
            .with(|c| c.as_ref().map(|c| c.status_text()).unwrap_or(""))
    };
    let active = move || {
        state
            .call
            .with(|c| c.as_ref().is_some_and(|c| c.phase == CallPhase::Active))
    };
    let timer = move || {
        let since = state.call.with(|c| c.as_ref().and_then(|c| c.active_since));
        let secs = since
            .map(|s| ((now.get() - s) / 1000.0).max(0.0) as u64)
            .unwrap_or(0);
        format!("{:02}:{:02}", secs / 60, secs % 60)
    };
    let hangup_label = move || if active() { "Hang up" } else { "Cancel" };
    let remote_hold = move || {
        state
            .call
            .with(|c| c.as_ref().is_some_and(|c| c.remote_hold))
    };
    let link_down = move || state.call.with(|c| c.as_ref().is_some_and(|c| c.link_down));
    view! {
        <section id="in-call" class="card call-panel in-call" aria-label="Call">
            <p class="call-kind" class:live=active>{status}</p>
            <p id="call-peer" class="peer">
                <span class="peer-name">{peer}</span>
                {move || number().map(|n| view! { " " <span class="peer-number">{n}</span> })}
            </p>
            <p id="call-timer" class="timer" class:running=active aria-label="Call duration">
                {timer}
            </p>
            <Show when=remote_hold>
                <p id="call-remote-hold" class="call-flag hold" role="status">
                    "On hold by the other party"
                </p>
            </Show>
            <Show when=link_down>
                <p id="call-link" class="call-flag link" role="status">
                    "Connection lost: reconnecting… the call goes on"
                </p>
            </Show>
            <div class="call-actions">
                <button
                    id="hangup-button"
                    type="button"
                    class="round hangup"
                    on:click=move |_| driver::hangup()
                >
                    {hangup_label}
                </button>
            </div>
        </section>
    }
}
