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
