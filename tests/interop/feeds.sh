#!/usr/bin/env bash
# Interop checks of Antenne's podcast feeds with real clients' parsers (issue 6).
#
# Usage: tests/interop/feeds.sh [FEED_FILE_OR_URL]
#   no argument  render the demo fixture (cargo test --test it feed::rss::write_fixture) and
#                check it;
#   a file       check that file;
#   a URL        fetch it, check it, and check the HTTP rules on the feed and its enclosures
#                (Content-Type, ETag/304, Last-Modified/304, gzip, HEAD, Range 0-1 -> 206, 416).
# Tools: xmllint (libxml2-utils), podcastparser + feedparser + python-dateutil (PyPI),
# podcast-partytime (npm); missing ones are installed (set FEEDS_NO_INSTALL=1 to forbid).
# Exits non-zero when any check fails.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# podcast-partytime: where tests/interop/install.sh put it (NODE_PATH), else a cache folder.
if [ -n "${NODE_PATH:-}" ] && [ -d "$NODE_PATH/podcast-partytime" ]; then
    node_dir="$(dirname "$NODE_PATH")"
else
    node_dir="${FEEDS_NODE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/antenne-interop/node}"
fi
failures=0

fail() { echo "FAIL $*"; failures=$((failures + 1)); }
ok() { echo "ok   $*"; }

install_tools() {
    [ "${FEEDS_NO_INSTALL:-}" = 1 ] && return 0
    if ! command -v xmllint >/dev/null; then
        (apt-get update -qq && apt-get install -y -qq libxml2-utils) >/dev/null
    fi
    if ! python3 -c 'import podcastparser, feedparser, dateutil' 2>/dev/null; then
        python3 -m pip install -q podcastparser feedparser python-dateutil
    fi
    if [ ! -d "$node_dir/node_modules/podcast-partytime" ]; then
        mkdir -p "$node_dir"
        npm install --silent --prefix "$node_dir" podcast-partytime@5 >/dev/null
    fi
}

install_tools

target="${1:-}"
feed="$work/feed.xml"
feed_url="https://radio.example.org/shows/au-fil-des-quartiers/feed.xml"
if [ -z "$target" ]; then
    echo "== rendering the demo fixture"
    (cd "$repo" && ANTENNE_FEED_FIXTURE="$feed" cargo test -q --test it feed::rss::write_fixture >/dev/null)
elif [[ "$target" =~ ^https?:// ]]; then
    feed_url="$target"
    curl -sSf -o "$feed" "$target"
else
    cp "$target" "$feed"
fi
echo "== checking $([ -n "$target" ] && echo "$target" || echo "the demo fixture") ($(wc -c <"$feed") bytes)"

if xmllint --noout "$feed"; then ok "xmllint: well-formed"; else fail "xmllint"; fi

python3 "$here/feeds.py" "$feed" "$feed_url" || fail "python parsers (see above)"
NODE_PATH="$node_dir/node_modules" node "$here/feeds.cjs" "$feed" || fail "podcast-partytime (see above)"

if [[ "$target" =~ ^https?:// ]]; then
    echo "== HTTP: the feed"
    headers="$work/h"
    curl -sS -D "$headers" -o /dev/null "$target"
    header() { grep -i "^$1:" "$headers" | head -1 | cut -d' ' -f2- | tr -d '\r'; }
    ctype="$(header content-type)"
    [ "$ctype" = "application/rss+xml; charset=utf-8" ] && ok "Content-Type $ctype" || fail "Content-Type '$ctype'"
    [ -n "$(header cache-control)" ] && ok "Cache-Control $(header cache-control)" || fail "no Cache-Control"
    etag="$(header etag)"
    modified="$(header last-modified)"
    [ -n "$etag" ] && ok "ETag $etag" || fail "no ETag"
    [ -n "$modified" ] && ok "Last-Modified $modified" || fail "no Last-Modified"
    code="$(curl -sS -o /dev/null -w '%{http_code}' -H "If-None-Match: $etag" "$target")"
    [ "$code" = 304 ] && ok "If-None-Match -> 304" || fail "If-None-Match -> $code"
    code="$(curl -sS -o /dev/null -w '%{http_code}' -H "If-Modified-Since: $modified" "$target")"
    [ "$code" = 304 ] && ok "If-Modified-Since -> 304" || fail "If-Modified-Since -> $code"
    curl -sS -D "$headers" -o "$work/feed.gz" -H 'Accept-Encoding: gzip' "$target"
    if [ "$(header content-encoding)" = gzip ] && gunzip -c "$work/feed.gz" | cmp -s - "$feed"; then
        ok "gzip when accepted, same bytes"
    else
        fail "gzip: Content-Encoding '$(header content-encoding)' or different bytes"
    fi

    echo "== HTTP: enclosures"
    python3 - "$feed" "${FEEDS_MAX_ENCLOSURES:-20}" >"$work/enclosures" <<'PY'
import sys, xml.etree.ElementTree as ET
items = ET.parse(sys.argv[1]).getroot().find("channel").findall("item")
for item in items[: int(sys.argv[2])]:
    e = item.find("enclosure")
    print(e.get("url"), e.get("length"))
PY
    while read -r url length; do
        curl -sS -I -D "$headers" -o /dev/null "$url"
        status="$(head -1 "$headers" | cut -d' ' -f2)"
        [ "$status" = 200 ] && [ "$(header content-length)" = "$length" ] \
            && ok "HEAD $url: 200, Content-Length = length $length" \
            || fail "HEAD $url: $status, Content-Length '$(header content-length)' vs length $length"
        [ "$(header accept-ranges)" = bytes ] && ok "Accept-Ranges: bytes" || fail "Accept-Ranges '$(header accept-ranges)'"
        [ "$(header content-type)" = audio/mpeg ] || fail "Content-Type '$(header content-type)' for $url"
        [ -n "$(header etag)" ] || fail "no ETag on $url"
        served="$(curl -sS -o /dev/null -w '%{size_download}' "$url")"
        [ "$served" = "$length" ] && ok "GET serves exactly $length bytes" || fail "GET served $served bytes, feed says $length"
        body="$(curl -sS -D "$headers" -H 'Range: bytes=0-1' "$url" | wc -c)"
        status="$(head -1 "$headers" | cut -d' ' -f2)"
        [ "$status" = 206 ] && [ "$(header content-range)" = "bytes 0-1/$length" ] && [ "$body" = 2 ] \
            && ok "Range bytes=0-1 -> 206 Content-Range bytes 0-1/$length" \
            || fail "Range bytes=0-1 -> $status '$(header content-range)' ($body bytes)"
        code="$(curl -sS -o /dev/null -w '%{http_code}' -H "Range: bytes=$length-" "$url")"
        [ "$code" = 416 ] && ok "Range bytes=$length- -> 416" || fail "Range bytes=$length- -> $code"
    done <"$work/enclosures"
fi

if [ "$failures" -gt 0 ]; then
    echo "feeds.sh: $failures check group(s) failed" >&2
    exit 1
fi
echo "feeds.sh: all checks passed"
