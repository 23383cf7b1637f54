// Serve a finished release build for the demo (scripts/demo.sh): the files
// of `--dist` as they are, never a half-built copy (nothing here rebuilds;
// change the code and run scripts/demo.sh again), and the start-up
// instructions printed last, once the server listens, so that they stay on
// the terminal.
//   node scripts/serve-demo.mjs [--dist dist] [--port 8080]
import fs from 'node:fs';
import path from 'node:path';
import { serveStatic } from '../tests/e2e/static-server.mjs';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : def;
};
const dist = path.resolve(opt('--dist', 'dist'));
const port = Number(opt('--port', '8080'));
const wasm = fs.readdirSync(dist).find((f) => /^softphone-.*\.wasm$/.test(f)); // the app's
if (!wasm) {
  console.error(`no .wasm in ${dist}: run trunk build --release first`);
  process.exit(1);
}
const size = fs.statSync(path.join(dist, wasm)).size;
const server = await serveStatic(dist, {
  port,
  log: (line) => console.error(`  (server) ${line}`),
});
const app = server.url;
console.log(`
  Softphone demo
  --------------
  App:            ${app}
  Embedded:       ${app}embed/host.html   (the phone inside another
                  web page, driven by its JavaScript API; docs/embedding.md)
  Your own UI:    ${app}embed/agent.html  (the library build, no UI of
                  its own: that page draws its buttons; sip-agent.js)
  PBX WebSocket:  ws://127.0.0.1:8088
                  wss://127.0.0.1:8443 (TLS; its certificate comes from a
                  throw-away CA made at start: trust
                  /tmp/softphone-pbx/tls/ca.pem in your browser to use it,
                  otherwise the phone says the certificate is not trusted)
  TURN relay:     turn:127.0.0.1:3478 turn1 turnsecret1   (Settings, Advanced,
                  ICE servers; tick "Only through a TURN relay" to force it)
  Users:          1000 ... 1009, password secret<user>  (e.g. 1000 / secret1000)
  SIP URI:        sip:1000@127.0.0.1   (auth user 1000, domain/realm 127.0.0.1)

  Open two tabs. In the first, sign in as 1000 (server as above, SIP address
  sip:1000@127.0.0.1, user name 1000, password secret1000); in the second as
  1001 (sip:1001@127.0.0.1, 1001, secret1001). Then call 1001 from 1000,
  answer in the second tab, hang up from either side. During a call try
  Hold, Mute and the Keypad; a third tab (1002) shows call waiting, transfer
  and the conference; Contacts shows presence, Messages sends text.
  Stop the PBX during a call (pbx/pbx.sh stop, then start): the phone
  reconnects and the call goes on.

  Echo test:      call 9196 to hear your own voice (about 0.1 s late):
                  it checks your microphone and speaker. It goes through
                  the media gateway (rtpengine), as calls to ordinary SIP
                  phones do; pbx/pbx.sh status shows whether it runs.
  (Two tabs of one browser share the microphone; allow it when asked.)

  The app is the release build (${wasm}, ${size.toLocaleString('en')} bytes), served as
  built: edit the code and run scripts/demo.sh again to see a change.
  PBX log:        pbx/pbx.sh log      (runtime files in /tmp/softphone-pbx/)
  Stop:           Ctrl-C (stops the web server and the PBX)
  serving ${app}
`);
const stop = async () => {
  await server.close();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
