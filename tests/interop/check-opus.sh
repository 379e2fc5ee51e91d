#!/usr/bin/env bash
# The Opus stream (issue 15): ffprobe reads /stream.opus's Ogg headers (Opus, 48 kHz, stereo,
# the now-playing TITLE in its comments), ffmpeg decodes 6 s of it without an error, and
# Icecast relays it as a second mount (/live.opus) that ffmpeg decodes too. A listener of
# /stream.opus is counted under `opus` in /api/now and /metrics while it listens.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
need ffmpeg ffprobe curl python3
url=${ANTENNE_URL:?}
tmp=${INTEROP_TMP:-$(mktemp -d)}/opus
mkdir -p "$tmp"

probe=$(ffprobe -v error -show_entries stream=codec_name,sample_rate,channels:stream_tags=title \
  -of json -read_intervals '%+3' "$url/stream.opus" 2>"$tmp/ffprobe.log") ||
  fail "ffprobe cannot read /stream.opus: $(cat "$tmp/ffprobe.log")"
echo "$probe" | python3 -c '
import json, sys
s = json.load(sys.stdin)["streams"][0]
assert s["codec_name"] == "opus" and s["sample_rate"] == "48000" and s["channels"] == 2, s
tags = {k.upper(): v for k, v in s.get("tags", {}).items()}
# The now-playing title, in the comment header of the current logical stream.
assert tags.get("TITLE"), tags
print("  ok: ffprobe reads /stream.opus:", s["codec_name"], s["sample_rate"], "Hz,", s["channels"], "channels, TITLE", repr(tags["TITLE"]))
' || fail "/stream.opus is not Ogg Opus 48 kHz stereo: $probe"

decode() { # URL NAME
  timeout 60 ffmpeg -hide_banner -v error -xerror -t 6 -i "$1" -f s16le -ac 1 -ar 8000 "$tmp/$2.raw" -y \
    </dev/null 2>"$tmp/$2.log" || fail "ffmpeg cannot decode $1: $(cat "$tmp/$2.log")"
  [ ! -s "$tmp/$2.log" ] || fail "ffmpeg reports errors on $1: $(cat "$tmp/$2.log")"
  python3 - "$tmp/$2.raw" <<'PY' || fail "$1 decodes to silence or too little audio"
import struct, sys, math
raw = open(sys.argv[1], "rb").read()
s = struct.unpack(f"<{len(raw)//2}h", raw)
assert len(s) >= 8000 * 5, len(s)
rms = math.sqrt(sum(x * x for x in s) / len(s))
assert rms > 100, rms
print(f"  ok: {len(s) / 8000:.1f} s decoded clean, RMS {rms:.0f}")
PY
}
decode "$url/stream.opus" stream
ok "ffmpeg decodes /stream.opus without an error"

# Listener accounting: one more `opus` listener while curl reads the stream, none after.
opus_now() { curl -fs "$url/api/now" | python3 -c 'import json,sys; print(json.load(sys.stdin)["listeners_by_output"]["opus"])'; }
opus_metric() { curl -fs "$url/metrics" | sed -n 's/^antenne_output_listeners{output="opus"} //p'; }
# The decoders above leave as their connections close: wait until the count holds for 1 s.
before=$(opus_now) || fail "/api/now has no listeners_by_output.opus"
same=0
for _ in $(seq 1 100); do
  sleep 0.2
  n=$(opus_now)
  if [ "$n" = "$before" ]; then same=$((same + 1)); else same=0 before=$n; fi
  [ $same -ge 5 ] && break
done
curl -s --max-time 6 -o /dev/null "$url/stream.opus" &
reader=$!
for _ in $(seq 1 30); do
  [ "$(opus_now)" -gt "$before" ] 2>/dev/null && break
  sleep 0.1
done
during=$(opus_now) metric=$(opus_metric)
[ "$during" -eq $((before + 1)) ] || fail "opus listeners: $before before, $during while one listens"
[ "$metric" = "$during" ] || fail "/metrics says $metric opus listeners, /api/now $during"
wait $reader
for _ in $(seq 1 50); do
  [ "$(opus_now)" -eq "$before" ] && break
  sleep 0.1
done
[ "$(opus_now)" -eq "$before" ] || fail "the opus listener is still counted after it left"
ok "a /stream.opus listener is counted under opus in /api/now and /metrics ($before -> $during -> $before)"

if [ -n "${ICECAST_URL:-}" ]; then
  relay="${ICECAST_URL%.mp3}.opus"
  # The mount is a live stream: read it for a second and look at the status only.
  for _ in $(seq 1 50); do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$relay" 2>/dev/null)
    [ "$code" = 200 ] && break
    sleep 0.2
  done
  decode "$relay" relay
  ok "Icecast relays the Opus stream as a second mount ($relay)"
elif [ "${CI:-}" = true ]; then
  fail "no Icecast to relay the Opus stream"
fi
