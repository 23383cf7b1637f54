//! The messages view: `#message-to`, `#message-text`, `#message-send`, and
//! `#message-list` with one `li.message[data-direction][data-status]` per
//! message of the conversation with `#message-to` (all when it is empty).
//! Text from the network is rendered as text.

use super::views::{self, Views};
use crate::app::lists::Tab;
use crate::app::messaging::{self, Message, MsgDirection, MsgStatus};
use crate::app::phone::TabAction;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;

#[component]
pub fn MessagesView(views: Views) -> impl IntoView {
    let text = RwSignal::new(String::new());
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if views::send_message(views.message_to.get_untracked(), text.get_untracked()) {
            text.set(String::new());
        }
    };
    let shown = move || {
        let peer = views.message_to.get();
        views.messages.with(|list| {
            messaging::conversation(list, &peer)
                .into_iter()
                .enumerate()
                .map(|(i, m)| (i, m.clone()))
                .collect::<Vec<_>>()
        })
    };
    let peers = move || views.messages.with(|list| messaging::peers(list));
    let error = move || {
        views
            .view_error
            .get()
            .filter(|(t, _)| *t == Tab::Messages)
            .map(|(_, e)| e)
    };
    let empty = move || views.messages.with(|l| l.is_empty());
    view! {
        <div class="card view-card">
            <h2>"Messages"</h2>
            <Show when=move || !peers().is_empty()>
                <div class="peers" role="group" aria-label="Conversations">
                    <button
                        type="button"
                        class="peer-chip"
                        aria-pressed=move || views.message_to.with(|t| t.trim().is_empty()).to_string()
                        on:click=move |_| views::act(TabAction::MessageTo(String::new()))
                    >
                        "All"
                    </button>
                    <For
                        each=peers
                        key=|(uri, _)| uri.clone()
                        children=move |(uri, name)| {
                            let label = if name.is_empty() { messaging::peer_key(&uri) } else { name };
                            let key = messaging::peer_key(&uri);
                            let pick = uri.clone();
                            view! {
                                <button
                                    type="button"
                                    class="peer-chip"
                                    title=uri.clone()
                                    aria-pressed=move || {
                                        (messaging::peer_key(&views.message_to.get()) == key).to_string()
                                    }
                                    on:click=move |_| views::act(TabAction::MessageTo(pick.clone()))
                                >
                                    {label}
                                </button>
                            }
                        }
                    />
                </div>
            </Show>
            <Show when=empty>
                <p class="empty">"No messages yet."</p>
            </Show>
            <ul id="message-list" class="message-list" aria-label="Messages" aria-live="polite">
                <For
                    each=shown
                    key=|(_, m)| (m.direction.as_str(), m.id, m.at_ms.to_bits(), m.status.as_str())
                    children=move |(_, m)| view! { <MessageItem message=m /> }
                />
            </ul>
            <form class="compose" on:submit=on_submit>
                <label for="message-to">"To"</label>
                <input
                    id="message-to"
                    type="text"
                    placeholder="Number or sip: address"
                    autocomplete="off"
                    spellcheck="false"
                    autocapitalize="off"
                    prop:value=move || views.message_to.get()
                    on:input=move |ev| views::act(TabAction::MessageTo(event_target_value(&ev)))
                />
                <label class="sr-only" for="message-text">"Message"</label>
                <div class="compose-row">
                    <input
                        id="message-text"
                        type="text"
                        placeholder="Message"
                        autocomplete="off"
                        maxlength=messaging::MAX_TEXT.to_string()
                        prop:value=move || text.get()
                        on:input=move |ev| text.set(event_target_value(&ev))
                    />
                    <button id="message-send" type="submit">"Send"</button>
                </div>
            </form>
            <p class="view-error" role="alert">{error}</p>
        </div>
    }
}

#[component]
fn MessageItem(message: Message) -> impl IntoView {
    let who = match message.direction {
        MsgDirection::Out => format!("To {}", messaging::peer_key(&message.peer)),
        MsgDirection::In if !message.peer_name.is_empty() => message.peer_name.clone(),
        MsgDirection::In => messaging::peer_key(&message.peer),
    };
    let status = match (message.direction, message.status) {
        (MsgDirection::In, _) => String::new(),
        (_, MsgStatus::Sending) => "sending…".into(),
        (_, MsgStatus::Delivered) => "delivered".into(),
        (_, MsgStatus::Failed) if message.reason.is_empty() => "not delivered".into(),
        (_, MsgStatus::Failed) => format!("not delivered: {}", message.reason),
    };
    view! {
        <li
            class="message"
            data-direction=message.direction.as_str()
            data-status=message.status.as_str()
        >
            <p class="message-text">{message.text.clone()}</p>
            <p class="item-meta">
                <span class="message-peer" title=message.peer.clone()>{who}</span>
                " · "
                <time>{views::format_time(message.at_ms)}</time>
                {(!status.is_empty()).then(|| view! { <span class="message-status">" · "{status}</span> })}
            </p>
        </li>
    }
}
