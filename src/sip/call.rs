//! One INVITE session, caller or callee side: offer/answer through the
//! browser, ringing, answer, ACK, CANCEL, BYE and the 2xx retransmissions.

use super::agent::{response_to, Ctx, Owner, TimerKey, ALLOW};
use super::dialog::Dialog;
use super::message::{Message, Method, NameAddr, SipUri};
use super::registration::{on_challenge, AuthCache, ChallengeOutcome};
use super::timers::{T1, T2, TIMEOUT_64T1};
use super::transaction::TxKey;
use super::{CallId, CallState, Duration, EndReason, Event, Instant, MediaRequest, Party};

/// Turn what the user typed into a Request-URI: a full `sip:`/`sips:` URI, a
/// `user@host`, or a number/user name at our own domain.
pub fn target_uri(input: &str, domain: &str) -> Result<String, String> {
    let t = input.trim();
    if t.is_empty() {
        return Err("Enter a number or a SIP address to call.".into());
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
    match SipUri::parse(&candidate) {
        Ok(u) if !u.host.is_empty() && !candidate.contains(char::is_whitespace) => Ok(candidate),
        _ => Err(format!(
            "\"{t}\" is not a number or SIP address that can be called."
        )),
    }
}

fn tel_digits(s: &str) -> String {
    s.chars().filter(|c| !"-(). ".contains(*c)).collect()
}

fn party_of(na: &NameAddr) -> Party {
    Party {
        display_name: na.display_name.clone().filter(|d| !d.trim().is_empty()),
        uri: na.uri.clone(),
    }
}

fn reason_phrase(resp: &Message) -> String {
    match &resp.start {
        super::message::StartLine::Response { reason, .. } => reason.clone(),
        _ => String::new(),
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

pub struct Call {
    id: CallId,
    phase: Phase,
    peer: Party,
    target: String,
    call_id: String,
    local_tag: String,
    cseq: u32,
    /// Outgoing: the INVITE in flight (or last sent). Incoming: the INVITE received.
    invite: Option<Message>,
    invite_key: Option<TxKey>,
    dialog: Option<Dialog>,
    auth: Option<AuthCache>,
    /// Challenges answered in a row for this call.
    auth_attempts: u32,
    /// Outgoing: hang-up asked before any provisional response; CANCEL when one comes.
    cancel_when_provisional: bool,
    /// Incoming: our 2xx, retransmitted until the ACK.
    ok_bytes: Option<Vec<u8>>,
    retransmit_every: Duration,
    /// Outgoing: the ACK we sent for the 2xx, re-sent for retransmitted 2xx.
    ack_bytes: Option<Vec<u8>>,
    ringing_reported: bool,
}

impl Call {
    pub fn is_ended(&self) -> bool {
        matches!(self.phase, Phase::Ended | Phase::Cancelling)
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
            call_id,
            local_tag,
            cseq: 0,
            invite: None,
            invite_key: None,
            dialog: None,
            auth: None,
            auth_attempts: 0,
            cancel_when_provisional: false,
            ok_bytes: None,
            retransmit_every: T1,
            ack_bytes: None,
            ringing_reported: false,
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
        call.target = target;
        ctx.event(Event::CallState {
            call: id,
            state: CallState::Calling { to },
        });
        ctx.media(MediaRequest::CreateOffer { call: id });
        call
    }

    /// A new incoming INVITE (no To tag): ring. `Err` is the response to send instead.
    pub fn incoming(
        ctx: &mut Ctx,
        now: Instant,
        id: CallId,
        key: &TxKey,
        invite: &Message,
    ) -> Result<Call, (u16, String)> {
        let has_sdp = invite.content_type() == Some("application/sdp") && !invite.body.is_empty();
        if !has_sdp {
            return Err((488, "Not Acceptable Here (an SDP offer is required)".into()));
        }
        let local_tag = ctx.rng.token(10);
        let dialog = Dialog::new_uas(invite, &local_tag).map_err(|e| (400, e.0))?;
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
        let mut ringing = response_to(invite, 180, "Ringing", Some(&local_tag));
        call.add_dialog_headers(ctx, invite, &mut ringing);
        ctx.respond(now, key, &ringing);
        ctx.event(Event::IncomingCall { call: id, from });
        Ok(call)
    }

    /// Record-Route and Contact for a dialog-creating response (12.1.1).
    fn add_dialog_headers(&self, ctx: &Ctx, invite: &Message, resp: &mut Message) {
        for rr in invite.header_values("Record-Route") {
            resp.push_header("Record-Route", rr);
        }
        resp.push_header("Contact", format!("<{}>", ctx.local.contact_uri));
    }

    fn end(&mut self, ctx: &mut Ctx, reason: EndReason, close_media: bool) {
        if self.phase == Phase::Ended {
            return;
        }
        let already_reported = self.phase == Phase::Cancelling;
        self.phase = Phase::Ended;
        ctx.timers.cancel(&TimerKey::Retransmit2xx(self.id));
        ctx.timers.cancel(&TimerKey::NoAck(self.id));
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
        let mut m = Message::request(Method::Invite, &self.target);
        m.push_header("Via", ctx.via());
        m.push_header("Max-Forwards", "70");
        m.push_header(
            "From",
            format!("{};tag={}", ctx.local.aor_value(), self.local_tag),
        );
        m.push_header("To", format!("<{}>", self.target));
        m.push_header("Call-ID", self.call_id.clone());
        m.push_header("CSeq", format!("{} INVITE", self.cseq));
        m.push_header("Contact", format!("<{}>", ctx.local.contact_uri));
        m.push_header("Allow", ALLOW);
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
                let invite = self.build_invite(ctx, &sdp);
                self.phase = Phase::Inviting;
                self.send_invite(ctx, now, invite);
            }
            Phase::AwaitingAnswer => self.send_answer(ctx, now, sdp),
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

    pub fn on_invite_response(
        &mut self,
        ctx: &mut Ctx,
        now: Instant,
        request: &Message,
        resp: &Message,
    ) {
        if TxKey::of_request(request) != self.invite_key {
            return; // an answer to an INVITE we have replaced (auth retry)
        }
        let Some(code) = resp.code() else { return };
        match (code, &self.phase) {
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
                let mut ack = dialog.ack(seq);
                ack.push_header("Via", ctx.via());
                let ack_bytes = ack.to_bytes();
                ctx.send(ack_bytes.clone());
                self.ack_bytes = Some(ack_bytes);
                if let Some(to) = resp.to() {
                    self.peer = party_of(&to);
                }
                self.dialog = Some(dialog);
                let sdp = resp.body_str().unwrap_or_default().to_string();
                if cancelling {
                    // the answer crossed our CANCEL: hang up properly
                    self.send_bye(ctx, now);
                    self.phase = Phase::Ended;
                    return;
                }
                if sdp.trim().is_empty() {
                    self.send_bye(ctx, now);
                    self.end(
                        ctx,
                        EndReason::Failed {
                            code,
                            reason: "the answer had no audio description (SDP)".into(),
                        },
                        true,
                    );
                    return;
                }
                self.phase = Phase::Confirmed;
                ctx.media(MediaRequest::SetRemoteAnswer { call: self.id, sdp });
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
            (300..=699, Phase::Inviting) => {
                self.end(ctx, end_reason_for(code, &reason_phrase(resp)), true);
            }
            (300..=699, Phase::Cancelling) => self.phase = Phase::Ended,
            _ => {}
        }
    }

    /// Our INVITE got no answer at all (timer B) or the transport failed.
    pub fn on_invite_timeout(&mut self, ctx: &mut Ctx, _now: Instant, reason: &str) {
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

    pub fn on_2xx_retransmission(&mut self, ctx: &mut Ctx, now: Instant, resp: &Message) {
        let same_dialog = match (
            &self.dialog,
            resp.to().and_then(|t| t.tag().map(str::to_string)),
        ) {
            (Some(d), Some(tag)) => d.remote_tag == tag,
            _ => false,
        };
        if same_dialog {
            if let Some(ack) = self.ack_bytes.clone() {
                ctx.send(ack);
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
        let remote_sdp = self
            .invite
            .as_ref()
            .and_then(|i| i.body_str())
            .unwrap_or_default()
            .to_string();
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

    fn send_answer(&mut self, ctx: &mut Ctx, now: Instant, sdp: String) {
        let (Some(invite), Some(key)) = (self.invite.clone(), self.invite_key.clone()) else {
            return;
        };
        if !ctx.txs.server_proceeding(&key) {
            // cancelled meanwhile
            self.end(ctx, EndReason::CallerCancelled, true);
            return;
        }
        let mut ok = response_to(&invite, 200, "OK", Some(&self.local_tag));
        self.add_dialog_headers(ctx, &invite, &mut ok);
        ok.push_header("Allow", ALLOW);
        ok.push_header("User-Agent", ctx.local.user_agent.clone());
        ok.set_body("application/sdp", sdp.into_bytes());
        self.ok_bytes = Some(ctx.respond(now, &key, &ok));
        self.retransmit_every = T1;
        ctx.timers.set(
            TimerKey::Retransmit2xx(self.id),
            now + self.retransmit_every,
        );
        ctx.timers.set(TimerKey::NoAck(self.id), now + TIMEOUT_64T1);
        self.phase = Phase::WaitingAck;
        self.set_active(ctx);
    }

    pub fn on_retransmit_timer(&mut self, ctx: &mut Ctx, now: Instant) {
        if self.phase != Phase::WaitingAck {
            return;
        }
        if let Some(bytes) = self.ok_bytes.clone() {
            ctx.send(bytes);
        }
        self.retransmit_every = (self.retransmit_every * 2).min(T2);
        ctx.timers.set(
            TimerKey::Retransmit2xx(self.id),
            now + self.retransmit_every,
        );
    }

    pub fn on_no_ack(&mut self, ctx: &mut Ctx, now: Instant) {
        if self.phase != Phase::WaitingAck {
            return;
        }
        self.send_bye(ctx, now);
        self.end(
            ctx,
            EndReason::Network("the caller never confirmed the answer (no ACK)".into()),
            true,
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
            if self.phase == Phase::WaitingAck && req.cseq().map(|c| c.seq) == Some(self.cseq) {
                ctx.timers.cancel(&TimerKey::Retransmit2xx(self.id));
                ctx.timers.cancel(&TimerKey::NoAck(self.id));
                self.phase = Phase::Confirmed;
            }
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
            Method::Invite => {
                // re-INVITE: not supported yet; the call goes on unchanged
                let mut r = response_to(req, 488, "Not Acceptable Here", None);
                r.push_header("Warning", "399 - \"session changes are not supported\"");
                ctx.respond(now, key, &r);
            }
            _ => ctx.reply_stateless(now, key, req, tag.as_deref()),
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
            Phase::Ringing => {
                self.reject(ctx, now, 603, "Decline");
                self.end(ctx, EndReason::LocalHangup, true);
            }
            Phase::AwaitingAnswer => {
                self.reject(ctx, now, 603, "Decline");
                self.end(ctx, EndReason::LocalHangup, true);
            }
            Phase::WaitingAck | Phase::Confirmed => {
                self.send_bye(ctx, now);
                self.end(ctx, EndReason::LocalHangup, true);
            }
            Phase::Cancelling | Phase::Ended => {}
        }
    }

    pub fn on_media_failed(&mut self, ctx: &mut Ctx, now: Instant, reason: &str) {
        let r = EndReason::Media(reason.to_string());
        match self.phase {
            Phase::AwaitingOffer => self.end(ctx, r, true),
            Phase::AwaitingAnswer | Phase::Ringing => {
                self.reject(ctx, now, 488, "Not Acceptable Here");
                self.end(ctx, r, true);
            }
            Phase::WaitingAck | Phase::Confirmed => {
                self.send_bye(ctx, now);
                self.end(ctx, r, true);
            }
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
