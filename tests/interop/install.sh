#!/usr/bin/env bash
# Installs what the interop suite needs: Debian packages, PyPI and npm packages (into
# target/interop, inside the clone). Idempotent; quiet unless something fails.
set -euo pipefail
cd "$(dirname "$0")/../.."
need_apt=()
for pkg_cmd in mount:mount ffmpeg:ffprobe icecast2:icecast2 libxml2-utils:xmllint curl:curl chromium:chromium python3-venv:__venv__ nodejs:node npm:npm \
    systemd:systemd-analyze lintian:lintian liquidsoap:liquidsoap ices2:ices2 darkice:darkice; do
  pkg=${pkg_cmd%%:*} cmd=${pkg_cmd##*:}
  if [ "$cmd" = __venv__ ]; then
    python3 -c 'import venv, ensurepip' 2>/dev/null || need_apt+=("$pkg")
  elif ! command -v "$cmd" >/dev/null 2>&1 && [ ! -x "/usr/bin/$cmd" ]; then
    need_apt+=("$pkg")
  fi
done
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "apt-get install ${need_apt[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  else
    echo "missing Debian packages (not root, not installing): ${need_apt[*]}"
  fi
fi
# The .deb of check-service.sh (a few minutes to build on a new machine, then kept).
if ! command -v cargo-deb >/dev/null 2>&1; then
  echo "cargo install cargo-deb"
  cargo install --quiet --locked cargo-deb --version 3.8.0
fi
mkdir -p target/interop
if [ ! -x target/interop/venv/bin/python ]; then
  python3 -m venv target/interop/venv
fi
target/interop/venv/bin/pip install -q --disable-pip-version-check podcastparser feedparser python-dateutil icalendar recurring-ical-events aiosmtpd
if [ ! -d target/interop/node/node_modules/podcast-partytime ] || [ ! -d target/interop/node/node_modules/playwright-core ] || [ ! -d target/interop/node/node_modules/hls.js ]; then
  mkdir -p target/interop/node
  (cd target/interop/node && { [ -f package.json ] || echo '{"private":true}' > package.json; } && npm install --silent --no-audit --no-fund podcast-partytime playwright-core hls.js >/dev/null)
fi
echo "interop tools ready"
