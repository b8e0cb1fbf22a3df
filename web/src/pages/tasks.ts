// Tasks (docs/ui.md "Tasks"; docs/app-api.md "Tasks and flags"):
//   /tasks                         "My tasks": the open tasks I own, soonest due (so overdue) first
//   /tasks?team=N                  my team's: open tasks about the people on its caseload
//   /tasks?…&done=TASK             a form to mark one done (an optional note)
//   /tasks?…&resolve=TASK          a form to resolve the concern (flag) it answers, with a note
// Each change posts the version shown; someone else's change first is the server's 412.
import { html, nothing, type TemplateResult } from "lit-html";
import { api, ApiError, type TaskItem } from "../api";
import { app, type Page } from "../app";
import { errorMessage, errorSummary, instant, nhsNumber, table, tag } from "../components";

let flash: string | null = null;

export function tasksPage(q: URLSearchParams): Page {
  const team = q.get("team") ?? "";
  const doneId = q.get("done");
  const resolveId = q.get("resolve");
  const listHref = team ? `/tasks?team=${encodeURIComponent(team)}` : "/tasks";
  const heading = team ? "Your team's tasks" : "My tasks";
  let tasks: TaskItem[] | null = null;
  let loadError: ApiError | null = null;
  let formError: ApiError | null = null;
  let noteError: string | undefined;
  let busy = false;
  const done = flash;
  flash = null;

  const chosen = () => tasks?.find((t) => t.id === (doneId ?? resolveId)) ?? null;

  async function submit(e: Event, t: TaskItem, resolving: boolean) {
    e.preventDefault();
    if (busy) return;
    const note = String(new FormData(e.target as HTMLFormElement).get("note") ?? "").trim();
    formError = null;
    noteError = undefined;
    if (resolving && !note) {
      noteError = "Say how the concern was resolved";
      app.update();
      app.focus(".nhsuk-error-summary");
      return;
    }
    busy = true;
    app.update();
    try {
      if (resolving && t.flag) {
        await api.request("POST", `/app/api/flags/${encodeURIComponent(t.flag.id)}/resolve`, { body: { version: t.flag.version, note } });
        flash = `Concern resolved for ${t.person.name}: ${t.flag.text}`;
      } else {
        await api.request("POST", `/app/api/tasks/${encodeURIComponent(t.id)}/complete`, { body: { version: t.version, ...(note ? { note } : {}) } });
        flash = `Done: ${t.description}`;
      }
      busy = false;
      await app.navigate(listHref);
    } catch (err) {
      busy = false;
      if (err instanceof ApiError && err.status === 401) return;
      if (err instanceof ApiError && err.field === "note") noteError = err.detail;
      else formError = err instanceof ApiError ? err : new ApiError(500, "Sorry, there is a problem with joinedup", "Try again later.");
      app.update();
      app.focus(".nhsuk-error-summary");
    }
  }

  function dueCell(t: TaskItem): TemplateResult {
    if (!t.due) return html`No due time`;
    return html`<span class="app-nowrap">${instant(t.due)}</span>${t.overdue ? html` ${tag("Overdue", "red")}` : nothing}`;
  }

  function actions(t: TaskItem): TemplateResult {
    const hidden = html`<span class="nhsuk-u-visually-hidden">: ${t.description} (${t.person.name})</span>`;
    return html`<ul class="nhsuk-list app-actions">
      <li><a href=${`${listHref}${team ? "&" : "?"}done=${encodeURIComponent(t.id)}`}>Mark as done${hidden}</a></li>
      ${t.flag && t.flag.status === "active"
        ? html`<li><a href=${`${listHref}${team ? "&" : "?"}resolve=${encodeURIComponent(t.id)}`}>Resolve the concern${hidden}</a></li>` : nothing}
    </ul>`;
  }

  function listView(list: TaskItem[]): TemplateResult {
    const overdue = list.filter((t) => t.overdue).length;
    return html`
      <p class="nhsuk-lede-text">${list.length === 0 ? "Nothing to do." : `${list.length} open ${list.length === 1 ? "task" : "tasks"}${overdue ? `, ${overdue} overdue` : ""}: soonest due first.`}</p>
      ${list.length === 0 ? nothing : table(heading, ["Due", "Person", "Task", "Priority", "Concern", "Owner", "Actions"], list.map((t) => [
        dueCell(t),
        html`<a href=${`/people/${encodeURIComponent(t.person.id)}`}>${t.person.name || `Person ${t.person.id}`}</a><br><span class="app-nowrap">${nhsNumber(t.person.nhs_number ?? "")}</span>`,
        t.description || "No description",
        t.priority === "routine" ? "Routine" : tag(t.priority === "asap" ? "As soon as possible" : t.priority === "stat" ? "Immediately" : "Urgent", "orange"),
        t.flag ? html`${t.flag.text}${t.flag.status !== "active" ? html` ${tag("Resolved", "grey")}` : nothing}` : "None",
        t.owner || "Not named",
        actions(t),
      ]), { visuallyHiddenCaption: true })}
      ${team ? html`<p class="nhsuk-body"><a href="/tasks">My tasks</a></p>` : nothing}
      <p class="nhsuk-body"><a href="/caseload">My caseload</a></p>`;
  }

  function formView(t: TaskItem, resolving: boolean): TemplateResult {
    const title = resolving ? "Resolve the concern" : "Mark the task as done";
    return html`
      ${noteError ? errorSummary("There is a problem", [{ href: "#note", text: noteError }]) : nothing}
      ${formError?.status === 412 ? errorSummary("Someone else has changed this", [], html`It changed after you opened this page. <a href=${listHref}>Go back to the tasks</a> to see the latest.`)
        : formError ? errorSummary(formError.title, [], formError.detail) : nothing}
      <span class="nhsuk-caption-l">${t.person.name}</span>
      <h1 tabindex="-1">${title}</h1>
      <p class="nhsuk-body">${resolving && t.flag ? t.flag.text : t.description}</p>
      <form novalidate @submit=${(e: Event) => submit(e, t, resolving)}>
        <div class=${noteError ? "nhsuk-form-group nhsuk-form-group--error" : "nhsuk-form-group"}>
          <label class="nhsuk-label" for="note">${resolving ? "How was it resolved?" : "Note (optional)"}</label>
          <div class="nhsuk-hint" id="note-hint">${resolving ? "For example: home on Tuesday, plan reviewed with her. The note stays with the flag." : "What was done, if it helps the team."}</div>
          ${errorMessage("note", noteError)}
          <textarea class=${noteError ? "nhsuk-textarea nhsuk-textarea--error" : "nhsuk-textarea"} id="note" name="note" rows="3"
            aria-describedby=${noteError ? "note-hint note-error" : "note-hint"}></textarea>
        </div>
        <button class="nhsuk-button" type="submit" ?disabled=${busy}>${resolving ? "Resolve the concern" : "Mark as done"}</button>
      </form>
      <p class="nhsuk-body"><a href=${listHref}>Cancel and go back to the tasks</a></p>`;
  }

  return {
    title: () => (doneId || resolveId ? (resolveId ? "Resolve the concern" : "Mark the task as done") : heading),
    hasError: () => Boolean(loadError || formError || noteError),
    async load() {
      try {
        tasks = (await api.get<{ tasks: TaskItem[] }>(team ? `/app/api/tasks?team=${encodeURIComponent(team)}` : "/app/api/tasks")).tasks;
      } catch (e) {
        if (e instanceof ApiError && e.status === 401) throw e;
        loadError = e instanceof ApiError ? e : new ApiError(500, "Sorry, there is a problem with joinedup", "Try again later.");
      }
    },
    view: () => {
      if (loadError) return html`${errorSummary(loadError.title, [], loadError.detail)}<h1 tabindex="-1">${heading}</h1>`;
      if (!tasks) return html`<h1 tabindex="-1">${heading}</h1><p class="nhsuk-body" role="status">Loading…</p>`;
      const t = chosen();
      if ((doneId || resolveId) && t) return formView(t, Boolean(resolveId && t.flag));
      return html`
        ${done ? html`<div class="nhsuk-notification-banner nhsuk-notification-banner--success" role="alert" aria-labelledby="tasks-done-title">
          <div class="nhsuk-notification-banner__header"><h2 class="nhsuk-notification-banner__title" id="tasks-done-title">Success</h2></div>
          <div class="nhsuk-notification-banner__content"><p class="nhsuk-notification-banner__heading">${done}</p></div>
        </div>` : nothing}
        ${(doneId || resolveId) && !t ? errorSummary("That task is not open", [], "It may have been done already. The list below is the latest.") : nothing}
        <h1 tabindex="-1">${heading}</h1>
        ${listView(tasks)}`;
    },
  };
}
