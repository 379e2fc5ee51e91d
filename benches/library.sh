#!/usr/bin/env bash
# The background loudness analyser (issue 15) against ffmpeg's ebur128 (true peak on), both on
# one thread over the same folder of MP3 tracks: wall time to measure it all.
# Usage: benches/library.sh path/to/antenne [TRACKS] [SECONDS]
set -euo pipefail
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
n=${2:-10} secs=${3:-60}
tmp=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; rm -rf "$tmp"' EXIT
pid=
mkdir -p "$tmp/media/music"
for i in $(seq 1 "$n"); do
  ffmpeg -hide_banner -v error -f lavfi -i "sine=f=$((200 + 37 * i)):d=$secs:sample_rate=44100" \
    -f lavfi -i "anoisesrc=c=pink:d=$secs:a=0.2:r=44100" -filter_complex amix=inputs=2 -ac 2 \
    -c:a libmp3lame -b:a 192k "$tmp/media/music/t$i.mp3" -y </dev/null
done
printf '[station]\nname = "Bench"\ntimezone = "UTC"\n\n[fallback]\nplaylist = "music"\nident = "idents"\n' >"$tmp/weekly.toml"
t0=$(date +%s.%N)
for f in "$tmp"/media/music/*.mp3; do
  ffmpeg -hide_banner -nostats -threads 1 -i "$f" -af ebur128=peak=true -f null - 2>/dev/null
done
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
print(f'{$n} tracks x {$secs} s: ffmpeg ebur128 {f:.1f} s, antenne analyser {a:.1f} s (incl. start-up), ratio {a / f:.2f}x')"
