//! Driver wiring for history, contacts/presence, voicemail and messages
//! (issue 5). The driver shows every event from the core to [`on_event`]
//! first; these views keep their own state ([`Views`], signals) and their
//! own storage (`localStorage`: `softphone.history`, `softphone.messages`,
//! `softphone.contacts`, each a JSON object of lists per account address).
//! Commands go back through [`crate::web::driver::command`].

use crate::app::contacts::{self, Contact, Lamp, RegWatch, MAX_CONTACTS};
use crate::app::history::{self, Book, Entry, Tracker, MAX_ENTRIES};
use crate::app::json::{self, Record};
use crate::app::messaging::{self, Message, MAX_MESSAGES};
use crate::sip::{CallState, Event};
use crate::sip::{Command, EventPackage, PresenceStatus};
use crate::web::{driver, storage};
use leptos::prelude::*;
use litemap::LiteMap;
use std::cell::{Cell, RefCell};

const HISTORY_KEY: &str = "softphone.history";
const MESSAGES_KEY: &str = "softphone.messages";
const CONTACTS_KEY: &str = "softphone.contacts";

/// The views (tabs) of the phone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tab {
    Phone,
    History,
    Contacts,
    Messages,
}

impl Tab {
    pub const ALL: [Tab; 4] = [Tab::Phone, Tab::History, Tab::Contacts, Tab::Messages];

    /// The tab button's id (`#tab-phone` …).
    pub fn tab_id(self) -> &'static str {
        match self {
            Tab::Phone => "tab-phone",
            Tab::History => "tab-history",
            Tab::Contacts => "tab-contacts",
            Tab::Messages => "tab-messages",
        }
    }

    /// The panel's id.
    pub fn panel_id(self) -> &'static str {
        match self {
            Tab::Phone => "view-phone",
            Tab::History => "view-history",
            Tab::Contacts => "view-contacts",
            Tab::Messages => "view-messages",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Tab::Phone => "Phone",
            Tab::History => "History",
            Tab::Contacts => "Contacts",
            Tab::Messages => "Messages",
        }
    }
}

/// Message waiting indication as last reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VoicemailView {
    pub waiting: bool,
    pub new: u32,
    pub old: u32,
}

/// The views' state, as signals. `Copy`.
#[derive(Clone, Copy)]
pub struct Views {
    pub tab: RwSignal<Tab>,
    /// Address of the account the lists belong to (lower case).
    pub account: RwSignal<String>,
    /// Finished calls, oldest first.
    pub history: RwSignal<Vec<Entry>>,
    /// Messages, oldest first.
    pub messages: RwSignal<Vec<Message>>,
    /// Messages received since the messages tab was last looked at.
    pub unread: RwSignal<u32>,
    /// The recipient in `#message-to` (also filters the list).
    pub message_to: RwSignal<String>,
    pub contacts: RwSignal<Vec<Contact>>,
    /// Presence per contact address.
    pub lamps: RwSignal<LiteMap<String, Lamp>>,
    pub voicemail: RwSignal<Option<VoicemailView>>,
    /// An error or notice of the views (shown in the view that caused it).
    pub view_error: RwSignal<Option<(Tab, String)>>,
}

thread_local! {
    static VIEWS: Cell<Option<Views>> = const { Cell::new(None) };
    static TRACKER: RefCell<Tracker> = RefCell::new(Tracker::new());
    static WATCH: RefCell<RegWatch> = RefCell::new(RegWatch::default());
    /// The highest message id used by this page.
    static LAST_ID: Cell<u32> = const { Cell::new(0) };
}

/// Make the views' state (once, inside the app) and load the lists of the
/// stored account.
pub fn init() -> Views {
    if let Some(v) = VIEWS.with(Cell::get) {
        return v;
    }
    let views = Views {
        tab: RwSignal::new(Tab::Phone),
        account: RwSignal::new(String::new()),
        history: RwSignal::new(Vec::new()),
        messages: RwSignal::new(Vec::new()),
        unread: RwSignal::new(0),
        message_to: RwSignal::new(String::new()),
        contacts: RwSignal::new(Vec::new()),
        lamps: RwSignal::new(LiteMap::new()),
        voicemail: RwSignal::new(None),
        view_error: RwSignal::new(None),
    };
    VIEWS.with(|v| v.set(Some(views)));
    switch_account(views, &current_account());
    views
}

/// Forget the views' state (the embedded phone was unmounted: its signals
/// are disposed); the next [`init`] starts afresh.
pub fn reset() {
    VIEWS.with(|v| v.set(None));
    TRACKER.with(|t| *t.borrow_mut() = Tracker::new());
    WATCH.with(|w| *w.borrow_mut() = RegWatch::default());
    LOADED.with(|l| l.set(false));
}

/// The views' state, once [`init`] has run.
pub fn views() -> Option<Views> {
    VIEWS.with(Cell::get)
}

/// Show a tab (reading the messages clears the unread count).
pub fn show_tab(tab: Tab) {
    let Some(v) = views() else { return };
    v.tab.set(tab);
    if tab == Tab::Messages {
        v.unread.set(0);
    }
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// The signed-in (or last saved) account of this tab, as a list key.
fn current_account() -> String {
    history::account_key(&storage::load().sip_uri)
}

/// Load the lists of `account` (if it is not the one shown).
fn switch_account(v: Views, account: &str) {
    if v.account.get_untracked() == account && account_loaded() {
        return;
    }
    LOADED.with(|l| l.set(true));
    v.account.set(account.to_string());
    v.history.set(load_book::<Entry>(HISTORY_KEY).list(account));
    let mut messages = load_book::<Message>(MESSAGES_KEY).list(account);
    messaging::settle_after_reload(&mut messages);
    LAST_ID.with(|l| l.set(messaging::next_id(&messages, l.get()).saturating_sub(1)));
    v.messages.set(messages);
    v.unread.set(0);
    v.contacts
        .set(load_book::<Contact>(CONTACTS_KEY).list(account));
    v.lamps.set(LiteMap::new());
    v.voicemail.set(None);
    TRACKER.with(|t| t.borrow_mut().reset());
    WATCH.with(|w| w.borrow_mut().reset());
}

thread_local! {
    static LOADED: Cell<bool> = const { Cell::new(false) };
}

fn account_loaded() -> bool {
    LOADED.with(Cell::get)
}

// ------------------------------------------------------------------ storage

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
            tracing::warn!("{key} in localStorage is unreadable, starting afresh: {e}");
            Book::default()
        }
    }
}

/// Replace the list of `account` under `key`, keeping the other accounts'
/// lists as stored now (another tab may have written them).
fn save_list<T: Record + Clone>(key: &str, account: &str, items: Vec<T>, max: usize) {
    if !local_storage_usable() {
        return;
    }
    let mut book = load_book::<T>(key);
    book.set(account, items, max);
    if let Err(e) = storage::set_item(true, key, &json::book_to_json(&book)) {
        tracing::warn!("{key} could not be saved: {e}");
    }
}

fn save_history(v: Views) {
    let account = v.account.get_untracked();
    save_list(
        HISTORY_KEY,
        &account,
        v.history.get_untracked(),
        MAX_ENTRIES,
    );
}

fn save_messages(v: Views) {
    let account = v.account.get_untracked();
    save_list(
        MESSAGES_KEY,
        &account,
        v.messages.get_untracked(),
        MAX_MESSAGES,
    );
}

fn save_contacts(v: Views) {
    let account = v.account.get_untracked();
    save_list(
        CONTACTS_KEY,
        &account,
        v.contacts.get_untracked(),
        MAX_CONTACTS,
    );
}

// ------------------------------------------------------------------- events

/// Observe an event from the core (the driver handles it afterwards).
pub fn on_event(event: &Event) {
    let Some(v) = views() else { return };
    if let Some(entry) = TRACKER.with(|t| t.borrow_mut().on_event(now_ms(), event)) {
        v.history.update(|h| {
            h.push(entry);
            history::trim(h, MAX_ENTRIES);
        });
        save_history(v);
    }
    match event {
        Event::Registration(reg) => {
            let account = current_account();
            if account != v.account.get_untracked() {
                switch_account(v, &account);
            }
            if WATCH.with(|w| w.borrow_mut().on_registration(reg)) {
                subscribe_all(v);
            }
        }
        Event::IncomingCall { .. }
        | Event::CallState {
            state: CallState::Calling { .. },
            ..
        } => show_tab(Tab::Phone),
        Event::MessageReceived { from, text } => {
            let m = messaging::incoming(&from.uri, from.display_name.as_deref(), text, now_ms());
            v.messages.update(|list| {
                list.push(m);
                history::trim(list, MAX_MESSAGES);
            });
            if v.tab.get_untracked() != Tab::Messages || page_hidden() {
                v.unread.update(|n| *n = n.saturating_add(1));
            }
            if v.message_to.with_untracked(|t| t.trim().is_empty()) {
                // an empty conversation picker follows the newest message
                v.message_to.set(from.uri.clone());
            }
            save_messages(v);
        }
        Event::MessageStatus {
            id,
            delivered,
            reason,
        } => {
            let mut changed = false;
            v.messages
                .update(|list| changed = messaging::apply_status(list, *id, *delivered, reason));
            if changed {
                save_messages(v);
            }
        }
        Event::Presence {
            target,
            status,
            note,
        } => set_lamp(v, target, *status, note.clone()),
        Event::SubscriptionFailed {
            target,
            package,
            reason,
        } => match package {
            EventPackage::Presence | EventPackage::Dialog => {
                set_lamp(v, target, PresenceStatus::Unknown, Some(reason.clone()))
            }
            EventPackage::MessageSummary => {
                tracing::info!("no voicemail indication: {reason}");
                v.voicemail.set(None);
            }
        },
        Event::Voicemail { waiting, new, old } => v.voicemail.set(Some(VoicemailView {
            waiting: *waiting,
            new: *new,
            old: *old,
        })),
        _ => {}
    }
}

fn page_hidden() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .is_some_and(|d| d.hidden())
}

fn set_lamp(v: Views, target: &str, status: PresenceStatus, note: Option<String>) {
    let found = v
        .contacts
        .with_untracked(|list| contacts::find(list, target).map(|i| list[i].uri.clone()));
    let Some(uri) = found else {
        tracing::debug!("presence of {target}: not a contact");
        return;
    };
    let note = note.filter(|n| !n.trim().is_empty());
    v.lamps.update(|l| {
        l.insert(uri, Lamp { status, note });
    });
}

/// Registered (again): watch every contact and our own voicemail.
fn subscribe_all(v: Views) {
    let list = v.contacts.get_untracked();
    v.lamps.set(LiteMap::new());
    for c in list {
        driver::command(Command::Subscribe {
            target: c.uri,
            package: EventPackage::Presence,
        });
    }
    let aor = storage::load().sip_uri.trim().to_string();
    if !aor.is_empty() {
        driver::command(Command::Subscribe {
            target: aor,
            package: EventPackage::MessageSummary,
        });
    }
}

fn registered() -> bool {
    WATCH.with(|w| w.borrow().is_registered())
}

// ------------------------------------------------------------- user actions

/// Call back from the history or the contacts: the phone tab, then the call.
pub fn call(target: String) {
    show_tab(Tab::Phone);
    driver::dispatch(crate::app::phone::Action::Call(target));
}

/// Forget this account's call history.
pub fn clear_history() {
    let Some(v) = views() else { return };
    v.history.set(Vec::new());
    save_history(v);
}

/// Send a message; false (with the reason shown) if it could not be sent.
pub fn send_message(to: &str, text: &str) -> bool {
    let Some(v) = views() else { return false };
    let (to, text) = match messaging::validate(to, text) {
        Ok(ok) => ok,
        Err(e) => {
            v.view_error.set(Some((Tab::Messages, e)));
            return false;
        }
    };
    let id = LAST_ID.with(|l| {
        let id = l.get().saturating_add(1);
        l.set(id);
        id
    });
    let sent = driver::command(Command::SendMessage {
        id,
        to: to.clone(),
        text: text.clone(),
    });
    if !sent {
        v.view_error.set(Some((
            Tab::Messages,
            "Sign in first: fill in the account settings and press \"Save and sign in\".".into(),
        )));
        return false;
    }
    v.view_error.set(None);
    v.messages.update(|list| {
        list.push(messaging::outgoing(id, &to, &text, now_ms()));
        history::trim(list, MAX_MESSAGES);
    });
    save_messages(v);
    true
}

/// Open the messages tab with a conversation.
pub fn message(to: &str) {
    let Some(v) = views() else { return };
    v.message_to.set(to.to_string());
    v.view_error.set(None);
    show_tab(Tab::Messages);
}

/// Add a contact (and watch its presence); false with the reason shown.
pub fn add_contact(uri: &str) -> bool {
    let Some(v) = views() else { return false };
    let checked = v
        .contacts
        .with_untracked(|list| contacts::validate_new(list, uri));
    let uri = match checked {
        Ok(u) => u,
        Err(e) => {
            v.view_error.set(Some((Tab::Contacts, e)));
            return false;
        }
    };
    v.view_error.set(None);
    v.contacts
        .update(|list| list.push(Contact { uri: uri.clone() }));
    save_contacts(v);
    if registered() {
        driver::command(Command::Subscribe {
            target: uri,
            package: EventPackage::Presence,
        });
    }
    true
}

/// Remove a contact (and stop watching it).
pub fn remove_contact(uri: &str) {
    let Some(v) = views() else { return };
    v.contacts.update(|list| list.retain(|c| c.uri != uri));
    v.lamps.update(|l| {
        l.remove(uri);
    });
    save_contacts(v);
    if registered() {
        driver::command(Command::Unsubscribe {
            target: uri.to_string(),
            package: EventPackage::Presence,
        });
    }
}

/// `YYYY-MM-DD HH:MM` in local time.
pub fn format_time(ms: f64) -> String {
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms));
    if d.get_time().is_nan() {
        return String::new();
    }
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        d.get_full_year(),
        d.get_month() + 1,
        d.get_date(),
        d.get_hours(),
        d.get_minutes()
    )
}
