//! The tabs beside the phone: history, messages, contacts with presence,
//! voicemail. Their lists are kept per account: the browser stores them
//! ([`AppOutput::Store`]) and loads them when the account changes
//! ([`AppOutput::Load`], answered by [`AppInput::Loaded`]).

use super::*;
use crate::app::contacts::{self, Contact, Lamp, MAX_CONTACTS};
use crate::app::history::{self, Entry, MAX_ENTRIES};
use crate::app::lists::{Lists, Stored, Tab, VoicemailView, WIDE_MIN_PX};
use crate::app::messaging::{self, Message, MAX_MESSAGES};
use crate::sip::{EventPackage, PresenceStatus};

/// What the user does in the tabs.
#[derive(Clone, Debug, PartialEq)]
pub enum TabAction {
    /// Show a tab (the messages tab clears the unread count).
    Show(Tab),
    /// The width of the space the phone has, in CSS pixels: from
    /// [`WIDE_MIN_PX`] the lists are shown beside the phone.
    Width(u32),
    /// Call back from the history or the contacts: the phone tab, then the call.
    Call(String),
    ClearHistory,
    /// The recipient picked or typed (also filters the list).
    MessageTo(String),
    /// Open the messages tab with a conversation.
    Converse(String),
    SendMessage {
        to: String,
        text: String,
    },
    AddContact(String),
    RemoveContact(String),
    /// Play, download or delete recordings.
    Recording(RecordingAction),
}

impl Phone {
    /// The tabs' lists.
    pub fn lists(&self) -> &Lists {
        &self.lists
    }

    /// Changes whenever [`Phone::lists`] changes (the driver hands the
    /// lists to the screen only then).
    pub fn lists_version(&self) -> u64 {
        self.lists_version
    }

    pub(super) fn lists_mut(&mut self) -> &mut Lists {
        self.lists_version += 1;
        &mut self.lists
    }

    /// Milliseconds since the epoch now (from the wall clock given at start).
    pub(super) fn wall_ms(&self) -> f64 {
        let (t0, ms0) = self.wall;
        ms0 + self.now.saturating_duration_since(t0).as_secs_f64() * 1000.0
    }

    fn account_key(&self) -> String {
        history::account_key(&self.prefs.sip_uri)
    }

    /// Show the lists of the account of the settings (asking the browser
    /// for them) unless they are shown already.
    pub(super) fn switch_lists(&mut self) {
        let account = self.account_key();
        if self.lists.account == account && self.lists_state != ListsState::None {
            return;
        }
        self.lists_state = ListsState::Loading;
        self.close_player();
        self.tracker.reset();
        self.watch.reset();
        let layout = self.lists.layout;
        *self.lists_mut() = Lists {
            layout,
            account: account.clone(),
            ..Lists::default()
        };
        self.out.push_back(AppOutput::Load { account });
    }

    pub(super) fn loaded(
        &mut self,
        account: String,
        history: Vec<Entry>,
        mut messages: Vec<Message>,
        contacts: Vec<Contact>,
    ) {
        if account != self.lists.account || self.lists_state != ListsState::Loading {
            return; // another account's, or late
        }
        self.lists_state = ListsState::Shown;
        messaging::settle_after_reload(&mut messages);
        self.last_message_id =
            messaging::next_id(&messages, self.last_message_id).saturating_sub(1);
        let l = self.lists_mut();
        l.history = history;
        l.messages = messages;
        l.unread = 0;
        l.contacts = contacts;
        l.lamps.clear();
        l.voicemail = None;
        if self.watch.is_registered() {
            self.subscribe_all();
        }
    }

    pub(super) fn store(&mut self, which: Stored) {
        let account = self.lists.account.clone();
        self.out.push_back(AppOutput::Store {
            account,
            lists: which,
        });
    }

    /// The tabs' part of a core event (before the phone's own).
    pub(super) fn tabs_on_event(&mut self, event: &Event) {
        let now_ms = self.wall_ms();
        if let Some(mut entry) = self.tracker.on_event(now_ms, event) {
            if let Event::CallState { call, .. } = event {
                entry.recordings = self.take_recordings(*call);
            }
            let l = self.lists_mut();
            l.history.push(entry);
            let dropped = l.history.len().saturating_sub(MAX_ENTRIES);
            let gone = history::recording_ids(&l.history[..dropped]);
            history::trim(&mut l.history, MAX_ENTRIES);
            if !gone.is_empty() {
                self.out.push_back(AppOutput::DeleteRecordings(gone));
            }
            self.store_history();
        }
        match event {
            Event::Registration(reg) => {
                self.switch_lists();
                let now_registered = self.watch.on_registration(reg);
                if now_registered && self.lists_state == ListsState::Shown {
                    self.subscribe_all();
                }
            }
            Event::IncomingCall { .. }
            | Event::CallState {
                state: CallState::Calling { .. },
                ..
            } => self.show_tab(Tab::Phone),
            Event::MessageReceived { from, text } => {
                let m = messaging::incoming(&from.uri, from.display_name.as_deref(), text, now_ms);
                let unseen = !self.lists.layout.in_view(Tab::Messages) || self.hidden;
                let l = self.lists_mut();
                l.messages.push(m);
                history::trim(&mut l.messages, MAX_MESSAGES);
                if unseen {
                    l.unread = l.unread.saturating_add(1);
                }
                if l.message_to.trim().is_empty() {
                    // an empty conversation picker follows the newest message
                    l.message_to = from.uri.clone();
                }
                let list = l.messages.clone();
                self.store(Stored::Messages(list));
            }
            Event::MessageStatus {
                id,
                delivered,
                reason,
            } => {
                let mut list = self.lists.messages.clone();
                if messaging::apply_status(&mut list, *id, *delivered, reason) {
                    self.lists_mut().messages = list.clone();
                    self.store(Stored::Messages(list));
                }
            }
            Event::Presence {
                target,
                status,
                note,
            } => self.set_lamp(target, *status, note.clone()),
            Event::SubscriptionFailed {
                target,
                package,
                reason,
            } => match package {
                EventPackage::Presence | EventPackage::Dialog => {
                    self.set_lamp(target, PresenceStatus::Unknown, Some(reason.clone()))
                }
                EventPackage::MessageSummary => {
                    crate::log::info!("no voicemail indication: {reason}");
                    self.lists_mut().voicemail = None;
                }
            },
            Event::Voicemail { waiting, new, old } => {
                self.lists_mut().voicemail = Some(VoicemailView {
                    waiting: *waiting,
                    new: *new,
                    old: *old,
                })
            }
            _ => {}
        }
    }

    fn set_lamp(&mut self, target: &str, status: PresenceStatus, note: Option<String>) {
        let Some(i) = contacts::find(&self.lists.contacts, target) else {
            crate::log::debug!("presence of {target}: not a contact");
            return;
        };
        let uri = self.lists.contacts[i].uri.clone();
        let note = note.filter(|n| !n.trim().is_empty());
        self.lists_mut().lamps.insert(uri, Lamp { status, note });
    }

    /// Registered (again): watch every contact and our own voicemail.
    fn subscribe_all(&mut self) {
        self.lists_mut().lamps.clear();
        for c in self.lists.contacts.clone() {
            self.command(Command::Subscribe {
                target: c.uri,
                package: EventPackage::Presence,
            });
        }
        let aor = self.prefs.sip_uri.trim().to_string();
        if !aor.is_empty() {
            self.command(Command::Subscribe {
                target: aor,
                package: EventPackage::MessageSummary,
            });
        }
    }

    fn show_tab(&mut self, tab: Tab) {
        let was = self.lists.layout;
        let side = if tab == Tab::Phone { was.side } else { tab };
        if was.tab != tab || was.side != side {
            let l = self.lists_mut();
            l.layout.tab = tab;
            l.layout.side = side;
        }
        self.seen_messages();
    }

    /// The messages in view are read.
    fn seen_messages(&mut self) {
        if self.lists.unread > 0 && self.lists.layout.in_view(Tab::Messages) {
            self.lists_mut().unread = 0;
        }
    }

    pub(super) fn tab_action(&mut self, action: TabAction) {
        match action {
            TabAction::Show(tab) => self.show_tab(tab),
            TabAction::Width(px) => {
                let wide = px >= WIDE_MIN_PX;
                if self.lists.layout.wide != wide {
                    self.lists_mut().layout.wide = wide;
                    self.seen_messages();
                }
            }
            TabAction::Call(target) => {
                self.show_tab(Tab::Phone);
                self.call(target);
            }
            TabAction::ClearHistory => {
                self.recording_action(RecordingAction::DeleteAll);
                self.lists_mut().history.clear();
                self.store(Stored::History(Vec::new()));
            }
            TabAction::Recording(a) => self.recording_action(a),
            TabAction::MessageTo(to) => {
                if self.lists.message_to != to {
                    self.lists_mut().message_to = to;
                }
            }
            TabAction::Converse(to) => {
                let l = self.lists_mut();
                l.message_to = to;
                l.error = None;
                self.show_tab(Tab::Messages);
            }
            TabAction::SendMessage { to, text } => self.send_message(&to, &text),
            TabAction::AddContact(uri) => self.add_contact(&uri),
            TabAction::RemoveContact(uri) => self.remove_contact(&uri),
        }
    }

    fn send_message(&mut self, to: &str, text: &str) {
        let (to, text) = match messaging::validate(to, text) {
            Ok(ok) => ok,
            Err(e) => {
                self.lists_mut().error = Some((Tab::Messages, e));
                return;
            }
        };
        if self.agent.is_none() {
            self.lists_mut().error = Some((
                Tab::Messages,
                "Sign in first: fill in the account settings and press \"Save and sign in\"."
                    .into(),
            ));
            return;
        }
        self.last_message_id = self.last_message_id.saturating_add(1);
        let id = self.last_message_id;
        let now_ms = self.wall_ms();
        let l = self.lists_mut();
        l.error = None;
        l.messages.push(messaging::outgoing(id, &to, &text, now_ms));
        history::trim(&mut l.messages, MAX_MESSAGES);
        let list = l.messages.clone();
        self.store(Stored::Messages(list));
        self.command(Command::SendMessage { id, to, text });
    }

    fn add_contact(&mut self, uri: &str) {
        let uri = match contacts::validate_new(&self.lists.contacts, uri) {
            Ok(u) => u,
            Err(e) => {
                self.lists_mut().error = Some((Tab::Contacts, e));
                return;
            }
        };
        let l = self.lists_mut();
        l.error = None;
        l.contacts.push(Contact { uri: uri.clone() });
        history::trim(&mut l.contacts, MAX_CONTACTS);
        let list = l.contacts.clone();
        self.store(Stored::Contacts(list));
        if self.watch.is_registered() {
            self.command(Command::Subscribe {
                target: uri,
                package: EventPackage::Presence,
            });
        }
    }

    fn remove_contact(&mut self, uri: &str) {
        let l = self.lists_mut();
        l.contacts.retain(|c| c.uri != uri);
        l.lamps.remove(uri);
        let list = l.contacts.clone();
        self.store(Stored::Contacts(list));
        if self.watch.is_registered() {
            self.command(Command::Unsubscribe {
                target: uri.to_string(),
                package: EventPackage::Presence,
            });
        }
    }
}
