//! The header (title, do not disturb, account button), the registration
//! line and the message lines (error banner, notice, announcements).

use super::state::{PhoneState, RegView};
use crate::app::phone::Action;
use crate::sip::Instant;
use leptos::prelude::*;
use std::time::Duration;

#[component]
pub fn Header(state: PhoneState) -> impl IntoView {
    view! {
        <header class="top">
            <div class="brand">
                <span class="logo" aria-hidden="true">"☎"</span>
                <h1>"Softphone"</h1>
            </div>
            <button
                id="dnd-toggle"
                type="button"
                class="ghost dnd"
                aria-pressed=move || state.dnd.get().to_string()
                title="Do not disturb: incoming calls are refused as busy"
                on:click=move |_| crate::web::driver::dispatch(Action::SetDnd(!state.dnd.get_untracked()))
            >
                {move || if state.dnd.get() { "Do not disturb: on" } else { "Do not disturb" }}
            </button>
            <button
                id="open-settings"
                type="button"
                class="ghost"
                aria-expanded=move || state.settings_open.get().to_string()
                on:click=move |_| crate::web::driver::dispatch(Action::ShowSettings(!state.settings_open.get_untracked()))
            >
                // one short label; aria-expanded (and its look) says open or closed
                "Account"

            </button>
        </header>
    }
}

/// The registration line (at the top of the phone's side).
#[component]
pub fn RegStatus(state: PhoneState) -> impl IntoView {
    let reg = state.reg;
    view! {
        <div
            id="reg-status"
            class="reg"
            data-state=move || reg.with(|r| r.data_state())
            role="status"
            aria-live="polite"
        >
            <span class="dot" aria-hidden="true"></span>
            <Show
                when=move || reg.with(|r| matches!(r, RegView::Reconnecting { .. }))
                fallback=move || view! { <span class="reg-text">{move || reg.with(|r| r.text())}</span> }
            >
                <Countdown reg=reg />
            </Show>
        </div>
    }
}

/// The registration text with a clock: shown only while reconnecting, so
/// the one-second timer lives exactly as long as the countdown is on screen
/// (cleared when the view changes).
#[component]
fn Countdown(reg: RwSignal<RegView>) -> impl IntoView {
    let now = RwSignal::new(Instant::now());
    if let Ok(handle) =
        set_interval_with_handle(move || now.set(Instant::now()), Duration::from_secs(1))
    {
        on_cleanup(move || handle.clear());
    }
    view! { <span class="reg-text">{move || reg.with(|r| r.text_at(now.get()))}</span> }
}

#[component]
pub fn Messages(state: PhoneState) -> impl IntoView {
    view! {
        <Show when=move || state.error.with(|e| e.as_ref().is_some_and(|t| !t.is_empty()))>
            <div class="banner error">
                <p id="error" class="banner-text" role="alert">
                    {move || state.error.get().unwrap_or_default()}
                </p>
                <Dismiss id="" label="Dismiss" action=Action::DismissError />
            </div>
        </Show>
        // a call ringing is said at once (assertive; the text changes only
        // when a call starts or stops ringing)
        <p id="announce" class="sr-only" aria-live="assertive" aria-atomic="true">
            {move || state.announcement()}
        </p>
        <div class="notice-row">
            <p id="notice" class="notice" aria-live="polite">
                {move || state.notice.get().unwrap_or_default()}
            </p>
            // a passing notice also goes by itself (app::phone::NOTICE_FADE)
            <Show when=move || state.notice.with(|n| n.as_ref().is_some_and(|t| !t.is_empty()))>
                <Dismiss id="notice-dismiss" label="Dismiss the notice" action=Action::DismissNotice />
            </Show>
        </div>
    }
}

/// The "×" that takes a banner or the notice down.
#[component]
fn Dismiss(id: &'static str, label: &'static str, action: Action) -> impl IntoView {
    view! {
        <button
            id=(!id.is_empty()).then_some(id)
            type="button"
            class="dismiss"
            aria-label=label
            title="Dismiss"
            on:click=move |_| crate::web::driver::dispatch(action.clone())
        >
            "×"
        </button>
    }
}
