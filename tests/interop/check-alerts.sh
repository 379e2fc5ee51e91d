#!/usr/bin/env bash
# Alerts by e-mail (issue 16), end to end: a real SMTP server (Python's aiosmtpd) receives what
# a daemon of its own sends. The daemon's schedule has a `file =` special of generated digital
# silence 15 s after it starts: the real playout airs it, the silence alarm (30 s under
# -60 dBFS, not a setting) fires, and an e-mail for dead air must arrive within a minute of the
# silence; then, once sound is back (the engine replaces a silent show item by the fallback as
# the alarm fires), one "resolved" e-mail. A broken schedule edit is then refused: one more
# e-mail. Every message is parsed back with Python's email package (French subject and text,
# then the English text), and the deliveries are in /api/status. About 55 s.
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
mkdir -p "$tmp/media/specials" "$tmp/mail" "$tmp/data"
cp -r "$repo/media/beds" "$repo/media/idents" "$tmp/media/"
# 45 s of digital silence, 44.1 kHz stereo.
python3 - "$tmp/media/specials/blanc.wav" <<'PY' || fail "cannot generate the silent file"
import sys, wave
with wave.open(sys.argv[1], "wb") as w:
    w.setnchannels(2); w.setsampwidth(2); w.setframerate(44100)
    w.writeframes(bytes(4 * 44100 * 45))
PY
# The special 15 s from now, in the station's local time.
read -r sp_date sp_start sp_epoch < <(python3 - <<'PY'
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo
t = datetime.now(ZoneInfo("Europe/Paris")).replace(microsecond=0) + timedelta(seconds=15)
print(t.date(), t.strftime("%H:%M:%S"), int(t.timestamp()))
PY
)
cat >"$tmp/weekly.toml" <<TOML
[station]
name = "Radio des alertes"
timezone = "Europe/Paris"

[fallback]
playlist = "beds"
ident = "idents"

[[show]]
slug = "blanc"
title = "Le blanc"

[[exception]]
id = "blanc"
show = "blanc"
date = $sp_date
start = "$sp_start"
duration = "45s"
file = "specials/blanc.wav"
TOML
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
ok "daemon sending alerts to aiosmtpd on port $smtp_port; silence on air at $sp_start"

# `wait_mail N SECONDS`: waits until N messages arrived; each one's arrival time is noted.
wait_mail() {
  local want=$1 seconds=$2
  for _ in $(seq 1 "$seconds"); do
    for f in "$tmp"/mail/*.eml; do
      [ -e "$f" ] && [ ! -e "$f.at" ] && date +%s >"$f.at"
    done
    [ "$(ls "$tmp"/mail/*.eml 2>/dev/null | wc -l)" -ge "$want" ] && return 0
    sleep 1
  done
  return 1
}
# The alarm fires 30 s into the silence; the e-mail is due within a minute of it.
wait_mail 1 80 || fail "no dead-air e-mail within 65 s of the silence: $(tail -5 "$tmp/daemon.log")"
wait_mail 2 60 || fail "no resolved e-mail once sound was back: $(tail -5 "$tmp/daemon.log")"
grep -q "sound is back on air" "$tmp/daemon.log" || fail "resolved, but the playout never said sound was back"
python3 - "$tmp/mail" "$sp_epoch" <<'PY' || fail "the dead-air e-mails are not one alert and one resolved"
import email, email.policy, pathlib, sys
out, silence = pathlib.Path(sys.argv[1]), int(sys.argv[2])
def read(n):
    p = out / f"{n}.eml"
    m = email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
    return m, m.get_body(("plain",)).get_content(), int((out / f"{n}.eml.at").read_text())
m, body, at = read(0)
subject = str(m["subject"])
assert subject == "[Antenne] Blanc d'antenne : silence prolongé à l'antenne.", subject
assert m["to"] == "regie@radio.example", m["to"]
assert "Station : " in body and "Incident : dead_air" in body, body
assert "Dead air: sustained silence on air." in body, body
assert body.index("Blanc d'antenne") < body.index("-- English --") < body.index("Dead air"), body
assert 0 <= at - silence <= 60, f"the alert came {at - silence} s after the silence began"
print(f"  ok: dead air received {at - silence} s after the silence began: {subject!r}")
m, body, at2 = read(1)
subject = str(m["subject"])
assert subject == "[Antenne] Résolu : blanc d'antenne.", subject
assert "Incident : dead_air" in body and "Resolved: dead air." in body, body
print(f"  ok: resolved received {at2 - at} s later: {subject!r}")
PY

# A broken edit: the reload refuses it, the previous schedule stays on air.
printf '\n[[slot]]\nshow = "nobody"\n' >>"$tmp/weekly.toml"
wait_mail 3 60 || fail "no schedule e-mail within 60 s: $(tail -5 "$tmp/daemon.log")"
sleep 2
python3 - "$tmp/mail" <<'PY' || fail "the e-mail is not the alert"
import email, email.policy, pathlib, sys
msgs = sorted(pathlib.Path(sys.argv[1]).glob("*.eml"))
assert len(msgs) == 3, f"{len(msgs)} messages, expected one per incident and one resolved"
m = email.message_from_bytes(msgs[2].read_bytes(), policy=email.policy.default)
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
for event in ("schedule_refused", "dead_air"):
    assert any(d["event"] == event and d["ok"] and d["url"].startswith("smtp://") for d in w), w
assert sum(d["event"] == "dead_air" for d in w) == 2, w
' || fail "the deliveries are not in /api/status"
ok "the deliveries are logged in /api/status"
