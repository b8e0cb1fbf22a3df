// The population page (/population): what a commissioner or analyst sees of the latest
// stratification run (GET /app/api/population), pseudonymised: counts of people only, never a
// person, every count under the small-number rule (null = suppressed). Charts (Chart.js, loaded
// on demand) each have role="img", an aria-label with their figures and a table with the same.
import { html, nothing, type TemplateResult } from "lit-html";
import type { Chart } from "chart.js";
import { api, ApiError, type Population } from "../api";
import { type Page } from "../app";
import { apiErrorSummary, detailsBlock, insetText, longDate, matrixTable, peopleCount, summaryList, table } from "../components";

function pct(x: number | null | undefined, digits = 0): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return "suppressed";
  return `${(x * 100).toFixed(digits)}%`;
}

/** A risk band as words: 0–0.05 → "0% to 5%", 0.5–null → "50% or more". */
function bandText(b: { from: number; to: number | null }): string {
  const f = `${Math.round(b.from * 100)}%`;
  return b.to === null || b.to === undefined ? `${f} or more` : `${f} to under ${Math.round(b.to * 100)}%`;
}

function pounds(pence: number | null | undefined): string {
  if (pence === null || pence === undefined) return "suppressed";
  return `£${Math.round(pence / 100).toLocaleString("en-GB")}`;
}

export function populationPage(): Page {
  let pop: Population | null = null;
  let apiError: unknown = null;
  let empty = false;
  const charts = new Map<string, { canvas: HTMLCanvasElement; chart: Chart | null }>();

  async function drawCharts() {
    if (!pop) return;
    const p = pop;
    type Maker = (c: HTMLCanvasElement) => Promise<Chart>;
    const chart = (f: (m: typeof import("../chart"), c: HTMLCanvasElement) => Chart): Maker => async (c) => f(await import("../chart"), c);
    const wanted: [string, Maker][] = [
      ["pyramid-chart", chart((m, c) => m.pyramidChart(c, p.pyramid.map((r) => r.band), p.pyramid.map((r) => r.female), p.pyramid.map((r) => r.male)))],
      ["lorenz-chart", chart((m, c) => m.lorenzChart(c, p.lorenz))],
      ["bands-chart", chart((m, c) => m.bandsChart(c, p.risk_bands.map(bandText), p.risk_bands.map((b) => b.people)))],
      // The flow diagrams: the Sankey plugin in a chunk of its own.
      ...p.movement.map((mv, i): [string, Maker] => [`flow-chart-${i}`, async (c) =>
        (await import("../sankey")).flowChart(c, mv, `run ${p.previous_run ?? "before"}`, `run ${p.run}`) as unknown as Chart]),
    ];
    const todo: [string, HTMLCanvasElement, Maker][] = [];
    for (const [id, make] of wanted) {
      const canvas = document.getElementById(id) as HTMLCanvasElement | null;
      const had = charts.get(id);
      if (!canvas) { had?.chart?.destroy(); charts.delete(id); continue; }
      if (had?.canvas === canvas) continue;
      had?.chart?.destroy();
      charts.set(id, { canvas, chart: null });
      todo.push([id, canvas, make]);
    }
    for (const [id, canvas, make] of todo) {
      const made = await make(canvas);
      if (charts.get(id)?.canvas !== canvas) { made.destroy(); continue; }
      charts.set(id, { canvas, chart: made });
    }
  }

  function segmentsSection(p: Population): TemplateResult {
    return html`<section aria-labelledby="h-segments">
      <h2 class="nhsuk-heading-m" id="h-segments">People by segment and practice</h2>
      ${p.segments.length === 0 ? html`<p class="nhsuk-body">No segmentation model ran.</p>` : nothing}
      ${p.segments.map((s) => matrixTable(`${s.model}: people by segment, per practice`, "Practice", s.columns, [
        ...s.rows.map((r) => ({ head: r.practice, cells: r.counts.map(peopleCount) })),
        { head: "All practices", cells: s.totals.map(peopleCount), total: true },
      ]))}
    </section>
    ${p.segments.some((s) => s.pchs) ? html`<section aria-labelledby="h-pchs">
      <h2 class="nhsuk-heading-m" id="h-pchs">People by segment and Primary Care Home</h2>
      <p class="nhsuk-body">Each Primary Care Home's practices added together before small counts are suppressed, so a Primary Care Home can show a count its practices do not.</p>
      ${p.segments.filter((s) => s.pchs).map((s) => matrixTable(`${s.model}: people by segment, per Primary Care Home`, "Primary Care Home", s.columns, [
        ...(s.pchs ?? []).map((r) => ({ head: r.pch, cells: r.counts.map(peopleCount) })),
        { head: "All Primary Care Homes", cells: s.totals.map(peopleCount), total: true },
      ]))}
    </section>` : nothing}`;
  }

  function pyramidSection(p: Population): TemplateResult {
    const label = `Population pyramid, people alive on ${longDate(p.index_date)} by five-year age band, females on the left and males on the right: `
      + p.pyramid.map((r) => `${r.band}: females ${peopleCount(r.female)}, males ${peopleCount(r.male)}`).join("; ");
    return html`<section aria-labelledby="h-pyramid">
      <h2 class="nhsuk-heading-m" id="h-pyramid">Age and sex</h2>
      <p class="nhsuk-body">People alive on ${longDate(p.index_date)}, by five-year age band: females to the left (dark bars), males to the right (outlined bars).
        People recorded as another gender are in the table only. Suppressed counts are drawn as none.</p>
      <div class="app-chart app-chart--tall"><canvas id="pyramid-chart" role="img" aria-label=${label}></canvas></div>
      ${detailsBlock("The population pyramid's figures as a table", table("People by age band and sex", ["Age band (years)", "Females", "Males", "Other"],
        p.pyramid.map((r) => [r.band, peopleCount(r.female), peopleCount(r.male), peopleCount(r.other)]), { captionSize: "s" }))}
    </section>`;
  }

  function costSection(p: Population): TemplateResult {
    const shares = p.cost.shares;
    const half = p.lorenz.find(([x]) => Math.abs(x - 0.5) < 1e-9);
    const label = "Lorenz curve of 12-month cost, share of people (least costly first) against share of cost, with the line of equality: "
      + shares.map((s) => `the costliest ${s.top_percent}% of people used ${pct(s.share)} of the cost`).join("; ")
      + (half ? `; the least costly half used ${pct(half[1])}` : "") + ".";
    return html`<section aria-labelledby="h-cost">
      <h2 class="nhsuk-heading-m" id="h-cost">Cost concentration</h2>
      <p class="nhsuk-body">How the cost of care over the 12 months to ${longDate(p.index_date)} (${pounds(p.cost.total_pence)} in all) is shared among people.</p>
      ${summaryList(shares.map((s) => ({ key: `The costliest ${s.top_percent}% of people`, value: `used ${pct(s.share)} of the cost` })))}
      <div class="app-chart app-chart--tall"><canvas id="lorenz-chart" role="img" aria-label=${label}></canvas></div>
      <p class="nhsuk-body-s">The solid line with points is the Lorenz curve; the dashed straight line is equality (everyone costing the same). The further the curve sags below it, the more the cost is concentrated in a few people.</p>
      ${detailsBlock("The Lorenz curve's figures as a table", table("Lorenz curve of 12-month cost", ["Share of people, least costly first", "Share of cost"],
        p.lorenz.map(([x, y]) => [pct(x), pct(y, 1)]), { captionSize: "s" }))}
    </section>`;
  }

  function bandsSection(p: Population): TemplateResult {
    const label = "Bar chart of people by chance of an emergency admission in the next year: "
      + p.risk_bands.map((b) => `${bandText(b)}: ${peopleCount(b.people)}`).join("; ");
    return html`<section aria-labelledby="h-bands">
      <h2 class="nhsuk-heading-m" id="h-bands">Emergency admission risk</h2>
      <p class="nhsuk-body">People by their chance of an emergency admission in the next year.</p>
      <div class="app-chart"><canvas id="bands-chart" role="img" aria-label=${label}></canvas></div>
      ${table("People by emergency admission risk band", ["Chance of an emergency admission", "People"],
        p.risk_bands.map((b) => [bandText(b), peopleCount(b.people)]), { captionSize: "s" })}
    </section>`;
  }

  function flowLabel(p: Population, m: Population["movement"][number]): string {
    const from = `run ${p.previous_run ?? "before"}`;
    const parts: string[] = [];
    let suppressed = 0;
    m.from.forEach((f, i) => m.to.forEach((t, j) => {
      const c = m.counts[i * m.to.length + j];
      if (c === null || c === undefined) suppressed += 1;
      else if (c > 0) parts.push(`${f} to ${t}: ${c.toLocaleString("en-GB")}`);
    }));
    return `Flow diagram of people moving between ${m.model} segments from ${from} (left) to run ${p.run} (right), the width of each band the number of people: `
      + (parts.length ? parts.join("; ") : "no flows to draw")
      + (suppressed ? `. ${suppressed} suppressed ${suppressed === 1 ? "count is" : "counts are"} not drawn.` : ".");
  }

  function movementSection(p: Population): TemplateResult {
    const from = `run ${p.previous_run ?? "before"}`;
    return html`<section aria-labelledby="h-movement">
      <h2 class="nhsuk-heading-m" id="h-movement">Movement between segments${p.previous_run ? ` since run ${p.previous_run}` : ""}</h2>
      ${p.movement.length === 0
        ? html`<p class="nhsuk-body">${p.movement_note || "There is no earlier run to compare with."}</p>`
        : html`<p class="nhsuk-body">Where people were in ${from} and where they are in run ${p.run}.
            “Joined” are people new since then; “left” are people no longer registered or alive.
            In each flow diagram, the bands run from ${from} on the left to run ${p.run} on the right, as wide as the number of people who moved that way; suppressed counts are not drawn.
            The table under each diagram holds the same figures: a row for each segment in ${from}, a column for each in run ${p.run}.</p>
          ${p.movement.map((m, i) => html`<h3 class="nhsuk-heading-s">${m.model}</h3>
            <div class="app-chart app-chart--tall app-chart--wide"><canvas id=${`flow-chart-${i}`} class="app-flow-chart" role="img" aria-label=${flowLabel(p, m)}></canvas></div>
            ${matrixTable(`${m.model}: from ${from} (rows) to run ${p.run} (columns)`, "From (row) to (column)", m.to,
              m.from.map((f, k) => ({ head: f, cells: m.to.map((_, j) => peopleCount(m.counts[k * m.to.length + j])) })))}`)}`}
    </section>`;
  }

  return {
    title: () => "Population",
    hasError: () => Boolean(apiError),
    async load() {
      try {
        pop = await api.get<Population>("/app/api/population");
      } catch (e) {
        if (e instanceof ApiError && e.status === 401) throw e;
        if (e instanceof ApiError && e.status === 404) empty = true;
        else apiError = e;
      }
    },
    leave() { for (const c of charts.values()) c.chart?.destroy(); charts.clear(); },
    updated() { void drawCharts(); },
    view: () => {
      const p = pop;
      return html`
        ${apiError ? apiErrorSummary(apiError) : nothing}
        <h1 tabindex="-1">Population</h1>
        ${p ? html`<p class="nhsuk-lede-text">The latest stratification run (run ${p.run}, index date ${longDate(p.index_date)}):
          ${p.living !== null ? `${p.living.toLocaleString("en-GB")} people alive on that date` : "people alive on that date"}.</p>` : nothing}
        ${insetText(html`These are counts of people, never people: no names, NHS numbers or dates of birth.
          Small counts could identify someone, so a count from 1 to ${p?.disclosure.suppressed_up_to ?? 7} is shown as <strong>suppressed</strong>,
          and other counts are rounded to the nearest ${p?.disclosure.rounded_to ?? 5} (NHS Digital's rule for Hospital Episode Statistics).
          Totals are made from the true figures before rounding, so they may differ from the sum of the counts shown.`)}
        ${p === null && !apiError && !empty ? html`<p class="nhsuk-body" role="status">Loading…</p>` : nothing}
        ${empty ? html`<p class="nhsuk-body">No stratification run has been stored yet.</p>` : nothing}
        ${p ? html`
          ${segmentsSection(p)}${pyramidSection(p)}${costSection(p)}${bandsSection(p)}${movementSection(p)}` : nothing}`;
    },
  };
}
