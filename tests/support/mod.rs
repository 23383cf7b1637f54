//! A two-phone test bed for the sans-IO core: phones A and B, a small
//! in-process registrar/proxy between them (digest auth on REGISTER and
//! INVITE, Record-Route, Via handling like a real proxy), fake media that
//! answers offer/answer requests at once, and a virtual clock.
#![allow(dead_code)]

pub mod presence;

use softphone::sip::auth::{self, Credentials};
use softphone::sip::message::{Message, Method};
use softphone::sip::{
    AccountConfig, CallId, Command, Duration, Event, Input, Instant, MediaRequest, Output,
    RegistrationState, Transport, UserAgent,
};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

pub mod app;
pub mod calls;

/// What sits at each end of the bed: a bare [`UserAgent`], or a whole
/// phone (`app::Phone`, through `support::app`), fed the same inputs.
pub trait Endpoint {
    fn handle_input(&mut self, now: Instant, input: Input);
    fn poll_output(&mut self) -> Option<Output>;
    fn poll_timeout(&self) -> Option<Instant>;
}

/// A refused input (`InputError`) changed nothing, and the bed goes on as a
/// phone would; the tests of refusals call `UserAgent::handle_input` itself.
impl Endpoint for UserAgent {
    fn handle_input(&mut self, now: Instant, input: Input) {
        let _refused = UserAgent::handle_input(self, now, input);
    }
    fn poll_output(&mut self) -> Option<Output> {
        UserAgent::poll_output(self)
    }
    fn poll_timeout(&self) -> Option<Instant> {
        UserAgent::poll_timeout(self)
    }
}

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
    /// Give a `pub-gruu` (RFC 5627) to REGISTERs carrying `+sip.instance`,
    /// and route requests to that GRUU to the phone that registered it.
    pub gruu: bool,
    /// GRUUs handed out, and whose they are.
    pub gruus: BTreeMap<String, Side>,
    /// `Require: outbound` in REGISTER 200s (RFC 5626).
    pub require_outbound: bool,
    /// Other devices' bindings listed first in REGISTER 200s (Contact values).
    pub other_bindings: Vec<String>,
    /// Added to initial INVITEs it forwards (the PBX asks for a session timer).
    pub session_expires: Option<String>,
    /// Initial INVITEs without a Session-Expires of at least this get 422.
    pub min_se: Option<u32>,
    /// Canned final answers to initial INVITEs, by callee user: code, reason,
    /// Contacts (for 3xx).
    pub canned: BTreeMap<String, (u16, &'static str, Vec<String>)>,
    /// The answer to a request for a phone whose connection is down; `None`:
    /// no answer at all.
    pub offline_reply: Option<u16>,
    /// Canned answers (code, Retry-After) to the next re-INVITEs from a
    /// phone, one each, instead of forwarding them.
    pub reinvite_replies: VecDeque<(u16, Option<u32>)>,
}

/// Decides whether a message from the proxy to a phone is lost.
pub type DropFilter = Box<dyn FnMut(Side, &Message) -> bool>;

pub struct Bed<E: Endpoint = UserAgent> {
    pub now: Instant,
    pub start: Instant,
    pub a: E,
    pub b: E,
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
    /// Phones whose connection is down: nothing reaches them.
    offline: [bool; 2],
    /// `Reoffer`/`Reanswer` of this phone fail with `MediaFailed`.
    pub renegotiation_fails: Option<Side>,
    /// The fake media's current `o=` version, per phone.
    sdp_versions: [u32; 2],
    /// Requests injected by `peer_request`, for fresh branches and CSeqs.
    injected: u32,
    /// A presence server in the proxy's place for SUBSCRIBE/PUBLISH (and
    /// optionally challenging MESSAGE); `None`: the proxy forwards them.
    pub presence: Option<presence::Server>,
}

fn idx(side: Side) -> usize {
    match side {
        Side::A => 0,
        Side::B => 1,
    }
}

/// A fake SDP with `o=` version `version` and audio direction `direction`.
pub fn sdp_with(tag: &str, version: u32, direction: &str) -> String {
    format!(
        "v=0\r\no=- 1 {version} IN IP4 127.0.0.1\r\ns={tag}\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
         m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\na={direction}\r\n"
    )
}

/// The `o=` version of an SDP.
pub fn sdp_version(sdp: &str) -> Option<u32> {
    let o = sdp.lines().find_map(|l| l.strip_prefix("o="))?;
    o.split_whitespace().nth(2)?.parse().ok()
}

/// What the other phone's fake media answers to an offer in this direction.
fn answer_direction(offer: &str) -> &'static str {
    use softphone::sip::sdp::{audio_direction, Direction};
    match audio_direction(offer) {
        Direction::SendOnly => "recvonly",
        Direction::RecvOnly => "sendonly",
        Direction::Inactive => "inactive",
        Direction::SendRecv => "sendrecv",
    }
}

/// A phone's view of its dialog, read off the wire.
#[derive(Clone, Debug)]
pub struct DialogView {
    pub call_id: String,
    /// The phone's own From/To value, with its tag.
    pub local: String,
    /// The peer's, with its tag.
    pub remote: String,
}

pub fn sdp(tag: &str) -> String {
    format!(
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns={tag}\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
         m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\na=sendrecv\r\n"
    )
}

impl Bed<UserAgent> {
    pub fn new() -> Bed {
        Bed::with_passwords("secret1000", "secret1001")
    }

    pub fn with_passwords(pa: &str, pb: &str) -> Bed {
        Bed::with_config(pa, pb, |_, _| {})
    }

    /// Both phones with instance ids (RFC 5626/5627), as the browser sets them.
    pub fn with_instance_ids() -> Bed {
        Bed::with_config("secret1000", "secret1001", |side, c| {
            c.instance_id = match side {
                Side::A => "f81d4fae-7dec-11d0-a765-00a0c91e6bf6".into(),
                Side::B => "0b5e8a3c-1d2e-4f60-8a9b-0c1d2e3f4a5b".into(),
            }
        })
    }

    /// Passwords, then `tweak` may change either account before the phones start.
    pub fn with_config(pa: &str, pb: &str, mut tweak: impl FnMut(Side, &mut AccountConfig)) -> Bed {
        let mut ca = AccountConfig::new(&format!("sip:1000@{DOMAIN}"), pa, Transport::Ws);
        ca.display_name = "Alice".into();
        let mut cb = AccountConfig::new(&format!("sip:1001@{DOMAIN}"), pb, Transport::Ws);
        cb.display_name = "Bob".into();
        tweak(Side::A, &mut ca);
        tweak(Side::B, &mut cb);
        Bed::with_endpoints(
            UserAgent::new(ca, 1).expect("config A"),
            UserAgent::new(cb, 2).expect("config B"),
        )
    }
}

impl<E: Endpoint> Bed<E> {
    /// The bed with these two ends (accounts 1000 and 1001 of the proxy),
    /// both connected.
    pub fn with_endpoints(a: E, b: E) -> Bed<E> {
        let mut passwords = BTreeMap::new();
        passwords.insert("1000".to_string(), "secret1000".to_string());
        passwords.insert("1001".to_string(), "secret1001".to_string());
        let start = Instant::now();
        let mut bed = Bed {
            now: start,
            start,
            a,
            b,
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
                gruu: false,
                gruus: BTreeMap::new(),
                require_outbound: false,
                other_bindings: Vec::new(),
                session_expires: None,
                min_se: None,
                canned: BTreeMap::new(),
                offline_reply: Some(480),
                reinvite_replies: VecDeque::new(),
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
            offline: [false; 2],
            renegotiation_fails: None,
            sdp_versions: [1; 2],
            injected: 0,
            presence: None,
        };
        bed.input(Side::A, Input::Connected);
        bed.input(Side::B, Input::Connected);
        bed
    }

    /// The registrar restarts: every nonce it gave out is forgotten.
    pub fn forget_nonces(&mut self) {
        self.proxy.first_valid_nonce = self.proxy.nonce_counter + 1;
    }

    pub fn ua(&mut self, side: Side) -> &mut E {
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
            MediaRequest::Reoffer {
                call, ice_restart, ..
            } => {
                if self.renegotiation_fails == Some(side) {
                    self.ua(side).handle_input(
                        now,
                        Input::MediaFailed {
                            call,
                            reason: "fake renegotiation failure".into(),
                        },
                    );
                    return;
                }
                self.sdp_versions[idx(side)] += 1;
                let v = self.sdp_versions[idx(side)];
                let name = if ice_restart { "iceoffer" } else { "reoffer" };
                let sdp = sdp_with(&format!("{name}-{tag}-{v}"), v, "sendrecv");
                self.ua(side)
                    .handle_input(now, Input::LocalSdp { call, sdp });
            }
            MediaRequest::Reanswer { call, remote_sdp } => {
                if self.renegotiation_fails == Some(side) {
                    self.ua(side).handle_input(
                        now,
                        Input::MediaFailed {
                            call,
                            reason: "fake renegotiation failure".into(),
                        },
                    );
                    return;
                }
                self.sdp_versions[idx(side)] += 1;
                let v = self.sdp_versions[idx(side)];
                let sdp = sdp_with(
                    &format!("reanswer-{tag}-{v}"),
                    v,
                    answer_direction(&remote_sdp),
                );
                self.ua(side)
                    .handle_input(now, Input::LocalSdp { call, sdp });
            }
            _ => {}
        }
    }

    /// The fake media's current `o=` version for `side`.
    pub fn media_version(&self, side: Side) -> u32 {
        self.sdp_versions[idx(side)]
    }

    // ----- connection faults -----

    /// The phone's WebSocket closes: the phone is told, and nothing reaches
    /// it until [`Bed::connect`].
    pub fn disconnect(&mut self, side: Side) {
        self.offline[idx(side)] = true;
        self.input(
            side,
            Input::Disconnected {
                reason: "the network changed".into(),
            },
        );
    }

    /// The phone's WebSocket is open again (the test sends
    /// `Command::Register` next, as the browser driver does).
    pub fn connect(&mut self, side: Side) {
        self.offline[idx(side)] = false;
        self.input(side, Input::Connected);
    }

    /// Disconnected, then connected again.
    pub fn reconnect(&mut self, side: Side) {
        self.disconnect(side);
        self.connect(side);
    }

    pub fn is_offline(&self, side: Side) -> bool {
        self.offline[idx(side)]
    }

    // ----- requests as if from the other phone -----

    /// `side`'s dialog (its first call that got a 2xx), read off the wire.
    pub fn dialog_view(&self, side: Side) -> DialogView {
        let w = self
            .wire
            .iter()
            .find(|w| w.side == side && w.is_response(200, "INVITE"))
            .expect("a 2xx to an INVITE on the wire");
        // received by the phone: it is the caller (its tag is in From)
        let from = w.msg.header("From").unwrap_or_default().to_string();
        let to = w.msg.header("To").unwrap_or_default().to_string();
        let (local, remote) = if w.from_phone { (to, from) } else { (from, to) };
        DialogView {
            call_id: w.msg.call_id().unwrap_or_default().to_string(),
            local,
            remote,
        }
    }

    /// The ACK for the 2xx to an injected INVITE, with an optional body.
    pub fn peer_ack(&mut self, side: Side, invite: &Message, body: Option<&str>) {
        let seq = invite.cseq().map(|c| c.seq).unwrap_or(0);
        let mut m = Message::request(Method::Ack, invite.request_uri().unwrap_or_default());
        m.push_header(
            "Via",
            format!("SIP/2.0/WS {PROXY_HOST};branch=z9hG4bKack{seq}"),
        );
        m.push_header("Max-Forwards", "70");
        for h in ["From", "Call-ID"] {
            if let Some(v) = invite.header(h) {
                m.push_header(h, v);
            }
        }
        if let Some(v) = invite.header("To") {
            m.push_header("To", v);
        }
        m.push_header("CSeq", format!("{seq} ACK"));
        if let Some(b) = body {
            m.set_body("application/sdp", b.as_bytes().to_vec());
        }
        let text = String::from_utf8(m.to_bytes()).expect("utf-8");
        self.inject(side, &text);
    }

    /// Responses `side` sent to the request `req` (same CSeq), in order.
    pub fn answers_to(&self, side: Side, req: &Message) -> Vec<Message> {
        let cseq = req.header("CSeq").unwrap_or_default().to_string();
        let cid = req.call_id().unwrap_or_default().to_string();
        self.wire
            .iter()
            .filter(|w| w.from_phone && w.side == side && !w.msg.is_request())
            .filter(|w| w.msg.header("CSeq") == Some(cseq.as_str()))
            .filter(|w| w.msg.call_id() == Some(cid.as_str()))
            .map(|w| w.msg.clone())
            .collect()
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
            if self.offline[idx(side)] {
                self.wire.pop(); // it never reaches the phone
                return;
            }
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
        if let Some(mut server) = self.presence.take() {
            let taken = server.handle(side, &msg);
            self.presence = Some(server);
            if let Some(out) = taken {
                for (to, m) in out {
                    self.send_to_phone(to, &m);
                }
                return;
            }
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
                    self.proxy.bindings.insert(user.clone(), side);
                    for other in self.proxy.other_bindings.clone() {
                        r.push_header("Contact", other);
                    }
                    if let Some(c) = msg.contacts().first() {
                        let mut value = format!("<{}>;expires={granted}", c.uri);
                        if let Some(inst) = c.param("+sip.instance") {
                            value.push_str(&format!(";+sip.instance=\"{inst}\""));
                            if let Some(reg_id) = c.param("reg-id") {
                                value.push_str(&format!(";reg-id={reg_id}"));
                            }
                            if self.proxy.gruu {
                                let inst = inst.trim_matches(|ch| ch == '<' || ch == '>');
                                let gruu = format!("sip:{user}@{DOMAIN};gr={inst}");
                                value.push_str(&format!(";pub-gruu=\"{gruu}\""));
                                self.proxy.gruus.insert(gruu, side);
                            }
                        }
                        r.push_header("Contact", value);
                    }
                    if self.proxy.require_outbound {
                        r.push_header("Require", "outbound");
                    }
                }
                self.send_to_phone(side, &r);
            }
            Method::Ack if self.proxy.challenged_branches.contains(&branch) => {
                // the ACK of our own 407: absorbed here
            }
            _ => {
                let initial = msg.to().is_some_and(|t| t.tag().is_none());
                if method == Method::Invite && !initial {
                    if let Some((code, retry_after)) = self.proxy.reinvite_replies.pop_front() {
                        let mut r = self.reply(side, &msg, code, "Canned");
                        if let Some(ra) = retry_after {
                            r.push_header("Retry-After", ra.to_string());
                        }
                        self.send_to_phone(side, &r);
                        self.proxy.challenged_branches.insert(branch);
                        return;
                    }
                }
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
                    if let Some((code, reason, contacts)) = self.proxy.canned.get(&callee).cloned()
                    {
                        let mut r = self.reply(side, &msg, code, reason);
                        for c in contacts {
                            r.push_header("Contact", c);
                        }
                        self.send_to_phone(side, &r);
                        self.proxy.challenged_branches.insert(branch);
                        return;
                    }
                    if let Some(min) = self.proxy.min_se {
                        let asked = msg
                            .header("Session-Expires")
                            .and_then(|v| v.split(';').next())
                            .and_then(|v| v.trim().parse::<u32>().ok());
                        if asked.is_none_or(|a| a < min) {
                            let mut r = self.reply(side, &msg, 422, "Session Interval Too Small");
                            r.push_header("Min-SE", min.to_string());
                            self.send_to_phone(side, &r);
                            self.proxy.challenged_branches.insert(branch);
                            return;
                        }
                    }
                    if let Some(se) = self.proxy.session_expires.clone() {
                        m.set_header("Session-Expires", se);
                    }
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
                // a GRUU reaches the phone that registered it
                let ruri = m.request_uri().unwrap_or_default().to_string();
                let to = if ruri.contains(";gr=") {
                    match self.proxy.gruus.get(&ruri) {
                        Some(s) => *s,
                        None => {
                            if method != Method::Ack {
                                let nf = self.reply(side, &msg, 404, "Not Found (unknown GRUU)");
                                self.send_to_phone(side, &nf);
                            }
                            return;
                        }
                    }
                } else {
                    side.other()
                };
                if self.offline[idx(to)] {
                    // the phone's connection is gone
                    if let (Some(code), false) = (self.proxy.offline_reply, method == Method::Ack) {
                        let r = self.reply(side, &msg, code, "Temporarily Unavailable");
                        self.send_to_phone(side, &r);
                    }
                    return;
                }
                self.send_to_phone(to, &m);
            }
        }
    }

    // ----- helpers for assertions -----

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

impl Bed<UserAgent> {
    /// An in-dialog request to `side` as if its peer sent it through the
    /// proxy (one Via: the phone's answers end at the proxy), with a CSeq
    /// above any the peer used. Returns the request; it is already injected.
    pub fn peer_request(
        &mut self,
        side: Side,
        method: &str,
        body: Option<&str>,
        extra: &[(&str, &str)],
    ) -> Message {
        match body {
            Some(b) => self.peer_request_typed(side, method, "application/sdp", b, extra),
            None => self.peer_request_typed(side, method, "", "", extra),
        }
    }

    /// An in-dialog request to `side` as if its peer sent it (like
    /// [`Bed::peer_request`]) with a body of any type (`ctype` empty: no
    /// Content-Type).
    pub fn peer_request_typed(
        &mut self,
        side: Side,
        method: &str,
        ctype: &str,
        body: &str,
        extra: &[(&str, &str)],
    ) -> Message {
        let d = self.dialog_view(side);
        let used = self
            .wire
            .iter()
            .filter(|w| {
                w.from_phone && w.side == side.other() && w.msg.call_id() == Some(&d.call_id)
            })
            .filter(|w| w.msg.is_request())
            .filter_map(|w| w.msg.cseq().map(|c| c.seq))
            .max()
            .unwrap_or(0);
        self.injected += 1;
        let seq = used.max(100 + self.injected) + 1;
        self.injected = seq;
        let target = self.ua(side).contact_uri().to_string();
        let peer_contact = self.ua(side.other()).contact_uri().to_string();
        let mut m = Message::request(Method::parse(method), &target);
        m.push_header(
            "Via",
            format!("SIP/2.0/WS {PROXY_HOST};branch=z9hG4bKinj{seq}"),
        );
        m.push_header("Max-Forwards", "70");
        m.push_header("From", d.remote.clone());
        m.push_header("To", d.local.clone());
        m.push_header("Call-ID", d.call_id.clone());
        m.push_header("CSeq", format!("{seq} {method}"));
        m.push_header("Contact", format!("<{peer_contact}>"));
        for (k, v) in extra {
            m.push_header(k, *v);
        }
        m.set_body(ctype, body.as_bytes().to_vec());
        let text = String::from_utf8(m.to_bytes()).expect("utf-8");
        self.inject(side, &text);
        m
    }

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
}
