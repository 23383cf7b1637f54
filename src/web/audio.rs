//! Web Audio for the phone (a child of `media`): one shared `AudioContext`
//! (made on first use, resumed on the first user gesture: browsers keep it
//! suspended before one), the ringtones and the ringback tone, and the
//! level meter on a microphone stream. The context runs only while
//! something uses it (a [`Hold`]: a tone, a level meter, a conference's or
//! a recording's mix) and is suspended [`SUSPEND_AFTER_MS`] after the last
//! use: a running context keeps the audio output open and renders silence
//! all the time.
//!
//! Nothing here fails loudly: a browser without Web Audio, or a context the
//! autoplay policy keeps suspended, gives a log line and silence.

use super::js_text;
use gloo_timers::callback::{Interval, Timeout};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{
    AnalyserNode, AudioContext, AudioContextState, GainNode, MediaStream,
    MediaStreamAudioSourceNode, OscillatorNode,
};

/// How far ahead a tone's cadence is scheduled on the audio clock (s), and
/// how often that is extended (ms). Scheduling ahead keeps the cadence
/// exact even when the browser throttles timers of a hidden tab.
const SCHEDULE_AHEAD_S: f64 = 60.0;
const EXTEND_EVERY_MS: u32 = 15_000;
/// Fade in/out of each burst (s), against clicks.
const RAMP_S: f64 = 0.015;
/// How long the context runs on after its last use (ms): a ringback
/// followed by the call's own sounds does not stop and start it again.
const SUSPEND_AFTER_MS: u32 = 3_000;

type Listener = Closure<dyn FnMut(web_sys::Event)>;

thread_local! {
    static CONTEXT: RefCell<Option<AudioContext>> = const { RefCell::new(None) };
    static UNLOCK: RefCell<Option<Listener>> = const { RefCell::new(None) };
    static TONES: RefCell<[Option<Tone>; 3]> = const { RefCell::new([None, None, None]) };
    static SINK: RefCell<Option<String>> = const { RefCell::new(None) };
    /// How many [`Hold`]s there are.
    static HOLDS: Cell<u32> = const { Cell::new(0) };
    /// The last suspension timer ([`suspend_when_unused`]; cleared by
    /// [`shutdown`]).
    static SUSPEND: RefCell<Option<Timeout>> = const { RefCell::new(None) };
}

/// The shared context is in use while this lives: take one with the nodes
/// of a tone, a meter or a mix, after [`context`] (which resumes it).
pub(super) struct Hold(());

impl Hold {
    pub(super) fn new() -> Hold {
        HOLDS.with(|h| h.set(h.get().saturating_add(1)));
        Hold(())
    }
}

impl Drop for Hold {
    fn drop(&mut self) {
        let left = HOLDS.with(|h| {
            let n = h.get().saturating_sub(1);
            h.set(n);
            n
        });
        if left == 0 {
            suspend_when_unused();
        }
    }
}

/// Suspend the context [`SUSPEND_AFTER_MS`] from now if nothing holds it
/// then. ([`context`] resumes it for the next use; the page has had its
/// user gesture by then, if the browser wanted one.)
fn suspend_when_unused() {
    // (none after [`shutdown`]: a meter or mix that outlives it sets no timer)
    if CONTEXT.with(|c| c.borrow().is_none()) {
        return;
    }
    let timer = Timeout::new(SUSPEND_AFTER_MS, || {
        if HOLDS.with(Cell::get) > 0 {
            return;
        }
        let Some(ctx) = CONTEXT.with(|c| c.borrow().clone()) else {
            return;
        };
        if ctx.state() != AudioContextState::Running {
            return;
        }
        match ctx.suspend() {
            Ok(_) => crate::log::debug!("audio context suspended: nothing plays"),
            Err(e) => crate::log::debug!("audio context not suspended: {}", js_text(&e)),
        }
    });
    // (the one before, fired or not, is dropped outside the borrow)
    let before = SUSPEND.with(|s| s.borrow_mut().replace(timer));
    drop(before);
}

/// The shared context, made on first use (`None`: no Web Audio here).
/// Asks the browser to resume it when suspended; if the autoplay policy
/// says no, the first user gesture does it (see [`install_unlock`]).
pub(super) fn context() -> Option<AudioContext> {
    install_unlock();
    let ctx = CONTEXT.with(|c| {
        let mut c = c.borrow_mut();
        if c.is_none() {
            match AudioContext::new() {
                Ok(ctx) => {
                    crate::log::debug!("audio context made");
                    *c = Some(ctx);
                    if let Some(id) = SINK.with(|s| s.borrow().clone()) {
                        set_sink_on(c.as_ref()?.as_ref(), &id, "tones");
                    }
                }
                Err(e) => {
                    crate::log::warn!("no Web Audio in this browser: {}", js_text(&e));
                    return None;
                }
            }
        }
        c.clone()
    })?;
    resume(&ctx);
    Some(ctx)
}

fn resume(ctx: &AudioContext) {
    if ctx.state() != AudioContextState::Suspended {
        return;
    }
    match ctx.resume() {
        Ok(p) => spawn_local(async move {
            if let Err(e) = JsFuture::from(p).await {
                crate::log::info!(
                    "audio waits for a click or key press (autoplay policy): {}",
                    js_text(&e)
                );
            }
        }),
        Err(e) => crate::log::info!("audio cannot start yet: {}", js_text(&e)),
    }
}

/// Resume the shared context on the first click, tap or key press (the
/// browsers' autoplay policy allows it only then). Idempotent.
pub(super) fn install_unlock() {
    UNLOCK.with(|u| {
        if u.borrow().is_some() {
            return;
        }
        let Some(window) = web_sys::window() else {
            return;
        };
        let handler = Closure::<dyn FnMut(web_sys::Event)>::new(|_ev: web_sys::Event| {
            let ctx = CONTEXT.with(|c| c.borrow().clone());
            let used = HOLDS.with(Cell::get) > 0;
            match ctx {
                // a sound waits for this gesture
                Some(ctx) if used => resume(&ctx),
                Some(_) => {}
                // made (and let start) within the gesture; suspended again
                // unless a sound comes
                None => {
                    if context().is_some() && !used {
                        suspend_when_unused();
                    }
                }
            }
        });
        for kind in ["pointerdown", "keydown", "touchend"] {
            let _ = window
                .add_event_listener_with_callback_and_bool(
                    kind,
                    handler.as_ref().unchecked_ref(),
                    true,
                )
                .map_err(|e| crate::log::debug!("no {kind} listener: {}", js_text(&e)));
        }
        *u.borrow_mut() = Some(handler);
    });
}

/// Stop every tone, remove the unlock listeners and close the shared
/// context (the embedded phone is unmounted); [`context`] makes a new one
/// when needed again.
pub(super) fn shutdown() {
    TONES.with(|t| {
        for tone in t.borrow_mut().iter_mut() {
            tone.take();
        }
    });
    if let Some(handler) = UNLOCK.with(|u| u.borrow_mut().take()) {
        if let Some(window) = web_sys::window() {
            for kind in ["pointerdown", "keydown", "touchend"] {
                let _ = window.remove_event_listener_with_callback_and_bool(
                    kind,
                    handler.as_ref().unchecked_ref(),
                    true,
                );
            }
        }
    }
    if let Some(ctx) = CONTEXT.with(|c| c.borrow_mut().take()) {
        if let Err(e) = ctx.close() {
            crate::log::debug!("audio context not closed: {}", js_text(&e));
        }
    }
    // (last: the tones dropped above may have set it)
    let timer = SUSPEND.with(|s| s.borrow_mut().take());
    drop(timer);
}

/// `setSinkId(id)` on a media element or an `AudioContext`, where the
/// browser has it (Chromium; not every browser): errors are logged.
pub(super) fn set_sink_on(target: &JsValue, id: &str, what: &'static str) {
    let Ok(f) = js_sys::Reflect::get(target, &JsValue::from_str("setSinkId")) else {
        return;
    };
    let Some(f) = f.dyn_ref::<js_sys::Function>() else {
        crate::log::debug!("{what}: this browser cannot choose the speaker");
        return;
    };
    match f.call1(target, &JsValue::from_str(id)) {
        Ok(p) => {
            let p: js_sys::Promise = p.unchecked_into();
            spawn_local(async move {
                match JsFuture::from(p).await {
                    Ok(_) => crate::log::debug!("{what}: speaker chosen"),
                    Err(e) => crate::log::warn!("{what}: the speaker was refused: {}", js_text(&e)),
                }
            });
        }
        Err(e) => crate::log::warn!("{what}: the speaker was refused: {}", js_text(&e)),
    }
}

/// The speaker for the tones (`None`: the default output).
pub(super) fn set_tone_sink(id: Option<String>) {
    let id = id.unwrap_or_default();
    SINK.with(|s| *s.borrow_mut() = Some(id.clone()));
    if let Some(ctx) = CONTEXT.with(|c| c.borrow().clone()) {
        set_sink_on(ctx.as_ref(), &id, "tones");
    }
}

/// The tones the phone plays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum ToneKind {
    /// Incoming call: 440 + 480 Hz, 2 s on, 4 s off.
    Ring,
    /// A second incoming call while in a call: two short quiet 440 Hz beeps
    /// every 4 s.
    RingSoft,
    /// The far end rings (no early media): 425 Hz, 1 s on, 4 s off.
    Ringback,
}

struct Pattern {
    freqs: &'static [f32],
    /// (start, length) of each burst within a period, in seconds.
    bursts: &'static [(f64, f64)],
    period: f64,
    /// Share of the ring volume.
    level: f32,
}

impl ToneKind {
    fn slot(self) -> usize {
        match self {
            ToneKind::Ring => 0,
            ToneKind::RingSoft => 1,
            ToneKind::Ringback => 2,
        }
    }

    fn pattern(self) -> Pattern {
        match self {
            ToneKind::Ring => Pattern {
                freqs: &[440.0, 480.0],
                bursts: &[(0.0, 2.0)],
                period: 6.0,
                level: 0.5, // two tones: each half
            },
            ToneKind::RingSoft => Pattern {
                freqs: &[440.0],
                bursts: &[(0.0, 0.15), (0.3, 0.15)],
                period: 4.0,
                level: 0.3,
            },
            ToneKind::Ringback => Pattern {
                freqs: &[425.0],
                bursts: &[(0.0, 1.0)],
                period: 5.0,
                level: 0.6,
            },
        }
    }
}

/// A playing tone: oscillators → gate (the cadence) → volume → speakers.
struct Tone {
    oscillators: Vec<OscillatorNode>,
    gate: GainNode,
    volume: GainNode,
    level: f32,
    _extend: Interval,
    _hold: Hold,
}

impl Drop for Tone {
    fn drop(&mut self) {
        for o in &self.oscillators {
            let _ = o.stop();
            let _ = o.disconnect();
        }
        let _ = self.gate.disconnect();
        let _ = self.volume.disconnect();
    }
}

/// Start or stop a tone (`volume` 0.0 to 1.0). Starting one that plays
/// already changes nothing.
pub(super) fn tone(kind: ToneKind, on: bool, volume: f32) {
    let playing = TONES.with(|t| t.borrow()[kind.slot()].is_some());
    if !on {
        if playing {
            crate::log::debug!("{kind:?} tone off");
        }
        // dropped outside the borrow
        let old = TONES.with(|t| t.borrow_mut()[kind.slot()].take());
        drop(old);
        return;
    }
    if playing {
        return;
    }
    let Some(ctx) = context() else {
        return;
    };
    match start_tone(&ctx, kind, volume) {
        Ok(t) => {
            crate::log::debug!("{kind:?} tone on");
            TONES.with(|s| s.borrow_mut()[kind.slot()] = Some(t));
        }
        Err(e) => crate::log::warn!("the {kind:?} tone cannot play: {}", js_text(&e)),
    }
}

/// The ring volume changed: running tones follow.
pub(super) fn set_volume(volume: f32) {
    TONES.with(|t| {
        for tone in t.borrow().iter().flatten() {
            tone.volume
                .gain()
                .set_value(volume.clamp(0.0, 1.0) * tone.level);
        }
    });
}

fn start_tone(ctx: &AudioContext, kind: ToneKind, volume: f32) -> Result<Tone, JsValue> {
    let p = kind.pattern();
    let volume_node = ctx.create_gain()?;
    volume_node
        .gain()
        .set_value(volume.clamp(0.0, 1.0) * p.level);
    volume_node.connect_with_audio_node(&ctx.destination())?;
    let gate = ctx.create_gain()?;
    gate.gain().set_value(0.0);
    gate.connect_with_audio_node(&volume_node)?;
    let mut oscillators = Vec::new();
    for &f in p.freqs {
        let o = ctx.create_oscillator()?;
        o.frequency().set_value(f);
        o.connect_with_audio_node(&gate)?;
        o.start()?;
        oscillators.push(o);
    }
    let next = Rc::new(Cell::new(ctx.current_time() + 0.05));
    schedule(ctx, &gate, &p, &next)?;
    let (c, g, n) = (ctx.clone(), gate.clone(), next.clone());
    let extend = Interval::new(EXTEND_EVERY_MS, move || {
        if let Err(e) = schedule(&c, &g, &kind.pattern(), &n) {
            crate::log::warn!("tone cadence: {}", js_text(&e));
        }
    });
    Ok(Tone {
        oscillators,
        gate,
        volume: volume_node,
        level: p.level,
        _extend: extend,
        _hold: Hold::new(),
    })
}

/// Schedule whole periods of the cadence from `next` until
/// [`SCHEDULE_AHEAD_S`] past the audio clock; `next` moves on.
fn schedule(
    ctx: &AudioContext,
    gate: &GainNode,
    p: &Pattern,
    next: &Cell<f64>,
) -> Result<(), JsValue> {
    let now = ctx.current_time();
    // a context that was suspended for long: start again from now
    if next.get() < now {
        next.set(now + 0.05);
    }
    let g = gate.gain();
    while next.get() < now + SCHEDULE_AHEAD_S {
        let t0 = next.get();
        for &(start, len) in p.bursts {
            let (s, e) = (t0 + start, t0 + start + len);
            g.set_value_at_time(0.0, s)?;
            g.linear_ramp_to_value_at_time(1.0, s + RAMP_S)?;
            g.set_value_at_time(1.0, e - RAMP_S)?;
            g.linear_ramp_to_value_at_time(0.0, e)?;
        }
        next.set(t0 + p.period);
    }
    Ok(())
}

/// A level meter on a microphone stream.
pub(super) struct Level {
    source: MediaStreamAudioSourceNode,
    analyser: AnalyserNode,
    buffer: RefCell<Vec<f32>>,
    _hold: Hold,
}

impl Level {
    pub(super) fn new(stream: &MediaStream) -> Result<Level, String> {
        let ctx = context().ok_or("no Web Audio in this browser")?;
        let source = ctx
            .create_media_stream_source(stream)
            .map_err(|e| js_text(&e))?;
        let analyser = ctx.create_analyser().map_err(|e| js_text(&e))?;
        analyser.set_fft_size(1024);
        source
            .connect_with_audio_node(&analyser)
            .map_err(|e| js_text(&e))?;
        let n = analyser.fft_size() as usize;
        Ok(Level {
            source,
            analyser,
            buffer: RefCell::new(vec![0.0; n]),
            _hold: Hold::new(),
        })
    }

    /// The RMS of the last ~20 ms of samples, 0.0 to 1.0.
    pub(super) fn rms(&self) -> f32 {
        let mut buf = self.buffer.borrow_mut();
        self.analyser.get_float_time_domain_data(&mut buf);
        rms(&buf)
    }
}

impl Drop for Level {
    fn drop(&mut self) {
        let _ = self.source.disconnect();
        let _ = self.analyser.disconnect();
    }
}

fn rms(samples: &[f32]) -> f32 {
    if samples.is_empty() {
        return 0.0;
    }
    let sum: f32 = samples
        .iter()
        .map(|s| if s.is_finite() { s * s } else { 0.0 })
        .sum();
    (sum / samples.len() as f32).sqrt().clamp(0.0, 1.0)
}
