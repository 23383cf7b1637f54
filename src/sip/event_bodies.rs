//! Pure parsers for event package bodies: PIDF with RPID activities
//! (RFC 3863, 4480), dialog-info (RFC 4235), message-summary (RFC 3842);
//! and the builder of our own PIDF document for PUBLISH.
//!
//! The XML reading is deliberately small: a scan over tags and text that
//! ignores namespace prefixes, comments, processing instructions and
//! attributes. Anything it cannot make sense of gives `Unknown`, never a
//! panic.

use super::PresenceStatus;

/// One piece of an XML document as the scanner sees it.
#[derive(Debug, PartialEq, Eq)]
enum Piece<'a> {
    /// `<name …>` (or the opening half of `<name …/>`): the local name.
    Open(&'a str),
    /// `</name>` (or the closing half of `<name …/>`).
    Close(&'a str),
    Text(&'a str),
}

/// The local name of a tag (`rpid:on-the-phone` gives `on-the-phone`).
fn local_name(raw: &str) -> &str {
    let name = raw
        .split(|c: char| c.is_whitespace() || c == '/' || c == '>')
        .next()
        .unwrap_or("");
    name.rsplit(':').next().unwrap_or(name)
}

/// Split a document into tags and text; malformed tails are dropped.
fn pieces(doc: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut rest = doc;
    while !rest.is_empty() {
        match rest.find('<') {
            None => {
                out.push(Piece::Text(rest));
                break;
            }
            Some(i) => {
                if i > 0 {
                    out.push(Piece::Text(&rest[..i]));
                }
                rest = &rest[i..];
            }
        }
        // comments and CDATA may contain '>'
        if let Some(after) = rest.strip_prefix("<!--") {
            match after.find("-->") {
                Some(j) => rest = &after[j + 3..],
                None => break,
            }
            continue;
        }
        if let Some(after) = rest.strip_prefix("<![CDATA[") {
            match after.find("]]>") {
                Some(j) => {
                    out.push(Piece::Text(&after[..j]));
                    rest = &after[j + 3..];
                }
                None => break,
            }
            continue;
        }
        let Some(end) = rest.find('>') else { break };
        let tag = &rest[1..end];
        rest = &rest[end + 1..];
        if tag.starts_with('?') || tag.starts_with('!') {
            continue;
        }
        if let Some(name) = tag.strip_prefix('/') {
            out.push(Piece::Close(local_name(name.trim())));
        } else {
            let name = local_name(tag.trim());
            out.push(Piece::Open(name));
            if tag.trim_end().ends_with('/') {
                out.push(Piece::Close(name));
            }
        }
    }
    out
}

/// Replace the predefined entities and numeric character references.
pub fn xml_unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(end) = rest.find(';').filter(|e| *e <= 12) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..end];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .or_else(|| entity.strip_prefix("#X"))
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Escape text for an XML element or attribute.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c.is_control() && c != '\n' && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

/// The text inside each element named `name` (local name), trimmed and
/// unescaped, in document order.
fn texts_of(ps: &[Piece<'_>], name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth_in: Option<String> = None;
    for p in ps {
        match p {
            Piece::Open(n) if n.eq_ignore_ascii_case(name) => depth_in = Some(String::new()),
            Piece::Close(n) if n.eq_ignore_ascii_case(name) => {
                if let Some(t) = depth_in.take() {
                    out.push(xml_unescape(t.trim()));
                }
            }
            Piece::Text(t) => {
                if let Some(acc) = depth_in.as_mut() {
                    acc.push_str(t);
                }
            }
            _ => {}
        }
    }
    out
}

/// The longest note we pass on (a misbehaving server cannot flood the UI).
pub const MAX_NOTE_CHARS: usize = 200;

/// What a PIDF document says: Available/Offline from `<basic>`, refined by
/// RPID activities (`on-the-phone`, `busy` give Busy; `away` and similar
/// give Away), and the first non-empty `<note>`.
pub fn parse_pidf(body: &str) -> (PresenceStatus, Option<String>) {
    let ps = pieces(body);
    let basics = texts_of(&ps, "basic");
    let open = basics.iter().any(|b| b.eq_ignore_ascii_case("open"));
    let closed = basics.iter().any(|b| b.eq_ignore_ascii_case("closed"));
    let mut in_activities = false;
    let mut busy = false;
    let mut away = false;
    for p in &ps {
        match p {
            Piece::Open(n) if n.eq_ignore_ascii_case("activities") => in_activities = true,
            Piece::Close(n) if n.eq_ignore_ascii_case("activities") => in_activities = false,
            Piece::Open(n) if in_activities => {
                let n = n.to_ascii_lowercase();
                match n.as_str() {
                    "on-the-phone" | "busy" | "meeting" | "presentation" | "performance" => {
                        busy = true
                    }
                    "away" | "vacation" | "sleeping" | "appointment" | "travel" | "steering" => {
                        away = true
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
    let status = if open {
        if busy {
            PresenceStatus::Busy
        } else if away {
            PresenceStatus::Away
        } else {
            PresenceStatus::Available
        }
    } else if closed {
        PresenceStatus::Offline
    } else {
        PresenceStatus::Unknown
    };
    let note = texts_of(&ps, "note")
        .into_iter()
        .map(|n| n.chars().filter(|c| !c.is_control()).collect::<String>())
        .map(|n| n.trim().chars().take(MAX_NOTE_CHARS).collect::<String>())
        .find(|n| !n.is_empty());
    (status, note)
}

/// What a dialog-info document says: Busy when any dialog is confirmed,
/// Ringing when one is early (or trying/proceeding), else Available.
pub fn parse_dialog_info(body: &str) -> PresenceStatus {
    let ps = pieces(body);
    let is_doc = ps
        .iter()
        .any(|p| matches!(p, Piece::Open(n) if n.eq_ignore_ascii_case("dialog-info")));
    if !is_doc {
        return PresenceStatus::Unknown;
    }
    let states = texts_of(&ps, "state");
    if states.iter().any(|s| s.eq_ignore_ascii_case("confirmed")) {
        PresenceStatus::Busy
    } else if states.iter().any(|s| {
        ["early", "trying", "proceeding"]
            .iter()
            .any(|e| s.eq_ignore_ascii_case(e))
    }) {
        PresenceStatus::Ringing
    } else {
        PresenceStatus::Available
    }
}

/// A message-summary body (RFC 3842): `(waiting, new, old)` voice messages.
/// `None` when there is no `Messages-Waiting` line.
pub fn parse_message_summary(body: &str) -> Option<(bool, u32, u32)> {
    let mut waiting = None;
    let (mut new, mut old) = (0u32, 0u32);
    for line in body.lines() {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let name = name.trim();
        let value = value.trim();
        if name.eq_ignore_ascii_case("Messages-Waiting") {
            waiting = Some(value.eq_ignore_ascii_case("yes"));
        } else if name.eq_ignore_ascii_case("Voice-Message") {
            // "new/old" optionally followed by " (urgent_new/urgent_old)"
            let counts = value.split_whitespace().next().unwrap_or("");
            if let Some((n, o)) = counts.split_once('/') {
                new = n.trim().parse().unwrap_or(0);
                old = o.trim().parse().unwrap_or(0);
            }
        }
    }
    waiting.map(|w| (w, new, old))
}

/// Our PIDF for PUBLISH: `entity` is our address of record, `tuple_id` a
/// stable token; `open` gives basic open/closed, `on_the_phone` adds the
/// RPID activity; `note` (may be empty) is escaped.
pub fn build_pidf(
    entity: &str,
    tuple_id: &str,
    open: bool,
    on_the_phone: bool,
    note: &str,
) -> String {
    let entity = xml_escape(entity);
    let tuple_id = xml_escape(tuple_id);
    let basic = if open { "open" } else { "closed" };
    let mut doc = String::new();
    doc.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n");
    doc.push_str(
        "<presence xmlns=\"urn:ietf:params:xml:ns:pidf\" \
         xmlns:dm=\"urn:ietf:params:xml:ns:pidf:data-model\" \
         xmlns:rpid=\"urn:ietf:params:xml:ns:pidf:rpid\" ",
    );
    doc.push_str(&format!("entity=\"{entity}\">\r\n"));
    doc.push_str(&format!(
        "<tuple id=\"t{tuple_id}\"><status><basic>{basic}</basic></status></tuple>\r\n"
    ));
    doc.push_str(&format!("<dm:person id=\"p{tuple_id}\">"));
    if on_the_phone {
        doc.push_str("<rpid:activities><rpid:on-the-phone/></rpid:activities>");
    }
    if !note.is_empty() {
        doc.push_str(&format!("<dm:note>{}</dm:note>", xml_escape(note)));
    }
    doc.push_str("</dm:person>\r\n</presence>\r\n");
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pidf_basic_open_and_closed() {
        let open = r#"<?xml version="1.0"?><presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:1001@x"><tuple id="a"><status><basic>open</basic></status></tuple></presence>"#;
        assert_eq!(parse_pidf(open), (PresenceStatus::Available, None));
        let closed = open.replace(">open<", ">closed<");
        assert_eq!(parse_pidf(&closed).0, PresenceStatus::Offline);
        assert_eq!(parse_pidf("").0, PresenceStatus::Unknown);
        assert_eq!(parse_pidf("<not xml").0, PresenceStatus::Unknown);
    }

    #[test]
    fn pidf_rpid_activities_and_note() {
        let doc = r#"<presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model" xmlns:rpid="urn:ietf:params:xml:ns:pidf:rpid">
<!-- a <comment> -->
<tuple id="t"><status><basic>open</basic></status></tuple>
<dm:person id="p"><rpid:activities><rpid:on-the-phone/></rpid:activities><dm:note>In a call &amp; &lt;busy&gt; &#233;</dm:note></dm:person></presence>"#;
        assert_eq!(
            parse_pidf(doc),
            (PresenceStatus::Busy, Some("In a call & <busy> é".into()))
        );
        let away = doc.replace("rpid:on-the-phone", "rpid:away");
        assert_eq!(parse_pidf(&away).0, PresenceStatus::Away);
        let busy = doc.replace("rpid:on-the-phone", "busy");
        assert_eq!(parse_pidf(&busy).0, PresenceStatus::Busy);
        let other = doc.replace("rpid:on-the-phone", "rpid:unknown");
        assert_eq!(parse_pidf(&other).0, PresenceStatus::Available);
    }

    #[test]
    fn our_pidf_reads_back() {
        let doc = build_pidf("sip:1000@example.com", "abc", true, true, "a <b> & \"c\"");
        assert_eq!(
            parse_pidf(&doc),
            (PresenceStatus::Busy, Some("a <b> & \"c\"".into()))
        );
        assert!(doc.contains("entity=\"sip:1000@example.com\""), "{doc}");
        let idle = build_pidf("sip:1000@example.com", "abc", true, false, "");
        assert_eq!(parse_pidf(&idle), (PresenceStatus::Available, None));
        assert!(!idle.contains("activities"));
    }

    #[test]
    fn dialog_info_states() {
        let doc = |state: &str| {
            format!(
                r#"<?xml version="1.0"?><dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="1" state="full" entity="sip:1001@x"><dialog id="d" direction="recipient"><state>{state}</state></dialog></dialog-info>"#
            )
        };
        assert_eq!(parse_dialog_info(&doc("confirmed")), PresenceStatus::Busy);
        assert_eq!(parse_dialog_info(&doc("early")), PresenceStatus::Ringing);
        assert_eq!(
            parse_dialog_info(&doc("terminated")),
            PresenceStatus::Available
        );
        let empty = r#"<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="0" state="full" entity="sip:1001@x"/>"#;
        assert_eq!(parse_dialog_info(empty), PresenceStatus::Available);
        assert_eq!(parse_dialog_info("garbage"), PresenceStatus::Unknown);
    }

    #[test]
    fn message_summary_counts() {
        let body =
            "Messages-Waiting: yes\r\nMessage-Account: sip:1000@x\r\nVoice-Message: 2/8 (0/2)\r\n";
        assert_eq!(parse_message_summary(body), Some((true, 2, 8)));
        assert_eq!(
            parse_message_summary("Messages-Waiting: no\r\n"),
            Some((false, 0, 0))
        );
        assert_eq!(parse_message_summary("Voice-Message: x/y"), None);
        assert_eq!(
            parse_message_summary("messages-waiting:YES\nvoice-message: 99999999999/1"),
            Some((true, 0, 1))
        );
    }

    #[test]
    fn unescape_is_total() {
        assert_eq!(
            xml_unescape("a &bogus; &#xZZ; & &#1114112;"),
            "a &bogus; &#xZZ; & &#1114112;"
        );
        assert_eq!(xml_unescape("&lt;&#x41;&#66;"), "<AB");
        for s in ["<", "<<>>", "<a", "</", "<!--", "<![CDATA[", "<?", "<a/>"] {
            let _ = parse_pidf(s);
            let _ = parse_dialog_info(s);
        }
    }
}
