#!/usr/bin/env bash
# Upload benchmark: a generated 1-hour stereo 44.1 kHz 16-bit WAV (~635 MB) sent on loopback
# to a running `antenne serve`, once as multipart (POST /api/episodes) and once as one tus
# PATCH (/api/uploads), with curl. Reports throughput and the daemon's RSS before, and its
# peak RSS (VmHWM) after each upload. Usage: benches/upload.sh [path/to/antenne]
set -euo pipefail
bin=${1:-target/release/antenne}
tmp=$(mktemp -d)
port=$(( 20000 + RANDOM % 20000 ))
url="http://127.0.0.1:$port"
"$bin" serve --listen "127.0.0.1:$port" --data-dir "$tmp/data" >"$tmp/log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 1 100); do curl -fs "$url/healthz" >/dev/null && break; sleep 0.1; done
token=$("$bin" token add bench --data-dir "$tmp/data" 2>/dev/null)
show=$(curl -fs "$url/upload" | grep -o '<option value="[^"]*"' | head -1 | cut -d'"' -f2)
mk_wav() { # $1 file, $2 seed: a 60-minute WAV whose samples differ per seed (no dedup)
  python3 - "$1" "$2" <<'PY'
import os, struct, sys
rate, secs = 44100, 3600
n = rate * secs * 4
with open(sys.argv[1], "wb") as f:
    f.write(b"RIFF" + struct.pack("<I", 36 + n) + b"WAVEfmt " + struct.pack("<IHHIIHH", 16, 1, 2, rate, rate * 4, 4, 16) + b"data" + struct.pack("<I", n))
    block = os.urandom(1 << 20)
    seed = sys.argv[2].encode() * 4
    for i in range(n >> 20):
        f.write(seed + block[len(seed):])
        block = block[1:] + block[:1]
    f.write(block[: n % (1 << 20)])
PY
}
rss() { awk '/^VmRSS/ {print $2}' /proc/$pid/status; }
hwm() { awk '/^VmHWM/ {print $2}' /proc/$pid/status; }
mk_wav "$tmp/a.wav" a; mk_wav "$tmp/b.wav" b
size=$(stat -c %s "$tmp/a.wav")
echo "file: $size bytes"
before=$(rss)
t0=$(date +%s.%N)
curl -fsS -o /dev/null -H "Authorization: Bearer $token" -F show="$show" -F title="Bench multipart" -F file=@"$tmp/a.wav" "$url/api/episodes"
t1=$(date +%s.%N)
echo "multipart: $(python3 -c "print(f'{$size/($t1-$t0)/1e6:.0f} MB/s in {$t1-$t0:.2f} s')"), RSS before $((before/1024)) MiB, peak $(( $(hwm) / 1024 )) MiB"
b64() { printf %s "$1" | base64 -w0; }
loc=$(curl -fsS -D - -o /dev/null -X POST -H "Authorization: Bearer $token" -H "Tus-Resumable: 1.0.0" \
  -H "Upload-Length: $size" -H "Upload-Metadata: show $(b64 "$show"),title $(b64 "Bench tus")" "$url/api/uploads" \
  | awk 'tolower($1)=="location:" {print $2}' | tr -d '\r')
before=$(rss)
t0=$(date +%s.%N)
curl -fsS -o /dev/null -X PATCH -H "Authorization: Bearer $token" -H "Tus-Resumable: 1.0.0" -H "Upload-Offset: 0" \
  -H "Content-Type: application/offset+octet-stream" --data-binary @"$tmp/b.wav" "$url$loc"
t1=$(date +%s.%N)
echo "tus PATCH: $(python3 -c "print(f'{$size/($t1-$t0)/1e6:.0f} MB/s in {$t1-$t0:.2f} s')"), RSS before $((before/1024)) MiB, peak $(( $(hwm) / 1024 )) MiB"
echo "episodes: $(curl -fs "$url/api/episodes" | python3 -c 'import json,sys; print([(e["title"], e["status"], e["original"]["bytes"]) for e in json.load(sys.stdin)["episodes"]])')"
