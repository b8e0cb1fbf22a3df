// The JSON API (docs/app-api.md) and the session (/auth/session): one fetch wrapper that keeps
// the CSRF token in memory, counts every call as activity (for the idle warning) and turns every
// failure into an ApiError the pages show in an NHS.UK error summary.

export interface User {
  username: string;
  display_name?: string;
  role: string;
  role_title?: string;
  organisation: string;
}

export interface SessionInfo {
  csrf_token: string;
  expires_in: number;
  idle_expires_in: number;
  user: User;
}

export interface Me {
  user: User;
  screens: string[];
  patient_id?: string | null;
  may_break_glass?: boolean;
  session?: { idle_timeout_s?: number; warn_before_s?: number };
}

export interface PersonSummary {
  id: string;
  name: string;
  nhs_number: string;
  birth_date: string;
  gender: string;
  practice: string;
}

export interface Section<T> {
  shown: boolean;
  reason?: string;
  items?: T[];
}

export interface Person {
  id: string;
  name: string;
  nhs_number: string;
  birth_date: string;
  age?: number;
  gender: string;
  address?: string;
  telephone?: string;
  practice: string;
  practice_name?: string;
  primary_care_home?: string;
}

export interface Related { name: string; relationship: string; telephone?: string }
export interface ConsentItem { id: string; decision: "permit" | "deny" | string; text?: string; date?: string }
export interface Condition { name: string; code?: string; system?: string; onset?: string }
export interface Medication { name: string; code?: string; authored?: string; status?: string }
export interface Activity { date: string; end?: string; kind?: string; description?: string }
export interface RiskItem { date: string; run?: number | string; admission_risk?: number | null; notes?: string[] }
export interface FrailtyDeficit { deficit: string; code?: string; date?: string; reason?: string }
/** The electronic frailty index today (docs/app-api.md "Person page: frailty deficits"). */
export interface FrailtySection extends Section<FrailtyDeficit> {
  efi?: number | null;
  deficits?: number;
  category?: string;
}

export interface PersonRecord {
  person: Person;
  break_glass: boolean;
  sections: {
    related?: Section<Related>;
    consent?: Section<ConsentItem>;
    conditions?: Section<Condition>;
    medications?: Section<Medication>;
    activity?: Section<Activity>;
    risk?: Section<RiskItem>;
    frailty?: FrailtySection;
  };
}

export interface AuditEvent {
  recorded: string;
  user: string;
  action: string;
  subtype?: string;
  outcome: string;
  /** The people the event is about: `patients` (contract) or `patient_keys` (the audit's own keys). */
  patients?: string[];
  patient_keys?: string[];
  query?: string;
  break_glass?: boolean;
  break_glass_reason?: string;
}

/** One event of a person's access log, or an alert (docs/app-api.md). */
export interface Access {
  id: string;
  recorded: string;
  action: string;
  subtype: string;
  outcome: string;
  role?: string;
  organisation?: string;
  break_glass?: boolean;
  user?: string;
  query?: string;
  break_glass_reason?: string;
  patient_keys?: string[];
}

export interface Alert extends Access {
  acknowledged: { recorded: string; user: string; note: string } | null;
}

export interface Segment { id?: string; model: string; label: string; run: number | string; count: number | null }

/** GET /app/api/population (docs/app-api.md): counts of people, null where suppressed. */
export interface Population {
  run: number;
  index_date: string;
  previous_run: number | null;
  living: number | null;
  disclosure: { suppressed_up_to: number; rounded_to: number };
  segments: {
    model: string; columns: string[]; rows: { practice: string; counts: (number | null)[] }[]; totals: (number | null)[];
    /** Per Primary Care Home: the same columns summed over its practices, then masked. */
    pchs?: { pch: string; counts: (number | null)[] }[];
  }[];
  pyramid: { band: string; female: number | null; male: number | null; other: number | null }[];
  cost: { total_pence: number | null; shares: { top_percent: number; share: number | null }[] };
  lorenz: [number, number][];
  risk_bands: { from: number; to: number | null; people: number | null }[];
  movement: { model: string; from: string[]; to: string[]; counts: (number | null)[] }[];
  movement_note: string;
}

export interface WorklistRow {
  id: string;
  date?: string;
  admission_risk?: number | null;
  run?: number | string;
  notes?: string[];
  /** The person's segment labels in that run. */
  segments?: string[];
  /** With risers=1: the run before, and why the risk rose. */
  previous?: { run?: number | string; admission_risk?: number | null; segments?: string[] } | null;
  why?: string[];
  person?: PersonSummary & { age?: number };
  /** True when the person has an open case episode (on a caseload or its waiting list). */
  on_caseload?: boolean;
}

export interface Worklist { run: number | null; page: number; next_page: number | null; rows: WorklistRow[] }

/** GET /app/api/worklist/options: what the filters offer. */
export interface WorklistOptions {
  run: number | null;
  previous_run: number | null;
  index_date?: string;
  practices: { id: string; name?: string; pch?: string | null }[];
  pchs: string[];
}

// ---- Administration (/app/api/admin/…) ------------------------------------------------------

export interface AdminUser {
  id: string;
  username: string;
  display_name?: string;
  role: string;
  organisation: string;
  organisation_name?: string;
  status: "active" | "disabled" | string;
  care_teams?: { id: string; name: string }[];
}

export interface AdminUsers { users: AdminUser[]; page: number; next_page: number | null; roles: string[] }

export interface AdminOrganisation { id: string; name: string; kind: string; users?: number }

export interface AdminOrganisations { organisations: AdminOrganisation[]; page: number; next_page: number | null; kinds: string[] }

export interface AdminCareTeamSummary {
  id: string; name: string; organisation: string; organisation_name?: string; members: number; people: number;
  capacity?: number | null;
}

export interface AdminCareTeams { care_teams: AdminCareTeamSummary[]; page: number; next_page: number | null }

export interface AdminCareTeam {
  id: string; name: string; organisation: string; organisation_name?: string;
  members: { id: string; username: string; display_name?: string; role: string }[];
  people: number;
  /** Caseload capacity: how many people its caseload holds (null: no limit set). */
  capacity?: number | null;
}

// ---- Caseloads (/app/api/caseloads, /app/api/episodes) ----------------------------------------

export interface DischargeReason { code: string; display: string }

/** A case episode: a person on a team's caseload ("active"), its waiting list ("waiting") or ended. */
export interface CaseEntry {
  id: number;
  version: number;
  status: "active" | "waiting" | "ended" | string;
  source: string;
  person: { id: string; name: string; nhs_number: string | null; birth_date: string; practice: string };
  team: { id: number; name: string };
  coordinator: { id: number; name: string } | null;
  requested: string | null;
  started: string | null;
  ended: string | null;
  end_reason: DischargeReason | null;
  end_note: string;
  updated: string | null;
  /** Open work on the person: active flags, tasks overdue and due within the week. */
  work: { flags: number; overdue_tasks: number; due_tasks: number };
}

/** An open task in "my tasks" or "my team's tasks" (GET /app/api/tasks). */
export interface TaskItem {
  id: string;
  version: number;
  status: string;
  priority: string;
  description: string;
  due: string | null;
  overdue: boolean;
  owner: string;
  flag: { id: string; version: number; status: string; text: string } | null;
  person: { id: string; name: string; nhs_number: string | null };
}

/** A team's load against its capacity (`capacity` null: none set). */
export interface CaseTeam {
  id: number;
  name: string;
  organisation: string;
  capacity: number | null;
  active: number;
  waiting: number;
  full: boolean;
}

export interface Caseloads { teams: CaseTeam[]; mine: CaseEntry[] }

export interface CaseBoard extends CaseTeam {
  coordinators: { id: number; name: string; role: string }[];
  people: { active: CaseEntry[]; waiting: CaseEntry[] };
  discharge_reasons: DischargeReason[];
}

export interface Episodes { episodes: CaseEntry[]; discharge_reasons: DischargeReason[] }

/** A failed call: the API's error body, or one made here for a network failure. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
    readonly field?: string,
    readonly body?: Record<string, unknown>,
    readonly retryAfterS?: number,
  ) {
    super(title);
  }
}

export const NETWORK_ERROR_TEXT = "joinedup could not be reached. Check your connection and try again.";

type Listener = () => void;

class Client {
  csrf: string | null = null;
  /** Milliseconds (Date.now()) of the last call that reached the server. */
  lastActivity = Date.now();
  /** Seconds the server keeps an unused session; from /app/api/me or /auth/session. */
  idleTimeoutS = 1800;
  /** Milliseconds (Date.now()) at which the session ends unless used. */
  idleEndsAt = Date.now() + 1800 * 1000;
  private unauthorised: Listener[] = [];
  private activity: Listener[] = [];

  onUnauthorised(f: Listener) { this.unauthorised.push(f); }
  onActivity(f: Listener) { this.activity.push(f); }

  private touched(idleExpiresIn?: number) {
    this.lastActivity = Date.now();
    const s = typeof idleExpiresIn === "number" ? idleExpiresIn : this.idleTimeoutS;
    this.idleEndsAt = this.lastActivity + s * 1000;
    for (const f of this.activity) f();
  }

  /** A request to the server; JSON in and out. 401 from the app API ends the session here. */
  async request<T>(method: string, path: string, opts: {
    body?: unknown; form?: Record<string, string>; headers?: Record<string, string>;
    noUnauthorisedHook?: boolean;
  } = {}): Promise<T> {
    const headers: Record<string, string> = { Accept: "application/json", ...(opts.headers ?? {}) };
    let body: BodyInit | undefined;
    if (opts.form) {
      headers["Content-Type"] = "application/x-www-form-urlencoded";
      body = new URLSearchParams(opts.form).toString();
    } else if (opts.body !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(opts.body);
    }
    if (method !== "GET" && this.csrf && !("X-CSRF-Token" in headers)) headers["X-CSRF-Token"] = this.csrf;
    let res: Response;
    try {
      res = await fetch(path, { method, headers, body, credentials: "same-origin", cache: "no-store" });
    } catch {
      throw new ApiError(0, "joinedup could not be reached", NETWORK_ERROR_TEXT);
    }
    let json: unknown = null;
    const text = await res.text().catch(() => "");
    if (text) {
      try { json = JSON.parse(text); } catch { json = null; }
    }
    if (res.ok) {
      const j = json as { idle_expires_in?: number } | null;
      this.touched(j && typeof j.idle_expires_in === "number" ? j.idle_expires_in : undefined);
      return json as T;
    }
    const error = toApiError(res, json);
    if (res.status !== 401) this.touched();
    if (res.status === 401 && !opts.noUnauthorisedHook) {
      this.csrf = null;
      for (const f of this.unauthorised) f();
    }
    throw error;
  }

  get<T>(path: string, headers?: Record<string, string>) { return this.request<T>("GET", path, { headers }); }

  async signIn(username: string, password: string): Promise<SessionInfo> {
    const s = await this.request<SessionInfo>("POST", "/auth/session", {
      form: { username, password }, noUnauthorisedHook: true,
    });
    this.csrf = s.csrf_token;
    return s;
  }

  /** The live session, if any (after a reload): null when there is none. Counts as activity. */
  async session(): Promise<SessionInfo | null> {
    try {
      const s = await this.request<SessionInfo>("GET", "/auth/session", { noUnauthorisedHook: true });
      this.csrf = s.csrf_token;
      return s;
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) return null;
      throw e;
    }
  }

  async signOut(): Promise<void> {
    try {
      await this.request<unknown>("DELETE", "/auth/session", { noUnauthorisedHook: true });
    } catch (e) {
      // A refused sign-out (403) leaves the session and its token as they were.
      if (e instanceof ApiError && e.status === 401) this.csrf = null;
      throw e;
    }
    this.csrf = null;
  }
}

function toApiError(res: Response, json: unknown): ApiError {
  const retry = Number(res.headers.get("Retry-After"));
  const retryAfterS = Number.isFinite(retry) && retry > 0 ? retry : undefined;
  const j = json as Record<string, unknown> | null;
  const e = j?.error;
  if (e && typeof e === "object") {
    const o = e as Record<string, unknown>;
    return new ApiError(res.status, String(o.title ?? defaultTitle(res.status)),
      String(o.detail ?? defaultDetail(res.status)), o.field ? String(o.field) : undefined, o, retryAfterS);
  }
  // DELETE /auth/session still answers its CSRF refusal as a FHIR OperationOutcome (every other
  // refusal before the app API now comes in the app's error shape, above).
  if (j?.resourceType === "OperationOutcome") {
    if (res.status === 403) {
      return new ApiError(403, "Your request could not be checked",
        "Reload the page and try again. If this keeps happening, sign out and sign in again.", undefined, undefined, retryAfterS);
    }
    return new ApiError(res.status, defaultTitle(res.status), defaultDetail(res.status), undefined, undefined, retryAfterS);
  }
  // /auth/session's OAuth-shaped errors: {"error":"invalid_grant","error_description":"…"}
  if (typeof e === "string") {
    return new ApiError(res.status, defaultTitle(res.status),
      String(j?.error_description ?? defaultDetail(res.status)), undefined, { code: e }, retryAfterS);
  }
  return new ApiError(res.status, defaultTitle(res.status), defaultDetail(res.status), undefined, undefined, retryAfterS);
}

function defaultTitle(status: number): string {
  switch (status) {
    case 400: return "Check what you entered";
    case 401: return "Your session has ended";
    case 403: return "You cannot do that";
    case 404: return "Not found";
    case 429: return "Too many attempts";
    default: return status >= 500 ? "Sorry, there is a problem with joinedup" : "Something went wrong";
  }
}

function defaultDetail(status: number): string {
  switch (status) {
    case 401: return "Sign in again to continue.";
    case 403: return "Your role does not allow this. Ask your administrator if you think it should.";
    case 404: return "Check the address, or find the person again.";
    case 429: return "Wait a few minutes, then try again.";
    default: return status >= 500 ? "Try again later." : "Try again.";
  }
}

export const api = new Client();
