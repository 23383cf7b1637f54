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
    /// The tabs of the lists: those beside the phone in the wide layout.
    pub const LISTS: [Tab; 3] = [Tab::History, Tab::Contacts, Tab::Messages];

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
    /// Which views are shown.
    pub layout: Layout,
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
    /// The recording being played in the history.
    pub player: Option<Player>,
}

/// A recording opened for playing: the address the browser made for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Player {
    pub id: String,
    pub url: String,
    pub video: bool,
}

/// From this width (CSS pixels of the space the phone has) the phone and
/// a list are shown side by side.
pub const WIDE_MIN_PX: u32 = 1024;

/// Which views are shown: one tab on a narrow screen; on a wide one the
/// phone and a list beside it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// The tab shown (on a narrow screen, the one view shown).
    pub tab: Tab,
    /// The list shown beside the phone in the wide layout (never
    /// [`Tab::Phone`]): the last list tab shown, the contacts at first.
    pub side: Tab,
    /// The wide layout (the phone beside the lists) is on: the phone and
    /// [`Layout::side`] are both in view.
    pub wide: bool,
}

impl Layout {
    /// Is this tab's panel in view (the selected tab, or in the wide
    /// layout the phone and the list beside it)?
    pub fn in_view(self, tab: Tab) -> bool {
        if self.wide {
            tab == Tab::Phone || tab == self.side
        } else {
            tab == self.tab
        }
    }

    /// The selected tab of the tab bar (in the wide layout, the list's).
    pub fn selected(self) -> Tab {
        if self.wide {
            self.side
        } else {
            self.tab
        }
    }
}

impl Default for Layout {
    fn default() -> Layout {
        Layout {
            tab: Tab::Phone,
            side: Tab::Contacts,
            wide: false,
        }
    }
}

impl Default for Lists {
    fn default() -> Lists {
        Lists {
            layout: Layout::default(),
            account: String::new(),
            history: Vec::new(),
            messages: Vec::new(),
            unread: 0,
            message_to: String::new(),
            contacts: Vec::new(),
            lamps: LiteMap::new(),
            voicemail: None,
            error: None,
            player: None,
        }
    }
}
