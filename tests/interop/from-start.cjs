// "Écouter depuis le début" in a real browser (run by check-web.sh), on a daemon of its own
// whose schedule has a show starting at SHOW_START (ISO instant), shortly after the daemon:
// between shows the button is hidden; once the show is on air it appears, and pressing it
// plays the HLS (hls.js from npm) from the show's first segment, at the show's first instant.
// Environment: DAEMON_URL, SHOW_START, INTEROP_TMP. Exits non-zero on the first failure.
"use strict";
const { chromium } = require("playwright-core");
const fs = require("fs");
const os = require("os");
const path = require("path");

const base = process.env.DAEMON_URL;
const showStart = Date.parse(process.env.SHOW_START);
const tmp = process.env.INTEROP_TMP || os.tmpdir();

function ok(msg) { console.log("  ok: " + msg); }
function check(cond, msg) { if (!cond) throw new Error(msg); }
const iso = (ms) => new Date(ms).toISOString();

// The playlist's segments as [programDateTime ms, duration s, uri].
function segments(text) {
  const out = [];
  let pdt = null, dur = null;
  for (const line of text.split("\n")) {
    if (line.startsWith("#EXT-X-PROGRAM-DATE-TIME:")) pdt = Date.parse(line.slice(25));
    else if (line.startsWith("#EXTINF:")) dur = parseFloat(line.slice(8));
    else if (line && !line.startsWith("#")) { out.push([pdt, dur, line]); pdt = dur = null; }
  }
  return out;
}

(async () => {
  check(!isNaN(showStart), "SHOW_START is not an instant: " + process.env.SHOW_START);
  const profile = fs.mkdtempSync(path.join(tmp, "chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
      "--autoplay-policy=no-user-gesture-required"],
    viewport: { width: 1280, height: 900 },
    locale: "fr-FR",
  });
  try {
    const page = context.pages()[0] || await context.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("console", (m) => { if (m.type() === "error") errors.push("console: " + m.text()); });
    page.on("response", (r) => { if (r.status() >= 400) errors.push(r.status() + ": " + r.url()); });
    await page.route("**/vendor/hls.min.js", (route) => route.fulfill({
      path: require.resolve("hls.js/dist/hls.min.js"), contentType: "text/javascript",
    }));
    const now = async () => (await (await page.request.get(base + "/api/now")).json());

    // Between shows: the fallback airs, the show is next, the button stays hidden.
    await page.goto(base + "/", { waitUntil: "load" });
    await page.waitForFunction(() => document.querySelector(".onair #now a") !== null, null, { timeout: 10000 });
    let n = await now();
    for (let i = 0; i < 20 && !n.now; i++) { await page.waitForTimeout(500); n = await now(); }
    check(Date.now() < showStart - 5000, "the show started before the page was checked (" + iso(showStart) + ")");
    check(n.now && n.now.kind === "fallback", "before the show, on air: " + JSON.stringify(n.now));
    check(n.next && Date.parse(n.next.start) === showStart, "next: " + JSON.stringify(n.next));
    check(await page.locator("#from-start").count() === 1, "no 'Écouter depuis le début' button");
    check(await page.$eval("#from-start", (b) => b.hidden), "the button shows between shows");
    ok("between shows (" + n.now.title + "), 'Écouter depuis le début' is hidden");

    // The show starts; the page's next refresh (every 20 s) shows the button.
    await page.waitForSelector("#from-start:visible", { timeout: showStart - Date.now() + 40000 });
    n = await now();
    check(n.now.kind === "show" && Date.parse(n.now.start) === showStart, "on air: " + JSON.stringify(n.now));
    const shown = Date.now();
    // The playout renders 200 ms ahead of the clock, so "on air" may turn a moment early.
    check(shown >= showStart - 1000, "the button showed at " + iso(shown) + ", before the show");
    ok("the button shows once the show is on air (" + ((shown - showStart) / 1000).toFixed(1) + " s after its start)");

    // The segment holding the show's first instant is listed by now (segments of 2 s).
    let first = null;
    for (let i = 0; i < 40 && !first; i++) {
      const text = await (await page.request.get(base + "/hls/live.m3u8")).text();
      first = segments(text).find(([pdt, dur]) => pdt <= showStart && showStart < pdt + dur * 1000) || null;
      if (!first) await page.waitForTimeout(500);
    }
    check(first, "no segment of the playlist holds " + iso(showStart));

    // A listener's click: hls.js loads the playlist and starts at the show's start.
    await page.click("#from-start");
    await page.waitForFunction(() => document.getElementById("from-start").hasAttribute("data-position"), null, { timeout: 20000 });
    const pos = Number(await page.getAttribute("#from-start", "data-position"));
    await page.waitForFunction((p) => document.getElementById("live").currentTime > p + 2, pos, { timeout: 30000 });
    const seen = await page.evaluate((p) => {
      const a = document.getElementById("live"), hls = window.antenneHls;
      const frag = hls.levels[0].details.fragments.find((f) => f.start <= p && p < f.start + f.duration);
      return { t: a.currentTime, error: a.error && a.error.code, playing: hls.playingDate && hls.playingDate.getTime(),
        frag: frag && { pdt: frag.programDateTime, start: frag.start, url: frag.url } };
    }, pos);
    check(!seen.error, "the audio element failed: " + seen.error);
    check(seen.frag, "no fragment at position " + pos);
    // The position is in the show's first segment, at the show's first instant.
    check(seen.frag.pdt === first[0] && seen.frag.url.split("?")[0].endsWith("/" + first[2]),
      "started in " + seen.frag.url + " (" + iso(seen.frag.pdt) + "), not the show's first segment " + first[2]);
    const mapped = seen.frag.pdt + (pos - seen.frag.start) * 1000;
    check(Math.abs(mapped - showStart) < 50, "position " + pos + " is " + iso(mapped) + ", the show starts " + iso(showStart));
    // What plays is the show's start plus what played since.
    const want = showStart + (seen.t - pos) * 1000;
    check(Math.abs(seen.playing - want) < 1000,
      "playing " + iso(seen.playing) + ", expected " + iso(want));
    ok("from the start: hls.js plays " + first[2] + " from " + iso(mapped) + " (position " + pos.toFixed(2) +
      " s), " + (seen.t - pos).toFixed(1) + " s played");
    await page.$eval("#live", (a) => a.pause());
    check(errors.length === 0, "errors: " + errors.join("; "));
    ok("no JavaScript or HTTP errors");
  } finally {
    await context.close();
  }
})().catch((e) => { console.log("FAIL: " + e.message); process.exit(1); });
