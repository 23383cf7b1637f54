//! SIP messages: parsing and building.
//!
//! Every message received from the network (one WebSocket frame = one
//! message, RFC 7118) goes through [`Message::parse`]. The parser is our own:
//! rsip 0.4 ignores compact header names, rejects folded lines, extension
//! methods and leading keep-alive CRLFs, takes the body as "everything after
//! the headers", and its typed headers fail on IPv6 hosts, `+sip.instance`
//! Contact parameters and `algorithm=SHA-256`; see the `rsip_gaps` tests for
//! the evidence. No rsip type appears in this module's API.
//!
//! Conventions:
//! - header names are stored canonical (`Call-ID`, `CSeq`, `WWW-Authenticate`;
//!   compact `i` becomes `Call-ID`; unknown names are kept as written) and
//!   looked up case-insensitively, compact names accepted;
//! - values are unfolded and trimmed; the media type of `Content-Type` is
//!   lowercased (its parameters are kept as written);
//! - `Content-Length` is framing only: [`Message::parse`] uses it and drops
//!   it, [`Message::to_bytes`] always writes the body length.

mod addr;
mod classify;
mod names;
mod parse;

#[cfg(test)]
mod classify_tests;
#[cfg(test)]
mod rsip_gaps;
#[cfg(test)]
mod tests;

/// A quoted string's inside, as this crate writes it (display names, digest
/// parameters): see `addr::escape`.
pub(crate) use addr::escape as escape_quoted;
pub use addr::{split_header_list, NameAddr, Params, SipUri, Via};
pub use names::canonical_header_name;
pub use parse::{request_uri_of, split_uri_headers};

use addr::{is_token, short, split_top_level};
use names::{canonical, is_named};
use std::fmt;

/// What one frame from the network is. The one entry point for network
/// bytes: the user agent and the sip-inspect tool both call it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Incoming {
    /// CRLF keep-alive: "\r\n\r\n" ping or "\r\n" pong (RFC 5626 4.4.1), or only whitespace.
    KeepAlive,
    Request(Message),
    Response(Message),
    /// Not a message we accept. `reason` is short and human. `reply` is a ready
    /// `400 Bad Request` when the bytes are a request (not ACK) whose Via, From,
    /// To, Call-ID and CSeq could be read well enough to answer; else None
    /// (never for a response).
    Malformed {
        reason: String,
        reply: Option<Message>,
    },
}

/// Classifies one frame (one WebSocket message): a keep-alive (empty or only
/// whitespace), a request or a response as accepted by [`Message::parse`],
/// or malformed, with a `400 Bad Request` to send back when the bytes are a
/// request other than ACK whose Via, From, To, Call-ID and CSeq can be read.
/// That 400 copies the Via headers, From, To (with a To tag derived from the
/// bytes when there is none), Call-ID and CSeq as written and carries
/// `Warning: 399 softphone "<reason>"`. Never panics.
pub fn classify(bytes: &[u8]) -> Incoming {
    classify::classify(bytes)
}

/// A request method. Method names are case-sensitive (RFC 3261 7.1):
/// `"invite"` is an extension method, not INVITE.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    Invite,
    Ack,
    Bye,
    Cancel,
    Register,
    Options,
    Message,
    Info,
    Refer,
    Subscribe,
    Notify,
    Update,
    Prack,
    Publish,
    /// An extension method, as written.
    Other(String),
}

impl Method {
    pub fn as_str(&self) -> &str {
        match self {
            Method::Invite => "INVITE",
            Method::Ack => "ACK",
            Method::Bye => "BYE",
            Method::Cancel => "CANCEL",
            Method::Register => "REGISTER",
            Method::Options => "OPTIONS",
            Method::Message => "MESSAGE",
            Method::Info => "INFO",
            Method::Refer => "REFER",
            Method::Subscribe => "SUBSCRIBE",
            Method::Notify => "NOTIFY",
            Method::Update => "UPDATE",
            Method::Prack => "PRACK",
            Method::Publish => "PUBLISH",
            Method::Other(s) => s,
        }
    }

    /// Case-sensitive: `"INVITE"` gives [`Method::Invite`], anything that is
    /// not a standard method name gives [`Method::Other`] (no validation
    /// here; [`Message::parse`] checks the token grammar).
    pub fn parse(s: &str) -> Method {
        match s {
            "INVITE" => Method::Invite,
            "ACK" => Method::Ack,
            "BYE" => Method::Bye,
            "CANCEL" => Method::Cancel,
            "REGISTER" => Method::Register,
            "OPTIONS" => Method::Options,
            "MESSAGE" => Method::Message,
            "INFO" => Method::Info,
            "REFER" => Method::Refer,
            "SUBSCRIBE" => Method::Subscribe,
            "NOTIFY" => Method::Notify,
            "UPDATE" => Method::Update,
            "PRACK" => Method::Prack,
            "PUBLISH" => Method::Publish,
            other => Method::Other(other.to_string()),
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StartLine {
    Request { method: Method, uri: String },
    Response { code: u16, reason: String },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// Canonical long form (`Call-ID`, `Via`, `CSeq`, `WWW-Authenticate`);
    /// unknown names as written.
    pub name: String,
    /// Unfolded and trimmed.
    pub value: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub start: StartLine,
    /// In order. Never holds `Content-Length` after [`Message::parse`].
    pub headers: Vec<Header>,
    pub body: Vec<u8>,
}

/// Why a message (or a header value) was rejected; the reason is short and
/// human ("missing Call-ID").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    reason: String,
}

impl ParseError {
    pub fn new(reason: impl Into<String>) -> ParseError {
        ParseError {
            reason: reason.into(),
        }
    }

    pub fn reason(&self) -> String {
        self.reason.clone()
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for ParseError {}

/// A CSeq value: `6914 INVITE`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CSeq {
    pub seq: u32,
    pub method: Method,
}

impl CSeq {
    /// Parses `<number> <method>`; the number must be below 2^31.
    pub fn parse(s: &str) -> Result<CSeq, ParseError> {
        let bad = || ParseError::new(format!("invalid CSeq \"{}\"", short(s.trim())));
        let mut parts = s.split_ascii_whitespace();
        let (Some(seq), Some(method), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad());
        };
        let seq = parse_digits(seq)
            .filter(|n| *n < (1 << 31))
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(bad)?;
        if !is_token(method) {
            return Err(bad());
        }
        Ok(CSeq {
            seq,
            method: Method::parse(method),
        })
    }
}

impl fmt::Display for CSeq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.seq, self.method)
    }
}

/// A non-empty run of ASCII digits (no sign), if it fits in a u64.
pub(crate) fn parse_digits(s: &str) -> Option<u64> {
    let s = s.trim();
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// A delta-seconds value (Expires, Min-Expires); too large saturates
/// (RFC 3261 20.19 reads those as 2^32-1).
fn parse_delta_seconds(s: &str) -> Option<u32> {
    let s = s.trim();
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(s.parse::<u32>().unwrap_or(u32::MAX))
}

/// The stored form of a header value: the media type of a Content-Type is
/// lowercased (it is case-insensitive), every other value is kept.
pub(crate) fn normalize_value(canonical_name: &str, value: &str) -> String {
    if !canonical_name.eq_ignore_ascii_case("Content-Type") {
        return value.to_string();
    }
    match value.split_once(';') {
        Some((media, params)) => format!("{};{}", media.trim().to_ascii_lowercase(), params),
        None => value.trim().to_ascii_lowercase(),
    }
}

impl Message {
    /// Parses exactly one message (one WebSocket frame or datagram).
    ///
    /// RFC 3261 18.3 framing: the body is exactly Content-Length bytes, extra
    /// bytes are discarded, fewer bytes is an error, no Content-Length means
    /// the rest is the body. Leading CRLFs (keep-alives) are skipped; only
    /// whitespace is "empty message". Folded lines are unfolded, compact
    /// names mapped to long ones, known names canonicalised.
    ///
    /// Validates: SIP/2.0; a request line of 3 parts with a token method;
    /// status 100..=699; exactly one Call-ID, From, To and CSeq; at least one
    /// Via; CSeq number below 2^31 and (requests) its method equal to the
    /// request method; From and To parse as [`NameAddr`]; Content-Length and
    /// Max-Forwards numeric. The Content-Length header is not kept.
    pub fn parse(input: &[u8]) -> Result<Message, ParseError> {
        parse::parse(input)
    }

    /// A request without headers or body.
    pub fn request(method: Method, uri: &str) -> Message {
        Message {
            start: StartLine::Request {
                method,
                uri: uri.to_string(),
            },
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// A response without headers or body.
    pub fn response(code: u16, reason: &str) -> Message {
        Message {
            start: StartLine::Response {
                code,
                reason: reason.to_string(),
            },
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn is_request(&self) -> bool {
        matches!(self.start, StartLine::Request { .. })
    }

    /// The request method (requests only).
    pub fn method(&self) -> Option<&Method> {
        match &self.start {
            StartLine::Request { method, .. } => Some(method),
            StartLine::Response { .. } => None,
        }
    }

    /// The status code (responses only).
    pub fn code(&self) -> Option<u16> {
        match &self.start {
            StartLine::Response { code, .. } => Some(*code),
            StartLine::Request { .. } => None,
        }
    }

    /// The reason phrase (responses only).
    pub fn reason(&self) -> Option<&str> {
        match &self.start {
            StartLine::Response { reason, .. } => Some(reason),
            StartLine::Request { .. } => None,
        }
    }

    /// The Request-URI (requests only).
    pub fn request_uri(&self) -> Option<&str> {
        match &self.start {
            StartLine::Request { uri, .. } => Some(uri),
            StartLine::Response { .. } => None,
        }
    }

    /// The first value of a header; the name is case-insensitive and may be
    /// compact (`"i"` for Call-ID).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = canonical(name);
        self.headers
            .iter()
            .find(|h| is_named(&h.name, name))
            .map(|h| h.value.as_str())
    }

    /// The value of each header line with that name, in order.
    pub fn header_values(&self, name: &str) -> Vec<&str> {
        let name = canonical(name);
        self.headers
            .iter()
            .filter(|h| is_named(&h.name, name))
            .map(|h| h.value.as_str())
            .collect()
    }

    /// All values of that name split at top-level commas (not inside quotes
    /// or `<>`), trimmed, empty items dropped: for Via, Route, Record-Route,
    /// Contact, Allow, Supported … (not for WWW-Authenticate and friends).
    pub fn header_list(&self, name: &str) -> Vec<String> {
        self.header_values(name)
            .into_iter()
            .flat_map(split_header_list)
            .map(str::to_string)
            .collect()
    }

    /// Appends a header (name canonicalised).
    pub fn push_header(&mut self, name: &str, value: impl Into<String>) {
        let name = canonical(name);
        let value = normalize_value(name, &value.into());
        self.headers.push(Header {
            name: name.to_string(),
            value,
        });
    }

    /// Replaces all headers of that name by one, at the position of the
    /// first (appended when there was none).
    pub fn set_header(&mut self, name: &str, value: impl Into<String>) {
        let canon = canonical(name);
        let mut value = Some(normalize_value(canon, &value.into()));
        self.headers.retain_mut(|h| {
            if !is_named(&h.name, canon) {
                return true;
            }
            match value.take() {
                Some(v) => {
                    h.name = canon.to_string();
                    h.value = v;
                    true
                }
                None => false,
            }
        });
        if let Some(value) = value {
            self.headers.push(Header {
                name: canon.to_string(),
                value,
            });
        }
    }

    /// Removes every header of that name.
    pub fn remove_header(&mut self, name: &str) {
        let name = canonical(name);
        self.headers.retain(|h| !is_named(&h.name, name));
    }

    /// Sets the body and its Content-Type; an empty `content_type` removes
    /// the Content-Type header.
    pub fn set_body(&mut self, content_type: &str, body: Vec<u8>) {
        if content_type.trim().is_empty() {
            self.remove_header("Content-Type");
        } else {
            self.set_header("Content-Type", content_type.trim());
        }
        self.body = body;
    }

    /// The wire form: start line, the headers in order except any
    /// Content-Length, `Content-Length: <body length>`, an empty line, the
    /// body. CRLF line ends; CR or LF inside a value become spaces.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut head = String::with_capacity(64 + self.headers.len() * 48);
        match &self.start {
            StartLine::Request { method, uri } => {
                head.push_str(&format!("{method} {uri} SIP/2.0\r\n"));
            }
            StartLine::Response { code, reason } => {
                head.push_str(&format!("SIP/2.0 {code} {reason}\r\n"));
            }
        }
        for h in &self.headers {
            if is_named(&h.name, "Content-Length") {
                continue;
            }
            head.push_str(&h.name);
            head.push_str(": ");
            head.extend(
                h.value
                    .chars()
                    .map(|c| if c == '\r' || c == '\n' { ' ' } else { c }),
            );
            head.push_str("\r\n");
        }
        head.push_str(&format!("Content-Length: {}\r\n\r\n", self.body.len()));
        let mut out = head.into_bytes();
        out.extend_from_slice(&self.body);
        out
    }

    pub fn call_id(&self) -> Option<&str> {
        self.header("Call-ID")
    }

    pub fn cseq(&self) -> Option<CSeq> {
        self.header("CSeq").and_then(|v| CSeq::parse(v).ok())
    }

    pub fn from(&self) -> Option<NameAddr> {
        self.header("From").and_then(|v| NameAddr::parse(v).ok())
    }

    pub fn to(&self) -> Option<NameAddr> {
        self.header("To").and_then(|v| NameAddr::parse(v).ok())
    }

    /// All Via entries, top first; unparseable ones are skipped.
    pub fn vias(&self) -> Vec<Via> {
        self.header_list("Via")
            .iter()
            .filter_map(|v| Via::parse(v).ok())
            .collect()
    }

    /// The first Via entry, if it parses.
    pub fn top_via(&self) -> Option<Via> {
        let first = self.header("Via")?;
        let top = split_top_level(first, ',').into_iter().next()?;
        Via::parse(top).ok()
    }

    /// All Contact entries in order; `*` and unparseable entries are skipped.
    pub fn contacts(&self) -> Vec<NameAddr> {
        self.header_list("Contact")
            .iter()
            .filter(|c| c.as_str() != "*")
            .filter_map(|c| NameAddr::parse(c).ok())
            .collect()
    }

    /// Each Record-Route entry as written, top first
    /// (`<sip:127.0.0.1:8088;transport=ws;r2=on;lr>`).
    pub fn record_routes(&self) -> Vec<String> {
        self.header_list("Record-Route")
    }

    /// The Expires header in seconds.
    pub fn expires(&self) -> Option<u32> {
        self.header("Expires").and_then(parse_delta_seconds)
    }

    /// The Min-Expires header in seconds.
    pub fn min_expires(&self) -> Option<u32> {
        self.header("Min-Expires").and_then(parse_delta_seconds)
    }

    /// The Max-Forwards header.
    pub fn max_forwards(&self) -> Option<u32> {
        self.header("Max-Forwards")
            .and_then(parse_digits)
            .map(|n| u32::try_from(n).unwrap_or(u32::MAX))
    }

    /// The media type without parameters (`application/sdp`), lowercased
    /// (as stored by `parse`, `push_header`, `set_header` and `set_body`).
    pub fn content_type(&self) -> Option<&str> {
        let v = self.header("Content-Type")?;
        let media = v.split(';').next().unwrap_or(v).trim();
        (!media.is_empty()).then_some(media)
    }

    /// The body as UTF-8, if it is valid UTF-8.
    pub fn body_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.body).ok()
    }
}
