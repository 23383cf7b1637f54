//! Desk-phone call features (issue 5) between in-process phones: hold and
//! resume, call waiting and do-not-disturb, DTMF, blind and attended
//! transfer, being transferred, Replaces, early media, auto-answer hints.

mod support;

use softphone::sip::message::Message;
use softphone::sip::{
    CallId, CallState, Command, DtmfMethod, Duration, EndReason, Event, Input, InputError,
    MediaRequest, Warning,
};
use support::{Bed, Side};

fn ended(bed: &Bed, side: Side, call: CallId) -> Option<EndReason> {
    bed.call_states(side, call).iter().find_map(|s| match s {
        CallState::Ended(r) => Some(r.clone()),
        _ => None,
    })
}

fn is_active(bed: &Bed, side: Side, call: CallId) -> bool {
    bed.call_states(side, call)
        .iter()
        .any(|s| matches!(s, CallState::Active { .. }))
}

/// A calls B, B answers; returns (A's call, B's call).
fn establish(bed: &mut Bed) -> (CallId, CallId) {
    bed.register_both();
    call_again(bed)
}

/// One more call from A to B, answered by B.
fn call_again(bed: &mut Bed) -> (CallId, CallId) {
    bed.command(
        Side::A,
        Command::Call {
            target: "1001".into(),
        },
    );
    let ca = bed.last_call_id(Side::A).expect("A has a call");
    let cb = bed.incoming_call(Side::B).expect("B rings");
    bed.command(Side::B, Command::Answer { call: cb });
    assert!(is_active(bed, Side::A, ca), "A's call is up");
    (ca, cb)
}

fn body(m: &Message) -> String {
    m.body_str().unwrap_or_default().to_string()
}

/// Re-INVITEs (in-dialog INVITEs) a phone sent.
fn reinvites(bed: &Bed, side: Side) -> Vec<Message> {
    bed.sent(side, "INVITE")
        .into_iter()
        .filter(|m| m.to().is_some_and(|t| t.tag().is_some()))
        .collect()
}

/// A response to `req` as the proxy would pass it back to the phone.
fn response(req: &Message, code: u16, reason: &str) -> String {
    let mut r = Message::response(code, reason);
    for h in ["Via", "From", "To", "Call-ID", "CSeq"] {
        if let Some(v) = req.header(h) {
            r.push_header(h, v);
        }
    }
    String::from_utf8(r.to_bytes()).expect("utf-8")
}

fn warnings(bed: &Bed, side: Side) -> Vec<String> {
    bed.events_of(side)
        .into_iter()
        .filter_map(|e| match e {
            Event::Warning(w) => Some(w.text()),
            _ => None,
        })
        .collect()
}

// ----- 1. hold and resume -----

#[test]
fn hold_and_resume_renegotiate_and_both_sides_know() {
    let mut bed = Bed::new();
    let (ca, cb) = establish(&mut bed);
    bed.hold(Side::A, ca, true);
    let re = reinvites(&bed, Side::A);
    assert_eq!(re.len(), 1, "one re-INVITE for hold");
    assert!(body(&re[0]).contains("a=sendonly"), "{}", body(&re[0]));
    assert!(bed.media.iter().any(|(s, m)| *s == Side::A
        && matches!(m, MediaRequest::Reoffer { call, hold: true, ice_restart: false } if *call == ca)));
    let a = bed.events_of(Side::A);
    assert!(a.contains(&Event::LocalHold {
        call: ca,
        on_hold: true
    }));
    assert!(bed.events_of(Side::B).contains(&Event::RemoteHold {
        call: cb,
        on_hold: true
    }));
    // the answer to the hold offer is applied as final
    assert!(bed.media.iter().any(|(s, m)| *s == Side::A
        && matches!(m, MediaRequest::SetRemoteAnswer { call, provisional: false, sdp } if *call == ca && sdp.contains("a=recvonly"))));

    bed.hold(Side::A, ca, false);
    let re = reinvites(&bed, Side::A);
    assert_eq!(re.len(), 2, "one more re-INVITE to resume");
    assert!(body(&re[1]).contains("a=sendrecv"), "{}", body(&re[1]));
    assert!(bed.events_of(Side::A).contains(&Event::LocalHold {
        call: ca,
        on_hold: false
    }));
    assert!(bed.events_of(Side::B).contains(&Event::RemoteHold {
        call: cb,
        on_hold: false
    }));
    // holding twice does nothing more
    bed.hold(Side::A, ca, false);
    assert_eq!(reinvites(&bed, Side::A).len(), 2);
    assert!(ended(&bed, Side::A, ca).is_none());
}

#[test]
fn a_media_change_renegotiates_keeping_the_hold_state() {
    let mut bed = Bed::new();
    let (ca, cb) = establish(&mut bed);
    // the camera turned on: the browser's new offer goes out as is
    bed.command(Side::A, Command::Renegotiate { call: ca });
    assert!(bed.media.iter().any(|(s, m)| *s == Side::A
        && matches!(m, MediaRequest::Reoffer { call, hold: false, ice_restart: false } if *call == ca)));
    assert_eq!(reinvites(&bed, Side::A).len(), 1);
    assert!(body(&reinvites(&bed, Side::A)[0]).contains("reoffer"));
    // its answer is applied, nobody is on hold
    assert!(bed.media.iter().any(|(s, m)| *s == Side::A
        && matches!(m, MediaRequest::SetRemoteAnswer { call, provisional: false, .. } if *call == ca)));
    assert!(!bed
        .events_of(Side::B)
        .iter()
        .any(|e| matches!(e, Event::RemoteHold { on_hold: true, .. })));
    // on hold, the new offer is a held one
    bed.hold(Side::A, ca, true);
    bed.command(Side::A, Command::Renegotiate { call: ca });
    assert!(bed.media.iter().any(|(s, m)| *s == Side::A
        && matches!(m, MediaRequest::Reoffer { call, hold: true, ice_restart: false } if *call == ca)));
    assert_eq!(reinvites(&bed, Side::A).len(), 3);
    assert!(is_active(&bed, Side::B, cb));
    // a call not established cannot renegotiate: a warning, nothing sent
    bed.command(Side::A, Command::Hangup { call: ca });
    bed.command(
        Side::A,
        Command::Call {
            target: "1001".into(),
        },
    );
    let ringing = bed.last_call_id(Side::A).expect("call");
    bed.command(Side::A, Command::Renegotiate { call: ringing });
    assert_eq!(reinvites(&bed, Side::A).len(), 3);
}

#[test]
fn resume_asked_while_the_hold_is_under_way_follows_it() {
    let mut bed = Bed::new();
    let (ca, cb) = establish(&mut bed);
    bed.with_hold_media(|bed| {
        bed.command(Side::A, Command::Hold { call: ca });
        // the browser has not made the hold offer yet
        bed.command(Side::A, Command::Resume { call: ca });
    });
    bed.with_hold_media(|bed| bed.advance(Duration::from_millis(10)));
    let re = reinvites(&bed, Side::A);
    assert_eq!(re.len(), 2, "hold, then resume");
    assert!(body(&re[0]).contains("a=sendonly"));
    assert!(body(&re[1]).contains("a=sendrecv"));
    let holds: Vec<bool> = bed
        .events_of(Side::A)
        .into_iter()
        .filter_map(|e| match e {
            Event::LocalHold { on_hold, .. } => Some(on_hold),
            _ => None,
        })
        .collect();
    assert_eq!(holds, vec![true, false]);
    assert!(bed.events_of(Side::B).contains(&Event::RemoteHold {
        call: cb,
        on_hold: false
    }));
}

#[test]
fn a_refused_hold_rolls_back_and_warns() {
    let mut bed = Bed::new();
    let (ca, _cb) = establish(&mut bed);
    bed.proxy.reinvite_replies.push_back((488, None));
    bed.hold(Side::A, ca, true);
    assert_eq!(reinvites(&bed, Side::A).len(), 1);
    assert!(bed
        .media
        .iter()
        .any(|(s, m)| *s == Side::A && *m == MediaRequest::Rollback { call: ca }));
    assert!(!bed
        .events_of(Side::A)
        .iter()
        .any(|e| matches!(e, Event::LocalHold { .. })));
    let w = warnings(&bed, Side::A);
    assert!(
        w.iter().any(|w| w.contains("on hold") && w.contains("488")),
        "{w:?}"
    );
    assert!(ended(&bed, Side::A, ca).is_none(), "the call goes on");
    // a second try works
    bed.hold(Side::A, ca, true);
    assert!(bed.events_of(Side::A).contains(&Event::LocalHold {
        call: ca,
        on_hold: true
    }));
}

#[test]
fn a_refresh_while_held_keeps_the_held_offer() {
    let mut bed = Bed::new();
    let (ca, _cb) = establish(&mut bed);
    bed.hold(Side::A, ca, true);
    // the connection comes back: A refreshes the dialog with its SDP in force
    bed.reconnect(Side::A);
    bed.command(Side::A, Command::Register);
    let re = reinvites(&bed, Side::A);
    assert_eq!(re.len(), 2, "hold, then the refresh");
    assert_eq!(body(&re[1]), body(&re[0]), "same held SDP");
    assert!(body(&re[1]).contains("a=sendonly"));
}

#[test]
fn hold_of_a_call_not_established_is_refused() {
    let mut bed = Bed::new();
    bed.register_both();
    bed.command(
        Side::A,
        Command::Call {
            target: "1001".into(),
        },
    );
    let ca = bed.last_call_id(Side::A).expect("call");
    bed.hold(Side::A, ca, true);
    assert!(reinvites(&bed, Side::A).is_empty());
    assert!(!warnings(&bed, Side::A).is_empty());
}

// ----- 2. call waiting and do-not-disturb -----

#[test]
fn a_second_call_rings_during_a_call_up_to_four() {
    let mut bed = Bed::new();
    let (_ca, cb) = establish(&mut bed);
    for n in 2..=4 {
        bed.command(
            Side::A,
            Command::Call {
                target: "1001".into(),
            },
        );
        let waiting = bed.incoming_call(Side::B).expect("B rings again");
        assert_ne!(waiting, cb);
        assert_eq!(
            bed.sent_responses(Side::B, 180, "INVITE").len(),
            n,
            "call {n} rings"
        );
    }
    assert!(bed.sent_responses(Side::B, 486, "INVITE").is_empty());
    // the fifth is busy
    bed.command(
        Side::A,
        Command::Call {
            target: "1001".into(),
        },
    );
    let fifth = bed.last_call_id(Side::A).expect("fifth");
    assert_eq!(bed.sent_responses(Side::B, 486, "INVITE").len(), 1);
    assert_eq!(ended(&bed, Side::A, fifth), Some(EndReason::Busy));
    // the first call is untouched, and a waiting call can be answered
    assert!(ended(&bed, Side::B, cb).is_none());
    let last = bed.incoming_call(Side::B).expect("waiting call");
    bed.command(Side::B, Command::Answer { call: last });
    assert!(is_active(&bed, Side::B, last));
    assert!(ended(&bed, Side::B, cb).is_none());
}

#[test]
fn do_not_disturb_refuses_new_calls_until_off() {
    let mut bed = Bed::new();
    bed.register_both();
    bed.command(Side::B, Command::SetDnd { on: true });
    bed.command(
        Side::A,
        Command::Call {
            target: "1001".into(),
        },
    );
    let first = bed.last_call_id(Side::A).expect("call");
    assert_eq!(bed.sent_responses(Side::B, 486, "INVITE").len(), 1);
    assert!(bed.incoming_call(Side::B).is_none(), "B never rang");
    assert_eq!(ended(&bed, Side::A, first), Some(EndReason::Busy));
    bed.command(Side::B, Command::SetDnd { on: false });
    bed.command(
        Side::A,
        Command::Call {
            target: "1001".into(),
        },
    );
    assert!(bed.incoming_call(Side::B).is_some(), "rings again");
    assert_eq!(bed.sent_responses(Side::B, 486, "INVITE").len(), 1);
}

#[test]
fn an_offer_without_a_wanted_codec_gets_488_without_ringing() {
    // the test offers carry opus only
    let mut bed = Bed::new();
    bed.register_both();
    bed.command(
        Side::B,
        Command::SetAudioCodecs {
            codecs: vec!["PCMU".into(), "PCMA".into()],
        },
    );
    bed.command(
        Side::A,
        Command::Call {
            target: "1001".into(),
        },
    );
    let first = bed.last_call_id(Side::A).expect("call");
    let refused = bed.sent_responses(Side::B, 488, "INVITE");
    assert_eq!(refused.len(), 1);
    assert_eq!(
        refused[0].header("Warning"),
        Some("305 softphone \"Incompatible media format\"")
    );
    assert!(bed.incoming_call(Side::B).is_none(), "B never rang");
    assert_eq!(ended(&bed, Side::A, first), Some(EndReason::NotAcceptable));
    let warned = bed.events_of(Side::B).into_iter().find_map(|e| match e {
        Event::Warning(Warning::IncompatibleOffer { from, offered }) => Some((from, offered)),
        _ => None,
    });
    let (from, offered) = warned.expect("B was told");
    assert!(from.uri.contains("1000"), "{from:?}");
    assert_eq!(offered, vec!["opus".to_string()]);
    // a list with opus in it (any case) rings; an empty list takes any
    for codecs in [vec!["PCMU".to_string(), "OPUS".to_string()], vec![]] {
        bed.command(Side::B, Command::SetAudioCodecs { codecs });
        bed.command(
            Side::A,
            Command::Call {
                target: "1001".into(),
            },
        );
        let rang = bed.incoming_call(Side::B).expect("rings");
        bed.command(Side::B, Command::Hangup { call: rang });
    }
    assert_eq!(bed.sent_responses(Side::B, 488, "INVITE").len(), 1);
}

#[test]
fn without_media_incoming_calls_get_488_without_ringing_and_calls_are_refused() {
    // a browser without WebRTC: it still registers, but never rings
    let mut bed = Bed::new();
    bed.register_both();
    bed.command(Side::B, Command::SetMediaAvailable { available: false });
    bed.command(
        Side::A,
        Command::Call {
            target: "1001".into(),
        },
    );
    let first = bed.last_call_id(Side::A).expect("call");
    assert_eq!(bed.sent_responses(Side::B, 488, "INVITE").len(), 1);
    assert!(bed.incoming_call(Side::B).is_none(), "B never rang");
    assert!(ended(&bed, Side::A, first).is_some(), "A's call ended");
    // B's own call attempts are refused with a warning, nothing is sent
    let before = bed.last_call_id(Side::B);
    bed.command(
        Side::B,
        Command::Call {
            target: "1000".into(),
        },
    );
    assert_eq!(bed.last_call_id(Side::B), before, "no call was made");
    assert!(
        warnings(&bed, Side::B).iter().any(|w| w.contains("WebRTC")),
        "{:?}",
        warnings(&bed, Side::B)
    );
    // with media again, calls ring as usual
    bed.command(Side::B, Command::SetMediaAvailable { available: true });
    bed.command(
        Side::A,
        Command::Call {
            target: "1001".into(),
        },
    );
    assert!(bed.incoming_call(Side::B).is_some(), "rings again");
}

// ----- 3. DTMF -----

#[test]
fn dtmf_by_info_goes_one_digit_at_a_time_in_order() {
    let mut bed = Bed::new();
    let (ca, cb) = establish(&mut bed);
    bed.command(
        Side::A,
        Command::SendDtmf {
            call: ca,
            digits: "1#5".into(),
            method: DtmfMethod::Info,
        },
    );
    let infos = bed.sent(Side::A, "INFO");
    assert_eq!(infos.len(), 3);
    for (info, d) in infos.iter().zip(['1', '#', '5']) {
        assert_eq!(info.content_type(), Some("application/dtmf-relay"));
        assert_eq!(body(info), format!("Signal={d}\r\nDuration=160\r\n"));
    }
    // each INFO leaves only after the previous one's 200 came back
    let pos = |pred: &dyn Fn(&support::Wire) -> bool| {
        bed.wire.iter().position(pred).expect("on the wire")
    };
    for i in 1..3 {
        let seq = infos[i - 1].cseq().map(|c| c.seq);
        let ok = pos(&|w| {
            !w.from_phone
                && w.side == Side::A
                && w.is_response(200, "INFO")
                && w.msg.cseq().map(|c| c.seq) == seq
        });
        let next_seq = infos[i].cseq().map(|c| c.seq);
        let next = pos(&|w| {
            w.from_phone
                && w.side == Side::A
                && w.is("INFO")
                && w.msg.cseq().map(|c| c.seq) == next_seq
        });
        assert!(
            ok < next,
            "INFO {i} waited for the answer to INFO {}",
            i - 1
        );
    }
    let got: Vec<char> = bed
        .events_of(Side::B)
        .into_iter()
        .filter_map(|e| match e {
            Event::DtmfReceived { call, digit } if call == cb => Some(digit),
            _ => None,
        })
        .collect();
    assert_eq!(got, vec!['1', '#', '5']);
}

#[test]
fn a_challenged_info_is_sent_again_with_credentials() {
    let mut bed = Bed::new();
    let (ca, cb) = establish(&mut bed);
    bed.proxy.black_hole = Some("INFO");
    bed.command(
        Side::A,
        Command::SendDtmf {
            call: ca,
            digits: "9".into(),
            method: DtmfMethod::Info,
        },
    );
    let info = bed.sent(Side::A, "INFO")[0].clone();
    bed.proxy.black_hole = None;
    let mut challenge = Message::response(407, "Proxy Authentication Required");
    for h in ["Via", "From", "To", "Call-ID", "CSeq"] {
        if let Some(v) = info.header(h) {
            challenge.push_header(h, v);
        }
    }
    challenge.push_header(
        "Proxy-Authenticate",
        "Digest realm=\"example.test\", nonce=\"abc\", qop=\"auth\", algorithm=MD5",
    );
    let text = String::from_utf8(challenge.to_bytes()).expect("utf-8");
    bed.inject(Side::A, &text);
    let infos = bed.sent(Side::A, "INFO");
    assert_eq!(infos.len(), 2, "sent again");
    assert!(infos[1].header("Proxy-Authorization").is_some());
    assert!(infos[1].cseq().map(|c| c.seq) > info.cseq().map(|c| c.seq));
    assert!(bed.events_of(Side::B).contains(&Event::DtmfReceived {
        call: cb,
        digit: '9'
    }));
    assert!(warnings(&bed, Side::A).is_empty());
}

#[test]
fn dtmf_in_band_goes_to_the_browser_and_bad_keys_are_refused() {
    let mut bed = Bed::new();
    let (ca, _cb) = establish(&mut bed);
    bed.command(
        Side::A,
        Command::SendDtmf {
            call: ca,
            digits: "12a*".into(),
            method: DtmfMethod::Rfc4733,
        },
    );
    assert!(bed.media.contains(&(
        Side::A,
        MediaRequest::SendDtmf {
            call: ca,
            digits: "12A*".into()
        }
    )));
    let before = bed.media.len();
    bed.command(
        Side::A,
        Command::SendDtmf {
            call: ca,
            digits: "12x".into(),
            method: DtmfMethod::Info,
        },
    );
    assert!(bed.sent(Side::A, "INFO").is_empty(), "nothing sent");
    assert_eq!(bed.media.len(), before);
    assert!(warnings(&bed, Side::A).iter().any(|w| w.contains("\"x\"")));
}

#[test]
fn incoming_info_dtmf_empty_and_other_types() {
    let mut bed = Bed::new();
    let (_ca, cb) = establish(&mut bed);
    let info = bed.peer_request_typed(Side::B, "INFO", "application/dtmf", "7", &[]);
    assert_eq!(bed.answers_to(Side::B, &info)[0].code(), Some(200));
    assert!(bed.events_of(Side::B).contains(&Event::DtmfReceived {
        call: cb,
        digit: '7'
    }));
    let empty = bed.peer_request_typed(Side::B, "INFO", "", "", &[]);
    assert_eq!(bed.answers_to(Side::B, &empty)[0].code(), Some(200));
    let other = bed.peer_request_typed(Side::B, "INFO", "application/json", "{}", &[]);
    let r = &bed.answers_to(Side::B, &other)[0];
    assert_eq!(r.code(), Some(415));
    assert!(r
        .header("Accept")
        .is_some_and(|a| a.contains("application/dtmf-relay")));
    let n = bed
        .events_of(Side::B)
        .iter()
        .filter(|e| matches!(e, Event::DtmfReceived { .. }))
        .count();
    assert_eq!(n, 1, "only the real digit");
}

// ----- 4./5. blind transfer, both sides -----

fn progress(bed: &Bed, call: CallId) -> Vec<(u16, bool)> {
    bed.events_of(Side::A)
        .into_iter()
        .filter_map(|e| match e {
            Event::TransferProgress {
                call: c,
                code,
                done,
                ..
            } if c == call => Some((code, done)),
            _ => None,
        })
        .collect()
}

#[test]
fn blind_transfer_to_a_busy_target_reports_and_keeps_the_call() {
    let mut bed = Bed::new();
    bed.proxy
        .canned
        .insert("2000".into(), (486, "Busy Here", vec![]));
    let (ca, cb) = establish(&mut bed);
    bed.command(
        Side::A,
        Command::Transfer {
            call: ca,
            target: "2000".into(),
        },
    );
    let refer = &bed.sent(Side::A, "REFER")[0];
    assert_eq!(refer.header("Refer-To"), Some("<sip:2000@example.test>"));
    assert_eq!(refer.header("Referred-By"), Some("<sip:1000@example.test>"));
    assert_eq!(bed.sent_responses(Side::B, 202, "REFER").len(), 1);
    let new_call = bed
        .events_of(Side::B)
        .into_iter()
        .find_map(|e| match e {
            Event::Transferred {
                call,
                target,
                new_call,
            } if call == cb => {
                assert_eq!(target, "sip:2000@example.test");
                Some(new_call)
            }
            _ => None,
        })
        .expect("B is transferred");
    let invite = bed
        .sent(Side::B, "INVITE")
        .into_iter()
        .rfind(|m| m.request_uri() == Some("sip:2000@example.test"))
        .expect("B calls the target");
    assert_eq!(
        invite.header("Referred-By"),
        Some("<sip:1000@example.test>")
    );
    assert_eq!(ended(&bed, Side::B, new_call), Some(EndReason::Busy));
    let notifies = bed.sent(Side::B, "NOTIFY");
    assert_eq!(notifies.len(), 2);
    assert_eq!(body(&notifies[0]), "SIP/2.0 100 Trying\r\n");
    assert!(notifies[0]
        .header("Subscription-State")
        .is_some_and(|s| s.starts_with("active")));
    assert_eq!(body(&notifies[1]), "SIP/2.0 486 Busy Here\r\n");
    assert!(notifies[1]
        .header("Subscription-State")
        .is_some_and(|s| s.starts_with("terminated")));
    assert_eq!(
        notifies[0].content_type(),
        Some("message/sipfrag"),
        "sipfrag bodies"
    );
    assert_eq!(progress(&bed, ca), vec![(100, false), (486, true)]);
    assert!(ended(&bed, Side::A, ca).is_none(), "the call goes on");
    assert!(ended(&bed, Side::B, cb).is_none());
    assert!(bed.sent(Side::A, "BYE").is_empty() && bed.sent(Side::B, "BYE").is_empty());
}

#[test]
fn blind_transfer_that_succeeds_ends_the_old_call_on_both_sides() {
    let mut bed = Bed::new();
    let (ca, cb) = establish(&mut bed);
    // A transfers B to A's own number: B's new call rings at A (call waiting)
    bed.command(
        Side::A,
        Command::Transfer {
            call: ca,
            target: "1000".into(),
        },
    );
    let new_b = bed
        .events_of(Side::B)
        .into_iter()
        .find_map(|e| match e {
            Event::Transferred { new_call, .. } => Some(new_call),
            _ => None,
        })
        .expect("transferred");
    let new_a = bed.incoming_call(Side::A).expect("the new call rings at A");
    assert_ne!(new_a, ca);
    assert_eq!(progress(&bed, ca), vec![(100, false)]);
    assert!(ended(&bed, Side::A, ca).is_none(), "not before the answer");
    bed.command(Side::A, Command::Answer { call: new_a });
    assert!(is_active(&bed, Side::B, new_b));
    assert_eq!(progress(&bed, ca), vec![(100, false), (200, true)]);
    assert_eq!(ended(&bed, Side::A, ca), Some(EndReason::Transferred));
    assert_eq!(ended(&bed, Side::B, cb), Some(EndReason::Transferred));
    assert_eq!(
        softphone::app::words::ended(&EndReason::Transferred),
        "Call transferred."
    );
    assert!(ended(&bed, Side::A, new_a).is_none());
    assert!(ended(&bed, Side::B, new_b).is_none());
    assert!(!bed.sent(Side::A, "BYE").is_empty());
}

#[test]
fn a_refer_without_answer_is_reported_done() {
    let mut bed = Bed::new();
    let (ca, _cb) = establish(&mut bed);
    bed.proxy.black_hole = Some("REFER");
    bed.command(
        Side::A,
        Command::Transfer {
            call: ca,
            target: "2000".into(),
        },
    );
    // a second transfer while one is going is refused
    bed.command(
        Side::A,
        Command::Transfer {
            call: ca,
            target: "2001".into(),
        },
    );
    assert_eq!(bed.sent(Side::A, "REFER").len(), 1);
    bed.advance(Duration::from_secs(40));
    assert_eq!(progress(&bed, ca), vec![(408, true)]);
    assert!(ended(&bed, Side::A, ca).is_none());
}

#[test]
fn a_refused_refer_is_reported_done_with_its_code() {
    let mut bed = Bed::new();
    let (ca, _cb) = establish(&mut bed);
    bed.proxy.black_hole = Some("REFER");
    bed.command(
        Side::A,
        Command::Transfer {
            call: ca,
            target: "2000".into(),
        },
    );
    let refer = bed.sent(Side::A, "REFER")[0].clone();
    bed.inject(Side::A, &response(&refer, 603, "Declined"));
    assert_eq!(progress(&bed, ca), vec![(603, true)]);
    assert!(ended(&bed, Side::A, ca).is_none(), "the call goes on");
    // and a new transfer may be tried
    bed.proxy.black_hole = None;
    bed.command(
        Side::A,
        Command::Transfer {
            call: ca,
            target: "1000".into(),
        },
    );
    assert_eq!(bed.sent(Side::A, "REFER").len(), 2);
}

#[test]
fn a_bad_refer_is_refused_and_an_unsolicited_notify_gets_481() {
    let mut bed = Bed::new();
    let (_ca, cb) = establish(&mut bed);
    let refer = bed.peer_request_typed(Side::B, "REFER", "", "", &[("Refer-To", "<tel:+1234>")]);
    assert_eq!(bed.answers_to(Side::B, &refer)[0].code(), Some(400));
    let notify = bed.peer_request_typed(
        Side::B,
        "NOTIFY",
        "message/sipfrag",
        "SIP/2.0 200 OK\r\n",
        &[("Event", "refer"), ("Subscription-State", "terminated")],
    );
    assert_eq!(bed.answers_to(Side::B, &notify)[0].code(), Some(481));
    assert!(ended(&bed, Side::B, cb).is_none());
}

// ----- 6. attended transfer and Replaces -----

#[test]
fn attended_transfer_refers_with_the_consult_dialog_as_replaces() {
    let mut bed = Bed::new();
    let (first, _b1) = establish(&mut bed);
    let (consult, _b2) = call_again(&mut bed);
    let view = {
        // A's consult dialog, off the wire: the second 2xx A received
        let ok = bed
            .wire
            .iter()
            .filter(|w| !w.from_phone && w.side == Side::A && w.is_response(200, "INVITE"))
            .nth(1)
            .expect("second 2xx")
            .msg
            .clone();
        let cid = ok.call_id().unwrap_or_default().to_string();
        let from_tag = ok.from().and_then(|f| f.tag().map(str::to_string));
        let to_tag = ok.to().and_then(|t| t.tag().map(str::to_string));
        (cid, from_tag.expect("from tag"), to_tag.expect("to tag"))
    };
    bed.command(
        Side::A,
        Command::AttendedTransfer {
            call: first,
            consult,
        },
    );
    let refer = &bed.sent(Side::A, "REFER")[0];
    let expected = format!(
        "<sip:1001@example.test?Replaces={}%3Bto-tag%3D{}%3Bfrom-tag%3D{}>",
        view.0, view.2, view.1
    );
    assert_eq!(refer.header("Refer-To"), Some(expected.as_str()));
    // B calls the consult peer (itself here, which the proxy cannot route)
    // with the Replaces header decoded
    let invite = bed
        .sent(Side::B, "INVITE")
        .into_iter()
        .rfind(|m| m.header("Replaces").is_some())
        .expect("B's INVITE with Replaces");
    assert_eq!(
        invite.header("Replaces"),
        Some(format!("{};to-tag={};from-tag={}", view.0, view.2, view.1).as_str())
    );
    assert_eq!(progress(&bed, first), vec![(100, false), (404, true)]);
    // one transfer needs two established calls
    bed.command(
        Side::A,
        Command::AttendedTransfer {
            call: first,
            consult: first,
        },
    );
    assert_eq!(bed.sent(Side::A, "REFER").len(), 1);
}

#[test]
fn an_invite_with_replaces_takes_over_the_call() {
    let mut bed = Bed::new();
    let (ca, cb) = establish(&mut bed);
    let d = bed.dialog_view(Side::A);
    let local_tag = d.local.split("tag=").nth(1).expect("tag").to_string();
    let remote_tag = d.remote.split("tag=").nth(1).expect("tag").to_string();
    let replaces = format!("{};to-tag={local_tag};from-tag={remote_tag}", d.call_id);
    // do-not-disturb does not stop a call that replaces one of ours
    bed.command(Side::A, Command::SetDnd { on: true });
    bed.third_party_invite(Side::A, &[("Replaces", replaces.as_str())]);
    let (new, rep) = bed
        .events_of(Side::A)
        .into_iter()
        .find_map(|e| match e {
            Event::IncomingCall { call, replaces, .. } if call != ca => Some((call, replaces)),
            _ => None,
        })
        .expect("the replacing call rings");
    assert_eq!(rep, Some(ca));
    assert!(ended(&bed, Side::A, ca).is_none(), "not before the answer");
    bed.command(Side::A, Command::Answer { call: new });
    assert!(is_active(&bed, Side::A, new));
    assert_eq!(ended(&bed, Side::A, ca), Some(EndReason::Transferred));
    assert_eq!(ended(&bed, Side::B, cb), Some(EndReason::RemoteHangup));
}

#[test]
fn replaces_for_no_dialog_gets_481_even_with_dnd() {
    let mut bed = Bed::new();
    let (_ca, _cb) = establish(&mut bed);
    bed.command(Side::A, Command::SetDnd { on: true });
    let inv = bed.third_party_invite(Side::A, &[("Replaces", "nope;to-tag=x;from-tag=y")]);
    let answers = bed.answers_to(Side::A, &inv);
    assert!(answers.iter().any(|r| r.code() == Some(481)), "{answers:?}");
    // our Supported lists replaces
    let invite = &bed.sent(Side::A, "INVITE")[0];
    assert!(invite
        .header_list("Supported")
        .iter()
        .any(|t| t == "replaces"));
    assert!(invite
        .header("Allow")
        .is_some_and(|a| a.contains("REFER") && a.contains("INFO") && a.contains("NOTIFY")));
}

// ----- 7. early media -----

#[test]
fn early_media_then_the_final_answer() {
    let mut bed = Bed::new();
    bed.register_both();
    bed.command(
        Side::A,
        Command::Call {
            target: "1001".into(),
        },
    );
    let ca = bed.last_call_id(Side::A).expect("call");
    let cb = bed.incoming_call(Side::B).expect("rings");
    // a 183 with SDP, as an IVR or a PBX playing ringback would send
    let ringing = bed.received_responses(Side::A, 180, "INVITE")[0].clone();
    let mut progress = ringing.clone();
    progress.start = softphone::sip::message::StartLine::Response {
        code: 183,
        reason: "Session Progress".into(),
    };
    progress.set_body("application/sdp", support::sdp("early-B").into_bytes());
    let text = String::from_utf8(progress.to_bytes()).expect("utf-8");
    bed.inject(Side::A, &text);
    bed.inject(Side::A, &text);
    let early: Vec<_> = bed
        .media
        .iter()
        .filter(|(s, m)| {
            *s == Side::A
                && matches!(
                    m,
                    MediaRequest::SetRemoteAnswer {
                        provisional: true,
                        ..
                    }
                )
        })
        .collect();
    assert_eq!(early.len(), 1, "applied once");
    let n = bed
        .events_of(Side::A)
        .iter()
        .filter(|e| **e == Event::EarlyMedia { call: ca })
        .count();
    assert_eq!(n, 1);
    bed.command(Side::B, Command::Answer { call: cb });
    assert!(bed.media.iter().any(|(s, m)| *s == Side::A
        && matches!(m, MediaRequest::SetRemoteAnswer { provisional: false, sdp, .. } if sdp.contains("answer-B"))));
    assert!(is_active(&bed, Side::A, ca));
}

// ----- 8. auto-answer hints -----

#[test]
fn auto_answer_hints_reach_the_incoming_call() {
    let mut bed = Bed::new();
    bed.register_both();
    let hint = |bed: &Bed| {
        bed.events_of(Side::A)
            .into_iter()
            .rev()
            .find_map(|e| match e {
                Event::IncomingCall {
                    auto_answer_after, ..
                } => Some(auto_answer_after),
                _ => None,
            })
    };
    bed.third_party_invite(
        Side::A,
        &[("Call-Info", "<sip:pbx.example>;answer-after=5")],
    );
    assert_eq!(hint(&bed), Some(Some(5)));
    bed.third_party_invite(
        Side::A,
        &[("Alert-Info", "<http://pbx.example/a>;info=alert-autoanswer")],
    );
    assert_eq!(hint(&bed), Some(Some(0)));
    bed.third_party_invite(Side::A, &[]);
    assert_eq!(hint(&bed), Some(None));
}

// ----- three phones -----

mod three {
    use super::support::calls::{Trio, A, B, C};
    use softphone::sip::{CallId, CallState, Command, EndReason, Event};

    fn ended(t: &Trio, p: usize, call: CallId) -> Option<EndReason> {
        t.states(p, call).iter().find_map(|s| match s {
            CallState::Ended(r) => Some(r.clone()),
            _ => None,
        })
    }

    fn active(t: &Trio, p: usize, call: CallId) -> bool {
        t.states(p, call)
            .iter()
            .any(|s| matches!(s, CallState::Active { .. }))
    }

    #[test]
    fn blind_transfer_connects_the_peer_to_the_target() {
        let mut t = Trio::new();
        let (a1, b1) = t.call(A, "1001", B);
        assert!(active(&t, A, a1));
        t.command(A, Command::Hold { call: a1 });
        t.command(
            A,
            Command::Transfer {
                call: a1,
                target: "1002".into(),
            },
        );
        let c_new = t.incoming(C).expect("the target rings");
        let b_new = t
            .events_of(B)
            .into_iter()
            .find_map(|e| match e {
                Event::Transferred { call, new_call, .. } if call == b1 => Some(new_call),
                _ => None,
            })
            .expect("B is transferred");
        assert!(ended(&t, A, a1).is_none());
        t.command(C, Command::Answer { call: c_new });
        assert!(active(&t, B, b_new) && active(&t, C, c_new));
        assert_eq!(ended(&t, A, a1), Some(EndReason::Transferred));
        assert_eq!(ended(&t, B, b1), Some(EndReason::Transferred));
        assert!(ended(&t, B, b_new).is_none() && ended(&t, C, c_new).is_none());
        let invite = t
            .sent_by(B, "INVITE")
            .into_iter()
            .rfind(|m| m.header("Referred-By").is_some())
            .expect("B's new INVITE");
        assert_eq!(
            invite.header("Referred-By"),
            Some("<sip:1000@example.test>")
        );
    }

    #[test]
    fn attended_transfer_replaces_the_consult_call() {
        let mut t = Trio::new();
        let (a1, b1) = t.call(A, "1001", B);
        t.command(A, Command::Hold { call: a1 });
        let (a2, c2) = t.call(A, "1002", C);
        assert!(active(&t, A, a2) && active(&t, C, c2));
        t.command(
            A,
            Command::AttendedTransfer {
                call: a1,
                consult: a2,
            },
        );
        // C sees a call that replaces its call with A (the driver answers it)
        let (c_new, replaces) = t
            .events_of(C)
            .into_iter()
            .find_map(|e| match e {
                Event::IncomingCall { call, replaces, .. } if call != c2 => Some((call, replaces)),
                _ => None,
            })
            .expect("the replacing call reaches C");
        assert_eq!(replaces, Some(c2));
        t.command(C, Command::Answer { call: c_new });
        let b_new = t
            .events_of(B)
            .into_iter()
            .find_map(|e| match e {
                Event::Transferred { call, new_call, .. } if call == b1 => Some(new_call),
                _ => None,
            })
            .expect("B is transferred");
        // B and C talk; A's two calls are over
        assert!(active(&t, B, b_new) && active(&t, C, c_new));
        assert_eq!(ended(&t, C, c2), Some(EndReason::Transferred));
        assert_eq!(ended(&t, A, a2), Some(EndReason::RemoteHangup));
        assert_eq!(ended(&t, A, a1), Some(EndReason::Transferred));
        assert_eq!(ended(&t, B, b1), Some(EndReason::Transferred));
        assert!(ended(&t, B, b_new).is_none() && ended(&t, C, c_new).is_none());
        let progress: Vec<(u16, bool)> = t
            .events_of(A)
            .into_iter()
            .filter_map(|e| match e {
                Event::TransferProgress { code, done, .. } => Some((code, done)),
                _ => None,
            })
            .collect();
        assert_eq!(progress, vec![(100, false), (200, true)]);
    }
}

// ----- refused commands -----

/// Feeds `input` to A directly: it must be refused with `error`, and
/// nothing may change (no output, the same tables and timers, nothing on
/// the wire once the bed settles).
fn refused(bed: &mut Bed, input: Input, error: InputError) {
    let before = (bed.a.table_sizes(), bed.a.poll_timeout());
    let seen = (bed.wire.len(), bed.events.len(), bed.media.len());
    let now = bed.now;
    assert_eq!(
        bed.a.handle_input(now, input.clone()),
        Err(error),
        "{input:?}"
    );
    assert_eq!(bed.a.poll_output(), None, "{input:?}");
    assert_eq!((bed.a.table_sizes(), bed.a.poll_timeout()), before);
    bed.settle();
    assert_eq!(
        (bed.wire.len(), bed.events.len(), bed.media.len()),
        seen,
        "{input:?}"
    );
}

#[test]
fn commands_on_an_unknown_call_are_refused_and_change_nothing() {
    let mut bed = Bed::new();
    let (ca, _) = establish(&mut bed);
    let ghost = CallId(99);
    let commands = [
        Command::Answer { call: ghost },
        Command::Hangup { call: ghost },
        Command::Hold { call: ghost },
        Command::Resume { call: ghost },
        Command::SendDtmf {
            call: ghost,
            digits: "1".into(),
            method: DtmfMethod::Info,
        },
        Command::Transfer {
            call: ghost,
            target: "1002".into(),
        },
        Command::AttendedTransfer {
            call: ghost,
            consult: ca,
        },
        Command::AttendedTransfer {
            call: ca,
            consult: ghost,
        },
    ];
    for cmd in commands {
        refused(
            &mut bed,
            Input::Command(cmd),
            InputError::UnknownCall(ghost),
        );
    }
    // the browser's answers for a call the agent does not know either
    for input in [
        Input::LocalSdp {
            call: ghost,
            sdp: support::sdp("x"),
        },
        Input::MediaFailed {
            call: ghost,
            reason: "x".into(),
        },
        Input::IceFailed { call: ghost },
    ] {
        refused(&mut bed, input, InputError::UnknownCall(ghost));
    }
    assert!(is_active(&bed, Side::A, ca), "the real call goes on");
}

#[test]
fn answering_a_call_that_is_not_ringing_is_refused() {
    let mut bed = Bed::new();
    let (ca, _) = establish(&mut bed);
    refused(
        &mut bed,
        Input::Command(Command::Answer { call: ca }),
        InputError::NotRinging(ca),
    );
    // an ended call lingers, known but not ringing
    bed.command(Side::A, Command::Hangup { call: ca });
    assert_eq!(ended(&bed, Side::A, ca), Some(EndReason::LocalHangup));
    refused(
        &mut bed,
        Input::Command(Command::Answer { call: ca }),
        InputError::NotRinging(ca),
    );
    // hanging up again is no error: it is over already
    let now = bed.now;
    assert_eq!(
        bed.a
            .handle_input(now, Input::Command(Command::Hangup { call: ca })),
        Ok(())
    );
}
