#!/usr/bin/env bash
# Runs Shegong: a local sync server on 127.0.0.1:7878 with the demo station (data in .run/server),
# and the desktop app signed in against it. Installs and builds whatever is missing first.
# Stop with Ctrl-C or by closing the app's window; the server stops with it.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

./scripts/setup.sh
./scripts/build-ui.sh
# The very build the test command makes (same packages, targets and so features): after either
# command, the other builds nothing. A narrower `-p shegong-desktop` build would resolve other
# features for shared dependencies and rebuild much of the tree.
cargo build --workspace --exclude ui --all-targets

BIN="${CARGO_TARGET_DIR:-target}/debug"
LISTEN=127.0.0.1:7878
RUN_DIR=.run
mkdir -p "$RUN_DIR/server"

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

# Demo data: one station, two service points with their villages, users and recipients.
# Seeding again changes nothing.
SHEGONG_SYNC__DATA_DIR="$RUN_DIR/server" "$BIN/shegong-sync" admin seed-demo >"$RUN_DIR/seed.log"

SHEGONG_SYNC__DATA_DIR="$RUN_DIR/server" SHEGONG_SYNC__LISTEN="$LISTEN" \
  "$BIN/shegong-sync" serve >"$RUN_DIR/server.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
  grep -q "listening on" "$RUN_DIR/server.log" 2>/dev/null && break
  if ! kill -0 "${pids[0]}" 2>/dev/null; then
    echo "run: the sync server did not start (is $LISTEN in use?):" >&2
    cat "$RUN_DIR/server.log" >&2
    exit 1
  fi
  sleep 0.1
done
echo "run: sync server $(grep -m1 -o 'listening on .*' "$RUN_DIR/server.log") (log: $RUN_DIR/server.log)"

if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  exec 3< <(Xvfb -displayfd 1 -screen 0 1280x1024x24 -nolisten tcp 2>"$RUN_DIR/xvfb.log")
  pids+=($!)
  read -r display_number <&3
  export DISPLAY=":$display_number"
  echo "run: no display here, so the app runs on a virtual one (Xvfb $DISPLAY) and nothing is shown."
  echo "run: run this from a desktop session to see the window. Ctrl-C stops everything."
fi

cat <<TEXT
run: demo sign-ins (password demo1234):
       shegong1  social worker      fuzhan1  deputy head      dudao1  supervisor
TEXT
SHEGONG_SERVER_URL="http://$LISTEN" "$BIN/shegong" &
pids+=($!)
wait "${pids[-1]}"
