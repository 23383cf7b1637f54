//! Torture tests after RFC 4475: each test is named after the RFC 4475 case
//! it follows, its message is in `torture/cases.rs`. Everything goes
//! through `classify`, the phone's one entry point for network bytes.
//! Valid messages must be accepted with the right typed values; invalid
//! ones rejected with a sensible reason (and a 400 where one can be built),
//! without panic.

#[path = "torture/cases.rs"]
mod cases;

use softphone::sip::message::{classify, Incoming, Message, Method, SipUri};

fn accept(bytes: &[u8]) -> Message {
    match classify(bytes) {
        Incoming::Request(m) | Incoming::Response(m) => m,
        other => panic!(
            "should be accepted: {other:?}\n{}",
            String::from_utf8_lossy(bytes)
        ),
    }
}

fn request(bytes: &[u8]) -> Message {
    let m = accept(bytes);
    assert!(m.is_request());
    m
}

fn response(bytes: &[u8]) -> Message {
    let m = accept(bytes);
    assert!(!m.is_request());
    m
}

/// The reason and the 400 (if any) of a rejected message.
fn reject(bytes: &[u8]) -> (String, Option<Message>) {
    match classify(bytes) {
        Incoming::Malformed { reason, reply } => {
            if let Some(r) = &reply {
                assert_eq!(r.code(), Some(400));
                assert!(r.header("Warning").is_some_and(|w| w.starts_with("399 ")));
            }
            (reason, reply)
        }
        other => panic!(
            "should be rejected: {other:?}\n{}",
            String::from_utf8_lossy(bytes)
        ),
    }
}

fn crlf(s: &str) -> String {
    s.replace('\n', "\r\n")
}

fn branch(m: &Message) -> Option<String> {
    m.top_via().and_then(|v| v.branch().map(str::to_string))
}

fn from_tag(m: &Message) -> Option<String> {
    m.from().and_then(|a| a.tag().map(str::to_string))
}

fn to_tag(m: &Message) -> Option<String> {
    m.to().and_then(|a| a.tag().map(str::to_string))
}

fn cseq(m: &Message) -> (u32, Method) {
    let c = m.cseq().expect("CSeq");
    (c.seq, c.method)
}

// ------------------------------------------------------------ valid (3.1.1)

#[test]
fn wsinv() {
    let m = request(&cases::wsinv());
    assert_eq!(m.method(), Some(&Method::Invite));
    assert_eq!(
        m.request_uri(),
        Some("sip:vivekg@chair-dnrc.example.com;unknownparam")
    );
    assert_eq!(branch(&m).as_deref(), Some("390skdjuw"));
    let vias = m.vias();
    let t: Vec<&str> = vias.iter().map(|v| v.transport.as_str()).collect();
    assert_eq!(t, ["UDP", "TCP", "UDP"]);
    assert_eq!(vias[1].host, "spindle.example.com");
    assert_eq!(vias[1].branch(), Some("z9hG4bK9ikj8"));
    assert_eq!(vias[2].host, "192.168.255.111");
    assert_eq!(vias[2].branch(), Some("z9hG4bK30239"));
    let from = m.from().unwrap();
    assert_eq!(from.uri, "sip:jdrosen@example.com");
    assert_eq!(from.display_name.as_deref(), Some("J Rosenberg \\\""));
    assert_eq!(from_tag(&m).as_deref(), Some("98asjd8"));
    let to = m.to().unwrap();
    assert_eq!(to.uri, "sip:vivekg@chair-dnrc.example.com");
    assert_eq!(to_tag(&m).as_deref(), Some("1918181833n"));
    assert_eq!(m.call_id(), Some("wsinv.ndaksdj@192.0.2.1"));
    assert_eq!(cseq(&m), (9, Method::Invite));
    assert_eq!(m.max_forwards(), Some(68));
    assert_eq!(m.header("Subject"), Some(""));
    assert_eq!(
        m.header("NewFangledHeader"),
        Some("newfangled value continued newfangled value")
    );
    assert_eq!(m.header("UnknownHeaderWithUnusualValue"), Some(";;,,;;,;"));
    let contacts = m.contacts();
    assert_eq!(contacts.len(), 1);
    assert_eq!(contacts[0].uri, "sip:jdrosen@example.com");
    assert_eq!(
        contacts[0].display_name.as_deref(),
        Some("Quoted string \"\"")
    );
    assert_eq!(contacts[0].param("newparam"), Some("newvalue"));
    assert_eq!(contacts[0].param("secondparam"), Some(""));
    assert_eq!(contacts[0].param("q"), Some("0.33"));
    assert_eq!(m.content_type(), Some("application/sdp"));
    assert_eq!(m.body, crlf(cases::SDP).as_bytes());
}

#[test]
fn intmeth() {
    let method = "!odd-Method_0123456789*+`.%yes'~";
    let m = request(&cases::intmeth());
    assert_eq!(m.method(), Some(&Method::Other(method.into())));
    assert_eq!(
        m.request_uri(),
        Some("sip:9_strange.URI~(be!sure)&isn't+it$/odd?,/;;*:&pw+has=1,odd!*pa$s~d_2.(isn't-it)@example.com")
    );
    assert_eq!(branch(&m).as_deref(), Some("z9hG4bK-.!%77*_+`'~"));
    let to = m.to().unwrap();
    assert_eq!(
        to.display_name.as_deref(),
        Some("quote:\" backslash:\\ x:x")
    );
    assert_eq!(
        to.uri,
        "sip:9_strange.URI~(be!sure)&isn't+it$/odd?,/;;*@example.com"
    );
    assert_eq!(to.tag(), None);
    let from = m.from().unwrap();
    assert_eq!(
        from.display_name.as_deref(),
        Some("tok1~` tok2'+_ tok3*%!.-")
    );
    assert_eq!(from.uri, "sip:plain@example.com");
    assert_eq!(from.tag(), Some("_tok~9'+`*%!-."));
    assert_eq!(
        from.param("fromParam''~+*_!.-%"),
        Some("\u{440}\u{430}\u{431}\u{43e}\u{442}\u{430}")
    );
    assert_eq!(m.call_id(), Some("intmeth.w%ZK-!.*_+'@w`~)(><:\\/\"][?}{"));
    assert_eq!(cseq(&m), (139122386, Method::Other(method.into())));
    assert_eq!(m.max_forwards(), Some(255));
    assert_eq!(
        m.header("extensionHeader-!.%*+_`'~"),
        Some("\u{5927}\u{505c}\u{96fb}")
    );
    assert!(m.body.is_empty());
}

/// RFC 4475 3.1.1.2 as written: valid. Its To display name carries BEL,
/// NUL and DEL as quoted pairs (`quoted-pair = "\" (%x00-09 / %x0B-0C /
/// %x0E-7F)`), which RFC 3261 allows in a quoted string; control
/// characters anywhere else in the header section are still refused. The
/// name is read with them, written back as quoted pairs, and kept out of
/// what the UI shows.
#[test]
fn intmeth_with_control_characters() {
    let m = request(&cases::intmeth_ctl());
    let to = m.to().unwrap();
    assert_eq!(
        to.display_name.as_deref(),
        Some("BEL:\u{7} NUL:\u{0} DEL:\u{7f}")
    );
    assert_eq!(
        to.uri,
        "sip:9_strange.URI~(be!sure)&isn't+it$/odd?,/;;*@example.com"
    );
    // written out and read again: the same message, the same name
    let again = request(&m.to_bytes());
    assert_eq!(again, m);
    let written = softphone::sip::message::NameAddr::parse(&to.to_string()).unwrap();
    assert_eq!(written, to);
    // a bare control character (not a quoted pair) is still refused, in a
    // quoted string or out of one, and so is an escaped CR
    for bad in [
        "To: \"BEL:\u{7}\" <sip:a@example.com>",
        "To: BEL\u{7} <sip:a@example.com>",
        "To: <sip:a@example.com>;x=\\\u{0}",
        "To: \"CR:\\\r\" <sip:a@example.com>",
    ] {
        let text = String::from_utf8(cases::intmeth_ctl()).unwrap();
        let line = text.lines().find(|l| l.starts_with("To:")).unwrap();
        let (reason, _) = reject(text.replace(line, bad).as_bytes());
        assert_eq!(reason, "control character in the header section", "{bad:?}");
    }
}

#[test]
fn esc01() {
    let m = request(&cases::esc01());
    assert_eq!(m.method(), Some(&Method::Invite));
    assert_eq!(
        m.request_uri(),
        Some("sip:sips%3Auser%40example.com@example.net")
    );
    assert_eq!(branch(&m).as_deref(), Some("z9hG4bKkdjuw"));
    assert_eq!(m.to().unwrap().uri, "sip:%75se%72@example.com");
    assert_eq!(m.from().unwrap().uri, "sip:I%20have%20spaces@example.net");
    assert_eq!(from_tag(&m).as_deref(), Some("1234"));
    assert_eq!(m.call_id(), Some("esc01.239409asdfakjkn23onasd0-3234"));
    assert_eq!(cseq(&m), (234234, Method::Invite));
    let contacts = m.contacts();
    assert_eq!(contacts.len(), 1);
    assert_eq!(
        contacts[0].uri,
        "sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31"
    );
    // escapes are kept as written (compared as written by the agent)
    let uri = contacts[0].sip_uri().unwrap();
    assert_eq!(uri.user.as_deref(), Some("cal%6Cer"));
    assert_eq!(uri.host, "host5.example.net");
    assert_eq!(uri.param("%6C%72"), Some(""));
    assert_eq!(uri.param("n%61me"), Some("v%61lue%25%34%31"));
    assert_eq!(m.content_type(), Some("application/sdp"));
    assert_eq!(m.body, crlf(cases::SDP).as_bytes());
}

#[test]
fn escnull() {
    let m = request(&cases::escnull());
    assert_eq!(m.method(), Some(&Method::Register));
    assert_eq!(m.request_uri(), Some("sip:example.com"));
    assert_eq!(m.to().unwrap().uri, "sip:null-%00-null@example.com");
    assert_eq!(from_tag(&m).as_deref(), Some("839923423"));
    assert_eq!(
        m.call_id(),
        Some("escnull.39203ndfvkjdasfkq3w4otrq0adsfdfnavd")
    );
    assert_eq!(cseq(&m), (14398234, Method::Register));
    let uris: Vec<String> = m.contacts().into_iter().map(|c| c.uri).collect();
    assert_eq!(
        uris,
        ["sip:%00@host5.example.com", "sip:%00%00@host5.example.com"]
    );
    assert!(m.body.is_empty());
}

#[test]
fn esc02() {
    let m = request(&cases::esc02());
    // %47 is not G here: a method is a token, not escaped
    let method = Method::Other("RE%47IST%45R".into());
    assert_eq!(m.method(), Some(&method));
    assert_eq!(cseq(&m), (29344, method));
    assert_eq!(m.to().unwrap().display_name.as_deref(), Some("%Z%45"));
    assert_eq!(from_tag(&m).as_deref(), Some("f232jadfj23"));
    assert_eq!(branch(&m).as_deref(), Some("z9hG4bK209323"));
    // C%6Fntact is an unknown header, not Contact
    let uris: Vec<String> = m.contacts().into_iter().map(|c| c.uri).collect();
    assert_eq!(
        uris,
        [
            "sip:alias1@host1.example.com",
            "sip:alias3@host3.example.com"
        ]
    );
    assert_eq!(
        m.header("C%6Fntact"),
        Some("<sip:alias2@host2.example.com>")
    );
}

#[test]
fn lwsdisp() {
    let m = request(&cases::lwsdisp());
    assert_eq!(m.method(), Some(&Method::Options));
    let from = m.from().unwrap();
    assert_eq!(from.display_name.as_deref(), Some("caller"));
    assert_eq!(from.uri, "sip:caller@example.com");
    assert_eq!(from.tag(), Some("323"));
    assert_eq!(m.to().unwrap().uri, "sip:user@example.com");
    assert_eq!(cseq(&m), (60, Method::Options));
}

#[test]
fn longreq() {
    let long = "amazinglylongcallid".repeat(50);
    let user = "very".repeat(100);
    let m = request(&cases::longreq());
    assert_eq!(m.method(), Some(&Method::Invite));
    assert_eq!(
        m.request_uri(),
        Some(format!("sip:{user}long@example.com").as_str())
    );
    let to = m.to().unwrap();
    assert_eq!(to.tag(), Some(long.as_str()));
    assert_eq!(
        to.display_name,
        Some(format!("I have a user name of {user}long"))
    );
    assert_eq!(from_tag(&m).as_deref(), Some("333"));
    assert_eq!(m.call_id(), Some(format!("longreq.{long}").as_str()));
    assert_eq!(cseq(&m), (3882340, Method::Invite));
    assert_eq!(m.vias().len(), 30);
    assert_eq!(branch(&m), Some(format!("z9hG4bK0{long}")));
    assert_eq!(m.header(&format!("Unknown-{long}")), Some(long.as_str()));
    assert_eq!(
        m.contacts()[0].uri,
        "sip:amazinglylongcallid@host5.example.net"
    );
    assert_eq!(m.body, crlf(cases::SDP).as_bytes());
}

/// Over a datagram the bytes after Content-Length are discarded (RFC 3261
/// 18.3); over WebSocket one frame is one message and we do the same.
#[test]
fn dblreq() {
    let m = request(&cases::dblreq());
    assert_eq!(m.method(), Some(&Method::Register));
    assert_eq!(m.call_id(), Some("dblreq.0ha0isndaksdj99sdfafnl3lk233412"));
    assert_eq!(cseq(&m), (8, Method::Register));
    assert_eq!(m.contacts()[0].uri, "sip:j.user@host.example.com");
    assert_eq!(branch(&m).as_deref(), Some("z9hG4bKkdjuw23492"));
    assert!(m.body.is_empty(), "the second message is not a body");
}

#[test]
fn semiuri() {
    let m = request(&cases::semiuri());
    let ruri = m.request_uri().unwrap();
    assert_eq!(ruri, "sip:user;par=u%40example.net@example.com");
    let uri = SipUri::parse(ruri).unwrap();
    assert_eq!(uri.user.as_deref(), Some("user;par=u%40example.net"));
    assert_eq!(uri.host, "example.com");
    assert!(uri.params.is_empty());
    assert_eq!(cseq(&m), (8, Method::Options));
    assert_eq!(m.max_forwards(), Some(3));
    assert_eq!(m.header_list("Accept").len(), 6);
}

#[test]
fn transports() {
    let m = request(&cases::transports());
    let t: Vec<String> = m.vias().into_iter().map(|v| v.transport).collect();
    assert_eq!(t, ["UDP", "SCTP", "TLS", "UNKNOWN", "TCP"]);
    assert_eq!(branch(&m).as_deref(), Some("z9hG4bKkdjuw"));
    assert_eq!(m.call_id(), Some("transports.kijh4akdnaqjkwendsasfdj"));
    assert_eq!(cseq(&m), (60, Method::Options));
}

#[test]
fn mpart01() {
    let m = request(&cases::mpart01());
    assert_eq!(m.method(), Some(&Method::Message));
    assert_eq!(m.content_type(), Some("multipart/mixed"));
    assert_eq!(
        m.header("Content-Type"),
        Some("multipart/mixed;boundary=7a9cbec.3a24a93d")
    );
    assert_eq!(m.body, crlf(cases::MPART_BODY).as_bytes());
    assert_eq!(from_tag(&m).as_deref(), Some("n88ah"));
    assert_eq!(branch(&m).as_deref(), Some("z9hG4bK9s8a3"));
}

#[test]
fn unreason() {
    let m = response(&cases::unreason());
    assert_eq!(m.code(), Some(200));
    assert_eq!(
        m.reason(),
        Some(
            "= 2**3 * 5**2 \u{43d}\u{43e} \u{441}\u{442}\u{43e} \u{434}\u{435}\u{432}\u{44f}\u{43d}\u{43e}\u{441}\u{442}\u{43e} \u{434}\u{435}\u{432}\u{44f}\u{442}\u{44c} - \u{43f}\u{440}\u{43e}\u{441}\u{442}\u{43e}\u{435}"
        )
    );
    assert_eq!(to_tag(&m).as_deref(), Some("2229"));
    assert_eq!(from_tag(&m).as_deref(), Some("11141343"));
    assert_eq!(cseq(&m), (35, Method::Invite));
    assert_eq!(m.contacts()[0].uri, "sip:user@host198.example.com");
    let sdp = "v=0\no=- 1 1 IN IP4 192.0.2.198\ns=-\nc=IN IP4 192.0.2.198\nt=0 0\nm=audio 3456 RTP/AVP 0\n";
    assert_eq!(m.body, crlf(sdp).as_bytes());
}

#[test]
fn noreason() {
    let m = response(&cases::noreason());
    assert_eq!(m.code(), Some(100));
    assert_eq!(m.reason(), Some(""));
    assert_eq!(branch(&m).as_deref(), Some("z9hG4bK2398ndaoe"));
    assert_eq!(to_tag(&m).as_deref(), Some("902jndnke3"));
}

// ----------------------------------------------- valid semantics (3.2-3.4)

#[test]
fn badbranch() {
    let m = request(&cases::badbranch());
    let vias = m.vias();
    assert_eq!(vias[0].branch(), Some("z9hG4bK"));
    assert_eq!(vias[1].branch(), Some("kdjuw"));
}

#[test]
fn unkscm() {
    let m = request(&cases::unkscm());
    let ruri = m.request_uri().unwrap();
    assert_eq!(ruri, "nobodyknowsthisscheme:totallyopaquecontent");
    assert!(SipUri::parse(ruri).is_err(), "not a SIP URI");
    assert_eq!(cseq(&m), (3923423, Method::Options));
}

#[test]
fn novelsc() {
    let m = request(&cases::novelsc());
    assert_eq!(m.request_uri(), Some("soap.beep://192.0.2.103:3002"));
}

#[test]
fn unksm2() {
    let m = request(&cases::unksm2());
    assert_eq!(m.to().unwrap().uri, "isbn:2983792873");
    assert_eq!(m.from().unwrap().uri, "http://www.example.com");
    assert_eq!(from_tag(&m).as_deref(), Some("3234233"));
    assert_eq!(m.contacts()[0].uri, "name:John_Smith");
    assert_eq!(m.top_via().unwrap().port, Some(5060));
}

#[test]
fn bext01() {
    let m = request(&cases::bext01());
    assert_eq!(
        m.header_list("Require"),
        ["nothingSupportsThis", "nothingSupportsThisEither"]
    );
    assert_eq!(m.header_list("Proxy-Require").len(), 2);
    assert_eq!(m.top_via().unwrap().transport, "TLS");
}

#[test]
fn invut() {
    let m = request(&cases::invut());
    assert_eq!(m.content_type(), Some("application/unknownformat"));
    assert_eq!(
        m.body,
        crlf("<audio>\n <pcmu port=\"443\"/>\n</audio>\n").as_bytes()
    );
}

#[test]
fn regaui() {
    let m = request(&cases::regaui());
    assert_eq!(m.method(), Some(&Method::Register));
    assert_eq!(
        m.header("Authorization"),
        Some("NoOneKnowsThisScheme opaque-data=here")
    );
    assert_eq!(cseq(&m), (9338, Method::Register));
}

#[test]
fn zeromf() {
    let m = request(&cases::zeromf());
    assert_eq!(m.max_forwards(), Some(0));
    assert_eq!(cseq(&m), (39234321, Method::Options));
}

/// A bare addr-spec Contact: its `;` parameters are header parameters
/// (RFC 3261 20.10), not URI parameters.
#[test]
fn cparam01() {
    let m = request(&cases::cparam01());
    let c = &m.contacts()[0];
    assert_eq!(c.uri, "sip:+19725552222@gw1.example.net");
    assert_eq!(c.param("unknownparam"), Some(""));
    assert_eq!(m.top_via().unwrap().port, Some(5060));
}

#[test]
fn cparam02() {
    let m = request(&cases::cparam02());
    assert_eq!(
        m.from().unwrap().display_name.as_deref(),
        Some("\u{c9}mile")
    );
    assert_eq!(m.content_type(), Some("application/sdp"));
    assert_eq!(
        m.header("Content-Type"),
        Some("application/sdp; charset=\"utf-8\" ; x-note=\"\u{e9}t\u{e9}\"")
    );
    assert_eq!(m.body, crlf(cases::SDP).as_bytes());
}

#[test]
fn regescrt() {
    let m = request(&cases::regescrt());
    assert_eq!(
        m.contacts()[0].uri,
        "sip:user@example.com?Route=%3Csip:sip.example.com%3E"
    );
}

/// RFC 2543: no branch, no Max-Forwards, no Content-Length (the body is
/// the rest), bare addr-specs whose `;user=phone` is a header parameter.
#[test]
fn inv2543() {
    let m = request(&cases::inv2543());
    let via = m.top_via().unwrap();
    assert_eq!(via.host, "iftgw.example.com");
    assert_eq!(via.branch(), None);
    assert_eq!(m.max_forwards(), None);
    let to = m.to().unwrap();
    assert_eq!(to.uri, "sip:+16505552222@ss1.example.net");
    assert_eq!(to.param("user"), Some("phone"));
    assert_eq!(
        m.from().unwrap().uri,
        "sip:+13035551111@ift.client.example.net;user=phone"
    );
    assert_eq!(from_tag(&m), None);
    assert_eq!(m.body, crlf(cases::SDP).as_bytes());
}

#[test]
fn bcast() {
    let m = response(&cases::bcast());
    assert_eq!(m.code(), Some(200));
    assert_eq!(
        m.top_via().unwrap().param("received"),
        Some("255.255.255.255")
    );
    assert_eq!(m.vias().len(), 2);
}

// ---------------------------------- invalid per RFC 4475, accepted by us

/// RFC 4475 3.1.2.9 calls this invalid (exactly one SP between elements);
/// the RFC allows accepting it, and we do: it is unambiguous.
#[test]
fn lwsstart() {
    let m = request(&cases::lwsstart());
    assert_eq!(m.request_uri(), Some("sip:user@example.com"));
    assert_eq!(cseq(&m), (1893884, Method::Invite));
}

/// RFC 4475 3.1.2.10: trailing SP on the Request-Line; accepted, as the RFC
/// allows, since nothing is ambiguous.
#[test]
fn trws() {
    let m = request(&cases::trws());
    assert_eq!(m.request_uri(), Some("sip:remote-target@example.com"));
}

/// RFC 4475 3.1.2.12: a Date with a non-GMT zone. We never read Date, so
/// the message is accepted and the value kept as written.
#[test]
fn baddate() {
    let m = request(&cases::baddate());
    assert_eq!(m.header("Date"), Some("Fri, 01 Jan 2010 16:00:00 EST"));
}

// ------------------------------------------------------ invalid (3.1.2, 3.3)

/// RFC 4475 3.1.2.13: a `?` in a bare addr-spec Contact (URI headers
/// need `<>`): "an element receiving this request should respond with a
/// 400 Bad Request", and we do, rather than accept the message and skip
/// the Contact entry.
#[test]
fn regbadct() {
    let (reason, reply) = reject(&cases::regbadct());
    assert!(
        reason.starts_with("invalid Contact: URI with '?'"),
        "{reason}"
    );
    let reply = reply.expect("a 400");
    assert_eq!(reply.call_id(), Some("regbadct.k345asrl3fdbv@10.0.0.1"));
    // the same URI inside <> is a Contact with URI headers, and fine
    let text = String::from_utf8(cases::regbadct()).unwrap();
    let fixed = text.replace(
        "Contact: sip:user@example.com?Route=%3Csip:sip.example.com%3E",
        "Contact: <sip:user@example.com?Route=%3Csip:sip.example.com%3E>",
    );
    let m = request(fixed.as_bytes());
    assert_eq!(
        m.contacts()[0].uri,
        "sip:user@example.com?Route=%3Csip:sip.example.com%3E"
    );
}

#[test]
fn badinv01() {
    let (reason, reply) = reject(&cases::badinv01());
    assert!(reason.starts_with("invalid Via: empty element"), "{reason}");
    // the 400 would copy the broken Via list as written: none
    assert_eq!(reply, None);
}

#[test]
fn clerr() {
    let (reason, reply) = reject(&cases::clerr());
    let sdp_len = crlf(cases::SDP).len();
    assert_eq!(
        reason,
        format!("body shorter than Content-Length ({sdp_len} < 9999)")
    );
    let reply = reply.expect("a 400");
    assert_eq!(reply.header("CSeq"), Some("8 INVITE"));
    assert_eq!(
        reply.top_via().unwrap().branch(),
        Some("z9hG4bK-39234-23523")
    );
    assert_eq!(reply.from().unwrap().tag(), Some("93942939o2"));
    assert!(reply.to().unwrap().tag().is_some(), "a To tag is added");
}

#[test]
fn clerr_huge() {
    let (reason, reply) = reject(&cases::clerr_huge());
    assert_eq!(
        reason,
        "invalid Content-Length \"184467440737095516160000\""
    );
    assert!(reply.is_some());
}

#[test]
fn ncl() {
    let (reason, reply) = reject(&cases::ncl());
    assert_eq!(reason, "invalid Content-Length \"-999\"");
    assert_eq!(reply.expect("a 400").header("CSeq"), Some("0 INVITE"));
}

#[test]
fn scalar02() {
    let (reason, reply) = reject(&cases::scalar02());
    assert_eq!(reason, "invalid CSeq \"36893488147419103232 REGISTER\"");
    assert_eq!(reply, None, "a CSeq that cannot be read cannot be answered");
}

#[test]
fn scalarlg() {
    let (reason, reply) = reject(&cases::scalarlg());
    assert!(reason.starts_with("invalid CSeq"), "{reason}");
    assert_eq!(reply, None, "never answer a response");
}

#[test]
fn quotbal() {
    let (reason, reply) = reject(&cases::quotbal());
    assert_eq!(reason, "invalid To: unterminated quoted display name");
    assert_eq!(reply, None, "an unreadable To cannot be copied");
}

#[test]
fn ltgtruri() {
    let (reason, reply) = reject(&cases::ltgtruri());
    assert_eq!(reason, "invalid Request-URI \"<sip:user@example.com>\"");
    assert_eq!(
        reply.expect("a 400").call_id(),
        Some("ltgtruri.1@192.0.2.5")
    );
}

#[test]
fn lwsruri() {
    let (reason, reply) = reject(&cases::lwsruri());
    assert!(
        reason.starts_with("request line has 4 parts instead of 3"),
        "{reason}"
    );
    // the To already has a tag: kept as it is
    let reply = reply.expect("a 400");
    assert_eq!(reply.to().unwrap().tag(), Some("3xfe-9921883-z9f"));
}

#[test]
fn escruri() {
    let (reason, reply) = reject(&cases::escruri());
    assert!(reason.starts_with("headers in the Request-URI"), "{reason}");
    assert!(reply.is_some());
}

#[test]
fn badaspec() {
    let (reason, reply) = reject(&cases::badaspec());
    assert_eq!(
        reason,
        "invalid To: invalid URI \" sip:t.watson@example.org \""
    );
    assert_eq!(reply, None);
}

#[test]
fn baddn() {
    let (reason, reply) = reject(&cases::baddn());
    assert!(
        reason.starts_with("invalid From: invalid display name"),
        "{reason}"
    );
    assert_eq!(reply, None);
}

/// RFC 3261 would answer 505; the brief is one 400 for all, and here the
/// Via (`SIP/7.0/UDP`) cannot be read anyway, so there is no reply.
#[test]
fn badvers() {
    let (reason, reply) = reject(&cases::badvers());
    assert_eq!(reason, "unsupported SIP version SIP/7.0");
    assert_eq!(reply, None);
}

#[test]
fn mismatch01() {
    let (reason, reply) = reject(&cases::mismatch01());
    assert_eq!(
        reason,
        "CSeq method INVITE does not match request method OPTIONS"
    );
    let reply = reply.expect("a 400");
    assert_eq!(reply.header("CSeq"), Some("8 INVITE"));
    assert_eq!(reply.call_id(), Some("mismatch01.dj0234sxdfl3"));
}

#[test]
fn mismatch02() {
    let (reason, reply) = reject(&cases::mismatch02());
    assert_eq!(
        reason,
        "CSeq method INVITE does not match request method NEWMETHOD"
    );
    assert!(reply.is_some());
}

#[test]
fn bigcode() {
    let (reason, reply) = reject(&cases::bigcode());
    assert_eq!(reason, "invalid status code 4294967301");
    assert_eq!(reply, None);
}

#[test]
fn insuf() {
    let (reason, reply) = reject(&cases::insuf());
    assert_eq!(reason, "missing Call-ID");
    assert_eq!(reply, None);
}

#[test]
fn multi01() {
    let (reason, reply) = reject(&cases::multi01());
    assert_eq!(reason, "more than one Call-ID header");
    // the 400 copies the first of each
    let reply = reply.expect("a 400");
    assert_eq!(reply.call_id(), Some("multi01.98asdh@192.0.2.1"));
    assert_eq!(reply.header_values("CSeq"), ["5 INVITE"]);
    assert_eq!(reply.header_values("To").len(), 1);
}

#[test]
fn mcl01() {
    let (reason, reply) = reject(&cases::mcl01());
    assert_eq!(reason, "conflicting Content-Length headers");
    assert!(reply.is_some());
}

/// Every case of the list is where the list says, and every one survives
/// being cut at every length (no panic on a truncated frame).
#[test]
fn all_cases_classified_and_truncation_safe() {
    let all = cases::all();
    assert!(all.len() >= 45, "{}", all.len());
    for case in all {
        let accepted = matches!(
            classify(&case.bytes),
            Incoming::Request(_) | Incoming::Response(_)
        );
        assert_eq!(accepted, case.accepted, "{}", case.name);
        for cut in 0..case.bytes.len().min(2048) {
            let _ = classify(&case.bytes[..cut]);
        }
    }
}
