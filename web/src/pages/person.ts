// A person's record (/people/:id) for staff, and "My record" (/my-record) for a patient, in
// plain English. Break-glass appears only here, on the 404 of a role that may break the glass.
import { html, nothing, type TemplateResult } from "lit-html";
import { api, ApiError, type Access, type CaseEntry, type Condition, type ConsentItem, type FrailtySection, type PersonRecord, type RiskItem, type Section } from "../api";
import { app, roleTitle, type Page } from "../app";
import {
  apiErrorSummary, errorMessage, errorSummary, gender, insetText, instant, longDate, nhsNumber, none, percent,
  summaryList, table, tag, warningCallout,
} from "../components";
import type { Chart } from "chart.js";
import { caseManagementSection } from "./caseload";
import { carePlanSummarySection, type PlanView } from "./care-plan";

type Mode = "staff" | "patient";

/** Roles that may record a consent decision (docs/security.md: Consent "C"). */
const CONSENT_WRITERS = new Set(["gp", "nurse", "case-manager", "social-worker", "mental-health", "patient"]);

const REASONS = [
  { code: "emergency", text: "Emergency care", hint: "The person cannot give permission and needs care now." },
  { code: "urgent-care", text: "Urgent care", hint: "Urgent direct care before a relationship is recorded." },
  { code: "safeguarding", text: "Safeguarding", hint: "A concern for the person's safety or someone else's." },
];

const MIN_REASON = 20;

/** Activity shown at once; the rest behind "Earlier activity". */
const RECENT = 10;

export function personPage(id: string, mode: Mode): Page {
  let record: PersonRecord | null = null;
  let loadError: unknown = null;
  let breakGlassOffer = false; // 404 with may_break_glass
  let notFound = false;
  let bg = { code: "", text: "" };
  let bgErrors: { code?: string; text?: string } = {};
  let bgBusy = false;
  let consentFormHidden = false;
  let consentError: unknown = null;
  let consentSaved: ConsentItem | null = null;
  let consentChoiceError: string | undefined;
  let consentBusy = false;
  let accesses: Access[] | null = null; // the patient's access log (null: not loaded or not offered)
  let accessesError = false;
  let chart: Chart | null = null;
  let chartCanvas: HTMLCanvasElement | null = null;
  /** Case management episodes (/app/api/episodes): null while not loaded, or not offered. */
  let episodes: CaseEntry[] | null = null;
  let episodesError = false;
  /** The care and support plan's summary (/app/api/people/:id/care-plan): null while not loaded, or not offered. */
  let plan: PlanView | null = null;

  async function fetchRecord(reason?: string) {
    const headers = reason ? { "X-Break-Glass-Reason": reason } : undefined;
    record = await api.get<PersonRecord>(`/app/api/people/${encodeURIComponent(id)}`, headers);
  }

  async function load() {
    if (!id) {
      // A patient account whose own record the server could not find.
      loadError = new ApiError(404, "We could not find your record", "Contact your GP practice: they can check the details they hold for you.");
      return;
    }
    if (mode === "patient") {
      // Who has looked at their record: loaded beside the record; a server without the access
      // log (404) leaves the section out.
      api.get<{ accesses: Access[] }>(`/app/api/people/${encodeURIComponent(id)}/accesses`)
        .then((r) => { accesses = r.accesses; })
        .catch((e) => { if (!(e instanceof ApiError && e.status === 404)) accessesError = true; })
        .finally(() => app.update());
    }
    if (mode === "staff" && app.me?.screens.includes("caseload")) loadEpisodes();
    if (mode === "staff") loadPlan();
    try {
      await fetchRecord();
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) {
        notFound = true;
        breakGlassOffer = mode === "staff" && Boolean(e.body?.may_break_glass);
      } else if (e instanceof ApiError && e.status === 401) {
        throw e;
      } else {
        loadError = e;
      }
    }
  }

  /** Beside the record: a 404 (someone the caller may not see, or under break-glass) leaves the section out. */
  function loadEpisodes() {
    api.get<{ episodes: CaseEntry[] }>(`/app/api/episodes?patient=${encodeURIComponent(id)}`)
      .then((r) => { episodes = r.episodes; })
      .catch((e) => { if (!(e instanceof ApiError && (e.status === 404 || e.status === 401 || e.status === 403))) episodesError = true; })
      .finally(() => app.update());
  }

  /** Beside the record: a role that may not read plans (403) or a 404 leaves the section out. */
  function loadPlan() {
    api.get<PlanView>(`/app/api/people/${encodeURIComponent(id)}/care-plan`)
      .then((r) => { plan = r; })
      .catch(() => { plan = null; })
      .finally(() => app.update());
  }

  async function breakGlass(e: Event) {
    e.preventDefault();
    if (bgBusy) return;
    const data = new FormData(e.target as HTMLFormElement);
    bg = { code: String(data.get("reason-code") ?? ""), text: String(data.get("reason-text") ?? "").trim() };
    bgErrors = {};
    loadError = null;
    if (!REASONS.some((r) => r.code === bg.code)) bgErrors.code = "Select why you need to see this record";
    if (bg.text.length < MIN_REASON) bgErrors.text = bg.text ? `Say what has happened in at least ${MIN_REASON} characters` : "Say what has happened";
    if (bgErrors.code || bgErrors.text) {
      app.update();
      app.focus(".nhsuk-error-summary");
      return;
    }
    bgBusy = true;
    app.update();
    try {
      await fetchRecord(`${bg.code}: ${bg.text.replace(/[\r\n]+/g, " ")}`);
      notFound = false;
      breakGlassOffer = false;
      bgBusy = false;
      app.update();
      app.focus("h1");
    } catch (err) {
      bgBusy = false;
      if (err instanceof ApiError && err.status === 401) return;
      loadError = err instanceof ApiError && err.status === 404
        ? new ApiError(404, "The record could not be opened", "The person does not exist, or you have reached your daily limit for break-glass access. The privacy officer has been told. Contact them if you need access.")
        : err;
      app.update();
      app.focus(".nhsuk-error-summary");
    }
  }

  async function recordConsent(e: Event) {
    e.preventDefault();
    if (consentBusy || !record) return;
    const data = new FormData(e.target as HTMLFormElement);
    const decision = String(data.get("decision") ?? "");
    consentError = null;
    consentSaved = null;
    consentChoiceError = undefined;
    if (decision !== "permit" && decision !== "deny") {
      consentChoiceError = mode === "patient" ? "Select who can see your record" : "Select the person's decision";
      app.update();
      app.focus(".nhsuk-error-summary");
      return;
    }
    consentBusy = true;
    app.update();
    try {
      const item = await api.request<ConsentItem>("POST", `/app/api/people/${encodeURIComponent(id)}/consent`, { body: { decision } });
      consentSaved = item ?? { id: "", decision };
      const sec = record.sections.consent;
      if (sec && sec.shown) sec.items = [consentSaved, ...(sec.items ?? [])];
      consentBusy = false;
      app.update();
      app.focus("#consent-saved");
    } catch (err) {
      consentBusy = false;
      if (err instanceof ApiError && err.status === 401) return;
      if (err instanceof ApiError && err.status === 403) consentFormHidden = true;
      consentError = err;
      app.update();
      app.focus(".nhsuk-error-summary");
    }
  }

  function hasError() {
    return Boolean(loadError || consentError || consentChoiceError || bgErrors.code || bgErrors.text);
  }

  // ---- Views -------------------------------------------------------------------------------

  const P = mode === "patient";
  const headings = P
    ? { details: "Your details", related: "People you have told us about", consent: "Who can see your record", conditions: "Your health conditions", medications: "Your medicines", activity: "Your recent care", risk: "Scores from your care team", frailty: "Frailty" }
    : { details: "Demographics", related: "Carers and next of kin", consent: "Consent to share", conditions: "Long-term conditions", medications: "Medications", activity: "Recent activity", risk: "Scores and segments", frailty: "Frailty" };

  function section<T>(key: keyof typeof headings, sec: Section<T> | undefined, body: (items: T[]) => TemplateResult, after?: TemplateResult): TemplateResult {
    let content: TemplateResult;
    if (!sec) content = none();
    else if (!sec.shown) content = insetText(P && key === "risk"
      ? "Your care team uses scores like these to plan care. They are not shown here: ask your GP practice if you would like to know yours."
      : sec.reason ? plainReason(sec.reason) : "Your role does not allow you to see this part of the record.");
    else if (!sec.items || sec.items.length === 0) content = none();
    else content = body(sec.items);
    return html`<section aria-labelledby=${`h-${key}`}>
      <h2 class="nhsuk-heading-m" id=${`h-${key}`}>${headings[key]}</h2>
      ${content}
      ${after ?? nothing}
    </section>`;
  }

  function decisionText(d: string): string {
    if (P) return d === "permit" ? "Share my record with the team caring for me" : d === "deny" ? "Only my GP practice" : d;
    return d === "permit" ? "Shares with the team caring for them" : d === "deny" ? "Declined sharing beyond their GP practice" : d;
  }

  function consentView(): TemplateResult {
    const sec = record!.sections.consent;
    const items = sec?.shown ? [...(sec.items ?? [])] : [];
    const current = items.sort((a, b) => (b.date ?? "").localeCompare(a.date ?? ""))[0] ?? null;
    const canWrite = CONSENT_WRITERS.has(app.me?.user.role ?? "") && !consentFormHidden && sec?.shown !== false;
    const body = (list: ConsentItem[]) => html`
      <p class="nhsuk-body">${P ? "Your choice now: " : "Current decision: "}<strong>${decisionText(current?.decision ?? "")}</strong>${current?.date ? ` (recorded ${longDate(current.date)})` : ""}.</p>
      ${list.length > 1 ? html`<details class="nhsuk-details"><summary class="nhsuk-details__summary"><span class="nhsuk-details__summary-text">${P ? "Your earlier choices" : "Earlier decisions"}</span></summary>
        <div class="nhsuk-details__text"><ul class="nhsuk-list nhsuk-list--bullet">${list.slice(1).map((c) => html`<li>${longDate(c.date)}: ${decisionText(c.decision)}${c.text ? ` – ${c.text}` : ""}</li>`)}</ul></div></details>` : nothing}`;
    const noChoice = P
      ? html`<p class="nhsuk-body">You have not made a choice. Your record is shared with the team caring for you.</p>`
      : html`<p class="nhsuk-body">No decision recorded.</p>`;
    const form = canWrite ? html`
      <form novalidate @submit=${recordConsent}>
        <div class=${consentChoiceError ? "nhsuk-form-group nhsuk-form-group--error" : "nhsuk-form-group"}>
          <fieldset class="nhsuk-fieldset" aria-describedby=${consentChoiceError ? "decision-hint decision-error" : "decision-hint"}>
            <legend class="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">${P ? "Change who can see your record" : "Record a change"}</legend>
            <div class="nhsuk-hint" id="decision-hint">${P ? "Your GP practice can always see your record." : "The person's own decision. It takes effect at once."}</div>
            ${errorMessage("decision-error", consentChoiceError)}
            <div class="nhsuk-radios">
              <div class="nhsuk-radios__item">
                <input class="nhsuk-radios__input" id="decision" name="decision" type="radio" value="permit" ?checked=${current?.decision === "permit"}>
                <label class="nhsuk-label nhsuk-radios__label" for="decision">${P ? "Share my record with the team caring for me" : "Share with the team caring for them"}</label>
              </div>
              <div class="nhsuk-radios__item">
                <input class="nhsuk-radios__input" id="decision-deny" name="decision" type="radio" value="deny" ?checked=${current?.decision === "deny"}>
                <label class="nhsuk-label nhsuk-radios__label" for="decision-deny">${P ? "Only my GP practice" : "Decline sharing beyond their GP practice"}</label>
              </div>
            </div>
          </fieldset>
        </div>
        <button class="nhsuk-button nhsuk-button--secondary" type="submit" ?disabled=${consentBusy}>${P ? "Save my choice" : "Record the decision"}</button>
      </form>` : nothing;
    const saved = consentSaved ? html`<div class="nhsuk-notification-banner nhsuk-notification-banner--success" role="alert" aria-labelledby="consent-saved-title" id="consent-saved" tabindex="-1">
        <div class="nhsuk-notification-banner__header"><h3 class="nhsuk-notification-banner__title" id="consent-saved-title">Success</h3></div>
        <div class="nhsuk-notification-banner__content"><p class="nhsuk-notification-banner__heading">${P ? "Your choice is saved" : "Decision recorded"}: ${decisionText(consentSaved.decision)}</p></div>
      </div>` : nothing;
    if (sec && sec.shown && (!sec.items || sec.items.length === 0)) {
      return html`<section aria-labelledby="h-consent"><h2 class="nhsuk-heading-m" id="h-consent">${headings.consent}</h2>${saved}${noChoice}${form}</section>`;
    }
    return section("consent", sec, body, html`${saved}${form}`);
  }

  function accessesView(): TemplateResult {
    const what = (a: Access) => {
      const verb = { R: "Looked at", C: "Added to", U: "Changed", D: "Removed from", E: "Used" }[a.action] ?? "Used";
      if (a.subtype === "search") return "Found you in a search";
      if (a.subtype === "export") return "Included you in an export";
      return `${verb} your record`;
    };
    return html`<section aria-labelledby="h-accesses">
      <h2 class="nhsuk-heading-m" id="h-accesses">Who has looked at your record</h2>
      ${accessesError ? html`<p class="nhsuk-body">We could not show this just now. Try again later.</p>`
        : accesses && accesses.length === 0 ? html`<p class="nhsuk-body">No one else has looked at your record yet.</p>`
        : html`<p class="nhsuk-body">Staff who have looked at or changed your record, newest first. Their names are not shown; contact your GP practice if you are worried about any of these.</p>
          ${table("Who has looked at your record", ["When", "Who", "What"], (accesses ?? []).slice(0, 50).map((a) => [
            html`<span class="app-nowrap">${instant(a.recorded)}</span>`,
            `${roleTitle(a.role) || "Someone"}${a.organisation ? ` at ${a.organisation}` : ""}`,
            html`${what(a)}${a.break_glass ? html` ${tag("Emergency access", "red")}` : nothing}${a.outcome !== "success" ? " (refused)" : ""}`,
          ]), { visuallyHiddenCaption: true })}`}
    </section>`;
  }

  /** The electronic frailty index today, its deficits and why each counts. */
  function frailtyView(): TemplateResult {
    const sec: FrailtySection | undefined = record!.sections.frailty;
    if (!sec) return html``; // a server without the frailty section
    if (sec.shown && (!sec.items || sec.items.length === 0) && typeof sec.efi === "number") {
      return html`<section aria-labelledby="h-frailty"><h2 class="nhsuk-heading-m" id="h-frailty">${headings.frailty}</h2>
        ${frailtySummary(sec)}<p class="nhsuk-body">No deficits recorded.</p></section>`;
    }
    return section("frailty", sec, (items) => html`
      ${frailtySummary(sec)}
      ${table("Frailty deficits", ["Deficit", "Code", "Date", "Why it counts"], items.map((d) => [
        d.deficit,
        d.code ? html`<span class="app-nowrap">${d.code}</span>` : "",
        d.date ? html`<span class="app-nowrap">${longDate(d.date)}</span>` : "",
        frailtyReason(d.reason),
      ]), { captionSize: "s" })}`);
  }

  function riskView(): TemplateResult {
    const sec = record!.sections.risk;
    return section("risk", sec, (items: RiskItem[]) => {
      const sorted = [...items].sort((a, b) => (b.date ?? "").localeCompare(a.date ?? "") || runOrder(b.run) - runOrder(a.run));
      const scored = [...sorted].reverse().filter((r) => typeof r.admission_risk === "number");
      return html`
        ${scored.length >= 2 ? html`<h3 class="nhsuk-heading-s">Emergency admission risk over time</h3>
          <div class="app-chart"><canvas id="risk-chart" role="img"
            aria-label=${`Line chart of emergency admission risk: ${scored.map((r) => `${longDate(r.date)} ${percent(r.admission_risk)}`).join(", ")}`}></canvas></div>
          <details class="nhsuk-details"><summary class="nhsuk-details__summary"><span class="nhsuk-details__summary-text">The chart's figures as a table</span></summary>
            <div class="nhsuk-details__text">${table("Emergency admission risk by stratification run", ["Date", "Run", "Admission risk"],
              scored.map((r) => [longDate(r.date), runText(r.run), percent(r.admission_risk)]), { captionSize: "s" })}</div></details>` : nothing}
        <ol class="app-timeline" aria-label="Scores, newest first">
          ${sorted.map((r) => html`<li>
            <span class="app-timeline__date">${longDate(r.date)}${runText(r.run) ? html` <span class="nhsuk-body-s">(${typeof r.run === "number" || /^\d+$/.test(String(r.run)) ? `run ${r.run}` : r.run})</span>` : nothing}</span>
            <p class="nhsuk-body nhsuk-u-margin-bottom-1">Chance of an emergency admission in the next year: <strong>${percent(r.admission_risk)}</strong></p>
            ${r.notes && r.notes.length ? html`<ul class="nhsuk-list nhsuk-list--bullet nhsuk-body-s">${r.notes.map((n) => html`<li>${n}</li>`)}</ul>` : html`<p class="nhsuk-body-s">No reasons recorded.</p>`}
          </li>`)}
        </ol>`;
    });
  }

  function recordView(): TemplateResult {
    const r = record!;
    const p = r.person;
    const s = r.sections;
    return html`
      <span class="nhsuk-caption-l">${P ? "My record" : "Person record"}${r.break_glass ? html` ${tag("Break-glass", "red")}` : nothing}</span>
      <h1 tabindex="-1" class="app-wrap">${P ? `Your record, ${p.name}` : p.name}</h1>
      ${r.break_glass ? warningCallout("Break-glass access: recorded and reported to the privacy officer",
        html`<p>You opened this record without a legitimate relationship. Your reason and every page you view are recorded, and the privacy officer is told.</p>`, "break-glass-notice") : nothing}
      <section aria-labelledby="h-details">
        <h2 class="nhsuk-heading-m" id="h-details">${headings.details}</h2>
        ${summaryList([
          { key: "Name", value: p.name },
          { key: "NHS number", value: html`<span class="app-nowrap">${nhsNumber(p.nhs_number)}</span>` },
          { key: "Date of birth", value: `${longDate(p.birth_date)}${p.age !== undefined && p.age !== null ? ` (${p.age} years old)` : ""}` },
          { key: "Gender", value: gender(p.gender) },
          { key: "Address", value: p.address || "Not recorded" },
          { key: "Telephone", value: p.telephone || "Not recorded" },
          { key: P ? "Your GP practice" : "GP practice", value: p.practice_name ? (p.practice_name.includes(p.practice) ? p.practice_name : `${p.practice_name} (${p.practice})`) : p.practice },
          ...(p.primary_care_home ? [{ key: "Primary Care Home", value: p.primary_care_home }] : []),
        ])}
      </section>
      ${section("related", s.related, (items) => table(headings.related, ["Name", "Relationship", "Telephone"],
        items.map((i) => [i.name, i.relationship, i.telephone || "Not recorded"]), { visuallyHiddenCaption: true }))}
      ${consentView()}
      ${!P && episodes ? caseManagementSection(p.id, episodes) : nothing}
      ${!P ? html`<section aria-labelledby="h-assessment"><h2 class="nhsuk-heading-m" id="h-assessment">Holistic assessment</h2>
        <p class="nhsuk-body"><a href=${`/people/${encodeURIComponent(p.id)}/assessment`} id="assessment-link">Open the holistic assessment</a>: health, social care and wellbeing, the needs it raised and who may see it.</p></section>` : nothing}
      ${!P && plan && !record?.break_glass ? carePlanSummarySection(plan) : nothing}
      ${!P && episodesError ? html`<section aria-labelledby="h-case-management"><h2 class="nhsuk-heading-m" id="h-case-management">Case management</h2>
        <p class="nhsuk-body">We could not show this just now. Try again later.</p></section>` : nothing}
      ${P && (accesses || accessesError) ? accessesView() : nothing}
      ${section("conditions", s.conditions, (items) => {
        // One row per condition (name and code), since its first recording; the record may
        // hold the same diagnosis many times.
        const rows = new Map<string, { c: Condition; first: string; times: number }>();
        for (const c of items) {
          // Staff see each coding; a patient sees each condition once, whatever its codes.
          const key = P ? c.name.toLowerCase() : `${c.name}|${c.code ?? ""}|${c.system ?? ""}`;
          const row = rows.get(key);
          if (!row) rows.set(key, { c, first: c.onset ?? "", times: 1 });
          else {
            row.times += 1;
            if (c.onset && (!row.first || c.onset < row.first)) row.first = c.onset;
          }
        }
        const list = [...rows.values()].sort((a, b) => (a.first || "9999").localeCompare(b.first || "9999"));
        return table(headings.conditions, ["Condition", "Since", ...(P ? [] : ["Code", "Times recorded"])],
          list.map(({ c, first, times }) => [c.name, first ? longDate(first) : "Not recorded",
            ...(P ? [] : [c.code ? `${c.code}${c.system ? ` (${codeSystem(c.system)})` : ""}` : "", String(times)])]), { visuallyHiddenCaption: true });
      })}
      ${section("medications", s.medications, (items) => table(headings.medications, ["Medicine", "Prescribed", "Status"],
        items.map((i) => [i.name, i.authored ? longDate(i.authored) : "Not recorded", i.status ? capitalise(i.status) : ""]), { visuallyHiddenCaption: true }))}
      ${frailtyView()}
      ${section("activity", s.activity, (items) => {
        const sorted = [...items].sort((a, b) => (b.date ?? "").localeCompare(a.date ?? ""));
        const entry = (a: (typeof items)[number]) => html`<li>
          <span class="app-timeline__date">${longDate(a.date)}${a.end && longDate(a.end) !== longDate(a.date) ? ` to ${longDate(a.end)}` : ""}</span>
          ${a.kind ? html`${tag(capitalise(a.kind), "blue")} ` : nothing}${a.description ?? ""}
        </li>`;
        return html`<ol class="app-timeline" aria-label=${`${headings.activity}, newest first`}>${sorted.slice(0, RECENT).map(entry)}</ol>
          ${sorted.length > RECENT ? html`<details class="nhsuk-details"><summary class="nhsuk-details__summary"><span class="nhsuk-details__summary-text">${P ? "Your earlier care" : "Earlier activity"} (${sorted.length - RECENT} more)</span></summary>
            <div class="nhsuk-details__text"><ol class="app-timeline" aria-label=${`${P ? "Your earlier care" : "Earlier activity"}, newest first`}>${sorted.slice(RECENT).map(entry)}</ol></div></details>` : nothing}`;
      })}
      ${riskView()}`;
  }

  function notFoundView(): TemplateResult {
    const list = [
      ...(bgErrors.code ? [{ href: "#reason-code", text: bgErrors.code }] : []),
      ...(bgErrors.text ? [{ href: "#reason-text", text: bgErrors.text }] : []),
    ];
    if (!breakGlassOffer) {
      return html`<h1 tabindex="-1">Page not found</h1>
        <p class="nhsuk-body">No record was found that you may see. The person may not exist, or you do not have a legitimate relationship with them.</p>
        <p class="nhsuk-body">${mode === "staff" ? html`<a href="/find">Find a person</a>` : html`<a href="/">Go to the home page</a>`}</p>`;
    }
    return html`
      ${list.length ? errorSummary("There is a problem", list) : nothing}
      <h1 tabindex="-1">You do not have a legitimate relationship with this person, or they do not exist</h1>
      <p class="nhsuk-body">You can only see people registered with your organisation or on your care teams.</p>
      ${warningCallout("Break-glass access", html`
        <p>Only open this record if the person needs care now and you cannot get it another way.
          Your reason, your name and every page you view are recorded and reported to the privacy officer.</p>
        <form novalidate @submit=${breakGlass}>
          <div class=${bgErrors.code ? "nhsuk-form-group nhsuk-form-group--error" : "nhsuk-form-group"}>
            <fieldset class="nhsuk-fieldset" aria-describedby=${bgErrors.code ? "reason-code-error" : nothing}>
              <legend class="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">Why do you need to see this record?</legend>
              ${errorMessage("reason-code-error", bgErrors.code)}
              <div class="nhsuk-radios">
                ${REASONS.map((r, i) => html`<div class="nhsuk-radios__item">
                  <input class="nhsuk-radios__input" id=${i === 0 ? "reason-code" : `reason-code-${r.code}`} name="reason-code" type="radio" value=${r.code}
                    ?checked=${bg.code === r.code} aria-describedby=${`reason-code-${r.code}-hint`}>
                  <label class="nhsuk-label nhsuk-radios__label" for=${i === 0 ? "reason-code" : `reason-code-${r.code}`}>${r.text}</label>
                  <div class="nhsuk-hint nhsuk-radios__hint" id=${`reason-code-${r.code}-hint`}>${r.hint}</div>
                </div>`)}
              </div>
            </fieldset>
          </div>
          <div class=${bgErrors.text ? "nhsuk-form-group nhsuk-form-group--error" : "nhsuk-form-group"}>
            <label class="nhsuk-label nhsuk-label--s" for="reason-text">What has happened?</label>
            <div class="nhsuk-hint" id="reason-text-hint">At least ${MIN_REASON} characters. For example, "Brought to A&E unconscious, no records available".</div>
            ${errorMessage("reason-text-error", bgErrors.text)}
            <textarea class=${bgErrors.text ? "nhsuk-textarea nhsuk-textarea--error" : "nhsuk-textarea"} id="reason-text" name="reason-text" rows="3"
              aria-describedby=${bgErrors.text ? "reason-text-hint reason-text-error" : "reason-text-hint"} .value=${bg.text}></textarea>
          </div>
          <button class="nhsuk-button nhsuk-button--warning" type="submit" ?disabled=${bgBusy}>Break the glass and open the record</button>
        </form>`, "break-glass")}`;
  }

  return {
    title: () => (P ? "My record" : notFound && breakGlassOffer ? "No legitimate relationship" : notFound ? "Page not found" : "Person record"),
    hasError,
    load,
    leave() { chart?.destroy(); chart = null; chartCanvas = null; },
    view: () => html`
      ${loadError ? apiErrorSummary(loadError) : nothing}
      ${consentError ? apiErrorSummary(consentError) : nothing}
      ${consentChoiceError ? errorSummary("There is a problem", [{ href: "#decision", text: consentChoiceError }]) : nothing}
      ${!P ? html`<a class="nhsuk-back-link" href="/find">Find a person</a>` : nothing}
      ${record ? recordView() : notFound ? notFoundView() : loadError ? html`<h1 tabindex="-1">${P ? "My record" : "Person record"}</h1>` : html`<h1 tabindex="-1">${P ? "My record" : "Person record"}</h1><p class="nhsuk-body" role="status">Loading…</p>`}`,
    updated() { void drawChart(); },
  };

  async function drawChart() {
    const canvas = document.getElementById("risk-chart") as HTMLCanvasElement | null;
    if (!canvas) { chart?.destroy(); chart = null; chartCanvas = null; return; }
    if (canvas === chartCanvas) return;
    chart?.destroy();
    chartCanvas = canvas;
    const items = [...(record?.sections.risk?.items ?? [])]
      .filter((r) => typeof r.admission_risk === "number")
      .sort((a, b) => (a.date ?? "").localeCompare(b.date ?? "") || runOrder(a.run) - runOrder(b.run));
    const { riskChart } = await import("../chart");
    if (chartCanvas !== canvas) return;
    chart = riskChart(canvas, items.map((r) => longDate(r.date)), items.map((r) => {
      const x = r.admission_risk as number;
      return Math.round((x <= 1 ? x * 100 : x) * 10) / 10;
    }));
  }
}

const FRAILTY_CATEGORY: Record<string, string> = {
  fit: "Fit", mild: "Mild frailty", moderate: "Moderate frailty", severe: "Severe frailty",
};

function frailtySummary(sec: FrailtySection): TemplateResult {
  const efi = typeof sec.efi === "number" ? sec.efi.toFixed(2) : "Not calculated";
  const cat = sec.category ? FRAILTY_CATEGORY[sec.category] ?? capitalise(sec.category) : "";
  return html`${summaryList([
    { key: "Electronic frailty index (eFI)", value: html`<span id="efi-value">${efi}</span>${cat ? html` ${tag(cat, sec.category === "fit" ? "green" : sec.category === "mild" ? "yellow" : sec.category === "moderate" ? "orange" : "red")}` : nothing}` },
    { key: "Deficits", value: `${sec.deficits ?? sec.items?.length ?? 0} of 36` },
  ])}
  <p class="nhsuk-body-s">The eFI today, from the conditions, observations and medications you may see in this record: the share of 36 deficits present (Clegg et al. 2016). Fit below 0.12, mild frailty to 0.24, moderate to 0.36, severe above.</p>`;
}

/** Why a deficit counts: "code" (a code in the record) in words; other reasons as the server said. */
function frailtyReason(reason: string | undefined): string {
  if (!reason) return "";
  if (reason === "code") return "A code in the record";
  return reason.charAt(0).toUpperCase() + reason.slice(1);
}

function runText(run: number | string | undefined | null): string {
  return run === undefined || run === null ? "" : String(run);
}

function runOrder(run: number | string | undefined | null): number {
  const n = Number(run);
  return Number.isFinite(n) ? n : 0;
}

function capitalise(s: string): string {
  return s ? s.charAt(0).toUpperCase() + s.slice(1).replace(/-/g, " ") : s;
}

function codeSystem(system: string): string {
  if (system.includes("snomed")) return "SNOMED CT";
  if (system.includes("icd-10") || system.includes("icd10")) return "ICD-10";
  if (system.includes("dm+d") || system.includes("dmd")) return "dm+d";
  return system;
}

/** The server's reason for a hidden section, as a sentence. */
function plainReason(reason: string): string {
  const r = reason.trim();
  if (!r) return "Your role does not allow you to see this part of the record.";
  return /[.!?]$/.test(r) ? r.charAt(0).toUpperCase() + r.slice(1) : `${r.charAt(0).toUpperCase()}${r.slice(1)}.`;
}
