//! REGISTER (RFC 3261 section 10): digest authentication on 401/407, refresh
//! before expiry, 423 Interval Too Brief, unregister.

use super::agent::{Ctx, Owner, TimerKey};
use super::auth::{self, Challenge};
use super::message::{Message, Method};
use super::transaction::TxKey;
use super::{Duration, Event, Instant, RegistrationState};

/// When to refresh a registration granted for `expires` seconds: well
/// before it lapses (30 s before, or halfway for short ones).
pub fn refresh_after(expires: u32) -> Duration {
    let secs = (expires / 2).max(expires.saturating_sub(30)).max(1);
    Duration::from_secs(u64::from(secs))
}

/// A digest challenge we answer, and how many times we used its nonce.
#[derive(Clone, Debug)]
pub struct AuthCache {
    pub challenge: Challenge,
    /// `Proxy-Authorization` (407) rather than `Authorization` (401).
    pub proxy: bool,
    pub nc: u32,
}

impl AuthCache {
    /// Add the credentials header to `req`, counting the nonce use.
    pub fn apply(&mut self, ctx: &mut Ctx, req: &mut Message) {
        self.nc = self.nc.saturating_add(1);
        let method = req
            .method()
            .map(|m| m.as_str().to_string())
            .unwrap_or_default();
        let uri = req.request_uri().unwrap_or_default().to_string();
        let cnonce = format!("{}{}", ctx.rng.hex32(), ctx.rng.hex32());
        let creds = auth::authorize(
            &self.challenge,
            &method,
            &uri,
            &ctx.local.auth_user,
            &ctx.local.password,
            &cnonce,
            self.nc,
            &req.body,
        );
        let name = if self.proxy {
            "Proxy-Authorization"
        } else {
            "Authorization"
        };
        req.set_header(name, creds.to_header_value());
    }
}

/// What to do with a 401/407: answer it, or give up.
pub enum ChallengeOutcome {
    Retry(AuthCache),
    Refused(String),
}

/// How many challenges in a row we answer with credentials before giving up.
/// A server that forgot our nonce (it restarted) challenges once more with a
/// fresh one; a wrong password is challenged again and again.
pub const MAX_AUTH_ATTEMPTS: u32 = 2;

/// Decide about a 401/407 `response`. `previous` is the challenge whose
/// credentials the rejected request carried (if it carried any), `attempts`
/// how many challenges in a row were already answered without success.
pub fn on_challenge(
    response: &Message,
    previous: Option<&AuthCache>,
    attempts: u32,
) -> ChallengeOutcome {
    let proxy = response.code() == Some(407);
    let header = if proxy {
        "Proxy-Authenticate"
    } else {
        "WWW-Authenticate"
    };
    let values = response.header_values(header);
    let challenge = match Challenge::choose(&values) {
        Ok(c) => c,
        Err(e) => {
            return ChallengeOutcome::Refused(format!("cannot answer the server's challenge: {e}"))
        }
    };
    let wrong = || {
        ChallengeOutcome::Refused(
            "Wrong user name or password: the server rejected the credentials.".into(),
        )
    };
    if let Some(prev) = previous {
        // the very nonce we answered is challenged again, not as stale: the
        // credentials themselves are wrong
        if !challenge.stale && prev.challenge.nonce == challenge.nonce {
            return wrong();
        }
        if attempts >= MAX_AUTH_ATTEMPTS {
            return wrong();
        }
    }
    ChallengeOutcome::Retry(AuthCache {
        challenge,
        proxy,
        nc: 0,
    })
}

/// Whether a Contact of a REGISTER response is our binding: the same
/// instance id, else the same URI (with or without `;ob`).
fn is_our_contact(ctx: &Ctx, c: &super::message::NameAddr) -> bool {
    if !ctx.local.instance_id.is_empty() {
        if let Some(inst) = c.param("+sip.instance") {
            let inst = inst.trim_matches(|ch| ch == '<' || ch == '>' || ch == '"');
            return inst.eq_ignore_ascii_case(&format!("urn:uuid:{}", ctx.local.instance_id));
        }
    }
    let uri = c.uri.strip_suffix(";ob").unwrap_or(&c.uri);
    uri == ctx.local.contact_uri
}

/// The digest state of one kind of request we repeat (REGISTER,
/// SUBSCRIBE, PUBLISH): the challenge we answer, whether the request in
/// flight carried credentials, and how many challenges in a row were
/// answered without success.
#[derive(Clone, Debug, Default)]
pub struct Credentials {
    cache: Option<AuthCache>,
    sent: bool,
    attempts: u32,
}

impl Credentials {
    /// Add credentials to `req` when we have a challenge to answer; remember
    /// whether it carried them.
    pub fn apply(&mut self, ctx: &mut Ctx, req: &mut Message) {
        self.sent = false;
        if let Some(cache) = self.cache.as_mut() {
            cache.apply(ctx, req);
            self.sent = true;
        }
    }

    /// A 401/407 to the request in flight: `Ok` to send it again (with
    /// [`Credentials::apply`]), `Err` with the reason when we give up (the
    /// challenge is forgotten).
    pub fn on_challenge(&mut self, resp: &Message) -> Result<(), String> {
        let prev = if self.sent { self.cache.as_ref() } else { None };
        match on_challenge(resp, prev, self.attempts) {
            ChallengeOutcome::Retry(cache) => {
                self.cache = Some(cache);
                self.attempts += 1;
                Ok(())
            }
            ChallengeOutcome::Refused(reason) => {
                self.cache = None;
                Err(reason)
            }
        }
    }

    /// The credentials worked (or a new attempt starts): count again from 0.
    pub fn reset_attempts(&mut self) {
        self.attempts = 0;
    }
}

pub struct Registration {
    pub state: RegistrationState,
    call_id: String,
    from_tag: String,
    cseq: u32,
    pending: Option<TxKey>,
    auth: Credentials,
    expires: u32,
    /// the user wants to stay registered (refreshes go on)
    wanted: bool,
}

impl Registration {
    pub fn new(ctx: &mut Ctx) -> Registration {
        Registration {
            state: RegistrationState::Unregistered,
            call_id: ctx.rng.token(20),
            from_tag: ctx.rng.token(10),
            cseq: 0,
            pending: None,
            auth: Credentials::default(),
            expires: ctx.local.register_expires,
            wanted: false,
        }
    }

    fn set_state(&mut self, ctx: &mut Ctx, state: RegistrationState) {
        if self.state != state {
            self.state = state.clone();
            ctx.event(Event::Registration(state));
        }
    }

    pub fn register(&mut self, ctx: &mut Ctx, now: Instant) {
        self.wanted = true;
        self.expires = ctx.local.register_expires;
        self.auth.reset_attempts();
        if !ctx.connected {
            self.set_state(
                ctx,
                RegistrationState::Failed {
                    reason: "Not connected to the server.".into(),
                },
            );
            return;
        }
        self.set_state(ctx, RegistrationState::Registering);
        self.send(ctx, now, self.expires);
    }

    pub fn unregister(&mut self, ctx: &mut Ctx, now: Instant) {
        self.wanted = false;
        ctx.timers.cancel(&TimerKey::RegisterRefresh);
        let registered = matches!(
            self.state,
            RegistrationState::Registered { .. } | RegistrationState::Registering
        );
        if registered && ctx.connected {
            self.set_state(ctx, RegistrationState::Unregistering);
            self.send(ctx, now, 0);
        } else {
            self.pending = None;
            self.set_state(ctx, RegistrationState::Unregistered);
        }
    }

    fn build(&mut self, ctx: &mut Ctx, expires: u32) -> Message {
        self.cseq += 1;
        let registrar = format!("sip:{}", ctx.local.domain);
        let to = ctx.local.aor_value();
        let mut m = ctx.out_of_dialog(
            Method::Register,
            &registrar,
            to,
            &self.from_tag,
            &self.call_id,
            self.cseq,
        );
        m.push_header("Contact", ctx.local.register_contact(expires));
        m.push_header("Expires", expires.to_string());
        if !ctx.local.instance_id.is_empty() {
            m.push_header("Supported", "path, gruu, outbound");
        }
        m.push_header("Allow", super::agent::ALLOW);
        m.push_header("User-Agent", ctx.local.user_agent.clone());
        m
    }

    fn send(&mut self, ctx: &mut Ctx, now: Instant, expires: u32) {
        let mut req = self.build(ctx, expires);
        self.auth.apply(ctx, &mut req);
        self.pending = TxKey::of_request(&req);
        let bytes = ctx.txs.start_client(now, req, Owner::Register);
        ctx.send(bytes);
    }

    fn requested_expires(req: &Message) -> u32 {
        req.expires().unwrap_or(0)
    }

    pub fn on_response(&mut self, ctx: &mut Ctx, now: Instant, req: &Message, resp: &Message) {
        if TxKey::of_request(req) != self.pending {
            return; // an old request's late answer
        }
        let Some(code) = resp.code() else { return };
        if code < 200 {
            return;
        }
        self.pending = None;
        let requested = Self::requested_expires(req);
        match code {
            200..=299 => {
                self.auth.reset_attempts();
                if requested == 0 {
                    ctx.timers.cancel(&TimerKey::RegisterRefresh);
                    self.set_state(ctx, RegistrationState::Unregistered);
                    return;
                }
                let contacts = resp.contacts();
                let ours = contacts.iter().find(|c| is_our_contact(ctx, c));
                let granted = ours
                    .and_then(|c| {
                        c.param("expires")
                            .and_then(|e| e.trim().parse::<u32>().ok())
                    })
                    .or_else(|| resp.expires())
                    .unwrap_or(requested);
                ctx.local.gruu = ours
                    .and_then(|c| c.param("pub-gruu"))
                    .map(str::trim)
                    .filter(|g| g.starts_with("sip:") || g.starts_with("sips:"))
                    .map(str::to_string);
                ctx.local.outbound = resp
                    .header_list("Require")
                    .iter()
                    .any(|t| t.eq_ignore_ascii_case("outbound"));
                if granted == 0 {
                    self.set_state(
                        ctx,
                        RegistrationState::Failed {
                            reason: "The server accepted the registration but kept no binding."
                                .into(),
                        },
                    );
                    return;
                }
                if self.wanted {
                    ctx.timers
                        .set(TimerKey::RegisterRefresh, now + refresh_after(granted));
                }
                self.set_state(ctx, RegistrationState::Registered { expires: granted });
            }
            401 | 407 => match self.auth.on_challenge(resp) {
                Ok(()) => self.send(ctx, now, requested),
                Err(reason) => self.fail(ctx, reason),
            },
            423 => match resp.min_expires() {
                Some(min) if min > requested && requested != 0 => {
                    self.expires = min;
                    self.send(ctx, now, min);
                }
                _ => self.fail(
                    ctx,
                    "The server wants a registration interval we cannot use (423).".into(),
                ),
            },
            403 => self.fail(
                ctx,
                "The server refused this account (403 Forbidden): check the user name.".into(),
            ),
            404 => self.fail(
                ctx,
                "The server does not know this user (404 Not Found).".into(),
            ),
            _ => {
                let reason = resp.reason().unwrap_or_default();
                self.fail(ctx, format!("Registration failed: {code} {reason}."));
            }
        }
    }

    fn fail(&mut self, ctx: &mut Ctx, reason: String) {
        ctx.timers.cancel(&TimerKey::RegisterRefresh);
        if self.state == RegistrationState::Unregistering || !self.wanted {
            self.set_state(ctx, RegistrationState::Unregistered);
        } else {
            self.set_state(ctx, RegistrationState::Failed { reason });
        }
    }

    /// The REGISTER got no answer (timer F) or the transport went away.
    pub fn on_timeout(&mut self, ctx: &mut Ctx, req: &Message, reason: &str) {
        if TxKey::of_request(req) != self.pending {
            return;
        }
        self.pending = None;
        self.fail(ctx, reason.to_string());
    }

    pub fn on_refresh_timer(&mut self, ctx: &mut Ctx, now: Instant) {
        if self.wanted && ctx.connected && self.pending.is_none() {
            self.send(ctx, now, self.expires);
        }
    }

    /// The transport closed: we are no longer reachable.
    pub fn on_disconnected(&mut self, ctx: &mut Ctx) {
        self.pending = None;
        ctx.timers.cancel(&TimerKey::RegisterRefresh);
        if self.state != RegistrationState::Unregistered {
            self.set_state(ctx, RegistrationState::Unregistered);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::auth::Challenge;
    use crate::sip::message::Message;

    #[test]
    fn the_same_nonce_rejected_again_means_a_wrong_password() {
        let raw = "SIP/2.0 401 Unauthorized\r\nVia: SIP/2.0/WS a.invalid;branch=z9hG4bK1\r\n\
            From: <sip:a@x>;tag=1\r\nTo: <sip:a@x>;tag=2\r\nCall-ID: c\r\nCSeq: 2 REGISTER\r\n\
            WWW-Authenticate: Digest realm=\"x\", nonce=\"N1\", qop=\"auth\"\r\n\
            Content-Length: 0\r\n\r\n";
        let resp = Message::parse(raw.as_bytes()).expect("parses");
        let prev = AuthCache {
            challenge: Challenge::parse("Digest realm=\"x\", nonce=\"N1\"").expect("challenge"),
            proxy: false,
            nc: 1,
        };
        assert!(matches!(
            on_challenge(&resp, Some(&prev), 0),
            ChallengeOutcome::Refused(_)
        ));
        assert!(matches!(
            on_challenge(&resp, None, 0),
            ChallengeOutcome::Retry(_)
        ));
        let stale = raw.replace("qop=\"auth\"", "qop=\"auth\", stale=true");
        let resp = Message::parse(stale.as_bytes()).expect("parses");
        assert!(matches!(
            on_challenge(&resp, Some(&prev), 1),
            ChallengeOutcome::Retry(_)
        ));
    }
}
