//! The dialpad: a number or `sip:` address, twelve keys, a call button and
//! a video call button.
//! Enter in the input calls. Typing or pressing a key tells the phone the
//! user is dialling (it gets the call's media ready).

use crate::app::phone::Action;
use crate::web::driver;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;

/// Each key: its digit and letters (its name is both, as shown: "2 ABC").
const KEYS: [(&str, &str); 12] = [
    ("1", ""),
    ("2", "ABC"),
    ("3", "DEF"),
    ("4", "GHI"),
    ("5", "JKL"),
    ("6", "MNO"),
    ("7", "PQRS"),
    ("8", "TUV"),
    ("9", "WXYZ"),
    ("*", ""),
    ("0", "+"),
    ("#", ""),
];

/// `hidden`: during a call (the dialpad stays in the page, with what was
/// typed, and is only hidden).
#[component]
pub fn Dialpad(#[prop(into)] hidden: Signal<bool>) -> impl IntoView {
    let target = RwSignal::new(String::new());
    let place = move |video: bool| {
        let lines = || driver::view(|v| v.lines.len()).unwrap_or(0);
        let before = lines();
        let to = target.get_untracked();
        driver::dispatch(if video {
            Action::VideoCall(to)
        } else {
            Action::Call(to)
        });
        // a call placed empties the input; a refused number stays to be
        // corrected
        if lines() > before {
            target.set(String::new());
        }
    };
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        place(false);
    };
    let keys = KEYS
        .iter()
        .map(|&(digit, letters)| {
            view! {
                <button
                    type="button"
                    class="key"
                    data-key=digit
                    on:click=move |_| {
                        target.update(|t| t.push_str(digit));
                        driver::dispatch(Action::Dialling);
                    }
                >
                    <span class="digit">{digit}</span>
                    <span class="letters">{letters}</span>
                </button>
            }
        })
        .collect_view();
    view! {
        <form id="dialpad" class="card dialpad" hidden=hidden on:submit=on_submit>
            <label class="sr-only" for="dial-input">"Number or SIP address to call"</label>
            <div class="dial-row">
                <input
                    id="dial-input"
                    type="text"
                    inputmode="tel"
                    placeholder="Number or address"
                    autocomplete="off"
                    spellcheck="false"
                    autocapitalize="off"
                    prop:value=move || target.get()
                    on:input=move |ev| {
                        target.set(event_target_value(&ev));
                        driver::dispatch(Action::Dialling);
                    }
                />
                <button
                    type="button"
                    class="ghost backspace"
                    aria-label="Delete last digit"
                    title="Delete"
                    on:click=move |_| target.update(|t| {
                        t.pop();
                    })
                >
                    "⌫"
                </button>
            </div>
            <div class="keys">{keys}</div>
            <div class="call-buttons">
                <button id="call-button" type="submit" class="call">
                    <span aria-hidden="true">"✆"</span>
                    " Call"
                </button>
                <button
                    id="video-call-button"
                    type="button"
                    class="call video"
                    on:click=move |_| place(true)
                >
                    <span aria-hidden="true">"▶"</span>
                    " Video"
                </button>
            </div>
        </form>
    }
}
