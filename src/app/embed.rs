//! The pure part of the embedding API (docs/embedding.md): what a host
//! page may configure, the commands it may send, the events it receives,
//! the links it may hand over, and the origin check of the iframe bridge.
//!
//! No browser here: `web::embed` turns JavaScript values into these types
//! and these events into DOM `CustomEvent`s (or `postMessage`s), so every
//! decision is tested natively.

use crate::app::settings::{DtmfSetting, RecordPolicy, Settings};
use crate::sip::refer::percent_decode;
use crate::sip::{CallState, EndReason, Event, Party};

/// Light, dark, or the host's `prefers-color-scheme`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Theme {
    #[default]
    Auto,
    Light,
    Dark,
}

impl Theme {
    pub fn as_str(self) -> &'static str {
        match self {
            Theme::Auto => "auto",
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }
}

/// What a host page gives the widget: the attributes of `<sip-phone>` or
/// the object passed to `SipPhone.mount(element, config)`.
#[derive(Clone, Default, PartialEq)]
pub struct EmbedConfig {
    /// WebSocket server(s), as in the settings form.
    pub ws: String,
    /// The account's SIP address.
    pub uri: String,
    /// The digest user name (default: the user part of `uri`).
    pub auth_user: String,
    /// Only in memory, never stored. Usually given later, at run time:
    /// `phone.register({ password })`.
    pub password: String,
    pub display_name: String,
    pub ice_servers: String,
    /// `relay-only`: media only through the TURN relay of `ice-servers`.
    pub relay_only: bool,
    pub allow_insecure_ws: bool,
    pub auto_answer: bool,
    pub dtmf_method: DtmfSetting,
    /// `audio-codecs`: as the settings' field (`"PCMU PCMA"`).
    pub audio_codecs: String,
    /// `video-codecs`: as the settings' field (`"VP9 VP8"`).
    pub video_codecs: String,
    /// `record-calls`: never, ask (the default) or always.
    pub record_calls: Option<RecordPolicy>,
    pub theme: Theme,
    /// Sign in as soon as mounted (when a password is known).
    pub register: bool,
}

/// Never prints the password.
impl std::fmt::Debug for EmbedConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbedConfig")
            .field("ws", &self.ws)
            .field("uri", &self.uri)
            .field("auth_user", &self.auth_user)
            .field(
                "password",
                &if self.password.is_empty() {
                    "(none)"
                } else {
                    "(set)"
                },
            )
            .field("display_name", &self.display_name)
            .field("theme", &self.theme)
            .field("register", &self.register)
            .finish_non_exhaustive()
    }
}

/// `true`/`false` as attributes and JS values give them: an attribute
/// present with no value (`auto-answer=""`) is true.
fn flag(value: &str) -> Result<bool, String> {
    match value.trim().to_ascii_lowercase().as_str() {
        "" | "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        other => Err(format!("not true or false: {other:?}")),
    }
}

/// A key in camelCase (`authUser`) or attribute form (`auth-user`), lower
/// case without separators (`authuser`).
fn key_of(name: &str) -> String {
    name.chars()
        .filter(|c| *c != '-' && *c != '_')
        .flat_map(char::to_lowercase)
        .collect()
}

impl EmbedConfig {
    /// From name/value pairs (attributes, or the entries of the config
    /// object with values as strings). Unknown names are returned as
    /// warnings, not errors, so that a newer host page still works; a value
    /// that cannot be understood is an error naming it.
    pub fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<(EmbedConfig, Vec<String>), String> {
        let mut c = EmbedConfig {
            register: true,
            ..EmbedConfig::default()
        };
        let mut warnings = Vec::new();
        for (name, value) in pairs {
            let bad = |e: String| format!("config {name}: {e}");
            match key_of(name).as_str() {
                "ws" | "server" | "servers" | "wsurl" => c.ws = value.trim().to_string(),
                "uri" | "sipuri" | "aor" => c.uri = value.trim().to_string(),
                "user" | "authuser" | "username" => c.auth_user = value.trim().to_string(),
                "password" => c.password = value.to_string(),
                "displayname" | "name" => c.display_name = value.trim().to_string(),
                "iceservers" => c.ice_servers = value.to_string(),
                "relayonly" => c.relay_only = flag(value).map_err(bad)?,
                "allowinsecurews" => c.allow_insecure_ws = flag(value).map_err(bad)?,
                "autoanswer" => c.auto_answer = flag(value).map_err(bad)?,
                "register" | "autoregister" => c.register = flag(value).map_err(bad)?,
                "dtmf" | "dtmfmethod" => {
                    c.dtmf_method = match value.trim().to_ascii_lowercase().as_str() {
                        "info" => DtmfSetting::Info,
                        "rfc4733" | "inband" | "rtp" | "" => DtmfSetting::Rfc4733,
                        other => return Err(bad(format!("unknown DTMF method {other:?}"))),
                    }
                }
                "audiocodecs" | "codecs" => {
                    crate::app::settings::parse_audio_codecs(value).map_err(bad)?;
                    c.audio_codecs = value.trim().to_string();
                }
                "videocodecs" => {
                    crate::app::settings::parse_video_codecs(value).map_err(bad)?;
                    c.video_codecs = value.trim().to_string();
                }
                "recordcalls" | "record" => {
                    c.record_calls = Some(match value.trim().to_ascii_lowercase().as_str() {
                        "never" => RecordPolicy::Never,
                        "" | "ask" => RecordPolicy::Ask,
                        "always" => RecordPolicy::Always,
                        other => return Err(bad(format!("unknown recording policy {other:?}"))),
                    })
                }
                "theme" => {
                    c.theme = match value.trim().to_ascii_lowercase().as_str() {
                        "" | "auto" => Theme::Auto,
                        "light" => Theme::Light,
                        "dark" => Theme::Dark,
                        other => return Err(bad(format!("unknown theme {other:?}"))),
                    }
                }
                // handled by the loader (sip-phone.js), not by the phone
                "layout" | "clicktocall" | "credentials" | "class" | "id" | "style" => {}
                _ => warnings.push(format!("unknown config {name:?} ignored")),
            }
        }
        Ok((c, warnings))
    }

    /// The phone's settings for this configuration (never stored: the
    /// embedded phone keeps them in memory only).
    pub fn settings(&self, defaults: &Settings) -> Settings {
        Settings {
            ws_url: if self.ws.is_empty() {
                defaults.ws_url.clone()
            } else {
                self.ws.clone()
            },
            sip_uri: self.uri.clone(),
            auth_user: self.auth_user.clone(),
            password: self.password.clone(),
            display_name: self.display_name.clone(),
            allow_insecure_ws: self.allow_insecure_ws,
            ice_servers: self.ice_servers.clone(),
            relay_only: self.relay_only,
            auto_answer: self.auto_answer,
            dtmf_method: self.dtmf_method,
            audio_codecs: self.audio_codecs.clone(),
            video_codecs: self.video_codecs.clone(),
            record_calls: self.record_calls.unwrap_or(defaults.record_calls),
            ..defaults.clone()
        }
    }
}

/// What a host page can ask of the phone (`phone.call("1001")`, or the
/// same through the iframe bridge).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApiCommand {
    /// Sign in; a password (or token) and user name given at run time
    /// replace the configured ones, in memory only.
    Register {
        password: Option<String>,
        auth_user: Option<String>,
        /// The account's address and server, when the host gives them only
        /// now (the iframe bridge: the framed app has no config).
        uri: Option<String>,
        ws: Option<String>,
        display_name: Option<String>,
    },
    Unregister,
    Call {
        target: String,
        /// With the camera.
        video: bool,
    },
    /// Answer the ringing call; `video`: with the camera.
    Answer {
        video: bool,
    },
    Hangup,
    Hold,
    Resume,
    Mute,
    Unmute,
    SendDtmf {
        digits: String,
    },
    Transfer {
        target: String,
    },
    /// An instant message (SIP MESSAGE) to `to`.
    Message {
        to: String,
        text: String,
    },
    /// The user has started entering a number: get the next call's media
    /// ready ([`crate::app::phone::Action::Dialling`]).
    Prepare,
    /// The camera on or off in the call on screen.
    Video {
        on: bool,
    },
    /// Share the screen in the call on screen, or stop.
    Share {
        on: bool,
    },
    /// Record the call on screen, or stop.
    Record {
        on: bool,
    },
}

impl ApiCommand {
    /// A command by name with its string arguments; the error says what is
    /// wrong in a sentence for the host page's developer.
    pub fn parse(name: &str, args: &[String]) -> Result<ApiCommand, String> {
        let arg = |i: usize| args.get(i).map(|s| s.trim()).filter(|s| !s.is_empty());
        let needs = |what: &str| format!("{name}() needs {what}");
        Ok(match name {
            // register(password, user, uri, ws, displayName)
            "register" => ApiCommand::Register {
                password: args.first().filter(|s| !s.is_empty()).cloned(),
                auth_user: arg(1).map(str::to_string),
                uri: arg(2).map(str::to_string),
                ws: arg(3).map(str::to_string),
                display_name: arg(4).map(str::to_string),
            },
            "unregister" => ApiCommand::Unregister,
            "prepare" => ApiCommand::Prepare,
            "videoOn" | "videoOff" => ApiCommand::Video {
                on: name == "videoOn",
            },
            "shareScreen" | "stopSharing" => ApiCommand::Share {
                on: name == "shareScreen",
            },
            "record" | "stopRecording" => ApiCommand::Record {
                on: name == "record",
            },
            "call" => {
                let raw = arg(0).ok_or_else(|| needs("a number or a sip: address"))?;
                let target = if looks_like_link(raw) {
                    dial_target(raw).ok_or_else(|| format!("call(): cannot call {raw:?}"))?
                } else {
                    raw.to_string()
                };
                if target.chars().any(char::is_control) {
                    return Err(format!("call(): cannot call {raw:?}"));
                }
                ApiCommand::Call {
                    target,
                    video: arg(1) == Some("video"),
                }
            }
            "answer" => ApiCommand::Answer {
                video: arg(0) == Some("video"),
            },
            "hangup" => ApiCommand::Hangup,
            "hold" => ApiCommand::Hold,
            "resume" | "unhold" => ApiCommand::Resume,
            "mute" => ApiCommand::Mute,
            "unmute" => ApiCommand::Unmute,
            "sendDtmf" => {
                let digits = arg(0).ok_or_else(|| needs("digits"))?;
                if let Some(bad) = digits
                    .chars()
                    .find(|c| !(c.is_ascii_digit() || matches!(c, '*' | '#' | 'A'..='D')))
                {
                    return Err(format!(
                        "sendDtmf(): {bad:?} is not a DTMF digit (0-9 * # A-D)"
                    ));
                }
                ApiCommand::SendDtmf {
                    digits: digits.to_string(),
                }
            }
            "transfer" => {
                let raw = arg(0).ok_or_else(|| needs("a number or a sip: address"))?;
                let target = if looks_like_link(raw) {
                    dial_target(raw).ok_or_else(|| format!("transfer(): cannot use {raw:?}"))?
                } else {
                    raw.to_string()
                };
                ApiCommand::Transfer { target }
            }
            // message(to, text): the checks of the messages tab, in its words
            "message" => {
                let to = args.first().map(String::as_str).unwrap_or("");
                let text = args.get(1).map(String::as_str).unwrap_or("");
                let (to, text) =
                    super::messaging::validate(to, text).map_err(|e| format!("message(): {e}"))?;
                ApiCommand::Message { to, text }
            }
            other => return Err(format!("unknown command {other:?}")),
        })
    }
}

fn looks_like_link(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    lower.starts_with("tel:") || lower.starts_with("sip:") || lower.starts_with("sips:")
}

/// What to dial for a `tel:` or `sip:`/`sips:` link (RFC 3966, RFC 3261):
/// a telephone number without its visual separators and parameters
/// (`tel:+1-555-0100;ext=7` → `+15550100`), or the SIP URI without its
/// headers part. `None` for any other link or an empty number.
pub fn dial_target(href: &str) -> Option<String> {
    let href = href.trim();
    let lower = href.to_ascii_lowercase();
    if !looks_like_link(&lower) {
        return None;
    }
    // the scheme is literal; the rest may be escaped (`tel:%2B49…`)
    let href = percent_decode(href)?;
    if href.chars().any(char::is_control) {
        return None;
    }
    let lower = href.to_ascii_lowercase();
    if let Some(rest) = lower.strip_prefix("tel:").map(|_| &href[4..]) {
        let number = rest.split(';').next().unwrap_or("");
        let digits: String = number
            .chars()
            .filter(|c| !matches!(c, '-' | '.' | '(' | ')' | ' '))
            .collect();
        let valid = !digits.is_empty()
            && digits
                .char_indices()
                .all(|(i, c)| c.is_ascii_digit() || matches!(c, '*' | '#') || (c == '+' && i == 0))
            && digits.chars().any(|c| c.is_ascii_digit());
        return valid.then_some(digits);
    }
    if lower.starts_with("sip:") || lower.starts_with("sips:") {
        let uri = href.split('?').next().unwrap_or("");
        let after_scheme = uri.split_once(':').map(|(_, r)| r).unwrap_or("");
        let host = after_scheme
            .rsplit('@')
            .next()
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("");
        let ok = !host.is_empty() && !uri.contains(|c: char| c.is_whitespace() || c == '<');
        return ok.then(|| uri.to_string());
    }
    None
}

/// The `call` parameter of the page's address (`?call=sip%3A1001%40…`, as
/// the protocol handler `/?call=%s` gives it): the target to dial.
pub fn call_param(query: &str) -> Option<String> {
    query_param(query, "call").and_then(|v| dial_target(&v))
}

/// A query parameter, percent-decoded.
pub fn query_param(query: &str, name: &str) -> Option<String> {
    let query = query.strip_prefix('?').unwrap_or(query);
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
        .and_then(|(_, v)| percent_decode(v))
}

/// An origin as `scheme://host[:port]`, lower case, for the iframe bridge;
/// `None` for anything else: a wildcard (`*`), `null`, a path, no scheme.
pub fn parse_origin(s: &str) -> Option<String> {
    let s = s.trim();
    let (scheme, rest) = s.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let ok = !rest.is_empty()
        && rest
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    ok.then(|| format!("{scheme}://{}", rest.to_ascii_lowercase()))
}

/// The bridge talks only to the one origin it was given: a message from
/// any other origin is dropped.
pub fn origin_allowed(expected: &str, got: &str) -> bool {
    match (parse_origin(expected), parse_origin(got)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

/// A value of an event's `detail`.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Str(String),
    Bool(bool),
    Null,
    Obj(Vec<(&'static str, Value)>),
}

/// One event for the host page: `name` is the `CustomEvent` type, `detail`
/// its fields (docs/embedding.md lists them).
#[derive(Clone, Debug, PartialEq)]
pub struct ApiEvent {
    pub name: &'static str,
    pub detail: Vec<(&'static str, Value)>,
}

fn party(p: &Party) -> Value {
    Value::Obj(vec![
        ("uri", Value::Str(p.uri.clone())),
        (
            "displayName",
            p.display_name
                .clone()
                .map(Value::Str)
                .unwrap_or(Value::Null),
        ),
    ])
}

fn call_id(call: crate::sip::CallId) -> Value {
    Value::Str(call.0.to_string())
}

/// A short, stable code for why a call ended.
pub fn end_code(reason: &EndReason) -> &'static str {
    match reason {
        EndReason::LocalHangup => "local-hangup",
        EndReason::RemoteHangup => "remote-hangup",
        EndReason::CallerCancelled => "caller-cancelled",
        EndReason::Busy => "busy",
        EndReason::Declined => "declined",
        EndReason::NotFound => "not-found",
        EndReason::Unavailable => "unavailable",
        EndReason::Cancelled => "cancelled",
        EndReason::SessionExpired => "session-expired",
        EndReason::NoAnswer => "no-answer",
        EndReason::NotAcceptable => "not-acceptable",
        EndReason::AuthFailed => "auth-failed",
        EndReason::Failed { .. } => "failed",
        EndReason::Media(_) => "media",
        EndReason::Network(_) => "network",
        EndReason::Transferred => "transferred",
    }
}

/// The host page's event for a core event about calls or messages
/// (`None`: not one the API reports; registration and errors come from the
/// phone's state).
pub fn call_event(event: &Event) -> Option<ApiEvent> {
    let state = |call, name: &str, extra: Vec<(&'static str, Value)>| {
        let mut detail = vec![("call", call_id(call)), ("state", Value::Str(name.into()))];
        detail.extend(extra);
        ApiEvent {
            name: "callstate",
            detail,
        }
    };
    Some(match event {
        Event::IncomingCall { call, from, .. } => ApiEvent {
            name: "incomingcall",
            detail: vec![("call", call_id(*call)), ("from", party(from))],
        },
        Event::CallState { call, state: cs } => match cs {
            CallState::Calling { to } => state(*call, "calling", vec![("peer", party(to))]),
            CallState::Ringing => state(*call, "ringing", vec![]),
            CallState::Answering => state(*call, "answering", vec![]),
            CallState::Active { peer } => state(*call, "active", vec![("peer", party(peer))]),
            CallState::Ended(reason) => state(
                *call,
                "ended",
                vec![
                    ("reason", Value::Str(end_code(reason).into())),
                    ("message", Value::Str(super::words::ended(reason))),
                ],
            ),
        },
        Event::LocalHold { call, on_hold } | Event::RemoteHold { call, on_hold } => ApiEvent {
            name: "hold",
            detail: vec![
                ("call", call_id(*call)),
                ("onHold", Value::Bool(*on_hold)),
                (
                    "by",
                    Value::Str(
                        if matches!(event, Event::LocalHold { .. }) {
                            "local"
                        } else {
                            "remote"
                        }
                        .into(),
                    ),
                ),
            ],
        },
        Event::MessageReceived { from, text } => ApiEvent {
            name: "message",
            detail: vec![("from", party(from)), ("text", Value::Str(text.clone()))],
        },
        Event::MessageStatus {
            delivered, reason, ..
        } => ApiEvent {
            name: "messagestatus",
            detail: vec![
                ("delivered", Value::Bool(*delivered)),
                (
                    "reason",
                    if *delivered {
                        Value::Null
                    } else {
                        Value::Str(reason.clone())
                    },
                ),
            ],
        },
        _ => return None,
    })
}

/// The `video` event: our camera or screen in `call` changed.
pub fn video_event(call: crate::sip::CallId, camera: bool, sharing: bool) -> ApiEvent {
    ApiEvent {
        name: "video",
        detail: vec![
            ("call", call_id(call)),
            ("camera", Value::Bool(camera)),
            ("sharing", Value::Bool(sharing)),
        ],
    }
}

/// The `recording` event: recording `id` of `call` started (`on`) or
/// stopped.
pub fn recording_event(call: crate::sip::CallId, on: bool, id: &str) -> ApiEvent {
    ApiEvent {
        name: "recording",
        detail: vec![
            ("call", call_id(call)),
            ("recording", Value::Bool(on)),
            ("id", Value::Str(id.into())),
        ],
    }
}

/// The `registration` event: `state` is `#reg-status`'s `data-state`
/// (connecting, registering, registered, unregistered, failed,
/// reconnecting, offline).
pub fn registration_event(state: &str, aor: Option<&str>, reason: Option<&str>) -> ApiEvent {
    ApiEvent {
        name: "registration",
        detail: vec![
            ("state", Value::Str(state.into())),
            (
                "aor",
                aor.map(|a| Value::Str(a.into())).unwrap_or(Value::Null),
            ),
            (
                "reason",
                reason.map(|r| Value::Str(r.into())).unwrap_or(Value::Null),
            ),
        ],
    }
}

/// The `error` event: a message shown to the user (`fatal`: the phone has
/// stopped working, after a panic).
pub fn error_event(message: &str, fatal: bool) -> ApiEvent {
    ApiEvent {
        name: "error",
        detail: vec![
            ("message", Value::Str(message.into())),
            ("fatal", Value::Bool(fatal)),
        ],
    }
}

#[cfg(test)]
mod tests;
