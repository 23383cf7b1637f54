//! RFC 3261 section 17 transactions, over a reliable transport (WebSocket).
//!
//! Over a reliable transport requests and responses are never retransmitted by
//! the transaction layer (timers A, E, G are not armed) and the "wait for
//! retransmissions" timers D, I, J, K are zero. What remains:
//! - client INVITE: timer B (64·T1) while no response has come; the ACK for a
//!   non-2xx final response is generated here; a 2xx ends the transaction and
//!   goes to the user agent core, which sends the ACK itself;
//! - client non-INVITE: timer F (64·T1) until a final response;
//! - server INVITE: keeps the last provisional/final response to answer a
//!   retransmitted INVITE, absorbs the ACK of a non-2xx final response, and
//!   gives up after timer H (64·T1) without it; after a 2xx it ends (the core
//!   retransmits the 2xx until the ACK, RFC 3261 13.3.1.4);
//! - server non-INVITE: ends with its final response.
//!
//! The layer owns its timers; the user agent asks [`Transactions::next_deadline`].

use super::message::{Message, Method};
use super::timers::{Timers, TIMEOUT_64T1};
use super::Instant;
use litemap::LiteMap;

/// A transaction is named by the top Via branch and the CSeq method (an ACK
/// to a non-2xx response belongs to its INVITE transaction).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TxKey {
    pub branch: String,
    pub method: String,
}

impl TxKey {
    /// The key of a request (ACK maps to INVITE).
    pub fn of_request(msg: &Message) -> Option<TxKey> {
        let branch = msg.top_via()?.branch()?.to_string();
        let method = match msg.method()? {
            Method::Ack => "INVITE".to_string(),
            m => m.as_str().to_string(),
        };
        Some(TxKey { branch, method })
    }

    /// The key of a response (from its top Via and CSeq method).
    pub fn of_response(msg: &Message) -> Option<TxKey> {
        let branch = msg.top_via()?.branch()?.to_string();
        let method = msg.cseq()?.method.as_str().to_string();
        Some(TxKey { branch, method })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Which {
    /// B or F: no (final) response in time.
    ClientTimeout,
    /// H: no ACK for a non-2xx final response.
    ServerNoAck,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ClientState {
    /// Request sent, nothing back yet (Calling / Trying).
    Sent,
    /// A provisional response came.
    Proceeding,
}

struct ClientTx<O> {
    owner: O,
    request: Message,
    state: ClientState,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ServerState {
    Proceeding,
    /// INVITE answered with a non-2xx final response: waiting for the ACK.
    Completed,
}

struct ServerTx {
    state: ServerState,
    last_response: Option<Vec<u8>>,
}

/// What became of a received response.
#[derive(Debug)]
pub enum ResponseMatch<O> {
    /// Hand it to its owner; `ack` (for a non-2xx final answer to an INVITE)
    /// has already been built and must be sent.
    Deliver {
        owner: O,
        request: Message,
        ack: Option<Vec<u8>>,
    },
    /// No transaction: a stray response, or a retransmitted 2xx to an INVITE
    /// whose transaction has ended (the core re-sends the ACK for that).
    NoMatch,
}

/// What became of a received request.
#[derive(Debug, PartialEq, Eq)]
pub enum RequestMatch {
    /// A new request: a server transaction now exists (except for ACK).
    New,
    /// A retransmission: send `resend` again, if any.
    Retransmission { resend: Option<Vec<u8>> },
    /// The ACK of a non-2xx final response: the transaction took it.
    AckAbsorbed,
}

/// A client transaction that failed for lack of an answer.
#[derive(Debug)]
pub struct ClientTimeout<O> {
    pub owner: O,
    pub request: Message,
}

pub struct Transactions<O> {
    clients: LiteMap<TxKey, ClientTx<O>>,
    servers: LiteMap<TxKey, ServerTx>,
    timers: Timers<(TxKey, Which)>,
}

impl<O> Default for Transactions<O> {
    fn default() -> Self {
        Transactions {
            clients: LiteMap::new(),
            servers: LiteMap::new(),
            timers: Timers::default(),
        }
    }
}

impl<O: Clone> Transactions<O> {
    /// Start a client transaction for `request` (whose top Via carries a
    /// fresh branch) and return the bytes to send. ACK is not a transaction:
    /// send it directly.
    pub fn start_client(&mut self, now: Instant, request: Message, owner: O) -> Vec<u8> {
        let bytes = request.to_bytes();
        if let Some(key) = TxKey::of_request(&request) {
            self.timers
                .set((key.clone(), Which::ClientTimeout), now + TIMEOUT_64T1);
            self.clients.insert(
                key,
                ClientTx {
                    owner,
                    request,
                    state: ClientState::Sent,
                },
            );
        }
        bytes
    }

    /// Whether a provisional response has been received for it.
    pub fn client_proceeding(&self, key: &TxKey) -> bool {
        self.clients
            .get(key)
            .is_some_and(|t| t.state == ClientState::Proceeding)
    }

    pub fn on_response(&mut self, response: &Message) -> ResponseMatch<O> {
        let (Some(key), Some(code)) = (TxKey::of_response(response), response.code()) else {
            return ResponseMatch::NoMatch;
        };
        let Some(tx) = self.clients.get_mut(&key) else {
            return ResponseMatch::NoMatch;
        };
        if code < 200 {
            tx.state = ClientState::Proceeding;
            if key.method == "INVITE" {
                // timer B only guards against no response at all
                self.timers.cancel(&(key.clone(), Which::ClientTimeout));
            }
            return ResponseMatch::Deliver {
                owner: tx.owner.clone(),
                request: tx.request.clone(),
                ack: None,
            };
        }
        // final: the transaction ends (timers D and K are zero over WS)
        self.timers.cancel(&(key.clone(), Which::ClientTimeout));
        let Some(tx) = self.clients.remove(&key) else {
            return ResponseMatch::NoMatch;
        };
        let ack = if key.method == "INVITE" && code >= 300 {
            Some(ack_for_non_2xx(&tx.request, response).to_bytes())
        } else {
            None
        };
        ResponseMatch::Deliver {
            owner: tx.owner,
            request: tx.request,
            ack,
        }
    }

    /// Look at a received request before the core does.
    pub fn on_request(&mut self, request: &Message) -> RequestMatch {
        let Some(key) = TxKey::of_request(request) else {
            // no branch: cannot match retransmissions; treat as new
            return RequestMatch::New;
        };
        let is_ack = request.method() == Some(&Method::Ack);
        if let Some(tx) = self.servers.get_mut(&key) {
            if is_ack {
                if tx.state == ServerState::Completed {
                    self.timers.cancel(&(key.clone(), Which::ServerNoAck));
                    self.servers.remove(&key);
                    return RequestMatch::AckAbsorbed;
                }
                // an ACK with the INVITE's branch while proceeding: odd; the
                // core decides (it will find no 2xx to acknowledge)
                return RequestMatch::New;
            }
            return RequestMatch::Retransmission {
                resend: tx.last_response.clone(),
            };
        }
        if !is_ack {
            self.servers.insert(
                key,
                ServerTx {
                    state: ServerState::Proceeding,
                    last_response: None,
                },
            );
        }
        RequestMatch::New
    }

    /// Whether a server transaction still waits for its final response.
    pub fn server_proceeding(&self, key: &TxKey) -> bool {
        self.servers
            .get(key)
            .is_some_and(|t| t.state == ServerState::Proceeding)
    }

    /// Send `response` within the server transaction `key`; returns the bytes.
    pub fn respond(&mut self, now: Instant, key: &TxKey, response: &Message) -> Vec<u8> {
        let bytes = response.to_bytes();
        let code = response.code().unwrap_or(500);
        let Some(tx) = self.servers.get_mut(key) else {
            return bytes;
        };
        if code < 200 {
            tx.last_response = Some(bytes.clone());
        } else if key.method == "INVITE" && code >= 300 {
            tx.state = ServerState::Completed;
            tx.last_response = Some(bytes.clone());
            self.timers
                .set((key.clone(), Which::ServerNoAck), now + TIMEOUT_64T1);
        } else {
            // 2xx to INVITE (the core retransmits it) or a final response to a
            // non-INVITE request (timer J is zero over WS)
            self.servers.remove(key);
        }
        bytes
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        self.timers.next()
    }

    /// Fire due timers; returns the client transactions that timed out.
    pub fn on_timeout(&mut self, now: Instant) -> Vec<ClientTimeout<O>> {
        let mut failed = Vec::new();
        for (key, which) in self.timers.take_expired(now) {
            match which {
                Which::ClientTimeout => {
                    if let Some(tx) = self.clients.remove(&key) {
                        failed.push(ClientTimeout {
                            owner: tx.owner,
                            request: tx.request,
                        });
                    }
                }
                Which::ServerNoAck => {
                    self.servers.remove(&key);
                }
            }
        }
        failed
    }

    /// The transport is gone: every client transaction fails now.
    pub fn fail_all(&mut self) -> Vec<ClientTimeout<O>> {
        self.timers.cancel_where(|_| true);
        self.servers.clear();
        std::mem::take(&mut self.clients)
            .into_iter()
            .map(|(_, tx)| ClientTimeout {
                owner: tx.owner,
                request: tx.request,
            })
            .collect()
    }

    pub fn client_count(&self) -> usize {
        self.clients.len()
    }

    pub fn server_count(&self) -> usize {
        self.servers.len()
    }

    /// Transaction timers armed (retransmissions, timeouts, linger).
    pub fn timer_count(&self) -> usize {
        self.timers.len()
    }
}

/// RFC 3261 17.1.1.3: the ACK for a non-2xx final response to `invite`.
pub fn ack_for_non_2xx(invite: &Message, response: &Message) -> Message {
    let uri = invite.request_uri().unwrap_or_default();
    let mut ack = Message::request(Method::Ack, uri);
    if let Some(via) = invite.header_values("Via").first() {
        ack.push_header("Via", *via);
    }
    for route in invite.header_values("Route") {
        ack.push_header("Route", route);
    }
    ack.push_header("Max-Forwards", "70");
    if let Some(from) = invite.header("From") {
        ack.push_header("From", from);
    }
    if let Some(to) = response.header("To") {
        ack.push_header("To", to);
    }
    if let Some(cid) = invite.header("Call-ID") {
        ack.push_header("Call-ID", cid);
    }
    let seq = invite.cseq().map(|c| c.seq).unwrap_or(1);
    ack.push_header("CSeq", format!("{seq} ACK"));
    ack
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(raw: &str) -> Message {
        Message::parse(raw.as_bytes()).expect("parses")
    }

    const INVITE: &str =
        "INVITE sip:b@x SIP/2.0\r\nVia: SIP/2.0/WS a.invalid;branch=z9hG4bKinv\r\n\
        Route: <sip:proxy;lr>\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\nCall-ID: c\r\n\
        CSeq: 2 INVITE\r\nContent-Length: 0\r\n\r\n";

    fn response(code: u16, method: &str, branch: &str) -> Message {
        msg(&format!(
            "SIP/2.0 {code} X\r\nVia: SIP/2.0/WS a.invalid;branch={branch}\r\n\
             From: <sip:a@x>;tag=1\r\nTo: <sip:b@x>;tag=2\r\nCall-ID: c\r\nCSeq: 2 {method}\r\n\
             Content-Length: 0\r\n\r\n"
        ))
    }

    #[test]
    fn client_invite_acks_a_failure_itself_and_ends() {
        let t0 = Instant::now();
        let mut txs: Transactions<u8> = Transactions::default();
        txs.start_client(t0, msg(INVITE), 9);
        assert_eq!(txs.next_deadline(), Some(t0 + TIMEOUT_64T1), "timer B");
        match txs.on_response(&response(180, "INVITE", "z9hG4bKinv")) {
            ResponseMatch::Deliver {
                owner: 9,
                ack: None,
                ..
            } => {}
            other => panic!("{other:?}"),
        }
        assert_eq!(txs.next_deadline(), None, "a provisional stops timer B");
        let ack = match txs.on_response(&response(486, "INVITE", "z9hG4bKinv")) {
            ResponseMatch::Deliver { ack: Some(a), .. } => msg(&String::from_utf8_lossy(&a)),
            other => panic!("{other:?}"),
        };
        assert_eq!(ack.method(), Some(&Method::Ack));
        assert_eq!(
            ack.top_via()
                .and_then(|v| v.branch().map(str::to_string))
                .as_deref(),
            Some("z9hG4bKinv")
        );
        assert_eq!(ack.header("Route"), Some("<sip:proxy;lr>"));
        assert_eq!(
            ack.to()
                .and_then(|t| t.tag().map(str::to_string))
                .as_deref(),
            Some("2")
        );
        assert_eq!(ack.cseq().map(|c| c.seq), Some(2));
        assert_eq!(txs.client_count(), 0);
        assert!(matches!(
            txs.on_response(&response(486, "INVITE", "z9hG4bKinv")),
            ResponseMatch::NoMatch
        ));
    }

    #[test]
    fn non_invite_times_out_with_timer_f() {
        let t0 = Instant::now();
        let mut txs: Transactions<u8> = Transactions::default();
        let bye = INVITE
            .replace("INVITE", "BYE")
            .replace("z9hG4bKinv", "z9hG4bKbye");
        txs.start_client(t0, msg(&bye), 1);
        assert!(txs
            .on_timeout(t0 + TIMEOUT_64T1 - std::time::Duration::from_millis(1))
            .is_empty());
        let failed = txs.on_timeout(t0 + TIMEOUT_64T1);
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].owner, 1);
    }

    #[test]
    fn server_invite_answers_retransmissions_and_absorbs_the_failure_ack() {
        let t0 = Instant::now();
        let mut txs: Transactions<u8> = Transactions::default();
        let inv = msg(INVITE);
        assert_eq!(txs.on_request(&inv), RequestMatch::New);
        let key = TxKey::of_request(&inv).expect("key");
        let ringing = response(180, "INVITE", "z9hG4bKinv");
        let sent = txs.respond(t0, &key, &ringing);
        assert_eq!(
            txs.on_request(&inv),
            RequestMatch::Retransmission { resend: Some(sent) }
        );
        txs.respond(t0, &key, &response(486, "INVITE", "z9hG4bKinv"));
        assert!(!txs.server_proceeding(&key));
        let ack = msg(&INVITE
            .replace("INVITE sip", "ACK sip")
            .replace("2 INVITE", "2 ACK"));
        assert_eq!(txs.on_request(&ack), RequestMatch::AckAbsorbed);
        assert_eq!(txs.server_count(), 0);
    }

    #[test]
    fn server_failure_without_ack_is_dropped_after_timer_h() {
        let t0 = Instant::now();
        let mut txs: Transactions<u8> = Transactions::default();
        let inv = msg(INVITE);
        txs.on_request(&inv);
        let key = TxKey::of_request(&inv).expect("key");
        txs.respond(t0, &key, &response(603, "INVITE", "z9hG4bKinv"));
        assert_eq!(txs.server_count(), 1);
        txs.on_timeout(t0 + TIMEOUT_64T1);
        assert_eq!(txs.server_count(), 0);
    }
}
