//! Recording a call: both sides mixed with Web Audio (the track we send,
//! which is the microphone or a conference mix, and the call's incoming
//! audio), with the picture when the call has one (the other side's, else
//! our camera), through a `MediaRecorder`. When it stops (Record again, or
//! the call closes) the recording goes into the browser's store
//! (`web::recordings`) and the phone hears how that went.

use super::{audio, js_text, remote_audio, CallMedia};
use crate::app::phone::AppInput;
use crate::app::view::RecordError;
use crate::web::recordings;
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{
    AudioContext, Blob, BlobEvent, BlobPropertyBag, MediaRecorder, MediaStream,
    MediaStreamAudioDestinationNode, MediaStreamAudioSourceNode, MediaStreamTrack, RecordingState,
};

/// Where the outcome of a recording goes (the driver's input).
pub type Done = Rc<dyn Fn(AppInput)>;

/// A recording in progress.
pub(super) struct Recorder {
    id: String,
    rec: MediaRecorder,
    chunks: js_sys::Array,
    /// It records a picture too.
    video: bool,
    sources: Vec<MediaStreamAudioSourceNode>,
    mix: MediaStreamAudioDestinationNode,
    done: Done,
    _on_data: Closure<dyn FnMut(BlobEvent)>,
    /// The mix runs on the shared audio context.
    _hold: audio::Hold,
}

impl Recorder {
    /// Start recording `media` as recording `id`.
    pub(super) fn start(media: &CallMedia, id: String, done: Done) -> Result<Recorder, String> {
        let ctx = audio::context().ok_or("no Web Audio in this browser")?;
        let err = |e: JsValue| js_text(&e);
        let mix = ctx.create_media_stream_destination().map_err(err)?;
        let mut streams = Vec::new();
        // (the microphone of a call answered without waiting for it may be
        // on its way to the sender)
        let sent = media
            .sender
            .borrow()
            .as_ref()
            .and_then(|s| s.track())
            .or_else(|| media.mic_track());
        if let Some(track) = sent {
            streams.push(stream_of(&track).map_err(err)?);
        }
        streams.extend(remote_audio(&media.pc));
        let mut sources = Vec::new();
        for s in &streams {
            sources.push(join(&ctx, &mix, s).map_err(err)?);
        }
        let stream = mix.stream();
        let picture = picture(media);
        if let Some(picture) = &picture {
            stream.add_track(picture);
        }
        let rec = MediaRecorder::new_with_media_stream(&stream).map_err(err)?;
        let chunks = js_sys::Array::new();
        let kept = chunks.clone();
        let on_data = Closure::<dyn FnMut(BlobEvent)>::new(move |e: BlobEvent| {
            if let Some(b) = e.data().filter(|b| b.size() > 0.0) {
                kept.push(&b);
            }
        });
        rec.set_ondataavailable(Some(on_data.as_ref().unchecked_ref()));
        // a piece every second: a recording cut short still has its start
        rec.start_with_time_slice(1000).map_err(err)?;
        crate::log::info!("{}: recording {id} ({})", media.call, rec.mime_type());
        Ok(Recorder {
            id,
            rec,
            chunks,
            video: picture.is_some(),
            sources,
            mix,
            done,
            _on_data: on_data,
            _hold: audio::Hold::new(),
        })
    }

    /// The track we send, when it came after the recording started (a call
    /// answered before its microphone was open): it joins the mix.
    pub(super) fn add_sent(&mut self, track: &MediaStreamTrack) {
        let Some(ctx) = audio::context() else {
            return;
        };
        let joined = stream_of(track).and_then(|s| join(&ctx, &self.mix, &s));
        match joined {
            Ok(src) => self.sources.push(src),
            Err(e) => crate::log::warn!(
                "recording {}: our audio not added: {}",
                self.id,
                js_text(&e)
            ),
        }
    }

    /// Stop, then store the recording and tell the phone.
    pub(super) fn stop(self) {
        spawn_local(async move {
            let stopped = js_sys::Promise::new(&mut |resolve, _| {
                self.rec.set_onstop(Some(&resolve));
            });
            if self.rec.state() != RecordingState::Inactive {
                let _ = self.rec.stop();
                let _ = JsFuture::from(stopped).await;
            }
            for s in &self.sources {
                let _ = s.disconnect();
            }
            for t in self.mix.stream().get_tracks().iter() {
                if let Ok(t) = t.dyn_into::<MediaStreamTrack>() {
                    t.stop();
                }
            }
            let id = self.id.clone();
            let input = match self.store().await {
                Ok((bytes, video)) => AppInput::RecordingSaved { id, bytes, video },
                Err(error) => AppInput::RecordingFailed { id, error },
            };
            (self.done)(input);
        });
    }

    /// Put the pieces together into one `Blob` and store it: its size and
    /// whether it has a picture.
    async fn store(&self) -> Result<(u64, bool), RecordError> {
        let mut mime = self.rec.mime_type();
        if mime.is_empty() {
            // Firefox names the format on the pieces only
            let first = self.chunks.get(0).dyn_into::<Blob>();
            mime = first.map(|b| b.type_()).unwrap_or_default();
        }
        let bag = BlobPropertyBag::new();
        bag.set_type(&mime);
        let blob = Blob::new_with_blob_sequence_and_options(&self.chunks, &bag)
            .map_err(|e| RecordError::Recorder(js_text(&e)))?;
        recordings::put(&self.id, &blob).await?;
        let bytes = blob.size() as u64;
        crate::log::info!("recording {} stored: {bytes} bytes", self.id);
        Ok((bytes, self.video))
    }
}

/// A stream of `track` alone.
fn stream_of(track: &MediaStreamTrack) -> Result<MediaStream, JsValue> {
    let s = MediaStream::new()?;
    s.add_track(track);
    Ok(s)
}

/// The audio of `stream` into the recording's `mix`.
fn join(
    ctx: &AudioContext,
    mix: &MediaStreamAudioDestinationNode,
    stream: &MediaStream,
) -> Result<MediaStreamAudioSourceNode, JsValue> {
    let src = ctx.create_media_stream_source(stream)?;
    src.connect_with_audio_node(mix)?;
    Ok(src)
}

/// The picture to record: the other side's while it sends one, else our
/// camera (or shared screen), else none.
fn picture(media: &CallMedia) -> Option<MediaStreamTrack> {
    let live = |t: &MediaStreamTrack| {
        t.kind() == "video" && t.ready_state() == web_sys::MediaStreamTrackState::Live && !t.muted()
    };
    let theirs = media.pc.get_receivers().iter().find_map(|r| {
        let t = r.dyn_into::<web_sys::RtcRtpReceiver>().ok()?.track();
        live(&t).then_some(t)
    });
    theirs.or_else(|| {
        media.pc.get_senders().iter().find_map(|s| {
            let t = s.dyn_into::<web_sys::RtcRtpSender>().ok()?.track()?;
            live(&t).then_some(t)
        })
    })
}
