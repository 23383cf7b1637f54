//! [`classify`](super::classify): what one frame from the network is, and the
//! `400 Bad Request` for a request we cannot accept but can still answer.

use super::addr::{is_token, split_top_level, NameAddr, Via};
use super::names::{canonical, is_named};
use super::parse::CtlScan;
use super::{CSeq, Incoming, Message, ParseError};

pub(super) fn classify(bytes: &[u8]) -> Incoming {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Incoming::KeepAlive;
    }
    match Message::parse(bytes) {
        Ok(m) if m.is_request() => Incoming::Request(m),
        Ok(m) => Incoming::Response(m),
        Err(e) => malformed(bytes, &e),
    }
}

fn malformed(bytes: &[u8], e: &ParseError) -> Incoming {
    let reason = e.reason();
    let reply = bad_request(bytes, &reason);
    Incoming::Malformed { reason, reply }
}

/// The start line and the unfolded header lines of `bytes`, read leniently:
/// lines that are not UTF-8 are dropped, the body is ignored. `None` when
/// there is no start line.
fn lenient_lines(bytes: &[u8]) -> Option<(String, Vec<String>)> {
    let skip = bytes.iter().position(|b| *b != b'\r' && *b != b'\n')?;
    let data = bytes.get(skip..)?;
    let mut raw = data
        .split(|b| *b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let start = std::str::from_utf8(raw.next()?).ok()?.trim().to_string();
    let mut logical: Vec<Option<String>> = Vec::new();
    for line in raw {
        if line.is_empty() {
            break;
        }
        let text = std::str::from_utf8(line).ok();
        if line.starts_with(b" ") || line.starts_with(b"\t") {
            // a continuation of the previous line (a bad one spoils it)
            match (logical.last_mut(), text) {
                (Some(Some(last)), Some(more)) => {
                    last.push(' ');
                    last.push_str(more.trim());
                }
                (Some(last), None) => *last = None,
                _ => {}
            }
        } else {
            logical.push(text.map(str::to_string));
        }
    }
    Some((start, logical.into_iter().flatten().collect()))
}

/// The values of the header `name` (canonical) among `lines`, trimmed.
fn values<'a>(lines: &'a [String], name: &str) -> Vec<&'a str> {
    lines
        .iter()
        .filter_map(|l| l.split_once(':'))
        .filter(|(n, _)| is_named(canonical(n), name))
        .map(|(_, v)| v.trim())
        .collect()
}

/// A value we can copy into a response: present, not empty, printable
/// (control characters only as quoted pairs, as the parser allows).
fn copyable(v: &str) -> bool {
    !v.is_empty() && CtlScan::value_ok(v.as_bytes())
}

/// The `400 Bad Request` answering a request that could not be accepted,
/// when its Via, From, To, Call-ID and CSeq can be read (not for ACK, never
/// for a response).
fn bad_request(bytes: &[u8], reason: &str) -> Option<Message> {
    let (start, lines) = lenient_lines(bytes)?;
    let method = start.split_ascii_whitespace().next()?;
    if !is_token(method) || method == "ACK" {
        return None; // a response, garbage, or an ACK (never answered)
    }
    // the Vias are copied as written: they must be a well-formed list (no
    // empty element) whose top entry parses
    let vias = values(&lines, "Via");
    let well_formed =
        |v: &&str| copyable(v) && split_top_level(v, ',').iter().all(|e| !e.trim().is_empty());
    if !vias.iter().all(well_formed) {
        return None;
    }
    let top = vias.first()?;
    Via::parse(split_top_level(top, ',').first()?.trim()).ok()?;
    // From, To and CSeq must be readable: the 400 copies them, and a 400
    // that its receiver (or our own parser) cannot read helps nobody
    let from = *values(&lines, "From").first().filter(|v| copyable(v))?;
    NameAddr::parse(from).ok()?;
    let to = *values(&lines, "To").first().filter(|v| copyable(v))?;
    let to_has_tag = NameAddr::parse(to).ok()?.tag().is_some();
    let call_id = *values(&lines, "Call-ID")
        .first()
        .filter(|v| copyable(v) && !v.chars().any(|c| c.is_whitespace() || c.is_control()))?;
    let cseq = *values(&lines, "CSeq").first().filter(|v| copyable(v))?;
    CSeq::parse(cseq).ok()?;

    let mut r = Message::response(400, "Bad Request");
    for v in vias {
        r.push_header("Via", v);
    }
    r.push_header("From", from);
    if to_has_tag {
        r.push_header("To", to);
    } else {
        r.push_header("To", format!("{to};tag={:016x}", fnv1a(bytes)));
    }
    r.push_header("Call-ID", call_id);
    r.push_header("CSeq", cseq);
    r.push_header(
        "Warning",
        format!("399 softphone \"{}\"", quote_escape(reason)),
    );
    Some(r)
}

/// 64-bit FNV-1a: a deterministic To tag for the same bytes.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// `s` as the inside of a quoted string: `"` and `\` escaped, control
/// characters replaced by spaces.
fn quote_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}
