// Issue 12: a phone that is not a browser, with ICE and DTLS-SRTP end to end.
// Debian's linphone-cli (linphonec 5.1, Belledonne's liblinphone: its own SIP
// stack, belle-sip, and media stack, mediastreamer2) registers as 1008 over
// UDP through the demo PBX, with ICE, DTLS-SRTP, AVPF and rtcp-mux, and the
// RFC 5768 feature tag +sip.ice in its Contact. The PBX's media gateway stays
// out of these calls (route[DIRECT_MEDIA] in pbx/kamailio.cfg): the phone's
// offer is one a browser takes as it is, and a browser calling a phone that
// registered with +sip.ice sends it its own offer. So the page's ICE peer is
// linphone itself (its RTP port, never rtpengine's 30000-30099), and the
// DTLS handshake is between the two.
//
// Audio is checked both ways by a tone: linphone plays a 600 Hz WAV into the
// call ("soundcard use files", "play"), which the page finds in what it
// receives; the page sends 1100 Hz, found in what linphone recorded
// ("record": the decoded call audio as WAV).
//
//   browser-calls-linphone   the page (1000) calls 1008; linphone answers by
//                            itself (linphonec -a)
//   linphone-calls-browser   linphone dials 1000; the page answers
//
// linphonec is driven through linphonecsh (its unix socket); its config,
// log, tone and recording are in <artifacts>/linphone/ per run.
// Two settings make it work with only "lo": [net] auto_net_state_mon=0 (it
// would take a network whose only address is 127.0.0.1 for "down" and never
// register), and a writable HOME for its call database (without it the core
// never starts).
import fs from 'node:fs';
import path from 'node:path';
import { ART, T, sleep, step, openPage, rpc, clearBindings, run } from './lib.mjs';
import {
  toneBothWays, wavTone, writeToneWav, remoteOfPair, registerPage, pageCalls, pageIsCalled,
} from './peer.mjs';

const TRACE = 'linphone';
const LINPHONE_TONE_HZ = 600;
const PAGE_TONE_HZ = 1100;
const RTP_PORT = 7078;
// liblinphone's ICE takes its host candidate from the address of the default
// route, and skips a loopback one: for this test "lo" also gets 10.99.0.1/32
// and a default route through itself with that source (still no other
// interface; removed afterwards)
const LINPHONE_IP = '10.99.0.1';
const DIR = path.join(ART, TRACE);
const HOME = path.join(DIR, 'home');

function linphoneConfig() {
  fs.rmSync(DIR, { recursive: true, force: true });
  fs.mkdirSync(path.join(HOME, '.local', 'share', 'linphone'), { recursive: true });
  writeToneWav(path.join(DIR, 'tone.wav'), LINPHONE_TONE_HZ, 60);
  const rc = {
    sip: {
      sip_port: 5082, sip_tcp_port: -1, sip_tls_port: -1, default_proxy: 0,
      media_encryption: 'dtls',
      // linphone 5.1 files a WebRTC offer (UDP/TLS/RTP/SAVPF with a
      // fingerprint, no a=crypto) under SRTP: with DTLS mandatory it finds
      // "no corresponding stream" and answers 488. Not mandatory, it still
      // answers with DTLS-SRTP (setup, fingerprint), which the test checks.
      media_encryption_mandatory: 0,
    },
    proxy_0: {
      reg_proxy: '<sip:127.0.0.1;transport=udp>', reg_identity: 'sip:1008@127.0.0.1', reg_expires: 600,
      reg_sendregister: 1, publish: 0, avpf: 1, rtp_bundle: 1,
      // RFC 5768: this phone does ICE (the PBX then sends it the browser's offer)
      contact_parameters: '+sip.ice',
    },
    auth_info_0: { username: 1008, passwd: 'secret1008', realm: '127.0.0.1', domain: '127.0.0.1' },
    net: { auto_net_state_mon: 0, firewall_policy: 3 },
    rtp: { audio_rtp_port: RTP_PORT, rtcp_mux: 1, avpf: 1, bundle: 1 },
    sound: { echocancellation: 0 },
    video: { automatically_initiate: 0, automatically_accept: 0, display: 0, capture: 0 },
  };
  const text = Object.entries(rc).map(([sec, kv]) => `[${sec}]\n${Object.entries(kv).map(([k, v]) => `${k}=${v}`).join('\n')}\n`).join('\n');
  fs.writeFileSync(path.join(DIR, 'linphonerc'), text);
}

/**
 * linphonecsh <args> (HOME = the test's); resolves to its output, throws on
 * failure. "status" answers with a non-zero exit code by design: its output
 * is all that counts there.
 */
async function lsh(...args) {
  const res = await run('linphonecsh', args, { timeout: 10000, env: { HOME } });
  const out = (res.stdout + res.stderr).trim();
  fs.appendFileSync(path.join(DIR, 'linphonecsh.log'), `$ linphonecsh ${args.join(' ')} (exit ${res.code})\n${out}\n`);
  if (res.code !== 0 && args[0] !== 'status') throw new Error(`linphonecsh ${args.join(' ')}: exit ${res.code} ${out}`);
  return out;
}

/** `ip <args>`, throws on failure. */
async function ip(...args) {
  const res = await run('ip', args, { timeout: 5000 });
  if (res.code !== 0) throw new Error(`ip ${args.join(' ')}: ${res.stderr.trim()}`);
}

/** 10.99.0.1 on "lo" and a default route through it; undone by the returned function. */
async function linphoneAddress() {
  await ip('addr', 'replace', `${LINPHONE_IP}/32`, 'dev', 'lo');
  await ip('route', 'replace', 'default', 'dev', 'lo', 'src', LINPHONE_IP);
  return async () => {
    await ip('route', 'del', 'default', 'dev', 'lo').catch(() => {});
    await ip('addr', 'del', `${LINPHONE_IP}/32`, 'dev', 'lo').catch(() => {});
  };
}

/** Start linphonec (auto-answer), registered as 1008 with files for sound. */
async function startLinphone(r) {
  linphoneConfig();
  // one linphonec per user (linphonecsh's socket is /tmp/linphonec-<uid>):
  // a leftover of an interrupted run goes first
  await lsh('exit').catch(() => {});
  const unroute = await step(`${LINPHONE_IP} on lo`, 10000, linphoneAddress);
  r.cleanup = async () => {
    await lsh('exit').catch(() => {});
    await unroute();
  };
  await step('linphonec starts', 15000, () =>
    lsh('init', '-c', path.join(DIR, 'linphonerc'), '-a', '-d', '5', '-l', path.join(DIR, 'linphonec.log')),
  );
  await step('linphone registers as 1008 (+sip.ice)', T.register, async () => {
    const end = Date.now() + T.register;
    for (;;) {
      const st = await lsh('status', 'register');
      const out = await rpc('ul.lookup', 'location', '1008@127.0.0.1').catch(() => '');
      if (/^registered/.test(st) && /Contact:/.test(out)) return;
      if (Date.now() > end) throw new Error(`linphone not registered: ${st}`);
      await sleep(200);
    }
  });
  // sound from and to WAV files: the tone it plays, what it hears
  await lsh('generic', 'soundcard use files');
  await lsh('generic', `play ${path.join(DIR, 'tone.wav')}`);
}

const recording = (name) => path.join(DIR, `${name}-heard.wav`);

async function pageFor(browser, base, r, name) {
  // the address and route it needs are for a namespace of its own only
  if (!process.env.PBX_NETNS) throw new Error('needs the test network namespace (PBX_NETNS): it adds an address to "lo"');
  await step('clear PBX bindings', 30000, () => clearBindings([1000, 1008], TRACE));
  await startLinphone(r);
  await lsh('generic', `record ${recording(name)}`);
  const P = await openPage(browser, base, name, 'page');
  r.pages = [P];
  await registerPage(P);
  return P;
}

/** The call is up: tone both ways, and the media end to end (ICE peer = linphone, DTLS with it). */
async function checkCall(P, name, r, sdp) {
  r.sdp = sdp;
  if (r.sdp.profile !== 'UDP/TLS/RTP/SAVPF' || !r.sdp.ice || !r.sdp.fingerprint || !r.sdp.rtcp_mux) {
    throw new Error(`linphone's SDP is not ICE + DTLS-SRTP + rtcp-mux: ${JSON.stringify(r.sdp)}`);
  }
  // the page shows "active" on the 200/ACK; ICE and DTLS follow
  const t0 = Date.now();
  r.dtls = await step('DTLS-SRTP with linphone', T.media, async () => {
    let t = null;
    while (Date.now() - t0 < T.media) {
      t = await P.page.evaluate(async () => {
        const pc = window.__pcs().at(-1);
        let t = null;
        (await pc.getStats()).forEach((v) => {
          if (v.type === 'transport') t = { dtlsState: v.dtlsState, dtlsRole: v.dtlsRole, srtpCipher: v.srtpCipher, iceState: v.iceState };
        });
        return t;
      });
      if (t?.dtlsState === 'connected') return { ...t, ms: Date.now() - t0 };
      await sleep(100);
    }
    throw new Error(`DTLS with linphone: ${JSON.stringify(t)}`);
  });
  await toneBothWays(P, r, { peer: 'linphone', peerHz: LINPHONE_TONE_HZ, pageHz: PAGE_TONE_HZ, peerHears: () => wavTone(recording(name)) });
  // end to end: the page's ICE peer is linphone's own address and RTP port
  if (remoteOfPair(r.inbound.pair) !== `${LINPHONE_IP}:${RTP_PORT}`) {
    throw new Error(`the page's ICE peer is not linphone (${LINPHONE_IP}:${RTP_PORT}): ${r.inbound.pair}`);
  }
}

async function browserCallsLinphone(browser, base, r) {
  const name = 'browser-calls-linphone';
  const P = await pageFor(browser, base, r, name);
  const { answered_ms, sdp } = await pageCalls(P, '1008', 'linphone');
  r.answered_ms = answered_ms;
  await checkCall(P, name, r, sdp);
}

async function linphoneCallsBrowser(browser, base, r) {
  const name = 'linphone-calls-browser';
  const P = await pageFor(browser, base, r, name);
  const { answered_ms, dial, sdp } = await pageIsCalled(P, 'linphone', () => lsh('dial', 'sip:1000@127.0.0.1'));
  Object.assign(r, { answered_ms, dial });
  await checkCall(P, name, r, sdp);
}

export const LINPHONE = {
  'browser-calls-linphone': browserCallsLinphone,
  'linphone-calls-browser': linphoneCallsBrowser,
};
