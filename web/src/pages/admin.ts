// Administration (/admin…): the directory — users, organisations, care teams — for the role
// `administrator` (GET /app/api/me lists the screen `admin`; docs/app-api.md "Administration").
// Administrators never see who people are: a care team's people are a count, added and removed
// by NHS number. Every form posts JSON with the X-CSRF-Token header (api.request does that), and
// the API's 400/409 with a `field` shows as the NHS.UK error summary linking to that field.
import { html, nothing, type TemplateResult } from "lit-html";
import {
  api, ApiError, type AdminCareTeam, type AdminCareTeams, type AdminOrganisation, type AdminOrganisations,
  type AdminUser, type AdminUsers,
} from "../api";
import { app, roleTitle, type Page } from "../app";
import { apiErrorSummary, errorMessage, errorSummary, nextPage, summaryList, table, tag } from "../components";

// ---- Shared pieces -----------------------------------------------------------------------------

/** A message for the next admin page ("User e2e-x created"), shown once as a success banner. */
let flash: string | null = null;

function takeFlash(): string | null {
  const f = flash;
  flash = null;
  return f;
}

function successBanner(text: string | null): TemplateResult | typeof nothing {
  if (!text) return nothing;
  return html`<div class="nhsuk-notification-banner nhsuk-notification-banner--success" role="alert" aria-labelledby="admin-done-title" id="admin-done" tabindex="-1">
    <div class="nhsuk-notification-banner__header"><h2 class="nhsuk-notification-banner__title" id="admin-done-title">Success</h2></div>
    <div class="nhsuk-notification-banner__content"><p class="nhsuk-notification-banner__heading">${text}</p></div>
  </div>`;
}

const KIND_TEXT: Record<string, string> = {
  gp_practice: "GP practice",
  community_trust: "Community trust",
  council: "Council",
  voluntary_organisation: "Voluntary organisation",
  commissioner: "Commissioner",
};

/** "Name (ID)", or the name alone when it already holds the id. */
function orgText(name: string | undefined, id: string): string {
  if (!name) return id;
  return name.includes(id) ? name : `${name} (${id})`;
}

export function kindText(kind: string): string {
  return KIND_TEXT[kind] ?? kind.replace(/_/g, " ");
}

/** The roles a user can have when the server's list is not at hand (docs/security.md). */
const FALLBACK_ROLES = ["gp", "nurse", "case-manager", "care-assistant", "social-worker", "mental-health", "pharmacist",
  "link-worker", "commissioner", "analyst", "privacy-officer", "administrator", "patient"];

/** Sub-navigation of the administration pages. */
function adminNav(current: "users" | "organisations" | "care-teams" | null): TemplateResult {
  const links: [typeof current, string, string][] = [
    ["users", "/admin/users", "Users"],
    ["organisations", "/admin/organisations", "Organisations"],
    ["care-teams", "/admin/care-teams", "Care teams"],
  ];
  return html`<nav class="app-subnav" aria-label="Administration">
    <ul class="nhsuk-list app-subnav__list">
      ${links.map(([k, href, text]) => html`<li class="app-subnav__item"><a href=${href} aria-current=${k === current ? "page" : nothing}>${text}</a></li>`)}
    </ul>
  </nav>`;
}

interface FieldOpts {
  id: string;
  label: string;
  value: string;
  hint?: string;
  error?: string;
  type?: string;
  width?: 2 | 3 | 4 | 5 | 10 | 20 | 30;
  autocomplete?: string;
  inputmode?: string;
}

function textField(o: FieldOpts): TemplateResult {
  const described = [o.hint ? `${o.id}-hint` : "", o.error ? `${o.id}-error` : ""].filter(Boolean).join(" ");
  const cls = `nhsuk-input${o.width ? ` nhsuk-input--width-${o.width}` : ""}${o.error ? " nhsuk-input--error" : ""}`;
  return html`<div class=${o.error ? "nhsuk-form-group nhsuk-form-group--error" : "nhsuk-form-group"}>
    <label class="nhsuk-label" for=${o.id}>${o.label}</label>
    ${o.hint ? html`<div class="nhsuk-hint" id=${`${o.id}-hint`}>${o.hint}</div>` : nothing}
    ${errorMessage(`${o.id}-error`, o.error)}
    <input class=${cls} id=${o.id} name=${o.id} type=${o.type ?? "text"} spellcheck="false" .value=${o.value}
      autocomplete=${o.autocomplete ?? "off"} inputmode=${o.inputmode ?? nothing} aria-describedby=${described || nothing}>
  </div>`;
}

function selectField(o: { id: string; label: string; value: string; options: [string, string][]; hint?: string; error?: string; onChange?: (v: string) => void }): TemplateResult {
  const described = [o.hint ? `${o.id}-hint` : "", o.error ? `${o.id}-error` : ""].filter(Boolean).join(" ");
  return html`<div class=${o.error ? "nhsuk-form-group nhsuk-form-group--error" : "nhsuk-form-group"}>
    <label class="nhsuk-label" for=${o.id}>${o.label}</label>
    ${o.hint ? html`<div class="nhsuk-hint" id=${`${o.id}-hint`}>${o.hint}</div>` : nothing}
    ${errorMessage(`${o.id}-error`, o.error)}
    <select class=${o.error ? "nhsuk-select nhsuk-select--error" : "nhsuk-select"} id=${o.id} name=${o.id} aria-describedby=${described || nothing}
      @change=${(e: Event) => o.onChange?.((e.target as HTMLSelectElement).value)}>
      ${o.options.map(([v, t]) => html`<option value=${v} ?selected=${o.value === v}>${t}</option>`)}
    </select>
  </div>`;
}

/**
 * The errors of one form: field errors (by the input's id) and an error without a field. An
 * ApiError with `field` goes to that field's input (through `fields`, API member → input id).
 */
class FormErrors {
  fields: Record<string, string> = {};
  other: unknown = null;

  clear() { this.fields = {}; this.other = null; }
  any() { return Boolean(this.other || Object.keys(this.fields).length); }

  /** Takes a failed call's error; false for a 401 (the app has gone to the sign-in page). */
  take(e: unknown, fields: Record<string, string>): boolean {
    if (e instanceof ApiError && e.status === 401) return false;
    if (e instanceof ApiError && e.field && fields[e.field]) this.fields[fields[e.field]] = e.detail;
    else this.other = e;
    return true;
  }

  summary(): TemplateResult | typeof nothing {
    const list = Object.entries(this.fields).map(([id, text]) => ({ href: `#${id}`, text }));
    return html`${list.length ? errorSummary("There is a problem", list) : nothing}${this.other ? apiErrorSummary(this.other) : nothing}`;
  }
}

function showErrors() {
  app.update();
  app.focus(".nhsuk-error-summary");
}

function val(data: FormData, name: string): string {
  return String(data.get(name) ?? "").trim();
}

function loading(): TemplateResult {
  return html`<p class="nhsuk-body" role="status">Loading…</p>`;
}

function pager(base: string, params: URLSearchParams, page: number, next: number | null): TemplateResult | typeof nothing {
  if (!next && page <= 1) return nothing;
  const href = (n: number) => {
    const p = new URLSearchParams(params);
    if (n > 1) p.set("page", String(n)); else p.delete("page");
    return `${base}${p.toString() ? `?${p.toString()}` : ""}`;
  };
  return nextPage(next ? href(next) : "", "Next page", undefined, page > 1 ? href(page - 1) : undefined);
}

/** The organisations, for a select when they all fit in one page (else null: a text input). */
async function organisationChoices(): Promise<AdminOrganisation[] | null> {
  try {
    const r = await api.get<AdminOrganisations>("/app/api/admin/organisations");
    return r.next_page ? null : r.organisations;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) throw e;
    return null;
  }
}

function organisationField(id: string, value: string, orgs: AdminOrganisation[] | null, error: string | undefined): TemplateResult {
  if (orgs && orgs.length) {
    const options: [string, string][] = orgs.map((o) => [o.id, orgText(o.name, o.id)]);
    if (!value) options.unshift(["", "Choose an organisation"]);
    else if (!orgs.some((o) => o.id === value)) options.unshift([value, value]);
    return selectField({ id, label: "Organisation", value, options, error });
  }
  return textField({ id, label: "Organisation", hint: "The organisation's id (its ODS code), for example A81001", value, error, width: 10 });
}

/** Walks a paged admin list for one item (there is no GET of a single user or organisation). */
async function findInPages<T>(url: (page: number) => string, items: (r: unknown) => T[], next: (r: unknown) => number | null, match: (t: T) => boolean): Promise<T | null> {
  let page: number | null = 1;
  for (let i = 0; page && i < 40; i += 1) {
    const r: unknown = await api.get<unknown>(url(page));
    const found = items(r).find(match);
    if (found) return found;
    page = next(r);
  }
  return null;
}

function notFoundView(what: string, back: string, backText: string): TemplateResult {
  return html`<h1 tabindex="-1">${what} not found</h1>
    <p class="nhsuk-body">It may have been removed, or the address is wrong.</p>
    <p class="nhsuk-body"><a href=${back}>${backText}</a></p>`;
}

// ---- /admin --------------------------------------------------------------------------------------

export function adminHomePage(): Page {
  const cards = [
    { href: "/admin/users", text: "Users", description: "Find, add and change users: their role, organisation and whether they may sign in; reset a password." },
    { href: "/admin/organisations", text: "Organisations", description: "GP practices, community trusts, councils, voluntary organisations and commissioners." },
    { href: "/admin/care-teams", text: "Care teams", description: "Who is on each team and how many people it cares for. Members can see the team's people." },
  ];
  return {
    title: () => "Administration",
    view: () => html`<h1 tabindex="-1">Administration</h1>
      <p class="nhsuk-lede-text">The directory: who may sign in, where they work and which teams they are on. Every change is recorded in the audit trail.</p>
      <ul class="nhsuk-grid-row nhsuk-card-group">
        ${cards.map((c) => html`<li class="nhsuk-grid-column-one-third nhsuk-card-group__item">
          <div class="nhsuk-card nhsuk-card--clickable"><div class="nhsuk-card__content">
            <h2 class="nhsuk-card__heading nhsuk-heading-m"><a class="nhsuk-card__link" href=${c.href}>${c.text}</a></h2>
            <p class="nhsuk-card__description">${c.description}</p>
          </div></div>
        </li>`)}
      </ul>`,
  };
}

// ---- Users ---------------------------------------------------------------------------------------

function statusTag(status: string): TemplateResult {
  return status === "active" ? tag("Active", "green") : status === "disabled" ? tag("Disabled", "grey") : tag(status, "white");
}

/** A user's page; the username in the address lets it find them with one search. */
function userHref(u: { id: string; username: string }): string {
  return `/admin/users/${encodeURIComponent(u.id)}?username=${encodeURIComponent(u.username)}`;
}

function userName(u: AdminUser): string {
  return u.display_name ? `${u.display_name} (${u.username})` : u.username;
}

export function adminUsersPage(query: URLSearchParams): Page {
  const q = query.get("q") ?? "";
  const page = Math.max(1, Number(query.get("page") ?? "1") || 1);
  let list: AdminUsers | null = null;
  let apiError: unknown = null;
  const done = takeFlash();

  function search(e: Event) {
    e.preventDefault();
    const v = val(new FormData(e.target as HTMLFormElement), "q");
    void app.navigate(`/admin/users${v ? `?q=${encodeURIComponent(v)}` : ""}`);
  }

  return {
    title: () => "Users",
    hasError: () => Boolean(apiError),
    async load() {
      const p = new URLSearchParams();
      if (q) p.set("q", q);
      if (page > 1) p.set("page", String(page));
      try {
        list = await api.get<AdminUsers>(`/app/api/admin/users${p.toString() ? `?${p.toString()}` : ""}`);
      } catch (e) {
        if (e instanceof ApiError && e.status === 401) throw e;
        apiError = e;
      }
    },
    view: () => html`
      ${apiError ? apiErrorSummary(apiError) : nothing}
      ${successBanner(done)}
      ${adminNav("users")}
      <h1 tabindex="-1">Users</h1>
      <p class="nhsuk-body"><a class="nhsuk-button" href="/admin/users/new" role="button" draggable="false">Add a user</a></p>
      <form role="search" novalidate @submit=${search} aria-label="Find a user">
        <div class="nhsuk-form-group">
          <label class="nhsuk-label" for="q">Username or name</label>
          <div class="nhsuk-hint" id="q-hint">Any part of it, for example smith</div>
          <input class="nhsuk-input nhsuk-input--width-20" id="q" name="q" type="search" spellcheck="false" autocomplete="off" .value=${q} aria-describedby="q-hint">
        </div>
        <button class="nhsuk-button nhsuk-button--secondary" type="submit">Find users</button>
      </form>
      ${list === null && !apiError ? loading() : nothing}
      ${list && list.users.length === 0 ? html`<p class="nhsuk-body">${q ? "No users match." : "No users yet."}</p>` : nothing}
      ${list && list.users.length ? html`
        ${table(`Users${q ? ` matching “${q}”` : ""}, page ${list.page}`, ["Username", "Name", "Role", "Organisation", "Status", "Care teams"], list.users.map((u) => [
          html`<a href=${userHref(u)}>${u.username}</a>`,
          u.display_name ?? "",
          roleTitle(u.role),
          orgText(u.organisation_name, u.organisation),
          statusTag(u.status),
          (u.care_teams ?? []).map((t) => t.name).join(", "),
        ]), { captionSize: "s" })}
        ${pager("/admin/users", new URLSearchParams(q ? { q } : {}), list.page, list.next_page)}` : nothing}`,
  };
}

export function adminNewUserPage(): Page {
  const v = { username: "", display_name: "", role: "", organisation: "", patient_nhs_number: "" };
  let roles: string[] = FALLBACK_ROLES;
  let orgs: AdminOrganisation[] | null = null;
  let ready = false;
  let busy = false;
  const errors = new FormErrors();
  const FIELDS: Record<string, string> = {
    username: "username", display_name: "display-name", role: "role", organisation: "organisation",
    password: "password", patient_nhs_number: "patient-nhs-number",
  };

  async function submit(e: Event) {
    e.preventDefault();
    if (busy) return;
    const form = e.target as HTMLFormElement;
    const data = new FormData(form);
    v.username = val(data, "username");
    v.display_name = val(data, "display-name");
    v.role = val(data, "role");
    v.organisation = val(data, "organisation");
    v.patient_nhs_number = val(data, "patient-nhs-number").replace(/[\s-]/g, "");
    const password = String(data.get("password") ?? "");
    errors.clear();
    if (!v.username) errors.fields.username = "Enter a username";
    if (!v.display_name) errors.fields["display-name"] = "Enter the person's name as it should be shown";
    if (!v.role) errors.fields.role = "Choose a role";
    if (!v.organisation) errors.fields.organisation = "Enter the organisation";
    if (password.length < 12) errors.fields.password = password ? "The password must be at least 12 characters" : "Enter a password";
    if (v.role === "patient" && !/^\d{10}$/.test(v.patient_nhs_number)) errors.fields["patient-nhs-number"] = "Enter the patient's 10-digit NHS number";
    if (errors.any()) return showErrors();
    busy = true;
    app.update();
    const body: Record<string, string> = { username: v.username, display_name: v.display_name, role: v.role, organisation: v.organisation, password };
    if (v.role === "patient") body.patient_nhs_number = v.patient_nhs_number;
    try {
      const r = await api.request<{ user: AdminUser }>("POST", "/app/api/admin/users", { body });
      busy = false;
      flash = `User ${r.user.username} added`;
      await app.navigate(userHref(r.user));
    } catch (err) {
      busy = false;
      const pw = form.querySelector<HTMLInputElement>("#password");
      if (pw) pw.value = "";
      if (errors.take(err, FIELDS)) showErrors();
    }
  }

  return {
    title: () => "Add a user",
    hasError: () => errors.any(),
    async load() {
      const [r, o] = await Promise.allSettled([api.get<AdminUsers>("/app/api/admin/users"), organisationChoices()]);
      for (const x of [r, o]) if (x.status === "rejected" && x.reason instanceof ApiError && x.reason.status === 401) throw x.reason;
      if (r.status === "fulfilled" && r.value.roles?.length) roles = r.value.roles;
      if (o.status === "fulfilled") orgs = o.value;
      ready = true;
    },
    view: () => html`
      ${errors.summary()}
      <a class="nhsuk-back-link" href="/admin/users">Users</a>
      <h1 tabindex="-1">Add a user</h1>
      ${!ready ? loading() : html`
      <form novalidate @submit=${submit} aria-label="Add a user">
        ${textField({ id: "username", label: "Username", hint: "What they sign in with, for example ada.smith", value: v.username, error: errors.fields.username, width: 20, autocomplete: "off" })}
        ${textField({ id: "display-name", label: "Name", hint: "As it should be shown, for example Dr Ada Smith", value: v.display_name, error: errors.fields["display-name"], width: 30 })}
        ${selectField({ id: "role", label: "Role", value: v.role, error: errors.fields.role,
          options: [["", "Choose a role"], ...roles.map((r): [string, string] => [r, roleTitle(r)])],
          onChange: (x) => { v.role = x; app.update(); } })}
        ${organisationField("organisation", v.organisation, orgs, errors.fields.organisation)}
        ${v.role === "patient" ? textField({ id: "patient-nhs-number", label: "The patient's NHS number", hint: "10 digits, for example 943 476 5919. A patient sees only their own record.", value: v.patient_nhs_number, error: errors.fields["patient-nhs-number"], width: 10, inputmode: "numeric" }) : nothing}
        ${textField({ id: "password", label: "Password", hint: "At least 12 characters. Give it to them in person or by a secure route; they should change it.", value: "", error: errors.fields.password, type: "password", width: 20, autocomplete: "new-password" })}
        <button class="nhsuk-button" type="submit" ?disabled=${busy}>Add the user</button>
      </form>`}`,
  };
}

export function adminUserPage(id: string, query: URLSearchParams): Page {
  let user: AdminUser | null = null;
  let roles: string[] = FALLBACK_ROLES;
  let orgs: AdminOrganisation[] | null = null;
  let missing = false;
  let loadError: unknown = null;
  let done = takeFlash();
  const edit = { display_name: "", role: "", organisation: "", status: "" };
  const editErrors = new FormErrors();
  const pwErrors = new FormErrors();
  let busy = false;

  function reset(u: AdminUser) {
    user = u;
    edit.display_name = u.display_name ?? "";
    edit.role = u.role;
    edit.organisation = u.organisation;
    edit.status = u.status;
  }

  async function save(e: Event) {
    e.preventDefault();
    if (busy || !user) return;
    const data = new FormData(e.target as HTMLFormElement);
    edit.display_name = val(data, "display-name");
    edit.role = val(data, "role");
    edit.organisation = val(data, "organisation");
    edit.status = val(data, "status");
    editErrors.clear();
    pwErrors.clear();
    done = null;
    if (!edit.display_name) editErrors.fields["display-name"] = "Enter the person's name as it should be shown";
    if (!edit.organisation) editErrors.fields.organisation = "Enter the organisation";
    if (editErrors.any()) return showErrors();
    // Only what changed: an administrator's own role, organisation and status may not change.
    const body: Record<string, string> = {};
    if (edit.display_name !== (user.display_name ?? "")) body.display_name = edit.display_name;
    if (edit.role !== user.role) body.role = edit.role;
    if (edit.organisation !== user.organisation) body.organisation = edit.organisation;
    if (edit.status !== user.status) body.status = edit.status;
    if (!Object.keys(body).length) {
      done = "Nothing to save: no changes";
      app.update();
      app.focus("#admin-done");
      return;
    }
    busy = true;
    app.update();
    try {
      const r = await api.request<{ user: AdminUser }>("POST", `/app/api/admin/users/${encodeURIComponent(user.id)}`, { body });
      busy = false;
      reset(r.user);
      const ended = "role" in body || "organisation" in body || "status" in body;
      done = `Changes to ${r.user.username} saved${ended ? ". Their sessions have ended" : ""}`;
      app.update();
      app.focus("#admin-done");
    } catch (err) {
      busy = false;
      if (editErrors.take(err, { display_name: "display-name", role: "role", organisation: "organisation", status: "status" })) showErrors();
    }
  }

  async function setPassword(e: Event) {
    e.preventDefault();
    if (busy || !user) return;
    const form = e.target as HTMLFormElement;
    const password = String(new FormData(form).get("new-password") ?? "");
    editErrors.clear();
    pwErrors.clear();
    done = null;
    if (password.length < 12) pwErrors.fields["new-password"] = password ? "The password must be at least 12 characters" : "Enter a new password";
    if (pwErrors.any()) return showErrors();
    busy = true;
    app.update();
    try {
      await api.request<unknown>("POST", `/app/api/admin/users/${encodeURIComponent(user.id)}/password`, { body: { password } });
      busy = false;
      form.reset();
      done = `Password for ${user.username} reset. Their sessions have ended`;
      app.update();
      app.focus("#admin-done");
    } catch (err) {
      busy = false;
      if (pwErrors.take(err, { password: "new-password" })) showErrors();
    }
  }

  const self = () => user !== null && app.me?.user.username === user.username;

  return {
    // Not the username: a patient's account may be named after them (titles go into history).
    title: () => (missing ? "User not found" : "User"),
    hasError: () => Boolean(loadError || editErrors.any() || pwErrors.any()),
    async load() {
      try {
        // There is no GET of one user: the list, by the username the list linked with when it
        // is in the address, else page by page.
        const hint = query.get("username") ?? "";
        const [found, o] = await Promise.all([
          findInPages<AdminUser>((n) => `/app/api/admin/users?${hint ? `q=${encodeURIComponent(hint)}&` : ""}page=${n}`,
            (x) => { const r = x as AdminUsers; if (r.roles?.length) roles = r.roles; return r.users; },
            (x) => (x as AdminUsers).next_page, (u) => u.id === id),
          organisationChoices(),
        ]);
        orgs = o;
        if (found) reset(found); else missing = true;
      } catch (e) {
        if (e instanceof ApiError && e.status === 401) throw e;
        loadError = e;
      }
    },
    view: () => {
      const u = user;
      return html`
        ${loadError ? apiErrorSummary(loadError) : nothing}
        ${editErrors.summary()}${pwErrors.summary()}
        ${successBanner(done)}
        <a class="nhsuk-back-link" href="/admin/users">Users</a>
        ${missing ? notFoundView("User", "/admin/users", "Find a user") : !u ? html`<h1 tabindex="-1">User</h1>${loadError ? nothing : loading()}` : html`
        <span class="nhsuk-caption-l">User</span>
        <h1 tabindex="-1" class="app-wrap">${userName(u)}</h1>
        ${summaryList([
          { key: "Username", value: u.username },
          { key: "Role", value: roleTitle(u.role) },
          { key: "Organisation", value: orgText(u.organisation_name, u.organisation) },
          { key: "Status", value: statusTag(u.status) },
          { key: "Care teams", value: u.care_teams?.length ? html`${u.care_teams.map((t, i) => html`${i ? ", " : ""}<a href=${`/admin/care-teams/${encodeURIComponent(t.id)}`}>${t.name}</a>`)}` : "None" },
        ])}
        <h2 class="nhsuk-heading-m" id="h-change">Change their details</h2>
        ${self() ? html`<p class="nhsuk-body">This is your own account: you can change your name here, but not your own role, organisation or status.</p>` : nothing}
        <form novalidate @submit=${save} aria-labelledby="h-change">
          ${textField({ id: "display-name", label: "Name", value: edit.display_name, error: editErrors.fields["display-name"], width: 30 })}
          ${selectField({ id: "role", label: "Role", value: edit.role, error: editErrors.fields.role,
            hint: "A change of role, organisation or status ends their sessions at once.",
            options: (roles.includes(edit.role) ? roles : [edit.role, ...roles]).map((r): [string, string] => [r, roleTitle(r)]) })}
          ${organisationField("organisation", edit.organisation, orgs, editErrors.fields.organisation)}
          <div class=${editErrors.fields.status ? "nhsuk-form-group nhsuk-form-group--error" : "nhsuk-form-group"}>
            <fieldset class="nhsuk-fieldset" aria-describedby=${editErrors.fields.status ? "status-error" : nothing}>
              <legend class="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">Status</legend>
              ${errorMessage("status-error", editErrors.fields.status)}
              <div class="nhsuk-radios nhsuk-radios--inline">
                <div class="nhsuk-radios__item">
                  <input class="nhsuk-radios__input" id="status" name="status" type="radio" value="active" ?checked=${edit.status === "active"}>
                  <label class="nhsuk-label nhsuk-radios__label" for="status">Active: may sign in</label>
                </div>
                <div class="nhsuk-radios__item">
                  <input class="nhsuk-radios__input" id="status-disabled" name="status" type="radio" value="disabled" ?checked=${edit.status === "disabled"}>
                  <label class="nhsuk-label nhsuk-radios__label" for="status-disabled">Disabled: may not sign in</label>
                </div>
              </div>
            </fieldset>
          </div>
          <button class="nhsuk-button" type="submit" ?disabled=${busy}>Save changes</button>
        </form>
        <h2 class="nhsuk-heading-m" id="h-password">Reset their password</h2>
        <form novalidate @submit=${setPassword} aria-labelledby="h-password">
          ${textField({ id: "new-password", label: "New password", hint: "At least 12 characters. Their sessions end at once.", value: "", error: pwErrors.fields["new-password"], type: "password", width: 20, autocomplete: "new-password" })}
          <button class="nhsuk-button nhsuk-button--secondary" type="submit" ?disabled=${busy}>Reset the password</button>
        </form>`}`;
    },
  };
}

// ---- Organisations -------------------------------------------------------------------------------

export function adminOrganisationsPage(query: URLSearchParams): Page {
  const page = Math.max(1, Number(query.get("page") ?? "1") || 1);
  let list: AdminOrganisations | null = null;
  let apiError: unknown = null;
  const done = takeFlash();
  return {
    title: () => "Organisations",
    hasError: () => Boolean(apiError),
    async load() {
      try {
        list = await api.get<AdminOrganisations>(`/app/api/admin/organisations${page > 1 ? `?page=${page}` : ""}`);
      } catch (e) {
        if (e instanceof ApiError && e.status === 401) throw e;
        apiError = e;
      }
    },
    view: () => html`
      ${apiError ? apiErrorSummary(apiError) : nothing}
      ${successBanner(done)}
      ${adminNav("organisations")}
      <h1 tabindex="-1">Organisations</h1>
      <p class="nhsuk-body"><a class="nhsuk-button" href="/admin/organisations/new" role="button" draggable="false">Add an organisation</a></p>
      ${list === null && !apiError ? loading() : nothing}
      ${list && list.organisations.length === 0 ? html`<p class="nhsuk-body">No organisations yet.</p>` : nothing}
      ${list && list.organisations.length ? html`
        ${table(`Organisations, page ${list.page}`, ["Id", "Name", "Kind", "Users", "Change"], list.organisations.map((o) => [
          o.id, o.name, kindText(o.kind), o.users === undefined ? "" : String(o.users),
          html`<a href=${`/admin/organisations/${encodeURIComponent(o.id)}`}>Change<span class="nhsuk-u-visually-hidden"> ${o.name}</span></a>`,
        ]), { captionSize: "s" })}
        ${pager("/admin/organisations", new URLSearchParams(), list.page, list.next_page)}` : nothing}`,
  };
}

/** Add (id "") or change an organisation. */
export function adminOrganisationPage(id: string): Page {
  const isNew = id === "";
  const v = { id: "", name: "", kind: "" };
  let kinds: string[] = Object.keys(KIND_TEXT);
  let org: AdminOrganisation | null = null;
  let missing = false;
  let ready = false;
  let busy = false;
  const errors = new FormErrors();

  async function submit(e: Event) {
    e.preventDefault();
    if (busy) return;
    const data = new FormData(e.target as HTMLFormElement);
    if (isNew) v.id = val(data, "org-id");
    v.name = val(data, "org-name");
    v.kind = val(data, "org-kind");
    errors.clear();
    if (isNew && !v.id) errors.fields["org-id"] = "Enter the organisation's id";
    if (!v.name) errors.fields["org-name"] = "Enter the organisation's name";
    if (!v.kind) errors.fields["org-kind"] = "Choose the kind of organisation";
    if (errors.any()) return showErrors();
    busy = true;
    app.update();
    try {
      const r = isNew
        ? await api.request<{ organisation: AdminOrganisation }>("POST", "/app/api/admin/organisations", { body: { id: v.id, name: v.name, kind: v.kind } })
        : await api.request<{ organisation: AdminOrganisation }>("POST", `/app/api/admin/organisations/${encodeURIComponent(id)}`, { body: { name: v.name, kind: v.kind } });
      busy = false;
      flash = `Organisation ${r?.organisation?.name ?? v.name} ${isNew ? "added" : "saved"}`;
      await app.navigate("/admin/organisations");
    } catch (err) {
      busy = false;
      if (errors.take(err, { id: "org-id", name: "org-name", kind: "org-kind" })) showErrors();
    }
  }

  return {
    title: () => (isNew ? "Add an organisation" : missing ? "Organisation not found" : "Change an organisation"),
    hasError: () => errors.any(),
    async load() {
      try {
        const first = await api.get<AdminOrganisations>("/app/api/admin/organisations");
        if (first.kinds?.length) kinds = first.kinds;
        if (!isNew) {
          org = first.organisations.find((o) => o.id === id) ?? (first.next_page
            ? await findInPages<AdminOrganisation>((n) => `/app/api/admin/organisations?page=${n}`,
              (x) => (x as AdminOrganisations).organisations, (x) => (x as AdminOrganisations).next_page, (o) => o.id === id)
            : null);
          if (org) { v.id = org.id; v.name = org.name; v.kind = org.kind; } else missing = true;
        }
      } catch (e) {
        if (e instanceof ApiError && e.status === 401) throw e;
        errors.other = e;
      }
      ready = true;
    },
    view: () => html`
      ${errors.summary()}
      <a class="nhsuk-back-link" href="/admin/organisations">Organisations</a>
      ${missing ? notFoundView("Organisation", "/admin/organisations", "All organisations") : html`
      <h1 tabindex="-1">${isNew ? "Add an organisation" : `Change ${org?.name ?? "an organisation"}`}</h1>
      ${!ready ? loading() : html`
      <form novalidate @submit=${submit} aria-label=${isNew ? "Add an organisation" : "Change the organisation"}>
        ${isNew
          ? textField({ id: "org-id", label: "Id", hint: "Its ODS code, for example A81001. It cannot be changed later.", value: v.id, error: errors.fields["org-id"], width: 10 })
          : summaryList([{ key: "Id", value: v.id }])}
        ${textField({ id: "org-name", label: "Name", value: v.name, error: errors.fields["org-name"], width: 30 })}
        ${selectField({ id: "org-kind", label: "Kind", value: v.kind, error: errors.fields["org-kind"],
          options: [...(v.kind ? [] : [["", "Choose a kind"] as [string, string]]), ...kinds.map((k): [string, string] => [k, kindText(k)])] })}
        <button class="nhsuk-button" type="submit" ?disabled=${busy}>${isNew ? "Add the organisation" : "Save changes"}</button>
      </form>`}`}`,
  };
}

// ---- Care teams ----------------------------------------------------------------------------------

export function adminCareTeamsPage(query: URLSearchParams): Page {
  const page = Math.max(1, Number(query.get("page") ?? "1") || 1);
  let list: AdminCareTeams | null = null;
  let apiError: unknown = null;
  const done = takeFlash();
  return {
    title: () => "Care teams",
    hasError: () => Boolean(apiError),
    async load() {
      try {
        list = await api.get<AdminCareTeams>(`/app/api/admin/care-teams${page > 1 ? `?page=${page}` : ""}`);
      } catch (e) {
        if (e instanceof ApiError && e.status === 401) throw e;
        apiError = e;
      }
    },
    view: () => html`
      ${apiError ? apiErrorSummary(apiError) : nothing}
      ${successBanner(done)}
      ${adminNav("care-teams")}
      <h1 tabindex="-1">Care teams</h1>
      <p class="nhsuk-body">A team's members can see the people on it. People are counted here, not named.</p>
      <p class="nhsuk-body"><a class="nhsuk-button" href="/admin/care-teams/new" role="button" draggable="false">Create a care team</a></p>
      ${list === null && !apiError ? loading() : nothing}
      ${list && list.care_teams.length === 0 ? html`<p class="nhsuk-body">No care teams yet.</p>` : nothing}
      ${list && list.care_teams.length ? html`
        ${table(`Care teams, page ${list.page}`, ["Name", "Organisation", "Members", "People"], list.care_teams.map((t) => [
          html`<a href=${`/admin/care-teams/${encodeURIComponent(t.id)}`}>${t.name}</a>`,
          orgText(t.organisation_name, t.organisation),
          String(t.members), String(t.people),
        ]), { captionSize: "s" })}
        ${pager("/admin/care-teams", new URLSearchParams(), list.page, list.next_page)}` : nothing}`,
  };
}

export function adminNewCareTeamPage(): Page {
  const v = { name: "", organisation: "" };
  let orgs: AdminOrganisation[] | null = null;
  let ready = false;
  let busy = false;
  const errors = new FormErrors();

  async function submit(e: Event) {
    e.preventDefault();
    if (busy) return;
    const data = new FormData(e.target as HTMLFormElement);
    v.name = val(data, "team-name");
    v.organisation = val(data, "organisation");
    errors.clear();
    if (!v.name) errors.fields["team-name"] = "Enter the team's name";
    if (!v.organisation) errors.fields.organisation = "Enter the organisation the team belongs to";
    if (errors.any()) return showErrors();
    busy = true;
    app.update();
    try {
      const r = await api.request<{ care_team: AdminCareTeam }>("POST", "/app/api/admin/care-teams", { body: { name: v.name, organisation: v.organisation } });
      busy = false;
      flash = `Care team ${r.care_team.name} created`;
      await app.navigate(`/admin/care-teams/${encodeURIComponent(r.care_team.id)}`);
    } catch (err) {
      busy = false;
      if (errors.take(err, { name: "team-name", organisation: "organisation" })) showErrors();
    }
  }

  return {
    title: () => "Create a care team",
    hasError: () => errors.any(),
    async load() { orgs = await organisationChoices(); ready = true; },
    view: () => html`
      ${errors.summary()}
      <a class="nhsuk-back-link" href="/admin/care-teams">Care teams</a>
      <h1 tabindex="-1">Create a care team</h1>
      ${!ready ? loading() : html`
      <form novalidate @submit=${submit} aria-label="Create a care team">
        ${textField({ id: "team-name", label: "Name", hint: "For example Leeds North frailty team", value: v.name, error: errors.fields["team-name"], width: 30 })}
        ${organisationField("organisation", v.organisation, orgs, errors.fields.organisation)}
        <button class="nhsuk-button" type="submit" ?disabled=${busy}>Create the care team</button>
      </form>`}`,
  };
}

export function adminCareTeamPage(id: string): Page {
  let team: AdminCareTeam | null = null;
  let missing = false;
  let loadError: unknown = null;
  let done = takeFlash();
  let busy = false;
  let member = "";
  let nhs = "";
  let capacity: string | null = null; // the capacity field while it differs from the team's
  const memberErrors = new FormErrors();
  const peopleErrors = new FormErrors();
  const capacityErrors = new FormErrors();
  const url = `/app/api/admin/care-teams/${encodeURIComponent(id)}`;

  function clear() { memberErrors.clear(); peopleErrors.clear(); capacityErrors.clear(); loadError = null; done = null; }

  async function change(kind: "members" | "people" | "capacity", body: Record<string, unknown>, message: string, errors: FormErrors, fields: Record<string, string>): Promise<boolean> {
    busy = true;
    app.update();
    try {
      const r = await api.request<{ care_team: AdminCareTeam }>("POST", `${url}/${kind}`, { body });
      busy = false;
      if (r?.care_team) team = r.care_team;
      done = message;
      app.update();
      app.focus("#admin-done");
      return true;
    } catch (err) {
      busy = false;
      if (errors.take(err, fields)) showErrors();
      return false;
    }
  }

  async function addMember(e: Event) {
    e.preventDefault();
    if (busy) return;
    clear();
    member = val(new FormData(e.target as HTMLFormElement), "member-username");
    if (!member) { memberErrors.fields["member-username"] = "Enter the username of the member to add"; return showErrors(); }
    if (await change("members", { username: member, remove: false }, `${member} added to the team`, memberErrors, { username: "member-username" })) member = "";
  }

  async function removeMember(username: string) {
    if (busy) return;
    clear();
    await change("members", { username, remove: true }, `${username} removed from the team`, memberErrors, { username: "member-username" });
  }

  async function people(e: Event) {
    e.preventDefault();
    if (busy) return;
    clear();
    const submitter = (e as SubmitEvent).submitter as HTMLButtonElement | null;
    const remove = submitter?.value === "remove";
    nhs = val(new FormData(e.target as HTMLFormElement), "nhs-number");
    const digits = nhs.replace(/[\s-]/g, "");
    if (!/^\d{10}$/.test(digits)) {
      peopleErrors.fields["nhs-number"] = nhs ? "Enter a 10-digit NHS number, for example 943 476 5919" : "Enter the person's NHS number";
      return showErrors();
    }
    if (await change("people", { nhs_number: digits, remove }, remove ? "Person removed from the team" : "Person added to the team", peopleErrors, { nhs_number: "nhs-number" })) nhs = "";
  }

  async function setCapacity(e: Event) {
    e.preventDefault();
    if (busy) return;
    clear();
    capacity = val(new FormData(e.target as HTMLFormElement), "capacity");
    if (capacity && !/^\d{1,6}$/.test(capacity)) {
      capacityErrors.fields.capacity = "Enter the capacity as a whole number of people, for example 120, or leave it empty for no limit";
      return showErrors();
    }
    const value = capacity ? Number(capacity) : null;
    if (await change("capacity", { capacity: value }, value === null ? "Caseload capacity removed: no limit" : `Caseload capacity set to ${value}`, capacityErrors, { capacity: "capacity" })) capacity = null;
  }

  return {
    title: () => (team ? `Care team ${team.name}` : missing ? "Care team not found" : "Care team"),
    hasError: () => Boolean(loadError || memberErrors.any() || peopleErrors.any() || capacityErrors.any()),
    async load() {
      try {
        team = (await api.get<{ care_team: AdminCareTeam }>(url)).care_team;
      } catch (e) {
        if (e instanceof ApiError && e.status === 401) throw e;
        if (e instanceof ApiError && e.status === 404) missing = true;
        else loadError = e;
      }
    },
    view: () => {
      const t = team;
      return html`
        ${loadError ? apiErrorSummary(loadError) : nothing}
        ${memberErrors.summary()}${peopleErrors.summary()}${capacityErrors.summary()}
        ${successBanner(done)}
        <a class="nhsuk-back-link" href="/admin/care-teams">Care teams</a>
        ${missing ? notFoundView("Care team", "/admin/care-teams", "All care teams") : !t ? html`<h1 tabindex="-1">Care team</h1>${loadError ? nothing : loading()}` : html`
        <span class="nhsuk-caption-l">Care team</span>
        <h1 tabindex="-1" class="app-wrap">${t.name}</h1>
        ${summaryList([
          { key: "Organisation", value: orgText(t.organisation_name, t.organisation) },
          { key: "Members", value: String(t.members.length) },
          { key: "People", value: html`<span id="team-people">${t.people}</span>` },
          ...(t.capacity !== undefined ? [{ key: "Caseload capacity", value: html`<span id="team-capacity">${t.capacity === null ? "No limit set" : `${t.capacity} ${t.capacity === 1 ? "person" : "people"}`}</span>` }] : []),
        ])}
        <h2 class="nhsuk-heading-m" id="h-members">Members</h2>
        <p class="nhsuk-body">Members can see the team's people from the moment they are added, and no longer once removed.</p>
        ${t.members.length === 0 ? html`<p class="nhsuk-body">No members yet.</p>` : table("Members", ["Username", "Name", "Role", "Remove"], t.members.map((m) => [
          html`<a href=${userHref(m)}>${m.username}</a>`,
          m.display_name ?? "",
          roleTitle(m.role),
          html`<button class="nhsuk-button nhsuk-button--secondary nhsuk-button--small nhsuk-u-margin-bottom-0" type="button" ?disabled=${busy}
            @click=${() => void removeMember(m.username)}>Remove<span class="nhsuk-u-visually-hidden"> ${m.username} from the team</span></button>`,
        ]), { visuallyHiddenCaption: true })}
        <form novalidate @submit=${addMember} aria-label="Add a member">
          ${textField({ id: "member-username", label: "Add a member by username", hint: "For example e2e-gp", value: member, error: memberErrors.fields["member-username"], width: 20 })}
          <button class="nhsuk-button nhsuk-button--secondary" type="submit" ?disabled=${busy}>Add the member</button>
        </form>
        <h2 class="nhsuk-heading-m" id="h-people">People</h2>
        <p class="nhsuk-body">The team cares for <strong>${t.people === 1 ? "1 person" : `${t.people} people`}</strong>. Administrators do not see who they are: add or remove someone by their NHS number.</p>
        <form novalidate @submit=${people} aria-label="Add or remove a person">
          ${textField({ id: "nhs-number", label: "NHS number", hint: "10 digits, for example 943 476 5919", value: nhs, error: peopleErrors.fields["nhs-number"], width: 10, inputmode: "numeric" })}
          <div class="nhsuk-button-group">
            <button class="nhsuk-button nhsuk-button--secondary" type="submit" name="action" value="add" ?disabled=${busy}>Add the person</button>
            <button class="nhsuk-button nhsuk-button--secondary" type="submit" name="action" value="remove" ?disabled=${busy}>Remove the person</button>
          </div>
        </form>
        ${t.capacity !== undefined ? html`<h2 class="nhsuk-heading-m" id="h-capacity">Caseload capacity</h2>
        <p class="nhsuk-body">How many people the team's caseload holds: once full, new people join its waiting list. For example about 120 for a team of case managers, up to 180 with health and social care assistants.</p>
        <form novalidate @submit=${setCapacity} aria-labelledby="h-capacity">
          ${textField({ id: "capacity", label: "Capacity (people)", hint: "A whole number. Leave it empty for no limit.", value: capacity ?? (t.capacity === null ? "" : String(t.capacity)),
            error: capacityErrors.fields.capacity, width: 5, inputmode: "numeric" })}
          <button class="nhsuk-button nhsuk-button--secondary" type="submit" ?disabled=${busy}>Save the capacity</button>
        </form>` : nothing}`}`;
    },
  };
}
