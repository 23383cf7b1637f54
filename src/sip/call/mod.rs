//! One INVITE session, caller or callee side: its phases, hang-up, BYE,
//! connection and media faults, and the in-dialog requests routed to the
//! sub-machines: `invite` (the initial INVITE, its answer, ACK and CANCEL),
//! `reinvite` (re-INVITE/UPDATE both ways, hold), `timer` (RFC 4028
//! session timers), `transfer` (REFER, Replaces) and `dtmf`.

mod dtmf;
mod invite;
mod reinvite;
mod timer;
mod transfer;

use super::agent::{response_to, Ctx, Owner, TimerKey};
use super::dialog::Dialog;
use super::message::{request_uri_of, Message, Method, NameAddr, SipUri};
use super::refer;
use super::registration::{on_challenge, AuthCache, ChallengeOutcome};
use super::transaction::TxKey;
use super::{
    BadTarget, CallAction, CallId, CallState, EndReason, Event, HoldFailure, Instant, MediaRequest,
    Party, Warning,
};
use invite::AckWait;
use reinvite::{Pending, Purpose, Reinvite, MAX_ICE_RESTARTS};
use std::collections::VecDeque;
use timer::Session;
pub use transfer::{find_replaced, link_calls};
use transfer::{ReferIn, ReferOut, ReferRequest};

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
    fn call_targets_are_normalised() {
        assert_eq!(
            target_uri("1001", "example.test").as_deref(),
            Ok("sip:1001@example.test")
        );
        assert_eq!(
            target_uri(" +1 (555) 010-9999 ", "d").as_deref(),
            Ok("sip:+15550109999@d")
        );
        assert_eq!(target_uri("bob@x.org", "d").as_deref(), Ok("sip:bob@x.org"));
        assert_eq!(
            target_uri("sips:bob@x.org", "d").as_deref(),
            Ok("sips:bob@x.org")
        );
        assert!(target_uri("", "d").is_err());
        assert!(target_uri("two words", "d").is_err());
    }

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
        488 | 606 => EndReason::NotAcceptable,
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
    /// Outgoing: INVITE sent, no final response yet; `rung`: the callee's
    /// ringing was reported.
    Inviting {
        rung: bool,
    },
    /// Outgoing: the user hung up before the answer (already reported as
    /// ended). `cancel_due`: no provisional response yet, so the CANCEL
    /// waits for one (RFC 3261 9.1); otherwise it was sent.
    Cancelling {
        cancel_due: bool,
    },
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

/// The SDP body of a message, if it has one.
pub(crate) fn sdp_body(m: &Message) -> Option<String> {
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
    /// Our 2xx to an INVITE of the peer, until its ACK.
    ack_wait: Option<AckWait>,
    /// ACKs we sent, by CSeq, re-sent for retransmitted 2xx.
    acks: Vec<(u32, Vec<u8>)>,
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

/// Calls not ended at once (ringing, held, active): one more gets 486.
pub const MAX_CALLS: usize = 4;

impl Call {
    pub fn is_ended(&self) -> bool {
        matches!(self.phase, Phase::Ended | Phase::Cancelling { .. })
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
            ack_wait: None,
            acks: Vec::new(),
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

    fn end(&mut self, ctx: &mut Ctx, reason: EndReason, close_media: bool) {
        if self.phase == Phase::Ended {
            return;
        }
        let already_reported = matches!(self.phase, Phase::Cancelling { .. });
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
                self.phase = Phase::Inviting { rung: false };
                self.borrow_invite_auth(ctx);
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
                None => crate::log::debug!("{}: local SDP with nothing pending", self.id),
            },
            _ => crate::log::debug!("{}: local SDP ignored in {:?}", self.id, self.phase),
        }
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
            Some(
                p @ (Purpose::IceRestart | Purpose::Hold | Purpose::Resume | Purpose::MediaChange),
            ) => p,
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
                crate::log::info!("{}: ICE failed: restarting it", self.id);
                self.start_reinvite(ctx, now, Purpose::IceRestart);
            }
            Phase::Ended | Phase::Cancelling { .. } => {}
            _ => self.on_media_failed(ctx, now, ICE_FAILED),
        }
    }

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
            Phase::Inviting { .. } => self.end_and_cancel(ctx, now, EndReason::LocalHangup),
            Phase::Ringing | Phase::AwaitingAnswer => {
                self.reject(ctx, now, 603, "Decline");
                self.end(ctx, EndReason::LocalHangup, true);
            }
            Phase::WaitingAck | Phase::Confirmed => {
                self.bye_and_end(ctx, now, EndReason::LocalHangup);
            }
            Phase::Cancelling { .. } | Phase::Ended => {}
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
                    crate::log::warn!("{}: no new offer for {p:?}: {reason}", self.id);
                }
                Pending::AnswerInvite { key, req }
                | Pending::AnswerUpdate { key, req }
                | Pending::OfferIn2xx { key, req } => {
                    crate::log::warn!("{}: the peer's session change failed: {reason}", self.id);
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
            Phase::Inviting { .. } => self.end_and_cancel(ctx, now, r),
            Phase::Cancelling { .. } | Phase::Ended => {}
        }
    }

    fn not_established(&self, ctx: &mut Ctx, action: CallAction) {
        ctx.event(Event::Warning(Warning::NotEstablished {
            call: self.id,
            action,
        }));
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
}
