#!/usr/bin/env bash
# The live input with the source clients stations run headless (issue 14), each on a daemon
# of its own with an operator's live token (a "direct spécial": on air at once, over once the
# client disconnects):
#   - Liquidsoap's output.icecast: MP3 with the legacy SOURCE method, Ogg Vorbis with PUT;
#   - ices2 (libshout: OPTIONS *, then a challenge without credentials) streaming an Ogg
#     Vorbis file from its playlist;
#   - darkice, capturing from ALSA: a `file` PCM whose input is a FIFO that ffmpeg fills in
#     real time (no sound card), encoding MP3.
# Each sends a tone of its own frequency; ffmpeg reads /stream and must hear it. When each
# override is over, its recording becomes a ready episode of the show, in the feed that
# podcastparser reads.
set -uo pipefail
here=$(dirname "$0")
. "$here/lib.sh"
. "$here/live-lib.sh"
need liquidsoap ices2 darkice ffmpeg curl python3
: "${ANTENNE_BIN:?set ANTENNE_BIN to the antenne binary}"
tmp=${INTEROP_TMP:-$(mktemp -d)}/live-clients
mkdir -p "$tmp"
start_live_daemon "$tmp" || fail "cannot start the daemon"
trap 'kill $LIVE_PID 2>/dev/null; wait $LIVE_PID 2>/dev/null' EXIT

# One operator token per client: a second override by another token ends the first one's at
# once, so every client's recording is an episode of its own.
token() { "$ANTENNE_BIN" "${LIVE_ARGS[@]}" token add "$1" --live 2>/dev/null || fail "cannot create a token"; }

# Runs `$@` in the background as client NAME, waits until it is on air as SOFTWARE, checks
# that /stream plays FREQ, then waits for the client to finish.
on_air() { # NAME SOFTWARE FREQ COMMAND...
  local name=$1 software=$2 freq=$3 share
  shift 3
  "$@" >"$tmp/$name.log" 2>&1 &
  local client=$!
  wait_live_streaming "$software" 20 || fail "$name never went on air: $(tail -n 5 "$tmp/$name.log")"
  # The cushion (0.35 s or more, adapting to the source) and the loudness riding settle first. A loaded machine may starve a
  # client for a moment (Liquidsoap's "We must catchup"): up to three listens, 1 s apart.
  sleep 4
  for _ in 1 2 3; do
    share=$(tone_share "$freq")
    python3 -c "import sys; sys.exit(0 if float('$share') > 0.5 else 1)" && break
    sleep 1
  done
  local seen
  seen=$(live_status "{k: live[k] for k in ('buffer_ms', 'drift_ppm', 'gain_db', 'source_lufs', 'underruns', 'overflow_frames')}")
  wait $client
  python3 -c "import sys; sys.exit(0 if float('$share') > 0.5 else 1)" ||
    fail "$name is not on air: $freq Hz is $share of /stream; live: $seen ($(tail -n 3 "$tmp/$name.log"))"
  ok "$name is on air: $freq Hz is $share of what /stream plays; live: $seen"
}

# Liquidsoap: a sine at -18 dBFS, 13 s after its start (10 s after it connects), then shutdown.
liquidsoap_client() { # NAME FORMAT METHOD FREQ
  cat >"$tmp/$1.liq" <<LIQ
settings.init.allow_root.set(true)
settings.log.stdout.set(true)
settings.log.file.set(false)
output.icecast($2, host="127.0.0.1", port=$LIVE_PORT, user="source", password="$(token "$1")",
  mount="live", method="$3", name="$1", sine(amplitude=0.125, $4.))
thread.run(delay=13., shutdown)
LIQ
  on_air "$1" Liquidsoap "$4" timeout 40 liquidsoap "$tmp/$1.liq"
}
liquidsoap_client liquidsoap-mp3 '%mp3(bitrate=128, samplerate=44100, stereo=true)' source 1000
liquidsoap_client liquidsoap-vorbis '%ogg(%vorbis(samplerate=48000, channels=2, quality=0.4))' put 750

# ices2: an Ogg Vorbis file from its playlist, once.
ffmpeg -hide_banner -loglevel error -y -f lavfi -i "sine=frequency=550:sample_rate=44100" -t 10 \
  -ac 2 -c:a libvorbis -q:a 4 "$tmp/ices.ogg" || fail "cannot make the ices2 file"
echo "$tmp/ices.ogg" >"$tmp/ices-playlist.txt"
cat >"$tmp/ices.xml" <<XML
<?xml version="1.0"?>
<ices>
  <background>0</background>
  <logpath>$tmp</logpath>
  <logfile>ices.log</logfile>
  <loglevel>3</loglevel>
  <consolelog>1</consolelog>
  <stream>
    <metadata><name>ices2</name><genre>Test</genre><description>interop</description></metadata>
    <input>
      <module>playlist</module>
      <param name="type">basic</param>
      <param name="file">$tmp/ices-playlist.txt</param>
      <param name="once">1</param>
    </input>
    <instance>
      <hostname>127.0.0.1</hostname>
      <port>$LIVE_PORT</port>
      <username>source</username>
      <password>$(token ices2)</password>
      <mount>/live</mount>
      <reconnectattempts>0</reconnectattempts>
    </instance>
  </stream>
</ices>
XML
on_air ices2 IceS 550 timeout 40 ices2 "$tmp/ices.xml"
[ "$(live_status "live['unauthorized']")" = 0 ] ||
  fail "libshout's challenge was counted as a failed sign-in"

# darkice: ALSA's `file` PCM reads its capture from a FIFO, filled in real time by ffmpeg.
mkdir -p "$tmp/darkice-home"
mkfifo "$tmp/darkice.pcm"
cat >"$tmp/darkice-home/.asoundrc" <<ALSA
pcm.tone {
  type file
  slave.pcm "null"
  file "/dev/null"
  infile "$tmp/darkice.pcm"
  format "raw"
}
ALSA
cat >"$tmp/darkice.cfg" <<CFG
[general]
duration = 10
bufferSecs = 1
reconnect = no
realtime = no

[input]
device = tone
sampleRate = 44100
bitsPerSample = 16
channel = 2

[icecast2-0]
bitrateMode = cbr
format = mp3
bitrate = 128
server = 127.0.0.1
port = $LIVE_PORT
password = $(token darkice)
mountPoint = live
name = darkice
public = no
CFG
timeout 40 ffmpeg -hide_banner -loglevel error -re -f lavfi -i "sine=frequency=1250:sample_rate=44100" \
  -t 15 -ac 2 -f s16le -y "$tmp/darkice.pcm" 2>/dev/null &
feeder=$!
on_air darkice DarkIce 1250 env HOME="$tmp/darkice-home" timeout 40 darkice -c "$tmp/darkice.cfg"
kill $feeder 2>/dev/null

# After the overrides: four episodes of the show, ready, in its feed.
echo "  waiting for the four recordings to become episodes"
feed="$tmp/feed.xml"
ready=
for _ in $(seq 1 120); do
  curl -fs "$LIVE_URL/shows/fete-des-ors/feed.xml" -o "$feed" 2>/dev/null
  if [ "$(grep -c 'enclosure url="[^"]*/media/' "$feed" 2>/dev/null)" -ge 4 ]; then ready=1; break; fi
  sleep 1
done
[ -n "$ready" ] || fail "the recordings did not become 4 episodes: $(grep -c '<item>' "$feed") items; $(tail -n 20 "$tmp/daemon.log")"
ok "the four recordings are episodes in the show's feed"
if python3 -c 'import podcastparser' 2>/dev/null; then
  python3 - "$feed" <<'PY' || fail "podcastparser cannot read the feed"
import podcastparser, sys
feed = podcastparser.parse("http://x/feed.xml", open(sys.argv[1], "rb"))
eps = [e for e in feed["episodes"] if "Direct spécial" in e["title"] and e["enclosures"]]
assert len(eps) == 4, [e["title"] for e in feed["episodes"]]
# Each recording is as long as its client was on air (about 10 s, less the trimmed edges).
lengths = sorted(e["total_time"] for e in eps)
assert all(4 <= t <= 16 for t in lengths), lengths
print("  ok: podcastparser reads them:", eps[0]["title"], "durations", lengths)
PY
elif [ "${CI:-}" = true ]; then
  fail "podcastparser is not installed"
fi
