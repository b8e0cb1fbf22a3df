import { html, nothing } from "lit-html";
import { api, ApiError, NETWORK_ERROR_TEXT } from "../api";
import { app, type Page } from "../app";
import { errorMessage, errorSummary } from "../components";

const FLASH_TEXT = {
  "signed-out": "You have signed out",
  inactive: "You were signed out because you were inactive",
  ended: "Your session has ended",
} as const;

export function signInPage(): Page {
  let username = "";
  let errors: { username?: string; password?: string; form?: string; title?: string } = {};
  let busy = false;
  const flash = app.flash;

  async function submit(e: Event) {
    e.preventDefault();
    if (busy) return;
    const form = e.target as HTMLFormElement;
    const data = new FormData(form);
    username = String(data.get("username") ?? "").trim();
    const password = String(data.get("password") ?? "");
    errors = {};
    if (!username) errors.username = "Enter your username";
    if (!password) errors.password = "Enter your password";
    if (errors.username || errors.password) return show();
    busy = true;
    app.update();
    try {
      await api.signIn(username, password);
      busy = false;
      await app.signedIn();
      return;
    } catch (err) {
      busy = false;
      if (err instanceof ApiError && err.status === 429) {
        const mins = Math.max(1, Math.ceil((err.retryAfterS ?? 60) / 60));
        errors = { form: `Too many attempts. Try again in ${mins} ${mins === 1 ? "minute" : "minutes"}.` };
      } else if (err instanceof ApiError && (err.status === 401 || err.status === 400)) {
        errors = { password: "Enter a correct username and password" };
      } else if (err instanceof ApiError && err.status === 0) {
        errors = { title: "joinedup could not be reached", form: NETWORK_ERROR_TEXT };
      } else {
        errors = { title: err instanceof ApiError ? err.title : "Sorry, there is a problem", form: err instanceof ApiError ? err.detail : "Try again later." };
      }
      const pw = form.querySelector<HTMLInputElement>("#password");
      if (pw) pw.value = "";
      show();
    }
  }

  function show() {
    app.update();
    app.focus(".nhsuk-error-summary");
  }

  const hasError = () => Boolean(errors.username || errors.password || errors.form);

  return {
    title: () => "Sign in",
    hasError,
    view: () => {
      const list = [
        ...(errors.username ? [{ href: "#username", text: errors.username }] : []),
        ...(errors.password ? [{ href: "#password", text: errors.password }] : []),
      ];
      return html`<div class="nhsuk-grid-row"><div class="nhsuk-grid-column-two-thirds">
        ${hasError() ? errorSummary(errors.title ?? "There is a problem", list, errors.form) : nothing}
        ${flash && !hasError() ? html`<div class="nhsuk-notification-banner nhsuk-notification-banner--success" role="alert" aria-labelledby="flash-title">
          <div class="nhsuk-notification-banner__header"><h2 class="nhsuk-notification-banner__title" id="flash-title">${flash === "signed-out" ? "Success" : "Important"}</h2></div>
          <div class="nhsuk-notification-banner__content"><p class="nhsuk-notification-banner__heading">${FLASH_TEXT[flash]}</p>
          ${flash !== "signed-out" ? html`<p class="nhsuk-body">Sign in again to continue.</p>` : nothing}</div>
        </div>` : nothing}
        <h1 tabindex="-1">Sign in to joinedup</h1>
        <p class="nhsuk-body">Use the username and password your organisation gave you.</p>
        <form method="post" action="/auth/session" novalidate @submit=${submit}>
          <div class=${errors.username ? "nhsuk-form-group nhsuk-form-group--error" : "nhsuk-form-group"}>
            <label class="nhsuk-label" for="username">Username</label>
            ${errorMessage("username-error", errors.username)}
            <input class=${errors.username ? "nhsuk-input nhsuk-input--error" : "nhsuk-input"} id="username" name="username" type="text"
              autocomplete="username" spellcheck="false" autocapitalize="none" .value=${username}
              aria-describedby=${errors.username ? "username-error" : nothing}>
          </div>
          <div class=${errors.password ? "nhsuk-form-group nhsuk-form-group--error" : "nhsuk-form-group"}>
            <label class="nhsuk-label" for="password">Password</label>
            ${errorMessage("password-error", errors.password)}
            <input class=${errors.password ? "nhsuk-input nhsuk-input--error" : "nhsuk-input"} id="password" name="password" type="password"
              autocomplete="current-password" aria-describedby=${errors.password ? "password-error" : nothing}>
          </div>
          <button class="nhsuk-button" type="submit" ?disabled=${busy} aria-disabled=${busy ? "true" : "false"}>Sign in</button>
        </form>
      </div></div>`;
    },
  };
}
