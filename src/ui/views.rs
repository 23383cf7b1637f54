//! The tabs' lists as signals ([`Views`]), set from the phone's
//! [`Lists`] when they change; the tab components read them and send
//! [`TabAction`]s.

use crate::app::contacts::{Contact, Lamp};
use crate::app::history::Entry;
use crate::app::lists::{Layout, Lists, Player, Tab, VoicemailView};
use crate::app::messaging::Message;
use crate::app::phone::{Action, TabAction};
use crate::web::driver;
use leptos::prelude::*;
use litemap::LiteMap;

/// The tabs' state, as signals. `Copy`.
#[derive(Clone, Copy)]
pub struct Views {
    pub layout: RwSignal<Layout>,
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
    /// An error of a tab (shown in the tab that caused it).
    pub view_error: RwSignal<Option<(Tab, String)>>,
    /// The recording being played in the history.
    pub player: RwSignal<Option<Player>>,
}

impl Views {
    pub fn new() -> Views {
        let l = Lists::default();
        Views {
            layout: RwSignal::new(l.layout),
            history: RwSignal::new(l.history),
            messages: RwSignal::new(l.messages),
            unread: RwSignal::new(l.unread),
            message_to: RwSignal::new(l.message_to),
            contacts: RwSignal::new(l.contacts),
            lamps: RwSignal::new(l.lamps),
            voicemail: RwSignal::new(l.voicemail),
            view_error: RwSignal::new(l.error),
            player: RwSignal::new(l.player),
        }
    }

    /// Show the phone's lists: each signal set only when it changed.
    pub fn apply(&self, l: &Lists) {
        fn put<T: PartialEq + Clone + Send + Sync + 'static>(s: RwSignal<T>, value: &T) {
            if s.with_untracked(|old| old != value) {
                s.set(value.clone());
            }
        }
        put(self.layout, &l.layout);
        put(self.history, &l.history);
        put(self.messages, &l.messages);
        put(self.unread, &l.unread);
        put(self.message_to, &l.message_to);
        put(self.contacts, &l.contacts);
        put(self.lamps, &l.lamps);
        put(self.voicemail, &l.voicemail);
        put(self.view_error, &l.error);
        put(self.player, &l.player);
    }
}

impl Default for Views {
    fn default() -> Views {
        Views::new()
    }
}

/// One action in the tabs.
pub fn act(a: TabAction) {
    driver::dispatch(Action::Tab(a));
}

/// Whether `tab` shows no error after an action of it.
fn done_in(tab: Tab) -> bool {
    driver::lists(|l| !matches!(&l.error, Some((t, _)) if *t == tab)).unwrap_or(false)
}

/// Send a message; false (with the reason shown) if it could not be sent.
pub fn send_message(to: String, text: String) -> bool {
    act(TabAction::SendMessage { to, text });
    done_in(Tab::Messages)
}

/// Add a contact (and watch its presence); false with the reason shown.
pub fn add_contact(uri: String) -> bool {
    act(TabAction::AddContact(uri));
    done_in(Tab::Contacts)
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
