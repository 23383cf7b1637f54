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
                        .handle_input(now, Input::LocalSdp { call, sdp });
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
