#!/usr/bin/env bash
# HLS (issue 15): /hls/live.m3u8 answers with its caching headers, every segment carries the
# ID3 timestamp of its PROGRAM-DATE-TIME, and ffmpeg plays the live playlist (the packed MP3
# segments, reloading it as it slides) for 12 s without an error.
set -uo pipefail
. "$INTEROP_DIR/lib.sh"
need ffmpeg ffprobe curl python3
url="$ANTENNE_URL/hls/live.m3u8"
for _ in $(seq 1 60); do
  n=$(curl -fs "$url" | grep -c '\.mp3$')
  [ "${n:-0}" -ge 3 ] && break
  sleep 1
done
[ "${n:-0}" -ge 3 ] || fail "fewer than 3 segments in $url after 60 s"
ok "$url lists $n segments"
heads=$(curl -fsSI "$url" | tr -d '\r' | tr 'A-Z' 'a-z')
echo "$heads" | grep -q '^content-type: application/vnd.apple.mpegurl' || fail "playlist content-type: $heads"
echo "$heads" | grep -q '^cache-control: public, max-age=1' || fail "playlist cache-control: $heads"
seg=$(curl -fs "$url" | grep '\.mp3$' | tail -n 1)
heads=$(curl -fsSI "$ANTENNE_URL/hls/$seg" | tr -d '\r' | tr 'A-Z' 'a-z')
echo "$heads" | grep -q '^cache-control: public, max-age=31536000, immutable' || fail "segment cache-control: $heads"
ok "caching: playlist max-age=1, segments immutable"
# Each segment's PRIV timestamp is its PROGRAM-DATE-TIME at 90 kHz (modulo 2^33, to 1 ms).
curl -fs "$url" >"$INTEROP_TMP/live.m3u8"
python3 - "$INTEROP_TMP/live.m3u8" "$ANTENNE_URL/hls/" <<'PY' || fail "ID3 timestamps do not match PROGRAM-DATE-TIME"
import sys, urllib.request, datetime
owner = b"com.apple.streaming.transportStreamTimestamp\0"
pdt, checked = None, 0
for line in open(sys.argv[1]):
    line = line.strip()
    if line.startswith("#EXT-X-PROGRAM-DATE-TIME:"):
        pdt = datetime.datetime.fromisoformat(line.split(":", 1)[1].replace("Z", "+00:00"))
    elif line.endswith(".mp3"):
        data = urllib.request.urlopen(sys.argv[2] + line).read()
        assert data[:3] == b"ID3", line
        i = data.index(owner) + len(owner)
        ts = int.from_bytes(data[i:i + 8], "big")
        want = (int(pdt.timestamp() * 1000) * 90) % (1 << 33)
        d = (ts - want) % (1 << 33)
        if min(d, (1 << 33) - d) > 90:
            sys.exit(f"{line}: PRIV {ts} != {want} ({pdt})")
        checked += 1
print(f"  ok: {checked} segments' ID3 timestamps match their PROGRAM-DATE-TIME")
PY
# ffmpeg's HLS demuxer stamps the frames it has read ahead at a segment boundary with the
# next segment's ID3 timestamp (its packed-audio handling), so the decoded audio's
# timestamps are renumbered (asetpts) before the null muxer, which would reject them.
out="$INTEROP_TMP/hls.wav"
err=$(timeout 120 ffmpeg -nostdin -v error -i "$url" -t 12 -af asetpts=N/SR/TB -f wav -y "$out" 2>&1)
rc=$?
[ $rc -eq 0 ] || fail "ffmpeg exited $rc: $err"
[ -z "$err" ] || fail "ffmpeg reported: $err"
dur=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$out")
python3 -c "import sys; sys.exit(0 if float('$dur') >= 11.5 else 1)" || fail "decoded only $dur s"
ok "ffmpeg decoded $dur s of the live HLS without an error"
