# Sourced by the loudness checks (after lib.sh): made-up programme material at a chosen
# loudness, as ffmpeg's meter sees it, and the wait for the daemon's analyser.

integrated() { # FILE -> its integrated loudness per ffmpeg's ebur128
  ffmpeg -hide_banner -nostats -i "$1" -af ebur128 -f null - 2>&1 |
    sed -n 's/^ *I: *\(-\{0,1\}[0-9.]*\) LUFS.*/\1/p' | tail -n 1
}

tone_at() { # OUT FREQ SECONDS LUFS: a tone over pink noise, stereo 44.1 kHz WAV at that loudness
  local raw="$1.raw.wav" i
  ffmpeg -hide_banner -v error -f lavfi -i "sine=f=$2:d=$3:sample_rate=44100" \
    -f lavfi -i "anoisesrc=c=pink:d=$3:a=0.1:r=44100" -filter_complex amix=inputs=2 \
    -ac 2 "$raw" -y </dev/null || fail "ffmpeg cannot make $1"
  i=$(integrated "$raw")
  ffmpeg -hide_banner -v error -i "$raw" -af "volume=$(python3 -c "print($4 - $i)")dB" \
    -c:a pcm_s16le "$1" -y </dev/null || fail "ffmpeg cannot level $1"
  rm -f "$raw"
  echo "  $(basename "$1"): $(integrated "$1") LUFS"
}

wait_library() { # URL COUNT LOG: until /api/library lists COUNT analysed files (60 s at most)
  local listed=0
  for _ in $(seq 1 600); do
    listed=$(curl -fs "$1/api/library" 2>/dev/null |
      python3 -c 'import json,sys; print(len(json.load(sys.stdin)["files"]))' 2>/dev/null || echo 0)
    [ "$listed" = "$2" ] && return 0
    sleep 0.1
  done
  fail "/api/library lists $listed files, not $2: $(tail -n 20 "$3")"
}
