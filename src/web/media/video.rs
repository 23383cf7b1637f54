//! The video of a call (issue 16): the camera sent beside the microphone,
//! the other side's picture and a preview of ours, in one box per call that
//! the call panel puts on the screen ([`super::video_box`]). A box without a
//! live picture is empty to the eye (`.video-box` CSS: a `<video>` shows
//! only with `data-live`). Its two `<video>` elements are made when the call
//! first has a picture: an audio call has none (making them took milliseconds
//! of an incoming call's way to its answer).

use super::{js_text, media_devices, stop_tracks};
use crate::sip::CallId;
use std::cell::{OnceCell, RefCell};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{
    Event, HtmlElement, HtmlMediaElement, MediaStream, MediaStreamConstraints, MediaStreamTrack,
};

pub(super) struct Video {
    /// `div.video-box`: the remote picture, then the preview.
    pub(super) frame: HtmlElement,
    /// Its `<video>` elements, once made ([`Video::pictures`]).
    pictures: OnceCell<Pictures>,
    call: CallId,
    /// The camera, while it is on.
    camera: RefCell<Option<MediaStream>>,
    /// The shared screen (sent in place of the camera), and its `ended`
    /// handler (the browser's own "stop sharing").
    screen: RefCell<Option<(MediaStream, Handler)>>,
    /// The remote track's `mute`/`unmute` handlers: the picture hides while
    /// the other side sends none (its camera off, or on hold).
    on_mute: RefCell<Vec<Handler>>,
}

/// The other side's picture and our preview.
struct Pictures {
    remote: HtmlMediaElement,
    preview: HtmlMediaElement,
}

/// An event handler kept as long as its target.
pub(super) type Handler = Closure<dyn FnMut(Event)>;

/// A `<video>` that plays by itself, silent (the sound is the call's
/// `<audio>`), with class `class`.
fn video_element(class: &str) -> Result<HtmlMediaElement, String> {
    let v: HtmlMediaElement = super::media_element("video")?;
    v.set_muted(true);
    v.set_class_name(class);
    Ok(v)
}

impl Video {
    pub(super) fn new(call: CallId) -> Result<Video, String> {
        let frame: HtmlElement = super::new_element("div")?;
        frame.set_class_name("video-box");
        frame.set_id(&format!("call-video-{}", call.0));
        Ok(Video {
            frame,
            pictures: OnceCell::new(),
            call,
            camera: RefCell::new(None),
            screen: RefCell::new(None),
            on_mute: RefCell::new(Vec::new()),
        })
    }

    /// The `<video>` elements, made and put in the box the first time
    /// (`None`, logged, if the page cannot make them).
    fn pictures(&self) -> Option<&Pictures> {
        if self.pictures.get().is_none() {
            let made = video_element("remote-video")
                .and_then(|remote| Ok((remote, video_element("local-video")?)));
            match made {
                Ok((remote, preview)) => {
                    let _ = self.frame.append_child(&remote);
                    let _ = self.frame.append_child(&preview);
                    let _ = self.pictures.set(Pictures { remote, preview });
                }
                Err(e) => crate::log::warn!("{}: no place for the video: {e}", self.call),
            }
        }
        self.pictures.get()
    }

    /// The preview shows nothing (if it was ever made).
    fn clear_preview(&self) {
        if let Some(p) = self.pictures.get() {
            p.preview.set_src_object(None);
            let _ = p.preview.remove_attribute("data-live");
        }
    }

    /// The other side's video `track` arrived: show it.
    pub(super) fn show_remote(&self, track: &MediaStreamTrack) {
        let call = self.call;
        let Ok(stream) = MediaStream::new() else {
            return;
        };
        let Some(pictures) = self.pictures() else {
            return;
        };
        stream.add_track(track);
        crate::log::debug!("{call}: remote video track");
        show(&pictures.remote, &stream, call, "remote video");
        // the picture goes while the other side sends none, and comes back
        let mut handlers = self.on_mute.borrow_mut();
        handlers.clear();
        for live in [false, true] {
            let remote = pictures.remote.clone();
            let f = Closure::<dyn FnMut(Event)>::new(move |_: Event| {
                crate::log::debug!(
                    "{call}: remote video {}",
                    if live { "back" } else { "gone" }
                );
                let _ = if live {
                    remote.set_attribute("data-live", "")
                } else {
                    remote.remove_attribute("data-live")
                };
            });
            let ev = if live { "unmute" } else { "mute" };
            let _ = track.add_event_listener_with_callback(ev, f.as_ref().unchecked_ref());
            handlers.push(f);
        }
    }

    /// The screen is shared.
    pub(super) fn is_sharing(&self) -> bool {
        self.screen.borrow().is_some()
    }

    /// The camera `stream` is sent: keep it (to stop it) and preview it
    /// (unless the screen is shared: that stays in the preview).
    pub(super) fn set_camera(&self, stream: MediaStream) {
        if !self.is_sharing() {
            if let Some(p) = self.pictures() {
                show(&p.preview, &stream, self.call, "camera preview");
            }
        }
        if let Some(old) = self.camera.borrow_mut().replace(stream) {
            stop_tracks(&old);
        }
    }

    /// The camera is no longer sent: stop it, no preview.
    pub(super) fn stop_camera(&self) {
        if let Some(cam) = self.camera.borrow_mut().take() {
            stop_tracks(&cam);
        }
        if self.screen.borrow().is_none() {
            self.clear_preview();
        }
    }

    /// The camera's video track, while the camera is on.
    pub(super) fn camera_track(&self) -> Option<MediaStreamTrack> {
        let cam = self.camera.borrow();
        cam.as_ref()?
            .get_video_tracks()
            .iter()
            .find_map(|t| t.dyn_into::<MediaStreamTrack>().ok())
    }

    /// The screen `stream` is sent (`ended`: the browser stopped it): keep
    /// it and preview it in place of the camera.
    pub(super) fn set_screen(&self, stream: MediaStream, ended: Handler) {
        if let Some(p) = self.pictures() {
            show(&p.preview, &stream, self.call, "screen preview");
        }
        if let Some((old, _)) = self.screen.borrow_mut().replace((stream, ended)) {
            stop_tracks(&old);
        }
    }

    /// Sharing ends: stop the screen, preview the camera again (if on).
    /// Whether the screen was shared.
    pub(super) fn stop_screen(&self) -> bool {
        let Some((screen, _ended)) = self.screen.borrow_mut().take() else {
            return false;
        };
        stop_tracks(&screen);
        let camera = self.camera.borrow().clone();
        match (camera, self.pictures()) {
            (Some(cam), Some(p)) => show(&p.preview, &cam, self.call, "camera preview"),
            _ => self.clear_preview(),
        }
        true
    }

    pub(super) fn close(&self) {
        if let Some(cam) = self.camera.borrow_mut().take() {
            stop_tracks(&cam);
        }
        if let Some((screen, _)) = self.screen.borrow_mut().take() {
            stop_tracks(&screen);
        }
        self.on_mute.borrow_mut().clear();
        if let Some(p) = self.pictures.get() {
            for v in [&p.remote, &p.preview] {
                v.set_src_object(None);
            }
        }
        self.frame.remove();
    }
}

fn show(v: &HtmlMediaElement, stream: &MediaStream, call: CallId, what: &'static str) {
    v.set_src_object(Some(stream));
    let _ = v.set_attribute("data-live", "");
    if let Ok(p) = v.play() {
        spawn_local(async move {
            if let Err(e) = JsFuture::from(p).await {
                crate::log::warn!("{call}: the {what} did not start: {}", js_text(&e));
            }
        });
    }
}

/// `getDisplayMedia`: a screen, window or tab the user picks; reasons for
/// failure in words.
pub(super) async fn screen() -> Result<MediaStream, String> {
    let devices = media_devices()?;
    let p = devices.get_display_media().map_err(|e| js_text(&e))?;
    let stream = JsFuture::from(p)
        .await
        .map_err(|e| match super::error_name(&e).as_str() {
            "NotAllowedError" => "it was not allowed, or nothing was picked".to_string(),
            _ => js_text(&e),
        })?;
    stream
        .dyn_into::<MediaStream>()
        .map_err(|_| "the browser gave no screen".to_string())
}

/// Why the camera could not be opened, in words.
fn camera_error(e: &JsValue) -> String {
    match super::error_name(e).as_str() {
        "NotAllowedError" | "SecurityError" => "access to it was denied".into(),
        "NotFoundError" | "OverconstrainedError" => "no camera was found".into(),
        "NotReadableError" | "AbortError" => "another program uses it".into(),
        _ => js_text(e),
    }
}

/// `getUserMedia` for the camera alone (the one of the settings; when it
/// is gone, the default one); reasons for failure in words.
pub(super) async fn camera() -> Result<MediaStream, String> {
    let devices = media_devices()?;
    let chosen = super::CONFIG.with(|c| c.borrow().camera_device.clone());
    let open = |with_device: bool| {
        let video: JsValue = match chosen.as_deref().filter(|_| with_device) {
            Some(id) => {
                let exact = js_sys::Object::new();
                let _ = js_sys::Reflect::set(&exact, &"exact".into(), &JsValue::from_str(id));
                let v = js_sys::Object::new();
                let _ = js_sys::Reflect::set(&v, &"deviceId".into(), &exact);
                v.into()
            }
            None => JsValue::TRUE,
        };
        let constraints = MediaStreamConstraints::new();
        constraints.set_audio(&JsValue::FALSE);
        constraints.set_video(&video);
        devices.get_user_media_with_constraints(&constraints)
    };
    let result = super::open_chosen(open, chosen.is_some(), "camera").await;
    let stream = result.map_err(|e| camera_error(&e))?;
    stream
        .dyn_into::<MediaStream>()
        .map_err(|_| "the camera gave no video stream".to_string())
}
