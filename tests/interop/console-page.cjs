// Browser checks of the operators' console (run by check-console.sh). Environment:
// CONSOLE_URL, ANTENNE_TOKEN (an operator token), SCHEDULE_FILE (the daemon's schedule, which
// the script edits "over SSH" between a load and a save), SCREENSHOT_DIR, INTEROP_TMP.
"use strict";
const { chromium } = require("playwright-core");
const { execFileSync } = require("child_process");
const fs = require("fs");
const os = require("os");
const path = require("path");

const base = process.env.CONSOLE_URL;
const shots = process.env.SCREENSHOT_DIR;
const tmp = process.env.INTEROP_TMP || os.tmpdir();
const scheduleFile = process.env.SCHEDULE_FILE;

function ok(msg) { console.log("  ok: " + msg); }
function check(cond, msg) { if (!cond) throw new Error(msg); }

// The next day of the week `dow` (0 = Sunday) after today (YYYY-MM-DD), in the station's zone.
function nextDay(dow) {
  const fmt = new Intl.DateTimeFormat("en-CA", { timeZone: "Europe/Paris", year: "numeric", month: "2-digit", day: "2-digit" });
  const d = new Date(fmt.format(new Date()) + "T12:00:00Z");
  do { d.setUTCDate(d.getUTCDate() + 1); } while (d.getUTCDay() !== dow);
  return d.toISOString().slice(0, 10);
}

function addDays(day, n) {
  const d = new Date(day + "T12:00:00Z");
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

// Polls `cond` every 200 ms for up to 15 s.
async function until(cond, msg) {
  for (let i = 0; i < 75; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(msg);
}

// What the daemon airs over the next 15 days (its reloaded schedule).
async function occurrences() {
  const from = addDays(nextDay(0), -7);
  const r = await fetch(`${base}/api/schedule?from=${from}&to=${addDays(from, 16)}`);
  check(r.ok, "/api/schedule answered " + r.status);
  return r.json();
}

// One second of a 440 Hz tone, 16-bit mono WAV.
function wav() {
  const rate = 44100, n = rate;
  const b = Buffer.alloc(44 + n * 2);
  b.write("RIFF", 0); b.writeUInt32LE(36 + n * 2, 4); b.write("WAVEfmt ", 8);
  b.writeUInt32LE(16, 16); b.writeUInt16LE(1, 20); b.writeUInt16LE(1, 22);
  b.writeUInt32LE(rate, 24); b.writeUInt32LE(rate * 2, 28); b.writeUInt16LE(2, 32); b.writeUInt16LE(16, 34);
  b.write("data", 36); b.writeUInt32LE(n * 2, 40);
  for (let i = 0; i < n; i++) b.writeInt16LE(Math.round(8000 * Math.sin(2 * Math.PI * 440 * i / rate)), 44 + i * 2);
  return b;
}

// `POST /api/episodes` with `token`, as a volunteer would with curl (the README's command):
// the HTTP status. A refused upload is answered before its body is read, and the connection
// closed: with `Expect: 100-continue` the body is sent only once the server asks for it, so
// the client reads the answer instead of failing on a reset while still sending.
function upload(token) {
  const file = path.join(tmp, "console-essai.wav");
  fs.writeFileSync(file, wav());
  const args = ["-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Expect: 100-continue",
    "-H", "Authorization: Bearer " + token, "-F", "show=la-matinale", "-F", "title=Essai de la console",
    "-F", "file=@" + file + ";type=audio/wav", base + "/api/episodes"];
  let out;
  try {
    out = execFileSync("curl", args);
  } catch (e) {
    out = e.stdout; // the status, if one came before curl failed
  }
  return Number(String(out));
}

async function shoot(page, name) {
  for (const [w, h] of [[1280, 900], [390, 844]]) {
    await page.setViewportSize({ width: w, height: h });
    await page.screenshot({ path: path.join(shots, `console-${name}-${w}.png`), fullPage: true });
  }
  await page.setViewportSize({ width: 1280, height: 900 });
}

(async () => {
  const originalFile = fs.readFileSync(scheduleFile, "utf8");
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
    // (The sign-in page's 401, the editor's 422 and the refused save's 409 are answers.)
    page.on("console", (m) => {
      if (m.type() === "error" && !/status of (401|409|422)/.test(m.text())) errors.push("console: " + m.text());
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

    // "Done when", through the forms: next Wednesday's show cancelled, saved; a live special
    // next Saturday added, saved; the daemon reloads each and airs both.
    const wed = nextDay(3), sat = nextDay(6);
    const status = async () => (await (await fetch(base + "/api/status")).json()).schedule.loaded_at;
    await page.goto(base + "/console/schedule", { waitUntil: "load" });
    const cancelForm = "form:has(input[name=kind][value=cancel])";
    await page.selectOption(`${cancelForm} select[name=slot]`, "cuisines");
    await page.fill(`${cancelForm} input[name=date]`, wed);
    await Promise.all([page.waitForNavigation(), page.click(`${cancelForm} button[type=submit]`)]);
    const removed = await page.$$eval("tr.removed", (r) => r.map((x) => x.textContent));
    check(removed.length === 1 && removed[0].includes("Cuisines du monde"), "preview: " + removed.join(" | "));
    await shoot(page, "preview");
    ok("the cancel form's preview shows next Wednesday's show removed (" + wed + ")");
    let before = await status();
    await Promise.all([page.waitForNavigation(), page.click("#save")]);
    check(page.url().includes("saved=weekly-"), "saved to " + page.url());
    check((await page.textContent("main")).includes("Grille enregistrée"), "no saved notice");
    await until(async () => (await status()) !== before, "the daemon did not reload the saved schedule");
    ok("saved; the daemon reloaded it");

    const specialForm = "form:has(input[name=kind][value=special])";
    await page.selectOption(`${specialForm} select[name=show]`, "paroles-d-anciens");
    await page.fill(`${specialForm} input[name=date]`, sat);
    await page.fill(`${specialForm} input[name=start]`, "15:00");
    await page.fill(`${specialForm} input[name=duration]`, "2h");
    await page.selectOption(`${specialForm} select[name=play]`, "live");
    await page.fill(`${specialForm} input[name=id]`, "direct-samedi");
    await Promise.all([page.waitForNavigation(), page.click(`${specialForm} button[type=submit]`)]);
    const added = await page.$$eval("tr.added", (r) => r.map((x) => x.textContent));
    check(added.length === 1 && added[0].includes("15:00") && added[0].includes("Paroles"), "preview: " + added.join(" | "));
    check(await page.$$eval("tr.removed", (r) => r.length) === 0, "the special's preview removes a show");
    before = await status();
    await Promise.all([page.waitForNavigation(), page.click("#save")]);
    check(page.url().includes("saved=weekly-"), "saved to " + page.url());
    await until(async () => (await status()) !== before, "the daemon did not reload the special");
    const aired = await occurrences();
    const wedShow = aired.filter((o) => o.slot === "cuisines" && o.start.startsWith(wed));
    const special = aired.filter((o) => o.show === "paroles-d-anciens" && o.start.startsWith(sat + "T15:00"));
    check(wedShow.length === 0, "the daemon still airs the Wednesday show: " + JSON.stringify(wedShow));
    check(special.length === 1 && special[0].play === "live" && special[0].exception === true
      && special[0].end.startsWith(sat + "T17:00"), "the daemon's Saturday special: " + JSON.stringify(special));
    check(aired.some((o) => o.slot === "cuisines"), "no other Cuisines du monde left: the wrong date was cancelled");
    ok(`/api/schedule: no show on ${wed}, a live special on ${sat} 15:00-17:00`);

    // A save refused when the file changed on disk between load and save (an SSH edit).
    await page.goto(base + "/console/schedule", { waitUntil: "load" });
    const later = addDays(wed, 7);
    await page.selectOption(`${cancelForm} select[name=slot]`, "cuisines");
    await page.fill(`${cancelForm} input[name=date]`, later);
    await Promise.all([page.waitForNavigation(), page.click(`${cancelForm} button[type=submit]`)]);
    fs.appendFileSync(scheduleFile, "\n# Modifié par SSH pendant l'aperçu.\n");
    before = await status();
    resp = (await Promise.all([page.waitForNavigation(), page.click("#save")]))[0];
    check(resp.status() === 409, "a save over a changed file answered " + resp.status());
    check((await page.textContent("main")).includes("a changé sur le serveur"), "the refusal does not explain");
    check((await page.inputValue("#yours")).includes(`date = ${later}`), "the refusal does not give the text back");
    const onDisk = fs.readFileSync(scheduleFile, "utf8");
    check(onDisk.includes("Modifié par SSH") && !onDisk.includes(`date = ${later}`), "the file on disk was overwritten");
    await shoot(page, "conflict");
    ok("a save over a file edited on disk meanwhile is refused (409), the SSH edit kept");
    await until(async () => (await status()) !== before, "the daemon did not reload the SSH edit");

    // Restoring the oldest version (the text found on disk at the first save).
    await page.goto(base + "/console/schedule/history", { waitUntil: "load" });
    const rows = await page.$$("table.history tbody tr");
    // The text found on disk at the first save, then the two saves (the SSH edit is kept at the next).
    check(rows.length === 3, rows.length + " versions in the history");
    await Promise.all([page.waitForNavigation(), page.click("table.history tbody tr:last-child a")]);
    await Promise.all([page.waitForNavigation(), page.click("form[action='/console/schedule/restore'] button")]);
    const back = await page.$$eval("tr.added", (r) => r.map((x) => x.textContent));
    const gone = await page.$$eval("tr.removed", (r) => r.map((x) => x.textContent));
    check(back.some((x) => x.includes("Cuisines du monde")) && gone.some((x) => x.includes("15:00")),
      "restore preview: + " + back.join(" | ") + " − " + gone.join(" | "));
    before = await status();
    await Promise.all([page.waitForNavigation(), page.click("#save")]);
    check(page.url().includes("saved=weekly-"), "restored to " + page.url());
    await until(async () => (await status()) !== before, "the daemon did not reload the restored schedule");
    const restored = await occurrences();
    check(restored.some((o) => o.slot === "cuisines" && o.start.startsWith(wed)), "the restored schedule lacks " + wed);
    check(!restored.some((o) => o.start.startsWith(sat + "T15:00")), "the restored schedule keeps the special");
    check(fs.readFileSync(scheduleFile, "utf8") === originalFile, "the restored file is not the original text");
    await page.goto(base + "/console/schedule/history", { waitUntil: "load" });
    check((await page.textContent("table.history tbody tr:first-child")).includes("restaure"), "the newest version does not say what it restores");
    await shoot(page, "history");
    ok("the oldest version restored: the file is the original again, the daemon airs it");

    // A volunteer's token: created in the browser, uploads; revoked in the browser, refused.
    await page.goto(base + "/console/tokens", { waitUntil: "load" });
    await page.fill("form[action='/console/tokens'] input[name=name]", "benevole-interop");
    await page.check("form[action='/console/tokens'] input[name=shows][value='la-matinale']");
    resp = (await Promise.all([page.waitForNavigation(), page.click("form[action='/console/tokens'] button[type=submit]")]))[0];
    check(resp.status() === 201, "token creation answered " + resp.status());
    const secret = (await page.textContent("#secret")).trim();
    check(/^ant_/.test(secret) && (await page.inputValue("#instructions")).includes(secret), "secret " + secret.slice(0, 4));
    await shoot(page, "token");
    let up = upload(secret);
    check(up === 202, "upload with the new token answered " + up);
    ok("a token created in the browser uploads an episode (202)");
    await page.goto(base + "/console/tokens", { waitUntil: "load" });
    await Promise.all([page.waitForNavigation(),
      page.click("form[action='/console/tokens/revoke']:has(input[value='benevole-interop']) button")]);
    check((await page.textContent("main")).includes("révoqué"), "the list does not show it revoked");
    up = upload(secret);
    check(up === 401, "upload with the revoked token answered " + up);
    ok("revoked in the browser, the token is refused (401)");

    // CSRF: the same session's POST without its token, or with another, is refused (403);
    // with it, accepted.
    const session = (await context.cookies()).find((k) => k.name === "antenne_console");
    const csrf = await page.getAttribute("input[name=csrf]", "value");
    const post = (fields, cookie = session.value) => fetch(base + "/console/schedule/check", {
      method: "POST", redirect: "manual",
      headers: { "Content-Type": "application/x-www-form-urlencoded", "Cookie": "antenne_console=" + cookie },
      body: new URLSearchParams(fields).toString(),
    });
    check((await post({ text: original })).status === 403, "a POST without the CSRF token was not refused");
    check((await post({ text: original, csrf: "0".repeat(csrf.length) })).status === 403, "a POST with a wrong CSRF token was not refused");
    check((await post({ text: original, csrf })).status === 200, "a POST with the CSRF token was refused");
    ok("a POST without (or with a wrong) CSRF token is refused (403); with it, accepted");

    // Signed out, the old session cookie replayed is refused (401, the sign-in page).
    await Promise.all([page.waitForNavigation(), page.click("form[action='/console/sign-out'] button")]);
    check(new URL(page.url()).pathname === "/console/sign-in", "signed out to " + page.url());
    check(!(await context.cookies()).some((k) => k.name === "antenne_console" && k.value), "the cookie is still set");
    await context.addCookies([session]);
    resp = await page.goto(base + "/console/tokens", { waitUntil: "load" });
    check(resp.status() === 401 && await page.$("#token") !== null, "the replayed cookie answered " + resp.status());
    check((await post({ text: original, csrf })).status === 401, "a POST with the replayed cookie was not refused");
    ok("after sign-out, the replayed session cookie gets the sign-in page (401), its POST too");

    await context.clearCookies();
    await page.goto(base + "/console", { waitUntil: "load" });
    await page.fill("#token", process.env.ANTENNE_TOKEN);
    await Promise.all([page.waitForNavigation(), page.click("form[action='/console/sign-in'] button")]);
    const audit = await page.textContent("table.audit");
    check(["grille enregistrée", "grille restaurée", "jeton créé", "jeton révoqué"].every((a) => audit.includes(a)),
      "the audit log lacks a save, the restore or a token's creation or revocation");
    await shoot(page, "home");
    ok("the audit log lists the saves, the restore and the token's creation and revocation");
    check(errors.length === 0, "browser errors: " + errors.join("; "));
    ok("no script error, CSP violation or 404");
  } finally {
    await context.close();
  }
})().catch((e) => { console.error("FAIL: " + e.message); process.exit(1); });
