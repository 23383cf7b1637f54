#!/usr/bin/env bash
# Registration checks against the running PBX with sipp (Debian sip-tester):
#   1. 1002 / secret1002          -> 401 challenge, then 200
#   2. 1002 / wrong password      -> 401 challenge, then 401 again (refused)
#   3. 1099 (unknown user)        -> 401 challenge, then 403
# Run it in the PBX's namespace when the PBX runs in one:
#   ip netns exec softphone-e2e pbx/sipp/check.sh
# Env: SIPP_OUT=<dir> keeps the message traces there (default: a temp dir).
# Prints one line per check; exit 1 if any check failed.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="${SIPP_OUT:-}"
if [ -z "$OUT" ]; then
  OUT="$(mktemp -d)"
  trap 'rm -rf "$OUT"' EXIT
fi
mkdir -p "$OUT"
failed=0

# run_sipp NAME SCENARIO USER PASSWORD: message trace in $OUT/NAME.msg
run_sipp() {
  local name=$1 sf=$2 user=$3 pw=$4
  # one REGISTER transaction; sipp's own timeout (10 s) and a hard one (20 s)
  timeout 20 sipp 127.0.0.1:5060 -sf "$HERE/$sf" -i 127.0.0.1 -p 0 -m 1 \
    -s "$user" -au "$user" -ap "$pw" -nostdin -timeout 10s -timeout_error \
    -trace_msg -message_file "$OUT/$name.msg" \
    -trace_err -error_file "$OUT/$name.err" >"$OUT/$name.out" 2>&1
}

# final status codes seen in a trace, in order, e.g. "401 200"
codes() { grep -o '^SIP/2.0 [0-9]*' "$OUT/$1.msg" | awk '{print $2}' | tr '\n' ' ' | sed 's/ $//'; }

check() {
  local name=$1 want=$2 sf=$3 user=$4 pw=$5 got
  if run_sipp "$name" "$sf" "$user" "$pw"; then got="$(codes "$name")"; else got="sipp failed: $(codes "$name" 2>/dev/null || true)"; fi
  if [ "$got" = "$want" ]; then
    echo "ok   $name: $user -> $got"
  else
    echo "FAIL $name: $user -> got '$got', want '$want' (trace $OUT/$name.msg)"
    failed=1
  fi
}

check register-ok        "401 200" register.xml         1002 secret1002
check register-wrong-pw  "401 401" register-refused.xml 1002 not-the-password
check register-unknown   "401 403" register-refused.xml 1099 secret1099
exit "$failed"
