// The web application's API (app_api.h, docs/app-api.md). Each handler asks the records
// service for FHIR records — by the same searches a FHIR client would make, parsed by the same
// parser — and reshapes them for a screen. Access, refusal and audit are the service's.
#include "webapp/app_api.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <exception>
#include <map>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "analytics/efi.h"
#include "core/csv.h"
#include "core/date.h"
#include "core/nhs_number.h"
#include "core/strings.h"
#include "fhir/search/paging.h"
#include "fhir/search/response.h"
#include "fhir/search/search_params.h"
#include "records/render.h"
#include "resources/registry.h"
#include "security/policy.h"
#include "webapp/admin_api.h"
#include "webapp/app_json.h"
#include "webapp/assessment_api.h"
#include "webapp/care_plan_api.h"
#include "webapp/caseload_api.h"

namespace joinedup::webapp {
namespace {

using json = nlohmann::json;
using http::HttpRequest;
using http::HttpResponse;
namespace search = fhir::search;

constexpr std::string_view kNhsNumberSystem = "https://fhir.nhs.uk/Id/nhs-number";
constexpr std::string_view kBreakGlassHeader = "x-break-glass-reason";
constexpr int kPeoplePerPage = 20;
constexpr int kWorklistExportRows = 5000;

// ---- Reading FHIR JSON -----------------------------------------------------------------------

// "Ada SMITH": given names, then the family name in capitals (NHS record display convention).
std::string NameOf(const json& resource) {
  auto names = resource.find("name");
  if (names == resource.end()) return "";
  const json& name =
      names->is_array() ? (names->empty() ? json::object() : names->front()) : *names;
  if (!name.is_object()) return "";
  if (auto text = Str(name, "text"); !text.empty()) return text;
  std::string out;
  if (auto given = name.find("given"); given != name.end() && given->is_array())
    for (const json& g : *given)
      if (g.is_string()) out += (out.empty() ? "" : " ") + g.get<std::string>();
  std::string family = Str(name, "family");
  std::transform(family.begin(), family.end(), family.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  if (!family.empty()) out += (out.empty() ? "" : " ") + family;
  return out;
}

std::string NhsNumberOf(const json& patient) {
  if (auto ids = patient.find("identifier"); ids != patient.end() && ids->is_array())
    for (const json& id : *ids)
      if (id.is_object() && Str(id, "system") == kNhsNumberSystem) return Str(id, "value");
  return "";
}

std::string ReferenceId(const json& reference, std::string_view type) {
  const std::string text = reference.is_object() ? Str(reference, "reference") : "";
  const std::string prefix = std::string(type) + "/";
  return text.starts_with(prefix) ? text.substr(prefix.size()) : "";
}

std::string PracticeOf(const json& patient) {
  if (auto gp = patient.find("generalPractitioner"); gp != patient.end() && gp->is_array())
    for (const json& ref : *gp)
      if (auto id = ReferenceId(ref, "Organization"); !id.empty()) return id;
  return "";
}

std::string AddressOf(const json& resource) {
  auto addresses = resource.find("address");
  if (addresses == resource.end() || !addresses->is_array() || addresses->empty()) return "";
  const json& a = addresses->front();
  if (!a.is_object()) return "";
  if (auto text = Str(a, "text"); !text.empty()) return text;
  std::vector<std::string> parts;
  if (auto lines = a.find("line"); lines != a.end() && lines->is_array())
    for (const json& l : *lines)
      if (l.is_string()) parts.push_back(l.get<std::string>());
  for (const char* key : {"city", "district", "postalCode"})
    if (auto v = Str(a, key); !v.empty()) parts.push_back(v);
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : ", ") + p;
  return out;
}

std::string TelephoneOf(const json& resource) {
  if (auto telecom = resource.find("telecom"); telecom != resource.end() && telecom->is_array())
    for (const json& t : *telecom)
      if (t.is_object() && (Str(t, "system") == "phone" || Str(t, "system").empty()))
        return Str(t, "value");
  return "";
}

// The words of a CodeableConcept: its text, else a coding's display, else the first code.
std::string ConceptText(const json& cc) {
  if (!cc.is_object()) return "";
  if (auto text = Str(cc, "text"); !text.empty()) return text;
  auto codings = cc.find("coding");
  if (codings == cc.end() || !codings->is_array()) return "";
  for (const json& c : *codings)
    if (auto display = Str(c, "display"); !display.empty()) return display;
  for (const json& c : *codings)
    if (auto code = Str(c, "code"); !code.empty()) return code;
  return "";
}

// An Encounter's class (HL7 v3 ActCode, the FHIR R4 binding) in the words a clinician uses.
std::string EncounterClassText(const json& coding) {
  const std::string code = coding.is_object() ? Str(coding, "code") : "";
  if (code == "AMB") return "Appointment";
  if (code == "EMER") return "A&E";
  if (code == "IMP" || code == "ACUTE") return "Hospital admission";
  if (code == "NONAC") return "Hospital stay (non-acute)";
  if (code == "SS") return "Day case";
  if (code == "HH") return "Home visit";
  if (code == "VR") return "Virtual contact";
  if (code == "FLD") return "Community contact";
  if (auto display = Str(coding, "display"); !display.empty()) return display;
  return code;
}

const json& FirstCoding(const json& cc) {
  static const json kNone = json::object();
  if (!cc.is_object()) return kNone;
  auto codings = cc.find("coding");
  if (codings == cc.end() || !codings->is_array() || codings->empty()) return kNone;
  return codings->front();
}

std::optional<int> AgeOn(std::string_view birth_date, Date today) {
  auto born = Date::Parse(birth_date);
  if (!born.ok()) return std::nullopt;
  int age = today.year() - born->year();
  if (today.month() < born->month() ||
      (today.month() == born->month() && today.day() < born->day()))
    --age;
  return age;
}

json PersonSummary(const json& patient) {
  return {{"id", Str(patient, "id")},           {"name", NameOf(patient)},
          {"nhs_number", NhsNumberOf(patient)}, {"birth_date", Str(patient, "birthDate")},
          {"gender", Str(patient, "gender")},   {"practice", PracticeOf(patient)}};
}

// ---- The sections of a person's page --------------------------------------------------------

json RelatedItem(const json& r) {
  std::string relationship;
  if (auto rel = r.find("relationship"); rel != r.end() && rel->is_array())
    for (const json& c : *rel)
      if (auto text = ConceptText(c); !text.empty())
        relationship += (relationship.empty() ? "" : ", ") + text;
  return {{"name", NameOf(r)}, {"relationship", relationship}, {"telephone", TelephoneOf(r)}};
}

json ConsentItem(const json& c) {
  const json provision = c.value("provision", json::object());
  const json rule = c.value("policyRule", json::object());
  return {{"id", Str(c, "id")},
          {"decision", provision.is_object() ? Str(provision, "type") : ""},
          {"text", rule.is_object() ? Str(rule, "text") : ""},
          {"date", Str(c, "dateTime")}};
}

json ConditionItem(const json& c) {
  const json code = c.value("code", json::object());
  const json& coding = FirstCoding(code);
  return {{"name", ConceptText(code)},
          {"code", Str(coding, "code")},
          {"system", Str(coding, "system")},
          {"onset", Str(c, "onsetDateTime")}};
}

json MedicationItem(const json& m) {
  const json cc = m.value("medicationCodeableConcept", json::object());
  return {{"name", ConceptText(cc)},
          {"code", Str(FirstCoding(cc), "code")},
          {"authored", Str(m, "authoredOn")},
          {"status", Str(m, "status")}};
}

json ActivityItem(const json& e) {
  const json period = e.value("period", json::object());
  const std::string kind = e.contains("class") ? EncounterClassText(e["class"]) : "";
  std::string description;
  if (auto types = e.find("type"); types != e.end() && types->is_array() && !types->empty())
    description = ConceptText(types->front());
  if (description.empty() && e.contains("serviceType")) description = ConceptText(e["serviceType"]);
  return {{"date", period.is_object() ? Str(period, "start") : ""},
          {"end", period.is_object() ? Str(period, "end") : ""},
          {"kind", kind},
          {"description", description}};
}

json RiskItem(const json& r) {
  json notes = json::array();
  if (auto list = r.find("note"); list != r.end() && list->is_array())
    for (const json& n : *list)
      if (auto text = Str(n, "text"); !text.empty()) notes.push_back(text);
  json item = {{"date", Str(r, "occurrenceDateTime")},
               {"run", r.contains("method") ? ConceptText(r["method"]) : ""},
               {"notes", std::move(notes)}};
  if (auto predictions = r.find("prediction");
      predictions != r.end() && predictions->is_array() && !predictions->empty()) {
    const json& p = predictions->front();
    if (auto probability = p.find("probabilityDecimal");
        probability != p.end() && probability->is_number())
      item["admission_risk"] = probability->get<double>();
  }
  return item;
}

// An event of the audit trail as the privacy officer reads it; for a person reading who looked
// at their own record, the role and organisation only (staff are not named to patients).
json EventJson(const store::AuditEvent& e, bool identify) {
  json j = {{"id", std::to_string(e.sequence)},
            {"recorded", Instant(e.time_ms)},
            {"action", std::string(1, e.action)},
            {"subtype", e.subtype},
            {"outcome", e.outcome == store::AuditOutcome::kSuccess ? "success" : "failure"},
            {"role", e.role},
            {"organisation", e.organisation_id},
            {"break_glass", !e.break_glass_reason.empty()}};
  if (identify) {
    j["user"] = e.username;
    j["break_glass_reason"] = e.break_glass_reason;
    j["query"] = e.query;
    json keys = json::array();
    for (int64_t key : e.patient_keys) keys.push_back(std::to_string(key));
    j["patient_keys"] = std::move(keys);
  }
  return j;
}

// The worklist as a spreadsheet: one row per person, the columns a case manager sorts by.
HttpResponse WorklistCsv(const json& rows, std::optional<int64_t> run_id, bool truncated,
                         bool risers) {
  std::string out;
  auto line = [&](std::initializer_list<std::string> fields) {
    bool first = true;
    for (const std::string& f : fields) {
      if (!first) out += ',';
      first = false;
      AppendCsvField(out, f);
    }
    out += "\r\n";
  };
  if (risers)  // the rise and why, after the usual columns
    line({"rank", "nhs_number", "name", "birth_date", "age", "gender", "practice",
          "emergency_admission_risk", "reasons", "previous_emergency_admission_risk", "why_risen"});
  else
    line({"rank", "nhs_number", "name", "birth_date", "age", "gender", "practice",
          "emergency_admission_risk", "reasons"});
  auto joined = [](const json& list) {
    std::string text;
    for (const json& item : list) text += (text.empty() ? "" : "; ") + item.get<std::string>();
    return text;
  };
  auto risk_text = [](double risk) {
    char text[32];
    std::snprintf(text, sizeof text, "%.4f", risk);
    return std::string(text);
  };
  int rank = 0;
  for (const json& row : rows) {
    const json person = row.value("person", json::object());
    const std::string reasons = joined(row.value("notes", json::array()));
    const std::string risk = risk_text(row.value("admission_risk", 0.0));
    const std::string age = person.contains("age") ? std::to_string(person["age"].get<int>()) : "";
    if (risers) {
      const json previous = row.value("previous", json::object());
      line({std::to_string(++rank), Str(person, "nhs_number"), Str(person, "name"),
            Str(person, "birth_date"), age, Str(person, "gender"), Str(person, "practice"), risk,
            reasons, risk_text(previous.value("admission_risk", 0.0)),
            joined(row.value("why", json::array()))});
    } else {
      line({std::to_string(++rank), Str(person, "nhs_number"), Str(person, "name"),
            Str(person, "birth_date"), age, Str(person, "gender"), Str(person, "practice"), risk,
            reasons});
    }
  }
  HttpResponse r;
  r.content_type = "text/csv; charset=utf-8";
  r.body = std::move(out);
  r.headers.emplace_back("Content-Disposition",
                         "attachment; filename=\"worklist-run-" +
                             (run_id ? std::to_string(*run_id) : std::string("none")) + ".csv\"");
  if (truncated)  // said in a header: the file itself stays a clean table
    r.headers.emplace_back("X-Rows-Truncated", std::to_string(kWorklistExportRows));
  return r;
}

struct Section {
  std::string_view key;        // in the response's "sections"
  std::string_view type;       // FHIR type searched
  std::string_view parameter;  // its person parameter
  std::string_view order;      // _sort, "" for the type's own order
  int count;
  json (*item)(const json&);
};

constexpr Section kSections[] = {
    {"related", "RelatedPerson", "patient", "", 50, RelatedItem},
    {"consent", "Consent", "patient", "-date", 20, ConsentItem},
    {"conditions", "Condition", "patient", "-onset-date", 200, ConditionItem},
    {"medications", "MedicationRequest", "patient", "-authoredon", 200, MedicationItem},
    {"activity", "Encounter", "patient", "-date", 50, ActivityItem},
    {"risk", "RiskAssessment", "patient", "", 20, RiskItem},
};

}  // namespace

struct AppApi::Impl {
  AppApiOptions options;
  search::CursorKey cursor_key;
  mutable records::PopulationCache population_cache;

  explicit Impl(AppApiOptions o);
  HttpResponse Handle(const HttpRequest& request, const http::Principal& principal,
                      store::Store& store) const;
  HttpResponse Me(records::Records& records, const std::string& display_name) const;
  HttpResponse People(records::Records& records, std::string_view query) const;
  HttpResponse Person(records::Records& records, std::string_view id, bool break_glass) const;
  nlohmann::json Frailty(records::Records& records, const std::string& reference,
                         const nlohmann::json& patient, Date today) const;
  HttpResponse RecordConsent(records::Records& records, std::string_view id,
                             std::string_view body) const;
  HttpResponse Audit(records::Records& records, std::string_view query) const;
  HttpResponse Segments(records::Records& records) const;
  HttpResponse CaseFinding(records::Records& records, std::string_view query, bool csv) const;
  HttpResponse CaseFindingOptions(records::Records& records) const;
  HttpResponse Population(records::Records& records) const;
  HttpResponse AccessLog(records::Records& records, std::string_view id) const;
  HttpResponse Alerts(records::Records& records) const;
  HttpResponse Acknowledge(records::Records& records, std::string_view id,
                           std::string_view body) const;

  // One page of a FHIR search made through the records service; `query` in FHIR's syntax
  // (parsed by the FHIR API's own parser), `cursor` this API's from a previous page.
  struct Found {
    std::vector<records::Record> matches;
    std::optional<std::string> next;
  };
  Result<Found> Search(records::Records& records, std::string_view type, std::string query,
                       std::string_view cursor) const;
};

AppApi::Impl::Impl(AppApiOptions o)
    : options(std::move(o)),
      cursor_key(search::CursorKey::FromBytesOrGenerate(options.cursor_key)) {
  if (!options.clock) options.clock = security::SystemClockMs;
}

AppApi::AppApi(AppApiOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
AppApi::~AppApi() = default;

HttpResponse AppApi::Handle(const HttpRequest& request, const http::Principal& principal,
                            store::Store& store) const {
  try {
    return impl_->Handle(request, principal, store);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "joinedup app api: unexpected failure: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "joinedup app api: unexpected failure\n");
  }
  return Problem(500, TitleOf(500), "Try again in a few minutes.");
}

HttpResponse AppApi::Impl::Handle(const HttpRequest& request, const http::Principal& principal,
                                  store::Store& store) const {
  std::vector<std::string_view> seg = Split(std::string_view(request.path), '/');
  if (!seg.empty() && seg.front().empty()) seg.erase(seg.begin());
  if (!seg.empty() && seg.back().empty()) seg.pop_back();
  const std::string& method = request.method;
  auto not_found = [] {
    return Problem(404, TitleOf(404), "There is no such page. Check the address.");
  };
  auto not_allowed = [](std::string_view allow) {
    HttpResponse r = Problem(405, "Method not allowed", "This address does not accept that.");
    r.headers.emplace_back("Allow", std::string(allow));
    return r;
  };

  records::Requester requester = records::RequesterOf(principal, request);
  const bool person_read = seg.size() == 2 && seg[0] == "people" && method == "GET";
  if (auto reason = request.Header(kBreakGlassHeader)) {
    if (!person_read)
      return Problem(400, TitleOf(400),
                     "A reason for breaking the glass is given only when "
                     "opening one person's record.",
                     "X-Break-Glass-Reason");
    Result<std::string> parsed = security::ParseBreakGlassReason(Trim(*reason));
    if (!parsed.ok())
      return Problem(400, TitleOf(400), parsed.error().message, "X-Break-Glass-Reason");
    requester.caller.break_glass_reason = std::move(*parsed);
  }
  const bool break_glass = !requester.caller.break_glass_reason.empty();
  records::Records records(store, std::move(requester), options.clock, options.records);

  if (!seg.empty() && seg[0] == "admin")
    return AdminApi(records, request, std::span<const std::string_view>(seg).subspan(1));
  if (!seg.empty() && (seg[0] == "caseloads" || seg[0] == "episodes" || seg[0] == "tasks" ||
                       seg[0] == "flags"))
    return CaseloadApi(records, request, seg);
  if (IsAssessmentPath(seg)) {
    const records::Requester& who = records.requester();
    records::AssessmentAuthor author{who.actor.username,
                                     principal.display_name + " (" +
                                         std::string(security::RoleName(who.caller.role)) + ", " +
                                         who.caller.organisation_id + ")"};
    return AssessmentApi(records, std::move(author), request, seg);
  }
  if (IsCarePlanPath(seg)) return CarePlanApi(records, request, seg, principal.display_name);
  if (seg.size() == 1 && seg[0] == "me")
    return method == "GET" ? Me(records, principal.display_name) : not_allowed("GET");
  if (seg.size() == 1 && seg[0] == "people")
    return method == "GET" ? People(records, request.query) : not_allowed("GET");
  if (seg.size() == 2 && seg[0] == "people")
    return method == "GET" ? Person(records, seg[1], break_glass) : not_allowed("GET");
  if (seg.size() == 3 && seg[0] == "people" && seg[2] == "consent")
    return method == "POST" ? RecordConsent(records, seg[1], request.body) : not_allowed("POST");
  if (seg.size() == 1 && seg[0] == "audit")
    return method == "GET" ? Audit(records, request.query) : not_allowed("GET");
  if (seg.size() == 1 && seg[0] == "segments")
    return method == "GET" ? Segments(records) : not_allowed("GET");
  if (seg.size() == 3 && seg[0] == "people" && seg[2] == "accesses")
    return method == "GET" ? AccessLog(records, seg[1]) : not_allowed("GET");
  if (seg.size() == 1 && seg[0] == "alerts")
    return method == "GET" ? Alerts(records) : not_allowed("GET");
  if (seg.size() == 3 && seg[0] == "alerts" && seg[2] == "acknowledge")
    return method == "POST" ? Acknowledge(records, seg[1], request.body) : not_allowed("POST");
  if (seg.size() == 1 && seg[0] == "population")
    return method == "GET" ? Population(records) : not_allowed("GET");
  if (seg.size() == 2 && seg[0] == "worklist" && seg[1] == "options")
    return method == "GET" ? CaseFindingOptions(records) : not_allowed("GET");
  if (seg.size() == 1 && (seg[0] == "worklist" || seg[0] == "worklist.csv"))
    return method == "GET" ? CaseFinding(records, request.query, seg[0] == "worklist.csv")
                           : not_allowed("GET");
  return not_found();
}

Result<AppApi::Impl::Found> AppApi::Impl::Search(records::Records& records, std::string_view type,
                                                 std::string query, std::string_view cursor) const {
  if (!cursor.empty())
    query += "&" + std::string(search::kCursorParam) + "=" + search::PercentEncode(cursor);
  auto parsed = search::ParseSearch(type, query, search::UnknownParams::kStrict);
  if (auto* error = std::get_if<search::SearchError>(&parsed)) {
    const search::HttpError http = search::ToHttpError(*error);
    return Invalid(http.issue.diagnostics,
                   http.issue.expression.empty() ? "" : http.issue.expression[0]);
  }
  const search::SearchRequest& request = std::get<search::SearchRequest>(parsed);
  std::optional<search::PageCursor> after;
  if (!request.cursor.empty()) {
    JU_ASSIGN_OR_RETURN(after, search::DecodeCursor(request, cursor_key));
  }
  records::SearchOptions o;
  o.after = after ? &*after : nullptr;
  o.query = std::string(type) + "?" + query;
  JU_ASSIGN_OR_RETURN(records::Page page, records.Search(request, o));
  Found found;
  found.matches = std::move(page.matches);
  if (page.next) found.next = search::EncodeCursor(*page.next, request, cursor_key);
  return found;
}

HttpResponse AppApi::Impl::Me(records::Records& records, const std::string& display_name) const {
  using security::Category;
  using security::Interaction;
  const security::Caller& caller = records.requester().caller;
  const security::Role role = caller.role;
  json screens = json::array();
  // What the role may use, in the policy's own terms: the UI shows these and no others.
  const bool patient = role == security::Role::kPatient;
  if (!patient && security::RoleAllows(role, Category::kDemographics, Interaction::kSearch))
    screens.push_back("find");
  if (!patient && security::RoleAllows(role, Category::kRisk, Interaction::kSearch))
    screens.push_back("worklist");
  // Caseloads: a team's board is read with the right to search clinical records (changing it
  // needs more; the records service decides).
  if (!patient && security::RoleAllows(role, Category::kClinical, Interaction::kSearch))
    screens.push_back("caseload");
  if (security::RoleAllows(role, Category::kAudit, Interaction::kSearch))
    screens.push_back("audit");
  if (security::RoleAllows(role, Category::kPopulation, Interaction::kSearch))
    screens.push_back("population");
  // Administration is writing the directory (Records::PermitAdministration).
  if (security::RoleAllows(role, Category::kDirectory, Interaction::kCreate) &&
      security::RoleAllows(role, Category::kDirectory, Interaction::kUpdate))
    screens.push_back("admin");
  json patient_id = nullptr;
  if (patient) {
    screens.push_back("my-record");
    // The person's own record: a patient's search sees only themselves.
    auto own = Search(records, "Patient", "_count=1", "");
    if (!own.ok()) return FromError(own.error());
    if (!own->matches.empty()) patient_id = own->matches.front().id;
  }
  const records::Requester& who = records.requester();
  // A warning is useful only well before the end: at most half the idle time.
  const int64_t warn_s = std::min(options.session_warn_ms, options.session_idle_ms / 2) / 1000;
  return Json(200,
              {{"user",
                {{"username", who.actor.username},
                 {"display_name", display_name},
                 {"role", security::RoleName(role)},
                 {"organisation", caller.organisation_id}}},
               {"screens", std::move(screens)},
               {"patient_id", std::move(patient_id)},
               {"may_break_glass", security::MayBreakGlass(role)},
               {"session",
                {{"idle_timeout_s", options.session_idle_ms / 1000}, {"warn_before_s", warn_s}}}});
}

HttpResponse AppApi::Impl::People(records::Records& records, std::string_view query) const {
  // Scope and role first: a caller who may not search people learns nothing from the query.
  if (Status s = records.Permit(records::Operation::kSearch, "Patient"); !s.ok())
    return FromError(s.error());
  auto params = QueryParams(query);
  if (!params.ok()) return FromError(params.error());
  const std::string q = Param(*params, "q");
  const std::string birthdate = Param(*params, "birthdate");
  if (q.empty() && birthdate.empty())
    return Problem(400, TitleOf(400), "Enter an NHS number or a name.", "q");
  std::string fhir_query = "_count=" + std::to_string(kPeoplePerPage);
  const bool number_like = !q.empty() && std::all_of(q.begin(), q.end(), [](unsigned char c) {
    return std::isdigit(c) || c == ' ' || c == '-';
  });
  if (number_like) {
    auto number = NhsNumber::Parse(q);
    if (!number.ok())
      return Problem(400, TitleOf(400), "Enter a valid NHS number: " + number.error().message, "q");
    fhir_query += "&identifier=" +
                  search::PercentEncode(std::string(kNhsNumberSystem) + "|" + number->digits());
  } else if (!q.empty()) {
    fhir_query += "&name=" + search::PercentEncode(q) + "&_sort=family,given";
  }
  if (!birthdate.empty()) {
    if (!Date::Parse(birthdate).ok())
      return Problem(400, TitleOf(400), "Enter a real date of birth, like 31 3 1950.", "birthdate");
    fhir_query += "&birthdate=" + birthdate;
  }
  auto found = Search(records, "Patient", fhir_query, Param(*params, "cursor"));
  if (!found.ok()) return FromError(found.error());
  json people = json::array();
  for (const records::Record& r : found->matches) {
    json patient = json::parse(r.json, nullptr, false);
    if (patient.is_object()) people.push_back(PersonSummary(patient));
  }
  return Json(200, {{"people", std::move(people)},
                    {"next", found->next ? json(*found->next) : json(nullptr)}});
}

HttpResponse AppApi::Impl::Person(records::Records& records, std::string_view id,
                                  bool break_glass) const {
  auto read = records.Read("Patient", id);
  if (!read.ok()) {
    HttpResponse r = FromError(read.error());
    if (read.error().code == ErrorCode::kNotFound) {
      // The same words for "no such person" and "not yours"; what the caller may do next.
      json error = {{"status", 404},
                    {"title", "No record found"},
                    {"detail", "There is no one with that record that you may see."}};
      if (security::MayBreakGlass(records.requester().caller.role)) error["may_break_glass"] = true;
      r = Json(404, {{"error", std::move(error)}});
    }
    return r;
  }
  const json patient = json::parse(read->json, nullptr, false);
  if (!patient.is_object()) return Problem(500, TitleOf(500), "Try again in a few minutes.");
  json person = PersonSummary(patient);
  const Date today =
      Date::FromDays(static_cast<int32_t>(options.clock() / (24LL * 60 * 60 * 1000)));
  if (auto age = AgeOn(Str(patient, "birthDate"), today)) person["age"] = *age;
  person["address"] = AddressOf(patient);
  person["telephone"] = TelephoneOf(patient);
  if (const std::string practice = PracticeOf(patient); !practice.empty()) {
    // The practice's name is directory information; without it the code stands alone.
    auto organisation = records.Read("Organization", practice);
    if (organisation.ok()) {
      const json o = json::parse(organisation->json, nullptr, false);
      if (o.is_object()) {
        person["practice_name"] = Str(o, "name");
        // The Primary Care Home the practice belongs to (Organization.partOf).
        if (auto part_of = o.find("partOf"); part_of != o.end() && part_of->is_object())
          person["primary_care_home"] = Str(*part_of, "display");
      }
    }
  }

  json sections = json::object();
  const std::string reference = "Patient/" + std::string(id);
  for (const Section& s : kSections) {
    if (break_glass) {
      // Breaking the glass opens one record (security/policy.h); the person's other records
      // stay behind their relationship rule, and the page says so rather than show "none".
      sections[std::string(s.key)] = {
          {"shown", false},
          {"reason",
           "Not shown: breaking the glass opens the person's details only. Their "
           "GP practice or care team can share more."}};
      continue;
    }
    std::string query =
        std::string(s.parameter) + "=" + reference + "&_count=" + std::to_string(s.count);
    if (!s.order.empty()) query += "&_sort=" + std::string(s.order);
    auto found = Search(records, s.type, query, "");
    if (!found.ok()) {
      if (found.error().code != ErrorCode::kForbidden) return FromError(found.error());
      sections[std::string(s.key)] = {{"shown", false}, {"reason", "Not shown to your role."}};
      continue;
    }
    json items = json::array();
    for (const records::Record& r : found->matches) {
      const json resource = json::parse(r.json, nullptr, false);
      if (resource.is_object()) items.push_back(s.item(resource));
    }
    if (s.key == "risk")  // newest run first (RiskAssessment has no date to sort by)
      std::stable_sort(items.begin(), items.end(), [](const json& a, const json& b) {
        return a.value("date", "") > b.value("date", "");
      });
    sections[std::string(s.key)] = {{"shown", true}, {"items", std::move(items)}};
  }
  sections["frailty"] = break_glass ? json{{"shown", false},
                                           {"reason",
                                            "Not shown: breaking the glass opens the person's "
                                            "details only."}}
                                    : Frailty(records, reference, patient, today);
  return Json(200, {{"person", std::move(person)},
                    {"break_glass", break_glass},
                    {"sections", std::move(sections)}});
}

// The electronic frailty index today, from every condition, observation and medication of the
// person the caller may see (analytics/efi.h: Clegg et al. 2016), with the code that triggered
// each deficit. Read in full, page by page (each page an audited search): a deficit may hang on
// a code recorded decades ago.
json AppApi::Impl::Frailty(records::Records& records, const std::string& reference,
                           const json& patient, Date today) const {
  auto model = analytics::Efi();
  if (!model.ok()) return {{"shown", false}, {"reason", "The frailty index is not available."}};
  std::vector<ClinicalEvent> events;
  std::vector<Medication> medications;
  for (std::string_view type : {"Condition", "Observation", "MedicationRequest"}) {
    std::string cursor;
    for (int page = 0; page < 20; ++page) {  // 20 pages of kMaxCount: beyond any one person
      auto found =
          Search(records, type,
                 "patient=" + reference + "&_count=" + std::to_string(search::kMaxCount), cursor);
      if (!found.ok()) {
        if (found.error().code == ErrorCode::kForbidden)
          return {{"shown", false}, {"reason", "Not shown to your role."}};
        return {{"shown", false}, {"reason", "The frailty index could not be worked out."}};
      }
      for (records::Record& r : found->matches) {
        if (auto* event = std::get_if<ClinicalEvent>(&r.record))
          events.push_back(std::move(*event));
        if (auto* medication = std::get_if<Medication>(&r.record))
          medications.push_back(std::move(*medication));
      }
      if (!found->next) break;
      cursor = *found->next;
    }
  }
  analytics::EfiInput input;
  input.events = events;
  input.medications = medications;
  input.index_date = today;
  input.sex = SexFromCode(Str(patient, "gender")).value_or(Sex::kUnknown);
  const analytics::EfiResult result = (*model)->Score(input);
  json items = json::array();
  for (const analytics::EfiDeficitHit& hit : result.found)
    items.push_back({{"deficit", (*model)->deficits().at(static_cast<size_t>(hit.deficit))},
                     {"code", hit.code},
                     {"date", hit.date.ToString()},
                     {"reason", hit.reason}});
  return {{"shown", true},
          {"efi", result.efi()},
          {"deficits", result.deficit_count},
          {"category", analytics::EfiCategoryName(result.category)},
          {"items", std::move(items)}};
}

HttpResponse AppApi::Impl::RecordConsent(records::Records& records, std::string_view id,
                                         std::string_view body) const {
  if (Status s = records.Permit(records::Operation::kCreate, "Consent"); !s.ok())
    return FromError(s.error());
  const json in = json::parse(body, nullptr, false);
  const std::string decision = in.is_object() ? Str(in, "decision") : "";
  if (decision != "permit" && decision != "deny")
    return Problem(400, TitleOf(400),
                   "Choose whether the record is shared with the care team or only with the "
                   "GP practice.",
                   "decision");
  if (!resources::IsValidFhirId(id))
    return Problem(404, "No record found", "There is no one with that record that you may see.");
  const json consent = {
      {"resourceType", "Consent"},
      {"status", "active"},
      {"scope",
       {{"coding", json::array({{{"system", "http://terminology.hl7.org/CodeSystem/consentscope"},
                                 {"code", "patient-privacy"}}})}}},
      {"category",
       json::array(
           {{{"coding", json::array({{{"system", "http://loinc.org"}, {"code", "59284-0"}}})}}})},
      {"patient", {{"reference", "Patient/" + std::string(id)}}},
      {"provision", {{"type", decision}}}};
  auto written = records.Create("Consent", consent.dump());
  if (!written.ok()) {
    // The service names the patient reference when the person is unknown or not the
    // caller's: the same "no record" a read gives.
    if (written.error().code == ErrorCode::kInvalidInput &&
        written.error().field == "patient.reference")
      return Problem(404, "No record found", "There is no one with that record that you may see.");
    return FromError(written.error());
  }
  const json stored = json::parse(written->record.json, nullptr, false);
  return Json(201, stored.is_object() ? ConsentItem(stored) : json::object());
}

HttpResponse AppApi::Impl::Audit(records::Records& records, std::string_view query) const {
  if (Status s = records.Permit(records::Operation::kSearch, "AuditEvent"); !s.ok())
    return FromError(s.error());
  auto params = QueryParams(query);
  if (!params.ok()) return FromError(params.error());
  std::string fhir_query = "_count=50";
  if (auto patient = Param(*params, "patient"); !patient.empty())
    fhir_query += "&patient=" + search::PercentEncode("Patient/" + patient);
  if (auto user = Param(*params, "user"); !user.empty())
    fhir_query += "&altid=" + search::PercentEncode(user);
  if (auto subtype = Param(*params, "subtype"); !subtype.empty())
    fhir_query += "&subtype=" + search::PercentEncode(subtype);
  for (const auto& [name, prefix] : {std::pair{"from", "ge"}, std::pair{"to", "le"}}) {
    const std::string date = Param(*params, name);
    if (date.empty()) continue;
    if (!Date::Parse(date).ok())
      return Problem(400, TitleOf(400), "Enter a real date, like 31 3 2026.", name);
    fhir_query += std::string("&date=") + prefix + date;
  }
  auto found = Search(records, "AuditEvent", fhir_query, Param(*params, "cursor"));
  if (!found.ok()) return FromError(found.error());
  json events = json::array();
  for (const records::Record& r : found->matches) {
    const json e = json::parse(r.json, nullptr, false);
    if (!e.is_object()) continue;
    json event = {{"id", Str(e, "id")},
                  {"recorded", Str(e, "recorded")},
                  {"action", Str(e, "action")},
                  {"outcome", Str(e, "outcome") == "0" ? "success" : "failure"}};
    if (auto subtypes = e.find("subtype");
        subtypes != e.end() && subtypes->is_array() && !subtypes->empty())
      event["subtype"] = Str(subtypes->front(), "code");
    std::string user;
    if (auto agents = e.find("agent"); agents != e.end() && agents->is_array())
      for (const json& a : *agents)
        if (auto alt = Str(a, "altId"); !alt.empty()) user = alt;
    event["user"] = user;
    // The people an event is about, by the audit trail's own person key (the FHIR
    // AuditEvent's entity identifier): a record may be gone, its audit never is.
    json patients = json::array();
    std::string query_text;
    if (auto entities = e.find("entity"); entities != e.end() && entities->is_array())
      for (const json& entity : *entities) {
        const json what = entity.value("what", json::object());
        const json role = entity.value("role", json::object());
        if (Str(role, "code") == "1" && what.is_object() && what.contains("identifier") &&
            what["identifier"].is_object())
          patients.push_back(Str(what["identifier"], "value"));
        if (Str(role, "code") == "24") query_text = Str(entity, "description");
      }
    std::string reason;
    bool glass = false;
    if (auto purposes = e.find("purposeOfEvent");
        purposes != e.end() && purposes->is_array() && !purposes->empty()) {
      glass = true;
      reason = Str(purposes->front(), "text");
    }
    event["patient_keys"] = std::move(patients);
    event["query"] = query_text;
    event["break_glass"] = glass;
    event["break_glass_reason"] = reason;
    events.push_back(std::move(event));
  }
  return Json(200, {{"events", std::move(events)},
                    {"next", found->next ? json(*found->next) : json(nullptr)}});
}

HttpResponse AppApi::Impl::Segments(records::Records& records) const {
  auto found = Search(records, "Group", "_count=200", "");
  if (!found.ok()) return FromError(found.error());
  json segments = json::array();
  for (const records::Record& r : found->matches) {
    const json g = json::parse(r.json, nullptr, false);
    if (!g.is_object()) continue;
    json segment = {{"id", Str(g, "id")}};
    if (auto characteristics = g.find("characteristic");
        characteristics != g.end() && characteristics->is_array())
      for (const json& c : *characteristics) {
        const std::string what = ConceptText(c.value("code", json::object()));
        const std::string value = ConceptText(c.value("valueCodeableConcept", json::object()));
        if (what == "segmentation model") segment["model"] = value;
        if (what == "segment") segment["label"] = value;
        if (what == "stratification run") segment["run"] = value;
      }
    auto quantity = g.find("quantity");
    segment["count"] = quantity != g.end() && quantity->is_number_integer()
                           ? json(quantity->get<int64_t>())
                           : json(nullptr);
    segments.push_back(std::move(segment));
  }
  return Json(200, {{"segments", std::move(segments)}});
}

HttpResponse AppApi::Impl::CaseFinding(records::Records& records, std::string_view query,
                                       bool csv) const {
  if (Status s = records.Permit(records::Operation::kSearch, "RiskAssessment"); !s.ok())
    return FromError(s.error());
  auto params = QueryParams(query);
  if (!params.ok()) return FromError(params.error());
  records::WorklistRequest request;
  request.practice_id = Param(*params, "practice");
  request.segment_group_id = Param(*params, "segment");
  request.limit = kPeoplePerPage;
  int64_t page = 1;
  if (const std::string text = Param(*params, "page"); !text.empty()) {
    const bool digits =
        text.size() <= 6 &&
        std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); });
    page = digits ? std::stoll(text) : 0;
    if (page < 1)
      return Problem(400, TitleOf(400), "The page must be a whole number from 1.", "page");
  }
  request.offset = (page - 1) * kPeoplePerPage;
  if (csv) {  // the whole list (up to the service's limit), not a page
    request.offset = 0;
    request.limit = kWorklistExportRows;
    request.for_export = true;
  }
  for (const auto& [name, value] :
       std::initializer_list<std::pair<const char*, const std::string*>>{
           {"practice", &request.practice_id}, {"segment", &request.segment_group_id}})
    if (!value->empty() && !resources::IsValidFhirId(*value))
      return Problem(400, TitleOf(400), "Choose a " + std::string(name) + " from the list.", name);
  request.pch = Param(*params, "pch");
  if (request.pch.size() > 200)
    return Problem(400, TitleOf(400), "Choose a Primary Care Home from the list.", "pch");
  for (auto [name, bound] :
       {std::pair<const char*, std::optional<int>*>{"age_from", &request.age_from},
        {"age_to", &request.age_to}}) {
    const std::string text = Param(*params, name);
    if (text.empty()) continue;
    const bool digits =
        text.size() <= 3 &&
        std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); });
    if (!digits || std::stoi(text) > 120)
      return Problem(400, TitleOf(400), "Age must be a whole number of years from 0 to 120.", name);
    *bound = std::stoi(text);
  }
  if (request.age_from && request.age_to && *request.age_from > *request.age_to)
    return Problem(400, TitleOf(400), "The lowest age must not be above the highest.", "age_to");
  for (auto [name, bound] :
       {std::pair<const char*, std::optional<double>*>{"risk_from", &request.risk_from},
        {"risk_to", &request.risk_to}}) {
    const std::string text = Param(*params, name);
    if (text.empty()) continue;
    double percent = -1;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), percent);
    if (ec != std::errc() || end != text.data() + text.size() || !(percent >= 0 && percent <= 100))
      return Problem(400, TitleOf(400), "Risk must be a percentage from 0 to 100.", name);
    *bound = percent / 100;
  }
  if (request.risk_from && request.risk_to && *request.risk_from >= *request.risk_to)
    return Problem(400, TitleOf(400), "The lowest risk must be below the highest.", "risk_to");
  if (const std::string risers = Param(*params, "risers"); !risers.empty()) {
    if (risers != "1" && risers != "0")
      return Problem(400, TitleOf(400), "Risers is 1 (only people whose risk rose) or 0.",
                     "risers");
    request.risers = risers == "1";
  }
  if (const std::string off = Param(*params, "not_on_caseload"); !off.empty()) {
    if (off != "true" && off != "false")
      return Problem(400, TitleOf(400), "not_on_caseload is true or false.", "not_on_caseload");
    request.not_on_caseload = off == "true";
  }
  auto worklist = records.CaseFinding(request);
  if (!worklist.ok()) {
    if (worklist.error().code == ErrorCode::kNotFound)
      return Problem(400, TitleOf(400), "Choose a segment from the list.", "segment");
    return FromError(worklist.error());
  }
  // Who each row is: the people's own records, as the caller may see them (a search by id).
  std::vector<std::string> ids;
  json rows = json::array();
  for (const records::Record& r : worklist->rows) {
    const json risk = json::parse(r.json, nullptr, false);
    if (!risk.is_object()) continue;
    json row = RiskItem(risk);
    row["id"] = ReferenceId(risk.value("subject", json::object()), "Patient");
    row["on_caseload"] = r.patient_key && worklist->on_caseload.count(*r.patient_key) > 0;
    if (const auto* now = std::get_if<store::RiskResult>(&r.record)) {
      row["segments"] = records::SegmentLabels(*now);
      auto before =
          r.patient_key ? worklist->previous.find(*r.patient_key) : worklist->previous.end();
      if (before != worklist->previous.end())
        if (const auto* then = std::get_if<store::RiskResult>(&before->second.record)) {
          row["previous"] = {{"run", then->run.id},
                             {"admission_risk", static_cast<double>(then->result.admission_risk)},
                             {"segments", records::SegmentLabels(*then)}};
          row["why"] = records::RiseReasons(*then, *now);
        }
    }
    ids.push_back(row["id"].get<std::string>());
    rows.push_back(std::move(row));
  }
  // Who each row is, in searches of 100 ids at a time (the most one _id search takes), each
  // one audited search.
  std::map<std::string, json> who;
  const Date today =
      Date::FromDays(static_cast<int32_t>(options.clock() / (24LL * 60 * 60 * 1000)));
  constexpr size_t kIdsPerSearch = 100;
  for (size_t from = 0; from < ids.size(); from += kIdsPerSearch) {
    std::string id_list;
    for (size_t i = from; i < std::min(ids.size(), from + kIdsPerSearch); ++i)
      id_list += (id_list.empty() ? "" : ",") + ids[i];
    auto people = Search(
        records, "Patient",
        "_id=" + search::PercentEncode(id_list) + "&_count=" + std::to_string(kIdsPerSearch), "");
    if (!people.ok()) {
      if (people.error().code == ErrorCode::kForbidden) break;  // the role may not: no names
      return FromError(people.error());
    }
    for (const records::Record& r : people->matches) {
      const json patient = json::parse(r.json, nullptr, false);
      if (!patient.is_object()) continue;
      json summary = PersonSummary(patient);
      if (auto age = AgeOn(Str(patient, "birthDate"), today)) summary["age"] = *age;
      who[r.id] = std::move(summary);
    }
  }
  for (json& row : rows)
    if (auto it = who.find(row["id"].get<std::string>()); it != who.end())
      row["person"] = it->second;
  if (csv) return WorklistCsv(rows, worklist->run_id, worklist->more, request.risers);
  return Json(200, {{"run", worklist->run_id ? json(*worklist->run_id) : json(nullptr)},
                    {"previous_run",
                     worklist->previous_run_id ? json(*worklist->previous_run_id) : json(nullptr)},
                    {"rows", std::move(rows)},
                    {"page", page},
                    {"next_page", worklist->more ? json(page + 1) : json(nullptr)}});
}

HttpResponse AppApi::Impl::CaseFindingOptions(records::Records& records) const {
  auto options = records.CaseFindingOptions();
  if (!options.ok()) return FromError(options.error());
  json practices = json::array();
  std::vector<std::string> pchs;
  for (const Practice& p : options->practices) {
    practices.push_back({{"id", p.id}, {"name", p.name}, {"pch", p.pch}});
    if (!p.pch.empty()) pchs.push_back(p.pch);
  }
  std::sort(pchs.begin(), pchs.end());
  pchs.erase(std::unique(pchs.begin(), pchs.end()), pchs.end());
  auto run_id = [](const std::optional<StratificationRun>& run) {
    return run ? json(run->id) : json(nullptr);
  };
  return Json(200, {{"run", run_id(options->run)},
                    {"previous_run", run_id(options->previous_run)},
                    {"index_date",
                     options->run ? json(options->run->index_date.ToString()) : json(nullptr)},
                    {"practices", std::move(practices)},
                    {"pchs", std::move(pchs)}});
}

HttpResponse AppApi::Impl::AccessLog(records::Records& records, std::string_view id) const {
  auto log = records.AccessLog(id);
  if (!log.ok()) {
    if (log.error().code == ErrorCode::kNotFound)
      return Problem(404, "No record found", "There is no one with that record that you may see.");
    return FromError(log.error());
  }
  const bool identify = records.requester().caller.role != security::Role::kPatient;
  json accesses = json::array();
  for (const store::AuditEvent& e : *log) accesses.push_back(EventJson(e, identify));
  return Json(200, {{"accesses", std::move(accesses)}});
}

HttpResponse AppApi::Impl::Alerts(records::Records& records) const {
  auto alerts = records.Alerts();
  if (!alerts.ok()) return FromError(alerts.error());
  json out = json::array();
  for (const records::Alert& alert : *alerts) {
    json a = EventJson(alert.event, true);
    if (alert.acknowledgement) {
      const std::string& query = alert.acknowledgement->query;
      const size_t colon = query.find(": ");
      a["acknowledged"] = {{"recorded", Instant(alert.acknowledgement->time_ms)},
                           {"user", alert.acknowledgement->username},
                           {"note", colon == std::string::npos ? "" : query.substr(colon + 2)}};
    } else {
      a["acknowledged"] = nullptr;
    }
    out.push_back(std::move(a));
  }
  return Json(200, {{"alerts", std::move(out)}});
}

HttpResponse AppApi::Impl::Acknowledge(records::Records& records, std::string_view id,
                                       std::string_view body) const {
  const json in = json::parse(body, nullptr, false);
  const std::string note = in.is_object() ? Str(in, "note") : "";
  int64_t sequence = 0;
  const bool digits =
      !id.empty() && id.size() <= 18 &&
      std::all_of(id.begin(), id.end(), [](unsigned char c) { return std::isdigit(c); });
  if (digits) sequence = std::stoll(std::string(id));
  if (!digits || sequence <= 0) return Problem(404, TitleOf(404), "There is no such alert.");
  Status done = records.AcknowledgeAlert(sequence, note);
  if (!done.ok()) {
    if (done.error().code == ErrorCode::kNotFound)
      return Problem(404, TitleOf(404), "There is no such alert.");
    return FromError(done.error());
  }
  return Json(200, {{"acknowledged", std::string(id)}});
}

namespace {
// A count as shown: the figure, or null where the small-number rule suppressed it.
json Count(const DisclosedCount& c) { return c.value ? json(*c.value) : json(nullptr); }
}  // namespace

HttpResponse AppApi::Impl::Population(records::Records& records) const {
  auto views = records.Population(population_cache);
  if (!views.ok()) {
    if (views.error().code == ErrorCode::kNotFound)
      return Problem(404, "No stratification yet",
                     "Run joinedup stratify on this population first.");
    return FromError(views.error());
  }
  const analytics::PopulationViews& v = *views;
  json segments = json::array();
  for (const analytics::SegmentTable& t : v.segments) {
    json rows = json::array();
    for (size_t r = 0; r < t.practices.size(); ++r) {
      json counts = json::array();
      for (const DisclosedCount& c : t.counts[r]) counts.push_back(Count(c));
      rows.push_back({{"practice", t.practices[r]}, {"counts", std::move(counts)}});
    }
    json pchs = json::array();
    for (size_t r = 0; r < t.pchs.size(); ++r) {
      json counts = json::array();
      for (const DisclosedCount& c : t.pch_counts[r]) counts.push_back(Count(c));
      pchs.push_back({{"pch", t.pchs[r]}, {"counts", std::move(counts)}});
    }
    json totals = json::array();
    for (const DisclosedCount& c : t.totals) totals.push_back(Count(c));
    segments.push_back({{"model", t.model},
                        {"columns", t.columns},
                        {"rows", std::move(rows)},
                        {"pchs", std::move(pchs)},
                        {"totals", std::move(totals)}});
  }
  json pyramid = json::array();
  for (size_t b = 0; b < v.pyramid.size(); ++b)
    pyramid.push_back({{"band", analytics::AgeBandLabel(static_cast<int>(b))},
                       {"female", Count(v.pyramid[b][0])},
                       {"male", Count(v.pyramid[b][1])},
                       {"other", Count(v.pyramid[b][2])}});
  json shares = json::array();
  for (size_t k = 0; k < analytics::kCostConcentrationPercents.size(); ++k)
    shares.push_back(
        {{"top_percent", analytics::kCostConcentrationPercents[k]}, {"share", v.cost.share[k]}});
  json lorenz = json::array();
  for (const auto& [people, cost] : v.lorenz) lorenz.push_back({people, cost});
  json risk = json::array();
  for (size_t b = 0; b < v.risk_bands.size(); ++b)
    risk.push_back(
        {{"from", analytics::kRiskBandFloors[b]},
         {"to", b + 1 < analytics::kRiskBandFloors.size() ? json(analytics::kRiskBandFloors[b + 1])
                                                          : json(nullptr)},
         {"people", Count(v.risk_bands[b])}});
  json movement = json::array();
  for (const analytics::Transition& t : v.movement) {
    json counts = json::array();
    for (const DisclosedCount& c : t.counts) counts.push_back(Count(c));
    movement.push_back({{"model", t.model},
                        {"from", t.from_states},
                        {"to", t.to_states},
                        {"counts", std::move(counts)}});
  }
  const DisclosureRule& rule = options.records.disclosure;
  return Json(200, {{"run", v.run_id},
                    {"index_date", v.index_date.ToString()},
                    {"previous_run", v.previous_run_id ? json(*v.previous_run_id) : json(nullptr)},
                    {"living", Count(v.living)},
                    {"disclosure",
                     {{"suppressed_up_to", rule.suppress_up_to}, {"rounded_to", rule.round_to}}},
                    {"segments", std::move(segments)},
                    {"pyramid", std::move(pyramid)},
                    {"cost", {{"total_pence", v.cost.total_pence}, {"shares", std::move(shares)}}},
                    {"lorenz", std::move(lorenz)},
                    {"risk_bands", std::move(risk)},
                    {"movement", std::move(movement)},
                    {"movement_note", v.movement_note}});
}

}  // namespace joinedup::webapp
