import "./styles.scss";
import { app } from "./app";
import {
  adminCareTeamPage, adminCareTeamsPage, adminHomePage, adminNewCareTeamPage, adminNewUserPage, adminOrganisationPage,
  adminOrganisationsPage, adminUserPage, adminUsersPage,
} from "./pages/admin";
import { alertsPage } from "./pages/alerts";
import { assessmentPage } from "./pages/assessment";
import { auditPage } from "./pages/audit";
import { carePlanEditPage, carePlanPage, myGoalsPage, whoToCallPage } from "./pages/care-plan";
import { caseloadBoardPage, caseloadHomePage, enrolPage } from "./pages/caseload";
import { findPage } from "./pages/find";
import { homePage, notFoundPage } from "./pages/home";
import { personPage } from "./pages/person";
import { populationPage } from "./pages/population";
import { signInPage } from "./pages/sign-in";
import { tasksPage } from "./pages/tasks";
import { worklistPage } from "./pages/worklist";

// No "nhsuk-frontend-supported" class on <body>: that class tells nhsuk-frontend's CSS that its
// own JS runs (e.g. the header's "More" menu), which this app does not load.
app.start(document.getElementById("app")!, {
  "/": { screen: null, make: () => homePage() },
  "/find": { screen: "find", make: (_p, q) => findPage(q) },
  "/people/:id": { screen: "find", make: (p) => personPage(p.id, "staff") },
  "/people/:id/assessment": { screen: "find", make: (p) => assessmentPage(p.id) },
  "/people/:id/care-plan": { screen: "find", make: (p) => carePlanPage(p.id, "staff") },
  "/people/:id/care-plan/edit": { screen: "find", make: (p) => carePlanEditPage(p.id) },
  "/worklist": { screen: "worklist", make: (_p, q) => worklistPage(q) },
  // Case management: "enrol" before the team's board (routes match in this order).
  "/caseload": { screen: "caseload", make: () => caseloadHomePage() },
  "/caseload/enrol": { screen: "caseload", make: (_p, q) => enrolPage(q) },
  "/caseload/:team": { screen: "caseload", make: (p, q) => caseloadBoardPage(p.team, q) },
  "/tasks": { screen: "caseload", make: (_p, q) => tasksPage(q) },
  "/audit": { screen: "audit", make: (_p, q) => (q.get("view") === "alerts" ? alertsPage() : auditPage(q)) },
  "/population": { screen: "population", make: () => populationPage() },
  // Administration: every route under /admin (the server answers the UI's page for all of them).
  // The fixed "new" routes come before the :id ones (routes match in this order).
  "/admin": { screen: "admin", make: () => adminHomePage() },
  "/admin/users": { screen: "admin", make: (_p, q) => adminUsersPage(q) },
  "/admin/users/new": { screen: "admin", make: () => adminNewUserPage() },
  "/admin/users/:id": { screen: "admin", make: (p, q) => adminUserPage(p.id, q) },
  "/admin/organisations": { screen: "admin", make: (_p, q) => adminOrganisationsPage(q) },
  "/admin/organisations/new": { screen: "admin", make: () => adminOrganisationPage("") },
  "/admin/organisations/:id": { screen: "admin", make: (p) => adminOrganisationPage(p.id) },
  "/admin/care-teams": { screen: "admin", make: (_p, q) => adminCareTeamsPage(q) },
  "/admin/care-teams/new": { screen: "admin", make: () => adminNewCareTeamPage() },
  "/admin/care-teams/:id": { screen: "admin", make: (p) => adminCareTeamPage(p.id) },
  "/my-record": { screen: "my-record", make: () => personPage(app.me?.patient_id ?? "", "patient") },
  // The person's own plan (issue 12 item 4): read, About me in their words, goals, who to call.
  "/my-plan": { screen: "my-record", make: () => carePlanPage(app.me?.patient_id ?? "", "person") },
  "/my-goals": { screen: "my-record", make: () => myGoalsPage() },
  "/who-to-call": { screen: "my-record", make: () => whoToCallPage() },
}, notFoundPage, signInPage);
