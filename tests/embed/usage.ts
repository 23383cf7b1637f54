// Type check of embed/sip-phone.d.ts (scripts/test.sh "embed types": tsc
// --strict). It uses the API as a host page would; the @ts-expect-error
// lines prove the declarations are precise (a wrong use must not compile).
import SipPhone, { mount, connectFrame } from '../../embed/sip-phone.js';
import type { Phone, CallStateDetail, SipPhoneConfig } from '../../embed/sip-phone.js';
import createAgent, { type Agent } from '../../embed/sip-agent.js';

export async function host(div: HTMLElement, frame: HTMLIFrameElement): Promise<void> {
  const config: SipPhoneConfig = {
    ws: 'wss://pbx.example:8089',
    uri: 'sip:1000@example.com',
    theme: 'dark',
    layout: 'floating',
    credentials: async () => ({ password: await (await fetch('/token')).text() }),
    audioCodecs: ['opus', 'PCMU'],
    videoCodecs: 'VP9 VP8',
    recordCalls: 'ask',
  };
  const phone: Phone = await mount(div, config);
  phone.on('callstate', (e) => {
    const d: CallStateDetail = e.detail;
    if (d.state === 'ended') console.log(d.reason, d.message);
  });
  phone.on('incomingcall', (e) => console.log(e.detail.from.uri, e.detail.from.displayName));
  phone.on('registration', (e) => console.log(e.detail.state === 'registered'));
  phone.call('1001');
  phone.sendDtmf('1#');
  // issue 16: video, screen sharing and recording, with their events
  phone.call('1001', { video: true });
  phone.videoOff();
  phone.shareScreen();
  phone.stopSharing();
  phone.record();
  phone.on('video', (e) => console.log(e.detail.call, e.detail.camera, e.detail.sharing));
  phone.on('recording', (e) => console.log(e.detail.recording ? `recording ${e.detail.id}` : 'stopped'));
  const recorded: boolean = phone.state.calls.some((c) => c.recording || c.camera || c.sharing);
  console.log(recorded);
  const calls: number = phone.state.calls.length;
  console.log(calls, SipPhone.version);
  await phone.unmount();

  const el = document.querySelector('sip-phone');
  if (el) {
    await el.ready;
    el.register({ password: 'token' });
    el.addEventListener('hold', (e) => console.log(e.detail.onHold, e.detail.by));
  }

  const remote = connectFrame(frame, { origin: 'https://phone.example' });
  await remote.ready;
  await remote.register({ uri: 'sip:1000@example.com', password: 'x' });
  await remote.stopRecording();
  await remote.videoOn();
  const st = await remote.state();
  console.log(st.registration);

  // the library build: the same commands and events, no view
  const agent: Agent = await createAgent({ ws: 'wss://pbx.example:8089', uri: 'sip:1000@example.com', password: 'x' });
  agent.on('message', (e) => console.log(e.detail.from.uri, e.detail.text));
  agent.on('messagestatus', (e) => console.log(e.detail.delivered, e.detail.reason));
  agent.message('1001', 'hello');
  agent.prepare();
  agent.call('1001', { video: true });
  agent.on('callstate', (e) => {
    const box: HTMLElement | null = agent.videoBox(e.detail.call);
    if (box && e.detail.state === 'active') document.body.append(box);
  });
  const same: Agent = await SipPhone.createAgent();
  await same.close();
  await agent.close();
  // @ts-expect-error an agent has no theme
  await createAgent({ theme: 'dark' });
  // @ts-expect-error message() needs a text
  agent.message('1001');

  // @ts-expect-error recording takes no options
  phone.record({ video: true });
  // @ts-expect-error a number is not a call target
  phone.call(1001);
  // @ts-expect-error no such theme
  await mount(div, { theme: 'pink' });
  // @ts-expect-error no such event
  phone.on('ringing', () => {});
  phone.on('callstate', (e) => {
    // @ts-expect-error state is a closed set
    if (e.detail.state === 'connected') console.log('never');
  });
}
