#!/usr/bin/env bash
# Interop: the live stream against real third-party programs.
#
#   tests/interop/stream.sh [STREAM_URL]
#
# Checks, each printed as it passes:
#   1. ffmpeg reads STREAM_URL for 10 s and decodes it without a single error;
#   2. a raw ICY client (python, `Icy-MetaData: 1`) gets `icy-metaint: 16000` and parses
#      `StreamTitle='...';` blocks at the right offsets;
#   3. Debian's icecast2, started here on loopback, receives Antenne's source push (HTTP PUT),
#      a listener on Icecast decodes it with ffmpeg, and Icecast relays the title Antenne set
#      through /admin/metadata.
# Without STREAM_URL (or with ICECAST_URL unset) the script starts the stand-in server of the
# load tool (`cargo bench --bench listeners -- serve`: the hub + http::stream fed by an MP3
# file looped at real-time pace, pushing to the Icecast started here). With a running daemon,
# pass STREAM_URL and set ICECAST_URL to the mount that daemon pushes to (its antenne.toml).
# Needs: ffmpeg, python3, icecast2 (apt-get install ffmpeg icecast2), cargo.
set -euo pipefail
cd "$(dirname "$0")/../.."

STREAM_URL="${1:-${STREAM_URL:-}}"
ICECAST_URL="${ICECAST_URL:-}"
work="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { # url
  for _ in $(seq 1 120); do
    python3 - "$1" <<'EOF' && return 0
import socket, sys, urllib.parse
u = urllib.parse.urlparse(sys.argv[1])
try:
    s = socket.create_connection((u.hostname, u.port), timeout=2)
    s.sendall(f"GET {u.path} HTTP/1.0\r\n\r\n".encode())
    line = s.recv(64)
    sys.exit(0 if line.startswith(b"HTTP/") and b" 200" in line[:13] else 1)
except OSError:
    sys.exit(1)
EOF
    sleep 1
  done
  fail "nothing answers at $1"
}

for tool in ffmpeg python3; do command -v "$tool" >/dev/null || fail "$tool is not installed"; done

# --- Icecast on loopback (pitfall: it refuses root without <changeowner>) -----------------
start_icecast=0
if [[ -z "$STREAM_URL" || -z "$ICECAST_URL" ]]; then start_icecast=1; fi
if [[ $start_icecast == 1 ]]; then
  command -v icecast2 >/dev/null || fail "icecast2 is not installed"
  . "$(dirname "$0")/icecast.sh"
  start_icecast "$work" || fail "icecast2 did not start"
  pids+=("$ICECAST_PID")
  ice_port=$ICECAST_PORT ice_pass=$ICECAST_PASS
  echo "ok: icecast2 running on 127.0.0.1:$ice_port"
fi

# --- The stream under test --------------------------------------------------------------
if [[ -z "$STREAM_URL" ]]; then
  ffmpeg -v error -f lavfi -i "sine=frequency=440:duration=20" -f lavfi -i "sine=frequency=660:duration=20" \
    -filter_complex amerge -ac 2 -ar 44100 -c:a libmp3lame -b:a 128k "$work/loop.mp3"
  port="$(free_port)"
  # Run the built binary itself (not through cargo) so cleanup stops the right process.
  bin="$(cargo bench --no-run --bench listeners --message-format=json 2>/dev/null | python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] == "listeners":
        print(m["executable"])')"
  [[ -x "$bin" ]] || fail "could not build the load tool (cargo bench --bench listeners)"
  "$bin" serve --port "$port" --mp3 "$work/loop.mp3" \
    --icecast "$ICECAST_URL" --password "$ice_pass" >"$work/serve.out" 2>&1 &
  pids+=($!)
  STREAM_URL="http://127.0.0.1:$port/stream"
fi
wait_http "$STREAM_URL"
echo "ok: stream answers at $STREAM_URL"

# 1. ffmpeg decodes 10 s without error.
check_decode() { # url label
  if ! ffmpeg -nostdin -v error -i "$1" -t 10 -f null - 2>"$work/ffmpeg.err"; then
    cat "$work/ffmpeg.err"; fail "ffmpeg could not decode $2"
  fi
  [[ -s "$work/ffmpeg.err" ]] && { cat "$work/ffmpeg.err"; fail "ffmpeg reported errors decoding $2"; }
  echo "ok: ffmpeg decoded 10 s of $2 without error"
}
check_decode "$STREAM_URL" "Antenne's stream"

# 2. Raw ICY client.
icy_client() { # url expected-title-prefix label frame-aligned(0|1)
  python3 - "$1" "$2" "$3" "$4" <<'EOF'
import socket, sys, urllib.parse
url, prefix, label, aligned = sys.argv[1:]
u = urllib.parse.urlparse(url)
s = socket.create_connection((u.hostname, u.port or 80), timeout=10)
s.sendall(f"GET {u.path} HTTP/1.0\r\nHost: {u.netloc}\r\nIcy-MetaData: 1\r\nUser-Agent: interop\r\n\r\n".encode())
buf = b""
while b"\r\n\r\n" not in buf:
    chunk = s.recv(4096)
    if not chunk:
        sys.exit(f"{label}: connection closed in the response head")
    buf += chunk
head, buf = buf.split(b"\r\n\r\n", 1)
lines = head.decode("latin-1").split("\r\n")
if " 200" not in lines[0]:
    sys.exit(f"{label}: {lines[0]}")
headers = {l.split(":", 1)[0].strip().lower(): l.split(":", 1)[1].strip() for l in lines[1:] if ":" in l}
metaint = int(headers.get("icy-metaint", "0"))
if metaint != 16000:
    sys.exit(f"{label}: icy-metaint is {headers.get('icy-metaint')!r}, expected 16000")
def read(n):
    global buf
    while len(buf) < n:
        chunk = s.recv(65536)
        if not chunk:
            sys.exit(f"{label}: stream ended")
        buf += chunk
    out, buf = buf[:n], buf[n:]
    return out
titles = []
for block in range(6):
    audio = read(metaint)
    if block == 0 and aligned == "1" and not (audio[0] == 0xFF and audio[1] & 0xE0 == 0xE0):
        sys.exit(f"{label}: the stream does not start on an MPEG frame header")
    length = read(1)[0] * 16
    if length:
        meta = read(length).rstrip(b"\0").decode("utf-8")
        if not (meta.startswith("StreamTitle='") and "';" in meta):
            sys.exit(f"{label}: malformed metadata block {meta!r}")
        titles.append(meta[len("StreamTitle='"):meta.index("';")])
if not titles:
    sys.exit(f"{label}: no StreamTitle in 6 metadata blocks")
if prefix and not titles[-1].startswith(prefix):
    sys.exit(f"{label}: title {titles[-1]!r} does not start with {prefix!r}")
print(f"ok: {label}: icy-metaint 16000, titles {titles}")
EOF
}
title_prefix="${EXPECT_TITLE:-}"
[[ -n "${pids[*]:-}" && -z "${1:-}" ]] && title_prefix="${EXPECT_TITLE:-Load test - lap}"
icy_client "$STREAM_URL" "$title_prefix" "ICY client on Antenne" 1

# 3. Icecast received the push; its listeners decode it and see the title.
wait_http "$ICECAST_URL"
echo "ok: Icecast serves the mount Antenne pushes to ($ICECAST_URL)"
check_decode "$ICECAST_URL" "Icecast's relay of Antenne's stream"
# Icecast's burst starts wherever its buffer does: no frame alignment check there.
icy_client "$ICECAST_URL" "$title_prefix" "ICY client on Icecast" 0
echo "PASS: stream interop"
