// The person-centred care and support plan in the browser (docs/ui.md "Care plans"): a case
// manager starts the plan of one of their team's people from the person's page, section by section by keyboard, adds goals, and meets someone else's change
// first (the server's 412 shown as "someone else changed this plan — here is their version");
// the patient reads "My plan", writes About me in their own words, declines a suggested goal in
// their words and finds "Who to call"; the case manager sees the person's words marked as theirs.
// Every page is checked by checkPage (axe-core, title, 320 px, screenshots), every context by
// done() (no CSP violation, no page error).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { ACCOUNTS, PEOPLE, checkPage, go, launch, open, settled, signIn } from "./helpers.mjs";

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

// One of the case managers' team's people, with an account of their own (run_e2e.sh).
const person = PEOPLE.team[4];
const MIDDAY = "A carer visits at midday to help with lunch";
const HER_WORDS = "No thank you. I would soon lose my confidence if someone was doing everything for me.";
const ABOUT_ME = "I hear best on my left side. Please knock loudly and give me time to get to the door.";

async function mainText(page) { return (await page.locator("main").innerText()).replace(/\s+/g, " "); }

/** Presses Tab until the focused element matches `selector` (keyboard only). */
async function tabTo(page, selector, max = 80) {
  for (let i = 0; i < max; i += 1) {
    await page.keyboard.press("Tab");
    if (await page.evaluate((s) => Boolean(document.activeElement?.matches(s)), selector)) return;
  }
  throw new Error(`Tab did not reach ${selector}`);
}

/** Tabs to a field and types into it, replacing what it held (keyboard only). */
async function typeInto(page, selector, text) {
  await tabTo(page, selector);
  await page.keyboard.press("Control+A");
  await page.keyboard.type(text);
}

/** A call to the app API from the signed-in page, with its session's CSRF token. */
async function appCall(page, method, path, body) {
  return page.evaluate(async ({ method, path, body }) => {
    const session = await (await fetch("/auth/session")).json();
    const r = await fetch(path, {
      method, headers: { "Content-Type": "application/json", "X-CSRF-Token": session.csrf_token }, body: JSON.stringify(body),
    });
    return { status: r.status, body: await r.json().catch(() => null) };
  }, { method, path, body });
}

describe("care and support plan", () => {
  test("a case manager writes the plan with the person, by keyboard, and meets someone else's change", async () => {
    const s = await open(browser);
    const { page } = s;
    await signIn(page, ACCOUNTS.case_manager);
    await go(page, `/people/${encodeURIComponent(person.id)}`);
    await page.waitForSelector("#h-care-plan");
    await checkPage(page, "person-with-plan-section");
    await page.click("#edit-plan");
    await page.waitForURL(/\/care-plan\/edit$/);
    await settled(page);
    await checkPage(page, "care-plan-editor");

    // Section by section, by keyboard alone.
    await page.focus("main h1");
    await typeInto(page, "#s-about-me-people", "My daughter visits every weekend and does my shopping.");
    await typeInto(page, "#s-what-matters", "Keeping control and staying in my own home.");
    // A new activity (after any the plan has already).
    const n = await page.locator("fieldset.app-activity").count();
    await tabTo(page, "#add-activity");
    await page.keyboard.press("Enter");
    await page.waitForFunction((id) => document.activeElement?.id === id, `a-${n}-description`);
    await page.keyboard.type("A carer to help me get up and to get to bed");
    await page.keyboard.press("Tab");
    await page.keyboard.type("Carers from the Recovery at Home Team");
    await page.keyboard.press("Tab");
    await page.keyboard.type("Twice a day, at times that fit my routine");
    await typeInto(page, "#s-contingency", "If I become muddled or cannot manage the stairs, call the team at once.");
    await typeInto(page, "#c-contact-in-hours-name", "Recovery at Home Team");
    await typeInto(page, "#c-contact-in-hours-telephone", "01905 760000");
    await typeInto(page, "#c-contact-out-of-hours-name", "NHS 111");
    await typeInto(page, "#c-contact-out-of-hours-telephone", "111");
    await typeInto(page, "#s-acp-respect-form", "No ReSPECT form yet: to talk about at the review.");
    await typeInto(page, "#review-day", "19");
    await typeInto(page, "#review-month", "10");
    await typeInto(page, "#review-year", "2026");
    await tabTo(page, "form[aria-label='Care plan'] button[type=submit]");
    await page.keyboard.press("Enter");
    await page.waitForURL(/\/care-plan$/);
    await settled(page);
    const plan = await mainText(page);
    for (const t of ["About me", "What matters to me", "What we will do", "Contingency plan", "Advance care planning", "Keeping control and staying in my own home.",
      "Recovery at Home Team", "01905 760000", "19 October 2026", "Written by E2E Case Manager"]) {
      assert.ok(plan.includes(t), `the plan shows ${t}`);
    }
    await checkPage(page, "care-plan");
    // Printable: page furniture and buttons drop out of the printed copy.
    await page.emulateMedia({ media: "print" });
    assert.equal(await page.locator("header.nhsuk-header").isVisible(), false, "no header in print");
    assert.equal(await page.locator("main button").first().isVisible(), false, "no buttons in print");
    assert.ok(await page.locator("#h-plan-do").isVisible(), "the plan itself prints");
    await page.emulateMedia({ media: "screen" });

    // Goals: one agreed in the person's own words; one the team suggests.
    await page.click("#edit-plan");
    await page.waitForURL(/\/care-plan\/edit$/);
    await settled(page);
    await page.fill("#goal-text", "To get back to normal and keep my independence");
    await page.check("#goal-words");
    await page.check("#goal-agreed");
    await page.check("#goal-status");
    await page.click("form[aria-label='Add a goal'] button[type=submit]");
    await page.waitForSelector("#goal-saved");
    await page.fill("#goal-text", MIDDAY);
    await page.check("#goal-status-proposed");
    await page.click("form[aria-label='Add a goal'] button[type=submit]");
    await page.waitForFunction((t) => document.querySelector("#goal-saved")?.textContent?.includes(t), MIDDAY);

    // Someone else changes the plan while this page is open: saving is refused, and their
    // version is shown beside what was typed.
    const view = await page.evaluate(async (id) => (await fetch(`/app/api/people/${encodeURIComponent(id)}/care-plan`)).json(), person.id);
    const other = await appCall(page, "POST", `/app/api/care-plans/${view.plan.id}`,
      { version: view.plan.version, sections: { "self-care": "Short walks in the garden every day." } });
    assert.equal(other.status, 200, JSON.stringify(other));
    await page.fill("#s-community-services", "Age UK befriending: a weekly telephone call.");
    await page.click("form[aria-label='Care plan'] button[type=submit]");
    await page.waitForSelector("#h-theirs");
    assert.match(await page.locator(".nhsuk-error-summary").first().innerText(), /Someone else has changed this plan/);
    assert.match(await page.locator("#h-theirs").locator("xpath=..").innerText(), /Short walks in the garden/);
    assert.equal(await page.inputValue("#s-community-services"), "Age UK befriending: a weekly telephone call.", "what was typed is kept");
    assert.match(await page.title(), /^Error: /);
    await checkPage(page, "care-plan-conflict");
    await page.click("form[aria-label='Care plan'] button[type=submit]");
    await page.waitForURL(/\/care-plan$/);
    await settled(page);
    assert.ok((await mainText(page)).includes("Age UK befriending"), "saved after seeing their version");
    await s.done();
  });

  test("the patient reads My plan, writes About me in their words, declines a goal and finds who to call", async () => {
    const s = await open(browser);
    const { page } = s;
    await signIn(page, ACCOUNTS.plan_patient);
    const nav = await page.locator("nav[aria-label=Menu]").innerText();
    for (const l of ["My plan", "My goals", "Who to call"]) assert.ok(nav.includes(l), `the menu has ${l}`);
    await go(page, "/my-plan");
    assert.ok((await mainText(page)).includes("Keeping control and staying in my own home."));
    await checkPage(page, "my-plan");
    await page.click("#change-about-me");
    await page.fill("#about-about-me-communication", ABOUT_ME);
    await page.click("form[aria-label='About me, in my own words'] button[type=submit]");
    await page.waitForSelector("#about-me-saved");
    assert.ok((await mainText(page)).includes(ABOUT_ME));
    assert.ok((await mainText(page)).includes("Written by you"));
    await checkPage(page, "my-plan-saved");

    await go(page, "/my-goals");
    await checkPage(page, "my-goals");
    const card = page.locator("li.app-goal-card", { hasText: MIDDAY });
    await card.locator("summary", { hasText: "Say no thank you" }).click();
    await card.locator("textarea[id^=refusal-]").fill(HER_WORDS);
    await card.locator("button", { hasText: "Say no thank you" }).click();
    await page.waitForSelector("#goal-done");
    const declined = await page.locator("li.app-goal-card", { hasText: MIDDAY }).innerText();
    assert.match(declined, /Declined/);
    assert.ok(declined.includes(HER_WORDS), "her words are kept");
    await checkPage(page, "my-goals-declined");

    await go(page, "/who-to-call");
    const text = await mainText(page);
    for (const t of ["In working hours", "Recovery at Home Team", "01905 760000", "NHS 111", "call 999"]) assert.ok(text.includes(t), `who to call: ${t}`);
    await checkPage(page, "who-to-call");
    // Someone else's plan: not found.
    await go(page, `/people/${encodeURIComponent(PEOPLE.person.id)}/care-plan`);
    assert.equal(await page.locator("h1").innerText(), "Page not found");
    await s.done();
  });

  test("the case manager sees the person's own words marked as theirs", async () => {
    const s = await open(browser);
    const { page } = s;
    await signIn(page, ACCOUNTS.case_manager);
    await go(page, `/people/${encodeURIComponent(person.id)}/care-plan`);
    const about = await page.locator("section[aria-labelledby=h-plan-0]").innerText();
    assert.ok(about.includes(ABOUT_ME));
    assert.match(about, /Written by E2E Plan Patient, in their own words/);
    const goals = await page.locator("section[aria-labelledby=h-plan-goals]").innerText();
    assert.match(goals, /Declined/);
    assert.ok(goals.includes(HER_WORDS));
    await page.locator("summary", { hasText: "Changes to this plan" }).click();
    assert.match(await page.locator("details").innerText(), /E2E Plan Patient \(the person\)/);
    await checkPage(page, "care-plan-with-their-words");
    await s.done();
  });
});
