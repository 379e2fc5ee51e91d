#!/usr/bin/env bash
# The background loudness analyser (issue 15) against ffmpeg's ebur128 (true peak on), both on
# one thread over the same folder of MP3 tracks: wall time to measure it all; then the
# playout's late and skipped frames over the scan (it airs from that folder meanwhile: the
# scan must not disturb it).
# Usage: benches/library.sh path/to/antenne [TRACKS] [SECONDS]
# Env: COPIES (1): each generated track is also kept as COPIES files that differ by an ID3
# tag only (distinct content hashes, each measured: 20 tracks x 25 copies = 500 files
# without 500 encodes); SKIP_FFMPEG=1 skips the ffmpeg reference.
set -euo pipefail
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
n=${2:-10} secs=${3:-60} copies=${COPIES:-1}
tmp=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; rm -rf "$tmp"' EXIT
pid=
mkdir -p "$tmp/media/music"
for i in $(seq 1 "$n"); do
  ffmpeg -hide_banner -v error -f lavfi -i "sine=f=$((200 + 37 * i)):d=$secs:sample_rate=44100" \
    -f lavfi -i "anoisesrc=c=pink:d=$secs:a=0.2:r=44100" -filter_complex amix=inputs=2 -ac 2 \
    -c:a libmp3lame -b:a 192k "$tmp/media/music/t$i.mp3" -y </dev/null
done
if [ "$copies" -gt 1 ]; then
  python3 - "$tmp/media/music" "$copies" <<'PY'
import os, pathlib, sys
folder, copies = pathlib.Path(sys.argv[1]), int(sys.argv[2])
def id3(title):  # an ID3v2.3 tag with one TIT2 frame
    text = b"\x00" + title.encode()
    frame = b"TIT2" + len(text).to_bytes(4, "big") + b"\x00\x00" + text
    size = len(frame)
    syncsafe = bytes([(size >> 21) & 127, (size >> 14) & 127, (size >> 7) & 127, size & 127])
    return b"ID3\x03\x00\x00" + syncsafe + frame
for track in sorted(folder.glob("t*.mp3")):
    audio = track.read_bytes()
    for c in range(1, copies):
        (folder / f"{track.stem}-{c}.mp3").write_bytes(id3(f"{track.stem} copy {c}") + audio)
PY
fi
n=$(ls "$tmp"/media/music/*.mp3 | wc -l)
printf '[station]\nname = "Bench"\ntimezone = "UTC"\n\n[fallback]\nplaylist = "music"\nident = "idents"\n' >"$tmp/weekly.toml"
t0=$(date +%s.%N)
if [ -z "${SKIP_FFMPEG:-}" ]; then
  for f in "$tmp"/media/music/*.mp3; do
    ffmpeg -hide_banner -nostats -threads 1 -i "$f" -af ebur128=peak=true -f null - 2>/dev/null
  done
fi
t1=$(date +%s.%N)
port=$(( 20000 + RANDOM % 20000 ))
"$bin" serve --listen "127.0.0.1:$port" --data-dir "$tmp/data" --media-dir "$tmp/media" \
  --schedule "$tmp/weekly.toml" >"$tmp/daemon.log" 2>&1 &
pid=$!
t2=$(date +%s.%N)
while :; do
  k=$(curl -fs "http://127.0.0.1:$port/api/library" 2>/dev/null |
    python3 -c 'import json,sys; print(len(json.load(sys.stdin)["files"]))' 2>/dev/null || echo 0)
  [ "$k" = "$n" ] && break
  sleep 0.1
done
t3=$(date +%s.%N)
python3 -c "
f, a = $t1 - $t0, $t3 - $t2
ff = f'ffmpeg ebur128 {f:.1f} s, ' if f > 1 else ''
ratio = f', ratio {a / f:.2f}x' if f > 1 else ''
print(f'{$n} tracks x {$secs} s: {ff}antenne analyser {a:.1f} s (incl. start-up){ratio}')"
curl -fs "http://127.0.0.1:$port/api/status" | python3 -c '
import json, sys
a = json.load(sys.stdin)["on_air"]
print("playout over the scan: late_frames %s, skipped_frames %s, failed_items %s" % (a["late_frames"], a["skipped_frames"], a["failed_items"]))'
