//! The little the core reads from SDP: whether an offer puts us on hold,
//! whether two descriptions are the same session version (RFC 3264 8: an
//! unchanged `o=` version means nothing changed), and the DTLS role of a
//! first answer.

/// Media direction of the first audio stream (RFC 3264 5.1, 6.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    SendRecv,
    SendOnly,
    RecvOnly,
    Inactive,
}

fn direction_attr(line: &str) -> Option<Direction> {
    match line.trim() {
        "a=sendrecv" => Some(Direction::SendRecv),
        "a=sendonly" => Some(Direction::SendOnly),
        "a=recvonly" => Some(Direction::RecvOnly),
        "a=inactive" => Some(Direction::Inactive),
        _ => None,
    }
}

/// The direction of the first `m=audio` stream: its own attribute, else the
/// session-level one, else sendrecv. A connection address of `0.0.0.0` (the
/// RFC 2543 way to hold) counts as inactive.
pub fn audio_direction(sdp: &str) -> Direction {
    let mut session: Option<Direction> = None;
    let mut media: Option<Direction> = None;
    let mut in_audio = false;
    let mut seen_media = false;
    let mut zero_address = false;
    for line in sdp.lines() {
        let line = line.trim_end_matches('\r');
        if let Some(rest) = line.strip_prefix("m=") {
            if seen_media && in_audio {
                break; // past the first audio stream
            }
            seen_media = true;
            in_audio = rest.starts_with("audio");
            continue;
        }
        if line.starts_with("c=")
            && line.trim_end().ends_with(" 0.0.0.0")
            && (!seen_media || in_audio)
        {
            zero_address = true;
        }
        if let Some(d) = direction_attr(line) {
            if !seen_media {
                session = Some(d);
            } else if in_audio && media.is_none() {
                media = Some(d);
            }
        }
    }
    if zero_address {
        return Direction::Inactive;
    }
    media.or(session).unwrap_or(Direction::SendRecv)
}

/// Whether an offer from the peer puts the call on hold: the peer will not
/// receive (sendonly or inactive).
pub fn is_hold(offer: &str) -> bool {
    matches!(
        audio_direction(offer),
        Direction::SendOnly | Direction::Inactive
    )
}

/// The `o=` line's session id and version.
fn origin_version(sdp: &str) -> Option<(&str, &str)> {
    let o = sdp.lines().find_map(|l| l.strip_prefix("o="))?;
    let mut parts = o.split_whitespace();
    let _user = parts.next()?;
    let id = parts.next()?;
    let version = parts.next()?;
    Some((id, version))
}

/// Whether `new` is the same session description as `old` (same `o=` id and
/// version): a refresh, not a change (RFC 3264 8).
pub fn same_version(old: &str, new: &str) -> bool {
    match (origin_version(old), origin_version(new)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

/// A stream's payload types with their codec names, and its other lines.
type Formats<'a> = (Vec<(&'a str, Option<&'a str>)>, Vec<&'a str>);

/// The payload types of the first `m=<kind>` stream (`audio`, `video`), in
/// its order, each with its codec name: its `a=rtpmap` encoding name, or
/// for the static audio types 0, 8 and 9 given without one their RFC 3551
/// names (None for any other type without one). None when there is no such
/// stream or it is turned off (port 0). With them, the stream's other
/// lines.
fn formats<'a>(sdp: &'a str, kind: &str) -> Option<Formats<'a>> {
    let (m, lines) = stream(sdp, kind)?;
    let mut words = m.split_whitespace();
    if words.next().is_none_or(|port| port == "0") {
        return None;
    }
    let types: Vec<&str> = words.skip(1).collect();
    let maps: Vec<(&str, &str)> = lines
        .iter()
        .filter_map(|l| {
            let (pt, rest) = l.strip_prefix("a=rtpmap:")?.split_once(' ')?;
            Some((pt, rest.split('/').next()?.trim()))
        })
        .collect();
    let named = types
        .into_iter()
        .map(|pt| {
            let named = maps.iter().find(|(p, _)| *p == pt).map(|(_, n)| *n);
            let name = named.or(match (kind, pt) {
                ("audio", "0") => Some("PCMU"),
                ("audio", "8") => Some("PCMA"),
                ("audio", "9") => Some("G722"),
                _ => None,
            });
            (pt, name)
        })
        .collect();
    Some((named, lines))
}

/// The first `m=<kind>` stream of `sdp`: the words of its `m=` line after
/// the kind, and its other lines.
fn stream<'a>(sdp: &'a str, kind: &str) -> Option<(&'a str, Vec<&'a str>)> {
    let mut lines = sdp.lines().map(|l| l.trim_end_matches('\r'));
    let m = lines.find_map(|l| l.strip_prefix("m=")?.strip_prefix(kind)?.strip_prefix(' '))?;
    Some((m, lines.take_while(|l| !l.starts_with("m=")).collect()))
}

/// The codec names of the first audio stream, in its order (see
/// [`formats`]); empty when there is none.
pub fn audio_codecs(sdp: &str) -> Vec<&str> {
    formats(sdp, "audio")
        .map(|(f, _)| f)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(_, name)| name)
        .collect()
}

/// DTMF's "codec" (RFC 4733): a codec choice always keeps it.
pub const DTMF_CODEC: &str = "telephone-event";

/// What rides on a video codec rather than being one: retransmission (kept
/// with the codec its `apt` names) and the error corrections.
pub const VIDEO_HELPERS: [&str; 4] = ["rtx", "red", "ulpfec", "flexfec-03"];

/// `sdp` with the codecs of its first `kind` stream (`audio`, `video`) cut
/// down to `wanted` (SDP names, any case), in that order, then what rides
/// on them: DTMF's for audio; for video the retransmission of a kept codec
/// (`a=fmtp:<rtx> apt=<codec>`) and the error corrections. The
/// `a=rtpmap`, `a=fmtp` and `a=rtcp-fb` lines of the others are removed.
/// For an offer about to be answered: the browser then answers, and sends,
/// only these (Chromium's `setCodecPreferences` orders the answer but not
/// what it sends). None when nothing would change, or when none of
/// `wanted` is offered (such an audio offer is refused, not answered).
pub fn keep_codecs(sdp: &str, kind: &str, wanted: &[&str]) -> Option<String> {
    let (formats, lines) = formats(sdp, kind)?;
    let is = |n: &Option<&str>, name: &str| n.is_some_and(|n| n.eq_ignore_ascii_case(name));
    let mut keep: Vec<&str> = Vec::new();
    for name in wanted {
        for (pt, n) in &formats {
            if is(n, name) && !keep.contains(pt) {
                keep.push(pt);
            }
        }
    }
    let chosen = keep.len();
    if chosen == 0 {
        return None;
    }
    // the codec a retransmission stream is for (a=fmtp:<pt> apt=<codec>)
    let apt = |pt: &str| {
        lines
            .iter()
            .filter_map(|l| {
                l.strip_prefix("a=fmtp:")?
                    .strip_prefix(pt)?
                    .strip_prefix(' ')
            })
            .flat_map(|rest| rest.split(';'))
            .find_map(|p| p.trim().strip_prefix("apt="))
    };
    // DTMF or the error corrections, then the retransmission of what is kept
    for rtx in [false, true] {
        for (pt, n) in &formats {
            let rides = match (kind, rtx) {
                ("audio", false) => is(n, DTMF_CODEC),
                ("video", false) => VIDEO_HELPERS.iter().any(|h| *h != "rtx" && is(n, h)),
                ("video", true) => is(n, "rtx") && apt(pt).is_some_and(|c| keep.contains(&c)),
                _ => false,
            };
            if rides && !keep.contains(pt) {
                keep.push(pt);
            }
        }
    }
    // all kept, the codecs in the offer's order: nothing to change
    let offered: Vec<&str> = formats
        .iter()
        .map(|(pt, _)| *pt)
        .filter(|pt| keep[..chosen].contains(pt))
        .collect();
    if keep.len() == formats.len() && offered == keep[..chosen] {
        return None;
    }
    let mut out = String::with_capacity(sdp.len());
    // 0: before the stream, 1: in it, 2: after it
    let mut at = 0;
    for (text, end) in lines_with_ends(sdp) {
        if let Some(rest) = text.strip_prefix("m=") {
            if at == 1 {
                at = 2;
            }
            if at == 0 && rest.strip_prefix(kind).is_some_and(|r| r.starts_with(' ')) {
                at = 1;
                let head: Vec<&str> = rest.split_whitespace().take(3).collect();
                out.push_str("m=");
                out.push_str(&[head, keep.clone()].concat().join(" "));
                out.push_str(end);
                continue;
            }
        } else if at == 1 {
            let pt = ["a=rtpmap:", "a=fmtp:", "a=rtcp-fb:"]
                .iter()
                .find_map(|p| text.strip_prefix(p))
                .and_then(|rest| rest.split(' ').next());
            if pt.is_some_and(|pt| pt != "*" && !keep.contains(&pt)) {
                continue;
            }
        }
        out.push_str(text);
        out.push_str(end);
    }
    Some(out)
}

/// Whether `sdp` has a video stream that is not turned off (port 0).
pub fn has_video(sdp: &str) -> bool {
    sdp.lines()
        .filter_map(|l| l.strip_prefix("m=video "))
        .any(|rest| {
            rest.split_whitespace()
                .next()
                .is_some_and(|port| port != "0")
        })
}

/// An `answer` with fewer media streams than our `offer` (an old gateway
/// that answers a video call with its audio alone), completed with the
/// missing streams turned off (port 0, with the offer's `a=mid`), as RFC
/// 3264 6 wants and browsers require; None when nothing is missing (or the
/// answer has no stream at all: the browser refuses that itself).
pub fn complete_answer(offer: &str, answer: &str) -> Option<String> {
    let sections = |sdp: &str| sdp.lines().filter(|l| l.starts_with("m=")).count();
    let have = sections(answer);
    if have == 0 {
        return None;
    }
    let mut missing = String::new();
    let mut index = 0;
    let mut current: Option<(&str, &str)> = None; // (m= line, its mid)
    let flush = |index: usize, m: Option<(&str, &str)>, out: &mut String| {
        let Some((m, mid)) = m else { return };
        if index <= have {
            return;
        }
        let mut words = m.trim_start_matches("m=").split_whitespace();
        let (Some(kind), Some(_port), Some(proto), Some(fmt)) =
            (words.next(), words.next(), words.next(), words.next())
        else {
            return;
        };
        out.push_str(&format!("m={kind} 0 {proto} {fmt}\r\n"));
        if !mid.is_empty() {
            out.push_str(&format!("a=mid:{mid}\r\n"));
        }
    };
    for line in offer.lines().map(|l| l.trim_end_matches('\r')) {
        if line.starts_with("m=") {
            flush(index, current.take(), &mut missing);
            index += 1;
            current = Some((line, ""));
        } else if let (Some(mid), Some(c)) = (line.strip_prefix("a=mid:"), current.as_mut()) {
            c.1 = mid;
        }
    }
    flush(index, current, &mut missing);
    if missing.is_empty() {
        return None;
    }
    let mut out = answer.to_string();
    if !out.is_empty() && !out.ends_with('\n') {
        out.push_str("\r\n");
    }
    out.push_str(&missing);
    Some(out)
}

/// Entries of an audio stream's codec list that carry no voice of their
/// own: DTMF, comfort noise, redundancy, retransmission.
const NOT_VOICE: [&str; 4] = [DTMF_CODEC, "CN", "red", "rtx"];

/// The voice codecs of the first `m=audio` stream ([`audio_codecs`]
/// without DTMF, comfort noise, redundancy and retransmission), each once.
pub fn voice_codecs(sdp: &str) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for c in audio_codecs(sdp) {
        let seen = |list: &[&str]| list.iter().any(|x| x.eq_ignore_ascii_case(c));
        if !seen(&NOT_VOICE) && !seen(&out) {
            out.push(c);
        }
    }
    out
}

/// Whether the first audio stream of `sdp` has one of the codecs `wanted`
/// (SDP names, any case); true when `wanted` is empty (any will do).
pub fn has_codec<S: AsRef<str>>(sdp: &str, wanted: &[S]) -> bool {
    wanted.is_empty()
        || audio_codecs(sdp)
            .iter()
            .any(|c| wanted.iter().any(|w| w.as_ref().eq_ignore_ascii_case(c)))
}

/// A first answer in which this phone is the DTLS server: when the offer
/// leaves the role open (`a=setup:actpass`) and the browser's answer took
/// the client role (`a=setup:active`), the same answer with
/// `a=setup:passive` instead (RFC 5763 5 allows either; JSEP only prefers
/// active). The offerer then sends the DTLS ClientHello. Chromium's own
/// ClientHello carries a post-quantum key share and needs two datagrams,
/// which the DTLS of some SIP phones cannot put together (linphone 5.1's
/// mbedTLS fails the handshake); every stack takes the small ClientHello of
/// the other side. None when nothing is to change. Only for a first answer:
/// once the DTLS session exists its roles stay.
pub fn answer_as_dtls_server(offer: &str, answer: &str) -> Option<String> {
    let has = |sdp: &str, attr: &str| lines_with_ends(sdp).any(|(text, _)| text == attr);
    if !has(offer, "a=setup:actpass") || !has(answer, "a=setup:active") {
        return None;
    }
    let mut out = String::with_capacity(answer.len() + 8);
    for (text, end) in lines_with_ends(answer) {
        out.push_str(if text == "a=setup:active" {
            "a=setup:passive"
        } else {
            text
        });
        out.push_str(end);
    }
    Some(out)
}

/// Each line of `sdp` without and with its ending (`\r\n`, `\n`, or none
/// for the last): the pieces put together again are `sdp`.
fn lines_with_ends(sdp: &str) -> impl Iterator<Item = (&str, &str)> {
    sdp.split_inclusive('\n').map(|line| {
        if let Some(text) = line.strip_suffix("\r\n") {
            (text, "\r\n")
        } else if let Some(text) = line.strip_suffix('\n') {
            (text, "\n")
        } else {
            (line, "")
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sdp(extra_session: &str, extra_audio: &str, conn: &str) -> String {
        format!(
            "v=0\r\no=- 4611 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 {conn}\r\nt=0 0\r\n{extra_session}m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n{extra_audio}m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=inactive\r\n"
        )
    }

    #[test]
    fn audio_codecs_in_the_offer_order() {
        let chrome = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n\
            m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126\r\n\
            a=rtpmap:111 opus/48000/2\r\na=rtpmap:63 red/48000/2\r\na=rtpmap:9 G722/8000\r\n\
            a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:13 CN/8000\r\n\
            a=rtpmap:110 telephone-event/48000\r\na=rtpmap:126 telephone-event/8000\r\n\
            m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 VP8/90000\r\n";
        assert_eq!(
            audio_codecs(chrome),
            [
                "opus",
                "red",
                "G722",
                "PCMU",
                "PCMA",
                "CN",
                "telephone-event",
                "telephone-event"
            ]
        );
        // static types without rtpmap (an old gateway), an unknown one
        // dropped; the video's codecs are not the audio's
        let old = "v=0\nm=video 9 RTP/AVP 96\na=rtpmap:96 VP8/90000\nm=audio 4000 RTP/AVP 8 0 18 101\na=rtpmap:101 telephone-event/8000\n";
        assert_eq!(audio_codecs(old), ["PCMA", "PCMU", "telephone-event"]);
        // no audio, or audio turned off, or a broken m= line
        assert!(audio_codecs("v=0\r\nm=video 9 RTP/AVP 96\r\n").is_empty());
        assert!(audio_codecs("m=audio 0 RTP/AVP 0\r\n").is_empty());
        assert!(audio_codecs("m=audio \r\n").is_empty());
        assert!(audio_codecs("m=audio 9\r\n").is_empty());
        assert!(audio_codecs("").is_empty());
    }

    #[test]
    fn an_answer_short_of_streams_is_completed() {
        let offer = "v=0\r\na=group:BUNDLE 0 1\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111 0\r\na=mid:0\r\n\
                     a=rtpmap:111 opus/48000/2\r\nm=video 9 UDP/TLS/RTP/SAVPF 96 97\r\na=mid:1\r\n\
                     a=rtpmap:96 VP8/90000\r\n";
        let answer = "v=0\r\nm=audio 30020 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\na=sendrecv\r\n";
        assert_eq!(
            complete_answer(offer, answer).as_deref(),
            Some(
                "v=0\r\nm=audio 30020 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\na=sendrecv\r\n\
                 m=video 0 UDP/TLS/RTP/SAVPF 96\r\na=mid:1\r\n"
            )
        );
        // without a final line end, and without mids
        let plain_offer = "m=audio 4000 RTP/AVP 0\nm=video 4002 RTP/AVP 31\n";
        assert_eq!(
            complete_answer(plain_offer, "m=audio 5000 RTP/AVP 0").as_deref(),
            Some("m=audio 5000 RTP/AVP 0\r\nm=video 0 RTP/AVP 31\r\n")
        );
        // nothing missing, or nothing to go by
        assert_eq!(
            complete_answer(
                offer,
                &format!("{answer}m=video 0 UDP/TLS/RTP/SAVPF 96\r\n")
            ),
            None
        );
        assert_eq!(complete_answer("m=audio 9 RTP/AVP 0\r\n", answer), None);
        assert_eq!(
            complete_answer(offer, "v=0\r\n"),
            None,
            "an answer without media"
        );
    }

    #[test]
    fn a_video_stream_that_is_on() {
        assert!(has_video(
            "v=0\r\nm=audio 9 RTP/AVP 0\r\nm=video 9 RTP/AVP 96\r\n"
        ));
        assert!(!has_video(
            "v=0\r\nm=audio 9 RTP/AVP 0\r\nm=video 0 RTP/AVP 96\r\n"
        ));
        assert!(!has_video("v=0\r\nm=audio 9 RTP/AVP 0\r\n"));
        assert!(!has_video("m=video\r\n"));
    }

    #[test]
    fn voice_codecs_and_the_choice() {
        let offer = "m=audio 9 RTP/SAVPF 111 63 9 13 126 110 0\r\na=rtpmap:111 opus/48000/2\r\n\
                     a=rtpmap:63 red/48000/2\r\na=rtpmap:9 G722/8000\r\na=rtpmap:13 CN/8000\r\n\
                     a=rtpmap:126 telephone-event/8000\r\na=rtpmap:110 telephone-event/48000\r\n\
                     a=rtpmap:0 PCMU/8000\r\n";
        assert_eq!(voice_codecs(offer), ["opus", "G722", "PCMU"]);
        assert!(has_codec::<&str>(offer, &[]));
        assert!(has_codec(offer, &["pcmu"]));
        assert!(has_codec(offer, &["PCMA".to_string(), "OPUS".to_string()]));
        assert!(!has_codec(offer, &["PCMA"]));
        assert!(!has_codec("", &["PCMA"]));
    }

    #[test]
    fn a_video_offer_cut_to_the_wanted_codecs_with_what_rides_on_them() {
        let offer = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n\
                     a=fmtp:111 apt=96\r\n\
                     m=video 9 UDP/TLS/RTP/SAVPF 96 97 98 99 102 103 114 115 116\r\n\
                     a=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 nack\r\n\
                     a=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\n\
                     a=rtpmap:98 VP9/90000\r\na=fmtp:98 profile-id=0\r\n\
                     a=rtpmap:99 rtx/90000\r\na=fmtp:99 apt=98\r\n\
                     a=rtpmap:102 H264/90000\r\na=rtpmap:103 rtx/90000\r\na=fmtp:103 apt=102\r\n\
                     a=rtpmap:114 red/90000\r\na=rtpmap:115 rtx/90000\r\na=fmtp:115 apt=114\r\n\
                     a=rtpmap:116 ulpfec/90000\r\n";
        let cut = keep_codecs(offer, "video", &["h264", "vp9"]).unwrap();
        assert_eq!(
            cut,
            "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n\
             a=fmtp:111 apt=96\r\n\
             m=video 9 UDP/TLS/RTP/SAVPF 102 98 114 116 99 103 115\r\n\
             a=rtpmap:98 VP9/90000\r\na=fmtp:98 profile-id=0\r\n\
             a=rtpmap:99 rtx/90000\r\na=fmtp:99 apt=98\r\n\
             a=rtpmap:102 H264/90000\r\na=rtpmap:103 rtx/90000\r\na=fmtp:103 apt=102\r\n\
             a=rtpmap:114 red/90000\r\na=rtpmap:115 rtx/90000\r\na=fmtp:115 apt=114\r\n\
             a=rtpmap:116 ulpfec/90000\r\n"
        );
        // the audio stream's lines are not the video's (its odd apt neither)
        assert_eq!(keep_codecs(offer, "audio", &["opus"]), None);
        // none of them offered, or all of them: nothing to change
        assert_eq!(keep_codecs(offer, "video", &["AV1"]), None);
        let all = ["VP8", "VP9", "H264"];
        assert_eq!(keep_codecs(offer, "video", &all), None);
        // a video stream turned off
        assert_eq!(
            keep_codecs("v=0\r\nm=video 0 RTP/AVP 96\r\n", "video", &["VP8"]),
            None
        );
    }

    #[test]
    fn an_offer_cut_to_the_wanted_codecs() {
        let keep_codecs_audio = |sdp: &str, wanted: &[&str]| keep_codecs(sdp, "audio", wanted);
        let offer = "v=0\r\ns=-\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126\r\n\
                     c=IN IP4 0.0.0.0\r\na=rtcp-fb:111 transport-cc\r\na=rtcp-fb:* nack\r\n\
                     a=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10;useinbandfec=1\r\n\
                     a=rtpmap:63 red/48000/2\r\na=fmtp:63 111/111\r\na=rtpmap:9 G722/8000\r\n\
                     a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:13 CN/8000\r\n\
                     a=rtpmap:110 telephone-event/48000\r\na=rtpmap:126 telephone-event/8000\r\n\
                     a=sendrecv\r\nm=video 9 UDP/TLS/RTP/SAVPF 96 0\r\na=rtpmap:96 VP8/90000\r\n\
                     a=rtcp-fb:96 nack\r\n";
        let cut = keep_codecs_audio(offer, &["pcma", "PCMU"]).unwrap();
        assert_eq!(
            cut,
            "v=0\r\ns=-\r\nm=audio 9 UDP/TLS/RTP/SAVPF 8 0 110 126\r\n\
             c=IN IP4 0.0.0.0\r\na=rtcp-fb:* nack\r\n\
             a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n\
             a=rtpmap:110 telephone-event/48000\r\na=rtpmap:126 telephone-event/8000\r\n\
             a=sendrecv\r\nm=video 9 UDP/TLS/RTP/SAVPF 96 0\r\na=rtpmap:96 VP8/90000\r\n\
             a=rtcp-fb:96 nack\r\n"
        );
        assert_eq!(audio_codecs(&cut), ["PCMA", "PCMU", DTMF_CODEC, DTMF_CODEC]);
        // static types without rtpmap; bare \n line ends kept
        let old = "v=0\nm=audio 4000 RTP/AVP 0 8 101\na=rtpmap:101 telephone-event/8000\na=fmtp:101 0-15\n";
        assert_eq!(
            keep_codecs_audio(old, &["PCMA"]).as_deref(),
            Some("v=0\nm=audio 4000 RTP/AVP 8 101\na=rtpmap:101 telephone-event/8000\na=fmtp:101 0-15\n")
        );
        // nothing to change, nothing wanted offered, any codec, no audio
        assert_eq!(keep_codecs_audio(old, &["PCMU", "PCMA"]), None);
        assert_eq!(keep_codecs_audio(old, &["opus"]), None);
        assert_eq!(keep_codecs_audio(old, &[]), None);
        assert_eq!(
            keep_codecs_audio("v=0\r\nm=audio 0 RTP/AVP 0\r\n", &["PCMU"]),
            None
        );
        assert_eq!(keep_codecs_audio("", &["PCMU"]), None);
    }

    #[test]
    fn direction_from_media_then_session_then_default() {
        assert_eq!(
            audio_direction(&sdp("", "", "1.2.3.4")),
            Direction::SendRecv
        );
        assert_eq!(
            audio_direction(&sdp("a=sendonly\r\n", "", "1.2.3.4")),
            Direction::SendOnly
        );
        assert_eq!(
            audio_direction(&sdp("a=sendonly\r\n", "a=sendrecv\r\n", "1.2.3.4")),
            Direction::SendRecv
        );
        assert_eq!(
            audio_direction(&sdp("", "a=recvonly\r\n", "1.2.3.4")),
            Direction::RecvOnly
        );
        // the video stream's inactive does not count for audio
        assert!(!is_hold(&sdp("", "", "1.2.3.4")));
    }

    #[test]
    fn hold_forms() {
        assert!(is_hold(&sdp("", "a=sendonly\r\n", "1.2.3.4")));
        assert!(is_hold(&sdp("", "a=inactive\r\n", "1.2.3.4")));
        assert!(is_hold(&sdp("", "", "0.0.0.0")));
        assert!(!is_hold(&sdp("", "a=recvonly\r\n", "1.2.3.4")));
    }

    #[test]
    fn first_answer_takes_the_dtls_server_role_when_the_offer_leaves_it_open() {
        let offer = sdp("a=setup:actpass\r\n", "a=setup:actpass\r\n", "1.2.3.4");
        let answer = sdp("", "a=setup:active\r\na=mid:0\r\n", "5.6.7.8");
        let got = answer_as_dtls_server(&offer, &answer).expect("changed");
        assert_eq!(got, answer.replace("a=setup:active", "a=setup:passive"));
        assert!(got.ends_with("a=inactive\r\n"), "line ends kept: {got:?}");
        // bare \n line ends stay as they are
        let lf = answer.replace("\r\n", "\n");
        assert_eq!(
            answer_as_dtls_server(&offer, &lf).unwrap(),
            lf.replace("a=setup:active", "a=setup:passive")
        );
    }

    #[test]
    fn a_role_the_offer_chose_or_an_answer_without_active_stays() {
        let answer = sdp("", "a=setup:active\r\n", "5.6.7.8");
        for offer_role in ["a=setup:passive\r\n", "a=setup:active\r\n", ""] {
            let offer = sdp("", offer_role, "1.2.3.4");
            assert_eq!(answer_as_dtls_server(&offer, &answer), None, "{offer_role}");
        }
        let offer = sdp("", "a=setup:actpass\r\n", "1.2.3.4");
        let passive = sdp("", "a=setup:passive\r\n", "5.6.7.8");
        assert_eq!(answer_as_dtls_server(&offer, &passive), None);
        // an attribute that only starts the same is not the role
        let odd = sdp("", "a=setup:active-ish\r\n", "5.6.7.8");
        assert_eq!(answer_as_dtls_server(&offer, &odd), None);
    }

    #[test]
    fn versions() {
        let a = sdp("", "", "1.2.3.4");
        let b = a.replace("4611 2", "4611 3");
        assert!(same_version(&a, &a.replace("a=", "a=x")));
        assert!(!same_version(&a, &b));
        assert!(!same_version("garbage", "garbage"));
    }
}
