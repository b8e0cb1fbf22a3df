// Journeys through the web UI, each as the role that uses it, against a real `joinedup serve`
// (run by tests/e2e/run_e2e.sh). Every page visited is checked by checkPage (axe-core, title,
// 320 px reflow, screenshots) and every context by done() (no CSP violation, no page error).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { ACCOUNTS, BASE, PEOPLE, axeCheck, checkPage, dashed, go, launch, open, settled, signIn, signOut, spaced } from "./helpers.mjs";

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const person = PEOPLE.person;      // at the GP's practice, not on the case manager's team
const patient = PEOPLE.patient;    // the patient account's own record
let personHref = null;             // /people/<id>, learnt from the GP's search

async function mainText(page) { return (await page.locator("main").innerText()).replace(/\s+/g, " "); }

describe("the served page", () => {
  test("has no inline script or style, sends the CSP, and loads nothing from outside", async () => {
    const res = await fetch(`${BASE}/sign-in`);
    assert.equal(res.status, 200);
    const csp = res.headers.get("content-security-policy") ?? "";
    for (const d of ["default-src 'self'", "script-src 'self'", "style-src 'self'", "object-src 'none'", "frame-ancestors 'none'"]) {
      assert.ok(csp.includes(d), `CSP has ${d}: ${csp}`);
    }
    const page = await res.text();
    const scripts = [...page.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)];
    assert.ok(scripts.length >= 1);
    for (const [, attrs, body] of scripts) {
      assert.match(attrs, /type="module"/);
      assert.match(attrs, /src="\/assets\/[^"]+\.js"/);
      assert.equal(body.trim(), "", "no inline script");
    }
    assert.ok(!/<style\b/i.test(page), "no <style>");
    assert.ok(!/\sstyle=/i.test(page), "no style attribute");
    assert.match(page, /<link rel="stylesheet"[^>]*href="\/assets\/[^"]+\.css"/);
    const assets = [...page.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]);
    for (const a of assets) {
      const r = await fetch(`${BASE}${a}`);
      assert.equal(r.status, 200, a);
      const text = await r.text();
      if (a.endsWith(".css")) {
        assert.ok(!/url\(\s*["']?(https?:)?\/\//i.test(text), `${a}: no external url()`);
        assert.ok(!/@font-face/i.test(text), `${a}: no @font-face`);
      }
    }
  });
});

describe("sign in and out", () => {
  const SCREENS = {
    gp: ["Find a person"],
    case_manager: ["Find a person"],
    commissioner: ["Population"],
    privacy_officer: ["Audit trail"],
    administrator: ["Administration"],
    patient: ["My record"],
  };
  for (const [key, links] of Object.entries(SCREENS)) {
    test(`${key}: signs in, sees the home page with their screens, signs out with one click`, async () => {
      const s = await open(browser);
      const { page } = s;
      await page.goto(`${BASE}/`);
      await page.waitForSelector("#username");
      assert.equal(new URL(page.url()).pathname, "/sign-in", "signed out: / leads to the sign-in page");
      await checkPage(page, "sign-in");
      await signIn(page, ACCOUNTS[key]);
      assert.equal(new URL(page.url()).pathname, "/");
      await checkPage(page, `home-${key}`);
      // The header names the person and their role: "Dr E2E GP (GP)", not the username.
      const account = await page.locator("nav[aria-label=Account]").innerText();
      assert.ok(account.includes(`${ACCOUNTS[key].display_name} (`), `${key}: the header shows the display name and role: ${account}`);
      const nav = await page.locator("nav[aria-label=Menu]").innerText();
      for (const l of links) assert.ok(nav.includes(l), `${key} has ${l} in the menu`);
      if (key === "commissioner") assert.ok(!nav.includes("Find a person"), "a commissioner has no Find a person");
      if (key === "patient") assert.ok(!nav.includes("Find a person"), "a patient has no Find a person");
      if (key === "administrator") assert.ok(!nav.includes("Find a person"), "an administrator has no Find a person");
      if (key !== "administrator") assert.ok(!nav.includes("Administration"), `${key} has no Administration`);
      await signOut(page);
      assert.equal(new URL(page.url()).pathname, "/sign-in");
      await checkPage(page, `signed-out-${key}`);
      // Signed out for real: the API refuses the old cookie.
      const status = await page.evaluate(async () => (await fetch("/app/api/me")).status);
      assert.equal(status, 401);
      await s.done();
    });
  }

  test("a wrong password shows the error summary and the inline error", async () => {
    const s = await open(browser);
    const { page } = s;
    await page.goto(`${BASE}/sign-in`);
    await page.waitForSelector("#username");
    await page.fill("#username", ACCOUNTS.spare.username);
    await page.fill("#password", "not-the-password-at-all");
    await page.click("form button[type=submit]");
    await page.waitForSelector(".nhsuk-error-summary");
    assert.match(await page.locator(".nhsuk-error-summary").innerText(), /There is a problem/);
    assert.match(await page.locator("#password-error").innerText(), /correct username and password/);
    assert.match(await page.title(), /^Error: Sign in – joinedup$/);
    await page.waitForFunction(() => document.activeElement?.classList.contains("nhsuk-error-summary"));
    // The summary's link moves to the field.
    await page.click(".nhsuk-error-summary a[href='#password']");
    await checkPage(page, "sign-in-wrong-password");
    await s.done();
  });

  test("empty fields are caught before anything is sent", async () => {
    const s = await open(browser);
    const { page } = s;
    await page.goto(`${BASE}/sign-in`);
    await page.waitForSelector("#username");
    await page.click("form button[type=submit]");
    await page.waitForSelector(".nhsuk-error-summary");
    assert.match(await page.locator(".nhsuk-error-summary").innerText(), /Enter your username/);
    assert.match(await page.locator(".nhsuk-error-summary").innerText(), /Enter your password/);
    await s.done();
  });
});

describe("keyboard", () => {
  for (const [name, account, path] of [["sign-in", null, "/sign-in"], ["find", "gp", "/find"]]) {
    test(`${name}: Tab from page load reaches the skip link first, and it moves focus to main`, async () => {
      const s = await open(browser);
      const { page } = s;
      if (account) await signIn(page, ACCOUNTS[account]);
      await page.goto(`${BASE}${path}`);
      await settled(page);
      await page.keyboard.press("Tab");
      const first = await page.evaluate(() => ({ cls: document.activeElement?.className, text: document.activeElement?.textContent?.trim() }));
      assert.equal(first.text, "Skip to main content");
      assert.match(first.cls ?? "", /nhsuk-skip-link/);
      // NHS.UK's focus style is visible on it (yellow background).
      const bg = await page.evaluate(() => getComputedStyle(document.activeElement).backgroundColor);
      assert.notEqual(bg, "rgba(0, 0, 0, 0)", "the focused skip link is visible");
      await page.keyboard.press("Enter");
      await page.waitForFunction(() => document.activeElement?.id === "maincontent");
      await s.done();
    });
  }

  test("sign in and search with the keyboard alone", async () => {
    const s = await open(browser);
    const { page } = s;
    await page.goto(`${BASE}/sign-in`);
    await settled(page);
    await page.locator("#username").focus();
    await page.keyboard.type(ACCOUNTS.gp.username);
    await page.keyboard.press("Tab");
    await page.keyboard.type(ACCOUNTS.gp.password);
    await page.keyboard.press("Enter");
    await page.waitForSelector("nav[aria-label=Account]");
    await settled(page);
    await page.goto(`${BASE}/find`);
    await settled(page);
    await page.locator("#q").focus();
    await page.keyboard.type(person.nhs_number);
    await page.keyboard.press("Enter");
    await page.waitForSelector("main table a");
    // After the search the focus is on the h1; Tab goes on through the page.
    await page.waitForFunction(() => document.activeElement?.tagName === "H1");
    await s.done();
  });
});

describe("find a person and their record (GP)", () => {
  test("by NHS number in three formats and by name with date of birth", async () => {
    const s = await open(browser);
    const { page } = s;
    await signIn(page, ACCOUNTS.gp);
    for (const q of [spaced(person.nhs_number), dashed(person.nhs_number), person.nhs_number]) {
      await go(page, "/find");
      await page.fill("#q", q);
      await page.click("form[role=search] button[type=submit]");
      await page.waitForSelector("main table a");
      const rows = page.locator("main table tbody tr");
      assert.equal(await rows.count(), 1, `one person for ${q}`);
      const text = await rows.first().innerText();
      assert.ok(text.includes(spaced(person.nhs_number)), `NHS number shown 3-3-4 for ${q}`);
      assert.ok(text.toLowerCase().includes(person.family.toLowerCase()), `name shown for ${q}`);
      personHref = await rows.first().locator("a").getAttribute("href");
      assert.match(personHref, /^\/people\/[^/]+$/);
    }
    await checkPage(page, "find-results");
    // By name, narrowed by date of birth (the NHS.UK date input).
    await go(page, "/find");
    const [y, m, d] = person.birth_date.split("-");
    await page.fill("#q", person.family);
    await page.fill("#dob-day", String(Number(d)));
    await page.fill("#dob-month", String(Number(m)));
    await page.fill("#dob-year", y);
    await page.click("form[role=search] button[type=submit]");
    await page.waitForSelector("main table a");
    assert.ok((await mainText(page)).includes(spaced(person.nhs_number)), "found by name and date of birth");
    assert.ok(new URL(page.url()).searchParams.get("birthdate") === person.birth_date, "birthdate sent as YYYY-MM-DD");
    // Nothing found.
    await go(page, "/find?q=Zzyzxqwv");
    assert.match(await mainText(page), /No one found that you may see/);
    await checkPage(page, "find-nothing");
    // An invalid NHS number: the server's 400 (field q) shows as an error on the field.
    await go(page, "/find");
    await page.fill("#q", "943 476 5910");
    await page.click("form[role=search] button[type=submit]");
    await page.waitForSelector(".nhsuk-error-summary");
    await checkPage(page, "find-invalid");
    // An empty search is caught here.
    await go(page, "/find");
    await page.click("form[role=search] button[type=submit]");
    await page.waitForSelector(".nhsuk-error-summary");
    assert.match(await page.locator(".nhsuk-error-summary").innerText(), /Enter an NHS number or a name/);
    await s.done();
  });

  test("a name search pages on with Next page", async () => {
    const s = await open(browser);
    const { page } = s;
    await signIn(page, ACCOUNTS.gp);
    // One letter matches many of the practice's people; the first page ends with a next cursor.
    await go(page, "/find?q=a");
    const next = page.locator("nav[aria-label=Pagination] a");
    if (await next.count()) {
      const firstPage = await page.locator("main table tbody").innerText();
      const before = await page.locator("main table tbody").textContent();
      await next.click();
      await page.waitForFunction((b) => document.querySelector("main table tbody")?.textContent !== b, before);
      await settled(page);
      assert.notEqual(await page.locator("main table tbody").innerText(), firstPage);
      assert.ok(new URL(page.url()).searchParams.get("cursor"), "the cursor is in the address");
      await checkPage(page, "find-next-page");
    } else {
      test.diagnostic?.("fewer results than a page: no Next page to follow");
    }
    await s.done();
  });

  test("the person page shows every section with real data", async () => {
    const s = await open(browser);
    const { page } = s;
    await signIn(page, ACCOUNTS.gp);
    assert.ok(personHref, "the search test found the person");
    await go(page, personHref);
    assert.ok((await page.locator("h1").innerText()).toLowerCase().includes(person.family.toLowerCase()));
    const details = await page.locator("section[aria-labelledby=h-details] dl.nhsuk-summary-list").innerText();
    assert.ok(details.includes(spaced(person.nhs_number)), "NHS number 3-3-4");
    assert.match(details, /years old/, "date of birth with age");
    assert.match(details, /Primary Care Home\s+PCH\d+/, "the practice's Primary Care Home");
    for (const h of ["Demographics", "Carers and next of kin", "Consent to share", "Long-term conditions", "Medications", "Recent activity", "Scores and segments"]) {
      assert.equal(await page.locator(`main h2:text-is("${h}")`).count(), 1, `section ${h}`);
    }
    // The oldest person at the practice has conditions and scores from both runs.
    const text = await mainText(page);
    assert.ok(!/undefined|null|\[object Object\]/.test(text), "no undefined/null/[object Object] in the page");
    assert.match(text, /Chance of an emergency admission in the next year: \d/);
    const scored = await page.locator(".app-timeline[aria-label^='Scores'] > li").count();
    if (scored >= 2) {
      const canvas = page.locator("canvas#risk-chart");
      await canvas.waitFor();
      assert.equal(await canvas.getAttribute("role"), "img");
      assert.match(await canvas.getAttribute("aria-label") ?? "", /emergency admission risk/i);
      assert.ok(await page.locator("details table").count() >= 1, "the chart's figures as a table");
    }
    // Frailty: the eFI today, its category, the deficits and why each counts (a GP may see it).
    const api = await page.evaluate(async (href) => (await fetch(`/app/api${href}`)).json(), personHref);
    const frailty = api.sections.frailty;
    assert.ok(frailty, "the API has the frailty section");
    assert.equal(await page.locator('main h2:text-is("Frailty")').count(), 1, "section Frailty");
    assert.equal(frailty.shown, true, "a GP sees the frailty section");
    const fsec = page.locator("section[aria-labelledby=h-frailty]");
    assert.equal(await fsec.locator("#efi-value").innerText(), frailty.efi.toFixed(2));
    assert.match(await fsec.innerText(), new RegExp(`${frailty.deficits} of 36`));
    if (frailty.items.length) {
      const rows = fsec.locator("table tbody tr");
      assert.equal(await rows.count(), frailty.items.length, "a row per deficit");
      const first = await rows.first().locator("td").allInnerTexts();
      assert.equal(first[0], frailty.items[0].deficit);
      assert.equal(first[1], frailty.items[0].code ?? "");
    }
    // The consent form is there for a GP.
    assert.equal(await page.locator("form input[name=decision]").count(), 2);
    await checkPage(page, "person");
    await s.done();
  });
});

describe("case finding (GP)", () => {
  test("the worklist lists people by risk, filters by segment and opens a person", async (t) => {
    const s = await open(browser);
    const { page } = s;
    await signIn(page, ACCOUNTS.gp);
    const me = await page.evaluate(async () => (await fetch("/app/api/me")).json());
    if (!me.screens.includes("worklist")) {
      t.skip("this joinedup has no worklist screen");
      await s.done();
      return;
    }
    await go(page, "/worklist");
    assert.equal(await page.locator("h1").innerText(), "Case finding");
    const rows = page.locator("main table tbody tr");
    assert.ok(await rows.count() > 0, "people in the worklist");
    const risks = await page.locator("main table tbody tr td:nth-child(6)").allInnerTexts();
    const values = risks.map((r) => Number.parseFloat(r));
    assert.ok(values.every((v) => Number.isFinite(v)), "every row has a risk as a %");
    assert.deepEqual(values, [...values].sort((a, b) => b - a), "highest risk first");
    // "Why" leads with the segments ("Tier 4: …"), before the scores.
    const why = await page.locator("main table tbody tr").first().locator("td:nth-child(7) li").allInnerTexts();
    assert.ok(why.length > 0, "reasons shown");
    assert.ok(!why.some((w) => w.startsWith("Segment (")), "segment lines without their 'Segment (model):' prefix");
    const firstScore = why.findIndex((w) => /^(eFI|HFRS|Charlson|Elixhauser|Long-term|Cost)/.test(w));
    const lastSegment = why.map((w) => /^(Tier|Group) /.test(w)).lastIndexOf(true);
    if (lastSegment >= 0 && firstScore >= 0) assert.ok(lastSegment < firstScore, `segments before scores: ${why.join(" | ")}`);
    assert.equal(await page.locator("a#worklist-csv").getAttribute("href"), "/app/api/worklist.csv");
    await checkPage(page, "worklist");
    // A segment of the latest run (the filters are behind "Filter the worklist").
    await page.click("summary:has-text('Filter the worklist')");
    const options = await page.locator("#segment option").count();
    assert.ok(options > 1, "segments to choose from");
    await page.selectOption("#segment", { index: 1 });
    await page.click("form[aria-label='Filter the worklist'] button[type=submit]");
    await page.waitForURL(/segment=/);
    await settled(page);
    assert.equal(await page.locator(".nhsuk-error-summary").count(), 0);
    // "Download as CSV" with the same filter: a real download (Content-Disposition attachment)
    // whose header row is the documented one and whose rows are the page's, in the same order.
    const segmentId = new URL(page.url()).searchParams.get("segment");
    const csvLink = page.locator("a#worklist-csv");
    assert.equal(await csvLink.getAttribute("href"), `/app/api/worklist.csv?segment=${encodeURIComponent(segmentId)}`);
    const [download] = await Promise.all([page.waitForEvent("download"), csvLink.click()]);
    assert.match(download.suggestedFilename(), /\.csv$/);
    const csvPath = await download.path();
    const csv = (await import("node:fs")).readFileSync(csvPath, "utf8");
    const lines = csv.split(/\r?\n/).filter(Boolean);
    assert.equal(lines[0], "rank,nhs_number,name,birth_date,age,gender,practice,emergency_admission_risk,reasons");
    const pageRows = await page.locator("main table tbody tr").evaluateAll((trs) => trs.map((tr) => ({
      rank: tr.children[0].textContent.trim(),
      nhs: tr.children[2].textContent.replace(/\s/g, ""),
    })));
    assert.ok(pageRows.length > 0, "the filtered worklist has people");
    assert.ok(lines.length - 1 >= pageRows.length, "the CSV has at least the page's rows");
    pageRows.forEach((r, i) => {
      const [rank, nhs] = lines[i + 1].split(",");
      assert.deepEqual({ rank, nhs }, { rank: r.rank, nhs: r.nhs }, `CSV row ${i + 1} is the page's`);
    });
    // Headers of the answer (fetched from the page: the session cookie, a plain GET).
    const head = await page.evaluate(async (href) => {
      const r = await fetch(href);
      return { status: r.status, type: r.headers.get("content-type"), disposition: r.headers.get("content-disposition") };
    }, await csvLink.getAttribute("href"));
    assert.equal(head.status, 200);
    assert.match(head.type ?? "", /^text\/csv/);
    assert.match(head.disposition ?? "", /^attachment/);
    await axeCheck(page, "worklist-filtered");
    // The whole list (no filter): more people than one search by id takes (100), every row.
    const whole = await page.evaluate(async () => {
      const r = await fetch("/app/api/worklist.csv");
      return { status: r.status, lines: (await r.text()).split("\r\n").filter((l) => l).length };
    });
    assert.equal(whole.status, 200);
    assert.ok(whole.lines > 101, `the whole worklist has ${whole.lines - 1} rows`);
    // Back to everyone; the first person's page opens.
    await go(page, "/worklist");
    const first = page.locator("main table tbody tr").first().locator("a[href^='/people/']");  // not the row action "Enrol in case management"
    const name = await first.innerText();
    await first.click();
    await page.waitForURL(/\/people\//);
    await settled(page);
    assert.equal(await page.locator("h1").innerText(), name);
    await s.done();
  });
});

describe("case finding: filters and risers (GP)", () => {
  test("filters by Primary Care Home, practice, age and risk, carried into the CSV link; bad values are shown on their field", async () => {
    const s = await open(browser);
    const { page, context } = s;
    await signIn(page, ACCOUNTS.gp);
    const options = await page.evaluate(async () => (await fetch("/app/api/worklist/options")).json());
    assert.ok(options.pchs.length >= 1, "Primary Care Homes to choose from");
    assert.ok(options.practices.some((p) => p.id === PEOPLE.practice), "the GP's practice is an option");
    await go(page, "/worklist");
    await page.click("summary:has-text('Filter the worklist')");
    // The practice and PCH are selects from /app/api/worklist/options.
    assert.equal(await page.locator("select#practice option").count(), options.practices.length + 1);
    assert.equal(await page.locator("select#pch option").count(), options.pchs.length + 1);
    const pch = options.practices.find((p) => p.id === PEOPLE.practice)?.pch ?? options.pchs[0];
    await page.selectOption("#pch", pch);
    await page.fill("#age-from", "65");
    await page.fill("#age-to", "120");
    await page.fill("#risk-from", "1");
    await page.fill("#risk-to", "100");
    await page.click("form[aria-label='Filter the worklist'] button[type=submit]");
    await page.waitForURL(/age_from=65/);
    await settled(page);
    const url = new URL(page.url());
    assert.deepEqual(Object.fromEntries(url.searchParams), { pch, age_from: "65", age_to: "120", risk_from: "1", risk_to: "100" });
    assert.equal(await page.locator(".nhsuk-error-summary").count(), 0);
    const rows = page.locator("main table tbody tr");
    assert.ok(await rows.count() > 0, "people aged 65 and over in the PCH");
    const ages = (await page.locator("main table tbody tr td:nth-child(4)").allInnerTexts()).map((a) => Number.parseInt(a, 10));
    assert.ok(ages.every((a) => a >= 65), `every age is 65 or over: ${ages.join(", ")}`);
    const risks = (await page.locator("main table tbody tr td:nth-child(6)").allInnerTexts()).map((r) => Number.parseFloat(r));
    assert.ok(risks.every((r) => r >= 1), "every risk is 1% or more");
    // The filters go into the CSV link, in the same order.
    assert.equal(await page.locator("a#worklist-csv").getAttribute("href"), `/app/api/worklist.csv${url.search}`);
    const csv = await page.evaluate(async (href) => (await fetch(href)).text(), await page.locator("a#worklist-csv").getAttribute("href"));
    assert.ok(csv.split("\r\n").filter(Boolean).length - 1 >= await rows.count(), "the filtered CSV has the page's rows");
    // The filters stay open and filled.
    assert.equal(await page.inputValue("#age-from"), "65");
    await checkPage(page, "worklist-filters");
    // The practice select.
    await go(page, `/worklist?practice=${PEOPLE.practice}`);
    assert.equal(await page.inputValue("select#practice"), PEOPLE.practice);
    const practices = await page.locator("main table tbody tr td:nth-child(5)").allInnerTexts();
    assert.ok(practices.length > 0 && practices.every((p) => p === PEOPLE.practice), "only the practice's people");
    // Caught here: not a number.
    await page.fill("#age-from", "sixty");
    await page.click("form[aria-label='Filter the worklist'] button[type=submit]");
    await page.waitForSelector("#age-from-error");
    assert.match(await page.title(), /^Error: /);
    // The server's 400 names the field: shown on it.
    await go(page, "/worklist?age_from=200");
    await page.waitForSelector("#age-from-error");
    assert.equal(await page.locator(".nhsuk-error-summary a[href='#age-from']").count(), 1);
    await axeCheck(page, "worklist-filter-error");
    // No run before the latest: the API's 400 (field risers) is an inline error on the risers box.
    await context.route((u) => u.pathname === "/app/api/worklist" && u.searchParams.get("risers") === "1", (route) => route.fulfill({
      status: 400, contentType: "application/json",
      body: JSON.stringify({ error: { status: 400, title: "There is no run before the latest", detail: "Risers need two stratification runs: run joinedup stratify again later", field: "risers" } }),
    }));
    await go(page, "/worklist?risers=1");
    await page.waitForSelector("#risers-error");
    assert.match(await page.locator("#risers-error").innerText(), /Risers need two stratification runs/);
    assert.equal(await page.locator(".nhsuk-error-summary a[href='#risers']").count(), 1);
    await axeCheck(page, "worklist-risers-error");
    await context.unrouteAll({ behavior: "wait" });
    await s.done();
  });

  test("risers since the last run: previous risk → current risk, largest rise first, and why", async () => {
    const s = await open(browser);
    const { page } = s;
    await signIn(page, ACCOUNTS.gp);
    await go(page, "/worklist");
    await page.click("a#worklist-risers");
    await page.waitForURL(/risers=1/);
    await settled(page);
    assert.equal(await page.locator("h1").innerText(), "Risers since the last run");
    assert.equal(await page.title(), "Risers since the last run – joinedup");
    const api = await page.evaluate(async () => (await fetch("/app/api/worklist?risers=1")).json());
    assert.ok(api.rows.length > 0, "the test world has risers (two runs six months apart)");
    const rows = page.locator("main table tbody tr");
    assert.equal(await rows.count(), api.rows.length);
    const cells = await page.locator("main table tbody tr td:nth-child(6)").allInnerTexts();
    const rises = cells.map((c) => {
      const m = /([\d.]+)%\s*→\s*([\d.]+)%/.exec(c);
      assert.ok(m, `before → now: ${c}`);
      return [Number(m[1]), Number(m[2])];
    });
    for (const [before, now] of rises) assert.ok(now >= before, `risk rose: ${before} → ${now}`);
    api.rows.forEach((r) => assert.ok(r.previous && typeof r.previous.admission_risk === "number", "each riser has the run before"));
    const apiRises = api.rows.map((r) => r.admission_risk - r.previous.admission_risk);
    assert.deepEqual(apiRises, [...apiRises].sort((a, b) => b - a), "largest rise first");
    // Why it rose, as the API says it.
    const why = await rows.first().locator("td:nth-child(7) li").allInnerTexts();
    assert.deepEqual(why, api.rows[0].why.slice(0, 6));
    assert.equal(await page.locator("a#worklist-csv").getAttribute("href"), "/app/api/worklist.csv?risers=1");
    await checkPage(page, "worklist-risers");
    await s.done();
  });
});

describe("break-glass (case manager) and its alert (privacy officer)", () => {
  test("a case manager does not find someone off their team, breaks the glass with a reason and sees the record marked", async () => {
    const s = await open(browser);
    const { page } = s;
    await signIn(page, ACCOUNTS.case_manager);
    // Search never breaks the glass.
    await go(page, `/find?q=${person.nhs_number}`);
    assert.match(await mainText(page), /No one found that you may see/);
    assert.equal(await page.locator("main table").count(), 0);
    // Someone on their team is found.
    const member = PEOPLE.team[0];
    await go(page, `/find?q=${member.nhs_number}`);
    await page.waitForSelector("main table a");
    // The person's page: 404, with the break-glass form.
    assert.ok(personHref, "the GP's search found the person's page");
    await go(page, personHref);
    assert.match(await page.locator("h1").innerText(), /You do not have a legitimate relationship with this person, or they do not exist/);
    const text = await mainText(page);
    assert.ok(!text.toLowerCase().includes(person.family.toLowerCase()), "nothing of the person before the glass is broken");
    await checkPage(page, "break-glass-offer");
    // Client-side validation: a reason code and at least 20 characters.
    await page.click("#break-glass button[type=submit]");
    await page.waitForSelector(".nhsuk-error-summary");
    const errs = await page.locator(".nhsuk-error-summary").innerText();
    assert.match(errs, /Select why you need to see this record/);
    assert.match(errs, /Say what has happened/);
    await checkPage(page, "break-glass-errors");
    await page.check("#reason-code");
    await page.fill("#reason-text", "too short");
    await page.click("#break-glass button[type=submit]");
    await page.waitForSelector("#reason-text-error");
    assert.match(await page.locator("#reason-text-error").innerText(), /at least 20 characters/);
    // A real reason opens the record, marked.
    await page.fill("#reason-text", "Brought to A&E unconscious, no records available (e2e)");
    await page.click("#break-glass button[type=submit]");
    await page.waitForSelector("#break-glass-notice");
    assert.match(await page.locator("#break-glass-notice").innerText(), /Break-glass access: recorded and reported to the privacy officer/);
    assert.ok((await page.locator("h1").innerText()).toLowerCase().includes(person.family.toLowerCase()));
    await page.waitForFunction(() => document.activeElement?.tagName === "H1");
    await checkPage(page, "break-glass-record");
    await s.done();
  });

  test("the privacy officer sees the break-glass alert in the audit trail", async () => {
    const s = await open(browser);
    const { page } = s;
    await signIn(page, ACCOUNTS.privacy_officer);
    await go(page, "/audit");
    await checkPage(page, "audit");
    await page.click("a#break-glass-alerts");
    await page.waitForURL(/subtype=break-glass-alert/);
    await settled(page);
    assert.equal(await page.locator("h1").innerText(), "Break-glass alerts");
    const rows = await page.locator("main table tbody").innerText();
    assert.ok(rows.includes(ACCOUNTS.case_manager.username), "the case manager's alert is listed");
    assert.match(rows, /break-glass-alert/);
    await checkPage(page, "audit-break-glass-alerts");
    // The alert queue, when the server has one: the case manager's alert, acknowledged with a note.
    const queue = await page.evaluate(async () => (await fetch("/app/api/alerts")).status);
    if (queue === 200) {
      await page.click("nav[aria-label=Menu] a:has-text('Alerts')");
      await page.waitForFunction(() => document.querySelector("main h1")?.textContent === "Alerts");
      await settled(page);
      const card = page.locator(".nhsuk-card", { hasText: ACCOUNTS.case_manager.username }).filter({ has: page.locator("form") }).first();
      await card.waitFor();
      assert.match(await card.innerText(), /Brought to A&E unconscious/);
      await checkPage(page, "alerts");
      await card.locator("button:has-text('Acknowledge')").click();
      await page.waitForSelector(".nhsuk-error-summary");
      assert.match(await page.locator(".nhsuk-error-summary").innerText(), /Write what you found/);
      const form = page.locator(".nhsuk-card", { hasText: ACCOUNTS.case_manager.username }).filter({ has: page.locator("form") }).first();
      await form.locator("textarea").fill("Checked with the A&E team: genuine emergency (e2e).");
      await form.locator("button:has-text('Acknowledge')").click();
      await page.waitForSelector("#alert-done");
      await settled(page);
      assert.match(await page.locator("main").innerText(), /Acknowledged \(\d+\)/);
      await checkPage(page, "alerts-acknowledged");
    } else {
      test.diagnostic?.(`/app/api/alerts answered ${queue}: no alert queue in this joinedup`);
    }
    // The filters: by username.
    await go(page, "/audit");
    await page.click("summary:has-text('Filter the audit trail')");
    await page.fill("#user", ACCOUNTS.case_manager.username);
    await page.selectOption("#subtype", "break-glass-alert");
    await page.click("form[aria-label='Filter the audit trail'] button[type=submit]");
    await page.waitForURL(/user=/);
    await settled(page);
    assert.ok((await page.locator("main table tbody").innerText()).includes(ACCOUNTS.case_manager.username));
    await s.done();
  });
});

describe("commissioner", () => {
  test("cannot reach find or a person's page (page not found, no personal data), sees population", async () => {
    const s = await open(browser);
    const { page } = s;
    await signIn(page, ACCOUNTS.commissioner);
    for (const p of ["/find", `/find?q=${person.nhs_number}`, personHref ?? `/people/${person.id}`, "/audit", "/my-record"]) {
      await go(page, p);
      assert.equal(await page.locator("h1").innerText(), "Page not found", `${p}: page not found`);
      const html = await page.content();
      assert.ok(!html.includes(person.nhs_number), `${p}: no NHS number in the DOM`);
      assert.ok(!html.includes(spaced(person.nhs_number)), `${p}: no NHS number in the DOM`);
      assert.ok(!(await mainText(page)).toLowerCase().includes(person.family.toLowerCase()), `${p}: no name in the page`);
    }
    await checkPage(page, "commissioner-not-found");
    await go(page, "/population");
    assert.equal(await page.locator("h1").innerText(), "Population");
    const pop = await page.evaluate(async () => (await fetch("/app/api/population")).json());
    const text = await mainText(page);
    // The disclosure rule, from the answer.
    assert.ok(text.includes(`a count from 1 to ${pop.disclosure.suppressed_up_to} is shown as suppressed`), "suppression explained");
    assert.ok(text.includes(`rounded to the nearest ${pop.disclosure.rounded_to}`), "rounding explained");
    // Segments per practice, per model: practices as rows, a totals row; suppressed counts say so.
    for (const m of pop.segments) {
      const region = page.locator(`main [role=region][aria-label="${m.model}: people by segment, per practice"]`);
      assert.equal(await region.count(), 1, `${m.model}: a named scrolling region`);
      assert.equal(await region.getAttribute("tabindex"), "0");
      const rows = region.locator("tbody tr");
      assert.equal(await rows.count(), m.rows.length + 1, `${m.model}: a row per practice and a totals row`);
      assert.equal(await rows.last().locator("th").innerText(), "All practices");
      for (const [i, r] of m.rows.entries()) {
        const cells = await rows.nth(i).locator("td").allInnerTexts();
        assert.deepEqual(cells, r.counts.map((c) => (c === null ? "suppressed" : c.toLocaleString("en-GB"))), `${m.model} ${r.practice}`);
      }
    }
    const all = pop.segments.flatMap((m) => [...m.rows.flatMap((r) => r.counts), ...m.totals]);
    if (all.includes(null)) assert.match(text, /suppressed/);
    // Counts are multiples of the rounding (0 too).
    for (const c of all) if (c !== null) assert.equal(c % pop.disclosure.rounded_to, 0, `${c} is rounded`);
    // The charts: canvases drawn, role img, aria-labels with the figures.
    for (const [id, re] of [["pyramid-chart", /^Population pyramid/], ["lorenz-chart", /^Lorenz curve/], ["bands-chart", /^Bar chart of people by chance of an emergency admission/]]) {
      const c = page.locator(`canvas#${id}`);
      assert.equal(await c.count(), 1, `${id} present`);
      assert.equal(await c.getAttribute("role"), "img");
      assert.match(await c.getAttribute("aria-label") ?? "", re);
      await page.waitForFunction((i) => document.getElementById(i)?.width > 0, id);
    }
    const top5 = pop.cost.shares.find((x) => x.top_percent === 5);
    if (top5?.share != null) {
      assert.ok(text.includes(`The costliest 5% of people used ${Math.round(top5.share * 100)}% of the cost`), "cost concentration in words");
      assert.ok((await page.locator("canvas#lorenz-chart").getAttribute("aria-label")).includes(`the costliest 5% of people used ${Math.round(top5.share * 100)}% of the cost`));
    }
    await checkPage(page, "population");
    // The pyramid's and the Lorenz curve's figures as tables (behind details), the risk bands' too.
    await page.click("summary:has-text(\"The population pyramid's figures as a table\")");
    const pyr = page.locator("main table", { has: page.locator("caption:text-is('People by age band and sex')") });
    assert.equal(await pyr.locator("tbody tr").count(), pop.pyramid.length);
    const firstBand = await pyr.locator("tbody tr").first().locator("td").allInnerTexts();
    const b0 = pop.pyramid[0];
    assert.deepEqual(firstBand, [b0.band, ...[b0.female, b0.male, b0.other].map((c) => (c === null ? "suppressed" : c.toLocaleString("en-GB")))]);
    await page.click("summary:has-text(\"The Lorenz curve's figures as a table\")");
    assert.equal(await page.locator("main table", { has: page.locator("caption:text-is('Lorenz curve of 12-month cost')") }).locator("tbody tr").count(), pop.lorenz.length);
    assert.equal(await page.locator("main table", { has: page.locator("caption:text-is('People by emergency admission risk band')") }).locator("tbody tr").count(), pop.risk_bands.length);
    // Per Primary Care Home: a table per model, a row per PCH with the answer's figures, a totals row.
    for (const m of pop.segments) {
      assert.ok(Array.isArray(m.pchs) && m.pchs.length > 0, `${m.model}: the answer has pchs`);
      const region = page.locator(`main [role=region][aria-label="${m.model}: people by segment, per Primary Care Home"]`);
      assert.equal(await region.count(), 1, `${m.model}: a PCH table in a named region`);
      const rows = region.locator("tbody tr");
      assert.equal(await rows.count(), m.pchs.length + 1, `${m.model}: a row per Primary Care Home and a totals row`);
      for (const [i, r] of m.pchs.entries()) {
        assert.equal(await rows.nth(i).locator("th").innerText(), r.pch);
        const cells = await rows.nth(i).locator("td").allInnerTexts();
        assert.deepEqual(cells, r.counts.map((c) => (c === null ? "suppressed" : c.toLocaleString("en-GB"))), `${m.model} ${r.pch}`);
      }
    }
    // Movement since the run before: a flow diagram and a from × to table per model (or the note why not).
    if (pop.movement.length) {
      for (const [i, m] of pop.movement.entries()) {
        const flow = page.locator(`canvas#flow-chart-${i}`);
        assert.equal(await flow.getAttribute("role"), "img");
        const label = await flow.getAttribute("aria-label") ?? "";
        assert.ok(label.startsWith(`Flow diagram of people moving between ${m.model} segments from run ${pop.previous_run}`), label);
        // Every drawn flow's figure is in the label; suppressed ones are counted, not drawn.
        m.from.forEach((f, a) => m.to.forEach((t, b) => {
          const c = m.counts[a * m.to.length + b];
          if (typeof c === "number" && c > 0) assert.ok(label.includes(`${f} to ${t}: ${c.toLocaleString("en-GB")}`), `${m.model}: ${f} to ${t} in the label`);
        }));
        const suppressed = m.counts.filter((c) => c === null).length;
        if (suppressed) assert.match(label, new RegExp(`${suppressed} suppressed`));
        await page.waitForFunction((id) => document.getElementById(id)?.width > 0, `flow-chart-${i}`);
      }
      for (const m of pop.movement) {
        const t2 = page.locator(`main [role=region][aria-label^="${m.model}: from run"] table`);
        assert.equal(await t2.locator("tbody tr").count(), m.from.length, `${m.model}: a row per 'from'`);
        assert.equal(await t2.locator("thead th").count(), m.to.length + 1, `${m.model}: a column per 'to'`);
      }
    } else {
      assert.ok(text.includes(pop.movement_note));
    }
    // Pseudonymised: no one's name, NHS number or date of birth anywhere in the DOM.
    const dom = await page.content();
    for (const p of [person, patient, ...PEOPLE.team]) {
      for (const n of [p.nhs_number, spaced(p.nhs_number), dashed(p.nhs_number)]) assert.ok(!dom.includes(n), "no NHS number in the DOM");
      assert.ok(!dom.includes(p.birth_date), "no date of birth in the DOM");
      assert.ok(!dom.toLowerCase().includes(`${p.given} ${p.family}`.toLowerCase()), "no name in the DOM");
    }
    await axeCheck(page, "population-tables-open");
    await s.done();
  });
});

describe("patient", () => {
  test("sees their own record in plain English and changes who can see it", async () => {
    const s = await open(browser);
    const { page } = s;
    await signIn(page, ACCOUNTS.patient);
    await go(page, "/my-record");
    for (const h of ["Your details", "People you have told us about", "Who can see your record"]) {
      assert.equal(await page.locator(`main h2:text-is("${h}")`).count(), 1, `heading ${h}`);
    }
    assert.ok((await page.locator("dl.nhsuk-summary-list").first().innerText()).includes(spaced(patient.nhs_number)), "their own NHS number");
    // Who has looked at their record, when the server keeps the access log.
    const me = await page.evaluate(async () => (await fetch("/app/api/me")).json());
    const log = await page.evaluate(async (id) => (await fetch(`/app/api/people/${encodeURIComponent(id)}/accesses`)).status, me.patient_id);
    if (log === 200) {
      await page.waitForSelector("h2:text-is('Who has looked at your record')");
      const text = await page.locator("section[aria-labelledby=h-accesses]").innerText();
      assert.ok(!text.includes(ACCOUNTS.gp.username), "staff are not named to patients");
    }
    await checkPage(page, "my-record");
    await page.check("label:has-text('Only my GP practice')");
    await page.click("button:has-text('Save my choice')");
    await page.waitForSelector("#consent-saved");
    assert.match(await page.locator("#consent-saved").innerText(), /Only my GP practice/);
    await checkPage(page, "my-record-saved");
    // It is stored: after a reload the current choice is the new one.
    await go(page, "/my-record");
    assert.match(await mainText(page), /Your choice now: Only my GP practice/);
    // And back again.
    await page.check("label:has-text('Share my record with the team caring for me')");
    await page.click("button:has-text('Save my choice')");
    await page.waitForSelector("#consent-saved");
    // A patient has no one else's record.
    await go(page, personHref ?? `/people/${person.id}`);
    assert.equal(await page.locator("h1").innerText(), "Page not found");
    await s.done();
  });
});

describe("CSRF", () => {
  test("requests without or with a wrong X-CSRF-Token are refused (403) and the UI says so", async () => {
    const s = await open(browser);
    const { page, context } = s;
    await signIn(page, ACCOUNTS.gp);
    // From the page itself (same origin, with the session cookie).
    const statuses = await page.evaluate(async () => {
      const del1 = (await fetch("/auth/session", { method: "DELETE" })).status;
      const del2 = (await fetch("/auth/session", { method: "DELETE", headers: { "X-CSRF-Token": "wrong" } })).status;
      return { del1, del2 };
    });
    assert.deepEqual(statuses, { del1: 403, del2: 403 });
    // Still signed in.
    assert.equal(await page.evaluate(async () => (await fetch("/app/api/me")).status), 200);
    assert.ok(personHref);
    // The UI's own requests with the token altered on the way: consent POST.
    let consentRefused = 0;
    await context.route("**/app/api/people/*/consent", async (route) => {
      const response = await route.fetch({ headers: { ...route.request().headers(), "x-csrf-token": "wrong" } });
      if (response.status() === 403) consentRefused += 1;
      return route.fulfill({ response });
    });
    await go(page, personHref);
    await page.check("#decision-deny");
    await page.click("button:has-text('Record the decision')");
    await page.waitForSelector(".nhsuk-error-summary");
    await page.waitForFunction(() => document.activeElement?.classList.contains("nhsuk-error-summary"));
    assert.equal(consentRefused, 1, "the server refused the consent (403)");
    assert.match(await page.locator(".nhsuk-error-summary").innerText(), /Your request could not be checked/);
    assert.equal(await page.locator("form input[name=decision]").count(), 0, "the form is hidden after a 403");
    assert.equal(await page.locator("h1").count(), 1, "the page is still there");
    await checkPage(page, "csrf-consent-refused");
    await context.unrouteAll({ behavior: "wait" });
    // Sign out with a wrong token: refused, shown, not a blank page.
    await go(page, "/find");
    assert.equal(await page.locator(".nhsuk-error-summary").count(), 0);
    let refused = 0;
    await context.route("**/auth/session", async (route) => {
      if (route.request().method() !== "DELETE") return route.continue();
      const response = await route.fetch({ headers: { ...route.request().headers(), "x-csrf-token": "wrong" } });
      if (response.status() === 403) refused += 1;
      return route.fulfill({ response });
    });
    await page.click("header button:has-text('Sign out')");
    await page.waitForSelector(".nhsuk-error-summary");
    assert.match(await page.locator(".nhsuk-error-summary").innerText(), /Your request could not be checked/);
    assert.equal(refused, 1, "the server refused the sign-out (403)");
    assert.equal(await page.locator("h1").count(), 1);
    assert.ok(await page.locator("nav[aria-label=Account]").count(), "still signed in");
    await checkPage(page, "csrf-sign-out-refused");
    await context.unrouteAll({ behavior: "wait" });
    await signOut(page);
    await s.done();
  });
});

describe("session", () => {
  test("the idle warning appears before the end, Stay signed in keeps the session, then it signs out", async () => {
    // The page's clock is Playwright's (context.clock): the app's timers and Date.now() run on
    // it, so 30 minutes pass in a moment. The server's session is really still alive; the UI
    // ends it (DELETE /auth/session) when its idle time runs out.
    const s = await open(browser, { clock: true });
    const { page } = s;
    await signIn(page, ACCOUNTS.gp);
    const me = await page.evaluate(async () => (await fetch("/app/api/me")).json());
    const idle = me.session?.idle_timeout_s ?? 1800;
    const warn = me.session?.warn_before_s ?? 120;
    await go(page, "/find");
    await page.clock.fastForward((idle - warn + 5) * 1000);
    const dialog = page.locator("dialog#session-warning[open]");
    await dialog.waitFor();
    assert.equal(await dialog.getAttribute("role"), "alertdialog");
    assert.match(await dialog.innerText(), /You are about to be signed out/);
    await page.waitForFunction(() => document.activeElement?.id === "session-stay");
    await axeCheck(page, "session-warning");
    await page.screenshot({ path: `${process.env.E2E_ARTIFACTS ?? "."}/session-warning.png` }).catch(() => undefined);
    await page.click("#session-stay");
    await page.waitForSelector("dialog#session-warning[open]", { state: "detached" }).catch(() => undefined);
    assert.equal(await page.locator("dialog#session-warning[open]").count(), 0, "Stay signed in closes the warning");
    // Now nothing more: the warning comes back, then the sign-in page.
    await page.clock.fastForward((idle - warn + 5) * 1000);
    await dialog.waitFor();
    await page.clock.fastForward((warn + 5) * 1000);
    await page.waitForSelector("text=You were signed out because you were inactive");
    assert.equal(new URL(page.url()).pathname, "/sign-in");
    await checkPage(page, "signed-out-inactive");
    assert.equal(await page.evaluate(async () => (await fetch("/app/api/me")).status), 401, "the server's session is over too");
    await s.done();
  });

  test("in real time: a server with a 30-second idle time warns, then signs out", { skip: !process.env.E2E_SHORT_IDLE_BASE && "no --session-idle-minutes in this joinedup" }, async () => {
    const short = process.env.E2E_SHORT_IDLE_BASE;
    const s = await open(browser);
    const { page } = s;
    await page.goto(`${short}/sign-in`);
    await page.waitForSelector("#username");
    await page.fill("#username", ACCOUNTS.gp.username);
    await page.fill("#password", ACCOUNTS.gp.password);
    await page.click("form button[type=submit]");
    await page.waitForSelector("nav[aria-label=Account]");
    const me = await page.evaluate(async () => (await fetch("/app/api/me")).json());
    assert.equal(me.session?.idle_timeout_s, 30);
    await page.waitForSelector("dialog#session-warning[open]", { timeout: 40000 });
    assert.match(await page.locator("dialog#session-warning").innerText(), /You are about to be signed out/);
    await page.waitForSelector("text=You were signed out because you were inactive", { timeout: 40000 });
    assert.equal(new URL(page.url()).pathname, "/sign-in");
    assert.equal(await page.evaluate(async () => (await fetch("/app/api/me")).status), 401);
    await s.done();
  });

  test("any 401 from the API leads to the sign-in page: Your session has ended", async () => {
    const s = await open(browser);
    const { page } = s;
    await signIn(page, ACCOUNTS.gp);
    await go(page, "/find");
    // The session ends behind the page's back (as another tab signing out would).
    await page.evaluate(async () => {
      const s = await (await fetch("/auth/session")).json();
      await fetch("/auth/session", { method: "DELETE", headers: { "X-CSRF-Token": s.csrf_token } });
    });
    await page.fill("#q", "Smith");
    await page.click("form[role=search] button[type=submit]");
    await page.waitForSelector("text=Your session has ended");
    assert.equal(new URL(page.url()).pathname, "/sign-in");
    await checkPage(page, "session-ended");
    await s.done();
  });
});

describe("throttling", () => {
  test("repeated wrong passwords: Too many attempts. Try again in N minutes.", async () => {
    // The spare account only: the server locks an account after five failures (and an address
    // after twenty, which this suite stays well below).
    const s = await open(browser);
    const { page } = s;
    await page.goto(`${BASE}/sign-in`);
    await page.waitForSelector("#username");
    let text = "";
    for (let i = 0; i < 8 && !/Too many attempts/.test(text); i += 1) {
      await page.fill("#username", ACCOUNTS.spare.username);
      await page.fill("#password", `wrong-password-${i}`);
      await page.click("form button[type=submit]");
      await page.waitForSelector(".nhsuk-error-summary");
      await page.waitForFunction(() => !document.querySelector("form button[disabled]"));
      text = await page.locator(".nhsuk-error-summary").innerText();
    }
    assert.match(text, /Too many attempts\. Try again in \d+ minutes?\./);
    await checkPage(page, "sign-in-throttled");
    await s.done();
  });
});

describe("errors", () => {
  test("an unknown path is Page not found; an unreachable server is said plainly", async () => {
    const s = await open(browser);
    const { page, context } = s;
    await signIn(page, ACCOUNTS.gp);
    // Followed inside the app (history routing): the app's own Page not found.
    await go(page, "/");
    await page.evaluate(() => {
      const a = document.createElement("a");
      a.href = "/no-such-page";
      a.textContent = "x";
      document.querySelector("main").append(a);
      a.click();
    });
    await page.waitForFunction(() => document.querySelector("main h1")?.textContent === "Page not found");
    assert.equal(new URL(page.url()).pathname, "/no-such-page");
    await checkPage(page, "not-found");
    // Loaded directly: the server answers the app's page with status 404, and the app says
    // Page not found (NHS.UK's wording), with the usual checks.
    const direct = await page.goto(`${BASE}/no-such-page`);
    assert.equal(direct.status(), 404);
    assert.match(direct.headers()["content-type"] ?? "", /^text\/html/);
    await settled(page);
    assert.equal(await page.locator("h1").innerText(), "Page not found");
    await checkPage(page, "not-found-direct");
    await go(page, "/find");
    await context.route((url) => url.pathname === "/app/api/people", (route) => route.abort("internetdisconnected"));
    await page.fill("#q", "Smith");
    await page.click("form[role=search] button[type=submit]");
    await page.waitForSelector(".nhsuk-error-summary");
    assert.match(await page.locator(".nhsuk-error-summary").innerText(), /joinedup could not be reached\. Check your connection and try again\./);
    await context.unrouteAll({ behavior: "wait" });
    await s.done();
  });
});
