// Case management in the browser (docs/ui.md "Caseloads"): the administrator gives a team a
// capacity; a case manager enrols a person from the case-finding worklist (the enrol form by
// keyboard alone), sees them on the board and on "My caseload"; a full team keeps a waiting
// list, refuses "Take on" (the server's 409 as an error summary), discharges someone with a
// reason and then takes the next person on; someone else's change first is the server's 412,
// shown as "someone else has changed this — reload"; the person page lists the episodes. Every
// page is checked by checkPage (axe-core, title, 320 px, screenshots), every context by done()
// (no CSP violation, no page error).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { ACCOUNTS, PEOPLE, checkPage, go, launch, open, settled, signIn, spaced } from "./helpers.mjs";

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const cm = ACCOUNTS.case_manager;
const CM = "E2E Case Manager";
const CM2 = "E2E Second Case Manager";
const FULL = "E2E full team";
const COMMUNITY = "E2E community team";

async function mainText(page) { return (await page.locator("main").innerText()).replace(/\s+/g, " "); }

/** Presses Tab until the focused element matches `selector` (keyboard only). */
async function tabTo(page, selector, max = 40) {
  for (let i = 0; i < max; i += 1) {
    await page.keyboard.press("Tab");
    if (await page.evaluate((s) => Boolean(document.activeElement?.matches(s)), selector)) return;
  }
  throw new Error(`Tab did not reach ${selector}`);
}

/** The signed-in caller's teams, from the API (GET: no CSRF token needed). */
async function teams(page) {
  return page.evaluate(async () => (await (await fetch("/app/api/caseloads")).json()).teams);
}

/** Enrols a person by mouse through /caseload/enrol and returns the success banner's text. */
async function enrol(page, person, team, coordinator) {
  await go(page, `/caseload/enrol?patient=${encodeURIComponent(person.id)}`);
  const form = page.locator("form[aria-label='Enrol in case management']");
  await form.locator(".nhsuk-radios__item", { hasText: team }).locator("input").check();
  await page.waitForSelector(`#coordinator option:has-text("${coordinator}")`, { state: "attached" });
  await page.selectOption("#coordinator", { label: coordinator });
  await page.check("#source-referral");
  await form.locator("button[type=submit]").click();
  await page.waitForURL(/\/caseload\/\d+$/);
  await page.waitForSelector("#caseload-done");
  await settled(page);
  return page.locator("#caseload-done").innerText();
}

describe("case management", () => {
  // The people of the case manager's team (the worklist shows only them to the case manager).
  const byId = new Map(PEOPLE.team.map((p) => [p.id, p]));
  let enrolled = null; // the person enrolled from the worklist
  let others = []; // more of the worklist's people not on a caseload (whom the case manager may see)
  let fullTeamId = null;

  test("the administrator gives the full team a capacity of 1", async () => {
    const s = await open(browser);
    const { page } = s;
    await signIn(page, ACCOUNTS.administrator);
    await go(page, "/admin/care-teams");
    await page.click(`main a:has-text("${FULL}")`);
    await page.waitForURL(/\/admin\/care-teams\/\d+$/);
    await settled(page);
    fullTeamId = Number(new URL(page.url()).pathname.split("/").pop());
    assert.equal(await page.locator("#team-capacity").innerText(), "No limit set");
    await page.fill("#capacity", "lots");
    await page.click("form[aria-labelledby=h-capacity] button[type=submit]");
    await page.waitForSelector("#capacity-error");
    await page.fill("#capacity", "1");
    await page.click("form[aria-labelledby=h-capacity] button[type=submit]");
    await page.waitForSelector("#admin-done");
    assert.match(await page.locator("#admin-done").innerText(), /Caseload capacity set to 1/);
    assert.equal(await page.locator("#team-capacity").innerText(), "1 person");
    await checkPage(page, "admin-care-team-capacity");
    await s.done();
  });

  test("a case manager enrols a person from the worklist (the form by keyboard alone) and sees them on the board", async () => {
    const s = await open(browser);
    const { page } = s;
    await signIn(page, cm);
    const nav = await page.locator("nav[aria-label=Menu]").innerText();
    assert.ok(nav.includes("My caseload"), `the case manager has My caseload in the menu: ${nav}`);
    await page.click("nav[aria-label=Menu] a:has-text('My caseload')");
    await page.waitForFunction(() => document.querySelector("main h1")?.textContent === "My caseload");
    await settled(page);
    const home = await mainText(page);
    assert.match(home, new RegExp(`${COMMUNITY} 0 people; 0 waiting \\(no capacity set\\)`));
    assert.match(home, new RegExp(`${FULL} 0 of 1 person; 0 waiting`));
    assert.match(home, /No one is on your caseload yet/);
    await checkPage(page, "caseload-home-empty");

    // Case finding, "Not already on a caseload": a row action enrols.
    await go(page, "/worklist");
    await page.click("summary:has-text('Filter the worklist')");
    await page.check("#not-on-caseload");
    await page.click("form[aria-label='Filter the worklist'] button[type=submit]");
    await page.waitForURL(/not_on_caseload=true/);
    await settled(page);
    const links = page.locator("main table a:has-text('Enrol in case management')");
    const hrefs = await links.evaluateAll((as) => as.map((a) => a.getAttribute("href")));
    const listed = hrefs.map((h) => byId.get(new URL(h, "http://x").searchParams.get("patient")));
    assert.ok(listed.length >= 3 && listed.every(Boolean), `the worklist offers the team's people: ${hrefs.join(" ")}`);
    [enrolled, ...others] = listed;
    const link = links.first();
    await link.click();
    await page.waitForURL(/\/caseload\/enrol\?/);
    await settled(page);
    assert.match(await mainText(page), new RegExp(spaced(enrolled.nhs_number)));
    await checkPage(page, "caseload-enrol");

    // By keyboard alone: choose the team, submit without a coordinator (the error summary takes
    // focus), then choose the coordinator and submit.
    await tabTo(page, "#team");
    await page.keyboard.press("Space");
    assert.ok(await page.isChecked("#team"));
    await tabTo(page, "form[aria-label='Enrol in case management'] button[type=submit]");
    await page.keyboard.press("Enter");
    await page.waitForSelector("#coordinator-error");
    await page.waitForFunction(() => document.activeElement?.classList.contains("nhsuk-error-summary"));
    assert.match(await page.title(), /^Error: Enrol in case management – joinedup$/);
    assert.match(await page.locator(".nhsuk-error-summary").innerText(), /Choose a care coordinator/);
    await checkPage(page, "caseload-enrol-error");
    await tabTo(page, "#coordinator");
    for (let i = 0; i < 5 && (await page.$eval("#coordinator", (el) => el.selectedOptions[0]?.textContent)) !== CM; i += 1) {
      await page.keyboard.press("ArrowDown");
    }
    assert.equal(await page.$eval("#coordinator", (el) => el.selectedOptions[0]?.textContent), CM);
    assert.ok(await page.isChecked("#source"), "from the worklist, the source is case finding");
    await tabTo(page, "form[aria-label='Enrol in case management'] button[type=submit]");
    await page.keyboard.press("Enter");
    await page.waitForURL(/\/caseload\/\d+$/);
    await page.waitForSelector("#caseload-done");
    await settled(page);
    assert.match(await page.locator("#caseload-done").innerText(), new RegExp(`enrolled: on ${CM}'s caseload in ${COMMUNITY}`));
    assert.equal(await page.locator("h1").innerText(), COMMUNITY);
    const active = await page.locator("[role=region][aria-label='On the caseload']").innerText();
    assert.ok(active.includes(spaced(enrolled.nhs_number)) && active.includes(CM), `on the board with their coordinator: ${active}`);
    assert.match(await mainText(page), /1 person; 0 waiting/);
    await checkPage(page, "caseload-board");

    // The worklist now marks them; "Not already on a caseload" leaves them out.
    await go(page, "/worklist");
    const row = page.locator("main table tbody tr", { hasText: spaced(enrolled.nhs_number) });
    if (await row.count()) assert.match(await row.innerText(), /On a caseload/);
    await go(page, "/worklist?not_on_caseload=true");
    assert.ok(!(await mainText(page)).includes(spaced(enrolled.nhs_number)), "not listed under 'Not already on a caseload'");
    await s.done();
  });

  test("a full team: waiting list, Take on refused while full, discharge with a reason, then Take on; a stale transfer is refused", async () => {
    assert.ok(enrolled && fullTeamId, "the tests before ran");
    const [first, second] = others;
    const s = await open(browser);
    const { page } = s;
    await signIn(page, cm);
    // The first fills the team; the second goes onto its waiting list.
    assert.match(await enrol(page, first, FULL, CM), new RegExp(`enrolled: on ${CM}'s caseload in ${FULL}`));
    assert.match(await enrol(page, second, FULL, CM), new RegExp(`enrolled: on the waiting list of ${FULL}`));
    assert.equal(new URL(page.url()).pathname, `/caseload/${fullTeamId}`);
    assert.match(await page.locator("#load-full").innerText(), /Full — new people join the waiting list/);
    assert.match(await page.locator("#load-text").innerText(), /1 of 1 person; 1 waiting/);
    assert.equal(await page.$eval("meter#load", (m) => [m.value, m.max].join("/")), "1/1");
    const waiting = await page.locator("[role=region][aria-label='Waiting list']").innerText();
    assert.ok(waiting.includes(spaced(second.nhs_number)), `the waiting list: ${waiting}`);
    await checkPage(page, "caseload-board-full");

    // Take on while full: the server's 409 as an error summary.
    await page.click("[role=region][aria-label='Waiting list'] a:has-text('Take on')");
    await page.waitForURL(/action=take-on/);
    await settled(page);
    assert.equal(await page.$eval("#coordinator", (el) => el.selectedOptions[0]?.textContent), CM, "the named coordinator is chosen");
    await checkPage(page, "caseload-take-on");
    await page.click("form[aria-label='Take on from the waiting list'] button[type=submit]");
    await page.waitForSelector(".nhsuk-error-summary");
    const refused = await page.locator(".nhsuk-error-summary").innerText();
    assert.match(refused, /This cannot be done now/);
    assert.match(refused, /full \(1 of 1\)/);
    assert.match(await page.title(), /^Error: /);
    await checkPage(page, "caseload-take-on-full");

    // Discharge the first: "Other" needs a note (checked here), then a coded reason.
    await page.click("a:has-text('Back to the board')");
    await page.waitForURL(/\/caseload\/\d+$/);
    await settled(page);
    await page.click("[role=region][aria-label='On the caseload'] a:has-text('Discharge')");
    await page.waitForURL(/action=discharge/);
    await settled(page);
    await page.check("#reason-other");
    await page.click("form[aria-label=Discharge] button[type=submit]");
    await page.waitForSelector("#note-error");
    assert.match(await page.locator(".nhsuk-error-summary").innerText(), /Say why they are leaving, in a note/);
    await checkPage(page, "caseload-discharge-error");
    await page.check("#reason");
    await page.fill("#note", "Stable and managing with the plan; the GP practice will review in 3 months.");
    await page.click("form[aria-label=Discharge] button[type=submit]");
    await page.waitForURL(/\/caseload\/\d+$/);
    await page.waitForSelector("#caseload-done");
    await settled(page);
    assert.match(await page.locator("#caseload-done").innerText(), /discharged: Goals met/);
    assert.match(await page.locator("#load-text").innerText(), /0 of 1 person; 1 waiting/);

    // Now there is room: take the next on.
    await page.click("[role=region][aria-label='Waiting list'] a:has-text('Take on')");
    await page.waitForURL(/action=take-on/);
    await settled(page);
    await page.click("form[aria-label='Take on from the waiting list'] button[type=submit]");
    await page.waitForURL(/\/caseload\/\d+$/);
    await page.waitForSelector("#caseload-done");
    await settled(page);
    assert.match(await page.locator("#caseload-done").innerText(), new RegExp(`taken on: on ${CM}'s caseload`));
    assert.ok((await page.locator("[role=region][aria-label='On the caseload']").innerText()).includes(spaced(second.nhs_number)));
    assert.match(await mainText(page), /No one is waiting/);

    // Someone else transfers them while the form is open: the form's transfer is the 412.
    await page.click("[role=region][aria-label='On the caseload'] a:has-text('Transfer')");
    await page.waitForURL(/action=transfer/);
    await settled(page);
    await checkPage(page, "caseload-transfer");
    const status = await page.evaluate(async ({ team, patient, other }) => {
      const csrf = (await (await fetch("/auth/session")).json()).csrf_token;
      const board = await (await fetch(`/app/api/caseloads/${team}`)).json();
      const e = board.people.active.find((x) => x.person.id === patient);
      const to = board.coordinators.find((c) => c.name === other);
      const r = await fetch(`/app/api/episodes/${e.id}/transfer`, {
        method: "POST", headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
        body: JSON.stringify({ version: e.version, coordinator: to.id }),
      });
      return r.status;
    }, { team: fullTeamId, patient: second.id, other: CM2 });
    assert.equal(status, 200, "the change behind the form's back");
    await page.selectOption("#transfer-to", { label: CM2 });
    await page.click("form[aria-label=Transfer] button[type=submit]");
    await page.waitForSelector("#reload");
    assert.match(await page.locator(".nhsuk-error-summary").innerText(), /Someone else has changed this/);
    await checkPage(page, "caseload-transfer-stale");
    await page.click("#reload");
    await page.waitForFunction(() => !document.querySelector(".nhsuk-error-summary"));
    await settled(page);
    assert.match(await mainText(page), new RegExp(`Care coordinator ${CM2}`), "reloaded: the coordinator someone else named");
    // To the other team, with a coordinator there.
    await page.selectOption("#transfer-to", { label: `${CM}, ${COMMUNITY}` });
    await page.click("form[aria-label=Transfer] button[type=submit]");
    await page.waitForURL(/\/caseload\/\d+$/);
    await page.waitForSelector("#caseload-done");
    assert.match(await page.locator("#caseload-done").innerText(), new RegExp(`transferred to ${COMMUNITY}: ${CM}'s caseload`));

    // My caseload: both people I coordinate.
    await go(page, "/caseload");
    const mine = await page.locator("[role=region][aria-label='People you coordinate']").innerText();
    for (const p of [enrolled, second]) assert.ok(mine.includes(spaced(p.nhs_number)), `${p.id} on my caseload: ${mine}`);
    assert.match(await mainText(page), new RegExp(`${COMMUNITY} 2 people; 0 waiting`));
    await checkPage(page, "caseload-home");

    // The person page: their episodes; Enrol only when none is open.
    await go(page, `/people/${encodeURIComponent(first.id)}`);
    const ended = await page.locator("section[aria-labelledby=h-case-management]").innerText();
    assert.match(ended, /Ended/);
    assert.match(ended, /Goals met/);
    assert.equal(await page.locator("#enrol").count(), 1, "Enrol when no episode is open");
    await go(page, `/people/${encodeURIComponent(second.id)}`);
    const open_ = await page.locator("section[aria-labelledby=h-case-management]").innerText();
    assert.match(open_, /On the caseload/);
    assert.ok(open_.includes(COMMUNITY) && open_.includes(CM), open_);
    assert.equal(await page.locator("#enrol").count(), 0, "no Enrol while an episode is open");
    await checkPage(page, "caseload-person");
    await s.done();
  });
});
