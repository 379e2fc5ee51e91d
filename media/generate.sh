#!/usr/bin/env bash
# Regenerates the demo media from nothing: spoken French station identifications (espeak-ng),
# synthesised music beds (sox) and one short demo episode per show, encoded to MP3 (ffmpeg's
# libmp3lame). Nothing is downloaded. Needs: espeak-ng sox ffmpeg (Debian packages).
# Usage: media/generate.sh   (from anywhere; rewrites media/idents, media/beds, media/demo)
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rm -rf idents beds demo
mkdir -p idents beds demo

say() { # say OUT.wav TEXT  -> 44.1 kHz mono speech
  espeak-ng -v fr -s 145 -p 45 -w "$tmp/raw.wav" "$2"
  sox "$tmp/raw.wav" -r 44100 "$1" gain -n -4
}
mp3() { # mp3 IN.wav OUT.mp3 KBPS TITLE
  ffmpeg -nostdin -v error -y -i "$1" -c:a libmp3lame -b:a "$3" -metadata title="$4" -metadata artist="Au fil des quartiers" "$2"
}
chord() { # chord OUT.wav SECONDS NOTE...
  local out=$1 len=$2; shift 2
  local args=()
  for n in "$@"; do args+=(pluck "$n"); done
  sox -n -r 44100 -c 1 "$out" synth "$len" "${args[@]}" fade 0.01 "$len" 0.8 gain -n -6
}

# Music beds: four-chord loops, a little reverb, stereo.
i=0
for prog in "C3 E3 G3 C4|A2 C3 E3 A3|F2 A2 C3 F3|G2 B2 D3 G3" \
            "D3 F#3 A3 D4|B2 D3 F#3 B3|G2 B2 D3 G3|A2 C#3 E3 A3" \
            "E3 G3 B3 E4|C3 E3 G3 C4|G2 B2 D3 G3|D3 F#3 A3 D4"; do
  i=$((i + 1))
  parts=()
  for rep in 1 2 3 4; do
    IFS='|' read -ra chords <<<"$prog"
    for c in "${chords[@]}"; do
      # shellcheck disable=SC2086
      chord "$tmp/c$rep-${#parts[@]}.wav" 1.9 $c
      parts+=("$tmp/c$rep-${#parts[@]}.wav")
    done
  done
  sox "${parts[@]}" -c 2 "$tmp/bed$i.wav" reverb 40 50 80 gain -n -3 fade 0.5 30.4 2
  mp3 "$tmp/bed$i.wav" "beds/bed-$i.mp3" 96k "Fond musical $i"
done

# Station identifications: a chime, then the voice.
chord "$tmp/chime.wav" 1.2 C5 E5 G5
n=0
while IFS= read -r line; do
  n=$((n + 1))
  say "$tmp/id$n.wav" "$line"
  sox "$tmp/chime.wav" "$tmp/id$n.wav" "$tmp/ident$n.wav"
  mp3 "$tmp/ident$n.wav" "idents/ident-$n.mp3" 64k "Identification $n"
done <<'TXT'
Vous écoutez Au fil des quartiers, la radio des centres sociaux de Romans-sur-Isère.
Au fil des quartiers. La Monnaie, les Ors, Saint-Nicolas : trois quartiers, une seule radio.
Ici Au fil des quartiers, à Romans-sur-Isère. Restez avec nous.
TXT

# One demo episode per show: the voice over a quiet bed.
episode() { # episode SLUG TITLE TEXT
  mkdir -p "demo/$1"
  say "$tmp/voice.wav" "$3"
  local len
  len=$(soxi -D "$tmp/voice.wav")
  sox "$tmp/bed1.wav" -c 1 "$tmp/under.wav" trim 0 "$len" gain -20 fade 0 "$len" 1 pad 0 0 2>/dev/null || true
  sox -m "$tmp/voice.wav" "$tmp/under.wav" "$tmp/ep.wav"
  mp3 "$tmp/ep.wav" "demo/$1/$1-demo.mp3" 64k "$2"
  # The same sidecar metadata a volunteer may drop beside a file in the watch folder.
  printf 'title = "%s"\ndescription = "%s"\n' "$2" "$3" > "demo/$1/$1-demo.toml"
}
while IFS='|' read -r slug title text; do
  [ -n "$slug" ] && episode "$slug" "$title" "$text"
done < demo-episodes.txt

du -ch idents beds demo | tail -1
