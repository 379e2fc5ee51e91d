#!/usr/bin/env bash
# Feeds and enclosures against nginx on a station of its own (issue 18): the demo station
# (release binary, playout on air, its four episodes ingested) with one rendition replaced by
# a 28,800,000 B file (a 30-minute episode at 128 kbps, the size past what the `/media` cache
# keeps in memory), then tests/interop/feeds_bench.sh on its feed, a demo rendition and the
# large one, with the daemon's CPU per request.
# Usage: benches/feeds.sh [path/to/antenne]   Env: RUNS (3), SECS (8 s per window).
# Needs: nginx, wrk, curl, python3.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
export ANTENNE_BIN=$(realpath "${1:-target/release/antenne}")
. tests/interop/lib.sh
d=$(mktemp -d /tmp/fb.XXXX)
trap 'kill $DAEMON_PID 2>/dev/null; wait 2>/dev/null; rm -rf "$d"' EXIT
serve_antenne "$d/daemon.log" --data-dir "$d/data" || exit 1
for _ in $(seq 1 300); do
  busy=$(curl -fs "$DAEMON_URL/api/status" | python3 -c 'import json,sys; e=json.load(sys.stdin)["catalog"]["episodes"]; print(e["queued"]+e["processing"])' 2>/dev/null || echo 1)
  [ "$busy" = 0 ] && break; sleep 1
done
urls=$(curl -fs "$DAEMON_URL/feed.xml" | python3 -c 'import re,sys; print(" ".join([u for u in re.findall(r"<enclosure url=\"([^\"]+)\"", sys.stdin.read()) if "/media/" in u]))')
set -- $urls
small=$1 large=$2
id=$(basename "$large" .mp3)
f=$(ls "$d"/data/renditions/"$id".mp3)
python3 - "$f" <<'PY'
import sys, os
src = open(sys.argv[1], "rb").read()
out = (src * (28_800_000 // len(src) + 1))[:28_800_000]
tmp = sys.argv[1] + ".tmp"
open(tmp, "wb").write(out); os.rename(tmp, sys.argv[1])
PY
echo "small $small large $large ($(stat -c %s "$f") B)"
small="$DAEMON_URL/media/$(basename "$small")"
large="$DAEMON_URL/media/$(basename "$large")"
ANTENNE_PID=$DAEMON_PID LARGE_URL=$large RUNS=${RUNS:-3} bash tests/interop/feeds_bench.sh "$DAEMON_URL/feed.xml" "$small" ${SECS:-8}
