//! The account settings as the user types them, and their checking.
//!
//! Pure Rust (no browser, no I/O): compiled natively too and unit-tested
//! there. [`prepare`] turns [`Settings`] into what the driver needs (the
//! core's [`AccountConfig`], the server list for failover, the ICE servers
//! and the ICE gathering time) or into one sentence for the user saying
//! what is wrong and how to fix it.

use crate::sip::{AccountConfig, DtmfMethod, Transport};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

/// ICE gathering time when the setting is 0 (not set).
pub const DEFAULT_ICE_GATHER_TIMEOUT_MS: u32 = 1500;
/// Accepted ICE gathering times, in ms.
pub const ICE_GATHER_TIMEOUT_RANGE: std::ops::RangeInclusive<u32> = 100..=10_000;

/// How DTMF digits are sent during a call (the settings' choice).
/// Stored as `"rfc4733"` / `"info"`; any other stored value reads as the
/// default, so one odd value never loses the whole stored account.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DtmfSetting {
    /// RFC 4733 telephone-events in the audio (the default).
    #[default]
    Rfc4733,
    /// SIP INFO (`application/dtmf-relay`).
    Info,
}

impl DtmfSetting {
    /// The `value` of the `#dtmf-method` select.
    pub fn as_str(self) -> &'static str {
        match self {
            DtmfSetting::Rfc4733 => "rfc4733",
            DtmfSetting::Info => "info",
        }
    }
    /// From the select's value; anything unknown is the default.
    pub fn from_value(v: &str) -> DtmfSetting {
        if v.trim().eq_ignore_ascii_case("info") {
            DtmfSetting::Info
        } else {
            DtmfSetting::Rfc4733
        }
    }
    pub fn method(self) -> DtmfMethod {
        match self {
            DtmfSetting::Rfc4733 => DtmfMethod::Rfc4733,
            DtmfSetting::Info => DtmfMethod::Info,
        }
    }
}

/// When calls are recorded (kept in the browser only). Stored as
/// `"never"` / `"ask"` / `"always"`; any other value reads as the default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RecordPolicy {
    /// No recording: the call has no Record button.
    Never,
    /// The person decides in each call (its Record button).
    #[default]
    Ask,
    /// Every call is recorded from its answer (Record stops it).
    Always,
}

impl RecordPolicy {
    /// The `value` of the `#record-policy` select.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordPolicy::Never => "never",
            RecordPolicy::Ask => "ask",
            RecordPolicy::Always => "always",
        }
    }
    /// From the select's (or the embed option's) value; anything unknown is
    /// the default.
    pub fn from_value(v: &str) -> RecordPolicy {
        match v.trim().to_ascii_lowercase().as_str() {
            "never" | "off" | "no" => RecordPolicy::Never,
            "always" | "on" | "yes" => RecordPolicy::Always,
            _ => RecordPolicy::Ask,
        }
    }
}

impl<'de> Deserialize<'de> for RecordPolicy {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<RecordPolicy, D::Error> {
        let v = serde_json_free_string(d)?;
        Ok(RecordPolicy::from_value(&v))
    }
}

impl<'de> Deserialize<'de> for DtmfSetting {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<DtmfSetting, D::Error> {
        let v = serde_json_free_string(d)?;
        Ok(DtmfSetting::from_value(&v))
    }
}

/// A stored string, or empty for any other JSON value.
fn serde_json_free_string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Any {
        Text(String),
        Other(serde::de::IgnoredAny),
    }
    Ok(match Any::deserialize(d)? {
        Any::Text(t) => t,
        Any::Other(_) => String::new(),
    })
}

/// Default ring volume (percent).
pub const DEFAULT_RING_VOLUME: u8 = 60;

/// The settings form, as saved in the browser's storage. Every field has a
/// default, so settings saved by an older version still load.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// One or more WebSocket addresses (separated by spaces, commas or
    /// newlines), tried in order.
    pub ws_url: String,
    pub sip_uri: String,
    pub auth_user: String,
    pub password: String,
    pub display_name: String,
    /// Allow `ws://` (unencrypted) to a host that is not this computer.
    pub allow_insecure_ws: bool,
    /// One ICE server a line: `url [username credential]`.
    pub ice_servers: String,
    /// Media only through a TURN relay (`iceTransportPolicy: "relay"`): no
    /// host or server-reflexive candidates, so no local address is revealed
    /// and calls work where only the relay is reachable. Needs a TURN server
    /// in `ice_servers`.
    pub relay_only: bool,
    /// Longest wait for ICE candidates; 0 means the default (1500 ms).
    pub ice_gather_timeout_ms: u32,
    /// How DTMF digits are sent.
    pub dtmf_method: DtmfSetting,
    /// The audio codecs calls may use, most wanted first (names separated
    /// by spaces or commas, see [`parse_audio_codecs`]); empty: the
    /// browser's own list and order.
    pub audio_codecs: String,
    /// The video codecs calls may use, most wanted first (see
    /// [`parse_video_codecs`]); empty: the browser's own list and order.
    pub video_codecs: String,
    /// Answer incoming calls by themselves (when no other call is up), after
    /// the delay the caller asks for (`answer-after`), else at once.
    pub auto_answer: bool,
    /// Do not disturb: incoming calls are refused (486 Busy Here).
    pub dnd: bool,
    /// Ringtone and ringback volume, 0 to 100.
    pub ring_volume: u8,
    /// `deviceId` of the microphone; empty: the browser's default.
    pub mic_device: String,
    /// `deviceId` of the speaker; empty: the browser's default.
    pub speaker_device: String,
    /// `deviceId` of the camera; empty: the browser's default.
    pub camera_device: String,
    pub echo_cancellation: bool,
    pub noise_suppression: bool,
    pub auto_gain: bool,
    /// When calls are recorded.
    pub record_calls: RecordPolicy,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            ws_url: String::new(),
            sip_uri: String::new(),
            auth_user: String::new(),
            password: String::new(),
            display_name: String::new(),
            allow_insecure_ws: false,
            ice_servers: String::new(),
            relay_only: false,
            ice_gather_timeout_ms: 0,
            dtmf_method: DtmfSetting::Rfc4733,
            audio_codecs: String::new(),
            video_codecs: String::new(),
            auto_answer: false,
            dnd: false,
            ring_volume: DEFAULT_RING_VOLUME,
            mic_device: String::new(),
            speaker_device: String::new(),
            camera_device: String::new(),
            echo_cancellation: true,
            noise_suppression: true,
            auto_gain: true,
            record_calls: RecordPolicy::Ask,
        }
    }
}

impl Settings {
    /// Whether `other` is the same account (server, address, credentials,
    /// ICE): only the phone preferences differ, no new sign-in is needed.
    pub fn same_account(&self, other: &Settings) -> bool {
        self.ws_url == other.ws_url
            && self.sip_uri == other.sip_uri
            && self.auth_user == other.auth_user
            && self.password == other.password
            && self.display_name == other.display_name
            && self.allow_insecure_ws == other.allow_insecure_ws
            && self.ice_servers == other.ice_servers
            && self.relay_only == other.relay_only
            && self.ice_gather_timeout_ms == other.ice_gather_timeout_ms
    }

    /// The ring volume as a gain, 0.0 to 1.0 (values above 100 count as 100).
    pub fn ring_gain(&self) -> f32 {
        f32::from(self.ring_volume.min(100)) / 100.0
    }
}

/// Never prints the password.
impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("ws_url", &self.ws_url)
            .field("sip_uri", &self.sip_uri)
            .field("auth_user", &self.auth_user)
            .field("password", &redacted(&self.password))
            .field("display_name", &self.display_name)
            .field("allow_insecure_ws", &self.allow_insecure_ws)
            .field("ice_servers", &redact_ice_lines(&self.ice_servers))
            .field("relay_only", &self.relay_only)
            .field("ice_gather_timeout_ms", &self.ice_gather_timeout_ms)
            .field("dtmf_method", &self.dtmf_method)
            .field("audio_codecs", &self.audio_codecs)
            .field("video_codecs", &self.video_codecs)
            .field("auto_answer", &self.auto_answer)
            .field("dnd", &self.dnd)
            .field("ring_volume", &self.ring_volume)
            .field("mic_device", &self.mic_device)
            .field("speaker_device", &self.speaker_device)
            .field("camera_device", &self.camera_device)
            .field("echo_cancellation", &self.echo_cancellation)
            .field("noise_suppression", &self.noise_suppression)
            .field("auto_gain", &self.auto_gain)
            .field("record_calls", &self.record_calls)
            .finish()
    }
}

/// One STUN or TURN server for `RTCPeerConnection`'s `iceServers`.
#[derive(Clone, PartialEq, Eq)]
pub struct IceServer {
    pub urls: String,
    pub username: Option<String>,
    pub credential: Option<String>,
}

impl IceServer {
    /// A `turn:` or `turns:` server (a relay), not only STUN.
    pub fn is_turn(&self) -> bool {
        let url = self.urls.to_ascii_lowercase();
        url.starts_with("turn:") || url.starts_with("turns:")
    }
}

/// Never prints the credential.
impl fmt::Debug for IceServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IceServer")
            .field("urls", &self.urls)
            .field("username", &self.username)
            .field(
                "credential",
                &self.credential.as_deref().map(|c| redacted(c)),
            )
            .finish()
    }
}

/// How new peer connections are made (from the account settings).
#[derive(Clone, Debug, PartialEq)]
pub struct MediaConfig {
    /// STUN/TURN servers for `RTCPeerConnection`'s `iceServers`.
    pub ice_servers: Vec<IceServer>,
    /// `iceTransportPolicy: "relay"`: only TURN relay candidates.
    pub relay_only: bool,
    /// Longest wait for ICE candidates before the SDP goes out (ms).
    pub gather_timeout_ms: u32,
    /// `deviceId` of the microphone to use; `None`: the browser's default.
    pub mic_device: Option<String>,
    /// `deviceId` of the speaker (`setSinkId` where the browser has it).
    pub speaker_device: Option<String>,
    /// `deviceId` of the camera; `None`: the browser's default.
    pub camera_device: Option<String>,
    /// getUserMedia audio constraints.
    pub echo_cancellation: bool,
    pub noise_suppression: bool,
    pub auto_gain: bool,
    /// Ringtone and ringback volume, 0.0 to 1.0.
    pub ring_volume: f32,
    /// The audio codecs offered and accepted, most wanted first (names as
    /// in SDP: `opus`, `G722`, `PCMU`, `PCMA`); empty: the browser's own.
    /// DTMF's `telephone-event` is always kept.
    pub audio_codecs: Vec<&'static str>,
    /// The video codecs offered and accepted, most wanted first (`VP8`,
    /// `VP9`, `H264`, `AV1`); empty: the browser's own. Retransmission and
    /// error correction are kept with them.
    pub video_codecs: Vec<&'static str>,
}

impl Default for MediaConfig {
    fn default() -> MediaConfig {
        MediaConfig {
            ice_servers: Vec::new(),
            relay_only: false,
            gather_timeout_ms: DEFAULT_ICE_GATHER_TIMEOUT_MS,
            mic_device: None,
            speaker_device: None,
            camera_device: None,
            echo_cancellation: true,
            noise_suppression: true,
            auto_gain: true,
            ring_volume: 0.6,
            audio_codecs: Vec::new(),
            video_codecs: Vec::new(),
        }
    }
}

impl MediaConfig {
    /// The media part of checked settings `prepared` and of the form `s`
    /// (devices, audio processing, ring volume).
    pub fn of(prepared: &Prepared, s: &Settings) -> MediaConfig {
        let device = |id: &str| (!id.trim().is_empty()).then(|| id.trim().to_string());
        MediaConfig {
            ice_servers: prepared.ice_servers.clone(),
            relay_only: prepared.relay_only,
            gather_timeout_ms: prepared.ice_gather_timeout_ms,
            mic_device: device(&s.mic_device),
            speaker_device: device(&s.speaker_device),
            camera_device: device(&s.camera_device),
            echo_cancellation: s.echo_cancellation,
            noise_suppression: s.noise_suppression,
            auto_gain: s.auto_gain,
            ring_volume: s.ring_gain(),
            audio_codecs: prepared.audio_codecs.clone(),
            video_codecs: prepared.video_codecs.clone(),
        }
    }
}

/// Checked settings, ready for the driver.
#[derive(Clone)]
pub struct Prepared {
    pub config: AccountConfig,
    /// The WebSocket servers, in the order they are tried (at least one).
    pub servers: Vec<String>,
    pub ice_servers: Vec<IceServer>,
    /// See [`Settings::relay_only`].
    pub relay_only: bool,
    /// Longest wait for ICE candidates (ms), within [`ICE_GATHER_TIMEOUT_RANGE`].
    pub ice_gather_timeout_ms: u32,
    /// See [`MediaConfig::audio_codecs`].
    pub audio_codecs: Vec<&'static str>,
    /// See [`MediaConfig::video_codecs`].
    pub video_codecs: Vec<&'static str>,
}

/// Never prints the password (`AccountConfig`'s own `Debug` would).
impl fmt::Debug for Prepared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.config;
        f.debug_struct("Prepared")
            .field("aor", &c.aor)
            .field("auth_user", &c.auth_user)
            .field("password", &redacted(&c.password))
            .field("display_name", &c.display_name)
            .field("transport", &c.transport)
            .field("instance_id", &c.instance_id)
            .field("servers", &self.servers)
            .field("ice_servers", &self.ice_servers)
            .field("relay_only", &self.relay_only)
            .field("ice_gather_timeout_ms", &self.ice_gather_timeout_ms)
            .field("audio_codecs", &self.audio_codecs)
            .field("video_codecs", &self.video_codecs)
            .finish()
    }
}

impl Prepared {
    /// One line for the log: the account, its servers, the ICE set-up;
    /// never a secret. (Not `Debug`: its formatting of every field would be
    /// wasm that only this line uses.)
    pub fn summary(&self) -> String {
        let c = &self.config;
        let turn = self.ice_servers.iter().filter(|s| s.is_turn()).count();
        // (an empty digest user name is the address's user part)
        let user = if c.auth_user.is_empty() {
            String::new()
        } else {
            format!(" as {}", c.auth_user)
        };
        let mut line = format!(
            "{}{user} via {}; {} ICE server(s), {turn} TURN; gathering up to {} ms",
            c.aor,
            self.servers.join(", "),
            self.ice_servers.len(),
            self.ice_gather_timeout_ms
        );
        if self.relay_only {
            line.push_str("; relay only");
        }
        for (kind, codecs) in [("audio", &self.audio_codecs), ("video", &self.video_codecs)] {
            if !codecs.is_empty() {
                line.push_str(&format!("; {kind} codecs {}", codecs.join(" ")));
            }
        }
        line
    }
}

fn redacted(secret: &str) -> &'static str {
    if secret.is_empty() {
        ""
    } else {
        "***"
    }
}

/// The ICE server lines with the credentials (third word) replaced.
fn redact_ice_lines(text: &str) -> String {
    text.lines()
        .map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            match words.as_slice() {
                [url, user, _secret, ..] => format!("{url} {user} ***"),
                _ => line.trim().to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Check the settings and build everything the driver needs, or say (in a
/// sentence for the user) what is wrong.
pub fn prepare(s: &Settings, instance_id: &str) -> Result<Prepared, String> {
    let servers = parse_servers(&s.ws_url, s.allow_insecure_ws)?;
    let transport = servers.1;
    let servers = servers.0;

    let mut aor = s.sip_uri.trim().to_string();
    if aor.is_empty() {
        return Err("Enter your SIP address, for example sip:1000@127.0.0.1.".into());
    }
    let lower = aor.to_ascii_lowercase();
    if !lower.starts_with("sip:") && !lower.starts_with("sips:") {
        aor = format!("sip:{aor}");
    }
    if !aor.contains('@') {
        return Err(format!(
            "Your SIP address needs a domain, for example sip:1000@127.0.0.1 (it is \"{aor}\")."
        ));
    }
    let ice_servers = parse_ice_servers(&s.ice_servers)?;
    if s.relay_only && !ice_servers.iter().any(IceServer::is_turn) {
        return Err(
            "\"Only through a TURN relay\" needs a TURN server: add a line such as \
             \"turn:turn.example.org:3478 user secret\" to the ICE servers, or untick it."
                .into(),
        );
    }
    let ice_gather_timeout_ms = gather_timeout(s.ice_gather_timeout_ms)?;
    let audio_codecs = parse_audio_codecs(&s.audio_codecs)?;
    let video_codecs = parse_video_codecs(&s.video_codecs)?;

    let mut config = AccountConfig::new(&aor, &s.password, transport);
    config.auth_user = s.auth_user.trim().to_string();
    config.display_name = s.display_name.trim().to_string();
    config.instance_id = instance_id.to_string();
    Ok(Prepared {
        config,
        servers,
        ice_servers,
        relay_only: s.relay_only,
        ice_gather_timeout_ms,
        audio_codecs,
        video_codecs,
    })
}

/// The server addresses (separated by spaces, commas or newlines), each
/// checked, and their one transport.
pub fn parse_servers(text: &str, allow_insecure: bool) -> Result<(Vec<String>, Transport), String> {
    let urls: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|u| !u.is_empty())
        .collect();
    if urls.is_empty() {
        return Err("Enter the server address, for example ws://127.0.0.1:8088.".into());
    }
    let mut transport = None;
    for url in &urls {
        let this = Transport::from_url(url).ok_or_else(|| {
            format!("The server address must start with ws:// or wss:// (it is \"{url}\").")
        })?;
        let host = url_host(url).ok_or_else(|| {
            format!(
                "The server address \"{url}\" has no host name: write it like ws://127.0.0.1:8088 or wss://sip.example.org."
            )
        })?;
        match transport {
            None => transport = Some((this, *url)),
            Some((first, first_url)) if first != this => {
                return Err(format!(
                    "All server addresses must use the same scheme, either all wss:// or all ws:// (\"{first_url}\" and \"{url}\" differ)."
                ));
            }
            Some(_) => {}
        }
        if this == Transport::Ws && !allow_insecure && !is_loopback(&host) {
            return Err(format!(
                "The server address \"{url}\" is refused: ws:// is not encrypted, so your password \
                 and calls could be read on the way to {host}. Use wss:// instead, or tick \
                 \"Allow unencrypted ws:// to a remote server\" if you trust the network."
            ));
        }
    }
    let transport = transport.map(|(t, _)| t).unwrap_or(Transport::Wss);
    Ok((urls.into_iter().map(str::to_string).collect(), transport))
}

/// The host of a `ws://` or `wss://` URL (lower case; an IPv6 address keeps
/// its brackets), or `None` if there is none.
fn url_host(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    // user info (`user:pass@host`) is not part of the host
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    let host = if authority.starts_with('[') {
        let end = authority.find(']')?;
        &authority[..=end]
    } else {
        authority.split(':').next().unwrap_or("")
    };
    let host = host.to_ascii_lowercase();
    (!host.is_empty() && host != "[]").then_some(host)
}

/// `localhost`, `*.localhost`, `127.0.0.0/8` or `[::1]`.
fn is_loopback(host: &str) -> bool {
    let host = host.strip_suffix('.').unwrap_or(host);
    if host == "localhost" || host.ends_with(".localhost") {
        return true;
    }
    if let Ok(v4) = host.parse::<Ipv4Addr>() {
        return v4.is_loopback();
    }
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return inner.parse::<Ipv6Addr>().is_ok_and(|v6| v6.is_loopback());
    }
    false
}

/// ICE servers, one a line: `url [username credential]`; blank lines and
/// lines starting with `#` are skipped.
pub fn parse_ice_servers(text: &str) -> Result<Vec<IceServer>, String> {
    let mut servers = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let url = words[0];
        let lower = url.to_ascii_lowercase();
        let Some((scheme, rest)) = lower.split_once(':') else {
            return Err(ice_scheme_error(n, url));
        };
        let turn = match scheme {
            "stun" | "stuns" => false,
            "turn" | "turns" => true,
            _ => return Err(ice_scheme_error(n, url)),
        };
        if rest.trim_start_matches('/').is_empty() || rest.starts_with(':') {
            return Err(format!(
                "ICE server line {n}: \"{url}\" has no host name, for example {scheme}:server.example.org:3478."
            ));
        }
        let (username, credential) = match words.len() {
            1 => (None, None),
            3 => (Some(words[1].to_string()), Some(words[2].to_string())),
            2 => {
                return Err(format!(
                    "ICE server line {n}: after \"{url}\" write both a user name and a password (credential), or neither."
                ))
            }
            _ => {
                return Err(format!(
                    "ICE server line {n} has too many words: write \"url\" or \"url user password\"."
                ))
            }
        };
        if turn && username.is_none() {
            return Err(format!(
                "ICE server line {n}: the TURN server \"{url}\" needs a user name and a password, \
                 for example \"{url} user secret\"."
            ));
        }
        servers.push(IceServer {
            urls: url.to_string(),
            username,
            credential,
        });
    }
    Ok(servers)
}

fn ice_scheme_error(n: usize, url: &str) -> String {
    format!(
        "ICE server line {n}: \"{url}\" must start with stun:, stuns:, turn: or turns:, \
         for example stun:stun.example.org:3478."
    )
}

/// 0 gives the default; otherwise the value must be within the range.
pub fn gather_timeout(ms: u32) -> Result<u32, String> {
    if ms == 0 {
        return Ok(DEFAULT_ICE_GATHER_TIMEOUT_MS);
    }
    if ICE_GATHER_TIMEOUT_RANGE.contains(&ms) {
        Ok(ms)
    } else {
        Err(format!(
            "The ICE gathering time must be between {} and {} ms (it is {ms} ms); leave it empty for the default of {} ms.",
            ICE_GATHER_TIMEOUT_RANGE.start(),
            ICE_GATHER_TIMEOUT_RANGE.end(),
            DEFAULT_ICE_GATHER_TIMEOUT_MS
        ))
    }
}

/// The audio codecs this phone lets the user choose, by their SDP names,
/// with the other names people know them by (Asterisk's `ulaw`, G.711).
const AUDIO_CODECS: &[(&str, &[&str])] = &[
    ("opus", &[]),
    ("G722", &["g.722"]),
    ("PCMU", &["ulaw", "g711u", "g.711u", "mulaw"]),
    ("PCMA", &["alaw", "g711a", "g.711a"]),
];

/// The video codecs this phone lets the user choose, by their SDP names.
const VIDEO_CODECS: &[(&str, &[&str])] = &[
    ("VP8", &[]),
    ("VP9", &[]),
    ("H264", &["h.264", "avc"]),
    ("AV1", &[]),
];

/// The audio codec setting: names separated by spaces or commas, most
/// wanted first, in any case and by their other names (`ulaw`); repeats
/// count once. Empty: the browser's own list. An unknown name is refused in
/// a sentence naming the ones known.
pub fn parse_audio_codecs(text: &str) -> Result<Vec<&'static str>, String> {
    parse_codecs(text, AUDIO_CODECS, "audio")
}

/// The video codec setting, as [`parse_audio_codecs`] (`VP8`, `VP9`,
/// `H264`, `AV1`).
pub fn parse_video_codecs(text: &str) -> Result<Vec<&'static str>, String> {
    parse_codecs(text, VIDEO_CODECS, "video")
}

fn parse_codecs(
    text: &str,
    table: &[(&'static str, &[&str])],
    kind: &str,
) -> Result<Vec<&'static str>, String> {
    let mut out: Vec<&'static str> = Vec::new();
    for word in text
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty())
    {
        let known = table.iter().find(|(name, other)| {
            name.eq_ignore_ascii_case(word) || other.iter().any(|o| o.eq_ignore_ascii_case(word))
        });
        let Some((name, _)) = known else {
            let names: Vec<&str> = table.iter().map(|(n, _)| *n).collect();
            return Err(format!(
                "The {kind} codecs can be {} (most wanted first); \"{word}\" is not one of them. \
                 Leave the field empty for the browser's choice.",
                names.join(", ")
            ));
        };
        if !out.contains(name) {
            out.push(name);
        }
    }
    Ok(out)
}

/// A UUID version 4 (`8-4-4-4-12` lower-case hex) from 16 random bytes: the
/// RFC 5626 instance id of this browser.
pub fn instance_id_from_random(bytes: [u8; 16]) -> String {
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .hyphenated()
        .to_string()
}

/// Whether a stored instance id is one [`instance_id_from_random`] made.
pub fn is_valid_instance_id(text: &str) -> bool {
    text.len() == 36
        && uuid::Uuid::try_parse(text).is_ok_and(|u| {
            u.get_version() == Some(uuid::Version::Random) && u.hyphenated().to_string() == text
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "f81d4fae-7dec-41d0-a765-00a0c91e6bf6";

    fn base() -> Settings {
        Settings {
            ws_url: "ws://127.0.0.1:8088".into(),
            sip_uri: "sip:1000@127.0.0.1".into(),
            password: "secret1000".into(),
            ..Settings::default()
        }
    }

    fn err(s: &Settings) -> String {
        prepare(s, ID).expect_err("should be refused")
    }

    #[test]
    fn a_plain_local_account() {
        let p = prepare(&base(), ID).unwrap();
        assert_eq!(p.servers, vec!["ws://127.0.0.1:8088".to_string()]);
        assert_eq!(p.config.aor, "sip:1000@127.0.0.1");
        assert_eq!(p.config.password, "secret1000");
        assert_eq!(p.config.transport, Transport::Ws);
        assert_eq!(p.config.instance_id, ID);
        assert!(p.ice_servers.is_empty());
        assert_eq!(p.ice_gather_timeout_ms, 1500);
    }

    #[test]
    fn account_fields_are_trimmed_and_completed() {
        let s = Settings {
            sip_uri: " 1000@example.org ".into(),
            auth_user: " alice ".into(),
            display_name: " Alice ".into(),
            ws_url: "wss://example.org".into(),
            ..base()
        };
        let p = prepare(&s, ID).unwrap();
        assert_eq!(p.config.aor, "sip:1000@example.org");
        assert_eq!(p.config.auth_user, "alice");
        assert_eq!(p.config.display_name, "Alice");
        let line = p.summary();
        assert!(
            line.starts_with("sip:1000@example.org as alice via wss://example.org;"),
            "{line}"
        );
        let plain = prepare(
            &Settings {
                auth_user: String::new(),
                ..s.clone()
            },
            ID,
        )
        .unwrap();
        let line = plain.summary();
        assert!(line.starts_with("sip:1000@example.org via "), "{line}");
        assert_eq!(p.config.transport, Transport::Wss);
        let sips = prepare(
            &Settings {
                sip_uri: "sips:1000@example.org".into(),
                ..s
            },
            ID,
        )
        .unwrap();
        assert_eq!(sips.config.aor, "sips:1000@example.org");
    }

    #[test]
    fn sip_address_refusals() {
        let e = err(&Settings {
            sip_uri: "  ".into(),
            ..base()
        });
        assert_eq!(e, "Enter your SIP address, for example sip:1000@127.0.0.1.");
        let e = err(&Settings {
            sip_uri: "1000".into(),
            ..base()
        });
        assert_eq!(
            e,
            "Your SIP address needs a domain, for example sip:1000@127.0.0.1 (it is \"sip:1000\")."
        );
    }

    #[test]
    fn several_servers_in_order_with_any_separator() {
        let s = Settings {
            ws_url: "wss://a.example.org, wss://b.example.org:8089/ws\n  wss://[2001:db8::1]:443\twss://c.example.org,,".into(),
            ..base()
        };
        let p = prepare(&s, ID).unwrap();
        assert_eq!(
            p.servers,
            vec![
                "wss://a.example.org",
                "wss://b.example.org:8089/ws",
                "wss://[2001:db8::1]:443",
                "wss://c.example.org"
            ]
        );
        assert_eq!(p.config.transport, Transport::Wss);
    }

    #[test]
    fn server_address_refusals() {
        let e = err(&Settings {
            ws_url: " \n, ".into(),
            ..base()
        });
        assert_eq!(
            e,
            "Enter the server address, for example ws://127.0.0.1:8088."
        );
        let e = err(&Settings {
            ws_url: "wss://ok.example.org http://127.0.0.1:8088".into(),
            ..base()
        });
        assert_eq!(
            e,
            "The server address must start with ws:// or wss:// (it is \"http://127.0.0.1:8088\")."
        );
        for no_host in [
            "ws://",
            "wss://:8089",
            "ws:///path",
            "wss://user@",
            "ws://[]:80",
        ] {
            let e = err(&Settings {
                ws_url: no_host.into(),
                ..base()
            });
            assert!(e.contains("has no host name"), "{no_host}: {e}");
            assert!(e.contains(no_host), "{no_host}: {e}");
        }
        let e = err(&Settings {
            ws_url: "wss://a.example.org ws://127.0.0.1:8088".into(),
            ..base()
        });
        assert!(e.contains("same scheme"), "{e}");
        assert!(
            e.contains("\"wss://a.example.org\" and \"ws://127.0.0.1:8088\""),
            "{e}"
        );
    }

    #[test]
    fn unencrypted_ws_only_to_loopback_unless_allowed() {
        for local in [
            "ws://localhost:8088",
            "ws://LocalHost",
            "ws://phone.localhost:8088/ws",
            "ws://127.0.0.1:8088",
            "ws://127.1.2.3",
            "ws://[::1]:8088",
            "ws://user@127.0.0.1:8088",
        ] {
            let s = Settings {
                ws_url: local.into(),
                ..base()
            };
            assert!(prepare(&s, ID).is_ok(), "{local} should be allowed");
        }
        for remote in [
            "ws://example.com",
            "ws://192.168.1.10:8088",
            "ws://128.0.0.1",
            "ws://[::2]:8088",
            "ws://localhost.example.com",
            "ws://127.0.0.1.example.com",
            "ws://127.0.0.1@example.com",
        ] {
            let s = Settings {
                ws_url: format!("ws://127.0.0.1:8088 {remote}"),
                ..base()
            };
            let e = err(&s);
            assert!(e.contains(remote), "{remote}: {e}");
            assert!(e.contains("not encrypted"), "{remote}: {e}");
            assert!(e.contains("wss://"), "{remote}: {e}");
            assert!(
                e.contains("Allow unencrypted ws:// to a remote server"),
                "{remote}: {e}"
            );
            let allowed = Settings {
                allow_insecure_ws: true,
                ..s
            };
            let p = prepare(&allowed, ID).unwrap();
            assert_eq!(p.servers.len(), 2);
            assert_eq!(p.config.transport, Transport::Ws);
        }
        // wss:// to anywhere is fine without the checkbox
        assert!(prepare(
            &Settings {
                ws_url: "wss://example.com".into(),
                ..base()
            },
            ID
        )
        .is_ok());
    }

    #[test]
    fn ice_servers_parse() {
        let text = "\n# our servers\nstun:stun.example.org:3478\n  turn:turn.example.org:3478 user secret  \n\nTURNS:turn.example.org:5349?transport=tcp u p\nstuns:stun.example.org\n";
        let list = parse_ice_servers(text).unwrap();
        assert_eq!(
            list,
            vec![
                IceServer {
                    urls: "stun:stun.example.org:3478".into(),
                    username: None,
                    credential: None
                },
                IceServer {
                    urls: "turn:turn.example.org:3478".into(),
                    username: Some("user".into()),
                    credential: Some("secret".into())
                },
                IceServer {
                    urls: "TURNS:turn.example.org:5349?transport=tcp".into(),
                    username: Some("u".into()),
                    credential: Some("p".into())
                },
                IceServer {
                    urls: "stuns:stun.example.org".into(),
                    username: None,
                    credential: None
                },
            ]
        );
        assert!(parse_ice_servers("").unwrap().is_empty());
        assert!(parse_ice_servers(" \n# nothing\n").unwrap().is_empty());
        let p = prepare(
            &Settings {
                ice_servers: text.into(),
                ..base()
            },
            ID,
        )
        .unwrap();
        assert_eq!(p.ice_servers.len(), 4);
    }

    #[test]
    fn ice_server_refusals_name_the_line() {
        let e = parse_ice_servers("stun:ok.example.org\nhttp://x.example.org").unwrap_err();
        assert!(e.starts_with("ICE server line 2:"), "{e}");
        assert!(e.contains("stun:, stuns:, turn: or turns:"), "{e}");
        let e = parse_ice_servers("stun.example.org").unwrap_err();
        assert!(e.starts_with("ICE server line 1:"), "{e}");
        let e = parse_ice_servers("\n\nturn:turn.example.org:3478").unwrap_err();
        assert!(e.starts_with("ICE server line 3:"), "{e}");
        assert!(e.contains("needs a user name and a password"), "{e}");
        let e = parse_ice_servers("turn:turn.example.org user").unwrap_err();
        assert!(e.starts_with("ICE server line 1:"), "{e}");
        assert!(e.contains("both a user name and a password"), "{e}");
        let e = parse_ice_servers("stun:a.example.org u p extra").unwrap_err();
        assert!(e.contains("line 1 has too many words"), "{e}");
        for empty in ["stun:", "turn: u p", "stun::3478"] {
            let e = parse_ice_servers(empty).unwrap_err();
            assert!(e.contains("has no host name"), "{empty}: {e}");
        }
        // the error reaches the user through prepare
        let e = err(&Settings {
            ice_servers: "turn:t.example.org".into(),
            ..base()
        });
        assert!(e.contains("TURN server"), "{e}");
    }

    #[test]
    fn relay_only_needs_a_turn_server() {
        // none, or only STUN: refused, saying what to add
        for servers in ["", "stun:stun.example.org:3478"] {
            let e = err(&Settings {
                ice_servers: servers.into(),
                relay_only: true,
                ..base()
            });
            assert!(e.contains("needs a TURN server"), "{servers:?}: {e}");
        }
        // with a TURN (or TURNS) line it goes through to the media settings
        for line in [
            "turn:127.0.0.1:3478?transport=tcp u p",
            "TURNS:t.example.org u p",
        ] {
            let p = prepare(
                &Settings {
                    ice_servers: format!("stun:s.example.org\n{line}"),
                    relay_only: true,
                    ..base()
                },
                ID,
            )
            .unwrap();
            assert!(p.relay_only);
            assert!(p.ice_servers[1].is_turn() && !p.ice_servers[0].is_turn());
        }
        // off by default, and a changed policy is a changed account
        assert!(!prepare(&base(), ID).unwrap().relay_only);
        let relay = Settings {
            relay_only: true,
            ..base()
        };
        assert!(!base().same_account(&relay));
    }

    #[test]
    fn gather_timeout_default_and_range() {
        assert_eq!(gather_timeout(0), Ok(1500));
        assert_eq!(gather_timeout(100), Ok(100));
        assert_eq!(gather_timeout(10_000), Ok(10_000));
        for bad in [1, 99, 10_001, u32::MAX] {
            let e = gather_timeout(bad).unwrap_err();
            assert!(e.contains("between 100 and 10000 ms"), "{e}");
            assert!(e.contains(&format!("it is {bad} ms")), "{e}");
        }
        let p = prepare(
            &Settings {
                ice_gather_timeout_ms: 3000,
                ..base()
            },
            ID,
        )
        .unwrap();
        assert_eq!(p.ice_gather_timeout_ms, 3000);
        assert!(err(&Settings {
            ice_gather_timeout_ms: 50,
            ..base()
        })
        .contains("ICE gathering time"));
    }

    #[test]
    fn debug_never_prints_secrets() {
        let s = Settings {
            password: "hunter2-password".into(),
            ice_servers: "turn:t.example.org:3478 alice turn-secret-9".into(),
            ..base()
        };
        let text = format!("{s:?}");
        assert!(!text.contains("hunter2-password"), "{text}");
        assert!(!text.contains("turn-secret-9"), "{text}");
        assert!(text.contains("***"));
        assert!(text.contains("alice"));
        let p = prepare(&s, ID).unwrap();
        let text = format!("{p:?}");
        assert!(!text.contains("hunter2-password"), "{text}");
        assert!(!text.contains("turn-secret-9"), "{text}");
        assert!(text.contains("turn:t.example.org:3478"), "{text}");
        let line = p.summary();
        assert!(!line.contains("hunter2-password"), "{line}");
        assert!(!line.contains("turn-secret-9"), "{line}");
        assert!(line.contains("1 ICE server(s), 1 TURN"), "{line}");
        let empty = format!("{:?}", Settings::default());
        assert!(empty.contains("password: \"\""), "{empty}");
    }

    #[test]
    fn instance_ids() {
        let a = instance_id_from_random([0u8; 16]);
        assert_eq!(a, "00000000-0000-4000-8000-000000000000");
        let b = instance_id_from_random([0xff; 16]);
        assert_eq!(b, "ffffffff-ffff-4fff-bfff-ffffffffffff");
        let c = instance_id_from_random(*b"0123456789abcdef");
        for id in [&a, &b, &c] {
            assert!(is_valid_instance_id(id), "{id}");
        }
        assert_ne!(a, c);
        for bad in [
            "",
            "not a uuid",
            "f81d4fae-7dec-11d0-a765-00a0c91e6bf6", // version 1
            "F81D4FAE-7DEC-41D0-A765-00A0C91E6BF6", // not as we write it
            "f81d4fae7dec41d0a76500a0c91e6bf6",     // no hyphens
            "{f81d4fae-7dec-41d0-a765-00a0c91e6bf6}",
            "f81d4fae-7dec-41d0-a765-00a0c91e6bf6 ",
            "urn:uuid:f81d4fae-7dec-41d0-a765-00a0c91e6bf6",
        ] {
            assert!(!is_valid_instance_id(bad), "{bad}");
        }
        assert!(is_valid_instance_id(ID));
    }

    #[test]
    fn old_stored_settings_still_load() {
        // settings saved before the new fields existed (serde default)
        let old: Settings = serde_json::from_str(
            r#"{"ws_url":"ws://127.0.0.1:8088","sip_uri":"sip:1@x","auth_user":"","password":"p","display_name":""}"#,
        )
        .unwrap();
        assert_eq!(old.ws_url, "ws://127.0.0.1:8088");
        assert!(!old.allow_insecure_ws);
        assert_eq!(old.ice_gather_timeout_ms, 0);
    }

    #[test]
    fn old_stored_settings_get_the_phone_defaults() {
        // saved by the issue 4 version: no phone preferences yet
        let old: Settings = serde_json::from_str(
            r#"{"ws_url":"ws://127.0.0.1:8088","sip_uri":"sip:1@x","auth_user":"","password":"p","display_name":"","allow_insecure_ws":false,"ice_servers":"","ice_gather_timeout_ms":0}"#,
        )
        .unwrap();
        assert_eq!(old.dtmf_method, DtmfSetting::Rfc4733);
        assert!(!old.auto_answer && !old.dnd);
        assert_eq!(old.ring_volume, DEFAULT_RING_VOLUME);
        assert!(old.mic_device.is_empty() && old.speaker_device.is_empty());
        assert!(old.echo_cancellation && old.noise_suppression && old.auto_gain);
        assert_eq!(
            old,
            Settings {
                ws_url: "ws://127.0.0.1:8088".into(),
                sip_uri: "sip:1@x".into(),
                password: "p".into(),
                ..Settings::default()
            }
        );
    }

    #[test]
    fn phone_preferences_round_trip() {
        let s = Settings {
            dtmf_method: DtmfSetting::Info,
            auto_answer: true,
            dnd: true,
            ring_volume: 25,
            mic_device: "mic-1".into(),
            speaker_device: "spk-2".into(),
            echo_cancellation: false,
            noise_suppression: false,
            auto_gain: false,
            audio_codecs: "PCMU PCMA".into(),
            video_codecs: "VP9 h.264".into(),
            ..base()
        };
        let json = serde_json::to_string(&s).unwrap();
        assert!(json.contains(r#""dtmf_method":"info""#), "{json}");
        let back: Settings = serde_json::from_str(&json).unwrap();
        assert_eq!(back, s);
        // an unknown DTMF method in storage does not lose the other settings
        for odd in [r#""smoke""#, "7", "null", "[1]"] {
            let bad = json.replace(r#""info""#, odd);
            let back: Settings = serde_json::from_str(&bad).unwrap();
            assert_eq!(back.dtmf_method, DtmfSetting::Rfc4733, "{odd}");
            assert_eq!(back.mic_device, "mic-1");
        }
    }

    #[test]
    fn audio_codecs_in_order_by_any_name() {
        assert_eq!(parse_audio_codecs(""), Ok(vec![]));
        assert_eq!(parse_audio_codecs(" , \n"), Ok(vec![]));
        assert_eq!(
            parse_audio_codecs("pcmu, PCMA opus"),
            Ok(vec!["PCMU", "PCMA", "opus"])
        );
        // other names, and repeats once
        assert_eq!(
            parse_audio_codecs("ulaw alaw G.711u g722 OPUS pcmu"),
            Ok(vec!["PCMU", "PCMA", "G722", "opus"])
        );
        let e = parse_audio_codecs("PCMU gsm").unwrap_err();
        assert!(
            e.contains("\"gsm\"") && e.contains("opus, G722, PCMU, PCMA"),
            "{e}"
        );
        // the settings are refused with it, and carry the list when good
        let mut s = base();
        s.audio_codecs = "speex".into();
        assert!(err(&s).contains("\"speex\""));
        s.audio_codecs = "alaw ulaw".into();
        let p = prepare(&s, ID).unwrap();
        assert_eq!(p.audio_codecs, vec!["PCMA", "PCMU"]);
        assert!(
            p.summary().ends_with("; audio codecs PCMA PCMU"),
            "{}",
            p.summary()
        );
        assert_eq!(MediaConfig::of(&p, &s).audio_codecs, vec!["PCMA", "PCMU"]);
        // a phone preference: no new sign-in
        assert!(base().same_account(&s));
        assert!(prepare(&base(), ID).unwrap().audio_codecs.is_empty());
    }

    #[test]
    fn video_codecs_in_order_by_any_name() {
        assert_eq!(
            parse_video_codecs("h.264, vp9 AVC av1"),
            Ok(vec!["H264", "VP9", "AV1"])
        );
        let e = parse_video_codecs("VP8 theora").unwrap_err();
        assert!(
            e.starts_with("The video codecs can be VP8, VP9, H264, AV1")
                && e.contains("\"theora\""),
            "{e}"
        );
        let mut s = base();
        s.video_codecs = "mpeg2".into();
        assert!(err(&s).contains("\"mpeg2\""));
        s.video_codecs = "vp9".into();
        s.audio_codecs = "PCMU".into();
        let p = prepare(&s, ID).unwrap();
        assert!(
            p.summary()
                .ends_with("; audio codecs PCMU; video codecs VP9"),
            "{}",
            p.summary()
        );
        let m = MediaConfig::of(&p, &s);
        assert_eq!(
            (m.audio_codecs, m.video_codecs),
            (vec!["PCMU"], vec!["VP9"])
        );
        assert!(base().same_account(&s));
    }

    #[test]
    fn dtmf_setting_values() {
        assert_eq!(DtmfSetting::from_value("info"), DtmfSetting::Info);
        assert_eq!(DtmfSetting::from_value(" INFO "), DtmfSetting::Info);
        assert_eq!(DtmfSetting::from_value("rfc4733"), DtmfSetting::Rfc4733);
        assert_eq!(DtmfSetting::from_value("other"), DtmfSetting::Rfc4733);
        for d in [DtmfSetting::Info, DtmfSetting::Rfc4733] {
            assert_eq!(DtmfSetting::from_value(d.as_str()), d);
        }
        assert_eq!(DtmfSetting::Info.method(), DtmfMethod::Info);
        assert_eq!(DtmfSetting::Rfc4733.method(), DtmfMethod::Rfc4733);
    }

    #[test]
    fn same_account_ignores_phone_preferences() {
        let a = base();
        let b = Settings {
            dnd: true,
            ring_volume: 10,
            mic_device: "x".into(),
            ..base()
        };
        assert!(a.same_account(&b));
        let c = Settings {
            password: "other".into(),
            ..base()
        };
        assert!(!a.same_account(&c));
        assert!(!a.same_account(&Settings {
            ice_servers: "stun:s".into(),
            ..base()
        }));
    }

    #[test]
    fn ring_gain_is_clamped() {
        assert_eq!(
            Settings {
                ring_volume: 0,
                ..base()
            }
            .ring_gain(),
            0.0
        );
        assert_eq!(
            Settings {
                ring_volume: 50,
                ..base()
            }
            .ring_gain(),
            0.5
        );
        assert_eq!(
            Settings {
                ring_volume: 200,
                ..base()
            }
            .ring_gain(),
            1.0
        );
    }
}
