//! Event subscriptions (RFC 6665) for presence (RFC 3856), dialog state
//! (RFC 4235) and message waiting (RFC 3842), and publication of our own
//! presence (RFC 3903).
//!
//! Subscriptions wait for a registration (NOTIFYs must find us: the dialog
//! Contact is the GRUU), are refreshed at 2/3 of the granted expiry, are
//! started again after a reconnection, and never retry in a storm: a
//! refused subscription is retried once after five minutes, then dropped.

use super::agent::{Ctx, Owner, TimerKey};
use super::call;
use super::dialog::Dialog;
use super::event_bodies;
use super::message::{Message, Method};
use super::registration::Credentials;
use super::transaction::TxKey;
use super::{Duration, Event, EventPackage, Instant};
use litemap::LiteMap;

/// The expiry we ask for SUBSCRIBE and PUBLISH.
pub const EXPIRES: u32 = 600;
/// The wait before subscribing again after a `terminated` NOTIFY without
/// `retry-after`.
pub const RESUBSCRIBE_AFTER: Duration = Duration::from_secs(60);
/// The wait before the one retry of a refused subscription.
pub const RETRY_REFUSED_AFTER: Duration = Duration::from_secs(300);
/// How long an ended subscription lingers to answer its last NOTIFYs.
const LINGER: Duration = Duration::from_secs(32);

/// When to refresh something granted for `secs` seconds: at 2/3.
pub fn refresh_after(secs: u32) -> Duration {
    Duration::from_secs(u64::from((secs.max(3) / 3) * 2))
}

fn accept_of(p: EventPackage) -> &'static str {
    match p {
        EventPackage::Presence => "application/pidf+xml",
        EventPackage::Dialog => "application/dialog-info+xml",
        EventPackage::MessageSummary => "application/simple-message-summary",
    }
}

fn package_name(p: EventPackage) -> &'static str {
    match p {
        EventPackage::Presence => "presence",
        EventPackage::Dialog => "call state",
        EventPackage::MessageSummary => "voicemail",
    }
}

/// The part before `;` of a header value, lower case.
fn first_token(v: &str) -> String {
    v.split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// A `name=value` parameter of a header value.
fn header_param(v: &str, name: &str) -> Option<String> {
    v.split(';').skip(1).find_map(|p| {
        let (k, val) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case(name)
            .then(|| val.trim().trim_matches('"').to_string())
    })
}

/// A human sentence for a failed SUBSCRIBE.
fn refusal(package: EventPackage, code: u16, phrase: &str) -> String {
    let what = package_name(package);
    let phrase: String = phrase
        .chars()
        .filter(|c| !c.is_control())
        .take(80)
        .collect();
    match code {
        489 => format!("The server does not offer {what} information (489 Bad Event)."),
        403 | 603 => format!("The server refused to share {what} information ({code})."),
        404 | 604 => format!("No such user to watch for {what} ({code})."),
        _ => format!("Watching {what} failed: {code} {phrase}")
            .trim_end()
            .to_string(),
    }
}

/// Deliver the news of a NOTIFY body.
fn notify_event(ctx: &mut Ctx, target: &str, package: EventPackage, req: &Message) {
    if req.body.is_empty() {
        return;
    }
    let body = String::from_utf8_lossy(&req.body);
    match package {
        EventPackage::Presence => {
            let (status, note) = event_bodies::parse_pidf(&body);
            ctx.event(Event::Presence {
                target: target.to_string(),
                status,
                note,
            });
        }
        EventPackage::Dialog => {
            let status = event_bodies::parse_dialog_info(&body);
            ctx.event(Event::Presence {
                target: target.to_string(),
                status,
                note: None,
            });
        }
        EventPackage::MessageSummary => voicemail_event(ctx, &body),
    }
}

fn voicemail_event(ctx: &mut Ctx, body: &str) {
    if let Some((waiting, new, old)) = event_bodies::parse_message_summary(body) {
        ctx.event(Event::Voicemail { waiting, new, old });
    }
}

struct Sub {
    /// As given to [`super::Command::Subscribe`].
    target: String,
    uri: String,
    package: EventPackage,
    call_id: String,
    from_tag: String,
    cseq: u32,
    dialog: Option<Dialog>,
    pending: Option<TxKey>,
    auth: Credentials,
    /// The expiry to ask for (423 may raise it).
    expires: u32,
    /// The user wants it (false: it is being removed).
    wanted: bool,
    /// Final failures in a row (one retry, then give up).
    failures: u32,
    /// A 481 to a refresh already made us start over once.
    restarted: bool,
}

/// Our subscriptions and our presence publication.
pub struct Subscriptions {
    subs: LiteMap<u32, Sub>,
    next: u32,
    registered: bool,
    pub publication: Publication,
}

impl Subscriptions {
    pub fn new(publish_presence: bool) -> Subscriptions {
        Subscriptions {
            subs: LiteMap::new(),
            next: 1,
            registered: false,
            publication: Publication::new(publish_presence),
        }
    }

    /// `Command::Subscribe`.
    pub fn subscribe(&mut self, ctx: &mut Ctx, now: Instant, target: &str, package: EventPackage) {
        let exists = self
            .subs
            .values()
            .any(|s| s.wanted && s.target == target && s.package == package);
        if exists {
            return;
        }
        let uri = match call::target_uri(target, &ctx.local.domain) {
            Ok(u) => u,
            Err(bad) => {
                ctx.event(Event::SubscriptionFailed {
                    target: target.to_string(),
                    package,
                    reason: bad.to_string(),
                });
                return;
            }
        };
        let id = self.next;
        self.next = self.next.wrapping_add(1);
        let sub = Sub {
            target: target.to_string(),
            uri,
            package,
            call_id: String::new(),
            from_tag: String::new(),
            cseq: 0,
            dialog: None,
            pending: None,
            auth: Credentials::default(),
            expires: EXPIRES,
            wanted: true,
            failures: 0,
            restarted: false,
        };
        self.subs.insert(id, sub);
        if self.registered && ctx.connected {
            self.start_fresh(ctx, now, id);
        }
    }

    /// `Command::Unsubscribe`: SUBSCRIBE with Expires 0 in the dialog.
    pub fn unsubscribe(
        &mut self,
        ctx: &mut Ctx,
        now: Instant,
        target: &str,
        package: EventPackage,
    ) {
        let ids: Vec<u32> = self
            .subs
            .iter()
            .filter(|(_, s)| s.wanted && s.target == target && s.package == package)
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            self.end(ctx, now, id);
        }
    }

    /// Unsubscribe from everything (the page goes away).
    pub fn unsubscribe_all(&mut self, ctx: &mut Ctx, now: Instant) {
        let ids: Vec<u32> = self.subs.keys().copied().collect();
        for id in ids {
            self.end(ctx, now, id);
        }
    }

    fn end(&mut self, ctx: &mut Ctx, now: Instant, id: u32) {
        let Some(s) = self.subs.get_mut(&id) else {
            return;
        };
        s.wanted = false;
        ctx.timers.cancel(&TimerKey::Subscription(id));
        if s.dialog.is_some() && ctx.connected {
            self.send(ctx, now, id, 0);
            ctx.timers.set(TimerKey::Subscription(id), now + LINGER);
        } else {
            self.subs.remove(&id);
        }
    }

    /// Every subscription the table holds, wanted or ending.
    pub fn len(&self) -> usize {
        self.subs.len()
    }

    /// How many subscriptions are wanted (for tests and the UI).
    pub fn count(&self) -> usize {
        self.subs.values().filter(|s| s.wanted).count()
    }

    /// A new dialog: fresh Call-ID and tag.
    fn start_fresh(&mut self, ctx: &mut Ctx, now: Instant, id: u32) {
        let Some(s) = self.subs.get_mut(&id) else {
            return;
        };
        s.call_id = ctx.rng.token(24);
        s.from_tag = ctx.rng.token(10);
        s.cseq = 0;
        s.dialog = None;
        s.auth.reset_attempts();
        let expires = s.expires;
        self.send(ctx, now, id, expires);
    }

    fn send(&mut self, ctx: &mut Ctx, now: Instant, id: u32, expires: u32) {
        let Some(s) = self.subs.get_mut(&id) else {
            return;
        };
        let mut m = match s.dialog.as_mut() {
            Some(d) => {
                let mut m = d.request(Method::Subscribe);
                s.cseq = d.local_seq;
                m.push_header("Via", ctx.via());
                m
            }
            None => {
                s.cseq += 1;
                let to = format!("<{}>", s.uri);
                ctx.out_of_dialog(
                    Method::Subscribe,
                    &s.uri,
                    to,
                    &s.from_tag,
                    &s.call_id,
                    s.cseq,
                )
            }
        };
        // Via first: Dialog::request puts Route etc. before it; move it up
        reorder_via_first(&mut m);
        m.push_header("Contact", ctx.local.dialog_contact());
        m.push_header("Event", s.package.token());
        m.push_header("Accept", accept_of(s.package));
        m.push_header("Expires", expires.to_string());
        m.push_header("Allow", super::agent::ALLOW);
        m.push_header("User-Agent", ctx.local.user_agent.clone());
        s.auth.apply(ctx, &mut m);
        s.pending = TxKey::of_request(&m);
        let bytes = ctx.txs.start_client(now, m, Owner::Subscribe(id));
        ctx.send(bytes);
    }

    /// The answer to our SUBSCRIBE for subscription `id`.
    pub fn on_response(
        &mut self,
        ctx: &mut Ctx,
        now: Instant,
        id: u32,
        req: &Message,
        resp: &Message,
    ) {
        let Some(s) = self.subs.get_mut(&id) else {
            return;
        };
        if TxKey::of_request(req) != s.pending {
            return;
        }
        let Some(code) = resp.code() else { return };
        if code < 200 {
            return;
        }
        s.pending = None;
        let asked = req.expires().unwrap_or(EXPIRES);
        match code {
            200..=299 => {
                s.auth.reset_attempts();
                s.failures = 0;
                if asked == 0 || !s.wanted {
                    // unsubscribed: linger for the final NOTIFY
                    return;
                }
                if s.dialog.is_none() {
                    match Dialog::new_uac(req, resp) {
                        Ok(d) => s.dialog = Some(d),
                        Err(e) => crate::log::debug!("SUBSCRIBE 2xx without a dialog: {}", e.0),
                    }
                }
                let granted = resp.expires().unwrap_or(asked).min(asked.max(1));
                if granted == 0 {
                    // the notifier ended it at once; its NOTIFY says why
                    return;
                }
                let at = now + refresh_after(granted);
                ctx.timers.set(TimerKey::Subscription(id), at);
            }
            401 | 407 => match s.auth.on_challenge(resp) {
                Ok(()) => self.send(ctx, now, id, asked),
                Err(reason) => self.refused(ctx, now, id, reason),
            },
            423 => match resp.min_expires() {
                Some(min) if min > asked && asked != 0 && min <= 24 * 3600 => {
                    s.expires = min;
                    self.send(ctx, now, id, min);
                }
                _ => {
                    let reason = refusal(s.package, code, resp.reason().unwrap_or(""));
                    self.refused(ctx, now, id, reason);
                }
            },
            481 if s.dialog.is_some() && !s.restarted && s.wanted => {
                // the notifier forgot us: start a new subscription, once
                s.restarted = true;
                self.start_fresh(ctx, now, id);
            }
            _ => {
                if !s.wanted {
                    self.subs.remove(&id);
                    return;
                }
                let reason = refusal(s.package, code, resp.reason().unwrap_or(""));
                self.refused(ctx, now, id, reason);
            }
        }
    }

    /// A final failure: tell the user; retry once after five minutes.
    fn refused(&mut self, ctx: &mut Ctx, now: Instant, id: u32, reason: String) {
        let Some(s) = self.subs.get_mut(&id) else {
            return;
        };
        if !s.wanted {
            self.subs.remove(&id);
            return;
        }
        s.dialog = None;
        s.failures += 1;
        ctx.event(Event::SubscriptionFailed {
            target: s.target.clone(),
            package: s.package,
            reason,
        });
        if s.failures <= 1 {
            ctx.timers
                .set(TimerKey::Subscription(id), now + RETRY_REFUSED_AFTER);
        } else {
            self.subs.remove(&id);
            ctx.timers.cancel(&TimerKey::Subscription(id));
        }
    }

    /// The SUBSCRIBE got no answer (`lost`: the connection went away; the
    /// subscription is started again once registered).
    pub fn on_tx_timeout(
        &mut self,
        ctx: &mut Ctx,
        now: Instant,
        id: u32,
        req: &Message,
        lost: bool,
    ) {
        let Some(s) = self.subs.get_mut(&id) else {
            return;
        };
        if TxKey::of_request(req) != s.pending {
            return;
        }
        s.pending = None;
        if lost {
            return;
        }
        if s.dialog.is_some() && ctx.timers.is_set(&TimerKey::Subscription(id)) {
            // a NOTIFY already confirmed the subscription (RFC 6665 4.1.2.4):
            // its 2xx got lost on the way
            return;
        }
        let reason = format!(
            "The server did not answer the request for {} information.",
            package_name(s.package)
        );
        self.refused(ctx, now, id, reason);
    }

    /// `TimerKey::Subscription(id)`: refresh, retry, or forget.
    pub fn on_timer(&mut self, ctx: &mut Ctx, now: Instant, id: u32) {
        let Some(s) = self.subs.get(&id) else {
            return;
        };
        if !s.wanted {
            self.subs.remove(&id);
            return;
        }
        if s.pending.is_some() {
            return;
        }
        if !ctx.connected || !self.registered {
            // not reachable now: a new subscription once registered again
            if let Some(s) = self.subs.get_mut(&id) {
                s.dialog = None;
            }
            return;
        }
        if s.dialog.is_some() {
            let expires = s.expires;
            self.send(ctx, now, id, expires);
        } else {
            self.start_fresh(ctx, now, id);
        }
    }

    /// An in-dialog NOTIFY: `true` when it belongs to one of our
    /// subscriptions (it was answered), `false` otherwise.
    pub fn on_notify(&mut self, ctx: &mut Ctx, now: Instant, key: &TxKey, req: &Message) -> bool {
        let to_tag = req.to().and_then(|t| t.tag().map(str::to_string));
        let found = self.subs.iter().find_map(|(id, s)| {
            (!s.call_id.is_empty()
                && req.call_id() == Some(s.call_id.as_str())
                && to_tag.as_deref() == Some(s.from_tag.as_str()))
            .then_some(*id)
        });
        let Some(id) = found else {
            return false;
        };
        let Some(s) = self.subs.get_mut(&id) else {
            return false;
        };
        if s.dialog.is_none() {
            // the NOTIFY came before the 2xx: it makes the dialog
            s.dialog = dialog_from_notify(req, s.cseq);
        }
        if let (Some(d), Some(seq)) = (s.dialog.as_mut(), req.cseq().map(|c| c.seq)) {
            if !d.accept_remote_seq(seq) {
                ctx.reply(now, key, req, 500, "CSeq Out of Order", None);
                return true;
            }
        }
        ctx.reply(now, key, req, 200, "OK", None);
        let state_value = req.header("Subscription-State").unwrap_or("active");
        let state = first_token(state_value);
        if s.wanted {
            notify_event(ctx, &s.target, s.package, req);
        }
        if state == "terminated" {
            s.dialog = None;
            let reason = header_param(state_value, "reason")
                .unwrap_or_default()
                .to_ascii_lowercase();
            if !s.wanted {
                self.subs.remove(&id);
                ctx.timers.cancel(&TimerKey::Subscription(id));
                return true;
            }
            if reason == "rejected" || reason == "noresource" {
                ctx.event(Event::SubscriptionFailed {
                    target: s.target.clone(),
                    package: s.package,
                    reason: format!(
                        "The server ended the {} subscription ({reason}).",
                        package_name(s.package)
                    ),
                });
                self.subs.remove(&id);
                ctx.timers.cancel(&TimerKey::Subscription(id));
                return true;
            }
            let wait = header_param(state_value, "retry-after")
                .and_then(|r| r.parse::<u64>().ok())
                .map(|r| Duration::from_secs(r.clamp(1, 24 * 3600)))
                .unwrap_or(RESUBSCRIBE_AFTER);
            ctx.timers.set(TimerKey::Subscription(id), now + wait);
        } else if s.wanted {
            // the notifier may shorten the subscription
            if let Some(exp) = header_param(state_value, "expires").and_then(|e| e.parse().ok()) {
                let at = now + refresh_after(exp);
                let later = ctx
                    .timers
                    .deadline(&TimerKey::Subscription(id))
                    .is_none_or(|d| d > at);
                if later {
                    ctx.timers.set(TimerKey::Subscription(id), at);
                }
            }
        }
        true
    }

    /// The connection is gone: every dialog is stale (our Contact changes).
    pub fn on_disconnected(&mut self, ctx: &mut Ctx) {
        self.registered = false;
        let ids: Vec<u32> = self.subs.keys().copied().collect();
        for id in ids {
            ctx.timers.cancel(&TimerKey::Subscription(id));
            let keep = self.subs.get_mut(&id).is_some_and(|s| {
                s.pending = None;
                s.dialog = None;
                s.wanted
            });
            if !keep {
                self.subs.remove(&id);
            }
        }
        self.publication.on_disconnected(ctx);
    }

    /// After every input: follow the registration and the call situation.
    pub fn after_input(
        &mut self,
        ctx: &mut Ctx,
        now: Instant,
        registered: bool,
        activity: Activity,
    ) {
        if registered && !self.registered && ctx.connected {
            self.registered = true;
            let ids: Vec<u32> = self
                .subs
                .iter()
                .filter(|(id, s)| {
                    s.wanted
                        && s.dialog.is_none()
                        && s.pending.is_none()
                        && !ctx.timers.is_set(&TimerKey::Subscription(**id))
                })
                .map(|(id, _)| *id)
                .collect();
            for id in ids {
                self.start_fresh(ctx, now, id);
            }
            self.publication.activity = activity;
            self.publication.start(ctx, now);
        } else if !registered {
            self.registered = false;
        }
        self.publication.set_activity(ctx, now, activity);
    }
}

/// Move the Via header in front of the others (a fresh request's order).
fn reorder_via_first(m: &mut Message) {
    if let Some(pos) = m.headers.iter().position(|h| h.name == "Via") {
        let via = m.headers.remove(pos);
        m.headers.insert(0, via);
    }
}

/// The subscriber's dialog from a NOTIFY that arrived before the 2xx.
fn dialog_from_notify(req: &Message, local_seq: u32) -> Option<Dialog> {
    let from = req.from()?;
    let remote_tag = from.tag()?.to_string();
    let to = req.to()?;
    let local_tag = to.tag()?.to_string();
    let remote_target = super::dialog::remote_target_of(&req.contacts().first()?.uri).ok()?;
    super::dialog::check_route_set(&req.record_routes()).ok()?;
    let mut remote = from.clone();
    remote
        .params
        .retain(|(k, _)| !k.eq_ignore_ascii_case("tag"));
    Some(Dialog {
        call_id: req.call_id()?.to_string(),
        local_tag,
        remote_tag,
        local_uri: to.to_string(),
        remote_uri: remote.to_string(),
        remote_target,
        // a request we receive: its Record-Route in order (RFC 3261 12.1.1)
        route_set: req.record_routes(),
        local_seq,
        remote_seq: None,
    })
}

/// Unsolicited `message-summary` NOTIFY out of any dialog (some PBXes send
/// voicemail news without a subscription): 200 and [`Event::Voicemail`].
/// Other packages get 489.
pub fn on_unsolicited_notify(ctx: &mut Ctx, now: Instant, key: &TxKey, req: &Message) {
    let event = req.header("Event").map(first_token).unwrap_or_default();
    if event != "message-summary" {
        ctx.reply(now, key, req, 489, "Bad Event", None);
        return;
    }
    ctx.reply(now, key, req, 200, "OK", None);
    voicemail_event(ctx, &String::from_utf8_lossy(&req.body));
}

/// What our phone is doing, as published.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activity {
    Idle,
    /// A call is being set up (ringing here or there).
    Ringing,
    /// A call is established.
    InCall,
}

/// Our presence document at the server (PUBLISH, RFC 3903).
pub struct Publication {
    enabled: bool,
    /// We want to be published (registered and not unregistering).
    active: bool,
    /// The server refused publication: wait for the next registration.
    refused: bool,
    etag: Option<String>,
    pending: Option<TxKey>,
    /// What the pending request publishes (`None`: a refresh or removal).
    sending: Option<Activity>,
    published: Option<Activity>,
    activity: Activity,
    call_id: String,
    from_tag: String,
    cseq: u32,
    tuple: String,
    auth: Credentials,
}

impl Publication {
    fn new(enabled: bool) -> Publication {
        Publication {
            enabled,
            active: false,
            refused: false,
            etag: None,
            pending: None,
            sending: None,
            published: None,
            activity: Activity::Idle,
            call_id: String::new(),
            from_tag: String::new(),
            cseq: 0,
            tuple: String::new(),
            auth: Credentials::default(),
        }
    }

    fn start(&mut self, ctx: &mut Ctx, now: Instant) {
        if !self.enabled {
            return;
        }
        self.active = true;
        self.refused = false;
        if self.call_id.is_empty() {
            self.call_id = ctx.rng.token(24);
            self.from_tag = ctx.rng.token(10);
            self.tuple = ctx.rng.token(8);
        }
        if self.pending.is_none() {
            self.publish(ctx, now);
        }
    }

    /// Remove our document (Unregister, Shutdown).
    pub fn stop(&mut self, ctx: &mut Ctx, now: Instant) {
        if !self.active {
            return;
        }
        self.active = false;
        ctx.timers.cancel(&TimerKey::PublishRefresh);
        if self.etag.is_some() && ctx.connected {
            // the tag goes on until the removal is answered (a challenge
            // makes us send it again)
            self.send(ctx, now, 0, None);
        } else {
            self.etag = None;
        }
        self.published = None;
    }

    fn set_activity(&mut self, ctx: &mut Ctx, now: Instant, activity: Activity) {
        self.activity = activity;
        if self.active
            && !self.refused
            && self.pending.is_none()
            && self.published != Some(activity)
            && ctx.connected
        {
            self.publish(ctx, now);
        }
    }

    fn publish(&mut self, ctx: &mut Ctx, now: Instant) {
        let a = self.activity;
        self.send(ctx, now, EXPIRES, Some(a));
    }

    fn send(&mut self, ctx: &mut Ctx, now: Instant, expires: u32, body: Option<Activity>) {
        self.cseq += 1;
        let aor = ctx.local.aor.clone();
        let to = ctx.local.aor_value();
        let mut m = ctx.out_of_dialog(
            Method::Publish,
            &aor,
            to,
            &self.from_tag,
            &self.call_id,
            self.cseq,
        );
        m.push_header("Event", "presence");
        m.push_header("Expires", expires.to_string());
        if let Some(etag) = &self.etag {
            m.push_header("SIP-If-Match", etag.clone());
        }
        m.push_header("User-Agent", ctx.local.user_agent.clone());
        if let Some(a) = body {
            let note = match a {
                Activity::Idle => "",
                Activity::Ringing => "Ringing",
                Activity::InCall => "On the phone",
            };
            let doc = event_bodies::build_pidf(&aor, &self.tuple, true, a != Activity::Idle, note);
            m.set_body("application/pidf+xml", doc.into_bytes());
        }
        self.auth.apply(ctx, &mut m);
        self.sending = body;
        self.pending = TxKey::of_request(&m);
        let bytes = ctx.txs.start_client(now, m, Owner::Publish);
        ctx.send(bytes);
    }

    pub fn on_response(&mut self, ctx: &mut Ctx, now: Instant, req: &Message, resp: &Message) {
        if TxKey::of_request(req) != self.pending {
            return;
        }
        let Some(code) = resp.code() else { return };
        if code < 200 {
            return;
        }
        self.pending = None;
        let asked = req.expires().unwrap_or(EXPIRES);
        match code {
            200..=299 => {
                self.auth.reset_attempts();
                if asked == 0 || !self.active {
                    self.etag = None;
                    self.published = None;
                    if self.active && !self.refused {
                        // registered again while the removal was on its way
                        self.publish(ctx, now);
                    }
                    return;
                }
                self.etag = resp
                    .header("SIP-ETag")
                    .map(str::trim)
                    .filter(|e| !e.is_empty() && !e.chars().any(char::is_control))
                    .map(str::to_string);
                if let Some(a) = self.sending {
                    self.published = Some(a);
                }
                let granted = resp.expires().unwrap_or(asked).clamp(1, asked.max(1));
                ctx.timers
                    .set(TimerKey::PublishRefresh, now + refresh_after(granted));
                if self.published != Some(self.activity) {
                    self.publish(ctx, now);
                }
            }
            401 | 407 => match self.auth.on_challenge(resp) {
                Ok(()) => {
                    let body = self.sending;
                    self.send(ctx, now, asked, body);
                }
                Err(reason) => self.give_up(ctx, &reason),
            },
            412 | 500..=599
                if asked != 0 && self.active && req.header("SIP-If-Match").is_some() =>
            {
                // the server lost our document (412; Kamailio answers an
                // unknown SIP-If-Match on a refresh with 500): publish it
                // anew, without SIP-If-Match, so this cannot loop
                self.etag = None;
                self.published = None;
                self.publish(ctx, now);
            }
            423 => match resp.min_expires() {
                Some(min) if min > asked && asked != 0 && min <= 24 * 3600 => {
                    let body = self.sending;
                    self.send(ctx, now, min, body);
                }
                _ => self.give_up(ctx, "423 Interval Too Brief"),
            },
            _ => {
                let phrase = resp.reason().unwrap_or("").to_string();
                self.give_up(ctx, &format!("{code} {phrase}"));
            }
        }
    }

    fn give_up(&mut self, ctx: &mut Ctx, why: &str) {
        if !self.active {
            return;
        }
        crate::log::warn!(
            "presence publication refused ({why}): not publishing until the next registration"
        );
        self.refused = true;
        self.etag = None;
        self.published = None;
        ctx.timers.cancel(&TimerKey::PublishRefresh);
    }

    /// The PUBLISH got no answer (`lost`: the connection went away).
    pub fn on_tx_timeout(&mut self, ctx: &mut Ctx, req: &Message, lost: bool) {
        if TxKey::of_request(req) != self.pending {
            return;
        }
        self.pending = None;
        if !lost {
            self.give_up(ctx, "no answer");
        }
    }

    /// `TimerKey::PublishRefresh`.
    pub fn on_timer(&mut self, ctx: &mut Ctx, now: Instant) {
        if !self.active || self.refused || !ctx.connected || self.pending.is_some() {
            return;
        }
        if self.etag.is_some() {
            self.send(ctx, now, EXPIRES, None);
        } else {
            self.publish(ctx, now);
        }
    }

    fn on_disconnected(&mut self, ctx: &mut Ctx) {
        // the document stays at the server until it expires; the next
        // registration modifies it with SIP-If-Match (or republishes on 412)
        self.pending = None;
        self.published = None;
        ctx.timers.cancel(&TimerKey::PublishRefresh);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_at_two_thirds() {
        assert_eq!(refresh_after(600), Duration::from_secs(400));
        assert_eq!(refresh_after(0), Duration::from_secs(2));
        assert_eq!(
            refresh_after(u32::MAX).as_secs(),
            u64::from(u32::MAX / 3 * 2)
        );
    }

    #[test]
    fn subscription_state_params() {
        let v = "terminated;reason=Rejected;retry-after=\"30\"";
        assert_eq!(first_token(v), "terminated");
        assert_eq!(header_param(v, "reason").as_deref(), Some("Rejected"));
        assert_eq!(header_param(v, "retry-after").as_deref(), Some("30"));
        assert_eq!(header_param("active", "expires"), None);
    }

    #[test]
    fn refusals_are_sentences() {
        assert!(refusal(EventPackage::Dialog, 489, "Bad Event").contains("489 Bad Event"));
        assert_eq!(
            refusal(EventPackage::Presence, 500, "Oops\u{1}"),
            "Watching presence failed: 500 Oops"
        );
    }
}
