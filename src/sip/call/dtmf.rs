//! DTMF: ours through the browser (RFC 4733) or by INFO, one digit at a
//! time; the peer's by INFO.

use super::*;
use crate::sip::agent::{Ctx, Owner};
use crate::sip::message::{Message, Method};
use crate::sip::refer::{self, InfoBody};
use crate::sip::transaction::TxKey;
use crate::sip::{CallAction, DtmfMethod, Event, Instant, MediaRequest, Warning};

impl Call {
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
    pub(super) fn next_info(&mut self, ctx: &mut Ctx, now: Instant) {
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

    /// INFO from the peer: DTMF (`application/dtmf-relay`, `application/dtmf`).
    pub(super) fn on_info(&mut self, ctx: &mut Ctx, now: Instant, key: &TxKey, req: &Message) {
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
}
