//! Instant messages (MESSAGE), subscriptions (SUBSCRIBE/NOTIFY for
//! presence, dialog and message-summary) and our presence publication
//! (PUBLISH) between two in-process phones, a proxy and a presence server.

mod support;

use softphone::sip::message::Message;
use softphone::sip::{CallState, Command, Duration, Event, EventPackage, Input, PresenceStatus};
use support::presence::Server;
use support::{Bed, Side, DOMAIN};

fn bed_with_server() -> Bed {
    let mut bed = Bed::new();
    bed.presence = Some(Server::new(&bed.proxy.passwords));
    bed
}

fn server(bed: &mut Bed) -> &mut Server {
    bed.presence.as_mut().expect("presence server")
}

fn statuses(bed: &Bed, side: Side) -> Vec<(bool, u32, String)> {
    bed.events_of(side)
        .into_iter()
        .filter_map(|e| match e {
            Event::MessageStatus {
                id,
                delivered,
                reason,
            } => Some((delivered, id, reason)),
            _ => None,
        })
        .collect()
}

fn presence_events(bed: &Bed, side: Side) -> Vec<(String, PresenceStatus, Option<String>)> {
    bed.events_of(side)
        .into_iter()
        .filter_map(|e| match e {
            Event::Presence {
                target,
                status,
                note,
            } => Some((target, status, note)),
            _ => None,
        })
        .collect()
}

fn failures(bed: &Bed, side: Side) -> Vec<(String, EventPackage, String)> {
    bed.events_of(side)
        .into_iter()
        .filter_map(|e| match e {
            Event::SubscriptionFailed {
                target,
                package,
                reason,
            } => Some((target, package, reason)),
            _ => None,
        })
        .collect()
}

fn send(bed: &mut Bed, id: u32, to: &str, text: &str) {
    bed.command(
        Side::A,
        Command::SendMessage {
            id,
            to: to.into(),
            text: text.into(),
        },
    );
}

fn subscribe(bed: &mut Bed, target: &str, package: EventPackage) {
    bed.command(
        Side::A,
        Command::Subscribe {
            target: target.into(),
            package,
        },
    );
}

fn body(m: &Message) -> String {
    String::from_utf8_lossy(&m.body).into_owned()
}

// ---------------------------------------------------------------- MESSAGE

#[test]
fn message_is_authenticated_delivered_and_received_as_text() {
    let mut bed = bed_with_server();
    server(&mut bed).challenge_messages = true;
    bed.register_both();
    let text = "héllo <b>not html</b> & more";
    send(&mut bed, 7, "1001", text);
    let sent = bed.sent(Side::A, "MESSAGE");
    assert_eq!(sent.len(), 2, "challenged, then sent with credentials");
    assert!(sent[0].header("Proxy-Authorization").is_none());
    let auth = sent[1].header("Proxy-Authorization").expect("credentials");
    assert!(auth.contains("username=\"1000\""), "{auth}");
    assert_eq!(
        sent[1].request_uri(),
        Some(format!("sip:1001@{DOMAIN}").as_str())
    );
    assert_eq!(
        sent[1].header("Content-Type"),
        Some("text/plain;charset=utf-8")
    );
    assert_eq!(sent[0].call_id(), sent[1].call_id());
    assert_eq!(
        sent[1].cseq().map(|c| c.seq),
        sent[0].cseq().map(|c| c.seq + 1)
    );
    let got: Vec<_> = bed
        .events_of(Side::B)
        .into_iter()
        .filter_map(|e| match e {
            Event::MessageReceived { from, text } => Some((from, text)),
            _ => None,
        })
        .collect();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].1, text);
    assert_eq!(got[0].0.uri, format!("sip:1000@{DOMAIN}"));
    assert_eq!(got[0].0.display_name.as_deref(), Some("Alice"));
    assert_eq!(bed.sent_responses(Side::B, 200, "MESSAGE").len(), 1);
    let st = statuses(&bed, Side::A);
    assert_eq!(st.len(), 1, "{st:?}");
    assert!(st[0].0 && st[0].1 == 7, "{st:?}");
}

#[test]
fn wrong_password_for_message_is_not_delivered() {
    let mut bed = bed_with_server();
    server(&mut bed).challenge_messages = true;
    bed.register_both();
    bed.proxy.passwords.insert("1000".into(), "changed".into());
    bed.presence = Some({
        let mut s = Server::new(&bed.proxy.passwords);
        s.challenge_messages = true;
        s
    });
    send(&mut bed, 1, "1001", "hi");
    let st = statuses(&bed, Side::A);
    assert_eq!(st.len(), 1, "{st:?}");
    assert!(!st[0].0);
    assert!(st[0].2.contains("password"), "{st:?}");
    assert!(
        bed.sent(Side::A, "MESSAGE").len() <= 3,
        "no endless retries"
    );
}

#[test]
fn message_to_an_offline_user_fails_with_a_reason() {
    let mut bed = Bed::new();
    bed.register_both();
    bed.disconnect(Side::B);
    send(&mut bed, 3, "1001", "are you there?");
    let st = statuses(&bed, Side::A);
    assert_eq!(
        st,
        vec![(false, 3, "Not delivered: the person is not online.".into())]
    );
}

#[test]
fn message_without_answer_times_out_and_lost_connection_fails() {
    let mut bed = Bed::new();
    bed.register_both();
    bed.proxy.black_hole = Some("MESSAGE");
    send(&mut bed, 1, "1001", "one");
    assert!(statuses(&bed, Side::A).is_empty(), "not yet");
    bed.advance(Duration::from_secs(40));
    send(&mut bed, 2, "sip:1001@example.test", "two");
    bed.disconnect(Side::A);
    let st = statuses(&bed, Side::A);
    assert_eq!(st.len(), 2, "{st:?}");
    assert_eq!(
        st[0],
        (false, 1, "Not delivered: the server did not answer.".into())
    );
    assert_eq!(
        st[1],
        (
            false,
            2,
            "Not delivered: the connection to the server was lost.".into()
        )
    );
    // not connected at all: at once
    send(&mut bed, 9, "1001", "three");
    assert_eq!(
        statuses(&bed, Side::A).last(),
        Some(&(false, 9, "Not connected to the server.".into()))
    );
    // a target that cannot be addressed
    bed.connect(Side::A);
    send(&mut bed, 10, "not valid\u{1}", "x");
    assert!(matches!(
        statuses(&bed, Side::A).last(),
        Some((false, 10, _))
    ));
}

fn incoming_message(ctype: Option<&str>, body: &str) -> String {
    let mut m = format!(
        "MESSAGE sip:1001@{DOMAIN} SIP/2.0\r\n\
         Via: SIP/2.0/WS proxy.test;branch=z9hG4bKim{}\r\n\
         Max-Forwards: 70\r\n\
         From: \"Eve <script>\" <sip:1009@{DOMAIN}>;tag=e1\r\n\
         To: <sip:1001@{DOMAIN}>\r\n\
         Call-ID: im-{}\r\n\
         CSeq: 1 MESSAGE\r\n",
        body.len(),
        body.len()
    );
    if let Some(ct) = ctype {
        m.push_str(&format!("Content-Type: {ct}\r\n"));
    }
    m.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    m
}

#[test]
fn incoming_message_types_and_sizes() {
    let mut bed = Bed::new();
    bed.register_both();
    bed.inject(
        Side::B,
        &incoming_message(Some("text/plain; charset=UTF-8"), "<i>hi</i>"),
    );
    bed.inject(Side::B, &incoming_message(Some("text/html"), "<b>x</b>"));
    bed.inject(Side::B, &incoming_message(None, "untyped"));
    let big = "x".repeat(64 * 1024 + 1);
    bed.inject(Side::B, &incoming_message(Some("text/plain"), &big));
    let got: Vec<_> = bed
        .events_of(Side::B)
        .into_iter()
        .filter_map(|e| match e {
            Event::MessageReceived { from, text } => Some((from.label(), text)),
            _ => None,
        })
        .collect();
    assert_eq!(
        got,
        vec![("Eve <script>".to_string(), "<i>hi</i>".to_string())]
    );
    assert_eq!(bed.sent_responses(Side::B, 200, "MESSAGE").len(), 1);
    let refused = bed.sent_responses(Side::B, 415, "MESSAGE");
    assert_eq!(refused.len(), 2);
    assert!(refused
        .iter()
        .all(|r| r.header("Accept") == Some("text/plain")));
    let too_big = bed.sent_responses(Side::B, 413, "MESSAGE");
    let other = bed
        .wire
        .iter()
        .filter(|w| w.from_phone && w.side == Side::B && w.msg.code().is_some_and(|c| c >= 400))
        .count();
    // the parser may refuse an oversized frame itself; either way, no event
    assert!(too_big.len() == 1 || other == 2, "{too_big:?}");
}

// ----------------------------------------------------------- SUBSCRIBE

#[test]
fn presence_subscription_follows_the_other_phone_and_refreshes() {
    let mut bed = bed_with_server();
    bed.register_both();
    // B published at registration: open, no activity
    subscribe(&mut bed, "1001", EventPackage::Presence);
    let subs = bed.sent(Side::A, "SUBSCRIBE");
    assert_eq!(subs.len(), 2, "challenged, then with credentials");
    let s = &subs[1];
    assert!(s.header("Proxy-Authorization").is_some());
    assert_eq!(s.header("Event"), Some("presence"));
    assert_eq!(s.header("Accept"), Some("application/pidf+xml"));
    assert_eq!(s.expires(), Some(600));
    assert!(s.header("Contact").is_some());
    assert_eq!(
        presence_events(&bed, Side::A),
        vec![("1001".to_string(), PresenceStatus::Available, None)]
    );
    assert_eq!(bed.sent_responses(Side::A, 200, "NOTIFY").len(), 1);
    // B calls A: B publishes on-the-phone, the server tells A
    bed.command(
        Side::B,
        Command::Call {
            target: "1000".into(),
        },
    );
    let ca = bed.incoming_call(Side::A).expect("A rings");
    bed.command(Side::A, Command::Answer { call: ca });
    let last = presence_events(&bed, Side::A).last().cloned();
    assert_eq!(
        last,
        Some((
            "1001".to_string(),
            PresenceStatus::Busy,
            Some("On the phone".into())
        ))
    );
    bed.command(Side::A, Command::Hangup { call: ca });
    assert_eq!(
        presence_events(&bed, Side::A).last().map(|p| p.1),
        Some(PresenceStatus::Available)
    );
    // refresh at 2/3 of 600 s, in the dialog (To tag), no new challenge
    let before = bed.sent(Side::A, "SUBSCRIBE").len();
    bed.advance(Duration::from_secs(399));
    assert_eq!(bed.sent(Side::A, "SUBSCRIBE").len(), before);
    bed.advance(Duration::from_secs(2));
    let subs = bed.sent(Side::A, "SUBSCRIBE");
    assert_eq!(subs.len(), before + 1, "one refresh");
    let refresh = subs.last().expect("refresh");
    assert!(refresh
        .to()
        .and_then(|t| t.tag().map(str::to_string))
        .is_some());
    assert_eq!(refresh.call_id(), subs[1].call_id());
    assert_eq!(refresh.expires(), Some(600));
    assert!(bed.received_responses(Side::A, 200, "SUBSCRIBE").len() >= 2);
    assert!(failures(&bed, Side::A).is_empty());
    assert_eq!(bed.a.subscription_count(), 1);
}

#[test]
fn notify_before_the_2xx_is_accepted() {
    let mut bed = bed_with_server();
    server(&mut bed).notify_before_2xx = true;
    bed.register_both();
    subscribe(&mut bed, "1001", EventPackage::Presence);
    assert_eq!(bed.sent_responses(Side::A, 481, "NOTIFY").len(), 0);
    assert_eq!(bed.sent_responses(Side::A, 200, "NOTIFY").len(), 1);
    assert_eq!(presence_events(&bed, Side::A).len(), 1);
    // the dialog made by the NOTIFY is the one refreshed
    bed.advance(Duration::from_secs(401));
    let refresh = bed.sent(Side::A, "SUBSCRIBE").pop().expect("refresh");
    assert!(refresh
        .to()
        .and_then(|t| t.tag().map(str::to_string))
        .is_some());
    assert_eq!(
        bed.received_responses(Side::A, 481, "SUBSCRIBE").len(),
        0,
        "the server knows the dialog"
    );
}

#[test]
fn bad_event_fails_once_retries_once_and_stops() {
    let mut bed = bed_with_server();
    bed.register_both();
    subscribe(&mut bed, "1001", EventPackage::Dialog);
    let f = failures(&bed, Side::A);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].0, "1001");
    assert_eq!(f[0].1, EventPackage::Dialog);
    assert!(f[0].2.contains("489"), "{f:?}");
    let tried = server(&mut bed).subscribes.len();
    assert_eq!(tried, 1);
    bed.advance(Duration::from_secs(299));
    assert_eq!(server(&mut bed).subscribes.len(), 1, "no retry storm");
    bed.advance(Duration::from_secs(2));
    assert_eq!(
        server(&mut bed).subscribes.len(),
        2,
        "one retry after 5 minutes"
    );
    bed.advance(Duration::from_secs(3600));
    assert_eq!(server(&mut bed).subscribes.len(), 2, "then it stops");
    assert_eq!(failures(&bed, Side::A).len(), 2);
    assert_eq!(bed.a.subscription_count(), 0);
}

#[test]
fn terminated_notifies_resubscribe_or_fail() {
    let mut bed = bed_with_server();
    bed.register_both();
    subscribe(&mut bed, "1001", EventPackage::Presence);
    let first_call_id = bed.sent(Side::A, "SUBSCRIBE")[1]
        .call_id()
        .map(str::to_string);
    // deactivated with retry-after: a new subscription after that wait
    let n = server(&mut bed).custom_notify(
        0,
        "terminated;reason=deactivated;retry-after=20",
        "application/pidf+xml",
        "",
    );
    bed.inject(Side::A, &n);
    assert_eq!(bed.sent_responses(Side::A, 200, "NOTIFY").len(), 2);
    let before = bed.sent(Side::A, "SUBSCRIBE").len();
    bed.advance(Duration::from_secs(19));
    assert_eq!(bed.sent(Side::A, "SUBSCRIBE").len(), before);
    bed.advance(Duration::from_secs(2));
    let subs = bed.sent(Side::A, "SUBSCRIBE");
    assert!(subs.len() > before, "resubscribed");
    let new = subs.last().expect("new");
    assert!(new.to().is_some_and(|t| t.tag().is_none()), "a new dialog");
    assert_ne!(new.call_id().map(str::to_string), first_call_id);
    // rejected: for good
    let idx = server(&mut bed).watchers.len() - 1;
    let n = server(&mut bed).custom_notify(idx, "terminated;reason=rejected", "", "");
    bed.inject(Side::A, &n);
    let f = failures(&bed, Side::A);
    assert_eq!(f.len(), 1, "{f:?}");
    assert!(f[0].2.contains("rejected"));
    let before = bed.sent(Side::A, "SUBSCRIBE").len();
    bed.advance(Duration::from_secs(1200));
    assert_eq!(bed.sent(Side::A, "SUBSCRIBE").len(), before);
    assert_eq!(bed.a.subscription_count(), 0);
    // a NOTIFY for a subscription we no longer have: 481
    let n = server(&mut bed).custom_notify(idx, "active", "application/pidf+xml", "");
    bed.inject(Side::A, &n);
    assert_eq!(bed.sent_responses(Side::A, 481, "NOTIFY").len(), 1);
}

#[test]
fn dialog_package_shows_busy_and_ringing() {
    let mut bed = bed_with_server();
    server(&mut bed).packages = vec!["presence", "dialog"];
    bed.register_both();
    subscribe(&mut bed, "1001", EventPackage::Dialog);
    let s = bed.sent(Side::A, "SUBSCRIBE").pop().expect("subscribe");
    assert_eq!(s.header("Event"), Some("dialog"));
    assert_eq!(s.header("Accept"), Some("application/dialog-info+xml"));
    assert_eq!(
        presence_events(&bed, Side::A).last().map(|p| p.1),
        Some(PresenceStatus::Available)
    );
    let doc = |state: &str| {
        format!("<?xml version=\"1.0\"?><dialog-info xmlns=\"urn:ietf:params:xml:ns:dialog-info\" version=\"1\" state=\"full\" entity=\"sip:1001@{DOMAIN}\"><dialog id=\"x\"><state>{state}</state></dialog></dialog-info>")
    };
    for (state, want) in [
        ("early", PresenceStatus::Ringing),
        ("confirmed", PresenceStatus::Busy),
        ("terminated", PresenceStatus::Available),
    ] {
        let n = server(&mut bed).custom_notify(
            0,
            "active;expires=600",
            "application/dialog-info+xml",
            &doc(state),
        );
        bed.inject(Side::A, &n);
        assert_eq!(
            presence_events(&bed, Side::A).last(),
            Some(&("1001".to_string(), want, None)),
            "{state}"
        );
    }
}

#[test]
fn voicemail_by_subscription_and_unsolicited() {
    let mut bed = bed_with_server();
    server(&mut bed).packages = vec!["presence", "message-summary"];
    bed.register_both();
    subscribe(&mut bed, "1000", EventPackage::MessageSummary);
    let s = bed.sent(Side::A, "SUBSCRIBE").pop().expect("subscribe");
    assert_eq!(s.header("Event"), Some("message-summary"));
    assert_eq!(
        s.header("Accept"),
        Some("application/simple-message-summary")
    );
    let n = server(&mut bed).custom_notify(
        0,
        "active",
        "application/simple-message-summary",
        "Messages-Waiting: yes\r\nVoice-Message: 2/8 (0/2)\r\n",
    );
    bed.inject(Side::A, &n);
    let vm: Vec<_> = bed
        .events_of(Side::A)
        .into_iter()
        .filter_map(|e| match e {
            Event::Voicemail { waiting, new, old } => Some((waiting, new, old)),
            _ => None,
        })
        .collect();
    assert_eq!(vm, vec![(false, 0, 0), (true, 2, 8)]);
    let unsolicited = |event: &str, n: u32| {
        let body = "Messages-Waiting: yes\r\nVoice-Message: 1/0\r\n";
        format!(
            "NOTIFY sip:1000@{DOMAIN} SIP/2.0\r\n\
             Via: SIP/2.0/WS proxy.test;branch=z9hG4bKmwi{n}\r\n\
             From: <sip:vm@{DOMAIN}>;tag=vm{n}\r\nTo: <sip:1000@{DOMAIN}>\r\n\
             Call-ID: mwi{n}\r\nCSeq: 1 NOTIFY\r\nEvent: {event}\r\n\
             Subscription-State: active\r\n\
             Content-Type: application/simple-message-summary\r\n\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        )
    };
    bed.inject(Side::A, &unsolicited("message-summary", 1));
    bed.inject(Side::A, &unsolicited("presence", 2));
    assert!(bed.events_of(Side::A).contains(&Event::Voicemail {
        waiting: true,
        new: 1,
        old: 0
    }));
    assert_eq!(bed.sent_responses(Side::A, 489, "NOTIFY").len(), 1);
}

#[test]
fn unsubscribe_sends_expires_zero_in_the_dialog() {
    let mut bed = bed_with_server();
    bed.register_both();
    subscribe(&mut bed, "1001", EventPackage::Presence);
    subscribe(&mut bed, "1001", EventPackage::Presence);
    assert_eq!(bed.a.subscription_count(), 1, "no duplicate");
    bed.command(
        Side::A,
        Command::Unsubscribe {
            target: "1001".into(),
            package: EventPackage::Presence,
        },
    );
    let last = bed.sent(Side::A, "SUBSCRIBE").pop().expect("unsubscribe");
    assert_eq!(last.expires(), Some(0));
    assert!(last
        .to()
        .and_then(|t| t.tag().map(str::to_string))
        .is_some());
    // the server's final NOTIFY (terminated) is answered, not 481
    assert_eq!(bed.sent_responses(Side::A, 481, "NOTIFY").len(), 0);
    assert_eq!(bed.sent_responses(Side::A, 200, "NOTIFY").len(), 2);
    assert!(server(&mut bed).watchers.is_empty());
    assert_eq!(bed.a.subscription_count(), 0);
    let n = bed.sent(Side::A, "SUBSCRIBE").len();
    bed.advance(Duration::from_secs(1800));
    let subs = bed.sent(Side::A, "SUBSCRIBE");
    assert_eq!(subs.len(), n, "nothing after unsubscribing");
}

#[test]
fn subscriptions_wait_for_registration_and_come_back_after_reconnection() {
    let mut bed = bed_with_server();
    subscribe(&mut bed, "1001", EventPackage::Presence);
    assert!(
        bed.sent(Side::A, "SUBSCRIBE").is_empty(),
        "not registered yet"
    );
    bed.register_both();
    assert_eq!(server(&mut bed).subscribes.len(), 1);
    let first = server(&mut bed).subscribes[0].call_id().map(str::to_string);
    bed.reconnect(Side::A);
    assert!(
        bed.sent(Side::A, "SUBSCRIBE").len() <= 2,
        "nothing while offline"
    );
    bed.command(Side::A, Command::Register);
    let subs = server(&mut bed).subscribes.clone();
    assert_eq!(subs.len(), 2, "subscribed again once registered");
    assert_ne!(subs[1].call_id().map(str::to_string), first);
    assert!(subs[1].to().is_some_and(|t| t.tag().is_none()));
    assert!(presence_events(&bed, Side::A).len() >= 2);
    // the publication was updated in place (SIP-If-Match) after reconnecting
    let pubs: Vec<Message> = server(&mut bed)
        .publishes
        .iter()
        .filter(|p| {
            p.from().and_then(|f| f.sip_uri().ok()).and_then(|u| u.user) == Some("1000".into())
        })
        .cloned()
        .collect();
    assert!(pubs.len() >= 2, "{}", pubs.len());
    assert!(pubs.last().and_then(|p| p.header("SIP-If-Match")).is_some());
}

// ------------------------------------------------------------- PUBLISH

fn publishes_of(bed: &mut Bed, user: &str) -> Vec<Message> {
    server(bed)
        .publishes
        .iter()
        .filter(|p| p.request_uri() == Some(format!("sip:{user}@{DOMAIN}").as_str()))
        .cloned()
        .collect()
}

#[test]
fn publish_follows_the_call_situation_refreshes_and_is_removed() {
    let mut bed = bed_with_server();
    bed.register_both();
    let p = publishes_of(&mut bed, "1000");
    assert_eq!(p.len(), 1, "published once registered");
    assert_eq!(p[0].header("Event"), Some("presence"));
    assert_eq!(p[0].expires(), Some(600));
    assert_eq!(p[0].header("Content-Type"), Some("application/pidf+xml"));
    assert!(p[0].header("SIP-If-Match").is_none());
    let doc = body(&p[0]);
    assert!(doc.contains("<basic>open</basic>"), "{doc}");
    assert!(!doc.contains("on-the-phone"), "{doc}");
    let etag = bed.a.subscription_count(); // (no subscriptions involved)
    assert_eq!(etag, 0);
    // a call: ringing, then active, then idle again
    bed.command(
        Side::A,
        Command::Call {
            target: "1001".into(),
        },
    );
    let cb = bed.incoming_call(Side::B).expect("B rings");
    bed.command(Side::B, Command::Answer { call: cb });
    let ca = bed.last_call_id(Side::A).expect("A's call");
    assert!(bed
        .call_states(Side::A, ca)
        .iter()
        .any(|s| matches!(s, CallState::Active { .. })));
    let p = publishes_of(&mut bed, "1000");
    assert!(p.len() >= 3, "{}", p.len());
    assert!(p[1..].iter().all(|m| m.header("SIP-If-Match").is_some()));
    assert!(body(&p[1]).contains("on-the-phone"));
    assert!(body(p.last().expect("last")).contains("On the phone"));
    bed.command(Side::A, Command::Hangup { call: ca });
    let p = publishes_of(&mut bed, "1000");
    let last = p.last().expect("idle");
    assert!(!body(last).contains("on-the-phone"), "{}", body(last));
    assert!(!body(last).is_empty());
    // refresh at 2/3 of the 600 s granted: no body, SIP-If-Match
    let n = p.len();
    bed.advance(Duration::from_secs(401));
    let p = publishes_of(&mut bed, "1000");
    assert_eq!(p.len(), n + 1);
    let refresh = p.last().expect("refresh");
    assert!(refresh.body.is_empty());
    assert!(refresh.header("SIP-If-Match").is_some());
    assert_eq!(refresh.expires(), Some(600));
    // the server forgot the document: 412, then a full publication
    server(&mut bed).documents.clear();
    bed.advance(Duration::from_secs(401));
    let p = publishes_of(&mut bed, "1000");
    assert_eq!(p.len(), n + 3, "refresh (412), then publish anew");
    assert!(p[n + 1].header("SIP-If-Match").is_some());
    assert!(p[n + 2].header("SIP-If-Match").is_none());
    assert!(body(&p[n + 2]).contains("<basic>open</basic>"));
    assert!(server(&mut bed).documents.contains_key("1000"));
    // Unregister removes it
    bed.command(Side::A, Command::Unregister);
    let p = publishes_of(&mut bed, "1000");
    let removal = p.last().expect("removal");
    assert_eq!(removal.expires(), Some(0));
    assert!(removal.header("SIP-If-Match").is_some());
    assert!(!server(&mut bed).documents.contains_key("1000"));
}

#[test]
fn publishing_can_be_switched_off_and_a_refusal_stops_it() {
    let mut bed = Bed::with_config("secret1000", "secret1001", |side, c| {
        if side == Side::A {
            c.publish_presence = false;
        }
    });
    bed.presence = Some(Server::new(&bed.proxy.passwords));
    server(&mut bed).packages = vec![];
    bed.register_both();
    assert!(publishes_of(&mut bed, "1000").is_empty());
    assert_eq!(publishes_of(&mut bed, "1001").len(), 1, "B tried, got 489");
    // B gives up until its next registration: no PUBLISH for calls
    bed.command(
        Side::A,
        Command::Call {
            target: "1001".into(),
        },
    );
    let cb = bed.incoming_call(Side::B).expect("B rings");
    bed.command(Side::B, Command::Answer { call: cb });
    bed.advance(Duration::from_secs(700));
    assert!(publishes_of(&mut bed, "1000").is_empty());
    assert_eq!(publishes_of(&mut bed, "1001").len(), 1);
}

#[test]
fn shutdown_unpublishes_and_unsubscribes() {
    let mut bed = bed_with_server();
    bed.register_both();
    subscribe(&mut bed, "1001", EventPackage::Presence);
    bed.input(Side::A, Input::Command(Command::Shutdown));
    let last_sub = bed.sent(Side::A, "SUBSCRIBE").pop().expect("unsubscribe");
    assert_eq!(last_sub.expires(), Some(0));
    let last_pub = publishes_of(&mut bed, "1000").pop().expect("unpublish");
    assert_eq!(last_pub.expires(), Some(0));
    assert!(!server(&mut bed).documents.contains_key("1000"));
}

#[test]
fn a_lost_document_is_published_anew_also_after_a_500_and_never_loops() {
    let mut bed = bed_with_server();
    server(&mut bed).unknown_etag_code = 500;
    bed.register_both();
    let n = publishes_of(&mut bed, "1000").len();
    server(&mut bed).documents.clear();
    bed.advance(Duration::from_secs(401));
    let p = publishes_of(&mut bed, "1000");
    assert_eq!(p.len(), n + 2, "refresh (500), then publish anew");
    assert!(p[n].body.is_empty() && p[n].header("SIP-If-Match").is_some());
    assert!(p[n + 1].header("SIP-If-Match").is_none() && !p[n + 1].body.is_empty());
    assert!(server(&mut bed).documents.contains_key("1000"));
    // a server that fails every PUBLISH: one try, no loop
    server(&mut bed).packages = vec![];
    server(&mut bed).documents.clear();
    bed.advance(Duration::from_secs(401));
    let p = publishes_of(&mut bed, "1000");
    assert_eq!(p.len(), n + 3, "the refresh gets 489: given up");
    bed.advance(Duration::from_secs(1200));
    assert_eq!(publishes_of(&mut bed, "1000").len(), n + 3);
}

/// A NOTIFY exactly as the demo Kamailio sends it for a user who published
/// nothing (force_dummy_presence): two Vias (one with a double space), two
/// Record-Routes, the dummy PIDF with notes.
#[test]
fn kamailio_shaped_dummy_presence_notify_is_understood() {
    let mut bed = Bed::new();
    bed.register_both();
    bed.proxy.black_hole = Some("SUBSCRIBE");
    subscribe(&mut bed, "1002", EventPackage::Presence);
    let sub = bed.sent(Side::A, "SUBSCRIBE").pop().expect("subscribe");
    let call_id = sub.call_id().expect("call-id").to_string();
    let tag = sub
        .from()
        .and_then(|f| f.tag().map(str::to_string))
        .expect("tag");
    let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<presence xmlns=\"urn:ietf:params:xml:ns:pidf\" xmlns:dm=\"urn:ietf:params:xml:ns:pidf:data-model\" xmlns:rpid=\"urn:ietf:params:xml:ns:pidf:rpid\" xmlns:c=\"urn:ietf:params:xml:ns:pidf:cipid\" entity=\"1002\">\n  <tuple xmlns=\"urn:ietf:params:xml:ns:pidf\" id=\"615293b33c62dec073e05d9421e9f48b\">\n    <status>\n      <basic>open</basic>\n    </status>\n  </tuple>\n  <note xmlns=\"urn:ietf:params:xml:ns:pidf\">Available</note>\n  <dm:person xmlns:dm=\"urn:ietf:params:xml:ns:pidf:data-model\" xmlns:rpid=\"urn:ietf:params:xml:ns:pidf:rpid\" id=\"1\">\n    <rpid:activities/>\n    <dm:note>Available</dm:note>\n  </dm:person>\n</presence>\n";
    let notify = format!(
        "NOTIFY {contact} SIP/2.0\r\n\
         Record-Route: <sip:127.0.0.1:8088;transport=ws;r2=on;lr>\r\n\
         Record-Route: <sip:127.0.0.1:5063;r2=on;lr>\r\n\
         Via: SIP/2.0/WS  127.0.0.1:8088;branch=z9hG4bK7cc7.fe2b242c0e24d59b6cebe01dd73cc8ae.0\r\n\
         Via: SIP/2.0/UDP 127.0.0.1:5062;rport=5062;branch=z9hG4bK7cc7.800c36e7000000000000000000000000.0\r\n\
         To: <sip:1000@{DOMAIN}>;tag={tag}\r\n\
         From: <sip:1002@{DOMAIN}>;tag=a6a1c5f60faecf035a1ae5b6e96e979a-43eea924\r\n\
         CSeq: 2 NOTIFY\r\n\
         Call-ID: {call_id}\r\n\
         Content-Length: {len}\r\n\
         User-Agent: softphone-pbx\r\n\
         Max-Forwards: 69\r\n\
         Event: presence\r\n\
         Contact: <sip:127.0.0.1:5062>\r\n\
         Subscription-State: active;expires=600\r\n\
         Content-Type: application/pidf+xml\r\n\r\n{body}",
        contact = bed.a.contact_uri(),
        len = body.len()
    );
    bed.inject(Side::A, &notify);
    assert_eq!(bed.sent_responses(Side::A, 200, "NOTIFY").len(), 1);
    assert_eq!(
        presence_events(&bed, Side::A),
        vec![(
            "1002".to_string(),
            PresenceStatus::Available,
            Some("Available".into())
        )]
    );
    // the dialog the NOTIFY made routes a refresh back through the PBX
    bed.proxy.black_hole = None;
    bed.advance(Duration::from_secs(401));
    let subs = bed.sent(Side::A, "SUBSCRIBE");
    let refresh = &subs[1];
    assert_eq!(refresh.call_id(), Some(call_id.as_str()));
    assert_eq!(refresh.cseq().map(|c| c.seq), Some(2));
    assert_eq!(refresh.request_uri(), Some("sip:127.0.0.1:5062"));
    assert_eq!(
        refresh
            .to()
            .and_then(|t| t.tag().map(str::to_string))
            .as_deref(),
        Some("a6a1c5f60faecf035a1ae5b6e96e979a-43eea924")
    );
    assert_eq!(
        refresh.header_values("Route"),
        vec![
            "<sip:127.0.0.1:8088;transport=ws;r2=on;lr>",
            "<sip:127.0.0.1:5063;r2=on;lr>"
        ]
    );
}

#[test]
fn a_refresh_due_while_unregistered_waits_for_the_next_registration() {
    let mut bed = bed_with_server();
    bed.register_both();
    subscribe(&mut bed, "1001", EventPackage::Presence);
    assert_eq!(server(&mut bed).subscribes.len(), 1);
    bed.command(Side::A, Command::Unregister);
    bed.advance(Duration::from_secs(401));
    assert_eq!(
        server(&mut bed).subscribes.len(),
        1,
        "no refresh while unregistered"
    );
    bed.command(Side::A, Command::Register);
    let subs = server(&mut bed).subscribes.clone();
    assert_eq!(subs.len(), 2, "a new subscription once registered");
    assert!(subs[1].to().is_some_and(|t| t.tag().is_none()));
    assert_ne!(subs[1].call_id(), subs[0].call_id());
}
