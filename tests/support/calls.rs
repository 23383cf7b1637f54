//! Test-bed additions for the desk-phone call features (issue 5): fake media
//! that honours `Reoffer { hold }`, requests of any body type as if from the
//! peer, and new INVITEs as if from a third party (attended transfer,
//! auto-answer hints).

use super::{answer_direction, idx, sdp, sdp_with, Bed, Side, PROXY_HOST};
use softphone::sip::message::{Message, Method};
use softphone::sip::{Command, Input, MediaRequest};

impl Bed {
    /// Run `f` with the fake media answering as a browser would for hold:
    /// a `Reoffer { hold: true }` gets a `sendonly` offer (the default fake
    /// media always offers `sendrecv`).
    pub fn with_hold_media(&mut self, f: impl FnOnce(&mut Bed)) {
        let auto = self.auto_media;
        self.auto_media = false;
        let mut next = self.media.len();
        f(self);
        while next < self.media.len() {
            let (side, m) = self.media[next].clone();
            next += 1;
            let now = self.now;
            match m {
                MediaRequest::Reoffer {
                    call,
                    hold: true,
                    ice_restart,
                } => {
                    self.sdp_versions[idx(side)] += 1;
                    let v = self.sdp_versions[idx(side)];
                    let name = if ice_restart { "iceoffer" } else { "holdoffer" };
                    let sdp = sdp_with(&format!("{name}-{side:?}-{v}"), v, "sendonly");
                    self.ua(side)
                        .handle_input(now, Input::LocalSdp { call, sdp })
                        .expect("media for a known call");
                }
                other => self.answer_media(side, other),
            }
            self.settle();
        }
        self.auto_media = auto;
    }

    /// `Command::Hold` / `Command::Resume` with hold-aware fake media.
    pub fn hold(&mut self, side: Side, call: softphone::sip::CallId, on: bool) {
        self.with_hold_media(|bed| {
            let cmd = if on {
                Command::Hold { call }
            } else {
                Command::Resume { call }
            };
            bed.command(side, cmd)
        });
    }

    /// A new INVITE to `side` as if a third phone (`sip:1002@…`) sent it
    /// through the proxy, with an SDP offer and `extra` headers. Returns it.
    pub fn third_party_invite(&mut self, side: Side, extra: &[(&str, &str)]) -> Message {
        self.injected += 1;
        let n = self.injected;
        let target = self.ua(side).contact_uri().to_string();
        let mut m = Message::request(Method::Invite, &target);
        m.push_header(
            "Via",
            format!("SIP/2.0/WS {PROXY_HOST};branch=z9hG4bKthird{n}"),
        );
        m.push_header("Max-Forwards", "70");
        m.push_header(
            "From",
            format!("\"Carol\" <sip:1002@{}>;tag=carol{n}", super::DOMAIN),
        );
        m.push_header("To", format!("<sip:1000@{}>", super::DOMAIN));
        m.push_header("Call-ID", format!("third-party-call-{n}"));
        m.push_header("CSeq", "1 INVITE");
        m.push_header("Contact", "<sip:carol@carol.invalid;transport=ws>");
        for (k, v) in extra {
            m.push_header(k, *v);
        }
        m.set_body("application/sdp", sdp("offer-C").into_bytes());
        let text = String::from_utf8(m.to_bytes()).expect("utf-8");
        self.inject(side, &text);
        m
    }

    /// What the fake media would answer to `offer` (for hand-made answers).
    pub fn answer_direction_for(offer: &str) -> &'static str {
        answer_direction(offer)
    }
}

/// Three phones (A `1000`, B `1001`, C `1002`) behind a minimal stateless
/// proxy: initial requests go by the Request-URI's user, in-dialog ones by
/// the Contact URI they target, responses back along the Via the proxy
/// added. No authentication, no registration needed; fake media answer at
/// once. For flows that need a third party (attended transfer).
pub struct Trio {
    pub now: softphone::sip::Instant,
    pub phones: [softphone::sip::UserAgent; 3],
    pub events: Vec<(usize, softphone::sip::Event)>,
    pub media: Vec<(usize, MediaRequest)>,
    /// Everything the phones sent: (sender, message).
    pub sent: Vec<(usize, Message)>,
    queue: std::collections::VecDeque<(usize, Vec<u8>)>,
    versions: [u32; 3],
}

pub const A: usize = 0;
pub const B: usize = 1;
pub const C: usize = 2;

impl Default for Trio {
    fn default() -> Self {
        Trio::new()
    }
}

impl Trio {
    pub fn new() -> Trio {
        use softphone::sip::{AccountConfig, Transport, UserAgent};
        let phone = |user: u32, seed: u64| {
            let cfg = AccountConfig::new(
                &format!("sip:{user}@{}", super::DOMAIN),
                "secret",
                Transport::Ws,
            );
            UserAgent::new(cfg, seed).expect("config")
        };
        let mut t = Trio {
            now: softphone::sip::Instant::now(),
            phones: [phone(1000, 11), phone(1001, 12), phone(1002, 13)],
            events: Vec::new(),
            media: Vec::new(),
            sent: Vec::new(),
            queue: Default::default(),
            versions: [1; 3],
        };
        for p in 0..3 {
            t.input(p, Input::Connected);
        }
        t
    }

    pub fn input(&mut self, p: usize, input: Input) {
        let now = self.now;
        // a refused input changed nothing (see `Endpoint for UserAgent`)
        let _refused = self.phones[p].handle_input(now, input);
        self.settle();
    }

    pub fn command(&mut self, p: usize, cmd: Command) {
        self.input(p, Input::Command(cmd));
    }

    fn media_answer(&mut self, p: usize, m: &MediaRequest) -> Option<Input> {
        let tag = ["A", "B", "C"][p];
        let v = &mut self.versions[p];
        Some(match m {
            MediaRequest::CreateOffer { call } => Input::LocalSdp {
                call: *call,
                sdp: sdp(&format!("offer-{tag}")),
            },
            MediaRequest::CreateAnswer { call, .. } => Input::LocalSdp {
                call: *call,
                sdp: sdp(&format!("answer-{tag}")),
            },
            MediaRequest::Reoffer { call, hold, .. } => {
                *v += 1;
                let dir = if *hold { "sendonly" } else { "sendrecv" };
                Input::LocalSdp {
                    call: *call,
                    sdp: sdp_with(&format!("reoffer-{tag}"), *v, dir),
                }
            }
            MediaRequest::Reanswer { call, remote_sdp } => {
                *v += 1;
                Input::LocalSdp {
                    call: *call,
                    sdp: sdp_with(&format!("reanswer-{tag}"), *v, answer_direction(remote_sdp)),
                }
            }
            _ => return None,
        })
    }

    pub fn settle(&mut self) {
        for _ in 0..10_000 {
            let mut progressed = false;
            for p in 0..3 {
                while let Some(out) = self.phones[p].poll_output() {
                    progressed = true;
                    match out {
                        softphone::sip::Output::Send(bytes) => self.queue.push_back((p, bytes)),
                        softphone::sip::Output::Event(e) => self.events.push((p, e)),
                        softphone::sip::Output::Media(m) => {
                            self.media.push((p, m.clone()));
                            if let Some(i) = self.media_answer(p, &m) {
                                let now = self.now;
                                self.phones[p]
                                    .handle_input(now, i)
                                    .expect("media for a known call");
                            }
                        }
                        softphone::sip::Output::Reconnect { .. } => {}
                    }
                }
            }
            if let Some((p, bytes)) = self.queue.pop_front() {
                progressed = true;
                self.route(p, &bytes);
            }
            if !progressed {
                return;
            }
        }
        panic!("the three-phone bed did not settle");
    }

    fn route(&mut self, from: usize, bytes: &[u8]) {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            let now = self.now;
            self.phones[from]
                .handle_input(now, Input::Received(b"\r\n".to_vec()))
                .expect("bytes are never refused");
            return;
        }
        let mut m = Message::parse(bytes).expect("phones send parseable messages");
        self.sent.push((from, m.clone()));
        if !m.is_request() {
            // pop the proxy's Via: its branch names the phone to answer
            let vias = m.header_list("Via");
            let Some(top) = vias.first() else { return };
            let Some(to) = top
                .split("branch=z9hG4bKtrio")
                .nth(1)
                .and_then(|r| r.chars().next())
                .and_then(|c| c.to_digit(10))
            else {
                return;
            };
            m.remove_header("Via");
            for v in vias.iter().skip(1) {
                m.push_header("Via", v.clone());
            }
            self.deliver(to as usize, &m);
            return;
        }
        let ruri = m.request_uri().unwrap_or_default().to_string();
        let to = (0..3)
            .find(|p| ruri == self.phones[*p].contact_uri())
            .or_else(|| {
                let user = softphone::sip::message::SipUri::parse(&ruri).ok()?.user?;
                ["1000", "1001", "1002"].iter().position(|u| *u == user)
            });
        let Some(to) = to else {
            if m.method() != Some(&Method::Ack) {
                let mut r = Message::response(404, "Not Found");
                for h in ["Via", "From", "To", "Call-ID", "CSeq"] {
                    for v in m.header_values(h) {
                        r.push_header(h, v);
                    }
                }
                r.set_header(
                    "To",
                    format!("{};tag=trio404", m.header("To").unwrap_or("")),
                );
                self.deliver(from, &r);
            }
            return;
        };
        let branch = m
            .top_via()
            .and_then(|v| v.branch().map(str::to_string))
            .unwrap_or_default();
        let vias = m.header_list("Via");
        m.remove_header("Via");
        m.push_header(
            "Via",
            format!("SIP/2.0/WS {PROXY_HOST};branch=z9hG4bKtrio{from}{branch}"),
        );
        for v in vias {
            m.push_header("Via", v);
        }
        self.deliver(to, &m);
    }

    fn deliver(&mut self, to: usize, m: &Message) {
        let now = self.now;
        self.phones[to]
            .handle_input(now, Input::Received(m.to_bytes()))
            .expect("bytes are never refused");
    }

    pub fn events_of(&self, p: usize) -> Vec<softphone::sip::Event> {
        self.events
            .iter()
            .filter(|(s, _)| *s == p)
            .map(|(_, e)| e.clone())
            .collect()
    }

    /// The last incoming call of phone `p`.
    pub fn incoming(&self, p: usize) -> Option<softphone::sip::CallId> {
        self.events.iter().rev().find_map(|(s, e)| match e {
            softphone::sip::Event::IncomingCall { call, .. } if *s == p => Some(*call),
            _ => None,
        })
    }

    /// The last call phone `p` heard of (incoming or its own).
    pub fn last_call(&self, p: usize) -> Option<softphone::sip::CallId> {
        self.events.iter().rev().find_map(|(s, e)| match e {
            softphone::sip::Event::IncomingCall { call, .. }
            | softphone::sip::Event::CallState { call, .. }
                if *s == p =>
            {
                Some(*call)
            }
            _ => None,
        })
    }

    pub fn states(&self, p: usize, call: softphone::sip::CallId) -> Vec<softphone::sip::CallState> {
        self.events
            .iter()
            .filter_map(|(s, e)| match e {
                softphone::sip::Event::CallState { call: c, state } if *s == p && *c == call => {
                    Some(state.clone())
                }
                _ => None,
            })
            .collect()
    }

    /// `p` calls `user` and the callee answers; (caller's call, callee's call).
    pub fn call(
        &mut self,
        p: usize,
        user: &str,
        callee: usize,
    ) -> (softphone::sip::CallId, softphone::sip::CallId) {
        self.command(
            p,
            Command::Call {
                target: user.into(),
            },
        );
        let ours = self.last_call(p).expect("a call");
        let theirs = self.incoming(callee).expect("the callee rings");
        self.command(callee, Command::Answer { call: theirs });
        (ours, theirs)
    }

    /// Requests of `method` phone `p` sent.
    pub fn sent_by(&self, p: usize, method: &str) -> Vec<Message> {
        self.sent
            .iter()
            .filter(|(s, m)| *s == p && m.method().is_some_and(|x| x.as_str() == method))
            .map(|(_, m)| m.clone())
            .collect()
    }
}
