//! Digest authentication (RFC 2617, RFC 7616, RFC 8760).
//!
//! Sans-IO helpers for a SIP user agent client (RFC 3261 section 22): parse the
//! value of a `WWW-Authenticate` / `Proxy-Authenticate` header into a
//! [`Challenge`], pick the best one with [`Challenge::choose`], answer it with
//! [`authorize`] and write the `Authorization` / `Proxy-Authorization` value
//! with [`Credentials::to_header_value`].
//!
//! Nothing here reads a clock or draws random numbers: the caller passes the
//! client nonce (`cnonce`) and the nonce count. No function panics on any
//! input.
//!
//! Supported: the `Digest` scheme with the algorithms MD5, MD5-sess, SHA-256
//! and SHA-256-sess; `qop=auth`, `qop=auth-int` (only when `auth` is not
//! offered) and the RFC 2069 legacy form without qop.

use std::fmt;
use std::fmt::Write as _;

use md5::{Digest, Md5};
use sha2::Sha256;

/// A digest algorithm (the `algorithm` parameter).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    Md5,
    Md5Sess,
    Sha256,
    Sha256Sess,
}

impl Algorithm {
    /// Parses an `algorithm` parameter value, case-insensitively: `MD5`,
    /// `MD5-sess`, `SHA-256`, `SHA-256-sess`. Anything else gives `None`.
    pub fn parse(s: &str) -> Option<Algorithm> {
        let s = s.trim();
        [
            Algorithm::Md5,
            Algorithm::Md5Sess,
            Algorithm::Sha256,
            Algorithm::Sha256Sess,
        ]
        .into_iter()
        .find(|a| a.as_str().eq_ignore_ascii_case(s))
    }

    /// The canonical spelling, as written in a header.
    pub fn as_str(&self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Md5Sess => "MD5-sess",
            Algorithm::Sha256 => "SHA-256",
            Algorithm::Sha256Sess => "SHA-256-sess",
        }
    }

    /// Whether this is a session variant (`-sess`), where A1 includes the
    /// nonce and the client nonce.
    pub fn is_sess(&self) -> bool {
        matches!(self, Algorithm::Md5Sess | Algorithm::Sha256Sess)
    }

    /// Preference when several challenges are offered: higher is better.
    fn strength(&self) -> u8 {
        match self {
            Algorithm::Sha256 => 4,
            Algorithm::Sha256Sess => 3,
            Algorithm::Md5 => 2,
            Algorithm::Md5Sess => 1,
        }
    }

    /// Lowercase hex digest of `data` with this algorithm's hash function.
    fn hash_hex(&self, data: &[u8]) -> String {
        match self {
            Algorithm::Md5 | Algorithm::Md5Sess => to_hex(&Md5::digest(data)),
            Algorithm::Sha256 | Algorithm::Sha256Sess => to_hex(&Sha256::digest(data)),
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a challenge or credentials value could not be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthError(pub String);

impl AuthError {
    fn new(reason: impl Into<String>) -> AuthError {
        AuthError(reason.into())
    }
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for AuthError {}

/// A `Digest` challenge from a `WWW-Authenticate` or `Proxy-Authenticate`
/// header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    pub realm: String,
    pub nonce: String,
    pub opaque: Option<String>,
    /// `Md5` when the challenge has no `algorithm` parameter.
    pub algorithm: Algorithm,
    /// The offered qop tokens, lowercased; empty for a legacy (RFC 2069)
    /// challenge.
    pub qop: Vec<String>,
    pub stale: bool,
}

impl Challenge {
    /// Parses one challenge (the header value after the header name). The
    /// scheme must be `Digest` (case-insensitive); `realm` and `nonce` are
    /// required; unknown parameters are ignored. If the value holds several
    /// challenges, only the first is considered.
    pub fn parse(value: &str) -> Result<Challenge, AuthError> {
        match parse_auth_list(value).into_iter().next() {
            Some(raw) => Challenge::from_raw(&raw),
            None => Err(AuthError::new("empty challenge")),
        }
    }

    /// Picks the best supported challenge among all header values (each value
    /// may itself hold several comma-separated challenges). Non-Digest
    /// schemes, unsupported algorithms and unsupported qop lists are skipped;
    /// SHA-256 is preferred over MD5 and, at equal strength, the first offered
    /// challenge wins.
    pub fn choose(values: &[&str]) -> Result<Challenge, AuthError> {
        let mut best: Option<Challenge> = None;
        let mut reasons: Vec<String> = Vec::new();
        for value in values {
            for raw in parse_auth_list(value) {
                match Challenge::from_raw(&raw) {
                    Ok(c) if c.preferred_qop().is_none() && !c.qop.is_empty() => {
                        reasons.push(format!("unsupported qop \"{}\"", c.qop.join(",")));
                    }
                    Ok(c) => {
                        let better = match &best {
                            Some(b) => c.algorithm.strength() > b.algorithm.strength(),
                            None => true,
                        };
                        if better {
                            best = Some(c);
                        }
                    }
                    Err(e) => reasons.push(e.0),
                }
            }
        }
        match best {
            Some(c) => Ok(c),
            None if reasons.is_empty() => Err(AuthError::new("no challenge")),
            None => Err(AuthError(format!(
                "no supported challenge: {}",
                reasons.join("; ")
            ))),
        }
    }

    /// The qop this client answers with: `auth` when offered, else
    /// `auth-int` when offered, else `None` (legacy, or nothing supported).
    pub fn preferred_qop(&self) -> Option<&'static str> {
        if self.qop.iter().any(|q| q == "auth") {
            Some("auth")
        } else if self.qop.iter().any(|q| q == "auth-int") {
            Some("auth-int")
        } else {
            None
        }
    }

    /// Writes the challenge as a header value (for a server side or tests):
    /// `Digest realm="…", nonce="…", opaque="…", algorithm=…, qop="…", stale=true`.
    pub fn to_header_value(&self) -> String {
        let mut out = String::from("Digest ");
        push_quoted(&mut out, "realm", &self.realm);
        out.push_str(", ");
        push_quoted(&mut out, "nonce", &self.nonce);
        if let Some(opaque) = &self.opaque {
            out.push_str(", ");
            push_quoted(&mut out, "opaque", opaque);
        }
        out.push_str(", algorithm=");
        out.push_str(self.algorithm.as_str());
        if !self.qop.is_empty() {
            out.push_str(", ");
            push_quoted(&mut out, "qop", &self.qop.join(","));
        }
        if self.stale {
            out.push_str(", stale=true");
        }
        out
    }

    fn from_raw(raw: &RawChallenge) -> Result<Challenge, AuthError> {
        check_digest_scheme(&raw.scheme)?;
        let realm = raw
            .param("realm")
            .ok_or_else(|| AuthError::new("challenge has no realm"))?;
        let nonce = raw
            .param("nonce")
            .ok_or_else(|| AuthError::new("challenge has no nonce"))?;
        let algorithm = parse_algorithm(raw.param("algorithm"))?;
        let qop = raw
            .param("qop")
            .map(|q| {
                q.split(',')
                    .map(|t| t.trim().to_ascii_lowercase())
                    .filter(|t| !t.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        let stale = raw
            .param("stale")
            .is_some_and(|s| s.trim().eq_ignore_ascii_case("true"));
        Ok(Challenge {
            realm: realm.to_string(),
            nonce: nonce.to_string(),
            opaque: raw.param("opaque").map(str::to_string),
            algorithm,
            qop,
            stale,
        })
    }
}

/// The `Digest` credentials of an `Authorization` or `Proxy-Authorization`
/// header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub realm: String,
    pub nonce: String,
    pub uri: String,
    pub response: String,
    pub algorithm: Algorithm,
    pub cnonce: Option<String>,
    pub opaque: Option<String>,
    pub qop: Option<String>,
    pub nc: Option<u32>,
}

impl Credentials {
    /// Parses a credentials value (`Digest username="…", realm="…", …`).
    /// `username`, `realm`, `nonce`, `uri` and `response` are required; an
    /// absent `algorithm` means MD5; `nc` is hexadecimal.
    pub fn parse(value: &str) -> Result<Credentials, AuthError> {
        let raw = parse_auth_list(value)
            .into_iter()
            .next()
            .ok_or_else(|| AuthError::new("empty credentials"))?;
        check_digest_scheme(&raw.scheme)?;
        let required = |name: &str| {
            raw.param(name)
                .map(str::to_string)
                .ok_or_else(|| AuthError(format!("credentials have no {name}")))
        };
        let username = match raw.param("username") {
            Some(u) => u.to_string(),
            None => match raw.param("username*").and_then(decode_ext_value) {
                Some(u) => u,
                None => return Err(AuthError::new("credentials have no username")),
            },
        };
        let realm = required("realm")?;
        let nonce = required("nonce")?;
        let uri = required("uri")?;
        let response = required("response")?;
        let algorithm = parse_algorithm(raw.param("algorithm"))?;
        let nc = match raw.param("nc") {
            Some(s) => Some(parse_nc(s)?),
            None => None,
        };
        let qop = raw
            .param("qop")
            .map(|q| q.trim().to_ascii_lowercase())
            .filter(|q| !q.is_empty());
        Ok(Credentials {
            username,
            realm,
            nonce,
            uri,
            response,
            algorithm,
            cnonce: raw.param("cnonce").map(str::to_string),
            opaque: raw.param("opaque").map(str::to_string),
            qop,
            nc,
        })
    }

    /// Writes the credentials as a header value:
    /// `Digest username="1000", realm="…", nonce="…", uri="sip:…", response="…",
    /// algorithm=MD5, cnonce="…", qop=auth, nc=00000001, opaque="…"`.
    /// `algorithm`, `qop` and `nc` are unquoted; optional parameters are
    /// written only when present.
    pub fn to_header_value(&self) -> String {
        let mut out = String::from("Digest ");
        push_quoted(&mut out, "username", &self.username);
        out.push_str(", ");
        push_quoted(&mut out, "realm", &self.realm);
        out.push_str(", ");
        push_quoted(&mut out, "nonce", &self.nonce);
        out.push_str(", ");
        push_quoted(&mut out, "uri", &self.uri);
        out.push_str(", ");
        push_quoted(&mut out, "response", &self.response);
        out.push_str(", algorithm=");
        out.push_str(self.algorithm.as_str());
        if let Some(cnonce) = &self.cnonce {
            out.push_str(", ");
            push_quoted(&mut out, "cnonce", cnonce);
        }
        if let Some(qop) = &self.qop {
            out.push_str(", qop=");
            out.push_str(qop);
        }
        if let Some(nc) = self.nc {
            out.push_str(", nc=");
            out.push_str(&format_nc(nc));
        }
        if let Some(opaque) = &self.opaque {
            out.push_str(", ");
            push_quoted(&mut out, "opaque", opaque);
        }
        out
    }
}

/// Formats a nonce count as 8 lowercase hex digits (`10` gives `0000000a`).
pub fn format_nc(nc: u32) -> String {
    format!("{nc:08x}")
}

/// Computes the credentials answering `challenge` for a request with this
/// `method`, Request-URI `uri` and `body` (the body matters only for
/// `qop=auth-int`). `cnonce` is sent when a qop is used or the algorithm is a
/// `-sess` variant; `nc` is sent when a qop is used.
#[allow(clippy::too_many_arguments)]
pub fn authorize(
    challenge: &Challenge,
    method: &str,
    uri: &str,
    username: &str,
    password: &str,
    cnonce: &str,
    nc: u32,
    body: &[u8],
) -> Credentials {
    let qop = challenge.preferred_qop();
    let response = compute_response(
        challenge.algorithm,
        username,
        password,
        &challenge.realm,
        &challenge.nonce,
        method,
        uri,
        qop,
        nc,
        cnonce,
        body,
    );
    let send_cnonce = qop.is_some() || challenge.algorithm.is_sess();
    Credentials {
        username: username.to_string(),
        realm: challenge.realm.clone(),
        nonce: challenge.nonce.clone(),
        uri: uri.to_string(),
        response,
        algorithm: challenge.algorithm,
        cnonce: send_cnonce.then(|| cnonce.to_string()),
        opaque: challenge.opaque.clone(),
        qop: qop.map(str::to_string),
        nc: qop.map(|_| nc),
    }
}

/// The response hash (hex, lowercase) per RFC 7616 section 3.4.1; qop `None`
/// is the RFC 2069 legacy form `KD(H(A1), nonce:H(A2))`. `qop` `auth-int`
/// (case-insensitive) hashes the body into A2; any other qop value is hashed
/// as given with A2 = `method:uri`.
#[allow(clippy::too_many_arguments)]
pub fn compute_response(
    algorithm: Algorithm,
    username: &str,
    password: &str,
    realm: &str,
    nonce: &str,
    method: &str,
    uri: &str,
    qop: Option<&str>,
    nc: u32,
    cnonce: &str,
    body: &[u8],
) -> String {
    let h = |s: &str| algorithm.hash_hex(s.as_bytes());
    let mut ha1 = h(&format!("{username}:{realm}:{password}"));
    if algorithm.is_sess() {
        ha1 = h(&format!("{ha1}:{nonce}:{cnonce}"));
    }
    let a2 = match qop {
        Some(q) if q.trim().eq_ignore_ascii_case("auth-int") => {
            format!("{method}:{uri}:{}", algorithm.hash_hex(body))
        }
        _ => format!("{method}:{uri}"),
    };
    let ha2 = h(&a2);
    match qop {
        Some(q) => h(&format!(
            "{ha1}:{nonce}:{}:{cnonce}:{q}:{ha2}",
            format_nc(nc)
        )),
        None => h(&format!("{ha1}:{nonce}:{ha2}")),
    }
}

/// Server side check: recomputes the response from `credentials` with
/// `password` and compares it (case-insensitively, without early exit) with
/// the one sent. Does not check the nonce's freshness or the realm; the caller
/// does.
pub fn verify(credentials: &Credentials, method: &str, password: &str, body: &[u8]) -> bool {
    let c = credentials;
    let qop = c.qop.as_deref();
    if qop.is_some() && (c.nc.is_none() || c.cnonce.is_none()) {
        return false;
    }
    if c.algorithm.is_sess() && c.cnonce.is_none() {
        return false;
    }
    let expected = compute_response(
        c.algorithm,
        &c.username,
        password,
        &c.realm,
        &c.nonce,
        method,
        &c.uri,
        qop,
        c.nc.unwrap_or(0),
        c.cnonce.as_deref().unwrap_or(""),
        body,
    );
    eq_ignore_case_ct(expected.as_bytes(), c.response.trim().as_bytes())
}

// ---------------------------------------------------------------------------
// Internals

fn to_hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

fn eq_ignore_case_ct(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |d, (x, y)| {
        d | (x.to_ascii_lowercase() ^ y.to_ascii_lowercase())
    });
    diff == 0
}

fn check_digest_scheme(scheme: &str) -> Result<(), AuthError> {
    if scheme.is_empty() {
        Err(AuthError::new("missing auth scheme"))
    } else if scheme.eq_ignore_ascii_case("Digest") {
        Ok(())
    } else {
        Err(AuthError(format!("unsupported scheme {scheme}")))
    }
}

fn parse_algorithm(value: Option<&str>) -> Result<Algorithm, AuthError> {
    match value {
        None => Ok(Algorithm::Md5),
        Some(s) => Algorithm::parse(s)
            .ok_or_else(|| AuthError(format!("unsupported algorithm {}", s.trim()))),
    }
}

fn parse_nc(s: &str) -> Result<u32, AuthError> {
    let t = s.trim();
    if t.is_empty() || t.len() > 8 || !t.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AuthError(format!("invalid nonce count {t}")));
    }
    u32::from_str_radix(t, 16).map_err(|_| AuthError(format!("invalid nonce count {t}")))
}

/// Decodes an RFC 5987 ext-value (`UTF-8''J%C3%A4s%C3%B8n`), as used by the
/// RFC 7616 `username*` parameter. Only UTF-8 is accepted.
fn decode_ext_value(s: &str) -> Option<String> {
    let (charset, rest) = s.trim().split_once('\'')?;
    if !charset.eq_ignore_ascii_case("UTF-8") {
        return None;
    }
    let (_lang, encoded) = rest.split_once('\'')?;
    let mut out = Vec::with_capacity(encoded.len());
    let mut bytes = encoded.bytes();
    while let Some(b) = bytes.next() {
        if b == b'%' {
            let hi = bytes.next()?;
            let lo = bytes.next()?;
            let pair = [hi, lo];
            let hex = std::str::from_utf8(&pair).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
        } else {
            out.push(b);
        }
    }
    String::from_utf8(out).ok()
}

/// Appends `name="value"` with `\`, `"` and the other ASCII control
/// characters escaped as quoted pairs (a challenge may carry them so, RFC
/// 3261 25.1, and they must go back as they came). CR and LF, which no
/// quoted string can carry, become spaces.
fn push_quoted(out: &mut String, name: &str, value: &str) {
    out.push_str(name);
    out.push_str("=\"");
    out.push_str(&super::message::escape_quoted(value));
    out.push('"');
}

/// One challenge or credentials: its scheme and its parameters (names
/// lowercased, values unquoted).
#[derive(Debug, Default)]
struct RawChallenge {
    scheme: String,
    params: Vec<(String, String)>,
}

impl RawChallenge {
    /// The first value of parameter `name` (lowercase).
    fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

struct Cursor<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.pos).copied()
    }

    fn take_while(&mut self, f: impl Fn(u8) -> bool) -> &'a str {
        let start = self.pos;
        while let Some(b) = self.peek() {
            if !f(b) {
                break;
            }
            self.pos += 1;
        }
        self.s.get(start..self.pos).unwrap_or("")
    }

    fn skip_ws(&mut self) {
        self.take_while(is_ws);
    }

    /// Reads a quoted string; the cursor is on the opening quote. An
    /// unterminated string runs to the end of the input.
    fn quoted(&mut self) -> String {
        self.pos += 1;
        let mut out = Vec::new();
        while let Some(b) = self.peek() {
            self.pos += 1;
            match b {
                b'"' => break,
                b'\\' => {
                    if let Some(next) = self.peek() {
                        self.pos += 1;
                        out.push(next);
                    }
                }
                _ => out.push(b),
            }
        }
        match String::from_utf8(out) {
            Ok(s) => s,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        }
    }
}

/// Splits a header value into challenges (or credentials). A token not
/// followed by `=` starts a new challenge (its scheme); `name=value` pairs
/// belong to the current one. Parameters before any scheme go to a challenge
/// with an empty scheme. Never fails: stray characters are skipped.
fn parse_auth_list(value: &str) -> Vec<RawChallenge> {
    let mut cur = Cursor { s: value, pos: 0 };
    let mut list: Vec<RawChallenge> = Vec::new();
    loop {
        cur.take_while(|b| is_ws(b) || b == b',');
        match cur.peek() {
            None => break,
            Some(b'"') => {
                // A stray quoted string (malformed input): skip it.
                cur.quoted();
                continue;
            }
            Some(b'=') => {
                cur.pos += 1;
                continue;
            }
            Some(_) => {}
        }
        let token = cur.take_while(|b| !is_ws(b) && b != b'=' && b != b',' && b != b'"');
        cur.skip_ws();
        if cur.peek() == Some(b'=') {
            cur.pos += 1;
            cur.skip_ws();
            let v = if cur.peek() == Some(b'"') {
                cur.quoted()
            } else {
                cur.take_while(|b| b != b',').trim_end().to_string()
            };
            if list.is_empty() {
                list.push(RawChallenge::default());
            }
            if let Some(last) = list.last_mut() {
                last.params.push((token.to_ascii_lowercase(), v));
            }
        } else {
            list.push(RawChallenge {
                scheme: token.to_string(),
                params: Vec::new(),
            });
        }
    }
    list
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC7616_NONCE: &str = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
    const RFC7616_CNONCE: &str = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";

    #[test]
    fn rfc2617_example() {
        let r = compute_response(
            Algorithm::Md5,
            "Mufasa",
            "Circle Of Life",
            "testrealm@host.com",
            "dcd98b7102dd2f0e8b11d0f600bfb0c093",
            "GET",
            "/dir/index.html",
            Some("auth"),
            1,
            "0a4f113b",
            b"",
        );
        assert_eq!(r, "6629fae49393a05397450978507c4ef1");
    }

    #[test]
    fn rfc2617_example_via_authorize() {
        let c = Challenge::parse(
            "Digest realm=\"testrealm@host.com\", qop=\"auth,auth-int\", \
             nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", \
             opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"",
        )
        .unwrap();
        assert_eq!(c.qop, vec!["auth", "auth-int"]);
        let cred = authorize(
            &c,
            "GET",
            "/dir/index.html",
            "Mufasa",
            "Circle Of Life",
            "0a4f113b",
            1,
            b"",
        );
        assert_eq!(cred.response, "6629fae49393a05397450978507c4ef1");
        assert_eq!(cred.qop.as_deref(), Some("auth"));
        assert_eq!(cred.nc, Some(1));
        assert_eq!(cred.cnonce.as_deref(), Some("0a4f113b"));
        assert_eq!(
            cred.opaque.as_deref(),
            Some("5ccc069c403ebaf9f0171e9517f40e41")
        );
    }

    #[test]
    fn control_characters_in_a_challenge_go_back_as_quoted_pairs() {
        let c = Challenge::parse("Digest realm=\"a\\\u{7}b\", nonce=\"n\\\u{0}\", qop=\"auth\"")
            .unwrap();
        assert_eq!(c.realm, "a\u{7}b");
        assert_eq!(c.nonce, "n\u{0}");
        let cred = authorize(&c, "REGISTER", "sip:x", "u", "p", "cn", 1, b"");
        let value = cred.to_header_value();
        assert!(value.contains("realm=\"a\\\u{7}b\""), "{value:?}");
        assert!(value.contains("nonce=\"n\\\u{0}\""), "{value:?}");
        // our own parser reads it, and the same values come back
        let raw = format!(
            "REGISTER sip:x SIP/2.0\r\nVia: SIP/2.0/WS h;branch=z9hG4bK1\r\n\
             From: <sip:u@x>;tag=1\r\nTo: <sip:u@x>\r\nCall-ID: c\r\n\
             CSeq: 2 REGISTER\r\nAuthorization: {value}\r\n\r\n"
        );
        let m = crate::sip::message::Message::parse(raw.as_bytes()).unwrap();
        let back = Credentials::parse(m.header("Authorization").unwrap()).unwrap();
        assert_eq!(
            (back.realm.as_str(), back.nonce.as_str()),
            ("a\u{7}b", "n\u{0}")
        );
    }

    fn rfc7616(alg: Algorithm) -> String {
        compute_response(
            alg,
            "Mufasa",
            "Circle of Life",
            "http-auth@example.org",
            RFC7616_NONCE,
            "GET",
            "/dir/index.html",
            Some("auth"),
            1,
            RFC7616_CNONCE,
            b"",
        )
    }

    #[test]
    fn rfc7616_md5_example() {
        assert_eq!(rfc7616(Algorithm::Md5), "8ca523f5e9506fed4657c9700eebdbec");
    }

    #[test]
    fn rfc7616_sha256_example() {
        assert_eq!(
            rfc7616(Algorithm::Sha256),
            "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"
        );
    }

    #[test]
    fn rfc7616_sha256_via_parse_and_authorize() {
        let c = Challenge::parse(&format!(
            "Digest realm=\"http-auth@example.org\", qop=\"auth, auth-int\", \
             algorithm=SHA-256, nonce=\"{RFC7616_NONCE}\", \
             opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\""
        ))
        .unwrap();
        assert_eq!(c.algorithm, Algorithm::Sha256);
        let cred = authorize(
            &c,
            "GET",
            "/dir/index.html",
            "Mufasa",
            "Circle of Life",
            RFC7616_CNONCE,
            1,
            b"",
        );
        assert_eq!(
            cred.response,
            "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"
        );
        assert!(verify(&cred, "GET", "Circle of Life", b""));
    }

    #[test]
    fn parse_kamailio_challenge() {
        let c = Challenge::parse(r#"Digest realm="127.0.0.1", nonce="ZXhhbXBsZQ==", qop="auth""#)
            .unwrap();
        assert_eq!(
            c,
            Challenge {
                realm: "127.0.0.1".into(),
                nonce: "ZXhhbXBsZQ==".into(),
                opaque: None,
                algorithm: Algorithm::Md5,
                qop: vec!["auth".into()],
                stale: false,
            }
        );
    }

    #[test]
    fn parse_kamailio_sha256_challenge() {
        let c = Challenge::parse(
            r#"Digest realm="127.0.0.1", nonce="ZXhhbXBsZQ==", qop="auth", algorithm=SHA-256"#,
        )
        .unwrap();
        assert_eq!(c.algorithm, Algorithm::Sha256);
        assert_eq!(c.qop, vec!["auth"]);
    }

    #[test]
    fn parse_full_challenge() {
        let c = Challenge::parse(
            r#"digest REALM="127.0.0.1", nonce="Z2x", qop="AUTH", algorithm=sha-256-SESS, opaque="x", stale=TRUE"#,
        )
        .unwrap();
        assert_eq!(c.realm, "127.0.0.1");
        assert_eq!(c.nonce, "Z2x");
        assert_eq!(c.qop, vec!["auth"]);
        assert_eq!(c.algorithm, Algorithm::Sha256Sess);
        assert_eq!(c.opaque.as_deref(), Some("x"));
        assert!(c.stale);
    }

    #[test]
    fn parse_token_values_and_spaces() {
        let c = Challenge::parse("Digest realm = example , nonce=abc,qop=auth,stale=false,foo=bar")
            .unwrap();
        assert_eq!(c.realm, "example");
        assert_eq!(c.nonce, "abc");
        assert_eq!(c.qop, vec!["auth"]);
        assert!(!c.stale);
    }

    #[test]
    fn quoted_values_with_commas_and_escaped_quotes() {
        let c = Challenge::parse(
            r#"Digest realm="a, \"quoted\" realm\\x", nonce="n,o,n", opaque="o\"p""#,
        )
        .unwrap();
        assert_eq!(c.realm, r#"a, "quoted" realm\x"#);
        assert_eq!(c.nonce, "n,o,n");
        assert_eq!(c.opaque.as_deref(), Some("o\"p"));
        // And back through to_header_value.
        let again = Challenge::parse(&c.to_header_value()).unwrap();
        assert_eq!(again, c);
    }

    #[test]
    fn missing_nonce_rejected() {
        let e = Challenge::parse(r#"Digest realm="127.0.0.1", qop="auth""#).unwrap_err();
        assert_eq!(e.0, "challenge has no nonce");
        let e = Challenge::parse(r#"Digest nonce="abc""#).unwrap_err();
        assert_eq!(e.0, "challenge has no realm");
    }

    #[test]
    fn unsupported_scheme_and_algorithm_rejected() {
        let e = Challenge::parse(r#"Basic realm="x""#).unwrap_err();
        assert_eq!(e.0, "unsupported scheme Basic");
        let e =
            Challenge::parse(r#"Digest realm="x", nonce="y", algorithm=SHA-512-256"#).unwrap_err();
        assert_eq!(e.0, "unsupported algorithm SHA-512-256");
        assert_eq!(e.to_string(), "unsupported algorithm SHA-512-256");
        assert!(Challenge::parse("").is_err());
    }

    #[test]
    fn choose_prefers_sha256_and_skips_unsupported() {
        let values = [
            r#"Basic realm="x""#,
            r#"Digest realm="r", nonce="n1", qop="auth", algorithm=MD5"#,
            r#"Digest realm="r", nonce="n0", qop="auth", algorithm=SHA-512-256"#,
            r#"Digest realm="r", nonce="n2", qop="auth", algorithm=SHA-256"#,
        ];
        let c = Challenge::choose(&values).unwrap();
        assert_eq!(c.algorithm, Algorithm::Sha256);
        assert_eq!(c.nonce, "n2");

        // Order does not matter for the algorithm preference.
        let values = [values[3], values[2], values[1], values[0]];
        assert_eq!(Challenge::choose(&values).unwrap().nonce, "n2");

        // Only MD5 supported.
        let c = Challenge::choose(&[
            r#"Basic realm="x""#,
            r#"Digest realm="r", nonce="n0", algorithm=SHA-512-256"#,
            r#"Digest realm="r", nonce="n1""#,
        ])
        .unwrap();
        assert_eq!(c.algorithm, Algorithm::Md5);
        assert_eq!(c.nonce, "n1");
    }

    #[test]
    fn choose_several_challenges_in_one_value() {
        let c = Challenge::choose(&[
            r#"Basic realm="x", Digest realm="r", nonce="n1", Digest realm="r", nonce="n2", algorithm=SHA-256, Negotiate abc=="#,
        ])
        .unwrap();
        assert_eq!(c.nonce, "n2");
        assert_eq!(c.algorithm, Algorithm::Sha256);
    }

    #[test]
    fn choose_errors() {
        assert_eq!(Challenge::choose(&[]).unwrap_err().0, "no challenge");
        let e = Challenge::choose(&[
            r#"Basic realm="x""#,
            r#"Digest realm="r", nonce="n", algorithm=SHA-512-256"#,
            r#"Digest realm="r", nonce="n", qop="auth-conf""#,
        ])
        .unwrap_err();
        assert!(e.0.contains("unsupported scheme Basic"), "{e}");
        assert!(e.0.contains("unsupported algorithm SHA-512-256"), "{e}");
        assert!(e.0.contains("unsupported qop"), "{e}");
    }

    #[test]
    fn credentials_round_trip() {
        let c = Challenge::parse(
            r#"Digest realm="127.0.0.1", nonce="ZXhhbXBsZQ==", qop="auth", opaque="op\"aque""#,
        )
        .unwrap();
        let cred = authorize(
            &c,
            "REGISTER",
            "sip:127.0.0.1",
            "1000",
            "secret",
            "abcdef",
            1,
            b"",
        );
        let v = cred.to_header_value();
        assert!(v.starts_with(r#"Digest username="1000", realm="127.0.0.1", nonce="ZXhhbXBsZQ==", uri="sip:127.0.0.1", response=""#), "{v}");
        assert!(
            v.ends_with(
                r#"algorithm=MD5, cnonce="abcdef", qop=auth, nc=00000001, opaque="op\"aque""#
            ),
            "{v}"
        );
        let parsed = Credentials::parse(&v).unwrap();
        assert_eq!(parsed, cred);
        assert!(verify(&parsed, "REGISTER", "secret", b""));
    }

    #[test]
    fn credentials_parse_rfc7616_example() {
        let v = format!(
            "Digest username=\"Mufasa\", realm=\"http-auth@example.org\", uri=\"/dir/index.html\", \
             algorithm=MD5, nonce=\"{RFC7616_NONCE}\", nc=00000001, cnonce=\"{RFC7616_CNONCE}\", \
             qop=auth, response=\"8ca523f5e9506fed4657c9700eebdbec\", \
             opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\""
        );
        let c = Credentials::parse(&v).unwrap();
        assert_eq!(c.username, "Mufasa");
        assert_eq!(c.nc, Some(1));
        assert_eq!(c.qop.as_deref(), Some("auth"));
        assert!(verify(&c, "GET", "Circle of Life", b""));
        assert!(!verify(&c, "GET", "Circle Of Life", b""));
    }

    #[test]
    fn credentials_parse_errors() {
        assert!(Credentials::parse(r#"Basic dXNlcjpwYXNz"#).is_err());
        let e = Credentials::parse(r#"Digest username="a", realm="r", nonce="n", uri="u""#)
            .unwrap_err();
        assert_eq!(e.0, "credentials have no response");
        let e = Credentials::parse(
            r#"Digest username="a", realm="r", nonce="n", uri="u", response="x", nc=zz"#,
        )
        .unwrap_err();
        assert_eq!(e.0, "invalid nonce count zz");
        assert!(Credentials::parse(
            r#"Digest username="a", realm="r", nonce="n", uri="u", response="x", nc=123456789"#
        )
        .is_err());
    }

    #[test]
    fn credentials_username_star() {
        let c = Credentials::parse(
            r#"Digest username*=UTF-8''J%C3%A4s%C3%B8n%20Doe, realm="r", nonce="n", uri="u", response="x""#,
        )
        .unwrap();
        assert_eq!(c.username, "Jäsøn Doe");
    }

    #[test]
    fn verify_correct_and_wrong_password() {
        let c = Challenge::parse(
            r#"Digest realm="127.0.0.1", nonce="abc", qop="auth", algorithm=SHA-256"#,
        )
        .unwrap();
        let cred = authorize(
            &c,
            "INVITE",
            "sip:2000@127.0.0.1",
            "1000",
            "pw",
            "cn",
            3,
            b"v=0",
        );
        assert!(verify(&cred, "INVITE", "pw", b"v=0"));
        assert!(!verify(&cred, "INVITE", "wrong", b"v=0"));
        assert!(!verify(&cred, "REGISTER", "pw", b"v=0"));
        // Uppercase hex in the response is accepted.
        let mut upper = cred.clone();
        upper.response = upper.response.to_ascii_uppercase();
        assert!(verify(&upper, "INVITE", "pw", b"v=0"));
        // qop without nc or cnonce cannot verify.
        let mut broken = cred.clone();
        broken.nc = None;
        assert!(!verify(&broken, "INVITE", "pw", b"v=0"));
    }

    #[test]
    fn nc_formatting() {
        assert_eq!(format_nc(10), "0000000a");
        assert_eq!(format_nc(1), "00000001");
        assert_eq!(format_nc(u32::MAX), "ffffffff");
        let c = Challenge::parse(r#"Digest realm="r", nonce="n", qop="auth""#).unwrap();
        let cred = authorize(&c, "REGISTER", "sip:r", "u", "p", "c", 10, b"");
        assert!(cred.to_header_value().contains("nc=0000000a"));
        assert_eq!(
            Credentials::parse(&cred.to_header_value()).unwrap().nc,
            Some(10)
        );
        // The hash uses the formatted count.
        let expected = {
            let h = |s: &str| to_hex(&Md5::digest(s.as_bytes()));
            let ha1 = h("u:r:p");
            let ha2 = h("REGISTER:sip:r");
            h(&format!("{ha1}:n:0000000a:c:auth:{ha2}"))
        };
        assert_eq!(cred.response, expected);
    }

    #[test]
    fn legacy_no_qop() {
        // RFC 2069: response = H(H(A1):nonce:H(A2)).
        let c = Challenge::parse(
            r#"Digest realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093""#,
        )
        .unwrap();
        assert!(c.qop.is_empty());
        let cred = authorize(
            &c,
            "GET",
            "/dir/index.html",
            "Mufasa",
            "Circle Of Life",
            "ignored",
            1,
            b"",
        );
        let h = |s: &str| to_hex(&Md5::digest(s.as_bytes()));
        let expected = h(&format!(
            "{}:dcd98b7102dd2f0e8b11d0f600bfb0c093:{}",
            h("Mufasa:testrealm@host.com:Circle Of Life"),
            h("GET:/dir/index.html")
        ));
        assert_eq!(cred.response, expected);
        // The RFC 2069 example value (with its published password).
        assert_eq!(
            compute_response(
                Algorithm::Md5,
                "Mufasa",
                "CircleOfLife",
                "testrealm@host.com",
                "dcd98b7102dd2f0e8b11d0f600bfb0c093",
                "GET",
                "/dir/index.html",
                None,
                0,
                "",
                b""
            ),
            "1949323746fe6a43ef61f9606e7febea"
        );
        assert_eq!(cred.qop, None);
        assert_eq!(cred.nc, None);
        assert_eq!(cred.cnonce, None);
        let v = cred.to_header_value();
        assert!(!v.contains("qop="), "{v}");
        assert!(!v.contains("nc="), "{v}");
        assert!(!v.contains("cnonce="), "{v}");
        assert!(verify(
            &Credentials::parse(&v).unwrap(),
            "GET",
            "Circle Of Life",
            b""
        ));
    }

    #[test]
    fn md5_sess() {
        let c = Challenge::parse(
            r#"Digest realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", qop="auth", algorithm=MD5-sess"#,
        )
        .unwrap();
        assert_eq!(c.algorithm, Algorithm::Md5Sess);
        let cred = authorize(
            &c,
            "GET",
            "/dir/index.html",
            "Mufasa",
            "Circle Of Life",
            "0a4f113b",
            1,
            b"",
        );
        let h = |s: &str| to_hex(&Md5::digest(s.as_bytes()));
        let ha1 = h(&format!(
            "{}:dcd98b7102dd2f0e8b11d0f600bfb0c093:0a4f113b",
            h("Mufasa:testrealm@host.com:Circle Of Life")
        ));
        let ha2 = h("GET:/dir/index.html");
        let expected = h(&format!(
            "{ha1}:dcd98b7102dd2f0e8b11d0f600bfb0c093:00000001:0a4f113b:auth:{ha2}"
        ));
        assert_eq!(cred.response, expected);
        assert_ne!(cred.response, "6629fae49393a05397450978507c4ef1");
        assert!(cred.to_header_value().contains("algorithm=MD5-sess"));
        assert!(verify(&cred, "GET", "Circle Of Life", b""));
        assert!(!verify(&cred, "GET", "wrong", b""));
    }

    #[test]
    fn sha256_sess_and_legacy_sess_send_cnonce() {
        let c = Challenge::parse(r#"Digest realm="r", nonce="n", algorithm=SHA-256-sess"#).unwrap();
        let cred = authorize(&c, "REGISTER", "sip:r", "u", "p", "cn", 1, b"");
        assert_eq!(cred.qop, None);
        assert_eq!(cred.cnonce.as_deref(), Some("cn"));
        assert_eq!(cred.response.len(), 64);
        assert!(verify(
            &Credentials::parse(&cred.to_header_value()).unwrap(),
            "REGISTER",
            "p",
            b""
        ));
    }

    #[test]
    fn auth_int_only() {
        let c = Challenge::parse(r#"Digest realm="r", nonce="n", qop="auth-int""#).unwrap();
        assert_eq!(c.preferred_qop(), Some("auth-int"));
        let body = b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\n";
        let cred = authorize(&c, "INVITE", "sip:b@r", "u", "p", "cn", 1, body);
        assert_eq!(cred.qop.as_deref(), Some("auth-int"));
        let h = |s: &[u8]| to_hex(&Md5::digest(s));
        let ha1 = h(b"u:r:p");
        let ha2 = h(format!("INVITE:sip:b@r:{}", h(body)).as_bytes());
        let expected = h(format!("{ha1}:n:00000001:cn:auth-int:{ha2}").as_bytes());
        assert_eq!(cred.response, expected);
        assert!(verify(&cred, "INVITE", "p", body));
        assert!(!verify(&cred, "INVITE", "p", b"other body"));
    }

    #[test]
    fn algorithm_parse_and_as_str() {
        for a in [
            Algorithm::Md5,
            Algorithm::Md5Sess,
            Algorithm::Sha256,
            Algorithm::Sha256Sess,
        ] {
            assert_eq!(Algorithm::parse(a.as_str()), Some(a));
            assert_eq!(Algorithm::parse(&a.as_str().to_ascii_lowercase()), Some(a));
            assert_eq!(Algorithm::parse(&a.as_str().to_ascii_uppercase()), Some(a));
        }
        assert_eq!(Algorithm::parse("SHA-512-256"), None);
        assert_eq!(Algorithm::parse(""), None);
        assert_eq!(Algorithm::Sha256.to_string(), "SHA-256");
    }

    #[test]
    fn no_panic_on_garbage() {
        let inputs = [
            "",
            "Digest",
            "Digest ",
            "=",
            ",,,",
            "\"",
            "Digest realm=\"unterminated",
            "Digest realm=\"x\\",
            "Digest realm=\"é\\ü\", nonce=ñ",
            "Digest realm=, nonce=",
            "Digest ==== ,,, \"\" realm",
            "realm=\"x\", nonce=\"y\"",
            "Digest realm=\"x\", nonce=\"y\", nc=, algorithm=",
            "Digest username*=UTF-8''%, realm=r",
            "Digest username*=UTF-8''%E, realm=r",
            "Digest username*=UTF-8''%é1, realm=r",
            "Digest username*=UTF-8''%FF, realm=r",
            "\u{0}\u{ffff}𝄞=𝄞\"𝄞",
        ];
        for s in inputs {
            let _ = Challenge::parse(s);
            let _ = Challenge::choose(&[s, s]);
            let _ = Credentials::parse(s);
        }
        assert!(Challenge::parse("realm=\"x\", nonce=\"y\"").is_err());
        // Empty but present values are accepted as given.
        let c = Challenge::parse("Digest realm=, nonce=").unwrap();
        assert_eq!(c.realm, "");
        assert_eq!(c.nonce, "");
    }
}
