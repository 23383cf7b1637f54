//! Torture messages written after the forms of RFC 4475 ("SIP Torture Test
//! Messages"), one function per case, named after the RFC 4475 case it
//! follows. Our own values, not the RFC's bytes. Shared by
//! `tests/torture.rs` (the assertions) and `tests/fuzz_smoke.rs` (the seed
//! corpus).
#![allow(dead_code)]

/// The text with every LF turned into CRLF, and `{CL}` replaced by the
/// length of the body (the bytes after the first empty line).
pub fn msg(text: &str) -> Vec<u8> {
    let crlf = text.replace('\n', "\r\n");
    let body_len = crlf
        .find("\r\n\r\n")
        .map(|i| crlf.len() - i - 4)
        .unwrap_or(0);
    crlf.replace("{CL}", &body_len.to_string()).into_bytes()
}

pub const SDP: &str = "v=0
o=mhandley 29739 7272939 IN IP4 192.0.2.3
s=-
c=IN IP4 192.0.2.3
t=0 0
m=audio 49217 RTP/AVP 0 12
m=video 3227 RTP/AVP 31
a=rtpmap:31 LPC
";

// ------------------------------------------------------------ valid (3.1.1)

/// 3.1.1.1: a short tortuous INVITE: odd case, LWS around colons, folded
/// values, compact names, escaped quotes, empty and unknown headers.
pub fn wsinv() -> Vec<u8> {
    msg(&format!(
        "INVITE sip:vivekg@chair-dnrc.example.com;unknownparam SIP/2.0
TO :
 sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n
from   : \"J Rosenberg \\\\\\\"\"       <sip:jdrosen@example.com>
  ;
  tag = 98asjd8
MaX-fOrWaRdS: 0068
Call-ID: wsinv.ndaksdj@192.0.2.1
Content-Length   : {{CL}}
cseq: 0009
  INVITE
Via  : SIP  /   2.0
 /UDP
    192.0.2.2;branch=390skdjuw
s :
NewFangledHeader:   newfangled value
 continued newfangled value
UnknownHeaderWithUnusualValue: ;;,,;;,;
Content-Type: application/sdp
Route:
 <sip:services.example.com;lr;unknownwith=value;unknown-no-value>
v:  SIP  / 2.0  / TCP     spindle.example.com   ;
  branch  =   z9hG4bK9ikj8  ,
 SIP  /    2.0   / UDP  192.168.255.111   ; branch=
 z9hG4bK30239
m:\"Quoted string \\\"\\\"\" <sip:jdrosen@example.com> ; newparam =
      newvalue ;
  secondparam ; q = 0.33

{SDP}"
    ))
}

/// 3.1.1.2 with printable characters only: an extension method using every
/// token character, a Request-URI and To URI using every user-part
/// character, quoted pairs, a token display name, UTF-8 values.
pub fn intmeth() -> Vec<u8> {
    msg("!odd-Method_0123456789*+`.%yes'~ sip:9_strange.URI~(be!sure)&isn't+it$/odd?,/;;*:&pw+has=1,odd!*pa$s~d_2.(isn't-it)@example.com SIP/2.0
Via: SIP/2.0/TCP host9.example.com;branch=z9hG4bK-.!%77*_+`'~
To: \"quote:\\\" backslash:\\\\ x:\\x\" <sip:9_strange.URI~(be!sure)&isn't+it$/odd?,/;;*@example.com>
From: tok1~` tok2'+_ tok3*%!.- <sip:plain@example.com>;fromParam''~+*_!.-%=\"\u{440}\u{430}\u{431}\u{43e}\u{442}\u{430}\";tag=_tok~9'+`*%!-.
Call-ID: intmeth.w%ZK-!.*_+'@w`~)(><:\\/\"][?}{
CSeq: 139122386 !odd-Method_0123456789*+`.%yes'~
Max-Forwards: 255
extensionHeader-!.%*+_`'~: \u{5927}\u{505c}\u{96fb}
Content-Length: 0

")
}

/// 3.1.1.2 as written in the RFC: quoted pairs escaping BEL, NUL and DEL
/// in the To display name.
pub fn intmeth_ctl() -> Vec<u8> {
    let text = String::from_utf8(intmeth()).expect("UTF-8");
    text.replace(
        "\"quote:\\\" backslash:\\\\ x:\\x\"",
        "\"BEL:\\\u{7} NUL:\\\u{0} DEL:\\\u{7f}\"",
    )
    .into_bytes()
}

/// 3.1.1.3: %-escapes in the Request-URI, To, From and Contact (URI
/// parameter names and values too).
pub fn esc01() -> Vec<u8> {
    msg(&format!(
        "INVITE sip:sips%3Auser%40example.com@example.net SIP/2.0
To: sip:%75se%72@example.com
From: <sip:I%20have%20spaces@example.net>;tag=1234
Max-Forwards: 87
i: esc01.239409asdfakjkn23onasd0-3234
CSeq: 234234 INVITE
Via: SIP/2.0/UDP host5.example.net;branch=z9hG4bKkdjuw
C: application/sdp
Contact:
  <sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31>
Content-Length: {{CL}}

{SDP}"
    ))
}

/// 3.1.1.4: escaped NULs (`%00`) in URIs are just text.
pub fn escnull() -> Vec<u8> {
    msg("REGISTER sip:example.com SIP/2.0
To: sip:null-%00-null@example.com
From: sip:null-%00-null@example.com;tag=839923423
Max-Forwards: 70
Call-ID: escnull.39203ndfvkjdasfkq3w4otrq0adsfdfnavd
CSeq: 14398234 REGISTER
Via: SIP/2.0/UDP host5.example.com;branch=z9hG4bKkdjuw
Contact: <sip:%00@host5.example.com>
Contact: <sip:%00%00@host5.example.com>
L:0

")
}

/// 3.1.1.5: `%` that is not an escape: a method spelled with `%`, which is
/// an extension method, not REGISTER.
pub fn esc02() -> Vec<u8> {
    msg("RE%47IST%45R sip:registrar.example.com SIP/2.0
To: \"%Z%45\" <sip:resource@example.com>
From: \"%Z%45\" <sip:resource@example.com>;tag=f232jadfj23
Call-ID: esc02.asdfnqwo34rq23i34jrjasdcnl23nrlknsdf
Via: SIP/2.0/TCP host.example.com;branch=z9hG4bK209323
CSeq: 29344 RE%47IST%45R
Max-Forwards: 70
Contact: <sip:alias1@host1.example.com>
C%6Fntact: <sip:alias2@host2.example.com>
Contact: <sip:alias3@host3.example.com>
l: 0

")
}

/// 3.1.1.6: no LWS between the display name and `<`.
pub fn lwsdisp() -> Vec<u8> {
    msg("OPTIONS sip:user@example.com SIP/2.0
To: sip:user@example.com
From: caller<sip:caller@example.com>;tag=323
Max-Forwards: 70
Call-ID: lwsdisp.1234abcd@funky.example.com
CSeq: 60 OPTIONS
Via: SIP/2.0/UDP funky.example.com;branch=z9hG4bKkdjuw
l: 0

")
}

/// 3.1.1.7: long values: a long Request-URI user, To tag, Call-ID, many
/// Via headers, a long unknown header, a long display name.
pub fn longreq() -> Vec<u8> {
    let long = "amazinglylongcallid".repeat(50);
    let user = "very".repeat(100);
    let mut text = format!(
        "INVITE sip:{user}long@example.com SIP/2.0
To: \"I have a user name of {user}long\" <sip:{user}long@example.com>;tag={long}
From: sip:caller@example.net;tag=333
Call-ID: longreq.{long}
CSeq: 3882340 INVITE
Unknown-{long}: {long}
Max-Forwards: 70
"
    );
    for i in 0..30 {
        text.push_str(&format!(
            "Via: SIP/2.0/TCP sip{i}.example.com;branch=z9hG4bK{i}{long}\n"
        ));
    }
    text.push_str(&format!(
        "Contact: <sip:amazinglylongcallid@host5.example.net>
Content-Type: application/sdp
l: {{CL}}

{SDP}"
    ));
    msg(&text)
}

/// 3.1.1.8: extra octets after the body (one datagram holding more than
/// one message).
pub fn dblreq() -> Vec<u8> {
    let mut bytes = msg("REGISTER sip:example.com SIP/2.0
To: sip:j.user@example.com
From: sip:j.user@example.com;tag=43251j3j324
Max-Forwards: 8
I: dblreq.0ha0isndaksdj99sdfafnl3lk233412
Contact: sip:j.user@host.example.com
CSeq: 8 REGISTER
Via: SIP/2.0/UDP 192.0.2.125;branch=z9hG4bKkdjuw23492
Content-Length: 0

");
    bytes.extend(msg(&format!(
        "INVITE sip:joe@example.com SIP/2.0
t: sip:joe@example.com
From: sip:caller@example.net;tag=141334
Max-Forwards: 8
Call-ID: dblreq.0ha0isnda977644900765@192.0.2.15
CSeq: 8 INVITE
Via: SIP/2.0/UDP 192.0.2.15;branch=z9hG4bKkdjuw380234
Content-Type: application/sdp
Content-Length: {{CL}}

{SDP}"
    )));
    bytes
}

/// 3.1.1.9: semicolons in the user part of the Request-URI and To.
pub fn semiuri() -> Vec<u8> {
    msg("OPTIONS sip:user;par=u%40example.net@example.com SIP/2.0
To: sip:j_user@example.com
From: sip:caller@example.org;tag=33242
Max-Forwards: 3
Call-ID: semiuri.0ha0isndaksdj
CSeq: 8 OPTIONS
Accept: application/sdp, application/pkcs7-mime,
        multipart/mixed, multipart/signed,
        message/sip, message/sipfrag
Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKkdjuw
l: 0

")
}

/// 3.1.1.10: known, unusual and unknown transports in Via and Contact.
pub fn transports() -> Vec<u8> {
    msg("OPTIONS sip:user@example.com SIP/2.0
To: sip:user@example.com
From: <sip:caller@example.com>;tag=323
Max-Forwards: 70
Call-ID:  transports.kijh4akdnaqjkwendsasfdj
Accept: application/sdp
CSeq: 60 OPTIONS
Via: SIP/2.0/UDP t1.example.com;branch=z9hG4bKkdjuw
Via: SIP/2.0/SCTP t2.example.com;branch=z9hG4bKklasjdhf
Via: SIP/2.0/TLS t3.example.com;branch=z9hG4bK2980unddj
Via: SIP/2.0/UNKNOWN t4.example.com;branch=z9hG4bKasd0f3en
Via: SIP/2.0/TCP t5.example.com;branch=z9hG4bK0a9idfnee
l: 0

")
}

pub const MPART_BODY: &str = "--7a9cbec.3a24a93d
Content-Type: application/sdp

v=0
o=- 1 1 IN IP4 192.0.2.4
s=-
c=IN IP4 192.0.2.4
t=0 0
m=audio 4000 RTP/AVP 0

--7a9cbec.3a24a93d
Content-Type: application/resource-lists+xml
Content-Disposition: recipient-list

<?xml version=\"1.0\"?><resource-lists/>
--7a9cbec.3a24a93d--
";

/// 3.1.1.11: a multipart/mixed body with a boundary parameter.
pub fn mpart01() -> Vec<u8> {
    msg(&format!(
        "MESSAGE sip:kumiko@example.org SIP/2.0
Via: SIP/2.0/UDP 192.0.2.4;branch=z9hG4bK9s8a3
Max-Forwards: 70
To: <sip:kumiko@example.org>
From: <sip:carol@example.com>;tag=n88ah
Call-ID: mpart01.lk3j4n5l6k
CSeq: 1 MESSAGE
Content-Type: multipart/mixed;boundary=7a9cbec.3a24a93d
Content-Length: {{CL}}

{MPART_BODY}"
    ))
}

/// 3.1.1.12: a reason phrase with symbols and UTF-8.
pub fn unreason() -> Vec<u8> {
    msg("SIP/2.0 200 = 2**3 * 5**2 \u{43d}\u{43e} \u{441}\u{442}\u{43e} \u{434}\u{435}\u{432}\u{44f}\u{43d}\u{43e}\u{441}\u{442}\u{43e} \u{434}\u{435}\u{432}\u{44f}\u{442}\u{44c} - \u{43f}\u{440}\u{43e}\u{441}\u{442}\u{43e}\u{435}
Via: SIP/2.0/UDP 192.0.2.198;branch=z9hG4bK1324923
Call-ID: unreason.1234ksdfak3j2erwedfsASdf
CSeq: 35 INVITE
From: sip:user@example.com;tag=11141343
To: sip:user@example.edu;tag=2229
Content-Length: {CL}
Content-Type: application/sdp
Contact: <sip:user@host198.example.com>

v=0
o=- 1 1 IN IP4 192.0.2.198
s=-
c=IN IP4 192.0.2.198
t=0 0
m=audio 3456 RTP/AVP 0
")
}

/// 3.1.1.13: an empty reason phrase (the space before it is there).
pub fn noreason() -> Vec<u8> {
    msg("SIP/2.0 100 
Via: SIP/2.0/UDP 192.0.2.105;branch=z9hG4bK2398ndaoe
Call-ID: noreason.asndj203insdf99223ndf
CSeq: 35 INVITE
From: <sip:user@example.com>;tag=39ansfi3
To: <sip:user@example.edu>;tag=902jndnke3
Content-Length: 0
Contact: <sip:user@host105.example.com>

")
}

// ----------------------------------------------- valid semantics (3.2-3.4)

/// 3.2.1: a branch without the RFC 3261 magic cookie (RFC 2543 peer).
pub fn badbranch() -> Vec<u8> {
    msg("OPTIONS sip:user@example.com SIP/2.0
To: sip:user@example.com
From: sip:caller@example.org;tag=33242
Max-Forwards: 3
Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK
Via: SIP/2.0/UDP 192.0.2.2;branch=kdjuw
Accept: application/sdp
Call-ID: badbranch.sadonfo23i420jv0as0derf3j3n
CSeq: 8 OPTIONS
l: 0

")
}

/// 3.3.2: a Request-URI with a scheme nobody knows.
pub fn unkscm() -> Vec<u8> {
    msg("OPTIONS nobodyknowsthisscheme:totallyopaquecontent SIP/2.0
To: sip:user@example.com
From: sip:caller@example.net;tag=384
Max-Forwards: 3
Call-ID: unkscm.nasdfasser0q239nwsdfasdkl34
CSeq: 3923423 OPTIONS
Via: SIP/2.0/TCP host9.example.com;branch=z9hG4bKkdjuw39234
Content-Length: 0

")
}

/// 3.3.3: a known but atypical scheme (with `.` in it).
pub fn novelsc() -> Vec<u8> {
    msg("OPTIONS soap.beep://192.0.2.103:3002 SIP/2.0
To: sip:user@example.com
From: sip:caller@example.net;tag=384
Max-Forwards: 3
Call-ID: novelsc.asdfasser0q239nwsdfasdkl34
CSeq: 3923423 OPTIONS
Via: SIP/2.0/TCP host9.example.com;branch=z9hG4bKkdjuw39234
Content-Length: 0

")
}

/// 3.3.4: unknown schemes in To, From and Contact.
pub fn unksm2() -> Vec<u8> {
    msg("REGISTER sip:example.com SIP/2.0
To: isbn:2983792873
From: <http://www.example.com>;tag=3234233
Call-ID: unksm2.daksdj@hyphenated-host.example.com
CSeq: 234902 REGISTER
Max-Forwards: 70
Via: SIP/2.0/UDP 192.0.2.21:5060;branch=z9hG4bKkdjuw
Contact: <name:John_Smith>
l: 0

")
}

/// 3.3.5: unknown option tags in Require and Proxy-Require.
pub fn bext01() -> Vec<u8> {
    msg("OPTIONS sip:user@example.com SIP/2.0
To: sip:j_user@example.com
From: sip:caller@example.net;tag=242etr
Max-Forwards: 6
Call-ID: bext01.0ha0isndaksdj
Require: nothingSupportsThis, nothingSupportsThisEither
Proxy-Require: noProxiesSupportThis, norDoAnyProxiesSupportThis
CSeq: 8 OPTIONS
Via: SIP/2.0/TLS fold-and-staple.example.com;branch=z9hG4bKkdjuw
Content-Length: 0

")
}

/// 3.3.6: an unknown Content-Type.
pub fn invut() -> Vec<u8> {
    msg("INVITE sip:user@example.com SIP/2.0
Contact: <sip:caller@host5.example.net>
To: sip:j.user@example.com
From: sip:caller@example.net;tag=8392034
Max-Forwards: 70
Call-ID: invut.0ha0isndaksdjadsfij34n23d
CSeq: 235448 INVITE
Via: SIP/2.0/UDP somehost.example.com;branch=z9hG4bKkdjuw
Content-Type: application/unknownformat
Content-Length: {CL}

<audio>
 <pcmu port=\"443\"/>
</audio>
")
}

/// 3.3.7: an Authorization header with an unknown scheme.
pub fn regaui() -> Vec<u8> {
    msg("REGISTER sip:example.com SIP/2.0
To: sip:j.user@example.com
From: sip:j.user@example.com;tag=87321hj23128
Max-Forwards: 8
Call-ID: regaui.0ha0isndaksdj
CSeq: 9338 REGISTER
Via: SIP/2.0/TCP 192.0.2.253;branch=z9hG4bKkdjuw
Authorization: NoOneKnowsThisScheme opaque-data=here
Content-Length:0

")
}

/// 3.3.11: Max-Forwards of zero (valid; what to do is up to the element).
pub fn zeromf() -> Vec<u8> {
    msg("OPTIONS sip:user@example.com SIP/2.0
To: sip:user@example.com
From: sip:caller@example.net;tag=3ghsd41
Call-ID: zeromf.jfasdlfnm2o2l43r5u0asdfas
CSeq: 39234321 OPTIONS
Via: SIP/2.0/UDP host1.example.com;branch=z9hG4bKkdjuw2349i
Max-Forwards: 0
Content-Length: 0

")
}

/// 3.3.12: Content-Type with an unknown parameter (cparam01).
pub fn cparam01() -> Vec<u8> {
    msg("REGISTER sip:example.com SIP/2.0
Via: SIP/2.0/UDP saturn.example.com:5060;branch=z9hG4bKkdjuw
Max-Forwards: 70
From: sip:watson@example.com;tag=DkfVgjkrtMwaerKKpe
To: sip:watson@example.com
Call-ID: cparam01.70710@saturn.example.com
CSeq: 2 REGISTER
Contact: sip:+19725552222@gw1.example.net;unknownparam
l: 0

")
}

/// 3.3.13: Content-Type parameters with a quoted UTF-8 value (cparam02
/// follows a display name with UTF-8 and parameters in To).
pub fn cparam02() -> Vec<u8> {
    msg(&format!(
        "INVITE sip:watson@example.com SIP/2.0
Via: SIP/2.0/UDP saturn.example.com:5060;branch=z9hG4bKkdjuw
Max-Forwards: 70
From: \"\u{00c9}mile\" <sip:emile@example.com>;tag=DkfVgjkrtMwaerKKpe
To: <sip:watson@example.com>
Call-ID: cparam02.70710@saturn.example.com
CSeq: 5 INVITE
Content-Type: Application/SDP ; charset=\"utf-8\" ; x-note=\"\u{00e9}t\u{00e9}\"
Content-Length: {{CL}}

{SDP}"
    ))
}

/// 3.3.14: REGISTER with an escaped header in a bracketed Contact URI.
pub fn regescrt() -> Vec<u8> {
    msg("REGISTER sip:example.com SIP/2.0
To: sip:user@example.com
From: sip:user@example.com;tag=8
Max-Forwards: 70
Via: SIP/2.0/UDP host5.example.com;branch=z9hG4bKkdjuw
Call-ID: regescrt.k345asrl3fdbv@192.0.2.1
CSeq: 14398234 REGISTER
Contact: <sip:user@example.com?Route=%3Csip:sip.example.com%3E>
l: 0

")
}

/// 3.4.1: RFC 2543 syntax: no branch, no Max-Forwards, bare addr-specs.
pub fn inv2543() -> Vec<u8> {
    msg(&format!(
        "INVITE sip:UserB@example.com SIP/2.0
Via: SIP/2.0/UDP iftgw.example.com
From: <sip:+13035551111@ift.client.example.net;user=phone>
Record-Route: <sip:UserB@example.com;maddr=ss1.example.com>
To: sip:+16505552222@ss1.example.net;user=phone
Call-ID: inv2543.1717@ift.client.example.com
CSeq: 56 INVITE
Content-Type: application/sdp

{SDP}"
    ))
}

/// 3.1.2.9-like but valid for us: a response with a broadcast `received`.
pub fn bcast() -> Vec<u8> {
    msg("SIP/2.0 200 OK
Via: SIP/2.0/UDP 192.0.2.198;branch=z9hG4bK1324923;received=255.255.255.255
Via: SIP/2.0/UDP 255.255.255.255;branch=z9hG4bK1saber23
Call-ID: bcast.0384840201234ksdfak3j2erwedfsASdf
CSeq: 35 INVITE
From: sip:user@example.com;tag=11141343
To: sip:user@example.edu;tag=2229
Content-Length: 0
Contact: <sip:user@host28.example.com>

")
}

// ---------------------------------------------------------- invalid (3.1.2)

/// 3.1.2.1: extraneous separators: a Via of nothing but `;` and `,`.
pub fn badinv01() -> Vec<u8> {
    msg(&format!(
        "INVITE sip:user@example.com SIP/2.0
To: sip:j.user@example.com
From: sip:caller@example.net;tag=134161461246
Max-Forwards: 7
Call-ID: badinv01.0ha0isndaksdjasdf3234nas
CSeq: 8 INVITE
Via: SIP/2.0/UDP 192.0.2.15;;,;,,
Contact: \"Joe\" <sip:joe@example.org>;;;;
Content-Length: {{CL}}
Content-Type: application/sdp

{SDP}"
    ))
}

/// 3.1.2.2: Content-Length larger than the body.
pub fn clerr() -> Vec<u8> {
    msg(&format!(
        "INVITE sip:user@example.com SIP/2.0
Max-Forwards: 80
To: sip:j.user@example.com
From: sip:caller@example.net;tag=93942939o2
Contact: <sip:caller@hungry.example.net>
Call-ID: clerr.0ha0isndaksdjweiafasdk3
CSeq: 8 INVITE
Via: SIP/2.0/UDP host5.example.com;branch=z9hG4bK-39234-23523
Content-Type: application/sdp
Content-Length: 9999

{SDP}"
    ))
}

/// 3.1.2.2 pushed further: a Content-Length beyond 2^64.
pub fn clerr_huge() -> Vec<u8> {
    let text = String::from_utf8(clerr()).expect("UTF-8");
    text.replace("9999", "184467440737095516160000")
        .into_bytes()
}

/// 3.1.2.3: a negative Content-Length.
pub fn ncl() -> Vec<u8> {
    msg(&format!(
        "INVITE sip:user@example.com SIP/2.0
Max-Forwards: 254
To: sip:j.user@example.com
From: sip:caller@example.net;tag=32394234
Call-ID: ncl.0ha0isndaksdj2193423r542w35
CSeq: 0 INVITE
Via: SIP/2.0/UDP 192.0.2.53;branch=z9hG4bKkdjuw
Contact: <sip:caller@example53.example.net>
Content-Type: application/sdp
Content-Length: -999

{SDP}"
    ))
}

/// 3.1.2.4: overlarge scalars in a request: CSeq beyond 2^64, Max-Forwards
/// 300, huge Expires and Contact expires.
pub fn scalar02() -> Vec<u8> {
    msg("REGISTER sip:example.com SIP/2.0
Via: SIP/2.0/TCP host129.example.com;branch=z9hG4bK342sdfoi3
To: <sip:user@example.com>
From: <sip:user@example.com>;tag=239232jh3
CSeq: 36893488147419103232 REGISTER
Call-ID: scalar02.23o0pd9vanlq3wnrlnewofjas9ui32
Max-Forwards: 300
Expires: 1000000000000000000000000000000000000000000000000
Contact: <sip:user@host129.example.com>
  ;expires=280297596632815
Content-Length: 0

")
}

/// 3.1.2.5: overlarge scalars in a response: CSeq, Retry-After and a
/// 4-digit warn-code.
pub fn scalarlg() -> Vec<u8> {
    msg("SIP/2.0 503 Service Unavailable
Via: SIP/2.0/TCP host129.example.com;branch=z9hG4bKzzxdiwo34sw;received=192.0.2.129
To: <sip:user@example.com>
From: <sip:other@example.net>;tag=2easdjfejw
CSeq: 9292394834772304023312 OPTIONS
Call-ID: scalarlg.noase0of0234hn2qofoaf0232aewf2394r
Retry-After: 949302838503028349304023988
Warning: 1812 overture \"In Progress\"
Content-Length: 0

")
}

/// 3.1.2.6: an unterminated quoted display name.
pub fn quotbal() -> Vec<u8> {
    msg(&format!(
        "INVITE sip:user@example.com SIP/2.0
To: \"Mr. J. User <sip:j.user@example.com>
From: sip:caller@example.net;tag=93334
Max-Forwards: 10
Call-ID: quotbal.aksdj
Contact: <sip:caller@host59.example.net>
CSeq: 8 INVITE
Via: SIP/2.0/UDP 192.0.2.59:5050;branch=z9hG4bKkdjuw39234
Content-Type: application/sdp
Content-Length: {{CL}}

{SDP}"
    ))
}

/// 3.1.2.7: the Request-URI enclosed in `<>`.
pub fn ltgtruri() -> Vec<u8> {
    msg(&format!(
        "INVITE <sip:user@example.com> SIP/2.0
To: sip:user@example.com
From: sip:caller@example.net;tag=39291
Max-Forwards: 23
Call-ID: ltgtruri.1@192.0.2.5
CSeq: 1 INVITE
Via: SIP/2.0/UDP 192.0.2.5;branch=z9hG4bKkdjuw
Contact: <sip:caller@host5.example.net>
Content-Type: application/sdp
Content-Length: {{CL}}

{SDP}"
    ))
}

/// 3.1.2.8: LWS inside the Request-URI.
pub fn lwsruri() -> Vec<u8> {
    msg(&format!(
        "INVITE sip:user@example.com; lr SIP/2.0
To: sip:user@example.com;tag=3xfe-9921883-z9f
From: sip:caller@example.net;tag=231413434
Max-Forwards: 5
Call-ID: lwsruri.asdfiuax34kgh2384
CSeq: 2130706432 INVITE
Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKkdjuw2395
Contact: <sip:caller@host1.example.net>
Content-Type: application/sdp
Content-Length: {{CL}}

{SDP}"
    ))
}

/// 3.1.2.9: several SP between the Request-Line elements.
pub fn lwsstart() -> Vec<u8> {
    msg(&format!(
        "INVITE  sip:user@example.com  SIP/2.0
Max-Forwards: 8
To: sip:user@example.com
From: sip:caller@example.net;tag=8814
Call-ID: lwsstart.dfknq234oi243099adsdfnawe3@example.com
CSeq: 1893884 INVITE
Via: SIP/2.0/UDP host1.example.com;branch=z9hG4bKkdjuw3923
Contact: <sip:caller@host1.example.net>
Content-Type: application/sdp
Content-Length: {{CL}}

{SDP}"
    ))
}

/// 3.1.2.10: SP at the end of the Request-Line.
pub fn trws() -> Vec<u8> {
    msg("OPTIONS sip:remote-target@example.com SIP/2.0  
Via: SIP/2.0/TCP host1.example.com;branch=z9hG4bK299342093
To: <sip:remote-target@example.com>
From: <sip:local-resource@example.com>;tag=329429089
Call-ID: trws.oicu34958239neffasdhr2345r
Accept: application/sdp
CSeq: 238923 OPTIONS
Max-Forwards: 70
Content-Length: 0

")
}

/// 3.1.2.11: an escaped header in the Request-URI.
pub fn escruri() -> Vec<u8> {
    msg(&format!(
        "INVITE sip:user@example.com?Route=%3Csip:example.com%3E SIP/2.0
To: sip:user@example.com
From: sip:caller@example.net;tag=341518
Max-Forwards: 7
Contact: <sip:caller@host39923.example.net>
Call-ID: escruri.23940-asdfhj-aje3br-234q098w-fawerh2q-h4n5
CSeq: 149209342 INVITE
Via: SIP/2.0/UDP host-of-the-hour.example.com;branch=z9hG4bKkdjuw
Content-Type: application/sdp
Content-Length: {{CL}}

{SDP}"
    ))
}

/// 3.1.2.12: a Date with a time zone other than GMT.
pub fn baddate() -> Vec<u8> {
    msg(&format!(
        "INVITE sip:user@example.com SIP/2.0
To: sip:user@example.com
From: sip:caller@example.net;tag=2234923
Max-Forwards: 70
Call-ID: baddate.239423mnsadf3j23lj42--sedfnm234
CSeq: 1392934 INVITE
Via: SIP/2.0/UDP host.example.com;branch=z9hG4bKkdjuw
Date: Fri, 01 Jan 2010 16:00:00 EST
Contact: <sip:caller@host5.example.net>
Content-Type: application/sdp
Content-Length: {{CL}}

{SDP}"
    ))
}

/// 3.1.2.13: a URI with `?` in a Contact not enclosed in `<>`.
pub fn regbadct() -> Vec<u8> {
    msg("REGISTER sip:example.com SIP/2.0
To: sip:user@example.com
From: sip:user@example.com;tag=998332
Max-Forwards: 70
Call-ID: regbadct.k345asrl3fdbv@10.0.0.1
CSeq: 1 REGISTER
Via: SIP/2.0/UDP 135.180.130.133:5060;branch=z9hG4bKkdjuw
Contact: sip:user@example.com?Route=%3Csip:sip.example.com%3E
l: 0

")
}

/// 3.1.2.14: spaces inside the `<>` of an address.
pub fn badaspec() -> Vec<u8> {
    msg("OPTIONS sip:user@example.org SIP/2.0
Via: SIP/2.0/UDP host4.example.com:5060;branch=z9hG4bKkdju43234
Max-Forwards: 70
From: \"Bell, Alexander\" <sip:a.g.bell@example.com>;tag=433423
To: \"Watson, Thomas\" < sip:t.watson@example.org >
Call-ID: badaspec.sdf0234n2nds0a099u23h3hnnw009cdkne3
Accept: application/sdp
CSeq: 3923239 OPTIONS
l: 0

")
}

/// 3.1.2.15: non-token characters in an unquoted display name.
pub fn baddn() -> Vec<u8> {
    msg("OPTIONS sip:t.watson@example.org SIP/2.0
Via:     SIP/2.0/UDP c.example.com:5060;branch=z9hG4bKkdjw
Max-Forwards:      70
From:    Bell, Alexander <sip:a.g.bell@example.com>;tag=43
To:      Watson, Thomas <sip:t.watson@example.org>
Call-ID: baddn.31415@c.example.com
Accept: application/sdp
CSeq:    3923239 OPTIONS
l: 0

")
}

/// 3.1.2.16: an unknown protocol version.
pub fn badvers() -> Vec<u8> {
    msg("OPTIONS sip:t.watson@example.org SIP/7.0
Via:     SIP/7.0/UDP c.example.com;branch=z9hG4bKkdjw
Max-Forwards:     70
From:    A. Bell <sip:a.g.bell@example.com>;tag=qweoiqpe
To:      T. Watson <sip:t.watson@example.org>
Call-ID: badvers.31417@c.example.com
CSeq:    1 OPTIONS
l: 0

")
}

/// 3.1.2.17: the CSeq method differs from the request method.
pub fn mismatch01() -> Vec<u8> {
    msg("OPTIONS sip:user@example.com SIP/2.0
To: sip:j.user@example.com
From: sip:caller@example.net;tag=34525
Max-Forwards: 6
Call-ID: mismatch01.dj0234sxdfl3
CSeq: 8 INVITE
Via: SIP/2.0/UDP host.example.com;branch=z9hG4bKkdjuw
l: 0

")
}

/// 3.1.2.18: an unknown method and a CSeq with another method.
pub fn mismatch02() -> Vec<u8> {
    msg("NEWMETHOD sip:user@example.com SIP/2.0
To: sip:j.user@example.com
From: sip:caller@example.net;tag=34525
Max-Forwards: 6
Call-ID: mismatch02.dj0234sxdfl3
CSeq: 8 INVITE
Contact: <sip:caller@host.example.net>
Via: SIP/2.0/UDP host.example.net;branch=z9hG4bKkdjuw
Content-Type: application/sdp
l: 0

")
}

/// 3.1.2.19: a status code far beyond three digits.
pub fn bigcode() -> Vec<u8> {
    msg("SIP/2.0 4294967301 better not break the receiver
Via: SIP/2.0/UDP 192.0.2.105;branch=z9hG4bK2398ndaoe
Call-ID: bigcode.asdof3uj203asdnf3429uasdhfas3ehjasdfas9i
CSeq: 353494 INVITE
From: <sip:user@example.com>;tag=39ansfi3
To: <sip:user@example.edu>;tag=902jndnke3
Content-Length: 0
Contact: <sip:user@host105.example.com>

")
}

/// 3.3.1: required headers missing (Call-ID, From, To).
pub fn insuf() -> Vec<u8> {
    msg(&format!(
        "INVITE sip:user@example.com SIP/2.0
CSeq: 193942 INVITE
Via: SIP/2.0/UDP 192.0.2.95;branch=z9hG4bKkdj.insuf
Content-Type: application/sdp
l: {{CL}}

{SDP}"
    ))
}

/// 3.3.8-like (multi01 in the RFC's list): single-value headers twice.
pub fn multi01() -> Vec<u8> {
    msg(&format!(
        "INVITE sip:user@company.com SIP/2.0
Contact: <sip:caller@host25.example.net>
Via: SIP/2.0/UDP 192.0.2.25;branch=z9hG4bKkdjuw
Max-Forwards: 70
CSeq: 5 INVITE
Call-ID: multi01.98asdh@192.0.2.1
CSeq: 59 INVITE
Call-ID: multi01.98asdh@192.0.2.2
From: sip:caller@example.com;tag=3413415
To: sip:user@example.com
To: sip:other@example.net
From: sip:caller@example.net;tag=2923420123
Content-Type: application/sdp
l: {{CL}}
Contact: <sip:caller@host36.example.net>
Max-Forwards: 5

{SDP}"
    ))
}

/// 3.1.2.? mcl01: two Content-Length values that disagree.
pub fn mcl01() -> Vec<u8> {
    msg("OPTIONS sip:user@example.com SIP/2.0
Via: SIP/2.0/UDP host5.example.net;branch=z9hG4bK293423
To: sip:user@example.com
From: sip:other@example.net;tag=3923942
Call-ID: mcl01.fhn2323orihawfdoa3o4r52o3irsdf
CSeq: 15932 OPTIONS
Content-Length: 13
Max-Forwards: 60
Content-Length: 5
Content-Type: text/plain

There's no way to know how many octets are supposed to be here.
")
}

/// A case: its RFC 4475 name and its bytes.
pub struct Case {
    pub name: &'static str,
    pub bytes: Vec<u8>,
    /// Whether `classify` accepts it.
    pub accepted: bool,
}

/// A case's name and the function making its bytes.
type Make = (&'static str, fn() -> Vec<u8>);

/// Every case, for corpus use.
pub fn all() -> Vec<Case> {
    let valid: [Make; 27] = [
        ("wsinv", wsinv),
        ("intmeth", intmeth),
        ("intmeth_ctl", intmeth_ctl),
        ("esc01", esc01),
        ("escnull", escnull),
        ("esc02", esc02),
        ("lwsdisp", lwsdisp),
        ("longreq", longreq),
        ("dblreq", dblreq),
        ("semiuri", semiuri),
        ("transports", transports),
        ("mpart01", mpart01),
        ("unreason", unreason),
        ("noreason", noreason),
        ("badbranch", badbranch),
        ("unkscm", unkscm),
        ("novelsc", novelsc),
        ("unksm2", unksm2),
        ("bext01", bext01),
        ("invut", invut),
        ("regaui", regaui),
        ("zeromf", zeromf),
        ("cparam01", cparam01),
        ("cparam02", cparam02),
        ("regescrt", regescrt),
        ("inv2543", inv2543),
        ("bcast", bcast),
    ];
    let lenient: [Make; 3] = [("lwsstart", lwsstart), ("trws", trws), ("baddate", baddate)];
    let invalid: [Make; 20] = [
        ("regbadct", regbadct),
        ("badinv01", badinv01),
        ("clerr", clerr),
        ("clerr_huge", clerr_huge),
        ("ncl", ncl),
        ("scalar02", scalar02),
        ("scalarlg", scalarlg),
        ("quotbal", quotbal),
        ("ltgtruri", ltgtruri),
        ("lwsruri", lwsruri),
        ("escruri", escruri),
        ("badaspec", badaspec),
        ("baddn", baddn),
        ("badvers", badvers),
        ("mismatch01", mismatch01),
        ("mismatch02", mismatch02),
        ("bigcode", bigcode),
        ("insuf", insuf),
        ("multi01", multi01),
        ("mcl01", mcl01),
    ];
    let mut out = Vec::new();
    for (name, f) in valid.into_iter().chain(lenient) {
        out.push(Case {
            name,
            bytes: f(),
            accepted: true,
        });
    }
    for (name, f) in invalid {
        out.push(Case {
            name,
            bytes: f(),
            accepted: false,
        });
    }
    out
}
