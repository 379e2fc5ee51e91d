#!/usr/bin/env python3
"""Parse a rendered feed with real podcast clients' parsers (gPodder's podcastparser, feedparser).

Usage: feeds.py FEED_FILE FEED_URL
Exits non-zero listing every failed check; prints what it checked.
"""
import re
import sys

import feedparser
import podcastparser

failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


path, url = sys.argv[1], sys.argv[2]
raw = open(path, "rb").read()
# Recorded items only: liveItems are a separate list (podcastparser ignores them).
emitted_items = len(re.findall(rb"<item>", raw))

# feedparser: the permissive parser many aggregators use; `bozo` flags any XML or RSS error.
d = feedparser.parse(raw)
check(not d.bozo, f"feedparser: no bozo ({d.get('bozo_exception')!r})")
check(d.version == "rss20", f"feedparser: RSS 2.0 (got {d.version!r})")
check(bool(d.feed.get("title")), "feedparser: channel title")
check(d.feed.get("language") is not None, "feedparser: channel language")
check(len(d.entries) == emitted_items, f"feedparser: {len(d.entries)} entries == {emitted_items} <item>s")
for e in d.entries:
    eid = e.get("id", "?")
    check(e.get("published_parsed") is not None, f"feedparser {eid}: pubDate parsed")
    enclosures = [l for l in e.get("links", []) if l.get("rel") == "enclosure"]
    check(len(enclosures) == 1 and int(enclosures[0].get("length", "0")) > 0,
          f"feedparser {eid}: one enclosure with a byte length")
    check(int(e.get("itunes_duration", "0") or 0) > 0, f"feedparser {eid}: itunes:duration > 0")

# podcastparser: gPodder's simple client, the "does an ordinary app get it" oracle.
import io
p = podcastparser.parse(url, io.BytesIO(raw))
check(bool(p.get("title")), "podcastparser: title")
check(bool(p.get("cover_url")), "podcastparser: cover")
check(len(p["episodes"]) == emitted_items, f"podcastparser: {len(p['episodes'])} episodes == {emitted_items}")
guids = [e["guid"] for e in p["episodes"]]
check(len(set(guids)) == len(guids), "podcastparser: unique guids")
for e in p["episodes"]:
    check(e["total_time"] > 0, f"podcastparser {e['guid']}: duration > 0")
    check(e["published"] > 0, f"podcastparser {e['guid']}: published date set")
    check(len(e["enclosures"]) == 1 and e["enclosures"][0]["file_size"] > 0
          and e["enclosures"][0]["mime_type"] == "audio/mpeg",
          f"podcastparser {e['guid']}: one audio/mpeg enclosure with a size")
    check(e["enclosures"][0]["url"].isascii(), f"podcastparser {e['guid']}: ASCII enclosure URL")

# podcast:updateFrequency: the rrule must be RFC 5545 (python-dateutil's parser is strict).
from dateutil.rrule import rrulestr
for m in re.finditer(rb'<podcast:updateFrequency[^>]*rrule="([^"]*)"', raw):
    rule = m.group(1).decode()
    try:
        rrulestr(rule, dtstart=__import__("datetime").datetime(2026, 1, 1))
        check(True, f"dateutil: rrule {rule}")
    except Exception as e:  # noqa: BLE001 - any parse error is the failure being reported
        check(False, f"dateutil: rrule {rule}: {e}")

if failures:
    print(f"{len(failures)} check(s) failed", file=sys.stderr)
    sys.exit(1)
print("python parsers: all checks passed")
