use super::*;
use crate::sip::CallId;

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

#[test]
fn config_from_attributes_and_camel_case() {
    let (c, warnings) = EmbedConfig::from_pairs([
        ("ws", " ws://127.0.0.1:8088 "),
        ("uri", "sip:1000@127.0.0.1"),
        ("auth-user", "1000"),
        ("displayName", "Ann"),
        ("auto-answer", ""),
        ("register", "false"),
        ("theme", "Dark"),
        ("dtmf", "info"),
        ("audio-codecs", " ulaw,alaw "),
        ("layout", "floating"),
        ("colour", "red"),
    ])
    .unwrap();
    assert_eq!(c.ws, "ws://127.0.0.1:8088");
    assert_eq!(c.auth_user, "1000");
    assert_eq!(c.display_name, "Ann");
    assert!(c.auto_answer);
    assert!(!c.register);
    assert_eq!(c.theme, Theme::Dark);
    assert_eq!(c.dtmf_method, DtmfSetting::Info);
    assert_eq!(c.audio_codecs, "ulaw,alaw");
    assert_eq!(c.settings(&Settings::default()).audio_codecs, "ulaw,alaw");
    assert_eq!(
        warnings,
        vec!["unknown config \"colour\" ignored".to_string()]
    );
}

#[test]
fn config_defaults_and_bad_values() {
    let (c, _) = EmbedConfig::from_pairs([]).unwrap();
    assert!(c.register, "signs in by default");
    assert_eq!(c.theme, Theme::Auto);
    let e = EmbedConfig::from_pairs([("autoAnswer", "maybe")]).unwrap_err();
    assert!(e.contains("autoAnswer"), "{e}");
    assert!(EmbedConfig::from_pairs([("theme", "pink")]).is_err());
    assert!(EmbedConfig::from_pairs([("dtmf", "smoke")]).is_err());
    // an array from JS arrives as "PCMU,PCMA"; an unknown codec is refused
    let (c, _) = EmbedConfig::from_pairs([("audioCodecs", "PCMU,PCMA")]).unwrap();
    assert_eq!(c.audio_codecs, "PCMU,PCMA");
    let (c, _) = EmbedConfig::from_pairs([("videoCodecs", "VP9,h264")]).unwrap();
    assert_eq!(c.settings(&Settings::default()).video_codecs, "VP9,h264");
    let e = EmbedConfig::from_pairs([("video-codecs", "VP9 theora")]).unwrap_err();
    assert!(e.contains("theora"), "{e}");
    // the recording policy: a known word, else refused; absent: the defaults'
    let (c, _) = EmbedConfig::from_pairs([("record-calls", " Never ")]).unwrap();
    assert_eq!(
        c.settings(&Settings::default()).record_calls,
        RecordPolicy::Never
    );
    let (c, _) = EmbedConfig::from_pairs([]).unwrap();
    let always = Settings {
        record_calls: RecordPolicy::Always,
        ..Settings::default()
    };
    assert_eq!(c.settings(&always).record_calls, RecordPolicy::Always);
    let e = EmbedConfig::from_pairs([("recordCalls", "sometimes")]).unwrap_err();
    assert!(e.contains("recordCalls") && e.contains("sometimes"), "{e}");
    // the video, sharing and recording commands
    for (name, want) in [
        ("videoOn", ApiCommand::Video { on: true }),
        ("videoOff", ApiCommand::Video { on: false }),
        ("shareScreen", ApiCommand::Share { on: true }),
        ("stopSharing", ApiCommand::Share { on: false }),
        ("record", ApiCommand::Record { on: true }),
        ("stopRecording", ApiCommand::Record { on: false }),
    ] {
        assert_eq!(ApiCommand::parse(name, &[]), Ok(want), "{name}");
    }
    let e = EmbedConfig::from_pairs([("audioCodecs", "PCMU,silk")]).unwrap_err();
    assert!(
        e.starts_with("config audioCodecs: ") && e.contains("\"silk\""),
        "{e}"
    );
}

#[test]
fn config_debug_hides_the_password() {
    let (c, _) = EmbedConfig::from_pairs([("password", "hunter2")]).unwrap();
    let shown = format!("{c:?}");
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(shown.contains("(set)"));
}

#[test]
fn settings_take_the_config_and_keep_other_defaults() {
    let (c, _) = EmbedConfig::from_pairs([
        ("uri", "sip:1000@127.0.0.1"),
        ("password", "secret1000"),
        ("autoAnswer", "true"),
    ])
    .unwrap();
    let defaults = Settings {
        ws_url: "ws://127.0.0.1:8088".into(),
        ring_volume: 30,
        ..Settings::default()
    };
    let out = c.settings(&defaults);
    assert_eq!(out.ws_url, "ws://127.0.0.1:8088", "default server kept");
    assert_eq!(out.sip_uri, "sip:1000@127.0.0.1");
    assert_eq!(out.password, "secret1000");
    assert!(out.auto_answer);
    assert_eq!(out.ring_volume, 30);
    // and they are good settings for the phone
    assert!(crate::app::settings::prepare(&out, "00000000-0000-4000-8000-000000000000").is_ok());
}

#[test]
fn commands_parse_and_check_their_arguments() {
    assert_eq!(
        ApiCommand::parse("call", &s(&["1001"])),
        Ok(ApiCommand::Call {
            target: "1001".into(),
            video: false,
        })
    );
    // call(target, { video: true }) arrives as ["1001", "video"]
    assert_eq!(
        ApiCommand::parse("call", &s(&["1001", "video"])),
        Ok(ApiCommand::Call {
            target: "1001".into(),
            video: true,
        })
    );
    assert_eq!(
        ApiCommand::parse("answer", &s(&["video"])),
        Ok(ApiCommand::Answer { video: true })
    );
    assert_eq!(
        ApiCommand::parse("call", &s(&["tel:+1-555-0100"])),
        Ok(ApiCommand::Call {
            target: "+15550100".into(),
            video: false,
        })
    );
    assert!(ApiCommand::parse("call", &[]).is_err());
    assert!(ApiCommand::parse("call", &s(&["  "])).is_err());
    assert!(ApiCommand::parse("call", &s(&["10\r\n01"])).is_err());
    assert!(ApiCommand::parse("call", &s(&["tel:abc"])).is_err());
    assert_eq!(
        ApiCommand::parse("register", &s(&["tok", "1000"])),
        Ok(ApiCommand::Register {
            password: Some("tok".into()),
            auth_user: Some("1000".into()),
            uri: None,
            ws: None,
            display_name: None,
        })
    );
    assert_eq!(
        ApiCommand::parse("register", &[]),
        Ok(ApiCommand::Register {
            password: None,
            auth_user: None,
            uri: None,
            ws: None,
            display_name: None,
        })
    );
    assert_eq!(
        ApiCommand::parse(
            "register",
            &s(&["p", "", "sip:1000@h", " ws://h:8088 ", "Ann"])
        ),
        Ok(ApiCommand::Register {
            password: Some("p".into()),
            auth_user: None,
            uri: Some("sip:1000@h".into()),
            ws: Some("ws://h:8088".into()),
            display_name: Some("Ann".into()),
        })
    );
    assert_eq!(
        ApiCommand::parse("sendDtmf", &s(&["12#*"])),
        Ok(ApiCommand::SendDtmf {
            digits: "12#*".into()
        })
    );
    let e = ApiCommand::parse("sendDtmf", &s(&["12x"])).unwrap_err();
    assert!(e.contains("'x'"), "{e}");
    assert_eq!(
        ApiCommand::parse("transfer", &s(&["sip:1002@127.0.0.1"])),
        Ok(ApiCommand::Transfer {
            target: "sip:1002@127.0.0.1".into()
        })
    );
    assert_eq!(
        ApiCommand::parse("message", &s(&[" 1001 ", "hi there "])),
        Ok(ApiCommand::Message {
            to: "1001".into(),
            text: "hi there".into()
        })
    );
    let e = ApiCommand::parse("message", &s(&["1001"])).unwrap_err();
    assert!(e.starts_with("message(): Type a message"), "{e}");
    let e = ApiCommand::parse("message", &s(&["10 01", "x"])).unwrap_err();
    assert!(e.contains("spaces"), "{e}");
    for (name, cmd) in [
        ("answer", ApiCommand::Answer { video: false }),
        ("hangup", ApiCommand::Hangup),
        ("hold", ApiCommand::Hold),
        ("resume", ApiCommand::Resume),
        ("mute", ApiCommand::Mute),
        ("unmute", ApiCommand::Unmute),
        ("unregister", ApiCommand::Unregister),
        ("prepare", ApiCommand::Prepare),
    ] {
        assert_eq!(ApiCommand::parse(name, &[]), Ok(cmd));
    }
    assert!(ApiCommand::parse("format_disk", &[]).is_err());
}

#[test]
fn links_become_dial_targets() {
    assert_eq!(dial_target("tel:+1-555-0100").as_deref(), Some("+15550100"));
    assert_eq!(
        dial_target("TEL:(030) 12.34;ext=5").as_deref(),
        Some("0301234")
    );
    assert_eq!(dial_target("tel:%2B4930123").as_deref(), Some("+4930123"));
    assert_eq!(dial_target("tel:1001").as_deref(), Some("1001"));
    assert_eq!(dial_target("tel:*21#").as_deref(), Some("*21#"));
    assert_eq!(dial_target("tel:"), None);
    assert_eq!(dial_target("tel:12+3"), None);
    assert_eq!(dial_target("tel:javascript:alert(1)"), None);
    assert_eq!(
        dial_target("sip:1001@127.0.0.1").as_deref(),
        Some("sip:1001@127.0.0.1")
    );
    assert_eq!(
        dial_target("sips:bob@example.com;transport=ws?subject=hi").as_deref(),
        Some("sips:bob@example.com;transport=ws")
    );
    assert_eq!(
        dial_target("sip%3A1001%40127.0.0.1").as_deref(),
        None,
        "an escaped scheme is not a link"
    );
    assert_eq!(dial_target("sip:"), None);
    assert_eq!(dial_target("sip:a b@host"), None);
    assert_eq!(dial_target("sip:1001@host%0d%0aVia: x"), None);
    assert_eq!(dial_target("https://example.com/"), None);
    assert_eq!(dial_target("mailto:a@b"), None);
    assert_eq!(dial_target("tel:%zz"), None, "broken escape");
}

#[test]
fn the_protocol_handler_parameter() {
    // navigator.registerProtocolHandler("sip", "/?call=%s") escapes the link
    assert_eq!(
        call_param("?call=sip%3A1001%40127.0.0.1").as_deref(),
        Some("sip:1001@127.0.0.1")
    );
    assert_eq!(
        call_param("?x=1&call=tel%3A%2B1-555-0100").as_deref(),
        Some("+15550100")
    );
    assert_eq!(
        call_param("?call=tel:+15550100").as_deref(),
        Some("+15550100")
    );
    assert_eq!(call_param("?call=javascript%3Aalert(1)"), None);
    assert_eq!(call_param(""), None);
    assert_eq!(
        query_param(
            "?embed=frame&parent=http%3A%2F%2F127.0.0.1%3A8080",
            "parent"
        )
        .as_deref(),
        Some("http://127.0.0.1:8080")
    );
}

#[test]
fn origins_must_match_exactly() {
    assert_eq!(
        parse_origin("HTTP://Example.com:8080/").as_deref(),
        Some("http://example.com:8080")
    );
    assert_eq!(parse_origin("*"), None);
    assert_eq!(parse_origin("null"), None);
    assert_eq!(parse_origin("file:///x"), None);
    assert_eq!(parse_origin("https://a.com/path"), None);
    assert!(origin_allowed(
        "http://127.0.0.1:8080",
        "http://127.0.0.1:8080"
    ));
    assert!(origin_allowed(
        "https://crm.example",
        "https://CRM.example/"
    ));
    assert!(!origin_allowed(
        "http://127.0.0.1:8080",
        "http://127.0.0.1:8081"
    ));
    assert!(!origin_allowed(
        "http://127.0.0.1:8080",
        "http://localhost:8080"
    ));
    assert!(!origin_allowed(
        "https://crm.example",
        "https://crm.example.evil.com"
    ));
    assert!(!origin_allowed("*", "https://crm.example"));
    assert!(!origin_allowed("https://crm.example", "null"));
}

fn field<'a>(e: &'a ApiEvent, name: &str) -> &'a Value {
    &e.detail.iter().find(|(k, _)| *k == name).unwrap().1
}

#[test]
fn call_events_for_the_host_page() {
    let call = CallId(7);
    let peer = Party {
        display_name: Some("Bob".into()),
        uri: "sip:1001@127.0.0.1".into(),
    };
    let e = call_event(&Event::CallState {
        call,
        state: CallState::Calling { to: peer.clone() },
    })
    .unwrap();
    assert_eq!(e.name, "callstate");
    assert_eq!(field(&e, "call"), &Value::Str("7".into()));
    assert_eq!(field(&e, "state"), &Value::Str("calling".into()));
    assert_eq!(
        field(&e, "peer"),
        &Value::Obj(vec![
            ("uri", Value::Str("sip:1001@127.0.0.1".into())),
            ("displayName", Value::Str("Bob".into()))
        ])
    );
    let e = call_event(&Event::CallState {
        call,
        state: CallState::Ended(EndReason::Busy),
    })
    .unwrap();
    assert_eq!(field(&e, "state"), &Value::Str("ended".into()));
    assert_eq!(field(&e, "reason"), &Value::Str("busy".into()));
    let e = call_event(&Event::IncomingCall {
        call,
        from: Party {
            display_name: None,
            uri: "sip:1002@127.0.0.1".into(),
        },
        auto_answer_after: None,
        replaces: None,
        video: false,
    })
    .unwrap();
    assert_eq!(e.name, "incomingcall");
    assert_eq!(
        field(&e, "from"),
        &Value::Obj(vec![
            ("uri", Value::Str("sip:1002@127.0.0.1".into())),
            ("displayName", Value::Null)
        ])
    );
    let e = call_event(&Event::RemoteHold {
        call,
        on_hold: true,
    })
    .unwrap();
    assert_eq!(e.name, "hold");
    assert_eq!(field(&e, "by"), &Value::Str("remote".into()));
    assert_eq!(
        call_event(&Event::Warning(crate::sip::Warning::NoMedia)),
        None
    );
    let e = call_event(&Event::MessageReceived {
        from: peer.clone(),
        text: "hello".into(),
    })
    .unwrap();
    assert_eq!(e.name, "message");
    assert_eq!(field(&e, "text"), &Value::Str("hello".into()));
    let e = call_event(&Event::MessageStatus {
        id: 3,
        delivered: false,
        reason: "404 Not Found".into(),
    })
    .unwrap();
    assert_eq!(e.name, "messagestatus");
    assert_eq!(field(&e, "delivered"), &Value::Bool(false));
    assert_eq!(field(&e, "reason"), &Value::Str("404 Not Found".into()));
    let r = registration_event("registered", Some("sip:1000@127.0.0.1"), None);
    assert_eq!(field(&r, "reason"), &Value::Null);
    assert_eq!(
        field(&error_event("boom", true), "fatal"),
        &Value::Bool(true)
    );
}

#[test]
fn every_end_reason_has_a_distinct_code() {
    let all = [
        EndReason::LocalHangup,
        EndReason::RemoteHangup,
        EndReason::CallerCancelled,
        EndReason::Busy,
        EndReason::Declined,
        EndReason::NotFound,
        EndReason::Unavailable,
        EndReason::Cancelled,
        EndReason::SessionExpired,
        EndReason::NoAnswer,
        EndReason::NotAcceptable,
        EndReason::AuthFailed,
        EndReason::Failed {
            code: 500,
            reason: "x".into(),
        },
        EndReason::Media("m".into()),
        EndReason::Network("n".into()),
        EndReason::Transferred,
    ];
    let codes: std::collections::BTreeSet<_> = all.iter().map(end_code).collect();
    assert_eq!(codes.len(), all.len());
}
