//! Call recording: the Record button, the settings' policy (never, ask,
//! always), and the recordings the history lists. The browser records and
//! keeps them (`web::recordings`); here is which call is recorded under
//! which key, and which history entry lists it.

use super::*;
use crate::app::history;
use crate::app::lists::{Player, Stored};
use crate::app::settings::RecordPolicy;
use crate::sip::{CallAction, Warning};

impl Phone {
    /// Start or stop recording the call in focus (an established call, and
    /// only when the settings allow it).
    pub(super) fn toggle_record(&mut self) {
        let Some(c) = self.view.focused() else {
            return;
        };
        let (call, on, phase) = (c.id, !c.recording, c.phase);
        if !on {
            return self.stop_recording(call);
        }
        if !self.view.may_record {
            return self.show_notice(Notice::RecordingOff);
        }
        if phase != CallPhase::Active {
            return self.show_notice(Notice::Warning(Warning::NotEstablished {
                call,
                action: CallAction::Record,
            }));
        }
        self.start_recording(call);
    }

    /// A call is answered: with "always" its recording starts.
    pub(super) fn record_on_answer(&mut self, call: CallId) {
        let idle = self.view.line(call).is_some_and(|c| !c.recording);
        if idle && self.prefs.record_calls == RecordPolicy::Always {
            self.start_recording(call);
        }
    }

    fn start_recording(&mut self, call: CallId) {
        let id = format!("{}-{:08x}", self.wall_ms() as u64, self.next_seed() >> 32);
        crate::log::info!("{call}: recording as {id}");
        self.recordings
            .entry(call)
            .or_default()
            .push(Recording::new(id.clone()));
        self.set_recording(call, true, &id);
        self.out.push_back(AppOutput::Record { call, id: Some(id) });
    }

    fn stop_recording(&mut self, call: CallId) {
        let id = self
            .recordings
            .get(&call)
            .and_then(|v| v.last())
            .map(|r| r.id.clone())
            .unwrap_or_default();
        crate::log::info!("{call}: recording {id} stopped");
        self.set_recording(call, false, &id);
        self.out.push_back(AppOutput::Record { call, id: None });
    }

    fn set_recording(&mut self, call: CallId, on: bool, id: &str) {
        self.update_line(call, |c| c.recording = on);
        self.out
            .push_back(AppOutput::Host(api::recording_event(call, on, id)));
    }

    /// The recordings of `call`, which has ended, for its history entry.
    pub(super) fn take_recordings(&mut self, call: CallId) -> Vec<Recording> {
        self.recordings.remove(&call).unwrap_or_default()
    }

    /// Recording `id` is stored: its entry shows its size. One that nothing
    /// lists any more (its entry was deleted meanwhile) is deleted.
    pub(super) fn recording_saved(&mut self, id: &str, bytes: u64, video: bool) {
        let set = |r: &mut Recording| {
            r.bytes = bytes.max(1);
            r.video = video;
        };
        if let Some(r) = self
            .recordings
            .iter_mut()
            .flat_map(|(_, v)| v.iter_mut())
            .find(|r| r.id == id)
        {
            return set(r);
        }
        if history::has_recording(&self.lists.history, id) {
            if let Some(r) = history::recording_mut(&mut self.lists_mut().history, id) {
                set(r);
            }
            self.store_history();
        } else {
            crate::log::info!("recording {id}: listed nowhere: deleted");
            self.out
                .push_back(AppOutput::DeleteRecordings(vec![id.to_string()]));
        }
    }

    /// Recording `id` failed: it is no longer listed (unless only playing
    /// it failed for a reason other than its absence), and the person is
    /// told why.
    pub(super) fn recording_failed(&mut self, id: &str, error: RecordError) {
        let n = Notice::Recording(error);
        crate::log::warn!("recording {id}: {}", n.text());
        let live = self
            .recordings
            .iter()
            .find(|(_, v)| v.last().is_some_and(|r| r.id == id))
            .map(|(c, _)| *c);
        if let Some(call) = live.filter(|c| self.view.line(*c).is_some_and(|l| l.recording)) {
            self.set_recording(call, false, id);
        }
        for (_, v) in self.recordings.iter_mut() {
            v.retain(|r| r.id != id);
        }
        if history::has_recording(&self.lists.history, id) {
            history::remove_recording(&mut self.lists_mut().history, id);
            self.store_history();
        }
        if self.lists.player.as_ref().is_some_and(|p| p.id == id) {
            self.close_player();
        }
        self.show_notice(n);
    }

    /// Recording `id` is ready to play: the history shows a player (the
    /// one before goes).
    pub(super) fn recording_opened(&mut self, id: String, url: String, video: bool) {
        if !history::has_recording(&self.lists.history, &id) {
            self.out.push_back(AppOutput::ReleaseUrl(url));
            return;
        }
        let old = self.lists_mut().player.replace(Player { id, url, video });
        if let Some(old) = old {
            self.out.push_back(AppOutput::ReleaseUrl(old.url));
        }
    }

    pub(super) fn close_player(&mut self) {
        if self.lists.player.is_none() {
            return;
        }
        if let Some(old) = self.lists_mut().player.take() {
            self.out.push_back(AppOutput::ReleaseUrl(old.url));
        }
    }

    /// Play, download or delete a recording of the history.
    pub(super) fn recording_action(&mut self, action: RecordingAction) {
        match action {
            RecordingAction::Play(id) => self.out.push_back(AppOutput::PlayRecording { id }),
            RecordingAction::Download(id) => {
                let name = self.download_name(&id);
                self.out
                    .push_back(AppOutput::DownloadRecording { id, name });
            }
            RecordingAction::Delete(id) => {
                if self.lists.player.as_ref().is_some_and(|p| p.id == id) {
                    self.close_player();
                }
                history::remove_recording(&mut self.lists_mut().history, &id);
                self.store_history();
                self.out.push_back(AppOutput::DeleteRecordings(vec![id]));
            }
            RecordingAction::DeleteAll => {
                let ids = history::recording_ids(&self.lists.history);
                if ids.is_empty() {
                    return;
                }
                self.close_player();
                for e in &mut self.lists_mut().history {
                    e.recordings.clear();
                }
                self.store_history();
                self.out.push_back(AppOutput::DeleteRecordings(ids));
            }
            RecordingAction::ClosePlayer => self.close_player(),
        }
    }

    /// `call-<peer>-<key>`: the file name of a downloaded recording
    /// (letters, digits, `.`, `-` and `_` only).
    fn download_name(&self, id: &str) -> String {
        let peer = self
            .lists
            .history
            .iter()
            .find(|e| e.recordings.iter().any(|r| r.id == id))
            .map(|e| e.peer_label.as_str())
            .unwrap_or("");
        let safe: String = format!("call-{peer}-{id}")
            .chars()
            .map(|c| {
                if c.is_alphanumeric() || "-_.".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        safe
    }

    pub(super) fn store_history(&mut self) {
        let list = self.lists.history.clone();
        self.store(Stored::History(list));
    }
}

/// What the person does with a recording in the history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecordingAction {
    Play(String),
    Download(String),
    Delete(String),
    DeleteAll,
    ClosePlayer,
}
