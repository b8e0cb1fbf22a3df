import { html, nothing, type TemplateResult } from "lit-html";
import { api, ApiError, type Segment } from "../api";
import { type Page } from "../app";
import { apiErrorSummary, insetText, table } from "../components";

/** "run 2, index date 2026-03-31" or 2 → 2 (for ordering runs, newest first). */
function runNumber(run: number | string): number {
  if (typeof run === "number") return run;
  const m = /(\d+)/.exec(run);
  return m ? Number(m[1]) : 0;
}

function runText(run: number | string): string {
  return typeof run === "number" || /^\d+$/.test(run) ? `run ${run}` : run;
}

function count(s: Segment): TemplateResult | string {
  return s.count === null || s.count === undefined
    ? html`<span class="app-nowrap">fewer than 8</span> <span class="nhsuk-body-s">(suppressed)</span>`
    : s.count.toLocaleString("en-GB");
}

export function populationPage(): Page {
  let segments: Segment[] | null = null;
  let apiError: unknown = null;
  return {
    title: () => "Population",
    hasError: () => Boolean(apiError),
    async load() {
      try {
        segments = (await api.get<{ segments: Segment[] }>("/app/api/segments")).segments;
      } catch (e) {
        if (e instanceof ApiError && e.status === 401) throw e;
        apiError = e;
      }
    },
    view: () => {
      const masked = segments?.some((s) => s.count === null) ?? false;
      const models = segments ? [...new Set(segments.map((s) => s.model))] : [];
      const byModel = (m: string) => {
        const rows = segments!.filter((s) => s.model === m);
        const runs = [...new Set(rows.map((s) => runText(s.run)))]
          .map((r) => ({ text: r, n: runNumber(rows.find((s) => runText(s.run) === r)!.run), rows: rows.filter((s) => runText(s.run) === r) }))
          .sort((a, b) => b.n - a.n);
        const [latest, ...earlier] = runs;
        const runTable = (r: typeof latest, size: "m" | "s") =>
          table(`${m}: ${r.text}`, ["Model", "Segment", "Run", "People"], r.rows.map((s) => [s.model, s.label, r.text, count(s)]), { captionSize: size });
        return html`<section aria-label=${m}>
          ${runTable(latest, "m")}
          ${earlier.length ? html`<details class="nhsuk-details"><summary class="nhsuk-details__summary"><span class="nhsuk-details__summary-text">Earlier runs of ${m} (${earlier.length})</span></summary>
            <div class="nhsuk-details__text">${earlier.map((r) => runTable(r, "s"))}</div></details>` : nothing}
        </section>`;
      };
      return html`
        ${apiError ? apiErrorSummary(apiError) : nothing}
        <h1 tabindex="-1">Population</h1>
        <p class="nhsuk-lede-text">People by segment of the latest stratification run.</p>
        ${insetText(html`These are counts of people, never people. Small counts could identify someone, so a count from 1 to 7 is shown as
          <strong>fewer than 8</strong> (suppressed), and other counts may be rounded (NHS Digital's rule for Hospital Episode Statistics).`)}
        ${segments === null && !apiError ? html`<p class="nhsuk-body" role="status">Loading…</p>` : nothing}
        ${segments && segments.length === 0 ? html`<p class="nhsuk-body">No stratification run has been stored yet.</p>` : nothing}
        ${models.map(byModel)}
        ${masked ? html`<p class="nhsuk-body-s">“Fewer than 8 (suppressed)”: the true figure is between 1 and 7 and is hidden under the disclosure rule.</p>` : nothing}`;
    },
  };
}
