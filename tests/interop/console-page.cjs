// Browser checks of the operators' console (run by check-console.sh). Environment:
// CONSOLE_URL, ANTENNE_TOKEN (an operator token), SCREENSHOT_DIR, INTEROP_TMP.
"use strict";
const { chromium } = require("playwright-core");
const fs = require("fs");
const os = require("os");
const path = require("path");

const base = process.env.CONSOLE_URL;
const shots = process.env.SCREENSHOT_DIR;
const tmp = process.env.INTEROP_TMP || os.tmpdir();

function ok(msg) { console.log("  ok: " + msg); }
function check(cond, msg) { if (!cond) throw new Error(msg); }

// The next Wednesday after today (YYYY-MM-DD), in the station's zone.
function nextWednesday() {
  const fmt = new Intl.DateTimeFormat("en-CA", { timeZone: "Europe/Paris", year: "numeric", month: "2-digit", day: "2-digit" });
  const d = new Date(fmt.format(new Date()) + "T12:00:00Z");
  do { d.setUTCDate(d.getUTCDate() + 1); } while (d.getUTCDay() !== 3);
  return d.toISOString().slice(0, 10);
}

async function shoot(page, name) {
  for (const [w, h] of [[1280, 900], [390, 844]]) {
    await page.setViewportSize({ width: w, height: h });
    await page.screenshot({ path: path.join(shots, `console-${name}-${w}.png`), fullPage: true });
  }
  await page.setViewportSize({ width: 1280, height: 900 });
}

(async () => {
  const profile = fs.mkdtempSync(path.join(tmp, "chromium-console-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    viewport: { width: 1280, height: 900 },
    locale: "fr-FR",
  });
  try {
    const page = context.pages()[0] || await context.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    // A CSP violation or a script error shows here.
    // (The sign-in page's 401 and the editor's 422 are answers, not errors.)
    page.on("console", (m) => {
      if (m.type() === "error" && !/status of (401|422)/.test(m.text())) errors.push("console: " + m.text());
    });
    page.on("response", (r) => { if (r.status() === 404) errors.push("404: " + r.url()); });

    // Signed out: the sign-in form (401), in French.
    let resp = await page.goto(base + "/console", { waitUntil: "load" });
    check(resp.status() === 401, "/console signed out answered " + resp.status());
    check(await page.getAttribute("html", "lang") === "fr", "<html lang> is not fr");
    await shoot(page, "sign-in");
    await page.fill("#token", process.env.ANTENNE_TOKEN);
    await Promise.all([page.waitForNavigation(), page.click("form[action='/console/sign-in'] button")]);
    check(new URL(page.url()).pathname === "/console", "signed in to " + page.url());
    const cookies = await context.cookies();
    const c = cookies.find((k) => k.name === "antenne_console");
    check(c && c.httpOnly && c.sameSite === "Strict" && c.path === "/console", "session cookie " + JSON.stringify(c));
    check(await page.evaluate(() => document.cookie) === "", "the session cookie is visible to scripts");
    ok("signed in; the session cookie is HttpOnly, SameSite=Strict, Path=/console");

    // The editor: break the matinale's duration.
    await page.goto(base + "/console/schedule", { waitUntil: "load" });
    const original = await page.inputValue("#text");
    const gutter = await page.$$eval(".editor .gutter span", (s) => s.length);
    check(gutter === original.split("\n").length, "line numbers " + gutter + " for " + original.split("\n").length + " lines");
    const at = original.indexOf('duration = "1h"');
    const line = original.slice(0, at).split("\n").length;
    await page.fill("#text", original.replace('duration = "1h"', 'duration = "une heure"'));
    await Promise.all([page.waitForNavigation(), page.click(".editor-form button[type=submit]")]);
    const items = await page.$$eval(".diag-item", (li) => li.map((l) => l.getAttribute("data-line")));
    // The duration first; then what follows from it (the slot's exceptions name a slot that
    // is no longer valid).
    check(items[0] === String(line), "errors at lines " + items.join(",") + ", expected " + line + " first");
    const bad = await page.$$eval(".editor .gutter .bad", (s) => s.map((x) => x.textContent));
    check(bad[0] === String(line) && bad.length === items.length, "the gutter marks " + bad.join(","));
    const text = await page.textContent(".diag-item");
    check(/Ligne \d+, colonne \d+/.test(text) && text.includes("Piste"), "the error reads " + text);
    // "Ligne N" selects that line in the text.
    await page.click(".diag-item a.at");
    const selected = await page.$eval("#text", (t) => t.value.slice(t.selectionStart, t.selectionEnd));
    check(selected.includes("une heure"), "the error's link selected " + JSON.stringify(selected));
    await shoot(page, "error");
    ok(`the broken duration is shown at line ${line} with its hint; its link selects the line`);

    // Fixed, with next Wednesday's cooking show cancelled: the preview shows it removed.
    const wed = nextWednesday();
    await page.fill("#text", original + `\n[[exception]]\nslot = "cuisines"\ndate = ${wed}\ncancel = true\n`);
    await Promise.all([page.waitForNavigation(), page.click(".editor-form button[type=submit]")]);
    const removed = await page.$$eval("tr.removed", (r) => r.map((x) => x.textContent));
    check(removed.length === 1 && removed[0].includes("Cuisines du monde"), "preview: " + removed.join(" | "));
    await shoot(page, "preview");
    ok("the preview shows next Wednesday's show removed (" + wed + ")");
    const before = await (await fetch(base + "/api/status")).json();
    await Promise.all([page.waitForNavigation(), page.click("#save")]);
    check(page.url().includes("saved=weekly-"), "saved to " + page.url());
    check((await page.textContent("main")).includes("Grille enregistrée"), "no saved notice");
    ok("saved");

    // The daemon reloads it.
    let loaded = false;
    for (let i = 0; i < 50 && !loaded; i++) {
      const s = await (await fetch(base + "/api/status")).json();
      loaded = s.schedule.loaded_at !== before.schedule.loaded_at && !s.schedule.refused;
      if (!loaded) await new Promise((r) => setTimeout(r, 200));
    }
    check(loaded, "the daemon did not reload the saved schedule");
    ok("the daemon reloaded the saved schedule");
    await page.goto(base + "/console", { waitUntil: "load" });
    check((await page.textContent("table.audit")).includes("grille enregistrée"), "the audit log lacks the save");
    await shoot(page, "home");
    ok("the audit log lists the save");
    check(errors.length === 0, "browser errors: " + errors.join("; "));
    ok("no script error, CSP violation or 404");
  } finally {
    await context.close();
  }
})().catch((e) => { console.error("FAIL: " + e.message); process.exit(1); });
