//! Contacts (favourites) with presence lamps, and when to subscribe (pure:
//! no storage, no clock). Stored in the browser as `softphone.contacts`
//! (per account).

use crate::app::messaging::peer_key;
use crate::sip::{PresenceStatus, RegistrationState};
use serde::{Deserialize, Serialize};

/// How many contacts are kept per account.
pub const MAX_CONTACTS: usize = 200;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    /// The address or number as the user entered it; also the presence
    /// subscription's target.
    pub uri: String,
}

/// A contact's lamp: what we know of their presence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lamp {
    pub status: PresenceStatus,
    /// The presence note, or why we do not know.
    pub note: Option<String>,
}

impl Default for Lamp {
    fn default() -> Self {
        Lamp {
            status: PresenceStatus::Unknown,
            note: None,
        }
    }
}

/// `data-presence` of a contact.
pub fn presence_str(s: PresenceStatus) -> &'static str {
    match s {
        PresenceStatus::Available => "available",
        PresenceStatus::Busy => "busy",
        PresenceStatus::Ringing => "ringing",
        PresenceStatus::Away => "away",
        PresenceStatus::Offline => "offline",
        PresenceStatus::Unknown => "unknown",
    }
}

/// The lamp's words (the colour is not the only cue).
pub fn presence_label(s: PresenceStatus) -> &'static str {
    match s {
        PresenceStatus::Available => "Available",
        PresenceStatus::Busy => "Busy",
        PresenceStatus::Ringing => "Ringing",
        PresenceStatus::Away => "Away",
        PresenceStatus::Offline => "Offline",
        PresenceStatus::Unknown => "Unknown",
    }
}

/// Check an address typed into "add contact": trimmed, not empty, no spaces,
/// not too long, not there already (same user part). The error is for the
/// user.
pub fn validate_new(list: &[Contact], uri: &str) -> Result<String, String> {
    let uri = uri.trim();
    if uri.is_empty() {
        return Err("Enter a number or sip: address to add.".into());
    }
    if uri.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("An address cannot contain spaces.".into());
    }
    if uri.len() > 256 {
        return Err("That address is too long.".into());
    }
    if list.iter().any(|c| same_contact(&c.uri, uri)) {
        return Err(format!("{uri} is in your contacts already."));
    }
    if list.len() >= MAX_CONTACTS {
        return Err(format!("At most {MAX_CONTACTS} contacts."));
    }
    Ok(uri.to_string())
}

/// Two addresses of one contact: equal ignoring case, or the same user part
/// when either is a bare number/name.
pub fn same_contact(a: &str, b: &str) -> bool {
    let (a, b) = (a.trim(), b.trim());
    if a.eq_ignore_ascii_case(b) {
        return true;
    }
    let bare = |s: &str| !s.contains('@') && !s.contains(':');
    (bare(a) || bare(b)) && peer_key(a) == peer_key(b) && !peer_key(a).is_empty()
}

/// Index of the contact a presence event's `target` is about: the exact
/// address first, else the same contact.
pub fn find(list: &[Contact], target: &str) -> Option<usize> {
    list.iter()
        .position(|c| c.uri == target)
        .or_else(|| list.iter().position(|c| same_contact(&c.uri, target)))
}

/// Decides when to (re)subscribe: at the first `Registered` after the
/// account was not registered (sign-in, a new account, a reconnection), not
/// at every refresh.
#[derive(Clone, Debug, Default)]
pub struct RegWatch {
    registered: bool,
}

impl RegWatch {
    /// True when the subscriptions should be sent now.
    pub fn on_registration(&mut self, state: &RegistrationState) -> bool {
        match state {
            RegistrationState::Registered { .. } => !std::mem::replace(&mut self.registered, true),
            // a refresh goes Registering → Registered while still registered
            RegistrationState::Registering => false,
            RegistrationState::Unregistered
            | RegistrationState::Unregistering
            | RegistrationState::Failed { .. } => {
                self.registered = false;
                false
            }
        }
    }

    /// The account changed (a new user agent): subscribe again once it is
    /// registered.
    pub fn reset(&mut self) {
        self.registered = false;
    }

    pub fn is_registered(&self) -> bool {
        self.registered
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(uri: &str) -> Contact {
        Contact { uri: uri.into() }
    }

    #[test]
    fn adding_checks_blank_spaces_and_duplicates() {
        let list = vec![c("sip:1001@pbx"), c("alice")];
        assert_eq!(validate_new(&list, " 1002 "), Ok("1002".into()));
        assert!(validate_new(&list, "").is_err());
        assert!(validate_new(&list, "10 02").is_err());
        assert!(validate_new(&list, "1001").is_err());
        assert!(validate_new(&list, "SIP:1001@PBX").is_err());
        assert!(validate_new(&list, "sip:alice@pbx").is_err());
        // another domain is another person when both are full addresses
        assert!(validate_new(&list, "sip:1001@other").is_ok());
        assert!(validate_new(&list, &"1".repeat(300)).is_err());
        let full: Vec<Contact> = (0..MAX_CONTACTS).map(|i| c(&i.to_string())).collect();
        assert!(validate_new(&full, "x").is_err());
    }

    #[test]
    fn presence_targets_find_their_contact() {
        let list = vec![c("1001"), c("sip:1002@pbx"), c("sip:1001@pbx")];
        assert_eq!(find(&list, "sip:1001@pbx"), Some(2));
        assert_eq!(find(&list, "1001"), Some(0));
        assert_eq!(find(&list, "sip:1002@pbx"), Some(1));
        assert_eq!(find(&list, "1002"), Some(1));
        assert_eq!(find(&list, "sip:9@pbx"), None);
        assert_eq!(find(&list, ""), None);
    }

    #[test]
    fn every_status_has_an_attribute_and_words() {
        use PresenceStatus::*;
        let all = [Available, Busy, Ringing, Away, Offline, Unknown];
        let attrs: Vec<&str> = all.iter().map(|s| presence_str(*s)).collect();
        assert_eq!(
            attrs,
            ["available", "busy", "ringing", "away", "offline", "unknown"]
        );
        for s in all {
            assert!(presence_label(s).eq_ignore_ascii_case(presence_str(s)));
        }
        assert_eq!(Lamp::default().status, Unknown);
    }

    #[test]
    fn subscribe_once_per_registration_not_per_refresh() {
        let mut w = RegWatch::default();
        let reg = RegistrationState::Registered { expires: 600 };
        assert!(!w.on_registration(&RegistrationState::Registering));
        assert!(w.on_registration(&reg));
        // refreshes
        assert!(!w.on_registration(&RegistrationState::Registering));
        assert!(!w.on_registration(&reg));
        // lost and back
        assert!(!w.on_registration(&RegistrationState::Failed { reason: "x".into() }));
        assert!(w.on_registration(&reg));
        w.reset();
        assert!(!w.is_registered());
        assert!(w.on_registration(&reg));
        assert!(!w.on_registration(&RegistrationState::Unregistered));
        assert!(w.on_registration(&reg));
    }
}
