//! The core's events: what they change on screen, what rings, what the
//! host page hears, and which line rules they set off (busy, replaces,
//! auto-answer).

use super::*;

impl Phone {
    pub(super) fn on_event(&mut self, event: Event) {
        crate::log::debug!("event {}", event.name());
        if let Some(host) = api::call_event(&event) {
            self.out.push_back(AppOutput::Host(host));
        }
        self.tabs_on_event(&event);
        match event {
            Event::Registration(reg) => self.registration(reg),
            Event::IncomingCall {
                call,
                from,
                auto_answer_after,
                replaces,
                video,
            } => {
                self.on_incoming(call, from, auto_answer_after, replaces, video);
            }
            Event::CallState { call, state } => self.on_call_state(call, state),
            Event::RemoteHold { call, on_hold } => {
                crate::log::info!(
                    "{call}: the other party {}",
                    if on_hold {
                        "put the call on hold"
                    } else {
                        "resumed the call"
                    }
                );
                self.update_line(call, |c| c.remote_hold = on_hold);
            }
            Event::LocalHold { call, on_hold } => {
                crate::log::info!("{call}: {}", if on_hold { "on hold" } else { "resumed" });
                self.update_line(call, |c| c.local_hold = on_hold);
                if on_hold && self.view.conference.contains(&call) {
                    self.end_conference();
                }
            }
            Event::DtmfReceived { call, digit } => {
                // only DTMF characters are shown (the text comes from the network)
                if digit.is_ascii_digit() || matches!(digit, '*' | '#' | 'A'..='D') {
                    self.update_line(call, |c| {
                        c.dtmf_received.push(digit);
                        // keep the last 32
                        let n = c.dtmf_received.chars().count();
                        if n > 32 {
                            c.dtmf_received = c.dtmf_received.chars().skip(n - 32).collect();
                        }
                    });
                }
            }
            Event::EarlyMedia { call } => {
                self.update_line(call, |c| c.early_media = true);
                self.refresh_alerts();
            }
            Event::TransferProgress {
                call,
                code,
                reason,
                done,
            } => {
                let shown = if done {
                    TransferView::Done {
                        code,
                        reason: reason.clone(),
                    }
                } else {
                    TransferView::Progress {
                        code,
                        reason: reason.clone(),
                    }
                };
                self.update_line(call, |c| c.transfer = Some(shown));
                if done && (200..300).contains(&code) {
                    self.show_notice(Notice::Transferred);
                } else if done {
                    self.show_error(Notice::TransferFailed { code, reason });
                }
            }
            Event::Transferred {
                call,
                target,
                new_call,
            } => {
                crate::log::info!(
                    "{call}: transferred by the other party to {target} ({new_call})"
                );
                // the new call shows up with its Calling state and takes the
                // focus; it keeps the camera if this call had it on
                if self.view.line(call).is_some_and(|c| c.camera) {
                    self.camera_transfer = Some(new_call);
                }
                self.show_notice(Notice::TransferredTo(target));
            }
            Event::MessageReceived { .. }
            | Event::MessageStatus { .. }
            | Event::Presence { .. }
            | Event::Voicemail { .. }
            | Event::SubscriptionFailed { .. } => {
                // the tabs' (tabs_on_event)
            }
            Event::Warning(warning) => {
                crate::log::warn!("{}", warning.text());
                self.show_notice(Notice::Warning(warning));
            }
        }
    }

    fn on_call_state(&mut self, call: CallId, cs: CallState) {
        let known = self.view.line(call).is_some();
        match cs {
            CallState::Calling { to } => {
                // a call we just started (or one the core makes for a transfer)
                if !known {
                    self.view.notice = None;
                }
                self.add_line(CallView::new(call, CallPhase::Calling, &to), true);
            }
            _ if !known => crate::log::debug!("{call}: not on screen: {cs:?}"),
            CallState::Ringing => self.update_line(call, |c| c.phase = CallPhase::Ringing),
            CallState::Answering => self.update_line(call, |c| c.phase = CallPhase::Answering),
            CallState::Active { peer } => {
                let now = self.now;
                let first = self
                    .view
                    .line(call)
                    .is_some_and(|c| c.active_since.is_none());
                self.update_line(call, |c| {
                    c.phase = CallPhase::Active;
                    // keep a display name we already have if the answer has none
                    let named = peer
                        .display_name
                        .as_deref()
                        .is_some_and(|n| !n.trim().is_empty());
                    if named || c.peer_label.is_empty() {
                        c.set_peer(&peer);
                    }
                    c.active_since.get_or_insert(now);
                });
                if first {
                    self.record_on_answer(call);
                }
            }
            CallState::Ended(reason) => self.on_ended(call, reason),
        }
        self.refresh_alerts();
    }

    fn on_ended(&mut self, call: CallId, reason: EndReason) {
        crate::log::info!("{call}: ended: {reason:?}");
        let was_focused = self.view.focus == Some(call);
        let label = self
            .view
            .line(call)
            .map(|c| c.peer_label.clone())
            .unwrap_or_default();
        if self.auto_answer.is_some_and(|(c, _)| c == call) {
            self.auto_answer = None;
        }
        if self.view.conference.contains(&call) {
            self.end_conference();
        }
        self.remove_line(call);
        let named = !was_focused && !label.is_empty() && self.in_call();
        let ordinary = matches!(
            reason,
            EndReason::LocalHangup | EndReason::RemoteHangup | EndReason::CallerCancelled
        );
        let n = Notice::Ended {
            reason,
            label: named.then_some(label),
        };
        if ordinary {
            self.show_notice(n);
        } else {
            self.show_error(n);
        }
    }

    /// A new incoming call (`video`: it offers video): on screen (focused
    /// if nothing else is up), ringing, and answered by itself when it
    /// replaces one of ours (with the camera if that call had it on) or
    /// auto-answer says so; declined when the lines are full.
    fn on_incoming(
        &mut self,
        call: CallId,
        from: Party,
        auto_answer_after: Option<u32>,
        replaces: Option<CallId>,
        video: bool,
    ) {
        let lines = self.view.lines.len();
        let replaced = replaces.map(|old| Replaced {
            call: old,
            on_line: self.view.line(old).is_some(),
        });
        let action = lines::on_incoming(lines, replaced, self.prefs.auto_answer, auto_answer_after);
        if action == IncomingAction::Decline {
            crate::log::info!("{call}: busy, rejecting the call from {}", from.uri);
            self.command(Command::Hangup { call });
            return;
        }
        crate::log::info!("{call}: incoming call from {}", from.uri);
        let first = lines == 0;
        if first {
            self.view.notice = None;
        }
        let mut line = CallView::new(call, CallPhase::Incoming, &from);
        line.video_offered = video;
        self.add_line(line, first);
        match action {
            IncomingAction::AnswerReplacing(old) => {
                crate::log::info!("{call}: replaces {old}: answering at once");
                self.camera_next = video && self.view.line(old).is_some_and(|c| c.camera);
                self.answer_replacing(call, Some(old));
                self.camera_next = false;
                return;
            }
            IncomingAction::AutoAnswer { after_secs: 0 } => {
                crate::log::info!("{call}: auto-answer now");
                self.answer_replacing(call, None);
                return;
            }
            IncomingAction::AutoAnswer { after_secs } => {
                crate::log::info!("{call}: auto-answer in {after_secs} s");
                let at = self.now + crate::sip::Duration::from_secs(u64::from(after_secs));
                self.auto_answer = Some((call, at));
            }
            _ => {}
        }
        self.refresh_alerts();
    }
}
