#!/usr/bin/env node
// Parse a rendered feed with the Podcast Index's parser (podcast-partytime): every liveItem
// emitted must come back with its status, start and content link (partytime silently drops
// invalid ones, so the counts are compared).
// Usage: node feeds.cjs FEED_FILE   (NODE_PATH must reach podcast-partytime)
const fs = require("fs");
const { parseFeed } = require("podcast-partytime");

const failures = [];
function check(ok, what) {
  console.log((ok ? "ok   " : "FAIL ") + what);
  if (!ok) failures.push(what);
}

const xml = fs.readFileSync(process.argv[2], "utf8");
const emittedLive = (xml.match(/<podcast:liveItem[\s>]/g) || []).length;
const emittedItems = (xml.match(/<item>/g) || []).length;
const feed = parseFeed(xml, { allowMissingGuid: false });
check(feed !== null, "partytime: feed parsed");
if (feed) {
  check(Boolean(feed.title), "partytime: title");
  check(/^[0-9a-f-]{36}$/.test(feed.guid || ""), `partytime: podcast:guid (${feed.guid})`);
  check(feed.locked !== undefined, `partytime: podcast:locked (${feed.locked})`);
  check(feed.medium === "podcast" || Boolean(feed.medium), `partytime: podcast:medium (${feed.medium})`);
  check(feed.items.length === emittedItems, `partytime: ${feed.items.length} items == ${emittedItems}`);
  for (const item of feed.items) {
    check(item.duration > 0 && item.enclosure && item.enclosure.length > 0 && Boolean(item.pubDate),
      `partytime item ${item.guid}: duration, enclosure length, pubDate`);
  }
  const live = feed.podcastLiveItems || [];
  check(live.length === emittedLive, `partytime: ${live.length} liveItems parsed == ${emittedLive} emitted`);
  for (const l of live) {
    check(["pending", "live", "ended"].includes(l.status), `liveItem ${l.guid}: status ${l.status}`);
    check(l.start instanceof Date && !isNaN(l.start) && l.end instanceof Date && l.end > l.start,
      `liveItem ${l.guid}: start < end`);
    check(Boolean(l.enclosure && l.enclosure.url), `liveItem ${l.guid}: enclosure`);
    check((l.contentLinks || []).length > 0 && /^https?:\/\//.test(l.contentLinks[0].url),
      `liveItem ${l.guid}: contentLink ${(l.contentLinks || [])[0]?.url}`);
    check((l.alternativeEnclosures || []).length > 0, `liveItem ${l.guid}: alternateEnclosure`);
  }
}
if (failures.length) {
  console.error(`${failures.length} check(s) failed`);
  process.exit(1);
}
console.log("podcast-partytime: all checks passed");
