//! Evidence for why this module does not parse with rsip 0.4: each test
//! shows rsip's behaviour next to ours on the same input.

use super::*;
use rsip::prelude::*;
use std::convert::TryFrom;

const HEAD: &str = "SIP/2.0 200 OK\r\n\
Via: SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bKxyz\r\n\
From: <sip:a@x>;tag=1\r\n\
To: <sip:a@x>;tag=2\r\n\
CSeq: 1 REGISTER\r\n";

fn rsip(s: &str) -> Result<rsip::SipMessage, rsip::Error> {
    rsip::SipMessage::try_from(s)
}

#[test]
fn compact_names_ignored() {
    let s = format!("{HEAD}i: abc\r\nl: 0\r\n\r\n");
    let r = rsip(&s).expect("rsip parses");
    assert!(r.call_id_header().is_err(), "rsip: `i:` is not Call-ID");
    assert_eq!(
        Message::parse(s.as_bytes()).map(|m| m.call_id().map(String::from)),
        Ok(Some("abc".into()))
    );
}

#[test]
fn folded_lines_rejected() {
    let s = format!("{HEAD}Call-ID: c\r\nSubject: a\r\n b\r\n\r\n");
    assert!(rsip(&s).is_err());
    assert!(Message::parse(s.as_bytes()).is_ok());
}

#[test]
fn extension_method_rejected() {
    let s = "FOOBAR sip:a@x SIP/2.0\r\nVia: SIP/2.0/WS h;branch=z9hG4bK1\r\n\
             From: <sip:a@x>;tag=1\r\nTo: <sip:a@x>\r\nCall-ID: c\r\nCSeq: 1 FOOBAR\r\n\r\n";
    assert!(rsip(s).is_err());
    assert!(Message::parse(s.as_bytes()).is_ok());
}

#[test]
fn method_case_insensitive() {
    // RFC 3261 7.1: methods are case-sensitive; rsip folds case.
    assert_eq!(
        "invite".parse::<rsip::Method>().ok(),
        Some(rsip::Method::Invite)
    );
    assert_eq!(Method::parse("invite"), Method::Other("invite".into()));
}

#[test]
fn body_ignores_content_length() {
    let long = format!("{HEAD}Call-ID: c\r\nContent-Length: 3\r\n\r\nabcdef");
    assert_eq!(rsip(&long).map(|m| m.body().len()).ok(), Some(6));
    assert_eq!(
        Message::parse(long.as_bytes()).map(|m| m.body),
        Ok(b"abc".to_vec())
    );
    let short = format!("{HEAD}Call-ID: c\r\nContent-Length: 10\r\n\r\nabc");
    assert!(rsip(&short).is_ok(), "rsip accepts a truncated body");
    assert!(Message::parse(short.as_bytes()).is_err());
}

#[test]
fn leading_crlf_rejected() {
    let s = format!("\r\n\r\n{HEAD}Call-ID: c\r\n\r\n");
    assert!(rsip(&s).is_err());
    assert!(Message::parse(s.as_bytes()).is_ok());
}

#[test]
fn contact_with_quoted_instance_fails() {
    let v =
        "<sip:a@b;transport=ws>;+sip.instance=\"<urn:uuid:0f9a2c4e-1111>\";reg-id=1;expires=600";
    let s = format!("{HEAD}Call-ID: c\r\nContact: {v}\r\n\r\n");
    let r = rsip(&s).expect("rsip parses untyped");
    assert!(r
        .contact_header()
        .map(|c| c.typed().is_err())
        .unwrap_or(false));
    assert_eq!(
        NameAddr::parse(v)
            .ok()
            .and_then(|c| c.param("expires").map(String::from)),
        Some("600".into())
    );
}

#[test]
fn www_authenticate_sha256_fails() {
    let v = "Digest realm=\"x\", nonce=\"abc\", algorithm=SHA-256, qop=\"auth\"";
    let s = format!("{HEAD}Call-ID: c\r\nWWW-Authenticate: {v}\r\n\r\n");
    let r = rsip(&s).expect("rsip parses untyped");
    assert!(r
        .www_authenticate_header()
        .map(|h| h.typed().is_err())
        .unwrap_or(false));
    assert_eq!(
        Message::parse(s.as_bytes())
            .ok()
            .and_then(|m| m.header("WWW-Authenticate").map(String::from)),
        Some(v.into())
    );
}

#[test]
fn ipv6_via_and_uri_fail() {
    let via = "SIP/2.0/UDP [::1]:5060;branch=z9hG4bK1";
    let s = format!("SIP/2.0 200 OK\r\nVia: {via}\r\n\r\n");
    let r = rsip(&s).expect("rsip parses untyped");
    assert!(r.via_header().map(|v| v.typed().is_err()).unwrap_or(false));
    assert_eq!(Via::parse(via).map(|v| v.port), Ok(Some(5060)));
    assert!(rsip::Uri::try_from("sip:[2001:db8::1]:5061").is_err());
    assert!(SipUri::parse("sip:[2001:db8::1]:5061").is_ok());
}

#[test]
fn uri_quirks() {
    // unknown transport value is an error
    assert!(rsip::Uri::try_from("sip:a@x;transport=foo").is_err());
    assert_eq!(
        SipUri::parse("sip:a@x;transport=foo")
            .ok()
            .and_then(|u| u.param("transport").map(String::from)),
        Some("foo".into())
    );
    // URI headers end up in the host
    let u = rsip::Uri::try_from("sip:a@x?subject=hi").expect("rsip");
    assert_eq!(u.host().to_string(), "x?subject=hi");
    assert_eq!(
        SipUri::parse("sip:a@x?subject=hi").map(|u| u.host),
        Ok("x".into())
    );
    // anything is a URI
    assert!(rsip::Uri::try_from("garbage").is_ok());
    assert!(SipUri::parse("garbage").is_err());
}

#[test]
fn display_name_keeps_quotes() {
    let s = "SIP/2.0 200 OK\r\nFrom: \"Smith, John \\\"JJ\\\"\" <sip:j@x>;tag=1\r\n\r\n";
    let r = rsip(s).expect("rsip");
    let rsip_name = r
        .from_header()
        .ok()
        .and_then(|f| f.typed().ok())
        .and_then(|f| f.display_name);
    assert_eq!(rsip_name.as_deref(), Some("\"Smith, John \\\"JJ\\\"\""));
    let ours = NameAddr::parse("\"Smith, John \\\"JJ\\\"\" <sip:j@x>;tag=1")
        .ok()
        .and_then(|n| n.display_name);
    assert_eq!(ours.as_deref(), Some("Smith, John \"JJ\""));
}

#[test]
fn reason_phrase_lost() {
    let s = "SIP/2.0 200 Very OK\r\nContent-Length: 0\r\n\r\n";
    let rsip_status = match rsip(s) {
        Ok(rsip::SipMessage::Response(r)) => Some(r.status_code.to_string()),
        _ => None,
    };
    assert_eq!(rsip_status.as_deref(), Some("200 OK"));
    let s = format!(
        "{}Call-ID: c\r\n\r\n",
        HEAD.replacen("200 OK", "200 Very OK", 1)
    );
    let ours = Message::parse(s.as_bytes());
    assert_eq!(
        ours.ok().and_then(|m| m.reason().map(String::from)),
        Some("Very OK".into())
    );
}
