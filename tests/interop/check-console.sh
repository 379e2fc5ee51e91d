#!/usr/bin/env bash
# The operators' console in a real browser (Debian's Chromium driven by playwright-core,
# console-page.cjs), on a daemon of its own whose schedule is a copy (the console saves it):
# sign in with an operator token; break the schedule and see the error at its line; through
# the forms, cancel next Wednesday's show and add a live special on Saturday, each previewed,
# saved and aired by the reloaded daemon (/api/schedule); a save refused when the file changed
# on disk meanwhile; the oldest version restored; a volunteer's token created, uploading,
# revoked and refused; a POST without the CSRF token refused (403); the session cookie
# replayed after sign-out refused (401).
# Screenshots at 1280 and 390 px go to target/interop/screenshots/ (console-*.png).
set -uo pipefail
. "$INTEROP_DIR/lib.sh"
need node curl
[ -x /usr/bin/chromium ] || need chromium
node -e 'require("playwright-core")' 2>/dev/null || {
  if [ "${CI:-}" = true ]; then fail "playwright-core is not installed (NODE_PATH=$NODE_PATH)"; fi
  echo "skip: playwright-core is not installed"; exit 77
}
here=$INTEROP_TMP/console
mkdir -p "$here/media" "$here/schedules"
cp schedules/weekly.toml "$here/schedules/weekly.toml"
# The beds and idents, without the demo episodes: no first-run ingest to wait for.
ln -s "$(pwd)/media/beds" "$here/media/beds"
ln -s "$(pwd)/media/idents" "$here/media/idents"
token=$("$ANTENNE_BIN" token add "console-interop" --data-dir "$here/data" 2>/dev/null) \
  || fail "antenne token add"
ok "operator token created"
trap 'kill $DAEMON_PID 2>/dev/null; wait $DAEMON_PID 2>/dev/null' EXIT
serve_antenne "$here/daemon.log" --data-dir "$here/data" --media-dir "$here/media" \
  --schedule "$here/schedules/weekly.toml" || fail "the console's daemon did not start"
export CONSOLE_URL=$DAEMON_URL
export ANTENNE_TOKEN=$token
export SCHEDULE_FILE=$here/schedules/weekly.toml
export SCREENSHOT_DIR=${SCREENSHOT_DIR:-$(pwd)/target/interop/screenshots}
mkdir -p "$SCREENSHOT_DIR"
node "$INTEROP_DIR/console-page.cjs" || { tail -n 20 "$here/daemon.log"; fail "browser checks"; }
ls "$here/schedules/history/"*/weekly-*.toml >/dev/null 2>&1 || fail "no saved version in history/"
ok "the saved version is in $here/schedules/history/"
ok "screenshots in $SCREENSHOT_DIR (console-*.png)"
