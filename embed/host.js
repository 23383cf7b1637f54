// The example host page's own script: it drives the embedded phone only
// through the documented API (sip-phone.d.ts) and logs its events.
const $ = (id) => document.getElementById(id);
const log = $('host-events');
const EVENTS = ['registration', 'incomingcall', 'callstate', 'hold', 'video', 'recording', 'error'];

function show(ev) {
  const li = document.createElement('li');
  li.textContent = `${ev.type} ${JSON.stringify(ev.detail)}`;
  log.prepend(li);
}

let element = $('softphone');
for (const t of EVENTS) element.addEventListener(t, show);

// a hostile stylesheet for the tests: host.html?hostile
if (new URLSearchParams(location.search).has('hostile')) {
  const link = document.createElement('link');
  link.rel = 'stylesheet';
  link.href = 'hostile.css';
  document.head.append(link);
}

const phone = () => element;
const act = (fn) => () => {
  try {
    fn();
  } catch (e) {
    show({ type: 'exception', detail: String(e.message || e) });
  }
};
$('signin').addEventListener('submit', (e) => {
  e.preventDefault();
  // a real host would fetch a token from its own backend here
  act(() => phone().register({ user: $('host-user').value, password: $('host-password').value }))();
});
$('host-unregister').addEventListener('click', act(() => phone().unregister()));
$('host-call').addEventListener('click', act(() => phone().call($('host-target').value)));
$('host-answer').addEventListener('click', act(() => phone().answer()));
$('host-hangup').addEventListener('click', act(() => phone().hangup()));
$('host-hold').addEventListener('click', act(() => phone().hold()));
$('host-resume').addEventListener('click', act(() => phone().resume()));
$('host-mute').addEventListener('click', act(() => phone().mute()));
$('host-unmute').addEventListener('click', act(() => phone().unmute()));
$('host-dtmf').addEventListener('click', act(() => phone().sendDtmf('1')));
$('host-unmount').addEventListener('click', () => {
  element.remove(); // disconnecting <sip-phone> unmounts it
  show({ type: 'host', detail: 'removed <sip-phone>' });
});
$('host-mount').addEventListener('click', () => {
  if (element.isConnected) return;
  const again = document.createElement('sip-phone');
  for (const a of element.attributes) again.setAttribute(a.name, a.value);
  for (const t of EVENTS) again.addEventListener(t, show);
  document.body.append(again);
  element = again;
});
$('host-theme').addEventListener('click', () => {
  const dark = element.getAttribute('theme') !== 'dark';
  element.setAttribute('theme', dark ? 'dark' : 'light');
  document.documentElement.classList.toggle('dark', dark);
});
