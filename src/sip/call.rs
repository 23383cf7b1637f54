//! One INVITE session, caller or callee side: offer/answer through the
//! browser, ringing, answer, ACK, CANCEL, BYE and the 2xx retransmissions.

use super::agent::{response_to, Ctx, Owner, TimerKey, ALLOW, SUPPORTED};
use super::dialog::{remote_target_of, Dialog};
use super::message::{request_uri_of, split_uri_headers, Message, Method, NameAddr, SipUri};
use super::refer::{self, InfoBody, ReferTarget};
use super::registration::{on_challenge, AuthCache, ChallengeOutcome};
use super::sdp;
use super::timers::{T1, T2, TIMEOUT_64T1};
use super::transaction::TxKey;
use super::{
    BadTarget, CallAction, CallId, CallState, DtmfMethod, Duration, EndReason, Event, HoldFailure,
    Instant, MediaRequest, Party, Warning,
};
use litemap::LiteMap;
use std::collections::VecDeque;

/// Turn what the user typed into a Request-URI: a full `sip:`/`sips:` URI, a
/// `user@host`, or a number/user name at our own domain.
pub fn target_uri(input: &str, domain: &str) -> Result<String, BadTarget> {
    let t = input.trim();
    if t.is_empty() {
        return Err(BadTarget::Empty);
    }
    if t.chars().any(char::is_control) {
        return Err(BadTarget::ControlCharacters);
    }
    let lower = t.to_ascii_lowercase();
    let candidate = if lower.starts_with("sip:") || lower.starts_with("sips:") {
        t.to_string()
    } else if lower.starts_with("tel:") {
        format!("sip:{}@{domain}", tel_digits(&t[4..]))
    } else if t.contains('@') {
        format!("sip:{t}")
    } else {
        let user: String = if t.chars().all(|c| "0123456789+*#-(). ".contains(c)) {
            tel_digits(t)
        } else {
            t.to_string()
        };
        format!("sip:{user}@{domain}")
    };
    // a `sip:` link may carry URI headers (`?subject=…`): not part of the
    // Request-URI (RFC 3261 19.1.5), dropped
    match request_uri_of(&candidate) {
        Ok(uri) if SipUri::parse(&uri).is_ok_and(|u| !u.host.is_empty()) => Ok(uri),
        _ => Err(BadTarget::NotCallable(t.to_string())),
    }
}

#[cfg(test)]
mod target_tests {
    use super::target_uri;

    #[test]
    fn control_characters_are_refused() {
        assert!(target_uri("x\u{1}y", "example.com").is_err());
        assert!(target_uri("10\t01", "example.com").is_err());
        assert_eq!(
            target_uri("1001", "example.com").as_deref(),
            Ok("sip:1001@example.com")
        );
    }

    #[test]
    fn control_characters_of_a_display_name_stay_out_of_the_ui() {
        let na = super::NameAddr::parse("\"BEL:\\\u{7} NUL:\\\u{0}\" <sip:a@b>").expect("parses");
        assert_eq!(na.display_name.as_deref(), Some("BEL:\u{7} NUL:\u{0}"));
        let p = super::party_of(&na);
        assert_eq!(p.display_name.as_deref(), Some("BEL: NUL:"));
        let na = super::NameAddr::parse("\"\\\u{7}\" <sip:a@b>").expect("parses");
        assert_eq!(super::party_of(&na).display_name, None);
    }

    #[test]
    fn uri_headers_are_dropped_and_bad_uris_refused() {
        assert_eq!(
            target_uri("sip:bob@example.com;transport=ws?subject=hi", "x").as_deref(),
            Ok("sip:bob@example.com;transport=ws")
        );
        // a `?` in the user part is not a header
        assert_eq!(
            target_uri("sip:a?b@example.com", "x").as_deref(),
            Ok("sip:a?b@example.com")
        );
        assert!(target_uri("sip:a\"b@example.com", "x").is_err());
        assert!(target_uri("sip:bob@example.com>", "x").is_err());
    }
}

fn tel_digits(s: &str) -> String {
    s.chars().filter(|c| !"-(). ".contains(*c)).collect()
}

/// The peer as the UI shows it. A quoted display name may carry control
/// characters as quoted pairs (RFC 4475 3.1.1.2): they stay out of the UI.
pub(crate) fn party_of(na: &NameAddr) -> Party {
    Party {
        display_name: na
            .display_name
            .as_deref()
            .map(|d| d.chars().filter(|c| !c.is_control()).collect::<String>())
            .filter(|d| !d.trim().is_empty()),
        uri: na.uri.clone(),
    }
}

/// The user-facing reason for a final failure response to our INVITE.
pub fn end_reason_for(code: u16, reason: &str) -> EndReason {
    match code {
        486 | 600 => EndReason::Busy,
        603 => EndReason::Declined,
        404 | 604 => EndReason::NotFound,
        480 => EndReason::Unavailable,
        487 => EndReason::Cancelled,
        408 => EndReason::NoAnswer,
        401 | 407 => EndReason::AuthFailed,
        _ => EndReason::Failed {
            code,
            reason: reason.to_string(),
        },
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Phase {
    /// Outgoing: waiting for the browser's offer.
    AwaitingOffer,
    /// Outgoing: INVITE sent, no final response yet.
    Inviting,
    /// Outgoing: the user hung up before the answer; CANCEL sent or due.
    Cancelling,
    /// Incoming: ringing here.
    Ringing,
    /// Incoming: answered, waiting for the browser's answer SDP.
    AwaitingAnswer,
    /// Incoming: 2xx sent, waiting for the ACK.
    WaitingAck,
    /// Established.
    Confirmed,
    Ended,
}

/// Why we send a re-INVITE.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Purpose {
    /// After a reconnection: tell the peer where we are now (target
    /// refresh) and check that the dialog still exists. Same SDP.
    Refresh,
    /// The media path failed: a new offer with an ICE restart.
    IceRestart,
    /// RFC 4028: we are the refresher. Same SDP.
    SessionRefresh,
    /// The user puts the call on hold: a `sendonly` (or `inactive`) offer.
    Hold,
    /// The user takes the call off hold: a `sendrecv` offer.
    Resume,
}

/// Our REFER (we transfer the peer): in flight, then its implicit
/// subscription until the final NOTIFY.
struct ReferOut {
    /// The REFER transaction while it has no final answer.
    key: Option<TxKey>,
}

/// The peer's REFER we act on (we are being transferred).
struct ReferIn {
    /// The REFER's CSeq number: the `id` of our NOTIFYs' `Event: refer`.
    event_id: u32,
    /// The final NOTIFY went out.
    done: bool,
}

/// A REFER accepted: the agent starts this call for it.
pub struct ReferRequest {
    pub target: ReferTarget,
    pub referred_by: String,
}

/// Our re-INVITE in flight.
struct Reinvite {
    key: Option<TxKey>,
    purpose: Purpose,
    /// The offer came from the browser (Reoffer): roll back if refused.
    via_browser: bool,
    sdp: String,
    auth_retried: bool,
}

/// A renegotiation waiting for the browser's SDP.
enum Pending {
    /// Our re-offer, to go out in a re-INVITE.
    Reoffer(Purpose),
    /// The peer's re-INVITE offer: our answer goes in the 200.
    AnswerInvite { key: TxKey, req: Message },
    /// The peer's UPDATE offer: our answer goes in the 200.
    AnswerUpdate { key: TxKey, req: Message },
    /// The peer's re-INVITE without SDP: our offer goes in the 200, the
    /// answer comes in the ACK.
    OfferIn2xx { key: TxKey, req: Message },
}

/// A 2xx to an INVITE of the peer, retransmitted until its ACK.
struct AckWait {
    seq: u32,
    bytes: Vec<u8>,
    every: Duration,
    /// The offer our 2xx carried: the ACK carries the answer, and then it
    /// is our session description.
    offer: Option<String>,
}

/// RFC 4028 session timer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Session {
    interval: u32,
    we_refresh: bool,
}

/// The smallest session interval we accept (RFC 4028 4: at least 90 s).
pub const MIN_SE: u32 = 90;

/// `Session-Expires` (compact `x`): the interval and the `refresher`.
fn session_expires(m: &Message) -> Option<(u32, Option<String>)> {
    let v = m.header("Session-Expires")?;
    let mut parts = v.split(';');
    let secs = parts.next()?.trim().parse::<u32>().ok()?;
    let refresher = parts.find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("refresher")
            .then(|| v.trim().to_ascii_lowercase())
    });
    Some((secs, refresher))
}

fn min_se(m: &Message) -> Option<u32> {
    m.header("Min-SE")?
        .split(';')
        .next()?
        .trim()
        .parse::<u32>()
        .ok()
}

fn supports(m: &Message, tag: &str) -> bool {
    m.header_list("Supported")
        .iter()
        .chain(m.header_list("Require").iter())
        .any(|t| t.eq_ignore_ascii_case(tag))
}

/// The SDP body of a message, if it has one.
fn sdp_body(m: &Message) -> Option<String> {
    let is_sdp = m
        .content_type()
        .is_some_and(|t| t.eq_ignore_ascii_case("application/sdp"));
    let body = m.body_str().unwrap_or_default();
    (is_sdp && !body.trim().is_empty()).then(|| body.to_string())
}

/// What the user reads when the media path cannot be (re)established.
pub const ICE_FAILED: &str = "Could not connect the audio (ICE failed): check the network, or the STUN/TURN servers in the settings.";

/// Why an incoming INVITE is refused: code, reason phrase, extra headers.
pub type Refusal = (u16, String, Vec<(&'static str, String)>);

pub struct Call {
    id: CallId,
    phase: Phase,
    peer: Party,
    /// Outgoing: the Request-URI (changes when redirected).
    target: String,
    /// Outgoing: the To header value (the number dialled).
    to_value: String,
    call_id: String,
    local_tag: String,
    cseq: u32,
    /// We sent the INVITE that made the dialog (owner of the Call-ID).
    is_caller: bool,
    /// Outgoing: the INVITE in flight (or last sent). Incoming: the INVITE received.
    invite: Option<Message>,
    invite_key: Option<TxKey>,
    dialog: Option<Dialog>,
    auth: Option<AuthCache>,
    /// Challenges answered in a row for this call.
    auth_attempts: u32,
    /// Outgoing: hang-up asked before any provisional response; CANCEL when one comes.
    cancel_when_provisional: bool,
    /// Our 2xx to an INVITE of the peer, until its ACK.
    ack_wait: Option<AckWait>,
    /// ACKs we sent, by CSeq, re-sent for retransmitted 2xx.
    acks: Vec<(u32, Vec<u8>)>,
    ringing_reported: bool,
    /// Targets already tried: the one dialled, then each 3xx Contact.
    redirects: Vec<String>,
    /// The session interval to ask for after a 422.
    session_request: Option<u32>,
    /// The session descriptions in force.
    local_sdp: Option<String>,
    remote_sdp: Option<String>,
    remote_hold: bool,
    reinvite: Option<Reinvite>,
    pending: Option<Pending>,
    /// A re-INVITE to send when the way is clear (glare, reconnection).
    deferred: Option<Purpose>,
    /// The connection dropped during the call: refresh once registered again.
    link_lost: bool,
    ice_restarts: u32,
    refresh_failures: u32,
    session: Option<Session>,
    /// We hold the call (the last agreed offer of ours was a hold).
    held: bool,
    /// What the user last asked for (hold or not) until it is done or failed.
    hold_wish: Option<bool>,
    /// DTMF digits waiting to go out by INFO, one at a time.
    dtmf_queue: VecDeque<char>,
    /// The INFO in flight.
    dtmf_key: Option<TxKey>,
    refer_out: Option<ReferOut>,
    refer_in: Option<ReferIn>,
    /// A REFER we accepted, for the agent to start the new call.
    refer_request: Option<ReferRequest>,
    /// This call was made for the peer's REFER on that call.
    refer_source: Option<CallId>,
    /// This incoming call replaces that one (RFC 3891).
    replaces: Option<CallId>,
    /// Extra headers of our initial INVITE (`Referred-By`, `Replaces`).
    invite_extra: Vec<(&'static str, String)>,
    /// The last answer to our initial INVITE (code, reason).
    status: Option<(u16, String)>,
    /// The early answer of a 183 (early media).
    early_sdp: Option<String>,
}

impl Call {
    pub fn is_ended(&self) -> bool {
        matches!(self.phase, Phase::Ended | Phase::Cancelling)
    }

    /// Incoming and ringing here: it can be answered.
    pub fn is_ringing(&self) -> bool {
        self.phase == Phase::Ringing
    }

    /// Established (or answered and waiting for the ACK).
    pub fn is_established(&self) -> bool {
        matches!(self.phase, Phase::Confirmed | Phase::WaitingAck)
    }

    pub fn has_invite_tx(&self, key: &TxKey) -> bool {
        self.invite_key.as_ref() == Some(key)
    }

    pub fn local_tag(&self) -> &str {
        &self.local_tag
    }

    fn base(id: CallId, phase: Phase, peer: Party, call_id: String, local_tag: String) -> Call {
        Call {
            id,
            phase,
            peer,
            target: String::new(),
            to_value: String::new(),
            call_id,
            local_tag,
            cseq: 0,
            is_caller: false,
            invite: None,
            invite_key: None,
            dialog: None,
            auth: None,
            auth_attempts: 0,
            cancel_when_provisional: false,
            ack_wait: None,
            acks: Vec::new(),
            ringing_reported: false,
            redirects: Vec::new(),
            session_request: None,
            local_sdp: None,
            remote_sdp: None,
            remote_hold: false,
            reinvite: None,
            pending: None,
            deferred: None,
            link_lost: false,
            ice_restarts: 0,
            refresh_failures: 0,
            session: None,
            held: false,
            hold_wish: None,
            dtmf_queue: VecDeque::new(),
            dtmf_key: None,
            refer_out: None,
            refer_in: None,
            refer_request: None,
            refer_source: None,
            replaces: None,
            invite_extra: Vec::new(),
            status: None,
            early_sdp: None,
        }
    }

    /// A new outgoing call: ask the browser for an offer first.
    pub fn outgoing(ctx: &mut Ctx, id: CallId, target: String) -> Call {
        let to = Party {
            display_name: None,
            uri: target.clone(),
        };
        let call_id = ctx.rng.token(24);
        let local_tag = ctx.rng.token(10);
        let mut call = Call::base(id, Phase::AwaitingOffer, to.clone(), call_id, local_tag);
        call.to_value = format!("<{target}>");
        call.redirects = vec![target.clone()];
        call.target = target;
        call.is_caller = true;
        ctx.event(Event::CallState {
            call: id,
            state: CallState::Calling { to },
        });
        ctx.media(MediaRequest::CreateOffer { call: id });
        call
    }

    /// A new incoming INVITE (no To tag): ring. `Err` is the response to
    /// send instead: code, reason and extra headers.
    pub fn incoming(
        ctx: &mut Ctx,
        now: Instant,
        id: CallId,
        key: &TxKey,
        invite: &Message,
        replaces: Option<CallId>,
    ) -> Result<Call, Refusal> {
        let Some(offer) = sdp_body(invite) else {
            return Err((
                488,
                "Not Acceptable Here (an SDP offer is required)".into(),
                vec![],
            ));
        };
        if let Some((secs, _)) = session_expires(invite) {
            if secs < MIN_SE {
                return Err((
                    422,
                    "Session Interval Too Small".into(),
                    vec![("Min-SE", MIN_SE.to_string())],
                ));
            }
        }
        let local_tag = ctx.rng.token(10);
        let dialog = Dialog::new_uas(invite, &local_tag).map_err(|e| (400, e.0, vec![]))?;
        let from = invite.from().map(|f| party_of(&f)).unwrap_or(Party {
            display_name: None,
            uri: String::new(),
        });
        let mut call = Call::base(
            id,
            Phase::Ringing,
            from.clone(),
            dialog.call_id.clone(),
            local_tag.clone(),
        );
        call.cseq = invite.cseq().map(|c| c.seq).unwrap_or(0);
        call.invite = Some(invite.clone());
        call.invite_key = Some(key.clone());
        call.dialog = Some(dialog);
        call.ringing_reported = true;
        call.remote_hold = sdp::is_hold(&offer);
        call.remote_sdp = Some(offer);
        call.replaces = replaces;
        let mut ringing = response_to(invite, 180, "Ringing", Some(&local_tag));
        call.add_dialog_headers(ctx, invite, &mut ringing);
        ctx.respond(now, key, &ringing);
        ctx.event(Event::IncomingCall {
            call: id,
            from,
            auto_answer_after: refer::auto_answer_after(invite),
            replaces,
        });
        Ok(call)
    }

    /// Record-Route and Contact for a dialog-creating response (12.1.1).
    fn add_dialog_headers(&self, ctx: &Ctx, invite: &Message, resp: &mut Message) {
        for rr in invite.header_values("Record-Route") {
            resp.push_header("Record-Route", rr);
        }
        resp.push_header("Contact", ctx.local.dialog_contact());
    }

    fn end(&mut self, ctx: &mut Ctx, reason: EndReason, close_media: bool) {
        if self.phase == Phase::Ended {
            return;
        }
        let already_reported = self.phase == Phase::Cancelling;
        self.phase = Phase::Ended;
        self.cancel_timers(ctx);
        self.shed();
        if !already_reported {
            if close_media {
                ctx.media(MediaRequest::Close { call: self.id });
            }
            ctx.event(Event::CallState {
                call: self.id,
                state: CallState::Ended(reason),
            });
        }
    }

    /// An ended call lingers (64·T1) to answer late messages: it keeps its
    /// identity, dialog and ACKs, and drops the heavy parts (SDP bodies,
    /// renegotiations, our last 2xx), so that many calls in a row do not
    /// pile up memory.
    fn shed(&mut self) {
        self.local_sdp = None;
        self.remote_sdp = None;
        self.pending = None;
        self.reinvite = None;
        self.deferred = None;
        self.ack_wait = None;
        if let Some(invite) = self.invite.as_mut() {
            // CANCEL and a late forked 2xx need its headers only
            invite.body = Vec::new();
        }
    }

    fn cancel_timers(&self, ctx: &mut Ctx) {
        for k in [
            TimerKey::Retransmit2xx(self.id),
            TimerKey::NoAck(self.id),
            TimerKey::Reinvite(self.id),
            TimerKey::SessionRefresh(self.id),
            TimerKey::SessionExpiry(self.id),
        ] {
            ctx.timers.cancel(&k);
        }
    }

    /// Hang up an established call with a BYE and tell the user why.
    fn bye_and_end(&mut self, ctx: &mut Ctx, now: Instant, reason: EndReason) {
        self.send_bye(ctx, now);
        self.end(ctx, reason, true);
    }

    fn set_active(&mut self, ctx: &mut Ctx) {
        ctx.event(Event::CallState {
            call: self.id,
            state: CallState::Active {
                peer: self.peer.clone(),
            },
        });
    }

    // ----- outgoing -----

    fn build_invite(&mut self, ctx: &mut Ctx, sdp: &str) -> Message {
        self.cseq += 1;
        let mut m = ctx.out_of_dialog(
            Method::Invite,
            &self.target,
            self.to_value.clone(),
            &self.local_tag,
            &self.call_id,
            self.cseq,
        );
        m.push_header("Contact", ctx.local.dialog_contact());
        m.push_header("Allow", ALLOW);
        m.push_header("Supported", SUPPORTED);
        if let Some(secs) = self.session_request {
            m.push_header("Session-Expires", secs.to_string());
            m.push_header("Min-SE", secs.to_string());
        }
        for (name, value) in &self.invite_extra {
            m.push_header(name, value.clone());
        }
        m.push_header("User-Agent", ctx.local.user_agent.clone());
        m.set_body("application/sdp", sdp.as_bytes().to_vec());
        m
    }

    fn send_invite(&mut self, ctx: &mut Ctx, now: Instant, mut invite: Message) {
        if let Some(cache) = self.auth.as_mut() {
            cache.apply(ctx, &mut invite);
        }
        self.invite_key = TxKey::of_request(&invite);
        self.invite = Some(invite.clone());
        let bytes = ctx.txs.start_client(now, invite, Owner::Invite(self.id));
        ctx.send(bytes);
    }

    pub fn on_local_sdp(&mut self, ctx: &mut Ctx, now: Instant, sdp: String) {
        match self.phase {
            Phase::AwaitingOffer => {
                if !ctx.connected {
                    self.end(
                        ctx,
                        EndReason::Network("not connected to the server".into()),
                        true,
                    );
                    return;
                }
                self.local_sdp = Some(sdp.clone());
                let invite = self.build_invite(ctx, &sdp);
                self.phase = Phase::Inviting;
                self.send_invite(ctx, now, invite);
            }
            Phase::AwaitingAnswer => {
                self.local_sdp = Some(sdp.clone());
                self.send_answer(ctx, now, sdp)
            }
            Phase::Confirmed | Phase::WaitingAck => match self.pending.take() {
                Some(Pending::Reoffer(purpose)) => {
                    self.send_reinvite(ctx, now, purpose, sdp, true);
                }
                Some(Pending::AnswerInvite { key, req }) => {
                    // the peer's offer is accepted only now (a failed
                    // answer leaves the session as it was)
                    if let Some(offer) = sdp_body(&req) {
                        self.note_remote_offer(ctx, &offer);
                    }
                    self.local_sdp = Some(sdp.clone());
                    self.send_reinvite_ok(ctx, now, &key, &req, sdp, false);
                }
                Some(Pending::OfferIn2xx { key, req }) => {
                    self.send_reinvite_ok(ctx, now, &key, &req, sdp, true);
                }
                Some(Pending::AnswerUpdate { key, req }) => {
                    if let Some(offer) = sdp_body(&req) {
                        self.note_remote_offer(ctx, &offer);
                    }
                    self.local_sdp = Some(sdp.clone());
                    let mut ok = response_to(&req, 200, "OK", None);
                    ok.push_header("Contact", ctx.local.dialog_contact());
                    self.add_session_headers(&req, &mut ok);
                    ok.set_body("application/sdp", sdp.into_bytes());
                    ctx.respond(now, &key, &ok);
                    self.schedule_session(ctx, now);
                }
                None => tracing::debug!("{}: local SDP with nothing pending", self.id),
            },
            _ => tracing::debug!("{}: local SDP ignored in {:?}", self.id, self.phase),
        }
    }

    fn send_cancel(&mut self, ctx: &mut Ctx, now: Instant) {
        let Some(invite) = self.invite.clone() else {
            return;
        };
        // RFC 3261 9.1: same Request-URI, Call-ID, From, To, CSeq number,
        // Route and top Via (branch) as the INVITE
        let mut cancel = Message::request(Method::Cancel, invite.request_uri().unwrap_or_default());
        if let Some(via) = invite.header_values("Via").first() {
            cancel.push_header("Via", *via);
        }
        for r in invite.header_values("Route") {
            cancel.push_header("Route", r);
        }
        cancel.push_header("Max-Forwards", "70");
        for h in ["From", "To", "Call-ID"] {
            if let Some(v) = invite.header(h) {
                cancel.push_header(h, v);
            }
        }
        cancel.push_header("CSeq", format!("{} CANCEL", self.cseq));
        let bytes = ctx.txs.start_client(now, cancel, Owner::Fire);
        ctx.send(bytes);
    }

    /// Is `key` the transaction of our re-INVITE in flight?
    fn is_reinvite_tx(&self, key: &Option<TxKey>) -> bool {
        self.reinvite
            .as_ref()
            .is_some_and(|r| r.key.is_some() && r.key == *key)
    }

    pub fn on_invite_response(
        &mut self,
        ctx: &mut Ctx,
        now: Instant,
        request: &Message,
        resp: &Message,
    ) {
        let key = TxKey::of_request(request);
        if self.is_reinvite_tx(&key) {
            self.on_reinvite_response(ctx, now, request, resp);
            return;
        }
        if key != self.invite_key {
            return; // an answer to an INVITE we have replaced (auth retry, redirect)
        }
        let Some(code) = resp.code() else { return };
        if code > 100 {
            self.status = Some((
                code,
                refer::clean_text(resp.reason().unwrap_or_default(), 80),
            ));
        }
        match (code, self.phase.clone()) {
            (100..=199, Phase::Inviting) => {
                if self.cancel_when_provisional {
                    self.cancel_when_provisional = false;
                    self.phase = Phase::Cancelling;
                    self.send_cancel(ctx, now);
                    return;
                }
                if code != 100 && !self.ringing_reported {
                    self.ringing_reported = true;
                    ctx.event(Event::CallState {
                        call: self.id,
                        state: CallState::Ringing,
                    });
                }
                // early media: a 183 (or 180) with SDP, applied once
                if let (Some(early), None) = (sdp_body(resp), self.early_sdp.as_ref()) {
                    if code != 100 {
                        self.early_sdp = Some(early.clone());
                        ctx.media(MediaRequest::SetRemoteAnswer {
                            call: self.id,
                            sdp: early,
                            provisional: true,
                        });
                        ctx.event(Event::EarlyMedia { call: self.id });
                    }
                }
            }
            (100..=199, Phase::Cancelling) if self.cancel_when_provisional => {
                self.cancel_when_provisional = false;
                self.send_cancel(ctx, now);
            }
            (200..=299, Phase::Inviting | Phase::Cancelling) => {
                let cancelling = self.phase == Phase::Cancelling;
                let dialog = match Dialog::new_uac(request, resp) {
                    Ok(d) => d,
                    Err(e) => {
                        tracing::warn!("{}: unusable 2xx: {}", self.id, e.0);
                        self.end(
                            ctx,
                            EndReason::Failed {
                                code,
                                reason: format!("unusable answer ({})", e.0),
                            },
                            true,
                        );
                        return;
                    }
                };
                let seq = request.cseq().map(|c| c.seq).unwrap_or(self.cseq);
                self.dialog = Some(dialog);
                self.send_ack(ctx, seq);
                if let Some(to) = resp.to() {
                    self.peer = party_of(&to);
                }
                if cancelling {
                    // the answer crossed our CANCEL: hang up properly
                    self.send_bye(ctx, now);
                    self.phase = Phase::Ended;
                    return;
                }
                let Some(sdp) = sdp_body(resp).or_else(|| self.early_sdp.clone()) else {
                    self.bye_and_end(
                        ctx,
                        now,
                        EndReason::Failed {
                            code,
                            reason: "the answer had no audio description (SDP)".into(),
                        },
                    );
                    return;
                };
                self.phase = Phase::Confirmed;
                self.remote_sdp = Some(sdp.clone());
                self.session = session_expires(resp).map(|(secs, refresher)| Session {
                    interval: secs.max(MIN_SE),
                    we_refresh: refresher.as_deref() != Some("uas"),
                });
                self.schedule_session(ctx, now);
                ctx.media(MediaRequest::SetRemoteAnswer {
                    call: self.id,
                    sdp,
                    provisional: false,
                });
                self.set_active(ctx);
            }
            (401 | 407, Phase::Inviting) => {
                let prev = self.auth.as_ref();
                match on_challenge(resp, prev, self.auth_attempts) {
                    ChallengeOutcome::Retry(cache) => {
                        self.auth = Some(cache);
                        self.auth_attempts += 1;
                        let sdp = request.body_str().unwrap_or_default().to_string();
                        let invite = self.build_invite(ctx, &sdp);
                        self.send_invite(ctx, now, invite);
                    }
                    ChallengeOutcome::Refused(r) => {
                        tracing::warn!("{}: {r}", self.id);
                        self.end(ctx, EndReason::AuthFailed, true);
                    }
                }
            }
            (422, Phase::Inviting) if self.session_request.is_none() => {
                // RFC 4028 6: ask again with the interval the server wants
                let wanted = min_se(resp).unwrap_or(MIN_SE).max(MIN_SE);
                self.session_request = Some(wanted);
                let sdp = request.body_str().unwrap_or_default().to_string();
                let invite = self.build_invite(ctx, &sdp);
                self.send_invite(ctx, now, invite);
            }
            (300..=399, Phase::Inviting) => {
                // not a match guard: following the redirect sends an INVITE,
                // and a guard that fails falls through to the next arm
                let followed = self.follow_redirect(ctx, now, request, resp);
                if !followed {
                    self.end(
                        ctx,
                        EndReason::Failed {
                            code,
                            reason: format!(
                                "{} (the call was redirected, but to no address that can be called)",
                                resp.reason().unwrap_or_default()
                            ),
                        },
                        true,
                    );
                }
            }
            (300..=699, Phase::Inviting) => {
                self.end(
                    ctx,
                    end_reason_for(code, resp.reason().unwrap_or_default()),
                    true,
                );
            }
            (300..=699, Phase::Cancelling) => self.phase = Phase::Ended,
            _ => {}
        }
    }

    /// RFC 3261 8.1.3.4: try the Contacts of a 3xx (not 305), each once, at
    /// most [`MAX_REDIRECTS`] in all. `false` when there is nothing to try.
    fn follow_redirect(
        &mut self,
        ctx: &mut Ctx,
        now: Instant,
        request: &Message,
        resp: &Message,
    ) -> bool {
        // `redirects` holds the first target too: a loop back to it stops
        if resp.code() == Some(305) || self.redirects.len() > MAX_REDIRECTS {
            return false;
        }
        // each Contact as a Request-URI (its URI headers dropped), or skipped
        let next = resp
            .contacts()
            .into_iter()
            .filter_map(|c| request_uri_of(&c.uri).ok())
            .find(|u| {
                let lower = u.to_ascii_lowercase();
                (lower.starts_with("sip:") || lower.starts_with("sips:"))
                    && *u != self.target
                    && !self.redirects.contains(u)
            });
        let Some(uri) = next else { return false };
        tracing::info!("{}: redirected to {uri}", self.id);
        self.redirects.push(uri.clone());
        self.target = uri;
        let sdp = request.body_str().unwrap_or_default().to_string();
        let invite = self.build_invite(ctx, &sdp);
        self.send_invite(ctx, now, invite);
        true
    }

    /// Our INVITE got no answer at all (timer B) or the transport failed.
    pub fn on_invite_timeout(
        &mut self,
        ctx: &mut Ctx,
        _now: Instant,
        request: &Message,
        reason: &str,
    ) {
        let key = TxKey::of_request(request);
        if self.is_reinvite_tx(&key) {
            let Some(r) = self.reinvite.take() else {
                return;
            };
            if r.via_browser {
                ctx.media(MediaRequest::Rollback { call: self.id });
            }
            if ctx.connected {
                // timer B with the connection up: the peer is gone (as 408)
                self.bye_and_end(
                    ctx,
                    _now,
                    EndReason::Network(format!("the other party did not answer ({reason})")),
                );
            } else {
                self.deferred = Some(r.purpose);
                self.link_lost = true;
            }
            return;
        }
        match self.phase {
            Phase::Inviting => self.end(ctx, EndReason::Network(reason.to_string()), true),
            Phase::Cancelling => self.phase = Phase::Ended,
            _ => {}
        }
    }

    /// Does this 2xx belong to our INVITE (a retransmission)?
    pub fn owns_response(&self, resp: &Message) -> bool {
        resp.call_id() == Some(self.call_id.as_str())
            && resp
                .from()
                .and_then(|f| f.tag().map(str::to_string))
                .as_deref()
                == Some(self.local_tag.as_str())
    }

    fn send_ack(&mut self, ctx: &mut Ctx, seq: u32) {
        let Some(d) = self.dialog.as_ref() else {
            return;
        };
        let mut ack = d.ack(seq);
        ack.push_header("Via", ctx.via());
        let bytes = ack.to_bytes();
        ctx.send(bytes.clone());
        self.acks.retain(|(s, _)| *s != seq);
        self.acks.push((seq, bytes));
        if self.acks.len() > 2 {
            self.acks.remove(0);
        }
    }

    pub fn on_2xx_retransmission(&mut self, ctx: &mut Ctx, now: Instant, resp: &Message) {
        let same_dialog = match (
            &self.dialog,
            resp.to().and_then(|t| t.tag().map(str::to_string)),
        ) {
            (Some(d), Some(tag)) => d.remote_tag == tag,
            _ => false,
        };
        let seq = resp.cseq().map(|c| c.seq);
        if same_dialog {
            if let Some((_, ack)) = self.acks.iter().find(|(s, _)| Some(*s) == seq) {
                ctx.send(ack.clone());
            }
        } else if let Some(invite) = self.invite.clone() {
            // a 2xx from another fork: acknowledge it and hang it up
            if let Ok(mut d) = Dialog::new_uac(&invite, resp) {
                let mut ack = d.ack(invite.cseq().map(|c| c.seq).unwrap_or(1));
                ack.push_header("Via", ctx.via());
                ctx.send(ack.to_bytes());
                let mut bye = d.request(Method::Bye);
                bye.push_header("Via", ctx.via());
                let bytes = ctx.txs.start_client(now, bye, Owner::Fire);
                ctx.send(bytes);
            }
        }
    }

    // ----- incoming -----

    pub fn answer(&mut self, ctx: &mut Ctx) {
        if self.phase != Phase::Ringing {
            return;
        }
        let remote_sdp = self.remote_sdp.clone().unwrap_or_default();
        self.phase = Phase::AwaitingAnswer;
        ctx.event(Event::CallState {
            call: self.id,
            state: CallState::Answering,
        });
        ctx.media(MediaRequest::CreateAnswer {
            call: self.id,
            remote_sdp,
        });
    }

    /// RFC 4028 9: the session timer the peer asked for in `req`, and who
    /// refreshes (the peer unless it asked us to, or cannot).
    fn take_session_request(&mut self, req: &Message) {
        if let Some((secs, refresher)) = session_expires(req) {
            let we_refresh = match refresher.as_deref() {
                Some("uas") => true,
                Some("uac") => false,
                _ => !supports(req, "timer"),
            };
            self.session = Some(Session {
                interval: secs.max(MIN_SE),
                we_refresh,
            });
        }
    }

    /// Session-Expires (and Require: timer) in our 2xx to `req`.
    fn add_session_headers(&self, req: &Message, resp: &mut Message) {
        let Some(s) = self.session else { return };
        if session_expires(req).is_none() {
            return;
        }
        // in a response, "uas" is us
        let who = if s.we_refresh { "uas" } else { "uac" };
        resp.push_header("Session-Expires", format!("{};refresher={who}", s.interval));
        if supports(req, "timer") {
            resp.push_header("Require", "timer");
        }
    }

    fn schedule_session(&self, ctx: &mut Ctx, now: Instant) {
        ctx.timers.cancel(&TimerKey::SessionRefresh(self.id));
        ctx.timers.cancel(&TimerKey::SessionExpiry(self.id));
        let Some(s) = self.session else { return };
        let interval = u64::from(s.interval);
        if s.we_refresh {
            ctx.timers.set(
                TimerKey::SessionRefresh(self.id),
                now + Duration::from_secs(interval / 2),
            );
        } else {
            // RFC 4028 10: BYE at expiry minus min(32 s, a third)
            let before = (interval / 3).min(32);
            ctx.timers.set(
                TimerKey::SessionExpiry(self.id),
                now + Duration::from_secs(interval - before),
            );
        }
    }

    fn send_answer(&mut self, ctx: &mut Ctx, now: Instant, sdp: String) {
        let (Some(invite), Some(key)) = (self.invite.clone(), self.invite_key.clone()) else {
            return;
        };
        if !ctx.txs.server_proceeding(&key) {
            // cancelled meanwhile
            self.end(ctx, EndReason::CallerCancelled, true);
            return;
        }
        self.take_session_request(&invite);
        let mut ok = response_to(&invite, 200, "OK", Some(&self.local_tag));
        self.add_dialog_headers(ctx, &invite, &mut ok);
        ok.push_header("Allow", ALLOW);
        ok.push_header("Supported", SUPPORTED);
        self.add_session_headers(&invite, &mut ok);
        ok.push_header("User-Agent", ctx.local.user_agent.clone());
        ok.set_body("application/sdp", sdp.into_bytes());
        let bytes = ctx.respond(now, &key, &ok);
        self.wait_ack(ctx, now, self.cseq, bytes, None);
        self.phase = Phase::WaitingAck;
        self.schedule_session(ctx, now);
        self.set_active(ctx);
    }

    fn wait_ack(
        &mut self,
        ctx: &mut Ctx,
        now: Instant,
        seq: u32,
        bytes: Vec<u8>,
        offer: Option<String>,
    ) {
        self.ack_wait = Some(AckWait {
            seq,
            bytes,
            every: T1,
            offer,
        });
        ctx.timers.set(TimerKey::Retransmit2xx(self.id), now + T1);
        ctx.timers.set(TimerKey::NoAck(self.id), now + TIMEOUT_64T1);
    }

    pub fn on_retransmit_timer(&mut self, ctx: &mut Ctx, now: Instant) {
        let Some(w) = self.ack_wait.as_mut() else {
            return;
        };
        let bytes = w.bytes.clone();
        w.every = (w.every * 2).min(T2);
        let next = now + w.every;
        ctx.send(bytes);
        ctx.timers.set(TimerKey::Retransmit2xx(self.id), next);
    }

    /// RFC 3261 13.3.1.4: no ACK for our 2xx in 64·T1: end the session.
    pub fn on_no_ack(&mut self, ctx: &mut Ctx, now: Instant) {
        if self.ack_wait.take().is_none() {
            return;
        }
        ctx.timers.cancel(&TimerKey::Retransmit2xx(self.id));
        self.bye_and_end(
            ctx,
            now,
            EndReason::Network("the other party never confirmed the answer (no ACK)".into()),
        );
    }

    /// The caller cancelled our ringing INVITE (we already said 200 to the CANCEL).
    pub fn on_cancelled(&mut self, ctx: &mut Ctx, now: Instant) {
        if !matches!(self.phase, Phase::Ringing | Phase::AwaitingAnswer) {
            return;
        }
        self.reject(ctx, now, 487, "Request Terminated");
        self.end(ctx, EndReason::CallerCancelled, true);
    }

    fn reject(&mut self, ctx: &mut Ctx, now: Instant, code: u16, reason: &str) {
        let (Some(invite), Some(key)) = (self.invite.clone(), self.invite_key.clone()) else {
            return;
        };
        ctx.reply(now, &key, &invite, code, reason, Some(&self.local_tag));
    }

    /// Does this in-dialog request belong to this call?
    pub fn owns_request(&self, req: &Message) -> bool {
        self.dialog.as_ref().is_some_and(|d| d.matches_request(req))
    }

    pub fn on_in_dialog_request(
        &mut self,
        ctx: &mut Ctx,
        now: Instant,
        key: &TxKey,
        req: &Message,
    ) {
        let Some(method) = req.method().cloned() else {
            return;
        };
        if method == Method::Ack {
            self.on_ack(ctx, now, req);
            return;
        }
        let seq_ok = match (self.dialog.as_mut(), req.cseq()) {
            (Some(d), Some(c)) => d.accept_remote_seq(c.seq),
            _ => false,
        };
        // in-dialog requests carry our To tag already
        let tag = Some(self.local_tag.clone());
        if !seq_ok {
            let reason = "Server Internal Error (CSeq out of order)";
            ctx.reply(now, key, req, 500, reason, tag.as_deref());
            return;
        }
        match method {
            Method::Bye => {
                ctx.reply(now, key, req, 200, "OK", tag.as_deref());
                self.end(ctx, EndReason::RemoteHangup, true);
            }
            Method::Invite => self.on_reinvite(ctx, now, key, req),
            Method::Update => self.on_update(ctx, now, key, req),
            Method::Info => self.on_info(ctx, now, key, req),
            Method::Refer => self.on_refer(ctx, now, key, req),
            Method::Notify => self.on_notify(ctx, now, key, req),
            _ => ctx.reply_stateless(now, key, req, tag.as_deref()),
        }
    }

    fn on_ack(&mut self, ctx: &mut Ctx, now: Instant, req: &Message) {
        let seq = req.cseq().map(|c| c.seq);
        if self.ack_wait.as_ref().map(|w| w.seq) != seq {
            return;
        }
        let Some(w) = self.ack_wait.take() else {
            return;
        };
        ctx.timers.cancel(&TimerKey::Retransmit2xx(self.id));
        ctx.timers.cancel(&TimerKey::NoAck(self.id));
        if self.phase == Phase::WaitingAck {
            self.phase = Phase::Confirmed;
        }
        if let Some(offer) = w.offer {
            // our 2xx carried an offer: the ACK has the answer
            match sdp_body(req) {
                Some(answer) => {
                    self.local_sdp = Some(offer);
                    self.remote_sdp = Some(answer.clone());
                    ctx.media(MediaRequest::SetRemoteAnswer {
                        call: self.id,
                        sdp: answer,
                        provisional: false,
                    });
                }
                None => {
                    tracing::warn!("{}: ACK without the answer to our offer", self.id);
                    ctx.media(MediaRequest::Rollback { call: self.id });
                }
            }
        }
        self.run_deferred(ctx, now);
    }

    /// Answer `req` with 500 and a Retry-After (RFC 3261 14.2: an offer
    /// while we are still busy with one).
    fn busy_retry(&mut self, ctx: &mut Ctx, now: Instant, key: &TxKey, req: &Message) {
        let mut r = response_to(
            req,
            500,
            "Server Internal Error (renegotiation in progress)",
            None,
        );
        r.push_header("Retry-After", ctx.rng.below(10).to_string());
        ctx.respond(now, key, &r);
    }

    /// A session change or refresh from the peer (re-INVITE).
    fn on_reinvite(&mut self, ctx: &mut Ctx, now: Instant, key: &TxKey, req: &Message) {
        if self.phase != Phase::Confirmed || self.pending.is_some() || self.ack_wait.is_some() {
            if matches!(self.pending, Some(Pending::Reoffer(_))) {
                ctx.respond(now, key, &response_to(req, 491, "Request Pending", None));
            } else {
                self.busy_retry(ctx, now, key, req);
            }
            return;
        }
        if self.reinvite.is_some() {
            // glare (RFC 3261 14.2): both sent a re-INVITE
            ctx.respond(now, key, &response_to(req, 491, "Request Pending", None));
            return;
        }
        if !self.refresh_target(req) {
            // RFC 3261 12.2.2: the target refresh fails, the session stays
            let r = response_to(req, 400, "Bad Request (unusable Contact)", None);
            ctx.respond(now, key, &r);
            return;
        }
        self.take_session_request(req);
        match sdp_body(req) {
            Some(offer) => {
                let unchanged = self
                    .remote_sdp
                    .as_deref()
                    .is_some_and(|old| sdp::same_version(old, &offer));
                match (unchanged, self.local_sdp.clone()) {
                    (true, Some(local)) => {
                        // a refresh: the session stays as it is
                        self.send_reinvite_ok(ctx, now, key, req, local, false);
                    }
                    _ => {
                        // noted (hold, remote SDP) once our answer is made
                        self.pending = Some(Pending::AnswerInvite {
                            key: key.clone(),
                            req: req.clone(),
                        });
                        ctx.media(MediaRequest::Reanswer {
                            call: self.id,
                            remote_sdp: offer,
                        });
                    }
                }
            }
            None => {
                self.pending = Some(Pending::OfferIn2xx {
                    key: key.clone(),
                    req: req.clone(),
                });
                ctx.media(MediaRequest::Reoffer {
                    call: self.id,
                    ice_restart: false,
                    hold: self.held,
                });
            }
        }
    }

    /// RFC 3311 UPDATE from the peer: a session refresh, or a new offer.
    fn on_update(&mut self, ctx: &mut Ctx, now: Instant, key: &TxKey, req: &Message) {
        let offer = sdp_body(req);
        if offer.is_some() && self.phase != Phase::Confirmed {
            self.busy_retry(ctx, now, key, req);
            return;
        }
        if offer.is_some()
            && (self.reinvite.is_some() || matches!(self.pending, Some(Pending::Reoffer(_))))
        {
            ctx.respond(now, key, &response_to(req, 491, "Request Pending", None));
            return;
        }
        if offer.is_some() && (self.pending.is_some() || self.ack_wait.is_some()) {
            self.busy_retry(ctx, now, key, req);
            return;
        }
        if !self.refresh_target(req) {
            let r = response_to(req, 400, "Bad Request (unusable Contact)", None);
            ctx.respond(now, key, &r);
            return;
        }
        self.take_session_request(req);
        let unchanged_or_none = match (&offer, &self.remote_sdp) {
            (None, _) => true,
            (Some(o), Some(old)) => sdp::same_version(old, o),
            _ => false,
        };
        if unchanged_or_none {
            let mut ok = response_to(req, 200, "OK", None);
            ok.push_header("Contact", ctx.local.dialog_contact());
            self.add_session_headers(req, &mut ok);
            if offer.is_some() {
                if let Some(local) = self.local_sdp.clone() {
                    ok.set_body("application/sdp", local.into_bytes());
                }
            }
            ctx.respond(now, key, &ok);
            self.schedule_session(ctx, now);
            return;
        }
        let Some(offer) = offer else { return };
        self.pending = Some(Pending::AnswerUpdate {
            key: key.clone(),
            req: req.clone(),
        });
        ctx.media(MediaRequest::Reanswer {
            call: self.id,
            remote_sdp: offer,
        });
    }

    /// A new offer from the peer: remember it, and report hold/resume.
    fn note_remote_offer(&mut self, ctx: &mut Ctx, offer: &str) {
        self.remote_sdp = Some(offer.to_string());
        let hold = sdp::is_hold(offer);
        if hold != self.remote_hold {
            self.remote_hold = hold;
            ctx.event(Event::RemoteHold {
                call: self.id,
                on_hold: hold,
            });
        }
    }

    /// A target refresh request or response: the peer's new Contact (as a
    /// Request-URI, its URI headers dropped). `false`, and the target left
    /// as it was, when that Contact cannot be a Request-URI.
    fn refresh_target(&mut self, m: &Message) -> bool {
        let (Some(d), Some(c)) = (self.dialog.as_mut(), m.contacts().first().cloned()) else {
            return true;
        };
        match remote_target_of(&c.uri) {
            Ok(target) => {
                if d.remote_target != target {
                    tracing::debug!("{}: remote target now {target}", self.id);
                    d.remote_target = target;
                }
                true
            }
            Err(e) => {
                tracing::warn!("{}: Contact not taken: {}", self.id, e.0);
                false
            }
        }
    }

    /// Our 200 to the peer's re-INVITE, retransmitted until the ACK.
    fn send_reinvite_ok(
        &mut self,
        ctx: &mut Ctx,
        now: Instant,
        key: &TxKey,
        req: &Message,
        sdp: String,
        offer: bool,
    ) {
        let mut ok = response_to(req, 200, "OK", None);
        ok.push_header("Contact", ctx.local.dialog_contact());
        ok.push_header("Allow", ALLOW);
        ok.push_header("Supported", SUPPORTED);
        self.add_session_headers(req, &mut ok);
        let offered = offer.then(|| sdp.clone());
        ok.set_body("application/sdp", sdp.into_bytes());
        let bytes = ctx.respond(now, key, &ok);
        let seq = req.cseq().map(|c| c.seq).unwrap_or(0);
        self.wait_ack(ctx, now, seq, bytes, offered);
        self.schedule_session(ctx, now);
    }

    // ----- our re-INVITEs -----

    /// Start a re-INVITE for `purpose` now, or as soon as the way is clear.
    fn start_reinvite(&mut self, ctx: &mut Ctx, now: Instant, purpose: Purpose) {
        if self.phase != Phase::Confirmed || self.dialog.is_none() {
            if self.phase == Phase::WaitingAck {
                self.deferred = Some(purpose);
            }
            return;
        }
        if !ctx.connected {
            self.deferred = Some(purpose);
            self.link_lost = true;
            return;
        }
        if self.reinvite.is_some() || self.pending.is_some() || self.ack_wait.is_some() {
            // an ICE restart wins over the rest, hold/resume over a plain
            // refresh (their re-INVITE refreshes too)
            match (self.deferred, purpose) {
                (Some(Purpose::IceRestart), _) => {}
                (
                    Some(Purpose::Hold | Purpose::Resume),
                    Purpose::Refresh | Purpose::SessionRefresh,
                ) => {}
                _ => self.deferred = Some(purpose),
            }
            return;
        }
        match purpose {
            Purpose::IceRestart => {
                self.pending = Some(Pending::Reoffer(purpose));
                ctx.media(MediaRequest::Reoffer {
                    call: self.id,
                    ice_restart: true,
                    hold: self.held,
                });
            }
            Purpose::Hold | Purpose::Resume => {
                if self.held == (purpose == Purpose::Hold) {
                    // already so (the user changed their mind meanwhile)
                    self.hold_wish = None;
                    return;
                }
                self.pending = Some(Pending::Reoffer(purpose));
                ctx.media(MediaRequest::Reoffer {
                    call: self.id,
                    ice_restart: false,
                    hold: purpose == Purpose::Hold,
                });
            }
            Purpose::Refresh | Purpose::SessionRefresh => match self.local_sdp.clone() {
                Some(sdp) => self.send_reinvite(ctx, now, purpose, sdp, false),
                None => tracing::warn!("{}: no SDP to refresh the session with", self.id),
            },
        }
    }

    /// A deferred re-INVITE goes out right after the current exchange.
    fn run_deferred(&mut self, ctx: &mut Ctx, now: Instant) {
        // a hold or resume the user asked for and that is not done yet
        if self.deferred.is_none() {
            match self.hold_wish {
                Some(w) if w != self.held => {
                    self.deferred = Some(if w { Purpose::Hold } else { Purpose::Resume });
                }
                _ => self.hold_wish = None,
            }
        }
        if self.deferred.is_some() && self.phase == Phase::Confirmed && ctx.connected {
            ctx.timers.set(TimerKey::Reinvite(self.id), now);
        }
    }

    fn send_reinvite(
        &mut self,
        ctx: &mut Ctx,
        now: Instant,
        purpose: Purpose,
        sdp: String,
        via_browser: bool,
    ) {
        let Some(d) = self.dialog.as_mut() else {
            return;
        };
        let mut req = d.request(Method::Invite);
        req.push_header("Via", ctx.via());
        req.push_header("Contact", ctx.local.dialog_contact());
        req.push_header("Allow", ALLOW);
        req.push_header("Supported", SUPPORTED);
        if let Some(s) = self.session {
            // in a request, "uac" is us
            let who = if s.we_refresh { "uac" } else { "uas" };
            req.push_header("Session-Expires", format!("{};refresher={who}", s.interval));
        }
        req.push_header("User-Agent", ctx.local.user_agent.clone());
        req.set_body("application/sdp", sdp.clone().into_bytes());
        self.reinvite = Some(Reinvite {
            key: TxKey::of_request(&req),
            purpose,
            via_browser,
            sdp,
            auth_retried: false,
        });
        tracing::info!("{}: re-INVITE ({purpose:?})", self.id);
        let bytes = ctx.txs.start_client(now, req, Owner::Invite(self.id));
        ctx.send(bytes);
    }

    fn on_reinvite_response(
        &mut self,
        ctx: &mut Ctx,
        now: Instant,
        request: &Message,
        resp: &Message,
    ) {
        let Some(code) = resp.code() else { return };
        if code < 200 {
            return;
        }
        let Some(r) = self.reinvite.take() else {
            return;
        };
        let seq = request.cseq().map(|c| c.seq).unwrap_or(0);
        match code {
            200..=299 => {
                self.send_ack(ctx, seq);
                // an unusable new Contact: keep talking to the old target
                let _ = self.refresh_target(resp);
                self.refresh_failures = 0;
                self.link_lost = false;
                // ice_restarts is not reset: a 200 does not mean ICE now
                // connects, and the call gets at most MAX_ICE_RESTARTS
                match (r.via_browser, sdp_body(resp)) {
                    (true, Some(answer)) => {
                        self.local_sdp = Some(r.sdp);
                        self.remote_sdp = Some(answer.clone());
                        ctx.media(MediaRequest::SetRemoteAnswer {
                            call: self.id,
                            sdp: answer,
                            provisional: false,
                        });
                        if matches!(r.purpose, Purpose::Hold | Purpose::Resume) {
                            self.held = r.purpose == Purpose::Hold;
                            ctx.event(Event::LocalHold {
                                call: self.id,
                                on_hold: self.held,
                            });
                        }
                    }
                    (true, None) => {
                        ctx.media(MediaRequest::Rollback { call: self.id });
                        if matches!(r.purpose, Purpose::Hold | Purpose::Resume) {
                            self.hold_wish = None;
                            self.hold_failed(ctx, r.purpose, HoldFailure::NoSdpInAnswer);
                        }
                    }
                    (false, answer) => {
                        let changed = match (&answer, &self.remote_sdp) {
                            (Some(a), Some(old)) => !sdp::same_version(old, a),
                            _ => false,
                        };
                        if changed {
                            tracing::warn!(
                                "{}: the peer changed its answer to an unchanged offer: kept the old one",
                                self.id
                            );
                        }
                    }
                }
                if let Some((secs, refresher)) = session_expires(resp) {
                    self.session = Some(Session {
                        interval: secs.max(MIN_SE),
                        we_refresh: refresher.as_deref() != Some("uas"),
                    });
                }
                self.schedule_session(ctx, now);
                self.run_deferred(ctx, now);
            }
            401 | 407 if !r.auth_retried => {
                // a proxy that challenges in-dialog requests: answer once
                match self.with_credentials(ctx, request, resp) {
                    Ok(again) => {
                        self.reinvite = Some(Reinvite {
                            key: TxKey::of_request(&again),
                            auth_retried: true,
                            ..r
                        });
                        let bytes = ctx.txs.start_client(now, again, Owner::Invite(self.id));
                        ctx.send(bytes);
                    }
                    Err(why) => {
                        tracing::warn!("{}: re-INVITE refused: {why}", self.id);
                        self.reinvite_failed(ctx, now, r, code, None);
                    }
                }
            }
            491 => {
                // glare: try again after a random time (RFC 3261 14.1)
                if r.via_browser {
                    ctx.media(MediaRequest::Rollback { call: self.id });
                }
                let ms = if self.is_caller {
                    2100 + ctx.rng.below(190) * 10
                } else {
                    ctx.rng.below(201) * 10
                };
                self.deferred = Some(r.purpose);
                ctx.timers
                    .set(TimerKey::Reinvite(self.id), now + Duration::from_millis(ms));
            }
            _ => {
                let retry_after = resp
                    .header("Retry-After")
                    .and_then(|v| v.split([';', '(']).next())
                    .and_then(|v| v.trim().parse::<u64>().ok());
                self.reinvite_failed(ctx, now, r, code, retry_after)
            }
        }
    }

    fn reinvite_failed(
        &mut self,
        ctx: &mut Ctx,
        now: Instant,
        r: Reinvite,
        code: u16,
        retry_after: Option<u64>,
    ) {
        if r.via_browser {
            ctx.media(MediaRequest::Rollback { call: self.id });
        }
        // RFC 5057: these mean the dialog (or the peer) is gone
        let gone = matches!(code, 404 | 408 | 410 | 480 | 481);
        match r.purpose {
            Purpose::Refresh if gone || code >= 500 => {
                self.refresh_failures += 1;
                if self.refresh_failures < MAX_TARGET_REFRESH_TRIES && code != 481 {
                    // the peer may still be reconnecting itself
                    self.deferred = Some(Purpose::Refresh);
                    let wait = Duration::from_secs(1u64 << self.refresh_failures.min(4));
                    ctx.timers.set(TimerKey::Reinvite(self.id), now + wait);
                } else {
                    self.bye_and_end(
                        ctx,
                        now,
                        EndReason::Network(
                            "the other party could not be reached after the connection came back"
                                .into(),
                        ),
                    );
                }
            }
            Purpose::IceRestart if gone || code >= 400 => {
                self.bye_and_end(ctx, now, EndReason::Media(ICE_FAILED.into()))
            }
            // RFC 4028 10: a refresh answered 408 (or 481) ends the session,
            // with a BYE for 408
            Purpose::SessionRefresh if code == 408 => {
                self.bye_and_end(ctx, now, EndReason::SessionExpired)
            }
            Purpose::SessionRefresh if code != 481 => {
                // the peer could not take it now (500 + Retry-After, …): try
                // again soon, or the peer's session timer ends the call
                self.refresh_failures += 1;
                if self.refresh_failures < MAX_REFRESH_TRIES {
                    let interval = self.session.map_or(MIN_SE, |s| s.interval);
                    let secs = retry_after
                        .unwrap_or(2 * u64::from(self.refresh_failures))
                        .clamp(1, u64::from(interval / 4));
                    self.deferred = Some(Purpose::SessionRefresh);
                    ctx.timers
                        .set(TimerKey::Reinvite(self.id), now + Duration::from_secs(secs));
                } else {
                    tracing::warn!(
                        "{}: session refresh refused with {code} {} times: giving up",
                        self.id,
                        self.refresh_failures
                    );
                }
            }
            Purpose::Hold | Purpose::Resume if code != 481 && code != 408 => {
                self.hold_wish = None;
                self.hold_failed(ctx, r.purpose, HoldFailure::Refused(code));
            }
            _ if code == 481 || code == 408 => self.end(
                ctx,
                EndReason::Network("the other party no longer knows this call".into()),
                true,
            ),
            _ => tracing::info!(
                "{}: re-INVITE ({:?}) refused with {code}: the call goes on unchanged",
                self.id,
                r.purpose
            ),
        }
    }

    /// The re-INVITE timer: a deferred re-INVITE (glare, retry) is due.
    pub fn on_reinvite_timer(&mut self, ctx: &mut Ctx, now: Instant) {
        if let Some(p) = self.deferred.take() {
            self.start_reinvite(ctx, now, p);
        }
    }

    pub fn on_session_refresh_timer(&mut self, ctx: &mut Ctx, now: Instant) {
        self.start_reinvite(ctx, now, Purpose::SessionRefresh);
    }

    pub fn on_session_expiry_timer(&mut self, ctx: &mut Ctx, now: Instant) {
        if self.is_established() {
            self.bye_and_end(ctx, now, EndReason::SessionExpired);
        }
    }

    // ----- connection and media faults -----

    /// The connection to the server is gone. An established call waits for
    /// it (the media do not depend on it); a call still being set up ends.
    pub fn on_disconnected(&mut self, ctx: &mut Ctx, _now: Instant) {
        match self.phase {
            Phase::Confirmed | Phase::WaitingAck => self.link_lost = true,
            Phase::Ringing | Phase::AwaitingAnswer => self.end(
                ctx,
                EndReason::Network("the connection to the server was lost".into()),
                true,
            ),
            _ => {}
        }
    }

    /// Registered again after a lost connection: tell the peer where we are
    /// (and check it is still there), restarting ICE if the media failed.
    pub fn on_reregistered(&mut self, ctx: &mut Ctx, now: Instant) {
        if !self.link_lost && self.deferred.is_none() {
            return;
        }
        self.link_lost = false;
        let purpose = match self.deferred.take() {
            Some(p @ (Purpose::IceRestart | Purpose::Hold | Purpose::Resume)) => p,
            _ => Purpose::Refresh,
        };
        self.start_reinvite(ctx, now, purpose);
    }

    /// The browser says the call's ICE connection failed.
    pub fn on_ice_failed(&mut self, ctx: &mut Ctx, now: Instant) {
        match self.phase {
            Phase::Confirmed | Phase::WaitingAck => {
                if self.ice_restarts >= MAX_ICE_RESTARTS {
                    self.bye_and_end(ctx, now, EndReason::Media(ICE_FAILED.into()));
                    return;
                }
                self.ice_restarts += 1;
                tracing::info!("{}: ICE failed: restarting it", self.id);
                self.start_reinvite(ctx, now, Purpose::IceRestart);
            }
            Phase::Ended | Phase::Cancelling => {}
            _ => self.on_media_failed(ctx, now, ICE_FAILED),
        }
    }

    // ----- either side -----

    fn send_bye(&mut self, ctx: &mut Ctx, now: Instant) {
        let Some(d) = self.dialog.as_mut() else {
            return;
        };
        let mut bye = d.request(Method::Bye);
        bye.push_header("Via", ctx.via());
        bye.push_header("User-Agent", ctx.local.user_agent.clone());
        let bytes = ctx.txs.start_client(now, bye, Owner::Fire);
        ctx.send(bytes);
    }

    pub fn hangup(&mut self, ctx: &mut Ctx, now: Instant) {
        match self.phase {
            Phase::AwaitingOffer => self.end(ctx, EndReason::LocalHangup, true),
            Phase::Inviting => {
                let proceeding = self
                    .invite_key
                    .as_ref()
                    .is_some_and(|k| ctx.txs.client_proceeding(k));
                // report the end now; the CANCEL finishes in the background
                self.end(ctx, EndReason::LocalHangup, true);
                self.phase = Phase::Cancelling;
                if proceeding {
                    self.send_cancel(ctx, now);
                } else {
                    self.cancel_when_provisional = true;
                }
            }
            Phase::Ringing | Phase::AwaitingAnswer => {
                self.reject(ctx, now, 603, "Decline");
                self.end(ctx, EndReason::LocalHangup, true);
            }
            Phase::WaitingAck | Phase::Confirmed => {
                self.bye_and_end(ctx, now, EndReason::LocalHangup);
            }
            Phase::Cancelling | Phase::Ended => {}
        }
    }

    pub fn on_media_failed(&mut self, ctx: &mut Ctx, now: Instant, reason: &str) {
        // a renegotiation that failed leaves the call as it was
        if let Some(p) = self.pending.take() {
            ctx.media(MediaRequest::Rollback { call: self.id });
            match p {
                Pending::Reoffer(Purpose::IceRestart) => {
                    self.bye_and_end(ctx, now, EndReason::Media(reason.to_string()));
                }
                Pending::Reoffer(p @ (Purpose::Hold | Purpose::Resume)) => {
                    self.hold_wish = None;
                    self.hold_failed(ctx, p, HoldFailure::Media(reason.to_string()));
                }
                Pending::Reoffer(p) => {
                    tracing::warn!("{}: no new offer for {p:?}: {reason}", self.id);
                }
                Pending::AnswerInvite { key, req }
                | Pending::AnswerUpdate { key, req }
                | Pending::OfferIn2xx { key, req } => {
                    tracing::warn!("{}: the peer's session change failed: {reason}", self.id);
                    let mut r = response_to(&req, 488, "Not Acceptable Here", None);
                    r.push_header(
                        "Warning",
                        format!("399 softphone \"{}\"", reason.replace('"', "'")),
                    );
                    ctx.respond(now, &key, &r);
                }
            }
            return;
        }
        let r = EndReason::Media(reason.to_string());
        match self.phase {
            Phase::AwaitingOffer => self.end(ctx, r, true),
            Phase::AwaitingAnswer | Phase::Ringing => {
                self.reject(ctx, now, 488, "Not Acceptable Here");
                self.end(ctx, r, true);
            }
            Phase::WaitingAck | Phase::Confirmed => self.bye_and_end(ctx, now, r),
            Phase::Inviting => {
                let proceeding = self
                    .invite_key
                    .as_ref()
                    .is_some_and(|k| ctx.txs.client_proceeding(k));
                self.end(ctx, r, true);
                self.phase = Phase::Cancelling;
                if proceeding {
                    self.send_cancel(ctx, now);
                } else {
                    self.cancel_when_provisional = true;
                }
            }
            Phase::Cancelling | Phase::Ended => {}
        }
    }
}

/// How many 3xx redirections an outgoing call follows.
pub const MAX_REDIRECTS: usize = 3;
/// ICE restarts per call before giving up.
pub const MAX_ICE_RESTARTS: u32 = 2;
/// Session-timer refreshes tried when the peer refuses them for now.
pub const MAX_REFRESH_TRIES: u32 = 3;
/// Target-refresh re-INVITEs tried after a reconnection before giving up:
/// at 0, 2, 6, 14 and 30 s (2, 4, 8, 16 s apart). The peer may be
/// reconnecting itself, and phones that lost the same server come back at
/// different times (jittered back-off, capped at 30 s): three tries over
/// 6 s ended calls whose peer came back 8 s later (seen in Firefox).
pub const MAX_TARGET_REFRESH_TRIES: u32 = 5;

/// Calls not ended at once (ringing, held, active): one more gets 486.
pub const MAX_CALLS: usize = 4;

/// The call whose dialog a `Replaces` header value names (RFC 3891 3), or
/// the answer to give the INVITE instead.
pub fn find_replaced(
    calls: &LiteMap<CallId, Call>,
    value: &str,
) -> Result<CallId, (u16, &'static str)> {
    let Some(r) = refer::parse_replaces(value) else {
        return Err((400, "Bad Request (malformed Replaces)"));
    };
    let found = calls.iter().find(|(_, c)| {
        c.dialog.as_ref().is_some_and(|d| {
            d.call_id == r.call_id && d.local_tag == r.to_tag && d.remote_tag == r.from_tag
        })
    });
    match found {
        None => Err((481, "Call/Transaction Does Not Exist")),
        Some((_, c)) if c.is_ended() => Err((603, "Declined")),
        Some((_, c)) if r.early_only => {
            let _ = c;
            Err((486, "Busy Here"))
        }
        Some((id, c)) if c.is_established() => Ok(*id),
        Some(_) => Err((481, "Call/Transaction Does Not Exist")),
    }
}

/// After every input: start the calls REFERs asked for, report their
/// progress to the transferring peer, and end the calls that a new one
/// replaced (once it is answered).
pub fn link_calls(
    ctx: &mut Ctx,
    now: Instant,
    calls: &mut LiteMap<CallId, Call>,
    next_call: &mut u32,
) {
    let requests: Vec<(CallId, ReferRequest)> = calls
        .iter_mut()
        .filter_map(|(id, c)| c.refer_request.take().map(|r| (*id, r)))
        .collect();
    for (old, r) in requests {
        let id = CallId(*next_call);
        *next_call += 1;
        let mut c = Call::outgoing(ctx, id, r.target.uri.clone());
        c.invite_extra.push(("Referred-By", r.referred_by));
        if let Some(rep) = r.target.replaces {
            c.invite_extra.push(("Replaces", rep));
        }
        c.refer_source = Some(old);
        calls.insert(id, c);
        ctx.event(Event::Transferred {
            call: old,
            target: r.target.uri,
            new_call: id,
        });
        if let Some(o) = calls.get_mut(&old) {
            o.notify_refer(ctx, now, 100, "Trying", false);
        }
    }
    let mut outcomes: Vec<(CallId, CallId, (u16, String))> = Vec::new();
    let mut replaced: Vec<CallId> = Vec::new();
    for (id, c) in calls.iter_mut() {
        if let Some(old) = c.refer_source {
            let outcome = if c.is_established() {
                Some((200, "OK".to_string()))
            } else if c.is_ended() {
                Some(match c.status.clone() {
                    Some(s) if s.0 >= 300 => s,
                    _ => (487, "Request Terminated".to_string()),
                })
            } else {
                None
            };
            if let Some(o) = outcome {
                c.refer_source = None;
                outcomes.push((*id, old, o));
            }
        }
        if let Some(old) = c.replaces {
            if c.is_established() {
                replaced.push(old);
                c.replaces = None;
            } else if c.is_ended() {
                c.replaces = None;
            }
        }
    }
    for (_new, old, (code, reason)) in outcomes {
        if let Some(o) = calls.get_mut(&old) {
            o.notify_refer(ctx, now, code, &reason, true);
            if (200..300).contains(&code) && !o.is_ended() {
                o.bye_and_end(ctx, now, EndReason::Transferred);
            }
        }
    }
    for old in replaced {
        if let Some(o) = calls.get_mut(&old) {
            if o.is_established() {
                o.bye_and_end(ctx, now, EndReason::Transferred);
            }
        }
    }
}

impl Call {
    /// Put the call on hold or take it off (a re-INVITE, now or as soon as
    /// the one in progress is done).
    pub fn set_hold(&mut self, ctx: &mut Ctx, now: Instant, hold: bool) {
        if !self.is_established() {
            self.not_established(ctx, CallAction::Hold);
            return;
        }
        if self.hold_wish.unwrap_or(self.held) == hold {
            return; // already so, or on its way
        }
        self.hold_wish = Some(hold);
        let purpose = if hold { Purpose::Hold } else { Purpose::Resume };
        self.start_reinvite(ctx, now, purpose);
    }

    fn not_established(&self, ctx: &mut Ctx, action: CallAction) {
        ctx.event(Event::Warning(Warning::NotEstablished {
            call: self.id,
            action,
        }));
    }

    /// Hold or resume (`purpose`) did not happen.
    fn hold_failed(&self, ctx: &mut Ctx, purpose: Purpose, cause: HoldFailure) {
        ctx.event(Event::Warning(Warning::HoldFailed {
            call: self.id,
            hold: purpose == Purpose::Hold,
            cause,
        }));
    }

    /// Whether we hold the call.
    pub fn is_held(&self) -> bool {
        self.held
    }

    /// Send DTMF: RFC 4733 through the browser, or one INFO per digit in
    /// order. Nothing is sent if a key is not a DTMF key.
    pub fn send_dtmf(&mut self, ctx: &mut Ctx, now: Instant, digits: &str, method: DtmfMethod) {
        if !self.is_established() {
            self.not_established(ctx, CallAction::Dtmf);
            return;
        }
        let mut keys = Vec::new();
        for c in digits.chars() {
            match refer::dtmf_digit(c) {
                Some(d) => keys.push(d),
                None => {
                    ctx.event(Event::Warning(Warning::NotADtmfKey {
                        call: self.id,
                        key: c,
                    }));
                    return;
                }
            }
        }
        if keys.is_empty() {
            return;
        }
        match method {
            DtmfMethod::Rfc4733 => ctx.media(MediaRequest::SendDtmf {
                call: self.id,
                digits: keys.into_iter().collect(),
            }),
            DtmfMethod::Info => {
                self.dtmf_queue.extend(keys);
                self.next_info(ctx, now);
            }
        }
    }

    /// The next queued digit, once the previous INFO has its final answer.
    fn next_info(&mut self, ctx: &mut Ctx, now: Instant) {
        if self.dtmf_key.is_some() || !self.is_established() {
            return;
        }
        let Some(d) = self.dtmf_queue.pop_front() else {
            return;
        };
        let Some(dialog) = self.dialog.as_mut() else {
            return;
        };
        let mut req = dialog.request(Method::Info);
        req.push_header("Via", ctx.via());
        req.push_header("Contact", ctx.local.dialog_contact());
        req.push_header("User-Agent", ctx.local.user_agent.clone());
        req.set_body(
            "application/dtmf-relay",
            format!("Signal={d}\r\nDuration=160\r\n").into_bytes(),
        );
        self.dtmf_key = TxKey::of_request(&req);
        let bytes = ctx.txs.start_client(now, req, Owner::InDialog(self.id));
        ctx.send(bytes);
    }

    /// The final answer to one of our INFOs or REFERs.
    pub fn on_request_response(
        &mut self,
        ctx: &mut Ctx,
        now: Instant,
        request: &Message,
        resp: &Message,
    ) {
        let Some(code) = resp.code() else { return };
        if code < 200 {
            return;
        }
        let answered_once = request.header("Authorization").is_some()
            || request.header("Proxy-Authorization").is_some();
        if matches!(code, 401 | 407)
            && !answered_once
            && self.retry_with_credentials(ctx, now, request, resp)
        {
            return;
        }
        let reason = refer::clean_text(resp.reason().unwrap_or_default(), 80);
        self.request_done(ctx, now, request, code, &reason);
    }

    /// Our in-dialog `request` again, answering the challenge in `resp`: the
    /// dialog's next CSeq, a fresh Via, the credentials. `Err`: why not.
    fn with_credentials(
        &mut self,
        ctx: &mut Ctx,
        request: &Message,
        resp: &Message,
    ) -> Result<Message, String> {
        let mut cache = match on_challenge(resp, None, 0) {
            ChallengeOutcome::Retry(cache) => cache,
            ChallengeOutcome::Refused(why) => return Err(why),
        };
        let d = self.dialog.as_mut().ok_or("no dialog")?;
        let mut again = request.clone();
        let method = request.method().cloned().unwrap_or(Method::Info);
        let next = d.request(method);
        if let Some(cseq) = next.header("CSeq") {
            again.set_header("CSeq", cseq.to_string());
        }
        again.set_header("Via", ctx.via());
        cache.apply(ctx, &mut again);
        Ok(again)
    }

    /// A proxy that challenges in-dialog requests: send the INFO or REFER
    /// again, once, with credentials. `false`: nothing was sent.
    fn retry_with_credentials(
        &mut self,
        ctx: &mut Ctx,
        now: Instant,
        request: &Message,
        resp: &Message,
    ) -> bool {
        let Ok(again) = self.with_credentials(ctx, request, resp) else {
            return false;
        };
        let old_key = TxKey::of_request(request);
        let key = TxKey::of_request(&again);
        if old_key.is_some() && old_key == self.dtmf_key {
            self.dtmf_key = key;
        } else if let Some(r) = self
            .refer_out
            .as_mut()
            .filter(|r| r.key.is_some() && r.key == old_key)
        {
            r.key = key;
        } else {
            return false;
        }
        let bytes = ctx.txs.start_client(now, again, Owner::InDialog(self.id));
        ctx.send(bytes);
        true
    }

    /// One of our INFOs or REFERs got no answer.
    pub fn on_request_timeout(&mut self, ctx: &mut Ctx, now: Instant, request: &Message) {
        self.request_done(ctx, now, request, 408, "Request Timeout");
    }

    fn request_done(
        &mut self,
        ctx: &mut Ctx,
        now: Instant,
        request: &Message,
        code: u16,
        reason: &str,
    ) {
        let key = TxKey::of_request(request);
        if key.is_some() && key == self.dtmf_key {
            self.dtmf_key = None;
            if (200..300).contains(&code) {
                self.next_info(ctx, now);
            } else {
                let dropped = self.dtmf_queue.len();
                self.dtmf_queue.clear();
                ctx.event(Event::Warning(Warning::DtmfRefused {
                    call: self.id,
                    code,
                    reason: reason.to_string(),
                    dropped,
                }));
            }
            return;
        }
        let ours = self
            .refer_out
            .as_ref()
            .is_some_and(|r| r.key.is_some() && r.key == key);
        if ours {
            if (200..300).contains(&code) {
                // accepted: the NOTIFYs tell the rest
                if let Some(r) = self.refer_out.as_mut() {
                    r.key = None;
                }
            } else {
                self.refer_out = None;
                ctx.event(Event::TransferProgress {
                    call: self.id,
                    code,
                    reason: reason.to_string(),
                    done: true,
                });
            }
        }
    }

    /// REFER the peer to `refer_to` (a `Refer-To` value, `<…>` included).
    pub fn transfer(&mut self, ctx: &mut Ctx, now: Instant, refer_to: String) {
        if !self.is_established() {
            self.not_established(ctx, CallAction::Transfer);
            return;
        }
        if self.refer_out.is_some() {
            ctx.event(Event::Warning(Warning::TransferInProgress {
                call: self.id,
            }));
            return;
        }
        let Some(dialog) = self.dialog.as_mut() else {
            return;
        };
        let mut req = dialog.request(Method::Refer);
        req.push_header("Via", ctx.via());
        req.push_header("Contact", ctx.local.dialog_contact());
        req.push_header("Refer-To", refer_to);
        req.push_header("Referred-By", format!("<{}>", ctx.local.aor));
        req.push_header("Allow", ALLOW);
        req.push_header("Supported", SUPPORTED);
        req.push_header("User-Agent", ctx.local.user_agent.clone());
        self.refer_out = Some(ReferOut {
            key: TxKey::of_request(&req),
        });
        tracing::info!("{}: REFER", self.id);
        let bytes = ctx.txs.start_client(now, req, Owner::InDialog(self.id));
        ctx.send(bytes);
    }

    /// The `Refer-To` that makes someone replace this call (attended
    /// transfer): the peer's GRUU if it has one, else its address of
    /// record, with this dialog as `Replaces`. `None` unless established.
    pub fn replaces_uri(&self) -> Option<String> {
        if !self.is_established() {
            return None;
        }
        let d = self.dialog.as_ref()?;
        let uri = if d.remote_target.contains(";gr") {
            d.remote_target.clone()
        } else {
            NameAddr::parse(&d.remote_uri).ok()?.uri
        };
        let uri = split_uri_headers(&uri).0.to_string();
        // as the peer of the new INVITE sees it: its tag is our remote one
        Some(refer::refer_to_with_replaces(
            &uri,
            &d.call_id,
            &d.remote_tag,
            &d.local_tag,
        ))
    }

    fn respond_plain(
        &self,
        ctx: &mut Ctx,
        now: Instant,
        key: &TxKey,
        req: &Message,
        code: u16,
        reason: &str,
    ) {
        let mut r = response_to(req, code, reason, Some(&self.local_tag));
        if code == 415 {
            r.push_header("Accept", refer::INFO_ACCEPT);
        }
        if (200..300).contains(&code) {
            r.push_header("Contact", ctx.local.dialog_contact());
        }
        ctx.respond(now, key, &r);
    }

    /// INFO from the peer: DTMF (`application/dtmf-relay`, `application/dtmf`).
    fn on_info(&mut self, ctx: &mut Ctx, now: Instant, key: &TxKey, req: &Message) {
        if self.phase == Phase::Ended {
            self.respond_plain(ctx, now, key, req, 481, "Call/Transaction Does Not Exist");
            return;
        }
        match refer::info_body(req) {
            InfoBody::Empty => self.respond_plain(ctx, now, key, req, 200, "OK"),
            InfoBody::Digit(digit) => {
                self.respond_plain(ctx, now, key, req, 200, "OK");
                ctx.event(Event::DtmfReceived {
                    call: self.id,
                    digit,
                });
            }
            InfoBody::BadDtmf => {
                self.respond_plain(ctx, now, key, req, 400, "Bad Request (no DTMF signal)")
            }
            InfoBody::Unsupported => {
                self.respond_plain(ctx, now, key, req, 415, "Unsupported Media Type")
            }
        }
    }

    /// REFER from the peer: we are transferred (RFC 3515).
    fn on_refer(&mut self, ctx: &mut Ctx, now: Instant, key: &TxKey, req: &Message) {
        if self.phase == Phase::Ended {
            self.respond_plain(ctx, now, key, req, 481, "Call/Transaction Does Not Exist");
            return;
        }
        if !self.is_established() {
            self.respond_plain(ctx, now, key, req, 403, "Forbidden (call not established)");
            return;
        }
        if self.refer_in.as_ref().is_some_and(|r| !r.done) {
            self.respond_plain(ctx, now, key, req, 491, "Request Pending");
            return;
        }
        let refer_to = req.header_values("Refer-To");
        let target = match refer_to.as_slice() {
            [one] => refer::parse_refer_to(one),
            _ => Err("one Refer-To is needed".into()),
        };
        let target = match target {
            Ok(t) => t,
            Err(why) => {
                tracing::warn!("{}: REFER refused: {why}", self.id);
                self.respond_plain(ctx, now, key, req, 400, "Bad Request (Refer-To)");
                return;
            }
        };
        let referred_by = req
            .header("Referred-By")
            .filter(|v| NameAddr::parse(v).is_ok())
            .map(str::to_string)
            .or_else(|| self.dialog.as_ref().map(|d| d.remote_uri.clone()))
            .unwrap_or_default();
        self.respond_plain(ctx, now, key, req, 202, "Accepted");
        self.refer_in = Some(ReferIn {
            event_id: req.cseq().map(|c| c.seq).unwrap_or(0),
            done: false,
        });
        tracing::info!("{}: transferred to {}", self.id, target.uri);
        self.refer_request = Some(ReferRequest {
            target,
            referred_by,
        });
    }

    /// Tell the peer that transferred us how the new call goes (NOTIFY
    /// with a sipfrag); `last` ends the implicit subscription.
    fn notify_refer(&mut self, ctx: &mut Ctx, now: Instant, code: u16, reason: &str, last: bool) {
        let Some(r) = self.refer_in.as_mut() else {
            return;
        };
        if r.done {
            return;
        }
        r.done = last;
        let event_id = r.event_id;
        if self.phase == Phase::Ended {
            return;
        }
        let Some(dialog) = self.dialog.as_mut() else {
            return;
        };
        let mut req = dialog.request(Method::Notify);
        req.push_header("Via", ctx.via());
        req.push_header("Contact", ctx.local.dialog_contact());
        req.push_header("Event", format!("refer;id={event_id}"));
        req.push_header(
            "Subscription-State",
            if last {
                "terminated;reason=noresource"
            } else {
                "active;expires=60"
            },
        );
        req.push_header("User-Agent", ctx.local.user_agent.clone());
        req.set_body(
            "message/sipfrag;version=2.0",
            format!("SIP/2.0 {code} {reason}\r\n").into_bytes(),
        );
        let bytes = ctx.txs.start_client(now, req, Owner::Fire);
        ctx.send(bytes);
    }

    /// NOTIFY from the peer about our REFER (`Event: refer`, sipfrag body).
    fn on_notify(&mut self, ctx: &mut Ctx, now: Instant, key: &TxKey, req: &Message) {
        let event = req
            .header("Event")
            .and_then(|e| e.split(';').next())
            .map(|e| e.trim().to_ascii_lowercase());
        if event.as_deref() != Some("refer") {
            self.respond_plain(ctx, now, key, req, 489, "Bad Event");
            return;
        }
        if self.refer_out.is_none() {
            self.respond_plain(ctx, now, key, req, 481, "Subscription Does Not Exist");
            return;
        }
        let is_sipfrag = req
            .content_type()
            .is_some_and(|t| t.eq_ignore_ascii_case("message/sipfrag"));
        let status = req.body_str().and_then(refer::parse_sipfrag);
        let (code, reason) = match (is_sipfrag, status) {
            (true, Some(s)) => s,
            _ => {
                self.respond_plain(ctx, now, key, req, 400, "Bad Request (sipfrag expected)");
                return;
            }
        };
        self.respond_plain(ctx, now, key, req, 200, "OK");
        let terminated = req
            .header("Subscription-State")
            .is_some_and(|s| s.trim().to_ascii_lowercase().starts_with("terminated"));
        let done = code >= 200 || terminated;
        ctx.event(Event::TransferProgress {
            call: self.id,
            code,
            reason,
            done,
        });
        if done {
            self.refer_out = None;
            if (200..300).contains(&code) && self.is_established() {
                self.bye_and_end(ctx, now, EndReason::Transferred);
            }
        }
    }
}
