//! The user agent: owns registration, transactions and calls, and routes every
//! input to the part it concerns.

use super::call::{self, Call};
use super::im::{self, Messages};
use super::message::{self, Incoming, Message, Method, NameAddr, SipUri};
use super::registration::{AuthCache, Registration};
use super::rng::Rng;
use super::sdp;
use super::subscription::{self, Activity, Subscriptions};
use super::timers::Timers;
use super::transaction::{RequestMatch, ResponseMatch, Transactions, TxKey};
use super::{
    AccountConfig, CallId, Command, ConfigError, Event, Input, InputError, Instant, Output,
    RegistrationState, Transport, Warning,
};
use litemap::LiteMap;
use std::collections::VecDeque;

/// Every call, mutably (LiteMap has no `values_mut`); a function of the
/// table alone, so the agent's other fields stay free to borrow.
fn calls_mut(calls: &mut LiteMap<CallId, Call>) -> impl Iterator<Item = &mut Call> {
    calls.iter_mut().map(|(_, call)| call)
}

/// The methods this user agent handles (Allow header).
pub const ALLOW: &str = "INVITE, ACK, CANCEL, BYE, UPDATE, OPTIONS, INFO, REFER, NOTIFY, MESSAGE";

/// The option tags we support (RFC 4028 session timers, RFC 3891 Replaces)
/// for `Supported` and for checking a request's `Require` (420 otherwise).
pub const SUPPORTED: &str = "timer, replaces";

/// Who is waiting for a client transaction's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Owner {
    Register,
    Invite(CallId),
    /// A call's other in-dialog requests whose answer matters (INFO, REFER).
    InDialog(CallId),
    /// CANCEL, BYE: nothing depends on the answer.
    Fire,
    /// Our MESSAGE (internal number, see `im::Messages`).
    Message(u64),
    /// Our SUBSCRIBE for subscription number `u32`.
    Subscribe(u32),
    /// Our PUBLISH of presence.
    Publish,
}

/// The user agent's own timers (the transactions keep theirs).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum TimerKey {
    RegisterRefresh,
    /// Retransmit our 2xx to an INVITE until the ACK comes.
    Retransmit2xx(CallId),
    /// Give up on the ACK (64·T1).
    NoAck(CallId),
    /// Forget an ended call (it lingers to absorb late messages).
    Reap(CallId),
    /// A deferred re-INVITE (glare back-off, retry after reconnection).
    Reinvite(CallId),
    /// RFC 4028: time for us to refresh the session.
    SessionRefresh(CallId),
    /// RFC 4028: the peer did not refresh the session in time.
    SessionExpiry(CallId),
    /// Send a CRLF keep-alive ping (RFC 5626 4.4.1).
    KeepAlive,
    /// The pong to our ping is overdue.
    PongTimeout,
    /// Refresh, retry or forget subscription number `u32`.
    Subscription(u32),
    /// Refresh our presence publication.
    PublishRefresh,
}

/// Who we are, derived from the account once.
#[derive(Clone)]
pub struct Local {
    pub aor: String,
    pub domain: String,
    pub display_name: String,
    pub auth_user: String,
    pub password: String,
    pub transport: Transport,
    pub via_host: String,
    pub contact_uri: String,
    pub user_agent: String,
    pub register_expires: u32,
    /// RFC 5626 instance id (a UUID), empty when none.
    pub instance_id: String,
    /// The public GRUU the registrar gave us (RFC 5627): our Contact in
    /// dialogs, so that the PBX finds us on whatever connection we have now.
    pub gruu: Option<String>,
    /// The registrar uses outbound (RFC 5626: `Require: outbound` in its 200).
    pub outbound: bool,
}

impl Local {
    /// The Contact URI for dialogs (INVITE, 2xx, re-INVITE): the GRUU when
    /// the registrar gave one, else our own URI (`;ob` when outbound is used).
    pub fn dialog_contact(&self) -> String {
        match &self.gruu {
            Some(g) => format!("<{g}>"),
            None if self.outbound => format!("<{};ob>", self.contact_uri),
            None => format!("<{}>", self.contact_uri),
        }
    }

    /// The Contact value of a REGISTER (RFC 5626 4.2: `;ob`, `reg-id`,
    /// `+sip.instance`; RFC 5627 asks for a GRUU with the instance id).
    pub fn register_contact(&self, expires: u32) -> String {
        if self.instance_id.is_empty() {
            format!("<{}>;expires={expires}", self.contact_uri)
        } else {
            format!(
                "<{};ob>;reg-id=1;+sip.instance=\"<urn:uuid:{}>\";expires={expires}",
                self.contact_uri, self.instance_id
            )
        }
    }

    /// Our address as a From/To value (no tag).
    pub fn aor_value(&self) -> String {
        if self.display_name.trim().is_empty() {
            format!("<{}>", self.aor)
        } else {
            // quoted as NameAddr writes it: `"` and `\` escaped, control
            // characters as quoted pairs (CR/LF as spaces)
            NameAddr {
                display_name: Some(self.display_name.clone()),
                uri: self.aor.clone(),
                params: Vec::new(),
            }
            .to_string()
        }
    }
}

/// What every part of the user agent shares: identity, randomness, the
/// transactions, the timers and the output queue.
pub struct Ctx {
    pub local: Local,
    pub rng: Rng,
    pub connected: bool,
    pub txs: Transactions<Owner>,
    pub timers: Timers<TimerKey>,
    out: VecDeque<Output>,
    /// Seconds between keep-alive pings; 0: none.
    keepalive_secs: u32,
    /// This connection answered a ping: a missing pong means it is dead.
    pong_seen: bool,
    /// The challenge the last INVITE of ours answered: the next call's
    /// INVITE carries credentials for it from the start, which saves the
    /// 407 round trip where the server takes a nonce again (Kamailio does
    /// until `nonce_expire`). A challenge to them is answered as usual, so
    /// a server that does not costs nothing more. Forgotten with the
    /// connection (the next one may reach another server).
    pub invite_auth: Option<AuthCache>,
}

impl Ctx {
    pub fn send(&mut self, bytes: Vec<u8>) {
        if self.connected {
            self.out.push_back(Output::Send(bytes));
        } else {
            crate::log::debug!("not connected: dropping {} bytes", bytes.len());
        }
    }

    pub fn event(&mut self, e: Event) {
        self.out.push_back(Output::Event(e));
    }

    pub fn media(&mut self, m: super::MediaRequest) {
        self.out.push_back(Output::Media(m));
    }

    /// Send `resp` within the server transaction `key`; returns the bytes.
    pub fn respond(&mut self, now: Instant, key: &TxKey, resp: &Message) -> Vec<u8> {
        let bytes = self.txs.respond(now, key, resp);
        self.send(bytes.clone());
        bytes
    }

    /// Answer `req` with `code` (a fresh To tag unless `to_tag` is given);
    /// a 405 or 501 carries the methods we do handle.
    pub fn reply(
        &mut self,
        now: Instant,
        key: &TxKey,
        req: &Message,
        code: u16,
        reason: &str,
        to_tag: Option<&str>,
    ) {
        let tag = match to_tag {
            Some(t) => t.to_string(),
            None => self.rng.token(10),
        };
        let mut r = response_to(req, code, reason, Some(&tag));
        if matches!(code, 405 | 501) {
            r.push_header("Allow", ALLOW);
        }
        self.respond(now, key, &r);
    }

    /// Requests that need no state of ours, in or out of a dialog: OPTIONS
    /// gets 200 with our capabilities, an extension method 501, any other
    /// method we do not handle 405.
    pub fn reply_stateless(
        &mut self,
        now: Instant,
        key: &TxKey,
        req: &Message,
        to_tag: Option<&str>,
    ) {
        match req.method() {
            Some(Method::Options) => {
                let tag = to_tag
                    .map(str::to_string)
                    .unwrap_or_else(|| self.rng.token(10));
                let mut r = response_to(req, 200, "OK", Some(&tag));
                r.push_header("Allow", ALLOW);
                r.push_header("Accept", "application/sdp");
                r.push_header("User-Agent", self.local.user_agent.clone());
                self.respond(now, key, &r);
            }
            Some(Method::Other(_)) => self.reply(now, key, req, 501, "Not Implemented", to_tag),
            _ => self.reply(now, key, req, 405, "Method Not Allowed", to_tag),
        }
    }

    /// A request outside any dialog, from our address of record: Via (a
    /// fresh branch), Max-Forwards, To, From with `from_tag`, Call-ID and
    /// CSeq `<cseq> <METHOD>`. The caller adds the rest.
    pub fn out_of_dialog(
        &mut self,
        method: Method,
        ruri: &str,
        to: String,
        from_tag: &str,
        call_id: &str,
        cseq: u32,
    ) -> Message {
        let mut m = Message::request(method.clone(), ruri);
        m.push_header("Via", self.via());
        m.push_header("Max-Forwards", "70");
        m.push_header("To", to);
        m.push_header("From", format!("{};tag={from_tag}", self.local.aor_value()));
        m.push_header("Call-ID", call_id.to_string());
        m.push_header("CSeq", format!("{cseq} {method}"));
        m
    }

    /// A Via header value with a fresh branch.
    pub fn via(&mut self) -> String {
        format!(
            "SIP/2.0/{} {};branch={}",
            self.local.transport.via_name(),
            self.local.via_host,
            self.rng.branch()
        )
    }
}

/// A response to `req` (RFC 3261 8.2.6): Via, From, To (with `to_tag` added
/// when it has none), Call-ID and CSeq copied.
pub fn response_to(req: &Message, code: u16, reason: &str, to_tag: Option<&str>) -> Message {
    let mut r = Message::response(code, reason);
    for via in req.header_values("Via") {
        r.push_header("Via", via);
    }
    if let Some(from) = req.header("From") {
        r.push_header("From", from);
    }
    if let Some(to) = req.header("To") {
        let has_tag = req.to().is_some_and(|t| t.tag().is_some());
        match to_tag {
            Some(tag) if !has_tag && code != 100 => r.push_header("To", format!("{to};tag={tag}")),
            _ => r.push_header("To", to),
        }
    }
    if let Some(cid) = req.call_id() {
        r.push_header("Call-ID", cid);
    }
    if let Some(cseq) = req.header("CSeq") {
        r.push_header("CSeq", cseq);
    }
    r
}

/// The instance id if it looks like a UUID (hex and dashes), else none: it
/// goes into a quoted header parameter.
fn valid_instance_id(id: &str) -> String {
    let id = id.trim().to_ascii_lowercase();
    let ok = id.len() == 36 && id.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
    if ok {
        id
    } else {
        String::new()
    }
}

/// The option tags of `Require` we do not support, comma-separated, or
/// `None`. ACK and CANCEL are never refused for this (RFC 3261 8.2.2.3).
pub fn unsupported_requirements(req: &Message, method: &Method) -> Option<String> {
    if matches!(method, Method::Ack | Method::Cancel) {
        return None;
    }
    let ours: Vec<&str> = SUPPORTED.split(',').map(str::trim).collect();
    let missing: Vec<String> = req
        .header_list("Require")
        .into_iter()
        .filter(|t| !t.is_empty() && !ours.iter().any(|o| o.eq_ignore_ascii_case(t)))
        .collect();
    (!missing.is_empty()).then(|| missing.join(", "))
}

pub struct UserAgent {
    ctx: Ctx,
    reg: Registration,
    calls: LiteMap<CallId, Call>,
    next_call: u32,
    /// The connection dropped with calls up: refresh them once registered.
    resume_calls: bool,
    /// Do not disturb: new calls get 486.
    dnd: bool,
    /// See [`Command::SetAudioCodecs`].
    audio_codecs: Vec<String>,
    /// See [`Command::SetMediaAvailable`].
    media_available: bool,
    /// Instant messages in flight.
    im: Messages,
    /// Subscriptions and our presence publication.
    subs: Subscriptions,
}

/// [`UserAgent::table_sizes`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TableSizes {
    pub calls: usize,
    pub client_transactions: usize,
    pub server_transactions: usize,
    pub transaction_timers: usize,
    /// The agent's own timers (registration refresh, keep-alive, reaping, …).
    pub timers: usize,
    pub subscriptions: usize,
    pub messages_pending: usize,
    /// Outputs not yet polled.
    pub outputs: usize,
}

/// How long a pong may take before the connection counts as dead.
pub const PONG_TIMEOUT: super::Duration = super::Duration::from_secs(10);

impl UserAgent {
    /// `seed` feeds the generator of tags, branches and Call-IDs.
    pub fn new(config: AccountConfig, seed: u64) -> Result<UserAgent, ConfigError> {
        let aor = config.aor.trim();
        let uri = SipUri::parse(aor).map_err(|e| ConfigError::InvalidAddress {
            aor: aor.to_string(),
            reason: e.reason().to_string(),
        })?;
        let user =
            uri.user
                .clone()
                .filter(|u| !u.is_empty())
                .ok_or_else(|| ConfigError::NoUser {
                    aor: aor.to_string(),
                })?;
        let domain = match uri.port {
            Some(p) => format!("{}:{p}", uri.host),
            None => uri.host.clone(),
        };
        let mut rng = Rng::new(seed);
        let via_host = format!("{}.invalid", rng.token(12));
        let contact_uri = format!(
            "sip:{}@{via_host};transport={}",
            rng.token(8),
            config.transport.uri_param()
        );
        let auth_user = if config.auth_user.trim().is_empty() {
            user
        } else {
            config.auth_user.trim().to_string()
        };
        let local = Local {
            aor: format!("{}:{}@{domain}", uri.scheme, uri.user.unwrap_or_default()),
            domain,
            display_name: config.display_name.trim().to_string(),
            auth_user,
            password: config.password.clone(),
            transport: config.transport,
            via_host,
            contact_uri,
            user_agent: config.user_agent.clone(),
            register_expires: config.register_expires.max(1),
            instance_id: valid_instance_id(&config.instance_id),
            gruu: None,
            outbound: false,
        };
        let mut ctx = Ctx {
            local,
            rng,
            connected: false,
            txs: Transactions::default(),
            timers: Timers::default(),
            out: VecDeque::new(),
            keepalive_secs: config.keepalive_secs,
            pong_seen: false,
            invite_auth: None,
        };
        let reg = Registration::new(&mut ctx);
        Ok(UserAgent {
            ctx,
            reg,
            calls: LiteMap::new(),
            next_call: 1,
            resume_calls: false,
            dnd: false,
            audio_codecs: Vec::new(),
            media_available: true,
            im: Messages::default(),
            subs: Subscriptions::new(config.publish_presence),
        })
    }

    pub fn registration_state(&self) -> &RegistrationState {
        &self.reg.state
    }

    /// Calls not yet forgotten (ended calls linger for a while).
    pub fn call_count(&self) -> usize {
        self.calls.len()
    }

    /// The size of every table the agent keeps, to check that nothing
    /// accumulates over many calls (each returns to its idle size once
    /// ended calls and transactions have lingered).
    pub fn table_sizes(&self) -> TableSizes {
        TableSizes {
            calls: self.calls.len(),
            client_transactions: self.ctx.txs.client_count(),
            server_transactions: self.ctx.txs.server_count(),
            transaction_timers: self.ctx.txs.timer_count(),
            timers: self.ctx.timers.len(),
            subscriptions: self.subs.len(),
            messages_pending: self.im.pending_count(),
            outputs: self.ctx.out.len(),
        }
    }

    /// Our Contact URI (the `.invalid` host browsers use).
    pub fn contact_uri(&self) -> &str {
        &self.ctx.local.contact_uri
    }

    /// Handle one input. `Err`: it was refused (a call the agent does not
    /// know, an answer to a call that is not ringing), and nothing
    /// happened: no output, no state changed.
    pub fn handle_input(&mut self, now: Instant, input: Input) -> Result<(), InputError> {
        self.check(&input)?;
        match input {
            Input::Connected => self.on_connected(now),
            Input::Disconnected { reason } => self.on_disconnected(now, &reason),
            Input::Received(bytes) => self.on_bytes(now, &bytes),
            Input::Command(cmd) => self.on_command(now, cmd),
            Input::LocalSdp { call, sdp } => {
                if let Some(c) = self.calls.get_mut(&call) {
                    c.on_local_sdp(&mut self.ctx, now, sdp);
                }
            }
            Input::MediaFailed { call, reason } => {
                if let Some(c) = self.calls.get_mut(&call) {
                    c.on_media_failed(&mut self.ctx, now, &reason);
                }
            }
            Input::IceFailed { call } => {
                if let Some(c) = self.calls.get_mut(&call) {
                    c.on_ice_failed(&mut self.ctx, now);
                }
            }
            Input::Timeout => self.on_timeout(now),
        }
        call::link_calls(&mut self.ctx, now, &mut self.calls, &mut self.next_call);
        self.reap_ended(now);
        self.after_input(now);
        Ok(())
    }

    /// Refuse an input naming a call we do not know, and an answer to a
    /// call that is not ringing, before anything happens.
    fn check(&self, input: &Input) -> Result<(), InputError> {
        let named = match input {
            Input::LocalSdp { call, .. }
            | Input::MediaFailed { call, .. }
            | Input::IceFailed { call } => [Some(*call), None],
            Input::Command(cmd) => match cmd {
                Command::Answer { call }
                | Command::Hangup { call }
                | Command::Hold { call }
                | Command::Renegotiate { call }
                | Command::Resume { call }
                | Command::SendDtmf { call, .. }
                | Command::Transfer { call, .. } => [Some(*call), None],
                Command::AttendedTransfer { call, consult } => [Some(*call), Some(*consult)],
                _ => [None, None],
            },
            _ => [None, None],
        };
        if let Some(unknown) = named
            .into_iter()
            .flatten()
            .find(|c| !self.calls.contains_key(c))
        {
            return Err(InputError::UnknownCall(unknown));
        }
        if let Input::Command(Command::Answer { call }) = input {
            if !self.calls.get(call).is_some_and(Call::is_ringing) {
                return Err(InputError::NotRinging(*call));
            }
        }
        Ok(())
    }

    /// Subscriptions and the presence publication follow the registration
    /// and the call situation.
    fn after_input(&mut self, now: Instant) {
        let registered = matches!(self.reg.state, RegistrationState::Registered { .. });
        let live = self.calls.values().filter(|c| !c.is_ended());
        let mut activity = Activity::Idle;
        for c in live {
            if c.is_established() {
                activity = Activity::InCall;
                break;
            }
            activity = Activity::Ringing;
        }
        self.subs
            .after_input(&mut self.ctx, now, registered, activity);
    }

    /// Subscriptions wanted (not being removed).
    pub fn subscription_count(&self) -> usize {
        self.subs.count()
    }

    pub fn poll_output(&mut self) -> Option<Output> {
        self.ctx.out.pop_front()
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        match (self.ctx.timers.next(), self.ctx.txs.next_deadline()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn reap_ended(&mut self, now: Instant) {
        for (id, c) in &self.calls {
            if c.is_ended() && !self.ctx.timers.is_set(&TimerKey::Reap(*id)) {
                self.ctx
                    .timers
                    .set(TimerKey::Reap(*id), now + super::timers::TIMEOUT_64T1);
            }
        }
    }

    fn on_command(&mut self, now: Instant, cmd: Command) {
        match cmd {
            Command::Register => self.reg.register(&mut self.ctx, now),
            Command::Unregister => {
                self.subs.publication.stop(&mut self.ctx, now);
                self.reg.unregister(&mut self.ctx, now);
            }
            Command::SendMessage { id, to, text } => {
                self.im.send(&mut self.ctx, now, id, &to, &text);
            }
            Command::Subscribe { target, package } => {
                self.subs.subscribe(&mut self.ctx, now, &target, package);
            }
            Command::Unsubscribe { target, package } => {
                self.subs.unsubscribe(&mut self.ctx, now, &target, package);
            }
            Command::Call { .. } if !self.media_available => {
                self.ctx.event(Event::Warning(Warning::NoMedia))
            }
            Command::Call { target } => {
                let id = CallId(self.next_call);
                self.next_call += 1;
                match call::target_uri(&target, &self.ctx.local.domain) {
                    Ok(uri) => {
                        let c = Call::outgoing(&mut self.ctx, id, uri);
                        self.calls.insert(id, c);
                    }
                    Err(bad) => self.ctx.event(Event::Warning(Warning::BadTarget(bad))),
                }
            }
            Command::Answer { call } => {
                if let Some(c) = self.calls.get_mut(&call) {
                    c.answer(&mut self.ctx);
                }
            }
            Command::Hangup { call } => {
                if let Some(c) = self.calls.get_mut(&call) {
                    c.hangup(&mut self.ctx, now);
                }
            }
            Command::Hold { call } => {
                if let Some(c) = self.calls.get_mut(&call) {
                    c.set_hold(&mut self.ctx, now, true);
                }
            }
            Command::Resume { call } => {
                if let Some(c) = self.calls.get_mut(&call) {
                    c.set_hold(&mut self.ctx, now, false);
                }
            }
            Command::Renegotiate { call } => {
                if let Some(c) = self.calls.get_mut(&call) {
                    c.renegotiate(&mut self.ctx, now);
                }
            }
            Command::SendDtmf {
                call,
                digits,
                method,
            } => {
                if let Some(c) = self.calls.get_mut(&call) {
                    c.send_dtmf(&mut self.ctx, now, &digits, method);
                }
            }
            Command::Transfer { call, target } => {
                match call::target_uri(&target, &self.ctx.local.domain) {
                    Ok(uri) => {
                        if let Some(c) = self.calls.get_mut(&call) {
                            c.transfer(&mut self.ctx, now, format!("<{uri}>"));
                        }
                    }
                    Err(bad) => self.ctx.event(Event::Warning(Warning::BadTarget(bad))),
                }
            }
            Command::AttendedTransfer { call, consult } => {
                let refer_to = self.calls.get(&consult).and_then(|c| c.replaces_uri());
                match (refer_to, self.calls.get_mut(&call)) {
                    (Some(refer_to), Some(c)) if call != consult => {
                        c.transfer(&mut self.ctx, now, refer_to)
                    }
                    _ => self
                        .ctx
                        .event(Event::Warning(Warning::AttendedTransferNeedsTwoCalls {
                            call,
                            consult,
                        })),
                }
            }
            Command::SetDnd { on } => self.dnd = on,
            Command::SetAudioCodecs { codecs } => self.audio_codecs = codecs,
            Command::SetMediaAvailable { available } => self.media_available = available,
            Command::Shutdown => {
                for c in calls_mut(&mut self.calls) {
                    c.hangup(&mut self.ctx, now);
                }
                self.subs.unsubscribe_all(&mut self.ctx, now);
                self.subs.publication.stop(&mut self.ctx, now);
                self.reg.unregister(&mut self.ctx, now);
            }
        }
    }

    fn on_connected(&mut self, now: Instant) {
        self.ctx.connected = true;
        self.ctx.pong_seen = false;
        self.ctx.timers.cancel(&TimerKey::PongTimeout);
        if self.ctx.keepalive_secs > 0 {
            let every = super::Duration::from_secs(u64::from(self.ctx.keepalive_secs));
            self.ctx.timers.set(TimerKey::KeepAlive, now + every);
        }
    }

    fn on_disconnected(&mut self, now: Instant, reason: &str) {
        self.ctx.connected = false;
        self.ctx.invite_auth = None;
        self.ctx.timers.cancel(&TimerKey::KeepAlive);
        self.ctx.timers.cancel(&TimerKey::PongTimeout);
        self.reg.on_disconnected(&mut self.ctx);
        for failed in self.ctx.txs.fail_all() {
            match failed.owner {
                Owner::Invite(id) => {
                    if let Some(c) = self.calls.get_mut(&id) {
                        c.on_invite_timeout(&mut self.ctx, now, &failed.request, reason);
                    }
                }
                Owner::InDialog(id) => {
                    if let Some(c) = self.calls.get_mut(&id) {
                        c.on_request_timeout(&mut self.ctx, now, &failed.request);
                    }
                }
                Owner::Message(n) => self.im.on_timeout(&mut self.ctx, n, true),
                _ => {}
            }
        }
        self.subs.on_disconnected(&mut self.ctx);
        for c in calls_mut(&mut self.calls) {
            c.on_disconnected(&mut self.ctx, now);
        }
        if self.calls.values().any(|c| c.is_established()) {
            self.resume_calls = true;
        }
    }

    /// After a REGISTER answer: registered again after a reconnection, so
    /// the calls that waited can tell their peers where we are now.
    fn after_registration(&mut self, now: Instant) {
        if self.resume_calls && matches!(self.reg.state, RegistrationState::Registered { .. }) {
            self.resume_calls = false;
            for c in calls_mut(&mut self.calls) {
                c.on_reregistered(&mut self.ctx, now);
            }
        }
    }

    fn on_keepalive_timer(&mut self, now: Instant) {
        if !self.ctx.connected || self.ctx.keepalive_secs == 0 {
            return;
        }
        self.ctx.send(b"\r\n\r\n".to_vec());
        // pings more often than PONG_TIMEOUT must not push the deadline of
        // the oldest unanswered one away for ever
        if !self.ctx.timers.is_set(&TimerKey::PongTimeout) {
            self.ctx
                .timers
                .set(TimerKey::PongTimeout, now + PONG_TIMEOUT);
        }
        let every = super::Duration::from_secs(u64::from(self.ctx.keepalive_secs));
        self.ctx.timers.set(TimerKey::KeepAlive, now + every);
    }

    fn on_pong_timeout(&mut self) {
        if !self.ctx.connected {
            return;
        }
        if self.ctx.pong_seen {
            // it answered pings before: the connection is dead
            crate::log::warn!("no pong to the keep-alive ping: reconnecting");
            self.ctx.out.push_back(Output::Reconnect {
                reason: "the server stopped answering keep-alive pings".into(),
            });
        } else {
            crate::log::debug!("the server does not answer CRLF pings: not relying on them");
        }
    }

    fn on_timeout(&mut self, now: Instant) {
        for failed in self.ctx.txs.on_timeout(now) {
            match failed.owner {
                Owner::Register => self.reg.on_timeout(
                    &mut self.ctx,
                    &failed.request,
                    "The server did not answer the registration.",
                ),
                Owner::Invite(id) => {
                    if let Some(c) = self.calls.get_mut(&id) {
                        c.on_invite_timeout(
                            &mut self.ctx,
                            now,
                            &failed.request,
                            "the server did not answer",
                        );
                    }
                }
                Owner::InDialog(id) => {
                    if let Some(c) = self.calls.get_mut(&id) {
                        c.on_request_timeout(&mut self.ctx, now, &failed.request);
                    }
                }
                Owner::Fire => {}
                Owner::Message(n) => self.im.on_timeout(&mut self.ctx, n, false),
                Owner::Subscribe(id) => {
                    self.subs
                        .on_tx_timeout(&mut self.ctx, now, id, &failed.request, false)
                }
                Owner::Publish => {
                    self.subs
                        .publication
                        .on_tx_timeout(&mut self.ctx, &failed.request, false)
                }
            }
        }
        for key in self.ctx.timers.take_expired(now) {
            match key {
                TimerKey::RegisterRefresh => self.reg.on_refresh_timer(&mut self.ctx, now),
                TimerKey::Retransmit2xx(id) => {
                    if let Some(c) = self.calls.get_mut(&id) {
                        c.on_retransmit_timer(&mut self.ctx, now);
                    }
                }
                TimerKey::NoAck(id) => {
                    if let Some(c) = self.calls.get_mut(&id) {
                        c.on_no_ack(&mut self.ctx, now);
                    }
                }
                TimerKey::Reap(id) => {
                    self.calls.remove(&id);
                }
                TimerKey::Reinvite(id) => {
                    if let Some(c) = self.calls.get_mut(&id) {
                        c.on_reinvite_timer(&mut self.ctx, now);
                    }
                }
                TimerKey::SessionRefresh(id) => {
                    if let Some(c) = self.calls.get_mut(&id) {
                        c.on_session_refresh_timer(&mut self.ctx, now);
                    }
                }
                TimerKey::SessionExpiry(id) => {
                    if let Some(c) = self.calls.get_mut(&id) {
                        c.on_session_expiry_timer(&mut self.ctx, now);
                    }
                }
                TimerKey::KeepAlive => self.on_keepalive_timer(now),
                TimerKey::PongTimeout => self.on_pong_timeout(),
                TimerKey::Subscription(id) => self.subs.on_timer(&mut self.ctx, now, id),
                TimerKey::PublishRefresh => self.subs.publication.on_timer(&mut self.ctx, now),
            }
        }
    }

    fn on_bytes(&mut self, now: Instant, bytes: &[u8]) {
        // anything from the server shows the connection is alive
        self.ctx.timers.cancel(&TimerKey::PongTimeout);
        // the one entry point for network bytes (sip-inspect uses it too)
        match message::classify(bytes) {
            Incoming::KeepAlive => {
                // CRLF keep-alive (RFC 5626 4.4.1): a pong to our ping
                self.ctx.pong_seen = true;
            }
            Incoming::Request(msg) => self.on_request(now, msg),
            Incoming::Response(msg) => self.on_response(now, msg),
            Incoming::Malformed { reason, reply } => {
                let answered = reply.is_some();
                if let Some(r) = reply {
                    // stateless: there is no transaction for a bad request
                    self.ctx.send(r.to_bytes());
                }
                crate::log::warn!(
                    "malformed SIP message ({reason}): {}",
                    if answered { "answered 400" } else { "dropped" }
                );
                // no details: the reason may quote text the sender chose
                self.ctx.event(Event::Warning(Warning::MalformedMessage));
            }
        }
    }

    fn on_response(&mut self, now: Instant, resp: Message) {
        match self.ctx.txs.on_response(&resp) {
            ResponseMatch::Deliver {
                owner,
                request,
                ack,
            } => {
                if let Some(ack) = ack {
                    self.ctx.send(ack);
                }
                match owner {
                    Owner::Register => {
                        self.reg.on_response(&mut self.ctx, now, &request, &resp);
                        self.after_registration(now);
                    }
                    Owner::Invite(id) => {
                        if let Some(c) = self.calls.get_mut(&id) {
                            c.on_invite_response(&mut self.ctx, now, &request, &resp);
                        }
                    }
                    Owner::InDialog(id) => {
                        if let Some(c) = self.calls.get_mut(&id) {
                            c.on_request_response(&mut self.ctx, now, &request, &resp);
                        }
                    }
                    Owner::Fire => {}
                    Owner::Message(n) => self.im.on_response(&mut self.ctx, now, n, &resp),
                    Owner::Subscribe(id) => {
                        self.subs
                            .on_response(&mut self.ctx, now, id, &request, &resp)
                    }
                    Owner::Publish => {
                        self.subs
                            .publication
                            .on_response(&mut self.ctx, now, &request, &resp)
                    }
                }
            }
            ResponseMatch::NoMatch => {
                // a retransmitted 2xx to our INVITE: acknowledge it again
                let is_invite_2xx = resp.cseq().is_some_and(|c| c.method == Method::Invite)
                    && resp.code().is_some_and(|c| (200..300).contains(&c));
                if is_invite_2xx {
                    if let Some(c) = calls_mut(&mut self.calls).find(|c| c.owns_response(&resp)) {
                        c.on_2xx_retransmission(&mut self.ctx, now, &resp);
                        return;
                    }
                }
                crate::log::debug!("response matches no transaction: dropped");
            }
        }
    }

    fn on_request(&mut self, now: Instant, req: Message) {
        let key = TxKey::of_request(&req);
        match self.ctx.txs.on_request(&req) {
            RequestMatch::Retransmission { resend } => {
                if let Some(bytes) = resend {
                    self.ctx.send(bytes);
                }
                return;
            }
            RequestMatch::AckAbsorbed => return,
            RequestMatch::New => {}
        }
        let Some(method) = req.method().cloned() else {
            return;
        };
        let Some(key) = key else {
            // no branch: answer statelessly where we can
            if method != Method::Ack {
                let r = response_to(&req, 400, "Missing Via branch", None);
                self.ctx.send(r.to_bytes());
            }
            return;
        };
        if let Some(unsupported) = unsupported_requirements(&req, &method) {
            // RFC 3261 8.2.2.3: an extension we do not have is required
            let mut r = response_to(&req, 420, "Bad Extension", Some(&self.ctx.rng.token(10)));
            r.push_header("Unsupported", unsupported);
            self.ctx.respond(now, &key, &r);
            return;
        }
        let in_dialog = req.to().is_some_and(|t| t.tag().is_some());
        if in_dialog {
            if let Some(c) = calls_mut(&mut self.calls).find(|c| c.owns_request(&req)) {
                c.on_in_dialog_request(&mut self.ctx, now, &key, &req);
                return;
            }
            // NOTIFYs of our subscriptions, after the calls had their chance
            if method == Method::Notify && self.subs.on_notify(&mut self.ctx, now, &key, &req) {
                return;
            }
            match method {
                Method::Ack => {}
                _ => self.ctx.reply(
                    now,
                    &key,
                    &req,
                    481,
                    "Call/Transaction Does Not Exist",
                    None,
                ),
            }
            return;
        }
        match method {
            Method::Invite => self.on_new_invite(now, &key, &req),
            Method::Cancel => self.on_cancel(now, &key, &req),
            Method::Message => im::on_incoming(&mut self.ctx, now, &key, &req),
            Method::Notify => {
                // a NOTIFY that beat the 2xx to our SUBSCRIBE has a To tag;
                // this one has none: unsolicited (message-summary)
                subscription::on_unsolicited_notify(&mut self.ctx, now, &key, &req)
            }
            Method::Ack => {}
            _ => self.ctx.reply_stateless(now, &key, &req, None),
        }
    }

    fn on_new_invite(&mut self, now: Instant, key: &TxKey, req: &Message) {
        // RFC 3891: an INVITE that replaces one of our dialogs (attended
        // transfer) is neither call waiting nor refused by DND
        let replaces = match req.header("Replaces") {
            Some(v) => match call::find_replaced(&self.calls, v) {
                Ok(old) => Some(old),
                Err((code, reason)) => {
                    self.ctx.reply(now, key, req, code, reason, None);
                    return;
                }
            },
            None => None,
        };
        if !self.media_available {
            // no WebRTC here: say so at once instead of ringing a call that
            // could never be answered
            self.ctx
                .reply(now, key, req, 488, "Not Acceptable Here", None);
            return;
        }
        let up = self.calls.values().filter(|c| !c.is_ended()).count();
        if replaces.is_none() && (self.dnd || up >= call::MAX_CALLS) {
            self.ctx.reply(now, key, req, 486, "Busy Here", None);
            return;
        }
        if let Some(offer) = call::sdp_body(req) {
            if !sdp::has_codec(&offer, &self.audio_codecs) {
                let offered: Vec<String> = sdp::voice_codecs(&offer)
                    .into_iter()
                    .map(str::to_string)
                    .collect();
                let from = req.from().map(|f| call::party_of(&f)).unwrap_or_default();
                crate::log::warn!(
                    "INVITE from {}: none of the audio codecs {} offered ({}): 488",
                    from.uri,
                    self.audio_codecs.join(" "),
                    offered.join(" ")
                );
                let tag = self.ctx.rng.token(10);
                let mut r = response_to(req, 488, "Not Acceptable Here", Some(&tag));
                r.push_header("Warning", "305 softphone \"Incompatible media format\"");
                self.ctx.respond(now, key, &r);
                self.ctx
                    .event(Event::Warning(Warning::IncompatibleOffer { from, offered }));
                return;
            }
        }
        let id = CallId(self.next_call);
        match Call::incoming(&mut self.ctx, now, id, key, req, replaces) {
            Ok(c) => {
                self.next_call += 1;
                self.calls.insert(id, c);
            }
            Err((code, reason, headers)) => {
                let tag = self.ctx.rng.token(10);
                let mut r = response_to(req, code, &reason, Some(&tag));
                for (name, value) in headers {
                    r.push_header(name, value);
                }
                self.ctx.respond(now, key, &r);
            }
        }
    }

    fn on_cancel(&mut self, now: Instant, key: &TxKey, req: &Message) {
        let invite_key = TxKey {
            branch: key.branch.clone(),
            method: "INVITE".into(),
        };
        if !self.ctx.txs.server_proceeding(&invite_key) {
            // RFC 3261 9.2: an INVITE already answered: 200, and no effect
            let answered = self.calls.values().find(|c| c.has_invite_tx(&invite_key));
            match answered {
                Some(c) => {
                    let tag = c.local_tag().to_string();
                    self.ctx.reply(now, key, req, 200, "OK", Some(&tag));
                }
                None => self
                    .ctx
                    .reply(now, key, req, 481, "Call/Transaction Does Not Exist", None),
            }
            return;
        }
        let call = calls_mut(&mut self.calls).find(|c| c.has_invite_tx(&invite_key));
        // the 200 to a CANCEL carries the To tag of the INVITE's responses
        let tag = call.as_ref().map(|c| c.local_tag().to_string());
        self.ctx.reply(now, key, req, 200, "OK", tag.as_deref());
        if let Some(c) = call {
            c.on_cancelled(&mut self.ctx, now);
        }
    }
}
