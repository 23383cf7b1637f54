//! The call lines: every call in progress when there are two or more (one
//! active, the other held or waiting), each with its own answer, decline,
//! swap and hang-up buttons. `ul#lines` is always there (empty otherwise).

use super::state::{CallPhase, CallView, PhoneState};
use crate::app::phone::Action;
use crate::web::driver;
use leptos::prelude::*;

#[component]
pub fn Lines(state: PhoneState) -> impl IntoView {
    let shown = move || state.lines.with(|l| l.len() > 1);
    let items = move || {
        if !shown() {
            return Vec::new();
        }
        let focus = state.focus.get();
        let conference = state.conference.get();
        state.lines.with(|l| {
            l.iter()
                .map(|c| line(c, focus == Some(c.id), conference.contains(&c.id)))
                .collect::<Vec<_>>()
        })
    };
    view! {
        <ul id="lines" class="lines" aria-label="Calls" aria-live="polite">
            {items}
        </ul>
    }
}

fn line(c: &CallView, focused: bool, in_conference: bool) -> impl IntoView {
    let id = c.id;
    let incoming = c.phase == CallPhase::Incoming;
    let state_text = if in_conference {
        "In conference"
    } else {
        c.status_text()
    };
    let name = c.peer_label.clone();
    let label = |what: &str| format!("{what} {name}");
    view! {
        <li
            class="line"
            class:focused=focused
            data-line=id.0.to_string()
            data-state=c.line_state()
            aria-current=if focused { Some("true") } else { None }
        >
            <span class="line-peer">{c.peer_label.clone()}</span>
            <span class="line-status">{state_text}</span>
            <span class="line-actions">
                {incoming
                    .then(|| {
                        view! {
                            <button
                                type="button"
                                class="line-answer small-btn go"
                                aria-label=label("Answer")
                                on:click=move |_| driver::dispatch(Action::AnswerLine(id))
                            >
                                "Answer"
                            </button>
                            <button
                                type="button"
                                class="line-decline small-btn stop"
                                aria-label=label("Decline")
                                on:click=move |_| driver::dispatch(Action::HangupLine(id))
                            >
                                "Decline"
                            </button>
                        }
                    })}
                {(!incoming && !focused)
                    .then(|| {
                        view! {
                            <button
                                type="button"
                                class="line-swap small-btn"
                                aria-label=label("Switch to")
                                on:click=move |_| driver::dispatch(Action::SwapTo(id))
                            >
                                "Switch"
                            </button>
                        }
                    })}
                {(!incoming)
                    .then(|| {
                        view! {
                            <button
                                type="button"
                                class="line-hangup small-btn stop"
                                aria-label=label("End the call with")
                                on:click=move |_| driver::dispatch(Action::HangupLine(id))
                            >
                                "End"
                            </button>
                        }
                    })}
            </span>
        </li>
    }
}
