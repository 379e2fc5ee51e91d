#!/usr/bin/env bash
# The programme as iCalendar (issue 16): /programme.ics and every /shows/{slug}.ics are parsed
# by Python's `icalendar` and expanded with `recurring-ical-events` over the next 400 days
# (tests/interop/ical.py); every occurrence (start, end, show) must equal `antenne schedule
# --json --days 400` for the same period. Once for the running demo station, once for a
# second daemon serving tests/interop/dst-2027.toml (shows across both DST changes, odd and
# even weeks over a 53-week year, EXDATEs, a crontab no RRULE expresses, a one-off special).
set -uo pipefail
. "$INTEROP_DIR/lib.sh"
need curl python3
python3 -c 'import icalendar, recurring_ical_events' 2>/dev/null || {
  if [ "${CI:-}" = true ]; then fail "icalendar / recurring-ical-events are not installed"; fi
  echo "skip: icalendar / recurring-ical-events are not installed"; exit 77
}
dir="$INTEROP_TMP/ical"
mkdir -p "$dir/media"
# The window: from tomorrow's local midnight, 400 days.
day=$(TZ=Europe/Paris date -d tomorrow +%F)
from=$(TZ=Europe/Paris date -d "$day 00:00" --iso-8601=seconds)

# url schedule-file label: compares the calendars served at url with the schedule's own
# expansion.
compare() {
  local url=$1 schedule=$2 label=$3
  "$ANTENNE_BIN" schedule "$schedule" --config /dev/null --media-dir "$dir/media" --json \
    --from "$day" --days 400 >"$dir/$label.json" || fail "antenne schedule $schedule"
  local shows
  shows=$(python3 -c 'import json,sys; print(" ".join(sorted({o["show"] for o in json.load(open(sys.argv[1]))})))' "$dir/$label.json")
  curl -fsS "$url/programme.ics" -o "$dir/$label.ics" || fail "$url/programme.ics"
  python3 "$INTEROP_DIR/ical.py" "$dir/$label.json" "$dir/$label.ics" "$from" 400 \
    || fail "$label: /programme.ics differs from antenne schedule"
  ok "$label: /programme.ics expands to antenne schedule's occurrences over 400 days"
  for show in $shows; do
    curl -fsS "$url/shows/$show.ics" -o "$dir/$label-$show.ics" || fail "$url/shows/$show.ics"
    python3 "$INTEROP_DIR/ical.py" "$dir/$label.json" "$dir/$label-$show.ics" "$from" 400 "$show" \
      || fail "$label: /shows/$show.ics differs from antenne schedule"
  done
  ok "$label: every /shows/{slug}.ics too ($shows)"
}

compare "$ANTENNE_URL" schedules/weekly.toml demo
headers=$(curl -fsS -D - -o /dev/null "$ANTENNE_URL/programme.ics")
echo "$headers" | grep -qi '^content-type: text/calendar; charset=utf-8' || fail "Content-Type: $headers"
etag=$(echo "$headers" | tr -d '\r' | sed -n 's/^etag: //Ip')
code=$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $etag" "$ANTENNE_URL/programme.ics")
[ "$code" = 304 ] || fail "If-None-Match $etag -> $code"
ok "text/calendar; charset=utf-8, ETag $etag, 304 when unchanged"

trap 'kill $DAEMON_PID 2>/dev/null; wait $DAEMON_PID 2>/dev/null' EXIT
serve_antenne "$dir/daemon.log" --config /dev/null --data-dir "$dir/data" \
  --media-dir "$dir/media" --schedule "$INTEROP_DIR/dst-2027.toml" || fail "the daemon did not start"
compare "$DAEMON_URL" "$INTEROP_DIR/dst-2027.toml" dst
# The window must hold DST changes for the test to mean something: occurrences whose UTC
# length differs from their wall-clock length.
python3 - "$dir/dst.json" <<'PY' || fail "no occurrence across a DST change in the window"
import datetime as dt, json, sys
occ = json.load(open(sys.argv[1]))
across = [o for o in occ if dt.datetime.fromisoformat(o["start"]).utcoffset() != dt.datetime.fromisoformat(o["end"]).utcoffset()]
print("  occurrences across a DST change: " + ", ".join(f'{o["show"]} {o["start"]} – {o["end"]}' for o in across))
sys.exit(0 if len(across) >= 2 else 1)
PY
ok "shows across both DST changes air at the same instants in a calendar app's reading"
