//! The tabs' lists in `localStorage`: `softphone.history`,
//! `softphone.messages` and `softphone.contacts`, each a JSON object of
//! lists per account address. The phone asks for an account's lists
//! ([`load`]) and gives each list to store when it changes ([`store`]);
//! another account's lists in the same key stay as they are (another tab
//! may have written them).

use super::storage;
use crate::app::contacts::MAX_CONTACTS;
use crate::app::history::{Book, MAX_ENTRIES};
use crate::app::json::{self, Record};
use crate::app::lists::Stored;
use crate::app::messaging::MAX_MESSAGES;
use crate::app::phone::AppInput;

const HISTORY_KEY: &str = "softphone.history";
const MESSAGES_KEY: &str = "softphone.messages";
const CONTACTS_KEY: &str = "softphone.contacts";

fn local_storage_usable() -> bool {
    // gloo's LocalStorage throws when the browser has no storage at all
    web_sys::window()
        .and_then(|w| w.local_storage().ok().flatten())
        .is_some()
}

fn load_book<T: Record>(key: &str) -> Book<T> {
    if !local_storage_usable() {
        return Book::default();
    }
    let Some(text) = storage::get_item(true, key) else {
        return Book::default();
    };
    match json::book_from_json(&text) {
        Ok(b) => b,
        Err(e) => {
            crate::log::warn!("{key} in localStorage is unreadable, starting afresh: {e}");
            Book::default()
        }
    }
}

/// The stored lists of `account`, for the phone.
pub fn load(account: String) -> AppInput {
    AppInput::Loaded {
        history: load_book(HISTORY_KEY).list(&account),
        messages: load_book(MESSAGES_KEY).list(&account),
        contacts: load_book(CONTACTS_KEY).list(&account),
        account,
    }
}

/// Replace the list of `account` under its key.
pub fn store(account: &str, lists: Stored) {
    match lists {
        Stored::History(items) => save_list(HISTORY_KEY, account, items, MAX_ENTRIES),
        Stored::Messages(items) => save_list(MESSAGES_KEY, account, items, MAX_MESSAGES),
        Stored::Contacts(items) => save_list(CONTACTS_KEY, account, items, MAX_CONTACTS),
    }
}

fn save_list<T: Record + Clone>(key: &str, account: &str, items: Vec<T>, max: usize) {
    if !local_storage_usable() {
        return;
    }
    let mut book = load_book::<T>(key);
    book.set(account, items, max);
    if let Err(e) = storage::set_item(true, key, &json::book_to_json(&book)) {
        crate::log::warn!("{key} could not be saved: {e}");
    }
}
