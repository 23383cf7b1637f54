#!/usr/bin/env bash
# Try the softphone in your own browser, against a local Kamailio PBX.
#   scripts/demo.sh      (Ctrl-C stops the web server and the PBX)
# 1. scripts/setup.sh (installs what is missing)
# 2. pbx/pbx.sh start in the host network namespace, so your browser reaches it
#    (Kamailio with ws:// and wss://, the media gateway: rtpengine and the
#    echo test 9196, and the TURN relay: coturn)
# 3. trunk build --release, then scripts/serve-demo.mjs serves dist/ on
#    http://127.0.0.1:8080/ as built (no rebuild while it runs) and prints the
#    instructions last
set -euo pipefail
# shellcheck source=scripts/env.sh
source "$(dirname "$0")/env.sh"
cd "$ROOT"

bash scripts/setup.sh

# the demo PBX must be in the host namespace: a browser outside any test
# namespace has to reach ws://127.0.0.1:8088
unset PBX_NETNS
bash pbx/pbx.sh start
# the server runs as a child (not exec) so that this trap still stops the
# PBX when it ends, by Ctrl-C or otherwise
trap 'bash pbx/pbx.sh stop' EXIT

# the release build, then that build served as it is: a page never meets a
# half-built app (trunk serve rebuilt on every file change, and its files
# were missing during a rebuild), and the instructions come last
echo "building the app (trunk build --release)..."
trunk build --release
node scripts/serve-demo.mjs --dist dist --port 8080
