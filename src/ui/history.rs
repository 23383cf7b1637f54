//! The call history view: `#history`, newest first, one
//! `li.history-item[data-direction]` per call with `.history-peer`,
//! `.history-duration` (`m:ss`) and `.history-redial`; a recorded call
//! lists its recordings (`li.recording[data-id]` with `.recording-play`,
//! `.recording-download`, `.recording-delete`), played in
//! `#recording-player`.

use super::views::{self, Views};
use crate::app::history::{Entry, Recording};
use crate::app::lists::Tab;
use crate::app::phone::{RecordingAction, TabAction};
use leptos::prelude::*;

#[component]
pub fn HistoryView(views: Views) -> impl IntoView {
    // The rows are made anew whenever the list changes (once a call ends),
    // not kept by a keyed <For>: each row of a <For> leaves a small block
    // behind in Leptos 0.8 when it is removed (its owner stays listed in the
    // list's owner), and once the list is full every new call removes one
    // (and the old keys, by index, even rebuilt all 100). 100 plain rows
    // are quick to make, and this way nothing stays behind. They are made
    // only while the History tab is shown: a call ending on the Phone tab
    // builds nothing here.
    let rows = move || {
        if !views.layout.with(|l| l.in_view(Tab::History)) {
            return None;
        }
        Some(views.history.with(|h| {
            h.iter()
                .rev()
                .map(|e| view! { <HistoryItem entry=e.clone() /> })
                .collect_view()
        }))
    };
    let empty = move || views.history.with(|h| h.is_empty());
    let no_recordings = move || {
        views
            .history
            .with(|h| h.iter().all(|e| e.recordings.is_empty()))
    };
    let player = move || {
        // one <video> plays both kinds (an audio recording shows no picture)
        views.player.get().map(|p| {
            view! {
                <div id="recording-player" class="recording-player" data-id=p.id>
                    <video
                        controls=true
                        autoplay=true
                        src=p.url
                        class="recording-media"
                        class:audio-only=!p.video
                    ></video>
                    <button
                        type="button"
                        class="ghost small"
                        id="recording-close"
                        on:click=move |_| rec(RecordingAction::ClosePlayer)
                    >
                        "Close"
                    </button>
                </div>
            }
        })
    };
    view! {
        <div class="card view-card">
            <div class="view-head">
                <h2>"Recent calls"</h2>
                <button
                    type="button"
                    class="ghost small"
                    id="history-clear"
                    disabled=empty
                    on:click=move |_| views::act(TabAction::ClearHistory)
                >
                    "Clear"
                </button>
                <button
                    type="button"
                    class="ghost small"
                    id="recordings-delete-all"
                    hidden=no_recordings
                    on:click=move |_| rec(RecordingAction::DeleteAll)
                >
                    "Delete recordings"
                </button>
            </div>
            {player}
            <Show when=empty>
                <p class="empty">"No calls yet."</p>
            </Show>
            <ul id="history" class="view-list" aria-label="Recent calls">
                {rows}
            </ul>
        </div>
    }
}

#[component]
fn HistoryItem(entry: Entry) -> impl IntoView {
    let target = entry.redial_target().to_string();
    let direction = entry.direction;
    let when = views::format_time(entry.start_ms);
    let duration = entry.duration_text();
    let outcome = entry.outcome.clone();
    let redial_label = format!("Call {} back", entry.peer_label);
    let dir_label = direction.label();
    let icon = match direction {
        crate::app::history::Direction::Incoming => "↙",
        crate::app::history::Direction::Outgoing => "↗",
        crate::app::history::Direction::Missed => "✕",
    };
    view! {
        <li class="history-item" data-direction=direction.as_str()>
            <span class="dir-icon" aria-hidden="true" title=dir_label>{icon}</span>
            <div class="item-main">
                <span class="sr-only">{dir_label}": "</span>
                <span class="history-peer" title=entry.peer_uri.clone()>{entry.peer_label.clone()}</span>
                <span class="item-meta">
                    <time>{when}</time>
                    " · "
                    <span class="history-duration" aria-label=format!("duration {duration}")>{duration.clone()}</span>
                    {(!outcome.is_empty()).then(|| view! { <span class="history-outcome">" · "{outcome}</span> })}
                </span>
                {(!entry.recordings.is_empty()).then(|| view! {
                    <ul class="history-recordings" aria-label="Recordings">
                        {entry.recordings.iter().map(|r| view! { <RecordingItem r=r.clone() /> }).collect_view()}
                    </ul>
                })}
            </div>
            <button
                type="button"
                class="history-redial icon-button"
                aria-label=redial_label.clone()
                title=redial_label
                on:click=move |_| views::act(TabAction::Call(target.clone()))
            >
                "✆"
            </button>
        </li>
    }
}

fn rec(a: RecordingAction) {
    views::act(TabAction::Recording(a));
}

#[component]
fn RecordingItem(r: Recording) -> impl IntoView {
    let (kind, name) = if r.video {
        ("Video recording", "video recording")
    } else {
        ("Recording", "recording")
    };
    let saving = r.bytes == 0;
    type Button = (
        &'static str,
        &'static str,
        bool,
        fn(String) -> RecordingAction,
    );
    let buttons: [Button; 3] = [
        ("recording-play", "Play", saving, RecordingAction::Play),
        (
            "recording-download",
            "Download",
            saving,
            RecordingAction::Download,
        ),
        ("recording-delete", "Delete", false, RecordingAction::Delete),
    ];
    let buttons = buttons
        .into_iter()
        .map(|(class, label, disabled, action)| {
            let id = r.id.clone();
            view! {
                <button
                    type="button"
                    class=format!("{class} ghost small")
                    aria-label=format!("{label} this {name}")
                    disabled=disabled
                    on:click=move |_| rec(action(id.clone()))
                >
                    {label}
                </button>
            }
        })
        .collect_view();
    view! {
        <li class="recording" data-id=r.id.clone() data-bytes=r.bytes.to_string()>
            <span class="recording-label">"● "{kind}" · "{r.size_text()}</span>
            {buttons}
        </li>
    }
}
