// The privacy officer's alert queue (/audit?view=alerts): break-glass, consent-override, refused
// and over-limit break-glass alerts, newest first, each acknowledged with a note.
import { html, nothing, type TemplateResult } from "lit-html";
import { api, ApiError, type Alert } from "../api";
import { app, roleTitle, type Page } from "../app";
import { apiErrorSummary, errorMessage, errorSummary, instant, summaryList, tag } from "../components";

const MIN_NOTE = 10;

const KINDS: Record<string, string> = {
  "break-glass-alert": "Break-glass access",
  "consent-override-alert": "Break-glass access that overrode the person's consent",
  "break-glass-refused-alert": "Break-glass refused (role may not)",
  "break-glass-limit-alert": "Break-glass refused (daily limit reached)",
};

export function alertsPage(): Page {
  let alerts: Alert[] | null = null;
  let apiError: unknown = null;
  let unavailable = false;
  let noteErrors: Record<string, string> = {};
  let notes: Record<string, string> = {};
  let done: string | null = null;
  let busy = false;

  async function fetchAlerts() {
    alerts = (await api.get<{ alerts: Alert[] }>("/app/api/alerts")).alerts;
  }

  async function acknowledge(e: Event, id: string) {
    e.preventDefault();
    if (busy) return;
    const data = new FormData(e.target as HTMLFormElement);
    const note = String(data.get("note") ?? "").trim();
    notes[id] = note;
    noteErrors = {};
    apiError = null;
    done = null;
    if (note.length < MIN_NOTE) {
      noteErrors[id] = note ? `Write at least ${MIN_NOTE} characters about what you found` : "Write what you found or did about this alert";
      app.update();
      app.focus(".nhsuk-error-summary");
      return;
    }
    busy = true;
    app.update();
    try {
      await api.request("POST", `/app/api/alerts/${encodeURIComponent(id)}/acknowledge`, { body: { note } });
      done = id;
      delete notes[id];
      await fetchAlerts();
      busy = false;
      app.update();
      app.focus("#alert-done");
    } catch (err) {
      busy = false;
      if (err instanceof ApiError && err.status === 401) return;
      apiError = err instanceof ApiError && err.status === 409
        ? new ApiError(409, "This alert is already acknowledged", "Someone acknowledged it while you were writing. The list now shows who and when.")
        : err;
      await fetchAlerts().catch(() => undefined);
      app.update();
      app.focus(".nhsuk-error-summary");
    }
  }

  function alertView(a: Alert): TemplateResult {
    const err = noteErrors[a.id];
    return html`<div class="nhsuk-card" id=${`alert-${a.id}`}>
      <div class="nhsuk-card__content">
        <h3 class="nhsuk-card__heading nhsuk-heading-s">${KINDS[a.subtype] ?? a.subtype} <span class="nhsuk-body-s">(alert ${a.id})</span></h3>
        ${summaryList([
          { key: "When", value: instant(a.recorded) },
          { key: "Who", value: `${a.user ?? ""}${a.role ? ` (${roleTitle(a.role)}${a.organisation ? `, ${a.organisation}` : ""})` : ""}` },
          { key: "Reason given", value: a.break_glass_reason || "None" },
          { key: "People (audit keys)", value: (a.patient_keys ?? []).join(", ") || "None recorded" },
          { key: "Outcome", value: a.outcome === "success" ? "Record opened" : "Refused" },
        ])}
        ${a.acknowledged
          ? html`<p class="nhsuk-body">${tag("Acknowledged", "green")} by ${a.acknowledged.user} on ${instant(a.acknowledged.recorded)}: ${a.acknowledged.note}</p>`
          : html`<form novalidate @submit=${(e: Event) => void acknowledge(e, a.id)} aria-label=${`Acknowledge alert ${a.id}`}>
              <div class=${err ? "nhsuk-form-group nhsuk-form-group--error" : "nhsuk-form-group"}>
                <label class="nhsuk-label" for=${`note-${a.id}`}>What you found or did</label>
                <div class="nhsuk-hint" id=${`note-${a.id}-hint`}>At least ${MIN_NOTE} characters. It is kept in the audit trail.</div>
                ${errorMessage(`note-${a.id}-error`, err)}
                <textarea class=${err ? "nhsuk-textarea nhsuk-textarea--error" : "nhsuk-textarea"} id=${`note-${a.id}`} name="note" rows="2"
                  aria-describedby=${err ? `note-${a.id}-hint note-${a.id}-error` : `note-${a.id}-hint`} .value=${notes[a.id] ?? ""}></textarea>
              </div>
              <button class="nhsuk-button nhsuk-button--secondary nhsuk-u-margin-bottom-0" type="submit" ?disabled=${busy}>Acknowledge</button>
            </form>`}
      </div>
    </div>`;
  }

  return {
    title: () => "Alerts",
    hasError: () => Boolean(apiError || Object.keys(noteErrors).length),
    async load() {
      try {
        await fetchAlerts();
      } catch (e) {
        if (e instanceof ApiError && e.status === 401) throw e;
        if (e instanceof ApiError && e.status === 404) unavailable = true;
        else apiError = e;
      }
    },
    view: () => {
      const open = (alerts ?? []).filter((a) => !a.acknowledged);
      const closed = (alerts ?? []).filter((a) => a.acknowledged);
      const errs = Object.entries(noteErrors).map(([id, t]) => ({ href: `#note-${id}`, text: t }));
      return html`
        ${errs.length ? errorSummary("There is a problem", errs) : nothing}
        ${apiError ? apiErrorSummary(apiError) : nothing}
        ${done ? html`<div class="nhsuk-notification-banner nhsuk-notification-banner--success" role="alert" aria-labelledby="alert-done-title" id="alert-done" tabindex="-1">
          <div class="nhsuk-notification-banner__header"><h2 class="nhsuk-notification-banner__title" id="alert-done-title">Success</h2></div>
          <div class="nhsuk-notification-banner__content"><p class="nhsuk-notification-banner__heading">Alert ${done} acknowledged</p></div>
        </div>` : nothing}
        <h1 tabindex="-1">Alerts</h1>
        <p class="nhsuk-body">Break-glass access, consent overrides and refused break-glass attempts, newest first. Review each and say what you found. <a href="/audit?subtype=break-glass-alert">Break-glass alerts in the audit trail</a></p>
        ${unavailable ? html`<p class="nhsuk-body">This joinedup server has no alert queue. Use the <a href="/audit?subtype=break-glass-alert">audit trail</a>.</p>` : nothing}
        ${alerts === null && !apiError && !unavailable ? html`<p class="nhsuk-body" role="status">Loading…</p>` : nothing}
        ${alerts ? html`
          <h2 class="nhsuk-heading-m">To review (${open.length})</h2>
          ${open.length ? open.map(alertView) : html`<p class="nhsuk-body">No alerts to review.</p>`}
          ${closed.length ? html`<details class="nhsuk-details"><summary class="nhsuk-details__summary"><span class="nhsuk-details__summary-text">Acknowledged (${closed.length})</span></summary>
            <div class="nhsuk-details__text">${closed.map(alertView)}</div></details>` : nothing}` : nothing}`;
    },
  };
}
