//! The user's actions, with the line rules: one live call at a time
//! outside a conference, at most [`MAX_LINES`] lines.

use super::*;
use crate::sip::{CallAction, Warning};

impl Phone {
    pub(super) fn act(&mut self, action: Action) {
        match action {
            Action::SignIn(settings) => self.sign_in(*settings),
            Action::Call(target) => self.call(target),
            Action::VideoCall(target) => {
                self.camera_next = true;
                self.call(target);
                self.camera_next = false;
            }
            Action::CallWhenSignedIn(target) => {
                crate::log::info!("asked to call {target} (link)");
                if self.view.is_registered() {
                    self.call(target);
                } else {
                    self.show_notice(Notice::CallingOnceSignedIn(target.clone()));
                    self.call_when_registered = Some(target);
                }
            }
            Action::Answer => {
                if let Some(call) = lines::to_answer(&self.view.lines, self.view.focused()) {
                    self.answer_replacing(call, None);
                }
            }
            Action::AnswerLine(call) => self.answer_replacing(call, None),
            Action::AnswerVideo => {
                if let Some(call) = lines::to_answer(&self.view.lines, self.view.focused()) {
                    self.camera_next = true;
                    self.answer_replacing(call, None);
                    self.camera_next = false;
                }
            }
            Action::Hangup => {
                if let Some(call) = self.view.focus {
                    self.command(Command::Hangup { call });
                }
            }
            Action::HangupLine(call) => self.command(Command::Hangup { call }),
            Action::SwapTo(call) => self.swap_to(call),
            Action::ToggleHold => self.toggle_hold(),
            Action::ToggleMute => self.toggle_mute(),
            Action::ToggleCamera => self.toggle_camera(),
            Action::ToggleShare => self.toggle_share(),
            Action::ToggleRecord => self.toggle_record(),
            Action::SendDtmf(digits) => self.send_dtmf(&digits),
            Action::TransferBlind(target) => self.transfer_blind(target),
            Action::TransferAttended => self.transfer_attended(),
            Action::Conference => self.conference(),
            Action::SetDnd(on) => {
                self.view.dnd = on;
                self.prefs.dnd = on;
                self.out.push_back(AppOutput::SaveDnd(on));
                self.command(Command::SetDnd { on });
            }
            Action::Core(cmd) => self.command(cmd),
            Action::Tab(a) => self.tab_action(a),
            Action::ShowError(n) => self.show_error(n),
            Action::ShowNotice(n) => self.show_notice(n),
            Action::DismissError => self.view.error = None,
            Action::DismissNotice => {
                self.view.notice = None;
                self.notice_until = None;
            }
            Action::ShowSettings(open) => self.view.settings_open = open,
            Action::PageHide => self.page_hide(),
            Action::Dialling => self.dialling(),
        }
    }

    /// The user is dialling: when a call could follow (signed in, no call
    /// yet), the media is prepared, once; the release moves later with
    /// each digit.
    fn dialling(&mut self) {
        if !self.webrtc || !self.socket_open() || !self.view.lines.is_empty() {
            return;
        }
        if self.prepared_until.is_none() {
            self.out.push_back(AppOutput::PrepareMedia);
        }
        self.prepared_until = Some(self.now + PREPARED_FOR);
    }

    /// Media prepared and not taken by a call is released.
    pub(super) fn release_prepared(&mut self) {
        if self.prepared_until.take().is_some() {
            self.out.push_back(AppOutput::ReleaseMedia);
        }
    }

    /// Call a number or a `sip:` URI; the live call waits on hold meanwhile.
    /// The call's offer takes the media prepared while dialling; whatever
    /// was prepared and not taken (the call was refused) is released after.
    pub(super) fn call(&mut self, target: String) {
        self.place_call(target);
        self.release_prepared();
    }

    fn place_call(&mut self, target: String) {
        let target = target.trim().to_string();
        if target.is_empty() {
            self.show_error(Notice::NothingToCall);
            return;
        }
        if self.view.lines.len() >= MAX_LINES {
            self.show_error(Notice::LinesFull);
            return;
        }
        if self.agent.is_none() || !self.socket_open() {
            let down = matches!(
                self.view.reg,
                RegView::Reconnecting { .. } | RegView::Offline
            );
            self.show_error(if down {
                Notice::NotConnectedNow
            } else {
                Notice::NotSignedIn
            });
            return;
        }
        self.clear_messages();
        self.hold_live_calls(&[]);
        crate::log::info!("calling {target}");
        self.command(Command::Call { target });
    }

    /// Put every live call (established, not on hold, not mixed into a
    /// conference) except `keep` on hold.
    fn hold_live_calls(&mut self, keep: &[CallId]) {
        let live = lines::to_hold(&self.view.lines, keep);
        if !live.is_empty() {
            self.end_conference();
        }
        for call in live {
            crate::log::info!("{call}: holding it for the other line");
            self.command(Command::Hold { call });
        }
    }

    pub(super) fn end_conference(&mut self) {
        if !self.view.conference.is_empty() {
            self.out.push_back(AppOutput::Mix(Vec::new()));
            self.view.conference.clear();
        }
    }

    /// Answer `call` (an incoming line): the live call goes on hold first,
    /// except `replaced` (ending by itself); the answered line takes the
    /// focus.
    pub(super) fn answer_replacing(&mut self, call: CallId, replaced: Option<CallId>) {
        if self.agent.is_none()
            || self
                .view
                .line(call)
                .is_none_or(|c| c.phase != CallPhase::Incoming)
        {
            return;
        }
        self.auto_answer = None;
        self.clear_messages();
        let keep: Vec<CallId> = std::iter::once(call).chain(replaced).collect();
        self.hold_live_calls(&keep);
        self.set_focus(call);
        self.command(Command::Answer { call });
        self.refresh_alerts();
    }

    fn swap_to(&mut self, call: CallId) {
        let Some(target) = self.view.line(call) else {
            return;
        };
        if self.agent.is_none() {
            return;
        }
        let resume = match lines::swap(target) {
            Swap::Answer => return self.answer_replacing(call, None),
            Swap::Focus { resume } => resume,
        };
        self.hold_live_calls(&[call]);
        if resume {
            self.command(Command::Resume { call });
        }
        self.set_focus(call);
        self.refresh_alerts();
    }

    fn toggle_hold(&mut self) {
        let Some(c) = self.view.focused() else {
            return;
        };
        let id = c.id;
        let in_conference = self.view.conference.contains(&id);
        match lines::hold_toggle(c, in_conference) {
            None => {}
            Some(HoldToggle::Resume) => {
                // only one live call at a time (outside a conference)
                self.hold_live_calls(&[id]);
                self.command(Command::Resume { call: id });
            }
            Some(HoldToggle::Hold { end_conference }) => {
                if end_conference {
                    self.end_conference();
                }
                self.command(Command::Hold { call: id });
            }
        }
    }

    /// The camera of the call in focus on or off (only in an established
    /// call: its new offer goes in a re-INVITE).
    fn toggle_camera(&mut self) {
        if let Some((call, on)) = self.toggle_video(|c| &mut c.camera) {
            let account = self.account;
            self.out.push_back(AppOutput::Camera { account, call, on });
        }
    }

    /// Share the screen in the call in focus, or stop (an established call
    /// only).
    fn toggle_share(&mut self) {
        if let Some((call, on)) = self.toggle_video(|c| &mut c.sharing) {
            let account = self.account;
            self.out.push_back(AppOutput::Share { account, call, on });
        }
    }

    /// Flip a video flag (`flag`) of the call in focus when it is
    /// established (else say so): the call and the flag's new value.
    fn toggle_video(&mut self, flag: fn(&mut CallView) -> &mut bool) -> Option<(CallId, bool)> {
        let mut c = self.view.focused()?.clone();
        let call = c.id;
        if self.view.conference.contains(&call) && !*flag(&mut c) {
            self.show_notice(Notice::ConferenceAudioOnly(false));
            return None;
        }
        if c.phase != CallPhase::Active {
            self.show_notice(Notice::Warning(Warning::NotEstablished {
                call,
                action: CallAction::Camera,
            }));
            return None;
        }
        let on = !*flag(&mut c);
        self.set_video_flag(call, flag, on);
        Some((call, on))
    }

    /// Turn the camera and the screen sharing of `call` off (a conference
    /// is audio only): whether either was on.
    fn video_off(&mut self, call: CallId) -> bool {
        let Some(c) = self.view.line(call).cloned() else {
            return false;
        };
        let (account, on) = (self.account, false);
        if c.camera {
            self.set_video_flag(call, |l| &mut l.camera, on);
            self.out.push_back(AppOutput::Camera { account, call, on });
        }
        if c.sharing {
            self.set_video_flag(call, |l| &mut l.sharing, on);
            self.out.push_back(AppOutput::Share { account, call, on });
        }
        c.camera || c.sharing
    }

    fn toggle_mute(&mut self) {
        let Some(c) = self.view.focused() else {
            return;
        };
        if c.phase == CallPhase::Incoming {
            return;
        }
        let (call, muted) = (c.id, !c.muted);
        self.out.push_back(AppOutput::SetMuted { call, muted });
        self.update_line(call, |l| l.muted = muted);
    }

    fn send_dtmf(&mut self, typed: &str) {
        let digits = lines::dtmf_digits(typed);
        let Some(call) = self.view.active_focus() else {
            return;
        };
        if digits.is_empty() {
            return;
        }
        let method = self.prefs.dtmf_method.method();
        self.command(Command::SendDtmf {
            call,
            digits,
            method,
        });
    }

    fn transfer_blind(&mut self, target: String) {
        let target = target.trim().to_string();
        if target.is_empty() {
            self.show_error(Notice::NoTransferTarget);
            return;
        }
        let Some(call) = self.view.active_focus() else {
            return;
        };
        let shown = TransferView::Blind {
            target: target.clone(),
        };
        self.update_line(call, |c| c.transfer = Some(shown));
        self.command(Command::Transfer { call, target });
    }

    fn transfer_attended(&mut self) {
        let Some(call) = self.view.active_focus() else {
            return;
        };
        let Some(consult) = lines::other_active(&self.view.lines, call) else {
            self.show_error(Notice::NeedSecondCall);
            return;
        };
        self.update_line(call, |c| c.transfer = Some(TransferView::Attended));
        self.command(Command::AttendedTransfer { call, consult });
    }

    fn conference(&mut self) {
        if self.agent.is_none() {
            return;
        }
        let Some(a) = self.view.active_focus() else {
            return;
        };
        let Some(b) = lines::other_active(&self.view.lines, a) else {
            self.show_error(Notice::ConferenceNeedsTwo);
            return;
        };
        for id in [a, b] {
            if self.view.line(id).is_some_and(|c| c.local_hold) {
                self.command(Command::Resume { call: id });
            }
        }
        self.out.push_back(AppOutput::Mix(vec![a, b]));
        self.view.conference = vec![a, b];
        // no picture is mixed: the conference is audio only, and says so
        let mut video_off = false;
        for call in [a, b] {
            video_off |= self.video_off(call);
        }
        self.show_notice(if video_off {
            Notice::ConferenceAudioOnly(true)
        } else {
            Notice::Conference
        });
    }
}
