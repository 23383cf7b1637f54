//! Instant messages as the messages view keeps them (pure: no clock, no
//! storage): sent and received messages with their delivery status, the
//! unread count, conversations by peer, and the list as stored in the
//! browser (`softphone.messages`, last [`MAX_MESSAGES`] per account).

use serde::{Deserialize, Serialize};

/// How many messages are kept per account.
pub const MAX_MESSAGES: usize = 200;
/// The longest message we send (SIP MESSAGE bodies should stay small).
pub const MAX_TEXT: usize = 1300;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MsgDirection {
    In,
    Out,
}

impl MsgDirection {
    /// `data-direction` of a message.
    pub fn as_str(self) -> &'static str {
        match self {
            MsgDirection::In => "in",
            MsgDirection::Out => "out",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MsgStatus {
    Sending,
    Delivered,
    Failed,
}

impl MsgStatus {
    /// `data-status` of a message.
    pub fn as_str(self) -> &'static str {
        match self {
            MsgStatus::Sending => "sending",
            MsgStatus::Delivered => "delivered",
            MsgStatus::Failed => "failed",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// Our id for a sent message ([`crate::sip::Command::SendMessage`]); 0
    /// for a received one.
    pub id: u32,
    pub direction: MsgDirection,
    /// The other party: the address as typed (sent) or the sender's URI.
    pub peer: String,
    /// The sender's display name (received), else empty.
    #[serde(default)]
    pub peer_name: String,
    pub text: String,
    /// ms since the epoch.
    pub at_ms: f64,
    pub status: MsgStatus,
    /// Why a sent message failed (human), else empty.
    #[serde(default)]
    pub reason: String,
}

/// A sent message, `sending` until its status arrives.
pub fn outgoing(id: u32, to: &str, text: &str, at_ms: f64) -> Message {
    Message {
        id,
        direction: MsgDirection::Out,
        peer: to.trim().to_string(),
        peer_name: String::new(),
        text: text.to_string(),
        at_ms,
        status: MsgStatus::Sending,
        reason: String::new(),
    }
}

/// A received message (always `delivered`).
pub fn incoming(from_uri: &str, from_name: Option<&str>, text: &str, at_ms: f64) -> Message {
    Message {
        id: 0,
        direction: MsgDirection::In,
        peer: from_uri.trim().to_string(),
        peer_name: from_name.unwrap_or("").trim().to_string(),
        text: text.to_string(),
        at_ms,
        status: MsgStatus::Delivered,
        reason: String::new(),
    }
}

/// Check what the user typed before sending: the recipient and the text,
/// trimmed. The error is a sentence for the user.
pub fn validate(to: &str, text: &str) -> Result<(String, String), String> {
    let to = to.trim();
    let text = text.trim();
    if to.is_empty() {
        return Err("Enter who the message is for (a number or sip: address).".into());
    }
    if to.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("The recipient cannot contain spaces.".into());
    }
    if text.is_empty() {
        return Err("Type a message first.".into());
    }
    if text.chars().count() > MAX_TEXT {
        return Err(format!(
            "The message is too long (at most {MAX_TEXT} characters)."
        ));
    }
    Ok((to.to_string(), text.to_string()))
}

/// The id for the next sent message: above every id in `list` and `floor`.
pub fn next_id(list: &[Message], floor: u32) -> u32 {
    list.iter()
        .map(|m| m.id)
        .max()
        .unwrap_or(0)
        .max(floor)
        .saturating_add(1)
        .max(1)
}

/// Apply [`crate::sip::Event::MessageStatus`]: the sent message `id` that is
/// still `sending` becomes `delivered` or `failed`. False if none matched.
pub fn apply_status(list: &mut [Message], id: u32, delivered: bool, reason: &str) -> bool {
    let Some(m) = list
        .iter_mut()
        .rev()
        .find(|m| m.direction == MsgDirection::Out && m.id == id && m.status == MsgStatus::Sending)
    else {
        return false;
    };
    if delivered {
        m.status = MsgStatus::Delivered;
        m.reason.clear();
    } else {
        m.status = MsgStatus::Failed;
        m.reason = reason.trim().to_string();
    }
    true
}

/// Messages loaded from storage that were still `sending` when the page
/// went away will never hear back: they failed.
pub fn settle_after_reload(list: &mut [Message]) {
    for m in list.iter_mut().filter(|m| m.status == MsgStatus::Sending) {
        m.status = MsgStatus::Failed;
        m.reason = "No answer before the page was closed".into();
    }
}

/// Who a URI or number is, for grouping: the user part (or host) in lower
/// case, without `sip:`, angle brackets or parameters. `1001`,
/// `sip:1001@pbx` and `<sips:1001@pbx;transport=ws>` are the same peer.
pub fn peer_key(uri: &str) -> String {
    let u = uri.trim();
    let u = u.strip_prefix('<').unwrap_or(u);
    let u = u.split('>').next().unwrap_or(u);
    let lower = u.to_ascii_lowercase();
    let u = lower
        .strip_prefix("sips:")
        .or_else(|| lower.strip_prefix("sip:"))
        .or_else(|| lower.strip_prefix("tel:"))
        .unwrap_or(&lower);
    let u = u.split([';', '?']).next().unwrap_or(u);
    match u.split_once('@') {
        Some((user, _)) if !user.is_empty() => user.to_string(),
        _ => u.to_string(),
    }
}

/// The conversation with `peer` (everything when `peer` is blank).
pub fn conversation<'a>(list: &'a [Message], peer: &str) -> Vec<&'a Message> {
    let key = peer_key(peer);
    list.iter()
        .filter(|m| key.is_empty() || peer_key(&m.peer) == key)
        .collect()
}

/// The peers we have talked with, most recent first, each once: (address
/// as last seen, name if any).
pub fn peers(list: &[Message]) -> Vec<(String, String)> {
    let mut seen: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for m in list.iter().rev() {
        let key = peer_key(&m.peer);
        if key.is_empty() || seen.contains(&key) {
            continue;
        }
        seen.push(key);
        out.push((m.peer.clone(), m.peer_name.clone()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_updates_only_the_pending_sent_message() {
        let mut list = vec![
            incoming("sip:1001@x", Some("Bob"), "hi", 1.0),
            outgoing(1, "1001", "hello", 2.0),
            outgoing(2, "1001", "again", 3.0),
        ];
        assert!(apply_status(&mut list, 2, false, " 404 Not Found "));
        assert_eq!(list[2].status, MsgStatus::Failed);
        assert_eq!(list[2].reason, "404 Not Found");
        assert_eq!(list[1].status, MsgStatus::Sending);
        assert!(apply_status(&mut list, 1, true, ""));
        assert_eq!(list[1].status, MsgStatus::Delivered);
        // already settled, unknown, or the id 0 of a received message
        assert!(!apply_status(&mut list, 1, false, "late"));
        assert_eq!(list[1].status, MsgStatus::Delivered);
        assert!(!apply_status(&mut list, 9, true, ""));
        assert!(!apply_status(&mut list, 0, true, ""));
        assert_eq!(list[0].status, MsgStatus::Delivered);
    }

    #[test]
    fn ids_keep_increasing_across_reloads() {
        let list = vec![outgoing(7, "a", "x", 0.0), incoming("b", None, "y", 0.0)];
        assert_eq!(next_id(&list, 0), 8);
        assert_eq!(next_id(&list, 20), 21);
        assert_eq!(next_id(&[], 0), 1);
        let max = vec![outgoing(u32::MAX, "a", "x", 0.0)];
        assert_eq!(next_id(&max, 0), u32::MAX);
    }

    #[test]
    fn pending_messages_fail_after_a_reload() {
        let mut list = vec![outgoing(1, "a", "x", 0.0), outgoing(2, "a", "y", 0.0)];
        apply_status(&mut list, 1, true, "");
        settle_after_reload(&mut list);
        assert_eq!(list[0].status, MsgStatus::Delivered);
        assert_eq!(list[1].status, MsgStatus::Failed);
        assert!(!list[1].reason.is_empty());
    }

    #[test]
    fn peers_match_by_user_part() {
        assert_eq!(peer_key("1001"), "1001");
        assert_eq!(peer_key(" <sips:Bob@PBX.example;transport=ws> "), "bob");
        assert_eq!(peer_key("sip:pbx.example;lr"), "pbx.example");
        assert_eq!(peer_key(""), "");
        let list = vec![
            incoming("sip:1001@x", None, "a", 0.0),
            outgoing(1, "1002", "b", 1.0),
            outgoing(2, "sip:1001@x", "c", 2.0),
        ];
        let conv: Vec<&str> = conversation(&list, "1001")
            .iter()
            .map(|m| m.text.as_str())
            .collect();
        assert_eq!(conv, ["a", "c"]);
        assert_eq!(conversation(&list, "  ").len(), 3);
        let p = peers(&list);
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].0, "sip:1001@x");
        assert_eq!(p[1].0, "1002");
    }

    #[test]
    fn what_the_user_typed_is_checked() {
        assert_eq!(
            validate(" 1001 ", "  hi there \n"),
            Ok(("1001".into(), "hi there".into()))
        );
        assert!(validate("", "hi").is_err());
        assert!(validate("10 01", "hi").is_err());
        assert!(validate("1001", "   ").is_err());
        assert!(validate("1001", &"x".repeat(MAX_TEXT + 1)).is_err());
        assert!(validate("1001", &"é".repeat(MAX_TEXT)).is_ok());
    }

    #[test]
    fn messages_survive_json_and_keep_markup_as_text() {
        let m = incoming("sip:e@x", Some("Eve"), "<img src=x onerror=alert(1)>", 5.0);
        let json = serde_json::to_string(&m).unwrap();
        assert!(json.contains("\"in\"") && json.contains("\"delivered\""));
        let back: Message = serde_json::from_str(&json).unwrap();
        assert_eq!(back, m);
    }
}
