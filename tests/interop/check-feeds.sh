#!/usr/bin/env bash
# Feeds (issue 6): the running demo station's /feed.xml and one show feed, checked by
# tests/interop/feeds.sh with real podcast clients' parsers (podcastparser, feedparser,
# podcast-partytime), xmllint, and curl for the HTTP rules of feeds and enclosures (ETag/304,
# gzip, HEAD, Range bytes=0-1 -> 206, 416). Waits for the demo episodes the daemon seeds at
# start to appear in the feed first.
set -uo pipefail
. "$INTEROP_DIR/lib.sh"
need curl xmllint python3 node
export FEEDS_NO_INSTALL=1
items=0
for _ in $(seq 1 240); do
  items=$(curl -fsS "$ANTENNE_URL/feed.xml" | grep -c '<item>' || true)
  [ "$items" -gt 0 ] && break
  sleep 0.5
done
[ "$items" -gt 0 ] || fail "no episode in $ANTENNE_URL/feed.xml after 120 s (demo seeding?)"
ok "/feed.xml lists $items episode(s)"
bash "$INTEROP_DIR/feeds.sh" "$ANTENNE_URL/feed.xml" || fail "station feed"
bash "$INTEROP_DIR/feeds.sh" "$ANTENNE_URL/shows/la-matinale/feed.xml" || fail "show feed"
code=$(curl -s -o /dev/null -w '%{http_code}' "$ANTENNE_URL/media/..%2fcatalog.sqlite3")
[ "$code" = 404 ] || fail "/media/..%2fcatalog.sqlite3 -> $code"
ok "/media/..%2fcatalog.sqlite3 -> 404"
