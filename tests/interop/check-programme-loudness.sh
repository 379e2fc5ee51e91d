#!/usr/bin/env bash
# The programme's loudness as a listener hears it (issue 15): a station of its own airs, in
# 10 minutes, an episode recorded 14 dB too quiet (ingested), a `file =` special 7 dB too hot,
# and between them the fallback: beds 10 dB too hot and 15 dB too quiet, and idents 10 dB too
# quiet. 10 minutes of /stream are recorded while /api/now is polled for each item's start;
# ffmpeg's ebur128 meters the recording, and every item's integrated loudness (BS.1770 gating
# over ebur128's 400 ms momentary blocks, the item's edges and fades left out) lies within 1 LU of the
# -16 LUFS target: the items span at most 2 LU. (LOUDNESS_SECONDS=120 shortens the recording
# while working on it.)
set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/loudness-lib.sh"
need ffmpeg curl python3
bin=${ANTENNE_BIN:?}
seconds=${LOUDNESS_SECONDS:-600}
tmp=${INTEROP_TMP:-$(mktemp -d)}/programme-loudness
mkdir -p "$tmp/media/beds" "$tmp/media/idents" "$tmp/media/specials"

tone_at "$tmp/media/beds/a-hot.wav" 440 25 -6
tone_at "$tmp/media/beds/b-quiet.wav" 700 25 -31
tone_at "$tmp/media/idents/ident.wav" 1200 7 -26
tone_at "$tmp/media/specials/special.wav" 330 60 -9
tone_at "$tmp/episode.wav" 550 90 -30

# The episode at T+70 s and the special at T+220 s, in the station's local time.
read -r ep_date ep_start sp_date sp_start < <(python3 - <<'PY'
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo
t = datetime.now(ZoneInfo("Europe/Paris")).replace(microsecond=0)
ep, sp = t + timedelta(seconds=70), t + timedelta(seconds=220)
print(ep.date(), ep.strftime("%H:%M:%S"), sp.date(), sp.strftime("%H:%M:%S"))
PY
)
cat >"$tmp/weekly.toml" <<TOML
[station]
name = "Loudness FM"
timezone = "Europe/Paris"

[fallback]
playlist = "beds"
ident = "idents"
shuffle = false

[[show]]
slug = "emission"
title = "L'émission"

[[exception]]
id = "episode"
show = "emission"
date = $ep_date
start = "$ep_start"
duration = "100s"
play = "latest"

[[exception]]
id = "special"
show = "emission"
date = $sp_date
start = "$sp_start"
duration = "70s"
file = "specials/special.wav"
TOML
common=(--data-dir "$tmp/data" --media-dir "$tmp/media" --schedule "$tmp/weekly.toml")
"$bin" ingest "${common[@]}" --show emission --title "Épisode trop bas" "$tmp/episode.wav" \
  >"$tmp/ingest.log" 2>&1 || fail "antenne ingest failed: $(tail -n 5 "$tmp/ingest.log")"
pid= poller=
trap 'kill $pid $poller 2>/dev/null; wait $pid $poller 2>/dev/null' EXIT
serve_antenne "$tmp/daemon.log" "${common[@]}" || fail "the daemon did not start"
pid=$DAEMON_PID url=$DAEMON_URL
wait_library "$url" 4 "$tmp/daemon.log"
# An item that started decoding (5 s ahead) before its analysis landed airs at the default
# gain: items that started before then are not metered.
analysed=$(date +%s.%N)
# Each item's start as /api/now reports it, twice a second, for the whole recording.
(while :; do curl -fs "$url/api/now" 2>/dev/null | python3 -c \
  'import json,sys; n=json.load(sys.stdin)["now"]; n and print(n["start"], n["kind"], n["title"], sep="\t")'
  sleep 0.5; done >"$tmp/now.tsv") &
poller=$!
# The stream's bytes as they come (curl starts in milliseconds, where ffmpeg opening the URL
# on a loaded CI machine took long enough to misplace the items' windows), and the instant
# its first byte arrived: the recording's first sample aired `burst` seconds before that.
started=$(date +%s.%N)
first_byte=$(curl -s --max-time "$seconds" -o "$tmp/rec.mp3" -w '%{time_starttransfer}' "$url/stream")
[ -s "$tmp/rec.mp3" ] || fail "curl cannot record /stream"
connected=$(python3 -c "print($started + $first_byte)")
kill $poller 2>/dev/null
ffmpeg -hide_banner -nostats -i "$tmp/rec.mp3" -ac 2 -af ebur128=framelog=info -f null - \
  2>"$tmp/ebur128.log" || fail "ffmpeg ebur128 failed"
burst=$(curl -fs "$url/api/status" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("settings", {}).get("burst_s", 2))' 2>/dev/null || echo 2)
python3 - "$tmp/ebur128.log" "$tmp/now.tsv" "$connected" "$burst" "$analysed" <<'PY' ||
import math, re, sys
from datetime import datetime
log, now_tsv = sys.argv[1], sys.argv[2]
connected, burst, analysed = (float(a) for a in sys.argv[3:6])
# (t, momentary LUFS) every 100 ms; each M is the 400 ms block ending at t.
blocks = [(float(t), float(m)) for t, m in
          re.findall(r"t: *([0-9.]+) +TARGET:[^M]*M: *(-?[0-9.]+|-inf)", open(log).read())
          if m != "-inf"]
assert len(blocks) > 100, len(blocks)
# The first sample of the recording aired about `burst` seconds before the connection.
origin = connected - burst
items = {}
for line in open(now_tsv, encoding="utf-8"):
    start, kind, title = line.rstrip("\n").split("\t")
    items.setdefault(datetime.fromisoformat(start).timestamp(), (kind, title))
starts = sorted(items)
end = blocks[-1][0]
# Seconds left out at each item's start (the burst's uncertainty, edge fades, segues) and
# end (also the 3 s fade-out of a filler giving way to a show or ending with its slot).
HEAD, TAIL = 1.5, 3.5

def integrated(a, b):
    """BS.1770 integrated loudness of the 400 ms blocks inside [a, b]."""
    ls = [m for t, m in blocks if a + 0.4 <= t <= b]
    if not ls:
        return None
    def mean(v):
        return 10 * math.log10(sum(10 ** (x / 10) for x in v) / len(v))
    ls = [m for m in ls if m > -70]
    if not ls:
        return None
    rel = mean(ls) - 10
    gated = [m for m in ls if m > rel]
    return mean(gated) if gated else None

rows, kinds = [], set()
for i, s in enumerate(starts):
    e = starts[i + 1] if i + 1 < len(starts) else origin + end
    a, b = s - origin + HEAD, min(e - origin, end) - TAIL
    # A window under 2 s (the 6 s of filler between an episode's end and its slot's) is
    # too short to gate: a few hundred ms of uncertainty puts an edge fade in it.
    if b - a < 1.9:
        continue
    lufs = integrated(a, b)
    kind, title = items[s]
    if lufs is None or s < analysed + 5.5:
        continue
    rows.append((a, b, kind, title, lufs))
    kinds.add(kind)
for a, b, kind, title, lufs in rows:
    print(f"  {a:7.1f}-{b:7.1f} s  {kind:9} {lufs:6.1f} LUFS  {title}")
ls = [r[4] for r in rows]
print(f"  {len(rows)} items: {min(ls):.1f} .. {max(ls):.1f} LUFS (span {max(ls) - min(ls):.1f} LU)")
assert len(rows) >= 4, "too few items metered"
assert "show" in kinds, f"the episode and the special did not air: {kinds}"
assert max(ls) - min(ls) <= 2.0 and all(abs(l + 16) <= 1.0 for l in ls), "outside -16 ± 1 LU"
PY
  fail "the programme's loudness varies between items"
ok "$seconds s of /stream: every item (episode, special, beds, idents) within 1 LU of -16 LUFS"
