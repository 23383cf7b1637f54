//! A two-phone test bed for the sans-IO core: phones A and B, a small
//! in-process registrar/proxy between them (digest auth on REGISTER and
//! INVITE, Record-Route, Via handling like a real proxy), fake media that
//! answers offer/answer requests at once, and a virtual clock.
#![allow(dead_code)]

use softphone::sip::auth::{self, Credentials};
use softphone::sip::message::{Message, Method};
use softphone::sip::{
    AccountConfig, CallId, Command, Duration, Event, Input, Instant, MediaRequest, Output,
    RegistrationState, Transport, UserAgent,
};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    A,
    B,
}

impl Side {
    pub fn other(self) -> Side {
        match self {
            Side::A => Side::B,
            Side::B => Side::A,
        }
    }
}

pub const PROXY_HOST: &str = "proxy.test";
pub const DOMAIN: &str = "example.test";

/// One message seen on the wire, for assertions.
#[derive(Clone, Debug)]
pub struct Wire {
    pub at: Instant,
    /// `true`: phone -> proxy; `false`: proxy -> phone.
    pub from_phone: bool,
    pub side: Side,
    pub msg: Message,
}

impl Wire {
    pub fn is(&self, method: &str) -> bool {
        self.msg
            .method()
            .map(|m| m.as_str() == method)
            .unwrap_or(false)
    }
    pub fn is_response(&self, code: u16, method: &str) -> bool {
        self.msg.code() == Some(code)
            && self
                .msg
                .cseq()
                .map(|c| c.method.as_str() == method)
                .unwrap_or(false)
    }
}

pub struct Proxy {
    pub passwords: BTreeMap<String, String>,
    pub bindings: BTreeMap<String, Side>,
    pub max_expires: u32,
    pub min_expires: u32,
    pub challenge_invites: bool,
    pub challenge_algorithm: &'static str,
    nonce_counter: u32,
    /// nonces below this number are unknown (the registrar restarted)
    pub first_valid_nonce: u32,
    challenged_branches: BTreeSet<String>,
    /// drop (black-hole) requests of this method from phones
    pub black_hole: Option<&'static str>,
}

/// Decides whether a message from the proxy to a phone is lost.
pub type DropFilter = Box<dyn FnMut(Side, &Message) -> bool>;

pub struct Bed {
    pub now: Instant,
    pub start: Instant,
    pub a: UserAgent,
    pub b: UserAgent,
    pub proxy: Proxy,
    pub wire: Vec<Wire>,
    pub events: Vec<(Side, Event)>,
    /// `Output::Reconnect` asked by a phone, with its reason.
    pub reconnects: Vec<(Side, String)>,
    /// CRLF keep-alive pings the phones sent.
    pub pings: Vec<(Side, Instant)>,
    /// The proxy stops answering pings (a dead connection).
    pub silent_pongs: bool,
    pub media: Vec<(Side, MediaRequest)>,
    /// answer media requests automatically
    pub auto_media: bool,
    /// drop messages from the proxy to a phone when this returns true
    pub drop_to_phone: Option<DropFilter>,
    queue: VecDeque<(Side, bool, Vec<u8>)>,
}

pub fn sdp(tag: &str) -> String {
    format!(
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns={tag}\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
         m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\na=sendrecv\r\n"
    )
}

impl Bed {
    /// The registrar restarts: every nonce it gave out is forgotten.
    pub fn forget_nonces(&mut self) {
        self.proxy.first_valid_nonce = self.proxy.nonce_counter + 1;
    }

    pub fn new() -> Bed {
        Bed::with_passwords("secret1000", "secret1001")
    }

    pub fn with_passwords(pa: &str, pb: &str) -> Bed {
        let mut ca = AccountConfig::new(&format!("sip:1000@{DOMAIN}"), pa, Transport::Ws);
        ca.display_name = "Alice".into();
        let mut cb = AccountConfig::new(&format!("sip:1001@{DOMAIN}"), pb, Transport::Ws);
        cb.display_name = "Bob".into();
        let mut passwords = BTreeMap::new();
        passwords.insert("1000".to_string(), "secret1000".to_string());
        passwords.insert("1001".to_string(), "secret1001".to_string());
        let start = Instant::now();
        let mut bed = Bed {
            now: start,
            start,
            a: UserAgent::new(ca, 1).expect("config A"),
            b: UserAgent::new(cb, 2).expect("config B"),
            proxy: Proxy {
                passwords,
                bindings: BTreeMap::new(),
                max_expires: 3600,
                min_expires: 0,
                challenge_invites: true,
                challenge_algorithm: "MD5",
                nonce_counter: 0,
                first_valid_nonce: 0,
                challenged_branches: BTreeSet::new(),
                black_hole: None,
            },
            wire: Vec::new(),
            events: Vec::new(),
            reconnects: Vec::new(),
            pings: Vec::new(),
            silent_pongs: false,
            media: Vec::new(),
            auto_media: true,
            drop_to_phone: None,
            queue: VecDeque::new(),
        };
        bed.input(Side::A, Input::Connected);
        bed.input(Side::B, Input::Connected);
        bed
    }

    pub fn ua(&mut self, side: Side) -> &mut UserAgent {
        match side {
            Side::A => &mut self.a,
            Side::B => &mut self.b,
        }
    }

    pub fn elapsed(&self) -> Duration {
        self.now - self.start
    }

    /// Feed one input and let everything settle.
    pub fn input(&mut self, side: Side, input: Input) {
        let now = self.now;
        self.ua(side).handle_input(now, input);
        self.settle();
    }

    pub fn command(&mut self, side: Side, cmd: Command) {
        self.input(side, Input::Command(cmd));
    }

    /// Feed raw bytes to a phone as if the proxy sent them.
    pub fn inject(&mut self, side: Side, text: &str) {
        self.input(side, Input::Received(text.as_bytes().to_vec()));
    }

    /// Run until no message is in flight and no output is pending.
    pub fn settle(&mut self) {
        for _ in 0..10_000 {
            let mut progressed = false;
            for side in [Side::A, Side::B] {
                while let Some(out) = self.ua(side).poll_output() {
                    progressed = true;
                    match out {
                        Output::Send(bytes) => self.queue.push_back((side, true, bytes)),
                        Output::Event(e) => self.events.push((side, e)),
                        Output::Media(m) => {
                            self.media.push((side, m.clone()));
                            if self.auto_media {
                                self.answer_media(side, m);
                            }
                        }
                        Output::Reconnect { reason } => self.reconnects.push((side, reason)),
                    }
                }
            }
            if let Some((side, from_phone, bytes)) = self.queue.pop_front() {
                progressed = true;
                self.deliver(side, from_phone, bytes);
            }
            if !progressed {
                return;
            }
        }
        panic!("the test bed did not settle");
    }

    fn answer_media(&mut self, side: Side, m: MediaRequest) {
        let now = self.now;
        let tag = format!("{side:?}");
        match m {
            MediaRequest::CreateOffer { call } => self.ua(side).handle_input(
                now,
                Input::LocalSdp {
                    call,
                    sdp: sdp(&format!("offer-{tag}")),
                },
            ),
            MediaRequest::CreateAnswer { call, .. } => self.ua(side).handle_input(
                now,
                Input::LocalSdp {
                    call,
                    sdp: sdp(&format!("answer-{tag}")),
                },
            ),
            _ => {}
        }
    }

    /// Advance the virtual clock by `d`, firing every deadline on the way.
    pub fn advance(&mut self, d: Duration) {
        let target = self.now + d;
        for _ in 0..100_000 {
            let next = [self.a.poll_timeout(), self.b.poll_timeout()]
                .into_iter()
                .flatten()
                .min();
            match next {
                Some(t) if t <= target => {
                    self.now = self.now.max(t);
                    for side in [Side::A, Side::B] {
                        if self.ua(side).poll_timeout().is_some_and(|d| d <= self.now) {
                            let now = self.now;
                            self.ua(side).handle_input(now, Input::Timeout);
                        }
                    }
                    self.settle();
                }
                _ => {
                    self.now = target;
                    return;
                }
            }
        }
        panic!("too many timer events");
    }

    fn deliver(&mut self, side: Side, from_phone: bool, bytes: Vec<u8>) {
        if from_phone && bytes.iter().all(|b| b.is_ascii_whitespace()) {
            // a CRLF keep-alive ping: the proxy answers with a pong, as Kamailio does
            self.pings.push((side, self.now));
            if !self.silent_pongs {
                let now = self.now;
                self.ua(side)
                    .handle_input(now, Input::Received(b"\r\n".to_vec()));
            }
            return;
        }
        let msg = match Message::parse(&bytes) {
            Ok(m) => m,
            Err(e) => panic!(
                "phone {side:?} sent an unparseable message ({}):\n{}",
                e.reason(),
                String::from_utf8_lossy(&bytes)
            ),
        };
        self.wire.push(Wire {
            at: self.now,
            from_phone,
            side,
            msg: msg.clone(),
        });
        if from_phone {
            self.proxy_handle(side, msg);
        } else {
            if let Some(f) = self.drop_to_phone.as_mut() {
                if f(side, &msg) {
                    return;
                }
            }
            let now = self.now;
            self.ua(side).handle_input(now, Input::Received(bytes));
        }
    }

    fn send_to_phone(&mut self, side: Side, msg: &Message) {
        self.queue.push_back((side, false, msg.to_bytes()));
    }

    fn reply(&mut self, side: Side, req: &Message, code: u16, reason: &str) -> Message {
        let mut r = Message::response(code, reason);
        for v in req.header_values("Via") {
            r.push_header("Via", v);
        }
        for h in ["From", "To", "Call-ID", "CSeq"] {
            if let Some(v) = req.header(h) {
                r.push_header(h, v);
            }
        }
        if code >= 200 && req.to().is_some_and(|t| t.tag().is_none()) {
            r.set_header(
                "To",
                format!("{};tag=proxytag", req.header("To").unwrap_or("")),
            );
        }
        let _ = side;
        r
    }

    fn challenge(&mut self, side: Side, req: &Message, code: u16) {
        self.proxy.nonce_counter += 1;
        let header = if code == 401 {
            "WWW-Authenticate"
        } else {
            "Proxy-Authenticate"
        };
        let mut r = self.reply(
            side,
            req,
            code,
            if code == 401 {
                "Unauthorized"
            } else {
                "Proxy Authentication Required"
            },
        );
        r.push_header(
            header,
            format!(
                "Digest realm=\"{DOMAIN}\", nonce=\"n{}\", qop=\"auth\", algorithm={}",
                self.proxy.nonce_counter, self.proxy.challenge_algorithm
            ),
        );
        if let Some(b) = req.top_via().and_then(|v| v.branch().map(str::to_string)) {
            self.proxy.challenged_branches.insert(b);
        }
        self.send_to_phone(side, &r);
    }

    fn check_auth(&self, req: &Message, header: &str) -> bool {
        let Some(value) = req.header(header) else {
            return false;
        };
        let Ok(creds) = Credentials::parse(value) else {
            return false;
        };
        let Some(pw) = self.proxy.passwords.get(&creds.username) else {
            return false;
        };
        let known = creds
            .nonce
            .strip_prefix('n')
            .and_then(|n| n.parse::<u32>().ok())
            .is_some_and(|n| n >= self.proxy.first_valid_nonce && n <= self.proxy.nonce_counter);
        if !known {
            return false;
        }
        let method = req
            .method()
            .map(|m| m.as_str().to_string())
            .unwrap_or_default();
        auth::verify(&creds, &method, pw, &req.body)
    }

    fn proxy_handle(&mut self, side: Side, msg: Message) {
        if !msg.is_request() {
            // a response from a phone: strip our Via and pass it on
            let mut m = msg;
            let vias = m.header_list("Via");
            if vias.len() < 2 {
                return; // answers a request the test injected: it ends here
            }
            m.remove_header("Via");
            for v in vias.iter().skip(1) {
                m.push_header("Via", v.clone());
            }
            self.send_to_phone(side.other(), &m);
            return;
        }
        let method = msg.method().cloned().unwrap_or(Method::Other("?".into()));
        if self.proxy.black_hole == Some(method.as_str()) {
            return;
        }
        let branch = msg
            .top_via()
            .and_then(|v| v.branch().map(str::to_string))
            .unwrap_or_default();
        match method {
            Method::Register => {
                if !self.check_auth(&msg, "Authorization") {
                    self.challenge(side, &msg, 401);
                    return;
                }
                let requested = msg
                    .contacts()
                    .first()
                    .and_then(|c| c.param("expires").and_then(|e| e.parse::<u32>().ok()))
                    .or(msg.expires())
                    .unwrap_or(3600);
                if requested != 0 && requested < self.proxy.min_expires {
                    let mut r = self.reply(side, &msg, 423, "Interval Too Brief");
                    r.push_header("Min-Expires", self.proxy.min_expires.to_string());
                    self.send_to_phone(side, &r);
                    return;
                }
                let granted = requested.min(self.proxy.max_expires);
                let user = msg
                    .to()
                    .and_then(|t| t.sip_uri().ok())
                    .and_then(|u| u.user)
                    .unwrap_or_default();
                let mut r = self.reply(side, &msg, 200, "OK");
                if granted == 0 {
                    self.proxy.bindings.remove(&user);
                } else {
                    self.proxy.bindings.insert(user, side);
                    if let Some(c) = msg.contacts().first() {
                        r.push_header("Contact", format!("<{}>;expires={granted}", c.uri));
                    }
                }
                self.send_to_phone(side, &r);
            }
            Method::Ack if self.proxy.challenged_branches.contains(&branch) => {
                // the ACK of our own 407: absorbed here
            }
            _ => {
                let initial = msg.to().is_some_and(|t| t.tag().is_none());
                let mut m = msg.clone();
                if method == Method::Invite && initial {
                    if self.proxy.challenge_invites && !self.check_auth(&msg, "Proxy-Authorization")
                    {
                        self.challenge(side, &msg, 407);
                        return;
                    }
                    m.remove_header("Proxy-Authorization");
                    let trying = self.reply(side, &msg, 100, "Trying");
                    self.send_to_phone(side, &trying);
                    let callee = m
                        .request_uri()
                        .and_then(|u| softphone::sip::message::SipUri::parse(u).ok())
                        .and_then(|u| u.user)
                        .unwrap_or_default();
                    if self.proxy.bindings.get(&callee) != Some(&side.other()) {
                        let nf = self.reply(side, &msg, 404, "Not Found");
                        self.send_to_phone(side, &nf);
                        self.proxy.challenged_branches.insert(branch);
                        return;
                    }
                    let mut rr = vec![format!("<sip:{PROXY_HOST};lr>")];
                    rr.extend(
                        m.header_values("Record-Route")
                            .iter()
                            .map(|s| s.to_string()),
                    );
                    m.remove_header("Record-Route");
                    for r in rr {
                        m.push_header("Record-Route", r);
                    }
                }
                // loose routing: pop our own Route entry
                let routes = m.header_list("Route");
                if routes.first().is_some_and(|r| r.contains(PROXY_HOST)) {
                    m.remove_header("Route");
                    for r in routes.iter().skip(1) {
                        m.push_header("Route", r.clone());
                    }
                }
                // our Via on top; the branch derives from the incoming one so a
                // CANCEL or a non-2xx ACK matches the INVITE it belongs to
                let vias = m.header_list("Via");
                m.remove_header("Via");
                m.push_header(
                    "Via",
                    format!("SIP/2.0/WS {PROXY_HOST};branch=z9hG4bKp{branch}"),
                );
                for v in vias {
                    m.push_header("Via", v);
                }
                self.send_to_phone(side.other(), &m);
            }
        }
    }

    // ----- helpers for assertions -----

    pub fn register_both(&mut self) {
        self.command(Side::A, Command::Register);
        self.command(Side::B, Command::Register);
        assert!(matches!(
            self.a.registration_state(),
            RegistrationState::Registered { .. }
        ));
        assert!(matches!(
            self.b.registration_state(),
            RegistrationState::Registered { .. }
        ));
    }

    pub fn events_of(&self, side: Side) -> Vec<Event> {
        self.events
            .iter()
            .filter(|(s, _)| *s == side)
            .map(|(_, e)| e.clone())
            .collect()
    }

    pub fn last_call_id(&self, side: Side) -> Option<CallId> {
        self.events.iter().rev().find_map(|(s, e)| match e {
            Event::IncomingCall { call, .. } if *s == side => Some(*call),
            Event::CallState { call, .. } if *s == side => Some(*call),
            _ => None,
        })
    }

    pub fn incoming_call(&self, side: Side) -> Option<CallId> {
        self.events.iter().rev().find_map(|(s, e)| match e {
            Event::IncomingCall { call, .. } if *s == side => Some(*call),
            _ => None,
        })
    }

    pub fn call_states(&self, side: Side, call: CallId) -> Vec<softphone::sip::CallState> {
        self.events
            .iter()
            .filter_map(|(s, e)| match e {
                Event::CallState { call: c, state } if *s == side && *c == call => {
                    Some(state.clone())
                }
                _ => None,
            })
            .collect()
    }

    /// Messages sent by a phone (`from_phone`) that are requests of `method`.
    pub fn sent(&self, side: Side, method: &str) -> Vec<Message> {
        self.wire
            .iter()
            .filter(|w| w.from_phone && w.side == side && w.is(method))
            .map(|w| w.msg.clone())
            .collect()
    }

    pub fn sent_responses(&self, side: Side, code: u16, method: &str) -> Vec<Message> {
        self.wire
            .iter()
            .filter(|w| w.from_phone && w.side == side && w.is_response(code, method))
            .map(|w| w.msg.clone())
            .collect()
    }

    pub fn received_responses(&self, side: Side, code: u16, method: &str) -> Vec<Message> {
        self.wire
            .iter()
            .filter(|w| !w.from_phone && w.side == side && w.is_response(code, method))
            .map(|w| w.msg.clone())
            .collect()
    }
}
