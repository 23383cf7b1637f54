//! Renegotiation: the peer's re-INVITEs and UPDATEs, ours (target refresh
//! after a reconnection, ICE restart, session refresh, hold and resume),
//! glare and their failures.

use super::timer::{session_expires, Session, MAX_REFRESH_TRIES, MIN_SE};
use super::*;
use crate::sip::agent::{response_to, Ctx, Owner, TimerKey, ALLOW, SUPPORTED};
use crate::sip::dialog::remote_target_of;
use crate::sip::message::{Message, Method};
use crate::sip::sdp;
use crate::sip::transaction::TxKey;
use crate::sip::{
    CallAction, Duration, EndReason, Event, HoldFailure, Instant, MediaRequest, Warning,
};

/// Why we send a re-INVITE.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Purpose {
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
    /// The browser's media changed (the camera): its new offer, held or
    /// not as the call is.
    MediaChange,
}

/// Our re-INVITE in flight.
pub(super) struct Reinvite {
    pub(super) key: Option<TxKey>,
    pub(super) purpose: Purpose,
    /// The offer came from the browser (Reoffer): roll back if refused.
    pub(super) via_browser: bool,
    pub(super) sdp: String,
    pub(super) auth_retried: bool,
}

/// A renegotiation waiting for the browser's SDP.
pub(super) enum Pending {
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

/// ICE restarts per call before giving up.
pub const MAX_ICE_RESTARTS: u32 = 2;

/// Target-refresh re-INVITEs tried after a reconnection before giving up:
/// at 0, 2, 6, 14 and 30 s (2, 4, 8, 16 s apart). The peer may be
/// reconnecting itself, and phones that lost the same server come back at
/// different times (jittered back-off, capped at 30 s): three tries over
/// 6 s ended calls whose peer came back 8 s later (seen in Firefox).
pub const MAX_TARGET_REFRESH_TRIES: u32 = 5;

impl Call {
    /// Is `key` the transaction of our re-INVITE in flight?
    pub(super) fn is_reinvite_tx(&self, key: &Option<TxKey>) -> bool {
        self.reinvite
            .as_ref()
            .is_some_and(|r| r.key.is_some() && r.key == *key)
    }

    /// Answer `req` with 500 and a Retry-After (RFC 3261 14.2: an offer
    /// while we are still busy with one).
    pub(super) fn busy_retry(&mut self, ctx: &mut Ctx, now: Instant, key: &TxKey, req: &Message) {
        let mut r = response_to(
            req,
            500,
            "Server Internal Error (renegotiation in progress)",
            None,
        );
        r.push_header("Retry-After", ctx.rng.below(10).to_string());
        ctx.respond(now, key, &r);
    }

    /// The peer's re-INVITE or UPDATE refreshes the target; when its
    /// Contact is unusable, 400 and `false` (RFC 3261 12.2.2: the target
    /// refresh fails, the session stays).
    fn refresh_target_or_400(
        &mut self,
        ctx: &mut Ctx,
        now: Instant,
        key: &TxKey,
        req: &Message,
    ) -> bool {
        let ok = self.refresh_target(req);
        if !ok {
            let r = response_to(req, 400, "Bad Request (unusable Contact)", None);
            ctx.respond(now, key, &r);
        }
        ok
    }

    /// A session change or refresh from the peer (re-INVITE).
    pub(super) fn on_reinvite(&mut self, ctx: &mut Ctx, now: Instant, key: &TxKey, req: &Message) {
        if self.phase != Phase::Confirmed || self.pending.is_some() || self.ack_wait.is_some() {
            if matches!(self.pending, Some(Pending::Reoffer(_))) {
                request_pending(ctx, now, key, req);
            } else {
                self.busy_retry(ctx, now, key, req);
            }
            return;
        }
        if self.reinvite.is_some() {
            // glare (RFC 3261 14.2): both sent a re-INVITE
            request_pending(ctx, now, key, req);
            return;
        }
        if !self.refresh_target_or_400(ctx, now, key, req) {
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
    pub(super) fn on_update(&mut self, ctx: &mut Ctx, now: Instant, key: &TxKey, req: &Message) {
        let offer = sdp_body(req);
        if offer.is_some() && self.phase != Phase::Confirmed {
            self.busy_retry(ctx, now, key, req);
            return;
        }
        if offer.is_some()
            && (self.reinvite.is_some() || matches!(self.pending, Some(Pending::Reoffer(_))))
        {
            request_pending(ctx, now, key, req);
            return;
        }
        if offer.is_some() && (self.pending.is_some() || self.ack_wait.is_some()) {
            self.busy_retry(ctx, now, key, req);
            return;
        }
        if !self.refresh_target_or_400(ctx, now, key, req) {
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
    pub(super) fn note_remote_offer(&mut self, ctx: &mut Ctx, offer: &str) {
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
    pub(super) fn refresh_target(&mut self, m: &Message) -> bool {
        let (Some(d), Some(c)) = (self.dialog.as_mut(), m.contacts().first().cloned()) else {
            return true;
        };
        match remote_target_of(&c.uri) {
            Ok(target) => {
                if d.remote_target != target {
                    crate::log::debug!("{}: remote target now {target}", self.id);
                    d.remote_target = target;
                }
                true
            }
            Err(e) => {
                crate::log::warn!("{}: Contact not taken: {}", self.id, e.0);
                false
            }
        }
    }

    /// Our 200 to the peer's re-INVITE, retransmitted until the ACK.
    pub(super) fn send_reinvite_ok(
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

    /// Start a re-INVITE for `purpose` now, or as soon as the way is clear.
    pub(super) fn start_reinvite(&mut self, ctx: &mut Ctx, now: Instant, purpose: Purpose) {
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
                    Some(Purpose::Hold | Purpose::Resume | Purpose::MediaChange),
                    Purpose::Refresh | Purpose::SessionRefresh,
                ) => {}
                // a hold or resume makes a new offer too
                (Some(Purpose::Hold | Purpose::Resume), Purpose::MediaChange) => {}
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
            Purpose::MediaChange => {
                self.pending = Some(Pending::Reoffer(purpose));
                ctx.media(MediaRequest::Reoffer {
                    call: self.id,
                    ice_restart: false,
                    hold: self.held,
                });
            }
            Purpose::Refresh | Purpose::SessionRefresh => match self.local_sdp.clone() {
                Some(sdp) => self.send_reinvite(ctx, now, purpose, sdp, false),
                None => crate::log::warn!("{}: no SDP to refresh the session with", self.id),
            },
        }
    }

    /// A deferred re-INVITE goes out right after the current exchange.
    pub(super) fn run_deferred(&mut self, ctx: &mut Ctx, now: Instant) {
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

    pub(super) fn send_reinvite(
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
        crate::log::info!("{}: re-INVITE ({purpose:?})", self.id);
        let bytes = ctx.txs.start_client(now, req, Owner::Invite(self.id));
        ctx.send(bytes);
    }

    pub(super) fn on_reinvite_response(
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
                            crate::log::warn!(
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
                        crate::log::warn!("{}: re-INVITE refused: {why}", self.id);
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

    pub(super) fn reinvite_failed(
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
                    crate::log::warn!(
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
            _ => crate::log::info!(
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

    /// The browser's media changed: a new offer ([`Purpose::MediaChange`]).
    pub fn renegotiate(&mut self, ctx: &mut Ctx, now: Instant) {
        if !self.is_established() {
            self.not_established(ctx, CallAction::Camera);
            return;
        }
        self.start_reinvite(ctx, now, Purpose::MediaChange);
    }

    /// Hold or resume (`purpose`) did not happen.
    pub(super) fn hold_failed(&self, ctx: &mut Ctx, purpose: Purpose, cause: HoldFailure) {
        ctx.event(Event::Warning(Warning::HoldFailed {
            call: self.id,
            hold: purpose == Purpose::Hold,
            cause,
        }));
    }
}

/// 491 to the peer's offer (RFC 3261 14.2): an offer of ours is in progress.
fn request_pending(ctx: &mut Ctx, now: Instant, key: &TxKey, req: &Message) {
    ctx.respond(now, key, &response_to(req, 491, "Request Pending", None));
}
