# Sourced by the live checks and benches/live.sh: a daemon of its own with one show, and what
# a listener hears.
#   start_live_daemon DIR [EXTRA SCHEDULE TOML]  starts `$ANTENNE_BIN serve` on a free port with
#       data, media (the repository's beds and idents) and schedule under DIR; sets LIVE_URL,
#       LIVE_PORT, LIVE_PID and LIVE_ARGS (the flags, for `token add`). The show's slug is
#       `fete-des-ors`; with no live slot, an operator token takes the air at once.
#   live_status KEY                    a field of /api/status's `live` (Python expression on `live`)
#   wait_live_streaming PREFIX [SECS]   until the source on air's software starts with PREFIX
#   tone_share FREQ [SECONDS]           the share of FREQ (±1 %) in the last second of
#       SECONDS (3) of /stream, as ffmpeg decodes it (Goertzel over 8 kHz mono PCM)
start_live_daemon() {
  local dir=$1 extra=${2:-}
  local repo
  repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  mkdir -p "$dir/media" "$dir/data"
  cp -r "$repo/media/beds" "$repo/media/idents" "$dir/media/"
  cat >"$dir/weekly.toml" <<TOML
[station]
name = "Interop"
timezone = "Europe/Paris"
language = "fr"

[fallback]
playlist = "beds"

[[show]]
slug = "fete-des-ors"
title = "La fête des Ors"
$extra
TOML
  LIVE_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  LIVE_URL="http://127.0.0.1:$LIVE_PORT"
  LIVE_ARGS=(--data-dir "$dir/data" --media-dir "$dir/media" --schedule "$dir/weekly.toml" --listen "127.0.0.1:$LIVE_PORT")
  "$ANTENNE_BIN" "${LIVE_ARGS[@]}" serve >"$dir/daemon.log" 2>&1 &
  LIVE_PID=$!
  for _ in $(seq 1 100); do curl -fs "$LIVE_URL/healthz" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "the daemon did not start: $(cat "$dir/daemon.log")"
  return 1
}

live_status() {
  curl -fs "$LIVE_URL/api/status" | python3 -c "import json, sys; live = json.load(sys.stdin)['live']; print($1)"
}

wait_live_streaming() { # PREFIX [SECS]
  local i
  for i in $(seq 1 $(( ${2:-20} * 4 ))); do
    [ "$(live_status "bool(live['connected'] and live['connected']['streaming'] and (live['connected']['software'] or '').startswith('$1'))")" = True ] && return 0
    sleep 0.25
  done
  return 1
}

tone_share() { # FREQ [SECONDS]
  local raw
  raw=$(mktemp)
  ffmpeg -hide_banner -loglevel error -y -i "$LIVE_URL/stream" -t "${2:-3}" -ac 1 -ar 8000 -f s16le "$raw" </dev/null
  python3 - "$raw" "$1" <<'PY'
import math, struct, sys
raw = open(sys.argv[1], "rb").read()
f0 = float(sys.argv[2])
s = struct.unpack(f"<{len(raw)//2}h", raw)[-8000:]
def power(f):
    k = 2 * math.cos(2 * math.pi * f / 8000)
    a = b = 0.0
    for x in s:
        a, b = x + k * a - b, a
    return a * a + b * b - k * a * b
total = sum(x * x for x in s) * len(s) / 2 or 1
# The drift control may move the pitch by up to 1 %: the best of f0 ± 1 %, 81 steps.
print(f"{max(power(f0 * (0.99 + i / 4000)) for i in range(81)) / total:.2f}")
PY
  rm -f "$raw"
}
