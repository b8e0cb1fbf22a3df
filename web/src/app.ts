// The single-page application: the NHS.UK page shell (skip link, header, main, footer), history
// routing, the signed-in user (/app/api/me) and the idle-session warning.
import { html, nothing, render, type TemplateResult } from "lit-html";
import { api, ApiError, type Me } from "./api";

export interface Page {
  /** Where you are, for document.title ("Find a person – joinedup"). */
  title(): string;
  /** The contents of <main>. */
  view(): TemplateResult;
  /** Loads what the page shows; the page renders (with its own "loading" state) meanwhile. */
  load?(): Promise<void>;
  /** Called when the page is left. */
  leave?(): void;
  /** True while an error summary is shown: the title starts "Error: " (NHS.UK convention). */
  hasError?(): boolean;
  /** After each render (e.g. to draw a chart on a canvas the view made). */
  updated?(): void;
}

export interface Route {
  screen: string | null; // the /app/api/me screen that grants it; null: any signed-in user
  make(params: Record<string, string>, query: URLSearchParams): Page;
}

export type Flash = "signed-out" | "inactive" | "ended" | null;

const SCREEN_LINKS: Record<string, { href: string; text: string; description: string }> = {
  find: { href: "/find", text: "Find a person", description: "Search by NHS number or name for the people you care for." },
  worklist: { href: "/worklist", text: "Case finding", description: "The people you may see, highest emergency-admission risk first, from the latest stratification run." },
  caseload: { href: "/caseload", text: "My caseload", description: "Your care teams' caseloads against their capacity, their waiting lists, and the people you coordinate." },
  audit: { href: "/audit", text: "Audit trail", description: "Who read or changed which record, and every break-glass alert." },
  population: { href: "/population", text: "Population", description: "The latest stratification run as counts: segments per practice, age and sex, cost concentration, risk and movement." },
  admin: { href: "/admin", text: "Administration", description: "Users, organisations and care teams: who may sign in, where they work and which teams they are on." },
  "my-record": { href: "/my-record", text: "My record", description: "Your details, who can see your record and your sharing choice." },
};

const ROLE_TITLES: Record<string, string> = {
  gp: "GP", nurse: "Nurse", "case-manager": "Case manager", "care-assistant": "Care assistant",
  "social-worker": "Social worker", "mental-health": "Mental health practitioner", pharmacist: "Pharmacist",
  "link-worker": "Link worker", commissioner: "Commissioner", analyst: "Analyst", "privacy-officer": "Privacy officer",
  administrator: "Administrator", patient: "Patient",
};

/** "Dr Demo GP (GP)": the display name (else the username) and the role's title. */
export function whoIsSignedIn(me: Me): string {
  const name = me.user.display_name || me.user.username;
  const title = me.user.role_title || ROLE_TITLES[me.user.role] || me.user.role;
  return title ? `${name} (${title})` : name;
}

/** Role titles for the access log ("GP at A81001"). */
export function roleTitle(role: string | undefined): string {
  return role ? ROLE_TITLES[role] ?? role : "";
}

export function screenLinks(me: Me) {
  const links = me.screens.filter((s) => s in SCREEN_LINKS).map((s) => SCREEN_LINKS[s]);
  // The privacy officer's alert queue lives with the audit trail (/audit?view=alerts).
  if (me.screens.includes("audit")) {
    links.splice(links.findIndex((l) => l.href === "/audit") + 1, 0,
      { href: "/audit?view=alerts", text: "Alerts", description: "Break-glass and consent-override alerts to review and acknowledge." });
  }
  // A patient's own plan lives with their record (the "my-record" screen).
  if (me.screens.includes("my-record")) {
    links.push({ href: "/my-plan", text: "My plan", description: "Your care and support plan: about you, what matters to you, and what your care team will do." },
      { href: "/my-goals", text: "My goals", description: "Your goals in your own words: change them, say how it is going, or say no thank you." },
      { href: "/who-to-call", text: "Who to call", description: "Who to call if you become unwell, in working hours and at night and weekends." });
  }
  return links;
}

class App {
  me: Me | null = null;
  flash: Flash = null;
  returnTo: string | null = null;
  private page: Page | null = null;
  private root!: HTMLElement;
  private routes: [RegExp, string[], Route][] = [];
  private notFound!: () => Page;
  private signIn!: () => Page;
  private warning = false;
  private warnBeforeS = 120;
  private timer: number | undefined;
  private firstRender = true;
  private navSeq = 0;
  private signingOut = false;

  start(root: HTMLElement, routes: Record<string, Route>, notFound: () => Page, signIn: () => Page) {
    this.root = root;
    root.replaceChildren(); // the static "Loading joinedup…" text from index.html
    for (const [pattern, route] of Object.entries(routes)) {
      const names: string[] = [];
      const re = new RegExp("^" + pattern.replace(/:([a-z]+)/g, (_, n: string) => { names.push(n); return "([^/]+)"; }) + "/?$");
      this.routes.push([re, names, route]);
    }
    this.notFound = notFound;
    this.signIn = signIn;
    document.addEventListener("click", (e) => this.onClick(e));
    window.addEventListener("popstate", () => void this.route(false));
    api.onUnauthorised(() => this.ended("ended"));
    void this.boot();
  }

  private async boot() {
    try {
      const s = await api.session();
      if (s) await this.loadMe();
    } catch (e) {
      // The server could not be reached: say so rather than show a blank page.
      this.page = errorPage(e);
      this.update();
      return;
    }
    await this.route(false);
  }

  async loadMe() {
    this.me = await api.get<Me>("/app/api/me");
    api.idleTimeoutS = this.me.session?.idle_timeout_s ?? api.idleTimeoutS;
    // The call that brought /app/api/me counted as activity with the old default idle time.
    api.idleEndsAt = api.lastActivity + api.idleTimeoutS * 1000;
    // Warn warn_before_s before the end, never for more than half of the idle time (the server
    // already keeps it so; the clamp stays in case of an older server).
    this.warnBeforeS = Math.min(this.me.session?.warn_before_s ?? 120, api.idleTimeoutS / 2);
    this.startIdleTimer();
  }

  /** After a successful sign-in. */
  async signedIn() {
    this.flash = null;
    await this.loadMe();
    const to = this.returnTo && this.returnTo !== "/sign-in" ? this.returnTo : "/";
    this.returnTo = null;
    await this.navigate(to, true);
  }

  async signOut() {
    if (this.signingOut) return;
    this.signingOut = true;
    try {
      await api.signOut();
    } catch (e) {
      this.signingOut = false;
      if (e instanceof ApiError && e.status === 401) { this.ended("signed-out"); return; }
      // A refused sign-out (e.g. 403, CSRF) keeps the session: show why on the page.
      this.showError(e);
      return;
    }
    this.signingOut = false;
    this.ended("signed-out");
  }

  /** Show an API failure in place of the current page's content (never a blank page). */
  showError(e: unknown) {
    this.page?.leave?.();
    this.page = errorPage(e);
    this.update();
    this.focus(".nhsuk-error-summary");
  }

  /** The session is over (signed out, idle, or any 401): back to sign-in with a message. */
  ended(flash: Flash) {
    this.stopIdleTimer();
    api.csrf = null;
    const wasSignedIn = this.me !== null;
    this.me = null;
    this.flash = flash;
    const path = location.pathname;
    if (flash === "ended" && path !== "/sign-in") this.returnTo = path + location.search;
    if (wasSignedIn || path !== "/sign-in") void this.navigate("/sign-in", true);
  }

  async navigate(path: string, replace = false) {
    if (replace) history.replaceState(null, "", path);
    else history.pushState(null, "", path);
    await this.route(true);
  }

  private onClick(e: MouseEvent) {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const a = (e.target as Element | null)?.closest?.("a");
    if (!a || a.target || a.hasAttribute("download")) return;
    const href = a.getAttribute("href");
    if (!href || !href.startsWith("/") || href.startsWith("//")) return;
    if (href.startsWith("/app/api") || href.startsWith("/auth") || href.startsWith("/fhir")) return;
    e.preventDefault();
    if (href.startsWith("#")) return;
    void this.navigate(href);
  }

  private match(path: string): { route: Route; params: Record<string, string> } | null {
    for (const [re, names, route] of this.routes) {
      const m = re.exec(path);
      if (m) {
        const params: Record<string, string> = {};
        names.forEach((n, i) => { params[n] = decodeURIComponent(m[i + 1]); });
        return { route, params };
      }
    }
    return null;
  }

  private async route(moveFocus: boolean): Promise<void> {
    const seq = ++this.navSeq;
    const path = location.pathname;
    const query = new URLSearchParams(location.search);
    this.page?.leave?.();
    let page: Page;
    if (path === "/sign-in") {
      if (this.me) { history.replaceState(null, "", "/"); return this.route(moveFocus); }
      page = this.signIn();
    } else if (!this.me) {
      this.returnTo = path === "/" ? null : path + location.search;
      history.replaceState(null, "", "/sign-in");
      page = this.signIn();
    } else {
      const m = this.match(path);
      if (!m || (m.route.screen !== null && !this.me.screens.includes(m.route.screen))) page = this.notFound();
      else page = m.route.make(m.params, query);
    }
    this.page = page;
    this.update();
    if (moveFocus && !this.firstRender) this.focus("h1");
    this.firstRender = false;
    if (page.load) {
      try {
        await page.load();
      } catch (e) {
        if (seq !== this.navSeq) return;
        if (e instanceof ApiError && e.status === 401) return; // ended() took over
        this.page = errorPage(e);
      }
      if (seq !== this.navSeq) return;
      this.update();
      if (moveFocus) {
        if (this.page.hasError?.()) this.focus(".nhsuk-error-summary");
      }
    }
  }

  /** Re-render the whole page (cheap: lit-html updates only what changed). */
  update() {
    if (!this.page) return;
    const t = this.page.title();
    document.title = `${this.page.hasError?.() ? "Error: " : ""}${t} – joinedup`;
    render(this.shell(this.page.view()), this.root);
    this.syncDialog();
    this.page.updated?.();
  }

  /** Move focus to the first element matching selector (made focusable with tabindex=-1). */
  focus(selector: string) {
    requestAnimationFrame(() => {
      const el = this.root.querySelector<HTMLElement>(selector);
      if (!el) return;
      if (!el.hasAttribute("tabindex")) el.setAttribute("tabindex", "-1");
      el.focus();
    });
  }

  private shell(main: TemplateResult): TemplateResult {
    const me = this.me;
    const path = location.pathname;
    const links = me ? screenLinks(me) : [];
    return html`
      <a class="nhsuk-skip-link" href="#maincontent" @click=${skipToMain}>Skip to main content</a>
      <header class="nhsuk-header" role="banner">
        <div class="nhsuk-header__container nhsuk-width-container">
          <div class="nhsuk-header__service">
            <a class="nhsuk-header__service-logo" href="/" aria-label="joinedup homepage">
              <svg class="nhsuk-header__logo" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 80" height="40" width="100" focusable="false" role="img" aria-label="NHS">
                <title>NHS</title>
                <path fill="currentcolor" d="M200 0v80H0V0h200Zm-27.5 5.5c-14.5 0-29 5-29 22 0 10.2 7.7 13.5 14.7 16.3l.7.3c5.4 2 10.1 3.9 10.1 8.4 0 6.5-8.5 7.5-14 7.5s-12.5-1.5-16-3.5L135 70c5.5 2 13.5 3.5 20 3.5 15.5 0 32-4.5 32-22.5 0-19.5-25.5-16.5-25.5-25.5 0-5.5 5.5-6.5 12.5-6.5a35 35 0 0 1 14.5 3l4-13.5c-4.5-2-12-3-20-3Zm-131 2h-22l-14 65H22l9-45h.5l13.5 45h21.5l14-65H64l-9 45h-.5l-13-45Zm63 0h-18l-13 65h17l6-28H117l-5.5 28H129l13.5-65H125L119.5 32h-20l5-24.5Z"/>
              </svg>
              <span class="nhsuk-header__service-name">joinedup</span>
            </a>
          </div>
          ${me ? html`<nav class="nhsuk-header__account" aria-label="Account">
            <ul class="nhsuk-header__account-list">
              <li class="nhsuk-header__account-item">
                <svg class="nhsuk-icon nhsuk-icon--user" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" width="16" height="16" focusable="false" aria-hidden="true">
                  <path d="M12 1a11 11 0 1 1 0 22 11 11 0 0 1 0-22Zm0 2a9 9 0 0 0-5 16.5V18a4 4 0 0 1 4-4h2a4 4 0 0 1 4 4v1.5A9 9 0 0 0 12 3Zm0 3a3.5 3.5 0 1 1-3.5 3.5A3.4 3.4 0 0 1 12 6Z"/>
                </svg>
                ${whoIsSignedIn(me)}
              </li>
              <li class="nhsuk-header__account-item">
                <button class="nhsuk-header__account-button" type="button" @click=${() => void this.signOut()}>Sign out</button>
              </li>
            </ul>
          </nav>` : nothing}
        </div>
        ${links.length ? html`<nav class="nhsuk-header__navigation" aria-label="Menu">
          <div class="nhsuk-header__navigation-container nhsuk-width-container">
            <ul class="nhsuk-header__navigation-list">
              ${[{ href: "/", text: "Home" }, ...links].map((l) => {
                const alerts = path === "/audit" && new URLSearchParams(location.search).get("view") === "alerts";
                const current = l.href === "/" ? path === "/"
                  : l.href === "/audit?view=alerts" ? alerts
                  : l.href === "/audit" ? path === "/audit" && !alerts
                  : path.startsWith(l.href) || (l.href === "/find" && path.startsWith("/people/"));
                return html`<li class=${current ? "nhsuk-header__navigation-item nhsuk-header__navigation-item--current" : "nhsuk-header__navigation-item"}>
                  <a class="nhsuk-header__navigation-link" href=${l.href} aria-current=${current ? "page" : nothing}>${l.text}</a>
                </li>`;
              })}
            </ul>
          </div>
        </nav>` : nothing}
      </header>
      <div class="nhsuk-width-container">
        <main class="nhsuk-main-wrapper" id="maincontent" tabindex="-1">
          ${main}
        </main>
      </div>
      <footer class="nhsuk-footer" role="contentinfo">
        <div class="nhsuk-width-container">
          <div class="nhsuk-footer__meta">
            <h2 class="nhsuk-u-visually-hidden">Support links</h2>
            <p class="nhsuk-body-s">joinedup: integrated care records. Synthetic data only in this demonstration. Every read is recorded in the audit trail.</p>
          </div>
        </div>
      </footer>
      ${me ? this.dialog() : nothing}`;
  }

  // ---- Idle session ----------------------------------------------------------------------------

  private startIdleTimer() {
    this.stopIdleTimer();
    this.timer = window.setInterval(() => this.tick(), 1000);
  }

  private stopIdleTimer() {
    if (this.timer !== undefined) window.clearInterval(this.timer);
    this.timer = undefined;
    this.warning = false;
  }

  private tick() {
    if (!this.me) return;
    const left = api.idleEndsAt - Date.now();
    if (left <= 0) {
      this.warning = false;
      this.stopIdleTimer();
      // Best effort: the server has ended the session already, or will now.
      api.signOut().catch(() => undefined).finally(() => this.ended("inactive"));
      return;
    }
    const warn = left <= this.warnBeforeS * 1000;
    if (warn !== this.warning || warn) {
      const opening = warn && !this.warning;
      this.warning = warn;
      this.update();
      if (opening) this.focus("#session-stay");
    }
  }

  private async staySignedIn() {
    try {
      const s = await api.session();
      if (!s) { this.ended("ended"); return; }
      this.warning = false;
      this.update();
    } catch (e) {
      this.warning = false;
      this.showError(e);
    }
  }

  private dialog(): TemplateResult {
    const left = Math.max(0, Math.ceil((api.idleEndsAt - Date.now()) / 1000));
    const when = left >= 120 ? `${Math.ceil(left / 60)} minutes` : left > 60 ? `${left} seconds` : left === 1 ? "1 second" : `${left} seconds`;
    return html`<dialog class="app-dialog" id="session-warning" role="alertdialog" aria-modal="true"
        aria-labelledby="session-warning-title" aria-describedby="session-warning-text"
        @cancel=${(e: Event) => { e.preventDefault(); void this.staySignedIn(); }}>
      <h2 id="session-warning-title" class="nhsuk-heading-m">You are about to be signed out</h2>
      <p id="session-warning-text" class="nhsuk-body">For your security, joinedup will sign you out in ${when} because you have been inactive.</p>
      <div class="nhsuk-button-group">
        <button class="nhsuk-button" id="session-stay" type="button" @click=${() => void this.staySignedIn()}>Stay signed in</button>
        <button class="nhsuk-button nhsuk-button--secondary" type="button" @click=${() => void this.signOut()}>Sign out</button>
      </div>
    </dialog>`;
  }

  private syncDialog() {
    const d = this.root.querySelector<HTMLDialogElement>("#session-warning");
    if (!d) return;
    if (this.warning && !d.open) d.showModal();
    else if (!this.warning && d.open) d.close();
  }
}

function skipToMain(e: Event) {
  e.preventDefault();
  const main = document.getElementById("maincontent");
  main?.focus();
  main?.scrollIntoView();
}

/** A page that only says what went wrong (an API failure before a page could show anything). */
export function errorPage(e: unknown): Page {
  const network = e instanceof ApiError && e.status === 0;
  const title = e instanceof ApiError ? e.title : "Sorry, there is a problem with joinedup";
  const detail = e instanceof ApiError ? e.detail : "Try again later.";
  return {
    title: () => network ? "joinedup could not be reached" : title,
    hasError: () => true,
    view: () => html`<div class="nhsuk-grid-row"><div class="nhsuk-grid-column-two-thirds">
      <div class="nhsuk-error-summary" aria-labelledby="error-summary-title" tabindex="-1">
        <div role="alert">
          <h2 class="nhsuk-error-summary__heading" id="error-summary-title">${title}</h2>
          <div class="nhsuk-error-summary__body"><p>${detail}</p></div>
        </div>
      </div>
      <h1 tabindex="-1">${network ? "joinedup could not be reached" : title}</h1>
      <p><a href="/">Go to the home page</a> or <a href=${location.pathname + location.search} @click=${(ev: Event) => { ev.preventDefault(); location.reload(); }}>try again</a>.</p>
    </div></div>`,
  };
}

export const app = new App();
