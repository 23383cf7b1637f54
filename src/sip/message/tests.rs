use super::*;

/// A minimal valid response around `extra` header lines.
fn response_with(extra: &str) -> String {
    format!(
        "SIP/2.0 200 OK\r\n\
         Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK111\r\n\
         From: <sip:1000@pbx.example.com>;tag=aaa\r\n\
         To: <sip:1000@pbx.example.com>;tag=bbb\r\n\
         Call-ID: cid1\r\n\
         CSeq: 1 REGISTER\r\n\
         {extra}\
         Content-Length: 0\r\n\r\n"
    )
}

fn parse(s: &str) -> Message {
    match Message::parse(s.as_bytes()) {
        Ok(m) => m,
        Err(e) => panic!("parse failed: {e}\n{s}"),
    }
}

fn parse_err(s: &str) -> String {
    match Message::parse(s.as_bytes()) {
        Ok(m) => panic!("parse should fail: {m:?}"),
        Err(e) => e.reason(),
    }
}

const SDP: &str = "v=0\r\n\
o=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n\
s=-\r\n\
t=0 0\r\n\
a=group:BUNDLE 0\r\n\
m=audio 9 UDP/TLS/RTP/SAVPF 111 0 8\r\n\
c=IN IP4 0.0.0.0\r\n\
a=rtcp:9 IN IP4 0.0.0.0\r\n\
a=ice-ufrag:8hhY\r\n\
a=ice-pwd:asd88fgpdd777uzjYhagZg\r\n\
a=fingerprint:sha-256 D2:FA:0E:C3:22:59:5E:14:95:69:92:3D:13:B4:84:24\r\n\
a=setup:actpass\r\n\
a=mid:0\r\n\
a=sendrecv\r\n\
a=rtpmap:111 opus/48000/2\r\n";

fn browser_invite() -> String {
    format!(
        "INVITE sip:1001@pbx.example.com SIP/2.0\r\n\
         Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK6213491\r\n\
         Max-Forwards: 69\r\n\
         To: <sip:1001@pbx.example.com>\r\n\
         From: \"Alice\" <sip:1000@pbx.example.com>;tag=l3mt8jq0bf\r\n\
         Call-ID: 4s5ds0r2vmrb0c3m3t8q\r\n\
         CSeq: 6914 INVITE\r\n\
         Contact: <sip:k2g8mq5d@df7jal23ls0d.invalid;transport=ws;ob>\r\n\
         Content-Type: application/sdp\r\n\
         Session-Expires: 90\r\n\
         Allow: INVITE,ACK,CANCEL,BYE,UPDATE,MESSAGE,OPTIONS,REFER,INFO,NOTIFY\r\n\
         Supported: timer,ice,replaces,outbound\r\n\
         User-Agent: JsSIP 3.10.0\r\n\
         Content-Length: {}\r\n\r\n{}",
        SDP.len(),
        SDP
    )
}

const KAMAILIO_401: &str = "SIP/2.0 401 Unauthorized\r\n\
Via: SIP/2.0/WSS df7jal23ls0d.invalid;rport=54321;received=203.0.113.7;branch=z9hG4bK5478342\r\n\
To: <sip:1000@pbx.example.com>;tag=c9e5f1a2b7d4e3f0a1b2c3d4e5f6a7b8.1a2b\r\n\
From: <sip:1000@pbx.example.com>;tag=8r7kq3m2vb\r\n\
Call-ID: 9tj3ejr1bd1hm0l0pbce5c\r\n\
CSeq: 1 REGISTER\r\n\
WWW-Authenticate: Digest realm=\"pbx.example.com\", nonce=\"ZmFrZW5vbmNlMTIzNDU2Nzg5MA==\", algorithm=SHA-256, qop=\"auth\"\r\n\
WWW-Authenticate: Digest realm=\"pbx.example.com\", nonce=\"ZmFrZW5vbmNlMTIzNDU2Nzg5MA==\", algorithm=MD5, qop=\"auth\"\r\n\
Server: kamailio (5.7.4 (x86_64/linux))\r\n\
Content-Length: 0\r\n\
\r\n";

const KAMAILIO_REGISTER_OK: &str = "SIP/2.0 200 OK\r\n\
Via: SIP/2.0/WSS df7jal23ls0d.invalid;rport=54321;received=203.0.113.7;branch=z9hG4bK9083011\r\n\
To: <sip:1000@pbx.example.com>;tag=c9e5f1a2b7d4e3f0a1b2c3d4e5f6a7b8.83b1\r\n\
From: <sip:1000@pbx.example.com>;tag=8r7kq3m2vb\r\n\
Call-ID: 9tj3ejr1bd1hm0l0pbce5c\r\n\
CSeq: 2 REGISTER\r\n\
Contact: <sip:k2g8mq5d@df7jal23ls0d.invalid;transport=ws;ob>;+sip.instance=\"<urn:uuid:0f9a2c4e-3b1d-4c8a-9e7f-5a6b7c8d9e0f>\";reg-id=1;expires=600\r\n\
Server: kamailio (5.7.4 (x86_64/linux))\r\n\
Content-Length: 0\r\n\
\r\n";

#[test]
fn browser_invite_with_sdp() {
    let m = parse(&browser_invite());
    assert!(m.is_request());
    assert_eq!(m.method(), Some(&Method::Invite));
    assert_eq!(m.request_uri(), Some("sip:1001@pbx.example.com"));
    assert_eq!(m.call_id(), Some("4s5ds0r2vmrb0c3m3t8q"));
    assert_eq!(
        m.cseq(),
        Some(CSeq {
            seq: 6914,
            method: Method::Invite
        })
    );
    let from = m.from().expect("from");
    assert_eq!(from.display_name.as_deref(), Some("Alice"));
    assert_eq!(from.tag(), Some("l3mt8jq0bf"));
    assert_eq!(m.to().expect("to").tag(), None);
    assert_eq!(m.content_type(), Some("application/sdp"));
    assert_eq!(m.body_str(), Some(SDP));
    assert_eq!(m.max_forwards(), Some(69));
    assert_eq!(m.header_list("Allow").len(), 10);
    assert_eq!(m.header_list("k"), ["timer", "ice", "replaces", "outbound"]);
    assert_eq!(
        m.header("Content-Length"),
        None,
        "framing header is dropped"
    );
    let top = m.top_via().expect("via");
    assert_eq!(top.transport, "WSS");
    assert_eq!(top.branch(), Some("z9hG4bK6213491"));
    let contact = &m.contacts()[0];
    assert_eq!(
        contact.sip_uri().expect("uri").param("transport"),
        Some("ws")
    );
    assert_eq!(contact.sip_uri().expect("uri").param("ob"), Some(""));
}

#[test]
fn kamailio_401_keeps_both_challenges() {
    let m = parse(KAMAILIO_401);
    assert_eq!(m.code(), Some(401));
    assert_eq!(m.reason(), Some("Unauthorized"));
    assert!(!m.is_request());
    assert_eq!(m.method(), None);
    let ch = m.header_values("www-authenticate");
    assert_eq!(ch.len(), 2);
    assert!(ch[0].starts_with("Digest realm=\"pbx.example.com\""));
    assert!(ch[0].ends_with("algorithm=SHA-256, qop=\"auth\""));
    assert_eq!(m.headers[6].name, "WWW-Authenticate");
    let via = m.top_via().expect("via");
    assert_eq!(via.param("received"), Some("203.0.113.7"));
    assert_eq!(via.param("rport"), Some("54321"));
}

#[test]
fn kamailio_register_ok_contact_instance() {
    let m = parse(KAMAILIO_REGISTER_OK);
    let contacts = m.contacts();
    assert_eq!(contacts.len(), 1);
    let c = &contacts[0];
    assert_eq!(c.uri, "sip:k2g8mq5d@df7jal23ls0d.invalid;transport=ws;ob");
    assert_eq!(
        c.param("+sip.instance"),
        Some("<urn:uuid:0f9a2c4e-3b1d-4c8a-9e7f-5a6b7c8d9e0f>")
    );
    assert_eq!(
        c.params[0],
        (
            "+sip.instance".to_string(),
            Some("\"<urn:uuid:0f9a2c4e-3b1d-4c8a-9e7f-5a6b7c8d9e0f>\"".to_string())
        )
    );
    assert_eq!(c.param("reg-id"), Some("1"));
    assert_eq!(c.param("EXPIRES"), Some("600"));
    assert_eq!(
        c.param("expires").and_then(|v| v.parse().ok()),
        Some(600u32)
    );
}

#[test]
fn compact_forms_map_to_long_names() {
    let cases = [
        ("a", "Accept-Contact"),
        ("b", "Referred-By"),
        ("c", "Content-Type"),
        ("d", "Request-Disposition"),
        ("e", "Content-Encoding"),
        ("f", "From"),
        ("i", "Call-ID"),
        ("j", "Reject-Contact"),
        ("k", "Supported"),
        ("l", "Content-Length"),
        ("m", "Contact"),
        ("n", "Identity-Info"),
        ("o", "Event"),
        ("r", "Refer-To"),
        ("s", "Subject"),
        ("t", "To"),
        ("u", "Allow-Events"),
        ("v", "Via"),
        ("x", "Session-Expires"),
        ("y", "Identity"),
    ];
    for (short, long) in cases {
        assert_eq!(canonical_header_name(short), long);
        assert_eq!(canonical_header_name(&short.to_uppercase()), long);
    }
    assert_eq!(canonical_header_name("call-id"), "Call-ID");
    assert_eq!(canonical_header_name("cseq"), "CSeq");
    assert_eq!(
        canonical_header_name("www-authenticate"),
        "WWW-Authenticate"
    );
    assert_eq!(canonical_header_name("X-Custom-Thing"), "X-Custom-Thing");
    assert_eq!(canonical_header_name("z"), "z");
}

#[test]
fn compact_message_parses() {
    let body = "hello";
    let s = format!(
        "MESSAGE sip:1000@pbx.example.com SIP/2.0\r\n\
         v: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK77\r\n\
         f: \"Bob\" <sip:1001@pbx.example.com>;tag=x1\r\n\
         t: <sip:1000@pbx.example.com>\r\n\
         i: compact-call-id\r\n\
         CSeq: 5 MESSAGE\r\n\
         m: <sip:b@df7jal23ls0d.invalid;transport=ws>\r\n\
         k: path\r\n\
         s: Hi\r\n\
         o: presence\r\n\
         u: talk\r\n\
         x: 1800\r\n\
         r: <sip:1002@pbx.example.com>\r\n\
         b: <sip:1001@pbx.example.com>\r\n\
         e: identity\r\n\
         c: Text/Plain; charset=UTF-8\r\n\
         l: {}\r\n\r\n{}",
        body.len(),
        body
    );
    let m = parse(&s);
    let names: Vec<&str> = m.headers.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "Via",
            "From",
            "To",
            "Call-ID",
            "CSeq",
            "Contact",
            "Supported",
            "Subject",
            "Event",
            "Allow-Events",
            "Session-Expires",
            "Refer-To",
            "Referred-By",
            "Content-Encoding",
            "Content-Type"
        ]
    );
    assert_eq!(m.call_id(), Some("compact-call-id"));
    assert_eq!(m.header("i"), Some("compact-call-id"));
    assert_eq!(m.header("CALL-ID"), Some("compact-call-id"));
    assert_eq!(m.from().and_then(|f| f.display_name), Some("Bob".into()));
    assert_eq!(m.content_type(), Some("text/plain"));
    assert_eq!(m.header("c"), Some("text/plain; charset=UTF-8"));
    assert_eq!(m.body, b"hello");
}

#[test]
fn folded_header_lines_are_unfolded() {
    let m = parse(&response_with(
        "Subject: I know you're there,\r\n  pick up the phone\r\n\tand talk to me!\r\n",
    ));
    assert_eq!(
        m.header("Subject"),
        Some("I know you're there, pick up the phone and talk to me!")
    );

    let s = "SIP/2.0 180 Ringing\r\n\
             Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK1,\r\n \
             SIP/2.0/UDP 10.0.0.1:5060\r\n\t;branch=z9hG4bK2;rport\r\n\
             From: <sip:a@x>;tag=1\r\n\
             To: <sip:b@x>;tag=2\r\n\
             Call-ID: c\r\n\
             CSeq: 1 INVITE\r\n\r\n";
    let m = parse(s);
    let vias = m.vias();
    assert_eq!(vias.len(), 2);
    assert_eq!(vias[1].host, "10.0.0.1");
    assert_eq!(vias[1].port, Some(5060));
    assert_eq!(vias[1].branch(), Some("z9hG4bK2"));
    assert_eq!(vias[1].param("rport"), Some(""));
    assert_eq!(
        m.top_via().and_then(|v| v.branch().map(String::from)),
        Some("z9hG4bK1".into())
    );

    assert_eq!(
        parse_err("SIP/2.0 200 OK\r\n continued\r\n\r\n"),
        "folded line without a header before it"
    );
}

#[test]
fn extension_method_is_accepted() {
    let s = "FOOBAR sip:1000@pbx.example.com SIP/2.0\r\n\
             Via: SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bKxyz\r\n\
             From: <sip:a@x>;tag=1\r\n\
             To: <sip:1000@pbx.example.com>\r\n\
             Call-ID: ext1\r\n\
             CSeq: 3 FOOBAR\r\n\
             Content-Length: 0\r\n\r\n";
    let m = parse(s);
    assert_eq!(m.method(), Some(&Method::Other("FOOBAR".into())));
    assert_eq!(
        m.cseq().map(|c| c.method),
        Some(Method::Other("FOOBAR".into()))
    );
    assert_eq!(Method::parse("invite"), Method::Other("invite".into()));
    assert_eq!(Method::parse("PRACK"), Method::Prack);
    assert_eq!(Method::Other("FOOBAR".into()).to_string(), "FOOBAR");
    assert_eq!(Method::Subscribe.as_str(), "SUBSCRIBE");
    assert!(parse_err(&s.replace("FOOBAR sip", "FOO@BAR sip")).starts_with("invalid method"));
}

#[test]
fn content_length_framing() {
    let base = response_with("").replace("Content-Length: 0\r\n\r\n", "");
    // extra bytes after Content-Length are discarded
    let m = parse(&format!("{base}Content-Length: 3\r\n\r\nabcdef"));
    assert_eq!(m.body, b"abc");
    // fewer bytes than Content-Length
    assert_eq!(
        parse_err(&format!("{base}Content-Length: 20\r\n\r\n0123456789")),
        "body shorter than Content-Length (10 < 20)"
    );
    // no Content-Length: the rest is the body
    let m = parse(&format!("{base}\r\nrest of frame"));
    assert_eq!(m.body, b"rest of frame");
    // compact form frames too
    let m = parse(&format!("{base}l: 2\r\n\r\nxyz"));
    assert_eq!(m.body, b"xy");
    assert!(parse_err(&format!("{base}Content-Length: +3\r\n\r\nabc"))
        .starts_with("invalid Content-Length"));
    assert!(parse_err(&format!("{base}Content-Length: abc\r\n\r\n"))
        .starts_with("invalid Content-Length"));
    assert_eq!(
        parse_err(&format!("{base}Content-Length: 1\r\nl: 2\r\n\r\nab")),
        "conflicting Content-Length headers"
    );
    // a body containing an empty line is not cut there
    let m = parse(&format!("{base}Content-Length: 6\r\n\r\na\r\n\r\nb"));
    assert_eq!(m.body, b"a\r\n\r\nb");
    assert!(parse_err(&base).starts_with("incomplete message"));
}

#[test]
fn multiple_contacts_in_one_header_and_across_headers() {
    let m = parse(&response_with(
        "Contact: <sip:a@10.0.0.1:5060>;expires=60, \"Smith, John\" <sip:j@x>;q=0.5\r\n\
         Contact: sip:c@y;expires=30\r\n\
         m: *\r\n",
    ));
    let c = m.contacts();
    assert_eq!(c.len(), 3);
    assert_eq!(c[0].uri, "sip:a@10.0.0.1:5060");
    assert_eq!(c[0].param("expires"), Some("60"));
    assert_eq!(c[1].display_name.as_deref(), Some("Smith, John"));
    assert_eq!(c[1].param("q"), Some("0.5"));
    assert_eq!(c[2].uri, "sip:c@y");
    assert_eq!(
        c[2].param("expires"),
        Some("30"),
        "addr-spec params are header params"
    );
    assert_eq!(m.header_list("Contact").len(), 4);
    assert_eq!(m.header_values("m").len(), 3);
}

#[test]
fn quoted_display_names_are_not_split() {
    let m = parse(&response_with(
        "Contact: \"Smith, John \\\"JJ\\\"\" <sip:j@x>, <sip:k@x;lr>;p=\"a,b\"\r\n",
    ));
    let list = m.header_list("Contact");
    assert_eq!(
        list,
        [
            "\"Smith, John \\\"JJ\\\"\" <sip:j@x>",
            "<sip:k@x;lr>;p=\"a,b\""
        ]
    );
    let c = m.contacts();
    assert_eq!(c[0].display_name.as_deref(), Some("Smith, John \"JJ\""));
    assert_eq!(c[0].to_string(), "\"Smith, John \\\"JJ\\\"\" <sip:j@x>");
    assert_eq!(c[1].param("p"), Some("a,b"));
}

#[test]
fn name_addr_forms() {
    let a = NameAddr::parse("\"Bob\" <sip:bob@x>;tag=1").expect("quoted");
    assert_eq!(a.display_name.as_deref(), Some("Bob"));
    assert_eq!(a.uri, "sip:bob@x");
    assert_eq!(a.tag(), Some("1"));

    let a = NameAddr::parse("Bob  Smith <sip:bob@x>").expect("token display");
    assert_eq!(a.display_name.as_deref(), Some("Bob  Smith"));
    assert!(a.params.is_empty());

    let a = NameAddr::parse("<sip:bob@x;transport=ws>;Expires=60;lr").expect("bare");
    assert_eq!(a.display_name, None);
    assert_eq!(a.uri, "sip:bob@x;transport=ws");
    assert_eq!(
        a.params,
        [("expires".into(), Some("60".into())), ("lr".into(), None)]
    );
    assert_eq!(a.to_string(), "<sip:bob@x;transport=ws>;expires=60;lr");

    let a = NameAddr::parse("sip:bob@x;tag=1").expect("addr-spec");
    assert_eq!(a.uri, "sip:bob@x");
    assert_eq!(a.tag(), Some("1"));
    assert_eq!(a.to_string(), "<sip:bob@x>;tag=1");

    let a = NameAddr::parse("\"\" <sip:anonymous@anonymous.invalid>").expect("empty display");
    assert_eq!(a.display_name.as_deref(), Some(""));

    let a = NameAddr::parse("\"Zoë\" <sips:z@x>").expect("utf-8 display");
    assert_eq!(a.display_name.as_deref(), Some("Zoë"));

    let mut a = NameAddr::new("sip:bob@x");
    a.display_name = Some("Line\r\nInjected: yes".into());
    a.set_param("tag", Some("abc"));
    a.set_param("TAG", Some("def"));
    assert_eq!(a.to_string(), "\"Line  Injected: yes\" <sip:bob@x>;tag=def");

    for bad in [
        "",
        "*",
        "\"Bob <sip:bob@x>",
        "\"Bob\" sip:bob@x",
        "<sip:bob@x",
        "<>",
        "Bob sip:bob@x",
        "<sip:bob@x> junk",
        "<sip:bob@x>;=1",
        "<sip:bob@x>;p=\"open",
        "<sip:bob@x>;p=a b",
    ] {
        assert!(NameAddr::parse(bad).is_err(), "{bad:?} should fail");
    }
}

#[test]
fn via_forms() {
    let v = Via::parse("SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bKxyz").expect("ws");
    assert_eq!(v.transport, "WS");
    assert_eq!(v.host, "df7jal23ls0d.invalid");
    assert_eq!(v.port, None);
    assert_eq!(v.branch(), Some("z9hG4bKxyz"));
    assert_eq!(
        v.to_string(),
        "SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bKxyz"
    );

    let v =
        Via::parse("SIP/2.0/UDP [::1]:5060;received=::1;rport=5061;branch=z9hG4bK9").expect("ipv6");
    assert_eq!(v.host, "[::1]");
    assert_eq!(v.port, Some(5060));
    assert_eq!(v.param("received"), Some("::1"));
    assert_eq!(v.param("rport"), Some("5061"));
    assert_eq!(v.branch(), Some("z9hG4bK9"));

    let v =
        Via::parse("sip / 2.0 / tcp  192.0.2.1 : 5070 ; Branch=z9hG4bK5 ; rport").expect("spaces");
    assert_eq!(v.transport, "TCP");
    assert_eq!(v.host, "192.0.2.1");
    assert_eq!(v.port, Some(5070));
    assert_eq!(v.branch(), Some("z9hG4bK5"));
    assert_eq!(v.param("RPORT"), Some(""));
    assert_eq!(v.param("received"), None);

    for bad in [
        "SIP/3.0/UDP host",
        "SIP/2.0/UDP",
        "SIP/2.0/UDP host:99999",
        "SIP/2.0/UDP [::1",
        "SIP/2.0/UDP [nothex]:5060",
        "SIP/2.0/UDP a;branch=1, SIP/2.0/UDP b",
        "HTTP/1.1/TCP host",
    ] {
        assert!(Via::parse(bad).is_err(), "{bad:?} should fail");
    }
}

#[test]
fn sip_uri_forms() {
    let u = SipUri::parse("sip:1000@pbx.example.com:5060;transport=ws;lr").expect("uri");
    assert_eq!(u.scheme, "sip");
    assert_eq!(u.user.as_deref(), Some("1000"));
    assert_eq!(u.host, "pbx.example.com");
    assert_eq!(u.port, Some(5060));
    assert_eq!(u.param("transport"), Some("ws"));
    assert_eq!(u.param("lr"), Some(""));
    assert_eq!(
        u.to_string(),
        "sip:1000@pbx.example.com:5060;transport=ws;lr"
    );

    let u = SipUri::parse("SIPS:[2001:db8::1]:5061;Transport=wss").expect("ipv6");
    assert_eq!(u.scheme, "sips");
    assert_eq!(u.user, None);
    assert_eq!(u.host, "[2001:db8::1]");
    assert_eq!(u.param("transport"), Some("wss"));
    assert_eq!(u.to_string(), "sips:[2001:db8::1]:5061;transport=wss");

    let u = SipUri::parse("sip:alice;day=tuesday@atlanta.com?Subject=hi").expect("user params");
    assert_eq!(u.user.as_deref(), Some("alice;day=tuesday"));
    assert_eq!(u.host, "atlanta.com");
    assert!(u.params.is_empty());

    for bad in [
        "tel:+15551234",
        "sip:",
        "sip:@x",
        "sip:a@",
        "sip:a@x:port",
        "garbage",
        "sip:a b@x",
    ] {
        assert!(SipUri::parse(bad).is_err(), "{bad:?} should fail");
    }
}

#[test]
fn validation_failures() {
    let ok = response_with("");
    parse(&ok);
    assert_eq!(
        parse_err(&ok.replace("Call-ID: cid1\r\n", "")),
        "missing Call-ID"
    );
    assert_eq!(
        parse_err(&ok.replace("CSeq:", "To: <sip:x@y>\r\nCSeq:")),
        "more than one To header"
    );
    assert_eq!(
        parse_err(&ok.replace("SIP/2.0 200", "SIP/3.0 200")),
        "unsupported SIP version SIP/3.0"
    );
    assert_eq!(
        parse_err(&ok.replace("200 OK", "99 Weird")),
        "invalid status code 99"
    );
    assert_eq!(
        parse_err(&ok.replace("200 OK", "700 Nope")),
        "invalid status code 700"
    );
    assert!(
        parse_err(&ok.replace("CSeq: 1 REGISTER", "CSeq: one REGISTER"))
            .starts_with("invalid CSeq")
    );
    assert!(
        parse_err(&ok.replace("CSeq: 1 REGISTER", "CSeq: 2147483648 REGISTER"))
            .starts_with("invalid CSeq")
    );
    assert!(parse_err(&ok.replace("CSeq: 1 REGISTER", "CSeq: 1")).starts_with("invalid CSeq"));
    assert_eq!(
        parse_err(&ok.replace(
            "Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK111\r\n",
            ""
        )),
        "missing Via"
    );
    assert_eq!(
        parse_err(&ok.replace("From: <sip:1000@pbx.example.com>;tag=aaa\r\n", "")),
        "missing From"
    );
    assert!(
        parse_err(&ok.replace("From: <sip:1000", "From: <sip:1000 x")).starts_with("invalid From")
    );
    assert!(
        parse_err(&ok.replace("CSeq:", "Max-Forwards: lots\r\nCSeq:"))
            .starts_with("invalid Max-Forwards")
    );
    assert!(
        parse_err(&ok.replace("CSeq:", "Bad Name: x\r\nCSeq:")).starts_with("invalid header name")
    );
    assert!(parse_err(&ok.replace("CSeq:", "NoColonHere\r\nCSeq:"))
        .starts_with("header line without colon"));

    let bye = "BYE sip:1001@10.0.0.2:5060 SIP/2.0\r\n\
               Via: SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bK55\r\n\
               From: <sip:1000@x>;tag=1\r\n\
               To: <sip:1001@x>;tag=2\r\n\
               Call-ID: c2\r\n\
               CSeq: 7 INVITE\r\n\r\n";
    assert_eq!(
        parse_err(bye),
        "CSeq method INVITE does not match request method BYE"
    );
    assert!(parse_err(&bye.replace(" SIP/2.0\r\n", "\r\n")).starts_with("request line has 2 parts"));
    assert!(
        parse_err(&bye.replace("BYE sip:1001@10.0.0.2:5060", "BYE nocolon"))
            .starts_with("invalid Request-URI")
    );

    assert_eq!(parse_err(""), "empty message");
    assert_eq!(parse_err("\r\n\r\n"), "empty message");
    assert_eq!(parse_err(" \r\n\t"), "empty message");
    assert!(Message::parse(b"SIP/2.0 200 OK\r\nSubject: \xff\xfe\r\n\r\n").is_err());
    let e = Message::parse(b"SIP/2.0 200 OK\r\n\r\n").expect_err("no headers");
    assert_eq!(e.to_string(), e.reason());
}

#[test]
fn leading_crlf_is_skipped() {
    let m = parse(&format!("\r\n\r\n\r\n{}", response_with("")));
    assert_eq!(m.code(), Some(200));
    let m = parse(&format!("\n\n{}", response_with("")));
    assert_eq!(m.call_id(), Some("cid1"));
}

#[test]
fn build_and_round_trip_invite() {
    let mut m = Message::request(Method::Invite, "sip:1001@pbx.example.com");
    m.push_header(
        "v",
        "SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK776asdhds",
    );
    m.push_header("Max-Forwards", "70");
    m.push_header(
        "From",
        "\"Alice\" <sip:1000@pbx.example.com>;tag=1928301774",
    );
    m.push_header("To", "<sip:1001@pbx.example.com>");
    m.push_header("call-id", "a84b4c76e66710@pc33.atlanta.com");
    m.push_header("CSeq", "314159 INVITE");
    m.push_header(
        "Contact",
        "<sip:k2g8mq5d@df7jal23ls0d.invalid;transport=ws;ob>",
    );
    m.push_header("Content-Length", "999"); // ignored: to_bytes writes the real length
    m.set_body("Application/SDP", SDP.as_bytes().to_vec());
    m.remove_header("content-length");
    assert_eq!(m.headers[0].name, "Via");
    assert_eq!(m.headers[4].name, "Call-ID");
    assert_eq!(m.content_type(), Some("application/sdp"));

    let bytes = m.to_bytes();
    let text = String::from_utf8(bytes.clone()).expect("utf8");
    assert!(text.starts_with("INVITE sip:1001@pbx.example.com SIP/2.0\r\nVia: SIP/2.0/WSS"));
    assert!(text.contains(&format!("\r\nContent-Length: {}\r\n\r\nv=0\r\n", SDP.len())));
    assert!(text.ends_with(SDP));
    assert_eq!(Message::parse(&bytes), Ok(m.clone()));

    // the parsed browser INVITE survives a round trip too
    let p = parse(&browser_invite());
    assert_eq!(Message::parse(&p.to_bytes()), Ok(p));

    // a response without body
    let mut r = Message::response(180, "Ringing");
    for h in ["Via", "From", "To", "Call-ID", "CSeq"] {
        let v = m.header(h).unwrap_or_default().to_string();
        r.push_header(h, v);
    }
    r.push_header("Content-Length", "12");
    let wire = r.to_bytes();
    assert!(String::from_utf8_lossy(&wire)
        .ends_with("CSeq: 314159 INVITE\r\nContent-Length: 0\r\n\r\n"));
    assert_eq!(Message::parse(&wire).map(|p| p.code()), Ok(Some(180)));
}

#[test]
fn header_editing() {
    let mut m = Message::response(200, "OK");
    m.push_header("Via", "SIP/2.0/WS a;branch=z9hG4bK1");
    m.push_header("Route", "<sip:p1;lr>");
    m.push_header("Via", "SIP/2.0/WS b;branch=z9hG4bK2");
    m.push_header("Route", "<sip:p2;lr>");
    m.set_header("v", "SIP/2.0/WS c;branch=z9hG4bK3");
    assert_eq!(m.header_values("Via"), ["SIP/2.0/WS c;branch=z9hG4bK3"]);
    assert_eq!(m.headers[0].name, "Via");
    m.set_header("Expires", "3600");
    assert_eq!(m.headers.last().map(|h| h.name.as_str()), Some("Expires"));
    assert_eq!(m.expires(), Some(3600));
    m.set_header("Min-Expires", "99999999999");
    assert_eq!(m.min_expires(), Some(u32::MAX));
    m.set_header("Expires", "-1");
    assert_eq!(m.expires(), None);
    m.remove_header("ROUTE");
    assert!(m.header("Route").is_none());
    m.set_body("", b"x".to_vec());
    assert_eq!(m.content_type(), None);
    m.set_body("text/plain", b"hi".to_vec());
    m.set_body("", Vec::new());
    assert_eq!(m.header("Content-Type"), None);
    assert_eq!(m.body_str(), Some(""));
    m.body = vec![0xff, 0xfe];
    assert_eq!(m.body_str(), None);
    m.push_header("X-Evil", "a\r\nInjected: yes");
    assert!(!String::from_utf8_lossy(&m.to_bytes()).contains("\r\nInjected"));
}

#[test]
fn record_routes_as_written() {
    let m = parse(&response_with(
        "Record-Route: <sip:127.0.0.1:8088;transport=ws;r2=on;lr>,<sip:10.0.0.5;r2=on;lr>\r\n\
         Record-Route: <sip:edge.example.com;lr>\r\n",
    ));
    assert_eq!(
        m.record_routes(),
        [
            "<sip:127.0.0.1:8088;transport=ws;r2=on;lr>",
            "<sip:10.0.0.5;r2=on;lr>",
            "<sip:edge.example.com;lr>"
        ]
    );
    let rr = NameAddr::parse(&m.record_routes()[0]).expect("rr");
    let uri = rr.sip_uri().expect("uri");
    assert_eq!(uri.port, Some(8088));
    assert_eq!(uri.param("r2"), Some("on"));
}

#[test]
fn cseq_parse_and_display() {
    let c = CSeq::parse(" 42   ACK ").expect("cseq");
    assert_eq!(
        c,
        CSeq {
            seq: 42,
            method: Method::Ack
        }
    );
    assert_eq!(c.to_string(), "42 ACK");
    assert!(CSeq::parse("2147483647 INVITE").is_ok());
    assert!(CSeq::parse("-1 INVITE").is_err());
    assert!(CSeq::parse("1 INVITE extra").is_err());
}

#[test]
fn hostile_input_does_not_panic() {
    let inputs: [&[u8]; 12] = [
        b"SIP/2.0",
        b"SIP/2.0 \r\n\r\n",
        b"SIP/",
        b"\xff\xff\xff\r\n\r\n",
        b"INVITE \xc3\r\n\r\n",
        b"SIP/2.0 2\xc3\xa900 OK\r\n\r\n",
        b"A B C\r\n:\r\n\r\n",
        b"SIP/2.0 200 OK\r\nVia: SIP/2.0/WS [\r\nFrom: <\r\nTo: \"\r\nCall-ID: x\r\nCSeq: 1 A\r\n\r\n",
        b"SIP/2.0 200 OK\r\nVia: \xc3\xa9/\xc3\xa9/\r\nFrom: \"\\\r\nTo: <sip:\xc3\xa9>\r\nCall-ID: \xc3\xa9\r\nCSeq: 1 A\r\nContent-Length: 99999999999999999999999\r\n\r\n",
        b"\r",
        b"\r\n\r\nX",
        b"SIP/2.0 200 OK\r\nContact: ,,,<<<>>>\"\"\"\\\r\n\r\n",
    ];
    for input in inputs {
        let _ = Message::parse(input);
    }
    // a message with such Contacts is refused (each entry must be an
    // address); the accessors still take them without panic
    assert!(
        Message::parse(response_with("Contact: ,,,<<<>>>\r\nContact: \"\\\r\n").as_bytes())
            .is_err()
    );
    let mut m = parse(&response_with(
        "Via: SIP/2.0/WS [::1]:\r\nExpires: \u{e9}\r\n",
    ));
    m.push_header("Contact", ",,,<<<>>>");
    m.push_header("Contact", "\"\\");
    let _ = (m.contacts(), m.vias(), m.expires(), m.top_via());
    for s in [
        "\"",
        "\"\\",
        "<",
        ">",
        ";",
        "é<sip:x>",
        "\"é\"<sip:é>;é=é",
        "sip:é;a=\"é",
    ] {
        let _ = NameAddr::parse(s);
        let _ = Via::parse(s);
        let _ = SipUri::parse(s);
    }
}

#[test]
fn truncated_and_mutated_input_does_not_panic() {
    let base = browser_invite().replace("Alice", "Zoë \\\"é\\\"") + "\u{e9}";
    let bytes = base.as_bytes();
    for cut in 0..bytes.len() {
        let _ = Message::parse(bytes.get(..cut).unwrap_or_default());
    }
    let head_len = base.find("\r\n\r\n").unwrap_or(base.len());
    for i in 0..head_len {
        for b in [b'\n', b' ', b'"', b'<', b';', 0xc3] {
            let mut m = bytes.to_vec();
            if let Some(slot) = m.get_mut(i) {
                *slot = b;
            }
            if let Ok(msg) = Message::parse(&m) {
                let _ = (
                    msg.vias(),
                    msg.contacts(),
                    msg.from(),
                    msg.to(),
                    msg.to_bytes(),
                );
            }
        }
    }
}

#[test]
fn request_uris_from_uris() {
    // RFC 3261 19.1.5: URI headers are not part of a Request-URI
    assert_eq!(
        request_uri_of("sip:peer@proxy.e?ample.com;transport=ws").as_deref(),
        Ok("sip:peer@proxy.e")
    );
    assert_eq!(
        request_uri_of("sip:bob@b.example;transport=ws?Replaces=x%3By").as_deref(),
        Ok("sip:bob@b.example;transport=ws")
    );
    assert_eq!(
        request_uri_of("sips:[2001:db8::1]:5061;gr=x").as_deref(),
        Ok("sips:[2001:db8::1]:5061;gr=x")
    );
    // a `?` in the user part stays (RFC 4475 intmeth)
    assert_eq!(
        split_uri_headers("sip:a?b@host?h=1"),
        ("sip:a?b@host", Some("h=1"))
    );
    assert_eq!(split_uri_headers("sip:host?h=1"), ("sip:host", Some("h=1")));
    assert_eq!(split_uri_headers("tel:+1?x"), ("tel:+1?x", None));
    assert_eq!(
        request_uri_of("tel:+12125551212").as_deref(),
        Ok("tel:+12125551212")
    );
    // what cannot be a Request-URI is refused
    for bad in [
        "",
        "sip:",
        "sip:@host",
        "sip:a\"b@host",
        "sip:a<b@host",
        "sip:bob@host>",
        "sip:bob@ho st",
        "sip:bob@host\u{0}",
        "sip:bob@h!st",
        "nocolon",
        "1sip:x@y",
    ] {
        assert!(request_uri_of(bad).is_err(), "{bad:?}");
    }
    // whatever it gives, our own parser takes as a request line
    for uri in ["sip:peer@proxy.e?ample.com;transport=ws", "sip:x@[::1]?a=b"] {
        let ruri = request_uri_of(uri).unwrap();
        let raw = format!(
            "OPTIONS {ruri} SIP/2.0\r\nVia: SIP/2.0/WS h;branch=z9hG4bK1\r\n\
             From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\n\r\n"
        );
        assert_eq!(parse(&raw).request_uri(), Some(ruri.as_str()));
    }
}

#[test]
fn quoted_pairs_may_escape_control_characters() {
    let m = parse(&response_with("Subject: \"a\\\u{1}b\"\r\n"));
    assert_eq!(m.header("Subject"), Some("\"a\\\u{1}b\""));
    // the display name keeps them and writes them back as quoted pairs
    let a = NameAddr::parse("\"x\\\u{0}\\\u{7f}y\" <sip:a@b>").unwrap();
    assert_eq!(a.display_name.as_deref(), Some("x\u{0}\u{7f}y"));
    assert_eq!(a.to_string(), "\"x\\\u{0}\\\u{7f}y\" <sip:a@b>");
    assert_eq!(NameAddr::parse(&a.to_string()).unwrap(), a);
    // never in a Call-ID (a word: no quoted pairs), never a bare one
    assert!(Message::parse(
        response_with("")
            .replace("Call-ID: ", "Call-ID: \"\\\u{1}")
            .as_bytes()
    )
    .is_err());
    assert!(Message::parse(response_with("Subject: a\u{1}b\r\n").as_bytes()).is_err());
    assert!(Message::parse(response_with("Subject: \"a\u{1}b\"\r\n").as_bytes()).is_err());
    // a quoted string continued on a folded line
    let m = parse(&response_with("Subject: \"a\r\n b\\\u{7}\"\r\n"));
    assert_eq!(m.header("Subject"), Some("\"a b\\\u{7}\""));
}
