#!/usr/bin/env bash
# The service and the package (issue 17): `systemd-analyze verify` accepts the unit,
# `systemd-analyze security` rates it OK or better (exposure <= 2.0), and lintian finds no
# error in the .deb cargo-deb builds from the debug binary (packaging/build-deb.sh --dev), and
# the schedule the installed settings name (and its history/) is writable under the unit.
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
for f in ./usr/bin/antenne ./usr/lib/systemd/system/antenne.service ./etc/antenne/antenne.toml ./usr/share/antenne/weekly.toml; do
  grep -q " $f\$" "$work/contents.txt" || fail "the .deb lacks $f"
done
dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles >"$work/conffiles"
grep -q /etc/antenne/antenne.toml "$work/conffiles" || fail "/etc/antenne/antenne.toml is not a conffile"
# The console saves the schedule: it is data, not a conffile dpkg would ask about.
grep -q weekly.toml "$work/conffiles" && fail "the schedule is a conffile (the console rewrites it)"
dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./postinst >"$work/postinst"
grep -q 'adduser --system' "$work/postinst" || fail "postinst does not create the antenne user"
ok "the .deb holds the binary, the unit, the settings (conffiles) and creates the antenne user"

# The packaged service can save the schedule from the console: the schedule the installed
# settings name, the temporary file written beside it and its history/ folder all fall
# under a ReadWritePaths entry of the installed unit (ProtectSystem=strict makes every other
# path read-only), and postinst gives that folder and a first schedule to the antenne user.
mkdir -p "$work/root"
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$work/root" ./usr/lib/systemd/system/antenne.service ./etc/antenne/antenne.toml
iunit=$work/root/usr/lib/systemd/system/antenne.service
config=$(sed -n 's/^ExecStart=.*--config \([^ ]*\).*/\1/p' "$iunit")
[ -n "$config" ] || fail "the unit's ExecStart names no --config"
settings=$work/root$config
[ -f "$settings" ] || fail "the unit's settings $config are not in the .deb"
schedule=$(sed -n 's/^schedule *= *"\([^"]*\)".*/\1/p' "$settings")
[ -n "$schedule" ] || fail "no schedule in $config"
sdir=$(dirname "$schedule")
writable=$(sed -n 's/^ReadWritePaths=//p' "$iunit" | tr ' ' '\n' | sed 's/^[-+]*//' | grep .)
[ -n "$writable" ] || fail "the unit has no ReadWritePaths"
under() { # under PATH: PATH is one of the writable entries or inside one
  local w
  for w in $writable; do
    case "$1/" in "${w%/}"/*) return 0 ;; esac
  done
  return 1
}
for p in "$schedule" "$sdir/.weekly.toml.tmp" "$sdir/history" "$sdir/history/2026/x.toml"; do
  under "$p" || fail "$p (schedule $schedule) is outside the unit's ReadWritePaths: $(echo $writable)"
done
grep -q "install -d -o antenne -g antenne.* $sdir\$" "$work/postinst" \
  || fail "postinst does not create $sdir for the antenne user"
grep -q "/usr/share/antenne/weekly.toml $schedule" "$work/postinst" \
  || fail "postinst does not install $schedule from /usr/share/antenne/weekly.toml"
ok "the schedule $schedule and its history/ are writable by the service (ReadWritePaths: $(echo $writable))"
ok "$(grep '^lintian:' "$work/deb.log")"
