//! WebRTC for calls: one `RTCPeerConnection` per call (with the STUN/TURN
//! servers of [`configure`]; none: the phones reach each other directly),
//! the microphone from `getUserMedia`, and the remote audio played through
//! an `<audio autoplay>` element.
//!
//! Requests come from the core as [`MediaRequest`]s; results go back to it
//! through the `report` callback as [`Input::LocalSdp`] or
//! [`Input::MediaFailed`], and [`Input::IceFailed`] when a call's ICE
//! connection fails. Re-offers (hold: `sendonly`/`inactive`, resume:
//! `sendrecv`), re-answers, early media (`pranswer`) and rollbacks work on
//! the call's existing peer connection; DTMF goes through the audio
//! sender's `RTCDTMFSender`.
//!
//! For the UI: [`set_muted`], [`devices`], [`mic_level`] (with
//! [`start_level_preview`] / [`stop_level_preview`] for the settings form),
//! [`quality`] (MOS from [`crate::app::quality`]), [`conference`] (local mixing
//! with Web Audio), and the tones [`ringtone`], [`ringtone_soft`],
//! [`ringback`] (Web Audio, `audio.rs`).

pub use crate::app::settings::MediaConfig;
use crate::sip::{CallId, Input, MediaRequest};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{
    DomException, Event, HtmlAudioElement, MediaStream, MediaStreamAudioDestinationNode,
    MediaStreamAudioSourceNode, MediaStreamConstraints, MediaStreamTrack, RtcConfiguration,
    RtcIceConnectionState, RtcIceGatheringState, RtcIceServer, RtcIceTransportPolicy,
    RtcOfferOptions, RtcPeerConnection, RtcRtpSender, RtcRtpTransceiver, RtcSdpType,
    RtcSessionDescriptionInit, RtcSignalingState, RtcTrackEvent,
};

// Web Audio: the shared context, tones, level meters (src/web/audio.rs)
#[path = "audio.rs"]
mod audio;

/// ICE gathering: return the SDP when gathering is complete, or once some
/// candidates are there and no new one came for this long (server reflexive
/// and relay candidates need a round trip to a STUN/TURN server), or after
/// [`MediaConfig::gather_timeout_ms`] in any case.
const ICE_QUIET_MS: f64 = 40.0;

/// The same quiet time without STUN or TURN servers: every candidate is then
/// a host candidate, and the browser finds the UDP ones of all interfaces in
/// one go, right after the local description is set. (Chromium's TCP host
/// candidates follow some 100 ms later; waiting for them, or 40 ms of quiet,
/// cost every call that much on each side before its INVITE or 200 went out,
/// see docs/benchmarks.md.)
const HOST_ONLY_QUIET_MS: f64 = 15.0;

/// How long [`wait_for_ice`] waits at most for news of the gathering (a
/// candidate, or the gathering state) before it looks again (ms).
const ICE_POLL_MS: i32 = 5;

/// Where results go (the driver feeds them to the user agent).
pub type Report = Rc<dyn Fn(Input)>;

/// Where a call's camera that could not be opened is told (why, in words).
pub type CameraFailed = Rc<dyn Fn(CallId, String)>;

/// Where a call's screen sharing that stopped by itself is told: the
/// browser's own "stop sharing" (None), or it could not start (why).
pub type ShareStopped = Rc<dyn Fn(CallId, Option<String>)>;

/// An audio device (`enumerateDevices`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Device {
    pub id: String,
    pub label: String,
    pub kind: DeviceKind,
}

/// What a [`Device`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceKind {
    Microphone,
    Speaker,
    Camera,
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

// ---- issue 5: mute, DTMF, devices, level, quality, conference, tones ----

/// Mute or unmute the call's microphone (the track's `enabled`: silence is
/// sent, no re-INVITE). In a conference every member's microphone follows,
/// since the user speaks to all of them. Kept for a microphone that opens
/// later.
pub fn set_muted(call: CallId, muted: bool) {
    let mut calls = CONFERENCE.with(|c| {
        c.borrow()
            .as_ref()
            .filter(|conf| conf.members.iter().any(|m| m.call == call))
            .map(|conf| conf.members.iter().map(|m| m.call).collect::<Vec<_>>())
    });
    let calls = calls.get_or_insert_with(|| vec![call]);
    for &c in calls.iter() {
        match get(c) {
            Some(media) => {
                media.muted.set(muted);
                apply_mic(&media);
                crate::log::debug!("{c}: microphone {}", if muted { "muted" } else { "on" });
            }
            None => crate::log::debug!("{c}: mute: no media"),
        }
    }
}

/// The call's microphone is live unless muted or on hold by us: the held
/// party must not hear us (a `sendonly` hold keeps the RTP flowing).
fn apply_mic(media: &CallMedia) {
    if let Some(mic) = media.mic.borrow().as_ref() {
        set_enabled(mic, !media.muted.get() && !media.held.get());
    }
}

fn set_enabled(stream: &MediaStream, enabled: bool) {
    for track in stream.get_audio_tracks().iter() {
        if let Ok(track) = track.dyn_into::<MediaStreamTrack>() {
            track.set_enabled(enabled);
        }
    }
}

/// The devices (`enumerateDevices`): microphones, speakers and cameras.
/// Until the permission is granted browsers give no labels (and often no
/// ids): those are named "Microphone 1", "Speaker 1", "Camera 1" …
/// Empty when the browser cannot list devices (logged).
pub async fn devices() -> Vec<Device> {
    let Ok(media_devices) = media_devices() else {
        return Vec::new();
    };
    let listed = match media_devices.enumerate_devices() {
        Ok(p) => JsFuture::from(p).await,
        Err(e) => Err(e),
    };
    let list = match listed {
        Ok(l) => l,
        Err(e) => {
            crate::log::warn!("cannot list the audio devices: {}", js_text(&e));
            return Vec::new();
        }
    };
    let mut counts = [0; 3];
    let mut out = Vec::new();
    for info in js_sys::Array::from(&list).iter() {
        let Ok(info) = info.dyn_into::<web_sys::MediaDeviceInfo>() else {
            continue;
        };
        let (kind, i, name) = match info.kind() {
            web_sys::MediaDeviceKind::Audioinput => (DeviceKind::Microphone, 0, "Microphone"),
            web_sys::MediaDeviceKind::Audiooutput => (DeviceKind::Speaker, 1, "Speaker"),
            web_sys::MediaDeviceKind::Videoinput => (DeviceKind::Camera, 2, "Camera"),
            _ => continue,
        };
        counts[i] += 1;
        let label = match info.label().trim() {
            "" => format!("{name} {}", counts[i]),
            l => l.to_string(),
        };
        out.push(Device {
            id: info.device_id(),
            label,
            kind,
        });
    }
    out
}

/// The current microphone level, 0.0 to 1.0 (RMS of the samples; speech is
/// typically 0.02 to 0.3): of the preview stream while
/// [`start_level_preview`] runs, else of the active call's microphone (a
/// call not on hold, the newest first; silence while muted). 0.0 when there
/// is no microphone open.
pub fn mic_level() -> f32 {
    if let Some(level) = PREVIEW.with(|p| p.borrow().as_ref().map(|(_, l)| l.rms())) {
        return level;
    }
    let active = CALLS.with(|c| {
        let calls = c.borrow();
        calls
            .values()
            .filter(|m| !m.closed.get() && m.mic.borrow().is_some())
            .max_by_key(|m| (!m.held.get(), m.call))
            .map(Rc::clone)
    });
    let Some(media) = active else {
        return 0.0;
    };
    let mut level = media.level.borrow_mut();
    if level.is_none() {
        let Some(mic) = media.mic.borrow().clone() else {
            return 0.0;
        };
        match audio::Level::new(&mic) {
            Ok(l) => *level = Some(l),
            Err(e) => {
                crate::log::debug!("{}: no level meter: {e}", media.call);
                return 0.0;
            }
        }
    }
    level.as_ref().map(|l| l.rms()).unwrap_or(0.0)
}

/// Open the microphone (with the configured device and constraints) for
/// the level meter of the settings form, until [`stop_level_preview`].
/// Calling it again while it runs reopens it (the device may have changed).
/// Errors are logged and also returned, in words.
pub async fn start_level_preview() -> Result<(), String> {
    let stream = microphone().await.inspect_err(|e| {
        crate::log::warn!("level meter: {e}");
    })?;
    let level = match audio::Level::new(&stream) {
        Ok(l) => l,
        Err(e) => {
            stop_tracks(&stream);
            crate::log::warn!("level meter: {e}");
            return Err(e);
        }
    };
    let old = PREVIEW.with(|p| p.borrow_mut().replace((stream, level)));
    if let Some((s, _)) = old {
        stop_tracks(&s);
    }
    Ok(())
}

/// Close the preview microphone of [`start_level_preview`] (if open).
pub fn stop_level_preview() {
    let old = PREVIEW.with(|p| p.borrow_mut().take());
    if let Some((s, level)) = old {
        drop(level);
        stop_tracks(&s);
        crate::log::debug!("level meter closed");
    }
}

/// Quality figures for a call from `getStats`, `None` when there are none
/// yet (no inbound audio) or the call is gone. RTT from the far end's
/// report on our stream (`remote-inbound-rtp`), else from the selected ICE
/// candidate pair; jitter of the inbound audio; loss since the previous
/// call of this function for the same call (the whole call the first time).
pub async fn quality(call: CallId) -> Option<Quality> {
    let media = get(call)?;
    let report = match JsFuture::from(media.pc.get_stats()).await {
        Ok(r) => r,
        Err(e) => {
            crate::log::debug!("{call}: no statistics: {}", js_text(&e));
            return None;
        }
    };
    let num = |o: &JsValue, k: &str| {
        js_sys::Reflect::get(o, &JsValue::from_str(k))
            .ok()
            .and_then(|v| v.as_f64())
    };
    let text = |o: &JsValue, k: &str| {
        js_sys::Reflect::get(o, &JsValue::from_str(k))
            .ok()
            .and_then(|v| v.as_string())
    };
    let is_audio = |o: &JsValue| {
        text(o, "kind")
            .or_else(|| text(o, "mediaType"))
            .is_none_or(|k| k == "audio")
    };
    let mut rtt_remote: Option<f64> = None;
    let mut rtt_pair: Option<f64> = None;
    let mut inbound: Option<(f64, f64, f64)> = None; // jitter, lost, received
    let entries = match js_sys::try_iter(&report) {
        Ok(Some(it)) => it,
        _ => return None,
    };
    for entry in entries.flatten() {
        let stat = js_sys::Reflect::get(&entry, &JsValue::from_f64(1.0)).unwrap_or_default();
        match text(&stat, "type").as_deref() {
            Some("remote-inbound-rtp") if is_audio(&stat) => {
                if let Some(r) = num(&stat, "roundTripTime") {
                    rtt_remote = Some(r * 1000.0);
                }
            }
            Some("candidate-pair") => {
                let nominated = js_sys::Reflect::get(&stat, &JsValue::from_str("nominated"))
                    .ok()
                    .and_then(|v| v.as_bool())
                    .unwrap_or(false);
                if nominated && text(&stat, "state").as_deref() == Some("succeeded") {
                    if let Some(r) = num(&stat, "currentRoundTripTime") {
                        rtt_pair = Some(r * 1000.0);
                    }
                }
            }
            Some("inbound-rtp") if is_audio(&stat) => {
                let (j, l, r) = inbound.unwrap_or((0.0, 0.0, 0.0));
                inbound = Some((
                    j.max(num(&stat, "jitter").unwrap_or(0.0) * 1000.0),
                    l + num(&stat, "packetsLost").unwrap_or(0.0),
                    r + num(&stat, "packetsReceived").unwrap_or(0.0),
                ));
            }
            _ => {}
        }
    }
    let (jitter_ms, lost, received) = inbound?;
    let loss_pct = crate::app::quality::loss_pct(media.prev_loss.get(), lost, received);
    media.prev_loss.set(Some((lost, received)));
    let rtt_ms = rtt_remote.or(rtt_pair).unwrap_or(0.0);
    Some(Quality {
        rtt_ms,
        jitter_ms,
        loss_pct,
        mos: crate::app::quality::mos(rtt_ms, jitter_ms, loss_pct),
    })
}

/// Mix the given calls locally, so that every party hears the others:
/// each call's outgoing audio becomes our microphone plus the other calls'
/// remote audio (Web Audio, `replaceTrack`); we hear everyone through the
/// calls' own audio elements. An empty slice (or a single call) ends the
/// conference: the plain microphone tracks go back. Calls without audio yet
/// are left out (logged). A call that closes leaves the conference.
pub fn conference(calls: &[CallId]) -> Result<(), String> {
    let old = CONFERENCE.with(|c| c.borrow_mut().take());
    drop(old); // restores the microphones (Drop)
    let members: Vec<Rc<CallMedia>> = calls
        .iter()
        .filter_map(|&c| match get(c) {
            Some(m) if m.mic.borrow().is_some() && m.sender.borrow().is_some() => Some(m),
            _ => {
                crate::log::warn!("{c}: no audio to join the conference with");
                None
            }
        })
        .collect();
    if members.len() < 2 {
        if calls.is_empty() {
            return Ok(());
        }
        crate::log::info!("conference: fewer than two calls with audio: nothing mixed");
        return Err("fewer than two calls have audio".into());
    }
    match Conference::new(&members) {
        Ok(conf) => {
            crate::log::info!("conference of {:?}", calls);
            CONFERENCE.with(|c| *c.borrow_mut() = Some(conf));
            Ok(())
        }
        Err(e) => {
            crate::log::warn!("the conference could not be set up: {e}");
            Err(e)
        }
    }
}

/// The call's incoming audio as a stream of the audio receivers' tracks.
/// (Not the stream of the `track` event: the browser takes the track out
/// of it while the call is held, and a held line is resumed just as the
/// conference starts.)
fn remote_audio(pc: &RtcPeerConnection) -> Option<MediaStream> {
    let stream = MediaStream::new().ok()?;
    let mut found = false;
    for r in pc.get_receivers().iter() {
        let Ok(r) = r.dyn_into::<web_sys::RtcRtpReceiver>() else {
            continue;
        };
        let track = r.track();
        if track.kind() == "audio" {
            stream.add_track(&track);
            found = true;
        }
    }
    found.then_some(stream)
}

/// One member of a local conference.
struct Member {
    call: CallId,
    sender: RtcRtpSender,
    /// The plain microphone track, given back at the end.
    mic_track: Option<MediaStreamTrack>,
    mic_source: MediaStreamAudioSourceNode,
    remote_source: Option<MediaStreamAudioSourceNode>,
    mix: MediaStreamAudioDestinationNode,
}

struct Conference {
    members: Vec<Member>,
    /// The mix runs on the shared audio context.
    _hold: audio::Hold,
}

impl Conference {
    fn new(calls: &[Rc<CallMedia>]) -> Result<Conference, String> {
        let ctx = audio::context().ok_or("no Web Audio in this browser")?;
        let err = |e: JsValue| js_text(&e);
        let mut members = Vec::new();
        for m in calls {
            let mic = m.mic.borrow().clone().ok_or("no microphone")?;
            let sender = m.sender.borrow().clone().ok_or("no audio sender")?;
            let remote_source = match remote_audio(&m.pc) {
                Some(r) => Some(ctx.create_media_stream_source(&r).map_err(err)?),
                None => {
                    crate::log::warn!("{}: no remote audio yet for the others", m.call);
                    None
                }
            };
            let mic_track = mic
                .get_audio_tracks()
                .get(0)
                .dyn_into::<MediaStreamTrack>()
                .ok();
            members.push(Member {
                call: m.call,
                sender,
                mic_track,
                mic_source: ctx.create_media_stream_source(&mic).map_err(err)?,
                remote_source,
                mix: ctx.create_media_stream_destination().map_err(err)?,
            });
        }
        let conf = Conference {
            members,
            _hold: audio::Hold::new(),
        };
        // from here on Drop undoes what was done
        for (i, m) in conf.members.iter().enumerate() {
            m.mic_source.connect_with_audio_node(&m.mix).map_err(err)?;
            for (j, other) in conf.members.iter().enumerate() {
                if let (true, Some(src)) = (i != j, &other.remote_source) {
                    src.connect_with_audio_node(&m.mix).map_err(err)?;
                }
            }
            let track = m
                .mix
                .stream()
                .get_audio_tracks()
                .get(0)
                .dyn_into::<MediaStreamTrack>()
                .map_err(|_| "the mix has no audio track".to_string())?;
            replace_track(m.call, &m.sender, Some(&track));
        }
        Ok(conf)
    }
}

impl Drop for Conference {
    fn drop(&mut self) {
        for m in &self.members {
            let _ = m.mic_source.disconnect();
            if let Some(r) = &m.remote_source {
                let _ = r.disconnect();
            }
            let _ = m.mix.disconnect();
            for t in m.mix.stream().get_tracks().iter() {
                if let Ok(t) = t.dyn_into::<MediaStreamTrack>() {
                    t.stop();
                }
            }
            let open = get(m.call).is_some_and(|c| !c.closed.get());
            if open {
                replace_track(m.call, &m.sender, m.mic_track.as_ref());
            }
        }
        crate::log::debug!("conference ended");
    }
}

fn replace_track(call: CallId, sender: &RtcRtpSender, track: Option<&MediaStreamTrack>) {
    let p = sender.replace_track(track);
    spawn_local(async move {
        if let Err(e) = JsFuture::from(p).await {
            crate::log::warn!(
                "{call}: the outgoing audio could not be switched: {}",
                js_text(&e)
            );
        }
    });
}

/// A call leaves the conference it is in (it is closing): the others go on
/// together if at least two remain.
fn leave_conference(call: CallId) {
    let rest = CONFERENCE.with(|c| {
        let c = c.borrow();
        let conf = c.as_ref()?;
        conf.members.iter().any(|m| m.call == call).then(|| {
            conf.members
                .iter()
                .map(|m| m.call)
                .filter(|&m| m != call)
                .collect::<Vec<_>>()
        })
    });
    if let Some(rest) = rest {
        crate::log::debug!("{call} leaves the conference");
        let _ = conference(if rest.len() >= 2 { &rest } else { &[] }); // failures are logged
    }
}

/// The ringtone for an incoming call (Web Audio: 440 + 480 Hz, 2 s on, 4 s
/// off), at the configured ring volume. Silent (logged) until the page had
/// a user gesture if the browser's autoplay policy requires one.
pub fn ringtone(on: bool) {
    audio::tone(audio::ToneKind::Ring, on, ring_volume());
}

/// The soft ringtone for a second incoming call while in a call (two short
/// quiet beeps every 4 s).
pub fn ringtone_soft(on: bool) {
    audio::tone(audio::ToneKind::RingSoft, on, ring_volume());
}

/// The local ringback tone while the far end rings without early media
/// (425 Hz, 1 s on, 4 s off).
pub fn ringback(on: bool) {
    audio::tone(audio::ToneKind::Ringback, on, ring_volume());
}

fn ring_volume() -> f32 {
    CONFIG.with(|c| c.borrow().ring_volume)
}

/// Play DTMF digits into the call's audio (`RTCDTMFSender.insertDTMF`,
/// 100 ms tones, 70 ms gaps), after any still waiting. A browser or call
/// that cannot is logged as a warning; the call goes on.
fn send_dtmf(call: CallId, digits: &str) {
    let Some(media) = get(call) else {
        crate::log::warn!("{call}: DTMF not sent: the call has no audio");
        return;
    };
    let sender = media.sender.borrow().clone();
    let Some(dtmf) = sender.and_then(|s| s.dtmf()) else {
        crate::log::warn!(
            "{call}: DTMF not sent: this browser has no DTMF sender for the call (choose SIP INFO for DTMF in the settings)"
        );
        return;
    };
    let can = js_sys::Reflect::get(&dtmf, &JsValue::from_str("canInsertDTMF"))
        .ok()
        .and_then(|v| v.as_bool());
    if can == Some(false) {
        crate::log::warn!(
            "{call}: DTMF not sent: the call's audio cannot carry DTMF now (on hold, or the other phone did not offer telephone-event)"
        );
        return;
    }
    // insertDTMF replaces the tones still waiting: keys pressed faster
    // than the tones play are appended to them, so that every one is sent,
    // in order (the tone playing has already left the buffer)
    let waiting = js_sys::Reflect::get(&dtmf, &JsValue::from_str("toneBuffer"))
        .ok()
        .and_then(|b| b.as_string())
        .unwrap_or_default();
    let tones = format!("{waiting}{digits}");
    // through Reflect: insertDTMF throws on bad input, and web-sys's
    // binding would not catch that
    let result = js_sys::Reflect::get(&dtmf, &JsValue::from_str("insertDTMF"))
        .and_then(|f| f.dyn_into::<js_sys::Function>())
        .and_then(|f| {
            f.call3(
                &dtmf,
                &JsValue::from_str(&tones),
                &JsValue::from_f64(100.0),
                &JsValue::from_f64(70.0),
            )
        });
    match result {
        Ok(_) => crate::log::debug!("{call}: DTMF {digits} queued (tones waiting: {tones})"),
        Err(e) => crate::log::warn!("{call}: DTMF not sent: {}", js_text(&e)),
    }
}

thread_local! {
    static CALLS: RefCell<HashMap<CallId, Rc<CallMedia>>> = RefCell::new(HashMap::new());
    static CONFIG: RefCell<MediaConfig> = RefCell::new(MediaConfig::default());
    static CONFERENCE: RefCell<Option<Conference>> = const { RefCell::new(None) };
    /// The settings form's microphone preview for the level meter.
    static PREVIEW: RefCell<Option<(MediaStream, audio::Level)>> = const { RefCell::new(None) };
    /// The microphone has opened in this page: no permission prompt waits
    /// for the user, so answering need not wait for it ([`answer_first`]).
    static MIC_OPENED: Cell<bool> = const { Cell::new(false) };
}

/// Use this configuration for every peer connection and microphone opened
/// from now on (calls already running keep their ICE servers and
/// microphone); the speaker and the ring volume change at once, for the
/// running calls and tones too.
pub fn configure(c: MediaConfig) {
    crate::log::debug!(
        "media configuration: {} ICE server(s), relay only {}, gathering up to {} ms, microphone {}, speaker {}",
        c.ice_servers.len(),
        c.relay_only,
        c.gather_timeout_ms,
        c.mic_device.as_deref().unwrap_or("default"),
        c.speaker_device.as_deref().unwrap_or("default")
    );
    audio::install_unlock();
    let old = CONFIG.with(|cfg| std::mem::replace(&mut *cfg.borrow_mut(), c.clone()));
    if old.ring_volume != c.ring_volume {
        audio::set_volume(c.ring_volume);
    }
    if old.speaker_device != c.speaker_device {
        let id = c.speaker_device.clone().unwrap_or_default();
        let players: Vec<HtmlAudioElement> =
            CALLS.with(|calls| calls.borrow().values().map(|m| m.audio.clone()).collect());
        for p in players {
            audio::set_sink_on(p.as_ref(), &id, "call audio");
        }
        audio::set_tone_sink(c.speaker_device);
    }
}

mod codecs;
mod prepare;
mod record;
mod video;

pub use prepare::{prepare, release as release_prepared};
pub use record::Done as RecordDone;

/// Carry out one request from the core; `camera`: a new call's offer or
/// answer sends the camera too (a video call), and when it cannot be
/// opened that is told there (the call goes on without it).
pub fn handle(request: MediaRequest, report: Report, camera: Option<CameraFailed>) {
    match request {
        MediaRequest::CreateOffer { call } => start(call, None, report, camera),
        MediaRequest::CreateAnswer { call, remote_sdp } => {
            start(call, Some(remote_sdp), report, camera)
        }
        MediaRequest::SetRemoteAnswer {
            call,
            sdp,
            provisional,
        } => set_remote_answer(call, sdp, provisional, report),
        MediaRequest::Close { call } => close(call),
        MediaRequest::Reoffer {
            call,
            ice_restart,
            hold,
        } => renegotiate(call, None, ice_restart, Some(hold), report),
        MediaRequest::Reanswer { call, remote_sdp } => {
            renegotiate(call, Some(remote_sdp), false, None, report)
        }
        MediaRequest::SendDtmf { call, digits } => send_dtmf(call, &digits),
        MediaRequest::Rollback { call } => rollback(call),
    }
}

/// Start recording `call` as recording `id`, or stop recording it
/// (`None`); the outcome goes to `done` ([`crate::app::phone::AppInput`]).
pub fn set_recording(call: CallId, id: Option<String>, done: RecordDone) {
    let media = get(call);
    let old = media.as_ref().and_then(|m| m.recorder.borrow_mut().take());
    if let Some(r) = old {
        r.stop();
    }
    let Some(id) = id else {
        return;
    };
    let started = match &media {
        Some(m) => record::Recorder::start(m, id.clone(), done.clone()).map(|r| {
            *m.recorder.borrow_mut() = Some(r);
        }),
        None => Err("the call has no media".into()),
    };
    if let Err(why) = started {
        crate::log::warn!("{call}: no recording: {why}");
        done(crate::app::phone::AppInput::RecordingFailed {
            id,
            error: crate::app::view::RecordError::Recorder(why),
        });
    }
}

/// Close every call's media (the account is being replaced).
pub fn close_all() {
    prepare::release();
    let _ = conference(&[]); // ending one cannot fail
    let all: Vec<Rc<CallMedia>> = CALLS.with(|c| c.borrow_mut().drain().map(|(_, m)| m).collect());
    for m in all {
        m.close();
    }
}

/// Close everything media: calls, the conference, the level meter, the
/// tones and the audio context (the embedded phone is unmounted).
pub fn shutdown() {
    close_all();
    stop_level_preview();
    audio::shutdown();
}

fn close(call: CallId) {
    leave_conference(call);
    let media = CALLS.with(|c| c.borrow_mut().remove(&call));
    if let Some(m) = media {
        crate::log::debug!("{call}: media closed");
        m.close();
    }
}

fn get(call: CallId) -> Option<Rc<CallMedia>> {
    CALLS.with(|c| c.borrow().get(&call).cloned())
}

/// Turn the camera of `call` on or off, then ask the core for a new offer
/// through `report` (`Command::Renegotiate`): the other side's picture
/// follows. Without a camera nothing changes (said in the log).
pub fn set_camera(call: CallId, on: bool, report: Report, failed: CameraFailed) {
    let Some(media) = get(call) else {
        return;
    };
    spawn_local(async move {
        // while the screen is shared the camera only waits (or stops) for
        // the end of the sharing: nothing sent changes
        let sharing = media.video.is_sharing();
        let changed = match (on, sharing) {
            (true, false) => camera_on(&media).await,
            (true, true) => video::camera().await.map(|cam| {
                media.video.set_camera(cam);
            }),
            (false, false) => {
                camera_off(&media).await;
                Ok(())
            }
            (false, true) => {
                media.video.stop_camera();
                Ok(())
            }
        };
        match changed {
            Ok(()) if sharing => crate::log::info!(
                "{call}: camera {} (behind the screen)",
                if on { "on" } else { "off" }
            ),
            Ok(()) if !media.closed.get() => {
                crate::log::info!("{call}: camera {}", if on { "on" } else { "off" });
                report(Input::Command(crate::sip::Command::Renegotiate { call }));
            }
            Ok(()) => {}
            Err(e) => {
                crate::log::warn!("{call}: the camera stays off: {e}");
                failed(call, e);
            }
        }
    });
}

/// Share the screen in `call` in place of the camera, or stop (the camera
/// comes back if it was on); asks the core for a new offer through `report`
/// when the video stream must change (no video sent before or after).
pub fn set_sharing(call: CallId, on: bool, report: Report, stopped: ShareStopped) {
    let Some(media) = get(call) else {
        return;
    };
    spawn_local(async move {
        let renegotiate = if on {
            match share_on(&media, report.clone(), stopped.clone()).await {
                Ok(r) => r,
                Err(e) => {
                    crate::log::warn!("{call}: the screen is not shared: {e}");
                    stopped(call, Some(e));
                    return;
                }
            }
        } else {
            share_off(&media).await
        };
        crate::log::info!("{call}: screen sharing {}", if on { "on" } else { "off" });
        if renegotiate && !media.closed.get() {
            report(Input::Command(crate::sip::Command::Renegotiate { call }));
        }
    });
}

/// The screen on the video sender (the camera's, or a new one); whether a
/// new offer is needed.
async fn share_on(
    media: &CallMedia,
    report: Report,
    stopped: ShareStopped,
) -> Result<bool, String> {
    let screen = video::screen().await?;
    let call = media.call;
    let track = video_track_of(media, &screen, "screen")?;
    // the browser's own "stop sharing": back to the camera, and say so
    let ended = Closure::<dyn FnMut(Event)>::new(move |_: Event| {
        let (report, stopped) = (report.clone(), stopped.clone());
        spawn_local(async move {
            let Some(media) = get(call) else {
                return;
            };
            crate::log::info!("{call}: the browser stopped the screen sharing");
            let renegotiate = share_off(&media).await;
            stopped(call, None);
            if renegotiate && !media.closed.get() {
                report(Input::Command(crate::sip::Command::Renegotiate { call }));
            }
        });
    });
    let _ = track.add_event_listener_with_callback("ended", ended.as_ref().unchecked_ref());
    // in place of the camera (nothing to renegotiate), else on a video
    // transceiver that sends nothing, else on a new one
    let videos = video_transceivers(media);
    let sending = videos.iter().find(|t| t.sender().track().is_some());
    let idle = || {
        videos
            .iter()
            .find(|t| t.sender().track().is_none() && !t.stopped())
    };
    send_video(media, sending.or_else(idle), &track, &screen).await?;
    let renegotiate = sending.is_none();
    media.video.set_screen(screen, ended);
    Ok(renegotiate)
}

/// The camera (if on) back on the video sender in place of the screen,
/// else nothing sent; whether a new offer is needed.
async fn share_off(media: &CallMedia) -> bool {
    let camera = media.video.camera_track();
    if !media.video.stop_screen() {
        return false;
    }
    for t in video_transceivers(media) {
        if t.sender().track().is_some() {
            if let Err(e) = JsFuture::from(t.sender().replace_track(camera.as_ref())).await {
                crate::log::warn!(
                    "{}: the screen could not be taken off: {}",
                    media.call,
                    js_text(&e)
                );
            }
        }
    }
    camera.is_none()
}

/// The video track of a new `stream` (of the `what`) while the call goes
/// on; else the stream is stopped, and why.
fn video_track_of(
    media: &CallMedia,
    stream: &MediaStream,
    what: &str,
) -> Result<MediaStreamTrack, String> {
    let track = stream
        .get_video_tracks()
        .iter()
        .find_map(|t| t.dyn_into::<MediaStreamTrack>().ok());
    match track {
        Some(t) if !media.closed.get() => Ok(t),
        found => {
            stop_tracks(stream);
            Err(match found {
                Some(_) => "the call ended".into(),
                None => format!("the {what} gave no video"),
            })
        }
    }
}

/// Send `track` (of `stream`) on the video transceiver `on`, else on a
/// new one.
async fn send_video(
    media: &CallMedia,
    on: Option<&RtcRtpTransceiver>,
    track: &MediaStreamTrack,
    stream: &MediaStream,
) -> Result<(), String> {
    match on {
        Some(t) => JsFuture::from(t.sender().replace_track(Some(track)))
            .await
            .map(|_| ())
            .map_err(|e| js_text(&e)),
        None => {
            media.pc.add_track_0(track, stream);
            Ok(())
        }
    }
}

/// The call's video transceivers (sending or not).
fn video_transceivers(media: &CallMedia) -> Vec<RtcRtpTransceiver> {
    media
        .pc
        .get_transceivers()
        .iter()
        .filter_map(|t| t.dyn_into::<RtcRtpTransceiver>().ok())
        .filter(|t| t.receiver().track().kind() == "video")
        .collect()
}

/// The camera on: on a video transceiver that sends nothing, else a new one.
async fn camera_on(media: &CallMedia) -> Result<(), String> {
    let cam = video::camera().await?;
    let track = video_track_of(media, &cam, "camera")?;
    let idle = video_transceivers(media)
        .into_iter()
        .find(|t| t.sender().track().is_none() && !t.stopped());
    send_video(media, idle.as_ref(), &track, &cam).await?;
    media.video.set_camera(cam);
    Ok(())
}

/// The camera off: nothing sent on the video transceivers (once this
/// returns, their senders have no track: the new offer sees that), the
/// camera stopped.
async fn camera_off(media: &CallMedia) {
    for t in video_transceivers(media) {
        if t.sender().track().is_some() {
            if let Err(e) = JsFuture::from(t.sender().replace_track(None)).await {
                crate::log::warn!(
                    "{}: the camera could not be taken off: {}",
                    media.call,
                    js_text(&e)
                );
            }
        }
    }
    media.video.stop_camera();
}

/// The box with `call`'s video (the other side's picture and our camera's
/// preview), for the call panel to show; empty to the eye without video.
pub fn video_box(call: CallId) -> Option<web_sys::HtmlElement> {
    get(call).map(|m| m.video.frame.clone())
}

struct CallMedia {
    call: CallId,
    pc: RtcPeerConnection,
    audio: HtmlAudioElement,
    mic: RefCell<Option<MediaStream>>,
    /// Our audio sender (from `addTrack`): DTMF, conference mixes.
    sender: RefCell<Option<RtcRtpSender>>,
    /// The remote audio stream (for conference mixes).
    remote: Rc<RefCell<Option<MediaStream>>>,
    /// The pictures, when the call has video.
    video: Rc<video::Video>,
    /// The recording in progress.
    recorder: RefCell<Option<record::Recorder>>,
    /// Microphone muted ([`set_muted`]); applies to a microphone opened later.
    muted: Cell<bool>,
    /// On hold by us (the last re-offer was a hold).
    held: Cell<bool>,
    /// Level meter on the microphone, made when first asked for.
    level: RefCell<Option<audio::Level>>,
    /// `packetsLost`, `packetsReceived` at the previous [`quality`].
    prev_loss: Cell<Option<(f64, f64)>>,
    /// Shared with the ICE state handler: nothing is reported after close.
    closed: Rc<Cell<bool>>,
    /// Longest wait for ICE candidates (ms), from the configuration.
    gather_timeout_ms: u32,
    /// Quiet time that ends the wait for ICE candidates (ms): shorter when
    /// no STUN/TURN server is configured.
    ice_quiet_ms: f64,
    /// Only relay candidates (`iceTransportPolicy: "relay"`).
    relay_only: bool,
    /// The audio codecs of the settings, most wanted first (empty: the
    /// browser's).
    audio_codecs: Vec<&'static str>,
    /// The video codecs of the settings, the same way.
    video_codecs: Vec<&'static str>,
    /// The last STUN/TURN error of ICE gathering (`icecandidateerror`):
    /// code and text.
    turn_error: Rc<RefCell<Option<(u16, String)>>>,
    _on_ice_error: Closure<dyn FnMut(Event)>,
    _on_track: Closure<dyn FnMut(RtcTrackEvent)>,
    _on_ice_state: Closure<dyn FnMut(Event)>,
}

/// A peer connection with this configuration.
fn peer_connection(config: &MediaConfig) -> Result<RtcPeerConnection, String> {
    RtcPeerConnection::new_with_configuration(&rtc_configuration(config)).map_err(|e| {
        if config.ice_servers.is_empty() {
            format!("the browser cannot make calls (WebRTC): {}", js_text(&e))
        } else {
            format!(
                "the browser refused the ICE servers of the settings: {}",
                js_text(&e)
            )
        }
    })
}

/// The last STUN/TURN error of a peer connection's ICE gathering.
type TurnError = Rc<RefCell<Option<(u16, String)>>>;

/// Keep the STUN or TURN server errors of `pc`'s gathering (a TURN 401
/// when the credentials are wrong) for the message, and log them; `what`
/// names the connection in the log.
fn watch_ice_errors(
    pc: &RtcPeerConnection,
    what: String,
) -> (TurnError, Closure<dyn FnMut(Event)>) {
    let turn_error: TurnError = Rc::new(RefCell::new(None));
    let turn_store = turn_error.clone();
    let on_ice_error = Closure::<dyn FnMut(Event)>::new(move |ev: Event| {
        let get = |k: &str| js_sys::Reflect::get(&ev, &JsValue::from_str(k)).ok();
        let code = get("errorCode").and_then(|v| v.as_f64()).unwrap_or(0.0) as u16;
        let text = get("errorText")
            .and_then(|v| v.as_string())
            .unwrap_or_default();
        let url = get("url").and_then(|v| v.as_string()).unwrap_or_default();
        crate::log::warn!("{what}: ICE server {url} error {code} {text}");
        if code != 701 {
            // 701: a server could not be reached on one interface
            *turn_store.borrow_mut() = Some((code, text));
        }
    });
    if pc
        .add_event_listener_with_callback(
            "icecandidateerror",
            on_ice_error.as_ref().unchecked_ref(),
        )
        .is_err()
    {
        crate::log::debug!("no icecandidateerror event here");
    }
    (turn_error, on_ice_error)
}

impl CallMedia {
    fn new(call: CallId, report: Report) -> Result<CallMedia, String> {
        let config = CONFIG.with(|c| c.borrow().clone());
        let pc = peer_connection(&config)?;
        let ice_errors = watch_ice_errors(&pc, call.to_string());
        CallMedia::around(call, report, pc, &config, ice_errors)
    }

    /// The media of `call` on the peer connection `pc` (made with
    /// `config`, its ICE errors watched).
    fn around(
        call: CallId,
        report: Report,
        pc: RtcPeerConnection,
        config: &MediaConfig,
        (turn_error, on_ice_error): (TurnError, Closure<dyn FnMut(Event)>),
    ) -> Result<CallMedia, String> {
        let audio = make_audio_element(call)?;

        if let Some(id) = &config.speaker_device {
            audio::set_sink_on(audio.as_ref(), id, "call audio");
        }
        let player = audio.clone();
        let remote = Rc::new(RefCell::new(None));
        let remote_store = remote.clone();
        let video = Rc::new(video::Video::new(call)?);
        let pictures = video.clone();
        let on_track = Closure::<dyn FnMut(RtcTrackEvent)>::new(move |ev: RtcTrackEvent| {
            if ev.track().kind() == "video" {
                pictures.show_remote(&ev.track());
                return;
            }
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
            crate::log::debug!("remote audio track");
            player.set_src_object(Some(&stream));
            // `Clone::clone`: `stream.clone()` would be `MediaStream.clone()`,
            // a new stream with copies of the tracks
            *remote_store.borrow_mut() = Some(Clone::clone(&stream));
            if let Ok(p) = player.play() {
                spawn_local(async move {
                    if let Err(e) = JsFuture::from(p).await {
                        crate::log::warn!("remote audio did not start: {}", js_text(&e));
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
            crate::log::debug!("{call}: ICE connection state {state:?}");
            if gone.get() {
                return;
            }
            match state {
                RtcIceConnectionState::Failed if !reported.replace(true) => {
                    crate::log::warn!("{call}: the audio connection (ICE) failed");
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
            sender: RefCell::new(None),
            remote,
            video,
            recorder: RefCell::new(None),
            muted: Cell::new(false),
            held: Cell::new(false),
            level: RefCell::new(None),
            prev_loss: Cell::new(None),
            closed,
            gather_timeout_ms: config.gather_timeout_ms,
            relay_only: config.relay_only,
            audio_codecs: config.audio_codecs.clone(),
            video_codecs: config.video_codecs.clone(),
            turn_error,
            _on_ice_error: on_ice_error,
            ice_quiet_ms: if config.ice_servers.is_empty() {
                HOST_ONLY_QUIET_MS
            } else {
                ICE_QUIET_MS
            },
            _on_track: on_track,
            _on_ice_state: on_ice_state,
        })
    }

    /// The microphone's audio track, once it is open.
    fn mic_track(&self) -> Option<MediaStreamTrack> {
        let mic = self.mic.borrow();
        let track = mic.as_ref()?.get_audio_tracks().get(0);
        track.dyn_into::<MediaStreamTrack>().ok()
    }

    fn close(&self) {
        if self.closed.replace(true) {
            return;
        }
        // stored before its tracks end
        if let Some(r) = self.recorder.borrow_mut().take() {
            r.stop();
        }
        self.pc.set_ontrack(None);
        self.pc.set_oniceconnectionstatechange(None);
        self.pc.close();
        self.level.borrow_mut().take();
        self.remote.borrow_mut().take();
        if let Some(mic) = self.mic.borrow_mut().take() {
            stop_tracks(&mic);
        }
        self.audio.set_src_object(None);
        self.audio.remove();
        self.video.close();
    }
}

fn make_audio_element(call: CallId) -> Result<HtmlAudioElement, String> {
    let audio: HtmlAudioElement = media_element("audio")?;
    audio.set_id(&format!("remote-audio-{}", call.0));
    if let Some(body) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.body())
    {
        let _ = body.append_child(&audio);
    }
    Ok(audio)
}

/// A new `<tag>` element of the page, as `T`.
fn new_element<T: JsCast>(tag: &str) -> Result<T, String> {
    web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?
        .create_element(tag)
        .map_err(|e| js_text(&e))?
        .dyn_into::<T>()
        .map_err(|_| format!("not a {tag} element"))
}

/// A new `<audio>` or `<video>` that plays by itself, inline.
fn media_element<T: JsCast + AsRef<web_sys::HtmlMediaElement>>(tag: &str) -> Result<T, String> {
    let e: T = new_element(tag)?;
    let m: &web_sys::HtmlMediaElement = e.as_ref();
    m.set_autoplay(true);
    let _ = m.set_attribute("playsinline", "");
    Ok(e)
}

/// Offer (`remote_offer` None) or answer a call: microphone, peer
/// connection, local description, ICE; then report the SDP.
fn start(call: CallId, remote_offer: Option<String>, report: Report, camera: Option<CameraFailed>) {
    // a repeated request starts over
    close(call);
    // what was prepared has no camera: a video call starts afresh
    if remote_offer.is_none() && camera.is_none() && prepare::take(call, &report) {
        return;
    }
    if camera.is_some() {
        prepare::release();
    }
    let media = match CallMedia::new(call, report.clone()) {
        Ok(m) => Rc::new(m),
        Err(reason) => {
            report(Input::MediaFailed { call, reason });
            return;
        }
    };
    CALLS.with(|c| c.borrow_mut().insert(call, media.clone()));
    spawn_local(async move {
        let result = negotiate(&media, remote_offer, camera, &report).await;
        report_sdp(&media, result, &report, "media");
    });
}

/// Tell the phone what a negotiation of `media` came to (`what` names it
/// in the log): its local SDP, or why it failed; nothing when the call
/// ended meanwhile (nobody waits for it then).
fn report_sdp(media: &CallMedia, result: Result<String, String>, report: &Report, what: &str) {
    if media.closed.get() {
        return;
    }
    let call = media.call;
    match result {
        Ok(sdp) => {
            crate::log::debug!("{call}: {what}: local SDP ready");
            report(Input::LocalSdp { call, sdp });
        }
        Err(reason) => {
            crate::log::warn!("{call}: {what} failed: {reason}");
            report(Input::MediaFailed { call, reason });
        }
    }
}

async fn negotiate(
    media: &Rc<CallMedia>,
    remote_offer: Option<String>,
    camera: Option<CameraFailed>,
    report: &Report,
) -> Result<String, String> {
    let pc = &media.pc;
    // the caller's offer is taken in while the microphone opens
    let remote = remote_offer.as_ref().map(|offer| {
        let desc = RtcSessionDescriptionInit::new(RtcSdpType::Offer);
        desc.set_sdp(&codecs::offer_to_answer(
            offer,
            &media.audio_codecs,
            &media.video_codecs,
            media.call,
        ));
        JsFuture::from(pc.set_remote_description(&desc))
    });
    let remote = match remote {
        Some(set) if camera.is_none() && MIC_OPENED.with(Cell::get) => {
            let offer = remote_offer.as_deref().unwrap_or_default();
            return answer_first(media, set, offer, report).await;
        }
        other => other,
    };
    let mic = microphone().await;
    let remote = match remote {
        Some(set) => set
            .await
            .map(|_| ())
            .map_err(|e| sdp_refused("the caller's audio offer", &e)),
        None => Ok(()),
    };
    let mic = mic?;
    if media.closed.get() || remote.is_err() {
        stop_tracks(&mic);
        remote?;
        return Err("closed".into());
    }
    set_enabled(&mic, !media.muted.get());
    // `Clone::clone`, not `mic.clone()`: that is `MediaStream.clone()`, a
    // second stream with copies of the tracks (never sent, never stopped)
    *media.mic.borrow_mut() = Some(Clone::clone(&mic));

    for track in mic.get_tracks().iter() {
        if let Ok(track) = track.dyn_into::<MediaStreamTrack>() {
            let sender = pc.add_track_0(&track, &mic);
            media.sender.borrow_mut().get_or_insert(sender);
        }
    }
    if let Some(failed) = camera {
        // without a camera the call goes on with sound only (and says so)
        match video::camera().await {
            Ok(cam) if !media.closed.get() => {
                for track in cam.get_tracks().iter() {
                    if let Ok(track) = track.dyn_into::<MediaStreamTrack>() {
                        pc.add_track_0(&track, &mic);
                    }
                }
                media.video.set_camera(cam);
            }
            Ok(cam) => stop_tracks(&cam),
            Err(e) => {
                crate::log::warn!("{}: no video: {e}", media.call);
                failed(media.call, e);
                // a video call still shows the other side's picture
                if remote_offer.is_none() {
                    let t = pc.add_transceiver_with_str("video");
                    let _ = set_transceiver_direction(&t, "recvonly");
                }
            }
        }
    }
    codecs::prefer(pc, &media.audio_codecs, &media.video_codecs, media.call);
    let (promise, kind) = if remote_offer.is_some() {
        (pc.create_answer(), RtcSdpType::Answer)
    } else {
        (pc.create_offer(), RtcSdpType::Offer)
    };
    set_local(media, promise, kind, remote_offer.as_deref()).await
}

/// Answer a call without waiting for the microphone (issue 15): it has
/// opened in this page before, so no permission prompt stands in the way,
/// and opening it again takes 20–60 ms that the 200 OK need not wait for.
/// The offer's audio transceiver sends (`sendrecv`) with a stream of its
/// own, so the answer says what it would after `addTrack`; the microphone's
/// track goes on its sender when it is open ([`attach_mic`]), as a rule
/// before ICE and DTLS are through. A microphone that cannot open ends the
/// call with the reason, as it would have failed the answer.
async fn answer_first(
    media: &Rc<CallMedia>,
    remote: JsFuture,
    offer: &str,
    report: &Report,
) -> Result<String, String> {
    // (a promise: the microphone starts opening now, not when awaited)
    let opening = wasm_bindgen_futures::future_to_promise(async {
        let mic = microphone().await.map_err(|e| JsValue::from_str(&e))?;
        Ok(mic.into())
    });
    let remote = remote
        .await
        .map_err(|e| sdp_refused("the caller's audio offer", &e));
    attach_mic(media.clone(), opening, report.clone());
    remote?;
    if media.closed.get() {
        return Err("closed".into());
    }
    let pc = &media.pc;
    let audio = pc.get_transceivers().iter().find_map(|t| {
        let t = t.dyn_into::<RtcRtpTransceiver>().ok()?;
        (t.receiver().track().kind() == "audio" && t.mid().is_some()).then_some(t)
    });
    if let Some(t) = audio {
        let _ = set_transceiver_direction(&t, "sendrecv");
        let sender = t.sender();
        set_streams(&sender, media.call);
        media.sender.borrow_mut().get_or_insert(sender);
        // (a microphone that was quicker than the offer goes on now)
        mic_on_sender(media);
    }
    codecs::prefer(pc, &media.audio_codecs, &media.video_codecs, media.call);
    set_local(media, pc.create_answer(), RtcSdpType::Answer, Some(offer)).await
}

/// `transceiver.direction = direction`, through Reflect: the setter throws
/// on a stopped transceiver.
fn set_transceiver_direction(t: &JsValue, direction: &str) -> Result<bool, JsValue> {
    js_sys::Reflect::set(
        t,
        &JsValue::from_str("direction"),
        &JsValue::from_str(direction),
    )
}

/// `sender.setStreams(new MediaStream())`: the answer names a stream for
/// the audio it will send (`a=msid`), as `addTrack` would. A browser
/// without it answers without one (logged).
fn set_streams(sender: &RtcRtpSender, call: CallId) {
    let set = js_sys::Reflect::get(sender, &JsValue::from_str("setStreams"))
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok());
    let done = match (set, MediaStream::new()) {
        (Some(f), Ok(stream)) => f.call1(sender, &stream).map(|_| ()),
        (None, _) => Err(JsValue::from_str("no setStreams in this browser")),
        (_, Err(e)) => Err(e),
    };
    if let Err(e) = done {
        crate::log::debug!("{call}: the answer names no stream: {}", js_text(&e));
    }
}

/// The microphone `opening` for the call answered first: its track goes on
/// the call's audio sender (and into a recording that started without it);
/// if it cannot open, the call ends with the reason. Closed meanwhile: the
/// microphone is closed again.
fn attach_mic(media: Rc<CallMedia>, opening: js_sys::Promise, report: Report) {
    spawn_local(async move {
        let call = media.call;
        let opened = JsFuture::from(opening).await.map_err(|e| {
            e.as_string()
                .unwrap_or_else(|| "the microphone could not be opened".into())
        });
        let mic = match opened.map(|m| m.dyn_into::<MediaStream>()) {
            Ok(Ok(mic)) => mic,
            Ok(Err(_)) => return,
            Err(reason) => {
                if !media.closed.get() {
                    crate::log::warn!("{call}: answered, but the microphone: {reason}");
                    report(Input::MediaFailed { call, reason });
                }
                return;
            }
        };
        if media.closed.get() {
            stop_tracks(&mic);
            return;
        }
        *media.mic.borrow_mut() = Some(Clone::clone(&mic));
        apply_mic(&media);
        mic_on_sender(&media);
    });
}

/// The call answered without waiting for its microphone has both its
/// microphone and its audio sender, and the sender nothing to send yet:
/// the microphone's track goes on it (and into a recording that started
/// without it). Called by whichever of the two comes last.
fn mic_on_sender(media: &CallMedia) {
    let track = media.mic_track();
    let sender = media.sender.borrow().clone();
    let (Some(track), Some(sender)) = (track, sender) else {
        return;
    };
    if sender.track().is_some() {
        return;
    }
    crate::log::info!(
        "{}: the microphone joins the call answered without waiting for it",
        media.call
    );
    replace_track(media.call, &sender, Some(&track));
    if let Some(r) = media.recorder.borrow_mut().as_mut() {
        r.add_sent(&track);
    }
}

/// The created offer or answer as local description, then the ICE
/// candidates; gives the SDP to send. `first_offer`: the remote offer this
/// is the first answer to (its DTLS role is chosen here).
async fn set_local(
    media: &CallMedia,
    created: js_sys::Promise,
    kind: RtcSdpType,
    first_offer: Option<&str>,
) -> Result<String, String> {
    describe(&media.pc, created, kind, first_offer, media.call).await?;
    gathered_sdp(media).await
}

/// The created offer or answer as `pc`'s local description (ICE gathering
/// starts).
async fn describe(
    pc: &RtcPeerConnection,
    created: js_sys::Promise,
    kind: RtcSdpType,
    first_offer: Option<&str>,
    call: CallId,
) -> Result<(), String> {
    let local = JsFuture::from(created)
        .await
        .map_err(|e| format!("could not prepare the audio: {}", js_text(&e)))?;
    let mut sdp = js_sys::Reflect::get(&local, &JsValue::from_str("sdp"))
        .ok()
        .and_then(|v| v.as_string())
        .ok_or("could not prepare the audio: the browser gave no SDP")?;
    if let Some(server) = first_offer.and_then(|o| crate::sip::sdp::answer_as_dtls_server(o, &sdp))
    {
        crate::log::debug!("{call}: answering as the DTLS server (a=setup:passive)");
        sdp = server;
    }
    let desc = RtcSessionDescriptionInit::new(kind);
    desc.set_sdp(&sdp);
    JsFuture::from(pc.set_local_description(&desc))
        .await
        .map_err(|e| format!("could not prepare the audio: {}", js_text(&e)))?;
    Ok(())
}

/// The local description once the ICE candidates are in (see
/// [`wait_for_ice`]): the SDP to send.
async fn gathered_sdp(media: &CallMedia) -> Result<String, String> {
    let pc = &media.pc;
    wait_for_ice(media).await;
    let sdp = pc
        .local_description()
        .map(|d| d.sdp())
        .ok_or_else(|| "could not prepare the audio: no local description".to_string())?;
    if media.relay_only && !sdp.contains("a=candidate:") {
        // without a relay candidate the call could never carry audio:
        // say why instead of ringing a silent call
        let why = no_relay_text(media.turn_error.borrow().clone());
        crate::log::warn!("{}: no relay candidate: {why}", media.call);
        return Err(why);
    }
    Ok(sdp)
}

/// A new offer (`remote_offer` None, with an ICE restart if asked) or an
/// answer to a new remote offer, on the call's existing peer connection;
/// reports the SDP.
fn renegotiate(
    call: CallId,
    remote_offer: Option<String>,
    ice_restart: bool,
    hold: Option<bool>,
    report: Report,
) {
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
            None => reoffer(&media, ice_restart, hold.unwrap_or(false)).await,
        };
        report_sdp(&media, result, &report, "renegotiation");
    });
}

async fn reoffer(media: &CallMedia, ice_restart: bool, hold: bool) -> Result<String, String> {
    set_direction(media, hold);
    let options = RtcOfferOptions::new();
    if ice_restart {
        options.set_ice_restart(true);
    }
    // (a stream added since, the camera's or a shared screen's, takes them too)
    codecs::prefer(
        &media.pc,
        &media.audio_codecs,
        &media.video_codecs,
        media.call,
    );
    crate::log::debug!("{}: new offer (ICE restart: {ice_restart})", media.call);
    let created = media.pc.create_offer_with_rtc_offer_options(&options);
    set_local(media, created, RtcSdpType::Offer, None).await
}

async fn reanswer(media: &CallMedia, offer: &str) -> Result<String, String> {
    let desc = RtcSessionDescriptionInit::new(RtcSdpType::Offer);
    desc.set_sdp(&codecs::offer_to_answer(
        offer,
        &media.audio_codecs,
        &media.video_codecs,
        media.call,
    ));
    JsFuture::from(media.pc.set_remote_description(&desc))
        .await
        .map_err(|e| sdp_refused("the other phone's new audio offer", &e))?;
    let created = media.pc.create_answer();
    set_local(media, created, RtcSdpType::Answer, None).await
}

/// Back to the last agreed session after a refused re-offer. Errors are
/// only logged: the call goes on with what it had.
fn rollback(call: CallId) {
    let Some(media) = get(call) else {
        crate::log::debug!("{call}: rollback: no media");
        return;
    };
    if media.pc.signaling_state() != RtcSignalingState::HaveLocalOffer {
        crate::log::debug!(
            "{call}: rollback: nothing to roll back ({:?})",
            media.pc.signaling_state()
        );
        return;
    }
    spawn_local(async move {
        let desc = RtcSessionDescriptionInit::new(RtcSdpType::Rollback);
        match JsFuture::from(media.pc.set_local_description(&desc)).await {
            Ok(_) => crate::log::debug!("{call}: rolled back to the last agreed session"),
            Err(e) => crate::log::warn!("{call}: rollback failed: {}", js_text(&e)),
        }
        // held or not as the session still in force says
        let held = media
            .pc
            .current_local_description()
            .is_some_and(|d| crate::sip::sdp::is_hold(&d.sdp()));
        media.held.set(held);
        apply_mic(&media);
    });
}

/// Whether this browser has WebRTC (`RTCPeerConnection`) at all: without
/// it the phone can register, chat and see presence, but not call.
pub fn webrtc_available() -> bool {
    web_sys::window().is_some_and(|w| {
        js_sys::Reflect::get(&w, &JsValue::from_str("RTCPeerConnection"))
            .is_ok_and(|v| v.is_function())
    })
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
    if config.relay_only {
        rtc.set_ice_transport_policy(RtcIceTransportPolicy::Relay);
    }
    rtc
}

/// Why a relay-only call has no candidate, in words: the TURN server's
/// error (`icecandidateerror`), else what to check.
fn no_relay_text(turn_error: Option<(u16, String)>) -> String {
    // "401 Unauthorized" (Chromium), "401" (Firefox gives no text)
    let detail = |code: u16, text: &str| {
        format!("{code} {}", text.trim().trim_end_matches('.'))
            .trim_end()
            .to_string()
    };
    match turn_error {
        Some((code @ (401 | 403 | 431 | 441), text)) => format!(
            "the TURN server refused the user name or password ({}): check the TURN line \
             under Settings → Advanced → ICE servers",
            detail(code, &text)
        ),
        Some((code, text)) => format!(
            "the TURN server gave no relay address (error {}): check the TURN line under \
             Settings → Advanced → ICE servers",
            detail(code, &text)
        ),
        None => "the TURN server gave no relay address (\"Only through a TURN relay\" is on): \
                 check that the TURN server is reachable and that its user name and password \
                 under Settings → Advanced → ICE servers are right"
            .to_string(),
    }
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
        let quiet = media.ice_quiet_ms;
        if seen > 0 && t - last_new >= quiet {
            let quiet = quiet as u32; // (no float formatting in the wasm)
            crate::log::debug!("ICE: {seen} candidates, no new one for {quiet} ms: going on");
            return;
        }
        if t - started >= max_wait {
            let max_wait = max_wait as u32;
            crate::log::debug!("ICE: gathering took more than {max_wait} ms, going on");
            return;
        }
        ice_news(pc, ICE_POLL_MS).await;
    }
}

/// Resolves at `pc`'s next ICE candidate or gathering state change, or
/// after `ms`: the wait goes on the moment something happens.
async fn ice_news(pc: &RtcPeerConnection, ms: i32) {
    let news = js_sys::Promise::new(&mut |resolve, _| {
        let once = web_sys::AddEventListenerOptions::new();
        once.set_once(true);
        for event in ["icecandidate", "icegatheringstatechange"] {
            let _ = pc.add_event_listener_with_callback_and_add_event_listener_options(
                event, &resolve, &once,
            );
        }
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = JsFuture::from(news).await;
}

/// Hold (`sendonly`, or `inactive` when the other phone holds us too: its
/// last description does not receive) or not (`sendrecv`) for the next
/// offer, on the call's transceivers (video: `inactive` on hold, else
/// `sendrecv` with the camera on, `recvonly` without).
fn set_direction(media: &CallMedia, hold: bool) {
    let direction = if !hold {
        "sendrecv"
    } else if media
        .pc
        .current_remote_description()
        .is_some_and(|d| crate::sip::sdp::is_hold(&d.sdp()))
    {
        "inactive"
    } else {
        "sendonly"
    };
    media.held.set(hold);
    apply_mic(media);
    let mut set = 0;
    for t in media.pc.get_transceivers().iter() {
        let Ok(t) = t.dyn_into::<RtcRtpTransceiver>() else {
            continue;
        };
        // video: nothing either way on hold (no picture of a held call);
        // else sent while the camera is on, received in any case
        let direction = if t.receiver().track().kind() != "video" {
            direction
        } else if hold {
            "inactive"
        } else if t.sender().track().is_some() {
            "sendrecv"
        } else {
            "recvonly"
        };
        match set_transceiver_direction(&t, direction) {
            Ok(_) => set += 1,
            Err(e) => crate::log::warn!(
                "{}: audio direction {direction} refused: {}",
                media.call,
                js_text(&e)
            ),
        }
    }
    crate::log::debug!(
        "{}: {direction} for the next offer ({set} transceiver(s))",
        media.call
    );
}

/// The other phone's answer to our offer: `provisional` (early media, a 183
/// with SDP) as `pranswer`, the final one as `answer`. Either order and
/// repeats are safe: a provisional answer after the final one is ignored,
/// a repeated final answer too (logged); only a final answer the browser
/// cannot use on a call without one ends the call.
fn set_remote_answer(call: CallId, sdp: String, provisional: bool, report: Report) {
    let Some(media) = get(call) else {
        if !provisional {
            report(Input::MediaFailed {
                call,
                reason: "the audio for this call is gone".into(),
            });
        }
        return;
    };
    let what = if provisional { "early media" } else { "answer" };
    if provisional
        && !matches!(
            media.pc.signaling_state(),
            RtcSignalingState::HaveLocalOffer | RtcSignalingState::HaveRemotePranswer
        )
    {
        crate::log::debug!(
            "{call}: early media ignored: signaling state {:?}",
            media.pc.signaling_state()
        );
        return;
    }
    spawn_local(async move {
        let kind = if provisional {
            RtcSdpType::Pranswer
        } else {
            RtcSdpType::Answer
        };
        // an answer short of streams (an audio gateway answering a video
        // call) gets them back, turned off: else the browser refuses it
        let offer = media.pc.local_description().map(|d| d.sdp());
        let sdp = match offer.and_then(|o| crate::sip::sdp::complete_answer(&o, &sdp)) {
            Some(done) => {
                crate::log::info!("{call}: the {what} lacks streams of the offer: turned off");
                done
            }
            None => sdp,
        };
        let desc = RtcSessionDescriptionInit::new(kind);
        desc.set_sdp(&sdp);
        let result = JsFuture::from(media.pc.set_remote_description(&desc)).await;
        if media.closed.get() {
            return;
        }
        match result {
            Ok(_) => crate::log::debug!("{call}: remote {what} applied"),
            Err(e) if provisional => {
                crate::log::warn!("{call}: early media could not be used: {}", js_text(&e))
            }
            Err(e)
                if media.pc.signaling_state() == RtcSignalingState::Stable
                    && media.pc.current_remote_description().is_some() =>
            {
                crate::log::debug!(
                    "{call}: repeated answer ignored (the call has one): {}",
                    js_text(&e)
                )
            }
            Err(e) => report(Input::MediaFailed {
                call,
                reason: sdp_refused("the other phone's audio answer", &e),
            }),
        }
    });
}

fn media_devices() -> Result<web_sys::MediaDevices, String> {
    let window = web_sys::window().ok_or("no window")?;
    let navigator = window.navigator();
    let devices = js_sys::Reflect::get(&navigator, &JsValue::from_str("mediaDevices"))
        .ok()
        .filter(|d| !d.is_undefined() && !d.is_null())
        .ok_or(
            "the microphone is only available on pages served over https:// or from localhost",
        )?;
    Ok(devices.unchecked_into())
}

/// The getUserMedia audio constraints of the configuration, with or
/// without the chosen device.
fn audio_constraints(config: &MediaConfig, with_device: bool) -> JsValue {
    let audio = js_sys::Object::new();
    let set = |k: &str, v: &JsValue| {
        let _ = js_sys::Reflect::set(&audio, &JsValue::from_str(k), v);
    };
    if let (true, Some(id)) = (with_device, &config.mic_device) {
        let exact = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&exact, &JsValue::from_str("exact"), &JsValue::from_str(id));
        set("deviceId", &exact);
    }
    set(
        "echoCancellation",
        &JsValue::from_bool(config.echo_cancellation),
    );
    set(
        "noiseSuppression",
        &JsValue::from_bool(config.noise_suppression),
    );
    set("autoGainControl", &JsValue::from_bool(config.auto_gain));
    audio.into()
}

/// `getUserMedia` with the configured microphone and constraints; when the
/// chosen microphone is gone, the default one. Reasons for failure in words.
async fn microphone() -> Result<MediaStream, String> {
    let devices = media_devices()?;
    let config = CONFIG.with(|c| c.borrow().clone());
    let open = |with_device: bool| {
        let constraints = MediaStreamConstraints::new();
        constraints.set_audio(&audio_constraints(&config, with_device));
        constraints.set_video(&JsValue::FALSE);
        devices.get_user_media_with_constraints(&constraints)
    };
    let result = open_chosen(open, config.mic_device.is_some(), "microphone").await;
    let stream = result.map_err(|e| mic_error(&e))?;
    let stream = stream
        .dyn_into::<MediaStream>()
        .map_err(|_| "the microphone gave no audio stream".to_string())?;
    MIC_OPENED.with(|m| m.set(true));
    Ok(stream)
}

/// `getUserMedia` through `open` with the chosen device (`open(true)`),
/// and when that device is gone (`chosen` and it is not found), with the
/// default one (`open(false)`); `what` names the device in the log.
async fn open_chosen(
    open: impl Fn(bool) -> Result<js_sys::Promise, JsValue>,
    chosen: bool,
    what: &str,
) -> Result<JsValue, JsValue> {
    let run = |with_device: bool| {
        let p = open(with_device);
        async move { JsFuture::from(p?).await }
    };
    let result = run(true).await;
    match &result {
        Err(e) if chosen => {
            let name = error_name(e);
            if !matches!(name.as_str(), "OverconstrainedError" | "NotFoundError") {
                return result;
            }
            crate::log::warn!("the chosen {what} is not there ({name}): using the default one");
            run(false).await
        }
        _ => result,
    }
}

/// The `name` of a JS error (`DOMException`, `OverconstrainedError` …).
fn error_name(e: &JsValue) -> String {
    js_sys::Reflect::get(e, &JsValue::from_str("name"))
        .ok()
        .and_then(|v| v.as_string())
        .unwrap_or_default()
}

fn mic_error(e: &JsValue) -> String {
    let name = error_name(e);
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
    crate::log::warn!("{what} was refused by the browser: {}", js_text(e));
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
