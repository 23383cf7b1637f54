//! Framing, unfolding and validation of one received SIP message.

use super::addr::{is_token, short, split_header_list, split_top_level, NameAddr, SipUri, Via};
use super::names::{canonical, is_named};
use super::{normalize_value, parse_digits, CSeq, Header, Message, Method, ParseError, StartLine};

fn err(reason: impl Into<String>) -> ParseError {
    ParseError::new(reason)
}

/// Splits the input into the header-section lines (start line first) and the
/// bytes after the empty line. Lines end with CRLF (a bare LF is tolerated).
fn split_lines(data: &[u8]) -> Result<(Vec<&[u8]>, &[u8]), ParseError> {
    let mut lines = Vec::new();
    let mut rest = data;
    loop {
        let Some(nl) = rest.iter().position(|b| *b == b'\n') else {
            return Err(err("incomplete message: no empty line after the headers"));
        };
        let line = rest.get(..nl).unwrap_or(&[]);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        rest = rest.get(nl + 1..).unwrap_or(&[]);
        if line.is_empty() {
            return Ok((lines, rest));
        }
        lines.push(line);
    }
}

/// A control character: not allowed in the header section (HTAB is LWS)
/// except as a quoted pair (see [`CtlScan`]).
pub(super) fn is_control(b: u8) -> bool {
    (b < 0x20 && b != b'\t') || b == 0x7f
}

/// Where control characters may appear in header text: nowhere but HTAB,
/// except as the escaped character of a quoted pair inside a quoted string
/// (RFC 3261 25.1: `quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F)`, so
/// never CR or LF; RFC 4475 3.1.1.2). Fed the bytes of one header (its
/// folded lines in order), it tracks the quoted strings.
#[derive(Default)]
pub(super) struct CtlScan {
    in_quotes: bool,
    escaped: bool,
}

impl CtlScan {
    /// Feeds one byte: `false` for a control character not allowed here.
    pub(super) fn byte(&mut self, b: u8) -> bool {
        if self.escaped {
            self.escaped = false;
            return b != b'\r' && b != b'\n';
        }
        if self.in_quotes {
            if b == b'\\' {
                self.escaped = true;
            } else if b == b'"' {
                self.in_quotes = false;
            }
        } else if b == b'"' {
            self.in_quotes = true;
        }
        !is_control(b)
    }

    /// Whether one header value (or line) has control characters only
    /// where a quoted pair allows them.
    pub(super) fn value_ok(v: &[u8]) -> bool {
        let mut scan = CtlScan::default();
        v.iter().all(|b| scan.byte(*b))
    }
}

/// RFC 3261 25.1: no control characters in the header section but HTAB and
/// quoted pairs (a CR or NUL anywhere else would survive into values and
/// change meaning when the message is written again). The start line has
/// no quoted strings; a header's quoted strings may span its folded lines.
fn check_controls(lines: &[&[u8]]) -> Result<(), ParseError> {
    let mut scan = CtlScan::default();
    for (i, line) in lines.iter().enumerate() {
        let folded = line.starts_with(b" ") || line.starts_with(b"\t");
        let ok = if i == 0 {
            !line.iter().any(|b| is_control(*b))
        } else {
            if !folded {
                scan = CtlScan::default();
            }
            line.iter().all(|b| scan.byte(*b))
        };
        if !ok {
            return Err(err("control character in the header section"));
        }
    }
    Ok(())
}

fn check_version(v: &str) -> Result<(), ParseError> {
    if v.eq_ignore_ascii_case("SIP/2.0") {
        Ok(())
    } else {
        Err(err(format!("unsupported SIP version {}", short(v))))
    }
}

fn parse_start_line(line: &str) -> Result<StartLine, ParseError> {
    let line = line.trim();
    let is_response = line
        .get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case("SIP/"));
    if is_response {
        let (version, rest) = line
            .split_once([' ', '\t'])
            .ok_or_else(|| err(format!("invalid status line \"{}\"", short(line))))?;
        check_version(version)?;
        let rest = rest.trim_start();
        let (code, reason) = rest.split_once([' ', '\t']).unwrap_or((rest, ""));
        let code = code
            .parse::<u16>()
            .ok()
            .filter(|c| {
                code.len() == 3
                    && code.bytes().all(|b| b.is_ascii_digit())
                    && (100..=699).contains(c)
            })
            .ok_or_else(|| err(format!("invalid status code {}", short(code))))?;
        return Ok(StartLine::Response {
            code,
            reason: reason.trim().to_string(),
        });
    }
    let parts: Vec<&str> = line.split_ascii_whitespace().collect();
    let [method, uri, version] = parts.as_slice() else {
        return Err(err(format!(
            "request line has {} parts instead of 3: \"{}\"",
            parts.len(),
            short(line)
        )));
    };
    if !is_token(method) {
        return Err(err(format!("invalid method \"{}\"", short(method))));
    }
    check_version(version)?;
    check_request_uri(uri)?;
    Ok(StartLine::Request {
        method: Method::parse(method),
        uri: uri.to_string(),
    })
}

/// A Request-URI: `scheme:rest` with an RFC 3986 scheme, no `<`, `>` or
/// `"` (RFC 4475 ltgtruri), and for `sip:`/`sips:` no URI headers (`?`
/// after the host part, RFC 3261 19.1.5, RFC 4475 escruri; a `?` in the
/// user part is legal).
fn check_request_uri(uri: &str) -> Result<(), ParseError> {
    let bad = || err(format!("invalid Request-URI \"{}\"", short(uri)));
    let (scheme, rest) = uri.split_once(':').ok_or_else(bad)?;
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !scheme_ok || rest.is_empty() || uri.contains(['<', '>', '"']) {
        return Err(bad());
    }
    if scheme.eq_ignore_ascii_case("sip") || scheme.eq_ignore_ascii_case("sips") {
        let host_part = rest.split_once('@').map_or(rest, |(_, h)| h);
        if host_part.contains('?') {
            return Err(err(format!(
                "headers in the Request-URI \"{}\"",
                short(uri)
            )));
        }
    }
    Ok(())
}

/// Splits a URI into the part before its URI headers and the headers (the
/// text after `?`, RFC 3261 19.1.1). Only `sip:`/`sips:` URIs have headers
/// here, and their `?` counts only after the userinfo (a `?` in the user
/// part is legal): the same reading as the Request-URI check.
pub fn split_uri_headers(uri: &str) -> (&str, Option<&str>) {
    let Some((scheme, rest)) = uri.split_once(':') else {
        return (uri, None);
    };
    if !(scheme.eq_ignore_ascii_case("sip") || scheme.eq_ignore_ascii_case("sips")) {
        return (uri, None);
    }
    let host_from = rest.find('@').map_or(0, |at| at + 1);
    let question = rest
        .get(host_from..)
        .and_then(|h| h.find('?'))
        .map(|q| scheme.len() + 1 + host_from + q);
    match question {
        Some(q) => (uri.get(..q).unwrap_or(uri), uri.get(q + 1..)),
        None => (uri, None),
    }
}

/// The Request-URI made from a URI taken from the network (a remote
/// target, a strict route, a redirect or transfer target): its URI headers
/// dropped (RFC 3261 19.1.5: they are not part of a Request-URI, and
/// 12.2.1.1 builds in-dialog Request-URIs from the Contact), the rest
/// checked with the same rules as a received request line, and for
/// `sip:`/`sips:` read as a SIP URI. `Err` for a URI that cannot become a
/// Request-URI: refuse it rather than send what no parser would accept.
pub fn request_uri_of(uri: &str) -> Result<String, ParseError> {
    let (base, _headers) = split_uri_headers(uri.trim());
    let bad = || err(format!("unusable as a Request-URI: \"{}\"", short(uri)));
    if base.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad());
    }
    match parse_start_line(&format!("OPTIONS {base} SIP/2.0")) {
        Ok(StartLine::Request { uri: parsed, .. }) if parsed == base => {}
        _ => return Err(bad()),
    }
    let lower = base.to_ascii_lowercase();
    if (lower.starts_with("sip:") || lower.starts_with("sips:")) && SipUri::parse(base).is_err() {
        return Err(bad());
    }
    Ok(base.to_string())
}

/// Joins continuation lines (starting with SP or HTAB) to the header line
/// before them and splits each header at its colon.
fn parse_headers(lines: &[&str]) -> Result<Vec<Header>, ParseError> {
    let mut logical: Vec<String> = Vec::new();
    for line in lines {
        if line.starts_with([' ', '\t']) {
            let Some(last) = logical.last_mut() else {
                return Err(err("folded line without a header before it"));
            };
            let more = line.trim();
            if !more.is_empty() {
                let kept = last.trim_end().len();
                last.truncate(kept);
                last.push(' ');
                last.push_str(more);
            }
        } else {
            logical.push((*line).to_string());
        }
    }
    logical
        .iter()
        .map(|line| {
            let (name, value) = line
                .split_once(':')
                .ok_or_else(|| err(format!("header line without colon: \"{}\"", short(line))))?;
            let name = name.trim();
            if !is_token(name) {
                return Err(err(format!("invalid header name \"{}\"", short(name))));
            }
            let name = canonical(name);
            Ok(Header {
                name: name.to_string(),
                value: normalize_value(name, value.trim()),
            })
        })
        .collect()
}

fn exactly_one<'a>(headers: &'a [Header], name: &str) -> Result<&'a str, ParseError> {
    let mut found = headers.iter().filter(|h| is_named(&h.name, name));
    match (found.next(), found.next()) {
        (None, _) => Err(err(format!("missing {name}"))),
        (Some(h), None) => Ok(&h.value),
        (Some(_), Some(_)) => Err(err(format!("more than one {name} header"))),
    }
}

pub(super) fn parse(input: &[u8]) -> Result<Message, ParseError> {
    if input.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(err("empty message"));
    }
    let skip = input
        .iter()
        .position(|b| *b != b'\r' && *b != b'\n')
        .unwrap_or(input.len());
    let data = input.get(skip..).unwrap_or(&[]);
    let (lines, rest) = split_lines(data)?;
    check_controls(&lines)?;
    let mut text = Vec::with_capacity(lines.len());
    for line in &lines {
        text.push(std::str::from_utf8(line).map_err(|_| err("header section is not valid UTF-8"))?);
    }
    let (first, header_lines) = text.split_first().ok_or_else(|| err("empty message"))?;
    let start = parse_start_line(first)?;
    let mut headers = parse_headers(header_lines)?;

    exactly_one(&headers, "Call-ID").and_then(|v| {
        // a word (RFC 3261 25.1): no quoted pairs, so no control character
        if v.is_empty() || v.chars().any(|c| c.is_whitespace() || c.is_control()) {
            Err(err(format!("invalid Call-ID \"{}\"", short(v))))
        } else {
            Ok(())
        }
    })?;
    for name in ["From", "To"] {
        let v = exactly_one(&headers, name)?;
        NameAddr::parse(v).map_err(|e| err(format!("invalid {name}: {}", e.reason())))?;
    }
    // each Contact entry is `*` or an address: a URI with `?` or `,` not
    // enclosed in `<>` is malformed (RFC 3261 20.10, RFC 4475 3.1.2.13
    // regbadct), not an entry to skip
    for h in headers.iter().filter(|h| is_named(&h.name, "Contact")) {
        for c in split_header_list(&h.value) {
            if c != "*" {
                NameAddr::parse(c).map_err(|e| err(format!("invalid Contact: {}", e.reason())))?;
            }
        }
    }
    let cseq = CSeq::parse(exactly_one(&headers, "CSeq")?)?;
    // the top Via is how a response finds its transaction (RFC 3261 17)
    let top_via = headers
        .iter()
        .find(|h| is_named(&h.name, "Via"))
        .ok_or_else(|| err("missing Via"))?;
    // via-parm *(COMMA via-parm): no empty elements (RFC 4475 badinv01)
    for h in headers.iter().filter(|h| is_named(&h.name, "Via")) {
        if split_top_level(&h.value, ',')
            .iter()
            .any(|v| v.trim().is_empty())
        {
            return Err(err(format!(
                "invalid Via: empty element in \"{}\"",
                short(&h.value)
            )));
        }
    }
    let top = split_top_level(&top_via.value, ',');
    let top = top.first().map(|v| v.trim()).unwrap_or("");
    Via::parse(top).map_err(|e| err(format!("invalid Via: {}", e.reason())))?;

    if let StartLine::Request { method, .. } = &start {
        if cseq.method != *method {
            return Err(err(format!(
                "CSeq method {} does not match request method {}",
                cseq.method, method
            )));
        }
    }
    for name in ["Max-Forwards", "Content-Type"] {
        if headers.iter().filter(|h| is_named(&h.name, name)).count() > 1 {
            return Err(err(format!("more than one {name} header")));
        }
    }
    for h in headers.iter().filter(|h| is_named(&h.name, "Max-Forwards")) {
        // RFC 3261 20.22: an integer in the range 0-255
        if parse_digits(&h.value).is_none_or(|n| n > 255) {
            return Err(err(format!("invalid Max-Forwards \"{}\"", short(&h.value))));
        }
    }
    let mut content_length: Option<usize> = None;
    for h in headers
        .iter()
        .filter(|h| is_named(&h.name, "Content-Length"))
    {
        let n = parse_digits(&h.value)
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(|| err(format!("invalid Content-Length \"{}\"", short(&h.value))))?;
        if content_length.is_some_and(|c| c != n) {
            return Err(err("conflicting Content-Length headers"));
        }
        content_length = Some(n);
    }
    let body = match content_length {
        Some(n) => rest
            .get(..n)
            .ok_or_else(|| {
                err(format!(
                    "body shorter than Content-Length ({} < {n})",
                    rest.len()
                ))
            })?
            .to_vec(),
        None => rest.to_vec(),
    };
    // Content-Length is framing: the body length is the truth, and
    // `to_bytes` writes it again.
    headers.retain(|h| !is_named(&h.name, "Content-Length"));
    Ok(Message {
        start,
        headers,
        body,
    })
}
