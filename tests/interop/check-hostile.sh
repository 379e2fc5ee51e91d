#!/usr/bin/env bash
# Hostile clients against the real daemon with its default limits: 600 connections that
# send half a request, nothing, or ask for /stream and never read; meanwhile a fresh client
# must get /api/status and stream bytes at once. Then a slowloris connection must be closed
# by the 15 s header timeout. (The fast, in-process version with 1,000 connections and
# shortened timeouts is tests/it/hostile/connections.rs.)
set -uo pipefail
. "$INTEROP_DIR/lib.sh"
need python3 curl
python3 - "$ANTENNE_URL" <<'PY' || fail "hostile clients"
import resource, socket, sys, time, urllib.parse, urllib.request
url = sys.argv[1]
u = urllib.parse.urlsplit(url)
addr = (u.hostname, u.port)
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
n = min(600, hard - 100)
held = []
for i in range(n):
    s = socket.create_connection(addr)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    if i % 3 == 0:
        s.sendall(b"GET /api/status HTTP/1.1\r\nHost: x\r\nX-a: ")
    elif i % 3 == 1:
        s.sendall(b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
    held.append(s)
time.sleep(0.5)
t = time.monotonic()
with urllib.request.urlopen(url + "/api/status", timeout=10) as r:
    assert r.status == 200, r.status
    r.read()
api = time.monotonic() - t
t = time.monotonic()
with urllib.request.urlopen(url + "/stream", timeout=10) as r:
    got = 0
    while got < 32 * 1024:
        chunk = r.read(4096)
        assert chunk, "stream ended"
        got += len(chunk)
stream = time.monotonic() - t
print(f"  ok: {n} hostile connections held; /api/status in {api*1000:.1f} ms, 32 KiB of stream in {stream*1000:.0f} ms")
for s in held:
    s.close()
# Slowloris: one header byte per second, never finished; closed by the header timeout.
s = socket.create_connection(addr)
s.settimeout(1.0)
t = time.monotonic()
closed = None
for b in b"GET /api/status HTTP/1.1\r\nHost: x\r\nX-Padding: " + b"a" * 40:
    try:
        s.sendall(bytes([b]))
        if s.recv(4096) == b"":
            closed = time.monotonic() - t
            break
    except socket.timeout:
        continue
    except OSError:
        closed = time.monotonic() - t
        break
assert closed is not None and closed < 25, f"slowloris still open after {time.monotonic() - t:.0f} s"
print(f"  ok: slowloris closed after {closed:.1f} s (header timeout 15 s)")
PY
