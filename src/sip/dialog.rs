//! RFC 3261 section 12 dialogs: identity (Call-ID and tags), route set,
//! remote target and CSeq numbering, and building in-dialog requests.

use super::message::{request_uri_of, Message, Method, NameAddr, SipUri};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dialog {
    pub call_id: String,
    pub local_tag: String,
    pub remote_tag: String,
    /// Our From value for requests we send (with our tag).
    pub local_uri: String,
    /// The peer's address (header value without tag).
    pub remote_uri: String,
    /// The peer's Contact URI: the Request-URI of our in-dialog requests.
    pub remote_target: String,
    /// Route set, in the order our requests carry it.
    pub route_set: Vec<String>,
    pub local_seq: u32,
    pub remote_seq: Option<u32>,
}

/// Why a message cannot make a dialog.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DialogError(pub String);

/// The Request-URI a Contact (or a strict route) gives: its URI headers
/// dropped (RFC 3261 19.1.5, 12.2.1.1). A target that cannot become a
/// Request-URI is refused: what we would send could not be read.
pub fn remote_target_of(uri: &str) -> Result<String, DialogError> {
    request_uri_of(uri).map_err(|e| DialogError(format!("remote target: {}", e.reason())))
}

/// The first route's URI when it is a strict router (no `;lr`, RFC 3261
/// 12.2.1.1): it becomes the Request-URI.
fn strict_route(route_set: &[String]) -> Option<String> {
    let na = NameAddr::parse(route_set.first()?).ok()?;
    let uri = SipUri::parse(&na.uri).ok()?;
    uri.param("lr").is_none().then_some(na.uri)
}

/// A route set we can use: a strict router's URI must make a Request-URI.
pub fn check_route_set(route_set: &[String]) -> Result<(), DialogError> {
    match strict_route(route_set) {
        Some(uri) => remote_target_of(&uri).map(|_| ()),
        None => Ok(()),
    }
}

fn name_addr_without_tag(na: &NameAddr) -> String {
    let mut copy = na.clone();
    copy.params.retain(|(k, _)| !k.eq_ignore_ascii_case("tag"));
    copy.to_string()
}

impl Dialog {
    /// The caller's dialog, from our INVITE and a 2xx (or 1xx with a tag) to it.
    pub fn new_uac(invite: &Message, response: &Message) -> Result<Dialog, DialogError> {
        let call_id = invite
            .call_id()
            .ok_or_else(|| DialogError("INVITE without Call-ID".into()))?;
        let from = invite
            .from()
            .ok_or_else(|| DialogError("INVITE without From".into()))?;
        let local_tag = from
            .tag()
            .ok_or_else(|| DialogError("INVITE without From tag".into()))?
            .to_string();
        let to = response
            .to()
            .ok_or_else(|| DialogError("response without To".into()))?;
        let remote_tag = to
            .tag()
            .ok_or_else(|| DialogError("response without To tag".into()))?
            .to_string();
        let remote_target = match response.contacts().first() {
            Some(c) => remote_target_of(&c.uri)?,
            None => invite
                .request_uri()
                .map(str::to_string)
                .ok_or_else(|| DialogError("no remote target".into()))?,
        };
        // UAC: the Record-Route of the response, reversed
        let mut route_set = response.record_routes();
        route_set.reverse();
        check_route_set(&route_set)?;
        Ok(Dialog {
            call_id: call_id.to_string(),
            local_tag,
            remote_tag,
            local_uri: invite.header("From").unwrap_or_default().to_string(),
            remote_uri: name_addr_without_tag(&to),
            remote_target,
            route_set,
            local_seq: invite.cseq().map(|c| c.seq).unwrap_or(1),
            remote_seq: None,
        })
    }

    /// The callee's dialog, from a received INVITE and our chosen tag.
    pub fn new_uas(invite: &Message, local_tag: &str) -> Result<Dialog, DialogError> {
        let call_id = invite
            .call_id()
            .ok_or_else(|| DialogError("INVITE without Call-ID".into()))?;
        let from = invite
            .from()
            .ok_or_else(|| DialogError("INVITE without From".into()))?;
        let remote_tag = from
            .tag()
            .ok_or_else(|| DialogError("INVITE without From tag".into()))?
            .to_string();
        let to = invite
            .to()
            .ok_or_else(|| DialogError("INVITE without To".into()))?;
        let remote_target = invite
            .contacts()
            .first()
            .map(|c| remote_target_of(&c.uri))
            .ok_or_else(|| DialogError("INVITE without Contact".into()))??;
        check_route_set(&invite.record_routes())?;
        let mut local = to.clone();
        local.params.retain(|(k, _)| !k.eq_ignore_ascii_case("tag"));
        local
            .params
            .push(("tag".into(), Some(local_tag.to_string())));
        Ok(Dialog {
            call_id: call_id.to_string(),
            local_tag: local_tag.to_string(),
            remote_tag,
            local_uri: local.to_string(),
            remote_uri: name_addr_without_tag(&from),
            remote_target,
            // UAS: the Record-Route of the request, in order
            route_set: invite.record_routes(),
            local_seq: 0,
            remote_seq: invite.cseq().map(|c| c.seq),
        })
    }

    /// Whether a received request belongs to this dialog.
    pub fn matches_request(&self, req: &Message) -> bool {
        req.call_id() == Some(self.call_id.as_str())
            && req
                .to()
                .and_then(|t| t.tag().map(str::to_string))
                .as_deref()
                == Some(self.local_tag.as_str())
            && req
                .from()
                .and_then(|f| f.tag().map(str::to_string))
                .as_deref()
                == Some(self.remote_tag.as_str())
    }

    /// Check and record the CSeq of an in-dialog request (RFC 3261 12.2.2).
    /// `false`: it is lower than one already seen (answer 500).
    pub fn accept_remote_seq(&mut self, seq: u32) -> bool {
        match self.remote_seq {
            Some(last) if seq < last => false,
            _ => {
                self.remote_seq = Some(seq);
                true
            }
        }
    }

    fn next_seq(&mut self) -> u32 {
        self.local_seq = self.local_seq.wrapping_add(1).max(1);
        self.local_seq
    }

    /// A new in-dialog request (not ACK, not CANCEL), with the next CSeq.
    /// The caller adds Via, Contact, body.
    pub fn request(&mut self, method: Method) -> Message {
        let seq = self.next_seq();
        self.build(method, seq)
    }

    /// The ACK for a 2xx with CSeq number `seq` (RFC 3261 13.2.2.4).
    pub fn ack(&self, seq: u32) -> Message {
        self.build(Method::Ack, seq)
    }

    fn build(&self, method: Method, seq: u32) -> Message {
        // loose routing unless the first route lacks ;lr (RFC 3261 12.2.1.1);
        // a strict route that cannot be a Request-URI was refused when the
        // dialog was made (`check_route_set`)
        let strict = strict_route(&self.route_set).and_then(|u| remote_target_of(&u).ok());
        let (ruri, routes): (String, Vec<String>) = match strict {
            Some(first) => {
                let mut rest: Vec<String> = self.route_set.iter().skip(1).cloned().collect();
                rest.push(format!("<{}>", self.remote_target));
                (first, rest)
            }
            None => (self.remote_target.clone(), self.route_set.clone()),
        };
        let mut m = Message::request(method.clone(), &ruri);
        for r in routes {
            m.push_header("Route", r);
        }
        m.push_header("Max-Forwards", "70");
        m.push_header("From", self.local_uri.clone());
        m.push_header("To", format!("{};tag={}", self.remote_uri, self.remote_tag));
        m.push_header("Call-ID", self.call_id.clone());
        m.push_header("CSeq", format!("{seq} {method}"));
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invite() -> Message {
        let raw = "INVITE sip:bob@b.example SIP/2.0\r\n\
            Via: SIP/2.0/WS a.invalid;branch=z9hG4bK1\r\n\
            Record-Route: <sip:p2.example;lr>\r\n\
            Record-Route: <sip:p1.example;lr>\r\n\
            From: \"Alice\" <sip:alice@a.example>;tag=at\r\n\
            To: <sip:bob@b.example>\r\n\
            Call-ID: c1\r\n\
            CSeq: 7 INVITE\r\n\
            Contact: <sip:alice@a.invalid;transport=ws>\r\n\
            Content-Length: 0\r\n\r\n";
        Message::parse(raw.as_bytes()).expect("invite parses")
    }

    fn ok(record_route: &[&str]) -> Message {
        let mut raw =
            String::from("SIP/2.0 200 OK\r\nVia: SIP/2.0/WS a.invalid;branch=z9hG4bK1\r\n");
        for rr in record_route {
            raw.push_str(&format!("Record-Route: {rr}\r\n"));
        }
        raw.push_str(
            "From: \"Alice\" <sip:alice@a.example>;tag=at\r\n\
             To: <sip:bob@b.example>;tag=bt\r\n\
             Call-ID: c1\r\nCSeq: 7 INVITE\r\n\
             Contact: <sip:bob@b.invalid;transport=ws>\r\nContent-Length: 0\r\n\r\n",
        );
        Message::parse(raw.as_bytes()).expect("200 parses")
    }

    #[test]
    fn uac_reverses_record_route_and_targets_the_contact() {
        let mut d = Dialog::new_uac(
            &invite(),
            &ok(&["<sip:p2.example;lr>", "<sip:p1.example;lr>"]),
        )
        .expect("dialog");
        assert_eq!(
            d.route_set,
            vec!["<sip:p1.example;lr>", "<sip:p2.example;lr>"]
        );
        assert_eq!((d.local_tag.as_str(), d.remote_tag.as_str()), ("at", "bt"));
        let bye = d.request(Method::Bye);
        assert_eq!(bye.request_uri(), Some("sip:bob@b.invalid;transport=ws"));
        assert_eq!(
            bye.header_values("Route"),
            vec!["<sip:p1.example;lr>", "<sip:p2.example;lr>"]
        );
        assert_eq!(bye.cseq().map(|c| c.seq), Some(8));
        assert_eq!(
            bye.to()
                .and_then(|t| t.tag().map(str::to_string))
                .as_deref(),
            Some("bt")
        );
        let ack = d.ack(7);
        assert_eq!(
            ack.cseq().map(|c| (c.seq, c.method)),
            Some((7, Method::Ack))
        );
    }

    #[test]
    fn uas_keeps_record_route_order_and_checks_cseq() {
        let mut d = Dialog::new_uas(&invite(), "bt").expect("dialog");
        assert_eq!(
            d.route_set,
            vec!["<sip:p2.example;lr>", "<sip:p1.example;lr>"]
        );
        assert_eq!(d.remote_target, "sip:alice@a.invalid;transport=ws");
        assert!(d.local_uri.contains("tag=bt"));
        assert!(d.accept_remote_seq(8));
        assert!(!d.accept_remote_seq(3), "lower CSeq is refused");
        let bye = d.request(Method::Bye);
        assert_eq!(bye.cseq().map(|c| c.seq), Some(1));
    }

    #[test]
    fn strict_router_gets_the_request_uri() {
        let mut d = Dialog::new_uac(&invite(), &ok(&["<sip:strict.example>"])).expect("dialog");
        let bye = d.request(Method::Bye);
        assert_eq!(bye.request_uri(), Some("sip:strict.example"));
        assert_eq!(
            bye.header_values("Route"),
            vec!["<sip:bob@b.invalid;transport=ws>"]
        );
    }

    #[test]
    fn contact_headers_stay_out_of_the_request_uri() {
        let mut resp = ok(&["<sip:p1.example;lr>"]);
        resp.set_header("Contact", "<sip:peer@proxy.e?ample.com;transport=ws>");
        let mut d = Dialog::new_uac(&invite(), &resp).expect("dialog");
        assert_eq!(d.remote_target, "sip:peer@proxy.e");
        let mut bye = d.request(Method::Bye);
        assert_eq!(bye.request_uri(), Some("sip:peer@proxy.e"));
        bye.push_header("Via", "SIP/2.0/WS a.invalid;branch=z9hG4bK2");
        let again = Message::parse(&bye.to_bytes()).expect("our BYE parses");
        assert_eq!(again.request_uri(), Some("sip:peer@proxy.e"));
        // the callee side too
        let mut inv = invite();
        inv.set_header("Contact", "<sip:alice@a.invalid;transport=ws?X=1>");
        let d = Dialog::new_uas(&inv, "bt").expect("dialog");
        assert_eq!(d.remote_target, "sip:alice@a.invalid;transport=ws");
    }

    #[test]
    fn a_target_that_cannot_be_a_request_uri_is_refused() {
        for contact in ["<sip:a\"b@b.invalid>", "<sip:@b.invalid>", "<sip:bob@b!d>"] {
            let mut resp = ok(&[]);
            resp.set_header("Contact", contact);
            assert!(Dialog::new_uac(&invite(), &resp).is_err(), "{contact}");
            let mut inv = invite();
            inv.set_header("Contact", contact);
            assert!(Dialog::new_uas(&inv, "bt").is_err(), "{contact}");
        }
        // a strict router whose URI cannot be a Request-URI
        assert!(Dialog::new_uac(&invite(), &ok(&["<sip:a\"b@strict.example>"])).is_err());
        // a strict router's URI headers are dropped
        let mut d = Dialog::new_uac(&invite(), &ok(&["<sip:strict.example?x=y>"])).expect("dialog");
        assert_eq!(
            d.request(Method::Bye).request_uri(),
            Some("sip:strict.example")
        );
    }

    #[test]
    fn no_tag_no_dialog() {
        let mut resp = ok(&[]);
        resp.set_header("To", "<sip:bob@b.example>");
        assert!(Dialog::new_uac(&invite(), &resp).is_err());
    }
}
