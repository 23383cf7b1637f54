//! Instant messages (RFC 3428): sending MESSAGE with digest authentication,
//! reporting the outcome, and receiving `text/plain` messages.

use super::agent::{response_to, Ctx, Owner};
use super::call;
use super::message::{Message, Method};
use super::registration::Credentials;
use super::transaction::TxKey;
use super::{Event, Instant};
use litemap::LiteMap;

/// The largest message body we accept (413 beyond).
pub const MAX_BODY: usize = 64 * 1024;

/// One MESSAGE of ours waiting for its final answer.
struct Pending {
    /// The caller's id, for [`Event::MessageStatus`].
    id: u32,
    /// The request as last sent (for a retry with credentials).
    request: Message,
    auth: Credentials,
}

/// Our MESSAGEs in flight, by an internal number (the caller's ids may repeat).
#[derive(Default)]
pub struct Messages {
    pending: LiteMap<u64, Pending>,
    next: u64,
}

impl Messages {
    /// Messages sent and not yet answered.
    pub fn pending_count(&self) -> usize {
        self.pending.len()
    }
}

fn status(ctx: &mut Ctx, id: u32, delivered: bool, reason: String) {
    ctx.event(Event::MessageStatus {
        id,
        delivered,
        reason,
    });
}

impl Messages {
    /// Send `text` to `to` (a number or URI, as for calls).
    pub fn send(&mut self, ctx: &mut Ctx, now: Instant, id: u32, to: &str, text: &str) {
        let uri = match call::target_uri(to, &ctx.local.domain) {
            Ok(u) => u,
            Err(bad) => return status(ctx, id, false, bad.to_string()),
        };
        if text.len() > MAX_BODY {
            return status(
                ctx,
                id,
                false,
                "The message is too long to send (64 KiB at most).".into(),
            );
        }
        if !ctx.connected {
            return status(ctx, id, false, "Not connected to the server.".into());
        }
        let (tag, call_id) = (ctx.rng.token(10), ctx.rng.token(24));
        let mut m = ctx.out_of_dialog(Method::Message, &uri, format!("<{uri}>"), &tag, &call_id, 1);
        m.push_header("User-Agent", ctx.local.user_agent.clone());
        m.set_body("text/plain;charset=utf-8", text.as_bytes().to_vec());
        let n = self.next;
        self.next += 1;
        let p = Pending {
            id,
            request: m,
            auth: Credentials::default(),
        };
        self.pending.insert(n, p);
        self.transmit(ctx, now, n);
    }

    fn transmit(&mut self, ctx: &mut Ctx, now: Instant, n: u64) {
        let Some(p) = self.pending.get_mut(&n) else {
            return;
        };
        let bytes = ctx
            .txs
            .start_client(now, p.request.clone(), Owner::Message(n));
        ctx.send(bytes);
    }

    /// A final (or provisional) answer to our MESSAGE `n`.
    pub fn on_response(&mut self, ctx: &mut Ctx, now: Instant, n: u64, resp: &Message) {
        let Some(code) = resp.code() else { return };
        if code < 200 {
            return;
        }
        let Some(mut p) = self.pending.remove(&n) else {
            return;
        };
        match code {
            200..=299 => status(ctx, p.id, true, "Delivered.".into()),
            401 | 407 => match p.auth.on_challenge(resp) {
                Ok(()) => {
                    let seq = p.request.cseq().map(|c| c.seq).unwrap_or(1);
                    p.request.set_header("CSeq", format!("{} MESSAGE", seq + 1));
                    p.request.set_header("Via", ctx.via());
                    p.request.remove_header("Authorization");
                    p.request.remove_header("Proxy-Authorization");
                    p.auth.apply(ctx, &mut p.request);
                    self.pending.insert(n, p);
                    self.transmit(ctx, now, n);
                }
                Err(reason) => status(ctx, p.id, false, format!("Not sent: {reason}")),
            },
            _ => status(ctx, p.id, false, failure_reason(code, resp.reason())),
        }
    }

    /// No answer in time, or the connection went away (`lost`).
    pub fn on_timeout(&mut self, ctx: &mut Ctx, n: u64, lost: bool) {
        if let Some(p) = self.pending.remove(&n) {
            let reason = if lost {
                "Not delivered: the connection to the server was lost."
            } else {
                "Not delivered: the server did not answer."
            };
            status(ctx, p.id, false, reason.into());
        }
    }
}

/// A sentence for a final failure to a MESSAGE.
fn failure_reason(code: u16, phrase: Option<&str>) -> String {
    let phrase: String = phrase
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_control())
        .take(80)
        .collect();
    match code {
        404 | 604 => "Not delivered: no such user.".into(),
        480 => "Not delivered: the person is not online.".into(),
        486 | 600 => "Not delivered: the person is busy.".into(),
        403 | 603 => "Not delivered: refused.".into(),
        408 => "Not delivered: no answer.".into(),
        413 => "Not delivered: the message is too long for the server.".into(),
        _ => format!("Not delivered: {code} {phrase}")
            .trim_end()
            .to_string(),
    }
}

/// Whether a Content-Type value is `text/plain` (any parameters).
fn is_text_plain(ct: &str) -> bool {
    ct.split(';')
        .next()
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("text/plain"))
}

/// An incoming MESSAGE (out of dialog): 200 and [`Event::MessageReceived`]
/// for `text/plain`, 415 for other types, 413 for bodies over 64 KiB.
pub fn on_incoming(ctx: &mut Ctx, now: Instant, key: &TxKey, req: &Message) {
    let tag = ctx.rng.token(10);
    if req.body.len() > MAX_BODY {
        ctx.reply(now, key, req, 413, "Request Entity Too Large", Some(&tag));
        return;
    }
    let ct = req.content_type().unwrap_or("");
    if !is_text_plain(ct) {
        let mut r = response_to(req, 415, "Unsupported Media Type", Some(&tag));
        r.push_header("Accept", "text/plain");
        ctx.respond(now, key, &r);
        return;
    }
    let Some(from) = req.from() else {
        ctx.reply(now, key, req, 400, "Missing From", Some(&tag));
        return;
    };
    let text = String::from_utf8_lossy(&req.body).into_owned();
    ctx.reply(now, key, req, 200, "OK", Some(&tag));
    ctx.event(Event::MessageReceived {
        from: call::party_of(&from),
        text,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types() {
        assert!(is_text_plain("text/plain"));
        assert!(is_text_plain("Text/Plain ; charset=UTF-8"));
        assert!(!is_text_plain("text/html"));
        assert!(!is_text_plain(""));
        assert!(!is_text_plain("application/im-iscomposing+xml"));
    }

    #[test]
    fn failure_reasons_are_sentences() {
        assert_eq!(
            failure_reason(404, Some("Not Found")),
            "Not delivered: no such user."
        );
        assert_eq!(
            failure_reason(500, Some("Server\u{7} Error")),
            "Not delivered: 500 Server Error"
        );
        assert_eq!(failure_reason(502, None), "Not delivered: 502");
    }
}
