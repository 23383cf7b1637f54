#!/usr/bin/env bash
# Media gateway of the demo PBX: rtpengine (browser DTLS-SRTP/ICE <-> plain
# RTP) and the echo-test answerer (a sipp UAS that sends every RTP packet
# back). pbx/pbx.sh starts and stops it together with Kamailio; it can also
# be run by hand:
#
#   pbx/gateway.sh start     start rtpengine, then the echo UAS (each only if not running)
#   pbx/gateway.sh stop      stop both (by pid file)
#   pbx/gateway.sh status    running or not (exit 0 when both run, 3 otherwise)
#
# rtpengine (Debian package rtpengine-daemon), userspace forwarding only
# (--table=-1, no kernel module), everything on 127.0.0.1:
#   control (ng protocol)  udp 127.0.0.1:22222
#   media                  udp 127.0.0.1:30000-30099
# echo test: sipp UAS on udp 127.0.0.1:5160 (Kamailio routes calls to 9196
# there), RTP echo on udp 127.0.0.1:40000 (and 40002, sipp's "video" echo)
#
# Runtime files in the PBX's run dir (/tmp/softphone-pbx, or
# /tmp/softphone-pbx/netns-<name> with PBX_NETNS=<name>): rtpengine.pid,
# rtpengine.log, echo-uas.pid, echo-uas.log, echo-uas-messages.log (SIP
# trace, at most 5 MB), echo-uas-errors.log.
#
# Env: PBX_NETNS=<name> (the namespace of the PBX, created by pbx.sh),
#      PBX_LOG_APPEND=1 (append to the logs of the previous run),
#      RTPE_LOG_LEVEL (default 5; 7 = debug)
#
# Exit status of start: 0 both running; 2 rtpengine or sipp is not installed
# (nothing started); 1 something failed to start. pbx.sh goes on with
# Kamailio in any case: browser-to-browser calls do not need the gateway.
set -euo pipefail

PBX_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
NETNS="${PBX_NETNS:-}"
RUN_DIR=/tmp/softphone-pbx${NETNS:+/netns-$NETNS}
NS=()
[ -n "$NETNS" ] && NS=(ip netns exec "$NETNS")

RTPE_PID="$RUN_DIR/rtpengine.pid"
RTPE_LOG="$RUN_DIR/rtpengine.log"
RTPE_NG_PORT=22222
RTPE_PORT_MIN=30000
RTPE_PORT_MAX=30099
ECHO_PID="$RUN_DIR/echo-uas.pid"
ECHO_LOG="$RUN_DIR/echo-uas.log"
ECHO_SIP_PORT=5160
ECHO_MEDIA_PORT=40000
ECHO_SCENARIO="$PBX_DIR/sipp/gateway/echo-uas.xml"

say() { echo "gateway: $*" >&2; }

# new_log FILE: empty it, or with PBX_LOG_APPEND=1 (as pbx.sh) mark a new start
new_log() {
  if [ "${PBX_LOG_APPEND:-0}" = 1 ]; then
    echo "===== gateway.sh start $(date -u +%FT%TZ) =====" >>"$1"
  else
    : >"$1"
  fi
}

# alive PID_FILE COMM: prints the pid and succeeds if the file names a live COMM
alive() {
  [ -s "$1" ] || return 1
  local pid
  pid="$(cat "$1")"
  kill -0 "$pid" 2>/dev/null || return 1
  [ "$(cat /proc/"$pid"/comm 2>/dev/null)" = "$2" ] || return 1
  echo "$pid"
}

udp_listening() { "${NS[@]}" ss -Hlnu "sport = :$1" | grep -q "127.0.0.1:$1"; }

# wait_up LAUNCH_PID NAME LOG PORT: the process lives and listens on udp PORT (5 s at most)
wait_up() {
  local launch=$1 name=$2 log=$3 port=$4 _
  for _ in $(seq 1 50); do
    if ! kill -0 "$launch" 2>/dev/null; then
      tail -n 20 "$log" >&2
      say "$name exited during startup (log above, $log)"
      return 1
    fi
    udp_listening "$port" && return 0
    sleep 0.1
  done
  tail -n 20 "$log" >&2
  kill "$launch" 2>/dev/null || true
  say "$name does not listen on udp 127.0.0.1:$port after 5 s (log above)"
  return 1
}

start_rtpengine() {
  local pid
  if pid="$(alive "$RTPE_PID" rtpengine)"; then
    echo "rtpengine already running (pid $pid)"
    return 0
  fi
  rm -f "$RTPE_PID"
  if udp_listening "$RTPE_NG_PORT"; then
    say "udp 127.0.0.1:$RTPE_NG_PORT is taken by something else${NETNS:+ in netns $NETNS}"
    return 1
  fi
  new_log "$RTPE_LOG"
  # --config-file=none   ignore /etc/rtpengine/rtpengine.conf (kernel table, any interface)
  # --table=-1           userspace forwarding, no xt_RTPENGINE kernel module
  # --dtls-passive       always the DTLS server towards the browser. Without it
  #     rtpengine, already on the offer, completes ICE with the browser and
  #     sends a DTLS ClientHello before the browser has the answer; after the
  #     answer Chromium's DTLS handshake stalls on most calls (no audio).
  # --delete-delay=0     a BYE ends the session at once
  # --timeout=60         a session without any media for 60 s is dropped
  # --foreground --log-stderr   no daemon, no syslog: the log file is ours
  nohup "${NS[@]}" rtpengine --config-file=none --table=-1 \
    --interface=127.0.0.1 --listen-ng="127.0.0.1:$RTPE_NG_PORT" \
    --port-min="$RTPE_PORT_MIN" --port-max="$RTPE_PORT_MAX" \
    --dtls-passive --num-threads=2 --delete-delay=0 --timeout=60 \
    --foreground --log-stderr --log-level="${RTPE_LOG_LEVEL:-5}" \
    --pidfile="$RTPE_PID" >>"$RTPE_LOG" 2>&1 </dev/null &
  local launch=$!
  wait_up "$launch" rtpengine "$RTPE_LOG" "$RTPE_NG_PORT" || return 1
  [ -s "$RTPE_PID" ] || echo "$launch" >"$RTPE_PID"
  echo "rtpengine (pid $(cat "$RTPE_PID")) ng udp:127.0.0.1:$RTPE_NG_PORT, media 127.0.0.1:$RTPE_PORT_MIN-$RTPE_PORT_MAX; log $RTPE_LOG"
}

start_echo() {
  local pid
  if pid="$(alive "$ECHO_PID" sipp)"; then
    echo "echo test already running (pid $pid)"
    return 0
  fi
  rm -f "$ECHO_PID"
  if udp_listening "$ECHO_SIP_PORT" || udp_listening "$ECHO_MEDIA_PORT"; then
    say "udp 127.0.0.1:$ECHO_SIP_PORT or :$ECHO_MEDIA_PORT is taken by something else${NETNS:+ in netns $NETNS}"
    return 1
  fi
  new_log "$ECHO_LOG"
  # a UAS without -m answers calls for as long as it runs, each one a new
  # instance of the scenario; -rtp_echo sends every packet that arrives on
  # the media port back to its sender (here: rtpengine); -aa answers INFO,
  # NOTIFY, OPTIONS and UPDATE inside a call with 200. Its status screen
  # (stdout) is of no use in the background.
  (
    cd "$RUN_DIR"
    exec nohup "${NS[@]}" sipp -sf "$ECHO_SCENARIO" -i 127.0.0.1 -p "$ECHO_SIP_PORT" \
      -mi 127.0.0.1 -mp "$ECHO_MEDIA_PORT" -rtp_echo -aa -nostdin \
      -trace_msg -message_file "$RUN_DIR/echo-uas-messages.log" \
      -trace_err -error_file "$RUN_DIR/echo-uas-errors.log" -max_log_size 5000000 \
      >/dev/null 2>>"$ECHO_LOG" </dev/null
  ) &
  local launch=$!
  wait_up "$launch" "echo test (sipp)" "$ECHO_LOG" "$ECHO_SIP_PORT" || return 1
  echo "$launch" >"$ECHO_PID"
  echo "echo test (sipp pid $launch) sip udp:127.0.0.1:$ECHO_SIP_PORT, RTP echo 127.0.0.1:$ECHO_MEDIA_PORT"
}

cmd_start() {
  local missing=()
  command -v rtpengine >/dev/null || missing+=("rtpengine (Debian package rtpengine-daemon)")
  command -v sipp >/dev/null || missing+=("sipp (Debian package sip-tester)")
  if [ ${#missing[@]} -gt 0 ]; then
    say "NOT STARTED: ${missing[*]} not installed (run scripts/setup.sh)."
    say "Calls between the browser and plain RTP phones (and the echo test 9196) will fail; browser-to-browser calls work."
    return 2
  fi
  mkdir -p "$RUN_DIR"
  start_rtpengine || return 1
  start_echo || return 1
}

# stop_pid PID_FILE COMM NAME
stop_pid() {
  local pid _
  if ! pid="$(alive "$1" "$2")"; then
    rm -f "$1"
    return 0
  fi
  kill -TERM "$pid"
  for _ in $(seq 1 50); do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$1"
      echo "$3 stopped (pid $pid)"
      return 0
    fi
    sleep 0.1
  done
  say "$3 (pid $pid) did not stop within 5 s: SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$1"
}

cmd_stop() {
  stop_pid "$ECHO_PID" sipp "echo test"
  stop_pid "$RTPE_PID" rtpengine rtpengine
}

cmd_status() {
  local pid rc=0
  if pid="$(alive "$RTPE_PID" rtpengine)"; then
    echo "rtpengine: running (pid $pid), ng udp:127.0.0.1:$RTPE_NG_PORT, media 127.0.0.1:$RTPE_PORT_MIN-$RTPE_PORT_MAX"
  else
    echo "rtpengine: not running$(command -v rtpengine >/dev/null || echo ' (not installed: package rtpengine-daemon)')"
    rc=3
  fi
  if pid="$(alive "$ECHO_PID" sipp)"; then
    echo "echo test 9196: running (sipp pid $pid) on udp:127.0.0.1:$ECHO_SIP_PORT"
  else
    echo "echo test 9196: not running"
    rc=3
  fi
  return "$rc"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *) echo "usage: [PBX_NETNS=name] $0 {start|stop|status}" >&2; exit 2 ;;
esac
