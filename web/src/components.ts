// NHS.UK design-system pieces as lit-html templates. lit-html escapes every interpolated value
// (text and attributes), so a name or a note from a record can never become markup.
import { html, nothing, type TemplateResult } from "lit-html";
import { ApiError } from "./api";

export interface FieldError { href: string; text: string }

/** The NHS.UK error summary; focused by the page after it renders (see focusErrorSummary). */
export function errorSummary(title: string, errors: FieldError[], body?: TemplateResult | string): TemplateResult {
  return html`<div class="nhsuk-error-summary" aria-labelledby="error-summary-title" tabindex="-1">
    <div role="alert">
      <h2 class="nhsuk-error-summary__heading" id="error-summary-title">${title}</h2>
      <div class="nhsuk-error-summary__body">
        ${body ? html`<p>${body}</p>` : nothing}
        ${errors.length ? html`<ul class="nhsuk-list nhsuk-error-summary__list">
          ${errors.map((e) => html`<li><a href=${e.href}>${e.text}</a></li>`)}
        </ul>` : nothing}
      </div>
    </div>
  </div>`;
}

/** An API failure as an error summary: its title, its detail (what to do next). */
export function apiErrorSummary(e: unknown): TemplateResult {
  if (e instanceof ApiError) {
    const errs = e.field ? [{ href: `#${e.field}`, text: e.detail }] : [];
    return errorSummary(e.title, errs, e.field ? undefined : e.detail);
  }
  return errorSummary("Sorry, there is a problem with joinedup", [], "Try again later.");
}

export function errorMessage(id: string, text: string | undefined): TemplateResult | typeof nothing {
  if (!text) return nothing;
  return html`<span class="nhsuk-error-message" id=${id}><span class="nhsuk-u-visually-hidden">Error:</span> ${text}</span>`;
}

export interface SummaryRow { key: string; value: TemplateResult | string }
export function summaryList(rows: SummaryRow[]): TemplateResult {
  return html`<dl class="nhsuk-summary-list">
    ${rows.map((r) => html`<div class="nhsuk-summary-list__row">
      <dt class="nhsuk-summary-list__key">${r.key}</dt>
      <dd class="nhsuk-summary-list__value app-wrap">${r.value}</dd>
    </div>`)}
  </dl>`;
}

/** A table inside a focusable, named scrolling region (so 320 px never scrolls the page). */
export function table(caption: string, headers: string[], rows: (TemplateResult | string)[][], opts: { captionSize?: "s" | "m"; visuallyHiddenCaption?: boolean } = {}): TemplateResult {
  const capClass = opts.visuallyHiddenCaption ? "nhsuk-u-visually-hidden" : `nhsuk-table__caption nhsuk-table__caption--${opts.captionSize ?? "m"}`;
  return html`<div class="app-table-scroll" role="region" aria-label=${caption} tabindex="0">
    <table class="nhsuk-table">
      <caption class=${capClass}>${caption}</caption>
      <thead class="nhsuk-table__head"><tr class="nhsuk-table__row">
        ${headers.map((h) => html`<th class="nhsuk-table__header" scope="col">${h}</th>`)}
      </tr></thead>
      <tbody class="nhsuk-table__body">
        ${rows.map((r) => html`<tr class="nhsuk-table__row">${r.map((c) => html`<td class="nhsuk-table__cell app-cell">${c}</td>`)}</tr>`)}
      </tbody>
    </table>
  </div>`;
}

export function tag(text: string, colour?: "white" | "grey" | "green" | "aqua-green" | "blue" | "purple" | "pink" | "red" | "orange" | "yellow"): TemplateResult {
  return html`<strong class=${colour ? `nhsuk-tag nhsuk-tag--${colour}` : "nhsuk-tag"}>${text}</strong>`;
}

export function warningCallout(heading: string, body: TemplateResult | string, id?: string): TemplateResult {
  return html`<div class="nhsuk-card nhsuk-card--warning" id=${id ?? nothing}>
    <div class="nhsuk-card__content">
      <h2 class="nhsuk-card__heading">${heading}</h2>
      <div class="nhsuk-card__description">${body}</div>
    </div>
  </div>`;
}

export function insetText(body: TemplateResult | string): TemplateResult {
  return html`<div class="nhsuk-inset-text"><span class="nhsuk-u-visually-hidden">Information: </span><p>${body}</p></div>`;
}

export function nextPage(href: string, label = "Next page", onClick?: (e: Event) => void, previous?: string): TemplateResult {
  return html`<nav class="nhsuk-pagination" role="navigation" aria-label="Pagination">
    <ul class="nhsuk-list nhsuk-pagination__list">
      ${previous ? html`<li class="nhsuk-pagination-item--previous">
        <a class="nhsuk-pagination__link nhsuk-pagination__link--prev" href=${previous} rel="prev">
          <span class="nhsuk-pagination__title">Previous page</span>
          <svg class="nhsuk-icon nhsuk-icon--arrow-left" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" width="16" height="16" focusable="false" aria-hidden="true">
            <path d="M10.7 6.3c.4.4.4 1 0 1.4L7.4 11H19a1 1 0 0 1 0 2H7.4l3.3 3.3c.4.4.4 1 0 1.4a1 1 0 0 1-1.4 0l-5-5A1 1 0 0 1 4 12c0-.3.1-.5.3-.7l5-5a1 1 0 0 1 1.4 0Z"/>
          </svg>
        </a>
      </li>` : nothing}
      ${href ? html`<li class="nhsuk-pagination-item--next">
        <a class="nhsuk-pagination__link nhsuk-pagination__link--next" href=${href} rel="next" @click=${onClick}>
          <span class="nhsuk-pagination__title">${label}</span>
          <svg class="nhsuk-icon nhsuk-icon--arrow-right" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" width="16" height="16" focusable="false" aria-hidden="true">
            <path d="m14.7 6.3 5 5c.2.2.3.4.3.7 0 .3-.1.5-.3.7l-5 5a1 1 0 0 1-1.4-1.4l3.3-3.3H5a1 1 0 0 1 0-2h11.6l-3.3-3.3a1 1 0 1 1 1.4-1.4Z"/>
          </svg>
        </a>
      </li>` : nothing}
    </ul>
  </nav>`;
}

/** NHS.UK date input (day, month, year). */
export function dateInput(id: string, legend: string, hint: string, value: { day: string; month: string; year: string }, error?: string): TemplateResult {
  const cls = (w: number) => `nhsuk-input nhsuk-input--width-${w} nhsuk-date-input__input${error ? " nhsuk-input--error" : ""}`;
  return html`<div class=${error ? "nhsuk-form-group nhsuk-form-group--error" : "nhsuk-form-group"}>
    <fieldset class="nhsuk-fieldset" role="group" aria-describedby=${error ? `${id}-hint ${id}-error` : `${id}-hint`}>
      <legend class="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">${legend}</legend>
      <div class="nhsuk-hint" id=${`${id}-hint`}>${hint}</div>
      ${errorMessage(`${id}-error`, error)}
      <div class="nhsuk-date-input" id=${id}>
        <div class="nhsuk-date-input__item"><div class="nhsuk-form-group">
          <label class="nhsuk-label nhsuk-date-input__label" for=${`${id}-day`}>Day</label>
          <input class=${cls(2)} id=${`${id}-day`} name=${`${id}-day`} type="text" inputmode="numeric" .value=${value.day}>
        </div></div>
        <div class="nhsuk-date-input__item"><div class="nhsuk-form-group">
          <label class="nhsuk-label nhsuk-date-input__label" for=${`${id}-month`}>Month</label>
          <input class=${cls(2)} id=${`${id}-month`} name=${`${id}-month`} type="text" inputmode="numeric" .value=${value.month}>
        </div></div>
        <div class="nhsuk-date-input__item"><div class="nhsuk-form-group">
          <label class="nhsuk-label nhsuk-date-input__label" for=${`${id}-year`}>Year</label>
          <input class=${cls(4)} id=${`${id}-year`} name=${`${id}-year`} type="text" inputmode="numeric" .value=${value.year}>
        </div></div>
      </div>
    </fieldset>
  </div>`;
}

/** Day/month/year fields to YYYY-MM-DD: "" when all are empty, null when not a real date. */
export function isoDate(day: string, month: string, year: string): string | null {
  const d = day.trim(), m = month.trim(), y = year.trim();
  if (!d && !m && !y) return "";
  if (!/^\d{1,2}$/.test(d) || !/^\d{1,2}$/.test(m) || !/^\d{4}$/.test(y)) return null;
  const dn = Number(d), mn = Number(m), yn = Number(y);
  const dt = new Date(Date.UTC(yn, mn - 1, dn));
  if (dt.getUTCFullYear() !== yn || dt.getUTCMonth() !== mn - 1 || dt.getUTCDate() !== dn) return null;
  return `${y}-${String(mn).padStart(2, "0")}-${String(dn).padStart(2, "0")}`;
}

export function splitDate(iso: string): { day: string; month: string; year: string } {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
  return m ? { day: String(Number(m[3])), month: String(Number(m[2])), year: m[1] } : { day: "", month: "", year: "" };
}

// ---- Formatting ------------------------------------------------------------------------------

export function nhsNumber(n: string | undefined | null): string {
  const d = (n ?? "").replace(/\D/g, "");
  return d.length === 10 ? `${d.slice(0, 3)} ${d.slice(3, 6)} ${d.slice(6)}` : (n ?? "");
}

const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

/** 2026-03-31 → 31 March 2026 (the NHS.UK style). */
export function longDate(iso: string | undefined | null): string {
  if (!iso) return "";
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso);
  if (!m) return iso;
  return `${Number(m[3])} ${MONTHS[Number(m[2]) - 1] ?? m[2]} ${m[1]}`;
}

/** An ISO instant as "7 December 2026, 10:00 UTC". */
export function instant(iso: string | undefined | null): string {
  if (!iso) return "";
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/.exec(iso);
  return m ? `${longDate(m[1])}, ${m[2]} UTC` : iso;
}

export function gender(g: string | undefined | null): string {
  if (!g) return "Not recorded";
  return g.charAt(0).toUpperCase() + g.slice(1);
}

export function percent(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return "Not scored";
  const p = x <= 1 ? x * 100 : x;
  return `${p.toFixed(p < 10 ? 1 : 0)}%`;
}

export function none(text = "None recorded"): TemplateResult {
  return html`<p class="nhsuk-body">${text}</p>`;
}

/**
 * A table whose rows have headers of their own (practices, segments): scope="row" on the first
 * cell, column headers scope="col", an optional totals row; in a focusable, named scrolling region.
 */
export function matrixTable(caption: string, corner: string, columns: string[],
  rows: { head: string; cells: (TemplateResult | string)[]; total?: boolean }[],
  opts: { captionSize?: "s" | "m" } = {}): TemplateResult {
  return html`<div class="app-table-scroll" role="region" aria-label=${caption} tabindex="0">
    <table class="nhsuk-table">
      <caption class=${`nhsuk-table__caption nhsuk-table__caption--${opts.captionSize ?? "s"}`}>${caption}</caption>
      <thead class="nhsuk-table__head"><tr class="nhsuk-table__row">
        <th class="nhsuk-table__header" scope="col">${corner}</th>
        ${columns.map((h) => html`<th class="nhsuk-table__header app-cell" scope="col">${h}</th>`)}
      </tr></thead>
      <tbody class="nhsuk-table__body">
        ${rows.map((r) => html`<tr class=${r.total ? "nhsuk-table__row app-total" : "nhsuk-table__row"}>
          <th class="nhsuk-table__header app-cell" scope="row">${r.head}</th>
          ${r.cells.map((c) => html`<td class="nhsuk-table__cell app-cell">${c}</td>`)}
        </tr>`)}
      </tbody>
    </table>
  </div>`;
}

/** A count of people from the population API: null is a count the disclosure rule suppressed. */
export function peopleCount(n: number | null | undefined): string {
  return n === null || n === undefined ? "suppressed" : n.toLocaleString("en-GB");
}

/** A chart's figures as a table behind an NHS.UK details element. */
export function detailsBlock(summary: string, body: TemplateResult): TemplateResult {
  return html`<details class="nhsuk-details"><summary class="nhsuk-details__summary"><span class="nhsuk-details__summary-text">${summary}</span></summary>
    <div class="nhsuk-details__text">${body}</div></details>`;
}
