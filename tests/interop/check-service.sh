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
deb=$(ls -t "$repo"/target/debian/antenne_*.deb | head -n 1)
dpkg-deb --contents "$deb" >"$work/contents.txt"
for f in ./usr/bin/antenne ./usr/lib/systemd/system/antenne.service ./etc/antenne/antenne.toml ./etc/antenne/weekly.toml; do
  grep -q " $f\$" "$work/contents.txt" || fail "the .deb lacks $f"
done
dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles | grep -q /etc/antenne/antenne.toml \
  || fail "/etc/antenne/antenne.toml is not a conffile"
dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./postinst | grep -q 'adduser --system' \
  || fail "postinst does not create the antenne user"
ok "the .deb holds the binary, the unit, the settings (conffiles) and creates the antenne user"
ok "$(grep '^lintian:' "$work/deb.log")"
