#!/usr/bin/env bash
# CPU per on-air hour (issue 15): Antenne playing its demo schedule out with its outputs (MP3
# stream, Opus stream, HLS segments on disk), against Liquidsoap playing the same beds out to
# the same three outputs (%mp3 128 kbps, %opus 48 kbps, output.file.hls with MP3 segments), in
# the same run, one after the other. Each program runs SECONDS of real time after a warm-up;
# its CPU (user + system, /proc/PID/stat) is scaled to an hour. No listener is connected:
# this is the cost of producing the outputs.
#
#   benches/onair.sh [BINARY] [SECONDS]      (default: target/release/antenne, 120 s)
#
# Antenne is measured three times: MP3 only (opus_bitrate = 0, hls_window = 0), MP3 + Opus,
# MP3 + Opus + HLS, so each output's share shows.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$repo/target/release/antenne}
secs=${2:-120}
warm=10
command -v liquidsoap >/dev/null || { echo "liquidsoap is not installed (apt-get install liquidsoap)"; exit 1; }
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; true' EXIT
hz=$(getconf CLK_TCK)

# CPU seconds (user + system) of PID and its threads so far.
cpu() { awk -v hz="$hz" '{print ($14 + $15) / hz}' "/proc/$1/stat"; }

# Runs PID's measurement window; prints CPU seconds per on-air hour.
measure() { # PID
  sleep "$warm"
  local a b
  a=$(cpu "$1"); sleep "$secs"; b=$(cpu "$1")
  python3 -c "print(f'{($b - $a) * 3600 / $secs:.1f}')"
}

antenne() { # NAME OPUS_KBPS HLS_WINDOW
  local dir=$tmp/$1 port=$(( 20000 + RANDOM % 20000 ))
  mkdir -p "$dir"
  # The demo's episodes are seeded (ingested) first, so the window measures playout alone.
  cp -r "$repo/media" "$dir/media"
  printf 'opus_bitrate = %s\nhls_window = %s\n' "$2" "$3" >"$dir/antenne.toml"
  "$bin" serve --config "$dir/antenne.toml" --listen "127.0.0.1:$port" --data-dir "$dir/data" \
    --media-dir "$dir/media" --schedule "$repo/schedules/weekly.toml" >"$dir/log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 600); do
    busy=$(curl -fs "http://127.0.0.1:$port/api/status" 2>/dev/null | python3 -c 'import json,sys; e=json.load(sys.stdin)["catalog"]["episodes"]; print(e["queued"]+e["processing"])' 2>/dev/null || echo x)
    [ "$busy" = 0 ] && break
    sleep 0.5
  done
  local r; r=$(measure $pid)
  kill $pid; wait $pid 2>/dev/null || true
  echo "$r"
}

liquidsoap_run() {
  local dir=$tmp/liquidsoap
  mkdir -p "$dir/hls"
  cat >"$dir/onair.liq" <<EOF
settings.init.allow_root.set(true)
settings.log.stdout.set(false)
settings.log.file.set(false)
s = mksafe(playlist("$repo/media/beds"))
output.file(%mp3(bitrate=128, samplerate=44100), "$dir/out.mp3", s)
output.file(%opus(bitrate=48, samplerate=48000, channels=2), "$dir/out.opus", s)
output.file.hls("$dir/hls", [("mp3", %mp3(bitrate=128, samplerate=44100))], s, segment_duration=6.)
EOF
  liquidsoap "$dir/onair.liq" >"$dir/log" 2>&1 &
  local pid=$!
  local r; r=$(measure $pid)
  kill $pid; wait $pid 2>/dev/null || true
  echo "$r"
}

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
ls_all=$(liquidsoap_run)
a_mp3=$(antenne mp3 0 0)
a_opus=$(antenne mp3opus 48 0)
a_all=$(antenne all 48 10800)
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| outputs | Antenne CPU s per on-air hour | Liquidsoap $(liquidsoap --version | head -1 | cut -d' ' -f2) | Antenne / Liquidsoap |"
echo "|---|---|---|---|"
echo "| MP3 | $a_mp3 | | |"
echo "| MP3 + Opus | $a_opus | | |"
echo "| MP3 + Opus + HLS | $a_all | $ls_all | $(python3 -c "print(f'{$a_all / $ls_all:.2f}x')") |"
