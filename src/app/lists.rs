//! The tabs beside the phone, as plain data: the call history, the
//! messages, the contacts with their presence lamps, the voicemail
//! indication, and which tab is shown. The [`Phone`](super::phone::Phone)
//! keeps one [`Lists`] per account and changes it from the core's events
//! and the user's actions; the browser stores each list (per account) and
//! gives them back when the account is shown again.

use super::contacts::{Contact, Lamp};
use super::history::Entry;
use super::messaging::Message;
use litemap::LiteMap;

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
}

/// Message waiting indication as last reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VoicemailView {
    pub waiting: bool,
    pub new: u32,
    pub old: u32,
}

/// One stored list of an account.
#[derive(Clone, Debug, PartialEq)]
pub enum Stored {
    History(Vec<Entry>),
    Messages(Vec<Message>),
    Contacts(Vec<Contact>),
}

/// The tabs' state.
#[derive(Clone, Debug, PartialEq)]
pub struct Lists {
    pub tab: Tab,
    /// Address of the account the lists belong to (lower case).
    pub account: String,
    /// Finished calls, oldest first.
    pub history: Vec<Entry>,
    /// Messages, oldest first.
    pub messages: Vec<Message>,
    /// Messages received since the messages tab was last looked at.
    pub unread: u32,
    /// The recipient in `#message-to` (also filters the list).
    pub message_to: String,
    pub contacts: Vec<Contact>,
    /// Presence per contact address.
    pub lamps: LiteMap<String, Lamp>,
    pub voicemail: Option<VoicemailView>,
    /// An error of a tab (shown in the tab that caused it).
    pub error: Option<(Tab, String)>,
}

impl Default for Lists {
    fn default() -> Lists {
        Lists {
            tab: Tab::Phone,
            account: String::new(),
            history: Vec::new(),
            messages: Vec::new(),
            unread: 0,
            message_to: String::new(),
            contacts: Vec::new(),
            lamps: LiteMap::new(),
            voicemail: None,
            error: None,
        }
    }
}
