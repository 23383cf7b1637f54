#!/usr/bin/env bash
# Try the softphone in your own browser, against a local Kamailio PBX.
#   scripts/demo.sh      (Ctrl-C stops the web server and the PBX)
# 1. scripts/setup.sh (installs what is missing)
# 2. pbx/pbx.sh start in the host network namespace, so your browser reaches it
#    (Kamailio with ws:// and wss://, the media gateway: rtpengine and the
#    echo test 9196, and the TURN relay: coturn)
# 3. trunk serve on http://127.0.0.1:8080/ (builds the app, rebuilds on change)
set -euo pipefail
# shellcheck source=scripts/env.sh
source "$(dirname "$0")/env.sh"
cd "$ROOT"

bash scripts/setup.sh

# the demo PBX must be in the host namespace: a browser outside any test
# namespace has to reach ws://127.0.0.1:8088
unset PBX_NETNS
bash pbx/pbx.sh start
# trunk runs as a child (not exec) so that this trap still stops the PBX when
# trunk ends, by Ctrl-C or otherwise
trap 'bash pbx/pbx.sh stop' EXIT

cat <<'TXT'

  Softphone demo
  --------------
  App:            http://127.0.0.1:8080/   (ready once trunk prints "serving")
  Embedded:       http://127.0.0.1:8080/embed/host.html   (the phone inside another
                  web page, driven by its JavaScript API; docs/embedding.md)
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

  PBX log:        pbx/pbx.sh log      (runtime files in /tmp/softphone-pbx/)
  Stop:           Ctrl-C (stops trunk and the PBX)

TXT

trunk serve
