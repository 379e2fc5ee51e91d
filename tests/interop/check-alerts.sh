#!/usr/bin/env bash
# Alerts by e-mail (issue 16): a real SMTP server (Python's aiosmtpd) receives what a second
# daemon sends when a schedule edit is refused; the message is parsed back with Python's
# email package (subject and French text, then the English text).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
need curl python3
python3 -c 'import aiosmtpd' 2>/dev/null || {
  if [ "${CI:-}" = true ]; then fail "aiosmtpd is not installed (tests/interop/install.sh)"; fi
  echo "skip: aiosmtpd is not installed"; exit 77
}
bin=${ANTENNE_BIN:?set ANTENNE_BIN to the antenne binary}
repo=$(cd "$(dirname "$0")/../.." && pwd)
tmp=${INTEROP_TMP:-$(mktemp -d)}/alerts
mkdir -p "$tmp/media" "$tmp/mail" "$tmp/data"
cp -r "$repo/media/beds" "$repo/media/idents" "$tmp/media/"
cp "$repo/schedules/weekly.toml" "$tmp/weekly.toml"
# aiosmtpd needs its port beforehand (its controller connects to it to check it is up): one
# the kernel reports free, which leaves only the moment until aiosmtpd binds it to chance.
smtp_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# The SMTP server: every message received is written to mail/N.eml.
python3 - "$smtp_port" "$tmp/mail" >"$tmp/smtp.log" 2>&1 <<'PY' &
import asyncio, pathlib, sys
from aiosmtpd.controller import Controller
out = pathlib.Path(sys.argv[2])
class Keep:
    async def handle_DATA(self, server, session, envelope):
        n = len(list(out.glob("*.eml")))
        (out / f"{n}.eml").write_bytes(envelope.original_content or envelope.content)
        return "250 OK"
c = Controller(Keep(), hostname="127.0.0.1", port=int(sys.argv[1]))
c.start()
asyncio.new_event_loop().run_forever()
PY
smtp=$!
DAEMON_PID=
cleanup() {
  [ -n "$DAEMON_PID" ] && kill "$DAEMON_PID" 2>/dev/null && wait "$DAEMON_PID" 2>/dev/null
  kill "$smtp" 2>/dev/null; wait "$smtp" 2>/dev/null
}
trap cleanup EXIT
cat >"$tmp/antenne.toml" <<TOML
[smtp]
host = "127.0.0.1"
port = $smtp_port
tls = "none"
from = "Antenne <antenne@radio.example>"
to = ["regie@radio.example"]
TOML
serve_antenne "$tmp/daemon.log" --config "$tmp/antenne.toml" --data-dir "$tmp/data" \
  --media-dir "$tmp/media" --schedule "$tmp/weekly.toml" || fail "the daemon did not start"
url=$DAEMON_URL
ok "daemon sending alerts to aiosmtpd on port $smtp_port"

# A broken edit: the reload refuses it, the previous schedule stays on air.
printf '\n[[slot]]\nshow = "nobody"\n' >>"$tmp/weekly.toml"
for _ in $(seq 1 60); do
  [ -n "$(ls "$tmp/mail")" ] && break
  sleep 1
done
[ -n "$(ls "$tmp/mail")" ] || fail "no e-mail within 60 s: $(tail -5 "$tmp/daemon.log")"
python3 - "$tmp/mail" <<'PY' || fail "the e-mail is not the alert"
import email, email.policy, pathlib, sys
msgs = sorted(pathlib.Path(sys.argv[1]).glob("*.eml"))
assert len(msgs) == 1, f"{len(msgs)} messages, expected one per incident"
m = email.message_from_bytes(msgs[0].read_bytes(), policy=email.policy.default)
subject = str(m["subject"])
assert subject.startswith("[Antenne] Modification de la grille refusée"), subject
assert m["to"] == "regie@radio.example", m["to"]
body = m.get_body(("plain",)).get_content()
assert "la grille précédente reste à l'antenne" in body, body
assert "weekly.toml" in body, body
assert "Schedule edit refused" in body, body
print(f"  ok: received and parsed: {subject!r}")
PY
curl -fs "$url/api/status" | python3 -c '
import json, sys
w = json.load(sys.stdin)["alert_deliveries"]
assert any(d["event"] == "schedule_refused" and d["ok"] and d["url"].startswith("smtp://") for d in w), w
' || fail "the delivery is not in /api/status"
ok "the delivery is logged in /api/status"
