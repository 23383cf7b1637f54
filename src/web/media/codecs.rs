//! The audio and video codecs of the settings (issue 16): the order and
//! choice the user made, put on a peer connection's transceivers before an
//! offer or answer is made (`RTCRtpTransceiver.setCodecPreferences`), and
//! cut out of a remote offer before it is answered (Chromium sends the
//! offer's first codec even when the preferences leave it out of the
//! answer). The core refuses a new call whose offer has none of the audio
//! ones (`Command::SetAudioCodecs`); a new offer in a call that has none is
//! answered as the browser likes (the call goes on), and so is a video
//! stream offered with none of the video ones.

use super::js_text;
use crate::sip::CallId;
use js_sys::{Array, Function, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{RtcPeerConnection, RtcRtpTransceiver};

/// What rides on the codecs and is always kept: DTMF (RFC 4733) with the
/// audio ones, retransmission and error correction with the video ones.
use crate::sip::sdp::{DTMF_CODEC, VIDEO_HELPERS};

/// The codecs of the settings, `audio` and `video` (SDP names, most wanted
/// first), as the codec preference of every transceiver of `pc` of their
/// kind: offers and answers made from now on list only these, in this
/// order (see [`prefer_kind`]).
pub(super) fn prefer(pc: &RtcPeerConnection, audio: &[&str], video: &[&str], call: CallId) {
    prefer_kind(pc, "audio", audio, call);
    prefer_kind(pc, "video", video, call);
}

/// The codecs `wanted` then what rides on them, as the preference of the
/// `kind` transceivers of `pc`. Nothing is changed when `wanted` is empty,
/// or when the browser has none of them (logged) or cannot choose codecs
/// at all (logged).
fn prefer_kind(pc: &RtcPeerConnection, kind: &str, wanted: &[&str], call: CallId) {
    if wanted.is_empty() {
        return;
    }
    let Some(known) = capabilities(kind) else {
        crate::log::warn!("{call}: this browser cannot choose codecs: it uses its own");
        return;
    };
    let mime = |c: &JsValue| {
        Reflect::get(c, &JsValue::from_str("mimeType"))
            .ok()
            .and_then(|m| m.as_string())
            .unwrap_or_default()
    };
    let is = |c: &JsValue, name: &str| {
        mime(c)
            .strip_prefix(kind)
            .and_then(|m| m.strip_prefix('/'))
            .is_some_and(|m| m.eq_ignore_ascii_case(name))
    };
    let chosen = Array::new();
    for name in wanted {
        for c in known.iter().filter(|c| is(c, name)) {
            chosen.push(&c);
        }
    }
    if chosen.length() == 0 {
        crate::log::warn!(
            "{call}: this browser has none of the {kind} codecs {}: it uses its own",
            wanted.join(" ")
        );
        return;
    }
    let helpers: &[&str] = if kind == "audio" {
        &[DTMF_CODEC]
    } else {
        &VIDEO_HELPERS
    };
    for c in known.iter().filter(|c| helpers.iter().any(|h| is(c, h))) {
        chosen.push(&c);
    }
    let mut set = 0;
    for t in pc.get_transceivers().iter() {
        let Ok(t) = t.dyn_into::<RtcRtpTransceiver>() else {
            continue;
        };
        if t.receiver().track().kind() != kind {
            continue;
        }
        let Some(f) = Reflect::get(&t, &JsValue::from_str("setCodecPreferences"))
            .ok()
            .and_then(|f| f.dyn_into::<Function>().ok())
        else {
            crate::log::warn!("{call}: this browser cannot choose codecs: it uses its own");
            return;
        };
        match f.call1(&t, &chosen) {
            Ok(_) => set += 1,
            Err(e) => crate::log::warn!("{call}: codec preference refused: {}", js_text(&e)),
        }
    }
    crate::log::debug!(
        "{call}: {kind} codecs {} ({set} transceiver(s))",
        wanted.join(" ")
    );
}

/// `RTCRtpReceiver.getCapabilities(kind).codecs`, where there is one.
fn capabilities(kind: &str) -> Option<Array> {
    let receiver = Reflect::get(&js_sys::global(), &JsValue::from_str("RTCRtpReceiver")).ok()?;
    let get = Reflect::get(&receiver, &JsValue::from_str("getCapabilities"))
        .ok()?
        .dyn_into::<Function>()
        .ok()?;
    let caps = get.call1(&receiver, &JsValue::from_str(kind)).ok()?;
    Reflect::get(&caps, &JsValue::from_str("codecs"))
        .ok()?
        .dyn_into::<Array>()
        .ok()
}

/// The remote `offer` as the browser should see it to answer with the
/// codecs `audio` and `video` only ([`crate::sip::sdp::keep_codecs`]).
pub(super) fn offer_to_answer(offer: &str, audio: &[&str], video: &[&str], call: CallId) -> String {
    let mut out = offer.to_string();
    for (kind, wanted) in [("audio", audio), ("video", video)] {
        if let Some(cut) = crate::sip::sdp::keep_codecs(&out, kind, wanted) {
            crate::log::debug!(
                "{call}: the offer's {kind} codecs cut to {}",
                wanted.join(" ")
            );
            out = cut;
        }
    }
    out
}
