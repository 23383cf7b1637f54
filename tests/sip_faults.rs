//! Faults and mid-call changes between two in-process phones: keep-alive,
//! reconnection, outbound/GRUU, re-INVITE and UPDATE both ways, glare, hold,
//! session timers, redirects, odd requests, ICE failures and shutdown.

mod support;

use softphone::sip::message::{Message, Method};
use softphone::sip::{
    CallId, CallState, Command, Duration, EndReason, Event, Input, MediaRequest, RegistrationState,
    ICE_FAILED,
};
use support::{sdp, sdp_version, sdp_with, Bed, Side};

fn ended(states: &[CallState]) -> Option<EndReason> {
    states.iter().find_map(|s| match s {
        CallState::Ended(r) => Some(r.clone()),
        _ => None,
    })
}

fn call(bed: &mut Bed, target: &str) -> CallId {
    bed.command(
        Side::A,
        Command::Call {
            target: target.into(),
        },
    );
    bed.last_call_id(Side::A).expect("A has a call")
}

/// A calls B, B answers; returns (A's call, B's call).
fn establish(bed: &mut Bed) -> (CallId, CallId) {
    bed.register_both();
    let ca = call(bed, "1001");
    let cb = bed.incoming_call(Side::B).expect("B rings");
    bed.command(Side::B, Command::Answer { call: cb });
    assert!(bed
        .call_states(Side::A, ca)
        .iter()
        .any(|s| matches!(s, CallState::Active { .. })));
    (ca, cb)
}

fn in_dialog(m: &Message) -> bool {
    m.to().is_some_and(|t| t.tag().is_some())
}

/// Re-INVITEs (INVITEs with a To tag) a phone sent.
fn reinvites(bed: &Bed, side: Side) -> Vec<Message> {
    bed.sent(side, "INVITE")
        .into_iter()
        .filter(in_dialog)
        .collect()
}

fn media_since(bed: &Bed, from: usize) -> Vec<(Side, MediaRequest)> {
    bed.media[from..].to_vec()
}

fn remote_holds(bed: &Bed, side: Side) -> Vec<bool> {
    bed.events_of(side)
        .into_iter()
        .filter_map(|e| match e {
            Event::RemoteHold { on_hold, .. } => Some(on_hold),
            _ => None,
        })
        .collect()
}

fn acks_with_seq(bed: &Bed, side: Side, seq: u32) -> usize {
    bed.sent(side, "ACK")
        .iter()
        .filter(|a| a.cseq().map(|c| c.seq) == Some(seq))
        .count()
}

fn seq(m: &Message) -> u32 {
    m.cseq().map(|c| c.seq).unwrap_or(0)
}

// ----- keep-alive -----

#[test]
fn keepalive_pongs_keep_the_connection_and_a_missing_pong_asks_for_a_reconnect() {
    let mut bed = Bed::new();
    bed.register_both();
    bed.advance(Duration::from_secs(29));
    assert!(bed.pings.is_empty(), "the first ping after 30 s");
    bed.advance(Duration::from_secs(1));
    let a_pings = |bed: &Bed| bed.pings.iter().filter(|(s, _)| *s == Side::A).count();
    assert_eq!(a_pings(&bed), 1);
    bed.advance(Duration::from_secs(60));
    assert_eq!(a_pings(&bed), 3, "every 30 s");
    assert!(bed.reconnects.is_empty(), "pongs came back");
    // the server goes silent: the next ping gets no pong within 10 s
    bed.silent_pongs = true;
    bed.advance(Duration::from_secs(30));
    assert_eq!(a_pings(&bed), 4);
    bed.advance(Duration::from_secs(9));
    assert!(bed.reconnects.is_empty(), "not before the pong timeout");
    bed.advance(Duration::from_secs(1));
    let a: Vec<_> = bed
        .reconnects
        .iter()
        .filter(|(s, _)| *s == Side::A)
        .collect();
    assert_eq!(a.len(), 1, "{:?}", bed.reconnects);
    assert!(a[0].1.contains("keep-alive"), "{}", a[0].1);
}

#[test]
fn no_reconnect_when_the_server_never_answered_a_ping() {
    let mut bed = Bed::new();
    bed.silent_pongs = true;
    bed.register_both();
    bed.advance(Duration::from_secs(200));
    assert!(bed.pings.iter().filter(|(s, _)| *s == Side::A).count() >= 6);
    assert!(bed.reconnects.is_empty(), "{:?}", bed.reconnects);
    assert!(matches!(
        bed.a.registration_state(),
        RegistrationState::Registered { .. }
    ));
}

// ----- outbound and GRUU -----

const INSTANCE_A: &str = "f81d4fae-7dec-11d0-a765-00a0c91e6bf6";

#[test]
fn register_contact_carries_the_instance_and_the_gruu_is_the_dialog_contact() {
    let mut bed = Bed::with_instance_ids();
    bed.proxy.gruu = true;
    // another device of the same account, listed first with a longer expiry
    bed.proxy.other_bindings = vec![
        "<sip:1000@10.0.0.9;transport=ws;ob>;expires=3000;+sip.instance=\"<urn:uuid:00000000-0000-0000-0000-000000000001>\";reg-id=1".into(),
    ];
    bed.register_both();
    let reg = bed.sent(Side::A, "REGISTER").pop().expect("register");
    let contact = &reg.contacts()[0];
    assert!(contact.uri.ends_with(";ob"), "{}", contact.uri);
    assert_eq!(contact.param("reg-id"), Some("1"));
    assert_eq!(
        contact.param("+sip.instance"),
        Some(format!("<urn:uuid:{INSTANCE_A}>").as_str())
    );
    let supported = reg.header_list("Supported");
    for tag in ["path", "gruu", "outbound"] {
        assert!(supported.iter().any(|s| s == tag), "{supported:?}");
    }
    // our binding (by instance), not the other device's
    assert_eq!(
        bed.a.registration_state(),
        &RegistrationState::Registered { expires: 600 }
    );

    let ca = call(&mut bed, "1001");
    let gruu_a = format!("sip:1000@example.test;gr=urn:uuid:{INSTANCE_A}");
    let invite = bed.sent(Side::A, "INVITE").pop().expect("invite");
    assert_eq!(
        invite.header("Contact"),
        Some(format!("<{gruu_a}>").as_str())
    );
    let cb = bed.incoming_call(Side::B).expect("B rings");
    bed.command(Side::B, Command::Answer { call: cb });
    let ok = bed
        .sent_responses(Side::B, 200, "INVITE")
        .pop()
        .expect("200");
    assert!(
        ok.header("Contact")
            .is_some_and(|c| c.contains(";gr=urn:uuid:")),
        "{:?}",
        ok.header("Contact")
    );
    // B's BYE targets A's GRUU, and the proxy finds A by it
    bed.command(Side::B, Command::Hangup { call: cb });
    let bye = bed.sent(Side::B, "BYE").pop().expect("bye");
    assert_eq!(bye.request_uri(), Some(gruu_a.as_str()));
    assert_eq!(
        ended(&bed.call_states(Side::A, ca)),
        Some(EndReason::RemoteHangup)
    );
}

#[test]
fn without_instance_id_no_outbound_parameters_and_require_outbound_adds_ob() {
    let mut bed = Bed::new();
    bed.proxy.require_outbound = true;
    bed.register_both();
    let reg = bed.sent(Side::A, "REGISTER").pop().expect("register");
    let contact = &reg.contacts()[0];
    assert!(!contact.uri.contains(";ob"), "{}", contact.uri);
    assert_eq!(contact.param("+sip.instance"), None);
    assert_eq!(contact.param("reg-id"), None);
    assert!(reg.header("Supported").is_none());
    // the registrar said Require: outbound: the dialog Contact gets ;ob
    call(&mut bed, "1001");
    let invite = bed.sent(Side::A, "INVITE").pop().expect("invite");
    assert_eq!(
        invite.header("Contact"),
        Some(format!("<{};ob>", bed.a.contact_uri()).as_str())
    );
}

// ----- reconnection -----

fn call_survives_reconnection_of(side: Side) {
    let mut bed = Bed::new();
    let (ca, cb) = establish(&mut bed);
    let id = |s: Side| if s == Side::A { ca } else { cb };
    let media_before = bed.media.len();
    let reinvites_before = reinvites(&bed, side).len();
    bed.reconnect(side);
    assert_eq!(
        bed.ua(side).registration_state(),
        &RegistrationState::Unregistered
    );
    assert_eq!(ended(&bed.call_states(side, id(side))), None);
    assert_eq!(
        reinvites(&bed, side).len(),
        reinvites_before,
        "not before re-registering"
    );
    bed.command(side, Command::Register);
    assert!(matches!(
        bed.ua(side).registration_state(),
        RegistrationState::Registered { .. }
    ));
    let re = reinvites(&bed, side);
    assert_eq!(re.len(), reinvites_before + 1, "one refresh re-INVITE");
    let refresh = re.last().expect("refresh");
    // same session description as before: a target refresh
    let local = if side == Side::A {
        "offer-A"
    } else {
        "answer-B"
    };
    assert_eq!(refresh.body_str(), Some(sdp(local).as_str()));
    assert_eq!(
        refresh.header("Contact"),
        Some(format!("<{}>", bed.ua(side).contact_uri()).as_str())
    );
    let other = side.other();
    assert_eq!(bed.answers_to(other, refresh)[0].code(), Some(200));
    assert_eq!(acks_with_seq(&bed, side, seq(refresh)), 1);
    // media untouched on both sides
    assert_eq!(media_since(&bed, media_before), vec![]);
    assert_eq!(ended(&bed.call_states(Side::A, ca)), None);
    assert_eq!(ended(&bed.call_states(Side::B, cb)), None);
    // and nothing more goes out later (no retry, no 2xx retransmission)
    let wire = bed.wire.len();
    bed.advance(Duration::from_secs(20));
    assert!(
        bed.wire[wire..]
            .iter()
            .all(|w| w.is("REGISTER") || w.msg.cseq().is_some_and(|c| c.method == Method::Register)),
        "{:?}",
        bed.wire[wire..].iter().map(|w| w.msg.clone()).collect::<Vec<_>>()
    );
    // the call still works end to end
    bed.command(other, Command::Hangup { call: id(other) });
    assert_eq!(
        ended(&bed.call_states(side, id(side))),
        Some(EndReason::RemoteHangup)
    );
}

#[test]
fn call_survives_a_reconnection_of_the_caller_and_is_refreshed() {
    call_survives_reconnection_of(Side::A);
}

#[test]
fn call_survives_a_reconnection_of_the_callee_and_is_refreshed() {
    call_survives_reconnection_of(Side::B);
}

#[test]
fn refresh_to_a_gone_peer_is_retried_then_the_call_ends_with_a_network_reason() {
    let mut bed = Bed::new();
    let (ca, _cb) = establish(&mut bed);
    bed.disconnect(Side::B); // B never comes back: the proxy answers 480
    bed.reconnect(Side::A);
    let media_before = bed.media.len();
    let t0 = bed.now;
    bed.command(Side::A, Command::Register);
    bed.advance(Duration::from_secs(40));
    let re: Vec<Duration> = bed
        .wire
        .iter()
        .filter(|w| w.from_phone && w.side == Side::A && w.is("INVITE") && in_dialog(&w.msg))
        .map(|w| w.at - t0)
        .collect();
    assert_eq!(
        re,
        [0, 2, 6, 14, 30].map(Duration::from_secs).to_vec(),
        "five tries, 2, 4, 8 and 16 s apart: the peer may come back later than we did"
    );
    assert_eq!(bed.received_responses(Side::A, 480, "INVITE").len(), 5);
    let bye = bed
        .wire
        .iter()
        .find(|w| w.from_phone && w.side == Side::A && w.is("BYE"))
        .expect("BYE");
    assert_eq!(bye.at - t0, Duration::from_secs(30));
    assert!(matches!(
        ended(&bed.call_states(Side::A, ca)),
        Some(EndReason::Network(_))
    ));
    assert!(media_since(&bed, media_before).contains(&(Side::A, MediaRequest::Close { call: ca })));
}

#[test]
fn refresh_to_a_silent_peer_times_out_and_the_call_ends() {
    let mut bed = Bed::new();
    let (ca, _cb) = establish(&mut bed);
    bed.proxy.offline_reply = None; // no answer at all
    bed.disconnect(Side::B);
    bed.reconnect(Side::A);
    let t0 = bed.now;
    bed.command(Side::A, Command::Register);
    assert_eq!(reinvites(&bed, Side::A).len(), 1);
    bed.advance(Duration::from_secs(40));
    let bye = bed
        .wire
        .iter()
        .find(|w| w.from_phone && w.side == Side::A && w.is("BYE"))
        .expect("BYE");
    assert!(bye.at - t0 <= Duration::from_secs(33), "{:?}", bye.at - t0);
    assert!(matches!(
        ended(&bed.call_states(Side::A, ca)),
        Some(EndReason::Network(_))
    ));
}

// ----- glare -----

#[test]
fn glare_both_get_491_then_both_reinvites_succeed_after_the_back_off() {
    let mut bed = Bed::new();
    let (ca, cb) = establish(&mut bed);
    let media_before = bed.media.len();
    // both phones re-INVITE at the same instant (an ICE restart each)
    let now = bed.now;
    bed.a
        .handle_input(now, Input::IceFailed { call: ca })
        .expect("a known call");
    bed.b
        .handle_input(now, Input::IceFailed { call: cb })
        .expect("a known call");
    bed.settle();
    let t0 = bed.now;
    assert_eq!(bed.sent_responses(Side::A, 491, "INVITE").len(), 1);
    assert_eq!(bed.sent_responses(Side::B, 491, "INVITE").len(), 1);
    let media = media_since(&bed, media_before);
    assert!(media.contains(&(Side::A, MediaRequest::Rollback { call: ca })));
    assert!(media.contains(&(Side::B, MediaRequest::Rollback { call: cb })));
    // the 491s are acknowledged
    let a1 = reinvites(&bed, Side::A)[0].clone();
    assert_eq!(acks_with_seq(&bed, Side::A, seq(&a1)), 1);

    bed.advance(Duration::from_secs(5));
    let times = |side: Side| -> Vec<Duration> {
        bed.wire
            .iter()
            .filter(|w| w.from_phone && w.side == side && w.is("INVITE") && in_dialog(&w.msg))
            .map(|w| w.at - t0)
            .collect()
    };
    let (ta, tb) = (times(Side::A), times(Side::B));
    assert_eq!(ta.len(), 2, "A retried once: {ta:?}");
    assert_eq!(tb.len(), 2, "B retried once: {tb:?}");
    // the callee (no Call-ID ownership) retries within 0..2 s, the caller
    // within 2.1..4 s, or as soon as the callee's exchange is over
    assert!(tb[1] <= Duration::from_secs(2), "{tb:?}");
    assert!(ta[1] >= tb[1] && ta[1] <= Duration::from_secs(4), "{ta:?}");
    assert_eq!(bed.sent_responses(Side::A, 200, "INVITE").len(), 1);
    assert_eq!(
        bed.sent_responses(Side::B, 200, "INVITE").len(),
        2,
        "the first answer and the one to A's retry"
    );
    for (side, c) in [(Side::A, ca), (Side::B, cb)] {
        assert!(bed.media.iter().any(|(s, m)| *s == side
            && matches!(m, MediaRequest::SetRemoteAnswer { call, .. } if *call == c)));
        assert_eq!(ended(&bed.call_states(side, c)), None);
    }
}

// ----- the peer changes the session -----

#[test]
fn remote_hold_is_reported_answered_and_resumed() {
    let mut bed = Bed::new();
    let (ca, _cb) = establish(&mut bed);
    let hold = sdp_with("hold-B", 2, "sendonly");
    let re = bed.peer_request(Side::A, "INVITE", Some(&hold), &[]);
    assert_eq!(remote_holds(&bed, Side::A), vec![true]);
    assert!(bed.media.iter().any(|(s, m)| *s == Side::A
        && *m
            == MediaRequest::Reanswer {
                call: ca,
                remote_sdp: hold.clone()
            }));
    let answers = bed.answers_to(Side::A, &re);
    assert_eq!(answers.len(), 1);
    assert_eq!(answers[0].code(), Some(200));
    let body = answers[0].body_str().unwrap_or_default().to_string();
    assert!(body.contains("reanswer-A"), "A's new SDP: {body}");
    assert!(body.contains("a=recvonly"), "{body}");
    assert_eq!(sdp_version(&body), Some(bed.media_version(Side::A)));
    assert!(sdp_version(&body) > Some(1));
    bed.peer_ack(Side::A, &re, None);
    bed.advance(Duration::from_secs(5));
    assert_eq!(
        bed.answers_to(Side::A, &re).len(),
        1,
        "ACKed: no retransmission"
    );

    let resume = sdp_with("resume-B", 3, "sendrecv");
    let re2 = bed.peer_request(Side::A, "INVITE", Some(&resume), &[]);
    assert_eq!(remote_holds(&bed, Side::A), vec![true, false]);
    let ok = bed.answers_to(Side::A, &re2).pop().expect("200");
    assert_eq!(ok.code(), Some(200));
    assert!(ok.body_str().is_some_and(|b| b.contains("a=sendrecv")));
    bed.peer_ack(Side::A, &re2, None);
    assert_eq!(ended(&bed.call_states(Side::A, ca)), None);
}

#[test]
fn unchanged_version_reinvite_is_answered_without_touching_media() {
    let mut bed = Bed::new();
    let (ca, _cb) = establish(&mut bed);
    let media_before = bed.media.len();
    let re = bed.peer_request(Side::A, "INVITE", Some(&sdp("answer-B")), &[]);
    let ok = bed.answers_to(Side::A, &re).pop().expect("answer");
    assert_eq!(ok.code(), Some(200));
    assert_eq!(
        ok.body_str(),
        Some(sdp("offer-A").as_str()),
        "A's SDP as is"
    );
    bed.peer_ack(Side::A, &re, None);
    assert_eq!(media_since(&bed, media_before), vec![]);
    assert!(remote_holds(&bed, Side::A).is_empty());
    assert_eq!(ended(&bed.call_states(Side::A, ca)), None);
}

#[test]
fn offerless_reinvite_gets_an_offer_in_the_200_and_the_answer_from_the_ack() {
    let mut bed = Bed::new();
    let (ca, _cb) = establish(&mut bed);
    let media_before = bed.media.len();
    let re = bed.peer_request(Side::A, "INVITE", None, &[]);
    assert_eq!(
        media_since(&bed, media_before),
        vec![(
            Side::A,
            MediaRequest::Reoffer {
                call: ca,
                ice_restart: false,
                hold: false
            }
        )]
    );
    let ok = bed.answers_to(Side::A, &re).pop().expect("200");
    assert_eq!(ok.code(), Some(200));
    let offer = ok.body_str().unwrap_or_default().to_string();
    assert!(offer.contains("reoffer-A"), "{offer}");
    let answer = sdp_with("ack-answer-B", 2, "sendrecv");
    bed.peer_ack(Side::A, &re, Some(&answer));
    assert_eq!(
        bed.media.last(),
        Some(&(
            Side::A,
            MediaRequest::SetRemoteAnswer {
                call: ca,
                sdp: answer.clone(),
                provisional: false
            }
        ))
    );
    // a later refresh with that answer's version is answered with the
    // offer A made (its current session), not the first one
    let media_before = bed.media.len();
    let re2 = bed.peer_request(Side::A, "INVITE", Some(&answer), &[]);
    let ok2 = bed.answers_to(Side::A, &re2).pop().expect("200");
    assert_eq!(ok2.body_str(), Some(offer.as_str()));
    assert_eq!(media_since(&bed, media_before), vec![]);
}

#[test]
fn update_without_sdp_is_answered_200_without_media() {
    let mut bed = Bed::new();
    let (ca, _cb) = establish(&mut bed);
    let media_before = bed.media.len();
    let up = bed.peer_request(Side::A, "UPDATE", None, &[]);
    let ok = bed.answers_to(Side::A, &up).pop().expect("200");
    assert_eq!(ok.code(), Some(200));
    assert!(ok.body.is_empty());
    assert_eq!(media_since(&bed, media_before), vec![]);
    assert_eq!(ended(&bed.call_states(Side::A, ca)), None);
}

#[test]
fn update_with_a_new_offer_is_reanswered_in_the_200() {
    let mut bed = Bed::new();
    let (ca, _cb) = establish(&mut bed);
    let offer = sdp_with("update-B", 2, "inactive");
    let up = bed.peer_request(Side::A, "UPDATE", Some(&offer), &[]);
    assert!(bed.media.iter().any(|(s, m)| *s == Side::A
        && *m
            == MediaRequest::Reanswer {
                call: ca,
                remote_sdp: offer.clone()
            }));
    let ok = bed.answers_to(Side::A, &up).pop().expect("200");
    assert_eq!(ok.code(), Some(200));
    assert_eq!(ok.content_type(), Some("application/sdp"));
    let body = ok.body_str().unwrap_or_default();
    assert!(
        body.contains("reanswer-A") && body.contains("a=inactive"),
        "{body}"
    );
    assert_eq!(remote_holds(&bed, Side::A), vec![true]);
}

#[test]
fn a_failed_reanswer_gets_488_rolls_back_and_the_call_goes_on() {
    let mut bed = Bed::new();
    let (ca, cb) = establish(&mut bed);
    bed.renegotiation_fails = Some(Side::A);
    let media_before = bed.media.len();
    let re = bed.peer_request(
        Side::A,
        "INVITE",
        Some(&sdp_with("bad-B", 2, "sendonly")),
        &[],
    );
    let r = bed.answers_to(Side::A, &re).pop().expect("answer");
    assert_eq!(r.code(), Some(488));
    assert!(
        media_since(&bed, media_before).contains(&(Side::A, MediaRequest::Rollback { call: ca }))
    );
    assert!(bed.sent(Side::A, "BYE").is_empty());
    assert_eq!(ended(&bed.call_states(Side::A, ca)), None);
    // the refused offer changed nothing: no hold reported
    assert!(!remote_holds(&bed, Side::A).contains(&true));
    // the peer's session is still the old one: its refresh touches no media
    bed.renegotiation_fails = None;
    let media_before = bed.media.len();
    let re2 = bed.peer_request(Side::A, "INVITE", Some(&sdp("answer-B")), &[]);
    let ok = bed.answers_to(Side::A, &re2).pop().expect("200");
    assert_eq!(ok.code(), Some(200));
    assert_eq!(ok.body_str(), Some(sdp("offer-A").as_str()));
    assert_eq!(media_since(&bed, media_before), vec![]);
    bed.peer_ack(Side::A, &re2, None);
    bed.command(Side::A, Command::Hangup { call: ca });
    assert_eq!(
        ended(&bed.call_states(Side::B, cb)),
        Some(EndReason::RemoteHangup)
    );
}

// ----- session timers (RFC 4028) -----

#[test]
fn session_timer_refresher_uac_the_caller_refreshes_at_half_interval() {
    let mut bed = Bed::new();
    bed.proxy.session_expires = Some("120;refresher=uac".into());
    let (ca, cb) = establish(&mut bed);
    let ok = bed
        .sent_responses(Side::B, 200, "INVITE")
        .pop()
        .expect("200");
    assert_eq!(ok.header("Session-Expires"), Some("120;refresher=uac"));
    assert_eq!(ok.header("Require"), Some("timer"));
    let t0 = bed.now;
    bed.advance(Duration::from_secs(59));
    assert!(reinvites(&bed, Side::A).is_empty());
    bed.advance(Duration::from_secs(131));
    let times: Vec<Duration> = bed
        .wire
        .iter()
        .filter(|w| w.from_phone && w.side == Side::A && w.is("INVITE") && in_dialog(&w.msg))
        .map(|w| w.at - t0)
        .collect();
    assert_eq!(
        times,
        vec![
            Duration::from_secs(60),
            Duration::from_secs(120),
            Duration::from_secs(180)
        ]
    );
    let re = reinvites(&bed, Side::A);
    assert_eq!(re[0].header("Session-Expires"), Some("120;refresher=uac"));
    assert_eq!(re[0].body_str(), Some(sdp("offer-A").as_str()));
    assert_eq!(bed.sent_responses(Side::B, 200, "INVITE").len(), 4);
    assert!(reinvites(&bed, Side::B).is_empty());
    assert!(bed.sent(Side::A, "BYE").is_empty() && bed.sent(Side::B, "BYE").is_empty());
    assert_eq!(ended(&bed.call_states(Side::A, ca)), None);
    assert_eq!(ended(&bed.call_states(Side::B, cb)), None);
}

#[test]
fn session_timer_refresher_uas_the_callee_refreshes() {
    let mut bed = Bed::new();
    bed.proxy.session_expires = Some("120;refresher=uas".into());
    let (ca, cb) = establish(&mut bed);
    let ok = bed
        .sent_responses(Side::B, 200, "INVITE")
        .pop()
        .expect("200");
    assert_eq!(ok.header("Session-Expires"), Some("120;refresher=uas"));
    bed.advance(Duration::from_secs(190));
    assert!(reinvites(&bed, Side::A).is_empty());
    let re = reinvites(&bed, Side::B);
    assert_eq!(re.len(), 3, "at 60, 120 and 180 s");
    // in B's own request, B is the uac
    assert_eq!(re[0].header("Session-Expires"), Some("120;refresher=uac"));
    let ok = bed.answers_to(Side::A, &re[0]).pop().expect("200");
    assert_eq!(ok.header("Session-Expires"), Some("120;refresher=uac"));
    assert!(bed.sent(Side::A, "BYE").is_empty() && bed.sent(Side::B, "BYE").is_empty());
    assert_eq!(ended(&bed.call_states(Side::A, ca)), None);
    assert_eq!(ended(&bed.call_states(Side::B, cb)), None);
}

#[test]
fn session_expires_without_refresh_ends_with_bye_and_session_expired() {
    let mut bed = Bed::new();
    bed.proxy.session_expires = Some("120;refresher=uac".into());
    let (ca, cb) = establish(&mut bed);
    // A's refreshes never reach B
    bed.drop_to_phone = Some(Box::new(|side, m| {
        side == Side::B && m.method() == Some(&Method::Invite) && in_dialog(m)
    }));
    let t0 = bed.now;
    bed.advance(Duration::from_secs(87));
    assert!(bed.sent(Side::B, "BYE").is_empty());
    bed.advance(Duration::from_secs(1));
    let bye = bed
        .wire
        .iter()
        .find(|w| w.from_phone && w.side == Side::B && w.is("BYE"))
        .expect("BYE");
    // expiry minus min(32 s, a third)
    assert_eq!(bye.at - t0, Duration::from_secs(88));
    assert_eq!(
        ended(&bed.call_states(Side::B, cb)),
        Some(EndReason::SessionExpired)
    );
    assert_eq!(
        ended(&bed.call_states(Side::A, ca)),
        Some(EndReason::RemoteHangup)
    );
}

#[test]
fn session_interval_too_small_422_is_retried_with_min_se() {
    let mut bed = Bed::new();
    bed.proxy.min_se = Some(1800);
    let (ca, _cb) = establish(&mut bed);
    assert_eq!(bed.received_responses(Side::A, 422, "INVITE").len(), 1);
    let last = bed.sent(Side::A, "INVITE").pop().expect("invite");
    assert_eq!(last.header("Session-Expires"), Some("1800"));
    assert_eq!(last.header("Min-SE"), Some("1800"));
    assert!(last.header("Proxy-Authorization").is_some());
    // the 422 was acknowledged
    let first_422 = bed
        .received_responses(Side::A, 422, "INVITE")
        .pop()
        .expect("422");
    assert_eq!(acks_with_seq(&bed, Side::A, seq(&first_422)), 1);
    // B let A refresh (A supports timer): A re-INVITEs at half the interval
    let ok = bed
        .sent_responses(Side::B, 200, "INVITE")
        .pop()
        .expect("200");
    assert_eq!(ok.header("Session-Expires"), Some("1800;refresher=uac"));
    bed.advance(Duration::from_secs(901));
    assert_eq!(reinvites(&bed, Side::A).len(), 1);
    assert_eq!(ended(&bed.call_states(Side::A, ca)), None);
}

#[test]
fn incoming_session_interval_below_90_gets_422_with_min_se() {
    let mut bed = Bed::new();
    bed.proxy.session_expires = Some("60".into());
    bed.register_both();
    let ca = call(&mut bed, "1001");
    let r = bed.sent_responses(Side::B, 422, "INVITE");
    assert!(!r.is_empty());
    assert_eq!(r[0].header("Min-SE"), Some("90"));
    // A asked again with 90 s; this proxy forces 60 again: 422 is final
    let invites = bed.sent(Side::A, "INVITE");
    assert_eq!(invites.len(), 3, "407, 422, then the end");
    assert_eq!(invites[2].header("Session-Expires"), Some("90"));
    assert_eq!(r.len(), 2);
    assert!(bed.incoming_call(Side::B).is_none());
    assert!(matches!(
        ended(&bed.call_states(Side::A, ca)),
        Some(EndReason::Failed { code: 422, .. })
    ));
}

// ----- redirects and end reasons -----

#[test]
fn redirect_is_followed_to_another_user() {
    let mut bed = Bed::new();
    bed.register_both();
    bed.proxy.canned.insert(
        "2000".into(),
        (
            302,
            "Moved Temporarily",
            vec!["<sip:1001@example.test>".into()],
        ),
    );
    let ca = call(&mut bed, "2000");
    let invites = bed.sent(Side::A, "INVITE");
    let uris: Vec<&str> = invites.iter().filter_map(|m| m.request_uri()).collect();
    assert_eq!(
        uris,
        vec![
            "sip:2000@example.test",
            "sip:2000@example.test",
            "sip:1001@example.test"
        ]
    );
    let cb = bed.incoming_call(Side::B).expect("B rings");
    bed.command(Side::B, Command::Answer { call: cb });
    assert!(bed
        .call_states(Side::A, ca)
        .iter()
        .any(|s| matches!(s, CallState::Active { .. })));
    let r302 = bed
        .received_responses(Side::A, 302, "INVITE")
        .pop()
        .expect("302");
    assert_eq!(acks_with_seq(&bed, Side::A, seq(&r302)), 1);
}

#[test]
fn redirect_loops_long_chains_and_305_are_not_followed() {
    let mut bed = Bed::new();
    bed.register_both();
    let to = |u: &str| vec![format!("<sip:{u}@example.test>")];
    bed.proxy
        .canned
        .insert("2000".into(), (302, "Moved Temporarily", to("2001")));
    bed.proxy
        .canned
        .insert("2001".into(), (302, "Moved Temporarily", to("2000")));
    let ca = call(&mut bed, "2000");
    let uris: Vec<String> = bed
        .sent(Side::A, "INVITE")
        .iter()
        .filter_map(|m| m.request_uri().map(str::to_string))
        .collect();
    assert_eq!(
        uris,
        vec![
            "sip:2000@example.test",
            "sip:2000@example.test",
            "sip:2001@example.test"
        ],
        "each target tried once"
    );
    assert!(matches!(
        ended(&bed.call_states(Side::A, ca)),
        Some(EndReason::Failed { code: 302, .. })
    ));

    // a chain longer than 3 redirects stops
    for (from, next) in [
        ("3000", "3001"),
        ("3001", "3002"),
        ("3002", "3003"),
        ("3003", "1001"),
    ] {
        bed.proxy
            .canned
            .insert(from.into(), (302, "Moved Temporarily", to(next)));
    }
    let n = bed.sent(Side::A, "INVITE").len();
    let c2 = call(&mut bed, "3000");
    let uris: Vec<String> = bed.sent(Side::A, "INVITE")[n..]
        .iter()
        .filter_map(|m| m.request_uri().map(str::to_string))
        .collect();
    // (no 407 now: the INVITE carries the credentials of the first call's
    // challenge) 3000, 3001, 3002, 3003, and not 1001
    assert_eq!(uris.len(), 4, "{uris:?}");
    assert!(!uris.iter().any(|u| u.contains("1001")), "{uris:?}");
    assert!(bed.incoming_call(Side::B).is_none());
    assert!(matches!(
        ended(&bed.call_states(Side::A, c2)),
        Some(EndReason::Failed { code: 302, .. })
    ));

    // 305 Use Proxy is never followed
    bed.proxy
        .canned
        .insert("4000".into(), (305, "Use Proxy", to("1001")));
    let n = bed.sent(Side::A, "INVITE").len();
    let c3 = call(&mut bed, "4000");
    assert_eq!(
        bed.sent(Side::A, "INVITE").len(),
        n + 1,
        "305 at once (credentials from the start)"
    );
    assert!(matches!(
        ended(&bed.call_states(Side::A, c3)),
        Some(EndReason::Failed { code: 305, .. })
    ));
    assert!(bed.incoming_call(Side::B).is_none());
}

#[test]
fn unavailable_480_and_cancelled_487_have_their_own_end_reasons() {
    let mut bed = Bed::new();
    bed.register_both();
    bed.proxy
        .canned
        .insert("1005".into(), (480, "Temporarily Unavailable", vec![]));
    bed.proxy
        .canned
        .insert("1006".into(), (487, "Request Terminated", vec![]));
    let c1 = call(&mut bed, "1005");
    assert_eq!(
        ended(&bed.call_states(Side::A, c1)),
        Some(EndReason::Unavailable)
    );
    assert!(softphone::app::words::ended(&EndReason::Unavailable).contains("not available"));
    let c2 = call(&mut bed, "1006");
    assert_eq!(
        ended(&bed.call_states(Side::A, c2)),
        Some(EndReason::Cancelled)
    );
    // both final answers were acknowledged
    for code in [480, 487] {
        let r = bed
            .received_responses(Side::A, code, "INVITE")
            .pop()
            .expect("final");
        let acks = bed
            .sent(Side::A, "ACK")
            .into_iter()
            .filter(|a| a.call_id() == r.call_id() && seq(a) == seq(&r))
            .count();
        assert_eq!(acks, 1, "{code}");
    }
}

// ----- odd requests -----

#[test]
fn cancel_after_the_200_gets_200_and_the_call_stays_up() {
    let mut bed = Bed::new();
    let (ca, cb) = establish(&mut bed);
    let invite = bed
        .wire
        .iter()
        .rev()
        .find(|w| !w.from_phone && w.side == Side::B && w.is("INVITE"))
        .map(|w| w.msg.clone())
        .expect("the INVITE B got");
    let mut cancel = Message::request(Method::Cancel, invite.request_uri().unwrap_or_default());
    cancel.push_header("Via", invite.header_values("Via")[0]);
    cancel.push_header("Max-Forwards", "70");
    for h in ["From", "To", "Call-ID"] {
        cancel.push_header(h, invite.header(h).unwrap_or_default());
    }
    cancel.push_header("CSeq", format!("{} CANCEL", seq(&invite)));
    let text = String::from_utf8(cancel.to_bytes()).expect("utf-8");
    bed.inject(Side::B, &text);
    let ok = bed.sent_responses(Side::B, 200, "CANCEL");
    assert_eq!(ok.len(), 1);
    let b_tag = bed
        .sent_responses(Side::B, 200, "INVITE")
        .pop()
        .and_then(|r| r.to().and_then(|t| t.tag().map(str::to_string)));
    assert_eq!(ok[0].to().and_then(|t| t.tag().map(str::to_string)), b_tag);
    assert!(bed.sent_responses(Side::B, 487, "INVITE").is_empty());
    assert_eq!(ended(&bed.call_states(Side::B, cb)), None);
    bed.command(Side::A, Command::Hangup { call: ca });
    assert_eq!(
        ended(&bed.call_states(Side::B, cb)),
        Some(EndReason::RemoteHangup)
    );
}

fn initial_invite(branch: &str, extra: &str) -> String {
    let body = sdp("offer-X");
    format!(
        "INVITE sip:1001@example.test SIP/2.0\r\n\
         Via: SIP/2.0/WS proxy.test;branch=z9hG4bK{branch}\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:1000@example.test>;tag=x{branch}\r\n\
         To: <sip:1001@example.test>\r\n\
         Call-ID: req-{branch}\r\n\
         CSeq: 1 INVITE\r\n\
         Contact: <sip:x@x.invalid;transport=ws>\r\n\
         {extra}\
         Content-Type: application/sdp\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

#[test]
fn require_of_an_unknown_extension_gets_420_and_require_timer_is_accepted() {
    let mut bed = Bed::new();
    bed.register_both();
    bed.inject(Side::B, &initial_invite("foo1", "Require: foo\r\n"));
    let r = bed.sent_responses(Side::B, 420, "INVITE");
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].header("Unsupported"), Some("foo"));
    assert!(bed.incoming_call(Side::B).is_none());

    bed.inject(
        Side::B,
        &initial_invite("timer1", "Require: timer\r\nSession-Expires: 1800\r\n"),
    );
    assert_eq!(bed.sent_responses(Side::B, 420, "INVITE").len(), 1);
    assert_eq!(bed.sent_responses(Side::B, 180, "INVITE").len(), 1);
    assert!(bed.incoming_call(Side::B).is_some());
}

#[test]
fn reinvite_requiring_an_unknown_extension_gets_420_and_the_call_goes_on() {
    let mut bed = Bed::new();
    let (ca, _cb) = establish(&mut bed);
    let media_before = bed.media.len();
    let re = bed.peer_request(
        Side::A,
        "INVITE",
        Some(&sdp_with("x", 2, "sendonly")),
        &[("Require", "foo, timer")],
    );
    let r = bed.answers_to(Side::A, &re).pop().expect("answer");
    assert_eq!(r.code(), Some(420));
    assert_eq!(r.header("Unsupported"), Some("foo"));
    assert_eq!(media_since(&bed, media_before), vec![]);
    assert_eq!(ended(&bed.call_states(Side::A, ca)), None);
}

// ----- media faults -----

#[test]
fn ice_failure_restarts_ice_and_the_third_failure_ends_the_call() {
    let mut bed = Bed::new();
    let (ca, cb) = establish(&mut bed);
    for n in 1..=2 {
        let media_before = bed.media.len();
        bed.input(Side::A, Input::IceFailed { call: ca });
        let media = media_since(&bed, media_before);
        assert_eq!(
            media[0],
            (
                Side::A,
                MediaRequest::Reoffer {
                    call: ca,
                    ice_restart: true,
                    hold: false
                }
            )
        );
        let re = reinvites(&bed, Side::A);
        assert_eq!(re.len(), n);
        let offer = re[n - 1].body_str().unwrap_or_default();
        assert!(offer.contains("iceoffer-A"), "{offer}");
        assert!(media.iter().any(|(s, m)| *s == Side::B
            && matches!(m, MediaRequest::Reanswer { call, .. } if *call == cb)));
        assert!(media.iter().any(|(s, m)| *s == Side::A
            && matches!(m, MediaRequest::SetRemoteAnswer { call, .. } if *call == ca)));
        assert_eq!(acks_with_seq(&bed, Side::A, seq(&re[n - 1])), 1);
        assert_eq!(ended(&bed.call_states(Side::A, ca)), None);
    }
    bed.input(Side::A, Input::IceFailed { call: ca });
    assert_eq!(reinvites(&bed, Side::A).len(), 2, "no third restart");
    assert_eq!(bed.sent(Side::A, "BYE").len(), 1);
    assert_eq!(
        ended(&bed.call_states(Side::A, ca)),
        Some(EndReason::Media(ICE_FAILED.into()))
    );
    assert!(bed
        .media
        .contains(&(Side::A, MediaRequest::Close { call: ca })));
    assert_eq!(
        ended(&bed.call_states(Side::B, cb)),
        Some(EndReason::RemoteHangup)
    );
}

#[test]
fn ice_restart_offer_that_cannot_be_made_ends_the_call() {
    let mut bed = Bed::new();
    let (ca, _cb) = establish(&mut bed);
    bed.renegotiation_fails = Some(Side::A);
    bed.input(Side::A, Input::IceFailed { call: ca });
    assert!(reinvites(&bed, Side::A).is_empty());
    assert_eq!(bed.sent(Side::A, "BYE").len(), 1);
    assert!(matches!(
        ended(&bed.call_states(Side::A, ca)),
        Some(EndReason::Media(_))
    ));
}

// ----- shutdown and lost connections -----

#[test]
fn shutdown_hangs_up_the_call_and_unregisters() {
    let mut bed = Bed::new();
    let (ca, cb) = establish(&mut bed);
    bed.command(Side::A, Command::Shutdown);
    assert_eq!(bed.sent(Side::A, "BYE").len(), 1);
    let reg = bed.sent(Side::A, "REGISTER").pop().expect("register");
    assert_eq!(reg.expires(), Some(0));
    assert_eq!(reg.contacts()[0].param("expires"), Some("0"));
    assert_eq!(
        ended(&bed.call_states(Side::A, ca)),
        Some(EndReason::LocalHangup)
    );
    assert_eq!(
        ended(&bed.call_states(Side::B, cb)),
        Some(EndReason::RemoteHangup)
    );
    assert_eq!(bed.a.registration_state(), &RegistrationState::Unregistered);
    assert!(!bed.proxy.bindings.contains_key("1000"));
}

#[test]
fn a_ringing_call_ends_with_a_network_reason_when_the_connection_drops() {
    let mut bed = Bed::new();
    bed.register_both();
    let ca = call(&mut bed, "1001");
    let cb = bed.incoming_call(Side::B).expect("B rings");
    bed.disconnect(Side::B);
    assert!(matches!(
        ended(&bed.call_states(Side::B, cb)),
        Some(EndReason::Network(_))
    ));
    // an answer now is too late
    bed.command(Side::B, Command::Answer { call: cb });
    assert!(bed.sent_responses(Side::B, 200, "INVITE").is_empty());
    // back online, B takes new calls
    bed.connect(Side::B);
    bed.command(Side::B, Command::Register);
    bed.command(Side::A, Command::Hangup { call: ca });
    let c2 = call(&mut bed, "1001");
    let cb2 = bed.incoming_call(Side::B).expect("B rings again");
    assert_ne!(cb2, cb);
    bed.command(Side::B, Command::Answer { call: cb2 });
    assert!(bed
        .call_states(Side::A, c2)
        .iter()
        .any(|s| matches!(s, CallState::Active { .. })));
}

#[test]
fn a_calling_phone_that_loses_its_connection_ends_the_call() {
    let mut bed = Bed::new();
    bed.register_both();
    let ca = call(&mut bed, "1001");
    assert!(bed.call_states(Side::A, ca).contains(&CallState::Ringing));
    bed.disconnect(Side::A);
    assert!(matches!(
        ended(&bed.call_states(Side::A, ca)),
        Some(EndReason::Network(_))
    ));
    assert!(bed
        .media
        .contains(&(Side::A, MediaRequest::Close { call: ca })));
}

#[test]
fn session_refresh_answered_408_hangs_up_with_bye() {
    let mut bed = Bed::new();
    bed.proxy.session_expires = Some("120;refresher=uac".into());
    let (ca, cb) = establish(&mut bed);
    bed.proxy.reinvite_replies.push_back((408, None));
    bed.advance(Duration::from_secs(61));
    assert_eq!(reinvites(&bed, Side::A).len(), 1);
    assert_eq!(bed.received_responses(Side::A, 408, "INVITE").len(), 1);
    assert_eq!(bed.sent(Side::A, "BYE").len(), 1, "RFC 4028 10: BYE");
    assert_eq!(
        ended(&bed.call_states(Side::A, ca)),
        Some(EndReason::SessionExpired)
    );
    assert_eq!(
        ended(&bed.call_states(Side::B, cb)),
        Some(EndReason::RemoteHangup)
    );
}

#[test]
fn session_refresh_refused_for_now_is_tried_again_after_retry_after() {
    let mut bed = Bed::new();
    bed.proxy.session_expires = Some("120;refresher=uac".into());
    let (ca, cb) = establish(&mut bed);
    bed.proxy.reinvite_replies.push_back((500, Some(5)));
    let t0 = bed.now;
    bed.advance(Duration::from_secs(100));
    let times: Vec<Duration> = bed
        .wire
        .iter()
        .filter(|w| w.from_phone && w.side == Side::A && w.is("INVITE") && in_dialog(&w.msg))
        .map(|w| w.at - t0)
        .collect();
    assert_eq!(
        times,
        vec![Duration::from_secs(60), Duration::from_secs(65)],
        "refused, then again after Retry-After"
    );
    // the second one reached B in time: no session expiry
    assert!(bed.sent(Side::B, "BYE").is_empty());
    assert_eq!(ended(&bed.call_states(Side::A, ca)), None);
    assert_eq!(ended(&bed.call_states(Side::B, cb)), None);
}

#[test]
fn frequent_pings_still_detect_a_dead_connection() {
    // pings every 4 s, more often than the 10 s pong timeout
    let mut bed = Bed::with_config("secret1000", "secret1001", |_, c| c.keepalive_secs = 4);
    bed.register_both();
    bed.advance(Duration::from_secs(4));
    assert!(bed.reconnects.is_empty());
    bed.silent_pongs = true;
    let t0 = bed.now;
    bed.advance(Duration::from_secs(30));
    let a: Vec<_> = bed
        .reconnects
        .iter()
        .filter(|(s, _)| *s == Side::A)
        .collect();
    assert!(!a.is_empty(), "no Reconnect although no pong for 30 s");
    let first_silent_ping = t0 + Duration::from_secs(4);
    assert!(bed
        .pings
        .iter()
        .any(|(s, at)| *s == Side::A && *at == first_silent_ping));
}

/// The first message to `side` that `pick` selects is held back (not
/// delivered); returns it once the bed has settled.
fn hold_back(
    bed: &mut Bed,
    side: Side,
    pick: fn(&Message) -> bool,
    act: impl FnOnce(&mut Bed),
) -> Message {
    let taken = std::rc::Rc::new(std::cell::Cell::new(false));
    let flag = taken.clone();
    bed.drop_to_phone = Some(Box::new(move |s, m| {
        let hit = s == side && !flag.get() && pick(m);
        if hit {
            flag.set(true);
        }
        hit
    }));
    let from = bed.wire.len();
    act(bed);
    bed.drop_to_phone = None;
    bed.wire[from..]
        .iter()
        .find(|w| !w.from_phone && w.side == side && pick(&w.msg))
        .map(|w| w.msg.clone())
        .expect("the held-back message")
}

fn is_invite_2xx(m: &Message) -> bool {
    m.code() == Some(200) && m.cseq().is_some_and(|c| c.method == Method::Invite)
}

/// Issue 12 (fuzz finding): a 2xx whose Contact carries URI headers. RFC
/// 3261 19.1.5 and 12.2.1.1: the remote target's Request-URI has no
/// headers, so the ACK and the BYE go to the Contact without them (before,
/// the BYE carried `?…` in its Request-URI, which our own parser refuses).
#[test]
fn a_contact_with_uri_headers_gives_a_request_uri_without_them() {
    let mut bed = Bed::new();
    bed.register_both();
    let b_contact = bed.ua(Side::B).contact_uri().to_string();
    let ca = call(&mut bed, "1001");
    let cb = bed.incoming_call(Side::B).expect("B rings");
    let mut ok = hold_back(&mut bed, Side::A, is_invite_2xx, |bed| {
        bed.command(Side::B, Command::Answer { call: cb })
    });
    ok.set_header("Contact", format!("<{b_contact}?Subject=hi&X-Y=%3Cz%3E>"));
    bed.inject(Side::A, &String::from_utf8(ok.to_bytes()).expect("utf-8"));
    assert!(bed
        .call_states(Side::A, ca)
        .iter()
        .any(|s| matches!(s, CallState::Active { .. })));
    let ack = bed.sent(Side::A, "ACK");
    assert_eq!(
        ack.last().and_then(|m| m.request_uri()),
        Some(b_contact.as_str())
    );
    bed.command(Side::A, Command::Hangup { call: ca });
    let bye = bed.sent(Side::A, "BYE");
    assert_eq!(bye.len(), 1);
    assert_eq!(bye[0].request_uri(), Some(b_contact.as_str()));
    assert!(!bye[0].request_uri().unwrap_or_default().contains('?'));
    // B took it as its call's BYE
    assert!(bed
        .call_states(Side::B, cb)
        .iter()
        .any(|s| matches!(s, CallState::Ended(_))));
}

/// A 2xx whose Contact cannot become a Request-URI at all: the call is
/// refused ("unusable answer"), nothing unreadable is sent, no panic.
#[test]
fn a_2xx_contact_that_cannot_be_a_request_uri_ends_the_call() {
    let mut bed = Bed::new();
    bed.register_both();
    let ca = call(&mut bed, "1001");
    let cb = bed.incoming_call(Side::B).expect("B rings");
    let mut ok = hold_back(&mut bed, Side::A, is_invite_2xx, |bed| {
        bed.command(Side::B, Command::Answer { call: cb })
    });
    ok.set_header("Contact", "<sip:peer\"x@b.invalid;transport=ws>");
    let sent_before = bed
        .wire
        .iter()
        .filter(|w| w.from_phone && w.side == Side::A)
        .count();
    bed.inject(Side::A, &String::from_utf8(ok.to_bytes()).expect("utf-8"));
    match ended(&bed.call_states(Side::A, ca)) {
        Some(EndReason::Failed { code: 200, reason }) => {
            assert!(reason.contains("unusable answer"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    // nothing was sent to that target (the bed panics on an unparseable one)
    let sent_after = bed
        .wire
        .iter()
        .filter(|w| w.from_phone && w.side == Side::A)
        .count();
    assert_eq!(sent_before, sent_after);
}

/// An incoming INVITE whose Contact cannot become a Request-URI: 400, no
/// ringing, no panic.
#[test]
fn an_invite_whose_contact_cannot_be_a_request_uri_gets_400() {
    let mut bed = Bed::new();
    bed.register_both();
    let is_initial_invite = |m: &Message| m.method() == Some(&Method::Invite) && !in_dialog(m);
    let mut invite = hold_back(&mut bed, Side::B, is_initial_invite, |bed| {
        call(bed, "1001");
    });
    invite.set_header("Contact", "<sip:a\"b@a.invalid;transport=ws>");
    bed.inject(
        Side::B,
        &String::from_utf8(invite.to_bytes()).expect("utf-8"),
    );
    assert_eq!(bed.incoming_call(Side::B), None);
    let answers = bed.answers_to(Side::B, &invite);
    assert_eq!(answers.last().and_then(Message::code), Some(400));
}

/// A re-INVITE whose new Contact cannot become a Request-URI: 400 (the
/// target refresh fails, RFC 3261 12.2.2), the call and its old target
/// stay; a later BYE still goes where it did.
#[test]
fn a_reinvite_with_an_unusable_contact_is_refused_and_the_old_target_kept() {
    let mut bed = Bed::new();
    let (ca, cb) = establish(&mut bed);
    let a_contact = bed.ua(Side::A).contact_uri().to_string();
    let is_reinvite = |m: &Message| m.method() == Some(&Method::Invite) && in_dialog(m);
    let mut reinvite = hold_back(&mut bed, Side::B, is_reinvite, |bed| {
        bed.command(Side::A, Command::Hold { call: ca })
    });
    reinvite.set_header("Contact", "<sip:a\"b@a.invalid;transport=ws>");
    bed.inject(
        Side::B,
        &String::from_utf8(reinvite.to_bytes()).expect("utf-8"),
    );
    let answers = bed.answers_to(Side::B, &reinvite);
    assert_eq!(answers.last().and_then(Message::code), Some(400));
    bed.command(Side::B, Command::Hangup { call: cb });
    let bye = bed.sent(Side::B, "BYE");
    assert_eq!(
        bye.last().and_then(|m| m.request_uri()),
        Some(a_contact.as_str())
    );
}

/// Our own display name with control characters (from the settings) goes
/// out as quoted pairs, which every parser (ours too) reads back as given;
/// the callee's UI gets it without them.
#[test]
fn a_display_name_with_control_characters_is_sent_as_quoted_pairs() {
    let mut bed = Bed::with_config("secret1000", "secret1001", |side, c| {
        if side == Side::A {
            c.display_name = "Ann \u{7}\"A\" \\".into();
        }
    });
    bed.register_both();
    let reg = bed.sent(Side::A, "REGISTER");
    let from = reg.last().and_then(Message::from).expect("From");
    assert_eq!(from.display_name.as_deref(), Some("Ann \u{7}\"A\" \\"));
    call(&mut bed, "1001");
    let cb = bed.incoming_call(Side::B).expect("B rings");
    let from = bed.events_of(Side::B).into_iter().find_map(|e| match e {
        Event::IncomingCall { call, from, .. } if call == cb => Some(from),
        _ => None,
    });
    assert_eq!(
        from.and_then(|p| p.display_name).as_deref(),
        Some("Ann \"A\" \\")
    );
}
