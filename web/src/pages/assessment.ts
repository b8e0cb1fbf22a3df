// The holistic assessment form (/people/:id/assessment; docs/ui.md "The holistic assessment",
// docs/app-api.md, src/webapp/assessment_api.h). The shipped Questionnaire drawn as NHS.UK
// fieldsets, one section after another: radios and checkboxes save as soon as they change, a
// text answer when you leave its box, so nothing is lost if you stop part way. Beside each
// answer: who recorded it and when. Above the form: the person's decision on who may see the
// assessment, and the needs its answers have raised. Everything is native form controls, so it
// works by keyboard alone; saves are announced in a status region.
import { html, nothing, type TemplateResult } from "lit-html";
import { api, ApiError, type PersonRecord } from "../api";
import { app, type Page } from "../app";
import { errorSummary, instant, table, tag } from "../components";

interface Coding { system?: string; code: string; display?: string }
interface QItem {
  linkId: string; text?: string; type: string; repeats?: boolean; required?: boolean;
  answerOption?: { valueCoding: Coding }[]; item?: QItem[];
}
interface Questionnaire { version: string; title?: string; item: QItem[] }
interface Answer {
  values: string[]; displays: string[];
  recorded_by: string | null; recorded_at: string | null;
}
interface Need { link_id: string; question: string; answer: string; code: string; display: string }
interface HistoryEntry { version: number; status: string; authored: string | null; answered: number; needs: number }
interface AssessmentState {
  assessment: null | {
    id: string; version: number; status: string; questionnaire_version: string; sharing: string;
    answers: Record<string, Answer>;
  };
  needs: Need[];
  history: HistoryEntry[];
}

const SHARING: [string, string, string][] = [
  ["care-team", "My care team", "Only the professionals on my care team"],
  ["care-relationship", "Everyone caring for me", "Every organisation with a care relationship with me, including my GP practice"],
  ["gp-only", "My GP practice only", "Only the staff of the GP practice I am registered with"],
];

const STATUS: Record<string, [string, "blue" | "green" | "yellow" | "grey"]> = {
  "in-progress": ["In progress", "yellow"],
  completed: ["Completed", "green"],
  amended: ["Completed, since changed", "green"],
};

let questionnaire: Questionnaire | null = null;

const id = (linkId: string) => `q-${linkId}`;

export function assessmentPage(patientId: string): Page {
  let person: PersonRecord | null = null;
  let state: AssessmentState | null = null;
  let loadError: unknown = null;
  let notFound = false;
  let error: ApiError | null = null;
  let stale = false;
  let hiddenNow = false;
  let status = "";
  let sharingChoice = "care-team";
  // Saves run one after another, each with the version the one before returned.
  let queue: Promise<void> = Promise.resolve();
  const base = `/app/api/people/${encodeURIComponent(patientId)}/assessment`;

  const current = () => state?.assessment ?? null;

  function took(r: AssessmentState, what: string) {
    state = r;
    error = null;
    if (r.assessment) sharingChoice = r.assessment.sharing;
    hiddenNow = r.assessment === null;
    status = `${what} at ${new Date().toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit" })}`;
  }

  function failed(e: unknown) {
    if (e instanceof ApiError && e.status === 401) return;
    if (e instanceof ApiError && e.status === 412) stale = true;
    else error = e instanceof ApiError ? e : new ApiError(500, "Sorry, there is a problem with joinedup", "Try again later.");
    status = "Not saved";
    app.update();
    app.focus(".nhsuk-error-summary");
  }

  function send(method: string, path: string, body: Record<string, unknown>, what: string) {
    queue = queue.then(async () => {
      if (stale) return;
      const a = current();
      const withVersion: Record<string, unknown> = { ...body, ...(a ? { version: a.version } : {}) };
      if (!a && path === base && method === "PUT") withVersion.sharing = sharingChoice;
      status = "Saving…";
      app.update();
      try {
        took(await api.request<AssessmentState>(method, path, { body: withVersion }), what);
        app.update();
      } catch (e) {
        failed(e);
      }
    });
    return queue;
  }

  const saveAnswer = (linkId: string, value: string | string[] | null) =>
    send("PUT", base, { answers: { [linkId]: value } }, "Saved");

  function choiceControl(q: QItem, answer: Answer | undefined): TemplateResult {
    const chosen = new Set(answer?.values ?? []);
    const multiple = Boolean(q.repeats);
    const kind = multiple ? "checkboxes" : "radios";
    const onChange = (e: Event) => {
      const form = (e.target as HTMLInputElement).form!;
      const values = Array.from(form.querySelectorAll<HTMLInputElement>(`input[name="${id(q.linkId)}"]:checked`)).map((i) => i.value);
      void saveAnswer(q.linkId, multiple ? values : values[0] ?? null);
    };
    return html`<div class="nhsuk-form-group">
      <fieldset class="nhsuk-fieldset" aria-describedby=${answer?.recorded_by ? `${id(q.linkId)}-who` : nothing} id=${id(q.linkId)}>
        <legend class="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">${q.text}${q.required ? nothing : html` <span class="nhsuk-u-visually-hidden">(optional)</span>`}</legend>
        ${recordedBy(q, answer)}
        ${multiple ? html`<div class="nhsuk-hint">Select all that apply</div>` : nothing}
        <div class=${`nhsuk-${kind}`}>
          ${(q.answerOption ?? []).map((o, i) => html`<div class=${`nhsuk-${kind}__item`}>
            <input class=${`nhsuk-${kind}__input`} id=${`${id(q.linkId)}-${i}`} name=${id(q.linkId)}
              type=${multiple ? "checkbox" : "radio"} value=${o.valueCoding.code}
              .checked=${chosen.has(o.valueCoding.code)} @change=${onChange}>
            <label class=${`nhsuk-label nhsuk-${kind}__label`} for=${`${id(q.linkId)}-${i}`}>${o.valueCoding.display ?? o.valueCoding.code}</label>
          </div>`)}
        </div>
      </fieldset>
    </div>`;
  }

  function textControl(q: QItem, answer: Answer | undefined): TemplateResult {
    const text = answer?.values[0] ?? "";
    const onChange = (e: Event) => { void saveAnswer(q.linkId, (e.target as HTMLTextAreaElement).value.trim() || null); };
    return html`<div class="nhsuk-form-group">
      <label class="nhsuk-label nhsuk-label--s" for=${id(q.linkId)}>${q.text}</label>
      ${recordedBy(q, answer)}
      <textarea class="nhsuk-textarea" id=${id(q.linkId)} name=${id(q.linkId)} rows="3"
        aria-describedby=${answer?.recorded_by ? `${id(q.linkId)}-who` : nothing}
        .value=${text} @change=${onChange}></textarea>
    </div>`;
  }

  function recordedBy(q: QItem, answer: Answer | undefined): TemplateResult | typeof nothing {
    if (!answer?.recorded_by) return nothing;
    return html`<div class="nhsuk-hint app-recorded-by" id=${`${id(q.linkId)}-who`}>Recorded by ${answer.recorded_by}${answer.recorded_at ? `, ${instant(answer.recorded_at)}` : ""}</div>`;
  }

  function question(q: QItem): TemplateResult {
    const answer = current()?.answers[q.linkId];
    return q.type === "choice" ? choiceControl(q, answer) : textControl(q, answer);
  }

  function sectionView(group: QItem, level: number): TemplateResult {
    const heading = level === 0
      ? html`<h2 class="nhsuk-heading-l" id=${`h-${group.linkId}`}>${group.text}</h2>`
      : html`<h3 class="nhsuk-heading-m" id=${`h-${group.linkId}`}>${group.text}</h3>`;
    return html`<section aria-labelledby=${`h-${group.linkId}`}>${heading}
      ${(group.item ?? []).map((i) => (i.type === "group" ? sectionView(i, level + 1) : question(i)))}
    </section>`;
  }

  function sharingView(): TemplateResult {
    const a = current();
    const onSubmit = (e: Event) => {
      e.preventDefault();
      const chosen = (e.target as HTMLFormElement).querySelector<HTMLInputElement>("input[name=sharing]:checked");
      if (!chosen) return;
      sharingChoice = chosen.value;
      if (a) void send("PUT", `${base}/sharing`, { sharing: chosen.value }, "Sharing decision saved");
      else app.update();
    };
    return html`<section aria-labelledby="h-sharing">
      <h2 class="nhsuk-heading-m" id="h-sharing">Who may see this assessment</h2>
      <p class="nhsuk-body">Ask the person who they agree may see what they tell you. Record their decision before you start.</p>
      <form @submit=${onSubmit} novalidate>
        <div class="nhsuk-form-group">
          <fieldset class="nhsuk-fieldset" id="sharing">
            <legend class="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">The person's decision</legend>
            <div class="nhsuk-radios">
              ${SHARING.map(([code, label, hint]) => html`<div class="nhsuk-radios__item">
                <input class="nhsuk-radios__input" id=${`sharing-${code}`} name="sharing" type="radio" value=${code}
                  aria-describedby=${`sharing-${code}-hint`} .checked=${sharingChoice === code}
                  @change=${(e: Event) => { if (!a) sharingChoice = (e.target as HTMLInputElement).value; }}>
                <label class="nhsuk-label nhsuk-radios__label" for=${`sharing-${code}`}>${label}</label>
                <div class="nhsuk-hint nhsuk-radios__hint" id=${`sharing-${code}-hint`}>${hint}</div>
              </div>`)}
            </div>
          </fieldset>
        </div>
        ${a ? html`<button class="nhsuk-button nhsuk-button--secondary" type="submit" id="save-sharing">Save their decision</button>` : nothing}
      </form>
    </section>`;
  }

  function needsView(): TemplateResult {
    const needs = state?.needs ?? [];
    return html`<section aria-labelledby="h-needs">
      <h2 class="nhsuk-heading-m" id="h-needs">Needs raised</h2>
      ${needs.length === 0 ? html`<p class="nhsuk-body">No needs raised by the answers so far.</p>`
        : table("Needs raised by the answers", ["Need (SNOMED CT)", "From the answer"], needs.map((n) => [
          html`${n.display} <span class="nhsuk-body-s app-nowrap">(${n.code})</span>`,
          html`${n.question}: <strong>${n.answer}</strong>`,
        ]), { visuallyHiddenCaption: true })}
    </section>`;
  }

  function historyView(): TemplateResult | typeof nothing {
    const done = (state?.history ?? []).filter((h) => h.status !== "in-progress");
    if (done.length === 0) return nothing;
    return html`<section aria-labelledby="h-history">
      <h2 class="nhsuk-heading-m" id="h-history">Earlier assessments</h2>
      ${table("Completed versions of this assessment", ["Version", "Status", "Answers last changed", "Answers", "Needs"], done.map((h) => [
        String(h.version), STATUS[h.status]?.[0] ?? h.status, h.authored ? instant(h.authored) : "", String(h.answered), String(h.needs),
      ]), { visuallyHiddenCaption: true })}
    </section>`;
  }

  function actions(): TemplateResult | typeof nothing {
    const a = current();
    if (!a) return nothing;
    if (a.status === "in-progress") {
      return html`<button class="nhsuk-button" type="button" id="finish"
        @click=${() => void send("PUT", base, { complete: true }, "Assessment completed")}>Finish the assessment</button>`;
    }
    return html`<button class="nhsuk-button nhsuk-button--secondary" type="button" id="reassess"
      @click=${() => void send("POST", `${base}/reassess`, {}, "Reassessment started")}>Start a reassessment</button>`;
  }

  function errors(): TemplateResult | typeof nothing {
    if (stale) {
      return errorSummary("Someone else has changed this", [], html`Someone else changed this assessment after you opened it.
        <a href=${location.pathname} id="reload" @click=${(e: Event) => { e.preventDefault(); void app.navigate(location.pathname, true); }}>Reload the assessment</a> to see their changes, then make yours again.`);
    }
    if (!error) return nothing;
    const target = error.field?.startsWith("answers.") ? `#${id(error.field.slice(8))}` : error.field ? `#${error.field}` : "";
    return errorSummary(error.title, target ? [{ href: target, text: error.detail }] : [], target ? undefined : error.detail);
  }

  return {
    title: () => (person ? `Holistic assessment: ${person.person.name}` : "Holistic assessment"),
    hasError: () => Boolean(error || stale),
    async load() {
      try {
        const [p, q, s] = await Promise.all([
          api.get<PersonRecord>(`/app/api/people/${encodeURIComponent(patientId)}`),
          questionnaire ? Promise.resolve(questionnaire) : api.get<Questionnaire>("/app/api/assessment/questionnaire"),
          api.get<AssessmentState>(base),
        ]);
        person = p;
        questionnaire = q;
        state = s;
        if (s.assessment) sharingChoice = s.assessment.sharing;
      } catch (e) {
        if (e instanceof ApiError && e.status === 404) notFound = true;
        else loadError = e;
      }
    },
    view() {
      const back = html`<a class="nhsuk-back-link" href=${`/people/${encodeURIComponent(patientId)}`}>Back to the person's record</a>`;
      if (notFound) return html`<h1 tabindex="-1">Page not found</h1><p class="nhsuk-body">No one with this record can be found.</p>`;
      if (loadError) return html`${back}<h1 tabindex="-1">Holistic assessment</h1>${errorSummary("Sorry, there is a problem with joinedup", [], "Try again later.")}`;
      if (!person || !questionnaire || !state) return html`<p class="nhsuk-body" role="status">Loading…</p>`;
      const a = current();
      const [statusText, colour]: [string, "blue" | "green" | "yellow" | "grey"] =
        a ? STATUS[a.status] ?? [a.status, "grey"] : ["Not started", "grey"];
      return html`${back}
        ${errors()}
        <span class="nhsuk-caption-l">${person.person.name}</span>
        <h1 tabindex="-1">Holistic assessment</h1>
        <p class="nhsuk-body">${tag(statusText, colour)}
          ${a ? html` <span class="nhsuk-body-s">Version ${a.version}, questions version ${a.questionnaire_version}</span>` : nothing}</p>
        <p class="nhsuk-body" aria-live="polite" id="save-status">${status}</p>
        ${hiddenNow && status ? html`<div class="nhsuk-inset-text"><span class="nhsuk-u-visually-hidden">Information: </span>
          <p>Saved. Under the person's decision you can no longer see this assessment.</p></div>` : nothing}
        ${sharingView()}
        ${needsView()}
        <form novalidate @submit=${(e: Event) => e.preventDefault()} id="assessment-form">
          ${questionnaire.item.map((g) => sectionView(g, 0))}
        </form>
        ${actions()}
        ${historyView()}`;
    },
  };
}
