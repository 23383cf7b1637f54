//! RFC 4028 session timers: what the peer asks for, what we answer, and the
//! refresh or expiry timer.

use super::*;
use crate::sip::agent::{Ctx, TimerKey};
use crate::sip::message::Message;
use crate::sip::{Duration, EndReason, Instant};

/// RFC 4028 session timer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Session {
    pub(super) interval: u32,
    pub(super) we_refresh: bool,
}

/// The smallest session interval we accept (RFC 4028 4: at least 90 s).
pub const MIN_SE: u32 = 90;

/// `Session-Expires` (compact `x`): the interval and the `refresher`.
pub(super) fn session_expires(m: &Message) -> Option<(u32, Option<String>)> {
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

pub(super) fn min_se(m: &Message) -> Option<u32> {
    m.header("Min-SE")?
        .split(';')
        .next()?
        .trim()
        .parse::<u32>()
        .ok()
}

pub(super) fn supports(m: &Message, tag: &str) -> bool {
    m.header_list("Supported")
        .iter()
        .chain(m.header_list("Require").iter())
        .any(|t| t.eq_ignore_ascii_case(tag))
}

/// Session-timer refreshes tried when the peer refuses them for now.
pub const MAX_REFRESH_TRIES: u32 = 3;

impl Call {
    /// RFC 4028 9: the session timer the peer asked for in `req`, and who
    /// refreshes (the peer unless it asked us to, or cannot).
    pub(super) fn take_session_request(&mut self, req: &Message) {
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
    pub(super) fn add_session_headers(&self, req: &Message, resp: &mut Message) {
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

    pub(super) fn schedule_session(&self, ctx: &mut Ctx, now: Instant) {
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

    pub fn on_session_refresh_timer(&mut self, ctx: &mut Ctx, now: Instant) {
        self.start_reinvite(ctx, now, Purpose::SessionRefresh);
    }

    pub fn on_session_expiry_timer(&mut self, ctx: &mut Ctx, now: Instant) {
        if self.is_established() {
            self.bye_and_end(ctx, now, EndReason::SessionExpired);
        }
    }
}
