//! The audio codecs of the settings (issue 16): the order and choice the
//! user made, put on a peer connection's audio transceivers before an offer
//! or answer is made (`RTCRtpTransceiver.setCodecPreferences`), and cut out
//! of a remote offer before it is answered (Chromium sends the offer's
//! first codec even when the preferences leave it out of the answer). The
//! core refuses a new call whose offer has none of them
//! (`Command::SetAudioCodecs`); a new offer in a call that has none is
//! answered as the browser likes (the call goes on).

use super::js_text;
use crate::sip::CallId;
use js_sys::{Array, Function, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{RtcPeerConnection, RtcRtpTransceiver};

/// DTMF (RFC 4733) rides on this "codec": it is always kept.
use crate::sip::sdp::DTMF_CODEC as DTMF;

/// The codecs `wanted` (SDP names, most wanted first), then DTMF's, as the
/// codec preference of every audio transceiver of `pc`: offers and answers
/// made from now on list only these, in this order. Nothing is changed when
/// `wanted` is empty, or when the browser has none of them (logged) or
/// cannot choose codecs at all (logged).
pub(super) fn prefer(pc: &RtcPeerConnection, wanted: &[&str], call: CallId) {
    if wanted.is_empty() {
        return;
    }
    let Some(known) = capabilities() else {
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
            .strip_prefix("audio/")
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
            "{call}: this browser has none of the audio codecs {}: it uses its own",
            wanted.join(" ")
        );
        return;
    }
    for c in known.iter().filter(|c| is(c, DTMF)) {
        chosen.push(&c);
    }
    let mut set = 0;
    for t in pc.get_transceivers().iter() {
        let Ok(t) = t.dyn_into::<RtcRtpTransceiver>() else {
            continue;
        };
        if t.receiver().track().kind() != "audio" {
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
        "{call}: audio codecs {} ({set} transceiver(s))",
        wanted.join(" ")
    );
}

/// `RTCRtpReceiver.getCapabilities("audio").codecs`, where there is one.
fn capabilities() -> Option<Array> {
    let receiver = Reflect::get(&js_sys::global(), &JsValue::from_str("RTCRtpReceiver")).ok()?;
    let get = Reflect::get(&receiver, &JsValue::from_str("getCapabilities"))
        .ok()?
        .dyn_into::<Function>()
        .ok()?;
    let caps = get.call1(&receiver, &JsValue::from_str("audio")).ok()?;
    Reflect::get(&caps, &JsValue::from_str("codecs"))
        .ok()?
        .dyn_into::<Array>()
        .ok()
}

/// The remote `offer` as the browser should see it to answer with the
/// codecs `wanted` only ([`crate::sip::sdp::keep_audio_codecs`]).
pub(super) fn offer_to_answer(offer: &str, wanted: &[&str], call: CallId) -> String {
    match crate::sip::sdp::keep_audio_codecs(offer, wanted) {
        Some(cut) => {
            crate::log::debug!(
                "{call}: the offer's audio codecs cut to {}",
                wanted.join(" ")
            );
            cut
        }
        None => offer.to_string(),
    }
}
