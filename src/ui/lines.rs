//! The call lines: every call in progress (two lines: one active, one held
//! or waiting), with answer/decline/swap per line (issue 5, skeleton).

use super::state::PhoneState;
use leptos::prelude::*;

#[component]
pub fn Lines(state: PhoneState) -> impl IntoView {
    let _ = state;
    view! { <ul id="lines" class="lines"></ul> }
}
