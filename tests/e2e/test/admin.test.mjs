// The administrator's journeys through /admin (docs/ui.md, docs/app-api.md "Administration"):
// users (add one, who then signs in; disable them: their session ends and sign-in is refused),
// organisations, care teams (members and people), and what an administrator may not see. Also
// that no other role reaches /admin. Every page is checked by checkPage (axe-core, title, 320 px,
// screenshots), every context by done() (no CSP violation, no page error).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { ACCOUNTS, BASE, PEOPLE, checkPage, go, launch, open, settled, signIn } from "./helpers.mjs";

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const admin = ACCOUNTS.administrator;
const suffix = Date.now().toString(36);
const newUser = { username: `e2e-new-nurse-${suffix}`, display_name: "E2E New Nurse", password: `new-nurse-password-${suffix}` };

async function mainText(page) { return (await page.locator("main").innerText()).replace(/\s+/g, " "); }

/** Fills the organisation field, a select when the server's organisations fit one page. */
async function chooseOrganisation(page, id) {
  const el = page.locator("#organisation");
  if (await el.evaluate((e) => e.tagName) === "SELECT") await el.selectOption(id);
  else await el.fill(id);
}

describe("administration (administrator)", () => {
  test("adds a user who can then sign in; disabling them ends their session and refuses sign-in", async () => {
    const s = await open(browser);
    const { page } = s;
    await signIn(page, admin);
    const nav = await page.locator("nav[aria-label=Menu]").innerText();
    assert.ok(nav.includes("Administration"), "the administrator has Administration in the menu");
    assert.ok(!nav.includes("Find a person"), "and no Find a person");
    await page.click("nav[aria-label=Menu] a:has-text('Administration')");
    await page.waitForFunction(() => document.querySelector("main h1")?.textContent === "Administration");
    await checkPage(page, "admin-home");
    await page.click("main a.nhsuk-card__link:has-text('Users')");
    await page.waitForURL(/\/admin\/users$/);
    await settled(page);
    assert.equal(await page.title(), "Users – joinedup");
    // Every account of the test world is listed (sorted by username, 50 a page); search narrows it.
    assert.ok((await page.locator("main table tbody").innerText()).includes(ACCOUNTS.gp.username));
    await checkPage(page, "admin-users");
    await page.fill("#q", "case-manager");
    await page.click("form[aria-label='Find a user'] button[type=submit]");
    await page.waitForURL(/q=case-manager/);
    await settled(page);
    const found = await page.locator("main table tbody tr").allInnerTexts();
    assert.ok(found.length >= 1 && found.every((r) => r.includes("case-manager") || r.toLowerCase().includes("case manager")), `search by part of the username: ${found.join(" | ")}`);

    // Add a user: checked here first, then by the server (a username that is taken: 409, field username).
    await go(page, "/admin/users");
    await page.click("main a:has-text('Add a user')");
    await page.waitForURL(/\/admin\/users\/new$/);
    await settled(page);
    await checkPage(page, "admin-user-new");
    await page.click("form[aria-label='Add a user'] button[type=submit]");
    await page.waitForSelector(".nhsuk-error-summary");
    const errs = await page.locator(".nhsuk-error-summary").innerText();
    for (const t of ["Enter a username", "Choose a role", "Enter a password"]) assert.ok(errs.includes(t), `${t}: ${errs}`);
    assert.match(await page.title(), /^Error: Add a user – joinedup$/);
    // The NHS number is asked only for a patient.
    assert.equal(await page.locator("#patient-nhs-number").count(), 0);
    await page.selectOption("#role", "patient");
    await page.locator("#patient-nhs-number").waitFor();
    await page.selectOption("#role", "nurse");
    await page.locator("#patient-nhs-number").waitFor({ state: "detached" });
    await page.fill("#username", ACCOUNTS.gp.username);
    await page.fill("#display-name", newUser.display_name);
    await chooseOrganisation(page, PEOPLE.practice);
    await page.fill("#password", newUser.password);
    await page.click("form[aria-label='Add a user'] button[type=submit]");
    await page.waitForSelector("#username-error");
    assert.ok((await page.locator(".nhsuk-error-summary a[href='#username']").count()) === 1, "the server's field error links to the field");
    await checkPage(page, "admin-user-new-taken");
    await page.fill("#username", newUser.username);
    await page.fill("#password", newUser.password);
    await page.click("form[aria-label='Add a user'] button[type=submit]");
    await page.waitForURL(/\/admin\/users\/[^/]+$/);
    await page.waitForSelector("#admin-done");
    await settled(page);
    assert.match(await page.locator("#admin-done").innerText(), new RegExp(`User ${newUser.username} added`));
    const details = await page.locator("dl.nhsuk-summary-list").innerText();
    assert.match(details, /Nurse/);
    assert.match(details, /Active/);
    const userUrl = page.url();
    await checkPage(page, "admin-user");

    // The new user signs in (a context of their own).
    const them = await open(browser);
    await signIn(them.page, { username: newUser.username, password: newUser.password });
    assert.ok((await them.page.locator("nav[aria-label=Account]").innerText()).includes(`${newUser.display_name} (Nurse)`));
    assert.equal(await them.page.evaluate(async () => (await fetch("/app/api/me")).status), 200);

    // Disabled: their session ends at once, and sign-in is refused.
    await page.goto(userUrl);
    await settled(page);
    await page.check("#status-disabled");
    await page.click("form[aria-labelledby=h-change] button[type=submit]");
    await page.waitForSelector("#admin-done");
    assert.match(await page.locator("#admin-done").innerText(), /saved\. Their sessions have ended/);
    assert.match(await page.locator("dl.nhsuk-summary-list").innerText(), /Disabled/);
    assert.equal(await them.page.evaluate(async () => (await fetch("/app/api/me")).status), 401, "the disabled user's session has ended");
    await them.page.goto(`${BASE}/find`);
    await them.page.waitForSelector("#username");
    await them.page.fill("#username", newUser.username);
    await them.page.fill("#password", newUser.password);
    await them.page.click("form button[type=submit]");
    await them.page.waitForSelector(".nhsuk-error-summary");
    assert.equal(new URL(them.page.url()).pathname, "/sign-in", "a disabled user cannot sign in");
    await them.done();

    // The password reset form: checked here first.
    await page.click("form[aria-labelledby=h-password] button[type=submit]");
    await page.waitForSelector("#new-password-error");
    await page.fill("#new-password", `reset-password-${suffix}`);
    await page.click("form[aria-labelledby=h-password] button[type=submit]");
    await page.waitForSelector("#admin-done");
    assert.match(await page.locator("#admin-done").innerText(), /Password for .* reset/);
    // Their own account: no change of their own status (the server's 400 names the field).
    await go(page, `/admin/users?q=${admin.username}`);
    await page.click(`main table a:text-is("${admin.username}")`);
    await page.waitForURL(/\/admin\/users\/[^/]+$/);
    await settled(page);
    assert.match(await mainText(page), /This is your own account/);
    await page.check("#status-disabled");
    await page.click("form[aria-labelledby=h-change] button[type=submit]");
    await page.waitForSelector(".nhsuk-error-summary");
    assert.equal(await page.locator(".nhsuk-error-summary a[href='#status']").count(), 1, "the refusal links to the status field");
    await s.done();
  });

  test("organisations: adds one and changes its name", async () => {
    const s = await open(browser);
    const { page } = s;
    await signIn(page, admin);
    await go(page, "/admin/organisations");
    assert.ok((await page.locator("main table tbody").innerText()).includes(PEOPLE.practice), "the practices are listed");
    await checkPage(page, "admin-organisations");
    await page.click("main a:has-text('Add an organisation')");
    await page.waitForURL(/\/admin\/organisations\/new$/);
    await settled(page);
    const id = `E2E${suffix.slice(-5).toUpperCase()}`;
    await page.fill("#org-id", id);
    await page.fill("#org-name", "E2E Voluntary Group");
    await page.selectOption("#org-kind", "voluntary_organisation");
    await checkPage(page, "admin-organisation-new");
    await page.click("main form button[type=submit]");
    await page.waitForURL(/\/admin\/organisations$/);
    await page.waitForSelector("#admin-done");
    await settled(page);
    await page.click(`main table tr:has-text("${id}") a:has-text('Change')`);
    await page.waitForURL(new RegExp(`/admin/organisations/${id}$`));
    await settled(page);
    assert.equal(await page.inputValue("#org-name"), "E2E Voluntary Group");
    await checkPage(page, "admin-organisation-change");
    await page.fill("#org-name", "E2E Voluntary Group (renamed)");
    await page.click("main form button[type=submit]");
    await page.waitForURL(/\/admin\/organisations$/);
    await settled(page);
    assert.ok((await page.locator("main table tbody").innerText()).includes("E2E Voluntary Group (renamed)"));
    // An id that is taken: 409, shown on the field.
    await go(page, "/admin/organisations/new");
    await page.fill("#org-id", id);
    await page.fill("#org-name", "Again");
    await page.selectOption("#org-kind", "council");
    await page.click("main form button[type=submit]");
    await page.waitForSelector("#org-id-error");
    await s.done();
  });

  test("care teams: creates one, adds a member and a person (counted, never named), removes the member", async () => {
    const s = await open(browser);
    const { page } = s;
    await signIn(page, admin);
    await go(page, "/admin/care-teams");
    assert.ok((await page.locator("main table tbody").innerText()).includes("E2E community team"));
    await checkPage(page, "admin-care-teams");
    await page.click("main a:has-text('Create a care team')");
    await page.waitForURL(/\/admin\/care-teams\/new$/);
    await settled(page);
    await checkPage(page, "admin-care-team-new");
    await page.fill("#team-name", `E2E frailty team ${suffix}`);
    await chooseOrganisation(page, "RYG");
    await page.click("main form button[type=submit]");
    await page.waitForURL(/\/admin\/care-teams\/[^/]+$/);
    await page.waitForSelector("#admin-done");
    await settled(page);
    assert.equal(await page.locator("h1").innerText(), `E2E frailty team ${suffix}`);
    assert.equal(await page.locator("#team-people").innerText(), "0");
    // A member by username; an unknown username is the server's field error.
    await page.fill("#member-username", `no-such-user-${suffix}`);
    await page.click("form[aria-label='Add a member'] button[type=submit]");
    await page.waitForSelector("#member-username-error");
    await page.fill("#member-username", ACCOUNTS.spare.username);
    await page.click("form[aria-label='Add a member'] button[type=submit]");
    await page.waitForSelector("#admin-done");
    assert.ok((await page.locator("main table tbody").innerText()).includes(ACCOUNTS.spare.username));
    // A person by NHS number: checked here, then counted.
    await page.fill("#nhs-number", "12345");
    await page.click("form[aria-label='Add or remove a person'] button[value=add]");
    await page.waitForSelector("#nhs-number-error");
    const member = PEOPLE.team[1];
    await page.fill("#nhs-number", member.nhs_number);
    await page.click("form[aria-label='Add or remove a person'] button[value=add]");
    await page.waitForFunction(() => document.getElementById("team-people")?.textContent === "1");
    // Administrators do not see who people are.
    const dom = await page.content();
    assert.ok(!dom.toLowerCase().includes(member.family.toLowerCase()), "no name of the person in the DOM");
    await checkPage(page, "admin-care-team");
    // Removed again: the member and the person.
    await page.click(`main table button:has-text('Remove')`);
    await page.waitForSelector("#admin-done");
    assert.match(await mainText(page), /No members yet/);
    await page.fill("#nhs-number", member.nhs_number);
    await page.click("form[aria-label='Add or remove a person'] button[value=remove]");
    await page.waitForFunction(() => document.getElementById("team-people")?.textContent === "0");
    await s.done();
  });

  test("an administrator sees no one: find, a person's page, the worklist, population and audit are Page not found", async () => {
    const s = await open(browser);
    const { page } = s;
    await signIn(page, admin);
    for (const p of ["/find", `/find?q=${PEOPLE.person.nhs_number}`, `/people/${PEOPLE.person.id}`, "/worklist", "/population", "/audit", "/my-record"]) {
      await go(page, p);
      assert.equal(await page.locator("h1").innerText(), "Page not found", `${p}: Page not found`);
      assert.ok(!(await page.content()).includes(PEOPLE.person.nhs_number), `${p}: no NHS number in the DOM`);
    }
    const api = await page.evaluate(async (n) => (await fetch(`/app/api/people?q=${n}`)).status, PEOPLE.person.nhs_number);
    assert.notEqual(api, 200, "the people API refuses an administrator");
    await s.done();
  });
});

describe("administration is for administrators only", () => {
  for (const key of ["gp", "commissioner"]) {
    test(`${key}: every /admin address is Page not found, and the admin API answers 404`, async () => {
      const s = await open(browser);
      const { page } = s;
      await signIn(page, ACCOUNTS[key]);
      assert.ok(!(await page.locator("nav[aria-label=Menu]").innerText()).includes("Administration"));
      for (const p of ["/admin", "/admin/users", "/admin/users/new", "/admin/care-teams/1", "/admin/organisations"]) {
        await go(page, p);
        assert.equal(await page.locator("h1").innerText(), "Page not found", `${key} ${p}`);
      }
      await checkPage(page, `admin-not-found-${key}`);
      const status = await page.evaluate(async () => [(await fetch("/app/api/admin/users")).status, (await fetch("/app/api/admin/care-teams")).status]);
      assert.deepEqual(status, [404, 404]);
      await s.done();
    });
  }
});
