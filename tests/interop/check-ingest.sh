#!/usr/bin/env bash
# Ingest interop: inputs made by ffmpeg (AAC/M4A, Ogg Vorbis, FLAC, ALAC, MP3, 24-bit WAV)
# are ingested with `antenne ingest`; every published rendition is read by ffprobe without
# error and measured by ffmpeg's own ebur128 filter (an independent implementation):
# integrated loudness within ±0.5 LU of -16 LUFS, true peak <= -1.0 dBTP, duration within
# 50 ms of the source's. `antenne analyze --json` agrees with ffmpeg on the sources.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
need ffmpeg ffprobe python3
bin=${ANTENNE_BIN:?set ANTENNE_BIN to the antenne binary}
tmp=${INTEROP_TMP:-$(mktemp -d)}/ingest
mkdir -p "$tmp"
data="$tmp/data"

# 6 s of programme-like material: a voice-band tone under a 4 Hz envelope, pink-ish noise,
# 1 s of silence at each end (trimmed to 0.5 s), a sharp transient (high peak-to-loudness).
ffmpeg -hide_banner -nostdin -loglevel error -y \
  -f lavfi -i "sine=frequency=180:sample_rate=48000:duration=4,volume='0.4+0.3*sin(2*PI*4*t)':eval=frame" \
  -f lavfi -i "anoisesrc=color=pink:amplitude=0.05:sample_rate=48000:duration=4" \
  -filter_complex "[0][1]amix=inputs=2:normalize=0,aformat=channel_layouts=stereo,adelay=1000|1000,apad=pad_dur=1" \
  -c:a pcm_s24le "$tmp/source.wav" || fail "cannot generate the source"

measure() { # prints "I TP" from ffmpeg's ebur128 summary; $2 = extra filter options
  ffmpeg -hide_banner -nostdin -i "$1" -af "ebur128=peak=true${2:-}" -f null - 2>&1 |
    python3 -c 'import sys,re; t=sys.stdin.read(); s=t[t.rfind("Summary:"):]; print(re.search(r"I:\s+(-?[\d.]+)",s).group(1), re.search(r"Peak:\s+(-?[\d.]+)",s).group(1))'
}
duration() { ffprobe -v error -show_entries format=duration -of csv=p=0 "$1"; }

declare -A enc=(
  [m4a]="-c:a aac -b:a 160k"
  [ogg]="-c:a libvorbis -q:a 5"
  [flac]="-c:a flac"
  [alac.m4a]="-c:a alac"
  [mp3]="-c:a libmp3lame -b:a 192k"
  [wav]="-c:a pcm_s24le -ac 1 -ar 22050"
)
n=0
for ext in m4a ogg flac alac.m4a mp3 wav; do
  n=$((n + 1))
  src="$tmp/input-$n.$ext"
  # Each input slightly different so the sha256 dedup does not merge them.
  ffmpeg -hide_banner -nostdin -loglevel error -y -i "$tmp/source.wav" -af "volume=-$((n * 3))dB" ${enc[$ext]} "$src" \
    || fail "ffmpeg cannot make $ext"
  json=$("$bin" analyze --json "$src") || fail "analyze rejected $src"
  ours_i=$(echo "$json" | python3 -c 'import sys,json; print(json.load(sys.stdin)["integrated_lufs"])')
  # Antenne measures what the stereo station plays: a mono file counts as dual mono (EBU Tech 3341).
  opt=""; [ "$ext" = wav ] && opt=":dualmono=true"
  read -r ff_i _ < <(measure "$src" "$opt")
  python3 -c "import sys; sys.exit(abs($ours_i - ($ff_i)) > 0.3)" || fail "$ext: analyze says $ours_i LUFS, ffmpeg $ff_i"
  ok "$ext: analyze $ours_i LUFS, ffmpeg $ff_i LUFS"

  out=$("$bin" --data-dir "$data" ingest "$src" --show interop --title "Essai $ext" --date 2025-06-01 --json) \
    || fail "ingest rejected $src: $out"
  rendition=$(echo "$out" | python3 -c 'import sys,json; e=json.load(sys.stdin); assert e["status"]=="ready", e; print(e["rendition_path"])') \
    || fail "$ext: episode not ready: $out"
  ffprobe -v error -show_format -show_streams "$rendition" >/dev/null 2>"$tmp/ffprobe.err" || fail "ffprobe: $(cat "$tmp/ffprobe.err")"
  [ -s "$tmp/ffprobe.err" ] && fail "ffprobe complained about $rendition: $(cat "$tmp/ffprobe.err")"
  read -r i tp < <(measure "$rendition")
  python3 -c "import sys; sys.exit(not (abs($i + 16) <= 0.5 and $tp <= -1.0))" \
    || fail "$ext: published at $i LUFS, $tp dBTP (want -16 ±0.5, <= -1.0)"
  # ffprobe's duration must match the trimmed length the catalog recorded (±50 ms); that length
  # is ~5 s (1 s + 4 s + 1 s, trimmed to 0.5 s of silence each side; lossy codecs smear the edges).
  d=$(duration "$rendition")
  want=$(echo "$out" | python3 -c 'import sys,json; print(json.load(sys.stdin)["duration_s"])')
  python3 -c "import sys; sys.exit(abs($d - $want) > 0.05 or abs($want - 5.0) > 0.2)" \
    || fail "$ext: rendition lasts $d s (ffprobe), catalog says $want s, expected ~5.0"
  ok "$ext: rendition $i LUFS, $tp dBTP, $d s, ffprobe clean"
done

# A programme long enough (> 60 s) to be encoded on both cores: two LAME encoders spliced at a
# frame (audio/halves/). ffmpeg's strict MP3 decoder must read the splice without a word (a
# broken bit reservoir shows as "invalid new backstep" or an overread), and the published file
# must meet the same bounds. 150 s of tone, pink noise and a transient every 1.5 s.
ffmpeg -hide_banner -nostdin -loglevel error -y \
  -f lavfi -i "sine=frequency=220:sample_rate=44100:duration=150,volume='0.3+0.25*sin(2*PI*0.7*t)':eval=frame" \
  -f lavfi -i "anoisesrc=color=pink:amplitude=0.08:sample_rate=44100:duration=150" \
  -f lavfi -i "aevalsrc='if(lt(mod(t,1.5),0.002),0.9,0)':sample_rate=44100:duration=150" \
  -filter_complex "[0][1][2]amix=inputs=3:normalize=0,aformat=channel_layouts=stereo" \
  -c:a pcm_s16le "$tmp/long.wav" || fail "cannot generate the long source"
out=$(RUST_LOG=antenne_core::audio::halves=debug "$bin" --data-dir "$data" ingest "$tmp/long.wav" \
  --show interop --title "Essai long" --json 2>"$tmp/long.log") || fail "ingest rejected long.wav: $out"
grep -q "spliced the two encoders' streams" "$tmp/long.log" \
  || fail "the long programme was not encoded on both cores: $(cat "$tmp/long.log")"
rendition=$(echo "$out" | python3 -c 'import sys,json; e=json.load(sys.stdin); assert e["status"]=="ready", e; print(e["rendition_path"])') \
  || fail "long: episode not ready: $out"
ffmpeg -hide_banner -nostdin -v error -i "$rendition" -f null - 2>"$tmp/decode.err" || fail "ffmpeg cannot decode the spliced file"
[ -s "$tmp/decode.err" ] && fail "ffmpeg's decoder complained about the spliced file: $(head -5 "$tmp/decode.err")"
ffprobe -v error -show_format -show_streams "$rendition" >/dev/null 2>"$tmp/ffprobe.err" || fail "ffprobe: $(cat "$tmp/ffprobe.err")"
[ -s "$tmp/ffprobe.err" ] && fail "ffprobe complained about $rendition: $(cat "$tmp/ffprobe.err")"
read -r i tp < <(measure "$rendition")
d=$(duration "$rendition")
want=$(echo "$out" | python3 -c 'import sys,json; print(json.load(sys.stdin)["duration_s"])')
python3 -c "import sys; sys.exit(not (abs($i + 16) <= 0.5 and $tp <= -1.0 and abs($d - $want) <= 0.05 and abs($want - 150) <= 0.1))" \
  || fail "long: published at $i LUFS, $tp dBTP, $d s (catalog $want s)"
ok "long programme spliced from two encoders: $i LUFS, $tp dBTP, $d s, ffmpeg and ffprobe clean"

# The same recording twice is refused (exit 1) and the catalog keeps one episode.
"$bin" --data-dir "$data" ingest "$tmp/input-1.m4a" --show interop >/dev/null 2>&1
[ $? -eq 1 ] || fail "a duplicate upload must exit 1"
ok "duplicate refused"
# Not audio: exit 1 with the file named.
echo "pas de l'audio" >"$tmp/notes.mp3"
msg=$("$bin" --data-dir "$data" ingest "$tmp/notes.mp3" --show interop 2>&1)
[ $? -eq 1 ] && echo "$msg" | grep -q "notes.mp3" || fail "non-audio input: $msg"
ok "non-audio input rejected naming the file"
