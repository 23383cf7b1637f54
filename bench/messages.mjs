// The fixed set of SIP messages of the parse benchmark: what a WebSocket
// phone receives from a Kamailio-like proxy during registration and a call
// (RFC 7118 transport, GRUU, digest auth, SDP offers/answers, presence).
// Lines end with CRLF; Content-Length is computed from the body, so every
// message is valid for both parsers (the benchmark checks that each one is
// accepted).

const lines = (...l) => l.join('\r\n');

function msg(head, body = '') {
  return `${lines(...head, `Content-Length: ${Buffer.byteLength(body, 'utf8')}`)}\r\n\r\n${body}`;
}

const VIA_PROXY = 'Via: SIP/2.0/WSS 127.0.0.1:8088;branch=z9hG4bKd6b3.5e4c1a07f2b3c8e1d9a0b4f6c2e7d3a1.0;i=3f';
const VIA_PHONE = 'Via: SIP/2.0/WSS df7jal23ls0d.invalid;rport=40312;received=127.0.0.1;branch=z9hG4bK776asdhds';
const OFFER = lines(
  'v=0',
  'o=- 4611731400430051336 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0',
  'a=extmap-allow-mixed',
  'a=msid-semantic: WMS 9d2c5e4a-6f7b-4c1d-8e3a-2b9f0c7d6e5a',
  'm=audio 41532 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126',
  'c=IN IP4 127.0.0.1',
  'a=rtcp:9 IN IP4 0.0.0.0',
  'a=candidate:1467250027 1 udp 2122260223 127.0.0.1 41532 typ host generation 0 network-id 1',
  'a=candidate:3355351182 1 tcp 1518280447 127.0.0.1 9 typ host tcptype active generation 0 network-id 1',
  'a=ice-ufrag:Qx7n',
  'a=ice-pwd:0rUcPZb9JdWq0n5kS8aTqLhQ',
  'a=ice-options:trickle',
  'a=fingerprint:sha-256 7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08',
  'a=setup:actpass',
  'a=mid:0',
  'a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level',
  'a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time',
  'a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
  'a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid',
  'a=sendrecv',
  'a=msid:9d2c5e4a-6f7b-4c1d-8e3a-2b9f0c7d6e5a 1c0e2f4a-3b5d-4e6f-8a9b-0c1d2e3f4a5b',
  'a=rtcp-mux',
  'a=rtpmap:111 opus/48000/2',
  'a=rtcp-fb:111 transport-cc',
  'a=fmtp:111 minptime=10;useinbandfec=1',
  'a=rtpmap:63 red/48000/2',
  'a=fmtp:63 111/111',
  'a=rtpmap:9 G722/8000',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:13 CN/8000',
  'a=rtpmap:110 telephone-event/48000',
  'a=rtpmap:126 telephone-event/8000',
  'a=ssrc:2473934122 cname:Yc1oTn7Kq2bW9xZ3',
  'a=ssrc:2473934122 msid:9d2c5e4a-6f7b-4c1d-8e3a-2b9f0c7d6e5a 1c0e2f4a-3b5d-4e6f-8a9b-0c1d2e3f4a5b',
  '',
);
const ANSWER = OFFER.replace('a=setup:actpass', 'a=setup:active').replace('41532', '52810').replace('Qx7n', 'H3kd');
const GRUU = 'sip:1001@127.0.0.1;gr=urn:uuid:2b1d0f6e-8a7c-4e3d-9b5a-1c0f2e3d4a5b';

export const MESSAGES = [
  // 1. 401 to our REGISTER (digest challenge, SHA-256 and MD5)
  msg([
    'SIP/2.0 401 Unauthorized',
    'Via: SIP/2.0/WSS df7jal23ls0d.invalid;rport=40312;received=127.0.0.1;branch=z9hG4bK1c8f2a',
    'From: "Alice" <sip:1000@127.0.0.1>;tag=9fxced76sl',
    'To: <sip:1000@127.0.0.1>;tag=b27e1a1d33761e85846fc98f5f3a7e58.c5a1',
    'Call-ID: 7kd8w2lq0c9bq3p1x5m4n6v8',
    'CSeq: 1 REGISTER',
    'WWW-Authenticate: Digest realm="127.0.0.1", nonce="Y2FmZWJhYmUxMjM0NTY3ODkwYWJjZGVm", qop="auth", algorithm=SHA-256',
    'WWW-Authenticate: Digest realm="127.0.0.1", nonce="Y2FmZWJhYmUxMjM0NTY3ODkwYWJjZGVm", qop="auth", algorithm=MD5',
    'Server: kamailio (5.8.4 (x86_64/linux))',
  ]),
  // 2. 200 to REGISTER with GRUU, outbound and an expiry
  msg([
    'SIP/2.0 200 OK',
    'Via: SIP/2.0/WSS df7jal23ls0d.invalid;rport=40312;received=127.0.0.1;branch=z9hG4bK2d9e3b',
    'From: "Alice" <sip:1000@127.0.0.1>;tag=9fxced76sl',
    'To: <sip:1000@127.0.0.1>;tag=b27e1a1d33761e85846fc98f5f3a7e58.d3f0',
    'Call-ID: 7kd8w2lq0c9bq3p1x5m4n6v8',
    'CSeq: 2 REGISTER',
    'Contact: <sip:mk1q2w3e@df7jal23ls0d.invalid;transport=ws;ob>;expires=600;+sip.instance="<urn:uuid:0f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a>";reg-id=1;pub-gruu="sip:1000@127.0.0.1;gr=urn:uuid:0f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a";temp-gruu="sip:tgruu.7hs==jd7vnzga5w7fajsc7-ajd6fabz0f8g5@127.0.0.1;gr"',
    'Require: outbound',
    'Supported: outbound, gruu',
    'Server: kamailio (5.8.4 (x86_64/linux))',
  ]),
  // 3. INVITE with an SDP offer, through the proxy (Record-Route, two Vias)
  msg([
    'INVITE sip:mk1q2w3e@df7jal23ls0d.invalid;transport=ws SIP/2.0',
    'Record-Route: <sip:127.0.0.1:8088;transport=ws;r2=on;lr=on;ftag=4dm1ajsk2p;did=a0c.5b71>',
    'Record-Route: <sip:127.0.0.1;r2=on;lr=on;ftag=4dm1ajsk2p;did=a0c.5b71>',
    VIA_PROXY,
    'Via: SIP/2.0/WSS 8sd2kq0c1x.invalid;rport=40318;received=127.0.0.1;branch=z9hG4bK9281762',
    'Max-Forwards: 69',
    'To: <sip:1000@127.0.0.1>',
    'From: "Bob" <sip:1001@127.0.0.1>;tag=4dm1ajsk2p',
    'Call-ID: 3vq8d1lkm2h6s0a9j4f7g5z1',
    'CSeq: 8120 INVITE',
    `Contact: <${GRUU};ob>`,
    'Allow: INVITE,ACK,CANCEL,BYE,UPDATE,MESSAGE,OPTIONS,REFER,INFO,NOTIFY,SUBSCRIBE',
    'Supported: timer, gruu, ice, replaces, outbound',
    'Session-Expires: 1800;refresher=uac',
    'Min-SE: 90',
    'User-Agent: softphone/0.1.0',
    'Content-Type: application/sdp',
  ], OFFER),
  // 4. 180 Ringing
  msg([
    'SIP/2.0 180 Ringing',
    'Record-Route: <sip:127.0.0.1;r2=on;lr=on;ftag=9a8s7d6f>',
    'Record-Route: <sip:127.0.0.1:8088;transport=ws;r2=on;lr=on;ftag=9a8s7d6f>',
    VIA_PHONE,
    'To: <sip:1001@127.0.0.1>;tag=p0o9i8u7y6',
    'From: "Alice" <sip:1000@127.0.0.1>;tag=9a8s7d6f',
    'Call-ID: c8b7a6d5e4f3g2h1',
    'CSeq: 1 INVITE',
    `Contact: <${GRUU}>`,
  ]),
  // 5. 200 OK to INVITE with the SDP answer
  msg([
    'SIP/2.0 200 OK',
    'Record-Route: <sip:127.0.0.1;r2=on;lr=on;ftag=9a8s7d6f>',
    'Record-Route: <sip:127.0.0.1:8088;transport=ws;r2=on;lr=on;ftag=9a8s7d6f>',
    VIA_PHONE,
    'To: <sip:1001@127.0.0.1>;tag=p0o9i8u7y6',
    'From: "Alice" <sip:1000@127.0.0.1>;tag=9a8s7d6f',
    'Call-ID: c8b7a6d5e4f3g2h1',
    'CSeq: 1 INVITE',
    `Contact: <${GRUU}>`,
    'Allow: INVITE,ACK,CANCEL,BYE,UPDATE,MESSAGE,OPTIONS,REFER,INFO,NOTIFY',
    'Supported: timer, gruu, replaces',
    'Session-Expires: 1800;refresher=uac',
    'Require: timer',
    'Content-Type: application/sdp',
  ], ANSWER),
  // 6. ACK
  msg([
    'ACK sip:mk1q2w3e@df7jal23ls0d.invalid;transport=ws SIP/2.0',
    VIA_PROXY,
    'Via: SIP/2.0/WSS 8sd2kq0c1x.invalid;rport=40318;received=127.0.0.1;branch=z9hG4bK5512398',
    'Max-Forwards: 69',
    'To: <sip:1000@127.0.0.1>;tag=zx8cv7bn6m',
    'From: "Bob" <sip:1001@127.0.0.1>;tag=4dm1ajsk2p',
    'Call-ID: 3vq8d1lkm2h6s0a9j4f7g5z1',
    'CSeq: 8120 ACK',
  ]),
  // 7. BYE
  msg([
    'BYE sip:mk1q2w3e@df7jal23ls0d.invalid;transport=ws SIP/2.0',
    VIA_PROXY,
    'Via: SIP/2.0/WSS 8sd2kq0c1x.invalid;rport=40318;received=127.0.0.1;branch=z9hG4bK7744120',
    'Max-Forwards: 69',
    'To: <sip:1000@127.0.0.1>;tag=zx8cv7bn6m',
    'From: "Bob" <sip:1001@127.0.0.1>;tag=4dm1ajsk2p',
    'Call-ID: 3vq8d1lkm2h6s0a9j4f7g5z1',
    'CSeq: 8121 BYE',
    'Reason: SIP;cause=200;text="Call completed elsewhere"',
    'User-Agent: softphone/0.1.0',
  ]),
  // 8. NOTIFY of presence (PIDF)
  msg([
    'NOTIFY sip:mk1q2w3e@df7jal23ls0d.invalid;transport=ws SIP/2.0',
    'Via: SIP/2.0/WSS 127.0.0.1:8088;branch=z9hG4bK0c41.7a9f2e1b3d5c000000000000.0',
    'To: <sip:1000@127.0.0.1>;tag=hj3k4l5m6n',
    'From: <sip:1002@127.0.0.1>;tag=a6c1f1e9d1a4b3c2-7e2f',
    'CSeq: 2 NOTIFY',
    'Call-ID: q1w2e3r4t5y6u7i8',
    'Max-Forwards: 70',
    'Content-Type: application/pidf+xml',
    'Event: presence',
    'Contact: <sip:127.0.0.1:8088;transport=ws>',
    'Subscription-State: active;expires=3600',
  ], lines(
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:1002@127.0.0.1">',
    '  <tuple id="t1"><status><basic>open</basic></status><note>on the phone</note></tuple>',
    '</presence>',
    '',
  )),
  // 9. MESSAGE (instant message)
  msg([
    'MESSAGE sip:1000@127.0.0.1 SIP/2.0',
    VIA_PROXY,
    'Via: SIP/2.0/WSS 9fj3kd0s2a.invalid;rport=40330;received=127.0.0.1;branch=z9hG4bK3387001',
    'Max-Forwards: 69',
    'To: <sip:1000@127.0.0.1>',
    'From: "Carol" <sip:1002@127.0.0.1>;tag=m4n5b6v7c8',
    'Call-ID: l9k8j7h6g5f4d3s2',
    'CSeq: 1 MESSAGE',
    'Content-Type: text/plain;charset=UTF-8',
  ], 'Are you free for a call at three? Room 2.14 is booked.'),
  // 10. OPTIONS keep-alive probe from the proxy
  msg([
    'OPTIONS sip:mk1q2w3e@df7jal23ls0d.invalid;transport=ws SIP/2.0',
    'Via: SIP/2.0/WSS 127.0.0.1:8088;branch=z9hG4bK6f1c.0000000000000000000000000000000.0',
    'To: <sip:1000@127.0.0.1>',
    'From: <sip:pinger@127.0.0.1>;tag=6f1c0a',
    'CSeq: 10 OPTIONS',
    'Call-ID: 0a1b2c3d-4e5f6a7b@127.0.0.1',
    'Max-Forwards: 70',
    'Accept: application/sdp',
  ]),
  // 11. 407 to an INVITE (proxy challenge)
  msg([
    'SIP/2.0 407 Proxy Authentication Required',
    VIA_PHONE,
    'To: <sip:1001@127.0.0.1>;tag=b27e1a1d33761e85846fc98f5f3a7e58.aa01',
    'From: "Alice" <sip:1000@127.0.0.1>;tag=9a8s7d6f',
    'Call-ID: c8b7a6d5e4f3g2h1',
    'CSeq: 1 INVITE',
    'Proxy-Authenticate: Digest realm="127.0.0.1", nonce="ZGVhZGJlZWZjYWZlYmFiZTAwMTE=", qop="auth"',
    'Server: kamailio (5.8.4 (x86_64/linux))',
  ]),
  // 12. 200 OK to BYE
  msg([
    'SIP/2.0 200 OK',
    VIA_PHONE,
    'To: <sip:1001@127.0.0.1>;tag=p0o9i8u7y6',
    'From: "Alice" <sip:1000@127.0.0.1>;tag=9a8s7d6f',
    'Call-ID: c8b7a6d5e4f3g2h1',
    'CSeq: 2 BYE',
  ]),
];
