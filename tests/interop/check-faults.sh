#!/usr/bin/env bash
# Full disk, for real (issue 8): a second daemon whose data_dir is a 20 MB tmpfs. A ballast
# file leaves ~1 MB free; a 4 MB upload is answered 507 with nothing partial left on the
# disk, while the stream keeps playing; the ballast removed (space returns), the same upload
# is accepted and its episode becomes ready. Needs root (mount); CI runs as root.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
need curl python3 mount umount df
bin=${ANTENNE_BIN:?set ANTENNE_BIN to the antenne binary}
repo=$(cd "$(dirname "$0")/../.." && pwd)
if [ "$(id -u)" != 0 ]; then
  if [ "${CI:-}" = true ]; then fail "check-faults needs root to mount a tmpfs"; fi
  echo "skip: not root (cannot mount a tmpfs)"; exit 77
fi
tmp=${INTEROP_TMP:-$(mktemp -d)}/faults
data="$tmp/data"
mkdir -p "$data" "$tmp/media"
cp -r "$repo/media/beds" "$repo/media/idents" "$tmp/media/"
mount -t tmpfs -o size=20m tmpfs "$data" || fail "cannot mount a tmpfs on $data"
DAEMON_PID=
cleanup() {
  [ -n "$DAEMON_PID" ] && kill "$DAEMON_PID" 2>/dev/null && wait "$DAEMON_PID" 2>/dev/null
  umount "$data" 2>/dev/null
}
trap cleanup EXIT
args=(--data-dir "$data" --media-dir "$tmp/media" --schedule "$repo/schedules/weekly.toml")
token=$("$bin" "${args[@]}" token add faults) || fail "cannot create a token"
serve_antenne "$tmp/daemon.log" "${args[@]}" || fail "the daemon did not start"
url=$DAEMON_URL

# 4 MB of stereo 16-bit noise, 24 s.
python3 - "$tmp/episode.wav" <<'PY' || fail "cannot generate the recording"
import os, sys, wave
with wave.open(sys.argv[1], "wb") as w:
    w.setnchannels(2); w.setsampwidth(2); w.setframerate(44100)
    w.writeframes(os.urandom(44100 * 4 * 24) )
PY
avail=$(df --output=avail -B1 "$data" | tail -1)
head -c $(( avail - 1024 * 1024 )) /dev/zero >"$data/ballast" 2>/dev/null
ok "tmpfs filled: $(df --output=avail -B1 "$data" | tail -1) bytes free"

upload() {
  curl -s -o "$tmp/answer.json" -w '%{http_code}' -H "Authorization: Bearer $token" \
    -F show=la-matinale -F title="Disque plein" -F "file=@$tmp/episode.wav;type=audio/wav" "$url/api/episodes"
}
code=$(upload)
[ "$code" = 507 ] || fail "upload on a full disk answered $code: $(cat "$tmp/answer.json")"
grep -q '"the disk is full"' "$tmp/answer.json" || fail "507 body: $(cat "$tmp/answer.json")"
ok "upload on a full disk: 507 $(cat "$tmp/answer.json")"
left=$(find "$data/uploads" "$data/originals" "$data/renditions" -type f 2>/dev/null | wc -l)
[ "$left" = 0 ] || fail "partial files left: $(find "$data" -type f)"
ok "nothing partial left on the disk"
bytes=$(curl -s --max-time 3 "$url/stream" | wc -c)
[ "$bytes" -gt 30000 ] || fail "the stream stalled on a full disk: $bytes bytes in 3 s"
ok "the stream kept playing: $bytes bytes in 3 s"

rm -f "$data/ballast"
code=$(upload)
[ "$code" = 202 ] || fail "upload once space returned answered $code: $(cat "$tmp/answer.json")"
id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$tmp/answer.json")
status=
for _ in $(seq 1 300); do
  status=$(curl -s -H "Authorization: Bearer $token" "$url/api/episodes/$id" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])')
  [ "$status" = ready ] || [ "$status" = failed ] && break
  sleep 0.2
done
[ "$status" = ready ] || fail "episode $id ended $status once space returned"
ok "space returned: the upload was accepted and episode $id is ready"
