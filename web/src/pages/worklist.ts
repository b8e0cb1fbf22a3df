// Case finding (/worklist): the latest stratification run's people the caller may see, highest
// emergency-admission risk first, filtered by practice, Primary Care Home, segment, age and risk;
// or the risers since the run before (risers=1), largest rise first, with why.
import { html, nothing } from "lit-html";
import { api, ApiError, type Segment, type Worklist, type WorklistOptions, type WorklistRow } from "../api";
import { app, type Page } from "../app";
import { apiErrorSummary, errorMessage, errorSummary, gender, nextPage, nhsNumber, percent, table, tag } from "../components";

function runNumber(run: number | string): number {
  if (typeof run === "number") return run;
  const m = /(\d+)/.exec(run);
  return m ? Number(m[1]) : 0;
}

/** The reasons a case manager reads first: the segment lines ("Segment (model): Tier 4: …, by rule 1
 * of the model") as "Tier 4: …" — or "mcmw 1.0: fits no segment" when the segment does not name
 * itself — then the scores. */
export function whyLines(notes: string[] | undefined): string[] {
  const all = notes ?? [];
  const seg = all.filter((n) => n.startsWith("Segment (")).map((n) => {
    const m = /^Segment \(([^)]*)\):\s*(.*?)(?:, by rule \d+ of the model)?$/.exec(n);
    if (!m) return n;
    return /^[A-Z][^:]*\d: /.test(m[2]) ? m[2] : `${m[1]}: ${m[2]}`;
  });
  return [...seg, ...all.filter((n) => !n.startsWith("Segment ("))];
}

/** The filters, in the order they go into an address (page, CSV link, API). */
const FILTERS = ["practice", "pch", "segment", "age_from", "age_to", "risk_from", "risk_to", "risers", "not_on_caseload"] as const;
type Filter = (typeof FILTERS)[number];

/** A filter's input id: age_from → age-from. */
const fid = (f: string) => f.replace(/_/g, "-");

/** The "Why" of a row: its segments (the row's own labels when it has them), then the scores. */
export function rowWhy(r: WorklistRow): string[] {
  if (r.segments && r.segments.length) return [...r.segments, ...(r.notes ?? []).filter((n) => !n.startsWith("Segment ("))];
  return whyLines(r.notes);
}

function checkNumber(v: string, min: number, max: number, whole: boolean): boolean {
  if (!/^\d+(\.\d+)?$/.test(v)) return false;
  const n = Number(v);
  return (!whole || Number.isInteger(n)) && n >= min && n <= max;
}

export function worklistPage(query: URLSearchParams): Page {
  const f: Record<Filter, string> = Object.fromEntries(FILTERS.map((k) => [k, query.get(k) ?? ""])) as Record<Filter, string>;
  if (f.risers && f.risers !== "1") f.risers = "1";
  if (f.not_on_caseload && f.not_on_caseload !== "true") f.not_on_caseload = f.not_on_caseload === "false" ? "" : "true";
  // Case management: a row action "Enrol in case management" for roles with caseloads.
  const mayEnrol = Boolean(app.me?.screens.includes("caseload"));
  const page = Math.max(1, Number(query.get("page") ?? "1") || 1);
  let list: Worklist | null = null;
  let segments: Segment[] = [];
  let options: WorklistOptions | null = null;
  let apiError: unknown = null;
  let fieldErrors: Record<string, string> = {};

  function params(from: Record<Filter, string>, n = 1): URLSearchParams {
    const p = new URLSearchParams();
    for (const k of FILTERS) if (from[k]) p.set(k, from[k]);
    if (n > 1) p.set("page", String(n));
    return p;
  }
  const withQuery = (path: string, p: URLSearchParams) => `${path}${p.toString() ? `?${p.toString()}` : ""}`;

  function submit(e: Event) {
    e.preventDefault();
    const data = new FormData(e.target as HTMLFormElement);
    const next = { ...f };
    for (const k of FILTERS) next[k] = String(data.get(fid(k)) ?? "").trim();
    next.risk_from = next.risk_from.replace(/%$/, "").trim();
    next.risk_to = next.risk_to.replace(/%$/, "").trim();
    next.risers = data.get("risers") ? "1" : "";
    next.not_on_caseload = data.get("not-on-caseload") ? "true" : "";
    fieldErrors = {};
    for (const k of ["age_from", "age_to"] as const) {
      if (next[k] && !checkNumber(next[k], 0, 120, true)) fieldErrors[k] = `${k === "age_from" ? "Age from" : "Age to"} must be a whole number of years from 0 to 120`;
    }
    for (const k of ["risk_from", "risk_to"] as const) {
      if (next[k] && !checkNumber(next[k], 0, 100, false)) fieldErrors[k] = `${k === "risk_from" ? "Risk from" : "Risk to"} must be a percentage from 0 to 100`;
    }
    if (!fieldErrors.age_from && !fieldErrors.age_to && next.age_from && next.age_to && Number(next.age_from) > Number(next.age_to)) fieldErrors.age_to = "Age to must be the same as or more than age from";
    if (!fieldErrors.risk_from && !fieldErrors.risk_to && next.risk_from && next.risk_to && Number(next.risk_from) >= Number(next.risk_to)) fieldErrors.risk_to = "Risk to must be more than risk from";
    if (Object.keys(fieldErrors).length) {
      Object.assign(f, next);
      app.update();
      app.focus(".nhsuk-error-summary");
      return;
    }
    void app.navigate(withQuery("/worklist", params(next)));
  }

  const href = (n: number) => withQuery("/worklist", params(f, n));
  const csvHref = () => withQuery("/app/api/worklist.csv", params(f));
  const filtered = () => FILTERS.some((k) => f[k]);

  function numberField(k: "age_from" | "age_to" | "risk_from" | "risk_to", label: string, suffix: string) {
    const id = fid(k);
    const err = fieldErrors[k];
    return html`<div class=${err ? "nhsuk-form-group nhsuk-form-group--error app-filter" : "nhsuk-form-group app-filter"}>
      <label class="nhsuk-label" for=${id}>${label}</label>
      ${errorMessage(`${id}-error`, err)}
      <div class="nhsuk-input-wrapper">
        <input class=${err ? "nhsuk-input nhsuk-input--width-3 nhsuk-input--error" : "nhsuk-input nhsuk-input--width-3"} id=${id} name=${id} type="text"
          inputmode="decimal" spellcheck="false" .value=${f[k]} aria-describedby=${err ? `${id}-suffix ${id}-error` : `${id}-suffix`}>
        <div class="nhsuk-input-wrapper__suffix" id=${`${id}-suffix`} aria-hidden="true">${suffix}</div>
      </div>
    </div>`;
  }

  function practiceField() {
    const err = fieldErrors.practice;
    const practices = options?.practices ?? [];
    const cls = err ? "nhsuk-form-group nhsuk-form-group--error" : "nhsuk-form-group";
    if (practices.length) {
      const known = practices.some((p) => p.id === f.practice);
      return html`<div class=${cls}>
        <label class="nhsuk-label" for="practice">GP practice</label>
        ${errorMessage("practice-error", err)}
        <select class="nhsuk-select" id="practice" name="practice" aria-describedby=${err ? "practice-error" : nothing}>
          <option value="" ?selected=${!f.practice}>All practices</option>
          ${f.practice && !known ? html`<option value=${f.practice} selected>${f.practice}</option>` : nothing}
          ${practices.map((p) => html`<option value=${p.id} ?selected=${f.practice === p.id}>${p.name ? `${p.name} (${p.id})` : p.id}</option>`)}
        </select>
      </div>`;
    }
    return html`<div class=${cls}>
      <label class="nhsuk-label" for="practice">GP practice (optional)</label>
      <div class="nhsuk-hint" id="practice-hint">The practice's ODS code, for example A81001</div>
      ${errorMessage("practice-error", err)}
      <input class="nhsuk-input nhsuk-input--width-10" id="practice" name="practice" type="text" spellcheck="false" .value=${f.practice}
        aria-describedby=${err ? "practice-hint practice-error" : "practice-hint"}>
    </div>`;
  }

  function selectField(k: "pch" | "segment", label: string, body: unknown) {
    const err = fieldErrors[k];
    return html`<div class=${err ? "nhsuk-form-group nhsuk-form-group--error" : "nhsuk-form-group"}>
      <label class="nhsuk-label" for=${k}>${label}</label>
      ${errorMessage(`${k}-error`, err)}
      <select class="nhsuk-select" id=${k} name=${k} aria-describedby=${err ? `${k}-error` : nothing}>${body}</select>
    </div>`;
  }

  return {
    title: () => (f.risers ? "Risers since the last run" : "Case finding"),
    hasError: () => Boolean(apiError || Object.keys(fieldErrors).length),
    async load() {
      const [w, s, o] = await Promise.allSettled([
        api.get<Worklist>(withQuery("/app/api/worklist", params(f, page))),
        api.get<{ segments: Segment[] }>("/app/api/segments"),
        api.get<WorklistOptions>("/app/api/worklist/options"),
      ]);
      for (const r of [w, s, o]) if (r.status === "rejected" && r.reason instanceof ApiError && r.reason.status === 401) throw r.reason;
      if (s.status === "fulfilled") {
        // Only the latest run's segments filter the worklist.
        const all = s.value.segments.filter((x) => x.id);
        const latest = Math.max(0, ...all.map((x) => runNumber(x.run)));
        segments = all.filter((x) => runNumber(x.run) === latest);
      }
      if (o.status === "fulfilled") options = o.value;
      if (w.status === "fulfilled") list = w.value;
      else if (w.reason instanceof ApiError && w.reason.status === 400 && w.reason.field && (FILTERS as readonly string[]).includes(w.reason.field)) fieldErrors[w.reason.field] = w.reason.detail;
      else apiError = w.reason;
    },
    view: () => {
      const errs = Object.entries(fieldErrors).map(([k, t]) => ({ href: `#${fid(k)}`, text: t }));
      const models = [...new Set(segments.map((s) => s.model))];
      const first = (page - 1) * 20;
      const risers = f.risers === "1";
      const prev = options?.previous_run;
      const risersLink = withQuery("/worklist", params({ ...f, risers: "1" }));
      const everyoneLink = withQuery("/worklist", params({ ...f, risers: "" }));
      const person = (r: WorklistRow) => [
        r.person ? html`<a href=${`/people/${encodeURIComponent(r.id)}`}>${r.person.name}</a>` : html`<a href=${`/people/${encodeURIComponent(r.id)}`}>Person ${r.id}</a>`,
        r.person ? html`<span class="app-nowrap">${nhsNumber(r.person.nhs_number)}</span>` : "",
        r.person?.age !== undefined ? `${r.person.age} (${gender(r.person.gender)})` : "",
        r.person?.practice ?? "",
      ];
      // On a caseload already (the row's on_caseload), or a link to enrol them.
      const caseColumn = mayEnrol ? ["Case management"] : [];
      const caseCell = (r: WorklistRow) => !mayEnrol ? [] : [r.on_caseload
        ? tag("On a caseload", "green")
        : html`<a href=${`/caseload/enrol?patient=${encodeURIComponent(r.id)}&source=case-finding&from=worklist`}>Enrol in case management<span class="nhsuk-u-visually-hidden">: ${r.person?.name ?? `person ${r.id}`}</span></a>`];
      const list4 = (lines: string[], n = 4) => lines.length
        ? html`<ul class="nhsuk-list nhsuk-body-s nhsuk-u-margin-bottom-0">${lines.slice(0, n).map((x) => html`<li>${x}</li>`)}</ul>` : "";
      return html`
        ${errs.length ? errorSummary("There is a problem", errs) : nothing}
        ${apiError ? apiErrorSummary(apiError) : nothing}
        <h1 tabindex="-1">${risers ? "Risers since the last run" : "Case finding"}</h1>
        <p class="nhsuk-lede-text">${risers
          ? `The people you may see whose chance of an emergency admission rose since the run before${prev ? ` (run ${prev})` : ""}, largest rise first${list?.run ? `, in run ${list.run}` : ""}.`
          : `The people you may see, highest chance of an emergency admission first, from the latest stratification run${list?.run ? ` (run ${list.run})` : ""}.`}</p>
        <p class="nhsuk-body">${risers
          ? html`<a href=${everyoneLink} id="worklist-everyone">Everyone, highest risk first</a>`
          : html`<a href=${risersLink} id="worklist-risers">Risers since the last run</a>`}</p>
        <details class="nhsuk-details" ?open=${filtered() || errs.length > 0}>
          <summary class="nhsuk-details__summary"><span class="nhsuk-details__summary-text">Filter the worklist</span></summary>
          <div class="nhsuk-details__text">
        <form novalidate @submit=${submit} aria-label="Filter the worklist">
          ${practiceField()}
          ${selectField("pch", "Primary Care Home", html`
            <option value="" ?selected=${!f.pch}>All Primary Care Homes</option>
            ${f.pch && !(options?.pchs ?? []).includes(f.pch) ? html`<option value=${f.pch} selected>${f.pch}</option>` : nothing}
            ${(options?.pchs ?? []).map((p) => html`<option value=${p} ?selected=${f.pch === p}>${p}</option>`)}`)}
          ${selectField("segment", "Segment", html`
            <option value="" ?selected=${!f.segment}>Everyone</option>
            ${models.map((m) => html`<optgroup label=${m}>
              ${segments.filter((s) => s.model === m).map((s) => html`<option value=${s.id ?? ""} ?selected=${f.segment === s.id}>${s.label}</option>`)}
            </optgroup>`)}`)}
          <fieldset class="nhsuk-fieldset app-filter-row">
            <legend class="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">Age today</legend>
            ${numberField("age_from", "From", "years")}${numberField("age_to", "To", "years")}
          </fieldset>
          <fieldset class="nhsuk-fieldset app-filter-row" aria-describedby="risk-hint">
            <legend class="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">Emergency admission risk</legend>
            <div class="nhsuk-hint" id="risk-hint">From (included) to (not included), for example from 20 to 50</div>
            ${numberField("risk_from", "From", "%")}${numberField("risk_to", "To", "%")}
          </fieldset>
          <div class=${fieldErrors.risers ? "nhsuk-form-group nhsuk-form-group--error" : "nhsuk-form-group"}>
            ${errorMessage("risers-error", fieldErrors.risers)}
            <div class="nhsuk-checkboxes">
              <div class="nhsuk-checkboxes__item">
                <input class="nhsuk-checkboxes__input" id="risers" name="risers" type="checkbox" value="1" ?checked=${risers}
                  aria-describedby=${fieldErrors.risers ? "risers-hint risers-error" : "risers-hint"}>
                <label class="nhsuk-label nhsuk-checkboxes__label" for="risers">Only risers since the last run</label>
                <div class="nhsuk-hint nhsuk-checkboxes__hint" id="risers-hint">People whose risk rose since the run before${prev ? ` (run ${prev})` : ""}, largest rise first</div>
              </div>
            </div>
          </div>
          ${mayEnrol ? html`<div class=${fieldErrors.not_on_caseload ? "nhsuk-form-group nhsuk-form-group--error" : "nhsuk-form-group"}>
            ${errorMessage("not-on-caseload-error", fieldErrors.not_on_caseload)}
            <div class="nhsuk-checkboxes">
              <div class="nhsuk-checkboxes__item">
                <input class="nhsuk-checkboxes__input" id="not-on-caseload" name="not-on-caseload" type="checkbox" value="true" ?checked=${f.not_on_caseload === "true"}
                  aria-describedby=${fieldErrors.not_on_caseload ? "not-on-caseload-hint not-on-caseload-error" : "not-on-caseload-hint"}>
                <label class="nhsuk-label nhsuk-checkboxes__label" for="not-on-caseload">Not already on a caseload</label>
                <div class="nhsuk-hint nhsuk-checkboxes__hint" id="not-on-caseload-hint">Leave out people on a team's caseload or its waiting list</div>
              </div>
            </div>
          </div>` : nothing}
          <button class="nhsuk-button nhsuk-button--secondary" type="submit">Show the worklist</button>
          ${filtered() ? html` <a class="nhsuk-body app-clear" href="/worklist">Clear the filters</a>` : nothing}
        </form>
          </div>
        </details>
        ${list === null && !apiError && !errs.length ? html`<p class="nhsuk-body" role="status">Loading…</p>` : nothing}
        ${list && list.rows.length === 0 ? html`<p class="nhsuk-body">${risers ? "No one you may see has a higher risk than in the run before, with these filters." : "No one in this worklist that you may see."}</p>` : nothing}
        ${list && list.rows.length > 0 ? html`
          ${risers
            ? table(`Risers since run ${list.rows[0].previous?.run ?? prev ?? "before"}, page ${list.page}`, ["Rank", "Name", "NHS number", "Age", "Practice", "Emergency admission risk: before → now", "Why it rose", ...caseColumn], list.rows.map((r, i) => [
              String(first + i + 1),
              ...person(r),
              html`<span class="app-nowrap">${percent(r.previous?.admission_risk)} → <strong>${percent(r.admission_risk)}</strong></span>`,
              list4(r.why ?? [], 6),
              ...caseCell(r),
            ]), { captionSize: "s" })
            : table(`Worklist, page ${list.page}`, ["Rank", "Name", "NHS number", "Age", "Practice", "Emergency admission risk", "Why", ...caseColumn], list.rows.map((r, i) => [
              String(first + i + 1),
              ...person(r),
              html`<strong>${percent(r.admission_risk)}</strong>`,
              list4(rowWhy(r)),
              ...caseCell(r),
            ]), { captionSize: "s" })}
          <p class="nhsuk-body"><a href=${csvHref()} download id="worklist-csv">Download as CSV<span class="nhsuk-u-visually-hidden"> (this worklist${filtered() ? ", with its filters" : ""}, every page)</span></a>
            <span class="nhsuk-body-s"> – every row of this worklist, up to 5,000, with the reasons in full. The download is recorded in the audit trail.</span></p>
          ${list.next_page || page > 1 ? nextPage(list.next_page ? href(list.next_page) : "", "Next page", undefined, page > 1 ? href(page - 1) : undefined) : nothing}` : nothing}`;
    },
  };
}
