# Sourced by the interop checks: `need TOOL...` (fails under CI=true, skips elsewhere),
# `fail MSG`, `ok MSG`.
need() {
  for t in "$@"; do
    if ! command -v "$t" >/dev/null 2>&1; then
      if [ "${CI:-}" = true ]; then echo "missing tool under CI: $t"; exit 1; fi
      echo "skip: $t is not installed"; exit 77
    fi
  done
}
fail() { echo "FAIL: $*"; exit 1; }
ok() { echo "  ok: $*"; }
# `serve_antenne LOG ARG...` starts `antenne serve --listen 127.0.0.1:0 ARG...` with its output
# in LOG: the kernel picks the port as the daemon binds, so no other program can take it
# between choosing and binding (a port drawn at random beforehand was, in a CI run of
# 2026-12-06). Waits until the daemon answers and sets DAEMON_PID, DAEMON_URL
# (http://127.0.0.1:PORT, read from what the daemon prints) and DAEMON_PORT; returns 1 with
# the log's tail when it did not start within 30 s.
serve_antenne() {
  local log=$1
  shift
  "$ANTENNE_BIN" serve --listen 127.0.0.1:0 "$@" >"$log" 2>&1 &
  DAEMON_PID=$!
  DAEMON_URL=
  for _ in $(seq 1 300); do
    DAEMON_URL=$(sed -n 's|^  page: *\(http://[^ ]*\)/$|\1|p' "$log" | head -n 1)
    if [ -n "$DAEMON_URL" ] && curl -fs "$DAEMON_URL/healthz" >/dev/null 2>&1; then
      DAEMON_PORT=${DAEMON_URL##*:}
      return 0
    fi
    kill -0 "$DAEMON_PID" 2>/dev/null || break
    sleep 0.1
  done
  tail -n 20 "$log"
  return 1
}
