// The person-centred care and support plan (docs/app-api.md "Care plans"), shaped as the PRSB
// Personalised Care and Support Plan standard: the staff's plan page and editor
// (/people/:id/care-plan, /people/:id/care-plan/edit), the plan's summary on the person's page,
// and the person's own screens — "My plan" (/my-plan, where they write About me in their own
// words), "My goals" (/my-goals: their words, how it is going, or no thank you) and "Who to call"
// (/who-to-call). Every part says who wrote it; what the person wrote is marked as theirs. The
// plan and "Who to call" print cleanly (styles.scss @media print) so a copy can be kept at home.
import { html, nothing, type TemplateResult } from "lit-html";
import { api, ApiError } from "../api";
import { app, type Page } from "../app";

/** An NHS.UK success banner, focused after a change (role="status" means "loading" in this app). */
function successBanner(id: string, heading: string, body: string | TemplateResult): TemplateResult {
  return html`<div class="nhsuk-notification-banner nhsuk-notification-banner--success app-no-print" role="alert" aria-labelledby=${`${id}-title`} id=${id} tabindex="-1">
    <div class="nhsuk-notification-banner__header"><h2 class="nhsuk-notification-banner__title" id=${`${id}-title`}>Success</h2></div>
    <div class="nhsuk-notification-banner__content"><p class="nhsuk-notification-banner__heading">${heading}</p>${body ? html`<p class="nhsuk-body">${body}</p>` : nothing}</div>
  </div>`;
}
import {
  apiErrorSummary, dateInput, errorMessage, errorSummary, insetText, isoDate, longDate, splitDate, summaryList, table, tag, warningCallout,
} from "../components";

// ---- The API's shapes ------------------------------------------------------------------------

export interface Writer { name: string; by_person: boolean; time: string }
export interface SectionDef { code: string; prsb: string; heading: string; plain: string; person_writes: boolean; contact: boolean }
export interface PlanPart { text: string; written_by: Writer | null; name?: string; telephone?: string }
export interface PlanActivity { description: string; who: string; when: string; status: string; declined: boolean; task: string; written_by: Writer | null }
export interface CarePlan {
  id: string; version: number; updated: string | null; status: string; title: string; review_date: string;
  written_by: Writer | null; sections: Record<string, PlanPart>; other_notes: PlanPart[]; activities: PlanActivity[];
}
export interface GoalNote { kind: string; text: string; written_by: Writer | null }
export interface PlanGoal {
  id: string; version: number; text: string; status: string; status_reason: string; status_date: string; target_date: string;
  in_persons_words: boolean; agreed_by: (Writer | null)[]; text_written_by: Writer | null; written_by: Writer | null; notes: GoalNote[];
}
export interface PlanTask { id: string; description: string; status: string; business_status: string; due: string; owner: string }
export interface PlanFlag { id: string; text: string; category: string; since: string }
export interface PlanView {
  person: { id: string; name: string };
  viewer: "person" | "staff";
  may: { create_plan: boolean; change_plan: boolean; create_goal: boolean; change_goal: boolean };
  sections_available: SectionDef[];
  plan: CarePlan | null;
  goals: PlanGoal[];
  tasks: PlanTask[];
  flags: PlanFlag[];
}
interface History { versions: { version: number; updated: string | null; written_by: Writer | null }[] }

const planUrl = (id: string) => `/app/api/people/${encodeURIComponent(id)}/care-plan`;

// The PRSB PCSP sections in the order the plan is read, each with the codes it holds
// (records/care_plan.cc kSections); goals and "What we will do" come between.
const GROUPS: { heading: string; plain: string; codes: string[] }[] = [
  { heading: "About me", plain: "About me", codes: ["about-me-communication", "about-me-people", "about-me-support"] },
  { heading: "What matters to me", plain: "What matters to me", codes: ["what-matters"] },
  { heading: "Contingency plan", plain: "If I become unwell", codes: ["contingency", "contact-in-hours", "contact-out-of-hours"] },
  { heading: "Advance care planning", plain: "Planning ahead", codes: ["acp-preferences", "acp-statement", "acp-respect-form"] },
  { heading: "Self-care and community services", plain: "Looking after myself", codes: ["self-care", "community-services"] },
];

const ACTIVITY_STATUSES: [string, string][] = [
  ["not-started", "Not started"], ["scheduled", "Arranged"], ["in-progress", "Happening now"], ["on-hold", "On hold"],
  ["completed", "Done"], ["cancelled", "Cancelled"], ["stopped", "Stopped"],
];

const GOAL_STATUS: Record<string, [string, "blue" | "green" | "grey" | "yellow" | "white" | "aqua-green"]> = {
  proposed: ["Suggested", "blue"], planned: ["Planned", "blue"], accepted: ["Agreed", "aqua-green"], active: ["Working on it", "green"],
  "on-hold": ["On hold", "yellow"], completed: ["Done", "green"], cancelled: ["Stopped", "grey"], rejected: ["Declined", "grey"],
  "entered-in-error": ["Entered in error", "grey"],
};

/** Goals still to be done can be declined (records/care_plan.cc kRefusableGoalStatuses). */
const REFUSABLE = new Set(["proposed", "planned", "accepted", "active", "on-hold"]);

function defOf(view: PlanView, code: string): SectionDef | undefined {
  return view.sections_available.find((s) => s.code === code);
}

/** "Written by Mrs A, in their own words, 21 September 2026", as staff or the person reads it. */
function writtenBy(w: Writer | null | undefined, viewer: "person" | "staff", id?: string): TemplateResult | typeof nothing {
  if (!w) return nothing;
  const when = w.time ? `, ${longDate(w.time)}` : "";
  const who = viewer === "person"
    ? (w.by_person ? "Written by you" : `Written by ${w.name || "your care team"}`)
    : (w.by_person ? html`Written by ${w.name || "the person"}, ${tag("in their own words", "aqua-green")}` : `Written by ${w.name}`);
  return html`<p class="nhsuk-body-s app-provenance" id=${id ?? nothing}>${who}${when}</p>`;
}

function goalTag(status: string): TemplateResult {
  const [text, colour] = GOAL_STATUS[status] ?? [status, "white"];
  return tag(text, colour);
}

function text(t: string): TemplateResult {
  return html`<p class="nhsuk-body app-pre-wrap">${t}</p>`;
}

function partView(view: PlanView, code: string, viewer: "person" | "staff"): TemplateResult | typeof nothing {
  const def = defOf(view, code);
  const part = view.plan?.sections[code];
  const heading = viewer === "person" ? def?.plain ?? code : def?.heading ?? code;
  if (def?.contact) {
    return html`<h3 class="nhsuk-heading-s">${heading}</h3>
      ${part ? html`${summaryList([{ key: "Name", value: part.name ?? "" }, { key: "Telephone", value: html`<a href=${`tel:${(part.telephone ?? "").replace(/[^0-9+]/g, "")}`}>${part.telephone}</a>` }])}
        ${writtenBy(part.written_by, viewer)}` : html`<p class="nhsuk-body">Not written yet.</p>`}`;
  }
  return html`<h3 class="nhsuk-heading-s">${heading}</h3>
    ${part ? html`${text(part.text)}${writtenBy(part.written_by, viewer)}` : html`<p class="nhsuk-body">Not written yet.</p>`}`;
}

function goalsView(view: PlanView, viewer: "person" | "staff"): TemplateResult {
  if (!view.goals.length) return html`<p class="nhsuk-body">No goals yet.</p>`;
  return html`<ul class="nhsuk-list app-goal-list">${view.goals.map((g) => html`<li class="app-goal" id=${`goal-${g.id}`}>
    <h3 class="nhsuk-heading-s">${g.in_persons_words ? html`“${g.text}”` : g.text}</h3>
    <p class="nhsuk-body">${goalTag(g.status)}${g.target_date ? html` <span class="app-nowrap">By ${longDate(g.target_date)}</span>` : nothing}</p>
    ${writtenBy(g.text_written_by, viewer)}
    ${g.agreed_by.length ? html`<p class="nhsuk-body-s">Agreed by ${g.agreed_by.filter(Boolean).map((w) => (w!.by_person ? (viewer === "person" ? "you" : w!.name || view.person.name) : w!.name)).join(" and ")}</p>` : nothing}
    ${g.status === "rejected" && g.status_reason ? html`<div class="nhsuk-inset-text"><span class="nhsuk-u-visually-hidden">Information: </span>
      <p>${viewer === "person" ? "You said" : "They said"}: “${g.status_reason}”</p></div>` : nothing}
    ${g.notes.filter((n) => n.kind !== "refusal").map((n) => html`<div class="app-goal-note">${text(n.text)}${writtenBy(n.written_by, viewer)}</div>`)}
  </li>`)}</ul>`;
}

function activitiesView(view: PlanView): TemplateResult {
  const list = view.plan?.activities ?? [];
  if (!list.length) return html`<p class="nhsuk-body">Nothing arranged yet.</p>`;
  return table("What we will do", ["What", "Who", "When", "Status"], list.map((a) => [
    a.description, a.who, a.when,
    ACTIVITY_STATUSES.find(([c]) => c === a.status)?.[1] ?? a.status,
  ]), { visuallyHiddenCaption: true });
}

/** The whole plan, section by section (the staff's plan page and "My plan"). */
function planBody(view: PlanView, viewer: "person" | "staff"): TemplateResult {
  const plan = view.plan!;
  const group = (i: number) => {
    const g = GROUPS[i];
    const id = `h-plan-${i}`;
    return html`<section aria-labelledby=${id} class="app-plan-section">
      <h2 class="nhsuk-heading-m" id=${id}>${viewer === "person" ? g.plain : g.heading}</h2>
      ${g.codes.map((c) => partView(view, c, viewer))}
    </section>`;
  };
  return html`
    ${group(0)}${group(1)}
    <section aria-labelledby="h-plan-goals" class="app-plan-section">
      <h2 class="nhsuk-heading-m" id="h-plan-goals">${viewer === "person" ? "My goals" : "Goals, in the person's own words"}</h2>
      ${goalsView(view, viewer)}
    </section>
    <section aria-labelledby="h-plan-do" class="app-plan-section">
      <h2 class="nhsuk-heading-m" id="h-plan-do">What we will do</h2>
      ${activitiesView(view)}
    </section>
    ${group(2)}${group(3)}${group(4)}
    <section aria-labelledby="h-plan-review" class="app-plan-section">
      <h2 class="nhsuk-heading-m" id="h-plan-review">${viewer === "person" ? "When we will look at the plan again" : "Review"}</h2>
      <p class="nhsuk-body">${plan.review_date ? `By ${longDate(plan.review_date)}` : "No review date set."}</p>
      ${plan.sections.review ? text(plan.sections.review.text) : nothing}
    </section>
    ${plan.other_notes.length ? html`<section aria-labelledby="h-plan-other" class="app-plan-section">
      <h2 class="nhsuk-heading-m" id="h-plan-other">Other notes</h2>
      ${plan.other_notes.map((n) => html`${text(n.text)}${writtenBy(n.written_by, viewer)}`)}
    </section>` : nothing}
    <p class="nhsuk-body-s">Version ${plan.version}${plan.updated ? `, last changed ${longDate(plan.updated)}` : ""}${plan.written_by ? ` by ${plan.written_by.by_person && viewer === "person" ? "you" : plan.written_by.name}` : ""}.</p>`;
}

function printButton(): TemplateResult {
  return html`<button class="nhsuk-button nhsuk-button--secondary app-no-print" type="button" @click=${() => window.print()}>Print this plan</button>`;
}

function loadingView(title: string): TemplateResult {
  return html`<h1 tabindex="-1">${title}</h1><p class="nhsuk-body" role="status">Loading…</p>`;
}

/** A 404 from the plan: the person does not exist or the caller may not see them. */
function missingView(): TemplateResult {
  return html`<h1 tabindex="-1">Page not found</h1>
    <p class="nhsuk-body">No record was found that you may see. The person may not exist, or you do not have a legitimate relationship with them.</p>`;
}

// ---- The person's page: the plan's summary -----------------------------------------------------

/** On /people/:id: the plan at a glance, goals, open tasks and active flags. */
export function carePlanSummarySection(view: PlanView): TemplateResult {
  const id = view.person.id;
  const plan = view.plan;
  const href = `/people/${encodeURIComponent(id)}/care-plan`;
  return html`<section aria-labelledby="h-care-plan">
    <h2 class="nhsuk-heading-m" id="h-care-plan">Care and support plan</h2>
    ${plan ? summaryList([
      { key: "Review", value: plan.review_date ? `By ${longDate(plan.review_date)}` : "No review date set" },
      { key: "Last changed", value: `${plan.updated ? longDate(plan.updated) : ""}${plan.written_by ? ` by ${plan.written_by.name}${plan.written_by.by_person ? " (the person)" : ""}` : ""}` },
      { key: "What matters to them", value: plan.sections["what-matters"]?.text ?? "Not written yet" },
    ]) : html`<p class="nhsuk-body">No care plan yet.</p>`}
    <h3 class="nhsuk-heading-s">Goals</h3>
    ${view.goals.length ? html`<ul class="nhsuk-list nhsuk-list--bullet">${view.goals.map((g) => html`<li>${g.in_persons_words ? `“${g.text}”` : g.text} ${goalTag(g.status)}</li>`)}</ul>`
      : html`<p class="nhsuk-body">No goals yet.</p>`}
    <h3 class="nhsuk-heading-s">Open tasks</h3>
    ${view.tasks.length ? table("Open tasks", ["Task", "Status", "Due", "Owner"], view.tasks.map((t) => [
      t.description, t.business_status || t.status, html`<span class="app-nowrap">${longDate(t.due)}</span>`, t.owner,
    ]), { visuallyHiddenCaption: true }) : html`<p class="nhsuk-body">No open tasks.</p>`}
    <h3 class="nhsuk-heading-s">Active flags</h3>
    ${view.flags.length ? html`<ul class="nhsuk-list">${view.flags.map((f) => html`<li>${tag(f.category || "Flag", "red")} ${f.text}${f.since ? ` since ${longDate(f.since)}` : ""}</li>`)}</ul>`
      : html`<p class="nhsuk-body">No active flags.</p>`}
    <div class="nhsuk-button-group">
      ${plan ? html`<a class="nhsuk-button nhsuk-button--secondary" href=${href} role="button" draggable="false" id="open-plan">Open the care plan</a>` : nothing}
      ${(plan ? view.may.change_plan : view.may.create_plan) ? html`<a class="nhsuk-button nhsuk-button--secondary" href=${`${href}/edit`} role="button" draggable="false" id="edit-plan">${plan ? "Change the care plan" : "Start a care plan"}</a>` : nothing}
    </div>
  </section>`;
}

// ---- /people/:id/care-plan and /my-plan --------------------------------------------------------

export function carePlanPage(id: string, viewer: "person" | "staff"): Page {
  let view: PlanView | null = null;
  let history: History | null = null;
  let missing = false;
  let error: unknown = null;
  // The person's own "About me" form (My plan).
  let editing = false;
  let busy = false;
  let saved = false;
  let formError: unknown = null;
  let fieldErrors: Record<string, string> = {};
  const typed: Record<string, string> = {};
  const title = viewer === "person" ? "My plan" : "Care and support plan";

  async function load() {
    if (!id) { missing = true; return; }
    try {
      view = await api.get<PlanView>(planUrl(id));
      if (viewer === "staff" && view.plan)
        history = await api.get<History>(`/app/api/care-plans/${encodeURIComponent(view.plan.id)}/history`);
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) throw e;
      if (e instanceof ApiError && e.status === 404) missing = true;
      else error = e;
    }
  }

  const mine = () => (view?.sections_available ?? []).filter((s) => s.person_writes);

  async function saveAboutMe(e: Event) {
    e.preventDefault();
    if (busy || !view?.plan) return;
    const data = new FormData(e.target as HTMLFormElement);
    const sections: Record<string, string> = {};
    for (const s of mine()) {
      typed[s.code] = String(data.get(s.code) ?? "");
      if (typed[s.code] !== (view.plan.sections[s.code]?.text ?? "")) sections[s.code] = typed[s.code];
    }
    formError = null;
    fieldErrors = {};
    busy = true;
    app.update();
    try {
      view = await api.request<PlanView>("POST", `/app/api/care-plans/${encodeURIComponent(view.plan.id)}`, { body: { version: view.plan.version, sections } });
      busy = false;
      editing = false;
      saved = true;
      app.update();
      app.focus("#about-me-saved");
    } catch (err) {
      busy = false;
      if (err instanceof ApiError && err.status === 401) return;
      if (err instanceof ApiError && err.status === 412) {
        formError = new ApiError(412, "Someone else has changed your plan", "Your care team changed your plan while you were writing. What you wrote is still here: check their version below, then save again.");
        try { view = await api.get<PlanView>(planUrl(id)); } catch { /* keep the old view */ }
      } else if (err instanceof ApiError && err.field?.startsWith("sections.")) {
        fieldErrors[err.field.slice("sections.".length)] = err.detail;
      } else {
        formError = err;
      }
      app.update();
      app.focus(".nhsuk-error-summary");
    }
  }

  function aboutMeForm(v: PlanView): TemplateResult {
    const errors = Object.entries(fieldErrors).map(([code, t]) => ({ href: `#about-${code}`, text: t }));
    return html`${errors.length ? errorSummary("There is a problem", errors) : nothing}
      <form novalidate @submit=${saveAboutMe} aria-label="About me, in my own words" class="app-no-print">
        ${mine().map((s) => {
          const err = fieldErrors[s.code];
          return html`<div class=${err ? "nhsuk-form-group nhsuk-form-group--error" : "nhsuk-form-group"}>
            <label class="nhsuk-label nhsuk-label--s" for=${`about-${s.code}`}>${s.plain}</label>
            ${errorMessage(`about-${s.code}-error`, err)}
            <textarea class=${err ? "nhsuk-textarea nhsuk-textarea--error" : "nhsuk-textarea"} id=${`about-${s.code}`} name=${s.code} rows="4"
              aria-describedby=${err ? `about-${s.code}-error` : nothing} .value=${typed[s.code] ?? v.plan?.sections[s.code]?.text ?? ""}></textarea>
          </div>`;
        })}
        <div class="nhsuk-button-group">
          <button class="nhsuk-button" type="submit" ?disabled=${busy}>Save what I have written</button>
          <button class="nhsuk-button nhsuk-button--secondary" type="button" @click=${() => { editing = false; fieldErrors = {}; app.update(); app.focus("#change-about-me"); }}>Cancel</button>
        </div>
      </form>`;
  }

  function personTop(v: PlanView): TemplateResult {
    return html`
      <p class="nhsuk-lede-text">Your plan, written with your care team. You can change what it says about you and what matters to you, in your own words.</p>
      <nav class="app-no-print" aria-label="Your plan">
        <ul class="nhsuk-list">
          <li><a href="/my-goals">My goals</a>: change their words, say how it is going, or say no thank you</li>
          <li><a href="/who-to-call">Who to call</a> if you become unwell</li>
        </ul>
      </nav>
      ${saved ? successBanner("about-me-saved", "Saved", "Your care team can now see what you wrote, marked as written by you.") : nothing}
      ${editing ? aboutMeForm(v) : html`<button class="nhsuk-button nhsuk-button--secondary app-no-print" type="button" id="change-about-me"
          @click=${() => { editing = true; saved = false; app.update(); app.focus(`#about-${mine()[0]?.code}`); }}>Change About me and What matters to me</button>`}`;
  }

  return {
    title: () => (missing ? "Page not found" : viewer === "staff" && view ? `Care and support plan: ${view.person.name}` : title),
    hasError: () => Boolean(error || formError || Object.keys(fieldErrors).length),
    load,
    view: () => {
      if (missing) return missingView();
      if (error) return html`${apiErrorSummary(error)}<h1 tabindex="-1">${title}</h1>`;
      if (!view) return loadingView(title);
      const v = view;
      return html`
        ${formError ? apiErrorSummary(formError) : nothing}
        ${viewer === "staff" ? html`<a class="nhsuk-back-link" href=${`/people/${encodeURIComponent(id)}`}>Back to their record</a>` : nothing}
        <h1 tabindex="-1">${viewer === "staff" ? html`Care and support plan<span class="nhsuk-caption-l">${v.person.name}</span>` : "My plan"}</h1>
        ${!v.plan ? html`<p class="nhsuk-body">${viewer === "person" ? "You do not have a care and support plan yet. Your care team will write it with you." : "No care plan yet."}</p>
            ${viewer === "staff" && v.may.create_plan ? html`<a class="nhsuk-button" href=${`/people/${encodeURIComponent(id)}/care-plan/edit`} role="button" draggable="false">Start a care plan</a>` : nothing}`
          : html`
            ${viewer === "person" ? personTop(v) : html`<div class="nhsuk-button-group app-no-print">
              ${v.may.change_plan ? html`<a class="nhsuk-button" href=${`/people/${encodeURIComponent(id)}/care-plan/edit`} role="button" draggable="false" id="edit-plan">Change the plan</a>` : nothing}
              ${printButton()}</div>`}
            ${planBody(v, viewer)}
            ${viewer === "person" ? printButton() : nothing}
            ${viewer === "staff" && history ? html`<details class="nhsuk-details app-no-print"><summary class="nhsuk-details__summary"><span class="nhsuk-details__summary-text">Changes to this plan</span></summary>
              <div class="nhsuk-details__text">${table("Versions of this plan", ["Version", "When", "Who"], history.versions.map((h) => [
                String(h.version), h.updated ? longDate(h.updated) : "", h.written_by ? `${h.written_by.name}${h.written_by.by_person ? " (the person)" : ""}` : "",
              ]), { visuallyHiddenCaption: true })}</div></details>` : nothing}`}`;
    },
  };
}

// ---- /people/:id/care-plan/edit ----------------------------------------------------------------

interface ActivityRow { description: string; who: string; when: string; status: string; task: string }

export function carePlanEditPage(id: string): Page {
  let view: PlanView | null = null;
  let missing = false;
  let loadError: unknown = null;
  let version = 0;
  let busy = false;
  let stale = false;     // someone else changed the plan: their version is shown
  let theirs: PlanView | null = null;
  let other: unknown = null;
  let errors: Record<string, string> = {};  // element id → message
  const v: { sections: Record<string, string>; contacts: Record<string, { name: string; telephone: string }>; review: { day: string; month: string; year: string }; activities: ActivityRow[] } = {
    sections: {}, contacts: {}, review: { day: "", month: "", year: "" }, activities: [],
  };
  // "Add a goal".
  const goal = { text: "", status: "", words: false, agreed: false, target: { day: "", month: "", year: "" } };
  let goalErrors: Record<string, string> = {};
  let goalOther: unknown = null;
  let goalSaved = "";

  type FormValues = typeof v;
  let base: FormValues = clone(v); // the plan as loaded: only what differs from it is sent

  function clone(f: FormValues): FormValues { return JSON.parse(JSON.stringify(f)) as FormValues; }

  function valuesOf(p: PlanView): FormValues {
    const plan = p.plan;
    const f: FormValues = { sections: {}, contacts: {}, review: splitDate(plan?.review_date ?? ""), activities: [] };
    for (const s of p.sections_available) {
      const part = plan?.sections[s.code];
      if (s.contact) f.contacts[s.code] = { name: part?.name ?? "", telephone: part?.telephone ?? "" };
      else f.sections[s.code] = part?.text ?? "";
    }
    f.activities = (plan?.activities ?? []).map((a) => ({ description: a.description, who: a.who, when: a.when, status: a.status || "scheduled", task: a.task }));
    return f;
  }

  function fill(p: PlanView) {
    view = p;
    version = p.plan?.version ?? 0;
    const f = valuesOf(p);
    Object.assign(v, clone(f));
    base = f;
  }

  /**
   * Someone else saved first: what this user did not change takes their version; what they
   * changed stays as typed (and is sent on the next save, knowingly over theirs).
   */
  function merge(p: PlanView) {
    const t = valuesOf(p);
    const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
    for (const code of Object.keys(t.sections)) if (same(v.sections[code], base.sections[code])) v.sections[code] = t.sections[code];
    for (const code of Object.keys(t.contacts)) if (same(v.contacts[code], base.contacts[code])) v.contacts[code] = t.contacts[code];
    if (same(v.review, base.review)) v.review = t.review;
    if (same(v.activities, base.activities)) v.activities = t.activities;
    base = t;
    version = p.plan?.version ?? version;
    view = p;
  }

  async function load() {
    try {
      fill(await api.get<PlanView>(planUrl(id)));
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) throw e;
      if (e instanceof ApiError && e.status === 404) missing = true;
      else loadError = e;
    }
  }

  /** What the form holds now (before a re-render adds or removes an activity, and on submit). */
  function collect(form: HTMLFormElement) {
    const data = new FormData(form);
    const get = (n: string) => String(data.get(n) ?? "");
    for (const s of view?.sections_available ?? []) {
      if (s.contact) v.contacts[s.code] = { name: get(`c-${s.code}-name`), telephone: get(`c-${s.code}-telephone`) };
      else v.sections[s.code] = get(`s-${s.code}`);
    }
    v.review = { day: get("review-day"), month: get("review-month"), year: get("review-year") };
    v.activities = v.activities.map((_, i) => ({
      description: get(`a-${i}-description`), who: get(`a-${i}-who`), when: get(`a-${i}-when`), status: get(`a-${i}-status`) || "scheduled", task: get(`a-${i}-task`),
    }));
  }

  function formOf(e: Event): HTMLFormElement | null {
    return (e.target as HTMLElement).closest("form");
  }

  function addActivity(e: Event) {
    const form = formOf(e);
    if (form) collect(form);
    v.activities.push({ description: "", who: "", when: "", status: "scheduled", task: "" });
    app.update();
    app.focus(`#a-${v.activities.length - 1}-description`);
  }

  function removeActivity(e: Event, i: number) {
    const form = formOf(e);
    if (form) collect(form);
    v.activities.splice(i, 1);
    app.update();
    app.focus("#add-activity");
  }

  /** The server's field ("sections.self-care") as the form's element id. */
  function elementOf(field: string): string {
    if (field.startsWith("sections.")) return `s-${field.slice(9)}`;
    const contact = /^contacts\.([^.]+)\.(name|telephone)$/.exec(field);
    if (contact) return `c-${contact[1]}-${contact[2]}`;
    if (field === "review_date") return "review-day";
    const activity = /^activities\.(\d+)\.(\w+)$/.exec(field);
    if (activity) return `a-${activity[1]}-${activity[2] === "task" ? "description" : activity[2]}`;
    return "";
  }

  async function save(e: Event) {
    e.preventDefault();
    if (busy || !view) return;
    collect(e.target as HTMLFormElement);
    errors = {};
    other = null;
    const review = isoDate(v.review.day, v.review.month, v.review.year);
    if (review === null) errors["review-day"] = "Enter a real review date, like 19 10 2026";
    v.activities.forEach((a, i) => { if (!a.description.trim()) errors[`a-${i}-description`] = `Say what activity ${i + 1} is, or remove it`; });
    for (const [code, c] of Object.entries(v.contacts)) {
      if (c.name.trim() && !c.telephone.trim()) errors[`c-${code}-telephone`] = "Enter the telephone number to call";
      if (!c.name.trim() && c.telephone.trim()) errors[`c-${code}-name`] = "Enter who to call";
    }
    if (Object.keys(errors).length) { app.update(); app.focus(".nhsuk-error-summary"); return; }
    // Only what this user changed: a section someone else changed meanwhile is never overwritten
    // with the text this page loaded.
    const changed = <T,>(a: T, b: T) => JSON.stringify(a) !== JSON.stringify(b);
    const sections: Record<string, string> = {};
    for (const [code, t] of Object.entries(v.sections)) if (changed(t, base.sections[code] ?? "")) sections[code] = t;
    const contacts: Record<string, { name: string; telephone: string }> = {};
    for (const [code, c] of Object.entries(v.contacts)) if (changed(c, base.contacts[code] ?? { name: "", telephone: "" })) contacts[code] = c;
    const body: Record<string, unknown> = { sections, contacts };
    if (changed(v.review, base.review)) body.review_date = review ?? "";
    if (changed(v.activities, base.activities))
      body.activities = v.activities.map((a) => ({ description: a.description, who: a.who, when: a.when, status: a.status, ...(a.task ? { task: a.task } : {}) }));
    const creating = !view.plan;
    if (!creating) body.version = version;
    busy = true;
    app.update();
    try {
      const url = creating ? planUrl(id) : `/app/api/care-plans/${encodeURIComponent(view.plan!.id)}`;
      await api.request<PlanView>("POST", url, { body });
      busy = false;
      stale = false;
      await app.navigate(`/people/${encodeURIComponent(id)}/care-plan`);
    } catch (err) {
      busy = false;
      if (err instanceof ApiError && err.status === 401) return;
      if (err instanceof ApiError && err.status === 412) {
        // Someone else saved first: show their version beside what this user typed, which is
        // kept; saving again (from their version) replaces it knowingly.
        stale = true;
        try {
          theirs = await api.get<PlanView>(planUrl(id));
          merge(theirs);
        } catch (e2) { other = e2; }
      } else if (err instanceof ApiError && err.field && elementOf(err.field)) {
        errors[elementOf(err.field)] = err.detail;
      } else {
        other = err;
      }
      app.update();
      app.focus(".nhsuk-error-summary");
    }
  }

  async function addGoal(e: Event) {
    e.preventDefault();
    if (busy) return;
    const data = new FormData(e.target as HTMLFormElement);
    goal.text = String(data.get("goal-text") ?? "");
    goal.status = String(data.get("goal-status") ?? "");
    goal.words = data.get("goal-words") === "yes";
    goal.agreed = data.get("goal-agreed") === "yes";
    goal.target = { day: String(data.get("goal-target-day") ?? ""), month: String(data.get("goal-target-month") ?? ""), year: String(data.get("goal-target-year") ?? "") };
    goalErrors = {};
    goalOther = null;
    goalSaved = "";
    const target = isoDate(goal.target.day, goal.target.month, goal.target.year);
    if (!goal.text.trim()) goalErrors["goal-text"] = "Write the goal, in the person's words where you can";
    if (!goal.status) goalErrors["goal-status"] = "Choose whether the goal is agreed or a suggestion";
    if (target === null) goalErrors["goal-target-day"] = "Enter a real target date, like 19 10 2026";
    if (Object.keys(goalErrors).length) { app.update(); app.focus("#goal-form .nhsuk-error-summary"); return; }
    busy = true;
    app.update();
    try {
      const r = await api.request<PlanView>("POST", `/app/api/people/${encodeURIComponent(id)}/goals`, {
        body: { text: goal.text, status: goal.status, target_date: target ?? "", in_persons_words: goal.words, agreed_with_person: goal.agreed },
      });
      busy = false;
      goalSaved = goal.text;
      Object.assign(goal, { text: "", status: "", words: false, agreed: false, target: { day: "", month: "", year: "" } });
      if (view) { view.goals = r.goals; if (r.plan && view.plan) { view.plan.version = r.plan.version; version = r.plan.version; } }
      app.update();
      app.focus("#goal-saved");
    } catch (err) {
      busy = false;
      if (err instanceof ApiError && err.status === 401) return;
      const field = err instanceof ApiError ? err.field : "";
      if (field === "text" || field === "status" || field === "target_date") goalErrors[field === "target_date" ? "goal-target-day" : `goal-${field}`] = (err as ApiError).detail;
      else goalOther = err;
      app.update();
      app.focus("#goal-form .nhsuk-error-summary");
    }
  }

  function textarea(code: string, label: string, hint?: string): TemplateResult {
    const eid = `s-${code}`;
    const err = errors[eid];
    const described = [hint ? `${eid}-hint` : "", err ? `${eid}-error` : ""].filter(Boolean).join(" ");
    return html`<div class=${err ? "nhsuk-form-group nhsuk-form-group--error" : "nhsuk-form-group"}>
      <label class="nhsuk-label nhsuk-label--s" for=${eid}>${label}</label>
      ${hint ? html`<div class="nhsuk-hint" id=${`${eid}-hint`}>${hint}</div>` : nothing}
      ${errorMessage(`${eid}-error`, err)}
      <textarea class=${err ? "nhsuk-textarea nhsuk-textarea--error" : "nhsuk-textarea"} id=${eid} name=${eid} rows="3" aria-describedby=${described || nothing} .value=${v.sections[code] ?? ""}></textarea>
    </div>`;
  }

  function input(eid: string, label: string, value: string, width = "", type = "text"): TemplateResult {
    const err = errors[eid];
    return html`<div class=${err ? "nhsuk-form-group nhsuk-form-group--error" : "nhsuk-form-group"}>
      <label class="nhsuk-label" for=${eid}>${label}</label>
      ${errorMessage(`${eid}-error`, err)}
      <input class=${`nhsuk-input${width ? ` nhsuk-input--width-${width}` : ""}${err ? " nhsuk-input--error" : ""}`} id=${eid} name=${eid} type=${type}
        aria-describedby=${err ? `${eid}-error` : nothing} .value=${value}>
    </div>`;
  }

  function contactFields(def: SectionDef): TemplateResult {
    const c = v.contacts[def.code] ?? { name: "", telephone: "" };
    return html`<fieldset class="nhsuk-fieldset">
      <legend class="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">${def.heading}</legend>
      ${input(`c-${def.code}-name`, "Who to call", c.name)}
      ${input(`c-${def.code}-telephone`, "Telephone number", c.telephone, "20", "tel")}
    </fieldset>`;
  }

  function activityFields(a: ActivityRow, i: number): TemplateResult {
    const tasks = view?.tasks ?? [];
    return html`<fieldset class="nhsuk-fieldset app-activity">
      <legend class="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">Activity ${i + 1}</legend>
      ${input(`a-${i}-description`, "What", a.description)}
      ${input(`a-${i}-who`, "Who does it", a.who)}
      ${input(`a-${i}-when`, "When", a.when)}
      <div class="nhsuk-form-group">
        <label class="nhsuk-label" for=${`a-${i}-status`}>Status</label>
        <select class="nhsuk-select" id=${`a-${i}-status`} name=${`a-${i}-status`}>
          ${ACTIVITY_STATUSES.map(([c, t]) => html`<option value=${c} ?selected=${a.status === c}>${t}</option>`)}
        </select>
      </div>
      <div class="nhsuk-form-group">
        <label class="nhsuk-label" for=${`a-${i}-task`}>The task that carries it out (optional)</label>
        <select class="nhsuk-select" id=${`a-${i}-task`} name=${`a-${i}-task`}>
          <option value="" ?selected=${!a.task}>None</option>
          ${tasks.map((t) => html`<option value=${t.id} ?selected=${a.task === t.id}>${t.description || t.id}</option>`)}
          ${a.task && !tasks.some((t) => t.id === a.task) ? html`<option value=${a.task} selected>Task ${a.task}</option>` : nothing}
        </select>
      </div>
      <button class="nhsuk-button nhsuk-button--secondary" type="button" @click=${(e: Event) => removeActivity(e, i)}>Remove activity ${i + 1}</button>
    </fieldset>`;
  }

  function theirVersion(p: PlanView): TemplateResult {
    const rows = p.sections_available.map((s) => {
      const part = p.plan?.sections[s.code];
      const value = s.contact ? (part ? `${part.name}, ${part.telephone}` : "Not written") : (part?.text ?? "Not written");
      return { key: s.heading, value: html`${value}${part?.written_by ? html`<br><span class="nhsuk-body-s">${part.written_by.name}${part.written_by.by_person ? " (the person)" : ""}, ${longDate(part.written_by.time)}</span>` : nothing}` };
    });
    return html`<section aria-labelledby="h-theirs" class="app-theirs">
      <h2 class="nhsuk-heading-m" id="h-theirs">Their version (version ${p.plan?.version ?? ""})</h2>
      ${summaryList([...rows, { key: "Review date", value: p.plan?.review_date ? longDate(p.plan.review_date) : "None" },
        { key: "What we will do", value: (p.plan?.activities ?? []).map((a) => a.description).join("; ") || "Nothing" }])}
    </section>`;
  }

  function goalForm(): TemplateResult {
    const list = Object.entries(goalErrors).map(([eid, t]) => ({ href: `#${eid}`, text: t }));
    const statusErr = goalErrors["goal-status"];
    return html`<section aria-labelledby="h-add-goal" id="goal-form">
      <h2 class="nhsuk-heading-m" id="h-add-goal">Add a goal</h2>
      ${list.length ? errorSummary("There is a problem", list) : nothing}
      ${goalOther ? apiErrorSummary(goalOther) : nothing}
      ${goalSaved ? successBanner("goal-saved", `Goal added: “${goalSaved}”`, "") : nothing}
      <form novalidate @submit=${addGoal} aria-label="Add a goal">
        <div class=${goalErrors["goal-text"] ? "nhsuk-form-group nhsuk-form-group--error" : "nhsuk-form-group"}>
          <label class="nhsuk-label nhsuk-label--s" for="goal-text">The goal</label>
          <div class="nhsuk-hint" id="goal-text-hint">In the person's own words, as they said it.</div>
          ${errorMessage("goal-text-error", goalErrors["goal-text"])}
          <textarea class="nhsuk-textarea" id="goal-text" name="goal-text" rows="2" aria-describedby=${goalErrors["goal-text"] ? "goal-text-hint goal-text-error" : "goal-text-hint"} .value=${goal.text}></textarea>
        </div>
        <div class="nhsuk-form-group">
          <fieldset class="nhsuk-fieldset">
            <legend class="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">Whose words, and who agreed it</legend>
            <div class="nhsuk-checkboxes">
              <div class="nhsuk-checkboxes__item">
                <input class="nhsuk-checkboxes__input" id="goal-words" name="goal-words" type="checkbox" value="yes" .checked=${goal.words}>
                <label class="nhsuk-label nhsuk-checkboxes__label" for="goal-words">These are the person's own words</label>
              </div>
              <div class="nhsuk-checkboxes__item">
                <input class="nhsuk-checkboxes__input" id="goal-agreed" name="goal-agreed" type="checkbox" value="yes" .checked=${goal.agreed}>
                <label class="nhsuk-label nhsuk-checkboxes__label" for="goal-agreed">The person and I agreed it together</label>
              </div>
            </div>
          </fieldset>
        </div>
        <div class=${statusErr ? "nhsuk-form-group nhsuk-form-group--error" : "nhsuk-form-group"}>
          <fieldset class="nhsuk-fieldset" aria-describedby=${statusErr ? "goal-status-error" : nothing}>
            <legend class="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">Is it agreed?</legend>
            ${errorMessage("goal-status-error", statusErr)}
            <div class="nhsuk-radios">
              <div class="nhsuk-radios__item">
                <input class="nhsuk-radios__input" id="goal-status" name="goal-status" type="radio" value="active" .checked=${goal.status === "active"}>
                <label class="nhsuk-label nhsuk-radios__label" for="goal-status">Agreed: they are working on it</label>
              </div>
              <div class="nhsuk-radios__item">
                <input class="nhsuk-radios__input" id="goal-status-proposed" name="goal-status" type="radio" value="proposed" .checked=${goal.status === "proposed"}>
                <label class="nhsuk-label nhsuk-radios__label" for="goal-status-proposed">A suggestion for them to consider (they can say no)</label>
              </div>
            </div>
          </fieldset>
        </div>
        ${dateInput("goal-target", "Target date (optional)", "For example, 19 10 2026", goal.target, goalErrors["goal-target-day"])}
        <button class="nhsuk-button" type="submit" ?disabled=${busy}>Add the goal</button>
      </form>
    </section>`;
  }

  return {
    title: () => (missing ? "Page not found" : view?.plan ? "Change the care plan" : "Start a care plan"),
    hasError: () => Boolean(loadError || stale || other || Object.keys(errors).length || Object.keys(goalErrors).length || goalOther),
    load,
    view: () => {
      if (missing) return missingView();
      if (loadError) return html`${apiErrorSummary(loadError)}<h1 tabindex="-1">Change the care plan</h1>`;
      if (!view) return loadingView("Change the care plan");
      const p = view;
      const list = Object.entries(errors).map(([eid, t]) => ({ href: `#${eid}`, text: t }));
      const byCode = (code: string) => p.sections_available.find((s) => s.code === code);
      const group = (heading: string, codes: string[], hint?: string) => html`<fieldset class="nhsuk-fieldset app-plan-group">
        <legend class="nhsuk-fieldset__legend nhsuk-fieldset__legend--m"><h2 class="nhsuk-fieldset__heading">${heading}</h2></legend>
        ${hint ? html`<div class="nhsuk-hint">${hint}</div>` : nothing}
        ${codes.map((c) => { const d = byCode(c); return d ? (d.contact ? contactFields(d) : textarea(c, d.heading, d.person_writes ? "The person can change this in their own words." : undefined)) : nothing; })}
      </fieldset>`;
      return html`
        ${stale ? errorSummary("Someone else has changed this plan", [{ href: "#h-theirs", text: "Someone else changed this plan after you opened it — here is their version" }],
          html`What you typed is still in the form. Check their version, then save again to replace it with yours.`) : nothing}
        ${list.length ? errorSummary("There is a problem", list) : nothing}
        ${other ? apiErrorSummary(other) : nothing}
        <a class="nhsuk-back-link" href=${`/people/${encodeURIComponent(id)}${p.plan ? "/care-plan" : ""}`}>${p.plan ? "Back to the plan" : "Back to their record"}</a>
        <h1 tabindex="-1">${p.plan ? "Change the care plan" : "Start a care plan"}<span class="nhsuk-caption-l">${p.person.name}</span></h1>
        <p class="nhsuk-body">Write the plan with the person, section by section (the PRSB Personalised Care and Support Plan). Leave a section empty if it does not apply yet.</p>
        ${stale && theirs ? theirVersion(theirs) : nothing}
        <form novalidate @submit=${save} aria-label="Care plan">
          ${group("About me", GROUPS[0].codes, "In the person's words where you can.")}
          ${group("What matters to me", GROUPS[1].codes)}
          <fieldset class="nhsuk-fieldset app-plan-group">
            <legend class="nhsuk-fieldset__legend nhsuk-fieldset__legend--m"><h2 class="nhsuk-fieldset__heading">What we will do</h2></legend>
            <div class="nhsuk-hint">Who does what, and when.</div>
            ${v.activities.map((a, i) => activityFields(a, i))}
            <button class="nhsuk-button nhsuk-button--secondary" type="button" id="add-activity" @click=${addActivity}>Add an activity</button>
          </fieldset>
          ${group("Contingency plan", GROUPS[2].codes, "What to do if they become unwell, and who to call in and out of working hours.")}
          ${group("Advance care planning", GROUPS[3].codes, "Record that a ReSPECT or DNACPR form exists and where it is kept — not the decision itself.")}
          ${group("Self-care and community services", GROUPS[4].codes)}
          <fieldset class="nhsuk-fieldset app-plan-group">
            <legend class="nhsuk-fieldset__legend nhsuk-fieldset__legend--m"><h2 class="nhsuk-fieldset__heading">Review</h2></legend>
            ${dateInput("review", "Review date", "For example, 19 10 2026", v.review, errors["review-day"])}
            ${byCode("review") ? textarea("review", "About the review") : nothing}
          </fieldset>
          <button class="nhsuk-button" type="submit" ?disabled=${busy}>Save the plan</button>
        </form>
        ${p.may.create_goal ? goalForm() : nothing}`;
    },
  };
}

// ---- /my-goals ----------------------------------------------------------------------------------

export function myGoalsPage(): Page {
  const id = app.me?.patient_id ?? "";
  let view: PlanView | null = null;
  let missing = false;
  let loadError: unknown = null;
  let busy = false;
  let problem: { goal: string; field: string; text: string } | null = null;
  let failure: unknown = null;
  let done = "";
  const typed: Record<string, string> = {};

  async function load() {
    if (!id) { missing = true; return; }
    try { view = await api.get<PlanView>(planUrl(id)); } catch (e) {
      if (e instanceof ApiError && e.status === 401) throw e;
      if (e instanceof ApiError && e.status === 404) missing = true; else loadError = e;
    }
  }

  async function change(e: Event, g: PlanGoal, what: "text" | "progress" | "refusal") {
    e.preventDefault();
    if (busy) return;
    const data = new FormData(e.target as HTMLFormElement);
    const value = String(data.get(`${what}-${g.id}`) ?? "");
    typed[`${what}-${g.id}`] = value;
    problem = null;
    failure = null;
    done = "";
    if (!value.trim()) {
      problem = { goal: g.id, field: what, text: what === "text" ? "Write your goal in your own words" : what === "progress" ? "Write how it is going" : "Tell us why, in your own words" };
      app.update();
      app.focus(".nhsuk-error-summary");
      return;
    }
    busy = true;
    app.update();
    try {
      view = await api.request<PlanView>("POST", `/app/api/goals/${encodeURIComponent(g.id)}`, { body: { version: g.version, [what]: value } });
      busy = false;
      delete typed[`${what}-${g.id}`];
      done = what === "text" ? "Your goal's words are changed." : what === "progress" ? "Saved: your care team can see how it is going." : "Saved: your care team can see that you said no, and why.";
      app.update();
      app.focus("#goal-done");
    } catch (err) {
      busy = false;
      if (err instanceof ApiError && err.status === 401) return;
      if (err instanceof ApiError && err.status === 412) {
        failure = new ApiError(412, "Someone else has changed this goal", "Your care team changed this goal while you were writing. What you wrote is still here: check the goal, then save again.");
        try { view = await api.get<PlanView>(planUrl(id)); } catch { /* keep */ }
      } else if (err instanceof ApiError && err.status === 400) {
        problem = { goal: g.id, field: what, text: err.detail };
      } else failure = err;
      app.update();
      app.focus(".nhsuk-error-summary");
    }
  }

  function area(g: PlanGoal, what: "text" | "progress" | "refusal", label: string, hint: string, initial = ""): TemplateResult {
    const eid = `${what}-${g.id}`;
    const err = problem && problem.goal === g.id && problem.field === what ? problem.text : undefined;
    return html`<div class=${err ? "nhsuk-form-group nhsuk-form-group--error" : "nhsuk-form-group"}>
      <label class="nhsuk-label nhsuk-label--s" for=${eid}>${label}</label>
      <div class="nhsuk-hint" id=${`${eid}-hint`}>${hint}</div>
      ${errorMessage(`${eid}-error`, err)}
      <textarea class=${err ? "nhsuk-textarea nhsuk-textarea--error" : "nhsuk-textarea"} id=${eid} name=${eid} rows="3"
        aria-describedby=${err ? `${eid}-hint ${eid}-error` : `${eid}-hint`} .value=${typed[eid] ?? initial}></textarea>
    </div>`;
  }

  function goalCard(g: PlanGoal): TemplateResult {
    const open = REFUSABLE.has(g.status);
    return html`<li class="nhsuk-card app-goal-card" id=${`goal-${g.id}`}>
      <div class="nhsuk-card__content">
        <h2 class="nhsuk-card__heading nhsuk-heading-m">${g.in_persons_words ? `“${g.text}”` : g.text}</h2>
        <p class="nhsuk-body">${goalTag(g.status)}${g.target_date ? html` <span class="app-nowrap">By ${longDate(g.target_date)}</span>` : nothing}</p>
        ${writtenBy(g.text_written_by, "person")}
        ${g.status === "rejected" ? insetText(`You said no: “${g.status_reason}”`) : nothing}
        ${g.notes.filter((n) => n.kind === "progress").map((n) => html`<div class="app-goal-note">${text(n.text)}${writtenBy(n.written_by, "person")}</div>`)}
        ${open ? html`
          <details class="nhsuk-details"><summary class="nhsuk-details__summary"><span class="nhsuk-details__summary-text">Change the words of this goal</span></summary>
            <div class="nhsuk-details__text"><form novalidate @submit=${(e: Event) => change(e, g, "text")} aria-label=${`Change the words of ${g.text}`}>
              ${area(g, "text", "My goal, in my own words", "Your care team will see that you wrote it.", g.text)}
              <button class="nhsuk-button" type="submit" ?disabled=${busy}>Save my words</button></form></div></details>
          <details class="nhsuk-details"><summary class="nhsuk-details__summary"><span class="nhsuk-details__summary-text">Say how it is going</span></summary>
            <div class="nhsuk-details__text"><form novalidate @submit=${(e: Event) => change(e, g, "progress")} aria-label=${`How ${g.text} is going`}>
              ${area(g, "progress", "How it is going", "For example, what you managed this week.")}
              <button class="nhsuk-button" type="submit" ?disabled=${busy}>Save</button></form></div></details>
          <details class="nhsuk-details"><summary class="nhsuk-details__summary"><span class="nhsuk-details__summary-text">Say no thank you to this</span></summary>
            <div class="nhsuk-details__text"><form novalidate @submit=${(e: Event) => change(e, g, "refusal")} aria-label=${`Say no to ${g.text}`}>
              ${area(g, "refusal", "Why you do not want this", "In your own words. Your care team will keep what you say in your plan.")}
              <button class="nhsuk-button nhsuk-button--secondary" type="submit" ?disabled=${busy}>Say no thank you</button></form></div></details>` : nothing}
      </div>
    </li>`;
  }

  return {
    title: () => (missing ? "Page not found" : "My goals"),
    hasError: () => Boolean(loadError || problem || failure),
    load,
    view: () => {
      if (missing) return missingView();
      if (loadError) return html`${apiErrorSummary(loadError)}<h1 tabindex="-1">My goals</h1>`;
      if (!view) return loadingView("My goals");
      return html`
        ${problem ? errorSummary("There is a problem", [{ href: `#${problem.field}-${problem.goal}`, text: problem.text }]) : nothing}
        ${failure ? apiErrorSummary(failure) : nothing}
        <a class="nhsuk-back-link" href="/my-plan">My plan</a>
        <h1 tabindex="-1">My goals</h1>
        <p class="nhsuk-lede-text">What you want to achieve, in your own words. You can change the words, say how it is going, or say no thank you to something your care team suggested.</p>
        ${done ? successBanner("goal-done", done, "") : nothing}
        ${view.goals.length ? html`<ul class="nhsuk-list">${view.goals.map(goalCard)}</ul>` : html`<p class="nhsuk-body">You do not have any goals yet. Your care team will talk to you about them.</p>`}`;
    },
  };
}

// ---- /who-to-call -------------------------------------------------------------------------------

export function whoToCallPage(): Page {
  const id = app.me?.patient_id ?? "";
  let view: PlanView | null = null;
  let missing = false;
  let loadError: unknown = null;
  return {
    title: () => (missing ? "Page not found" : "Who to call"),
    hasError: () => Boolean(loadError),
    async load() {
      if (!id) { missing = true; return; }
      try { view = await api.get<PlanView>(planUrl(id)); } catch (e) {
        if (e instanceof ApiError && e.status === 401) throw e;
        if (e instanceof ApiError && e.status === 404) missing = true; else loadError = e;
      }
    },
    view: () => {
      if (missing) return missingView();
      if (loadError) return html`${apiErrorSummary(loadError)}<h1 tabindex="-1">Who to call</h1>`;
      if (!view) return loadingView("Who to call");
      const s = view.plan?.sections ?? {};
      const contact = (code: string, heading: string) => html`<section aria-labelledby=${`h-${code}`}>
        <h2 class="nhsuk-heading-m" id=${`h-${code}`}>${heading}</h2>
        ${s[code] ? html`<p class="nhsuk-body-l app-contact">${s[code].name}<br>
          <a href=${`tel:${(s[code].telephone ?? "").replace(/[^0-9+]/g, "")}`}>${s[code].telephone}</a></p>` : html`<p class="nhsuk-body">Not written in your plan yet: ask your care team.</p>`}
      </section>`;
      return html`
        <a class="nhsuk-back-link" href="/my-plan">My plan</a>
        <h1 tabindex="-1">Who to call</h1>
        ${warningCallout("In an emergency, call 999", "Call 999 if you or someone else is seriously ill or injured and their life is at risk.")}
        ${contact("contact-in-hours", "In working hours")}
        ${contact("contact-out-of-hours", "At night and at weekends")}
        <section aria-labelledby="h-if-unwell">
          <h2 class="nhsuk-heading-m" id="h-if-unwell">What to do if you become unwell</h2>
          ${s.contingency ? text(s.contingency.text) : html`<p class="nhsuk-body">Not written in your plan yet: ask your care team.</p>`}
        </section>
        ${printButton()}`;
    },
  };
}
