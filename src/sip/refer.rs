//! The pure parts of transfers and in-call signalling: `Refer-To` with an
//! embedded `Replaces` (RFC 3515, 3891, 5589), `message/sipfrag` status lines,
//! DTMF in SIP INFO bodies, and auto-answer hints. No state here.

use super::message::{request_uri_of, split_uri_headers, Message, NameAddr, SipUri};

/// Where a REFER sends us: the URI to call and the `Replaces` value (decoded)
/// to put in that INVITE, if the Refer-To had one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReferTarget {
    pub uri: String,
    pub replaces: Option<String>,
}

/// The dialog a `Replaces` header names (RFC 3891 6.1), as the receiver of
/// the INVITE sees it: `to_tag` is its local tag, `from_tag` the remote one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplacesId {
    pub call_id: String,
    pub to_tag: String,
    pub from_tag: String,
    pub early_only: bool,
}

fn unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b)
}

/// %-escape everything but unreserved characters (for a URI header value).
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if unreserved(b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Undo %-escapes; `None` for a broken escape or a result that is not UTF-8.
pub fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return None;
            }
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Reads a `Refer-To` value: a `sip:`/`sips:` URI, possibly with URI headers
/// (`?Replaces=…`). The headers are for the INVITE to send (RFC 3515 2.1,
/// RFC 3261 19.1.5), not part of its Request-URI: `uri` comes without
/// them, and a URI that cannot be a Request-URI is refused. Only
/// `Replaces` is taken; other URI headers are ignored.
pub fn parse_refer_to(value: &str) -> Result<ReferTarget, String> {
    let na = NameAddr::parse(value).map_err(|e| e.reason())?;
    let (base, headers) = split_uri_headers(&na.uri);
    let headers = headers.unwrap_or("");
    let lower = base.to_ascii_lowercase();
    if !(lower.starts_with("sip:") || lower.starts_with("sips:")) {
        return Err("the transfer target is not a SIP address".into());
    }
    let base = request_uri_of(base).map_err(|e| e.reason())?;
    let uri = SipUri::parse(&base).map_err(|e| e.reason())?;
    if uri.host.is_empty() {
        return Err("the transfer target has no host".into());
    }
    let mut replaces = None;
    for h in headers.split('&') {
        if let Some((name, v)) = h.split_once('=') {
            if name.eq_ignore_ascii_case("replaces") {
                let decoded =
                    percent_decode(v).ok_or("the Replaces in the transfer target is malformed")?;
                if decoded.chars().any(char::is_control) || parse_replaces(&decoded).is_none() {
                    return Err("the Replaces in the transfer target is malformed".into());
                }
                replaces = Some(decoded);
            }
        }
    }
    Ok(ReferTarget {
        uri: base,
        replaces,
    })
}

/// Reads a `Replaces` header value: `call-id;to-tag=…;from-tag=…[;early-only]`.
pub fn parse_replaces(value: &str) -> Option<ReplacesId> {
    let mut parts = value.split(';');
    let call_id = parts.next()?.trim();
    if call_id.is_empty() {
        return None;
    }
    let (mut to_tag, mut from_tag, mut early_only) = (None, None, false);
    for p in parts {
        let (k, v) = match p.split_once('=') {
            Some((k, v)) => (k.trim(), v.trim()),
            None => (p.trim(), ""),
        };
        if k.eq_ignore_ascii_case("to-tag") {
            to_tag = Some(v.to_string());
        } else if k.eq_ignore_ascii_case("from-tag") {
            from_tag = Some(v.to_string());
        } else if k.eq_ignore_ascii_case("early-only") {
            early_only = true;
        }
    }
    Some(ReplacesId {
        call_id: call_id.to_string(),
        to_tag: to_tag.filter(|t| !t.is_empty())?,
        from_tag: from_tag.filter(|t| !t.is_empty())?,
        early_only,
    })
}

/// The `Refer-To` value for an attended transfer: `uri` with the dialog to
/// replace as a `Replaces` URI header (RFC 3891 with RFC 5589 7.1).
pub fn refer_to_with_replaces(uri: &str, call_id: &str, to_tag: &str, from_tag: &str) -> String {
    let replaces = format!("{call_id};to-tag={to_tag};from-tag={from_tag}");
    format!("<{uri}?Replaces={}>", percent_encode(&replaces))
}

/// The status line of a `message/sipfrag` body (`SIP/2.0 200 OK`).
pub fn parse_sipfrag(body: &str) -> Option<(u16, String)> {
    let line = body.lines().next()?.trim();
    let rest = line.strip_prefix("SIP/2.0 ")?;
    let (code, reason) = match rest.split_once(' ') {
        Some((c, r)) => (c, r),
        None => (rest, ""),
    };
    let code: u16 = code.parse().ok()?;
    if !(100..700).contains(&code) {
        return None;
    }
    Some((code, clean_text(reason, 80)))
}

/// Text from the network made safe to show: no control characters, at most
/// `max` characters.
pub fn clean_text(s: &str, max: usize) -> String {
    s.chars()
        .filter(|c| !c.is_control())
        .take(max)
        .collect::<String>()
        .trim()
        .to_string()
}

/// A DTMF digit we send or accept (`0-9 * # A-D`), uppercased.
pub fn dtmf_digit(c: char) -> Option<char> {
    let c = c.to_ascii_uppercase();
    ("0123456789*#ABCD".contains(c)).then_some(c)
}

/// What an INFO body says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InfoBody {
    /// No body: a keep-alive or a probe, answered 200.
    Empty,
    Digit(char),
    /// A DTMF type with no usable digit.
    BadDtmf,
    /// Another package: 415.
    Unsupported,
}

/// The types of INFO we take (`Accept` of a 415).
pub const INFO_ACCEPT: &str = "application/dtmf-relay, application/dtmf";

/// Reads an INFO request: `application/dtmf-relay` (`Signal=5`) or
/// `application/dtmf` (the digit alone).
pub fn info_body(req: &Message) -> InfoBody {
    let body = req.body_str().unwrap_or_default().trim();
    let ctype = req.content_type().map(str::to_ascii_lowercase);
    if body.is_empty() && req.body.is_empty() {
        return InfoBody::Empty;
    }
    let one = |s: &str| {
        let mut chars = s.trim().chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) => dtmf_digit(c),
            _ => None,
        }
    };
    let digit = match ctype.as_deref() {
        Some("application/dtmf-relay") => body.lines().find_map(|l| {
            let (k, v) = l.split_once('=')?;
            k.trim().eq_ignore_ascii_case("signal").then(|| one(v))?
        }),
        Some("application/dtmf") => one(body),
        _ => return InfoBody::Unsupported,
    };
    digit.map_or(InfoBody::BadDtmf, InfoBody::Digit)
}

/// The caller asks to be answered automatically: `Call-Info: <…>;answer-after=N`
/// gives N seconds, `Alert-Info: <…>;info=alert-autoanswer` (or any
/// `auto-answer` mark) gives 0.
pub fn auto_answer_after(invite: &Message) -> Option<u32> {
    for v in invite.header_values("Call-Info") {
        for item in super::message::split_header_list(v) {
            let after = item.split(';').skip(1).find_map(|p| {
                let (k, v) = p.split_once('=')?;
                k.trim()
                    .eq_ignore_ascii_case("answer-after")
                    .then(|| v.trim().trim_matches('"').parse::<u32>().ok())?
            });
            if let Some(n) = after {
                return Some(n.min(3600));
            }
        }
    }
    for v in invite.header_values("Alert-Info") {
        let lower = v.to_ascii_lowercase();
        if lower.contains("alert-autoanswer") || lower.contains("auto-answer") {
            return Some(0);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(headers: &str, ctype: &str, body: &str) -> Message {
        let ct = if ctype.is_empty() {
            String::new()
        } else {
            format!("Content-Type: {ctype}\r\n")
        };
        let raw = format!(
            "INFO sip:a@b SIP/2.0\r\nVia: SIP/2.0/WS x.invalid;branch=z9hG4bK1\r\n\
             From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: x\r\nCSeq: 2 INFO\r\n\
             {headers}{ct}Content-Length: {}\r\n\r\n{body}",
            body.len()
        );
        Message::parse(raw.as_bytes()).expect("parses")
    }

    #[test]
    fn refer_to_round_trip_with_replaces() {
        let v = refer_to_with_replaces("sip:1002@example.com", "a@b;c", "t1", "f 2");
        assert_eq!(
            v,
            "<sip:1002@example.com?Replaces=a%40b%3Bc%3Bto-tag%3Dt1%3Bfrom-tag%3Df%202>"
        );
        let t = parse_refer_to(&v).expect("parses");
        assert_eq!(t.uri, "sip:1002@example.com");
        assert_eq!(t.replaces.as_deref(), Some("a@b;c;to-tag=t1;from-tag=f 2"));
        let r = parse_replaces("abc;to-tag=t1;from-tag=f2;early-only").expect("replaces");
        assert_eq!((r.call_id.as_str(), r.to_tag.as_str()), ("abc", "t1"));
        assert!(r.early_only);
    }

    #[test]
    fn bad_refer_targets_are_refused() {
        assert!(parse_refer_to("<tel:+123>").is_err());
        assert!(parse_refer_to("<sip:x@y?Replaces=%ZZ>").is_err());
        assert_eq!(percent_decode("%+1"), None);
        assert_eq!(percent_decode("a%4"), None);
        assert!(parse_refer_to("<sip:x@y?Replaces=abc>").is_err(), "no tags");
        assert!(parse_refer_to("").is_err());
        assert_eq!(
            parse_refer_to("sip:1003@example.com").map(|t| t.uri),
            Ok("sip:1003@example.com".into())
        );
        assert!(parse_replaces("abc;to-tag=1").is_none());
        // a URI that could not be the new INVITE's Request-URI
        assert!(parse_refer_to("<sip:x\"y@example.com>").is_err());
        assert!(parse_refer_to("<sip:@example.com>").is_err());
    }

    #[test]
    fn refer_to_headers_are_not_in_the_request_uri() {
        // other URI headers are dropped, Replaces is kept for the INVITE,
        // URI parameters stay
        let t = parse_refer_to(
            "<sip:1002@example.com;transport=ws?Subject=hi&Replaces=c1%3Bto-tag%3Dt%3Bfrom-tag%3Df>",
        )
        .expect("parses");
        assert_eq!(t.uri, "sip:1002@example.com;transport=ws");
        assert_eq!(t.replaces.as_deref(), Some("c1;to-tag=t;from-tag=f"));
        // a `?` in the user part is not where the headers start
        let t = parse_refer_to("<sip:a?b@example.com?Replaces=c1%3Bto-tag%3Dt%3Bfrom-tag%3Df>")
            .expect("parses");
        assert_eq!(t.uri, "sip:a?b@example.com");
        assert!(t.replaces.is_some());
    }

    #[test]
    fn sipfrag_status_lines() {
        assert_eq!(
            parse_sipfrag("SIP/2.0 180 Ringing\r\n"),
            Some((180, "Ringing".into()))
        );
        assert_eq!(parse_sipfrag("SIP/2.0 200 OK"), Some((200, "OK".into())));
        assert_eq!(parse_sipfrag("SIP/2.0 99 Low"), None);
        assert_eq!(parse_sipfrag("HTTP/1.1 200 OK"), None);
        assert_eq!(
            parse_sipfrag("SIP/2.0 486 Busy\u{7}Here"),
            Some((486, "BusyHere".into()))
        );
    }

    #[test]
    fn info_bodies() {
        let relay = msg("", "application/dtmf-relay", "Signal=5\r\nDuration=160\r\n");
        assert_eq!(info_body(&relay), InfoBody::Digit('5'));
        assert_eq!(
            info_body(&msg("", "application/dtmf", "#")),
            InfoBody::Digit('#')
        );
        assert_eq!(
            info_body(&msg("", "application/dtmf-relay", "Signal=x")),
            InfoBody::BadDtmf
        );
        assert_eq!(info_body(&msg("", "", "")), InfoBody::Empty);
        assert_eq!(
            info_body(&msg("", "application/json", "{}")),
            InfoBody::Unsupported
        );
    }

    #[test]
    fn auto_answer_hints() {
        let m = msg(
            "Call-Info: <sip:x@y>;answer-after=3\r\n",
            "application/dtmf",
            "1",
        );
        assert_eq!(auto_answer_after(&m), Some(3));
        let m = msg(
            "Alert-Info: <http://x/>;info=alert-autoanswer\r\n",
            "application/dtmf",
            "1",
        );
        assert_eq!(auto_answer_after(&m), Some(0));
        let m = msg(
            "Call-Info: <http://x/>;purpose=icon\r\n",
            "application/dtmf",
            "1",
        );
        assert_eq!(auto_answer_after(&m), None);
    }
}
