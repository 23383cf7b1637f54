//! The INVITE transaction of a call, caller or callee side: the offer from
//! the browser, ringing, redirects, authentication, the answer, CANCEL, the
//! ACK and our 2xx retransmissions.

use super::timer::{min_se, session_expires, Session, MIN_SE};
use super::*;
use crate::sip::agent::{response_to, Ctx, Owner, TimerKey, ALLOW, SUPPORTED};
use crate::sip::dialog::Dialog;
use crate::sip::message::{request_uri_of, Message, Method};
use crate::sip::refer;
use crate::sip::registration::{on_challenge, ChallengeOutcome};
use crate::sip::sdp;
use crate::sip::timers::{T1, T2, TIMEOUT_64T1};
use crate::sip::transaction::TxKey;
use crate::sip::{CallId, CallState, Duration, EndReason, Event, Instant, MediaRequest, Party};

/// A 2xx to an INVITE of the peer, retransmitted until its ACK.
pub(super) struct AckWait {
    pub(super) seq: u32,
    pub(super) bytes: Vec<u8>,
    pub(super) every: Duration,
    /// The offer our 2xx carried: the ACK carries the answer, and then it
    /// is our session description.
    pub(super) offer: Option<String>,
}

/// How many 3xx redirections an outgoing call follows.
pub const MAX_REDIRECTS: usize = 3;

impl Call {
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
        call.remote_hold = sdp::is_hold(&offer);
        let video = sdp::has_video(&offer);
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
            video,
        });
        Ok(call)
    }

    /// Record-Route and Contact for a dialog-creating response (12.1.1).
    pub(super) fn add_dialog_headers(&self, ctx: &Ctx, invite: &Message, resp: &mut Message) {
        for rr in invite.header_values("Record-Route") {
            resp.push_header("Record-Route", rr);
        }
        resp.push_header("Contact", ctx.local.dialog_contact());
    }

    pub(super) fn build_invite(&mut self, ctx: &mut Ctx, sdp: &str) -> Message {
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

    /// The first INVITE of a call takes the credentials of the last call's
    /// challenge, if there is one (see `Ctx::invite_auth`); each call counts
    /// the nonce on from where the last one left it.
    pub(super) fn borrow_invite_auth(&mut self, ctx: &mut Ctx) {
        if self.auth.is_some() {
            return;
        }
        if let Some(shared) = ctx.invite_auth.as_mut() {
            self.auth = Some(shared.clone());
            shared.nc = shared.nc.saturating_add(1);
        }
    }

    pub(super) fn send_invite(&mut self, ctx: &mut Ctx, now: Instant, mut invite: Message) {
        if let Some(cache) = self.auth.as_mut() {
            cache.apply(ctx, &mut invite);
        }
        self.invite_key = TxKey::of_request(&invite);
        self.invite = Some(invite.clone());
        let bytes = ctx.txs.start_client(now, invite, Owner::Invite(self.id));
        ctx.send(bytes);
    }

    /// The user hung up (or the media failed) before the answer: report the
    /// end now, and CANCEL in the background once the INVITE is proceeding.
    pub(super) fn end_and_cancel(&mut self, ctx: &mut Ctx, now: Instant, reason: EndReason) {
        let proceeding = self
            .invite_key
            .as_ref()
            .is_some_and(|k| ctx.txs.client_proceeding(k));
        self.end(ctx, reason, true);
        self.phase = Phase::Cancelling {
            cancel_due: !proceeding,
        };
        if proceeding {
            self.send_cancel(ctx, now);
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
            (100..=199, Phase::Inviting { rung }) => {
                if code != 100 && !rung {
                    self.phase = Phase::Inviting { rung: true };
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
            (100..=199, Phase::Cancelling { cancel_due: true }) => {
                self.phase = Phase::Cancelling { cancel_due: false };
                self.send_cancel(ctx, now);
            }
            (200..=299, Phase::Inviting { .. } | Phase::Cancelling { .. }) => {
                let cancelling = matches!(self.phase, Phase::Cancelling { .. });
                let dialog = match Dialog::new_uac(request, resp) {
                    Ok(d) => d,
                    Err(e) => {
                        crate::log::warn!("{}: unusable 2xx: {}", self.id, e.0);
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
            (401 | 407, Phase::Inviting { .. }) => {
                // (credentials of the last call's challenge that the server
                // did not take are challenged with a new nonce: answered)
                let prev = self.auth.as_ref();
                match on_challenge(resp, prev, self.auth_attempts) {
                    ChallengeOutcome::Retry(cache) => {
                        self.auth = Some(cache);
                        self.auth_attempts += 1;
                        let sdp = request.body_str().unwrap_or_default().to_string();
                        let invite = self.build_invite(ctx, &sdp);
                        self.send_invite(ctx, now, invite);
                        // (counted once by this INVITE)
                        ctx.invite_auth = self.auth.clone();
                    }
                    ChallengeOutcome::Refused(r) => {
                        ctx.invite_auth = None;
                        crate::log::warn!("{}: {r}", self.id);
                        self.end(ctx, EndReason::AuthFailed, true);
                    }
                }
            }
            (422, Phase::Inviting { .. }) if self.session_request.is_none() => {
                // RFC 4028 6: ask again with the interval the server wants
                let wanted = min_se(resp).unwrap_or(MIN_SE).max(MIN_SE);
                self.session_request = Some(wanted);
                let sdp = request.body_str().unwrap_or_default().to_string();
                let invite = self.build_invite(ctx, &sdp);
                self.send_invite(ctx, now, invite);
            }
            (300..=399, Phase::Inviting { .. }) => {
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
            (300..=699, Phase::Inviting { .. }) => {
                self.end(
                    ctx,
                    end_reason_for(code, resp.reason().unwrap_or_default()),
                    true,
                );
            }
            (300..=699, Phase::Cancelling { .. }) => self.phase = Phase::Ended,
            _ => {}
        }
    }

    /// RFC 3261 8.1.3.4: try the Contacts of a 3xx (not 305), each once, at
    /// most [`MAX_REDIRECTS`] in all. `false` when there is nothing to try.
    pub(super) fn follow_redirect(
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
        crate::log::info!("{}: redirected to {uri}", self.id);
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
            Phase::Inviting { .. } => self.end(ctx, EndReason::Network(reason.to_string()), true),
            Phase::Cancelling { .. } => self.phase = Phase::Ended,
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

    pub(super) fn send_ack(&mut self, ctx: &mut Ctx, seq: u32) {
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

    pub(super) fn send_answer(&mut self, ctx: &mut Ctx, now: Instant, sdp: String) {
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

    pub(super) fn wait_ack(
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

    pub(super) fn reject(&mut self, ctx: &mut Ctx, now: Instant, code: u16, reason: &str) {
        let (Some(invite), Some(key)) = (self.invite.clone(), self.invite_key.clone()) else {
            return;
        };
        ctx.reply(now, &key, &invite, code, reason, Some(&self.local_tag));
    }

    pub(super) fn on_ack(&mut self, ctx: &mut Ctx, now: Instant, req: &Message) {
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
                    crate::log::warn!("{}: ACK without the answer to our offer", self.id);
                    ctx.media(MediaRequest::Rollback { call: self.id });
                }
            }
        }
        self.run_deferred(ctx, now);
    }
}
