#!/usr/bin/env bash
# Loudness at playout (issue 15): a station of its own whose fallback alternates a bed made
# 10 dB too hot and one 15 dB too quiet; once /api/library lists both, 24 s of /stream are
# recorded and metered by ffmpeg's ebur128: the short-term loudness spans at most 2 LU around
# the -16 LUFS target (unlevelled, the two beds are 25 LU apart).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/loudness-lib.sh"
need ffmpeg curl python3
bin=${ANTENNE_BIN:?}
tmp=${INTEROP_TMP:-$(mktemp -d)}/loudness
mkdir -p "$tmp/media/beds"

bed() { tone_at "$tmp/media/beds/$1.wav" "$2" 8 "$3"; } # NAME FREQ LUFS
bed a-hot 440 -6
bed b-quiet 700 -31
cat >"$tmp/weekly.toml" <<'TOML'
[station]
name = "Loudness FM"
timezone = "Europe/Paris"

[fallback]
playlist = "beds"
ident = "idents"
shuffle = false
# Each bed whole: a segue's linear fades dip the short-term loudness (check-programme-loudness
# meters items with the default crossfade).
crossfade = "0s"
TOML
trap 'kill $DAEMON_PID 2>/dev/null; wait $DAEMON_PID 2>/dev/null' EXIT
serve_antenne "$tmp/daemon.log" --data-dir "$tmp/data" --media-dir "$tmp/media" \
  --schedule "$tmp/weekly.toml" || fail "the daemon did not start"
url=$DAEMON_URL
wait_library "$url" 2 "$tmp/daemon.log"
ok "/api/library lists both beds: $(curl -fs "$url/api/library" | python3 -c 'import json,sys; print(", ".join("%s %.1f LUFS -> %+.1f dB" % (f["path"], f["integrated_lufs"], f["gain_db"]) for f in json.load(sys.stdin)["files"]))')"
# A bed already decoding (5 s ahead) when the analysis landed airs at the default gain: let
# it pass.
sleep 14
ffmpeg -hide_banner -v error -t 24 -i "$url/stream" -ac 2 "$tmp/rec.wav" -y </dev/null ||
  fail "ffmpeg cannot record /stream"
ffmpeg -hide_banner -nostats -i "$tmp/rec.wav" -af ebur128=framelog=info -f null - \
  2>"$tmp/ebur128.log" || fail "ffmpeg ebur128 failed"
python3 - "$tmp/ebur128.log" <<'PY' || fail "the programme's loudness swings between the beds"
import re, sys
rows = re.findall(r"t: *([0-9.]+) .*?S: *(-?[0-9.]+)", open(sys.argv[1]).read())
# The first 3 s: the short-term window filling (and the burst on connect).
st = [float(v) for t, v in rows if float(t) >= 3.0]
assert len(st) > 100, len(st)
lo, hi = min(st), max(st)
print(f"  short-term loudness over 21 s of /stream: {lo:.1f} .. {hi:.1f} LUFS (span {hi - lo:.1f} LU)")
assert hi - lo <= 2.0 and abs((hi + lo) / 2 + 16) <= 1.5, (lo, hi)
PY
ok "/stream holds -16 LUFS within 2 LU across a hot and a quiet bed"
