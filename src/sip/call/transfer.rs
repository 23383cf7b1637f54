//! REFER both ways (RFC 3515): our blind and attended transfers and their
//! NOTIFYs, being transferred, and Replaces (RFC 3891).

use super::*;
use crate::sip::agent::{Ctx, Owner, ALLOW, SUPPORTED};
use crate::sip::message::{split_uri_headers, Message, Method, NameAddr};
use crate::sip::refer::{self, ReferTarget};
use crate::sip::transaction::TxKey;
use crate::sip::{CallAction, CallId, EndReason, Event, Instant, Warning};
use litemap::LiteMap;

/// Our REFER (we transfer the peer): in flight, then its implicit
/// subscription until the final NOTIFY.
pub(super) struct ReferOut {
    /// The REFER transaction while it has no final answer.
    pub(super) key: Option<TxKey>,
}

/// The peer's REFER we act on (we are being transferred).
pub(super) struct ReferIn {
    /// The REFER's CSeq number: the `id` of our NOTIFYs' `Event: refer`.
    pub(super) event_id: u32,
    /// The final NOTIFY went out.
    pub(super) done: bool,
}

/// A REFER accepted: the agent starts this call for it.
pub struct ReferRequest {
    pub target: ReferTarget,
    pub referred_by: String,
}

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
        // said before the new call's state and offer, so that the phone
        // knows which call the offer is for
        ctx.event(Event::Transferred {
            call: old,
            target: r.target.uri.clone(),
            new_call: id,
        });
        let mut c = Call::outgoing(ctx, id, r.target.uri);
        c.invite_extra.push(("Referred-By", r.referred_by));
        if let Some(rep) = r.target.replaces {
            c.invite_extra.push(("Replaces", rep));
        }
        c.refer_source = Some(old);
        calls.insert(id, c);
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
        crate::log::info!("{}: REFER", self.id);
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

    /// REFER from the peer: we are transferred (RFC 3515).
    pub(super) fn on_refer(&mut self, ctx: &mut Ctx, now: Instant, key: &TxKey, req: &Message) {
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
                crate::log::warn!("{}: REFER refused: {why}", self.id);
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
        crate::log::info!("{}: transferred to {}", self.id, target.uri);
        self.refer_request = Some(ReferRequest {
            target,
            referred_by,
        });
    }

    /// Tell the peer that transferred us how the new call goes (NOTIFY
    /// with a sipfrag); `last` ends the implicit subscription.
    pub(super) fn notify_refer(
        &mut self,
        ctx: &mut Ctx,
        now: Instant,
        code: u16,
        reason: &str,
        last: bool,
    ) {
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
    pub(super) fn on_notify(&mut self, ctx: &mut Ctx, now: Instant, key: &TxKey, req: &Message) {
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
