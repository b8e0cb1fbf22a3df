import { html, nothing } from "lit-html";
import { api, ApiError, type AuditEvent } from "../api";
import { app, type Page } from "../app";
import { apiErrorSummary, dateInput, errorMessage, errorSummary, instant, isoDate, nextPage, splitDate, table, tag } from "../components";

const SUBTYPES = [
  ["", "Any event"],
  ["break-glass-alert", "Break-glass alert"],
  ["consent-override-alert", "Consent override alert"],
  ["break-glass-refused-alert", "Break-glass refused alert"],
  ["break-glass-limit-alert", "Break-glass limit alert"],
  ["read", "Read a record"],
  ["vread", "Read a version of a record"],
  ["search", "Search"],
  ["history", "History"],
  ["create", "Create"],
  ["update", "Update"],
  ["export", "Bulk export"],
  ["login", "Sign in"],
  ["login-throttled", "Sign-in refused (too many attempts)"],
  ["logout", "Sign out"],
] as const;

const ACTIONS: Record<string, string> = { C: "Create", R: "Read", U: "Update", D: "Delete", E: "Execute" };

const FIELDS = ["patient", "user", "subtype", "from", "to"] as const;

export function auditPage(query: URLSearchParams): Page {
  const filters: Record<string, string> = {};
  for (const f of FIELDS) filters[f] = query.get(f) ?? "";
  const cursor = query.get("cursor") ?? "";
  let events: AuditEvent[] | null = null;
  let next: string | null = null;
  let apiError: unknown = null;
  let fieldErrors: Record<string, string> = {};
  const dates: Record<string, { day: string; month: string; year: string }> = { from: splitDate(filters.from), to: splitDate(filters.to) };

  function submit(e: Event) {
    e.preventDefault();
    const data = new FormData(e.target as HTMLFormElement);
    const p = new URLSearchParams();
    fieldErrors = {};
    for (const f of ["patient", "user", "subtype"]) {
      const v = String(data.get(f) ?? "").trim();
      filters[f] = v;
      if (v) p.set(f, v);
    }
    for (const f of ["from", "to"]) {
      const parts = { day: String(data.get(`${f}-day`) ?? ""), month: String(data.get(`${f}-month`) ?? ""), year: String(data.get(`${f}-year`) ?? "") };
      dates[f] = parts;
      const iso = isoDate(parts.day, parts.month, parts.year);
      if (iso === null) fieldErrors[f] = `The ${f === "from" ? "first" : "last"} date must be a real date, for example 1 12 2026`;
      else {
        filters[f] = iso;
        if (iso) p.set(f, iso);
      }
    }
    if (Object.keys(fieldErrors).length) { app.update(); app.focus(".nhsuk-error-summary"); return; }
    void app.navigate(`/audit${p.toString() ? `?${p.toString()}` : ""}`);
  }

  function input(id: string, label: string, hint: string) {
    const err = fieldErrors[id];
    return html`<div class=${err ? "nhsuk-form-group nhsuk-form-group--error" : "nhsuk-form-group"}>
      <label class="nhsuk-label" for=${id}>${label}</label>
      <div class="nhsuk-hint" id=${`${id}-hint`}>${hint}</div>
      ${errorMessage(`${id}-error`, err)}
      <input class=${err ? "nhsuk-input nhsuk-input--width-20 nhsuk-input--error" : "nhsuk-input nhsuk-input--width-20"} id=${id} name=${id} type="text"
        .value=${filters[id]} spellcheck="false" aria-describedby=${err ? `${id}-hint ${id}-error` : `${id}-hint`}>
    </div>`;
  }

  const hasError = () => Boolean(apiError || Object.keys(fieldErrors).length);

  return {
    title: () => (filters.subtype === "break-glass-alert" ? "Break-glass alerts" : "Audit trail"),
    hasError,
    async load() {
      const p = new URLSearchParams();
      for (const f of FIELDS) if (filters[f]) p.set(f, filters[f]);
      if (cursor) p.set("cursor", cursor);
      try {
        const r = await api.get<{ events: AuditEvent[]; next: string | null }>(`/app/api/audit${p.toString() ? `?${p.toString()}` : ""}`);
        events = r.events;
        next = r.next;
      } catch (e) {
        if (e instanceof ApiError && e.status === 401) throw e;
        if (e instanceof ApiError && e.status === 400 && e.field && (FIELDS as readonly string[]).includes(e.field)) fieldErrors[e.field] = e.detail;
        else apiError = e;
      }
    },
    view: () => {
      const errs = Object.entries(fieldErrors).map(([f, t]) => ({ href: f === "from" || f === "to" ? `#${f}-day` : `#${f}`, text: t }));
      const nextHref = () => {
        const p = new URLSearchParams();
        for (const f of FIELDS) if (filters[f]) p.set(f, filters[f]);
        p.set("cursor", next ?? "");
        return `/audit?${p.toString()}`;
      };
      return html`
        ${errs.length ? errorSummary("There is a problem", errs) : nothing}
        ${apiError ? apiErrorSummary(apiError) : nothing}
        <h1 tabindex="-1">${filters.subtype === "break-glass-alert" ? "Break-glass alerts" : "Audit trail"}</h1>
        <p class="nhsuk-body">Every read, search and change of a record, newest first. ${filters.subtype === "break-glass-alert" && !filters.patient && !filters.user && !filters.from && !filters.to
          ? html`<a href="/audit" id="all-events">All events</a>`
          : html`<a href="/audit?subtype=break-glass-alert" id="break-glass-alerts">Break-glass alerts</a>`}</p>
        <details class="nhsuk-details" ?open=${FIELDS.some((f) => filters[f]) || errs.length > 0}>
          <summary class="nhsuk-details__summary"><span class="nhsuk-details__summary-text">Filter the audit trail</span></summary>
          <div class="nhsuk-details__text">
            <form novalidate @submit=${submit} aria-label="Filter the audit trail">
              ${input("patient", "Person id", "The id of the person's record, for example p123")}
              ${input("user", "Username", "Who did it, for example demo-gp")}
              <div class="nhsuk-form-group">
                <label class="nhsuk-label" for="subtype">Event type</label>
                <select class="nhsuk-select" id="subtype" name="subtype">
                  ${SUBTYPES.map(([v, t]) => html`<option value=${v} ?selected=${filters.subtype === v}>${t}</option>`)}
                </select>
              </div>
              ${dateInput("from", "From (optional)", "The first day, for example 1 12 2026", dates.from, fieldErrors.from)}
              ${dateInput("to", "To (optional)", "The last day, for example 7 12 2026", dates.to, fieldErrors.to)}
              <button class="nhsuk-button" type="submit">Apply filters</button>
            </form>
          </div>
        </details>
        ${events === null && !apiError ? html`<p class="nhsuk-body" role="status">Loading…</p>` : nothing}
        ${events && events.length === 0 ? html`<p class="nhsuk-body">No events match these filters.</p>` : nothing}
        ${events && events.length > 0 ? html`
          ${table("Audit events", ["When", "User", "Event", "Outcome", "People", "Details"], events.map((ev) => [
            html`<span class="app-nowrap">${instant(ev.recorded)}</span>`,
            ev.user,
            html`${ev.break_glass || (ev.subtype ?? "").includes("break-glass") || (ev.subtype ?? "").includes("override") ? html`${tag(ev.subtype || "break-glass", "red")} ` : html`${ev.subtype ?? ""} `}<span class="nhsuk-body-s">(${ACTIONS[ev.action] ?? ev.action})</span>`,
            ev.outcome === "success" ? "Success" : capital(ev.outcome),
            ev.patients
              ? html`${ev.patients.map((p, i) => html`${i ? ", " : ""}<a href=${`/audit?patient=${encodeURIComponent(p)}`}>${p}</a>`)}`
              : (ev.patient_keys ?? []).join(", "),
            html`${ev.query ?? ""}${ev.break_glass_reason ? html`<br><span class="nhsuk-body-s">Reason given: ${ev.break_glass_reason}</span>` : nothing}`,
          ]), { captionSize: "s" })}
          ${next ? nextPage(nextHref()) : nothing}` : nothing}`;
    },
  };
}

function capital(s: string) { return s ? s.charAt(0).toUpperCase() + s.slice(1) : s; }
