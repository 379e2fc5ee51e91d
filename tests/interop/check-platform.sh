#!/usr/bin/env bash
# Platform: the daemon answers /healthz, /api/status and /metrics (curl); ffprobe reads every
# demo media file without error.
set -uo pipefail
. "$INTEROP_DIR/lib.sh"
need curl ffprobe
[ "$(curl -fsS "$ANTENNE_URL/healthz")" = ok ] || fail "/healthz"
ok "/healthz answers ok"
curl -fsS "$ANTENNE_URL/api/status" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["version"], d' || fail "/api/status"
ok "/api/status is JSON with a version"
curl -fsS "$ANTENNE_URL/metrics" | grep -q '^antenne_uptime_seconds ' || fail "/metrics"
ok "/metrics is Prometheus text"
n=0
while IFS= read -r -d '' f; do
  out=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$f" 2>&1) || fail "ffprobe $f: $out"
  [ -z "$(ffprobe -v error -i "$f" 2>&1)" ] || fail "ffprobe reports errors in $f"
  n=$((n + 1))
done < <(find media -type f \( -name '*.mp3' -o -name '*.wav' -o -name '*.flac' -o -name '*.ogg' \) -print0)
[ "$n" -gt 0 ] || fail "no demo media found"
ok "ffprobe reads all $n demo media files"
