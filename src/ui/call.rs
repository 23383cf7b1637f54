//! The incoming-call panel and the in-call panel.

use super::state::{CallPhase, CallView, PhoneState};
use crate::app::lines;
use crate::app::phone::Action;
use crate::app::quality::{fixed, Grade};
use crate::app::view::MAX_LINES;
use crate::sip::CallId;
use crate::sip::Instant;
use crate::web::{driver, media};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::collections::VecDeque;
use std::time::Duration;

/// The DTMF keys of the in-call keypad.
const DTMF_KEYS: [&str; 12] = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#"];
/// MOS values kept for the quality graph (one a second).
const QUALITY_POINTS: usize = 60;

#[component]
pub fn IncomingPanel(state: PhoneState) -> impl IntoView {
    let incoming = move || {
        state
            .call
            .with(|c| c.as_ref().is_some_and(|c| c.phase == CallPhase::Incoming))
    };
    let name = move || {
        state
            .call
            .with(|c| c.as_ref().map(|c| c.peer_label.clone()))
    };
    let number = move || {
        state.call.with(|c| {
            c.as_ref()
                .filter(|c| c.peer_number != c.peer_label && !c.peer_number.is_empty())
                .map(|c| c.peer_number.clone())
        })
    };
    let video_offered = move || {
        state
            .call
            .with(|c| c.as_ref().is_some_and(|c| c.video_offered))
    };
    // the focus goes to Answer when the call rings (Enter or Space answers),
    // in the next frame: focusing lays the page out at once, which would
    // hold up showing the call by milliseconds
    let answer = NodeRef::<leptos::html::Button>::new();
    Effect::new(move |_| {
        if !incoming() {
            return;
        }
        if let Some(button) = answer.get_untracked() {
            request_animation_frame(move || {
                let _ = button.focus();
            });
        }
    });
    // always in the page, hidden while no call rings: ringing then shows
    // it and fills in the caller, nothing is built
    view! {
        <section
            id="incoming"
            class="card call-panel incoming"
            aria-label="Incoming call"
            hidden=move || !incoming()
        >
            <p class="call-kind">"Incoming call"</p>
            <p id="incoming-from" class="peer">
                <span class="peer-name">{name}</span>
                {move || number().map(|n| view! { " " <span class="peer-number">{n}</span> })}
            </p>
            <div class="call-actions">
                <button
                    id="decline-button"
                    type="button"
                    class="round hangup"
                    on:click=move |_| driver::dispatch(Action::Hangup)
                >
                    "Decline"
                </button>
                <button
                    id="answer-button"
                    node_ref=answer
                    type="button"
                    class="round answer"
                    on:click=move |_| driver::dispatch(Action::Answer)
                >
                    "Answer"
                </button>
                <button
                    id="answer-video-button"
                    type="button"
                    class="round answer video"
                    hidden=move || !video_offered()
                    on:click=move |_| driver::dispatch(Action::AnswerVideo)
                >
                    "Video"
                </button>
            </div>
        </section>
    }
}

/// The call in focus once it is not ringing here. Always in the page,
/// hidden while there is none: placing or answering a call shows it and
/// fills it in, nothing is built then (that took the page for milliseconds
/// just when the call's media and signalling need it).
#[component]
pub fn InCallPanel(state: PhoneState) -> impl IntoView {
    // the call this panel shows: none while a call only rings here, so
    // that ringing wakes none of the readers below (the panel is hidden)
    let call = Memo::new(move |_| {
        state.call.with(|c| {
            c.as_ref()
                .filter(|c| c.phase != CallPhase::Incoming)
                .cloned()
        })
    });
    let shown = move || call.with(|c| c.is_some());
    // a clock for the call timer, ticking while the panel is shown
    let now = RwSignal::new(Instant::now());
    every(Duration::from_millis(250), move || {
        if call.with_untracked(|c| c.is_some()) {
            now.set(Instant::now());
        }
    });
    let peer = move || call.with(|c| c.as_ref().map(|c| c.peer_label.clone()).unwrap_or_default());
    let number = move || {
        call.with(|c| {
            c.as_ref()
                .filter(|c| c.peer_number != c.peer_label && !c.peer_number.is_empty())
                .map(|c| c.peer_number.clone())
        })
    };
    let status = move || call.with(|c| c.as_ref().map(|c| c.status_text()).unwrap_or(""));
    let active = move || call.with(|c| c.as_ref().is_some_and(|c| c.phase == CallPhase::Active));
    let timer = move || {
        let since = call.with(|c| c.as_ref().and_then(|c| c.active_since));
        let secs = since
            .map(|s| now.get().saturating_duration_since(s).as_secs())
            .unwrap_or(0);
        format!("{:02}:{:02}", secs / 60, secs % 60)
    };
    let hangup_label = move || if active() { "Hang up" } else { "Cancel" };
    let remote_hold = move || call.with(|c| c.as_ref().is_some_and(|c| c.remote_hold));
    let link_down = move || call.with(|c| c.as_ref().is_some_and(|c| c.link_down));
    let local_hold = move || call.with(|c| c.as_ref().is_some_and(|c| c.local_hold));
    let muted = move || call.with(|c| c.as_ref().is_some_and(|c| c.muted));
    let camera = move || call.with(|c| c.as_ref().is_some_and(|c| c.camera));
    let sharing = move || call.with(|c| c.as_ref().is_some_and(|c| c.sharing));
    let recording = move || call.with(|c| c.as_ref().is_some_and(|c| c.recording));
    let dtmf_in = move || {
        call.with(|c| {
            c.as_ref()
                .map(|c| c.dtmf_received.clone())
                .unwrap_or_default()
        })
    };
    let transfer_status = move || {
        call.with(|c| {
            c.as_ref()
                .and_then(|c| c.transfer.as_ref().map(|t| t.text()))
        })
    };
    let focused_id = move || call.with(|c| c.as_ref().map(|c| c.id));
    // another established line (for attended transfer and conference):
    // the phone's own rule
    let other_active = move || {
        let me = focused_id();
        state
            .lines
            .with(|l| me.is_some_and(|me| lines::other_active(l, me).is_some()))
    };
    let line_count = move || state.lines.with(|l| l.len());
    let in_conference = move || state.conference.with(|c| !c.is_empty());

    let keypad_open = RwSignal::new(false);
    let transfer_open = RwSignal::new(false);
    let add_open = state.adding;
    let sent = RwSignal::new(String::new());
    let transfer_target = RwSignal::new(String::new());
    // a new line closes the add-call dialpad
    Effect::new(move |prev: Option<usize>| {
        let n = line_count();
        if prev.is_some_and(|p| p != n) {
            add_open.set(false);
        }
        n
    });
    // a new focused call starts with closed panels
    Effect::new(move |prev: Option<Option<CallId>>| {
        let id = focused_id();
        if prev.is_some_and(|p| p != id) {
            keypad_open.set(false);
            transfer_open.set(false);
            add_open.set(false);
            sent.set(String::new());
        }
        id
    });
    // the call's video box (web::media): the other side's picture and our
    // preview, empty to the eye in an audio call
    let video_ref = NodeRef::<leptos::html::Div>::new();
    Effect::new(move |_| {
        let id = focused_id();
        let Some(holder) = video_ref.get() else {
            return;
        };
        holder.set_inner_html("");
        if let Some(frame) = id.and_then(media::video_box) {
            let _ = holder.append_child(&frame);
        }
    });
    let keys = move || {
        DTMF_KEYS
            .iter()
            .map(|&digit| {
                view! {
                    <button
                        type="button"
                        class="key"
                        data-digit=digit
                        aria-label=format!("Tone {digit}")
                        on:click=move |_| {
                            driver::dispatch(Action::SendDtmf(digit.to_string()));
                            sent.update(|s| s.push_str(digit));
                        }
                    >
                        <span class="digit">{digit}</span>
                    </button>
                }
            })
            .collect_view()
    };
    let on_transfer = move |ev: SubmitEvent| {
        ev.prevent_default();
        driver::dispatch(Action::TransferBlind(transfer_target.get_untracked()));
    };
    view! {
        <section id="in-call" class="card call-panel in-call" aria-label="Call" hidden=move || !shown()>
            // "On hold" once, in the status line: nothing below moves, so
            // Resume stays under the pointer
            <p class="call-kind" class:live=active>
                <Show when=local_hold fallback=status>
                    <span id="call-hold-status" class="hold" role="status">
                        "On hold"
                    </span>
                </Show>
            </p>
            <p id="call-peer" class="peer">
                <span class="peer-name">{peer}</span>
                {move || number().map(|n| view! { " " <span class="peer-number">{n}</span> })}
            </p>
            <p id="call-timer" class="timer" class:running=active aria-label="Call duration">
                {timer}
            </p>
            <div id="call-video" class="call-video" node_ref=video_ref></div>
            <Show when=recording>
                <p id="call-recording" class="call-flag recording" role="status">
                    "● Recording"
                </p>
            </Show>
            <Show when=remote_hold>
                <p id="call-remote-hold" class="call-flag hold" role="status">
                    "On hold by the other party"
                </p>
            </Show>
            <Show when=link_down>
                <p id="call-link" class="call-flag link" role="status">
                    "Connection lost: reconnecting… the call goes on"
                </p>
            </Show>
            <Show when=move || !dtmf_in().is_empty()>
                <p class="call-flag dtmf" role="status">
                    "Tones received: " <span id="dtmf-received">{dtmf_in}</span>
                </p>
            </Show>
            <Show when=move || transfer_status().is_some()>
                <p id="transfer-status" class="call-flag transfer" role="status">
                    {move || transfer_status().unwrap_or_default()}
                </p>
            </Show>
            <div class="controls" role="group" aria-label="Call controls">
                <CallToggle
                    id="hold-button"
                    title="Hold or resume (h)"
                    labels=("Hold", "Resume")
                    pressed=Signal::derive(local_hold)
                    disabled=Signal::derive(move || !active())
                    action=|| Action::ToggleHold
                />
                <CallToggle
                    id="mute-button"
                    title="Mute or unmute the microphone (m)"
                    labels=("Mute", "Unmute")
                    pressed=Signal::derive(muted)
                    action=|| Action::ToggleMute
                />
                <CallToggle
                    id="camera-button"
                    title="Turn the camera on or off"
                    labels=("Camera", "Camera off")
                    pressed=Signal::derive(camera)
                    disabled=Signal::derive(move || !active())
                    action=|| Action::ToggleCamera
                />
                <CallToggle
                    id="share-button"
                    title="Share a screen, window or tab in place of the camera"
                    labels=("Share screen", "Stop sharing")
                    pressed=Signal::derive(sharing)
                    disabled=Signal::derive(move || !active())
                    action=|| Action::ToggleShare
                />
                <CallToggle
                    id="record-button"
                    title="Record this call (kept in this browser only)"
                    labels=("Record", "Stop recording")
                    pressed=Signal::derive(recording)
                    disabled=Signal::derive(move || !active())
                    hidden=Signal::derive(move || !state.may_record.get())
                    action=|| Action::ToggleRecord
                />
                <button
                    id="dtmf-button"
                    type="button"
                    class="ctl"
                    aria-expanded=move || keypad_open.get().to_string()
                    aria-controls="in-call-dialpad"
                    disabled=move || !active()
                    on:click=move |_| keypad_open.update(|o| *o = !*o)
                >
                    "Keypad"
                </button>
                <button
                    id="transfer-button"
                    type="button"
                    class="ctl"
                    aria-expanded=move || transfer_open.get().to_string()
                    aria-controls="transfer-form"
                    disabled=move || !active()
                    on:click=move |_| transfer_open.update(|o| *o = !*o)
                >
                    "Transfer"
                </button>
                <button
                    id="add-call-button"
                    type="button"
                    class="ctl"
                    aria-expanded=move || add_open.get().to_string()
                    aria-controls="dialpad"
                    disabled=move || { !active() || line_count() >= MAX_LINES }
                    on:click=move |_| add_open.update(|o| *o = !*o)
                >
                    "Add call"
                </button>
                <button
                    id="conference-button"
                    type="button"
                    class="ctl"
                    aria-pressed=move || in_conference().to_string()
                    disabled=move || !active() || !other_active() || in_conference()
                    on:click=move |_| driver::dispatch(Action::Conference)
                >
                    "Merge"
                </button>
            </div>
            <Show when=move || keypad_open.get()>
                <div id="in-call-dialpad" class="keys in-call-keys" role="group" aria-label="Send tones">
                    {keys()}
                </div>
                <p class="sent-tones" aria-live="polite">{move || sent.get()}</p>
            </Show>
            <Show when=move || transfer_open.get()>
                <form id="transfer-form" class="transfer" on:submit=on_transfer>
                    <label class="field" for="transfer-target">
                        <span class="label">"Transfer to"</span>
                        <input
                            id="transfer-target"
                            type="text"
                            inputmode="tel"
                            autocomplete="off"
                            spellcheck="false"
                            autocapitalize="off"
                            placeholder="Number or address"
                            prop:value=move || transfer_target.get()
                            on:input=move |ev| transfer_target.set(event_target_value(&ev))
                        />
                    </label>
                    <div class="transfer-actions">
                        <button id="transfer-blind" type="submit" class="primary">
                            "Transfer now"
                        </button>
                        <button
                            id="transfer-attended"
                            type="button"
                            class="ghost"
                            disabled=move || !other_active()
                            title="Connect this call with your other call"
                            on:click=move |_| driver::dispatch(Action::TransferAttended)
                        >
                            "To the other call"
                        </button>
                    </div>
                </form>
            </Show>
            // the phone's dialpad shows below this panel
            <Show when=move || add_open.get()>
                <p class="hint small add-call">"This call is put on hold while you call."</p>
            </Show>
            <CallQuality state=state call=call />
            <div class="call-actions">
                <button
                    id="hangup-button"
                    type="button"
                    class="round hangup"
                    on:click=move |_| driver::dispatch(Action::Hangup)
                >
                    {hangup_label}
                </button>
            </div>
        </section>
    }
}

/// The focused call's quality, polled every second while it is up: figures
/// as data attributes and text, and a line of the last minute's MOS.
/// A call control that is on or off (`aria-pressed`), labelled for what
/// a press does (`labels`: when off, when on).
#[component]
fn CallToggle(
    id: &'static str,
    title: &'static str,
    labels: (&'static str, &'static str),
    pressed: Signal<bool>,
    #[prop(optional)] disabled: Signal<bool>,
    #[prop(optional)] hidden: Signal<bool>,
    action: fn() -> Action,
) -> impl IntoView {
    view! {
        <button
            id=id
            type="button"
            class="ctl"
            aria-pressed=move || pressed.get().to_string()
            title=title
            disabled=disabled
            hidden=hidden
            on:click=move |_| driver::dispatch(action())
        >
            {move || if pressed.get() { labels.1 } else { labels.0 }}
        </button>
    }
}

#[component]
fn CallQuality(state: PhoneState, call: Memo<Option<CallView>>) -> impl IntoView {
    let figures = RwSignal::new(None::<media::Quality>);
    let history = RwSignal::new((None::<CallId>, VecDeque::<f64>::new()));
    let poll = move || {
        let Some(call) = state.active_focus() else {
            return;
        };
        spawn_local(async move {
            let Some(q) = media::quality(call).await else {
                return;
            };
            // the panel may be gone, or another call in focus by now
            let _ = figures.try_set(Some(q));
            let _ = history.try_update(|(id, h)| {
                if *id != Some(call) {
                    *id = Some(call);
                    h.clear();
                }
                if h.len() == QUALITY_POINTS {
                    h.pop_front();
                }
                h.push_back(if q.mos.is_finite() {
                    q.mos.clamp(1.0, 4.5)
                } else {
                    1.0
                });
            });
        });
    };
    every(Duration::from_secs(1), poll);
    // a new call (the panel stays in the page) starts without figures
    Effect::new(move |prev: Option<Option<CallId>>| {
        let id = call.with(|c| c.as_ref().map(|c| c.id));
        if prev.is_some_and(|p| p != id) {
            figures.set(None);
        }
        id
    });
    let attr = move |f: fn(&media::Quality) -> f64, digits: u32| {
        figures.with(|q| q.as_ref().map(|q| fixed(f(q), digits)))
    };
    let points = move || history.with(|(_, h)| mos_points(h));
    // in a word; the figures on demand
    let text = move || {
        figures.with(|q| match q {
            Some(q) => format!("Call quality: {}", Grade::of(q.mos).text()),
            None => "Call quality: measuring…".to_string(),
        })
    };
    let numbers = move || {
        figures.with(|q| {
            q.as_ref().map(|q| {
                format!(
                    "MOS {} (1 to 4.5) · {} ms delay · {} ms jitter · {} % lost",
                    fixed(q.mos, 1),
                    fixed(q.rtt_ms, 0),
                    fixed(q.jitter_ms, 0),
                    fixed(q.loss_pct, 1)
                )
            })
        })
    };
    view! {
        <div
            id="call-quality"
            class="quality"
            data-rtt-ms=move || attr(|q| q.rtt_ms, 0)
            data-jitter-ms=move || attr(|q| q.jitter_ms, 1)
            data-loss-pct=move || attr(|q| q.loss_pct, 1)
            data-mos=move || attr(|q| q.mos, 2)
        >
            <svg
                class="quality-graph"
                viewBox="0 0 240 40"
                preserveAspectRatio="none"
                role="img"
                aria-label="Call quality over the last minute"
            >
                <polyline points=points fill="none" stroke="currentColor" stroke-width="2"></polyline>
            </svg>
            <details class="quality-text">
                <summary>{text}</summary>
                {numbers}
            </details>
        </div>
    }
}

/// Call `f` every `period` while the current reactive owner (the panel)
/// lives. A `gloo_timers` interval kept in the owner: dropping it clears the
/// timer and frees the closure (Leptos' `set_interval_with_handle` hands its
/// closure to JavaScript for good, one more small block per call).
fn every(period: Duration, f: impl FnMut() + 'static) {
    let millis = u32::try_from(period.as_millis()).unwrap_or(u32::MAX);
    let interval = gloo_timers::callback::Interval::new(millis, f);
    // disposed (the interval dropped) with the owner
    let _ = StoredValue::new_local(interval);
}

/// SVG polyline points for MOS values (1 to 4.5) in a 240×40 box, the
/// newest at the right.
fn mos_points(h: &VecDeque<f64>) -> String {
    let step = 240.0 / (QUALITY_POINTS - 1) as f64;
    let start = QUALITY_POINTS.saturating_sub(h.len());
    h.iter()
        .enumerate()
        .map(|(i, mos)| {
            let x = (start + i) as f64 * step;
            let y = 40.0 - (mos - 1.0) / 3.5 * 38.0 - 1.0;
            format!("{},{}", fixed(x, 1), fixed(y, 1))
        })
        .collect::<Vec<_>>()
        .join(" ")
}
