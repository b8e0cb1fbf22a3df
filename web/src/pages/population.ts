import { html, nothing } from "lit-html";
import { api, ApiError, type Segment } from "../api";
import { type Page } from "../app";
import { apiErrorSummary, insetText, table } from "../components";

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
      return html`
        ${apiError ? apiErrorSummary(apiError) : nothing}
        <h1 tabindex="-1">Population</h1>
        <p class="nhsuk-lede-text">People by segment of the latest stratification run.</p>
        ${insetText(html`These are counts of people, never people. Small counts could identify someone, so a count from 1 to 7 is shown as
          <strong>fewer than 8</strong> (suppressed) and other counts are rounded to the nearest 5 (NHS Digital's rule for Hospital Episode Statistics).`)}
        ${segments === null && !apiError ? html`<p class="nhsuk-body" role="status">Loading…</p>` : nothing}
        ${segments && segments.length === 0 ? html`<p class="nhsuk-body">No stratification run has been stored yet.</p>` : nothing}
        ${models.map((m) => table(m, ["Model", "Segment", "Run", "People"], segments!.filter((s) => s.model === m).map((s) => [
          s.model, s.label, String(s.run),
          s.count === null ? html`<span>fewer than 8</span> <span class="nhsuk-body-s">(suppressed)</span>` : s.count.toLocaleString("en-GB"),
        ]), { captionSize: "m" }))}
        ${masked ? html`<p class="nhsuk-body-s">“Fewer than 8 (suppressed)”: the true figure is between 1 and 7 and is hidden under the disclosure rule.</p>` : nothing}`;
    },
  };
}
