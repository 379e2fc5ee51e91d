#!/usr/bin/env bash
# The interop suite driver: starts the demo station on a scratch data folder, then runs every
# tests/interop/check-*.sh with
#   ANTENNE_BIN  the binary under test        ANTENNE_URL  the running daemon's base URL
#   INTEROP_TMP  a scratch folder             INTEROP_DIR  this folder
# (INTEROP_ONLY="hls web" runs only check-hls and check-web.) check-console starts a daemon of
# its own on a copy of the schedule, since the console saves it.
# Each check exits 0 (pass) or non-zero (fail) and prints what it checked. With CI=true a
# missing tool fails the check (lib.sh's `need`); elsewhere it skips it.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
export ANTENNE_BIN=$bin INTEROP_DIR=$here
export INTEROP_TMP=$(mktemp -d)
# icecast2 drops root for nobody, who must reach its folder inside.
chmod 755 "$INTEROP_TMP"
export PATH="$repo/target/interop/venv/bin:$PATH"
export NODE_PATH="$repo/target/interop/node/node_modules"
. "$here/lib.sh"
cd "$repo"
# HLS in 2 s segments (check-hls, check-web); the page loads hls.js from /vendor/, which the
# browser test serves from npm's hls.js.
config="$INTEROP_TMP/antenne.toml"
printf 'hls_segment = 2\nhls_js_url = "/vendor/hls.min.js"\n' >"$config"
# Icecast first, so the daemon pushes its stream to it from the start (check-stream).
icecast_pid=
if command -v icecast2 >/dev/null 2>&1; then
  . "$here/icecast.sh"
  if start_icecast "$INTEROP_TMP/icecast"; then
    icecast_pid=$ICECAST_PID
    export ICECAST_URL
    printf '[[icecast]]\nurl = "%s"\npassword = "%s"\n' "$ICECAST_URL" "$ICECAST_PASS" >>"$config"
    # The Opus stream too, as a second mount (check-opus).
    printf '[[icecast]]\nurl = "%s"\npassword = "%s"\nstream = "opus"\n' "${ICECAST_URL%.mp3}.opus" "$ICECAST_PASS" >>"$config"
  fi
fi
DAEMON_PID=
trap 'kill $DAEMON_PID $icecast_pid 2>/dev/null; wait 2>/dev/null; rm -rf "$INTEROP_TMP"' EXIT
serve_antenne "$INTEROP_TMP/daemon.log" --config "$config" --data-dir "$INTEROP_TMP/data" || {
  echo "interop: the demo station did not start"
  exit 1
}
export ANTENNE_URL=$DAEMON_URL
# Let the first-run seeding finish (the demo episodes ingested), so every check sees a settled
# catalog and feeds that do not change under it.
for _ in $(seq 1 300); do
  busy=$(curl -fs "$ANTENNE_URL/api/status" | python3 -c 'import json,sys; e=json.load(sys.stdin)["catalog"]["episodes"]; print(e["queued"]+e["processing"])' 2>/dev/null)
  [ "$busy" = 0 ] && break
  sleep 1
done
echo "demo station ready: $(curl -fs "$ANTENNE_URL/api/status" | python3 -c 'import json,sys; print(json.load(sys.stdin)["catalog"]["episodes"])')"
passed=0 failed=0 skipped=0
for check in "$here"/check-*.sh; do
  name=$(basename "$check" .sh)
  # INTEROP_ONLY="hls web" runs only those checks (while working on them).
  if [ -n "${INTEROP_ONLY:-}" ] && [[ " $INTEROP_ONLY " != *" ${name#check-} "* ]]; then continue; fi
  echo "--- $name"
  # A check that hangs fails after 15 minutes instead of eating the CI budget.
  timeout 900 bash "$check"
  rc=$?
  case $rc in
    0) passed=$((passed + 1)); echo "ok: $name" ;;
    77) skipped=$((skipped + 1)); echo "skipped: $name" ;;
    *) failed=$((failed + 1)); echo "FAILED: $name (exit $rc)"; tail -n 30 "$INTEROP_TMP/daemon.log" ;;
  esac
done
if ! kill -0 "$DAEMON_PID" 2>/dev/null; then
  echo "FAILED: the daemon died during the suite"; tail -n 50 "$INTEROP_TMP/daemon.log"; failed=$((failed + 1))
fi
echo "interop: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
