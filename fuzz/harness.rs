//! The two fuzz harnesses, shared by the cargo-fuzz targets (`fuzz/`) and the
//! deterministic smoke test (`tests/fuzz_smoke.rs`), which include this file
//! with `#[path]`.
//!
//! - [`check_frame`]: one frame through `classify`, with invariants on what
//!   it accepts and on the 400 it builds.
//! - [`run_agent`]: a whole user agent driven by a sequence of operations
//!   read from the bytes (commands, transport events, media answers, timer
//!   expiries on a virtual clock, and received frames that are either raw
//!   bytes or realistic templates filled with the Call-IDs, tags, branches
//!   and CSeqs the agent itself sent, so that deep states are reached).
#![allow(dead_code)]

use softphone::sip::message::{classify, Incoming, Message, Method, NameAddr, SipUri, Via};
use softphone::sip::sdp;
use softphone::sip::{
    AccountConfig, CallId, Command, Duration, Event, Input, Instant, MediaRequest, Output,
    Transport, UserAgent,
};

// ---------------------------------------------------------------- frames

/// Classifies `data` and checks what comes out. Panics on a broken
/// invariant.
pub fn check_frame(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let mut cut = text.len() / 2;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        let (offer, answer) = text.split_at(cut);
        check_dtls_answer(offer, answer);
        check_codec_cut(text);
    }
    match classify(data) {
        Incoming::KeepAlive => {
            assert!(data.iter().all(|b| b.is_ascii_whitespace()));
        }
        Incoming::Request(m) => {
            assert!(m.is_request());
            check_accepted(&m);
        }
        Incoming::Response(m) => {
            assert!(!m.is_request());
            check_accepted(&m);
        }
        Incoming::Malformed { reason, reply } => {
            assert!(!reason.is_empty());
            if let Some(reply) = reply {
                check_reply(data, &reason, &reply);
            }
        }
    }
}

/// `sdp::answer_as_dtls_server` (check_frame: on any text cut in two): a
/// changed answer has the same lines, each `a=setup:active` line now
/// passive, and nothing more to change. Returns whether it changed.
pub fn check_dtls_answer(offer: &str, answer: &str) -> bool {
    let changed = sdp::answer_as_dtls_server(offer, answer);
    if let Some(out) = &changed {
        let active = answer
            .split_inclusive('\n')
            .filter(|l| {
                matches!(
                    *l,
                    "a=setup:active\r\n" | "a=setup:active\n" | "a=setup:active"
                )
            })
            .count();
        assert!(active > 0, "changed an answer without a=setup:active");
        assert_eq!(
            out.len(),
            answer.len() + active,
            "only the role words change"
        );
        assert_eq!(out.split('\n').count(), answer.split('\n').count());
        assert_eq!(
            out.replace("a=setup:passive", "a=setup:active"),
            answer.replace("a=setup:passive", "a=setup:active")
        );
        assert_eq!(
            sdp::answer_as_dtls_server(offer, out),
            None,
            "a second pass changes nothing"
        );
    }
    changed.is_some()
}

/// `sdp::keep_codecs` (check_frame: on any text, both kinds, a few
/// choices): a cut offer has the same streams, and the cut stream lists
/// only payload types the original listed, each once.
pub fn check_codec_cut(offer: &str) {
    let streams = |sdp: &str| sdp.lines().filter(|l| l.starts_with("m=")).count();
    let types = |sdp: &str, kind: &str| -> Vec<String> {
        sdp.lines()
            .map(|l| l.trim_end_matches('\r'))
            .find_map(|l| l.strip_prefix("m=")?.strip_prefix(kind)?.strip_prefix(' '))
            .map(|m| m.split_whitespace().skip(2).map(str::to_string).collect())
            .unwrap_or_default()
    };
    for (kind, wanted) in [
        ("audio", &["PCMU", "opus"][..]),
        ("audio", &["G722"][..]),
        ("video", &["VP9", "H264"][..]),
        ("video", &["vp8"][..]),
    ] {
        let Some(out) = sdp::keep_codecs(offer, kind, wanted) else {
            continue;
        };
        assert_eq!(streams(&out), streams(offer), "the streams stay");
        let (before, after) = (types(offer, kind), types(&out, kind));
        assert!(!after.is_empty(), "a cut stream keeps a codec");
        for (i, pt) in after.iter().enumerate() {
            assert!(before.contains(pt), "{pt} was not offered");
            assert!(!after[..i].contains(pt), "{pt} twice");
        }
        assert!(out.len() <= offer.len() + 1, "a cut makes nothing longer");
    }
}

/// What is true of every accepted message.
fn check_accepted(m: &Message) {
    // the typed accessors the agent relies on hold for an accepted message
    let call_id = m.call_id().expect("accepted without Call-ID");
    assert!(!call_id.is_empty());
    let cseq = m.cseq().expect("accepted without a valid CSeq");
    assert!(cseq.seq < (1 << 31));
    if let Some(method) = m.method() {
        assert_eq!(&cseq.method, method, "CSeq method");
        assert!(m.request_uri().is_some_and(|u| u.contains(':')));
    } else {
        let code = m.code().expect("a response has a code");
        assert!((100..=699).contains(&code));
    }
    let from = m.from().expect("accepted without a valid From");
    let to = m.to().expect("accepted without a valid To");
    assert!(!m.header_values("Via").is_empty());
    if m.max_forwards().is_some() {
        assert!(m.max_forwards().is_some_and(|n| n <= 255));
    }
    assert!(m.header("Content-Length").is_none());

    // the rest must not panic
    let _ = (m.top_via(), m.vias(), m.record_routes(), m.expires());
    let _ = (m.min_expires(), m.content_type(), m.body_str(), m.reason());
    let _ = m.header_list("Allow");
    let contacts = m.contacts();
    for na in [&from, &to].into_iter().chain(contacts.iter()) {
        let _ = (na.tag(), na.sip_uri());
        // an address written by Display reads back the same
        let again = NameAddr::parse(&na.to_string())
            .unwrap_or_else(|e| panic!("{na} does not parse again: {e}"));
        assert_eq!(&again, na, "NameAddr round trip");
    }
    if let Some(via) = m.top_via() {
        let _ = via.branch();
        let again = Via::parse(&via.to_string())
            .unwrap_or_else(|e| panic!("{via} does not parse again: {e}"));
        assert_eq!(again, via, "Via round trip");
    }
    if let Some(uri) = m.request_uri() {
        if let Ok(u) = SipUri::parse(uri) {
            let again = SipUri::parse(&u.to_string())
                .unwrap_or_else(|e| panic!("{u} does not parse again: {e}"));
            assert_eq!(again, u, "SipUri round trip");
        }
    }

    // written again and read again, it is the same message
    let bytes = m.to_bytes();
    let again = match classify(&bytes) {
        Incoming::Request(a) | Incoming::Response(a) => a,
        other => panic!(
            "to_bytes() of an accepted message is not accepted: {other:?}\n{}",
            String::from_utf8_lossy(&bytes)
        ),
    };
    assert_eq!(&again, m, "to_bytes() round trip");
    assert_eq!(again.to_bytes(), bytes, "to_bytes() is stable");
}

/// What is true of every 400 that `classify` builds.
fn check_reply(data: &[u8], reason: &str, reply: &Message) {
    assert_eq!(reply.code(), Some(400));
    let start = data
        .iter()
        .position(|b| *b != b'\r' && *b != b'\n')
        .and_then(|i| data.get(i..))
        .unwrap_or(&[]);
    assert!(!start.starts_with(b"SIP/"), "a 400 for a response");
    assert!(!start.starts_with(b"ACK "), "a 400 for an ACK");
    let to = reply.to().expect("the 400 has a To");
    assert!(to.tag().is_some(), "the 400 has a To tag");
    let warning = reply.header("Warning").expect("the 400 has a Warning");
    assert!(warning.starts_with("399 softphone \""), "{warning}");
    assert!(warning.len() > reason.len());
    match classify(&reply.to_bytes()) {
        Incoming::Response(r) => {
            assert_eq!(r.code(), Some(400));
            assert_eq!(r.header_values("Via"), reply.header_values("Via"));
            assert_eq!(r.call_id(), reply.call_id());
            assert!(r.top_via().is_some());
        }
        other => panic!("our 400 does not parse: {other:?}\n{reply:?}"),
    }
}

// ---------------------------------------------------------------- agent

/// Reads fuzz bytes; every read past the end gives 0.
pub struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8]) -> Reader<'a> {
        Reader { data, pos: 0 }
    }
    pub fn done(&self) -> bool {
        self.pos >= self.data.len()
    }
    pub fn byte(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos = self.pos.saturating_add(1);
        b
    }
    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.byte(), self.byte()])
    }
    pub fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.byte(), self.byte(), self.byte(), self.byte()])
    }
    pub fn u64(&mut self) -> u64 {
        u64::from(self.u32()) << 32 | u64::from(self.u32())
    }
    /// Up to `n` bytes (fewer at the end).
    pub fn take(&mut self, n: usize) -> &'a [u8] {
        let start = self.pos.min(self.data.len());
        let end = start.saturating_add(n).min(self.data.len());
        self.pos = self.pos.saturating_add(n);
        self.data.get(start..end).unwrap_or(&[])
    }
    /// Picks one of `items` (which must not be empty).
    pub fn pick<'b, T>(&mut self, items: &'b [T]) -> &'b T {
        let i = usize::from(self.byte()) % items.len();
        &items[i]
    }
}

pub const AOR: &str = "sip:1000@example.com";
pub const PEER_HOST: &str = "proxy.example.com";

pub fn sdp(direction: &str) -> String {
    format!(
        "v=0\r\no=- 42 2 IN IP4 192.0.2.9\r\ns=-\r\nc=IN IP4 192.0.2.9\r\nt=0 0\r\n\
         m=audio 40000 RTP/AVP 0 8\r\na=rtpmap:0 PCMU/8000\r\na={direction}\r\n"
    )
}

/// A dialog as the peer sees it.
#[derive(Clone, Debug)]
struct Dialog {
    call_id: String,
    /// The agent's side (From of its INVITE, To of its answer), with tag.
    local: String,
    /// The peer's side, with tag.
    remote: String,
    peer_cseq: u32,
}

/// One fuzzed life of a user agent.
pub struct AgentRun {
    ua: UserAgent,
    now: Instant,
    calls: Vec<CallId>,
    /// The last requests the agent sent, newest last (a few).
    sent: Vec<Message>,
    dialogs: Vec<Dialog>,
    /// The last INVITE the peer sent outside a dialog (for CANCEL).
    peer_invite: Option<Message>,
    last_frame: Vec<u8>,
    counter: u32,
    /// Every frame the agent sent, for the smoke test's statistics.
    pub frames_sent: usize,
    pub max_calls: usize,
}

/// Runs one operation sequence. Panics on a broken invariant (the agent
/// sent a frame the parser rejects) or on any panic inside the agent.
pub fn run_agent(data: &[u8]) -> AgentRun {
    let mut rd = Reader::new(data);
    let seed = rd.u64();
    let mut config = AccountConfig::new(AOR, "pw", Transport::Ws);
    if rd.byte() & 1 == 1 {
        config.instance_id = "8a7c5d0e-1f2b-4c3d-9e8f-0a1b2c3d4e5f".into();
    }
    let ua = UserAgent::new(config, seed).expect("a valid account");
    let mut run = AgentRun {
        ua,
        now: Instant::now(),
        calls: Vec::new(),
        sent: Vec::new(),
        dialogs: Vec::new(),
        peer_invite: None,
        last_frame: Vec::new(),
        counter: 0,
        frames_sent: 0,
        max_calls: 0,
    };
    let mut steps = 0;
    while !rd.done() && steps < 2000 {
        run.step(&mut rd);
        steps += 1;
    }
    run
}

impl AgentRun {
    fn input(&mut self, input: Input) {
        let before = (self.ua.table_sizes(), self.ua.poll_timeout());
        if let Err(e) = self.ua.handle_input(self.now, input) {
            // a refused input changes nothing
            assert!(self.ua.poll_output().is_none(), "output after {e}");
            let after = (self.ua.table_sizes(), self.ua.poll_timeout());
            assert_eq!(before, after, "state changed after {e}");
            return;
        }
        self.drain();
    }

    fn drain(&mut self) {
        while let Some(out) = self.ua.poll_output() {
            match out {
                Output::Send(bytes) => self.on_sent(&bytes),
                Output::Media(m) => {
                    let call = match m {
                        MediaRequest::CreateOffer { call }
                        | MediaRequest::CreateAnswer { call, .. }
                        | MediaRequest::SetRemoteAnswer { call, .. }
                        | MediaRequest::Reoffer { call, .. }
                        | MediaRequest::Reanswer { call, .. }
                        | MediaRequest::Rollback { call }
                        | MediaRequest::SendDtmf { call, .. }
                        | MediaRequest::Close { call } => call,
                    };
                    self.note_call(call);
                }
                Output::Event(Event::IncomingCall { call, .. })
                | Output::Event(Event::CallState { call, .. }) => self.note_call(call),
                Output::Event(_) | Output::Reconnect { .. } => {}
            }
        }
        self.max_calls = self.max_calls.max(self.ua.call_count());
    }

    fn note_call(&mut self, call: CallId) {
        if !self.calls.contains(&call) {
            self.calls.push(call);
        }
    }

    /// Everything the agent sends must be something our own parser accepts.
    fn on_sent(&mut self, bytes: &[u8]) {
        self.frames_sent += 1;
        let msg = match classify(bytes) {
            Incoming::KeepAlive => return,
            Incoming::Request(m) | Incoming::Response(m) => m,
            Incoming::Malformed { reason, .. } => panic!(
                "the agent sent a malformed message ({reason}):\n{}",
                String::from_utf8_lossy(bytes)
            ),
        };
        let (Some(call_id), Some(from), Some(to)) =
            (msg.call_id(), msg.header("From"), msg.header("To"))
        else {
            return;
        };
        let to_tagged = msg.to().is_some_and(|t| t.tag().is_some());
        match (msg.method(), msg.code()) {
            (Some(Method::Invite), _) if !to_tagged => {
                // our outgoing call: the peer will answer with tag "p<n>"
                self.counter += 1;
                let remote = format!("{to};tag=p{}", self.counter);
                self.add_dialog(call_id, from, &remote);
            }
            (None, Some(code))
                if (101..300).contains(&code)
                    && to_tagged
                    && msg.cseq().is_some_and(|c| c.method == Method::Invite) =>
            {
                // our answer to the peer's INVITE: the dialog exists
                self.add_dialog(call_id, to, from);
            }
            _ => {}
        }
        if msg.is_request() {
            self.sent.push(msg);
            if self.sent.len() > 8 {
                self.sent.remove(0);
            }
        }
    }

    fn add_dialog(&mut self, call_id: &str, local: &str, remote: &str) {
        if let Some(d) = self.dialogs.iter_mut().find(|d| d.call_id == call_id) {
            // an INVITE sent again with credentials, or a 180 then a 200:
            // the peer keeps the tag chosen first
            d.local = local.to_string();
            return;
        }
        self.dialogs.push(Dialog {
            call_id: call_id.to_string(),
            local: local.to_string(),
            remote: remote.to_string(),
            peer_cseq: 100,
        });
        if self.dialogs.len() > 4 {
            self.dialogs.remove(0);
        }
    }

    fn pick_call(&mut self, rd: &mut Reader) -> CallId {
        if self.calls.is_empty() || rd.byte() == 255 {
            CallId(u32::from(rd.byte() % 4))
        } else {
            *rd.pick(&self.calls)
        }
    }

    /// One operation.
    pub fn step(&mut self, rd: &mut Reader) {
        match rd.byte() % 16 {
            0 => self.input(Input::Connected),
            1 => self.input(Input::Disconnected {
                reason: "fuzz".into(),
            }),
            2 => self.input(Input::Command(Command::Register)),
            3 => self.input(Input::Command(Command::Unregister)),
            4 => {
                let target = match rd.byte() % 5 {
                    0 => "1001".to_string(),
                    1 => "sip:bob@example.org".to_string(),
                    2 => String::new(),
                    3 => "sips:[2001:db8::1]:5061;transport=ws".to_string(),
                    _ => {
                        // printable URI characters only: the agent does not
                        // vet what the user types (a space or a control
                        // character goes into the INVITE as is), see the
                        // report; the dial pad cannot type those
                        const ALPHABET: &[u8] = b"abcxyz0189@.:;=+-_%[]";
                        let n = usize::from(rd.byte() % 24);
                        rd.take(n)
                            .iter()
                            .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
                            .collect()
                    }
                };
                self.input(Input::Command(Command::Call { target }))
            }
            5 => {
                let call = self.pick_call(rd);
                self.input(Input::Command(Command::Answer { call }))
            }
            6 => {
                let call = self.pick_call(rd);
                self.input(Input::Command(Command::Hangup { call }))
            }
            7 => {
                if rd.byte().is_multiple_of(4) {
                    self.input(Input::Command(Command::Shutdown))
                }
            }
            8 => {
                let n = usize::from(rd.u16() % 2048);
                let frame = rd.take(n).to_vec();
                self.receive(frame)
            }
            9..=11 => {
                let frame = self.template(rd);
                let frame = mutate_some(frame, rd);
                self.receive(frame)
            }
            12 => {
                let call = self.pick_call(rd);
                let dir = *rd.pick(&["sendrecv", "sendonly", "inactive"]);
                let sdp = if rd.byte().is_multiple_of(8) {
                    String::new()
                } else {
                    sdp(dir)
                };
                self.input(Input::LocalSdp { call, sdp })
            }
            13 => {
                let call = self.pick_call(rd);
                if rd.byte() & 1 == 0 {
                    self.input(Input::MediaFailed {
                        call,
                        reason: "no microphone".into(),
                    })
                } else {
                    self.input(Input::IceFailed { call })
                }
            }
            14 => {
                match rd.byte() % 3 {
                    // to the next deadline
                    0 => {
                        if let Some(d) = self.ua.poll_timeout() {
                            self.now = self.now.max(d);
                        }
                    }
                    // a little (retransmissions)
                    1 => self.now += Duration::from_millis(u64::from(rd.u16() % 5000)),
                    // a lot (expiries, up to ~18 hours)
                    _ => self.now += Duration::from_secs(u64::from(rd.u16())),
                }
                self.input(Input::Timeout)
            }
            _ => {
                let frame = match rd.byte() % 3 {
                    0 => b"\r\n\r\n".to_vec(),
                    1 => b"\r\n".to_vec(),
                    _ => self.last_frame.clone(), // a retransmission
                };
                self.receive(frame)
            }
        }
    }

    fn receive(&mut self, frame: Vec<u8>) {
        // the fuzz-side parser check on every frame the agent gets
        check_frame(&frame);
        self.last_frame = frame.clone();
        self.input(Input::Received(frame))
    }

    fn next(&mut self) -> u32 {
        self.counter += 1;
        self.counter
    }

    /// The last request we sent with that method (any method for `None`).
    fn last_sent(&self, method: Option<Method>) -> Option<Message> {
        self.sent
            .iter()
            .rev()
            .find(|m| method.is_none() || m.method() == method.as_ref())
            .cloned()
    }

    /// A realistic frame for the agent's current state.
    pub fn template(&mut self, rd: &mut Reader) -> Vec<u8> {
        let kind = rd.byte() % 13;
        let frame = match kind {
            0 => Some(self.peer_invite(rd)),
            1 => {
                let method = if rd.byte() & 1 == 0 {
                    Method::Register
                } else {
                    Method::Invite
                };
                self.last_sent(Some(method.clone())).map(|req| {
                    let (code, header) = if method == Method::Register || rd.byte() & 1 == 0 {
                        (401, "WWW-Authenticate")
                    } else {
                        (407, "Proxy-Authenticate")
                    };
                    let n = self.next();
                    let alg = *rd.pick(&["MD5", "SHA-256", "MD5-sess", "AKAv1-MD5"]);
                    let extra = format!(
                        "{header}: Digest realm=\"example.com\", nonce=\"n{n}\", \
                         qop=\"auth\", algorithm={alg}, opaque=\"o\"\r\n"
                    );
                    response(&req, code, &extra, "")
                })
            }
            2 => self.last_sent(Some(Method::Register)).map(|req| {
                let expires = *rd.pick(&[0u32, 60, 600, 3600, 4294967295]);
                let contact = req.header("Contact").unwrap_or("<sip:x@y>").to_string();
                let extra = format!("Contact: {contact};expires={expires}\r\n");
                let code = *rd.pick(&[200u16, 423, 403, 500, 503]);
                let extra = if code == 423 {
                    "Min-Expires: 1200\r\n".to_string()
                } else {
                    extra
                };
                response(&req, code, &extra, "")
            }),
            3 => self.last_sent(Some(Method::Invite)).map(|req| {
                let code = *rd.pick(&[100u16, 180, 183]);
                let body = if code == 183 {
                    sdp("sendrecv")
                } else {
                    String::new()
                };
                response(&req, code, &self.peer_contact(), &body)
            }),
            4 => {
                let method = rd.pick(&[Method::Invite, Method::Update]).clone();
                self.last_sent(Some(method)).map(|req| {
                    let dir = *rd.pick(&["sendrecv", "sendonly", "recvonly", "inactive"]);
                    let extra = format!(
                        "{}Session-Expires: 90;refresher=uac\r\n",
                        self.peer_contact()
                    );
                    response(&req, 200, &extra, &sdp(dir))
                })
            }
            5 => self.last_sent(Some(Method::Invite)).map(|req| {
                let code = *rd.pick(&[
                    486u16, 487, 480, 404, 603, 500, 408, 488, 491, 422, 481, 302, 600,
                ]);
                response(&req, code, "", "")
            }),
            6 => self.in_dialog(rd, "BYE", ""),
            7 => self.peer_invite.clone().map(|inv| cancel_for(&inv)),
            8 => {
                let dir = *rd.pick(&["sendrecv", "sendonly", "inactive", ""]);
                let body = if dir.is_empty() {
                    String::new()
                } else {
                    sdp(dir)
                };
                self.in_dialog(rd, "INVITE", &body)
            }
            9 => {
                let dirs: [&str; 2] = ["sendrecv", "sendonly"];
                let dir: &&str = rd.pick(&dirs);
                let body = sdp(dir);
                self.in_dialog(rd, "UPDATE", &body)
            }
            10 => self.in_dialog(rd, "ACK", ""),
            11 => self.last_sent(None).map(|req| {
                let code = *rd.pick(&[100u16, 200, 202, 401, 481, 491, 500, 503, 408]);
                response(&req, code, "", "")
            }),
            _ => {
                let method = *rd.pick(&["OPTIONS", "MESSAGE", "INFO", "NOTIFY", "FOO"]);
                let n = self.next();
                Some(
                    format!(
                        "{method} {} SIP/2.0\r\n\
                         Via: SIP/2.0/WSS {PEER_HOST};branch=z9hG4bKo{n}\r\n\
                         Max-Forwards: 70\r\n\
                         From: <sip:peer@example.com>;tag=o{n}\r\n\
                         To: <{AOR}>\r\n\
                         Call-ID: out-of-dialog-{n}\r\n\
                         CSeq: 1 {method}\r\n\
                         Content-Length: 0\r\n\r\n",
                        self.ua.contact_uri()
                    )
                    .into_bytes(),
                )
            }
        };
        frame.unwrap_or_else(|| self.peer_invite(rd))
    }

    fn peer_contact(&self) -> String {
        format!("Contact: <sip:peer@{PEER_HOST};transport=ws>\r\n")
    }

    /// A new call from the peer, with or without an offer.
    fn peer_invite(&mut self, rd: &mut Reader) -> Vec<u8> {
        let n = self.next();
        let with_sdp = !rd.byte().is_multiple_of(6);
        let body = if with_sdp {
            sdp("sendrecv")
        } else {
            String::new()
        };
        let ctype = if with_sdp {
            "Content-Type: application/sdp\r\n"
        } else {
            ""
        };
        let text = format!(
            "INVITE {} SIP/2.0\r\n\
             Via: SIP/2.0/WSS {PEER_HOST};branch=z9hG4bKi{n};rport\r\n\
             Record-Route: <sip:{PEER_HOST};transport=ws;lr>\r\n\
             Max-Forwards: 70\r\n\
             From: \"Peer {n}\" <sip:10{n}@example.com>;tag=pi{n}\r\n\
             To: <{AOR}>\r\n\
             Call-ID: peer-call-{n}@{PEER_HOST}\r\n\
             CSeq: 1 INVITE\r\n\
             {}\
             Supported: timer\r\n\
             Session-Expires: 1800\r\n\
             {ctype}\
             Content-Length: {}\r\n\r\n{body}",
            self.ua.contact_uri(),
            self.peer_contact(),
            body.len()
        );
        let bytes = text.into_bytes();
        if let Incoming::Request(m) = classify(&bytes) {
            self.peer_invite = Some(m);
        }
        bytes
    }

    /// A request from the peer inside one of the dialogs seen so far.
    fn in_dialog(&mut self, rd: &mut Reader, method: &str, body: &str) -> Option<Vec<u8>> {
        if self.dialogs.is_empty() {
            return None;
        }
        let i = usize::from(rd.byte()) % self.dialogs.len();
        let n = self.next();
        let d = &mut self.dialogs[i];
        if method != "ACK" {
            d.peer_cseq += 1;
        }
        let ctype = if body.is_empty() {
            ""
        } else {
            "Content-Type: application/sdp\r\n"
        };
        Some(
            format!(
                "{method} {} SIP/2.0\r\n\
                 Via: SIP/2.0/WSS {PEER_HOST};branch=z9hG4bKd{n}\r\n\
                 Max-Forwards: 70\r\n\
                 From: {}\r\n\
                 To: {}\r\n\
                 Call-ID: {}\r\n\
                 CSeq: {} {method}\r\n\
                 Contact: <sip:peer@{PEER_HOST};transport=ws>\r\n\
                 {ctype}\
                 Content-Length: {}\r\n\r\n{body}",
                self.ua.contact_uri(),
                d.remote,
                d.local,
                d.call_id,
                d.peer_cseq,
                body.len()
            )
            .into_bytes(),
        )
    }
}

/// A response to `req` from the peer: Via, From, To (tagged), Call-ID and
/// CSeq copied, `extra` header lines, an SDP body when given.
pub fn response(req: &Message, code: u16, extra: &str, body: &str) -> Vec<u8> {
    let mut out = format!("SIP/2.0 {code} Fuzz\r\n");
    for via in req.header_values("Via") {
        out.push_str(&format!("Via: {via}\r\n"));
    }
    out.push_str(&format!("From: {}\r\n", req.header("From").unwrap_or("")));
    let to = req.header("To").unwrap_or("");
    if code > 100 && req.to().is_none_or(|t| t.tag().is_none()) {
        let call_id = req.call_id().unwrap_or("");
        out.push_str(&format!("To: {to};tag=p{}\r\n", call_id.len()));
    } else {
        out.push_str(&format!("To: {to}\r\n"));
    }
    out.push_str(&format!("Call-ID: {}\r\n", req.call_id().unwrap_or("")));
    out.push_str(&format!("CSeq: {}\r\n", req.header("CSeq").unwrap_or("")));
    out.push_str(extra);
    if !body.is_empty() {
        out.push_str("Content-Type: application/sdp\r\n");
    }
    out.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    out.into_bytes()
}

/// The CANCEL for an INVITE (same branch, same CSeq number).
pub fn cancel_for(invite: &Message) -> Vec<u8> {
    let seq = invite.cseq().map(|c| c.seq).unwrap_or(1);
    format!(
        "CANCEL {} SIP/2.0\r\nVia: {}\r\nMax-Forwards: 70\r\nFrom: {}\r\nTo: {}\r\n\
         Call-ID: {}\r\nCSeq: {seq} CANCEL\r\nContent-Length: 0\r\n\r\n",
        invite.request_uri().unwrap_or("sip:x@y"),
        invite.header("Via").unwrap_or(""),
        invite.header("From").unwrap_or(""),
        invite.header("To").unwrap_or(""),
        invite.call_id().unwrap_or(""),
    )
    .into_bytes()
}

/// Usually leaves `frame` alone; sometimes overwrites, inserts or cuts a
/// few bytes chosen by the fuzz input.
pub fn mutate_some(mut frame: Vec<u8>, rd: &mut Reader) -> Vec<u8> {
    let n = rd.byte();
    if n < 224 {
        return frame;
    }
    for _ in 0..(n % 4 + 1) {
        if frame.is_empty() {
            break;
        }
        let at = usize::from(rd.u16()) % frame.len();
        match rd.byte() % 4 {
            0 => frame[at] = rd.byte(),
            1 => frame.insert(at, rd.byte()),
            2 => {
                frame.remove(at);
            }
            _ => frame.truncate(at),
        }
    }
    frame
}

// ---------------------------------------------------------------- smoke

/// A small deterministic PRNG (SplitMix64) for the smoke test.
pub struct SplitMix(pub u64);

impl SplitMix {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Pieces that break parsers, for [`mutate`].
const DICT: &[&[u8]] = &[
    b"\r\n",
    b"\r\n ",
    b"\r\n\r\n",
    b"\n",
    b"\r",
    b":",
    b";",
    b",",
    b"\"",
    b"\\",
    b"<",
    b">",
    b"[",
    b"]",
    b"%",
    b"=",
    b"@",
    b" ",
    b"\t",
    b"\0",
    b"\xff",
    b"\xc3",
    b"\xe2\x80\xa6",
    b"99999999999999999999",
    b"4294967296",
    b"2147483648",
    b"65536",
    b"-1",
    b"SIP/2.0 ",
    b"Content-Length: ",
    b"l: 1000000\r\n",
    b"CSeq: 1 INVITE\r\n",
    b";tag=",
    b";branch=z9hG4bK",
    b"sip:",
];

/// One random mutation of `data` (or a splice with `other`).
pub fn mutate(rng: &mut SplitMix, data: &[u8], other: &[u8]) -> Vec<u8> {
    let mut out = data.to_vec();
    let rounds = 1 + rng.below(4);
    for _ in 0..rounds {
        let at = rng.below(out.len() + 1);
        match rng.below(8) {
            0 if !out.is_empty() => {
                let i = rng.below(out.len());
                out[i] ^= 1 << rng.below(8);
            }
            1 if !out.is_empty() => {
                let i = rng.below(out.len());
                out[i] = rng.next() as u8;
            }
            2 => {
                let piece = DICT[rng.below(DICT.len())];
                out.splice(at..at, piece.iter().copied());
            }
            3 if at < out.len() => {
                let end = (at + 1 + rng.below(16)).min(out.len());
                out.drain(at..end);
            }
            4 => out.truncate(at),
            5 if !other.is_empty() => {
                let from = rng.below(other.len());
                let len = rng.below(other.len() - from + 1);
                out.splice(at..at, other[from..from + len].iter().copied());
            }
            6 if at < out.len() => {
                // repeat a chunk (long values, many headers)
                let end = (at + 1 + rng.below(64)).min(out.len());
                let chunk = out[at..end].to_vec();
                for _ in 0..rng.below(64) {
                    out.splice(at..at, chunk.iter().copied());
                }
            }
            _ => {
                let piece = DICT[rng.below(DICT.len())];
                let end = (at + piece.len()).min(out.len());
                out.splice(at..end, piece.iter().copied());
            }
        }
    }
    out
}
