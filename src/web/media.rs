//! WebRTC for calls: one `RTCPeerConnection` per call (with the STUN/TURN
//! servers of [`configure`]; none: the phones reach each other directly),
//! the microphone from `getUserMedia`, and the remote audio played through
//! an `<audio autoplay>` element.
//!
//! Requests come from the core as [`MediaRequest`]s; results go back to it
//! through the `report` callback as [`Input::LocalSdp`] or
//! [`Input::MediaFailed`], and [`Input::IceFailed`] when a call's ICE
//! connection fails. Re-offers, re-answers and rollbacks work on the call's
//! existing peer connection.

use crate::settings::{IceServer, DEFAULT_ICE_GATHER_TIMEOUT_MS};
use crate::sip::{CallId, Input, MediaRequest};
use gloo_timers::future::TimeoutFuture;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{
    DomException, Event, HtmlAudioElement, MediaStream, MediaStreamConstraints, MediaStreamTrack,
    RtcConfiguration, RtcIceConnectionState, RtcIceGatheringState, RtcIceServer, RtcOfferOptions,
    RtcPeerConnection, RtcSdpType, RtcSessionDescriptionInit, RtcSignalingState, RtcTrackEvent,
};

/// ICE gathering: return the SDP when gathering is complete, or once some
/// candidates are there and no new one came for this long (without STUN or
/// TURN servers every candidate is a host candidate, found at once), or
/// after [`MediaConfig::gather_timeout_ms`] in any case.
const ICE_QUIET_MS: f64 = 40.0;

/// Where results go (the driver feeds them to the user agent).
pub type Report = Rc<dyn Fn(Input)>;

/// How new peer connections are made (from the account settings).
#[derive(Clone, Debug, PartialEq)]
pub struct MediaConfig {
    /// STUN/TURN servers for `RTCPeerConnection`'s `iceServers`.
    pub ice_servers: Vec<IceServer>,
    /// Longest wait for ICE candidates before the SDP goes out (ms).
    pub gather_timeout_ms: u32,
    /// `deviceId` of the microphone to use; `None`: the browser's default.
    pub mic_device: Option<String>,
    /// `deviceId` of the speaker (`setSinkId` where the browser has it).
    pub speaker_device: Option<String>,
    /// getUserMedia audio constraints.
    pub echo_cancellation: bool,
    pub noise_suppression: bool,
    pub auto_gain: bool,
    /// Ringtone and ringback volume, 0.0 to 1.0.
    pub ring_volume: f32,
}

impl Default for MediaConfig {
    fn default() -> MediaConfig {
        MediaConfig {
            ice_servers: Vec::new(),
            gather_timeout_ms: DEFAULT_ICE_GATHER_TIMEOUT_MS,
            mic_device: None,
            speaker_device: None,
            echo_cancellation: true,
            noise_suppression: true,
            auto_gain: true,
            ring_volume: 0.6,
        }
    }
}

/// An audio device (`enumerateDevices`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Device {
    pub id: String,
    pub label: String,
    /// `true`: a microphone; `false`: a speaker.
    pub input: bool,
}

/// Call quality from `getStats` (the inbound audio and the selected pair).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Quality {
    pub rtt_ms: f64,
    pub jitter_ms: f64,
    pub loss_pct: f64,
    /// Estimated MOS (1 to 4.5), from the E-model with the figures above.
    pub mos: f64,
}

// ---- issue 5 API (skeleton: the media helper implements these) ----

/// Mute or unmute the call's microphone track (no re-INVITE).
pub fn set_muted(call: CallId, muted: bool) {
    tracing::warn!("{call}: set_muted({muted}) not implemented yet");
}

/// The audio devices, labelled once the microphone permission is granted.
pub async fn devices() -> Vec<Device> {
    Vec::new()
}

/// The current microphone input level, 0.0 to 1.0 (an `AnalyserNode` on the
/// active call's microphone, or on a preview stream opened for the meter).
pub fn mic_level() -> f32 {
    0.0
}

/// Quality figures for a call, `None` when there are none yet.
pub async fn quality(call: CallId) -> Option<Quality> {
    let _ = call;
    None
}

/// Mix the given calls locally (each hears the others and us); an empty
/// slice ends the conference.
pub fn conference(calls: &[CallId]) {
    tracing::warn!("conference({calls:?}) not implemented yet");
}

/// The ringtone for an incoming call (Web Audio), on or off.
pub fn ringtone(on: bool) {
    let _ = on;
}

/// The local ringback tone while the far end rings without early media.
pub fn ringback(on: bool) {
    let _ = on;
}

thread_local! {
    static CALLS: RefCell<HashMap<CallId, Rc<CallMedia>>> = RefCell::new(HashMap::new());
    static CONFIG: RefCell<MediaConfig> = RefCell::new(MediaConfig::default());
}

/// Use this configuration for every peer connection made from now on
/// (calls already running keep theirs).
pub fn configure(c: MediaConfig) {
    tracing::debug!("media configuration: {c:?}");
    CONFIG.with(|cfg| *cfg.borrow_mut() = c);
}

/// Carry out one request from the core.
pub fn handle(request: MediaRequest, report: Report) {
    match request {
        MediaRequest::CreateOffer { call } => start(call, None, report),
        MediaRequest::CreateAnswer { call, remote_sdp } => start(call, Some(remote_sdp), report),
        MediaRequest::SetRemoteAnswer { call, sdp, .. } => set_remote_answer(call, sdp, report),
        MediaRequest::Close { call } => close(call),
        MediaRequest::Reoffer {
            call, ice_restart, ..
        } => renegotiate(call, None, ice_restart, report),
        MediaRequest::Reanswer { call, remote_sdp } => {
            renegotiate(call, Some(remote_sdp), false, report)
        }
        MediaRequest::SendDtmf { call, .. } => {
            tracing::warn!("{call}: DTMF through the browser is not handled yet")
        }
        MediaRequest::Rollback { call } => rollback(call),
    }
}

/// Close every call's media (the account is being replaced).
pub fn close_all() {
    let all: Vec<Rc<CallMedia>> = CALLS.with(|c| c.borrow_mut().drain().map(|(_, m)| m).collect());
    for m in all {
        m.close();
    }
}

fn close(call: CallId) {
    let media = CALLS.with(|c| c.borrow_mut().remove(&call));
    if let Some(m) = media {
        tracing::debug!("{call}: media closed");
        m.close();
    }
}

fn get(call: CallId) -> Option<Rc<CallMedia>> {
    CALLS.with(|c| c.borrow().get(&call).cloned())
}

struct CallMedia {
    call: CallId,
    pc: RtcPeerConnection,
    audio: HtmlAudioElement,
    mic: RefCell<Option<MediaStream>>,
    /// Shared with the ICE state handler: nothing is reported after close.
    closed: Rc<Cell<bool>>,
    /// Longest wait for ICE candidates (ms), from the configuration.
    gather_timeout_ms: u32,
    _on_track: Closure<dyn FnMut(RtcTrackEvent)>,
    _on_ice_state: Closure<dyn FnMut(Event)>,
}

impl CallMedia {
    fn new(call: CallId, report: Report) -> Result<CallMedia, String> {
        let config = CONFIG.with(|c| c.borrow().clone());
        let pc = RtcPeerConnection::new_with_configuration(&rtc_configuration(&config)).map_err(
            |e| {
                if config.ice_servers.is_empty() {
                    format!("the browser cannot make calls (WebRTC): {}", js_text(&e))
                } else {
                    format!(
                        "the browser refused the ICE servers of the settings: {}",
                        js_text(&e)
                    )
                }
            },
        )?;
        let audio = make_audio_element(call)?;

        let player = audio.clone();
        let on_track = Closure::<dyn FnMut(RtcTrackEvent)>::new(move |ev: RtcTrackEvent| {
            let stream = match ev.streams().get(0).dyn_into::<MediaStream>() {
                Ok(s) => s,
                Err(_) => match MediaStream::new() {
                    Ok(s) => {
                        s.add_track(&ev.track());
                        s
                    }
                    Err(_) => return,
                },
            };
            tracing::debug!("remote audio track");
            player.set_src_object(Some(&stream));
            if let Ok(p) = player.play() {
                spawn_local(async move {
                    if let Err(e) = JsFuture::from(p).await {
                        tracing::warn!("remote audio did not start: {}", js_text(&e));
                    }
                });
            }
        });
        pc.set_ontrack(Some(on_track.as_ref().unchecked_ref()));

        let watched = pc.clone();
        let closed = Rc::new(Cell::new(false));
        let gone = closed.clone();
        // one report per failure: armed again once ICE is working again
        // (after an ICE restart)
        let reported = Cell::new(false);
        let on_ice_state = Closure::<dyn FnMut(Event)>::new(move |_ev: Event| {
            let state = watched.ice_connection_state();
            tracing::debug!("{call}: ICE connection state {state:?}");
            if gone.get() {
                return;
            }
            match state {
                RtcIceConnectionState::Failed if !reported.replace(true) => {
                    tracing::warn!("{call}: the audio connection (ICE) failed");
                    report(Input::IceFailed { call });
                }
                RtcIceConnectionState::Checking
                | RtcIceConnectionState::Connected
                | RtcIceConnectionState::Completed => reported.set(false),
                _ => {}
            }
        });
        pc.set_oniceconnectionstatechange(Some(on_ice_state.as_ref().unchecked_ref()));

        Ok(CallMedia {
            call,
            pc,
            audio,
            mic: RefCell::new(None),
            closed,
            gather_timeout_ms: config.gather_timeout_ms,
            _on_track: on_track,
            _on_ice_state: on_ice_state,
        })
    }

    fn close(&self) {
        if self.closed.replace(true) {
            return;
        }
        self.pc.set_ontrack(None);
        self.pc.set_oniceconnectionstatechange(None);
        self.pc.close();
        if let Some(mic) = self.mic.borrow_mut().take() {
            stop_tracks(&mic);
        }
        self.audio.set_src_object(None);
        self.audio.remove();
    }
}

fn make_audio_element(call: CallId) -> Result<HtmlAudioElement, String> {
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    let audio: HtmlAudioElement = document
        .create_element("audio")
        .map_err(|e| js_text(&e))?
        .dyn_into()
        .map_err(|_| "not an audio element".to_string())?;
    audio.set_autoplay(true);
    audio.set_id(&format!("remote-audio-{}", call.0));
    let _ = audio.set_attribute("playsinline", "");
    if let Some(body) = document.body() {
        let _ = body.append_child(&audio);
    }
    Ok(audio)
}

/// Offer (`remote_offer` None) or answer a call: microphone, peer
/// connection, local description, ICE; then report the SDP.
fn start(call: CallId, remote_offer: Option<String>, report: Report) {
    close(call); // a repeated request starts over
    let media = match CallMedia::new(call, report.clone()) {
        Ok(m) => Rc::new(m),
        Err(reason) => {
            report(Input::MediaFailed { call, reason });
            return;
        }
    };
    CALLS.with(|c| c.borrow_mut().insert(call, media.clone()));
    spawn_local(async move {
        let result = negotiate(&media, remote_offer).await;
        if media.closed.get() {
            return; // the call ended meanwhile: nobody waits for this
        }
        match result {
            Ok(sdp) => {
                tracing::debug!("{}: local SDP ready", media.call);
                report(Input::LocalSdp { call, sdp });
            }
            Err(reason) => {
                tracing::warn!("{}: media failed: {reason}", media.call);
                report(Input::MediaFailed { call, reason });
            }
        }
    });
}

async fn negotiate(media: &CallMedia, remote_offer: Option<String>) -> Result<String, String> {
    let mic = microphone().await?;
    if media.closed.get() {
        stop_tracks(&mic);
        return Err("closed".into());
    }
    *media.mic.borrow_mut() = Some(mic.clone());
    let pc = &media.pc;

    if let Some(offer) = &remote_offer {
        let desc = RtcSessionDescriptionInit::new(RtcSdpType::Offer);
        desc.set_sdp(offer);
        JsFuture::from(pc.set_remote_description(&desc))
            .await
            .map_err(|e| sdp_refused("the caller's audio offer", &e))?;
    }
    for track in mic.get_tracks().iter() {
        if let Ok(track) = track.dyn_into::<MediaStreamTrack>() {
            pc.add_track_0(&track, &mic);
        }
    }
    let (promise, kind) = if remote_offer.is_some() {
        (pc.create_answer(), RtcSdpType::Answer)
    } else {
        (pc.create_offer(), RtcSdpType::Offer)
    };
    set_local(media, promise, kind).await
}

/// The created offer or answer as local description, then the ICE
/// candidates; gives the SDP to send.
async fn set_local(
    media: &CallMedia,
    created: js_sys::Promise,
    kind: RtcSdpType,
) -> Result<String, String> {
    let pc = &media.pc;
    let local = JsFuture::from(created)
        .await
        .map_err(|e| format!("could not prepare the audio: {}", js_text(&e)))?;
    let sdp = js_sys::Reflect::get(&local, &JsValue::from_str("sdp"))
        .ok()
        .and_then(|v| v.as_string())
        .ok_or("could not prepare the audio: the browser gave no SDP")?;
    let desc = RtcSessionDescriptionInit::new(kind);
    desc.set_sdp(&sdp);
    JsFuture::from(pc.set_local_description(&desc))
        .await
        .map_err(|e| format!("could not prepare the audio: {}", js_text(&e)))?;

    wait_for_ice(media).await;
    pc.local_description()
        .map(|d| d.sdp())
        .ok_or_else(|| "could not prepare the audio: no local description".to_string())
}

/// A new offer (`remote_offer` None, with an ICE restart if asked) or an
/// answer to a new remote offer, on the call's existing peer connection;
/// reports the SDP.
fn renegotiate(call: CallId, remote_offer: Option<String>, ice_restart: bool, report: Report) {
    let Some(media) = get(call) else {
        report(Input::MediaFailed {
            call,
            reason: "the audio for this call is gone".into(),
        });
        return;
    };
    spawn_local(async move {
        let result = match &remote_offer {
            Some(offer) => reanswer(&media, offer).await,
            None => reoffer(&media, ice_restart).await,
        };
        if media.closed.get() {
            return;
        }
        match result {
            Ok(sdp) => {
                tracing::debug!("{call}: new local SDP ready");
                report(Input::LocalSdp { call, sdp });
            }
            Err(reason) => {
                tracing::warn!("{call}: renegotiation failed: {reason}");
                report(Input::MediaFailed { call, reason });
            }
        }
    });
}

async fn reoffer(media: &CallMedia, ice_restart: bool) -> Result<String, String> {
    let options = RtcOfferOptions::new();
    if ice_restart {
        options.set_ice_restart(true);
    }
    tracing::debug!("{}: new offer (ICE restart: {ice_restart})", media.call);
    let created = media.pc.create_offer_with_rtc_offer_options(&options);
    set_local(media, created, RtcSdpType::Offer).await
}

async fn reanswer(media: &CallMedia, offer: &str) -> Result<String, String> {
    let desc = RtcSessionDescriptionInit::new(RtcSdpType::Offer);
    desc.set_sdp(offer);
    JsFuture::from(media.pc.set_remote_description(&desc))
        .await
        .map_err(|e| sdp_refused("the other phone's new audio offer", &e))?;
    let created = media.pc.create_answer();
    set_local(media, created, RtcSdpType::Answer).await
}

/// Back to the last agreed session after a refused re-offer. Errors are
/// only logged: the call goes on with what it had.
fn rollback(call: CallId) {
    let Some(media) = get(call) else {
        tracing::debug!("{call}: rollback: no media");
        return;
    };
    if media.pc.signaling_state() != RtcSignalingState::HaveLocalOffer {
        tracing::debug!(
            "{call}: rollback: nothing to roll back ({:?})",
            media.pc.signaling_state()
        );
        return;
    }
    spawn_local(async move {
        let desc = RtcSessionDescriptionInit::new(RtcSdpType::Rollback);
        match JsFuture::from(media.pc.set_local_description(&desc)).await {
            Ok(_) => tracing::debug!("{call}: rolled back to the last agreed session"),
            Err(e) => tracing::warn!("{call}: rollback failed: {}", js_text(&e)),
        }
    });
}

/// `RTCConfiguration` with the configured ICE servers.
fn rtc_configuration(config: &MediaConfig) -> RtcConfiguration {
    let rtc = RtcConfiguration::new();
    let servers = js_sys::Array::new();
    for s in &config.ice_servers {
        let server = RtcIceServer::new();
        server.set_urls(&JsValue::from_str(&s.urls));
        if let Some(u) = &s.username {
            server.set_username(u);
        }
        if let Some(c) = &s.credential {
            server.set_credential(c);
        }
        servers.push(&server);
    }
    rtc.set_ice_servers(&servers);
    rtc
}

/// Wait for ICE candidates, but not forever: done when gathering is
/// complete, or when candidates stopped coming for a moment, or after the
/// configured maximum. "Complete" counts once there is a candidate or
/// gathering was seen running: right after an ICE restart the state may
/// still be the old "complete".
async fn wait_for_ice(media: &CallMedia) {
    let pc = &media.pc;
    let max_wait = f64::from(media.gather_timeout_ms);
    let started = now_ms();
    let mut seen = 0usize;
    let mut last_new = started;
    let mut saw_gathering = false;
    loop {
        if media.closed.get() {
            return;
        }
        let complete = pc.ice_gathering_state() == RtcIceGatheringState::Complete;
        saw_gathering |= !complete;
        let t = now_ms();
        let count = pc
            .local_description()
            .map(|d| d.sdp().matches("a=candidate").count())
            .unwrap_or(0);
        if count != seen {
            seen = count;
            last_new = t;
        }
        if complete && (seen > 0 || saw_gathering) {
            return;
        }
        if seen > 0 && t - last_new >= ICE_QUIET_MS {
            tracing::debug!("ICE: {seen} candidates, no new one for {ICE_QUIET_MS} ms: going on");
            return;
        }
        if t - started >= max_wait {
            tracing::debug!("ICE: gathering took more than {max_wait} ms, going on");
            return;
        }
        TimeoutFuture::new(10).await;
    }
}

fn set_remote_answer(call: CallId, sdp: String, report: Report) {
    let Some(media) = get(call) else {
        report(Input::MediaFailed {
            call,
            reason: "the audio for this call is gone".into(),
        });
        return;
    };
    spawn_local(async move {
        let desc = RtcSessionDescriptionInit::new(RtcSdpType::Answer);
        desc.set_sdp(&sdp);
        let result = JsFuture::from(media.pc.set_remote_description(&desc)).await;
        if let Err(e) = result {
            if !media.closed.get() {
                report(Input::MediaFailed {
                    call,
                    reason: sdp_refused("the other phone's audio answer", &e),
                });
            }
        }
    });
}

/// `getUserMedia({audio: true})`, with the reasons for failure in words.
async fn microphone() -> Result<MediaStream, String> {
    let window = web_sys::window().ok_or("no window")?;
    let navigator = window.navigator();
    let devices = js_sys::Reflect::get(&navigator, &JsValue::from_str("mediaDevices"))
        .ok()
        .filter(|d| !d.is_undefined() && !d.is_null())
        .ok_or(
            "the microphone is only available on pages served over https:// or from localhost",
        )?;
    let devices: web_sys::MediaDevices = devices.unchecked_into();
    let constraints = MediaStreamConstraints::new();
    constraints.set_audio(&JsValue::TRUE);
    constraints.set_video(&JsValue::FALSE);
    let promise = devices
        .get_user_media_with_constraints(&constraints)
        .map_err(|e| mic_error(&e))?;
    let stream = JsFuture::from(promise).await.map_err(|e| mic_error(&e))?;
    stream
        .dyn_into::<MediaStream>()
        .map_err(|_| "the microphone gave no audio stream".to_string())
}

fn mic_error(e: &JsValue) -> String {
    let name = e
        .dyn_ref::<DomException>()
        .map(|d| d.name())
        .unwrap_or_default();
    match name.as_str() {
        "NotAllowedError" | "SecurityError" => "Microphone access was denied".into(),
        "NotFoundError" | "OverconstrainedError" => "No microphone was found".into(),
        "NotReadableError" | "AbortError" => {
            "The microphone is in use by another program or cannot be opened".into()
        }
        _ => format!("Cannot open the microphone: {}", js_text(e)),
    }
}

fn stop_tracks(stream: &MediaStream) {
    for track in stream.get_tracks().iter() {
        if let Ok(track) = track.dyn_into::<MediaStreamTrack>() {
            track.stop();
        }
    }
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// A JS error as text: `message` of an Error/DOMException, else its string.
/// A session description from the other side that the browser refused: a
/// fixed sentence for the user (the browser's message quotes the peer's
/// SDP, text the peer controls), the details in the console.
fn sdp_refused(what: &str, e: &JsValue) -> String {
    tracing::warn!("{what} was refused by the browser: {}", js_text(e));
    format!("{what} could not be used (details in the browser console).")
}

pub fn js_text(e: &JsValue) -> String {
    if let Some(d) = e.dyn_ref::<DomException>() {
        return d.message();
    }
    if let Some(err) = e.dyn_ref::<js_sys::Error>() {
        return String::from(err.message());
    }
    e.as_string().unwrap_or_else(|| format!("{e:?}"))
}
