import "./styles.scss";
import { app } from "./app";
import { alertsPage } from "./pages/alerts";
import { auditPage } from "./pages/audit";
import { findPage } from "./pages/find";
import { homePage, notFoundPage } from "./pages/home";
import { personPage } from "./pages/person";
import { populationPage } from "./pages/population";
import { signInPage } from "./pages/sign-in";
import { worklistPage } from "./pages/worklist";

// No "nhsuk-frontend-supported" class on <body>: that class tells nhsuk-frontend's CSS that its
// own JS runs (e.g. the header's "More" menu), which this app does not load.
app.start(document.getElementById("app")!, {
  "/": { screen: null, make: () => homePage() },
  "/find": { screen: "find", make: (_p, q) => findPage(q) },
  "/people/:id": { screen: "find", make: (p) => personPage(p.id, "staff") },
  "/worklist": { screen: "worklist", make: (_p, q) => worklistPage(q) },
  "/audit": { screen: "audit", make: (_p, q) => (q.get("view") === "alerts" ? alertsPage() : auditPage(q)) },
  "/population": { screen: "population", make: () => populationPage() },
  "/my-record": { screen: "my-record", make: () => personPage(app.me?.patient_id ?? "", "patient") },
}, notFoundPage, signInPage);
