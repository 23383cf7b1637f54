//! The contacts view: add by address (`#contact-add-uri`,
//! `#contact-add-button`), `#contacts` with one
//! `li.contact[data-uri][data-presence]` each: a presence lamp with words
//! (the note as its title), `.contact-call`, `.contact-message`,
//! `.contact-remove`.

use super::views::{self, Views};
use crate::app::contacts::{presence_label, presence_str, Contact, Lamp};
use crate::app::lists::Tab;
use crate::app::messaging::peer_key;
use crate::app::phone::TabAction;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;

#[component]
pub fn ContactsView(views: Views) -> impl IntoView {
    let new_uri = RwSignal::new(String::new());
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if views::add_contact(new_uri.get_untracked()) {
            new_uri.set(String::new());
        }
    };
    let error = move || {
        views
            .view_error
            .get()
            .filter(|(t, _)| *t == Tab::Contacts)
            .map(|(_, e)| e)
    };
    let empty = move || views.contacts.with(|c| c.is_empty());
    view! {
        <div class="card view-card">
            <h2>"Contacts"</h2>
            <form class="add-row" on:submit=on_submit>
                <label class="sr-only" for="contact-add-uri">"Number or SIP address of the new contact"</label>
                <input
                    id="contact-add-uri"
                    type="text"
                    inputmode="email"
                    placeholder="Number or sip: address"
                    autocomplete="off"
                    spellcheck="false"
                    autocapitalize="off"
                    prop:value=move || new_uri.get()
                    on:input=move |ev| new_uri.set(event_target_value(&ev))
                />
                <button id="contact-add-button" type="submit">"Add"</button>
            </form>
            <p class="view-error" role="alert">{error}</p>
            <Show when=empty>
                <p class="empty">"No contacts yet: add someone you call often."</p>
            </Show>
            <ul id="contacts" class="view-list" aria-label="Contacts">
                <For
                    each=move || views.contacts.get()
                    key=|c| c.uri.clone()
                    children=move |c| view! { <ContactItem views=views contact=c /> }
                />
            </ul>
        </div>
    }
}

#[component]
fn ContactItem(views: Views, contact: Contact) -> impl IntoView {
    let uri = contact.uri.clone();
    let lamp = {
        let uri = uri.clone();
        Memo::new(move |_| {
            views
                .lamps
                .with(|l| l.get(&uri).cloned().unwrap_or_else(Lamp::default))
        })
    };
    let name = peer_key(&uri);
    let call_target = uri.clone();
    let message_target = uri.clone();
    let remove_target = uri.clone();
    let call_label = format!("Call {uri}");
    let message_label = format!("Message {uri}");
    let remove_label = format!("Remove {uri} from contacts");
    view! {
        <li
            class="contact"
            data-uri=uri.clone()
            data-presence=move || presence_str(lamp.get().status)
        >
            <span
                class="presence"
                title=move || lamp.get().note.unwrap_or_default()
            >
                <span class="lamp" aria-hidden="true"></span>
                <span class="presence-label">{move || presence_label(lamp.get().status)}</span>
            </span>
            <div class="item-main">
                <span class="contact-name">{name}</span>
                <span class="item-meta contact-uri">{uri.clone()}</span>
                <span class="item-meta contact-note">{move || lamp.get().note.unwrap_or_default()}</span>
            </div>
            <div class="item-actions">
                <button
                    type="button"
                    class="contact-call icon-button"
                    aria-label=call_label.clone()
                    title=call_label
                    on:click=move |_| views::act(TabAction::Call(call_target.clone()))
                >
                    "✆"
                </button>
                <button
                    type="button"
                    class="contact-message icon-button"
                    aria-label=message_label.clone()
                    title=message_label
                    on:click=move |_| views::act(TabAction::Converse(message_target.clone()))
                >
                    "✉"
                </button>
                <button
                    type="button"
                    class="contact-remove icon-button ghost"
                    aria-label=remove_label.clone()
                    title=remove_label
                    on:click=move |_| views::act(TabAction::RemoveContact(remove_target.clone()))
                >
                    "×"
                </button>
            </div>
        </li>
    }
}
