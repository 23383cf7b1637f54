//! RFC 3261 flows between two in-process phones through a digest-checking
//! registrar/proxy, on a virtual clock.

mod support;

use softphone::sip::auth::Credentials;
use softphone::sip::message::{Message, Method};
use softphone::sip::{
    CallState, Command, Duration, EndReason, Event, Input, MediaRequest, RegistrationState,
};
use support::{Bed, Side};

fn ended(states: &[CallState]) -> Option<EndReason> {
    states.iter().find_map(|s| match s {
        CallState::Ended(r) => Some(r.clone()),
        _ => None,
    })
}

/// A calls B, B answers; returns (A's call, B's call).
fn establish(bed: &mut Bed) -> (softphone::sip::CallId, softphone::sip::CallId) {
    bed.register_both();
    bed.command(
        Side::A,
        Command::Call {
            target: "1001".into(),
        },
    );
    let ca = bed.last_call_id(Side::A).expect("A has a call");
    let cb = bed.incoming_call(Side::B).expect("B rings");
    bed.command(Side::B, Command::Answer { call: cb });
    assert!(bed
        .call_states(Side::A, ca)
        .iter()
        .any(|s| matches!(s, CallState::Active { .. })));
    (ca, cb)
}

#[test]
fn register_is_challenged_then_accepted() {
    let mut bed = Bed::new();
    bed.command(Side::A, Command::Register);
    let regs = bed.sent(Side::A, "REGISTER");
    assert_eq!(regs.len(), 2, "first REGISTER, then one with credentials");
    assert!(regs[0].header("Authorization").is_none());
    let auth = regs[1].header("Authorization").expect("credentials");
    assert!(auth.contains("username=\"1000\""), "{auth}");
    assert!(
        auth.contains("qop=auth") && auth.contains("nc=00000001"),
        "{auth}"
    );
    // same Call-ID, increasing CSeq, fresh branch (RFC 3261 10.2.4, 8.1.3.5)
    assert_eq!(regs[0].call_id(), regs[1].call_id());
    assert_eq!(
        regs[1].cseq().map(|c| c.seq),
        regs[0].cseq().map(|c| c.seq + 1)
    );
    assert_ne!(
        regs[0]
            .top_via()
            .and_then(|v| v.branch().map(str::to_string)),
        regs[1]
            .top_via()
            .and_then(|v| v.branch().map(str::to_string))
    );
    // WebSocket transport in Via and Contact, .invalid host (RFC 7118)
    let via = regs[0].top_via().expect("via");
    assert_eq!(via.transport, "WS");
    assert!(via.host.ends_with(".invalid"));
    let contact = &regs[0].contacts()[0];
    assert!(contact.uri.contains(";transport=ws"), "{}", contact.uri);
    assert_eq!(
        bed.events_of(Side::A),
        vec![
            Event::Registration(RegistrationState::Registering),
            Event::Registration(RegistrationState::Registered { expires: 600 }),
        ]
    );
}

#[test]
fn register_with_sha256_challenge() {
    let mut bed = Bed::new();
    bed.proxy.challenge_algorithm = "SHA-256";
    bed.command(Side::A, Command::Register);
    let regs = bed.sent(Side::A, "REGISTER");
    assert!(regs[1]
        .header("Authorization")
        .is_some_and(|a| a.contains("algorithm=SHA-256")));
    assert!(matches!(
        bed.a.registration_state(),
        RegistrationState::Registered { .. }
    ));
}

#[test]
fn wrong_password_fails_with_a_reason_and_no_loop() {
    let mut bed = Bed::with_passwords("not-the-password", "secret1001");
    bed.command(Side::A, Command::Register);
    // the first answer, then one more for a possibly fresh nonce: no loop
    assert_eq!(
        bed.sent(Side::A, "REGISTER").len(),
        1 + softphone::sip::MAX_AUTH_ATTEMPTS as usize
    );
    match bed.a.registration_state() {
        RegistrationState::Failed { reason } => {
            assert!(reason.contains("password"), "{reason}")
        }
        s => panic!("expected failure, got {s:?}"),
    }
}

#[test]
fn registration_is_refreshed_before_it_expires() {
    let mut bed = Bed::new();
    bed.proxy.max_expires = 120; // the registrar shortens our 600 s
    bed.command(Side::A, Command::Register);
    assert_eq!(
        bed.a.registration_state(),
        &RegistrationState::Registered { expires: 120 }
    );
    let before = bed.sent(Side::A, "REGISTER").len();
    bed.advance(Duration::from_secs(89));
    assert_eq!(bed.sent(Side::A, "REGISTER").len(), before, "not yet");
    bed.advance(Duration::from_secs(1));
    let regs = bed.sent(Side::A, "REGISTER");
    assert!(regs.len() > before, "refreshed 30 s before expiry");
    // the refresh reuses the cached challenge: one request, no new 401
    assert_eq!(regs.len(), before + 1);
    assert!(regs[before]
        .header("Authorization")
        .is_some_and(|a| a.contains("nc=00000002")));
    assert_eq!(
        bed.a.registration_state(),
        &RegistrationState::Registered { expires: 120 }
    );
    // and again, 90 s later
    bed.advance(Duration::from_secs(90));
    assert_eq!(bed.sent(Side::A, "REGISTER").len(), before + 2);
}

#[test]
fn interval_too_brief_is_retried_with_min_expires() {
    let mut bed = Bed::new();
    bed.proxy.min_expires = 900;
    bed.command(Side::A, Command::Register);
    let last = bed.sent(Side::A, "REGISTER").pop().expect("register");
    assert_eq!(last.expires(), Some(900));
    assert_eq!(
        bed.a.registration_state(),
        &RegistrationState::Registered { expires: 900 }
    );
}

#[test]
fn unregister_sends_expires_zero() {
    let mut bed = Bed::new();
    bed.command(Side::A, Command::Register);
    bed.command(Side::A, Command::Unregister);
    let last = bed.sent(Side::A, "REGISTER").pop().expect("register");
    assert_eq!(last.expires(), Some(0));
    assert!(last.contacts()[0].param("expires") == Some("0"));
    assert_eq!(bed.a.registration_state(), &RegistrationState::Unregistered);
    assert!(!bed.proxy.bindings.contains_key("1000"));
    // no refresh any more
    let n = bed.sent(Side::A, "REGISTER").len();
    bed.advance(Duration::from_secs(4000));
    assert_eq!(bed.sent(Side::A, "REGISTER").len(), n);
}

/// The digest `nc` of a credentials header value.
fn nonce_count(value: &str) -> Option<String> {
    value
        .split(',')
        .find_map(|p| p.trim().strip_prefix("nc="))
        .map(str::to_string)
}

#[test]
fn a_second_call_sends_its_credentials_at_once_and_survives_a_forgotten_nonce() {
    let mut bed = Bed::new();
    let (ca, _) = establish(&mut bed);
    bed.command(Side::A, Command::Hangup { call: ca });
    let first = bed.sent(Side::A, "INVITE");
    assert_eq!(first.len(), 2, "the first call is challenged");
    let nonce_of = |m: &Message| {
        Credentials::parse(m.header("Proxy-Authorization").expect("credentials"))
            .expect("parses")
            .nonce
    };

    // the next call: credentials for the same nonce on its first INVITE,
    // counted on (nc 2), no 407
    let again = |bed: &mut Bed| {
        let n = bed.sent(Side::A, "INVITE").len();
        let (ca, _) = establish(bed);
        bed.command(Side::A, Command::Hangup { call: ca });
        bed.sent(Side::A, "INVITE")[n..].to_vec()
    };
    let second = again(&mut bed);
    assert_eq!(second.len(), 1, "no challenge: {second:?}");
    assert_eq!(nonce_of(&second[0]), nonce_of(&first[1]));
    let nc = |m: &Message| nonce_count(m.header("Proxy-Authorization").unwrap_or_default());
    assert_eq!(nc(&first[1]).as_deref(), Some("00000001"));
    assert_eq!(nc(&second[0]).as_deref(), Some("00000002"));
    let third = again(&mut bed);
    assert_eq!(third.len(), 1);
    assert_eq!(nc(&third[0]).as_deref(), Some("00000003"));

    // the server forgot its nonces (it restarted): the credentials are
    // challenged, and that is a first challenge, not wrong ones
    bed.forget_nonces();
    let fourth = again(&mut bed);
    assert_eq!(fourth.len(), 2, "challenged once, then accepted");
    assert_ne!(nonce_of(&fourth[1]), nonce_of(&fourth[0]));
    assert_eq!(nc(&fourth[1]).as_deref(), Some("00000001"));

    // a new connection may reach another server: no credentials until asked
    bed.disconnect(Side::A);
    bed.reconnect(Side::A);
    let fifth = again(&mut bed);
    assert_eq!(fifth.len(), 2, "challenged first after reconnecting");
    assert!(fifth[0].header("Proxy-Authorization").is_none());
}

#[test]
fn outgoing_call_through_ack_and_bye() {
    let mut bed = Bed::new();
    let (ca, cb) = establish(&mut bed);

    // INVITE challenged with 407, ACKed, retried with Proxy-Authorization
    let invites = bed.sent(Side::A, "INVITE");
    assert_eq!(invites.len(), 2);
    assert!(invites[1].header("Proxy-Authorization").is_some());
    assert_eq!(invites[0].call_id(), invites[1].call_id());
    let acks = bed.sent(Side::A, "ACK");
    assert_eq!(
        acks[0].cseq().map(|c| c.seq),
        invites[0].cseq().map(|c| c.seq)
    );
    assert_eq!(
        acks[0]
            .top_via()
            .and_then(|v| v.branch().map(str::to_string)),
        invites[0]
            .top_via()
            .and_then(|v| v.branch().map(str::to_string)),
        "the ACK for a non-2xx shares the INVITE's branch"
    );
    // B got A's offer and rang with a 180 carrying a To tag
    assert!(bed.media.iter().any(|(s, m)| *s == Side::B
        && matches!(m, MediaRequest::CreateAnswer { remote_sdp, .. } if remote_sdp.contains("offer-A"))));
    let ringing = bed.sent_responses(Side::B, 180, "INVITE");
    assert_eq!(ringing.len(), 1);
    assert!(ringing[0]
        .to()
        .and_then(|t| t.tag().map(str::to_string))
        .is_some());
    // A applied B's answer and saw ringing then active
    assert!(bed.media.iter().any(|(s, m)| *s == Side::A
        && matches!(m, MediaRequest::SetRemoteAnswer { sdp, .. } if sdp.contains("answer-B"))));
    let states = bed.call_states(Side::A, ca);
    assert!(matches!(states[0], CallState::Calling { .. }));
    assert_eq!(states[1], CallState::Ringing);
    match &states[2] {
        CallState::Active { peer } => assert_eq!(peer.label(), "1001"),
        s => panic!("{s:?}"),
    }
    // B's view of the caller: display name from From
    match bed
        .events_of(Side::B)
        .iter()
        .find(|e| matches!(e, Event::IncomingCall { .. }))
    {
        Some(Event::IncomingCall { from, .. }) => assert_eq!(from.label(), "Alice"),
        e => panic!("{e:?}"),
    }
    // the 2xx ACK has a new branch and follows the route set
    let ack2 = bed.sent(Side::A, "ACK").pop().expect("2xx ack");
    assert_eq!(ack2.header("Route"), Some("<sip:proxy.test;lr>"));
    assert_eq!(ack2.cseq().map(|c| c.seq), invites[1].cseq().map(|c| c.seq));
    assert!(
        bed.b.poll_timeout().is_none() || bed.sent_responses(Side::B, 200, "INVITE").len() == 1
    );

    // A hangs up: BYE through the proxy to B's Contact
    bed.command(Side::A, Command::Hangup { call: ca });
    let bye = bed.sent(Side::A, "BYE").pop().expect("bye");
    assert_eq!(bye.header("Route"), Some("<sip:proxy.test;lr>"));
    assert_eq!(bye.request_uri(), Some(bed.b.contact_uri()));
    assert!(bye.cseq().map(|c| c.seq) > invites[1].cseq().map(|c| c.seq));
    assert_eq!(bed.sent_responses(Side::B, 200, "BYE").len(), 1);
    assert_eq!(
        ended(&bed.call_states(Side::A, ca)),
        Some(EndReason::LocalHangup)
    );
    assert_eq!(
        ended(&bed.call_states(Side::B, cb)),
        Some(EndReason::RemoteHangup)
    );
    assert!(bed
        .media
        .iter()
        .any(|(s, m)| *s == Side::A && *m == MediaRequest::Close { call: ca }));
    assert!(bed
        .media
        .iter()
        .any(|(s, m)| *s == Side::B && *m == MediaRequest::Close { call: cb }));
    // no 2xx retransmission after the ACK
    assert_eq!(bed.sent_responses(Side::B, 200, "INVITE").len(), 1);
    // ended calls are forgotten after a while
    bed.advance(Duration::from_secs(40));
    assert_eq!(bed.a.call_count(), 0);
    assert_eq!(bed.b.call_count(), 0);
}

#[test]
fn callee_hangs_up_with_bye_to_the_callers_contact() {
    let mut bed = Bed::new();
    let (ca, cb) = establish(&mut bed);
    bed.command(Side::B, Command::Hangup { call: cb });
    let bye = bed.sent(Side::B, "BYE").pop().expect("bye");
    assert_eq!(bye.request_uri(), Some(bed.a.contact_uri()));
    assert_eq!(bye.header("Route"), Some("<sip:proxy.test;lr>"));
    assert_eq!(
        ended(&bed.call_states(Side::A, ca)),
        Some(EndReason::RemoteHangup)
    );
    assert_eq!(
        ended(&bed.call_states(Side::B, cb)),
        Some(EndReason::LocalHangup)
    );
}

#[test]
fn cancel_before_answer_ends_both_sides_with_487() {
    let mut bed = Bed::new();
    bed.register_both();
    bed.command(
        Side::A,
        Command::Call {
            target: "sip:1001@example.test".into(),
        },
    );
    let ca = bed.last_call_id(Side::A).expect("call");
    let cb = bed.incoming_call(Side::B).expect("ringing");
    bed.command(Side::A, Command::Hangup { call: ca });
    let cancel = bed.sent(Side::A, "CANCEL").pop().expect("cancel");
    let invite = bed.sent(Side::A, "INVITE").pop().expect("invite");
    assert_eq!(
        cancel
            .top_via()
            .and_then(|v| v.branch().map(str::to_string)),
        invite
            .top_via()
            .and_then(|v| v.branch().map(str::to_string))
    );
    assert_eq!(cancel.cseq().map(|c| c.seq), invite.cseq().map(|c| c.seq));
    assert_eq!(cancel.cseq().map(|c| c.method), Some(Method::Cancel));
    assert_eq!(bed.sent_responses(Side::B, 200, "CANCEL").len(), 1);
    assert_eq!(bed.sent_responses(Side::B, 487, "INVITE").len(), 1);
    // the 487 is acknowledged end to end
    assert_eq!(bed.sent(Side::A, "ACK").len(), 2, "ACK of 407, ACK of 487");
    assert_eq!(
        ended(&bed.call_states(Side::A, ca)),
        Some(EndReason::LocalHangup)
    );
    assert_eq!(
        ended(&bed.call_states(Side::B, cb)),
        Some(EndReason::CallerCancelled)
    );
    // B's server transaction got its ACK: nothing is retransmitted later
    let sent = bed
        .wire
        .iter()
        .filter(|w| w.from_phone && w.side == Side::B)
        .count();
    bed.advance(Duration::from_secs(60));
    assert_eq!(
        bed.wire
            .iter()
            .filter(|w| w.from_phone && w.side == Side::B)
            .count(),
        sent
    );
    // A reports the end only once
    assert_eq!(
        bed.call_states(Side::A, ca)
            .iter()
            .filter(|s| matches!(s, CallState::Ended(_)))
            .count(),
        1
    );
}

#[test]
fn hangup_before_any_provisional_cancels_when_one_arrives() {
    let mut bed = Bed::new();
    bed.register_both();
    bed.auto_media = false;
    bed.command(
        Side::A,
        Command::Call {
            target: "1001".into(),
        },
    );
    let ca = bed.last_call_id(Side::A).expect("call");
    // the offer is still being made: hanging up now just ends it
    bed.command(Side::A, Command::Hangup { call: ca });
    assert_eq!(
        ended(&bed.call_states(Side::A, ca)),
        Some(EndReason::LocalHangup)
    );
    assert!(bed.sent(Side::A, "INVITE").is_empty());
    bed.input(
        Side::A,
        Input::LocalSdp {
            call: ca,
            sdp: support::sdp("late"),
        },
    );
    assert!(
        bed.sent(Side::A, "INVITE").is_empty(),
        "no INVITE after the hang-up"
    );
}

#[test]
fn busy_callee_answers_486() {
    let mut bed = Bed::new();
    let (_ca, _cb) = establish(&mut bed);
    // with call waiting a second call rings; do-not-disturb makes B busy
    bed.command(Side::B, Command::SetDnd { on: true });
    bed.command(
        Side::A,
        Command::Call {
            target: "1001".into(),
        },
    );
    let second = bed.last_call_id(Side::A).expect("second call");
    assert_eq!(bed.sent_responses(Side::B, 486, "INVITE").len(), 1);
    assert_eq!(
        ended(&bed.call_states(Side::A, second)),
        Some(EndReason::Busy)
    );
    assert_eq!(
        softphone::app::words::ended(&EndReason::Busy),
        "The person you called is busy."
    );
}

#[test]
fn callee_declines_with_603() {
    let mut bed = Bed::new();
    bed.register_both();
    bed.command(
        Side::A,
        Command::Call {
            target: "1001".into(),
        },
    );
    let ca = bed.last_call_id(Side::A).expect("call");
    let cb = bed.incoming_call(Side::B).expect("ringing");
    bed.command(Side::B, Command::Hangup { call: cb });
    assert_eq!(bed.sent_responses(Side::B, 603, "INVITE").len(), 1);
    assert_eq!(
        ended(&bed.call_states(Side::A, ca)),
        Some(EndReason::Declined)
    );
}

#[test]
fn unknown_callee_is_not_found() {
    let mut bed = Bed::new();
    bed.register_both();
    bed.command(
        Side::A,
        Command::Call {
            target: "1009".into(),
        },
    );
    let ca = bed.last_call_id(Side::A).expect("call");
    assert_eq!(
        ended(&bed.call_states(Side::A, ca)),
        Some(EndReason::NotFound)
    );
}

#[test]
fn lost_ack_makes_the_callee_retransmit_its_2xx() {
    let mut bed = Bed::new();
    bed.register_both();
    let mut dropped = 0;
    bed.drop_to_phone = Some(Box::new(move |side, m| {
        if side == Side::B && m.method() == Some(&Method::Ack) && dropped == 0 {
            dropped += 1;
            return true;
        }
        false
    }));
    bed.command(
        Side::A,
        Command::Call {
            target: "1001".into(),
        },
    );
    let cb = bed.incoming_call(Side::B).expect("ringing");
    bed.command(Side::B, Command::Answer { call: cb });
    assert_eq!(bed.sent_responses(Side::B, 200, "INVITE").len(), 1);
    // T1 later B retransmits; A acknowledges again; then B is quiet
    bed.advance(Duration::from_millis(500));
    assert_eq!(bed.sent_responses(Side::B, 200, "INVITE").len(), 2);
    assert_eq!(
        bed.sent(Side::A, "ACK").len(),
        3,
        "407 ACK, first 2xx ACK, re-ACK"
    );
    bed.advance(Duration::from_secs(60));
    assert_eq!(bed.sent_responses(Side::B, 200, "INVITE").len(), 2);
    assert!(bed.sent(Side::B, "BYE").is_empty());
}

#[test]
fn no_ack_at_all_ends_the_call_after_64_t1() {
    let mut bed = Bed::new();
    bed.register_both();
    bed.drop_to_phone = Some(Box::new(|side, m| {
        side == Side::B && m.method() == Some(&Method::Ack)
    }));
    bed.command(
        Side::A,
        Command::Call {
            target: "1001".into(),
        },
    );
    let cb = bed.incoming_call(Side::B).expect("ringing");
    let t0 = bed.elapsed();
    bed.command(Side::B, Command::Answer { call: cb });
    bed.advance(Duration::from_secs(31));
    // retransmissions at 0.5, 1.5, 3.5, 7.5, 11.5, 15.5, ... (T1 doubling, capped at T2)
    let oks: Vec<Duration> = bed
        .wire
        .iter()
        .filter(|w| w.from_phone && w.side == Side::B && w.is_response(200, "INVITE"))
        .map(|w| w.at - bed.start - t0)
        .collect();
    let expected: Vec<Duration> = [0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500]
        .iter()
        .map(|ms| Duration::from_millis(*ms))
        .collect();
    assert_eq!(oks, expected);
    assert!(bed.sent(Side::B, "BYE").is_empty());
    bed.advance(Duration::from_secs(2));
    assert_eq!(bed.sent(Side::B, "BYE").len(), 1);
    assert!(matches!(
        ended(&bed.call_states(Side::B, cb)),
        Some(EndReason::Network(_))
    ));
}

#[test]
fn invite_without_any_answer_times_out_after_timer_b() {
    let mut bed = Bed::new();
    bed.register_both();
    bed.proxy.black_hole = Some("INVITE");
    bed.command(
        Side::A,
        Command::Call {
            target: "1001".into(),
        },
    );
    let ca = bed.last_call_id(Side::A).expect("call");
    bed.advance(Duration::from_secs(31));
    assert_eq!(ended(&bed.call_states(Side::A, ca)), None);
    bed.advance(Duration::from_secs(2));
    assert!(matches!(
        ended(&bed.call_states(Side::A, ca)),
        Some(EndReason::Network(_))
    ));
}

fn request(method: &str, to_tag: Option<&str>) -> String {
    let to = match to_tag {
        Some(t) => format!("<sip:1001@example.test>;tag={t}"),
        None => "<sip:1001@example.test>".to_string(),
    };
    format!(
        "{method} sip:1001@example.test SIP/2.0\r\n\
         Via: SIP/2.0/WS proxy.test;branch=z9hG4bK{method}x1\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:1000@example.test>;tag=abc\r\n\
         To: {to}\r\n\
         Call-ID: unsupported-{method}\r\n\
         CSeq: 5 {method}\r\n\
         Content-Length: 0\r\n\r\n"
    )
}

#[test]
fn unsupported_requests_get_405_or_501_not_silence() {
    let mut bed = Bed::new();
    bed.register_both();
    bed.inject(Side::B, &request("SUBSCRIBE", None));
    let r = bed.sent_responses(Side::B, 405, "SUBSCRIBE");
    assert_eq!(r.len(), 1);
    assert!(r[0].header("Allow").is_some_and(|a| a.contains("INVITE")));
    bed.inject(Side::B, &request("FOOBAR", None));
    assert_eq!(bed.sent_responses(Side::B, 501, "FOOBAR").len(), 1);
    bed.inject(Side::B, &request("OPTIONS", None));
    assert_eq!(bed.sent_responses(Side::B, 200, "OPTIONS").len(), 1);
    bed.inject(Side::B, &request("BYE", Some("nosuchdialog")));
    assert_eq!(bed.sent_responses(Side::B, 481, "BYE").len(), 1);
    // a retransmitted request is answered again, not processed twice
    bed.inject(Side::B, &request("SUBSCRIBE", None));
    assert!(!bed.sent_responses(Side::B, 405, "SUBSCRIBE").is_empty());
}

#[test]
fn malformed_input_is_dropped_with_a_warning_and_the_phone_goes_on() {
    let mut bed = Bed::new();
    bed.inject(Side::A, "this is not SIP\r\n\r\n");
    bed.inject(Side::A, "INVITE sip:x SIP/2.0\r\nVia: garbage\r\n\r\n");
    bed.inject(Side::A, "\r\n\r\n"); // keep-alive: silently ignored
    let warnings = bed
        .events_of(Side::A)
        .into_iter()
        .filter(|e| matches!(e, Event::Warning(_)))
        .count();
    assert_eq!(warnings, 2);
    bed.register_both();
    let (ca, _) = {
        bed.command(
            Side::A,
            Command::Call {
                target: "1001".into(),
            },
        );
        let ca = bed.last_call_id(Side::A).expect("call");
        let cb = bed.incoming_call(Side::B).expect("ring");
        (ca, cb)
    };
    assert!(bed.call_states(Side::A, ca).contains(&CallState::Ringing));
}

#[test]
fn a_malformed_request_with_readable_headers_is_answered_400() {
    let mut bed = Bed::new();
    bed.register_both();
    // everything needed to answer is there, but Max-Forwards is out of range
    bed.inject(
        Side::A,
        "OPTIONS sip:1000@127.0.0.1 SIP/2.0\r\n\
         Via: SIP/2.0/WS p.example;branch=z9hG4bKbad1\r\n\
         Max-Forwards: 99999\r\n\
         From: <sip:x@p.example>;tag=1\r\n\
         To: <sip:1000@127.0.0.1>\r\n\
         Call-ID: bad1\r\n\
         CSeq: 1 OPTIONS\r\n\
         Content-Length: 0\r\n\r\n",
    );
    let bad = bed.sent_responses(Side::A, 400, "OPTIONS");
    assert_eq!(bad.len(), 1, "one 400 Bad Request");
    assert!(bad[0]
        .header("Warning")
        .is_some_and(|w| w.contains("Max-Forwards")));
    assert!(bad[0].to().is_some_and(|t| t.tag().is_some()));
    assert!(bed
        .events_of(Side::A)
        .iter()
        .any(|e| matches!(e, Event::Warning(w) if w.text().contains("malformed"))));
    // and the phone goes on: OPTIONS done right gets its 200
    bed.inject(
        Side::A,
        "OPTIONS sip:1000@127.0.0.1 SIP/2.0\r\n\
         Via: SIP/2.0/WS p.example;branch=z9hG4bKgood1\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:x@p.example>;tag=1\r\n\
         To: <sip:1000@127.0.0.1>\r\n\
         Call-ID: good1\r\n\
         CSeq: 1 OPTIONS\r\n\
         Content-Length: 0\r\n\r\n",
    );
    assert_eq!(bed.sent_responses(Side::A, 200, "OPTIONS").len(), 1);
}

#[test]
fn disconnect_fails_pending_work_and_unregisters() {
    let mut bed = Bed::new();
    bed.register_both();
    bed.proxy.black_hole = Some("INVITE");
    bed.command(
        Side::A,
        Command::Call {
            target: "1001".into(),
        },
    );
    let ca = bed.last_call_id(Side::A).expect("call");
    bed.input(
        Side::A,
        Input::Disconnected {
            reason: "socket closed".into(),
        },
    );
    assert_eq!(bed.a.registration_state(), &RegistrationState::Unregistered);
    assert_eq!(
        ended(&bed.call_states(Side::A, ca)),
        Some(EndReason::Network("socket closed".into()))
    );
    // the ended call lingers a while, then nothing is left behind
    bed.advance(Duration::from_secs(40));
    assert_eq!(bed.a.call_count(), 0);
    assert_eq!(bed.a.poll_timeout(), None, "no timer left behind");
}

#[test]
fn a_registrar_that_forgot_our_nonce_is_answered_again() {
    // after a registrar restart the cached nonce is unknown: it challenges
    // with a fresh nonce and no stale=true; that is not a wrong password
    let mut bed = Bed::new();
    bed.proxy.max_expires = 120;
    bed.command(Side::A, Command::Register);
    bed.forget_nonces();
    let before = bed.sent(Side::A, "REGISTER").len();
    bed.advance(Duration::from_secs(90));
    let regs = bed.sent(Side::A, "REGISTER");
    assert_eq!(regs.len(), before + 2, "refresh, challenged, answered");
    assert_eq!(
        bed.a.registration_state(),
        &RegistrationState::Registered { expires: 120 }
    );
    assert!(!bed
        .events_of(Side::A)
        .iter()
        .any(|e| matches!(e, Event::Registration(RegistrationState::Failed { .. }))));
}
