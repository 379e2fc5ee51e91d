#!/usr/bin/env bash
# The web page in a real browser: Debian's Chromium driven by playwright-core (web-page.cjs):
# / loads in French and English, the live player plays (currentTime advances), a generated
# WAV uploaded through /upload reaches "ready", and screenshots at phone and desktop sizes
# are saved under target/interop/screenshots/.
set -uo pipefail
. "$INTEROP_DIR/lib.sh"
need node
[ -x /usr/bin/chromium ] || need chromium
node -e 'require("playwright-core")' 2>/dev/null || {
  if [ "${CI:-}" = true ]; then fail "playwright-core is not installed (NODE_PATH=$NODE_PATH)"; fi
  echo "skip: playwright-core is not installed"; exit 77
}
token=$("$ANTENNE_BIN" token add "web-interop-$$" --data-dir "$INTEROP_TMP/data" 2>/dev/null) \
  || fail "antenne token add"
ok "upload token created"
export ANTENNE_TOKEN=$token
export SCREENSHOT_DIR=${SCREENSHOT_DIR:-$(pwd)/target/interop/screenshots}
mkdir -p "$SCREENSHOT_DIR"
node "$INTEROP_DIR/web-page.cjs" || fail "browser checks"
ok "screenshots in $SCREENSHOT_DIR"
