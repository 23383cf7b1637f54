//! The account and its connection: signing in, the WebSocket, losing it,
//! reconnecting with back-off, the browser's network events, the page
//! going away.

use super::*;

impl Phone {
    /// Save the settings and sign in with them: a new user agent, a new
    /// WebSocket, then `Register` once it is open.
    pub(super) fn sign_in(&mut self, settings: Settings) {
        self.clear_messages();
        if !self.embedded {
            self.out.push_back(AppOutput::AskNotificationPermission);
        }
        if self.in_call() {
            // during a call only the phone preferences can change
            let same = self.agent.is_some() && self.prefs.same_account(&settings);
            if !same {
                self.show_error(Notice::HangUpFirst);
                return;
            }
            match settings::prepare(&settings, &self.instance_id) {
                Ok(prepared) => {
                    self.out.push_back(AppOutput::Save(settings.clone()));
                    self.apply_prefs(&prepared, &settings);
                    self.view.settings_open = false;
                    self.show_notice(Notice::SettingsSaved);
                }
                // (a preference such as the codec list can be wrong too)
                Err(msg) => self.show_error(Notice::Text(msg)),
            }
            return;
        }
        let prepared = match settings::prepare(&settings, &self.instance_id) {
            Ok(p) => p,
            Err(msg) => {
                self.set_reg(RegView::Failed(msg.clone()));
                self.show_error(Notice::Text(msg));
                return;
            }
        };
        self.out.push_back(AppOutput::Save(settings.clone()));
        crate::log::info!("signing in: {}", prepared.summary());

        // the previous account: sign out (best effort) on its connection
        let was_registered = self.socket_open() && self.view.is_registered();
        if was_registered {
            self.command(Command::Unregister);
        }
        self.out.push_back(AppOutput::CloseAllMedia);
        self.prepared_until = None; // (closed with the rest)
        self.apply_prefs(&prepared, &settings);
        let codecs = codecs_of(&prepared);

        let aor = prepared.config.aor.clone();
        let seed = self.next_seed();
        let agent = UserAgent::new(prepared.config, seed);
        self.account += 1;
        self.socket = Socket::None;
        self.out.push_back(AppOutput::Disconnect);
        self.retry_at = None;
        let agent = match agent {
            Ok(a) => a,
            Err(e) => {
                self.agent = None;
                let msg = Notice::BadAccount(e);
                self.set_reg(RegView::Failed(msg.text()));
                self.show_error(msg);
                return;
            }
        };
        let seed = self.next_seed();
        self.agent = Some(agent);
        self.ever_connected = false;
        self.reconnect = Some(Reconnect::new(prepared.servers, seed));
        self.auto_answer = None;
        self.aor = aor;
        self.view.lines.clear();
        self.view.focus = None;
        self.view.conference.clear();
        self.refresh_alerts();
        if settings.dnd {
            self.command(Command::SetDnd { on: true });
        }
        if !codecs.is_empty() {
            self.command(Command::SetAudioCodecs { codecs });
        }
        if !self.webrtc {
            self.command(Command::SetMediaAvailable { available: false });
            self.show_error(Notice::NoWebRtc);
        }
        self.open_connection();
    }

    /// Media settings to WebRTC, the phone preferences to the phone.
    fn apply_prefs(&mut self, prepared: &settings::Prepared, s: &Settings) {
        self.out
            .push_back(AppOutput::ConfigureMedia(MediaConfig::of(prepared, s)));
        let dnd_changed = self.prefs.dnd != s.dnd;
        let codecs_changed = self.prefs.audio_codecs != s.audio_codecs;
        self.prefs = s.clone();
        self.view.dnd = s.dnd;
        self.view.may_record = s.record_calls != settings::RecordPolicy::Never;
        if dnd_changed {
            self.command(Command::SetDnd { on: s.dnd });
        }
        if codecs_changed {
            self.command(Command::SetAudioCodecs {
                codecs: codecs_of(prepared),
            });
        }
    }

    pub(super) fn socket_open(&self) -> bool {
        matches!(self.socket, Socket::Open(_))
    }

    /// Open a WebSocket to the current server of the list.
    pub(super) fn open_connection(&mut self) {
        self.retry_at = None;
        if self.agent.is_none() || self.socket != Socket::None {
            return;
        }
        let Some(url) = self.reconnect.as_ref().map(|r| r.current().to_string()) else {
            return;
        };
        self.conn += 1;
        self.socket = Socket::Opening(self.conn);
        if !matches!(self.view.reg, RegView::Reconnecting { .. }) {
            self.set_reg(RegView::Connecting);
        }
        self.out.push_back(AppOutput::Connect {
            conn: self.conn,
            url,
        });
    }

    pub(super) fn on_open(&mut self, conn: u64) {
        if self.socket != Socket::Opening(conn) {
            return; // an abandoned connection
        }
        self.socket = Socket::Open(conn);
        self.ever_connected = true;
        if let Some(r) = self.reconnect.as_mut() {
            r.on_connected();
        }
        self.feed(Input::Connected);
        self.command(Command::Register);
    }

    /// WebSocket `conn` is gone: tell the agent, keep the calls, and plan
    /// the next attempt (or give up if no server ever answered).
    pub(super) fn on_lost(&mut self, conn: u64, reason: String, was_open: bool) {
        if self.socket.id() != Some(conn) {
            return; // already replaced
        }
        let was_open = was_open && self.socket_open();
        self.socket = Socket::None;
        self.out.push_back(AppOutput::Disconnect);
        let (ever, online) = (self.ever_connected, self.online);
        let plan = self
            .reconnect
            .as_mut()
            .map(|r| connection::after_loss(r, was_open, ever, online));
        crate::log::warn!("connection lost: {reason}");
        if was_open {
            self.feed(Input::Disconnected {
                reason: reason.clone(),
            });
        }
        for c in &mut self.view.lines {
            c.link_down = true;
        }
        let (attempt, notice, offline) = match plan {
            None => return,
            Some(AfterLoss::GiveUp) => {
                // no server of the list ever answered: the settings are
                // wrong, or the server is down; say so and wait for the user
                self.set_reg(RegView::Failed(reason.clone()));
                self.show_error(Notice::Unreachable(reason));
                return;
            }
            Some(AfterLoss::Retry {
                attempt,
                notice,
                offline,
            }) => (attempt, notice, offline),
        };
        crate::log::info!(
            "reconnecting to {} in {} ms (attempt {})",
            attempt.server,
            attempt.delay.as_millis(),
            attempt.number
        );
        if notice {
            let n = Notice::Lost { reason };
            self.lost_notice = Some(n.clone());
            self.show_notice(n);
        }
        let at = self.now + attempt.delay;
        // offline: attempts go on (a server on this machine or the LAN may
        // still answer), and the `online` event tries again at once
        self.set_reg(if offline {
            RegView::Offline
        } else {
            RegView::Reconnecting {
                server: attempt.server,
                attempt: attempt.number,
                at,
            }
        });
        self.retry_at = Some(at);
    }

    /// The browser's `online`/`offline` events.
    pub(super) fn on_network(&mut self, online: bool) {
        crate::log::info!("browser says {}", if online { "online" } else { "offline" });
        self.online = online;
        if self.agent.is_none() || self.socket_open() {
            return; // nothing to do, or the socket is still fine
        }
        if online {
            // try at once, from the first server
            self.retry_at = None;
            if let Some(r) = self.reconnect.as_mut() {
                r.reset();
            }
            self.open_connection();
        } else {
            // the scheduled attempt stays (see on_lost)
            self.set_reg(RegView::Offline);
        }
    }

    /// The page is going away: hang up and unregister while the socket is
    /// still there. Called on `beforeunload` and again on `pagehide`
    /// (Firefox closes the WebSocket between the two, Chromium after both,
    /// and a tab closed without `beforeunload` has only `pagehide`):
    /// whichever comes first signs out.
    pub(super) fn page_hide(&mut self) {
        if self.agent.is_none() || self.signed_out == Some(self.account) {
            return;
        }
        self.signed_out = Some(self.account);
        self.release_prepared();
        crate::log::info!("page closing: hanging up and signing out");
        self.command(Command::Shutdown);
    }

    /// Registered (again): errors down, the lost-connection notice down,
    /// the calls reachable again, a waiting link called.
    pub(super) fn on_registered(&mut self) {
        self.view.error = None;
        if !self.webrtc {
            // signed in, still unable to call: keep saying so
            self.show_error(Notice::NoWebRtc);
        }
        self.view.settings_open = false;
        let lost = self.lost_notice.take();
        if lost.is_some() && self.view.notice == lost {
            self.view.notice = None;
        }
        for c in &mut self.view.lines {
            c.link_down = false;
        }
    }

    pub(super) fn registration(&mut self, reg: RegistrationState) {
        let was_registered = self.view.is_registered();
        let view = match reg {
            RegistrationState::Unregistered => RegView::Unregistered,
            RegistrationState::Registering if was_registered => return, // a refresh
            RegistrationState::Registering => RegView::Registering,
            RegistrationState::Registered { .. } => RegView::Registered {
                aor: self.aor.clone(),
            },
            RegistrationState::Unregistering => RegView::Unregistering,
            RegistrationState::Failed { reason } => RegView::Failed(reason),
        };
        match &view {
            RegView::Registered { .. } if !was_registered => self.on_registered(),
            RegView::Failed(reason) => {
                self.show_error(Notice::RegistrationFailed(reason.clone()));
                self.view.settings_open = true;
            }
            _ => {}
        }
        self.set_reg(view);
        if self.view.is_registered() {
            if let Some(target) = self.call_when_registered.take() {
                self.call(target);
            }
        }
    }
}

/// The audio codecs of checked settings, for the core.
fn codecs_of(prepared: &settings::Prepared) -> Vec<String> {
    prepared
        .audio_codecs
        .iter()
        .map(|c| c.to_string())
        .collect()
}
