//! A small presence server for the test bed, in the proxy's place for
//! SUBSCRIBE and PUBLISH (as Kamailio's route[PRESENCE] does): digest
//! challenge (407), 489 for packages it does not serve, PUBLISH with
//! SIP-ETag / SIP-If-Match (412 for an unknown tag), SUBSCRIBE with a 2xx and
//! an immediate NOTIFY of the current state, NOTIFY to every watcher when a
//! document changes, and `terminated` on unsubscribe. It can also challenge
//! MESSAGEs (which the proxy then forwards to the other phone).

use super::{Side, DOMAIN, PROXY_HOST};
use softphone::sip::auth::{self, Credentials};
use softphone::sip::message::{Message, Method};
use std::collections::{BTreeMap, VecDeque};

/// One subscription the server holds.
#[derive(Clone, Debug)]
pub struct Watcher {
    pub side: Side,
    pub call_id: String,
    /// The subscriber's From value (with its tag): the To of our NOTIFYs.
    pub subscriber: String,
    /// Our tag (the To tag of the 2xx, the From tag of NOTIFYs).
    pub tag: String,
    /// The watched user.
    pub user: String,
    pub event: String,
    pub cseq: u32,
    pub expires: u32,
}

pub struct Server {
    /// Event packages served; others get 489.
    pub packages: Vec<&'static str>,
    /// Challenge SUBSCRIBE (initial) and PUBLISH with 407.
    pub challenge: bool,
    /// Challenge MESSAGE with 407 (then the proxy forwards it).
    pub challenge_messages: bool,
    /// Send the first NOTIFY before the 2xx to an initial SUBSCRIBE.
    pub notify_before_2xx: bool,
    /// Canned final answers to the next SUBSCRIBEs, one each.
    pub subscribe_replies: VecDeque<(u16, &'static str)>,
    /// Expiry granted to SUBSCRIBE and PUBLISH at most.
    pub max_expires: u32,
    /// The answer to an unknown SIP-If-Match (412; Kamailio gives 500 to a
    /// body-less refresh).
    pub unknown_etag_code: u16,
    /// Published documents by user: (etag, body).
    pub documents: BTreeMap<String, (String, String)>,
    pub watchers: Vec<Watcher>,
    /// Every PUBLISH and SUBSCRIBE that got past authentication.
    pub publishes: Vec<Message>,
    pub subscribes: Vec<Message>,
    passwords: BTreeMap<String, String>,
    nonce: u32,
    counter: u32,
}

fn user_of(uri: &str) -> String {
    softphone::sip::message::SipUri::parse(uri)
        .ok()
        .and_then(|u| u.user)
        .unwrap_or_default()
}

/// A closed PIDF for a user with nothing published.
pub fn closed_pidf(user: &str) -> String {
    format!(
        "<?xml version=\"1.0\"?><presence xmlns=\"urn:ietf:params:xml:ns:pidf\" entity=\"sip:{user}@{DOMAIN}\"><tuple id=\"0\"><status><basic>closed</basic></status></tuple></presence>"
    )
}

impl Server {
    pub fn new(passwords: &BTreeMap<String, String>) -> Server {
        Server {
            packages: vec!["presence"],
            challenge: true,
            challenge_messages: false,
            notify_before_2xx: false,
            subscribe_replies: VecDeque::new(),
            max_expires: 3600,
            unknown_etag_code: 412,
            documents: BTreeMap::new(),
            watchers: Vec::new(),
            publishes: Vec::new(),
            subscribes: Vec::new(),
            passwords: passwords.clone(),
            nonce: 0,
            counter: 0,
        }
    }

    fn reply(req: &Message, code: u16, reason: &str, to_tag: Option<&str>) -> Message {
        let mut r = Message::response(code, reason);
        for v in req.header_values("Via") {
            r.push_header("Via", v);
        }
        for h in ["From", "To", "Call-ID", "CSeq"] {
            if let Some(v) = req.header(h) {
                r.push_header(h, v);
            }
        }
        if let Some(tag) = to_tag {
            if req.to().is_some_and(|t| t.tag().is_none()) {
                r.set_header(
                    "To",
                    format!("{};tag={tag}", req.header("To").unwrap_or("")),
                );
            }
        }
        r
    }

    fn authorized(&self, req: &Message) -> bool {
        let Some(value) = req.header("Proxy-Authorization") else {
            return false;
        };
        let Ok(creds) = Credentials::parse(value) else {
            return false;
        };
        let Some(pw) = self.passwords.get(&creds.username) else {
            return false;
        };
        let method = req
            .method()
            .map(|m| m.as_str().to_string())
            .unwrap_or_default();
        let issued = creds
            .nonce
            .strip_prefix("pres")
            .and_then(|n| n.parse::<u32>().ok())
            .is_some_and(|n| n >= 1 && n <= self.nonce);
        issued && auth::verify(&creds, &method, pw, &req.body)
    }

    fn challenge_for(&mut self, req: &Message) -> Message {
        self.nonce += 1;
        let mut r = Self::reply(req, 407, "Proxy Authentication Required", Some("srvtag"));
        r.push_header(
            "Proxy-Authenticate",
            format!(
                "Digest realm=\"{DOMAIN}\", nonce=\"pres{}\", qop=\"auth\", algorithm=MD5",
                self.nonce
            ),
        );
        r
    }

    /// Handle a request from phone `side`: `Some(messages to phones)` when
    /// the server took it, `None` to let the proxy go on.
    pub fn handle(&mut self, side: Side, req: &Message) -> Option<Vec<(Side, Message)>> {
        let method = req.method()?.clone();
        match method {
            Method::Message if self.challenge_messages && !self.authorized(req) => {
                Some(vec![(side, self.challenge_for(req))])
            }
            Method::Publish => Some(self.publish(side, req)),
            Method::Subscribe => Some(self.subscribe(side, req)),
            _ => None,
        }
    }

    fn publish(&mut self, side: Side, req: &Message) -> Vec<(Side, Message)> {
        if self.challenge && !self.authorized(req) {
            return vec![(side, self.challenge_for(req))];
        }
        self.publishes.push(req.clone());
        let event = req
            .header("Event")
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if !self.packages.iter().any(|p| *p == event) {
            return vec![(side, Self::reply(req, 489, "Bad Event", Some("srvtag")))];
        }
        let user = user_of(req.request_uri().unwrap_or(""));
        let expires = req.expires().unwrap_or(3600).min(self.max_expires);
        let old = self.documents.get(&user).cloned();
        if let Some(m) = req.header("SIP-If-Match") {
            if old.as_ref().map(|(e, _)| e.as_str()) != Some(m.trim()) {
                let code = self.unknown_etag_code;
                return vec![(
                    side,
                    Self::reply(req, code, "Conditional Request Failed", Some("srvtag")),
                )];
            }
        } else if req.body.is_empty() {
            return vec![(side, Self::reply(req, 400, "Missing Body", Some("srvtag")))];
        }
        let mut out = Vec::new();
        if expires == 0 {
            self.documents.remove(&user);
            out.push((side, Self::reply(req, 200, "OK", Some("srvtag"))));
            out.extend(self.notify_all(&user));
            return out;
        }
        self.counter += 1;
        let etag = format!("etag{}", self.counter);
        let body = if req.body.is_empty() {
            old.map(|(_, b)| b).unwrap_or_default()
        } else {
            String::from_utf8_lossy(&req.body).into_owned()
        };
        let changed = !req.body.is_empty();
        self.documents.insert(user.clone(), (etag.clone(), body));
        let mut r = Self::reply(req, 200, "OK", Some("srvtag"));
        r.push_header("SIP-ETag", etag);
        r.push_header("Expires", expires.to_string());
        out.push((side, r));
        if changed {
            out.extend(self.notify_all(&user));
        }
        out
    }

    fn subscribe(&mut self, side: Side, req: &Message) -> Vec<(Side, Message)> {
        let initial = req.to().is_some_and(|t| t.tag().is_none());
        if initial && self.challenge && !self.authorized(req) {
            return vec![(side, self.challenge_for(req))];
        }
        self.subscribes.push(req.clone());
        if let Some((code, reason)) = self.subscribe_replies.pop_front() {
            return vec![(side, Self::reply(req, code, reason, Some("srvtag")))];
        }
        let event = req
            .header("Event")
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if !self.packages.iter().any(|p| *p == event) {
            return vec![(side, Self::reply(req, 489, "Bad Event", Some("srvtag")))];
        }
        let expires = req.expires().unwrap_or(3600).min(self.max_expires);
        let call_id = req.call_id().unwrap_or("").to_string();
        let idx = if initial {
            self.counter += 1;
            self.watchers.push(Watcher {
                side,
                call_id: call_id.clone(),
                subscriber: req.header("From").unwrap_or("").to_string(),
                tag: format!("w{}", self.counter),
                user: user_of(req.request_uri().unwrap_or("")),
                event: event.clone(),
                cseq: 0,
                expires,
            });
            self.watchers.len() - 1
        } else {
            let tag = req.to().and_then(|t| t.tag().map(str::to_string));
            match self
                .watchers
                .iter()
                .position(|w| w.call_id == call_id && Some(&w.tag) == tag.as_ref())
            {
                Some(i) => i,
                None => {
                    return vec![(
                        side,
                        Self::reply(req, 481, "Subscription Does Not Exist", None),
                    )]
                }
            }
        };
        self.watchers[idx].expires = expires;
        let tag = self.watchers[idx].tag.clone();
        let mut ok = Self::reply(req, 200, "OK", Some(&tag));
        ok.push_header("Expires", expires.to_string());
        ok.push_header("Contact", format!("<sip:presence@{PROXY_HOST}>"));
        let notify = if expires == 0 {
            let mut w = self.watchers.remove(idx);
            self.notify_watcher(&mut w, "terminated;reason=timeout", true)
        } else {
            let mut w = self.watchers[idx].clone();
            let n = self.notify_watcher(&mut w, &format!("active;expires={expires}"), true);
            self.watchers[idx] = w;
            n
        };
        if initial && self.notify_before_2xx {
            vec![(side, notify), (side, ok)]
        } else {
            vec![(side, ok), (side, notify)]
        }
    }

    fn body_for(&self, w: &Watcher) -> (String, String) {
        match w.event.as_str() {
            "presence" => (
                "application/pidf+xml".into(),
                self.documents
                    .get(&w.user)
                    .map(|(_, b)| b.clone())
                    .unwrap_or_else(|| closed_pidf(&w.user)),
            ),
            "message-summary" => (
                "application/simple-message-summary".into(),
                "Messages-Waiting: no\r\n".into(),
            ),
            _ => (
                "application/dialog-info+xml".into(),
                format!("<dialog-info xmlns=\"urn:ietf:params:xml:ns:dialog-info\" version=\"0\" state=\"full\" entity=\"sip:{}@{DOMAIN}\"/>", w.user),
            ),
        }
    }

    fn notify_watcher(&mut self, w: &mut Watcher, state: &str, with_body: bool) -> Message {
        let (ctype, body) = self.body_for(w);
        w.cseq += 1;
        self.counter += 1;
        build_notify(
            w,
            self.counter,
            state,
            with_body.then_some((ctype.as_str(), body.as_str())),
        )
    }

    fn notify_all(&mut self, user: &str) -> Vec<(Side, Message)> {
        let mut out = Vec::new();
        for i in 0..self.watchers.len() {
            if self.watchers[i].user == user && self.watchers[i].event == "presence" {
                let mut w = self.watchers[i].clone();
                let expires = w.expires;
                let n = self.notify_watcher(&mut w, &format!("active;expires={expires}"), true);
                out.push((w.side, n));
                self.watchers[i] = w;
            }
        }
        out
    }

    /// A NOTIFY in watcher `idx`'s dialog with any state and body, for tests
    /// to inject.
    pub fn custom_notify(&mut self, idx: usize, state: &str, ctype: &str, body: &str) -> String {
        self.counter += 1;
        let w = &mut self.watchers[idx];
        w.cseq += 1;
        let m = build_notify(w, self.counter, state, Some((ctype, body)));
        String::from_utf8(m.to_bytes()).expect("utf-8")
    }
}

fn build_notify(w: &Watcher, n: u32, state: &str, body: Option<(&str, &str)>) -> Message {
    let mut contact_uri = softphone::sip::message::NameAddr::parse(&w.subscriber)
        .map(|na| na.uri)
        .unwrap_or_default();
    if contact_uri.is_empty() {
        contact_uri = format!("sip:unknown@{DOMAIN}");
    }
    let subscriber_uri = contact_uri;
    let mut m = Message::request(Method::Notify, &subscriber_uri);
    m.push_header(
        "Via",
        format!("SIP/2.0/WS {PROXY_HOST};branch=z9hG4bKpres{n}"),
    );
    m.push_header("Max-Forwards", "70");
    m.push_header("From", format!("<sip:{}@{DOMAIN}>;tag={}", w.user, w.tag));
    m.push_header("To", w.subscriber.clone());
    m.push_header("Call-ID", w.call_id.clone());
    m.push_header("CSeq", format!("{} NOTIFY", w.cseq));
    m.push_header("Contact", format!("<sip:presence@{PROXY_HOST}>"));
    m.push_header("Event", w.event.clone());
    m.push_header("Subscription-State", state);
    if let Some((ctype, body)) = body {
        m.set_body(ctype, body.as_bytes().to_vec());
    }
    m
}
