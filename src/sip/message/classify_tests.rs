//! Unit tests of [`classify`](super::classify) and its 400 replies.

use super::*;

const INVITE: &str = "INVITE sip:1000@pbx.example.com SIP/2.0\r\n\
Via: SIP/2.0/WSS proxy.example.com;branch=z9hG4bKp1, SIP/2.0/WSS edge.example.com;branch=z9hG4bKe1\r\n\
Via: SIP/2.0/WSS caller.invalid;branch=z9hG4bKc1\r\n\
Max-Forwards: 69\r\n\
From: \"Bob\" <sip:1001@pbx.example.com>;tag=from1\r\n\
To: <sip:1000@pbx.example.com>\r\n\
Call-ID: abc123@caller\r\n\
CSeq: 7 INVITE\r\n\
Contact: <sip:bob@caller.invalid;transport=ws>\r\n\
Content-Length: 0\r\n\r\n";

fn malformed(bytes: &[u8]) -> (String, Option<Message>) {
    match classify(bytes) {
        Incoming::Malformed { reason, reply } => (reason, reply),
        other => panic!("should be malformed: {other:?}"),
    }
}

/// The content of the quoted string in `Warning: 399 softphone "…"`.
fn warning_text(reply: &Message) -> String {
    let w = reply.header("Warning").expect("Warning");
    let inner = w
        .strip_prefix("399 softphone \"")
        .and_then(|r| r.strip_suffix('"'))
        .unwrap_or_else(|| panic!("Warning form: {w}"));
    let mut out = String::new();
    let mut escaped = false;
    for c in inner.chars() {
        if escaped {
            out.push(c);
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else {
            assert_ne!(c, '"', "unescaped quote in {w}");
            out.push(c);
        }
    }
    out
}

#[test]
fn keep_alives_are_not_messages() {
    for ka in ["\r\n\r\n", "\r\n", "", " \t\r\n "] {
        assert_eq!(classify(ka.as_bytes()), Incoming::KeepAlive, "{ka:?}");
    }
}

#[test]
fn requests_and_responses_are_told_apart() {
    match classify(INVITE.as_bytes()) {
        Incoming::Request(m) => {
            assert_eq!(m.method(), Some(&Method::Invite));
            assert_eq!(m.call_id(), Some("abc123@caller"));
        }
        other => panic!("{other:?}"),
    }
    let resp = "SIP/2.0 180 Ringing\r\nVia: SIP/2.0/WS a.invalid;branch=z9hG4bK1\r\n\
                From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\n\r\n";
    match classify(resp.as_bytes()) {
        Incoming::Response(m) => assert_eq!(m.code(), Some(180)),
        other => panic!("{other:?}"),
    }
    // a keep-alive before a message is skipped, not a keep-alive
    let with_ping = format!("\r\n\r\n{INVITE}");
    assert!(matches!(
        classify(with_ping.as_bytes()),
        Incoming::Request(_)
    ));
}

#[test]
fn a_bad_request_is_answered_with_400_copying_the_dialog_headers() {
    let bad = INVITE.replace("CSeq: 7 INVITE", "CSeq: 7 BYE");
    let (reason, reply) = malformed(bad.as_bytes());
    assert_eq!(
        reason,
        "CSeq method BYE does not match request method INVITE"
    );
    let reply = reply.expect("a 400");
    assert_eq!(reply.code(), Some(400));
    assert_eq!(reply.reason(), Some("Bad Request"));
    assert_eq!(
        reply.header_values("Via"),
        vec![
            "SIP/2.0/WSS proxy.example.com;branch=z9hG4bKp1, SIP/2.0/WSS edge.example.com;branch=z9hG4bKe1",
            "SIP/2.0/WSS caller.invalid;branch=z9hG4bKc1",
        ]
    );
    assert_eq!(
        reply.header("From"),
        Some("\"Bob\" <sip:1001@pbx.example.com>;tag=from1")
    );
    assert_eq!(reply.call_id(), Some("abc123@caller"));
    assert_eq!(reply.header("CSeq"), Some("7 BYE"));
    assert_eq!(warning_text(&reply), reason);
    // To: copied with a tag added, the same tag for the same bytes
    let to = reply.to().expect("To");
    assert_eq!(to.uri, "sip:1000@pbx.example.com");
    let tag = to.tag().expect("a To tag").to_string();
    assert!(
        tag.len() == 16 && tag.bytes().all(|b| b.is_ascii_hexdigit()),
        "{tag}"
    );
    let again = malformed(bad.as_bytes()).1.expect("a 400");
    assert_eq!(
        again.to().and_then(|t| t.tag().map(str::to_string)),
        Some(tag.clone())
    );
    let other = bad.replace("abc123@caller", "other@caller");
    let other = malformed(other.as_bytes()).1.expect("a 400");
    assert_ne!(
        other.to().and_then(|t| t.tag().map(str::to_string)),
        Some(tag)
    );
    // the reply itself is a well-formed response
    assert!(matches!(
        classify(&reply.to_bytes()),
        Incoming::Response(ref m) if m.code() == Some(400)
    ));
}

#[test]
fn an_existing_to_tag_is_kept() {
    let bad = INVITE
        .replace(
            "To: <sip:1000@pbx.example.com>",
            "To: <sip:1000@pbx.example.com>;tag=mine",
        )
        .replace("Max-Forwards: 69", "Max-Forwards: 69\r\nMax-Forwards: 70");
    let (reason, reply) = malformed(bad.as_bytes());
    assert_eq!(reason, "more than one Max-Forwards header");
    let reply = reply.expect("a 400");
    assert_eq!(
        reply.header_values("To"),
        vec!["<sip:1000@pbx.example.com>;tag=mine"]
    );
}

#[test]
fn quotes_in_the_reason_are_escaped_in_the_warning() {
    let bad = INVITE.replace("Max-Forwards: 69", "Max-Forwards: \"x\\y\"");
    let (reason, reply) = malformed(bad.as_bytes());
    assert!(reason.contains("\"x\\y\""), "{reason}");
    let reply = reply.expect("a 400");
    assert!(
        reply.header("Warning").unwrap().contains("\\\"x\\\\y\\\""),
        "{:?}",
        reply.header("Warning")
    );
    assert_eq!(warning_text(&reply), reason);
}

#[test]
fn no_reply_to_ack_responses_or_unreadable_requests() {
    let ack = INVITE
        .replace("INVITE sip:", "ACK sip:")
        .replace("CSeq: 7 INVITE", "CSeq: 7 BYE");
    assert_eq!(malformed(ack.as_bytes()).1, None, "never answer an ACK");

    let resp = "SIP/2.0 200 OK\r\nVia: SIP/2.0/WS a.invalid;branch=z9hG4bK1\r\n\
                From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\n\
                Content-Length: 10\r\n\r\nshort";
    let (reason, reply) = malformed(resp.as_bytes());
    assert!(
        reason.starts_with("body shorter than Content-Length"),
        "{reason}"
    );
    assert_eq!(reply, None, "never answer a response");

    for (what, header) in [
        (
            "Via",
            "Via: SIP/2.0/WSS caller.invalid;branch=z9hG4bKc1\r\n",
        ),
        ("Call-ID", "Call-ID: abc123@caller\r\n"),
        ("CSeq", "CSeq: 7 INVITE\r\n"),
        (
            "From",
            "From: \"Bob\" <sip:1001@pbx.example.com>;tag=from1\r\n",
        ),
        ("To", "To: <sip:1000@pbx.example.com>\r\n"),
    ] {
        let mut bad = INVITE.replace(header, "");
        if what == "Via" {
            bad = bad.replace(
                "Via: SIP/2.0/WSS proxy.example.com;branch=z9hG4bKp1, SIP/2.0/WSS edge.example.com;branch=z9hG4bKe1\r\n",
                "",
            );
        }
        let (reason, reply) = malformed(bad.as_bytes());
        assert_eq!(reason, format!("missing {what}"));
        assert_eq!(reply, None, "cannot answer without {what}");
    }
    // an unparseable top Via: nowhere to send the answer
    let bad = INVITE.replace(
        "Via: SIP/2.0/WSS proxy.example.com;branch=z9hG4bKp1, SIP/2.0/WSS edge.example.com;branch=z9hG4bKe1",
        "Via: somewhere",
    )
    .replace("CSeq: 7 INVITE", "CSeq: 7 BYE");
    assert_eq!(malformed(bad.as_bytes()).1, None);
    // garbage
    for junk in [&b"\xff\xfe\r\n\r\n"[..], b"hello", b"<sip:x> y z\r\n\r\n"] {
        assert_eq!(malformed(junk).1, None, "{junk:?}");
    }
}

#[test]
fn framing_errors_in_a_readable_request_get_a_400() {
    for (cl, want) in [
        (
            "Content-Length: 99999999999999999999999",
            "invalid Content-Length",
        ),
        ("Content-Length: -1", "invalid Content-Length"),
        (
            "Content-Length: 18446744073709551615",
            "body shorter than Content-Length",
        ),
        ("Content-Length: 50", "body shorter than Content-Length"),
    ] {
        let bad = INVITE.replace("Content-Length: 0", cl);
        let (reason, reply) = malformed(bad.as_bytes());
        assert!(reason.starts_with(want), "{cl}: {reason}");
        assert!(reply.is_some(), "{cl}");
    }
}

#[test]
fn control_characters_and_bad_utf8_in_headers_are_rejected_without_panic() {
    let cr = INVITE.replace("Max-Forwards: 69", "Subject: a\rb");
    assert_eq!(
        malformed(cr.as_bytes()).0,
        "control character in the header section"
    );
    let nul = INVITE.replace("Max-Forwards: 69", "Subject: a\0b");
    assert_eq!(
        malformed(nul.as_bytes()).0,
        "control character in the header section"
    );
    // a Subject that is not UTF-8: rejected, but the 400 can still be sent
    let mut bytes = INVITE
        .replace("Max-Forwards: 69", "Subject: caf\u{e9}")
        .into_bytes();
    let at = bytes.windows(4).position(|w| w == b"caf\xc3").unwrap() + 3;
    bytes.remove(at + 1);
    let (reason, reply) = malformed(&bytes);
    assert_eq!(reason, "header section is not valid UTF-8");
    assert!(reply.expect("a 400").header("Subject").is_none());
    // a tab is LWS, not a control character
    let tab = INVITE.replace("Max-Forwards: 69", "Subject:\ta\tb");
    assert!(matches!(classify(tab.as_bytes()), Incoming::Request(_)));
}

#[test]
fn max_forwards_is_at_most_255() {
    let ok = INVITE.replace("Max-Forwards: 69", "Max-Forwards: 255");
    assert!(matches!(classify(ok.as_bytes()), Incoming::Request(_)));
    let bad = INVITE.replace("Max-Forwards: 69", "Max-Forwards: 256");
    assert_eq!(malformed(bad.as_bytes()).0, "invalid Max-Forwards \"256\"");
}

/// Found by the `agent` fuzz target (fuzz/regressions/agent/crash-*): a
/// request whose From, CSeq or Via list cannot be read got a 400 copying them, which
/// our own parser (and the PBX) then rejected.
#[test]
fn no_400_that_copies_an_unreadable_from_or_cseq() {
    for (from, to) in [
        (
            "From: \"Bob\" <sip:1001@pbx.example.com>;tag=from1",
            "From: Peer 1\" <sip:101@example.com>;tag=pi1",
        ),
        (
            "From: \"Bob\" <sip:1001@pbx.example.com>;tag=from1",
            "From: \"Peer 1\" t<sip:101@example.com>;tag=pi1",
        ),
        (
            "From: \"Bob\" <sip:1001@pbx.example.com>;tag=from1",
            "From: <sip:102@example.com;tag=pi2",
        ),
        (
            "From: \"Bob\" <sip:1001@pbx.example.com>;tag=from1",
            "From: \"Peer 1\" <sip101@example.com>;tag=pi1",
        ),
        ("CSeq: 7 INVITE", "CSeq: 1 I#NVITE"),
        ("CSeq: 7 INVITE", "CSeq: 1 INVI;TE"),
        ("CSeq: 7 INVITE", "CSeq: 4294967296 INVITE"),
        (
            "Via: SIP/2.0/WSS caller.invalid;branch=z9hG4bKc1",
            "Via: ,SIP/2.0/WSS caller.invalid;branch=z9hG4bKc1",
        ),
    ] {
        let bad = INVITE.replace(from, to);
        let (reason, reply) = malformed(bad.as_bytes());
        assert_eq!(reply, None, "{to}: {reason}");
    }
}

/// Found by the `parse` fuzz target (fuzz/regressions/parse/crash-ee16…):
/// a To parameter value holding `<` was accepted, and the `;tag=` the 400
/// appended after it was then read as part of that value.
#[test]
fn angle_brackets_in_a_parameter_value_are_rejected() {
    let bad = INVITE.replace(
        "To: <sip:1000@pbx.example.com>",
        "To: sip:1000@pbx.example.com ; tga = 1<<<2",
    );
    let (reason, reply) = malformed(bad.as_bytes());
    assert_eq!(reason, "invalid To: invalid parameter \"tga = 1<<<2\"");
    assert_eq!(reply, None);
    for v in ["1>2", "<"] {
        assert!(NameAddr::parse(&format!("<sip:a@b>;x={v}")).is_err(), "{v}");
    }
    // quoted, they are fine
    let a = NameAddr::parse("<sip:a@b>;x=\"1<2\";tag=t").unwrap();
    assert_eq!(a.tag(), Some("t"));
}
