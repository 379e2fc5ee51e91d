#!/usr/bin/env bash
# Live input benchmark (issue 14): the real daemon taking a live source against Liquidsoap
# (`input.harbor` → `output.icecast` to Icecast 2, the received bytes kept with harbor's
# `dumpfile`), both fed the same source in the same run. Prints two Markdown tables:
#
# 1. CPU per live hour. First IDLE_SECS with no source (Antenne plays its fallback beds,
#    Liquidsoap `mksafe` encodes silence), then two `ffmpeg -re -c copy` push the same
#    generated programme (FORMAT: MP3 128 kbps or Ogg Vorbis q4, 44.1 kHz stereo, or Ogg Opus
#    128 kbps, 48 kHz) to both,
#    and MINUTES are measured after a 20 s warm-up: utime + stime from /proc/PID/stat of the
#    daemon, of Liquidsoap and of Icecast, scaled to one hour. Antenne: decode + downmix +
#    drift resampling + loudness riding + limiter + MP3 encode + recording + its own /stream;
#    Liquidsoap: decode + MP3 encode + dump, Icecast serving the mount.
# 2. Source-to-listener latency: listeners on Antenne's /stream (default 2 s burst) and on
#    Icecast's mounts (its default 64 KB burst) fed by Liquidsoap with harbor's default 12 s
#    buffer and with a 1 s buffer; one sender streams short tone bursts after silence to the
#    three inputs at once (benches/live.py latency).
#
# Usage: benches/live.sh [path/to/antenne]     (default target/release/antenne)
# Env: MINUTES (5), IDLE_SECS (60), FORMAT (mp3|ogg|opus), ONSETS (20; at least 5, or the 12 s
# harbor never plays: it waits for 12 s of audio), SKIP_CPU=1, SKIP_LATENCY=1,
# BURST (the daemon's burst_seconds; its default, 2, when unset), KEEP=1 (keep the scratch
# folder: logs, recordings, what each listener received).
# Needs: ffmpeg, liquidsoap, icecast2, curl, python3.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
export ANTENNE_BIN=$(cd "$(dirname "${1:-$repo/target/release/antenne}")" && pwd)/$(basename "${1:-antenne}")
minutes=${MINUTES:-5} idle=${IDLE_SECS:-60} format=${FORMAT:-mp3} onsets=${ONSETS:-20}
for t in ffmpeg liquidsoap icecast2 curl python3; do command -v "$t" >/dev/null || { echo "missing $t"; exit 1; }; done
. "$repo/tests/interop/icecast.sh"
. "$repo/tests/interop/live-lib.sh"
tmp=$(mktemp -d)
chmod 755 "$tmp"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null
  if [ -n "${KEEP:-}" ]; then echo "kept: $tmp (heard/*.mp3: what each listener received)" >&2; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

[ -n "${BURST:-}" ] && export ANTENNE_BURST_SECONDS=$BURST
start_icecast "$tmp/icecast" >/dev/null
pids+=("$ICECAST_PID")
start_live_daemon "$tmp/antenne"
pids+=("$LIVE_PID")
token=$("$ANTENNE_BIN" "${LIVE_ARGS[@]}" token add bench --live 2>/dev/null)

# Liquidsoap: harbor (BUFFER s) → MP3 128 kbps to Icecast's MOUNT, the received bytes dumped.
liquidsoap_harbor() { # NAME BUFFER MOUNT → sets HARBOR_PORT, HARBOR_PID
  HARBOR_PORT=$(free_port)
  cat >"$tmp/$1.liq" <<LIQ
settings.init.allow_root.set(true)
settings.log.stdout.set(true)
settings.log.file.set(false)
settings.harbor.bind_addrs.set(["127.0.0.1"])
live = input.harbor("live", port=$HARBOR_PORT, password="harbor", buffer=$2., dumpfile="$tmp/$1.dump")
output.icecast(%mp3(bitrate=128, samplerate=44100, stereo=true), host="127.0.0.1",
  port=$ICECAST_PORT, password="$ICECAST_PASS", mount="$3", mksafe(live))
LIQ
  liquidsoap "$tmp/$1.liq" >"$tmp/$1.log" 2>&1 &
  HARBOR_PID=$!
  pids+=("$HARBOR_PID")
  for _ in $(seq 1 120); do
    grep -q "Connection setup was successful" "$tmp/$1.log" && return 0
    sleep 0.5
  done
  echo "Liquidsoap did not start: $(tail -n 20 "$tmp/$1.log")"
  exit 1
}
liquidsoap_harbor liquidsoap 12 lq.mp3
lq_port=$HARBOR_PORT lq_pid=$HARBOR_PID

cpu() { python3 "$here/live.py" cpu --pids "antenne=$LIVE_PID,liquidsoap=$lq_pid,icecast=$ICECAST_PID" --secs "$1"; }
if [ -z "${SKIP_CPU:-}" ]; then
  echo "programme: $minutes min + 1, $format, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
  case $format in
    mp3) codec=(-c:a libmp3lame -b:a 128k -f mp3) ct=audio/mpeg ;;
    ogg) codec=(-c:a libvorbis -q:a 4 -f ogg) ct=application/ogg ;;
    opus) codec=(-c:a libopus -b:a 128k -ar 48000 -f ogg) ct=application/ogg ;;
  esac
  # A programme with music's spread of levels: a slowly swelling chord over pink noise.
  ffmpeg -hide_banner -loglevel error -y -f lavfi \
    -i "aevalsrc=0.12*sin(2*PI*220*t)*(0.6+0.4*sin(2*PI*0.13*t))+0.08*sin(2*PI*277*t)*(0.5+0.5*sin(2*PI*0.07*t))+0.06*sin(2*PI*330*t)|0.12*sin(2*PI*220*t)*(0.6+0.4*sin(2*PI*0.11*t))+0.08*sin(2*PI*370*t):s=44100" \
    -f lavfi -i "anoisesrc=color=pink:amplitude=0.05:sample_rate=44100" \
    -filter_complex "[1]aformat=channel_layouts=stereo[n];[0][n]amix=inputs=2:normalize=0" \
    -t $(( (minutes + 1) * 60 )) "${codec[@]}" "$tmp/programme.$format"
  echo "idle: $idle s, no source" >&2
  idle_json=$(cpu "$idle")
  push() { exec ffmpeg -hide_banner -loglevel error -re -i "$tmp/programme.$format" -c copy -content_type "$ct" -f "${codec[-1]}" "$1" 2>"$tmp/push-$2.log"; }
  push "icecast://source:$token@127.0.0.1:$LIVE_PORT/live" antenne &
  pids+=($!)
  push "icecast://source:harbor@127.0.0.1:$lq_port/live" liquidsoap &
  pids+=($!)
  sleep 20
  [ "$(live_status "bool(live['connected'])")" = True ] || { echo "the source is not on Antenne"; cat "$tmp/push-antenne.log"; exit 1; }
  dump0=$(stat -c %s "$tmp/liquidsoap.dump" 2>/dev/null || echo 0)
  echo "live: $minutes min" >&2
  live_json=$(cpu $(( minutes * 60 )))
  dump1=$(stat -c %s "$tmp/liquidsoap.dump" 2>/dev/null || echo 0)
  [ "$dump1" -gt "$dump0" ] || { echo "Liquidsoap received nothing"; tail -n 20 "$tmp/liquidsoap.log"; exit 1; }
  [ "$(live_status "bool(live['connected'])")" = True ] || { echo "the source left Antenne"; exit 1; }
  underruns=$(live_status "live['underruns']")
  cushion=$(live_status "f\"{live['cushion_ms']} ms cushion, {live['buffer_ms']} ms buffered, drift {live['drift_ppm']} ppm\"")
  python3 - "$idle_json" "$live_json" "$idle" "$(( minutes * 60 ))" "$format" "$underruns" "$cushion" <<'PY'
import json, sys
idle, live = json.loads(sys.argv[1]), json.loads(sys.argv[2])
idle_s, live_s, fmt, underruns, cushion = float(sys.argv[3]), float(sys.argv[4]), sys.argv[5], sys.argv[6], sys.argv[7]
per_hour = lambda d, secs: d["cpu_s"] * 3600 / secs
rows = [("Antenne (daemon)", ["antenne"]), ("Liquidsoap", ["liquidsoap"]), ("Liquidsoap + Icecast", ["liquidsoap", "icecast"])]
print(f"| {fmt} source, 128 kbps MP3 out | idle CPU s/h | live CPU s/h | live, % of a core | RSS live (MiB) |")
print("|---|---|---|---|---|")
for name, procs in rows:
    i = sum(per_hour(idle[p], idle_s) for p in procs)
    l = sum(per_hour(live[p], live_s) for p in procs)
    rss = sum(live[p]["rss_kib"] for p in procs) / 1024
    print(f"| {name} | {i:.0f} | {l:.0f} | {l / 36:.1f} % | {rss:.0f} |")
a = per_hour(live["antenne"], live_s)
lq = per_hour(live["liquidsoap"], live_s)
lqi = lq + per_hour(live["icecast"], live_s)
print(f"\nratio Antenne / Liquidsoap: {a / lq:.2f}; Antenne / (Liquidsoap + Icecast): {a / lqi:.2f}; Antenne underruns: {underruns}; at the end: {cushion}")
PY
  for p in "${pids[@]: -2}"; do kill "$p" 2>/dev/null || true; done
  sleep 8   # the daemon's grace, and the harbor's source timeout
fi

if [ -z "${SKIP_LATENCY:-}" ]; then
  liquidsoap_harbor liquidsoap-1s 1 lq1.mp3
  lq1_port=$HARBOR_PORT
  # Icecast bursts what it has queued, up to 64 KB (4 s at 128 kbps): let the new mount fill
  # it, as an established one has.
  sleep 6
  # Tone bursts after silence: 0.5 s every 4 s, six frequencies in turn (an onset's identity).
  ffmpeg -hide_banner -loglevel error -y -f lavfi \
    -i "aevalsrc=if(between(mod(t\,4)\,2\,2.5)\,0.25*sin(2*PI*(500+200*mod(floor(t/4)\,6))*t)\,0):s=44100:c=stereo" \
    -t $(( onsets * 4 )) -c:a libmp3lame -b:a 128k -write_xing 0 -id3v2_version 0 -f mp3 "$tmp/onsets.mp3"
  mkdir -p "$tmp/heard"
  echo "latency: $onsets onsets" >&2
  # The live input's state twice a second, to tell what happened while the source streamed
  # from what the sender's end does (it stays connected, silent, for 25 s while the
  # listeners take the last onsets: the buffer runs dry then, rightly counted as underrun).
  (while :; do echo "$(date +%s.%N)	$(live_status "'\\t'.join(map(str, [bool(live['connected']), live['underruns'], live['cushion_ms'], live['buffer_ms']]))" 2>/dev/null)"
    sleep 0.5; done >"$tmp/live-status.tsv") &
  poller=$!
  pids+=("$poller")
  # The sender starts 2 s after the listeners; its last frame is due onsets × 4 s later.
  streaming_until=$(python3 -c "import time; print(time.time() + 2 + $onsets * 4)")
  python3 "$here/live.py" latency --source "$tmp/onsets.mp3" \
    --to "http://source:$token@127.0.0.1:$LIVE_PORT/live" \
    --to "http://source:harbor@127.0.0.1:$lq_port/live" \
    --to "http://source:harbor@127.0.0.1:$lq1_port/live" \
    --listen "antenne=$LIVE_URL/stream" \
    --listen "liquidsoap=http://127.0.0.1:$ICECAST_PORT/lq.mp3" \
    --listen "liquidsoap-1s=http://127.0.0.1:$ICECAST_PORT/lq1.mp3" \
    --out "$tmp/heard" >"$tmp/latency.json"
  python3 - "$tmp/latency.json" <<'PY'
import json, os, sys
r = json.load(open(sys.argv[1]))
names = {
    "antenne": f"Antenne `/stream` ({os.environ.get('ANTENNE_BURST_SECONDS', '2')} s burst)",
    "liquidsoap": "Liquidsoap harbor (12 s buffer) → Icecast (64 KB burst)",
    "liquidsoap-1s": "Liquidsoap harbor (1 s buffer) → Icecast (64 KB burst)",
}
print(f"\n| listener ({r['source_onsets']} onsets sent) | onsets heard | heard: median | max | arrival at the socket: median | max |")
print("|---|---|---|---|---|---|")
fmt = lambda x: "-" if x is None else f"{x:.2f} s"
for k, name in names.items():
    v = r[k]
    h, a = v["heard"], v["arrival"]
    print(f"| {name} | {v['onsets']} | {fmt(h['median_s'])} | {fmt(h['max_s'])} | {fmt(a['median_s'])} | {fmt(a['max_s'])} |")
print("\nonsets heard (s after the sender's start):", {k: r[k]["at"] for k in names}, file=sys.stderr)
PY
  kill "$poller" 2>/dev/null; wait "$poller" 2>/dev/null || true
  awk -F'\t' -v until="$streaming_until" '$1 < until && $2 == "True" { n++; if ($3 > u) u = $3; if ($4 > c) c = $4; if (b == "" || $5 < b) b = $5 }
    END { printf "Antenne while the source streamed (%d polls): %d underruns, cushion at most %d ms, buffer at least %d ms\n", n, u, c, b }' "$tmp/live-status.tsv"
  echo "Antenne at the end: $(live_status "f\"{live['underruns']} underruns, {live['cushion_ms']} ms cushion, {live['buffer_ms']} ms buffered\"")"
fi
