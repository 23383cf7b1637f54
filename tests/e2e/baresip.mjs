// Issue 12: a phone that is not a browser. baresip (Debian's baresip-core
// 1.0.0, its own SIP and media stack) registers as 1008 over UDP through the
// demo PBX, calls the page and is called by it, with plain RTP through the
// PBX's media gateway (rtpengine: DTLS-SRTP and ICE on the browser's side).
// Why not ICE and DTLS-SRTP end to end: baresip 1.0's ICE gathers host
// candidates only from interfaces that are not loopback ("ice: set default
// cands failed"), and the test namespace has only "lo"; its DTLS-SRTP alone
// is no use to a browser, which requires ICE. The phone that does ICE and
// DTLS-SRTP end to end with the page is linphone (linphone.mjs).
// Audio is checked both ways by a tone: baresip sends a 700 Hz sine (its
// ausine module), which the page finds in what it receives (FFT of the
// remote track); the page sends a 1100 Hz oscillator (replaceTrack on the
// call's sender), which is found in what baresip decoded (its sndfile module
// writes the decoded call audio to a WAV file).
//
//   browser-calls-baresip   the page (1000) calls 1008; baresip answers by
//                           itself (answermode=auto)
//   baresip-calls-browser   baresip dials 1000 (ctrl_tcp "dial"); the page
//                           answers
//
// baresip is driven through its ctrl_tcp module (netstring-framed JSON on
// 127.0.0.1:4444); its config is written to <artifacts>/baresip/ per run.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { ART, T, sleep, step, openPage, rpc, clearBindings } from './lib.mjs';
import {
  toneBothWays as callToneBothWays, wavTone, remoteOfPair, registerPage, pageCalls, pageIsCalled,
} from './peer.mjs';

const TRACE = 'baresip';
const BARESIP_TONE_HZ = 700;
const PAGE_TONE_HZ = 1100;
const CTRL_PORT = 4444;

function baresipConfig(dir) {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.join(dir, 'snd'), { recursive: true });
  const lines = [
    ['poll_method', 'epoll'],
    ['sip_listen', '127.0.0.1:5080'],
    // only loopback here: baresip skips "lo" by name, not by address
    ['net_interface', '127.0.0.1'],
    ['dns_server', '127.0.0.1:53'],
    ['audio_player', 'alsa,null'],
    ['audio_alert', 'alsa,null'],
    [`audio_source`, `ausine,${BARESIP_TONE_HZ}`],
    // ausine makes 48 kHz stereo only
    ['ausrc_srate', '48000'],
    ['ausrc_channels', '2'],
    ['auplay_srate', '48000'],
    ['auplay_channels', '2'],
    ['rtp_ports', '20000-20099'],
    ['rtcp_mux', 'yes'],
    ['module_path', '/usr/lib/baresip/modules'],
    ...['g711', 'opus', 'ausine', 'alsa', 'sndfile', 'ice', 'dtls_srtp', 'srtp'].map((m) => ['module', `${m}.so`]),
    ...['account', 'menu', 'ctrl_tcp'].map((m) => ['module_app', `${m}.so`]),
    ['ctrl_tcp_listen', `127.0.0.1:${CTRL_PORT}`],
    ['snd_path', path.join(dir, 'snd')],
  ];
  fs.writeFileSync(path.join(dir, 'config'), lines.map(([k, v]) => `${k}\t${v}`).join('\n') + '\n');
  fs.writeFileSync(
    path.join(dir, 'accounts'),
    '<sip:1008@127.0.0.1;transport=udp>;auth_pass=secret1008;answermode=auto;regint=600\n',
  );
  fs.writeFileSync(path.join(dir, 'contacts'), '');
}

/** Start baresip; resolves once the PBX has its binding. */
async function startBaresip(r) {
  const dir = path.join(ART, TRACE);
  baresipConfig(dir);
  const log = fs.createWriteStream(path.join(dir, 'baresip.log'));
  const child = spawn('baresip', ['-f', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  let exited = null;
  child.on('exit', (code, signal) => (exited = { code, signal }));
  const bs = {
    dir,
    child,
    stop: async () => {
      if (exited) return;
      child.kill('SIGTERM'); // baresip unregisters on the way out
      for (let i = 0; i < 30 && !exited; i++) await sleep(100);
      if (!exited) child.kill('SIGKILL');
    },
  };
  r.cleanup = bs.stop;
  await step('baresip registers as 1008', T.register, async () => {
    const end = Date.now() + T.register;
    for (;;) {
      if (exited) throw new Error(`baresip exited (${JSON.stringify(exited)}); log ${path.join(dir, 'baresip.log')}`);
      const out = await rpc('ul.lookup', 'location', '1008@127.0.0.1').catch(() => '');
      if (/Contact:/.test(out)) return;
      if (Date.now() > end) throw new Error('no binding of 1008 at the PBX');
      await sleep(200);
    }
  });
  return bs;
}

/** One ctrl_tcp command (netstring JSON); resolves to baresip's response. */
function baresipCommand(command, params) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(CTRL_PORT, '127.0.0.1');
    const body = JSON.stringify({ command, params, token: String(Date.now()) });
    let buf = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`baresip ${command}: no response`));
    }, 5000);
    sock.on('connect', () => sock.write(`${Buffer.byteLength(body)}:${body},`));
    sock.on('data', (d) => {
      buf += d;
      // netstrings: "len:json," — take the first response, skip events
      for (let m; (m = /^(\d+):/.exec(buf)); ) {
        const len = Number(m[1]);
        const start = m[0].length;
        if (buf.length < start + len + 1) break;
        const msg = JSON.parse(buf.slice(start, start + len));
        buf = buf.slice(start + len + 1);
        if (msg.response) {
          clearTimeout(timer);
          sock.end();
          resolve(msg);
          return;
        }
      }
    });
    sock.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

/**
 * What baresip heard: the newest decoded-audio WAV it wrote (sndfile:
 * dump-<peer>-dec.wav), its last second's dominant frequency and RMS.
 */
function baresipHears(dir) {
  const snd = path.join(dir, 'snd');
  const files = fs.readdirSync(snd).filter((f) => f.endsWith('-dec.wav'))
    .map((f) => ({ f, t: fs.statSync(path.join(snd, f)).mtimeMs })).sort((a, b) => a.t - b.t);
  if (!files.length) return { error: `no decoded audio in ${snd}` };
  return { file: files.at(-1).f, ...wavTone(path.join(snd, files.at(-1).f)) };
}

/** The call is up: the tone both ways (peer.mjs), and the media through the gateway. */
async function toneBothWays(P, bs, r) {
  await callToneBothWays(P, r, { peer: 'baresip', peerHz: BARESIP_TONE_HZ, pageHz: PAGE_TONE_HZ, peerHears: () => baresipHears(bs.dir) });
  // through the gateway: the page's ICE peer is rtpengine (127.0.0.1, 30000-30099)
  const [host, port] = (remoteOfPair(r.inbound.pair) || ':').split(':');
  if (host !== '127.0.0.1' || !(port >= 30000 && port <= 30099)) throw new Error(`the media does not go through the gateway: ${r.inbound.pair}`);
}

async function pageFor(browser, base, r, name) {
  await step('clear PBX bindings', 30000, () => clearBindings([1000, 1008], TRACE));
  const bs = await startBaresip(r);
  const P = await openPage(browser, base, name, 'page');
  r.pages = [P];
  await registerPage(P);
  return { P, bs };
}

async function browserCallsBaresip(browser, base, r) {
  const { P, bs } = await pageFor(browser, base, r, 'browser-calls-baresip');
  ({ answered_ms: r.answered_ms, sdp: r.answer_sdp } = await pageCalls(P, '1008', 'baresip'));
  await toneBothWays(P, bs, r);
}

async function baresipCallsBrowser(browser, base, r) {
  const { P, bs } = await pageFor(browser, base, r, 'baresip-calls-browser');
  ({ answered_ms: r.answered_ms, dial: r.dial, sdp: r.offer_sdp } = await pageIsCalled(P, 'baresip', () =>
    baresipCommand('dial', 'sip:1000@127.0.0.1'),
  ));
  await toneBothWays(P, bs, r);
}

export const BARESIP = {
  'browser-calls-baresip': browserCallsBaresip,
  'baresip-calls-browser': baresipCallsBrowser,
};
