// The holistic assessment in the browser (docs/ui.md "The holistic assessment"): a case manager
// opens it from a person's page on their team's caseload and fills it in by keyboard alone —
// the person's sharing decision, a radio that raises a need, checkboxes, a text answer in the
// person's own words — each saved as it changes; sees who recorded each answer and the needs
// raised; finishes it; and reloads to find everything kept. axe-core on every state, no CSP
// violation, no page error.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { ACCOUNTS, PEOPLE, checkPage, go, launch, open, signIn } from "./helpers.mjs";

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

/** Presses Tab until the focused element matches `selector` (keyboard only). */
async function tabTo(page, selector, max = 200) {
  for (let i = 0; i < max; i += 1) {
    await page.keyboard.press("Tab");
    if (await page.evaluate((s) => Boolean(document.activeElement?.matches(s)), selector)) return;
  }
  throw new Error(`Tab did not reach ${selector}`);
}

/** Waits for the save-as-you-go status to say the last change was saved. */
async function saved(page) {
  await page.waitForFunction(() => /^(Saved|Assessment completed|Sharing decision saved) at /.test(
    document.querySelector("#save-status")?.textContent ?? ""));
}

describe("holistic assessment", () => {
  // The last of the case manager's team: no other journey writes their assessment.
  const person = PEOPLE.team[PEOPLE.team.length - 1];

  test("filled in by keyboard, saved as you go, with who recorded each answer", async () => {
    const s = await open(browser);
    const { page } = s;
    await signIn(page, ACCOUNTS.case_manager);
    await go(page, `/people/${encodeURIComponent(person.id)}`);
    await page.click("#assessment-link");
    await page.waitForURL(/\/assessment$/);
    await checkPage(page, "assessment not started");
    assert.match(await page.locator("main").innerText(), /Not started/);

    // The person's decision first: their care team (already chosen); then the falls question by
    // keyboard: Tab to its first radio, arrow down to "More than once" (a radio group moves and
    // selects with the arrow keys).
    await tabTo(page, "#sharing-care-team");
    await tabTo(page, "input[name='q-falls-last-year']");
    await page.keyboard.press("Space");
    await saved(page);
    await page.keyboard.press("ArrowDown");
    await page.keyboard.press("ArrowDown");
    await saved(page);
    await page.waitForFunction(() => document.querySelector("#q-falls-last-year-2")?.checked);
    await page.waitForSelector("#q-falls-last-year-who");
    assert.match(await page.locator("#q-falls-last-year-who").innerText(), /Recorded by E2E Case Manager/);
    await page.waitForFunction(() => /Recurrent falls/.test(document.querySelector("section[aria-labelledby=h-needs]")?.textContent ?? ""));

    // A checkbox of the mobility question: Tab to it, Space.
    await tabTo(page, "#q-mobility-1");
    await page.keyboard.press("Space");
    await saved(page);
    await page.waitForFunction(() => /Needs walking aid in home/.test(document.querySelector("section[aria-labelledby=h-needs]")?.textContent ?? ""));

    // What matters to her, in her words: typed, then Tab away saves it.
    await tabTo(page, "#q-what-matters");
    await page.keyboard.type("Staying in my own home and seeing my grandchildren");
    await page.keyboard.press("Tab");
    await saved(page);
    await page.waitForSelector("#q-what-matters-who");
    await checkPage(page, "assessment in progress");

    // Finish it by keyboard.
    await tabTo(page, "#finish");
    await page.keyboard.press("Enter");
    await saved(page);
    await page.waitForSelector("#reassess");
    assert.match(await page.locator("main").innerText(), /Completed/);
    await checkPage(page, "assessment completed");

    // Reloaded: everything kept.
    await go(page, `/people/${encodeURIComponent(person.id)}/assessment`);
    assert.equal(await page.locator("#q-what-matters").inputValue(), "Staying in my own home and seeing my grandchildren");
    assert.ok(await page.locator("#q-falls-last-year-2").isChecked());
    assert.ok(await page.locator("#q-mobility-1").isChecked());
    assert.ok(await page.locator("#sharing-care-team").isChecked());
    await s.done();
  });
});
