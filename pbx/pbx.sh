#!/usr/bin/env bash
# Demo / test PBX (Kamailio, pbx/kamailio.cfg) on loopback.
#
#   pbx/pbx.sh start        media gateway (pbx/gateway.sh: rtpengine and the echo
#                           test 9196), the TURN relay (pbx/turn.sh: coturn on
#                           127.0.0.1:3478), then Kamailio: config check, start
#                           in the background, wait for the ports
#   pbx/pbx.sh stop         stop Kamailio, the gateway and the relay (by pid file)
#   pbx/pbx.sh kill         SIGKILL to Kamailio and its workers, as in a crash
#                           (the cluster test); the gateway and relay stay
#   pbx/pbx.sh status       running or not (exit 0 / 3), listening sockets, gateway
#   pbx/pbx.sh log [N]      last N lines (default 100) of the Kamailio log
#   pbx/pbx.sh rpc CMD ...  a Kamailio RPC through its ctl socket (kamcmd), e.g.
#                           "rpc ul.lookup location 1000@127.0.0.1", "rpc ws.dump",
#                           "rpc ws.close <id>" (the e2e fault tests use these)
#   pbx/pbx.sh netns-down   delete the network namespace $PBX_NETNS
#
# Listens on udp/tcp 127.0.0.1:5060, ws://127.0.0.1:8088 (sub-protocol "sip")
# and wss://127.0.0.1:8443 (certificate from a throw-away CA made at start:
# $RUN_DIR/tls/ca.pem is the CA a browser must trust; see tls_ready below).
# Users 1000..1009, password secret<user> (1000 / secret1000), realm 127.0.0.1.
# Runtime files (kamailio.pid, kamailio.log, kamailio_ctl, dbtext/, and the
# gateway's rtpengine.* and echo-uas.*): /tmp/softphone-pbx/, or
# /tmp/softphone-pbx/netns-<name>/ with PBX_NETNS=<name>
# Without rtpengine (package rtpengine-daemon) Kamailio still starts, with a
# warning: browser-to-browser calls do not need it.
#
# Env:
#   PBX_NETNS=<name>   run Kamailio inside network namespace <name>, which has
#                      only "lo" (created when missing). Clients must then run in
#                      the same namespace: ip netns exec <name> <command>
#   PBX_DEFINES="-A NO_PRESENCE"   extra kamailio defines
#   PBX_LOG_APPEND=1   start: keep the log of the previous run (append to it);
#                      the e2e tests restart the PBX and want the whole story
#   PBX_SHM_MB (64), PBX_PKG_MB (8)  memory sizes
#   PBX_CLUSTER=1      node 1 of a two-node cluster (kamailio.cfg WITH_CLUSTER):
#                      registrations shared with node 2 through DMQ (udp
#                      5090), node-to-node requests on udp 5070, one shared
#                      Record-Route name. Start node 1 this way, then node 2.
#   PBX_NODE=2         node 2 of that cluster: the same ports on 127.0.0.2
#                      (ws://127.0.0.2:8088, wss://127.0.0.2:8443), no
#                      presence; it uses node 1's media gateway and relay.
#                      Runtime files in <run dir>/node2/. Every command
#                      (stop, kill, status, log, rpc) takes it.
set -euo pipefail

PBX_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CFG="$PBX_DIR/kamailio.cfg"
NETNS="${PBX_NETNS:-}"
NODE="${PBX_NODE:-1}"
case "$NODE" in 1) NODE_IP=127.0.0.1 ;; 2) NODE_IP=127.0.0.2 ;; *) echo "pbx: PBX_NODE must be 1 or 2" >&2; exit 2 ;; esac
CLUSTER="${PBX_CLUSTER:-0}"
[ "$NODE" = 1 ] || CLUSTER=1
# one runtime dir per namespace, so a demo PBX (host) and a test PBX (netns)
# can run side by side; node 2 of a cluster has its own below it
BASE_RUN_DIR=/tmp/softphone-pbx${NETNS:+/netns-$NETNS}
RUN_DIR=$BASE_RUN_DIR
[ "$NODE" = 1 ] || RUN_DIR=$BASE_RUN_DIR/node$NODE
PID_FILE="$RUN_DIR/kamailio.pid"
LOG_FILE="$RUN_DIR/kamailio.log"
CTL_SOCK="unix:$RUN_DIR/kamailio_ctl"
SHM="${PBX_SHM_MB:-64}"
PKG="${PBX_PKG_MB:-8}"
# shellcheck disable=SC2206  # word splitting intended
DEFINES=(${PBX_DEFINES:-} -A "CTL_SOCK=\"$CTL_SOCK\"" -A "DBTEXT=\"text://$RUN_DIR/dbtext\"")
[ "$CLUSTER" = 0 ] || DEFINES+=(-A WITH_CLUSTER)
[ "$NODE" = 1 ] || DEFINES+=(-A CLUSTER_NODE2 -A NO_PRESENCE)

die() { echo "pbx: $*" >&2; exit 1; }

# ---- wss:// : a certificate for 127.0.0.1 (and node 2's 127.0.0.2) from a
# throw-away local CA, shared by both nodes ----
# Made at start in $RUN_DIR/tls/ (never in the repository): ca.pem (the CA
# the test browsers trust), server.pem + server.key (Kamailio), tls.cfg. The
# CA's key is deleted once the server certificate is signed, so that CA can
# never sign anything else. Valid 2 days; made again when older than 1 day.
TLS_DIR="$BASE_RUN_DIR/tls"
tls_ready() {
  command -v openssl >/dev/null || return 1
  compgen -G "/usr/lib/*/kamailio/modules/tls.so" >/dev/null || return 1
  mkdir -p "$TLS_DIR"
  if [ ! -s "$TLS_DIR/server.pem" ] || [ ! -s "$TLS_DIR/ca.pem" ] \
     || [ -n "$(find "$TLS_DIR/server.pem" -mmin +1440)" ]; then
    (
      set -e
      cd "$TLS_DIR"
      rm -f ./*.pem ./*.key ./*.csr ./*.srl
      openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
        -subj "/CN=softphone test CA (throw-away, $(date -u +%FT%TZ))" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -keyout ca.key -out ca.pem
      openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -subj "/CN=127.0.0.1" -keyout server.key -out server.csr
      printf '%s\n' "subjectAltName=IP:127.0.0.1,IP:127.0.0.2,DNS:localhost" "extendedKeyUsage=serverAuth" \
        "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" >server.ext
      openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
        -extfile server.ext -out server.pem
      rm -f ca.key server.csr ca.srl server.ext
      chmod 600 server.key
    ) >"$BASE_RUN_DIR/tls-make.log" 2>&1 || { echo "pbx: WARNING: making the TLS certificate failed ($BASE_RUN_DIR/tls-make.log): no wss://" >&2; return 1; }
  fi
  cat >"$TLS_DIR/tls.cfg" <<CFG
[server:default]
method = TLSv1.2+
verify_certificate = no
require_certificate = no
private_key = $TLS_DIR/server.key
certificate = $TLS_DIR/server.pem

[client:default]
method = TLSv1.2+
verify_certificate = no
require_certificate = no
CFG
}
WITH_TLS=0
if [ "${1:-}" = start ] && tls_ready; then
  WITH_TLS=1
  DEFINES+=(-A WITH_TLS -A "TLS_CFG=\"$TLS_DIR/tls.cfg\"")
fi

# the media gateway (rtpengine + echo test), same namespace and run dir;
# its failure is reported but does not stop Kamailio from starting
gateway_start() {
  [ "$NODE" = 1 ] || return 0
  local rc=0
  bash "$PBX_DIR/gateway.sh" start || rc=$?
  [ "$rc" -eq 0 ] || echo "pbx: WARNING: media gateway not running (pbx/gateway.sh start: exit $rc): browser <-> plain RTP calls and the echo test 9196 will fail" >&2
}

# the TURN relay (pbx/turn.sh: coturn), same namespace and run dir; like the
# gateway, its failure is reported but does not stop Kamailio from starting
turn_start() {
  [ "$NODE" = 1 ] || return 0
  local rc=0
  bash "$PBX_DIR/turn.sh" start || rc=$?
  [ "$rc" -eq 0 ] || echo "pbx: WARNING: TURN relay not running (pbx/turn.sh start: exit $rc): relay-only calls will fail" >&2
}

# prefix for commands that must run in the PBX's namespace
NS=()
[ -n "$NETNS" ] && NS=(ip netns exec "$NETNS")

netns_exists() { ip netns list | awk '{print $1}' | grep -qx "$1"; }

ensure_netns() {
  [ -n "$NETNS" ] || return 0
  netns_exists "$NETNS" || ip netns add "$NETNS"
  ip netns exec "$NETNS" ip link set lo up
}

running_pid() {
  # prints the pid and succeeds if the pid file names a live kamailio
  [ -s "$PID_FILE" ] || return 1
  local pid
  pid="$(cat "$PID_FILE")"
  kill -0 "$pid" 2>/dev/null || return 1
  [ "$(cat /proc/"$pid"/comm 2>/dev/null)" = "kamailio" ] || return 1
  echo "$pid"
}

# any of the node's ports taken (by anything)
ports_busy() {
  # the local address column of "ss -ntu" (netid, state, queues, local, peer)
  "${NS[@]}" ss -Hlntu '( sport = :5060 or sport = :8088 )' | awk '{ print $5 }' \
    | grep -qE "^(${NODE_IP//./\\.}|\*|0\.0\.0\.0|\[::\]):"
}

ports_up() {
  "${NS[@]}" ss -Hlnu 'sport = :5060' | grep -qF "$NODE_IP:5060" \
    && "${NS[@]}" ss -Hlnt 'sport = :5060' | grep -qF "$NODE_IP:5060" \
    && "${NS[@]}" ss -Hlnt 'sport = :8088' | grep -qF "$NODE_IP:8088" \
    && { [ "$WITH_TLS" = 0 ] || "${NS[@]}" ss -Hlnt 'sport = :8443' | grep -qF "$NODE_IP:8443"; } \
    && { [ "$CLUSTER" = 0 ] || "${NS[@]}" ss -Hlnu 'sport = :5090' | grep -qF "$NODE_IP:5090"; }
}

where() {
  local wss="" node=""
  [ "$WITH_TLS" = 0 ] || wss=", wss://$NODE_IP:8443 (CA $TLS_DIR/ca.pem)"
  [ "$CLUSTER" = 0 ] || node=", cluster node $NODE"
  echo "PBX (kamailio pid $1${NETNS:+, netns $NETNS}$node) listening on udp/tcp $NODE_IP:5060 and ws://$NODE_IP:8088$wss; log $LOG_FILE"
}

# the mode a running node was started in ("cluster" or "single")
MODE_FILE="$RUN_DIR/mode"
want_mode() { if [ "$CLUSTER" = 1 ]; then echo cluster; else echo single; fi; }

cmd_start() {
  command -v kamailio >/dev/null || die "kamailio is not installed (run scripts/setup.sh)"
  if pid="$(running_pid)"; then
    local mode
    mode="$(cat "$MODE_FILE" 2>/dev/null || echo single)"
    [ "$mode" = "$(want_mode)" ] \
      || die "already running as a $mode PBX (pid $pid); stop it first to start it as $(want_mode) (PBX_CLUSTER=1 for cluster node 1)"
    echo "already running: $(where "$pid")"
    gateway_start
    turn_start
    return 0
  fi
  ensure_netns
  mkdir -p "$RUN_DIR"
  rm -f "$PID_FILE" "$RUN_DIR/kamailio_ctl"
  want_mode >"$MODE_FILE"
  # fresh db_text tables (the presence module wants a db_url; state is in memory)
  rm -rf "$RUN_DIR/dbtext"
  cp -r /usr/share/kamailio/dbtext/kamailio "$RUN_DIR/dbtext"

  if ! kamailio -c -f "$CFG" "${DEFINES[@]}" >"$RUN_DIR/config-check.log" 2>&1; then
    cat "$RUN_DIR/config-check.log" >&2
    die "config check failed: $CFG"
  fi
  if ports_busy; then
    "${NS[@]}" ss -Hlntup '( sport = :5060 or sport = :8088 )' >&2 || true
    die "something else already listens on $NODE_IP port 5060 or 8088${NETNS:+ in netns $NETNS}"
  fi

  # rtpengine first: Kamailio's rtpengine module asks for it when it starts
  gateway_start
  turn_start

  if [ "${PBX_LOG_APPEND:-0}" = 1 ]; then
    echo "===== pbx.sh start $(date -u +%FT%TZ) =====" >>"$LOG_FILE"
  else
    : >"$LOG_FILE"
  fi
  # Kamailio gets a private mount namespace in which /etc/resolv.conf says
  # "nameserver 127.0.0.1": should anything ever make it resolve a host name
  # (e.g. a WebSocket client's "*.invalid" Contact host), the query stays on
  # loopback instead of going to the machine's resolver.
  echo "nameserver 127.0.0.1" >"$RUN_DIR/resolv.conf"
  local nodns=()
  if unshare --mount --propagation private -- /bin/sh -c \
       "mount --bind '$RUN_DIR/resolv.conf' /etc/resolv.conf" 2>/dev/null; then
    # shellcheck disable=SC2016  # $0 / $@ are for the inner sh
    nodns=(unshare --mount --propagation private -- /bin/sh -c
           'mount --bind "$0" /etc/resolv.conf && exec "$@"' "$RUN_DIR/resolv.conf")
  fi
  # -DD: no daemonizing (still forks its workers); -E: log to stderr -> $LOG_FILE
  # -Y: runtime dir; -P: pid file. ip netns exec / unshare / sh all exec.
  nohup "${NS[@]}" "${nodns[@]}" \
    kamailio -f "$CFG" "${DEFINES[@]}" -P "$PID_FILE" -Y "$RUN_DIR" \
    -m "$SHM" -M "$PKG" -DD -E >>"$LOG_FILE" 2>&1 </dev/null &
  local launch=$!

  # wait for the pid file and the listening sockets: at most 15 s
  local _
  for _ in $(seq 1 150); do
    if ! kill -0 "$launch" 2>/dev/null; then
      tail -n 30 "$LOG_FILE" >&2
      die "kamailio exited during startup (log above)"
    fi
    if [ -s "$PID_FILE" ] && ports_up; then
      where "$(cat "$PID_FILE")"
      return 0
    fi
    sleep 0.1
  done
  tail -n 30 "$LOG_FILE" >&2
  kill "$launch" 2>/dev/null || true
  die "timeout waiting for the PBX ports (log above)"
}

cmd_stop() {
  kamailio_stop
  [ "$NODE" = 1 ] || return 0
  bash "$PBX_DIR/gateway.sh" stop
  bash "$PBX_DIR/turn.sh" stop
}

# SIGKILL to the main process and its workers at once: no clean-up, the
# sockets close as the kernel closes them (a crashed or unplugged node)
kill_all() {
  local children
  children="$(ps -o pid= --ppid "$1" 2>/dev/null || true)"
  # shellcheck disable=SC2086  # list of pids
  kill -KILL "$1" $children 2>/dev/null || true
}

cmd_kill() {
  local pid _
  pid="$(running_pid)" || die "not running"
  kill_all "$pid"
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  rm -f "$PID_FILE"
  echo "PBX killed (pid $pid${NETNS:+, netns $NETNS}, node $NODE)"
}

kamailio_stop() {
  local pid
  if ! pid="$(running_pid)"; then
    rm -f "$PID_FILE"
    return 0
  fi
  kill -TERM "$pid"   # the main process ends its own workers
  local _
  for _ in $(seq 1 50); do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$PID_FILE"
      echo "PBX stopped (pid $pid)"
      return 0
    fi
    sleep 0.1
  done
  echo "pbx: kamailio pid $pid did not stop within 5 s; SIGKILL to it and its workers" >&2
  kill_all "$pid"
  rm -f "$PID_FILE"
}

cmd_status() {
  local pid
  if pid="$(running_pid)"; then
    echo "running: $(where "$pid")"
    "${NS[@]}" ss -Hlntu '( sport = :5060 or sport = :8088 or sport = :5070 or sport = :5090 )' | grep -F "$NODE_IP:" || true
    if command -v kamcmd >/dev/null; then
      echo "registered users: $(kamcmd -s "$CTL_SOCK" ul.dump brief 2>/dev/null | sed -n 's/^[[:space:]]*AoR: //p' | tr '\n' ' ')"
    fi
    bash "$PBX_DIR/gateway.sh" status || true
    bash "$PBX_DIR/turn.sh" status || true
    return 0
  fi
  echo "not running"
  bash "$PBX_DIR/gateway.sh" status || true
  bash "$PBX_DIR/turn.sh" status || true
  return 3
}

cmd_log() {
  [ -f "$LOG_FILE" ] || die "no log yet ($LOG_FILE)"
  tail -n "${1:-100}" "$LOG_FILE"
}

cmd_rpc() {
  command -v kamcmd >/dev/null || die "kamcmd is not installed (package kamailio)"
  running_pid >/dev/null || die "not running"
  kamcmd -s "$CTL_SOCK" "$@"
}

cmd_netns_down() {
  [ -n "$NETNS" ] || die "PBX_NETNS is not set"
  netns_exists "$NETNS" || return 0
  if [ -n "$(ip netns pids "$NETNS")" ]; then
    die "namespace $NETNS still has processes: $(ip netns pids "$NETNS" | tr '\n' ' ')"
  fi
  ip netns del "$NETNS"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  kill) cmd_kill ;;
  status) cmd_status ;;
  log) cmd_log "${2:-100}" ;;
  rpc) shift; cmd_rpc "$@" ;;
  netns-down) cmd_netns_down ;;
  *) echo "usage: [PBX_NETNS=name] $0 {start|stop|kill|status|log [N]|rpc CMD...|netns-down} (PBX_CLUSTER=1, PBX_NODE=2: a two-node cluster)" >&2; exit 2 ;;
esac
