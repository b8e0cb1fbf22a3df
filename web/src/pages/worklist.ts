// Case finding (/worklist): the latest stratification run's people the caller may see, highest
// emergency-admission risk first, filtered by practice and segment.
import { html, nothing } from "lit-html";
import { api, ApiError, type Segment, type Worklist } from "../api";
import { app, type Page } from "../app";
import { apiErrorSummary, errorMessage, errorSummary, gender, nextPage, nhsNumber, percent, table } from "../components";

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

export function worklistPage(query: URLSearchParams): Page {
  const practice = query.get("practice") ?? "";
  const segment = query.get("segment") ?? "";
  const page = Math.max(1, Number(query.get("page") ?? "1") || 1);
  let list: Worklist | null = null;
  let segments: Segment[] = [];
  let apiError: unknown = null;
  const fieldErrors: Record<string, string> = {};

  function submit(e: Event) {
    e.preventDefault();
    const data = new FormData(e.target as HTMLFormElement);
    const p = new URLSearchParams();
    const pr = String(data.get("practice") ?? "").trim();
    const sg = String(data.get("segment") ?? "");
    if (pr) p.set("practice", pr);
    if (sg) p.set("segment", sg);
    void app.navigate(`/worklist${p.toString() ? `?${p.toString()}` : ""}`);
  }

  function href(n: number) {
    const p = new URLSearchParams();
    if (practice) p.set("practice", practice);
    if (segment) p.set("segment", segment);
    if (n > 1) p.set("page", String(n));
    return `/worklist${p.toString() ? `?${p.toString()}` : ""}`;
  }

  function csvHref() {
    const p = new URLSearchParams();
    if (practice) p.set("practice", practice);
    if (segment) p.set("segment", segment);
    return `/app/api/worklist.csv${p.toString() ? `?${p.toString()}` : ""}`;
  }

  return {
    title: () => "Case finding",
    hasError: () => Boolean(apiError || Object.keys(fieldErrors).length),
    async load() {
      const p = new URLSearchParams();
      if (practice) p.set("practice", practice);
      if (segment) p.set("segment", segment);
      if (page > 1) p.set("page", String(page));
      const [w, s] = await Promise.allSettled([
        api.get<Worklist>(`/app/api/worklist${p.toString() ? `?${p.toString()}` : ""}`),
        api.get<{ segments: Segment[] }>("/app/api/segments"),
      ]);
      for (const r of [w, s]) if (r.status === "rejected" && r.reason instanceof ApiError && r.reason.status === 401) throw r.reason;
      if (s.status === "fulfilled") {
        // Only the latest run's segments filter the worklist.
        const all = s.value.segments.filter((x) => x.id);
        const latest = Math.max(0, ...all.map((x) => runNumber(x.run)));
        segments = all.filter((x) => runNumber(x.run) === latest);
      }
      if (w.status === "fulfilled") list = w.value;
      else if (w.reason instanceof ApiError && w.reason.status === 400 && (w.reason.field === "practice" || w.reason.field === "segment")) fieldErrors[w.reason.field] = w.reason.detail;
      else apiError = w.reason;
    },
    view: () => {
      const errs = Object.entries(fieldErrors).map(([f, t]) => ({ href: `#${f}`, text: t }));
      const models = [...new Set(segments.map((s) => s.model))];
      const first = (page - 1) * 20;
      return html`
        ${errs.length ? errorSummary("There is a problem", errs) : nothing}
        ${apiError ? apiErrorSummary(apiError) : nothing}
        <h1 tabindex="-1">Case finding</h1>
        <p class="nhsuk-lede-text">The people you may see, highest chance of an emergency admission first, from the latest stratification run${list?.run ? ` (run ${list.run})` : ""}.</p>
        <form novalidate @submit=${submit} aria-label="Filter the worklist">
          <div class=${fieldErrors.practice ? "nhsuk-form-group nhsuk-form-group--error" : "nhsuk-form-group"}>
            <label class="nhsuk-label" for="practice">GP practice (optional)</label>
            <div class="nhsuk-hint" id="practice-hint">The practice's ODS code, for example A81001</div>
            ${errorMessage("practice-error", fieldErrors.practice)}
            <input class="nhsuk-input nhsuk-input--width-10" id="practice" name="practice" type="text" spellcheck="false" .value=${practice}
              aria-describedby=${fieldErrors.practice ? "practice-hint practice-error" : "practice-hint"}>
          </div>
          <div class=${fieldErrors.segment ? "nhsuk-form-group nhsuk-form-group--error" : "nhsuk-form-group"}>
            <label class="nhsuk-label" for="segment">Segment (optional)</label>
            ${errorMessage("segment-error", fieldErrors.segment)}
            <select class="nhsuk-select" id="segment" name="segment" aria-describedby=${fieldErrors.segment ? "segment-error" : nothing}>
              <option value="" ?selected=${!segment}>Everyone</option>
              ${models.map((m) => html`<optgroup label=${m}>
                ${segments.filter((s) => s.model === m).map((s) => html`<option value=${s.id ?? ""} ?selected=${segment === s.id}>${s.label}</option>`)}
              </optgroup>`)}
            </select>
          </div>
          <button class="nhsuk-button nhsuk-button--secondary" type="submit">Show the worklist</button>
        </form>
        ${list === null && !apiError && !errs.length ? html`<p class="nhsuk-body" role="status">Loading…</p>` : nothing}
        ${list && list.rows.length === 0 ? html`<p class="nhsuk-body">No one in this worklist that you may see.</p>` : nothing}
        ${list && list.rows.length > 0 ? html`
          ${table(`Worklist, page ${list.page}`, ["Rank", "Name", "NHS number", "Age", "Practice", "Emergency admission risk", "Why"], list.rows.map((r, i) => [
            String(first + i + 1),
            r.person ? html`<a href=${`/people/${encodeURIComponent(r.id)}`}>${r.person.name}</a>` : html`<a href=${`/people/${encodeURIComponent(r.id)}`}>Person ${r.id}</a>`,
            r.person ? html`<span class="app-nowrap">${nhsNumber(r.person.nhs_number)}</span>` : "",
            r.person?.age !== undefined ? `${r.person.age} (${gender(r.person.gender)})` : "",
            r.person?.practice ?? "",
            html`<strong>${percent(r.admission_risk)}</strong>`,
            r.notes && r.notes.length ? html`<ul class="nhsuk-list nhsuk-body-s nhsuk-u-margin-bottom-0">${whyLines(r.notes).slice(0, 4).map((n) => html`<li>${n}</li>`)}</ul>` : "",
          ]), { captionSize: "s" })}
          <p class="nhsuk-body"><a href=${csvHref()} download id="worklist-csv">Download as CSV<span class="nhsuk-u-visually-hidden"> (this worklist${practice || segment ? ", with its filters" : ""}, every page)</span></a>
            <span class="nhsuk-body-s"> – every row of this worklist, up to 5,000, with the reasons in full. The download is recorded in the audit trail.</span></p>
          ${list.next_page || page > 1 ? nextPage(list.next_page ? href(list.next_page) : "", "Next page", undefined, page > 1 ? href(page - 1) : undefined) : nothing}` : nothing}`;
    },
  };
}
