import { html, nothing } from "lit-html";
import { api, ApiError, type PersonSummary } from "../api";
import { app, type Page } from "../app";
import { apiErrorSummary, dateInput, errorMessage, errorSummary, gender, isoDate, longDate, nextPage, nhsNumber, splitDate, table } from "../components";

export function findPage(query: URLSearchParams): Page {
  const q = query.get("q") ?? "";
  const birthdate = query.get("birthdate") ?? "";
  const cursor = query.get("cursor") ?? "";
  let dob = splitDate(birthdate);
  let qValue = q;
  let errors: { q?: string; dob?: string } = {};
  let apiError: unknown = null;
  let people: PersonSummary[] | null = null;
  let next: string | null = null;
  let loading = Boolean(q);

  function submit(e: Event) {
    e.preventDefault();
    const data = new FormData(e.target as HTMLFormElement);
    qValue = String(data.get("q") ?? "").trim();
    dob = { day: String(data.get("dob-day") ?? ""), month: String(data.get("dob-month") ?? ""), year: String(data.get("dob-year") ?? "") };
    errors = {};
    apiError = null;
    if (!qValue) errors.q = "Enter an NHS number or a name";
    const iso = isoDate(dob.day, dob.month, dob.year);
    if (iso === null) errors.dob = "Date of birth must be a real date, for example 27 3 1950";
    if (errors.q || errors.dob) {
      app.update();
      app.focus(".nhsuk-error-summary");
      return;
    }
    const params = new URLSearchParams({ q: qValue });
    if (iso) params.set("birthdate", iso);
    void app.navigate(`/find?${params.toString()}`);
  }

  const hasError = () => Boolean(errors.q || errors.dob || apiError);

  return {
    title: () => "Find a person",
    hasError,
    async load() {
      if (!q) return;
      const params = new URLSearchParams({ q });
      if (birthdate) params.set("birthdate", birthdate);
      if (cursor) params.set("cursor", cursor);
      try {
        const r = await api.get<{ people: PersonSummary[]; next: string | null }>(`/app/api/people?${params.toString()}`);
        people = r.people;
        next = r.next;
      } catch (e) {
        if (e instanceof ApiError && e.status === 400 && e.field === "q") errors.q = e.detail;
        else if (e instanceof ApiError && e.status === 400 && e.field === "birthdate") errors.dob = e.detail;
        else if (e instanceof ApiError && e.status === 401) throw e;
        else apiError = e;
      }
      loading = false;
    },
    view: () => {
      const list = [
        ...(errors.q ? [{ href: "#q", text: errors.q }] : []),
        ...(errors.dob ? [{ href: "#dob-day", text: errors.dob }] : []),
      ];
      const nextHref = () => {
        const p = new URLSearchParams({ q });
        if (birthdate) p.set("birthdate", birthdate);
        p.set("cursor", next ?? "");
        return `/find?${p.toString()}`;
      };
      return html`
        ${list.length ? errorSummary("There is a problem", list) : nothing}
        ${apiError ? apiErrorSummary(apiError) : nothing}
        <h1 tabindex="-1">Find a person</h1>
        <form novalidate @submit=${submit} role="search" aria-label="Find a person">
          <div class=${errors.q ? "nhsuk-form-group nhsuk-form-group--error" : "nhsuk-form-group"}>
            <label class="nhsuk-label nhsuk-label--s" for="q">NHS number or name</label>
            <div class="nhsuk-hint" id="q-hint">For example, 943 476 5919 or Smith</div>
            ${errorMessage("q-error", errors.q)}
            <input class=${errors.q ? "nhsuk-input nhsuk-u-width-two-thirds nhsuk-input--error" : "nhsuk-input nhsuk-u-width-two-thirds"}
              id="q" name="q" type="text" autocomplete="off" spellcheck="false" .value=${qValue}
              aria-describedby=${errors.q ? "q-hint q-error" : "q-hint"}>
          </div>
          ${dateInput("dob", "Date of birth (optional)", "For example, 27 3 1950", dob, errors.dob)}
          <button class="nhsuk-button" type="submit">Search</button>
        </form>
        ${loading ? html`<p class="nhsuk-body" role="status">Searching…</p>` : nothing}
        ${people && people.length === 0 ? html`<h2 class="nhsuk-heading-m">No one found that you may see</h2>
          <p class="nhsuk-body">Check the NHS number or the spelling of the name. You only see people registered with your organisation or on your care teams.</p>` : nothing}
        ${people && people.length > 0 ? html`
          <h2 class="nhsuk-heading-m" id="results-heading">Results</h2>
          ${table(`People matching “${q}”${cursor ? " (more results)" : ""}`, ["Name", "NHS number", "Date of birth", "Gender", "Practice"],
            people.map((p) => [
              html`<a href=${`/people/${encodeURIComponent(p.id)}`}>${p.name}</a>`,
              html`<span class="app-nowrap">${nhsNumber(p.nhs_number)}</span>`,
              longDate(p.birth_date),
              gender(p.gender),
              p.practice,
            ]), { captionSize: "s" })}
          ${next ? nextPage(nextHref()) : nothing}` : nothing}`;
    },
  };
}
