#!/bin/sh
# Run a command with a sound server of its own: a private PulseAudio (Debian
# pulseaudio) whose only output is a null sink. Firefox runs Web Audio only
# when it has an audio output, and this machine has no sound card; the
# recording test mixes both sides of a call with Web Audio (scripts/test.sh,
# group e2e-firefox-audio). Nothing is heard; the server goes with the
# command.
set -u
dir=$(mktemp -d /tmp/softphone-pulse.XXXXXX)
XDG_RUNTIME_DIR=$dir HOME=$dir pulseaudio -n --daemonize=no --exit-idle-time=-1 \
  --use-pid-file=no --disable-shm=yes \
  -L "module-native-protocol-unix socket=$dir/native auth-anonymous=1" \
  -L "module-null-sink sink_name=null" >"$dir/log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
trap 'exit 143' INT TERM
# its socket within 5 s
i=0
while [ ! -S "$dir/native" ] && [ "$i" -lt 50 ]; do
  sleep 0.1
  i=$((i + 1))
done
if [ ! -S "$dir/native" ]; then
  echo "pulse.sh: PulseAudio did not start:" >&2
  cat "$dir/log" >&2
  exit 1
fi
rc=0
PULSE_SERVER="unix:$dir/native" "$@" || rc=$?
exit "$rc"
