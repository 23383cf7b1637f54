//! The phone model (`app::phone::Phone`) on the two-phone bed: whole
//! phones signing in through the in-process proxy, calling each other, with
//! the line rules, reconnection, alerts and host-page events checked on a
//! virtual clock. No browser: what the driver would carry out is read off
//! the phone's outputs.

mod support;

use softphone::app::alerts::ToneChanges;
use softphone::app::embed::{ApiEvent, Value};
use softphone::app::phone::{Action, AppInput, AppOutput, PREPARED_FOR};
use softphone::app::view::{CallPhase, Notice, RegView};
use softphone::sip::{CallId, Command, Duration, EndReason, MediaRequest};
use support::app::{settings, AppPhone};
use support::{Bed, Side};

type Phones = Bed<AppPhone>;

fn detail<'a>(e: &'a ApiEvent, key: &str) -> Option<&'a Value> {
    e.detail.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
}

fn text(e: &ApiEvent, key: &str) -> String {
    match detail(e, key) {
        Some(Value::Str(s)) => s.clone(),
        Some(Value::Bool(b)) => b.to_string(),
        _ => String::new(),
    }
}

/// The host page's events of `side`, as `name:state` (or `name:message`).
fn host(bed: &mut Phones, side: Side) -> Vec<String> {
    bed.phone(side)
        .host_events()
        .iter()
        .map(|e| {
            let what = match e.name {
                "error" => text(e, "message"),
                "hold" => text(e, "onHold"),
                _ => text(e, "state"),
            };
            format!("{}:{what}", e.name)
        })
        .collect()
}

/// The tone switches given out so far, flattened to (tone, on).
fn tones(bed: &mut Phones, side: Side) -> Vec<(&'static str, bool)> {
    let mut all = Vec::new();
    for o in &bed.phone(side).outputs {
        if let AppOutput::Tones(ToneChanges {
            ringtone,
            soft_ring,
            ringback,
        }) = o
        {
            for (name, v) in [("ring", ringtone), ("soft", soft_ring), ("back", ringback)] {
                if let Some(on) = v {
                    all.push((name, *on));
                }
            }
        }
    }
    all
}

fn forget_outputs(bed: &mut Phones, side: Side) {
    bed.phone(side).outputs.clear();
}

fn phase(bed: &mut Phones, side: Side, call: CallId) -> Option<CallPhase> {
    bed.view(side).line(call).map(|c| c.phase)
}

fn held(bed: &mut Phones, side: Side, call: CallId) -> bool {
    bed.view(side).line(call).is_some_and(|c| c.local_hold)
}

#[test]
fn both_phones_sign_in_and_the_host_hears_each_step() {
    let mut bed = Phones::phones();
    for side in [Side::A, Side::B] {
        let v = bed.view(side);
        assert!(v.is_registered(), "{side:?}: {:?}", v.reg);
        assert!(!v.settings_open, "signed in: the settings form closes");
        assert_eq!(v.error, None);
    }
    assert_eq!(
        host(&mut bed, Side::A),
        [
            "registration:unregistered",
            "registration:connecting",
            "registration:registering",
            "registration:registered",
        ]
    );
    let saved = bed
        .phone(Side::A)
        .outputs
        .iter()
        .any(|o| matches!(o, AppOutput::Save(s) if s.sip_uri == "sip:1000@example.test"));
    assert!(saved, "the settings signed in with are stored");
}

#[test]
fn a_call_rings_with_its_tones_and_title_and_stops_ringing_when_answered() {
    let mut bed = Phones::phones();
    forget_outputs(&mut bed, Side::B);
    let (a, b) = bed.dial(Side::A, "1001");
    let b = b.expect("B rings");
    assert_eq!(phase(&mut bed, Side::A, a), Some(CallPhase::Ringing));
    assert_eq!(tones(&mut bed, Side::A), [("back", true)], "our ringback");
    assert_eq!(tones(&mut bed, Side::B), [("ring", true)]);
    let attention = bed
        .phone(Side::B)
        .outputs
        .iter()
        .rev()
        .find_map(|o| match o {
            AppOutput::Attention(a) => Some(a.clone()),
            _ => None,
        });
    assert_eq!(attention, Some(Some((b, "Alice".to_string()))));
    bed.act(Side::B, Action::Answer);
    assert_eq!(phase(&mut bed, Side::A, a), Some(CallPhase::Active));
    assert_eq!(phase(&mut bed, Side::B, b), Some(CallPhase::Active));
    assert_eq!(tones(&mut bed, Side::B), [("ring", true), ("ring", false)]);
    assert_eq!(tones(&mut bed, Side::A), [("back", true), ("back", false)]);
    assert!(matches!(
        bed.phone(Side::B).outputs.last(),
        Some(AppOutput::Attention(None)) | Some(_)
    ));
    let b_events = host(&mut bed, Side::B);
    assert!(
        b_events.contains(&"incomingcall:".to_string()),
        "{b_events:?}"
    );
    assert!(b_events.ends_with(&["callstate:answering".into(), "callstate:active".into()]));
}

#[test]
fn hanging_up_ends_the_call_on_both_screens_with_a_notice() {
    let mut bed = Phones::phones();
    let (a, b) = bed.connect_call(Side::A, "1001");
    bed.act(Side::B, Action::Hangup);
    assert!(bed.view(Side::A).lines.is_empty() && bed.view(Side::B).lines.is_empty());
    assert_eq!(bed.view(Side::A).focus, None);
    assert_eq!(
        bed.view(Side::A).notice,
        Some(Notice::Ended {
            reason: EndReason::RemoteHangup,
            label: None
        })
    );
    assert_eq!(bed.view(Side::A).error, None, "an ordinary end is no error");
    let ended = |bed: &mut Phones, side, call: CallId| {
        bed.phone(side).host_events().iter().any(|e| {
            e.name == "callstate"
                && text(e, "state") == "ended"
                && text(e, "call") == call.0.to_string()
        })
    };
    assert!(ended(&mut bed, Side::A, a) && ended(&mut bed, Side::B, b));
}

#[test]
fn hold_and_resume_the_call_in_focus() {
    let mut bed = Phones::phones();
    let (a, b) = bed.connect_call(Side::A, "1001");
    let invites = bed.sent(Side::A, "INVITE").len();
    bed.act(Side::A, Action::ToggleHold);
    assert!(held(&mut bed, Side::A, a));
    assert_eq!(bed.view(Side::A).lines[0].line_state(), "held");
    // (the bed's fake media answers sendrecv: B sees no remote hold here)
    assert_eq!(
        bed.sent(Side::A, "INVITE").len(),
        invites + 1,
        "a re-INVITE"
    );
    bed.act(Side::A, Action::ToggleHold);
    assert!(!held(&mut bed, Side::A, a));
    assert!(bed
        .view(Side::B)
        .line(b)
        .is_some_and(|c| c.phase == CallPhase::Active));
    let a_events: Vec<String> = host(&mut bed, Side::A)
        .into_iter()
        .filter(|e| e.starts_with("hold:"))
        .collect();
    assert_eq!(a_events, ["hold:true", "hold:false"]);
}

#[test]
fn a_second_incoming_call_waits_softly_and_answering_it_holds_the_first() {
    let mut bed = Phones::phones();
    let (a1, _) = bed.connect_call(Side::A, "1001");
    forget_outputs(&mut bed, Side::B);
    // B calls back on its second line
    let (b2, a2) = bed.dial(Side::B, "1000");
    let a2 = a2.expect("the second call rings at A");
    assert_eq!(bed.view(Side::A).lines.len(), 2);
    assert_eq!(
        bed.view(Side::A).focus,
        Some(a1),
        "the call in progress keeps the focus"
    );
    let b1 = bed.view(Side::B).lines[0].id;
    assert!(held(&mut bed, Side::B, b1), "B's first call waits on hold");
    assert_eq!(
        tones(&mut bed, Side::A).last(),
        Some(&("soft", true)),
        "a waiting call rings softly"
    );
    bed.act(Side::A, Action::AnswerLine(a2));
    assert_eq!(bed.view(Side::A).focus, Some(a2));
    assert!(held(&mut bed, Side::A, a1), "the first call went on hold");
    assert_eq!(phase(&mut bed, Side::A, a2), Some(CallPhase::Active));
    assert_eq!(phase(&mut bed, Side::B, b2), Some(CallPhase::Active));
    assert_eq!(tones(&mut bed, Side::A).last(), Some(&("soft", false)));
}

/// A calls B (line 1, answered), then B calls A and A answers that
/// (line 2, in focus; line 1 held): A's two lines.
fn two_lines(bed: &mut Phones) -> (CallId, CallId) {
    let (a1, _) = bed.connect_call(Side::A, "1001");
    let (_, a2) = bed.dial(Side::B, "1000");
    let a2 = a2.expect("rings");
    bed.act(Side::A, Action::AnswerLine(a2));
    (a1, a2)
}

#[test]
fn swapping_lines_holds_one_and_resumes_the_other() {
    let mut bed = Phones::phones();
    let (a1, a2) = two_lines(&mut bed);
    assert!(held(&mut bed, Side::A, a1) && !held(&mut bed, Side::A, a2));
    bed.act(Side::A, Action::SwapTo(a1));
    assert_eq!(bed.view(Side::A).focus, Some(a1));
    assert!(!held(&mut bed, Side::A, a1) && held(&mut bed, Side::A, a2));
    // swapping to an incoming line answers it: covered by AnswerLine above
}

#[test]
fn a_third_call_is_declined_when_both_lines_are_taken() {
    let mut bed = Phones::phones();
    bed.connect_call(Side::A, "1001");
    let (_, a2) = bed.dial(Side::B, "1000");
    assert!(a2.is_some());
    // the UI would refuse a third call at B: the core command goes anyway
    bed.act(
        Side::B,
        Action::Core(Command::Call {
            target: "1000".into(),
        }),
    );
    assert_eq!(bed.view(Side::A).lines.len(), 2, "no third line at A");
    assert_eq!(bed.view(Side::B).lines.len(), 2, "B's third call is gone");
    assert!(
        matches!(
            bed.view(Side::B).error,
            Some(Notice::Ended {
                reason: EndReason::Declined,
                ..
            })
        ),
        "the caller is turned away: {:?}",
        bed.view(Side::B).error
    );
}

#[test]
fn the_line_limit_refuses_a_third_call_of_ours() {
    let mut bed = Phones::phones();
    bed.connect_call(Side::A, "1001");
    bed.dial(Side::A, "1001");
    let sent = bed.wire.len();
    bed.act(Side::A, Action::Call("1001".into()));
    assert_eq!(bed.view(Side::A).error, Some(Notice::LinesFull));
    assert_eq!(bed.wire.len(), sent, "nothing was sent");
}

#[test]
fn calling_nothing_or_while_not_connected_says_why_and_sends_nothing() {
    let mut bed = Phones::phones();
    bed.act(Side::A, Action::Call("   ".into()));
    assert_eq!(bed.view(Side::A).error, Some(Notice::NothingToCall));
    bed.disconnect(Side::A);
    let sent = bed.wire.len();
    bed.act(Side::A, Action::Call("1001".into()));
    assert_eq!(bed.view(Side::A).error, Some(Notice::NotConnectedNow));
    assert_eq!(bed.wire.len(), sent);
    assert!(bed.view(Side::A).lines.is_empty());
    let errors: Vec<String> = host(&mut bed, Side::A)
        .into_iter()
        .filter(|e| e.starts_with("error:"))
        .collect();
    assert_eq!(errors.len(), 2, "each error shown is an event: {errors:?}");
}

#[test]
fn a_lost_connection_keeps_the_call_and_the_phone_comes_back_by_itself() {
    let mut bed = Phones::phones();
    let (a, b) = bed.connect_call(Side::A, "1001");
    bed.disconnect(Side::A);
    let v = bed.view(Side::A);
    assert!(
        matches!(v.reg, RegView::Reconnecting { attempt: 1, .. }),
        "{:?}",
        v.reg
    );
    assert!(matches!(v.notice, Some(Notice::Lost { .. })));
    assert!(v
        .line(a)
        .is_some_and(|c| c.link_down && c.phase == CallPhase::Active));
    let retry = bed
        .phone(Side::A)
        .phone
        .poll_timeout()
        .expect("a retry is planned");
    assert!(retry > bed.now);
    bed.connect(Side::A); // the server is back; the phone's own attempt opens it
    bed.advance(Duration::from_secs(3));
    let v = bed.view(Side::A);
    assert!(v.is_registered(), "{:?}", v.reg);
    assert_eq!(v.notice, None, "the lost-connection notice went");
    assert!(v.line(a).is_some_and(|c| !c.link_down));
    assert_eq!(phase(&mut bed, Side::B, b), Some(CallPhase::Active));
    assert_eq!(bed.phone(Side::A).connects.len(), 2);
    let reg = host(&mut bed, Side::A);
    assert!(reg.contains(&"registration:reconnecting".into()), "{reg:?}");
    assert_eq!(
        reg.last().map(String::as_str),
        Some("registration:registered")
    );
}

#[test]
fn attempts_go_on_while_the_server_is_down_and_back_off() {
    let mut bed = Phones::phones();
    bed.disconnect(Side::A);
    let mut delays = Vec::new();
    let mut last = bed.now;
    for _ in 0..5 {
        let at = bed
            .phone(Side::A)
            .phone
            .poll_timeout()
            .expect("next attempt");
        delays.push(at - last);
        bed.advance(at - bed.now);
        last = bed.now;
    }
    assert_eq!(bed.phone(Side::A).connects.len(), 6, "five more attempts");
    assert!(matches!(
        bed.view(Side::A).reg,
        RegView::Reconnecting { attempt: 6, .. }
    ));
    assert!(
        delays[4] > delays[1],
        "the wait grows between failed attempts: {delays:?}"
    );
}

#[test]
fn a_first_sign_in_that_reaches_no_server_gives_up_and_says_so() {
    let mut bed = Phones::phones();
    bed.disconnect(Side::A); // the servers are down
    let mut s = settings("1000", "Alice");
    s.ws_url = "wss://one.test wss://two.test".into();
    bed.act(Side::A, Action::SignIn(Box::new(s)));
    bed.advance(Duration::from_secs(10));
    let v = bed.view(Side::A);
    assert!(matches!(v.reg, RegView::Failed(_)), "{:?}", v.reg);
    assert!(matches!(v.error, Some(Notice::Unreachable(_))));
    assert_eq!(
        bed.phone(Side::A).phone.poll_timeout(),
        None,
        "no more attempts"
    );
    let urls = &bed.phone(Side::A).connects;
    assert_eq!(
        &urls[urls.len() - 2..],
        ["wss://one.test", "wss://two.test"]
    );
}

#[test]
fn offline_shows_offline_and_online_tries_again_at_once() {
    let mut bed = Phones::phones();
    bed.disconnect(Side::A);
    bed.app_input(Side::A, AppInput::Network { online: false });
    assert_eq!(bed.view(Side::A).reg, RegView::Offline);
    bed.connect(Side::A);
    let before = bed.phone(Side::A).connects.len();
    bed.app_input(Side::A, AppInput::Network { online: true });
    assert_eq!(bed.phone(Side::A).connects.len(), before + 1, "at once");
    assert!(bed.view(Side::A).is_registered());
}

#[test]
fn auto_answer_answers_the_only_call_by_itself() {
    let mut bed = Phones::phones_with(|side, s| s.auto_answer = side == Side::B);
    let (a, b) = bed.dial(Side::A, "1001");
    assert_eq!(b, None, "nothing waits to be answered at B");
    assert_eq!(bed.view(Side::B).lines[0].phase, CallPhase::Active);
    assert_eq!(phase(&mut bed, Side::A, a), Some(CallPhase::Active));
    // not while another call is up: B calls A, A does not auto-answer
    let (_, a2) = bed.dial(Side::B, "1000");
    assert_eq!(
        phase(&mut bed, Side::A, a2.expect("rings")),
        Some(CallPhase::Incoming)
    );
}

#[test]
fn do_not_disturb_declines_calls_and_is_stored() {
    let mut bed = Phones::phones();
    bed.act(Side::B, Action::SetDnd(true));
    assert!(bed.view(Side::B).dnd);
    assert!(bed
        .phone(Side::B)
        .outputs
        .contains(&AppOutput::SaveDnd(true)));
    bed.act(Side::A, Action::Call("1001".into()));
    assert!(bed.view(Side::B).lines.is_empty(), "nothing rings at B");
    assert!(bed.view(Side::A).lines.is_empty());
    assert!(bed.view(Side::A).error.is_some(), "A is told");
}

#[test]
fn keys_follow_the_call_on_screen() {
    let mut bed = Phones::phones();
    assert_eq!(bed.phone(Side::B).phone.key_action("Enter", false), None);
    let (_, b) = bed.dial(Side::A, "1001");
    assert!(b.is_some());
    let p = &bed.phone(Side::B).phone;
    assert_eq!(p.key_action("Enter", false), Some(Action::Answer));
    assert_eq!(
        p.key_action("Enter", true),
        None,
        "Enter presses the button in focus"
    );
    assert_eq!(p.key_action("Escape", false), Some(Action::Hangup));
    assert_eq!(p.key_action("5", false), None, "no DTMF before the answer");
    bed.act(Side::B, Action::Answer);
    let p = &bed.phone(Side::B).phone;
    assert_eq!(p.key_action("5", false), Some(Action::SendDtmf("5".into())));
    assert_eq!(p.key_action("h", false), Some(Action::ToggleHold));
}

#[test]
fn mute_is_asked_of_the_media_and_shown() {
    let mut bed = Phones::phones();
    let (a, _) = bed.connect_call(Side::A, "1001");
    bed.act(Side::A, Action::ToggleMute);
    assert!(bed.view(Side::A).line(a).is_some_and(|c| c.muted));
    assert!(bed.phone(Side::A).outputs.contains(&AppOutput::SetMuted {
        call: a,
        muted: true
    }));
}

#[test]
fn a_conference_mixes_two_lines_and_ends_when_one_goes_on_hold() {
    let mut bed = Phones::phones();
    let (a1, _) = bed.connect_call(Side::A, "1001");
    bed.act(Side::A, Action::Conference);
    assert_eq!(bed.view(Side::A).error, Some(Notice::ConferenceNeedsTwo));
    let (_, a2) = bed.dial(Side::B, "1000");
    let a2 = a2.expect("rings");
    bed.act(Side::A, Action::AnswerLine(a2));
    bed.act(Side::A, Action::Conference);
    let v = bed.view(Side::A);
    assert_eq!(v.conference, [a2, a1]);
    assert_eq!(v.notice, Some(Notice::Conference));
    assert!(
        !held(&mut bed, Side::A, a1),
        "the held line was resumed into it"
    );
    assert!(bed
        .phone(Side::A)
        .outputs
        .contains(&AppOutput::Mix(vec![a2, a1])));
    // holding a line of the conference ends it
    forget_outputs(&mut bed, Side::A);
    bed.act(Side::A, Action::ToggleHold);
    assert!(bed.view(Side::A).conference.is_empty());
    assert!(bed.phone(Side::A).outputs.contains(&AppOutput::Mix(vec![])));
}

#[test]
fn a_conference_the_browser_cannot_mix_is_undone_with_the_reason() {
    let mut bed = Phones::phones();
    let (a1, _) = bed.connect_call(Side::A, "1001");
    let (_, a2) = bed.dial(Side::B, "1000");
    bed.act(Side::A, Action::AnswerLine(a2.expect("rings")));
    bed.act(Side::A, Action::Conference);
    bed.app_input(Side::A, AppInput::MixFailed("no AudioContext".into()));
    let v = bed.view(Side::A);
    assert!(v.conference.is_empty());
    assert_eq!(v.error, Some(Notice::MixFailed("no AudioContext".into())));
    assert_eq!(v.notice, None);
    assert!(v.line(a1).is_some());
}

#[test]
fn the_page_going_away_signs_out_once() {
    let mut bed = Phones::phones();
    let (a, _) = bed.connect_call(Side::A, "1001");
    bed.act(Side::A, Action::PageHide);
    bed.act(Side::A, Action::PageHide);
    let byes = bed.sent(Side::A, "BYE").len();
    assert_eq!(byes, 1, "the call is hung up once");
    let unregisters = bed
        .sent(Side::A, "REGISTER")
        .iter()
        .filter(|m| {
            m.header("Expires") == Some("0")
                || String::from_utf8_lossy(&m.to_bytes()).contains("expires=0")
        })
        .count();
    assert_eq!(unregisters, 1, "signed out once");
    assert!(bed.view(Side::A).line(a).is_none());
}

#[test]
fn a_link_waits_for_the_sign_in_then_calls() {
    let mut bed = Phones::phones();
    bed.disconnect(Side::A);
    bed.act(Side::A, Action::CallWhenSignedIn("1001".into()));
    assert_eq!(
        bed.view(Side::A).notice,
        Some(Notice::CallingOnceSignedIn("1001".into()))
    );
    assert!(bed.view(Side::B).lines.is_empty());
    bed.connect(Side::A);
    bed.advance(Duration::from_secs(3));
    assert_eq!(bed.view(Side::A).lines.len(), 1, "called once registered");
    assert_eq!(bed.view(Side::B).lines.len(), 1);
    // already signed in: at once
    bed.act(Side::B, Action::Hangup);
    bed.act(Side::A, Action::CallWhenSignedIn("1001".into()));
    assert_eq!(bed.view(Side::B).lines.len(), 1);
}

#[test]
fn a_new_account_during_a_call_is_refused_but_preferences_change() {
    let mut bed = Phones::phones();
    bed.connect_call(Side::A, "1001");
    let mut other = settings("1001", "Bob");
    other.password = "secret1001".into();
    bed.act(Side::A, Action::SignIn(Box::new(other)));
    assert_eq!(bed.view(Side::A).error, Some(Notice::HangUpFirst));
    let mut prefs = settings("1000", "Alice");
    prefs.ring_volume = 20;
    bed.act(Side::A, Action::SignIn(Box::new(prefs)));
    assert_eq!(bed.view(Side::A).notice, Some(Notice::SettingsSaved));
    assert_eq!(bed.view(Side::A).lines.len(), 1, "the call goes on");
    let configured = bed
        .phone(Side::A)
        .outputs
        .iter()
        .rev()
        .find_map(|o| match o {
            AppOutput::ConfigureMedia(m) => Some(m.ring_volume),
            _ => None,
        });
    assert_eq!(configured, Some(0.2));
    // a preference that does not check out is said, and nothing changes
    let mut odd = settings("1000", "Alice");
    odd.audio_codecs = "PCMU speex".into();
    bed.act(Side::A, Action::SignIn(Box::new(odd)));
    match bed.view(Side::A).error {
        Some(Notice::Text(t)) => assert!(t.contains("\"speex\""), "{t}"),
        other => panic!("no error for an unknown codec: {other:?}"),
    }
    assert!(!bed
        .phone(Side::A)
        .outputs
        .iter()
        .any(|o| matches!(o, AppOutput::Save(s) if s.audio_codecs.contains("speex"))));
    // a good codec list reaches the media
    let mut pcmu = settings("1000", "Alice");
    pcmu.audio_codecs = "ulaw".into();
    bed.act(Side::A, Action::SignIn(Box::new(pcmu)));
    let configured = bed
        .phone(Side::A)
        .outputs
        .iter()
        .rev()
        .find_map(|o| match o {
            AppOutput::ConfigureMedia(m) => Some(m.audio_codecs.clone()),
            _ => None,
        });
    assert_eq!(configured, Some(vec!["PCMU"]));
    assert_eq!(bed.view(Side::A).lines.len(), 1, "the call goes on");
    // and the core knows it: B's offer (opus only here) is refused, in words
    bed.act(Side::A, Action::Hangup);
    bed.act(Side::B, Action::Call("1000".into()));
    assert!(bed.view(Side::A).lines.is_empty(), "A never rang");
    match bed.view(Side::A).notice {
        Some(Notice::Warning(w)) => assert!(
            w.text().contains("offers none of the audio codecs"),
            "{}",
            w.text()
        ),
        other => panic!("A was not told: {other:?}"),
    }
}

#[test]
fn a_blind_transfer_shows_its_progress() {
    let mut bed = Phones::phones();
    let (a, _) = bed.connect_call(Side::A, "1001");
    bed.act(Side::A, Action::TransferBlind("  ".into()));
    assert_eq!(bed.view(Side::A).error, Some(Notice::NoTransferTarget));
    bed.act(Side::A, Action::TransferBlind("1002".into()));
    let shown = bed.view(Side::A).line(a).and_then(|c| c.transfer.clone());
    assert!(shown.is_some(), "the transfer shows on the line");
    assert!(bed.sent(Side::A, "REFER").len() == 1);
}

#[test]
fn results_for_an_older_account_and_abandoned_sockets_are_dropped() {
    let mut bed = Phones::phones();
    let account = bed.phone(Side::A).phone.account();
    let before = bed.view(Side::A);
    bed.app_input(
        Side::A,
        AppInput::Media {
            account: account + 7,
            input: softphone::sip::Input::MediaFailed {
                call: CallId(1),
                reason: "old".into(),
            },
        },
    );
    bed.app_input(
        Side::A,
        AppInput::Closed {
            conn: 99,
            reason: "an old socket".into(),
        },
    );
    assert_eq!(bed.view(Side::A), before, "nothing changed");
    assert!(bed.view(Side::A).is_registered());
}

#[test]
fn one_deadline_covers_the_core_and_the_retry() {
    let mut bed = Phones::phones();
    let core = bed
        .phone(Side::A)
        .phone
        .poll_timeout()
        .expect("registration refresh");
    bed.disconnect(Side::A);
    let next = bed.phone(Side::A).phone.poll_timeout().expect("retry");
    assert!(next < core, "the retry comes first: {next:?} {core:?}");
}

// ------------------------------------------------------------------ tabs

use softphone::app::history::{Direction, Entry};
use softphone::app::lists::{Stored, Tab};
use softphone::app::messaging::{MsgDirection, MsgStatus};
use softphone::app::phone::TabAction;

fn tab(bed: &mut Phones, side: Side, a: TabAction) {
    bed.act(side, Action::Tab(a));
}

fn stored_history(bed: &mut Phones, side: Side) -> Option<usize> {
    stored_entries(bed, side).map(|h| h.len())
}

/// The history list `side` last asked its browser to store.
fn stored_entries(bed: &mut Phones, side: Side) -> Option<Vec<Entry>> {
    bed.phone(side).outputs.iter().rev().find_map(|o| match o {
        AppOutput::Store {
            lists: Stored::History(h),
            ..
        } => Some(h.clone()),
        _ => None,
    })
}

#[test]
fn a_finished_call_goes_into_both_histories_and_is_stored() {
    let mut bed = Phones::phones();
    bed.connect_call(Side::A, "1001");
    bed.advance(Duration::from_secs(5));
    bed.act(Side::A, Action::Hangup);
    let a = bed.phone(Side::A).phone.lists().history.clone();
    let b = bed.phone(Side::B).phone.lists().history.clone();
    assert_eq!(a.len(), 1);
    assert_eq!(b.len(), 1);
    assert_eq!(a[0].direction, Direction::Outgoing);
    assert_eq!(b[0].direction, Direction::Incoming);
    assert_eq!(a[0].duration_secs, 5, "{:?}", a[0]);
    assert!(a[0].start_ms >= 1_780_000_000_000.0, "wall-clock times");
    assert_eq!(stored_history(&mut bed, Side::A), Some(1));
    // cleared: empty, and stored empty
    tab(&mut bed, Side::A, TabAction::ClearHistory);
    assert!(bed.phone(Side::A).phone.lists().history.is_empty());
    assert_eq!(stored_history(&mut bed, Side::A), Some(0));
}

#[test]
fn an_incoming_call_brings_the_phone_tab_forward() {
    let mut bed = Phones::phones();
    tab(&mut bed, Side::B, TabAction::Show(Tab::History));
    assert_eq!(bed.phone(Side::B).phone.lists().layout.tab, Tab::History);
    bed.dial(Side::A, "1001");
    assert_eq!(bed.phone(Side::B).phone.lists().layout.tab, Tab::Phone);
}

#[test]
fn the_wide_layout_keeps_a_list_beside_the_phone() {
    let mut bed = Phones::phones();
    let lists = |bed: &mut Phones| bed.phone(Side::B).phone.lists().clone();
    let layout = |bed: &mut Phones| bed.phone(Side::B).phone.lists().layout;
    // narrow: one view at a time; the contacts wait beside the phone
    let l = layout(&mut bed);
    assert_eq!((l.tab, l.side, l.wide), (Tab::Phone, Tab::Contacts, false));
    assert!(l.in_view(Tab::Phone) && !l.in_view(Tab::Contacts));
    tab(&mut bed, Side::B, TabAction::Width(1280));
    let l = layout(&mut bed);
    assert_eq!(l.selected(), Tab::Contacts);
    assert!(l.in_view(Tab::Phone) && l.in_view(Tab::Contacts));
    assert!(!l.in_view(Tab::History) && !l.in_view(Tab::Messages));
    // a list tab is remembered; a call brings the phone forward and the
    // list stays beside it
    tab(&mut bed, Side::B, TabAction::Show(Tab::History));
    bed.dial(Side::A, "1001");
    let l = layout(&mut bed);
    assert_eq!(
        (l.tab, l.side, l.selected()),
        (Tab::Phone, Tab::History, Tab::History)
    );
    assert!(l.in_view(Tab::Phone) && l.in_view(Tab::History));
    bed.act(Side::B, Action::Hangup);
    // messages beside the phone are read as they arrive; on a narrow
    // screen the phone hides them and they count as unread
    tab(&mut bed, Side::B, TabAction::Show(Tab::Messages));
    tab(&mut bed, Side::B, TabAction::Show(Tab::Phone));
    let send = |bed: &mut Phones, text: &str| {
        tab(
            bed,
            Side::A,
            TabAction::SendMessage {
                to: "1001".into(),
                text: text.into(),
            },
        )
    };
    send(&mut bed, "seen");
    assert_eq!(lists(&mut bed).unread, 0);
    tab(&mut bed, Side::B, TabAction::Width(1023));
    send(&mut bed, "unseen");
    assert_eq!(lists(&mut bed).unread, 1);
    // widening the screen brings the messages into view: read
    tab(&mut bed, Side::B, TabAction::Width(1024));
    assert_eq!(lists(&mut bed).unread, 0);
}

#[test]
fn messages_arrive_unread_until_the_tab_is_looked_at() {
    let mut bed = Phones::phones();
    tab(&mut bed, Side::A, TabAction::Converse("1001".into()));
    tab(
        &mut bed,
        Side::A,
        TabAction::SendMessage {
            to: "sip:1001@example.test".into(),
            text: "hello Bob".into(),
        },
    );
    let la = bed.phone(Side::A).phone.lists().clone();
    assert_eq!(la.layout.tab, Tab::Messages);
    assert_eq!(la.error, None);
    assert_eq!(la.messages.len(), 1);
    assert_eq!(la.messages[0].direction, MsgDirection::Out);
    assert_eq!(
        la.messages[0].status,
        MsgStatus::Delivered,
        "B's 200 came back"
    );
    let lb = bed.phone(Side::B).phone.lists().clone();
    assert_eq!(lb.messages.len(), 1);
    assert_eq!(lb.messages[0].text, "hello Bob");
    assert_eq!(lb.unread, 1);
    assert!(
        lb.message_to.contains("1000"),
        "the picker follows: {}",
        lb.message_to
    );
    tab(&mut bed, Side::B, TabAction::Show(Tab::Messages));
    assert_eq!(bed.phone(Side::B).phone.lists().unread, 0);
    // on the messages tab, but the page is hidden: unread again
    bed.app_input(Side::B, AppInput::PageHidden(true));
    tab(
        &mut bed,
        Side::A,
        TabAction::SendMessage {
            to: "1001".into(),
            text: "again".into(),
        },
    );
    assert_eq!(bed.phone(Side::B).phone.lists().unread, 1);
}

#[test]
fn a_message_that_cannot_be_sent_says_why_in_its_tab() {
    let mut bed = Phones::phones();
    tab(
        &mut bed,
        Side::A,
        TabAction::SendMessage {
            to: "1001".into(),
            text: "   ".into(),
        },
    );
    let l = bed.phone(Side::A).phone.lists().clone();
    assert!(matches!(l.error, Some((Tab::Messages, _))), "{:?}", l.error);
    assert!(l.messages.is_empty());
    assert!(bed.sent(Side::A, "MESSAGE").is_empty());
}

#[test]
fn contacts_are_watched_stored_and_forgotten() {
    let mut bed = Phones::phones();
    bed.presence = Some(support::presence::Server::new(&bed.proxy.passwords));
    tab(
        &mut bed,
        Side::A,
        TabAction::AddContact("sip:1001@example.test".into()),
    );
    let subscribes = bed.sent(Side::A, "SUBSCRIBE").len();
    assert!(subscribes >= 1, "presence of the new contact is asked for");
    assert_eq!(bed.phone(Side::A).phone.lists().contacts.len(), 1);
    let lamp = bed
        .phone(Side::A)
        .phone
        .lists()
        .lamps
        .get("sip:1001@example.test")
        .cloned();
    assert!(lamp.is_some(), "its lamp is lit from the NOTIFY");
    let stored =
        bed.phone(Side::A).outputs.iter().any(
            |o| matches!(o, AppOutput::Store { lists: Stored::Contacts(c), .. } if c.len() == 1),
        );
    assert!(stored);
    // the same address again is refused in the contacts tab
    tab(
        &mut bed,
        Side::A,
        TabAction::AddContact("sip:1001@example.test".into()),
    );
    assert!(matches!(
        bed.phone(Side::A).phone.lists().error,
        Some((Tab::Contacts, _))
    ));
    tab(
        &mut bed,
        Side::A,
        TabAction::RemoveContact("sip:1001@example.test".into()),
    );
    assert!(bed.phone(Side::A).phone.lists().contacts.is_empty());
    assert!(
        bed.sent(Side::A, "SUBSCRIBE").len() > subscribes,
        "and unsubscribed"
    );
}

#[test]
fn the_lists_of_an_account_come_back_from_storage_after_signing_in_again() {
    let mut bed = Phones::phones();
    tab(
        &mut bed,
        Side::A,
        TabAction::AddContact("sip:1001@example.test".into()),
    );
    bed.connect_call(Side::A, "1001");
    bed.act(Side::A, Action::Hangup);
    // another account: its own (empty) lists
    let mut other = settings("1001", "Bob");
    other.password = "secret1001".into();
    bed.act(Side::A, Action::SignIn(Box::new(other)));
    bed.advance(Duration::from_secs(1));
    assert!(bed.phone(Side::A).phone.lists().contacts.is_empty());
    // back to the first: history and contacts again, contacts watched
    let subscribes = bed.sent(Side::A, "SUBSCRIBE").len();
    bed.act(Side::A, Action::SignIn(Box::new(settings("1000", "Alice"))));
    bed.advance(Duration::from_secs(1));
    let l = bed.phone(Side::A).phone.lists().clone();
    assert_eq!(l.account, "sip:1000@example.test");
    assert_eq!((l.history.len(), l.contacts.len()), (1, 1));
    assert!(bed.sent(Side::A, "SUBSCRIBE").len() > subscribes);
}

#[test]
fn a_passing_notice_goes_by_itself_or_when_dismissed_a_lasting_one_stays() {
    let mut bed = Phones::phones();
    bed.connect_call(Side::A, "1001");
    bed.act(Side::B, Action::Hangup);
    assert!(matches!(
        bed.view(Side::A).notice,
        Some(Notice::Ended { .. })
    ));
    let fade = bed.phone(Side::A).phone.poll_timeout().expect("a deadline");
    assert!(fade <= bed.now + softphone::app::phone::NOTICE_FADE);
    bed.advance(softphone::app::phone::NOTICE_FADE);
    assert_eq!(bed.view(Side::A).notice, None, "gone after NOTICE_FADE");
    // dismissed at once
    bed.connect_call(Side::A, "1001");
    bed.act(Side::B, Action::Hangup);
    bed.act(Side::A, Action::DismissNotice);
    assert_eq!(bed.view(Side::A).notice, None);
    // the connection lost: the notice stays while it lasts
    bed.disconnect(Side::A);
    bed.advance(Duration::from_secs(60));
    assert!(matches!(
        bed.view(Side::A).notice,
        Some(Notice::Lost { .. })
    ));
}

// ------------------------------------------------------------- dialling

fn count(bed: &mut Phones, side: Side, o: &AppOutput) -> usize {
    bed.phone(side).outputs.iter().filter(|x| *x == o).count()
}

#[test]
fn dialling_prepares_the_media_once_and_the_call_takes_it() {
    let mut bed = Phones::phones();
    forget_outputs(&mut bed, Side::A);
    bed.act(Side::A, Action::Dialling);
    bed.act(Side::A, Action::Dialling);
    assert_eq!(
        count(&mut bed, Side::A, &AppOutput::PrepareMedia),
        1,
        "once per call"
    );
    let (mine, theirs) = bed.dial(Side::A, "1001");
    assert!(theirs.is_some(), "the call rings at Bob");
    // what the call's offer did not take is released after it
    assert_eq!(count(&mut bed, Side::A, &AppOutput::ReleaseMedia), 1);
    // no preparing while a call is on
    bed.act(Side::A, Action::Dialling);
    assert_eq!(count(&mut bed, Side::A, &AppOutput::PrepareMedia), 1);
    bed.act(Side::A, Action::HangupLine(mine));
    // and nothing more to release later
    bed.advance(PREPARED_FOR * 2);
    assert_eq!(count(&mut bed, Side::A, &AppOutput::ReleaseMedia), 1);
}

#[test]
fn prepared_media_without_a_call_is_released_after_the_last_digit() {
    let mut bed = Phones::phones();
    forget_outputs(&mut bed, Side::A);
    bed.act(Side::A, Action::Dialling);
    bed.advance(PREPARED_FOR / 2);
    bed.act(Side::A, Action::Dialling); // another digit: later
    bed.advance(PREPARED_FOR / 2 + Duration::from_secs(1));
    assert_eq!(
        count(&mut bed, Side::A, &AppOutput::ReleaseMedia),
        0,
        "not yet"
    );
    bed.advance(PREPARED_FOR / 2);
    assert_eq!(count(&mut bed, Side::A, &AppOutput::ReleaseMedia), 1);
    assert_eq!(count(&mut bed, Side::A, &AppOutput::PrepareMedia), 1);
    // a refused call releases at once: nothing can take it
    bed.act(Side::A, Action::Dialling);
    bed.act(Side::A, Action::Call("  ".into()));
    assert_eq!(count(&mut bed, Side::A, &AppOutput::ReleaseMedia), 2);
}

#[test]
fn nothing_is_prepared_when_no_call_could_follow() {
    // not connected
    let mut bed = Phones::phones();
    bed.disconnect(Side::A);
    forget_outputs(&mut bed, Side::A);
    bed.act(Side::A, Action::Dialling);
    assert_eq!(count(&mut bed, Side::A, &AppOutput::PrepareMedia), 0);
    // the page going away releases what was prepared
    let mut bed = Phones::phones();
    bed.act(Side::A, Action::Dialling);
    bed.act(Side::A, Action::PageHide);
    assert_eq!(count(&mut bed, Side::A, &AppOutput::ReleaseMedia), 1);
}

#[test]
fn a_video_call_and_a_video_answer_ask_for_the_camera() {
    let mut bed = Phones::phones();
    let camera_asked = |bed: &mut Phones, side: Side| -> Vec<(bool, bool)> {
        bed.phone(side)
            .media
            .iter()
            .filter_map(|(r, camera)| match r {
                MediaRequest::CreateOffer { .. } => Some((true, *camera)),
                MediaRequest::CreateAnswer { .. } => Some((false, *camera)),
                _ => None,
            })
            .collect()
    };
    // a plain call: no camera on either side, nothing said of video
    let (a, b) = bed.connect_call(Side::A, "1001");
    assert!(!matches!(
        bed.view(Side::A).notice,
        Some(Notice::AnsweredWithoutVideo(_))
    ));
    assert_eq!(camera_asked(&mut bed, Side::A), vec![(true, false)]);
    assert_eq!(camera_asked(&mut bed, Side::B), vec![(false, false)]);
    bed.act(Side::A, Action::HangupLine(a));
    assert!(bed.view(Side::B).line(b).is_none());
    // a video call, answered with the camera
    bed.act(Side::A, Action::VideoCall("1001".into()));
    assert_eq!(bed.view(Side::B).lines.len(), 1, "B rings");
    bed.act(Side::B, Action::AnswerVideo);
    assert_eq!(
        camera_asked(&mut bed, Side::A),
        vec![(true, false), (true, true)]
    );
    assert_eq!(
        camera_asked(&mut bed, Side::B),
        vec![(false, false), (false, true)]
    );
    // (the bed's answers have no video: A is told the call has sound only)
    match &bed.view(Side::A).notice {
        Some(n @ Notice::AnsweredWithoutVideo(_)) => assert_eq!(
            n.text(),
            "1001 answered without video: the call has sound only."
        ),
        other => panic!("A was not told: {other:?}"),
    }
    // the next calls are plain again; hold's new offer asks for no camera
    bed.act(Side::A, Action::ToggleHold);
    bed.act(Side::A, Action::Hangup);
    bed.connect_call(Side::A, "1001");
    assert_eq!(camera_asked(&mut bed, Side::A).last(), Some(&(true, false)));
    assert!(bed
        .phone(Side::A)
        .media
        .iter()
        .filter(|(r, _)| matches!(r, MediaRequest::Reoffer { .. }))
        .all(|(_, camera)| !camera));
    // a ringing call without video offers no video answer
    assert!(bed.view(Side::B).lines.iter().all(|c| !c.video_offered));
}

#[test]
fn the_camera_turns_on_and_off_in_an_established_call_only() {
    let mut bed = Phones::phones();
    let cameras = |bed: &mut Phones| -> Vec<(CallId, bool)> {
        bed.phone(Side::A)
            .outputs
            .iter()
            .filter_map(|o| match o {
                AppOutput::Camera { call, on, .. } => Some((*call, *on)),
                _ => None,
            })
            .collect()
    };
    // calling: not yet
    let (a, _) = bed.dial(Side::A, "1001");
    bed.act(Side::A, Action::ToggleCamera);
    assert!(cameras(&mut bed).is_empty());
    match &bed.view(Side::A).notice {
        Some(n @ Notice::Warning(_)) => assert_eq!(
            n.text(),
            "The camera and screen sharing work only in an established call."
        ),
        other => panic!("A was not told: {other:?}"),
    }
    // answered (an audio call): on, then off
    let b = bed.view(Side::B).lines[0].id;
    bed.act(Side::B, Action::AnswerLine(b));
    bed.act(Side::A, Action::ToggleCamera);
    assert_eq!(bed.view(Side::A).line(a).map(|c| c.camera), Some(true));
    bed.act(Side::A, Action::ToggleCamera);
    assert_eq!(cameras(&mut bed), vec![(a, true), (a, false)]);
    assert_eq!(bed.view(Side::A).line(a).map(|c| c.camera), Some(false));
    // on again, but the browser cannot open it: said, and the button is off
    bed.act(Side::A, Action::ToggleCamera);
    let account = bed
        .phone(Side::A)
        .outputs
        .iter()
        .find_map(|o| match o {
            AppOutput::Camera { account, .. } => Some(*account),
            _ => None,
        })
        .expect("a camera output");
    let failed = |account| AppInput::CameraFailed {
        account,
        call: a,
        reason: "access to it was denied".into(),
    };
    bed.app_input(Side::A, failed(account + 1));
    assert_eq!(
        bed.view(Side::A).line(a).map(|c| c.camera),
        Some(true),
        "another account's"
    );
    bed.app_input(Side::A, failed(account));
    assert_eq!(bed.view(Side::A).line(a).map(|c| c.camera), Some(false));
    assert_eq!(
        bed.view(Side::A)
            .notice
            .as_ref()
            .map(|n| n.text())
            .as_deref(),
        Some(
            "The camera could not be used (access to it was denied): the call goes on without it."
        )
    );
}

#[test]
fn screen_sharing_starts_and_stops_and_says_why_it_could_not() {
    let mut bed = Phones::phones();
    let (a, _) = bed.connect_call(Side::A, "1001");
    let shares = |bed: &mut Phones| -> Vec<(u64, bool)> {
        bed.phone(Side::A)
            .outputs
            .iter()
            .filter_map(|o| match o {
                AppOutput::Share { account, on, .. } => Some((*account, *on)),
                _ => None,
            })
            .collect()
    };
    bed.act(Side::A, Action::ToggleShare);
    assert_eq!(bed.view(Side::A).line(a).map(|c| c.sharing), Some(true));
    bed.act(Side::A, Action::ToggleShare);
    assert_eq!(bed.view(Side::A).line(a).map(|c| c.sharing), Some(false));
    let got = shares(&mut bed);
    assert_eq!(
        got.iter().map(|s| s.1).collect::<Vec<_>>(),
        vec![true, false]
    );
    let account = got[0].0;
    // the browser's own "stop sharing": the button goes off, nothing said
    bed.act(Side::A, Action::ToggleShare);
    bed.app_input(
        Side::A,
        AppInput::ShareStopped {
            account,
            call: a,
            reason: None,
        },
    );
    assert_eq!(bed.view(Side::A).line(a).map(|c| c.sharing), Some(false));
    assert!(bed.view(Side::A).notice.is_none());
    // it could not start: said
    bed.act(Side::A, Action::ToggleShare);
    bed.app_input(
        Side::A,
        AppInput::ShareStopped {
            account,
            call: a,
            reason: Some("it was not allowed, or nothing was picked".into()),
        },
    );
    assert_eq!(bed.view(Side::A).line(a).map(|c| c.sharing), Some(false));
    assert_eq!(
        bed.view(Side::A)
            .notice
            .as_ref()
            .map(|n| n.text())
            .as_deref(),
        Some("The screen could not be shared (it was not allowed, or nothing was picked).")
    );
}

// ---------------------------------------------------------------- recording

use softphone::app::history::Recording;
use softphone::app::phone::RecordingAction;
use softphone::app::settings::RecordPolicy;
use softphone::app::view::RecordError;

/// The recording outputs of `side` so far: `Some(id)` started, `None` stopped.
fn record_outputs(bed: &mut Phones, side: Side) -> Vec<(CallId, Option<String>)> {
    bed.phone(side)
        .outputs
        .iter()
        .filter_map(|o| match o {
            AppOutput::Record { call, id } => Some((*call, id.clone())),
            _ => None,
        })
        .collect()
}

/// A calls B, records the call and hangs up: the recording's key.
fn recorded_call(bed: &mut Phones) -> String {
    bed.connect_call(Side::A, "1001");
    forget_outputs(bed, Side::A);
    bed.act(Side::A, Action::ToggleRecord);
    let id = record_outputs(bed, Side::A)[0].1.clone().expect("started");
    bed.act(Side::A, Action::Hangup);
    id
}

/// A asked its browser to delete exactly these recordings.
fn deleted(bed: &mut Phones, ids: Vec<String>) -> bool {
    bed.phone(Side::A)
        .outputs
        .contains(&AppOutput::DeleteRecordings(ids))
}

/// A's browser has stored recording `id`.
fn saved(bed: &mut Phones, id: String, bytes: u64, video: bool) {
    bed.app_input(Side::A, AppInput::RecordingSaved { id, bytes, video });
}

fn history_recordings(bed: &mut Phones, side: Side) -> Vec<Recording> {
    bed.phone(side)
        .phone
        .lists()
        .history
        .iter()
        .flat_map(|e| e.recordings.clone())
        .collect()
}

#[test]
fn a_recorded_call_lists_its_recording_in_the_history_once_stored() {
    let mut bed = Phones::phones();
    let (a, _) = bed.connect_call(Side::A, "1001");
    assert!(
        bed.view(Side::A).may_record,
        "ask: the call has a Record button"
    );
    bed.act(Side::A, Action::ToggleRecord);
    assert!(bed.view(Side::A).line(a).is_some_and(|c| c.recording));
    let started = record_outputs(&mut bed, Side::A);
    let [(call, Some(id))] = started.as_slice() else {
        panic!("one start: {started:?}");
    };
    assert_eq!(*call, a);
    assert!(host(&mut bed, Side::A).contains(&"recording:".to_string()));
    let id = id.clone();
    // the other side records nothing
    assert!(record_outputs(&mut bed, Side::B).is_empty());
    // stopped, started again: two recordings of one call
    bed.act(Side::A, Action::ToggleRecord);
    assert!(bed.view(Side::A).line(a).is_some_and(|c| !c.recording));
    bed.act(Side::A, Action::ToggleRecord);
    let outs = record_outputs(&mut bed, Side::A);
    assert_eq!(outs.len(), 3, "{outs:?}");
    assert_eq!(outs[1], (a, None));
    let id2 = outs[2].1.clone().expect("started again");
    assert_ne!(id, id2);
    // the first is stored while the call goes on
    saved(&mut bed, id.clone(), 12_345, false);
    bed.act(Side::A, Action::Hangup);
    let listed = history_recordings(&mut bed, Side::A);
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert_eq!(
        (listed[0].id.as_str(), listed[0].bytes),
        (id.as_str(), 12_345)
    );
    assert_eq!(listed[0].size_text(), "13 KB");
    assert_eq!((listed[1].id.as_str(), listed[1].bytes), (id2.as_str(), 0));
    assert_eq!(listed[1].size_text(), "saving…");
    assert!(history_recordings(&mut bed, Side::B).is_empty());
    // the second is stored after the hang-up (the browser stops it then)
    saved(&mut bed, id2.clone(), 3_400_000, true);
    let listed = history_recordings(&mut bed, Side::A);
    assert_eq!((listed[1].bytes, listed[1].video), (3_400_000, true));
    assert_eq!(listed[1].size_text(), "3.4 MB");
    let stored = stored_entries(&mut bed, Side::A);
    assert_eq!(stored.expect("stored")[0].recordings, listed);
}

#[test]
fn recordings_play_download_and_delete_from_the_history() {
    let mut bed = Phones::phones();
    let id = recorded_call(&mut bed);
    let rec = |a| Action::Tab(TabAction::Recording(a));
    bed.act(Side::A, rec(RecordingAction::Play(id.clone())));
    assert!(bed
        .phone(Side::A)
        .outputs
        .contains(&AppOutput::PlayRecording { id: id.clone() }));
    bed.app_input(
        Side::A,
        AppInput::RecordingOpened {
            id: id.clone(),
            url: "blob:x/1".into(),
            video: false,
        },
    );
    let player = bed.phone(Side::A).phone.lists().player.clone();
    assert_eq!(player.map(|p| p.url), Some("blob:x/1".into()));
    bed.act(Side::A, rec(RecordingAction::Download(id.clone())));
    let name = bed.phone(Side::A).outputs.iter().find_map(|o| match o {
        AppOutput::DownloadRecording { id: i, name } if *i == id => Some(name.clone()),
        _ => None,
    });
    let name = name.expect("a download");
    assert!(name.starts_with("call-"), "{name}");
    assert!(
        name.chars()
            .all(|c| c.is_alphanumeric() || "-_.".contains(c)),
        "{name}"
    );
    // deleting it: gone from the list and the store, the player closed
    forget_outputs(&mut bed, Side::A);
    bed.act(Side::A, rec(RecordingAction::Delete(id.clone())));
    assert!(history_recordings(&mut bed, Side::A).is_empty());
    assert_eq!(bed.phone(Side::A).phone.lists().player, None);
    let outs = &bed.phone(Side::A).outputs;
    assert!(outs.contains(&AppOutput::DeleteRecordings(vec![id.clone()])));
    assert!(outs.contains(&AppOutput::ReleaseUrl("blob:x/1".into())));
    // the history entry stays
    assert_eq!(bed.phone(Side::A).phone.lists().history.len(), 1);
    // a recording stored after its entry lost it is deleted, not listed
    forget_outputs(&mut bed, Side::A);
    saved(&mut bed, id.clone(), 9, false);
    assert!(history_recordings(&mut bed, Side::A).is_empty());
    assert!(deleted(&mut bed, vec![id]));
}

#[test]
fn delete_all_and_clearing_the_history_delete_every_recording() {
    let mut bed = Phones::phones();
    let ids = vec![recorded_call(&mut bed), recorded_call(&mut bed)];
    assert_eq!(history_recordings(&mut bed, Side::A).len(), 2);
    forget_outputs(&mut bed, Side::A);
    tab(
        &mut bed,
        Side::A,
        TabAction::Recording(RecordingAction::DeleteAll),
    );
    assert!(history_recordings(&mut bed, Side::A).is_empty());
    assert_eq!(bed.phone(Side::A).phone.lists().history.len(), 2);
    assert!(deleted(&mut bed, ids));
    // clearing the history deletes the recordings it lists
    let id = recorded_call(&mut bed);
    tab(&mut bed, Side::A, TabAction::ClearHistory);
    assert!(deleted(&mut bed, vec![id]));
}

#[test]
fn always_records_each_answered_call_and_never_has_no_recording() {
    let mut bed = Phones::phones_with(|side, s| {
        s.record_calls = match side {
            Side::A => RecordPolicy::Always,
            Side::B => RecordPolicy::Never,
        }
    });
    let (a, b) = bed.connect_call(Side::A, "1001");
    let outs = record_outputs(&mut bed, Side::A);
    assert!(
        matches!(outs.as_slice(), [(c, Some(_))] if *c == a),
        "{outs:?}"
    );
    assert!(bed.view(Side::A).line(a).is_some_and(|c| c.recording));
    // hold and resume do not start a second one
    bed.act(Side::A, Action::ToggleHold);
    bed.act(Side::A, Action::ToggleHold);
    assert_eq!(record_outputs(&mut bed, Side::A).len(), 1);
    // B: no button, and asking says why
    assert!(!bed.view(Side::B).may_record);
    bed.act(Side::B, Action::ToggleRecord);
    assert!(record_outputs(&mut bed, Side::B).is_empty());
    assert!(bed.view(Side::B).line(b).is_some_and(|c| !c.recording));
    let notice = bed.view(Side::B).notice.expect("a notice");
    assert_eq!(notice, Notice::RecordingOff);
    assert!(notice.text().contains("settings"), "{}", notice.text());
}

#[test]
fn a_call_not_yet_answered_is_not_recorded() {
    let mut bed = Phones::phones();
    let (a, _) = bed.dial(Side::A, "1001");
    bed.act(Side::A, Action::ToggleRecord);
    assert!(record_outputs(&mut bed, Side::A).is_empty());
    assert!(bed.view(Side::A).line(a).is_some_and(|c| !c.recording));
    let text = bed.view(Side::A).notice.expect("a notice").text();
    assert!(text.contains("established"), "{text}");
}

#[test]
fn a_full_storage_is_said_and_the_lost_recording_is_not_listed() {
    let mut bed = Phones::phones();
    let (a, _) = bed.connect_call(Side::A, "1001");
    bed.act(Side::A, Action::ToggleRecord);
    let id = record_outputs(&mut bed, Side::A)[0].1.clone().unwrap();
    // the recorder could not start: the call shows no recording
    bed.app_input(
        Side::A,
        AppInput::RecordingFailed {
            id: id.clone(),
            error: RecordError::Recorder("no MediaRecorder".into()),
        },
    );
    assert!(bed.view(Side::A).line(a).is_some_and(|c| !c.recording));
    let text = bed.view(Side::A).notice.expect("a notice").text();
    assert!(text.contains("no MediaRecorder"), "{text}");
    // a second one that the full storage cannot keep
    bed.act(Side::A, Action::ToggleRecord);
    let id2 = record_outputs(&mut bed, Side::A)[1].1.clone().unwrap();
    bed.act(Side::A, Action::Hangup);
    assert_eq!(history_recordings(&mut bed, Side::A).len(), 1);
    bed.app_input(
        Side::A,
        AppInput::RecordingFailed {
            id: id2,
            error: RecordError::Full,
        },
    );
    assert!(history_recordings(&mut bed, Side::A).is_empty());
    let text = bed.view(Side::A).notice.expect("a notice").text();
    assert!(text.contains("full"), "{text}");
    assert_eq!(bed.phone(Side::A).phone.lists().history.len(), 1);
}

#[test]
fn the_host_hears_the_camera_and_the_screen_change() {
    let mut bed = Phones::phones();
    let (a, _) = bed.connect_call(Side::A, "1001");
    bed.act(Side::A, Action::ToggleCamera);
    bed.act(Side::A, Action::ToggleShare);
    // the browser's own "stop sharing"
    let account = bed.phone(Side::A).phone.account();
    bed.app_input(
        Side::A,
        AppInput::ShareStopped {
            account,
            call: a,
            reason: None,
        },
    );
    let seen: Vec<(String, String, String)> = bed
        .phone(Side::A)
        .host_events()
        .iter()
        .filter(|e| e.name == "video")
        .map(|e| (text(e, "call"), text(e, "camera"), text(e, "sharing")))
        .collect();
    let id = a.0.to_string();
    let want = |c: &str, s: &str| (id.clone(), c.to_string(), s.to_string());
    assert_eq!(
        seen,
        vec![
            want("true", "false"),
            want("true", "true"),
            want("true", "false")
        ]
    );
}

#[test]
fn a_conference_is_audio_only_and_says_so() {
    let mut bed = Phones::phones();
    let (a1, a2) = two_lines(&mut bed);
    // the second call (in focus) with the camera
    bed.act(Side::A, Action::ToggleCamera);
    assert!(bed.view(Side::A).line(a2).is_some_and(|c| c.camera));
    forget_outputs(&mut bed, Side::A);
    bed.act(Side::A, Action::Conference);
    let v = bed.view(Side::A);
    assert_eq!(v.conference, [a2, a1]);
    let notice = v.notice.clone().expect("a notice");
    assert_eq!(notice, Notice::ConferenceAudioOnly(true));
    assert!(notice.text().contains("audio only"), "{}", notice.text());
    // the camera of the video call went off, and only that
    assert!(v.line(a2).is_some_and(|c| !c.camera));
    let cams: Vec<_> = bed
        .phone(Side::A)
        .outputs
        .iter()
        .filter(|o| matches!(o, AppOutput::Camera { .. } | AppOutput::Share { .. }))
        .cloned()
        .collect();
    let account = bed.phone(Side::A).phone.account();
    assert_eq!(
        cams,
        [AppOutput::Camera {
            account,
            call: a2,
            on: false
        }]
    );
    // and cannot be turned on in the conference
    forget_outputs(&mut bed, Side::A);
    bed.act(Side::A, Action::ToggleCamera);
    assert!(!bed
        .phone(Side::A)
        .outputs
        .iter()
        .any(|o| matches!(o, AppOutput::Camera { on: true, .. })));
    assert_eq!(
        bed.view(Side::A).notice,
        Some(Notice::ConferenceAudioOnly(false))
    );
}

/// The offers (`offers`) or answers `side` asked its media for, in order:
/// each call, and whether with the camera.
fn media_asked(bed: &mut Phones, side: Side, offers: bool) -> Vec<(CallId, bool)> {
    bed.phone(side)
        .media
        .iter()
        .filter_map(|(r, camera)| match r {
            MediaRequest::CreateOffer { call } if offers => Some((*call, *camera)),
            MediaRequest::CreateAnswer { call, .. } if !offers => Some((*call, *camera)),
            _ => None,
        })
        .collect()
}

#[test]
fn a_transfer_keeps_the_camera_of_the_call_it_came_from() {
    let offers = |bed: &mut Phones| media_asked(bed, Side::B, true);
    for video in [false, true] {
        let mut bed = Phones::phones();
        if video {
            bed.act(Side::A, Action::VideoCall("1001".into()));
            bed.act(Side::B, Action::AnswerVideo);
        } else {
            bed.connect_call(Side::A, "1001");
        }
        let b = bed.view(Side::B).lines[0].id;
        assert_eq!(bed.view(Side::B).line(b).map(|c| c.camera), Some(video));
        assert!(offers(&mut bed).is_empty(), "B made no offer yet");
        // A sends B on to 1002: B calls 1002 as a new call
        bed.act(Side::A, Action::TransferBlind("1002".into()));
        let made = offers(&mut bed);
        assert_eq!(made.len(), 1, "B calls the transfer target: {made:?}");
        assert_ne!(made[0].0, b, "as a new call");
        assert_eq!(made[0].1, video, "with the camera of the call it came from");
    }
}

#[test]
fn a_call_replacing_one_with_the_camera_is_answered_with_it() {
    use softphone::sip::message::Message;
    let answers = |bed: &mut Phones| media_asked(bed, Side::B, false);
    for (camera, offer_video) in [(true, true), (true, false), (false, true)] {
        let mut bed = Phones::phones();
        bed.act(Side::A, Action::VideoCall("1001".into()));
        if camera {
            bed.act(Side::B, Action::AnswerVideo);
        } else {
            bed.act(Side::B, Action::Answer);
        }
        let b = bed.view(Side::B).lines[0].id;
        // the dialog as B knows it: its tag is the To tag of its 200
        let invite: Message = bed.sent(Side::A, "INVITE").remove(0);
        let ok = bed.sent_responses(Side::B, 200, "INVITE").remove(0);
        let tag = |m: &Message, h: &str| {
            let v = m.header(h).expect("header").to_string();
            v.split(";tag=").nth(1).expect("tag").to_string()
        };
        let replaces = format!(
            "{};to-tag={};from-tag={}",
            invite.header("Call-ID").expect("Call-ID"),
            tag(&ok, "To"),
            tag(&invite, "From")
        );
        // Carol calls B replacing that call (an attended transfer by A)
        let mut body = support::sdp("offer-C");
        if offer_video {
            body.push_str("m=video 49172 RTP/AVP 96\r\na=rtpmap:96 VP8/90000\r\n");
        }
        let text = format!(
            "INVITE sip:1001@example.test SIP/2.0\r\n\
             Via: SIP/2.0/WS proxy.test;branch=z9hG4bKrep{camera}{offer_video}\r\n\
             Max-Forwards: 70\r\nFrom: \"Carol\" <sip:1002@example.test>;tag=carol\r\n\
             To: <sip:1001@example.test>\r\nCall-ID: replacing-call\r\nCSeq: 1 INVITE\r\n\
             Contact: <sip:carol@carol.invalid;transport=ws>\r\nReplaces: {replaces}\r\n\
             Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        bed.inject(Side::B, &text);
        bed.settle();
        let made = answers(&mut bed);
        assert_eq!(made.len(), 2, "B answered Carol at once: {made:?}");
        assert_ne!(made[1].0, b);
        assert_eq!(
            made[1].1,
            camera && offer_video,
            "the camera (replaced call's camera {camera}, video offered {offer_video})"
        );
    }
}
