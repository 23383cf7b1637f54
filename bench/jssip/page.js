// The JsSIP side of the benchmark (scripts/bench.sh, bench/run.mjs): one
// JsSIP UA that registers on load and calls or answers, showing its state
// in the same DOM contract as the softphone. Account from the URL hash:
//   #user=1003&auto=1&ws=ws://127.0.0.1:8088&domain=127.0.0.1
// auto=1: answer incoming calls at once (the softphone's auto-answer).
(function () {
  'use strict';
  const q = new URLSearchParams(location.hash.slice(1));
  const user = q.get('user') || '1003';
  const domain = q.get('domain') || '127.0.0.1';
  const ws = q.get('ws') || 'ws://127.0.0.1:8088';
  const auto = q.get('auto') === '1';
  const $ = (id) => document.getElementById(id);
  const phone = $('phone');
  const reg = $('reg-status');
  const audio = $('remote-audio');
  $('version').textContent = JsSIP.version;

  const setReg = (state, text) => {
    reg.setAttribute('data-state', state);
    reg.textContent = text;
  };
  const setPhone = (state) => {
    phone.setAttribute('data-phone', state);
    $('call-state').textContent = state;
    $('incoming').hidden = state !== 'incoming';
  };

  const ua = new JsSIP.UA({
    sockets: [new JsSIP.WebSocketInterface(ws)],
    uri: `sip:${user}@${domain}`,
    authorization_user: user,
    password: `secret${user}`,
    display_name: `JsSIP ${user}`,
    register: true,
  });
  ua.on('registered', () => setReg('registered', 'registered'));
  ua.on('unregistered', () => setReg('unregistered', 'not registered'));
  ua.on('registrationFailed', (e) => setReg('failed', `failed: ${e.cause}`));

  let session = null;
  const media = { mediaConstraints: { audio: true, video: false }, pcConfig: { iceServers: [] } };

  function attach(s) {
    session = s;
    s.on('progress', () => {
      if (s.direction === 'outgoing') setPhone('ringing');
    });
    s.on('accepted', () => setPhone('active'));
    s.on('confirmed', () => setPhone('active'));
    const done = () => {
      if (session === s) {
        session = null;
        setPhone('idle');
      }
    };
    s.on('ended', done);
    s.on('failed', done);
    const playRemote = () => {
      const pc = s.connection;
      if (!pc) return;
      pc.addEventListener('track', (e) => {
        if (e.streams && e.streams[0]) audio.srcObject = e.streams[0];
      });
    };
    if (s.connection) playRemote();
    else s.on('peerconnection', playRemote);
  }

  ua.on('newRTCSession', (e) => {
    const s = e.session;
    if (e.originator === 'remote') {
      if (session) {
        s.terminate({ status_code: 486 });
        return;
      }
      attach(s);
      $('incoming-from').textContent = s.remote_identity.uri.toString();
      setPhone('incoming');
      if (auto) s.answer(media);
    } else {
      attach(s);
      setPhone('calling');
    }
  });

  $('call-button').addEventListener('click', () => {
    const n = $('dial-input').value.trim();
    if (!n || session) return;
    ua.call(`sip:${n}@${domain}`, media);
  });
  $('hangup-button').addEventListener('click', () => {
    if (session) session.terminate();
  });
  window.addEventListener('pagehide', () => ua.stop());
  ua.start();
})();
