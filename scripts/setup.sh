#!/usr/bin/env bash
# Install everything the project needs to build, demo and test (idempotent).
# Checks what is there first: a second run is fast and prints nothing.
#
#   Debian packages  kamailio (+ websocket, extra, utils, presence modules),
#                    sip-tester (sipp), rtpengine-daemon (the demo PBX's media
#                    gateway; pbx/gateway.sh runs the binary itself, the
#                    package's service is never used), coturn (the TURN
#                    relay; pbx/turn.sh runs turnserver itself), baresip-core
#                    and linphone-cli (SIP phones that are not browsers), the tls
#                    modules and openssl (wss://), chromium, firefox-esr,
#                    libnss3-tools (certutil: the browsers trust the test
#                    CA), xvfb and xauth (a virtual display for the one
#                    headed browser: Firefox's screen capture), pulseaudio
#                    (a null sound output for Firefox's Web Audio:
#                    scripts/pulse.sh), iproute2, procps, nodejs/npm (apt-get update only
#                    when something is missing)
#   Rust             the toolchain named in rust-toolchain.toml with the
#                    wasm32-unknown-unknown target, rustfmt and clippy
#   cargo install    trunk 0.21.14 (0.22 needs a newer rustc),
#                    wasm-bindgen-cli 0.2.130 (= the wasm-bindgen crate)
#   .tools/          wasm-opt from npm binaryen@132.0.0 (never Debian's binaryen),
#                    esbuild from npm (minifies the release build's JS and CSS)
#   tests/e2e/       playwright-core (npm ci, exact versions from package-lock.json);
#                    it drives /usr/bin/chromium: no browser is downloaded
#
# Verbose installer output goes to /tmp/softphone-setup/*.log.
set -euo pipefail
# shellcheck source=scripts/env.sh
source "$(dirname "$0")/env.sh"
cd "$ROOT"

LOG_DIR=/tmp/softphone-setup
mkdir -p "$LOG_DIR"

# quietly NAME CMD...: run CMD with its output in $LOG_DIR/NAME.log; show the
# end of that log if it fails
quietly() {
  local name=$1; shift
  if ! "$@" >"$LOG_DIR/$name.log" 2>&1; then
    tail -n 40 "$LOG_DIR/$name.log" >&2
    echo "setup: FAILED: $* (full log $LOG_DIR/$name.log)" >&2
    exit 1
  fi
}

# ---------- Debian packages ----------
PKGS=(kamailio kamailio-websocket-modules kamailio-extra-modules kamailio-utils-modules
      kamailio-presence-modules kamailio-tls-modules sip-tester rtpengine-daemon coturn baresip-core
      linphone-cli chromium firefox-esr openssl libnss3-tools xvfb xauth pulseaudio iproute2 procps util-linux gzip)
command -v node >/dev/null && command -v npm >/dev/null || PKGS+=(nodejs npm)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: apt-get install ${missing[*]}"
  quietly apt-update timeout 600 apt-get update
  # policy-rc.d in containers keeps the Debian kamailio and rtpengine
  # services from starting; they are never used (pbx/pbx.sh runs its own
  # instances, on loopback)
  quietly apt-install env DEBIAN_FRONTEND=noninteractive timeout 1200 \
    apt-get install -y --no-install-recommends "${missing[@]}"
  # where services do start (a machine with systemd and no policy-rc.d), the
  # package's rtpengine would take udp 22222 and listen on every interface:
  # stop it and keep it from starting at boot
  if [[ " ${missing[*]} " == *" rtpengine-daemon "* ]] && command -v systemctl >/dev/null \
     && [ -d /run/systemd/system ]; then
    systemctl disable --now rtpengine-daemon.service >/dev/null 2>&1 || true
  fi
  # the same for coturn's service (it would take port 3478 on every interface)
  if [[ " ${missing[*]} " == *" coturn "* ]] && command -v systemctl >/dev/null \
     && [ -d /run/systemd/system ]; then
    systemctl disable --now coturn.service >/dev/null 2>&1 || true
  fi
fi

# ---------- Rust toolchain + wasm32 target ----------
command -v rustup >/dev/null || { echo "setup: rustup is required (https://rustup.rs)" >&2; exit 1; }
CHANNEL="$(sed -n 's/^channel *= *"\(.*\)"/\1/p' rust-toolchain.toml)"
if ! rustup toolchain list | grep -q "^$CHANNEL"; then
  echo "setup: rustup toolchain install $CHANNEL"
  quietly rustup-toolchain timeout 1200 rustup toolchain install "$CHANNEL" --profile minimal \
    -c rustfmt -c clippy -t wasm32-unknown-unknown
fi
if ! rustup target list --installed --toolchain "$CHANNEL" | grep -qx wasm32-unknown-unknown; then
  echo "setup: rustup target add wasm32-unknown-unknown"
  quietly rustup-target timeout 600 rustup target add --toolchain "$CHANNEL" wasm32-unknown-unknown
fi
for c in rustfmt clippy; do
  if ! rustup component list --installed --toolchain "$CHANNEL" | grep -q "^$c"; then
    echo "setup: rustup component add $c"
    quietly "rustup-$c" timeout 600 rustup component add --toolchain "$CHANNEL" "$c"
  fi
done

# ---------- trunk, wasm-bindgen-cli ----------
# version_ok CMD WANT: "CMD --version" prints WANT as its last word
version_ok() { command -v "$1" >/dev/null && [ "$("$1" --version 2>/dev/null | awk 'NR==1{print $NF}')" = "$2" ]; }
if ! version_ok trunk "$TRUNK_VERSION"; then
  echo "setup: cargo install trunk@$TRUNK_VERSION (several minutes)"
  quietly cargo-trunk timeout 3600 cargo install --locked "trunk@$TRUNK_VERSION"
fi
if ! version_ok wasm-bindgen "$WASM_BINDGEN_VERSION"; then
  echo "setup: cargo install wasm-bindgen-cli@$WASM_BINDGEN_VERSION"
  # without --locked (the way this version was verified to install here)
  quietly cargo-wasm-bindgen timeout 3600 cargo install --force "wasm-bindgen-cli@$WASM_BINDGEN_VERSION"
fi

# ---------- wasm-opt (npm binaryen) in .tools/ ----------
BINARYEN_MAJOR="${BINARYEN_VERSION%%.*}"
if ! "$ROOT/.tools/node_modules/.bin/wasm-opt" --version 2>/dev/null | grep -q "version $BINARYEN_MAJOR\b"; then
  echo "setup: npm install binaryen@$BINARYEN_VERSION into .tools/"
  mkdir -p .tools
  [ -f .tools/package.json ] || echo '{ "private": true }' >.tools/package.json
  quietly npm-binaryen timeout 600 npm install --prefix .tools --no-audit --no-fund \
    --save-exact "binaryen@$BINARYEN_VERSION"
fi

# ---------- esbuild (npm) in .tools/: minifies the release build ----------
if [ "$(node -p "require('$ROOT/.tools/node_modules/esbuild/package.json').version" 2>/dev/null)" != "$ESBUILD_VERSION" ]; then
  echo "setup: npm install esbuild@$ESBUILD_VERSION into .tools/"
  mkdir -p .tools
  [ -f .tools/package.json ] || echo '{ "private": true }' >.tools/package.json
  quietly npm-esbuild timeout 600 npm install --prefix .tools --no-audit --no-fund \
    --save-exact "esbuild@$ESBUILD_VERSION"
fi

# ---------- e2e node packages (exact versions from package-lock.json) ----------
E2E=tests/e2e
STAMP="$E2E/node_modules/.softphone-lock.sha256"
LOCK_SUM="$(sha256sum "$E2E/package-lock.json" | awk '{print $1}')"
if [ "$(cat "$STAMP" 2>/dev/null)" != "$LOCK_SUM" ]; then
  echo "setup: npm ci in $E2E"
  # playwright-core never downloads a browser; the tests use /usr/bin/chromium
  quietly npm-e2e env PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 timeout 600 \
    npm ci --prefix "$E2E" --no-audit --no-fund
  echo "$LOCK_SUM" >"$STAMP"
fi
