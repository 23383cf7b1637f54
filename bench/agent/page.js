// The library build's side of the benchmark (scripts/bench.sh,
// bench/run.mjs): one agent (sip-agent.js) that registers on load and calls
// or answers, showing its state in the same DOM contract as the softphone
// and the JsSIP page. Account from the URL hash:
//   #user=1006&auto=1&ws=ws://127.0.0.1:8088&domain=127.0.0.1
// auto=1: answer incoming calls at once (the phone's auto-answer).
import { createAgent } from './sip-agent.js';

const q = new URLSearchParams(location.hash.slice(1));
const user = q.get('user') || '1006';
const domain = q.get('domain') || '127.0.0.1';
const $ = (id) => document.getElementById(id);
const setPhone = (state) => {
  $('phone').setAttribute('data-phone', state);
  $('call-state').textContent = state;
  $('incoming').hidden = state !== 'incoming';
};

const agent = await createAgent({
  ws: q.get('ws') || 'ws://127.0.0.1:8088',
  uri: `sip:${user}@${domain}`,
  user,
  password: `secret${user}`,
  displayName: `Library ${user}`,
  autoAnswer: q.get('auto') === '1',
});
agent.on('registration', (e) => {
  $('reg-status').setAttribute('data-state', e.detail.state);
  $('reg-status').textContent = e.detail.state;
});
// #phone's data-phone as the app's: the focused call's state (answering
// counts as active), idle without a call
const PHONE = { calling: 'calling', ringing: 'ringing', incoming: 'incoming', answering: 'active', active: 'active' };
const show = (ended) => {
  const calls = agent.state.calls.filter((c) => c.call !== ended);
  const c = calls.find((x) => x.focused) || calls[calls.length - 1];
  setPhone(c ? PHONE[c.state] : 'idle');
};
agent.on('incomingcall', (e) => {
  $('incoming-from').textContent = e.detail.from.uri;
  show();
});
agent.on('callstate', (e) => show(e.detail.state === 'ended' ? e.detail.call : null));
// as a page drawing its own dialpad should: the next call's media gets
// ready while the number is typed
$('dial-input').addEventListener('input', () => agent.prepare());
$('call-button').addEventListener('click', () => agent.call($('dial-input').value.trim()));
$('hangup-button').addEventListener('click', () => agent.hangup());
