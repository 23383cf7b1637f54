#!/usr/bin/env bash
# TURN relay of the demo PBX: coturn (Debian package coturn) on loopback with
# long-term credentials, for calls whose media may only go through a relay
# (the phone's "Only through a TURN relay" setting, iceTransportPolicy
# "relay"). pbx/pbx.sh starts and stops it with Kamailio; by hand:
#
#   pbx/turn.sh start | stop | status
#
#   listening   udp and tcp 127.0.0.1:3478 (turn:127.0.0.1:3478?transport=udp|tcp)
#   relay ports udp 127.0.0.1:49160-49259
#   users       turn1 / turnsecret1, turn2 / turnsecret2   realm softphone.test
#
# Loopback peers are allowed (--allow-loopback-peers): every phone of the
# tests lives on 127.0.0.1. No TLS listener (turns:), no CLI, no database:
# the users are given on the command line.
#
# Runtime files in the PBX's run dir (/tmp/softphone-pbx, or
# /tmp/softphone-pbx/netns-<name> with PBX_NETNS=<name>): turn.pid, turn.log.
# Exit status of start: 0 running; 2 coturn not installed; 1 failed to start.
set -euo pipefail

NETNS="${PBX_NETNS:-}"
RUN_DIR=/tmp/softphone-pbx${NETNS:+/netns-$NETNS}
NS=()
[ -n "$NETNS" ] && NS=(ip netns exec "$NETNS")
PID_FILE="$RUN_DIR/turn.pid"
LOG_FILE="$RUN_DIR/turn.log"
PORT=3478

say() { echo "turn: $*" >&2; }

alive() {
  [ -s "$PID_FILE" ] || return 1
  local pid
  pid="$(cat "$PID_FILE")"
  kill -0 "$pid" 2>/dev/null && [ "$(cat /proc/"$pid"/comm 2>/dev/null)" = turnserver ] && echo "$pid"
}

listening() {
  "${NS[@]}" ss -Hlnu "sport = :$PORT" | grep -q "127.0.0.1:$PORT" \
    && "${NS[@]}" ss -Hlnt "sport = :$PORT" | grep -q "127.0.0.1:$PORT"
}

cmd_start() {
  command -v turnserver >/dev/null || { say "coturn is not installed (scripts/setup.sh)"; return 2; }
  if pid="$(alive)"; then
    echo "TURN relay already running (pid $pid)"
    return 0
  fi
  mkdir -p "$RUN_DIR"
  rm -f "$PID_FILE"
  if [ "${PBX_LOG_APPEND:-0}" = 1 ]; then
    echo "===== turn.sh start $(date -u +%FT%TZ) =====" >>"$LOG_FILE"
  else
    : >"$LOG_FILE"
  fi
  nohup "${NS[@]}" turnserver -n \
    --listening-ip=127.0.0.1 --relay-ip=127.0.0.1 --listening-port="$PORT" \
    --min-port=49160 --max-port=49259 \
    --lt-cred-mech --realm=softphone.test \
    --user=turn1:turnsecret1 --user=turn2:turnsecret2 \
    --allow-loopback-peers --no-multicast-peers \
    --no-tls --no-dtls --no-cli --no-rfc5780 --no-stun-backward-compatibility \
    --userdb="$RUN_DIR/turndb" \
    --pidfile="$PID_FILE" --log-file=stdout --simple-log \
    >>"$LOG_FILE" 2>&1 </dev/null &
  local launch=$! _
  for _ in $(seq 1 100); do
    if ! kill -0 "$launch" 2>/dev/null; then
      tail -n 20 "$LOG_FILE" >&2
      say "turnserver exited during startup (log above)"
      return 1
    fi
    if listening; then
      # coturn writes its pid file itself; keep the launch pid if it did not
      [ -s "$PID_FILE" ] || echo "$launch" >"$PID_FILE"
      echo "TURN relay (pid $(cat "$PID_FILE")${NETNS:+, netns $NETNS}) on udp/tcp 127.0.0.1:$PORT; log $LOG_FILE"
      return 0
    fi
    sleep 0.1
  done
  kill "$launch" 2>/dev/null || true
  say "timeout waiting for port $PORT (log $LOG_FILE)"
  return 1
}

cmd_stop() {
  local pid _
  pid="$(alive)" || { rm -f "$PID_FILE"; return 0; }
  kill -TERM "$pid"
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$PID_FILE"; echo "TURN relay stopped (pid $pid)"; return 0; }
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$PID_FILE"
}

cmd_status() {
  if pid="$(alive)"; then
    echo "TURN relay running (pid $pid) on 127.0.0.1:$PORT"
    return 0
  fi
  echo "TURN relay not running"
  return 3
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *) echo "usage: [PBX_NETNS=name] $0 {start|stop|status}" >&2; exit 2 ;;
esac
