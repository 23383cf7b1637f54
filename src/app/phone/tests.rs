//! The phone on its own, without a server (see `tests/app_phone.rs` for
//! whole phones on the two-phone bed).

use super::*;
use crate::app::lists::Tab;

fn config(webrtc: bool) -> PhoneConfig {
    PhoneConfig {
        embedded: true,
        webrtc,
        prefs: Settings::default(),
        stored_unreadable: None,
        instance_id: "f81d4fae-7dec-11d0-a765-00a0c91e6bf6".into(),
        settings_open: true,
        seed: 7,
        wall_ms: 0.0,
    }
}

fn phone(webrtc: bool) -> (Phone, Vec<AppOutput>) {
    let mut p = Phone::new(config(webrtc), Instant::now());
    let out = std::iter::from_fn(|| p.poll_output()).collect();
    (p, out)
}

fn drain(p: &mut Phone) -> Vec<AppOutput> {
    std::iter::from_fn(|| p.poll_output()).collect()
}

#[test]
fn saved_settings_that_cannot_be_read_are_said_not_dropped_in_silence() {
    let p = Phone::new(
        PhoneConfig {
            stored_unreadable: Some("nested deeper than 32".into()),
            ..config(true)
        },
        Instant::now(),
    );
    let error = p.view().error.clone().expect("an error on screen");
    assert_eq!(
        error,
        Notice::StoredSettingsUnreadable("nested deeper than 32".into())
    );
    let text = error.text();
    assert!(text.contains("could not be read"), "{text}");
    assert!(text.contains("nested deeper than 32"), "{text}");
    // without it, a new phone shows no error
    let (fresh, _) = phone(true);
    assert_eq!(fresh.view().error, None);
}

#[test]
fn a_new_phone_tells_the_host_and_asks_for_its_lists() {
    let (p, out) = phone(true);
    assert_eq!(p.view().reg, RegView::Unregistered);
    assert!(p.view().settings_open);
    assert!(matches!(&out[0], AppOutput::Host(e) if e.name == "registration"));
    assert!(out.contains(&AppOutput::Load {
        account: String::new()
    }));
    assert_eq!(p.poll_timeout(), None, "nothing to wait for");
}

#[test]
fn without_webrtc_the_phone_says_so_at_once() {
    let (p, out) = phone(false);
    assert_eq!(p.view().error, Some(Notice::NoWebRtc));
    assert!(out
        .iter()
        .any(|o| matches!(o, AppOutput::Host(e) if e.name == "error")));
}

#[test]
fn without_an_account_nothing_is_sent_and_the_user_is_told() {
    let (mut p, _) = phone(true);
    let now = Instant::now();
    p.handle_input(now, AppInput::Action(Action::Call("1001".into())));
    assert_eq!(p.view().error, Some(Notice::NotSignedIn));
    p.handle_input(now, AppInput::Action(Action::Hangup));
    p.handle_input(
        now,
        AppInput::Action(Action::Tab(TabAction::SendMessage {
            to: "1001".into(),
            text: "hi".into(),
        })),
    );
    assert!(matches!(p.lists().error, Some((Tab::Messages, _))));
    let out = drain(&mut p);
    assert!(!out
        .iter()
        .any(|o| matches!(o, AppOutput::Send(_) | AppOutput::Connect { .. })));
}

#[test]
fn settings_that_do_not_check_out_fail_without_a_connection() {
    let (mut p, _) = phone(true);
    let bad = Settings {
        sip_uri: "not an address".into(),
        ws_url: "wss://pbx.example".into(),
        password: "x".into(),
        ..Settings::default()
    };
    p.handle_input(
        Instant::now(),
        AppInput::Action(Action::SignIn(Box::new(bad))),
    );
    assert!(matches!(p.view().reg, RegView::Failed(_)));
    assert!(matches!(p.view().error, Some(Notice::Text(_))));
    let out = drain(&mut p);
    assert!(!out
        .iter()
        .any(|o| matches!(o, AppOutput::Connect { .. } | AppOutput::Save(_))));
    assert!(!p.has_account());
}

#[test]
fn a_lists_answer_for_another_account_is_ignored() {
    let (mut p, _) = phone(true);
    let before = p.lists_version();
    p.handle_input(
        Instant::now(),
        AppInput::Loaded {
            account: "sip:someone@else".into(),
            history: Vec::new(),
            messages: Vec::new(),
            contacts: vec![crate::app::contacts::Contact {
                uri: "sip:x@y".into(),
            }],
        },
    );
    assert!(p.lists().contacts.is_empty());
    assert_eq!(p.lists_version(), before);
}
