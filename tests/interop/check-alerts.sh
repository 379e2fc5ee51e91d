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
smtp_port=$(( 20000 + RANDOM % 20000 ))
port=$(( smtp_port + 1 ))
url="http://127.0.0.1:$port"
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
daemon=
cleanup() {
  [ -n "$daemon" ] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null
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
"$bin" serve --config "$tmp/antenne.toml" --data-dir "$tmp/data" --media-dir "$tmp/media" \
  --schedule "$tmp/weekly.toml" --listen "127.0.0.1:$port" >"$tmp/daemon.log" 2>&1 &
daemon=$!
for _ in $(seq 1 100); do curl -fs "$url/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fs "$url/api/status" >/dev/null || fail "the daemon did not start: $(cat "$tmp/daemon.log")"
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
