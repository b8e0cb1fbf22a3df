// Care-plan handlers (care_plan_api.h): the CarePlan and Goal documents read into the shape the
// screens use, and the screens' changes handed to the records service, which decides, writes
// and audits them (records/care_plan.cc).
#include "webapp/care_plan_api.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <utility>

#include "records/care_plan.h"
#include "security/policy.h"
#include "webapp/app_json.h"

namespace joinedup::webapp {
namespace {

using json = nlohmann::json;
using http::HttpResponse;



// ---- Reading the documents -------------------------------------------------------------------

const json* Extension(const json& element, std::string_view url) {
  auto it = element.find("extension");
  if (it == element.end() || !it->is_array()) return nullptr;
  for (const json& e : *it)
    if (e.is_object() && Str(e, "url") == url) return &e;
  return nullptr;
}

const json* Part(const json& complex, std::string_view name) {
  auto it = complex.find("extension");
  if (it == complex.end() || !it->is_array()) return nullptr;
  for (const json& e : *it)
    if (e.is_object() && Str(e, "url") == name) return &e;
  return nullptr;
}

// Who wrote something: {name, by_person, time}; by_person when it is the person themselves.
json Writer(const json& reference, std::string_view time, std::string_view person) {
  if (!reference.is_object()) return nullptr;
  return {{"name", Str(reference, "display")},
          {"by_person", !person.empty() && Str(reference, "reference") == person},
          {"time", std::string(time)}};
}

json WrittenBy(const json& element, std::string_view person) {
  const json* e = Extension(element, records::kWrittenByUrl);
  if (e == nullptr) return nullptr;
  const json* author = Part(*e, "author");
  const json* time = Part(*e, "time");
  if (author == nullptr || !author->contains("valueReference")) return nullptr;
  return Writer((*author)["valueReference"], time ? Str(*time, "valueDateTime") : "", person);
}

json AnnotationWriter(const json& note, std::string_view person) {
  auto it = note.find("authorReference");
  if (it != note.end() && it->is_object()) return Writer(*it, Str(note, "time"), person);
  if (auto name = Str(note, "authorString"); !name.empty())
    return {{"name", name}, {"by_person", false}, {"time", Str(note, "time")}};
  return nullptr;
}

std::string PersonReference(const json& resource) {
  for (const char* element : {"subject", "for"})
    if (auto it = resource.find(element); it != resource.end() && it->is_object())
      return Str(*it, "reference");
  return "";
}

std::string CodeOf(const json* extension) {
  return extension != nullptr ? Str(*extension, "valueCode") : "";
}

json PlanJson(const records::Record& record) {
  const json plan = json::parse(record.json, nullptr, false);
  if (!plan.is_object()) return nullptr;
  const std::string person = PersonReference(plan);
  json sections = json::object();
  json other_notes = json::array();  // notes of no joinedup section (another system's)
  if (auto notes = plan.find("note"); notes != plan.end() && notes->is_array()) {
    for (const json& note : *notes) {
      if (!note.is_object()) continue;
      const std::string code = CodeOf(Extension(note, records::kPlanSectionUrl));
      json part = {{"text", Str(note, "text")}, {"written_by", AnnotationWriter(note, person)}};
      if (const json* contact = Extension(note, records::kPlanContactUrl)) {
        const json* name = Part(*contact, "name");
        const json* phone = Part(*contact, "telephone");
        part["name"] = name ? Str(*name, "valueString") : "";
        part["telephone"] = phone && phone->contains("valueContactPoint")
                                ? Str((*phone)["valueContactPoint"], "value")
                                : "";
      }
      if (code.empty() || records::FindPlanSection(code) == nullptr)
        other_notes.push_back(std::move(part));
      else
        sections[code] = std::move(part);
    }
  }
  json activities = json::array();
  if (auto list = plan.find("activity"); list != plan.end() && list->is_array()) {
    for (const json& a : *list) {
      if (!a.is_object()) continue;
      const json detail = a.value("detail", json::object());
      std::string who;
      if (auto performers = detail.find("performer");
          performers != detail.end() && performers->is_array() && !performers->empty())
        who = Str(performers->front(), "display");
      std::string task;
      if (const json* t = Extension(a, records::kActivityTaskUrl);
          t != nullptr && t->contains("valueReference"))
        task = Str((*t)["valueReference"], "reference");
      else if (auto ref = a.find("reference"); ref != a.end() && ref->is_object())
        task = Str(*ref, "reference");
      if (task.starts_with("Task/")) task = task.substr(5);
      activities.push_back({{"description", Str(detail, "description")},
                            {"who", who},
                            {"when", Str(detail, "scheduledString")},
                            {"status", Str(detail, "status")},
                            {"declined", detail.value("doNotPerform", false)},
                            {"task", task},
                            {"written_by", WrittenBy(a, person)}});
    }
  }
  const json* review = Extension(plan, records::kPlanReviewDateUrl);
  return {{"id", record.id},
          {"version", record.meta.version_id},
          {"updated", record.meta.last_updated_ms ? json(Instant(*record.meta.last_updated_ms))
                                                  : json(nullptr)},
          {"status", Str(plan, "status")},
          {"title", Str(plan, "title")},
          {"review_date", review ? Str(*review, "valueDate") : ""},
          {"written_by", WrittenBy(plan, person)},
          {"sections", std::move(sections)},
          {"other_notes", std::move(other_notes)},
          {"activities", std::move(activities)}};
}

json GoalJson(const records::Record& record) {
  const json goal = json::parse(record.json, nullptr, false);
  if (!goal.is_object()) return nullptr;
  const std::string person = PersonReference(goal);
  const json description = goal.value("description", json::object());
  json notes = json::array();
  if (auto list = goal.find("note"); list != goal.end() && list->is_array())
    for (const json& n : *list)
      if (n.is_object())
        notes.push_back({{"kind", CodeOf(Extension(n, records::kGoalNoteKindUrl))},
                         {"text", Str(n, "text")},
                         {"written_by", AnnotationWriter(n, person)}});
  json agreed = json::array();
  if (auto list = goal.find("extension"); list != goal.end() && list->is_array())
    for (const json& e : *list)
      if (e.is_object() && Str(e, "url") == records::kGoalAgreedByUrl &&
          e.contains("valueReference"))
        agreed.push_back(Writer(e["valueReference"], "", person));
  std::string target;
  if (auto targets = goal.find("target"); targets != goal.end() && targets->is_array())
    for (const json& t : *targets)
      if (t.is_object() && t.contains("dueDate")) target = Str(t, "dueDate");
  const json expressed = goal.value("expressedBy", json::object());
  return {{"id", record.id},
          {"version", record.meta.version_id},
          {"text", Str(description, "text")},
          {"status", Str(goal, "lifecycleStatus")},
          {"status_reason", Str(goal, "statusReason")},
          {"status_date", Str(goal, "statusDate")},
          {"target_date", target},
          {"in_persons_words", !person.empty() && Str(expressed, "reference") == person},
          {"agreed_by", std::move(agreed)},
          {"text_written_by", WrittenBy(description, person)},
          {"written_by", WrittenBy(goal, person)},
          {"notes", std::move(notes)}};
}

json TaskJson(const records::Record& record) {
  const json task = json::parse(record.json, nullptr, false);
  if (!task.is_object()) return nullptr;
  std::string due;
  if (auto r = task.find("restriction"); r != task.end() && r->is_object())
    if (auto p = r->find("period"); p != r->end() && p->is_object()) due = Str(*p, "end");
  const json owner = task.value("owner", json::object());
  std::string business;
  if (auto b = task.find("businessStatus"); b != task.end() && b->is_object())
    business = Str(*b, "text");
  return {{"id", record.id},
          {"description", Str(task, "description")},
          {"status", Str(task, "status")},
          {"business_status", business},
          {"due", due},
          {"owner", Str(owner, "display").empty() ? Str(owner, "reference") : Str(owner, "display")}};
}

json FlagJson(const records::Record& record) {
  const json flag = json::parse(record.json, nullptr, false);
  if (!flag.is_object()) return nullptr;
  std::string text, category, since;
  if (auto code = flag.find("code"); code != flag.end() && code->is_object()) {
    text = Str(*code, "text");
    if (text.empty())
      if (auto c = code->find("coding"); c != code->end() && c->is_array() && !c->empty())
        text = Str(c->front(), "display");
  }
  if (auto cats = flag.find("category"); cats != flag.end() && cats->is_array() && !cats->empty()) {
    category = Str(cats->front(), "text");
    if (auto c = cats->front().find("coding");
        category.empty() && c != cats->front().end() && c->is_array() && !c->empty())
      category = Str(c->front(), "display").empty() ? Str(c->front(), "code")
                                                    : Str(c->front(), "display");
  }
  if (auto p = flag.find("period"); p != flag.end() && p->is_object()) since = Str(*p, "start");
  return {{"id", record.id}, {"text", text}, {"category", category}, {"since", since}};
}

json SectionsTemplate() {
  json out = json::array();
  for (const records::PlanSection& s : records::PlanSections())
    out.push_back({{"code", s.code},
                   {"prsb", s.prsb},
                   {"heading", s.heading},
                   {"plain", s.plain},
                   {"person_writes", s.person_writes},
                   {"contact", s.contact}});
  return out;
}

std::string PersonName(const json& patient) {
  auto names = patient.find("name");
  if (names == patient.end() || !names->is_array() || names->empty()) return "";
  const json& n = names->front();
  if (auto text = Str(n, "text"); !text.empty()) return text;
  std::string out;
  if (auto given = n.find("given"); given != n.end() && given->is_array())
    for (const json& g : *given)
      if (g.is_string()) out += (out.empty() ? "" : " ") + g.get<std::string>();
  if (auto family = Str(n, "family"); !family.empty()) out += (out.empty() ? "" : " ") + family;
  return out;
}

json PlanView(records::Records& records, const records::PersonPlan& plan) {
  const security::Caller& caller = records.requester().caller;
  const json patient = json::parse(plan.person.json, nullptr, false);
  json goals = json::array(), tasks = json::array(), flags = json::array();
  for (const records::Record& g : plan.goals)
    if (json j = GoalJson(g); !j.is_null()) goals.push_back(std::move(j));
  for (const records::Record& t : plan.tasks)
    if (json j = TaskJson(t); !j.is_null()) tasks.push_back(std::move(j));
  for (const records::Record& f : plan.flags)
    if (json j = FlagJson(f); !j.is_null()) flags.push_back(std::move(j));
  // What the screens offer (the records service decides each change when it is made).
  const bool is_person = caller.role == security::Role::kPatient;
  auto may = [&](security::Interaction i, std::string_view type) {
    return security::DecideUnbound(caller, {i, type}).allowed;
  };
  return {{"person",
           {{"id", plan.person.id}, {"name", patient.is_object() ? PersonName(patient) : ""}}},
          {"viewer", is_person ? "person" : "staff"},
          {"may",
           {{"create_plan", may(security::Interaction::kCreate, "CarePlan")},
            {"change_plan", may(security::Interaction::kUpdate, "CarePlan")},
            {"create_goal", may(security::Interaction::kCreate, "Goal")},
            {"change_goal", may(security::Interaction::kUpdate, "Goal")}}},
          {"sections_available", SectionsTemplate()},
          {"plan", plan.plan ? PlanJson(*plan.plan) : json(nullptr)},
          {"goals", std::move(goals)},
          {"tasks", std::move(tasks)},
          {"flags", std::move(flags)}};
}

// ---- Requests --------------------------------------------------------------------------------

std::optional<json> BodyObject(const http::HttpRequest& request) {
  json body = json::parse(request.body, nullptr, false);
  if (!body.is_object()) return std::nullopt;
  return body;
}

HttpResponse NotAnObject() {
  return Problem(400, TitleOf(400), "Send the form's fields as a JSON object.");
}

Result<int64_t> Version(const json& body) {
  auto it = body.find("version");
  if (it != body.end() && it->is_number_integer() && it->get<int64_t>() > 0)
    return it->get<int64_t>();
  if (it != body.end() && it->is_string())
    if (auto v = PositiveId(it->get<std::string>())) return *v;
  return Invalid("send the version of the plan you changed", "version");
}

// An optional string member: absent is nullopt; anything but a string (or null: "") an error.
Result<std::optional<std::string>> OptionalText(const json& body, const char* key) {
  auto it = body.find(key);
  if (it == body.end()) return std::optional<std::string>();
  if (it->is_null()) return std::optional<std::string>(std::string());
  if (!it->is_string()) return Invalid(std::string(key) + " must be text", key);
  return std::optional<std::string>(it->get<std::string>());
}

Result<records::PlanEdit> ReadPlanEdit(const json& body, std::string_view display_name) {
  records::PlanEdit edit;
  edit.author_name = std::string(display_name);
  if (auto s = body.find("sections"); s != body.end()) {
    if (!s->is_object()) return Invalid("sections must be an object of texts", "sections");
    for (const auto& [code, text] : s->items()) {
      if (!text.is_string() && !text.is_null())
        return Invalid("a section's text must be text", "sections." + code);
      edit.sections.emplace_back(code, text.is_string() ? text.get<std::string>() : "");
    }
  }
  if (auto c = body.find("contacts"); c != body.end()) {
    if (!c->is_object()) return Invalid("contacts must be an object", "contacts");
    for (const auto& [code, contact] : c->items()) {
      if (!contact.is_object() && !contact.is_null())
        return Invalid("a contact is a name and a telephone number", "contacts." + code);
      records::PlanContact pc;
      if (contact.is_object()) {
        pc.name = Str(contact, "name");
        pc.telephone = Str(contact, "telephone");
      }
      edit.contacts.emplace_back(code, std::move(pc));
    }
  }
  JU_ASSIGN_OR_RETURN(edit.review_date, OptionalText(body, "review_date"));
  if (auto a = body.find("activities"); a != body.end()) {
    if (!a->is_array()) return Invalid("activities must be a list", "activities");
    std::vector<records::PlanActivity> list;
    for (size_t i = 0; i < a->size(); ++i) {
      const json& item = (*a)[i];
      if (!item.is_object())
        return Invalid("an activity is an object", "activities." + std::to_string(i));
      records::PlanActivity activity;
      activity.description = Str(item, "description");
      activity.who = Str(item, "who");
      activity.when = Str(item, "when");
      if (auto status = Str(item, "status"); !status.empty()) activity.status = status;
      activity.task_id = Str(item, "task");
      list.push_back(std::move(activity));
    }
    edit.activities = std::move(list);
  }
  return edit;
}

Result<records::GoalEdit> ReadGoalEdit(const json& body, std::string_view display_name) {
  records::GoalEdit edit;
  edit.author_name = std::string(display_name);
  JU_ASSIGN_OR_RETURN(edit.text, OptionalText(body, "text"));
  JU_ASSIGN_OR_RETURN(edit.target_date, OptionalText(body, "target_date"));
  JU_ASSIGN_OR_RETURN(edit.status, OptionalText(body, "status"));
  JU_ASSIGN_OR_RETURN(edit.progress, OptionalText(body, "progress"));
  JU_ASSIGN_OR_RETURN(edit.refusal, OptionalText(body, "refusal"));
  if (edit.status && edit.status->empty()) edit.status.reset();
  edit.agreed_with_person = body.value("agreed_with_person", false) == true;
  edit.in_persons_words = body.value("in_persons_words", false) == true;
  return edit;
}

HttpResponse Show(records::Records& records, std::string_view patient_id) {
  auto plan = records.PlanOf(patient_id);
  if (!plan.ok()) return FormRefusal(plan.error());
  return Json(200, PlanView(records, *plan));
}

// After a change: the plan as it now is, so the screen shows what was saved.
HttpResponse Saved(records::Records& records, int status, const records::Written& written) {
  json resource = json::parse(written.record.json, nullptr, false);
  const std::string person = resource.is_object() ? PersonReference(resource) : "";
  json out = {{"saved", {{"type", written.record.type},
                         {"id", written.record.id},
                         {"version", written.record.meta.version_id}}}};
  if (person.starts_with("Patient/")) {
    auto plan = records.PlanOf(person.substr(8));
    if (plan.ok()) out.update(PlanView(records, *plan));
  }
  return Json(status, out);
}

// A stale change: 412, with the plan as someone else left it, so the screen can show it.
HttpResponse Stale(records::Records& records, const Error& error, std::string_view patient_id) {
  json body = {{"error",
                {{"status", 412},
                 {"title", "Someone else has changed this plan"},
                 {"detail",
                  "Someone else changed this plan after you opened it. Here is their version: "
                  "check it, then make your change again."},
                 {"field", error.field.empty() ? "version" : error.field}}}};
  if (!patient_id.empty()) {
    auto plan = records.PlanOf(patient_id);
    if (plan.ok()) body["current"] = PlanView(records, *plan);
  }
  return Json(412, body);
}

// The person a stored plan or goal is about, read through the records service ("" if none).
std::string PersonOfRecord(records::Records& records, std::string_view type, std::string_view id) {
  auto record = records.Read(type, id);
  if (!record.ok()) return "";
  const json resource = json::parse(record->json, nullptr, false);
  const std::string person = resource.is_object() ? PersonReference(resource) : "";
  return person.starts_with("Patient/") ? person.substr(8) : "";
}

HttpResponse History(records::Records& records, std::string_view plan_id) {
  auto versions = records.History("CarePlan", plan_id);
  if (!versions.ok()) return FormRefusal(versions.error());
  json out = json::array();
  for (const records::Version& v : *versions) {
    const json plan = json::parse(v.json, nullptr, false);
    json row = {{"version", v.meta.version_id},
                {"updated", v.meta.last_updated_ms ? json(Instant(*v.meta.last_updated_ms))
                                                   : json(nullptr)},
                {"written_by", nullptr}};
    if (plan.is_object()) row["written_by"] = WrittenBy(plan, PersonReference(plan));
    out.push_back(std::move(row));
  }
  return Json(200, {{"versions", std::move(out)}});
}

}  // namespace

bool IsCarePlanPath(std::span<const std::string_view> path) {
  if (path.empty()) return false;
  if (path[0] == "care-plans" || path[0] == "goals") return true;
  return path.size() == 3 && path[0] == "people" && (path[2] == "care-plan" || path[2] == "goals");
}

HttpResponse CarePlanApi(records::Records& records, const http::HttpRequest& request,
                         std::span<const std::string_view> path, std::string_view display_name) {
  const std::string& method = request.method;
  if (path[0] == "people") {
    const std::string_view patient = path[1];
    if (path[2] == "care-plan") {
      if (method == "GET") return Show(records, patient);
      if (method != "POST") return MethodNotAllowed("GET, POST");
      // Scope and role first: a caller who may not create a plan learns nothing from the body.
      if (Status s = records.Permit(records::Operation::kCreate, "CarePlan"); !s.ok())
        return FormRefusal(s.error());
      std::optional<json> body = BodyObject(request);
      if (!body) return NotAnObject();
      auto edit = ReadPlanEdit(*body, display_name);
      if (!edit.ok()) return FormRefusal(edit.error());
      auto written = records.CreatePlan(patient, *edit);
      if (!written.ok()) return FormRefusal(written.error());
      return Saved(records, 201, *written);
    }
    // goals
    if (method != "POST") return MethodNotAllowed("POST");
    if (Status s = records.Permit(records::Operation::kCreate, "Goal"); !s.ok())
      return FormRefusal(s.error());
    std::optional<json> body = BodyObject(request);
    if (!body) return NotAnObject();
    auto edit = ReadGoalEdit(*body, display_name);
    if (!edit.ok()) return FormRefusal(edit.error());
    auto written = records.CreateGoal(patient, *edit);
    if (!written.ok()) return FormRefusal(written.error());
    return Saved(records, 201, *written);
  }
  if (path.size() < 2) return NoSuchPage();
  const std::string_view id = path[1];
  if (path[0] == "care-plans" && path.size() == 3 && path[2] == "history")
    return method == "GET" ? History(records, id) : MethodNotAllowed("GET");
  if (path.size() != 2) return NoSuchPage();
  if (method != "POST") return MethodNotAllowed("POST");
  const std::string_view type = path[0] == "care-plans" ? "CarePlan" : "Goal";
  if (Status s = records.Permit(records::Operation::kUpdate, type); !s.ok())
    return FormRefusal(s.error());
  std::optional<json> body = BodyObject(request);
  if (!body) return NotAnObject();
  auto version = Version(*body);
  if (!version.ok()) return FormRefusal(version.error());
  Result<records::Written> written = Error::Internal("no change");
  if (type == "CarePlan") {
    auto edit = ReadPlanEdit(*body, display_name);
    if (!edit.ok()) return FormRefusal(edit.error());
    written = records.EditPlan(id, *version, *edit);
  } else {
    auto edit = ReadGoalEdit(*body, display_name);
    if (!edit.ok()) return FormRefusal(edit.error());
    written = records.EditGoal(id, *version, *edit);
  }
  if (!written.ok()) {
    if (written.error().code == ErrorCode::kPreconditionFailed)
      return Stale(records, written.error(), PersonOfRecord(records, type, id));
    return FormRefusal(written.error());
  }
  return Saved(records, 200, *written);
}

}  // namespace joinedup::webapp
