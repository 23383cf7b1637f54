#!/usr/bin/env bash
# Benchmark: this phone and its library build next to JsSIP, in the same
# headless Chromium, against
# the same local Kamailio (docs/benchmarks.md). Not part of scripts/test.sh:
# it passes or fails on nothing, it measures.
#
#   scripts/bench.sh [options of bench/run.mjs, e.g. --rounds 3 --calls 20]
#   (defaults here: --calls 200 --trim-probe: the memory loop runs 200 calls so
#   that the last 100 are measured with the call history full, and without the
#   probe's own records; options given first win)
#
# 1. scripts/setup.sh (what is missing), fonts-dejavu-core for the chart
# 2. trunk build --release (-> dist/)          BENCH_SKIP_BUILD=1 skips it
# 3. JsSIP from the npm registry into target/bench-jssip/ (npm ci, versions
#    pinned in bench/jssip/package-lock.json; never committed), bundled by
#    esbuild: jssip.min.js (the library, as its own dist build would be) and
#    parser.js (its message parser, for the parse benchmark)
# 3b. the library build's page: bench/agent/ with dist/sip-agent*.js and
#    its wasm, in target/bench-agent/www
# 4. the chart tool bench/chart/ (cargo, CARGO_TARGET_DIR=target/bench-chart)
# 5. Kamailio in network namespace $BENCH_NETNS (only "lo"), bench/run.mjs in
#    it: table on stdout, docs/bench/latest.json; then docs/bench/latest.png
# 6. the PBX stopped, the namespace deleted
#
# Env: BENCH_NETNS (default softphone-bench), BENCH_OUT (default
# docs/bench/latest.json; the PNG goes next to it), BENCH_LIMIT (seconds for
# the runner, default 1500).
set -euo pipefail
# shellcheck source=scripts/env.sh
source "$(dirname "$0")/env.sh"
cd "$ROOT"

NETNS="${BENCH_NETNS:-softphone-bench}"
OUT="${BENCH_OUT:-docs/bench/latest.json}"
PNG="${OUT%.json}.png"
LIMIT="${BENCH_LIMIT:-1500}"
JS_DIR="$ROOT/target/bench-jssip"
FONT=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
LOG_DIR=/tmp/softphone-bench
mkdir -p "$LOG_DIR"

say() { echo "bench: $*" >&2; }
# quietly NAME LIMIT CMD...: output to $LOG_DIR/NAME.log, its end shown on failure
quietly() {
  local name=$1 limit=$2; shift 2
  if ! timeout --kill-after=10 "$limit" "$@" >"$LOG_DIR/$name.log" 2>&1 </dev/null; then
    tail -n 30 "$LOG_DIR/$name.log" >&2
    say "FAILED: $* (log $LOG_DIR/$name.log)"
    exit 1
  fi
}

# ---------- 1. tools ----------
say "setup (scripts/setup.sh)"
timeout 3600 bash scripts/setup.sh
if [ ! -f "$FONT" ]; then
  say "apt-get install fonts-dejavu-core (the chart's font)"
  quietly apt-update 600 apt-get update
  quietly apt-font 600 env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends fonts-dejavu-core
fi

# ---------- 2. the app ----------
if [ "${BENCH_SKIP_BUILD:-0}" != 1 ] || [ ! -f dist/index.html ]; then
  say "trunk build --release"
  rm -rf dist
  quietly trunk 1800 nice -n 10 trunk build --release
fi

# ---------- 3. JsSIP (scratch folder, never committed) ----------
mkdir -p "$JS_DIR/www"
cp bench/jssip/package.json bench/jssip/package-lock.json "$JS_DIR/"
STAMP="$JS_DIR/node_modules/.softphone-lock.sha256"
LOCK_SUM="$(sha256sum bench/jssip/package-lock.json | awk '{print $1}')"
if [ "$(cat "$STAMP" 2>/dev/null)" != "$LOCK_SUM" ]; then
  say "npm ci in target/bench-jssip (jssip, esbuild)"
  quietly npm-jssip 600 npm ci --prefix "$JS_DIR" --no-audit --no-fund
  echo "$LOCK_SUM" >"$STAMP"
fi
ESBUILD="$JS_DIR/node_modules/.bin/esbuild"
ES_OPTS=(--bundle --minify --format=iife --platform=browser --target=es2019 --log-level=warning)
quietly esbuild-jssip 120 "$ESBUILD" "$JS_DIR/node_modules/jssip/lib/JsSIP.js" "${ES_OPTS[@]}" \
  --global-name=JsSIP --outfile="$JS_DIR/www/jssip.min.js"
quietly esbuild-parser 120 env NODE_PATH="$JS_DIR/node_modules" "$ESBUILD" bench/jssip/parser-entry.js \
  "${ES_OPTS[@]}" --outfile="$JS_DIR/www/parser.js"
cp bench/jssip/index.html bench/jssip/page.js "$JS_DIR/www/"
node -e 'const v = require(process.argv[1]).version; console.log(JSON.stringify({ version: v }))' \
  "$JS_DIR/node_modules/jssip/package.json" >"$JS_DIR/www/version.json"

# ---------- 3b. the library build's page ----------
AGENT_DIR="$ROOT/target/bench-agent/www"
rm -rf "$AGENT_DIR"
mkdir -p "$AGENT_DIR"
cp bench/agent/index.html bench/agent/page.js dist/sip-agent.js dist/early-socket.js dist/sip-agent-core-* "$AGENT_DIR/"

# ---------- 4. the chart tool ----------
say "cargo build bench/chart"
quietly chart-build 1800 env CARGO_TARGET_DIR="$ROOT/target/bench-chart" \
  nice -n 10 cargo build --release --locked --manifest-path bench/chart/Cargo.toml
CHART="$ROOT/target/bench-chart/release/softphone-bench-chart"

# ---------- 5. PBX in its own namespace, the runner in it ----------
export PBX_NETNS="$NETNS"
NS_EXEC=(ip netns exec "$NETNS")
if ! ip netns list | awk '{print $1}' | grep -qx "$NETNS" \
   && ! { ip netns add "$NETNS" && ip netns del "$NETNS"; } 2>/dev/null; then
  say "WARNING: cannot create network namespaces; running in the host namespace (still loopback)"
  unset PBX_NETNS
  NS_EXEC=()
fi
cleanup() {
  bash pbx/pbx.sh stop >/dev/null 2>&1 || true
  [ -z "${PBX_NETNS:-}" ] || bash pbx/pbx.sh netns-down >/dev/null 2>&1 || true
}
trap cleanup EXIT
bash pbx/pbx.sh stop >/dev/null 2>&1 || true
say "PBX start"
bash pbx/pbx.sh start >&2

say "running bench/run.mjs (several minutes; progress on stderr)"
rc=0
timeout --kill-after=10 "$LIMIT" "${NS_EXEC[@]}" node bench/run.mjs --dist dist \
  --jssip "$JS_DIR/www" --agent "$AGENT_DIR" --out "$OUT" --watchdog $(( (LIMIT - 20) * 1000 )) "$@" \
  --calls 200 --trim-probe </dev/null || rc=$?
if [ "$rc" -ne 0 ]; then
  say "the runner failed (exit $rc)"
  exit "$rc"
fi
"$CHART" "$OUT" "$PNG"
say "chart: $PNG"
