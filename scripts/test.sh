#!/usr/bin/env bash
# Run every check of the project; CI runs this through .ci/run.
#
#   setup                 scripts/setup.sh (installs what is missing)
#   fmt                   cargo fmt --all -- --check
#   clippy native         cargo clippy --all-targets -- -D warnings
#   clippy wasm32         cargo clippy --target wasm32-unknown-unknown -- -D warnings
#   clippy wasm32 agent   the same for the library build (--no-default-features)
#   test native           cargo test
#   test scripts          node --test tests/scripts/ (the build's scripts)
#   trunk build           trunk build --release  (-> dist/, with the library
#                         build by scripts/agent-hook.mjs; short import names
#                         and minified JS and CSS; prints the sizes)
#   pbx start             Kamailio (and the media gateway: rtpengine, echo test)
#                         in network namespace $E2E_NETNS (only "lo")
#   pbx register          sipp registrations (200 / 401 / 403) in that namespace
#   e2e <scenario>        tests/e2e/call.mjs in that namespace (Chromium; the
#                         "e2e firefox" steps: Firefox ESR through WebDriver
#                         BiDi, --browser firefox): one step per
#                         scenario, in several runs (own time limit and results
#                         file each): call wrong-password server-down |
#                         hostile-peer | load-100 | security | the issue 5
#                         desk-phone features (e2e-features) | the embeddable
#                         phone (e2e-embed) | pbx-restart ws-kill | the media
#                         gateway (e2e-gateway: echo-test echo-pcmu echo-video sipp-caller
#                         browser-direct) | issue 12 (e2e-outside: both
#                         browsers in one call, wss://, TURN, no WebRTC,
#                         baresip, linphone) | a two-node PBX cluster with a failover
#                         during a call (e2e-cluster) | the Firefox groups
#                         (e2e-firefox, e2e-firefox-reconnect, and
#                         e2e-firefox-headed: screen sharing in a headed
#                         Firefox on a virtual display, scripts/headed.sh;
#                         e2e-firefox-audio: recording, with a null sound
#                         output, scripts/pulse.sh)
#   embed types           tsc --strict of tests/embed/usage.ts against
#                         embed/sip-phone.d.ts
#
# Every step has a time limit. Logs, screenshots and results go to
# tests/artifacts/ (steps/<step>.log, e2e PNGs/JSON/logs, kamailio.log).
# The last line is "N passed, N failed"; the exit status is 1 if any failed.
set -euo pipefail
# shellcheck source=scripts/env.sh
source "$(dirname "$0")/env.sh"
cd "$ROOT"

ART="$ROOT/tests/artifacts"
rm -rf "$ART"
mkdir -p "$ART/steps"
export CARGO_TERM_COLOR=never

passed=0
failed=0
failed_names=()
LAST_RC=0   # exit status of the last step()

# step NAME LIMIT_SECONDS CMD...: run CMD with a time limit, output to
# $ART/steps/NAME.log; one line per step, the log's end when it fails
step() {
  local name=$1 limit=$2; shift 2
  local log="$ART/steps/${name// /-}.log" t0 t1 rc=0
  t0=$(date +%s.%N)
  timeout --kill-after=10 "$limit" "$@" >"$log" 2>&1 </dev/null || rc=$?
  LAST_RC=$rc
  t1=$(date +%s.%N)
  local secs
  secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
  if [ "$rc" -eq 0 ]; then
    passed=$((passed + 1))
    printf 'ok     %-22s %6ss\n' "$name" "$secs"
  else
    failed=$((failed + 1))
    failed_names+=("$name")
    [ "$rc" -eq 124 ] && echo "(time limit of ${limit}s reached)" >>"$log"
    printf 'FAIL   %-22s %6ss  (exit %s, log tests/artifacts/steps/%s)\n' "$name" "$secs" "$rc" "$(basename "$log")"
    tail -n 40 "$log" | sed 's/^/    | /'
  fi
  return 0
}

# record NAME OK|FAIL SECONDS [NOTE]: a step whose result is known already
record() {
  if [ "$2" = OK ]; then
    passed=$((passed + 1))
    printf 'ok     %-22s %6ss\n' "$1" "$3"
  else
    failed=$((failed + 1))
    failed_names+=("$1")
    printf 'FAIL   %-22s %6ss  %s\n' "$1" "$3" "${4:-}"
  fi
}

# ---------- build and unit checks ----------
step "setup" 3600 bash scripts/setup.sh
step "fmt" 300 cargo fmt --all -- --check
step "clippy native" 1800 cargo clippy --all-targets -- -D warnings
step "clippy wasm32" 1800 cargo clippy --target wasm32-unknown-unknown -- -D warnings
# the library build (no Leptos): --no-default-features
step "clippy wasm32 agent" 1800 cargo clippy --target wasm32-unknown-unknown --no-default-features \
  --bin softphone-agent -- -D warnings
step "test native" 1800 cargo test
# the build's own scripts (scripts/shrink.mjs: short import names, minifier)
step "test scripts" 120 node --test tests/scripts/
rm -rf dist
step "trunk build" 1800 trunk build --release

shopt -s nullglob
wasm=(dist/softphone-*_bg.wasm)
shopt -u nullglob
for w in "${wasm[@]}"; do
  raw=$(stat -c %s "$w")
  gz=$(gzip -9 -c "$w" | wc -c)
  awk -v f="$(basename "$w")" -v r="$raw" -v g="$gz" 'BEGIN {
    printf "       %-22s raw %d bytes (%.1f KiB), gzip -9 %d bytes (%.1f KiB)\n", f, r, r / 1024, g, g / 1024 }'
  echo "{\"file\":\"$w\",\"raw_bytes\":$raw,\"gzip9_bytes\":$gz}" >"$ART/wasm-size.json"
done
# sizes of a set of files: name, json file, files; raw and gzip -9 summed
bundle_size() {
  local name=$1 json=$2 raw gz=0 f list=""
  shift 2
  raw=$(cat "$@" | wc -c)
  for f in "$@"; do
    gz=$((gz + $(gzip -9 -c "$f" | wc -c)))
    list="$list${list:+,}\"$f\""
  done
  awk -v n="$name" -v r="$raw" -v g="$gz" 'BEGIN {
    printf "       %-22s raw %d bytes (%.1f KiB), gzip -9 %d bytes (%.1f KiB)\n", n, r, r / 1024, g, g / 1024 }'
  echo "{\"files\":[$list],\"raw_bytes\":$raw,\"gzip9_bytes\":$gz}" >"$ART/$json"
}
# the embeddable bundle (docs/embedding.md): sip-phone.js and the modules it
# imports + the app's JS + wasm
if [ -f dist/sip-phone.js ] && [ "${#wasm[@]}" -eq 1 ]; then
  app_js=$(ls dist/softphone-*.js | grep -v loader | head -1)
  bundle_size "embed bundle" embed-size.json dist/sip-phone.js dist/sip-agent.js dist/early-socket.js \
    "$app_js" "${wasm[0]}"
fi
# the library build (issue 15, sip-agent.js): the loader and early-socket.js
# + its JS + wasm
shopt -s nullglob
agent=(dist/sip-agent.js dist/early-socket.js dist/sip-agent-core-*.js dist/sip-agent-core-*_bg.wasm)
shopt -u nullglob
if [ "${#agent[@]}" -eq 4 ] && [ -f dist/sip-agent.js ] && [ -f dist/early-socket.js ]; then
  bundle_size "library build" agent-size.json "${agent[@]}"
fi
# the TypeScript declarations of the embedding API, checked against a use
step "embed types" 300 tests/e2e/node_modules/.bin/tsc -p tests/embed/tsconfig.json

# ---------- end to end, in a network namespace with only "lo" ----------
export PBX_NETNS="$E2E_NETNS"
NS_EXEC=(ip netns exec "$PBX_NETNS")
PBX_RUN_DIR="/tmp/softphone-pbx/netns-$PBX_NETNS"
if ! ip netns list | awk '{print $1}' | grep -qx "$PBX_NETNS" \
   && ! { ip netns add "$PBX_NETNS" && ip netns del "$PBX_NETNS"; } 2>/dev/null; then
  # no namespaces here (not root, or no CAP_SYS_ADMIN): host namespace, still loopback
  echo "WARNING: cannot create network namespaces; the e2e tests run in the host namespace"
  unset PBX_NETNS
  NS_EXEC=()
  PBX_RUN_DIR=/tmp/softphone-pbx
fi
cleanup() {
  PBX_NODE=2 bash pbx/pbx.sh stop >/dev/null 2>&1 || true
  bash pbx/pbx.sh stop >/dev/null 2>&1 || true
  cp "$PBX_RUN_DIR/kamailio.log" "$ART/kamailio.log" 2>/dev/null || true
  # node 2 of the cluster scenario (pbx.sh PBX_NODE=2)
  cp "$PBX_RUN_DIR/node2/kamailio.log" "$ART/kamailio-node2.log" 2>/dev/null || true
  # the media gateway's logs (pbx/gateway.sh)
  cp "$PBX_RUN_DIR/rtpengine.log" "$PBX_RUN_DIR/echo-uas-messages.log" "$ART/" 2>/dev/null || true
  [ -z "${PBX_NETNS:-}" ] || bash pbx/pbx.sh netns-down >/dev/null 2>&1 || true
}
trap cleanup EXIT
# leftovers of an interrupted run
PBX_NODE=2 bash pbx/pbx.sh stop >/dev/null 2>&1 || true
bash pbx/pbx.sh stop >/dev/null 2>&1 || true

step "pbx start" 60 bash pbx/pbx.sh start
pbx_ok=0
[ "$LAST_RC" -ne 0 ] || pbx_ok=1
if [ "$pbx_ok" = 1 ]; then
  step "pbx register" 90 "${NS_EXEC[@]}" env SIPP_OUT="$ART/sipp" bash pbx/sipp/check.sh
fi

# e2e_group NAME LIMIT_SECONDS SCENARIO...: one run of tests/e2e/call.mjs
# (--only those scenarios) in the namespace, results in
# $ART/<NAME>-results.json, log $ART/steps/<NAME>.log; one step per scenario.
# The figures of the group are printed under its steps.
e2e_group() {
  local group=$1 limit=$2; shift 2
  local scenarios=("$@") results="$group-results.json" log="$ART/steps/$group.log"
  local only t0 secs rc=0 s
  # E2E_LABEL (default "e2e") starts each step's name: "e2e firefox call"
  local label=${E2E_LABEL:-e2e}
  # E2E_SCRIPT (default call.mjs) and E2E_ARGS choose another scenario file
  local script=${E2E_SCRIPT:-tests/e2e/call.mjs} extra=()
  [ "$script" != tests/e2e/call.mjs ] || extra=(--results "$results")
  # shellcheck disable=SC2206  # E2E_ARGS is a list of words on purpose
  extra+=(${E2E_ARGS:-})
  # E2E_WRAP: a command the runner runs under (scripts/headed.sh: a display)
  local wrap=()
  [ -z "${E2E_WRAP:-}" ] || wrap=("$E2E_WRAP")
  only=$(IFS=,; echo "${scenarios[*]}")
  if [ "$pbx_ok" != 1 ] || [ ! -f dist/index.html ]; then
    local why="PBX not started"
    [ -f dist/index.html ] || why="no dist/index.html (trunk build failed)"
    for s in "${scenarios[@]}"; do record "$label $s" FAIL 0 "not run: $why"; done
    return 0
  fi
  # a scenario that restarts the PBX may have left it stopped, or as a
  # cluster node: the single PBX again
  if ! bash pbx/pbx.sh start >/dev/null 2>&1; then
    PBX_NODE=2 bash pbx/pbx.sh stop >/dev/null 2>&1 || true
    bash pbx/pbx.sh stop >/dev/null 2>&1 || true
    bash pbx/pbx.sh start >/dev/null 2>&1 || true
  fi
  t0=$(date +%s.%N)
  timeout --kill-after=10 "$limit" "${NS_EXEC[@]}" "${wrap[@]}" \
    node "$script" --dist dist --artifacts "$ART" --only "$only" "${extra[@]}" \
    --watchdog $(( (limit - 20) * 1000 )) >"$log" 2>&1 </dev/null || rc=$?
  secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  if [ -f "$ART/$results" ]; then
    # one step per scenario: "name ok ms error"
    local name ok ms err seen=" "
    while IFS=$'\t' read -r name ok ms err; do
      seen+="$name "
      if [ "$ok" = true ]; then
        record "$label $name" OK "$(awk -v m="$ms" 'BEGIN { printf "%.1f", m / 1000 }')"
      else
        record "$label $name" FAIL "$(awk -v m="$ms" 'BEGIN { printf "%.1f", m / 1000 }')" "$err"
      fi
    done < <(node -e '
      const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
      for (const s of r.scenarios)
        console.log([s.name, s.ok, s.ms || 0, String(s.error || "").replace(/\s+/g, " ")].join("\t"));
    ' "$ART/$results")
    # a scenario of the group missing from the results (it never ran, or
    # the results could not be read) is a failure, never silently dropped
    for s in "${scenarios[@]}"; do
      case "$seen" in
        *" $s "*) ;;
        *) record "$label $s" FAIL "$secs" "no result for it in tests/artifacts/$results" ;;
      esac
    done
    node tests/e2e/figures.mjs "$ART/$results" || true
    echo "       $group total ${secs}s (exit $rc); tests/artifacts/$results"
  else
    for s in "${scenarios[@]}"; do
      record "$label $s" FAIL "$secs" "no results (exit $rc); log tests/artifacts/steps/$group.log"
    done
    tail -n 40 "$log" | sed 's/^/    | /'
  fi
}

e2e_group e2e 520 call wrong-password server-down demo-serve first-screen screens
e2e_group e2e-hostile 240 hostile-peer
e2e_group e2e-load 480 load-100
# security.mjs writes security-results.json; its panic-banner scenario needs
# a debug build (the test export does not exist in release builds)
if [ -f dist/index.html ]; then
  step "trunk build debug" 1800 trunk build --dist target/dist-debug
fi
E2E_SCRIPT=tests/e2e/security.mjs E2E_ARGS="--debug-dist target/dist-debug" \
  e2e_group security 300 csp xss password-log insecure-ws panic-banner deep-storage
# desk-phone features of issue 5 (tests/e2e/features.mjs)
e2e_group e2e-features 460 hold-resume mute dtmf-info dtmf-rfc4733 dtmf-fast blind-transfer \
  attended-transfer call-waiting conference auto-answer dnd history messages presence \
  voicemail title-notification keyboard-a11y codecs video-codecs video-call video-no-camera camera-choice \
  screen-share video-waiting video-transfer record record-answered-first early-media audio-devices page-close page-reload tab-close
# the embeddable phone of issue 6 (tests/e2e/embed.mjs): host pages, API,
# events, unmount without leaks, hostile CSS, iframe bridge, links
e2e_group e2e-embed 360 embed-element embed-mount embed-click-to-call embed-hostile-css agent-call \
  embed-frame protocol-handler embed-readme
# these stop and start the PBX
e2e_group e2e-reconnect 360 pbx-restart ws-kill ws-kill-video
# media gateway of issue 7 (tests/e2e/gateway.mjs): the echo test 9196 and a
# plain-RTP sipp caller through rtpengine; browser<->browser stays direct
E2E_SCRIPT=tests/e2e/gateway.mjs e2e_group e2e-gateway 220 echo-test echo-pcmu echo-video sipp-caller browser-direct
# issue 12 (tests/e2e/outside.mjs, baresip.mjs, linphone.mjs): Chromium <->
# Firefox, wss:// with a local CA, TURN relay only (UDP, TCP, wrong
# password), a browser without WebRTC, baresip (through the gateway) and
# linphone (ICE and DTLS-SRTP end to end), not browsers, calling and called
e2e_group e2e-outside 420 mixed-browsers wss-call wss-untrusted turn-udp turn-tcp \
  turn-wrong-password no-webrtc browser-calls-baresip baresip-calls-browser \
  browser-calls-linphone linphone-calls-browser
# issue 12 item 7 (tests/e2e/cluster.mjs): the PBX as two Kamailio nodes
# sharing registrations (DMQ); node 1 killed during a call, the phone fails
# over to node 2 and keeps the call; new calls routed by either node
e2e_group e2e-cluster 180 cluster-failover
# the same phone in Firefox ESR (WebDriver BiDi, tests/e2e/firefox.mjs): the
# groups where browsers differ
E2E_LABEL="e2e firefox" E2E_ARGS="--browser firefox" e2e_group e2e-firefox 660 \
  call wrong-password server-down first-screen screens hold-resume mute dtmf-info dtmf-rfc4733 dtmf-fast codecs video-codecs video-call video-no-camera video-transfer call-waiting auto-answer \
  blind-transfer page-close page-reload tab-close embed-mount agent-call mixed-browsers wss-untrusted \
  turn-udp turn-tcp turn-wrong-password no-webrtc baresip-calls-browser \
  browser-calls-linphone linphone-calls-browser
E2E_LABEL="e2e firefox" E2E_ARGS="--browser firefox" e2e_group e2e-firefox-reconnect 300 \
  pbx-restart ws-kill
# headless Firefox cannot capture a screen: screen sharing in a headed
# Firefox on a virtual 1920x1080 display (scripts/headed.sh, Debian xvfb)
E2E_LABEL="e2e firefox headed" E2E_ARGS="--browser firefox --headed" E2E_WRAP=scripts/headed.sh \
  e2e_group e2e-firefox-headed 120 screen-share
# Firefox runs Web Audio only with an audio output: recording (which mixes
# both sides with it) with a private PulseAudio null sink (scripts/pulse.sh)
E2E_LABEL="e2e firefox" E2E_ARGS="--browser firefox" E2E_WRAP=scripts/pulse.sh \
  e2e_group e2e-firefox-audio 120 record

echo
[ "$failed" -eq 0 ] || echo "failed: ${failed_names[*]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
