// Case management (docs/ui.md "Caseloads"; docs/app-api.md, src/webapp/caseload_api.h):
//   /caseload                    "My caseload": my teams' load against capacity, my own people
//   /caseload/:team              a team's board: active people, the waiting list in order
//   /caseload/:team?action=take-on|transfer|discharge&episode=N
//                                a form of its own for one person on the board
//   /caseload/enrol?patient=ID   enrol a person: choose a team, a care coordinator and the source
// Every change posts the episode's `version`; someone else's change first is the server's 412,
// shown as "someone else changed this — reload". A full team is the server's 409.
import { html, nothing, type TemplateResult } from "lit-html";
import {
  api, ApiError, type CaseBoard, type CaseEntry, type Caseloads, type CaseTeam, type DischargeReason, type Episodes,
  type PersonRecord,
} from "../api";
import { app, type Page } from "../app";
import { errorMessage, errorSummary, longDate, nhsNumber, summaryList, table, tag } from "../components";

// ---- Shared pieces -----------------------------------------------------------------------------

/** A message for the next caseload page ("… enrolled"), shown once as a success banner. */
let flash: string | null = null;

function takeFlash(): string | null {
  const f = flash;
  flash = null;
  return f;
}

function successBanner(text: string | null): TemplateResult | typeof nothing {
  if (!text) return nothing;
  return html`<div class="nhsuk-notification-banner nhsuk-notification-banner--success" role="alert" aria-labelledby="caseload-done-title" id="caseload-done" tabindex="-1">
    <div class="nhsuk-notification-banner__header"><h2 class="nhsuk-notification-banner__title" id="caseload-done-title">Success</h2></div>
    <div class="nhsuk-notification-banner__content"><p class="nhsuk-notification-banner__heading">${text}</p></div>
  </div>`;
}

function loading(): TemplateResult {
  return html`<p class="nhsuk-body" role="status">Loading…</p>`;
}

const plural = (n: number, one: string, many: string) => `${n.toLocaleString("en-GB")} ${n === 1 ? one : many}`;

/** "112 of 120 people; 3 waiting" (or "12 people; 0 waiting" when no capacity is set). */
export function loadText(t: CaseTeam): string {
  const waiting = `${t.waiting.toLocaleString("en-GB")} waiting`;
  if (t.capacity === null || t.capacity === undefined) return `${plural(t.active, "person", "people")}; ${waiting}`;
  return `${t.active.toLocaleString("en-GB")} of ${plural(t.capacity, "person", "people")}; ${waiting}`;
}

/**
 * The team's load as a native <meter> (role meter: its value, minimum and maximum reach
 * assistive technology; no style attribute, so the Content Security Policy holds), named by the
 * text beside it; its colour by class (green, yellow from 90%, red when full) rather than the
 * meter's own low/high regions, which small capacities make meaningless. No meter without a
 * capacity.
 */
function loadMeter(t: CaseTeam, id: string): TemplateResult {
  const text = html`<p class="nhsuk-body nhsuk-u-margin-bottom-2" id=${`${id}-text`}><strong>${loadText(t)}</strong>${t.capacity === null ? " (no capacity set)" : nothing}</p>`;
  if (t.capacity === null || t.capacity === undefined || t.capacity <= 0) return text;
  const cap = t.capacity;
  return html`${text}
    <meter class=${t.active >= cap ? "app-meter app-meter--full" : t.active >= cap * 0.9 ? "app-meter app-meter--high" : "app-meter"}
      id=${id} min="0" max=${cap} value=${Math.min(t.active, cap)}
      aria-label=${`Caseload of ${t.name} against its capacity`} aria-describedby=${`${id}-text`}>${loadText(t)}</meter>
    ${t.full ? html`<p class="nhsuk-body app-full" id=${`${id}-full`}>${tag("Full", "red")} Full — new people join the waiting list</p>` : nothing}`;
}

function statusTag(status: string): TemplateResult {
  if (status === "active") return tag("On the caseload", "green");
  if (status === "waiting") return tag("Waiting", "yellow");
  if (status === "ended") return tag("Ended", "grey");
  return tag(status, "white");
}

/** Since when: the day the person took a caseload place, else the day they were put on the list. */
function since(e: CaseEntry): string {
  return longDate(e.started ?? e.requested ?? "");
}

/** A person's open work as tags: flags (red), overdue tasks (orange), due this week. */
function openWork(e: CaseEntry): TemplateResult {
  const w = e.work;
  if (!w || (w.flags === 0 && w.overdue_tasks === 0 && w.due_tasks === 0)) return html`None`;
  return html`<ul class="nhsuk-list app-work">
    ${w.flags ? html`<li>${tag(plural(w.flags, "flag", "flags"), "red")}</li>` : nothing}
    ${w.overdue_tasks ? html`<li>${tag(`${w.overdue_tasks} overdue`, "orange")}</li>` : nothing}
    ${w.due_tasks ? html`<li>${tag(`${w.due_tasks} due this week`, "yellow")}</li>` : nothing}
  </ul>`;
}

function personLink(e: CaseEntry): TemplateResult {
  return html`<a href=${`/people/${encodeURIComponent(e.person.id)}`}>${e.person.name || `Person ${e.person.id}`}</a>`;
}

function nhs(e: CaseEntry): TemplateResult {
  return html`<span class="app-nowrap">${nhsNumber(e.person.nhs_number ?? "")}</span>`;
}

const SOURCES: [string, string, string][] = [
  ["case-finding", "Case finding", "Found on the case-finding worklist"],
  ["referral", "Referral", "Referred by another service or professional"],
  ["gp", "Their GP practice", "Asked for by their GP or practice team"],
  ["mdt", "Multidisciplinary team meeting", "Agreed at an MDT meeting"],
  ["self", "Self-referral", "The person, or someone caring for them, asked"],
];

/**
 * The errors of one form: field errors (by input id), an API refusal without a field of this
 * form (shown with its title and detail), or someone else's change first (412).
 */
class FormErrors {
  fields: Record<string, string> = {};
  other: ApiError | null = null;
  stale = false;

  clear() { this.fields = {}; this.other = null; this.stale = false; }
  any() { return Boolean(this.other || this.stale || Object.keys(this.fields).length); }

  /** Takes a failed call's error; false for a 401 (the app has gone to the sign-in page). */
  take(e: unknown, fields: Record<string, string>): boolean {
    if (e instanceof ApiError && e.status === 401) return false;
    if (e instanceof ApiError && e.status === 412) this.stale = true;
    else if (e instanceof ApiError && e.field && fields[e.field]) this.fields[fields[e.field]] = e.detail;
    else if (e instanceof ApiError) this.other = e;
    else this.other = new ApiError(500, "Sorry, there is a problem with joinedup", "Try again later.");
    return true;
  }

  summary(reload: () => void): TemplateResult | typeof nothing {
    if (this.stale) {
      return errorSummary("Someone else has changed this", [], html`Someone else changed this person's case management after you opened this page.
        <a href=${location.pathname + location.search} id="reload" @click=${(e: Event) => { e.preventDefault(); reload(); }}>Reload the page</a> to see the latest, then try again.`);
    }
    const list = Object.entries(this.fields).map(([id, text]) => ({ href: `#${id}`, text }));
    return html`${list.length ? errorSummary("There is a problem", list) : nothing}${this.other ? errorSummary(this.other.title, [], this.other.detail) : nothing}`;
  }
}

function showErrors() {
  app.update();
  app.focus(".nhsuk-error-summary");
}

/** Reloads the current address as a fresh page (new data, focus on the h1). */
function reloadPage() {
  void app.navigate(location.pathname + location.search, true);
}

function selectField(o: { id: string; label: string; hint?: string; error?: string; body: TemplateResult | TemplateResult[] }): TemplateResult {
  const described = [o.hint ? `${o.id}-hint` : "", o.error ? `${o.id}-error` : ""].filter(Boolean).join(" ");
  return html`<div class=${o.error ? "nhsuk-form-group nhsuk-form-group--error" : "nhsuk-form-group"}>
    <label class="nhsuk-label nhsuk-label--s" for=${o.id}>${o.label}</label>
    ${o.hint ? html`<div class="nhsuk-hint" id=${`${o.id}-hint`}>${o.hint}</div>` : nothing}
    ${errorMessage(`${o.id}-error`, o.error)}
    <select class=${o.error ? "nhsuk-select nhsuk-select--error" : "nhsuk-select"} id=${o.id} name=${o.id} aria-describedby=${described || nothing}>${o.body}</select>
  </div>`;
}

/** NHS.UK radios; the first input has the group's id (the error summary links to it). */
function radios<T>(o: { id: string; legend: string; hint?: string; error?: string; items: T[]; value: (t: T) => string; label: (t: T) => string;
  itemHint?: (t: T) => string; checked: string; onChange?: (v: string) => void }): TemplateResult {
  const described = [o.hint ? `${o.id}-hint` : "", o.error ? `${o.id}-error` : ""].filter(Boolean).join(" ");
  const idOf = (t: T, i: number) => (i === 0 ? o.id : `${o.id}-${o.value(t)}`);
  return html`<div class=${o.error ? "nhsuk-form-group nhsuk-form-group--error" : "nhsuk-form-group"}>
    <fieldset class="nhsuk-fieldset" aria-describedby=${described || nothing}>
      <legend class="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">${o.legend}</legend>
      ${o.hint ? html`<div class="nhsuk-hint" id=${`${o.id}-hint`}>${o.hint}</div>` : nothing}
      ${errorMessage(`${o.id}-error`, o.error)}
      <div class="nhsuk-radios">
        ${o.items.map((t, i) => {
          const hint = o.itemHint?.(t);
          return html`<div class="nhsuk-radios__item">
            <input class="nhsuk-radios__input" id=${idOf(t, i)} name=${o.id} type="radio" value=${o.value(t)} .checked=${o.checked === o.value(t)}
              aria-describedby=${hint ? `${idOf(t, i)}-hint` : nothing} @change=${() => o.onChange?.(o.value(t))}>
            <label class="nhsuk-label nhsuk-radios__label" for=${idOf(t, i)}>${o.label(t)}</label>
            ${hint ? html`<div class="nhsuk-hint nhsuk-radios__hint" id=${`${idOf(t, i)}-hint`}>${hint}</div>` : nothing}
          </div>`;
        })}
      </div>
    </fieldset>
  </div>`;
}

function val(data: FormData, name: string): string {
  return String(data.get(name) ?? "").trim();
}

// ---- /caseload -----------------------------------------------------------------------------------

export function caseloadHomePage(): Page {
  let data: Caseloads | null = null;
  let loadError: ApiError | null = null;
  const done = takeFlash();
  return {
    title: () => "My caseload",
    hasError: () => Boolean(loadError),
    async load() {
      try {
        data = await api.get<Caseloads>("/app/api/caseloads");
      } catch (e) {
        if (e instanceof ApiError && e.status === 401) throw e;
        loadError = e instanceof ApiError ? e : new ApiError(500, "Sorry, there is a problem with joinedup", "Try again later.");
      }
    },
    view: () => {
      const worklist = app.me?.screens.includes("worklist");
      return html`
        ${loadError ? errorSummary(loadError.title, [], loadError.detail) : nothing}
        ${successBanner(done)}
        <h1 tabindex="-1">My caseload</h1>
        <p class="nhsuk-lede-text">Your care teams' caseloads against their capacity, and the people you coordinate.</p>
        ${!data && !loadError ? loading() : nothing}
        ${data ? html`
          <h2 class="nhsuk-heading-m" id="h-teams">Your teams</h2>
          ${data.teams.length === 0 ? html`<p class="nhsuk-body">You are not on a care team. An administrator adds you to one; then its caseload shows here.</p>` : html`
          <ul class="nhsuk-grid-row nhsuk-card-group" aria-labelledby="h-teams">
            ${data.teams.map((t) => html`<li class="nhsuk-grid-column-one-half nhsuk-card-group__item">
              <div class="nhsuk-card"><div class="nhsuk-card__content">
                <h3 class="nhsuk-card__heading nhsuk-heading-m"><a href=${`/caseload/${t.id}`}>${t.name}</a></h3>
                ${loadMeter(t, `load-${t.id}`)}
              </div></div>
            </li>`)}
          </ul>`}
          <p class="nhsuk-body"><a href="/tasks">My tasks</a></p>
          <h2 class="nhsuk-heading-m" id="h-mine">People you coordinate</h2>
          ${data.mine.length === 0
            ? html`<p class="nhsuk-body">No one is on your caseload yet.${worklist ? html` Enrol people from <a href="/worklist">case finding</a> or from their record.` : " Enrol people from their record."}</p>`
            : table("People you coordinate", ["Name", "NHS number", "Team", "Since", "Status", "Open work"], data.mine.map((e) => [
              personLink(e), nhs(e), html`<a href=${`/caseload/${e.team.id}`}>${e.team.name}</a>`,
              html`<span class="app-nowrap">${since(e)}</span>`, statusTag(e.status), openWork(e),
            ]), { visuallyHiddenCaption: true })}` : nothing}`;
    },
  };
}

// ---- /caseload/:team -----------------------------------------------------------------------------

type Action = "take-on" | "transfer" | "discharge";

export function caseloadBoardPage(teamId: string, query: URLSearchParams): Page {
  const actionParam = query.get("action") ?? "";
  const action: Action | null = actionParam === "take-on" || actionParam === "transfer" || actionParam === "discharge" ? actionParam : null;
  const episodeId = Number(query.get("episode") ?? "");
  const boardHref = `/caseload/${encodeURIComponent(teamId)}`;
  let board: CaseBoard | null = null;
  let missing = false;
  let loadError: ApiError | null = null;
  /** For a transfer: my other teams' boards (their coordinators). */
  let others: CaseBoard[] = [];
  const done = action ? null : takeFlash();
  let busy = false;
  const errors = new FormErrors();
  const v = { coordinator: "", to: "", reason: "", note: "" };

  const entry = (): CaseEntry | null => {
    if (!board || !action || !Number.isFinite(episodeId)) return null;
    return [...board.people.active, ...board.people.waiting].find((e) => e.id === episodeId) ?? null;
  };

  async function post(path: string, body: Record<string, unknown>, fields: Record<string, string>, message: (r: CaseEntry) => string) {
    busy = true;
    app.update();
    try {
      const r = await api.request<CaseEntry>("POST", path, { body });
      busy = false;
      flash = message(r);
      await app.navigate(boardHref);
    } catch (err) {
      busy = false;
      if (errors.take(err, fields)) showErrors();
    }
  }

  function takeOn(e: Event, ep: CaseEntry) {
    e.preventDefault();
    if (busy) return;
    v.coordinator = val(new FormData(e.target as HTMLFormElement), "coordinator");
    errors.clear();
    if (!v.coordinator) { errors.fields.coordinator = "Choose the care coordinator who will take them on"; return showErrors(); }
    void post(`/app/api/episodes/${ep.id}/start`, { version: ep.version, coordinator: Number(v.coordinator) }, { coordinator: "coordinator" },
      (r) => `${r.person.name} taken on: on ${r.coordinator?.name ?? "the team"}'s caseload`);
  }

  function transfer(e: Event, ep: CaseEntry) {
    e.preventDefault();
    if (busy) return;
    v.to = val(new FormData(e.target as HTMLFormElement), "transfer-to");
    errors.clear();
    if (!v.to) { errors.fields["transfer-to"] = "Choose who or which team to transfer them to"; return showErrors(); }
    const [team, coordinator] = v.to.split(":").map(Number);
    const body: Record<string, unknown> = { version: ep.version };
    if (team !== ep.team.id) body.team = team;
    if (coordinator) body.coordinator = coordinator;
    void post(`/app/api/episodes/${ep.id}/transfer`, body, { coordinator: "transfer-to", team: "transfer-to" }, (r) =>
      r.team.id !== ep.team.id
        ? `${r.person.name} transferred to ${r.team.name}${r.status === "waiting" ? " (its waiting list)" : r.coordinator ? `: ${r.coordinator.name}'s caseload` : ""}`
        : `${r.person.name} transferred to ${r.coordinator?.name ?? "another coordinator"}`);
  }

  function discharge(e: Event, ep: CaseEntry) {
    e.preventDefault();
    if (busy) return;
    const data = new FormData(e.target as HTMLFormElement);
    v.reason = val(data, "reason");
    v.note = val(data, "note");
    errors.clear();
    if (!v.reason) errors.fields.reason = "Choose why they are leaving case management";
    if (v.reason === "other" && !v.note) errors.fields.note = "Say why they are leaving, in a note";
    if (errors.any()) return showErrors();
    const reason = board?.discharge_reasons.find((r) => r.code === v.reason);
    void post(`/app/api/episodes/${ep.id}/discharge`, { version: ep.version, reason: v.reason, ...(v.note ? { note: v.note } : {}) },
      { reason: "reason", note: "note" }, (r) => `${r.person.name} discharged: ${r.end_reason?.display ?? reason?.display ?? v.reason}`);
  }

  function boardView(b: CaseBoard): TemplateResult {
    const actions = (e: CaseEntry, which: Action[]) => html`<ul class="nhsuk-list app-actions">
      ${which.map((a) => html`<li><a href=${`${boardHref}?action=${a}&episode=${e.id}`}>${a === "take-on" ? "Take on" : a === "transfer" ? "Transfer" : "Discharge"}<span class="nhsuk-u-visually-hidden"> ${e.person.name}</span></a></li>`)}
    </ul>`;
    return html`
      <span class="nhsuk-caption-l">Caseload</span>
      <h1 tabindex="-1" class="app-wrap">${b.name}</h1>
      ${loadMeter(b, "load")}
      <h2 class="nhsuk-heading-m" id="h-active">On the caseload</h2>
      ${b.people.active.length === 0 ? html`<p class="nhsuk-body">No one is on the team's caseload.</p>`
        : table("On the caseload", ["Name", "NHS number", "Care coordinator", "Since", "Open work", "Actions"], b.people.active.map((e) => [
          personLink(e), nhs(e), e.coordinator?.name ?? "Not named", html`<span class="app-nowrap">${since(e)}</span>`, openWork(e),
          actions(e, ["transfer", "discharge"]),
        ]), { visuallyHiddenCaption: true })}
      <p class="nhsuk-body"><a href=${`/tasks?team=${b.id}`}>The team's tasks and flags</a></p>
      <h2 class="nhsuk-heading-m" id="h-waiting">Waiting list</h2>
      ${b.people.waiting.length === 0 ? html`<p class="nhsuk-body">No one is waiting.</p>` : html`
        <p class="nhsuk-body">In the order they were put on the list: the first is taken on first.</p>
        ${table("Waiting list", ["Position", "Name", "NHS number", "Waiting since", "Care coordinator", "Actions"], b.people.waiting.map((e, i) => [
          String(i + 1), personLink(e), nhs(e), html`<span class="app-nowrap">${longDate(e.requested ?? "")}</span>`,
          e.coordinator?.name ?? "Not named yet", actions(e, ["take-on", "discharge"]),
        ]), { visuallyHiddenCaption: true })}`}
      <h2 class="nhsuk-heading-m" id="h-coordinators">Care coordinators</h2>
      ${b.coordinators.length === 0 ? html`<p class="nhsuk-body">The team has no member who may hold a caseload.</p>`
        : html`<ul class="nhsuk-list nhsuk-list--bullet">${b.coordinators.map((c) => html`<li>${c.name}</li>`)}</ul>`}
      ${app.me?.screens.includes("worklist") ? html`<p class="nhsuk-body">Enrol someone from <a href="/worklist?not_on_caseload=true">case finding</a> or from their record.</p>` : nothing}`;
  }

  function personSummary(ep: CaseEntry): TemplateResult {
    return summaryList([
      { key: "Name", value: personLink(ep) },
      { key: "NHS number", value: nhs(ep) },
      { key: "Status", value: statusTag(ep.status) },
      { key: "Care coordinator", value: ep.coordinator?.name ?? "Not named yet" },
      { key: ep.status === "active" ? "On the caseload since" : "Waiting since", value: since(ep) },
    ]);
  }

  function formView(b: CaseBoard, ep: CaseEntry): TemplateResult {
    const cancel = html`<p class="nhsuk-body"><a href=${boardHref}>Cancel and go back to the board</a></p>`;
    if (action === "take-on") {
      return html`
        <span class="nhsuk-caption-l">${b.name}</span>
        <h1 tabindex="-1">Take on from the waiting list</h1>
        ${personSummary(ep)}
        ${b.full ? html`<div class="nhsuk-inset-text"><span class="nhsuk-u-visually-hidden">Information: </span><p>The caseload is full (${loadText(b)}). Discharge or transfer someone first, or ask an administrator to raise the team's capacity.</p></div>` : nothing}
        <form novalidate @submit=${(e: Event) => takeOn(e, ep)} aria-label="Take on from the waiting list">
          ${selectField({ id: "coordinator", label: "Care coordinator", hint: "The member of the team who will hold their care plan", error: errors.fields.coordinator, body: html`
            <option value="" ?selected=${!v.coordinator && !ep.coordinator}>Choose a care coordinator</option>
            ${b.coordinators.map((c) => html`<option value=${String(c.id)} ?selected=${(v.coordinator || String(ep.coordinator?.id ?? "")) === String(c.id)}>${c.name}</option>`)}` })}
          <button class="nhsuk-button" type="submit" ?disabled=${busy}>Take on</button>
        </form>${cancel}`;
    }
    if (action === "transfer") {
      const current = `${b.id}:${ep.coordinator?.id ?? 0}`;
      return html`
        <span class="nhsuk-caption-l">${b.name}</span>
        <h1 tabindex="-1">Transfer to another coordinator or team</h1>
        ${personSummary(ep)}
        <form novalidate @submit=${(e: Event) => transfer(e, ep)} aria-label="Transfer">
          ${selectField({ id: "transfer-to", label: "Transfer to", error: errors.fields["transfer-to"],
            hint: "Another team takes them onto its caseload if it has room and you name a coordinator, otherwise onto its waiting list. This team can still see their record for a short time, to finish its notes.",
            body: html`
            <option value="" ?selected=${!v.to}>Choose a coordinator or team</option>
            <optgroup label=${`${b.name} (this team)`}>
              ${b.coordinators.filter((c) => `${b.id}:${c.id}` !== current).map((c) => html`<option value=${`${b.id}:${c.id}`} ?selected=${v.to === `${b.id}:${c.id}`}>${c.name}</option>`)}
            </optgroup>
            ${others.map((o) => html`<optgroup label=${`${o.name} (${loadText(o)}${o.full ? ", full" : ""})`}>
              ${o.coordinators.map((c) => html`<option value=${`${o.id}:${c.id}`} ?selected=${v.to === `${o.id}:${c.id}`}>${c.name}, ${o.name}</option>`)}
              <option value=${`${o.id}:0`} ?selected=${v.to === `${o.id}:0`}>${o.name}'s waiting list (no coordinator yet)</option>
            </optgroup>`)}` })}
          <button class="nhsuk-button" type="submit" ?disabled=${busy}>Transfer</button>
        </form>${cancel}`;
    }
    const reasons: DischargeReason[] = b.discharge_reasons;
    return html`
      <span class="nhsuk-caption-l">${b.name}</span>
      <h1 tabindex="-1">${ep.status === "waiting" ? "Take off the waiting list" : "Discharge from case management"}</h1>
      ${personSummary(ep)}
      <form novalidate @submit=${(e: Event) => discharge(e, ep)} aria-label="Discharge">
        ${radios({ id: "reason", legend: "Why are they leaving case management?", error: errors.fields.reason, items: reasons,
          value: (r) => r.code, label: (r) => r.display, checked: v.reason })}
        <div class=${errors.fields.note ? "nhsuk-form-group nhsuk-form-group--error" : "nhsuk-form-group"}>
          <label class="nhsuk-label nhsuk-label--s" for="note">Note</label>
          <div class="nhsuk-hint" id="note-hint">Needed when the reason is “Other”. For example, what was agreed with them and who else is involved.</div>
          ${errorMessage("note-error", errors.fields.note)}
          <textarea class=${errors.fields.note ? "nhsuk-textarea nhsuk-textarea--error" : "nhsuk-textarea"} id="note" name="note" rows="3"
            aria-describedby=${errors.fields.note ? "note-hint note-error" : "note-hint"} .value=${v.note}></textarea>
        </div>
        <button class="nhsuk-button nhsuk-button--warning" type="submit" ?disabled=${busy}>${ep.status === "waiting" ? "Take off the waiting list" : "Discharge"}</button>
      </form>${cancel}`;
  }

  const title = () => {
    if (missing) return "Caseload not found";
    if (!action) return board ? `Caseload of ${board.name}` : "Caseload";
    return action === "take-on" ? "Take on from the waiting list" : action === "transfer" ? "Transfer" : "Discharge from case management";
  };

  return {
    title,
    hasError: () => Boolean(loadError || errors.any()),
    async load() {
      try {
        board = await api.get<CaseBoard>(`/app/api/caseloads/${encodeURIComponent(teamId)}`);
        if (action === "transfer") {
          const mine = await api.get<Caseloads>("/app/api/caseloads");
          const rest = mine.teams.filter((t) => t.id !== board!.id);
          others = await Promise.all(rest.map((t) => api.get<CaseBoard>(`/app/api/caseloads/${t.id}`)));
        }
      } catch (e) {
        if (e instanceof ApiError && e.status === 401) throw e;
        if (e instanceof ApiError && e.status === 404) missing = true;
        else loadError = e instanceof ApiError ? e : new ApiError(500, "Sorry, there is a problem with joinedup", "Try again later.");
      }
    },
    view: () => {
      const ep = entry();
      return html`
        ${loadError ? errorSummary(loadError.title, [], loadError.detail) : nothing}
        ${errors.summary(reloadPage)}
        ${successBanner(done)}
        <a class="nhsuk-back-link" href=${action ? boardHref : "/caseload"}>${action ? "Back to the board" : "My caseload"}</a>
        ${missing ? html`<h1 tabindex="-1">Caseload not found</h1>
            <p class="nhsuk-body">There is no such team, or you are not a member of it.</p>
            <p class="nhsuk-body"><a href="/caseload">My caseload</a></p>`
          : !board ? html`<h1 tabindex="-1">Caseload</h1>${loadError ? nothing : loading()}`
          : action && !ep ? html`<h1 tabindex="-1">${title()}</h1>
            <p class="nhsuk-body">This person is no longer on the board: someone may have changed their case management since.</p>
            <p class="nhsuk-body"><a href=${boardHref}>Go back to the board</a></p>`
          : action && ep ? formView(board, ep)
          : boardView(board)}`;
    },
  };
}

// ---- /caseload/enrol -----------------------------------------------------------------------------

export function enrolPage(query: URLSearchParams): Page {
  const patient = query.get("patient") ?? "";
  const from = query.get("from") ?? "";
  let person: PersonRecord["person"] | null = null;
  let open: CaseEntry | null = null;
  let boards: CaseBoard[] = [];
  let missing = false;
  let loadError: ApiError | null = null;
  let ready = false;
  let busy = false;
  const errors = new FormErrors();
  const v = {
    team: query.get("team") ?? "",
    coordinator: "",
    source: SOURCES.some(([s]) => s === query.get("source")) ? query.get("source")! : "",
  };
  const back = from === "worklist" ? { href: "/worklist?not_on_caseload=true", text: "Case finding" } : { href: `/people/${encodeURIComponent(patient)}`, text: "Back to their record" };

  function chooseTeam(id: string) {
    if (v.team === id) return;
    v.team = id;
    v.coordinator = "";
    app.update();
  }

  async function submit(e: Event) {
    e.preventDefault();
    if (busy) return;
    const data = new FormData(e.target as HTMLFormElement);
    v.team = val(data, "team");
    v.coordinator = val(data, "coordinator");
    v.source = val(data, "source");
    errors.clear();
    if (!v.team) errors.fields.team = "Choose the care team";
    if (!v.coordinator) errors.fields.coordinator = "Choose a care coordinator, or the team's waiting list";
    if (!v.source) errors.fields.source = "Choose how they came to case management";
    if (errors.any()) return showErrors();
    const body: Record<string, unknown> = { patient, source: v.source };
    if (v.coordinator !== "none") body.coordinator = Number(v.coordinator);
    busy = true;
    app.update();
    try {
      const r = await api.request<CaseEntry>("POST", `/app/api/caseloads/${encodeURIComponent(v.team)}/enrol`, { body });
      busy = false;
      flash = r.status === "active"
        ? `${r.person.name} enrolled: on ${r.coordinator?.name ?? "the team"}'s caseload in ${r.team.name}`
        : `${r.person.name} enrolled: on the waiting list of ${r.team.name}`;
      await app.navigate(`/caseload/${r.team.id}`);
    } catch (err) {
      busy = false;
      if (errors.take(err, { team: "team", coordinator: "coordinator", source: "source" })) showErrors();
    }
  }

  function formView(): TemplateResult {
    const team = boards.find((b) => String(b.id) === v.team) ?? null;
    const teamHint = (b: CaseBoard) => `${loadText(b)}${b.full ? ". Full — they will join the waiting list" : ""}`;
    return html`
      <form novalidate @submit=${submit} aria-label="Enrol in case management">
        ${radios({ id: "team", legend: "Care team", error: errors.fields.team, items: boards, value: (b) => String(b.id), label: (b) => b.name,
          itemHint: teamHint, checked: v.team, onChange: chooseTeam })}
        ${selectField({ id: "coordinator", label: "Care coordinator", error: errors.fields.coordinator,
          hint: team ? (team.full ? "The team is full: they join its waiting list whoever you name." : "The member of the team who will hold their care plan. Without one, they join the team's waiting list.") : "Choose the care team first.",
          body: html`
            <option value="" ?selected=${!v.coordinator}>Choose a care coordinator</option>
            ${(team?.coordinators ?? []).map((c) => html`<option value=${String(c.id)} ?selected=${v.coordinator === String(c.id)}>${c.name}</option>`)}
            ${team ? html`<option value="none" ?selected=${v.coordinator === "none"}>No one yet: the team's waiting list</option>` : nothing}` })}
        ${radios({ id: "source", legend: "How did they come to case management?", error: errors.fields.source, items: SOURCES,
          value: (s) => s[0], label: (s) => s[1], itemHint: (s) => s[2], checked: v.source })}
        <button class="nhsuk-button" type="submit" ?disabled=${busy}>Enrol</button>
      </form>`;
  }

  return {
    title: () => (missing ? "Person not found" : "Enrol in case management"),
    hasError: () => Boolean(loadError || errors.any()),
    async load() {
      if (!patient) { missing = true; ready = true; return; }
      try {
        const [rec, eps, mine] = await Promise.all([
          api.get<PersonRecord>(`/app/api/people/${encodeURIComponent(patient)}`),
          api.get<Episodes>(`/app/api/episodes?patient=${encodeURIComponent(patient)}`),
          api.get<Caseloads>("/app/api/caseloads"),
        ]);
        person = rec.person;
        open = eps.episodes.find((e) => e.status === "active" || e.status === "waiting") ?? null;
        boards = await Promise.all(mine.teams.map((t) => api.get<CaseBoard>(`/app/api/caseloads/${t.id}`)));
        if (boards.length === 1 && !v.team) v.team = String(boards[0].id);
      } catch (e) {
        if (e instanceof ApiError && e.status === 401) throw e;
        if (e instanceof ApiError && e.status === 404) missing = true;
        else loadError = e instanceof ApiError ? e : new ApiError(500, "Sorry, there is a problem with joinedup", "Try again later.");
      }
      ready = true;
    },
    view: () => html`
      ${loadError ? errorSummary(loadError.title, [], loadError.detail) : nothing}
      ${errors.summary(reloadPage)}
      <a class="nhsuk-back-link" href=${back.href}>${back.text}</a>
      ${missing ? html`<h1 tabindex="-1">Person not found</h1>
          <p class="nhsuk-body">No record was found that you may see. The person may not exist, or you do not have a legitimate relationship with them.</p>
          <p class="nhsuk-body"><a href="/caseload">My caseload</a></p>`
        : html`<h1 tabindex="-1">Enrol in case management</h1>
          ${!ready ? loading() : !person ? nothing : html`
            ${summaryList([
              { key: "Name", value: html`<a href=${`/people/${encodeURIComponent(person.id)}`}>${person.name}</a>` },
              { key: "NHS number", value: html`<span class="app-nowrap">${nhsNumber(person.nhs_number)}</span>` },
              { key: "Date of birth", value: longDate(person.birth_date) },
            ])}
            ${open ? html`<p class="nhsuk-body">They are already ${open.status === "waiting" ? "on the waiting list of" : "on the caseload of"}
                <a href=${`/caseload/${open.team.id}`}>${open.team.name}</a>${open.coordinator ? ` (care coordinator ${open.coordinator.name})` : ""}, since ${since(open)}.
                Transfer them from the team's board instead.</p>`
              : boards.length === 0 ? html`<p class="nhsuk-body">You are not on a care team that holds caseloads, so you cannot choose one here. Ask the team to enrol them, or an administrator to add you to the team.</p>`
              : html`<p class="nhsuk-body">Their care team's members can see their record from the moment they are enrolled. They join the team's caseload with the care coordinator you name, or its waiting list when the team is full.</p>
                ${formView()}`}`}`}`,
  };
}

// ---- The person page's section ---------------------------------------------------------------------

/** The "Case management" section of a person's page: their episodes, and Enrol when none is open. */
export function caseManagementSection(patientId: string, episodes: CaseEntry[]): TemplateResult {
  const open = episodes.find((e) => e.status === "active" || e.status === "waiting");
  const sorted = [...episodes].sort((a, b) => (b.requested ?? "").localeCompare(a.requested ?? ""));
  return html`<section aria-labelledby="h-case-management">
    <h2 class="nhsuk-heading-m" id="h-case-management">Case management</h2>
    ${sorted.length === 0 ? html`<p class="nhsuk-body">Not enrolled in case management.</p>`
      : table("Case management episodes", ["Status", "Team", "Care coordinator", "From", "Ended"], sorted.map((e) => [
        statusTag(e.status),
        html`<a href=${`/caseload/${e.team.id}`}>${e.team.name}</a>`,
        e.coordinator?.name ?? "Not named yet",
        html`<span class="app-nowrap">${longDate(e.started ?? e.requested ?? "")}</span>`,
        e.ended ? html`<span class="app-nowrap">${longDate(e.ended)}</span>${e.end_reason ? html`<br><span class="nhsuk-body-s">${e.end_reason.display}${e.end_note ? ` – ${e.end_note}` : ""}</span>` : nothing}` : "",
      ]), { visuallyHiddenCaption: true })}
    ${open ? nothing : html`<a class="nhsuk-button nhsuk-button--secondary" href=${`/caseload/enrol?patient=${encodeURIComponent(patientId)}`} role="button" draggable="false" id="enrol">Enrol in case management</a>`}
  </section>`;
}
