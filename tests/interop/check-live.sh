#!/usr/bin/env bash
# The live input with a source client nobody here wrote (issue 14): a second daemon whose
# schedule has a live special starting now; ffmpeg connects as BUTT would (icecast://, PUT
# with Expect: 100-continue), first refused with a wrong token and with an upload-only one,
# then on air: ffmpeg reads /stream and must hear the source's 1 kHz tone (MP3 source, then
# Ogg Vorbis, Ogg Opus). When the special is over, its recording becomes a ready episode of the show,
# in the show's feed (parsed by podcastparser when installed).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
need ffmpeg curl python3
bin=${ANTENNE_BIN:?set ANTENNE_BIN to the antenne binary}
repo=$(cd "$(dirname "$0")/../.." && pwd)
tmp=${INTEROP_TMP:-$(mktemp -d)}/live
mkdir -p "$tmp/media" "$tmp/data"
cp -r "$repo/media/beds" "$repo/media/idents" "$tmp/media/"
# A live special from the last minute for 3 minutes, station time.
python3 - "$tmp/weekly.toml" <<'PY' || fail "cannot write the schedule"
import sys, datetime, zoneinfo
tz = zoneinfo.ZoneInfo("Europe/Paris")
start = datetime.datetime.now(tz).replace(second=0, microsecond=0) - datetime.timedelta(minutes=1)
open(sys.argv[1], "w").write(f'''
[station]
name = "Interop"
timezone = "Europe/Paris"
language = "fr"

[fallback]
playlist = "beds"

[[show]]
slug = "fete-des-ors"
title = "La fête des Ors"

[[exception]]
id = "direct"
show = "fete-des-ors"
date = {start.date().isoformat()}
start = "{start.strftime('%H:%M')}"
duration = "3m"
play = "live"
''')
print(start.isoformat())
PY
args=(--data-dir "$tmp/data" --media-dir "$tmp/media" --schedule "$tmp/weekly.toml")
token=$("$bin" "${args[@]}" token add amina --show fete-des-ors --live 2>/dev/null) || fail "cannot create a live token"
upload_only=$("$bin" "${args[@]}" token add karim --show fete-des-ors 2>/dev/null) || fail "cannot create a token"
trap 'kill $DAEMON_PID 2>/dev/null; wait $DAEMON_PID 2>/dev/null' EXIT
serve_antenne "$tmp/daemon.log" "${args[@]}" || fail "the daemon did not start"
url=$DAEMON_URL port=$DAEMON_PORT

# A source client: `seconds` of a 1 kHz tone, in real time, as FORMAT (mp3, ogg, opus).
source_client() { # PASSWORD FORMAT SECONDS
  local codec ct
  case $2 in
    mp3) codec=(-c:a libmp3lame -b:a 128k -f mp3); ct=audio/mpeg ;;
    ogg) codec=(-c:a libvorbis -q:a 4 -f ogg); ct=application/ogg ;;
    opus) codec=(-c:a libopus -b:a 96k -f ogg); ct=application/ogg ;;
  esac
  ffmpeg -hide_banner -loglevel error -re -f lavfi -i "sine=frequency=1000:sample_rate=48000" \
    -t "$3" -ac 2 "${codec[@]}" -content_type "$ct" \
    "icecast://fete-des-ors:$1@127.0.0.1:$port/live" 2>"$tmp/ffmpeg-$2.log"
}

# Refusals: a wrong token, a token without the live scope.
source_client ant_wrong mp3 2 && fail "a wrong token was let in"
grep -qi '401\|unauthorized' "$tmp/ffmpeg-mp3.log" || fail "wrong token: $(cat "$tmp/ffmpeg-mp3.log")"
ok "a wrong token is refused: $(head -c 120 "$tmp/ffmpeg-mp3.log" | tr '\n' ' ')"
source_client "$upload_only" mp3 2 && fail "an upload-only token was let in"
grep -qi '403\|forbidden' "$tmp/ffmpeg-mp3.log" || fail "upload-only token: $(cat "$tmp/ffmpeg-mp3.log")"
ok "an upload-only token is refused (403)"

# The fraction of the last second of /stream's audio at 1 kHz (Goertzel over 1 s of mono PCM).
tone_share() {
  ffmpeg -hide_banner -loglevel error -y -i "$url/stream" -t 3 -ac 1 -ar 8000 -f s16le "$tmp/heard.raw" </dev/null
  python3 - "$tmp/heard.raw" <<'PY'
import math, struct, sys
raw = open(sys.argv[1], "rb").read()
s = struct.unpack(f"<{len(raw)//2}h", raw)[-8000:]
def power(f):
    k = 2 * math.cos(2 * math.pi * f / 8000)
    a = b = 0.0
    for x in s:
        a, b = x + k * a - b, a
    return a * a + b * b - k * a * b
total = sum(x * x for x in s) * len(s) / 2 or 1
# The drift control may move the pitch by up to 1 %: the best of 990-1010 Hz, 0.25 Hz apart.
print(f"{max(power(990 + i / 4) for i in range(81)) / total:.2f}")
PY
}

for format in mp3 ogg opus; do
  source_client "$token" "$format" 14 &
  client=$!
  sleep 7
  share=$(tone_share)
  wait $client || fail "the $format source client failed: $(cat "$tmp/ffmpeg-$format.log")"
  python3 -c "import sys; sys.exit(0 if float('$share') > 0.5 else 1)" ||
    fail "the $format source is not on air: 1 kHz is $share of /stream"
  ok "a $format source (ffmpeg icecast://) is on air: 1 kHz is $share of what /stream plays"
  sleep 1
done
curl -fs "$url/api/status" | python3 -c '
import json, sys
live = json.load(sys.stdin)["live"]
assert live["connections"] >= 2 and live["unauthorized"] >= 1 and live["refused"] >= 1, live
print("  ok: /api/status live:", {k: live[k] for k in ("connections", "reconnects", "refused", "unauthorized", "underruns")})
' || fail "/api/status has no live counts"

# After the special: its recording, an episode of the show.
echo "  waiting for the end of the special and its episode"
feed="$tmp/feed.xml"
ready=
for _ in $(seq 1 300); do
  curl -fs "$url/shows/fete-des-ors/feed.xml" -o "$feed" 2>/dev/null
  if grep -q 'en direct du' "$feed" 2>/dev/null && grep -q 'enclosure url="[^"]*/media/' "$feed"; then ready=1; break; fi
  sleep 1
done
[ -n "$ready" ] || fail "the live show did not become an episode: $(tail -n 20 "$tmp/daemon.log")"
title=$(python3 -c 'import re,sys; print([t for t in re.findall(r"<title>(.*?)</title>", open(sys.argv[1]).read()) if "en direct du" in t][0])' "$feed")
ok "the live show is an episode in the show's feed: $title"
if command -v podcastparser >/dev/null 2>&1 || python3 -c 'import podcastparser' 2>/dev/null; then
  python3 - "$feed" <<'PY' || fail "podcastparser cannot read the feed"
import podcastparser, sys
feed = podcastparser.parse("http://x/feed.xml", open(sys.argv[1], "rb"))
ep = feed["episodes"][0]
assert "en direct" in ep["title"] and ep["enclosures"], ep
print("  ok: podcastparser reads it:", ep["title"], ep["enclosures"][0]["url"])
PY
elif [ "${CI:-}" = true ]; then
  fail "podcastparser is not installed"
fi
