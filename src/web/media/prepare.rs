//! The media of a call being dialled (issue 15): once the user starts
//! entering a number, the microphone is opened and a peer connection makes
//! its offer and gathers its ICE candidates, so that the INVITE can leave
//! as soon as "call" is pressed. The phone model decides when
//! (`AppOutput::PrepareMedia`, `AppOutput::ReleaseMedia`: released when no
//! call follows); the next outgoing call takes it ([`take`]).

use super::{
    describe, gathered_sdp, microphone, peer_connection, stop_tracks, watch_ice_errors, CallMedia,
    Report, TurnError, CALLS, CONFIG,
};
use crate::sip::CallId;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{
    Event, MediaStream, MediaStreamTrack, RtcPeerConnection, RtcRtpSender, RtcSdpType,
    RtcSignalingState,
};

/// How far the preparation has come.
#[derive(Default)]
enum Progress {
    /// Opening the microphone, making the offer.
    #[default]
    Working,
    /// The offer is the local description; ICE is gathering.
    Ready(MediaStream, RtcRtpSender),
    /// It could not be done (the call will try again, and say why).
    Failed,
    /// Released or taken before it was ready.
    Dropped,
}

/// The [`Progress`], and who waits for it to leave `Working`.
#[derive(Default)]
struct Shared {
    progress: RefCell<Progress>,
    /// Resolves the promise a call taking the preparation awaits.
    waiting: RefCell<Option<js_sys::Function>>,
}

impl Shared {
    /// The preparation came to `p`: tell the call waiting for it, if any.
    fn set(&self, p: Progress) {
        *self.progress.borrow_mut() = p;
        if let Some(resolve) = self.waiting.borrow_mut().take() {
            let _ = resolve.call0(&JsValue::NULL);
        }
    }

    /// Wait until the preparation is no longer `Working`.
    async fn settled(&self) {
        if !matches!(*self.progress.borrow(), Progress::Working) {
            return;
        }
        let done = js_sys::Promise::new(&mut |resolve, _| {
            *self.waiting.borrow_mut() = Some(resolve);
        });
        let _ = JsFuture::from(done).await;
    }
}

struct Prepared {
    pc: RtcPeerConnection,
    config: super::MediaConfig,
    ice_errors: (TurnError, Closure<dyn FnMut(Event)>),
    progress: Rc<Shared>,
}

thread_local! {
    static PREPARED: RefCell<Option<Prepared>> = const { RefCell::new(None) };
}

/// Open the microphone and make an offer now, for the next outgoing call.
pub fn prepare() {
    if PREPARED.with(|p| p.borrow().is_some()) {
        return;
    }
    let config = CONFIG.with(|c| c.borrow().clone());
    let pc = match peer_connection(&config) {
        Ok(pc) => pc,
        Err(e) => {
            crate::log::debug!("no media prepared: {e}");
            return;
        }
    };
    let ice_errors = watch_ice_errors(&pc, "prepared call".into());
    let progress = Rc::new(Shared::default());
    crate::log::debug!("preparing the media of the next call");
    spawn_local(offer(
        pc.clone(),
        progress.clone(),
        config.audio_codecs.clone(),
    ));
    PREPARED.with(|p| {
        *p.borrow_mut() = Some(Prepared {
            pc,
            config,
            ice_errors,
            progress,
        })
    });
}

async fn offer(pc: RtcPeerConnection, progress: Rc<Shared>, codecs: Vec<&'static str>) {
    let dropped = || matches!(*progress.progress.borrow(), Progress::Dropped);
    let mic = match microphone().await {
        Ok(mic) => mic,
        Err(e) => {
            crate::log::debug!("prepared call: no microphone: {e}");
            if !dropped() {
                progress.set(Progress::Failed);
            }
            return;
        }
    };
    // (a call that took it and ended meanwhile closed the connection:
    // adding a track to it would throw)
    if dropped() || pc.signaling_state() == RtcSignalingState::Closed {
        stop_tracks(&mic);
        progress.set(Progress::Dropped);
        return;
    }
    let mut sender = None;
    for track in mic.get_tracks().iter() {
        if let Ok(track) = track.dyn_into::<MediaStreamTrack>() {
            sender.get_or_insert(pc.add_track_0(&track, &mic));
        }
    }
    super::codecs::prefer(&pc, &codecs, &[], CallId(0));
    let described = describe(&pc, pc.create_offer(), RtcSdpType::Offer, None, CallId(0)).await;
    match (described, sender) {
        _ if dropped() => stop_tracks(&mic),
        (Ok(()), Some(sender)) => progress.set(Progress::Ready(mic, sender)),
        (result, _) => {
            if let Err(e) = result {
                crate::log::debug!("prepared call: {e}");
            }
            stop_tracks(&mic);
            progress.set(Progress::Failed);
        }
    }
}

/// Close what was prepared and not taken by a call.
pub fn release() {
    let Some(p) = PREPARED.with(|p| p.borrow_mut().take()) else {
        return;
    };
    crate::log::debug!("no call followed: the prepared media is released");
    drop_media(&p.pc, &p.progress);
}

/// Make the offer of outgoing `call` with what was prepared, if anything
/// was (and the configuration has not changed since): true when it did.
pub fn take(call: CallId, report: &Report) -> bool {
    let Some(p) = PREPARED.with(|p| p.borrow_mut().take()) else {
        return false;
    };
    let current = CONFIG.with(|c| c.borrow().clone());
    if current != p.config || matches!(*p.progress.progress.borrow(), Progress::Failed) {
        drop_media(&p.pc, &p.progress);
        return false;
    }
    let pc = p.pc.clone();
    let media = match CallMedia::around(call, report.clone(), p.pc, &p.config, p.ice_errors) {
        Ok(m) => Rc::new(m),
        Err(e) => {
            crate::log::debug!("{call}: the prepared media cannot be used: {e}");
            drop_media(&pc, &p.progress);
            return false;
        }
    };
    crate::log::debug!("{call}: using the prepared media");
    CALLS.with(|c| c.borrow_mut().insert(call, media.clone()));
    let (progress, report) = (p.progress, report.clone());
    spawn_local(async move {
        // the offer is usually made by now: the user dialled first
        progress.settled().await;
        if media.closed.get() {
            return;
        }
        let ready = match &*progress.progress.borrow() {
            // `Clone::clone`: `mic.clone()` would be `MediaStream.clone()`,
            // a new stream with copies of the tracks (not the ones sent)
            Progress::Ready(mic, sender) => Some((Clone::clone(mic), Clone::clone(sender))),
            _ => None,
        };
        let Some((mic, sender)) = ready else {
            // start again the usual way (it says what went wrong)
            super::close(call);
            super::start(call, None, report, None);
            return;
        };
        super::set_enabled(&mic, !media.muted.get());
        *media.mic.borrow_mut() = Some(mic);
        *media.sender.borrow_mut() = Some(sender);
        let result = gathered_sdp(&media).await;
        super::report_sdp(&media, result, &report, "prepared media");
    });
    true
}

/// Stop the microphone (once it is open) and close the peer connection.
fn drop_media(pc: &RtcPeerConnection, progress: &Shared) {
    let old = std::mem::replace(&mut *progress.progress.borrow_mut(), Progress::Dropped);
    if let Progress::Ready(mic, _) = old {
        stop_tracks(&mic);
    }
    pc.close();
}
