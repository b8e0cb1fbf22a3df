// Shared by the browser tests: Debian's chromium through playwright-core, axe-core on every page,
// Content Security Policy violations and page errors collected, 320 px reflow, screenshots.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const axeSource = fs.readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

export const BASE = process.env.E2E_BASE ?? "";
export const ACCOUNTS = process.env.E2E_ACCOUNTS ? JSON.parse(fs.readFileSync(process.env.E2E_ACCOUNTS, "utf8")) : {};
export const PEOPLE = process.env.E2E_PEOPLE ? JSON.parse(fs.readFileSync(process.env.E2E_PEOPLE, "utf8")) : {};
const ARTIFACTS = process.env.E2E_ARTIFACTS ?? "";
if (!BASE) throw new Error("E2E_BASE is not set: run the tests through tests/e2e/run_e2e.sh");

export async function launch() {
  return chromium.launch({
    executablePath: process.env.E2E_CHROMIUM ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-gpu",
      "--disable-quic", "--no-first-run", "--disable-sync"],
  });
}

/**
 * A fresh context (its own cookies) and page. Every console error that is a CSP violation, every
 * `securitypolicyviolation` event and every uncaught page error is collected; `done()` asserts
 * there were none. (Failed resource loads — the 401/403/404 answers the journeys provoke on
 * purpose — are not errors of the page.)
 */
export async function open(browser, { width = 1024, clock = false } = {}) {
  const context = await browser.newContext({ viewport: { width, height: 900 }, locale: "en-GB", timezoneId: "Europe/London" });
  if (clock) await context.clock.install();
  const problems = [];
  // An init script runs before the page's own (through the DevTools protocol, not as an inline
  // script, so the page's CSP does not apply to it): it records CSP violations the page sees.
  await context.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener("securitypolicyviolation", (e) => {
      window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} (${e.sourceFile}:${e.lineNumber})`);
    });
  });
  const page = await context.newPage();
  page.on("console", (m) => {
    const t = m.text();
    if (m.type() === "error" && /Content Security Policy|Refused to (load|execute|apply|connect|frame)/i.test(t)) problems.push(`console CSP: ${t}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.setDefaultTimeout(15000);
  return {
    context, page, problems,
    async done() {
      const v = await page.evaluate(() => window.__cspViolations ?? []).catch(() => []);
      await context.close();
      assert.deepEqual([...problems, ...v], [], "no CSP violations or page errors");
    },
  };
}

/** Waits until the app has rendered a page: an h1 inside main and nothing marked as loading. */
export async function settled(page) {
  await page.waitForSelector("main#maincontent h1");
  await page.waitForFunction(() => !document.querySelector("main [role=status]"), null, { timeout: 15000 });
  await page.waitForLoadState("networkidle").catch(() => undefined);
}

let shots = 0;
// Screenshots of test files other than ui.test.mjs are named after the file ("admin-01-…"): each
// file runs in a process of its own, with its own count.
const SHOT_PREFIX = (() => {
  const f = path.basename(process.argv[1] ?? "");
  const m = /^(.*)\.test\.mjs$/.exec(f);
  return m && m[1] !== "ui" ? `${m[1]}-` : "";
})();
/**
 * The checks every page gets: axe-core (WCAG 2.0, 2.1, 2.2 A and AA) finds nothing; the title
 * says where you are ("… – joinedup"); one h1; at 320 px wide nothing scrolls sideways; a
 * screenshot at both widths into $E2E_ARTIFACTS.
 */
export async function checkPage(page, name) {
  await settled(page);
  const title = await page.title();
  assert.match(title, / – joinedup$/, `${name}: document.title says where you are`);
  assert.equal(await page.locator("h1").count(), 1, `${name}: one h1`);
  await axeCheck(page, name);
  const vp = page.viewportSize();
  shots += 1;
  const base = `${SHOT_PREFIX}${String(shots).padStart(2, "0")}-${name.replace(/[^a-z0-9]+/gi, "-").toLowerCase()}`;
  if (ARTIFACTS) await page.screenshot({ path: path.join(ARTIFACTS, `${base}.png`), fullPage: true });
  await page.setViewportSize({ width: 320, height: 800 });
  await page.waitForTimeout(150);
  const sw = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(sw <= 320, `${name}: at 320 px the page does not scroll sideways (scrollWidth ${sw})`);
  if (ARTIFACTS) await page.screenshot({ path: path.join(ARTIFACTS, `${base}-320px.png`), fullPage: true });
  if (vp) await page.setViewportSize(vp);
}

/**
 * axe-core's source is evaluated in the page through the DevTools protocol (page.evaluate),
 * which the page's Content Security Policy does not govern; page.addScriptTag would add an
 * inline <script> the policy rightly blocks. No bypassCSP context is used anywhere.
 */
export async function axeCheck(page, name) {
  // The pointer away from the page: a hovered link loses its underline (NHS.UK's hover style),
  // which axe would rightly flag as a link told apart by colour alone.
  await page.mouse.move(0, 0);
  const loaded = await page.evaluate(() => typeof window.axe !== "undefined");
  if (!loaded) await page.evaluate(axeSource);
  const result = await page.evaluate(async () => {
    const r = await window.axe.run(document, {
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"] },
      resultTypes: ["violations"],
    });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(" ")).slice(0, 5) }));
  });
  assert.deepEqual(result, [], `${name}: axe-core found accessibility violations:\n${JSON.stringify(result, null, 2)}`);
}

export async function signIn(page, account) {
  await page.goto(`${BASE}/sign-in`);
  await page.waitForSelector("#username");
  await page.fill("#username", account.username);
  await page.fill("#password", account.password);
  await page.click("form button[type=submit]");
  await page.waitForSelector("nav[aria-label=Account]");
  await settled(page);
}

export async function signOut(page) {
  await page.click("header button:has-text('Sign out')");
  await page.waitForSelector("text=You have signed out");
}

/** Navigates inside the app (history routing) as a click on a link would. */
export async function go(page, pathAndQuery) {
  await page.goto(`${BASE}${pathAndQuery}`);
  await settled(page);
}

export function spaced(n) { return `${n.slice(0, 3)} ${n.slice(3, 6)} ${n.slice(6)}`; }
export function dashed(n) { return `${n.slice(0, 3)}-${n.slice(3, 6)}-${n.slice(6)}`; }
