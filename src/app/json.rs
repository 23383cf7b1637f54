//! The JSON of the browser storage (`softphone.settings`, `.history`,
//! `.messages`, `.contacts`), written and read by hand.
//!
//! Only for size: `serde_json` with the derived (de)serialisers was about
//! 40 KB of the release wasm. The JSON is the one `serde_json` wrote
//! before (same keys, same order, same escapes), and reading follows the
//! derived rules, so stored data of every earlier version loads as before:
//! unknown keys are ignored, a key given twice, a missing required key or a
//! value of the wrong type is an error (the caller then starts afresh),
//! `Settings` keys that are missing take their defaults, and any
//! `dtmf_method` that is not a known string reads as the default. The
//! native tests check both directions against `serde_json`.
//!
//! Pure Rust, no browser: compiled natively too and unit-tested there.

use crate::app::contacts::Contact;
use crate::app::history::{Book, Direction, Entry, Recording};
use crate::app::messaging::{Message, MsgDirection, MsgStatus};
use crate::app::settings::{DtmfSetting, RecordPolicy, Settings};
use std::fmt::Write;

/// Deepest nesting accepted. Settings and lists nest three deep; each level
/// is a frame of the wasm's small stack (128 KiB, `.cargo/config.toml`):
/// at 128 levels (`serde_json`'s limit) a debug build used 100 KiB of it.
const MAX_DEPTH: usize = 32;

/// A parsed JSON value. Numbers keep their text, so that integers are read
/// exactly and floats only when a float is wanted.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Num(String),
    Str(String),
    Arr(Vec<Value>),
    Obj(Vec<(String, Value)>),
}

/// Parse one JSON text (whitespace around it is allowed, nothing else).
pub fn parse(text: &str) -> Result<Value, String> {
    let mut p = Parser {
        s: text.as_bytes(),
        i: 0,
    };
    let v = p.value(0)?;
    p.ws();
    if p.i != p.s.len() {
        return Err(p.err("trailing characters"));
    }
    Ok(v)
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn err(&self, what: &str) -> String {
        format!("{what} at byte {}", self.i)
    }

    fn ws(&mut self) {
        while matches!(self.s.get(self.i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn eat(&mut self, lit: &str) -> bool {
        let ok = self.s[self.i..].starts_with(lit.as_bytes());
        if ok {
            self.i += lit.len();
        }
        ok
    }

    fn value(&mut self, depth: usize) -> Result<Value, String> {
        if depth > MAX_DEPTH {
            return Err(self.err("recursion limit exceeded"));
        }
        self.ws();
        match self.s.get(self.i) {
            Some(b'{') => {
                self.i += 1;
                let mut members = Vec::new();
                self.ws();
                if self.eat("}") {
                    return Ok(Value::Obj(members));
                }
                loop {
                    self.ws();
                    if self.s.get(self.i) != Some(&b'"') {
                        return Err(self.err("key must be a string"));
                    }
                    let key = self.string()?;
                    self.ws();
                    if !self.eat(":") {
                        return Err(self.err("expected `:`"));
                    }
                    members.push((key, self.value(depth + 1)?));
                    self.ws();
                    if self.eat("}") {
                        return Ok(Value::Obj(members));
                    }
                    if !self.eat(",") {
                        return Err(self.err("expected `,` or `}`"));
                    }
                }
            }
            Some(b'[') => {
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if self.eat("]") {
                    return Ok(Value::Arr(items));
                }
                loop {
                    items.push(self.value(depth + 1)?);
                    self.ws();
                    if self.eat("]") {
                        return Ok(Value::Arr(items));
                    }
                    if !self.eat(",") {
                        return Err(self.err("expected `,` or `]`"));
                    }
                }
            }
            Some(b'"') => Ok(Value::Str(self.string()?)),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ if self.eat("null") => Ok(Value::Null),
            _ if self.eat("true") => Ok(Value::Bool(true)),
            _ if self.eat("false") => Ok(Value::Bool(false)),
            _ => Err(self.err("expected a value")),
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while matches!(self.s.get(self.i), Some(b'0'..=b'9')) {
            self.i += 1;
        }
        self.i - start
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
    fn number(&mut self) -> Result<Value, String> {
        let start = self.i;
        self.eat("-");
        let int_start = self.i;
        let n = self.digits();
        if n == 0 || (n > 1 && self.s[int_start] == b'0') {
            return Err(self.err("invalid number"));
        }
        if self.eat(".") && self.digits() == 0 {
            return Err(self.err("invalid number"));
        }
        if matches!(self.s.get(self.i), Some(b'e' | b'E')) {
            self.i += 1;
            if !self.eat("+") {
                self.eat("-");
            }
            if self.digits() == 0 {
                return Err(self.err("invalid number"));
            }
        }
        // only ASCII was consumed
        let text = String::from_utf8_lossy(&self.s[start..self.i]).into_owned();
        Ok(Value::Num(text))
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let mut v = 0;
        for _ in 0..4 {
            let d = self
                .s
                .get(self.i)
                .and_then(|&c| (c as char).to_digit(16))
                .ok_or_else(|| self.err("invalid escape"))?;
            v = v * 16 + d;
            self.i += 1;
        }
        Ok(v)
    }

    /// A string; `self.i` is at its opening quote.
    fn string(&mut self) -> Result<String, String> {
        self.i += 1;
        let mut out: Vec<u8> = Vec::new();
        loop {
            let Some(&c) = self.s.get(self.i) else {
                return Err(self.err("EOF while parsing a string"));
            };
            self.i += 1;
            match c {
                b'"' => break,
                b'\\' => {
                    let Some(&e) = self.s.get(self.i) else {
                        return Err(self.err("EOF while parsing a string"));
                    };
                    self.i += 1;
                    let ch = match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let hi = self.hex4()?;
                            let code = if (0xD800..0xDC00).contains(&hi) {
                                if !self.eat("\\u") {
                                    return Err(self.err("lone leading surrogate"));
                                }
                                let lo = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return Err(self.err("lone leading surrogate"));
                                }
                                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                            } else {
                                hi
                            };
                            char::from_u32(code).ok_or_else(|| self.err("lone surrogate"))?
                        }
                        _ => return Err(self.err("invalid escape")),
                    };
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                }
                0..=0x1f => return Err(self.err("control character in a string")),
                _ => out.push(c),
            }
        }
        // the input is a &str and escapes add whole characters
        String::from_utf8(out).map_err(|_| self.err("invalid UTF-8"))
    }
}

// ------------------------------------------------------------------ writing

/// `s` as a JSON string, escaped as `serde_json` does.
pub fn write_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A float as `serde_json` writes it: `null` when not finite, else with a
/// `.0` when whole (the digits may differ for very large or small values;
/// either form reads back as the same number).
fn write_f64(out: &mut String, v: f64) {
    if !v.is_finite() {
        out.push_str("null");
        return;
    }
    let start = out.len();
    exact_decimal(out, v);
    if !out[start..].contains('.') {
        out.push_str(".0");
    }
}

/// A finite float in decimal, exactly: every binary float is a finite
/// decimal (`m × 2^e` is `m × 5^-e / 10^-e`), so read back it is the same
/// float. Written without `core`'s float formatting (Grisu and Dragon4:
/// some 9 KB of the wasm, kept out of it; see `app::fixed`). The times
/// stored here are whole or nearly whole milliseconds, so their digits are
/// as short as the shortest form's.
fn exact_decimal(out: &mut String, v: f64) {
    const BASE: u64 = 1_000_000_000;
    let bits = v.to_bits();
    if bits >> 63 == 1 {
        out.push('-');
    }
    let biased = ((bits >> 52) & 0x7ff) as i32;
    let fraction = bits & ((1 << 52) - 1);
    let (m, e) = if biased == 0 {
        (fraction, -1074)
    } else {
        (fraction | 1 << 52, biased - 1075)
    };
    // m × 2^e as m × 2^e (e ≥ 0) or m × 5^-e with the point -e digits from
    // the right, in limbs of nine decimal digits, lowest first
    let mut limbs = vec![m % BASE, m / BASE % BASE, m / (BASE * BASE)];
    let mut times = |mut n: u32, factor: u64, per_step: u32| {
        while n > 0 {
            let k = n.min(per_step);
            n -= k;
            let f = factor.pow(k);
            let mut carry = 0;
            for limb in limbs.iter_mut() {
                let x = *limb * f + carry;
                *limb = x % BASE;
                carry = x / BASE;
            }
            while carry > 0 {
                limbs.push(carry % BASE);
                carry /= BASE;
            }
        }
    };
    let point = if e >= 0 {
        times(e as u32, 2, 29);
        0
    } else {
        times(e.unsigned_abs(), 5, 13);
        e.unsigned_abs() as usize
    };
    while limbs.len() > 1 && limbs.last() == Some(&0) {
        limbs.pop();
    }
    let mut digits = String::new();
    for (n, limb) in limbs.iter().rev().enumerate() {
        if n == 0 {
            let _ = write!(digits, "{limb}");
        } else {
            let _ = write!(digits, "{limb:09}");
        }
    }
    if point == 0 {
        out.push_str(&digits);
        return;
    }
    let (whole, part) = if digits.len() > point {
        let (w, p) = digits.split_at(digits.len() - point);
        (w.to_string(), p.to_string())
    } else {
        ("0".to_string(), "0".repeat(point - digits.len()) + &digits)
    };
    out.push_str(&whole);
    let part = part.trim_end_matches('0');
    if !part.is_empty() {
        out.push('.');
        out.push_str(part);
    }
}

/// An object being written: `{"key":value,...}` in call order.
struct Obj<'a> {
    out: &'a mut String,
    first: bool,
}

impl<'a> Obj<'a> {
    fn new(out: &'a mut String) -> Self {
        out.push('{');
        Obj { out, first: true }
    }
    fn key(&mut self, k: &str) -> &mut String {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
        write_str(self.out, k);
        self.out.push(':');
        self.out
    }
    fn str(&mut self, k: &str, v: &str) {
        write_str(self.key(k), v);
    }
    fn num(&mut self, k: &str, v: impl std::fmt::Display) {
        let _ = write!(self.key(k), "{v}");
    }
    fn f64(&mut self, k: &str, v: f64) {
        write_f64(self.key(k), v);
    }
    fn bool(&mut self, k: &str, v: bool) {
        self.key(k).push_str(if v { "true" } else { "false" });
    }
    fn end(self) {
        self.out.push('}');
    }
}

// ------------------------------------------------------------------ reading

/// The fields of a struct being read.
struct Fields<'a> {
    members: Vec<(&'a str, &'a Value)>,
    what: &'static str,
}

impl<'a> Fields<'a> {
    /// The fields of `v`: an object without repeated keys, or (as serde
    /// also reads a struct) a list of the values in the order of `names`,
    /// no longer than it.
    fn of(v: &'a Value, what: &'static str, names: &[&'static str]) -> Result<Self, String> {
        let members: Vec<(&str, &Value)> = match v {
            Value::Obj(members) => members.iter().map(|(k, v)| (k.as_str(), v)).collect(),
            Value::Arr(items) if items.len() <= names.len() => {
                names.iter().copied().zip(items).collect()
            }
            _ => return Err(format!("invalid type: expected {what}")),
        };
        for (n, (k, _)) in members.iter().enumerate() {
            if members[..n].iter().any(|(seen, _)| seen == k) {
                return Err(format!("duplicate field `{k}` in {what}"));
            }
        }
        Ok(Fields { members, what })
    }

    fn get(&self, k: &str) -> Option<&'a Value> {
        self.members
            .iter()
            .find(|(key, _)| *key == k)
            .map(|(_, v)| *v)
    }

    /// A required field.
    fn req(&self, k: &str) -> Result<&'a Value, String> {
        self.get(k)
            .ok_or_else(|| format!("missing field `{k}` in {}", self.what))
    }
}

fn bad(k: &str, expected: &str) -> String {
    format!("invalid type for `{k}`: expected {expected}")
}

fn as_str(k: &str, v: &Value) -> Result<String, String> {
    match v {
        Value::Str(s) => Ok(s.clone()),
        _ => Err(bad(k, "a string")),
    }
}

fn as_bool(k: &str, v: &Value) -> Result<bool, String> {
    match v {
        Value::Bool(b) => Ok(*b),
        _ => Err(bad(k, "a boolean")),
    }
}

/// An unsigned integer no larger than `max` (no fraction, no exponent).
fn as_uint(k: &str, v: &Value, max: u64) -> Result<u64, String> {
    let Value::Num(text) = v else {
        return Err(bad(k, "an integer"));
    };
    match text.parse::<u64>() {
        Ok(n) if n <= max => Ok(n),
        _ => Err(bad(k, "an unsigned integer in range")),
    }
}

fn as_f64(k: &str, v: &Value) -> Result<f64, String> {
    match v {
        Value::Num(text) => number_f64(text).ok_or_else(|| bad(k, "a finite number")),
        _ => Err(bad(k, "a number")),
    }
}

/// A JSON number (already checked by the parser) as a float, without
/// `str::parse` (whose exact algorithm and tables are ~10 KB of wasm):
/// exact when the digits fit in 2^53 and the power of ten is at most 22
/// (every whole ms time and every short decimal), else within an ulp or
/// so, as `serde_json` without `float_roundtrip` was. `None` when too
/// large for a float (also for the very last ulps below `f64::MAX`).
fn number_f64(text: &str) -> Option<f64> {
    let (negative, text) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (digits, exp_text) = match text.find(['e', 'E']) {
        Some(at) => (&text[..at], &text[at + 1..]),
        None => (text, ""),
    };
    let mut exp: i64 = match exp_text {
        "" => 0,
        e => e
            .trim_start_matches('+')
            .parse::<i64>()
            .unwrap_or(if e.starts_with('-') {
                -100_000
            } else {
                100_000
            }),
    };
    let mut mantissa: u64 = 0;
    let mut fraction = false;
    for c in digits.bytes() {
        if c == b'.' {
            fraction = true;
            continue;
        }
        if mantissa < 100_000_000_000_000_000 {
            mantissa = mantissa * 10 + u64::from(c - b'0');
            exp -= i64::from(fraction);
        } else {
            // more digits than a float holds: drop them
            exp += i64::from(!fraction);
        }
    }
    let m = mantissa as f64;
    let exp = exp.clamp(-800, 800) as i32;
    let v = if mantissa == 0 {
        0.0
    } else if exp >= 0 {
        m * 10f64.powi(exp)
    } else if exp >= -308 {
        m / 10f64.powi(-exp)
    } else {
        m / 10f64.powi(308) / 10f64.powi(-exp - 308)
    };
    let v = if negative { -v } else { v };
    v.is_finite().then_some(v)
}

/// A unit enum stored as its lowercase name.
fn as_name<T: Copy>(k: &str, v: &Value, names: &[(&str, T)]) -> Result<T, String> {
    if let Value::Str(s) = v {
        if let Some((_, t)) = names.iter().find(|(n, _)| n == s) {
            return Ok(*t);
        }
    }
    Err(bad(k, "a known name"))
}

// ------------------------------------------------------------------ records

/// A record kept in a [`Book`] in the browser's storage.
pub trait Record: Sized {
    fn write(&self, out: &mut String);
    fn read(v: &Value) -> Result<Self, String>;
}

const DIRECTIONS: &[(&str, Direction)] = &[
    ("incoming", Direction::Incoming),
    ("outgoing", Direction::Outgoing),
    ("missed", Direction::Missed),
];
const MSG_DIRECTIONS: &[(&str, MsgDirection)] =
    &[("in", MsgDirection::In), ("out", MsgDirection::Out)];
const MSG_STATUSES: &[(&str, MsgStatus)] = &[
    ("sending", MsgStatus::Sending),
    ("delivered", MsgStatus::Delivered),
    ("failed", MsgStatus::Failed),
];

const ENTRY_FIELDS: &[&str] = &[
    "direction",
    "peer_label",
    "peer_uri",
    "start_ms",
    "duration_secs",
    "outcome",
    "recordings",
];
const MESSAGE_FIELDS: &[&str] = &[
    "id",
    "direction",
    "peer",
    "peer_name",
    "text",
    "at_ms",
    "status",
    "reason",
];
/// In declaration order (a list is read in this order).
const SETTINGS_FIELDS: &[&str] = &[
    "ws_url",
    "sip_uri",
    "auth_user",
    "password",
    "display_name",
    "allow_insecure_ws",
    "ice_servers",
    "relay_only",
    "ice_gather_timeout_ms",
    "dtmf_method",
    "audio_codecs",
    "video_codecs",
    "auto_answer",
    "dnd",
    "ring_volume",
    "mic_device",
    "speaker_device",
    "camera_device",
    "echo_cancellation",
    "noise_suppression",
    "auto_gain",
    "record_calls",
];

impl Record for Entry {
    fn write(&self, out: &mut String) {
        let mut o = Obj::new(out);
        o.str("direction", self.direction.as_str());
        o.str("peer_label", &self.peer_label);
        o.str("peer_uri", &self.peer_uri);
        o.f64("start_ms", self.start_ms);
        o.num("duration_secs", self.duration_secs);
        o.str("outcome", &self.outcome);
        if !self.recordings.is_empty() {
            let out = o.key("recordings");
            out.push('[');
            for (n, r) in self.recordings.iter().enumerate() {
                if n > 0 {
                    out.push(',');
                }
                let mut o = Obj::new(out);
                o.str("id", &r.id);
                o.num("bytes", r.bytes);
                o.bool("video", r.video);
                o.end();
            }
            out.push(']');
        }
        o.end();
    }
    fn read(v: &Value) -> Result<Self, String> {
        let f = Fields::of(v, "a history entry", ENTRY_FIELDS)?;
        Ok(Entry {
            direction: as_name("direction", f.req("direction")?, DIRECTIONS)?,
            peer_label: as_str("peer_label", f.req("peer_label")?)?,
            peer_uri: as_str("peer_uri", f.req("peer_uri")?)?,
            start_ms: as_f64("start_ms", f.req("start_ms")?)?,
            duration_secs: as_uint("duration_secs", f.req("duration_secs")?, u64::MAX)?,
            outcome: f
                .get("outcome")
                .map_or(Ok(String::new()), |v| as_str("outcome", v))?,
            recordings: match f.get("recordings") {
                None => Vec::new(),
                Some(Value::Arr(items)) => {
                    items.iter().map(read_recording).collect::<Result<_, _>>()?
                }
                Some(_) => return Err(bad("recordings", "a list")),
            },
        })
    }
}

fn read_recording(v: &Value) -> Result<Recording, String> {
    let f = Fields::of(v, "a recording", &["id", "bytes", "video"])?;
    Ok(Recording {
        id: as_str("id", f.req("id")?)?,
        bytes: as_uint("bytes", f.req("bytes")?, u64::MAX)?,
        video: as_bool("video", f.req("video")?)?,
    })
}

impl Record for Message {
    fn write(&self, out: &mut String) {
        let mut o = Obj::new(out);
        o.num("id", self.id);
        o.str("direction", self.direction.as_str());
        o.str("peer", &self.peer);
        o.str("peer_name", &self.peer_name);
        o.str("text", &self.text);
        o.f64("at_ms", self.at_ms);
        o.str("status", self.status.as_str());
        o.str("reason", &self.reason);
        o.end();
    }
    fn read(v: &Value) -> Result<Self, String> {
        let f = Fields::of(v, "a message", MESSAGE_FIELDS)?;
        let text_or_empty = |k: &str| f.get(k).map_or(Ok(String::new()), |v| as_str(k, v));
        Ok(Message {
            id: as_uint("id", f.req("id")?, u32::MAX.into())? as u32,
            direction: as_name("direction", f.req("direction")?, MSG_DIRECTIONS)?,
            peer: as_str("peer", f.req("peer")?)?,
            peer_name: text_or_empty("peer_name")?,
            text: as_str("text", f.req("text")?)?,
            at_ms: as_f64("at_ms", f.req("at_ms")?)?,
            status: as_name("status", f.req("status")?, MSG_STATUSES)?,
            reason: text_or_empty("reason")?,
        })
    }
}

impl Record for Contact {
    fn write(&self, out: &mut String) {
        let mut o = Obj::new(out);
        o.str("uri", &self.uri);
        o.end();
    }
    fn read(v: &Value) -> Result<Self, String> {
        let f = Fields::of(v, "a contact", &["uri"])?;
        Ok(Contact {
            uri: as_str("uri", f.req("uri")?)?,
        })
    }
}

/// A book as a JSON object of lists (accounts in key order).
pub fn book_to_json<T: Record>(book: &Book<T>) -> String {
    let mut out = String::new();
    out.push('{');
    for (n, (account, items)) in book.accounts.iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        write_str(&mut out, account);
        out.push_str(":[");
        for (m, item) in items.iter().enumerate() {
            if m > 0 {
                out.push(',');
            }
            item.write(&mut out);
        }
        out.push(']');
    }
    out.push('}');
    out
}

/// A book from its JSON (an account given twice: the last one counts).
pub fn book_from_json<T: Record>(text: &str) -> Result<Book<T>, String> {
    let Value::Obj(members) = parse(text)? else {
        return Err("invalid type: expected an object of lists".to_string());
    };
    let mut book = Book::default();
    for (account, list) in members {
        let Value::Arr(items) = list else {
            return Err(format!("invalid type for `{account}`: expected a list"));
        };
        let items = items.iter().map(T::read).collect::<Result<Vec<T>, _>>()?;
        book.accounts.insert(account, items);
    }
    Ok(book)
}

// ----------------------------------------------------------------- settings

/// The settings as JSON (the password included: see `web::storage`).
pub fn settings_to_json(s: &Settings) -> String {
    let mut out = String::new();
    let mut o = Obj::new(&mut out);
    o.str("ws_url", &s.ws_url);
    o.str("sip_uri", &s.sip_uri);
    o.str("auth_user", &s.auth_user);
    o.str("password", &s.password);
    o.str("display_name", &s.display_name);
    o.bool("allow_insecure_ws", s.allow_insecure_ws);
    o.str("ice_servers", &s.ice_servers);
    o.bool("relay_only", s.relay_only);
    o.num("ice_gather_timeout_ms", s.ice_gather_timeout_ms);
    o.str("dtmf_method", s.dtmf_method.as_str());
    o.str("audio_codecs", &s.audio_codecs);
    o.str("video_codecs", &s.video_codecs);
    o.bool("auto_answer", s.auto_answer);
    o.bool("dnd", s.dnd);
    o.num("ring_volume", s.ring_volume);
    o.str("mic_device", &s.mic_device);
    o.str("speaker_device", &s.speaker_device);
    o.str("camera_device", &s.camera_device);
    o.bool("echo_cancellation", s.echo_cancellation);
    o.bool("noise_suppression", s.noise_suppression);
    o.bool("auto_gain", s.auto_gain);
    o.str("record_calls", s.record_calls.as_str());
    o.end();
    out
}

/// The settings from their JSON; a missing key keeps its default.
pub fn settings_from_json(text: &str) -> Result<Settings, String> {
    let v = parse(text)?;
    let f = Fields::of(&v, "the settings", SETTINGS_FIELDS)?;
    let mut s = Settings::default();
    let strings: [(&str, &mut String); 11] = [
        ("ws_url", &mut s.ws_url),
        ("sip_uri", &mut s.sip_uri),
        ("auth_user", &mut s.auth_user),
        ("password", &mut s.password),
        ("display_name", &mut s.display_name),
        ("ice_servers", &mut s.ice_servers),
        ("mic_device", &mut s.mic_device),
        ("speaker_device", &mut s.speaker_device),
        ("audio_codecs", &mut s.audio_codecs),
        ("video_codecs", &mut s.video_codecs),
        ("camera_device", &mut s.camera_device),
    ];
    for (k, field) in strings {
        if let Some(v) = f.get(k) {
            *field = as_str(k, v)?;
        }
    }
    let flags: [(&str, &mut bool); 7] = [
        ("allow_insecure_ws", &mut s.allow_insecure_ws),
        ("relay_only", &mut s.relay_only),
        ("auto_answer", &mut s.auto_answer),
        ("dnd", &mut s.dnd),
        ("echo_cancellation", &mut s.echo_cancellation),
        ("noise_suppression", &mut s.noise_suppression),
        ("auto_gain", &mut s.auto_gain),
    ];
    for (k, field) in flags {
        if let Some(v) = f.get(k) {
            *field = as_bool(k, v)?;
        }
    }
    if let Some(v) = f.get("ice_gather_timeout_ms") {
        s.ice_gather_timeout_ms = as_uint("ice_gather_timeout_ms", v, u32::MAX.into())? as u32;
    }
    if let Some(v) = f.get("ring_volume") {
        s.ring_volume = as_uint("ring_volume", v, u8::MAX.into())? as u8;
    }
    if let Some(v) = f.get("dtmf_method") {
        // any other value reads as the default (see DtmfSetting)
        s.dtmf_method = match v {
            Value::Str(t) => DtmfSetting::from_value(t),
            _ => DtmfSetting::default(),
        };
    }
    if let Some(v) = f.get("record_calls") {
        s.record_calls = match v {
            Value::Str(t) => RecordPolicy::from_value(t),
            _ => RecordPolicy::default(),
        };
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings_sample() -> Settings {
        Settings {
            ws_url: "wss://pbx.example.com:8089/ws ws://10.0.0.1:8088".into(),
            sip_uri: "sip:1001@example.com".into(),
            auth_user: "1001".into(),
            password: "p\"a\\s\ns\u{1}w\u{7f}ö𝄞".into(),
            display_name: "Zoë \"Z\" </>".into(),
            allow_insecure_ws: true,
            ice_servers: "stun:stun.example.com\nturn:t.example.com u p".into(),
            relay_only: true,
            ice_gather_timeout_ms: 4_000_000_000,
            dtmf_method: DtmfSetting::Info,
            audio_codecs: "PCMU, opus".into(),
            video_codecs: "VP9 H264".into(),
            auto_answer: true,
            dnd: true,
            ring_volume: 255,
            mic_device: "mic\tid".into(),
            speaker_device: String::new(),
            camera_device: "cam\"1".into(),
            echo_cancellation: false,
            noise_suppression: true,
            auto_gain: false,
            record_calls: RecordPolicy::Always,
        }
    }

    fn entry(n: u64) -> Entry {
        Entry {
            direction: [Direction::Incoming, Direction::Outgoing, Direction::Missed]
                [n as usize % 3],
            peer_label: format!("Peer {n} \u{8}\u{c}"),
            peer_uri: format!("sip:{n}@example.com"),
            start_ms: 1_732_550_400_000.0 + n as f64 * 0.25,
            duration_secs: n * 1_000_000_000_000,
            outcome: if n.is_multiple_of(2) {
                String::new()
            } else {
                "Busy".into()
            },
            recordings: (0..n % 3)
                .map(|k| Recording {
                    id: format!("1732550400000-{n}-{k}\"é"),
                    bytes: k * 1_000_000_007,
                    video: k == 1,
                })
                .collect(),
        }
    }

    fn message(n: u32) -> Message {
        Message {
            id: n * 500_000_000,
            direction: [MsgDirection::In, MsgDirection::Out][n as usize % 2],
            peer: "sip:1002@example.com".into(),
            peer_name: "Bob".into(),
            text: format!("hello {n} ✓ \u{1f}"),
            at_ms: 1e-7 + n as f64,
            status: [MsgStatus::Sending, MsgStatus::Delivered, MsgStatus::Failed][n as usize % 3],
            reason: "404 Not Found".into(),
        }
    }

    fn sample_book<T: Clone>(f: impl Fn(u32) -> T) -> Book<T> {
        let mut b = Book::default();
        b.set("sip:1001@example.com", (0..5).map(&f).collect(), 100);
        b.set("sip:\"odd\"@example.com", vec![f(7)], 100);
        b.set("sip:1000@example.com", Vec::new(), 100);
        b
    }

    #[test]
    fn settings_are_written_as_serde_json_wrote_them() {
        for s in [settings_sample(), Settings::default()] {
            let ours = settings_to_json(&s);
            assert_eq!(ours, serde_json::to_string(&s).unwrap());
            assert_eq!(settings_from_json(&ours).unwrap(), s);
        }
    }

    #[test]
    fn books_are_written_as_serde_json_wrote_them() {
        let history = sample_book(|n| entry(n.into()));
        let ours = book_to_json(&history);
        // the same JSON value (floats may be spelt differently)
        let theirs = serde_json::to_string(&history).unwrap();
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&ours).unwrap(),
            serde_json::from_str::<serde_json::Value>(&theirs).unwrap()
        );
        assert_eq!(book_from_json::<Entry>(&ours).unwrap(), history);
        assert_eq!(book_from_json::<Entry>(&theirs).unwrap(), history);

        let messages = sample_book(message);
        let ours = book_to_json(&messages);
        let theirs = serde_json::to_string(&messages).unwrap();
        assert_eq!(
            serde_json::from_str::<Book<Message>>(&ours).unwrap(),
            messages
        );
        assert_eq!(book_from_json::<Message>(&theirs).unwrap(), messages);

        let contacts = sample_book(|n| Contact {
            uri: format!("sip:{n}@example.com"),
        });
        let ours = book_to_json(&contacts);
        assert_eq!(ours, serde_json::to_string(&contacts).unwrap());
        assert_eq!(book_from_json::<Contact>(&ours).unwrap(), contacts);
        assert_eq!(book_to_json::<Contact>(&Book::default()), "{}");
    }

    #[test]
    fn floats_are_written_exactly() {
        for (v, text) in [
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (0.5, "0.5"),
            (1_732_550_400_000.25, "1732550400000.25"),
            (-2.0, "-2.0"),
            (1e22, "10000000000000000000000.0"),
            (
                0.1,
                "0.1000000000000000055511151231257827021181583404541015625",
            ),
        ] {
            let mut out = String::new();
            write_f64(&mut out, v);
            assert_eq!(out, text);
            assert_eq!(
                number_f64(&out).map(f64::to_bits),
                Some(v.to_bits()),
                "{text}"
            );
        }
        // the smallest float, 2^-1074: 1074 decimals, the first 323 zeros
        let mut out = String::new();
        write_f64(&mut out, 5e-324);
        let want = format!("0.{}494065645841246544176568792868", "0".repeat(323));
        assert!(out.starts_with(&want), "{out}");
        assert_eq!(out.len(), 2 + 1074);
        assert_eq!(number_f64(&out), Some(5e-324));
    }

    #[test]
    fn whole_floats_keep_their_point() {
        let mut out = String::new();
        for v in [1_732_550_400_000.0, 0.5, -2.0, 1e300, f64::NAN] {
            write_f64(&mut out, v);
            out.push(' ');
        }
        assert!(out.starts_with("1732550400000.0 0.5 -2.0 1000"));
        assert!(out.ends_with(".0 null "));
    }

    /// Every input is read by our reader and by the derived serde reader,
    /// and both agree: the same value, or both refuse it.
    #[test]
    fn reading_follows_the_derived_rules() {
        let settings_inputs = [
            r#"{}"#,
            r#"{"ws_url":"ws://h:1","future_key":[1,{"x":null}],"ring_volume":0}"#,
            r#"{"dtmf_method":"INFO"}"#,
            r#"{"dtmf_method":"bogus"}"#,
            r#"{"dtmf_method":7}"#,
            r#"{"dtmf_method":{"a":[1]}}"#,
            r#"{"dtmf_method":null}"#,
            r#"{"ring_volume":256}"#,
            r#"{"ring_volume":-1}"#,
            r#"{"ring_volume":-0}"#,
            r#"{"ring_volume":60.0}"#,
            r#"{"ring_volume":6e1}"#,
            r#"{"ice_gather_timeout_ms":4294967296}"#,
            r#"{"ws_url":null}"#,
            r#"{"dnd":"yes"}"#,
            r#"{"dnd":true,"dnd":false}"#,
            r#"  {"password":"\u00e9\ud834\udd1e\/\b"}  "#,
            r#"{"password":"\ud834"}"#,
            r#"{"password":"\udd1e"}"#,
            r#"{"password":"a\x"}"#,
            "{\"password\":\"a\u{1}\"}",
            r#"{"ws_url":"x"} x"#,
            r#"{"ws_url":"x",}"#,
            r#"{"ws_url" "x"}"#,
            r#"[]"#,
            r#"["ws://h:1","sip:a@b","a","p","d",true,"",7,"info",true,false,9]"#,
            r#"["ws://h:1","sip:a@b","a","p","d",true,"",7,"info",true,false,9,"m","s",false,false,false]"#,
            r#"["ws://h:1","sip:a@b","a","p","d",true,"",7,"info",true,false,9,"m","s",false,false,false,1]"#,
            r#"[1]"#,
            r#"null"#,
            r#""#,
            r#"{"a":01}"#,
            r#"{"a":1.}"#,
            r#"{"a":-}"#,
            r#"{"a":1e}"#,
            r#"{"a":tru}"#,
        ];
        for input in settings_inputs {
            let ours = settings_from_json(input).ok();
            let theirs = serde_json::from_str::<Settings>(input).ok();
            assert_eq!(ours, theirs, "settings {input}");
        }
        let history_inputs = [
            r#"{"a":[{"direction":"missed","peer_label":"","peer_uri":"","start_ms":5,"duration_secs":0}]}"#,
            r#"{"a":[{"direction":"Missed","peer_label":"","peer_uri":"","start_ms":5,"duration_secs":0}]}"#,
            r#"{"a":[{"direction":"missed","peer_label":"","peer_uri":"","start_ms":5.5e3,"duration_secs":1.0}]}"#,
            r#"{"a":[{"direction":"missed","peer_label":"","peer_uri":"","start_ms":null,"duration_secs":0}]}"#,
            r#"{"a":[{"direction":"missed","peer_label":"","peer_uri":"","duration_secs":0}]}"#,
            r#"{"a":[{"direction":"missed","peer_label":"","peer_uri":"","start_ms":-0.0,"duration_secs":18446744073709551615,"outcome":"x","more":1}]}"#,
            r#"{"a":[{"direction":"missed","peer_label":"","peer_uri":"","start_ms":1,"duration_secs":18446744073709551616}]}"#,
            r#"{"a":[],"a":[]}"#,
            r#"{"a":{}}"#,
            r#"{"a":[1]}"#,
            r#"{"a":[["missed","l","u",1.5,2]]}"#,
            r#"{"a":[["missed","l","u",1.5,2,"o"]]}"#,
            r#"{"a":[["missed","l","u",1.5]]}"#,
            r#"{"a":[["missed","l","u",1.5,2,"o",3]]}"#,
            r#"[]"#,
        ];
        for input in history_inputs {
            let ours = book_from_json::<Entry>(input).ok();
            let theirs = serde_json::from_str::<Book<Entry>>(input).ok();
            assert_eq!(ours, theirs, "history {input}");
        }
        let message_inputs = [
            r#"{"a":[{"id":4294967295,"direction":"out","peer":"p","text":"t","at_ms":1,"status":"failed"}]}"#,
            r#"{"a":[{"id":4294967296,"direction":"out","peer":"p","text":"t","at_ms":1,"status":"failed"}]}"#,
            r#"{"a":[{"id":1,"direction":"up","peer":"p","text":"t","at_ms":1,"status":"failed"}]}"#,
            r#"{"a":[{"id":1,"direction":"in","peer":"p","text":"t","at_ms":1,"status":"read"}]}"#,
            r#"{"a":[{"id":1,"direction":"in","peer":"p","peer_name":null,"text":"t","at_ms":1,"status":"sending"}]}"#,
        ];
        for input in message_inputs {
            let ours = book_from_json::<Message>(input).ok();
            let theirs = serde_json::from_str::<Book<Message>>(input).ok();
            assert_eq!(ours, theirs, "messages {input}");
        }
        for input in [
            r#"{"a":[{"uri":"x"}]}"#,
            r#"{"a":[{"url":"x"}]}"#,
            r#"{"a":[{"uri":1}]}"#,
        ] {
            let ours = book_from_json::<Contact>(input).ok();
            let theirs = serde_json::from_str::<Book<Contact>>(input).ok();
            assert_eq!(ours, theirs, "contacts {input}");
        }
    }

    #[test]
    fn floats_are_read_exactly_where_it_matters() {
        let mut samples = vec![0.0, -0.0, 0.5, 0.25, 1e-7, 123.456, 1e22];
        for n in 0..2000u64 {
            let ms = 1_600_000_000_000.0 + (n * 7_919_007) as f64;
            samples.extend([ms, ms + 0.5, ms + 0.125, -ms, n as f64 / 8.0]);
        }
        for v in samples {
            let mut text = String::new();
            write_f64(&mut text, v);
            let back = number_f64(&text).unwrap();
            assert!(
                back == v && back.is_sign_negative() == v.is_sign_negative(),
                "{text}"
            );
            // serde_json's spelling too
            let theirs = serde_json::to_string(&v).unwrap();
            assert_eq!(number_f64(&theirs), Some(v), "{theirs}");
        }
        for (text, v) in [
            ("1E2", 100.0),
            ("1e+2", 100.0),
            ("-2.5e-3", -0.0025),
            ("12345678901234567890123", 1.2345678901234568e22),
            ("0.000000000000000000000000000001", 1e-30),
            ("1e-400", 0.0),
            ("5e-324", 5e-324),
            ("1.79e308", 1.79e308),
            ("0.1e309", 1e308),
            ("1e99999999999999999999", f64::INFINITY),
        ] {
            let got = number_f64(text);
            if v.is_finite() {
                let got = got.unwrap_or_else(|| panic!("{text}"));
                assert!((got - v).abs() <= v.abs() * 1e-15, "{text}: {got}");
            } else {
                assert_eq!(got, None, "{text}");
            }
        }
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 2), "]".repeat(MAX_DEPTH + 2));
        assert!(parse(&deep).is_err());
        let fine = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse(&fine).is_ok());
    }
}
