#!/usr/bin/env bash
# The web page in a real browser: Debian's Chromium driven by playwright-core (web-page.cjs):
# / loads in French and English, the live player plays (currentTime advances), a generated
# WAV uploaded through /upload reaches "ready", and screenshots at phone and desktop sizes
# are saved under target/interop/screenshots/.
# First, "Écouter depuis le début" (from-start.cjs) on a daemon of its own whose schedule has
# a show starting at the first whole minute at least 50 s away: the button is hidden while
# the fallback airs, shows once the show is on air, and hls.js then plays the show's first
# segment from the show's first instant (about a minute and a half in all).
set -uo pipefail
. "$INTEROP_DIR/lib.sh"
need node python3
[ -x /usr/bin/chromium ] || need chromium
node -e 'require("playwright-core")' 2>/dev/null || {
  if [ "${CI:-}" = true ]; then fail "playwright-core is not installed (NODE_PATH=$NODE_PATH)"; fi
  echo "skip: playwright-core is not installed"; exit 77
}

dir="$INTEROP_TMP/from-start"
mkdir -p "$dir/media"
cp -r media/beds media/idents "$dir/media/"
show_start=$(python3 - "$dir/weekly.toml" <<'PY'
import sys, datetime, zoneinfo
tz = zoneinfo.ZoneInfo("Europe/Paris")
now = datetime.datetime.now(tz)
start = (now + datetime.timedelta(seconds=50 + 59)).replace(second=0, microsecond=0)
open(sys.argv[1], "w").write(f'''
[station]
name = "Interop"
timezone = "Europe/Paris"
language = "fr"

[fallback]
playlist = "beds"

[[show]]
slug = "depuis-le-debut"
title = "Depuis le début"

[[exception]]
id = "special"
show = "depuis-le-debut"
date = {start.date().isoformat()}
start = "{start.strftime('%H:%M')}"
duration = "10m"
playlist = "beds"
''')
print(start.isoformat())
PY
) || fail "cannot write the schedule"
printf 'hls_segment = 2\nhls_js_url = "/vendor/hls.min.js"\n' >"$dir/antenne.toml"
DAEMON_PID=
trap 'kill $DAEMON_PID 2>/dev/null; wait $DAEMON_PID 2>/dev/null' EXIT
serve_antenne "$dir/daemon.log" --config "$dir/antenne.toml" --data-dir "$dir/data" \
  --media-dir "$dir/media" --schedule "$dir/weekly.toml" || fail "the from-start daemon did not start"
ok "a daemon of its own, a show at $show_start"
DAEMON_URL=$DAEMON_URL SHOW_START=$show_start node "$INTEROP_DIR/from-start.cjs" \
  || { tail -n 20 "$dir/daemon.log"; fail "from the start"; }
kill "$DAEMON_PID" 2>/dev/null
wait "$DAEMON_PID" 2>/dev/null

token=$("$ANTENNE_BIN" token add "web-interop-$$" --data-dir "$INTEROP_TMP/data" 2>/dev/null) \
  || fail "antenne token add"
ok "upload token created"
export ANTENNE_TOKEN=$token
export SCREENSHOT_DIR=${SCREENSHOT_DIR:-$(pwd)/target/interop/screenshots}
mkdir -p "$SCREENSHOT_DIR"
node "$INTEROP_DIR/web-page.cjs" || fail "browser checks"
ok "screenshots in $SCREENSHOT_DIR"
