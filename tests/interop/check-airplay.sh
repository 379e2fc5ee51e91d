#!/usr/bin/env bash
# The music declaration (issue 16): the running demo station's airplay log, downloaded as an
# operator (GET /api/reports/airplay) and printed by `antenne report airplay`, opens with
# Python's csv module with the expected columns: the summary and the detailed log, with
# commas, and with semicolons and decimal commas (French Excel).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
need curl python3
bin=${ANTENNE_BIN:?set ANTENNE_BIN to the antenne binary}
url=${ANTENNE_URL:?set ANTENNE_URL to the running daemon}
tmp=${INTEROP_TMP:?}/airplay
mkdir -p "$tmp"
token=$("$bin" token add "airplay-interop-$$" --data-dir "$INTEROP_TMP/data" 2>/dev/null) \
  || fail "cannot create an operator token"
# Yesterday to tomorrow (UTC dates): today in the station's zone is inside.
from=$(date -u -d yesterday +%F) to=$(date -u -d tomorrow +%F)
report="$url/api/reports/airplay?from=$from&to=$to"
# The demo station airs beds and idents from its start: wait for the first one in the log.
for _ in $(seq 1 60); do
  n=$(curl -fs -H "Authorization: Bearer $token" "$report&format=json" \
    | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["tracks"]))' 2>/dev/null)
  [ "${n:-0}" -gt 0 ] && break
  sleep 1
done
[ "${n:-0}" -gt 0 ] || fail "no airing in the log after 60 s"
ok "$n track(s) in the airplay log"
code=$(curl -s -o /dev/null -w '%{http_code}' "$report")
[ "$code" = 401 ] || fail "the report without a token answered $code"
curl -fs -H "Authorization: Bearer $token" "$report&format=csv" -o "$tmp/summary.csv" || fail "summary download"
curl -fs -H "Authorization: Bearer $token" "$report&format=csv&semicolon=1" -o "$tmp/summary-fr.csv" || fail "summary (;) download"
curl -fs -H "Authorization: Bearer $token" "$report&format=csv&detail=1" -o "$tmp/detail.csv" || fail "detail download"
"$bin" report airplay --from "$from" --to "$to" --data-dir "$INTEROP_TMP/data" >"$tmp/cli.csv" \
  || fail "antenne report airplay failed"
python3 - "$tmp" <<'PY' || fail "the CSV files do not read back with Python's csv module"
import csv, pathlib, sys
tmp = pathlib.Path(sys.argv[1])
summary = ["Titre", "Interprète", "Auteurs-compositeurs", "Éditeur", "ISRC", "Album", "Année",
           "Durée (s)", "Diffusions", "Secondes diffusées", "Type", "Fichier", "Tags manquants"]
detail = ["Début", "Fin", "Secondes diffusées", "Trames", "Type", "Émission", "Occurrence", "Titre",
          "Interprète", "Auteurs-compositeurs", "ISRC", "Fichier", "SHA-256", "Tags manquants"]
def rows(name, delimiter):
    raw = (tmp / name).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), f"{name}: no UTF-8 BOM"
    assert b"\r\n" in raw, f"{name}: not CRLF"
    # utf-8-sig strips the BOM, as spreadsheet applications do.
    with open(tmp / name, newline="", encoding="utf-8-sig") as f:
        return list(csv.reader(f, delimiter=delimiter))
for name, delimiter, decimal in [("summary.csv", ",", "."), ("summary-fr.csv", ";", ","), ("cli.csv", ",", ".")]:
    r = rows(name, delimiter)
    assert r[0] == summary, f"{name}: header {r[0]}"
    assert len(r) > 1, f"{name}: no track"
    for row in r[1:]:
        assert len(row) == len(summary), f"{name}: {row}"
        assert int(row[8]) >= 1, row
        assert decimal in row[9] and float(row[9].replace(",", ".")) >= 0, row
        assert row[10] in ("episode", "track", "bed", "ident"), row
        assert row[12] in ("", "oui"), row
    print(f"  ok: {name}: {len(r) - 1} track(s), {sum(int(x[8]) for x in r[1:])} play(s)")
r = rows("detail.csv", ",")
assert r[0] == detail, f"detail header {r[0]}"
assert len(r) > 1 and all(len(x) == len(detail) for x in r[1:])
ended = [x for x in r[1:] if x[1]]
assert all(int(x[3]) > 0 for x in ended), "an ended airing with no frames"
print(f"  ok: detail.csv: {len(r) - 1} airing(s), {len(ended)} ended")
PY
ok "the declaration opens with Python's csv module with the expected columns"
