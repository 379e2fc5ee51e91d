// Browser checks of the station page (run by check-web.sh). Environment: ANTENNE_URL,
// ANTENNE_TOKEN, SCREENSHOT_DIR, INTEROP_TMP. Exits non-zero on the first failure.
"use strict";
const { chromium } = require("playwright-core");
const fs = require("fs");
const http = require("http");
const os = require("os");
const path = require("path");

const base = process.env.ANTENNE_URL;
const shots = process.env.SCREENSHOT_DIR;
const tmp = process.env.INTEROP_TMP || os.tmpdir();

function ok(msg) { console.log("  ok: " + msg); }
function check(cond, msg) { if (!cond) throw new Error(msg); }

// A 6-second stereo 44.1 kHz 16-bit WAV: a 440 Hz tone with a slow tremolo.
function wav(file, seconds) {
  const rate = 44100, n = rate * seconds, data = Buffer.alloc(n * 4);
  for (let i = 0; i < n; i++) {
    const t = i / rate;
    const v = Math.round(Math.sin(2 * Math.PI * 440 * t) * (0.3 + 0.2 * Math.sin(2 * Math.PI * 0.5 * t)) * 32767);
    data.writeInt16LE(v, i * 4);
    data.writeInt16LE(v, i * 4 + 2);
  }
  const h = Buffer.alloc(44);
  h.write("RIFF", 0); h.writeUInt32LE(36 + data.length, 4); h.write("WAVE", 8);
  h.write("fmt ", 12); h.writeUInt32LE(16, 16); h.writeUInt16LE(1, 20); h.writeUInt16LE(2, 22);
  h.writeUInt32LE(rate, 24); h.writeUInt32LE(rate * 4, 28); h.writeUInt16LE(4, 32); h.writeUInt16LE(16, 34);
  h.write("data", 36); h.writeUInt32LE(data.length, 40);
  fs.writeFileSync(file, Buffer.concat([h, data]));
}

(async () => {
  const profile = fs.mkdtempSync(path.join(tmp, "chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
      "--autoplay-policy=no-user-gesture-required"],
    viewport: { width: 1280, height: 900 },
    // A French browser: the page's default language must answer it.
    locale: "fr-FR",
  });
  try {
    const page = context.pages()[0] || await context.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    // Every console error (any frame) and every 404 (a missing favicon, say) is a failure.
    page.on("console", (m) => { if (m.type() === "error") errors.push("console: " + m.text()); });
    page.on("response", (r) => { if (r.status() === 404) errors.push("404: " + r.url()); });

    // French by default.
    const resp = await page.goto(base + "/", { waitUntil: "load" });
    check(resp.status() === 200, "/ answered " + resp.status());
    check(await page.getAttribute("html", "lang") === "fr", "<html lang> is not fr");
    check(await page.locator("h1").count() === 1, "one h1");
    check(await page.locator(".week .day").count() === 7, "seven days in the programme");
    ok("/ in French with the week's programme");
    // At 1280 px the week is one row of seven days.
    const tops = await page.$$eval(".week .day", (days) => days.map((d) => d.getBoundingClientRect().top));
    check(new Set(tops).size === 1, "the week wraps at 1280 px: tops " + tops.join(", "));
    ok("the seven days on one row at 1280 px");
    const dates = await page.$$eval(".episode .meta time", (ts) => ts.map((t) => t.textContent));
    check(dates.length > 0 && dates.every((d) => /\d{4}$/.test(d)), "episode cards without a date: " + dates.join(", "));
    ok("episode cards show their date (" + dates[0] + ")");
    const art = await page.$eval("img.artwork", (i) => i.complete && i.naturalWidth);
    check(art > 0, "the station's artwork did not load");
    const icon = await page.evaluate(() => fetch(document.querySelector("link[rel=icon]").href).then((r) => r.status));
    check(icon === 200, "favicon answered " + icon);
    ok("station artwork and favicon load");
    await page.screenshot({ path: path.join(shots, "desktop-fr.png"), fullPage: true });

    // Press play on the live player (keyboard: focus it, then play) and hear time pass.
    await page.focus("#live");
    await page.$eval("#live", (a) => a.play());
    await page.waitForFunction(() => document.getElementById("live").currentTime > 1.5, null, { timeout: 20000 });
    const t = await page.$eval("#live", (a) => a.currentTime);
    ok("the live player plays /stream (currentTime " + t.toFixed(1) + " s)");
    await page.$eval("#live", (a) => a.pause());

    // "Écouter depuis le début" is on the page, hidden until a show airs; pressing it is
    // checked by from-start.cjs, on a daemon whose schedule has a show start at a known instant.
    check(await page.locator("#from-start").count() === 1, "no 'Écouter depuis le début' button");
    check((await page.textContent("#from-start")).includes("Écouter depuis le début"), "button label");

    // English.
    await page.goto(base + "/?lang=en", { waitUntil: "load" });
    check(await page.getAttribute("html", "lang") === "en", "<html lang> is not en with ?lang=en");
    check((await page.textContent("body")).includes("This week's programme"), "English headings");
    await page.screenshot({ path: path.join(shots, "desktop-en.png"), fullPage: true });
    ok("/?lang=en in English");
    for (const [lang, q] of [["fr", ""], ["en", "?lang=en"]]) {
      await page.goto(base + "/shows/la-matinale" + q, { waitUntil: "load" });
      check(await page.$eval("img.artwork", (i) => i.complete && i.naturalWidth) > 0, "the show's artwork did not load");
      await page.screenshot({ path: path.join(shots, `show-desktop-${lang}.png`), fullPage: true });
    }
    ok("show pages with their artwork (fr, en)");

    // Phone size.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(base + "/", { waitUntil: "load" });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    check(overflow <= 1, "the page scrolls sideways on a phone by " + overflow + " px");
    await page.screenshot({ path: path.join(shots, "phone-fr.png"), fullPage: true });
    await page.goto(base + "/?lang=en", { waitUntil: "load" });
    await page.screenshot({ path: path.join(shots, "phone-en.png"), fullPage: true });
    ok("readable at 390 px without sideways scrolling");

    // The embeds inside iframes of another origin (a partner's site on another port).
    const host = http.createServer((req, res) => {
      const lang = req.url.includes("en") ? "?lang=en" : "";
      const framed = req.url.startsWith("/refused") ? base + "/" :  null;
      res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
      res.end(framed
        ? `<!doctype html><title>refused</title><iframe id="f" src="${framed}"></iframe>`
        : `<!doctype html><html lang="fr"><title>Partenaire</title><body style="font-family:sans-serif">
<h1>Le site d'un centre</h1>
<iframe id="player" title="Radio" src="${base}/embed/player${lang}" width="360" height="280" style="border:1px solid #ccc"></iframe>
<iframe id="programme" title="Programme" src="${base}/embed/programme${lang}" width="100%" height="520" style="border:1px solid #ccc"></iframe>
</body></html>`);
    });
    await new Promise((r) => host.listen(0, "127.0.0.1", r));
    const other = "http://127.0.0.1:" + host.address().port;
    try {
      for (const lang of ["fr", "en"]) {
        for (const [width, name] of [[1280, "desktop"], [390, "phone"]]) {
          await page.setViewportSize({ width, height: 900 });
          await page.goto(other + "/" + lang, { waitUntil: "load" });
          const player = page.frame({ url: /\/embed\/player/ });
          const week = page.frame({ url: /\/embed\/programme/ });
          check(player && week, "the embeds did not load in the iframes");
          await player.waitForSelector("#live");
          check(await player.getAttribute("html", "lang") === lang, "embed language " + lang);
          check(await week.locator(".day").count() === 7, "seven days in the programme embed");
          await page.screenshot({ path: path.join(shots, `embed-${name}-${lang}.png`), fullPage: true });
        }
      }
      const player = page.frame({ url: /\/embed\/player/ });
      await player.$eval("#live", (a) => a.play());
      await player.waitForFunction(() => document.getElementById("live").currentTime > 1, null, { timeout: 20000 });
      await player.$eval("#live", (a) => a.pause());
      ok("/embed/player and /embed/programme render and play inside another origin's iframes (fr, en; 1280 and 390 px)");

      // Any other page refuses to be framed: Chromium shows its error page instead.
      const refused = await context.newPage();
      await refused.goto(other + "/refused", { waitUntil: "load" });
      await refused.waitForTimeout(500);
      const inner = refused.frames().find((f) => f !== refused.mainFrame());
      const rendered = inner ? await inner.evaluate(() => !!document.querySelector(".onair")).catch(() => false) : false;
      check(!rendered, "the station page rendered inside another origin's iframe (" + (inner && inner.url()) + ")");
      await refused.close();
      ok("the station page refuses to be framed by another origin");
    } finally {
      host.close();
    }

    // Upload a generated WAV through /upload and wait until it is ready.
    await page.setViewportSize({ width: 1280, height: 900 });
    const file = path.join(tmp, "interop-upload.wav");
    wav(file, 6);
    await page.goto(base + "/upload", { waitUntil: "load" });
    await page.fill("#token", process.env.ANTENNE_TOKEN);
    await page.fill("#title", "Essai navigateur " + Date.now());
    await page.setInputFiles("#file", file);
    await page.click("#send");
    await page.waitForSelector("form#upload[data-status=ready], form#upload[data-status=failed], form#upload[data-status=error]", { timeout: 180000 });
    const status = await page.getAttribute("form#upload", "data-status");
    const said = await page.textContent("#status");
    check(status === "ready", "the upload ended " + status + ": " + said);
    check(await page.locator("table.report").count() === 1, "the loudness report is shown");
    check(await page.evaluate(() => localStorage.getItem("antenne.token")) === process.env.ANTENNE_TOKEN, "token kept in localStorage");
    await page.screenshot({ path: path.join(shots, "upload-ready.png"), fullPage: true });
    ok("a WAV uploaded through /upload became ready, with its loudness report");
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: path.join(shots, "phone-upload.png"), fullPage: true });

    check(errors.length === 0, "JavaScript errors: " + errors.join("; "));
    ok("no JavaScript errors");
  } finally {
    await context.close();
  }
})().catch((e) => { console.log("FAIL: " + e.message); process.exit(1); });
