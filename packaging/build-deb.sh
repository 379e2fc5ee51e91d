#!/usr/bin/env bash
# Builds the Debian package (target/debian/antenne_VERSION_ARCH.deb) with cargo-deb and
# checks it with lintian. Run before a release:
#   bash packaging/build-deb.sh            # release build (a few minutes)
#   bash packaging/build-deb.sh --dev      # package the debug build already made (CI's check)
# Needs cargo-deb (`cargo install cargo-deb --locked`) and lintian (Debian package).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = --dev ]; then
    [ -x target/debug/antenne ] || cargo build --locked --bins
    cargo deb --no-build --profile dev --strip --no-dbgsym --fast --output target/debian/ >/dev/null
else
    cargo deb --locked --output target/debian/ >/dev/null
fi
deb=$(ls -t target/debian/antenne_*.deb | head -n 1)
echo "built $deb"
dpkg-deb --info "$deb" | sed -n '1,20p'
# Errors fail the build; warnings are shown.
lintian --fail-on error --tag-display-limit 0 "$deb"
echo "lintian: no errors in $deb"
