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
use crate::sip::{CallId, Input};
use gloo_timers::future::TimeoutFuture;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;
use web_sys::{Event, MediaStream, MediaStreamTrack, RtcPeerConnection, RtcRtpSender, RtcSdpType};

/// How far the preparation has come.
enum Progress {
    /// Opening the microphone, making the offer.
    Working,
    /// The offer is the local description; ICE is gathering.
    Ready(MediaStream, RtcRtpSender),
    /// It could not be done (the call will try again, and say why).
    Failed,
    /// Released or taken before it was ready.
    Dropped,
}

struct Prepared {
    pc: RtcPeerConnection,
    config: super::MediaConfig,
    ice_errors: (TurnError, Closure<dyn FnMut(Event)>),
    progress: Rc<RefCell<Progress>>,
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
    let progress = Rc::new(RefCell::new(Progress::Working));
    crate::log::debug!("preparing the media of the next call");
    spawn_local(offer(pc.clone(), progress.clone()));
    PREPARED.with(|p| {
        *p.borrow_mut() = Some(Prepared {
            pc,
            config,
            ice_errors,
            progress,
        })
    });
}

async fn offer(pc: RtcPeerConnection, progress: Rc<RefCell<Progress>>) {
    let dropped = || matches!(*progress.borrow(), Progress::Dropped);
    let mic = match microphone().await {
        Ok(mic) => mic,
        Err(e) => {
            crate::log::debug!("prepared call: no microphone: {e}");
            if !dropped() {
                *progress.borrow_mut() = Progress::Failed;
            }
            return;
        }
    };
    if dropped() {
        stop_tracks(&mic);
        return;
    }
    let mut sender = None;
    for track in mic.get_tracks().iter() {
        if let Ok(track) = track.dyn_into::<MediaStreamTrack>() {
            sender.get_or_insert(pc.add_track_0(&track, &mic));
        }
    }
    let described = describe(&pc, pc.create_offer(), RtcSdpType::Offer, None, CallId(0)).await;
    let mut p = progress.borrow_mut();
    match (described, sender) {
        _ if matches!(*p, Progress::Dropped) => stop_tracks(&mic),
        (Ok(()), Some(sender)) => *p = Progress::Ready(mic, sender),
        (result, _) => {
            if let Err(e) = result {
                crate::log::debug!("prepared call: {e}");
            }
            stop_tracks(&mic);
            *p = Progress::Failed;
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
    if current != p.config || matches!(*p.progress.borrow(), Progress::Failed) {
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
        loop {
            if media.closed.get() {
                return;
            }
            let step = match &*progress.borrow() {
                Progress::Working => None,
                // `Clone::clone`: `mic.clone()` would be `MediaStream.clone()`,
                // a new stream with copies of the tracks (not the ones sent)
                Progress::Ready(mic, sender) => Some(Ok((Clone::clone(mic), Clone::clone(sender)))),
                Progress::Failed | Progress::Dropped => Some(Err(())),
            };
            match step {
                None => TimeoutFuture::new(2).await,
                Some(Ok((mic, sender))) => {
                    super::set_enabled(&mic, !media.muted.get());
                    *media.mic.borrow_mut() = Some(mic);
                    *media.sender.borrow_mut() = Some(sender);
                    break;
                }
                Some(Err(())) => {
                    // start again the usual way (it says what went wrong)
                    super::close(call);
                    super::start(call, None, report);
                    return;
                }
            }
        }
        let result = gathered_sdp(&media).await;
        if media.closed.get() {
            return;
        }
        match result {
            Ok(sdp) => report(Input::LocalSdp { call, sdp }),
            Err(reason) => report(Input::MediaFailed { call, reason }),
        }
    });
    true
}

/// Stop the microphone (once it is open) and close the peer connection.
fn drop_media(pc: &RtcPeerConnection, progress: &RefCell<Progress>) {
    let old = std::mem::replace(&mut *progress.borrow_mut(), Progress::Dropped);
    if let Progress::Ready(mic, _) = old {
        stop_tracks(&mic);
    }
    pc.close();
}
