//! Whole phones (`app::phone::Phone`) on the two-phone bed: the same proxy,
//! fake media and virtual clock as the bare user agents, with the phone's
//! own WebSocket handling in between. The bed's `Input::Connected` and
//! `Input::Disconnected` are the server taking the WebSocket up and down;
//! a connection the phone opens while the server is down fails. The
//! tabs' lists are stored in the phone's own outputs and loaded from them.

use super::{Bed, Endpoint, Side};
use softphone::app::embed::ApiEvent;
use softphone::app::lists::Stored;
use softphone::app::phone::{Action, AppInput, AppOutput, Phone, PhoneConfig};
use softphone::app::settings::Settings;
use softphone::app::view::{CallPhase, PhoneView};
use softphone::sip::{CallId, Input, Instant, MediaRequest, Output};
use std::collections::VecDeque;

pub const WS_URL: &str = "wss://proxy.test";

/// One phone at an end of the bed.
pub struct AppPhone {
    pub phone: Phone,
    now: Instant,
    /// The WebSocket the phone asked for last.
    conn: Option<u64>,
    /// The server accepts WebSockets.
    pub server_up: bool,
    /// Outputs for the bed (bytes, media, events), in order.
    bed_out: VecDeque<Output>,
    /// Every other output, in order, for the tests.
    pub outputs: Vec<AppOutput>,
    /// The URLs of the WebSockets asked for.
    pub connects: Vec<String>,
    /// Every media request, and whether it asked for the camera too.
    pub media: Vec<(MediaRequest, bool)>,
}

/// The settings of account `user` (1000 or 1001) with its password.
pub fn settings(user: &str, name: &str) -> Settings {
    Settings {
        ws_url: WS_URL.into(),
        sip_uri: format!("sip:{user}@{}", super::DOMAIN),
        password: format!("secret{user}"),
        display_name: name.into(),
        ..Settings::default()
    }
}

impl AppPhone {
    /// A phone that signs in with `settings` at once (auto-answer and the
    /// other preferences as given).
    pub fn new(settings: Settings, seed: u64, now: Instant) -> AppPhone {
        let config = PhoneConfig {
            stored_unreadable: None,
            embedded: false,
            webrtc: true,
            prefs: Settings::default(),
            instance_id: format!("f81d4fae-7dec-11d0-a765-00a0c91e6bf{seed}"),
            settings_open: true,
            seed,
            wall_ms: 1_780_000_000_000.0,
        };
        let mut p = AppPhone {
            phone: Phone::new(config, now),
            now,
            conn: None,
            server_up: true,
            bed_out: VecDeque::new(),
            outputs: Vec::new(),
            connects: Vec::new(),
            media: Vec::new(),
        };
        p.input(now, AppInput::Action(Action::SignIn(Box::new(settings))));
        p
    }

    fn input(&mut self, now: Instant, input: AppInput) {
        self.now = self.now.max(now);
        self.phone.handle_input(self.now, input);
        self.collect();
    }

    fn collect(&mut self) {
        while let Some(o) = self.phone.poll_output() {
            match o {
                AppOutput::Send(bytes) => self.bed_out.push_back(Output::Send(bytes)),
                AppOutput::Media {
                    request, camera, ..
                } => {
                    self.media.push((request.clone(), camera));
                    self.bed_out.push_back(Output::Media(request));
                }
                AppOutput::Load { account } => {
                    let input = self.stored_lists(account);
                    let now = self.now;
                    self.phone.handle_input(now, input);
                }
                AppOutput::Connect { conn, url } => {
                    self.conn = Some(conn);
                    self.connects.push(url.clone());
                    self.outputs.push(AppOutput::Connect { conn, url });
                    // the bed's Input::Connected opens the first one; later
                    // ones open at once while the server is up
                    if self.connects.len() > 1 {
                        let now = self.now;
                        let input = if self.server_up {
                            AppInput::Opened { conn }
                        } else {
                            AppInput::Failed {
                                conn,
                                reason: "the server refused the connection".into(),
                            }
                        };
                        self.phone.handle_input(now, input);
                    }
                }
                other => self.outputs.push(other),
            }
        }
    }

    /// The lists of `account` as last stored (like `web::lists`).
    fn stored_lists(&self, account: String) -> AppInput {
        let last = |pick: fn(&Stored) -> bool| {
            self.outputs.iter().rev().find_map(|o| match o {
                AppOutput::Store { account: a, lists } if *a == account && pick(lists) => {
                    Some(lists.clone())
                }
                _ => None,
            })
        };
        let history = match last(|l| matches!(l, Stored::History(_))) {
            Some(Stored::History(h)) => h,
            _ => Vec::new(),
        };
        let messages = match last(|l| matches!(l, Stored::Messages(_))) {
            Some(Stored::Messages(m)) => m,
            _ => Vec::new(),
        };
        let contacts = match last(|l| matches!(l, Stored::Contacts(_))) {
            Some(Stored::Contacts(c)) => c,
            _ => Vec::new(),
        };
        AppInput::Loaded {
            account,
            history,
            messages,
            contacts,
        }
    }

    pub fn view(&self) -> &PhoneView {
        self.phone.view()
    }

    /// The host-page events given out so far.
    pub fn host_events(&self) -> Vec<&ApiEvent> {
        self.outputs
            .iter()
            .filter_map(|o| match o {
                AppOutput::Host(e) => Some(e),
                _ => None,
            })
            .collect()
    }
}

impl Endpoint for AppPhone {
    fn handle_input(&mut self, now: Instant, input: Input) {
        let conn = self.conn.unwrap_or(0);
        let app = match input {
            Input::Received(bytes) => AppInput::Received { conn, bytes },
            Input::Connected => {
                self.server_up = true;
                AppInput::Opened { conn }
            }
            Input::Disconnected { reason } => {
                self.server_up = false;
                AppInput::Closed { conn, reason }
            }
            Input::Timeout => AppInput::Timeout,
            Input::Command(cmd) => AppInput::Action(Action::Core(cmd)),
            media => AppInput::Media {
                account: self.phone.account(),
                input: media,
            },
        };
        self.input(now, app);
    }

    fn poll_output(&mut self) -> Option<Output> {
        self.bed_out.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.phone.poll_timeout()
    }
}

impl Bed<AppPhone> {
    /// Alice (1000) and Bob (1001) as whole phones, signed in.
    pub fn phones() -> Bed<AppPhone> {
        Bed::phones_with(|_, _| {})
    }

    /// Like [`Bed::phones`], `tweak` changing either phone's settings first.
    pub fn phones_with(mut tweak: impl FnMut(Side, &mut Settings)) -> Bed<AppPhone> {
        let now = Instant::now();
        let mut a = settings("1000", "Alice");
        let mut b = settings("1001", "Bob");
        tweak(Side::A, &mut a);
        tweak(Side::B, &mut b);
        Bed::with_endpoints(AppPhone::new(a, 1, now), AppPhone::new(b, 2, now))
    }

    pub fn phone(&mut self, side: Side) -> &mut AppPhone {
        self.ua(side)
    }

    pub fn view(&mut self, side: Side) -> PhoneView {
        self.ua(side).view().clone()
    }

    /// A user action on `side`, then everything settles.
    pub fn act(&mut self, side: Side, action: Action) {
        let now = self.now;
        self.ua(side).input(now, AppInput::Action(action));
        self.settle();
    }

    /// Any phone input on `side`, then everything settles.
    pub fn app_input(&mut self, side: Side, input: AppInput) {
        let now = self.now;
        self.ua(side).input(now, input);
        self.settle();
    }

    /// `from` calls `to`'s number; returns the call's id on each side.
    pub fn dial(&mut self, from: Side, to: &str) -> (CallId, Option<CallId>) {
        let other = from.other();
        let before = self.view(other).lines.len();
        self.act(from, Action::Call(to.into()));
        let mine = self.view(from).focus.expect("the new call has the focus");
        let theirs = self
            .view(other)
            .lines
            .iter()
            .skip(before)
            .find(|c| c.phase == CallPhase::Incoming)
            .map(|c| c.id);
        (mine, theirs)
    }

    /// `from` calls `to`, who answers: both calls active.
    pub fn connect_call(&mut self, from: Side, to: &str) -> (CallId, CallId) {
        let (mine, theirs) = self.dial(from, to);
        let theirs = theirs.expect("the call rings at the other phone");
        self.act(from.other(), Action::AnswerLine(theirs));
        (mine, theirs)
    }
}
