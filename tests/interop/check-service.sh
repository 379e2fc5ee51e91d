#!/usr/bin/env bash
# The service and the package (issue 17): `systemd-analyze verify` accepts the unit,
# `systemd-analyze security` rates it OK or better (exposure <= 2.0), and lintian finds no
# error in the .deb cargo-deb builds from the debug binary (packaging/build-deb.sh --dev).
set -uo pipefail
. "$INTEROP_DIR/lib.sh"
need systemd-analyze lintian dpkg-deb cargo-deb
repo=$(cd "$INTEROP_DIR/../.." && pwd)
unit=$repo/packaging/antenne.service
work=$INTEROP_TMP/service
mkdir -p "$work"

# verify wants the ExecStart binary to exist: the one under test stands in for /usr/bin/antenne.
sed "s|/usr/bin/antenne|$ANTENNE_BIN|" "$unit" >"$work/antenne.service"
systemd-analyze verify --man=no "$work/antenne.service" >"$work/verify.log" 2>&1 \
  || { cat "$work/verify.log"; fail "systemd-analyze verify rejects the unit"; }
ok "systemd-analyze verify accepts packaging/antenne.service"

systemd-analyze security --offline=true "$unit" >"$work/security.log" 2>&1
line=$(grep -o 'Overall exposure level for antenne.service: [0-9.]* [A-Z]*' "$work/security.log")
[ -n "$line" ] || { cat "$work/security.log"; fail "no exposure level from systemd-analyze security"; }
score=$(echo "$line" | awk '{print $(NF-1)}')
awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }' || { cat "$work/security.log"; fail "exposure $score > 2.0"; }
ok "systemd-analyze security: $score (${line##* })"

(cd "$repo" && bash packaging/build-deb.sh --dev) >"$work/deb.log" 2>&1 \
  || { cat "$work/deb.log"; fail "the .deb does not build or lintian reports errors"; }
grep -E '^(W|E):' "$work/deb.log" | sed 's/^/  lintian /'
ok "$(grep '^lintian:' "$work/deb.log")"
