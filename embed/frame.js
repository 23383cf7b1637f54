// The iframe example: the phone (the whole app) on another origin, driven
// over postMessage. localhost and 127.0.0.1 are two origins of this computer.
import { connectFrame } from '../sip-phone.js';

const $ = (id) => document.getElementById(id);
const here = new URL(location.href);
const phoneHost = here.hostname === 'localhost' ? '127.0.0.1' : 'localhost';
// ?phone=<origin> chooses where the phone is served from (the tests use a
// second port of 127.0.0.1)
const phoneOrigin = here.searchParams.get('phone')
  || `${here.protocol}//${phoneHost}${here.port ? `:${here.port}` : ''}`;
// ?parent= tells the framed app which origin it may talk to (this page's);
// the tests set ?badparent to check that a wrong one gets nothing through
const parent = here.searchParams.has('badparent') ? 'http://example.invalid' : location.origin;
const frame = $('phone-frame');
frame.src = `${phoneOrigin}/?embed=frame&parent=${encodeURIComponent(parent)}`;

const phone = connectFrame(frame, { origin: phoneOrigin });
window.framePhone = phone; // for the tests
const log = (type, detail) => {
  const li = document.createElement('li');
  li.textContent = `${type} ${JSON.stringify(detail)}`;
  $('host-events').prepend(li);
};
for (const t of ['ready', 'registration', 'incomingcall', 'callstate', 'hold', 'error']) {
  phone.addEventListener(t, (e) => log(t, e.detail));
}
const act = (p) => p.catch((e) => log('rejected', String(e.message || e)));
$('frame-register').addEventListener('click', () => act(phone.register({
  uri: `sip:1000@${new URL(phoneOrigin).hostname}`, user: '1000', password: 'secret1000',
})));
$('frame-call').addEventListener('click', () => act(phone.call($('frame-target').value)));
$('frame-hangup').addEventListener('click', () => act(phone.hangup()));
