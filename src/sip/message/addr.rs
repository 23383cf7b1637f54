//! Addresses: name-addr / addr-spec (From, To, Contact, Route, Record-Route),
//! Via values and SIP URIs, with the lexical helpers they share.

use super::ParseError;
use std::fmt;

/// A parameter list: names lowercased, values as written (quotes kept).
pub type Params = Vec<(String, Option<String>)>;

/// RFC 3261 `token` characters.
pub(crate) fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(
            c,
            '-' | '.' | '!' | '%' | '*' | '_' | '+' | '`' | '\'' | '~'
        )
}

/// A non-empty RFC 3261 `token`.
pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty() && s.chars().all(is_token_char)
}

/// Splits `s` at every `sep` that is neither inside a quoted string (with
/// backslash escapes) nor inside `<...>`. Pieces are returned untrimmed.
pub(crate) fn split_top_level(s: &str, sep: char) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut in_quotes = false;
    let mut escaped = false;
    let mut angle: u32 = 0;
    for (i, c) in s.char_indices() {
        if in_quotes {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_quotes = false;
            }
            continue;
        }
        if c == '"' {
            in_quotes = true;
        } else if c == '<' {
            angle = angle.saturating_add(1);
        } else if c == '>' {
            angle = angle.saturating_sub(1);
        } else if c == sep && angle == 0 {
            out.push(s.get(start..i).unwrap_or(""));
            start = i + c.len_utf8();
        }
    }
    out.push(s.get(start..).unwrap_or(""));
    out
}

/// Splits a header value holding a comma-separated list (Via, Contact,
/// Route, Allow …) at top-level commas; items trimmed, empty items dropped.
/// Commas inside quoted strings or `<...>` do not split.
pub fn split_header_list(value: &str) -> Vec<&str> {
    split_top_level(value, ',')
        .into_iter()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect()
}

/// For `s` starting with `"`, the byte index just after the closing quote.
fn quoted_end(s: &str) -> Option<usize> {
    let mut chars = s.char_indices();
    if chars.next().map(|(_, c)| c) != Some('"') {
        return None;
    }
    let mut escaped = false;
    for (i, c) in chars {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == '"' {
            return Some(i + 1);
        }
    }
    None
}

/// The content of a quoted string (without its quotes), backslash escapes
/// resolved.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut escaped = false;
    for c in s.chars() {
        if escaped {
            out.push(c);
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else {
            out.push(c);
        }
    }
    out
}

/// `s` as the inside of a quoted string: `"`, `\` and the other ASCII
/// control characters written as quoted pairs (RFC 3261 25.1), CR and LF
/// (which a quoted string cannot carry at all) replaced by spaces.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    for c in s.chars() {
        match c {
            '\r' | '\n' => out.push(' '),
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_ascii_control() && c != '\t' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// A value with its surrounding double quotes removed (escapes kept).
fn strip_quotes(v: &str) -> &str {
    if v.len() >= 2 && v.starts_with('"') && v.ends_with('"') {
        v.get(1..v.len() - 1).unwrap_or(v)
    } else {
        v
    }
}

/// Looks a parameter up by case-insensitive name; a parameter without value
/// gives `Some("")`, a quoted value comes without its quotes.
fn find_param<'a>(params: &'a Params, name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_deref().map(strip_quotes).unwrap_or(""))
}

fn set_param_in(params: &mut Params, name: &str, value: Option<&str>) {
    let name = name.to_ascii_lowercase();
    let value = value.map(str::to_string);
    match params.iter_mut().find(|(n, _)| *n == name) {
        Some(slot) => slot.1 = value,
        None => params.push((name, value)),
    }
}

fn write_params(f: &mut fmt::Formatter<'_>, params: &Params) -> fmt::Result {
    for (name, value) in params {
        match value {
            Some(v) => write!(f, ";{name}={v}")?,
            None => write!(f, ";{name}")?,
        }
    }
    Ok(())
}

/// Text cut to a few dozen characters for an error reason.
pub(crate) fn short(s: &str) -> String {
    const MAX: usize = 40;
    match s.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}…", s.get(..i).unwrap_or("")),
        None => s.to_string(),
    }
}

/// Parses `;name[=value]` parameters. `s` must be empty (after trimming) or
/// start with `;`.
pub(crate) fn parse_params(s: &str) -> Result<Params, ParseError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(Vec::new());
    }
    let Some(rest) = s.strip_prefix(';') else {
        return Err(ParseError::new(format!("unexpected text \"{}\"", short(s))));
    };
    let mut out = Vec::new();
    for piece in split_top_level(rest, ';') {
        let piece = piece.trim();
        if piece.is_empty() {
            continue; // tolerate `;;` and a trailing `;`
        }
        let (name, value) = match piece.split_once('=') {
            Some((n, v)) => (n.trim(), Some(v.trim())),
            None => (piece, None),
        };
        if !is_token(name) {
            return Err(ParseError::new(format!(
                "invalid parameter \"{}\"",
                short(piece)
            )));
        }
        if let Some(v) = value {
            let ok = if v.starts_with('"') {
                quoted_end(v) == Some(v.len())
            } else {
                // token / host: no `<` or `>` either (they would hide the
                // `;` after them from split_top_level on a second reading)
                !v.chars()
                    .any(|c| c.is_whitespace() || matches!(c, '"' | '<' | '>'))
            };
            if !ok {
                return Err(ParseError::new(format!(
                    "invalid parameter \"{}\"",
                    short(piece)
                )));
            }
        }
        out.push((name.to_ascii_lowercase(), value.map(str::to_string)));
    }
    Ok(out)
}

/// A URI as found in a name-addr or addr-spec: a scheme and no whitespace.
fn check_uri(uri: &str) -> Result<(), ParseError> {
    let scheme_ok = uri
        .split_once(':')
        .map(|(scheme, rest)| {
            !scheme.is_empty()
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
                && !rest.is_empty()
        })
        .unwrap_or(false);
    if !scheme_ok
        || uri
            .chars()
            .any(|c| c.is_whitespace() || c == '<' || c == '>')
    {
        return Err(ParseError::new(format!("invalid URI \"{}\"", short(uri))));
    }
    Ok(())
}

/// Parses `host[:port]` at the start of `s` (host may be an IPv6 reference
/// `[...]`, kept with its brackets). Returns the host, the port and the rest
/// of `s` after them.
fn parse_host_port(s: &str) -> Result<(String, Option<u16>, &str), ParseError> {
    let (host, rest) = if s.starts_with('[') {
        let close = s
            .find(']')
            .ok_or_else(|| ParseError::new(format!("invalid host \"{}\"", short(s))))?;
        let host = s.get(..close + 1).unwrap_or("");
        let inner = s.get(1..close).unwrap_or("");
        if inner.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(ParseError::new(format!("invalid IPv6 host \"{host}\"")));
        }
        (host, s.get(close + 1..).unwrap_or(""))
    } else {
        let end = s
            .find(|c: char| matches!(c, ':' | ';' | '?' | ',') || c.is_whitespace())
            .unwrap_or(s.len());
        let host = s.get(..end).unwrap_or("");
        if host.is_empty()
            || !host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
        {
            return Err(ParseError::new(format!("invalid host \"{}\"", short(s))));
        }
        (host, s.get(end..).unwrap_or(""))
    };
    let Some(after_colon) = rest.trim_start().strip_prefix(':') else {
        return Ok((host.to_string(), None, rest));
    };
    let after_colon = after_colon.trim_start();
    let end = after_colon
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(after_colon.len());
    let digits = after_colon.get(..end).unwrap_or("");
    let port = if digits.is_empty() || digits.len() > 5 {
        None
    } else {
        digits.parse::<u16>().ok()
    };
    match port {
        Some(port) => Ok((
            host.to_string(),
            Some(port),
            after_colon.get(end..).unwrap_or(""),
        )),
        None => Err(ParseError::new(format!("invalid port in \"{}\"", short(s)))),
    }
}

/// A name-addr or addr-spec with header parameters: the value of a From, To,
/// Contact, Route or Record-Route entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NameAddr {
    /// Unquoted and unescaped; `None` when absent.
    pub display_name: Option<String>,
    /// The URI without `<>`.
    pub uri: String,
    /// Header parameters after the `>` (or after the addr-spec), names
    /// lowercased, values as written (quoted values keep their quotes).
    pub params: Params,
}

impl NameAddr {
    /// An address without display name or parameters.
    pub fn new(uri: &str) -> NameAddr {
        NameAddr {
            display_name: None,
            uri: uri.to_string(),
            params: Vec::new(),
        }
    }

    /// Parses `"Bob" <sip:bob@x>;tag=1`, `Bob <sip:bob@x>`,
    /// `<sip:bob@x>;expires=60`, or an addr-spec `sip:bob@x;tag=1` (whose
    /// `;` parameters are header parameters, RFC 3261 20.10).
    pub fn parse(s: &str) -> Result<NameAddr, ParseError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(ParseError::new("empty address"));
        }
        if s.starts_with('"') {
            let end =
                quoted_end(s).ok_or_else(|| ParseError::new("unterminated quoted display name"))?;
            let display = unescape(s.get(1..end - 1).unwrap_or(""));
            let rest = s.get(end..).unwrap_or("").trim_start();
            if !rest.starts_with('<') {
                return Err(ParseError::new(format!(
                    "expected <URI> after display name in \"{}\"",
                    short(s)
                )));
            }
            return Self::parse_bracketed(rest, Some(display));
        }
        match s.find(['<', ':']) {
            Some(i) if s.get(i..).is_some_and(|r| r.starts_with('<')) => {
                let display = s.get(..i).unwrap_or("").trim();
                if display.contains(['"', '>', ';', ',']) {
                    return Err(ParseError::new(format!(
                        "invalid display name in \"{}\"",
                        short(s)
                    )));
                }
                let display = (!display.is_empty()).then(|| display.to_string());
                Self::parse_bracketed(s.get(i..).unwrap_or(""), display)
            }
            _ => {
                let (uri, rest) = match s.find(';') {
                    Some(i) => (s.get(..i).unwrap_or(""), s.get(i..).unwrap_or("")),
                    None => (s, ""),
                };
                let uri = uri.trim();
                check_uri(uri)?;
                // RFC 3261 20: a URI with `,`, `?` or `;` goes inside `<>`
                // (RFC 4475 regbadct)
                if uri.contains(['?', ',']) {
                    return Err(ParseError::new(format!(
                        "URI with '?' or ',' not enclosed in <>: \"{}\"",
                        short(uri)
                    )));
                }
                Ok(NameAddr {
                    display_name: None,
                    uri: uri.to_string(),
                    params: parse_params(rest)?,
                })
            }
        }
    }

    /// `s` starts with `<`.
    fn parse_bracketed(s: &str, display_name: Option<String>) -> Result<NameAddr, ParseError> {
        let inner = s.get(1..).unwrap_or("");
        let close = inner
            .find('>')
            .ok_or_else(|| ParseError::new(format!("missing '>' in \"{}\"", short(s))))?;
        // no whitespace inside `<>` (RFC 3261 25.1 LAQUOT/RAQUOT, RFC 4475
        // badaspec)
        let uri = inner.get(..close).unwrap_or("");
        check_uri(uri)?;
        let params = parse_params(inner.get(close + 1..).unwrap_or(""))?;
        Ok(NameAddr {
            display_name,
            uri: uri.to_string(),
            params,
        })
    }

    /// A header parameter by case-insensitive name: its value without
    /// surrounding quotes, `Some("")` for a parameter without value.
    pub fn param(&self, name: &str) -> Option<&str> {
        find_param(&self.params, name)
    }

    /// Sets (replaces or appends) a header parameter; `value` is written as
    /// given (add quotes yourself where the grammar needs them).
    pub fn set_param(&mut self, name: &str, value: Option<&str>) {
        set_param_in(&mut self.params, name, value)
    }

    /// The `tag` parameter.
    pub fn tag(&self) -> Option<&str> {
        self.param("tag")
    }

    /// The URI parsed as a SIP URI.
    pub fn sip_uri(&self) -> Result<SipUri, ParseError> {
        SipUri::parse(&self.uri)
    }
}

impl fmt::Display for NameAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(d) = &self.display_name {
            write!(f, "\"{}\" ", escape(d))?;
        }
        write!(f, "<{}>", self.uri)?;
        write_params(f, &self.params)
    }
}

/// One Via entry: `SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bKxyz`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Via {
    /// Uppercase: `WS`, `WSS`, `UDP` …
    pub transport: String,
    /// The sent-by host; an IPv6 host keeps its brackets (`[::1]`).
    pub host: String,
    pub port: Option<u16>,
    /// Names lowercased, values as written.
    pub params: Params,
}

impl Via {
    /// Parses one Via value (not a comma-separated list: split those with
    /// [`split_header_list`] or use [`super::Message::vias`]).
    pub fn parse(s: &str) -> Result<Via, ParseError> {
        let s = s.trim();
        let bad = || ParseError::new(format!("invalid Via \"{}\"", short(s)));
        if split_top_level(s, ',').len() > 1 {
            return Err(ParseError::new(format!(
                "Via holds several values: \"{}\"",
                short(s)
            )));
        }
        let (protocol, rest) = s.split_once('/').ok_or_else(bad)?;
        if !protocol.trim().eq_ignore_ascii_case("SIP") {
            return Err(bad());
        }
        let (version, rest) = rest.split_once('/').ok_or_else(bad)?;
        if version.trim() != "2.0" {
            return Err(ParseError::new(format!(
                "unsupported Via version SIP/{}",
                short(version.trim())
            )));
        }
        let rest = rest.trim_start();
        let end = rest.find(char::is_whitespace).ok_or_else(bad)?;
        let transport = rest.get(..end).unwrap_or("");
        if !is_token(transport) {
            return Err(bad());
        }
        let rest = rest.get(end..).unwrap_or("").trim_start();
        let (host, port, rest) = parse_host_port(rest)?;
        let params = parse_params(rest)?;
        Ok(Via {
            transport: transport.to_ascii_uppercase(),
            host,
            port,
            params,
        })
    }

    /// The `branch` parameter.
    pub fn branch(&self) -> Option<&str> {
        self.param("branch")
    }

    /// A parameter by case-insensitive name: its value without surrounding
    /// quotes, `Some("")` for a parameter without value (`rport`).
    pub fn param(&self, name: &str) -> Option<&str> {
        find_param(&self.params, name)
    }

    /// Sets (replaces or appends) a parameter.
    pub fn set_param(&mut self, name: &str, value: Option<&str>) {
        set_param_in(&mut self.params, name, value)
    }
}

impl fmt::Display for Via {
    /// `SIP/2.0/WS host[:port];params`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SIP/2.0/{} {}", self.transport, self.host)?;
        if let Some(p) = self.port {
            write!(f, ":{p}")?;
        }
        write_params(f, &self.params)
    }
}

/// A `sip:` or `sips:` URI.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SipUri {
    /// `"sip"` or `"sips"` (lowercase).
    pub scheme: String,
    /// The userinfo before `@`, as written (still %-escaped; a
    /// `user:password` form is kept whole).
    pub user: Option<String>,
    /// As written; an IPv6 host keeps its brackets (`[2001:db8::1]`).
    pub host: String,
    pub port: Option<u16>,
    /// URI parameters: names lowercased, values as written.
    pub params: Params,
}

impl SipUri {
    /// Parses `sip:user@host:port;params`. URI headers (`?...`) are accepted
    /// and dropped. Other schemes (`tel:`, `urn:`) are an error.
    pub fn parse(s: &str) -> Result<SipUri, ParseError> {
        let s = s.trim();
        let (scheme, rest) = s
            .split_once(':')
            .ok_or_else(|| ParseError::new(format!("invalid SIP URI \"{}\"", short(s))))?;
        let scheme = scheme.to_ascii_lowercase();
        if scheme != "sip" && scheme != "sips" {
            return Err(ParseError::new(format!(
                "unsupported URI scheme \"{}\"",
                short(&scheme)
            )));
        }
        if rest.chars().any(char::is_whitespace) {
            return Err(ParseError::new(format!("invalid SIP URI \"{}\"", short(s))));
        }
        let rest = rest.split_once('?').map(|(r, _)| r).unwrap_or(rest);
        let (user, hostport) = match rest.split_once('@') {
            Some((user, host)) if !user.is_empty() => (Some(user.to_string()), host),
            Some(_) => {
                return Err(ParseError::new(format!(
                    "empty user in SIP URI \"{}\"",
                    short(s)
                )))
            }
            None => (None, rest),
        };
        let (host, port, rest) = parse_host_port(hostport)?;
        let params = parse_params(rest)?;
        Ok(SipUri {
            scheme,
            user,
            host,
            port,
            params,
        })
    }

    /// A URI parameter by case-insensitive name; `Some("")` for a parameter
    /// without value (`lr`).
    pub fn param(&self, name: &str) -> Option<&str> {
        find_param(&self.params, name)
    }

    /// Sets (replaces or appends) a URI parameter.
    pub fn set_param(&mut self, name: &str, value: Option<&str>) {
        set_param_in(&mut self.params, name, value)
    }
}

impl fmt::Display for SipUri {
    /// `scheme:[user@]host[:port][;params]`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:", self.scheme)?;
        if let Some(u) = &self.user {
            write!(f, "{u}@")?;
        }
        f.write_str(&self.host)?;
        if let Some(p) = self.port {
            write!(f, ":{p}")?;
        }
        write_params(f, &self.params)
    }
}
