// The person-centred care and support plan through the records service (care_plan.h,
// records.h "Care plans"): the plan's shape (PRSB Personalised Care and Support Plan), each
// change as one write of the CarePlan or Goal document marked with who wrote it, and what a
// patient may change of their own plan (issue 12 item 4: "they can edit About me, their goals'
// wording and progress in their own words … A person can refuse a goal staff proposed; the
// refusal is kept in their words").
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <string>
#include <utility>

#include "core/date.h"
#include "core/strings.h"
#include "fhir/resource.h"
#include "fhir/search/search_params.h"
#include "records/records.h"
#include "security/policy.h"

namespace joinedup::records {
namespace {

using json = nlohmann::ordered_json;
using store::AuditOutcome;

// The sections, in the order the plan is read. The PRSB PCSP standard's sections are "About
// me", "What matters to me", the person's goals (outcomes), the plan and requested actions
// ("What we will do"), the contingency plan, advance care planning (future planning), and the
// review; self-care and community and voluntary services are in the plan as seed 003 (North
// West London WSIC) asks: "Care plans include self care, community services and the voluntary
// sector". A ReSPECT or DNACPR form is recorded as existing and where it is kept, never the
// decision itself (issue 12 item 3).
constexpr std::array<PlanSection, 13> kSections = {{
    {"about-me-communication", "About me", "How I communicate",
     "How I like to communicate", true, false},
    {"about-me-people", "About me", "People who matter to me", "People who matter to me", true,
     false},
    {"about-me-support", "About me", "How and when to support me",
     "How and when to support me", true, false},
    {"what-matters", "What matters to me", "What matters to me", "What matters to me", true,
     false},
    {"contingency", "Contingency plan", "What to do if I become unwell",
     "What to do if I become unwell", false, false},
    {"contact-in-hours", "Contingency plan", "Who to call in working hours",
     "Who to call in working hours", false, true},
    {"contact-out-of-hours", "Contingency plan", "Who to call out of hours",
     "Who to call at night and at weekends", false, true},
    {"acp-preferences", "Advance care planning",
     "Preferences for care and place of care", "Where and how I would like to be cared for",
     false, false},
    {"acp-statement", "Advance care planning", "Advance statement", "My advance statement",
     false, false},
    {"acp-respect-form", "Advance care planning",
     "ReSPECT or DNACPR form: whether there is one and where it is kept",
     "Where my ReSPECT or DNACPR form is kept", false, false},
    {"self-care", "Self-care and community services", "Self-care", "Looking after myself",
     false, false},
    {"community-services", "Self-care and community services",
     "Community and voluntary services", "Community and voluntary groups that help me", false,
     false},
    {"review", "Review", "About the review", "About reviewing my plan", false, false},
}};

// FHIR R4 value sets the editors set from.
constexpr std::string_view kActivityStatuses[] = {
    "not-started", "scheduled", "in-progress", "on-hold",         "completed",
    "cancelled",   "stopped",   "unknown",     "entered-in-error"};
constexpr std::string_view kGoalStatuses[] = {"proposed",  "planned",  "accepted",
                                              "active",    "on-hold",  "completed",
                                              "cancelled", "rejected", "entered-in-error"};
// A goal can be refused while it is still to be done (not once completed or ended).
constexpr std::string_view kRefusableGoalStatuses[] = {"proposed", "planned", "accepted",
                                                       "active", "on-hold"};
// Task.status values of work still to do (R4 TaskStatus).
constexpr std::string_view kOpenTaskStatuses = "requested,received,accepted,ready,in-progress,on-hold";
constexpr std::string_view kCurrentPlanStatuses = "draft,active,on-hold";
constexpr size_t kMaxText = 10'000;  // characters of one section, goal or note

template <size_t N>
bool OneOf(const std::string_view (&values)[N], std::string_view v) {
  return std::find(std::begin(values), std::end(values), v) != std::end(values);
}

Error Invalid(std::string message, std::string field) {
  return Error{ErrorCode::kInvalidInput, std::move(message), std::move(field)};
}

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// JSON with every object's members in one order (by name), so that comparing two resources
// ignores the order a client wrote members in (FHIR gives it no meaning); arrays keep theirs.
json Canonical(std::string_view text) {
  const nlohmann::json sorted = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (sorted.is_discarded()) return json(json::value_t::discarded);
  return json::parse(sorted.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

bool SameJson(const json& a, const json& b) { return Canonical(Dump(a)) == Canonical(Dump(b)); }

Result<std::string> CheckedText(std::string_view text, std::string field, bool required) {
  if (!IsValidUtf8(text)) return Invalid("the text is not valid UTF-8", field);
  if (text.size() > kMaxText) return Invalid("write at most 10,000 characters", field);
  if (required && TrimSpace(text).empty()) return Invalid("enter the text", field);
  return std::string(text);
}

Result<std::string> CheckedDate(std::string_view text, std::string field) {
  if (text.empty()) return std::string();
  if (!Date::Parse(text).ok()) return Invalid("enter a real date, like 2026-10-19", field);
  return std::string(text);
}

// A telephone number as people write one: digits, spaces, + ( ) - and at least 3 digits.
bool LooksLikeTelephone(std::string_view text) {
  int digits = 0;
  for (char c : text) {
    if (c >= '0' && c <= '9') ++digits;
    else if (c != ' ' && c != '+' && c != '(' && c != ')' && c != '-') return false;
  }
  return digits >= 3;
}

std::string PersonOf(const json& resource) {
  for (const char* element : {"subject", "for"}) {
    auto it = resource.find(element);
    if (it != resource.end() && it->is_object() && it->contains("reference") &&
        (*it)["reference"].is_string())
      return (*it)["reference"].get<std::string>();
  }
  return "";
}

json WrittenBy(const json& author, const std::string& time) {
  return {{"url", kWrittenByUrl},
          {"extension",
           json::array({{{"url", "author"}, {"valueReference", author}},
                        {{"url", "time"}, {"valueDateTime", time}}})}};
}

// Sets `element`'s extension `url` to `extension` (one of it), or removes it (null).
void SetExtension(json& element, std::string_view url, const json& extension) {
  json kept = json::array();
  if (auto it = element.find("extension"); it != element.end() && it->is_array())
    for (const json& e : *it)
      if (!(e.is_object() && e.value("url", "") == url)) kept.push_back(e);
  if (!extension.is_null()) kept.push_back(extension);
  if (kept.empty()) element.erase("extension");
  else element["extension"] = std::move(kept);
}

const json* FindExtension(const json& element, std::string_view url) {
  auto it = element.find("extension");
  if (it == element.end() || !it->is_array()) return nullptr;
  for (const json& e : *it)
    if (e.is_object() && e.value("url", "") == url) return &e;
  return nullptr;
}

std::string SectionOf(const json& note) {
  const json* e = FindExtension(note, kPlanSectionUrl);
  if (e == nullptr) return "";
  auto code = e->find("valueCode");
  return code != e->end() && code->is_string() ? code->get<std::string>() : "";
}

std::string AuthorReferenceOf(const json& annotation) {
  auto it = annotation.find("authorReference");
  if (it == annotation.end() || !it->is_object()) return "";
  return it->value("reference", "");
}

// The reference in a written-by extension's author ("" if none).
std::string WrittenByReference(const json& element) {
  const json* e = FindExtension(element, kWrittenByUrl);
  if (e == nullptr || !e->contains("extension") || !(*e)["extension"].is_array()) return "";
  for (const json& part : (*e)["extension"])
    if (part.is_object() && part.value("url", "") == "author" && part.contains("valueReference") &&
        part["valueReference"].is_object())
      return part["valueReference"].value("reference", "");
  return "";
}

// The elements of an array of objects, less those `drop` says (for comparing what must stay).
template <typename Drop>
json Without(const json& element, Drop drop) {
  json out = json::array();
  if (element.is_array())
    for (const json& e : element)
      if (!drop(e)) out.push_back(e);
  return out;
}

bool Contains(const json& list, const json& value) {
  return list.is_array() && std::find(list.begin(), list.end(), value) != list.end();
}

// Every top-level element other than `allowed` is the same in both versions: "" if so, else
// the first that differs.
std::string FirstChange(const json& before, const json& after,
                        std::initializer_list<std::string_view> allowed) {
  auto free = [&](const std::string& key) {
    return key == "id" || key == "meta" ||
           std::find(allowed.begin(), allowed.end(), key) != allowed.end();
  };
  for (const auto& [key, value] : after.items()) {
    if (free(key)) continue;
    auto it = before.find(key);
    if (it == before.end() || *it != value) return key;
  }
  for (const auto& [key, value] : before.items())
    if (!free(key) && !after.contains(key)) return key;
  return "";
}

}  // namespace

std::span<const PlanSection> PlanSections() { return kSections; }

const PlanSection* FindPlanSection(std::string_view code) {
  for (const PlanSection& s : kSections)
    if (s.code == code) return &s;
  return nullptr;
}

namespace {

// Who is writing, as the plan records it: the person themselves by their Patient reference; a
// member of staff by their username (a user need not have a Practitioner record).
json AuthorOf(const security::Caller& caller, const security::AuditActor& actor,
              const std::string& person_reference, const std::string& name) {
  if (caller.role == store::Role::kPatient)
    return {{"reference", person_reference}, {"display", name.empty() ? "The person" : name}};
  return {{"identifier", {{"system", kUsernameSystem}, {"value", actor.username}}},
          {"display", name.empty() ? actor.username : name}};
}

// A plan changed as `edit` says, each changed part marked with `author` and `now`.
Status ApplyPlanEdit(json& plan, const PlanEdit& edit, const json& author, const std::string& now,
                     const std::vector<std::pair<std::string, std::string>>& task_people) {
  if (!plan.contains("note") || !plan["note"].is_array()) plan["note"] = json::array();
  json& notes = plan["note"];
  auto find_note = [&](std::string_view code) -> json* {
    for (json& n : notes)
      if (SectionOf(n) == code) return &n;
    return nullptr;
  };
  auto put_note = [&](std::string_view code, const std::string& text, const json& contact) {
    json* existing = find_note(code);
    if (text.empty()) {
      if (existing != nullptr) {
        auto at = notes.begin() + (existing - &notes[0]);
        notes.erase(at);
      }
      return;
    }
    if (existing != nullptr && existing->value("text", "") == text &&
        (contact.is_null() ? FindExtension(*existing, kPlanContactUrl) == nullptr
                           : FindExtension(*existing, kPlanContactUrl) != nullptr &&
                                 SameJson(*FindExtension(*existing, kPlanContactUrl), contact)))
      return;  // unchanged: keeps who wrote it
    json note = {{"extension", json::array({{{"url", kPlanSectionUrl}, {"valueCode", code}}})},
                 {"authorReference", author},
                 {"time", now},
                 {"text", text}};
    if (!contact.is_null()) note["extension"].push_back(contact);
    if (existing != nullptr) *existing = std::move(note);
    else notes.push_back(std::move(note));
  };
  for (const auto& [code, text] : edit.sections) {
    const PlanSection* s = FindPlanSection(code);
    if (s == nullptr || s->contact)
      return Invalid("there is no section " + code + " in a care plan", "sections." + code);
    JU_ASSIGN_OR_RETURN(std::string checked, CheckedText(text, "sections." + code, false));
    put_note(code, checked, nullptr);
  }
  for (const auto& [code, contact] : edit.contacts) {
    const PlanSection* s = FindPlanSection(code);
    if (s == nullptr || !s->contact)
      return Invalid("there is no contact " + code + " in a care plan", "contacts." + code);
    const std::string field = "contacts." + code;
    const std::string name(TrimSpace(contact.name)), phone(TrimSpace(contact.telephone));
    if (name.empty() && phone.empty()) {
      put_note(code, "", nullptr);
      continue;
    }
    JU_ASSIGN_OR_RETURN(std::string checked_name, CheckedText(name, field + ".name", true));
    if (phone.empty()) return Invalid("enter the telephone number to call", field + ".telephone");
    if (!LooksLikeTelephone(phone))
      return Invalid("enter a telephone number, like 01905 123456", field + ".telephone");
    json extension = {
        {"url", kPlanContactUrl},
        {"extension",
         json::array({{{"url", "name"}, {"valueString", checked_name}},
                      {{"url", "telephone"},
                       {"valueContactPoint", {{"system", "phone"}, {"value", phone}}}}})}};
    put_note(code, checked_name + ", telephone " + phone, extension);
  }
  if (notes.empty()) plan.erase("note");
  if (edit.review_date) {
    JU_ASSIGN_OR_RETURN(std::string date, CheckedDate(*edit.review_date, "review_date"));
    SetExtension(plan, kPlanReviewDateUrl,
                 date.empty() ? json(nullptr) : json{{"url", kPlanReviewDateUrl}, {"valueDate", date}});
  }
  if (edit.activities) {
    const json before = plan.contains("activity") ? plan["activity"] : json::array();
    json activities = json::array();
    for (size_t i = 0; i < edit.activities->size(); ++i) {
      const PlanActivity& a = (*edit.activities)[i];
      const std::string field = "activities." + std::to_string(i);
      JU_ASSIGN_OR_RETURN(std::string what, CheckedText(a.description, field + ".description", true));
      JU_ASSIGN_OR_RETURN(std::string who, CheckedText(a.who, field + ".who", false));
      JU_ASSIGN_OR_RETURN(std::string when, CheckedText(a.when, field + ".when", false));
      if (!OneOf(kActivityStatuses, a.status))
        return Invalid("choose the activity's status", field + ".status");
      json detail = {{"status", a.status}, {"description", what}};
      if (!TrimSpace(who).empty()) detail["performer"] = json::array({{{"display", who}}});
      if (!TrimSpace(when).empty()) detail["scheduledString"] = when;
      json activity = json::object();
      if (!a.task_id.empty()) {
        const bool same_person = std::any_of(task_people.begin(), task_people.end(),
                                             [&](const auto& t) { return t.first == a.task_id; });
        if (!same_person) return Invalid("Task/" + a.task_id + " is not known", field + ".task");
        activity["extension"] = json::array(
            {{{"url", kActivityTaskUrl}, {"valueReference", {{"reference", "Task/" + a.task_id}}}}});
      }
      activity["detail"] = std::move(detail);
      // An activity as it was keeps who wrote it.
      const json* same = nullptr;
      for (const json& b : before) {
        json plain = b;
        SetExtension(plain, kWrittenByUrl, nullptr);
        if (SameJson(plain, activity)) same = &b;
      }
      if (same != nullptr) {
        activities.push_back(*same);
      } else {
        SetExtension(activity, kWrittenByUrl, WrittenBy(author, now));
        activities.push_back(std::move(activity));
      }
    }
    if (activities.empty()) plan.erase("activity");
    else plan["activity"] = std::move(activities);
  }
  SetExtension(plan, kWrittenByUrl, WrittenBy(author, now));
  return Ok();
}

Status ApplyGoalEdit(json& goal, const GoalEdit& edit, const json& author, const std::string& now,
                     const std::string& today) {
  if (edit.text) {
    JU_ASSIGN_OR_RETURN(std::string text, CheckedText(*edit.text, "text", true));
    json& description = goal["description"];
    if (!description.is_object()) description = json::object();
    if (description.value("text", "") != text) {
      description["text"] = text;  // verbatim: the person's own words
      SetExtension(description, kWrittenByUrl, WrittenBy(author, now));
    }
  }
  if (edit.target_date) {
    JU_ASSIGN_OR_RETURN(std::string date, CheckedDate(*edit.target_date, "target_date"));
    if (date.empty()) goal.erase("target");
    else goal["target"] = json::array({{{"dueDate", date}}});
  }
  if (edit.status) {
    if (!OneOf(kGoalStatuses, *edit.status) || *edit.status == "rejected")
      return Invalid("choose the goal's status (a refusal is recorded in the person's words)",
                     "status");
    goal["lifecycleStatus"] = *edit.status;
  }
  auto add_note = [&](std::string_view kind, const std::string& text) {
    if (!goal.contains("note") || !goal["note"].is_array()) goal["note"] = json::array();
    goal["note"].push_back(
        {{"extension", json::array({{{"url", kGoalNoteKindUrl}, {"valueCode", kind}}})},
         {"authorReference", author},
         {"time", now},
         {"text", text}});
  };
  if (edit.progress) {
    JU_ASSIGN_OR_RETURN(std::string text, CheckedText(*edit.progress, "progress", true));
    add_note("progress", text);
  }
  if (edit.refusal) {
    JU_ASSIGN_OR_RETURN(std::string words, CheckedText(*edit.refusal, "refusal", true));
    if (!OneOf(kRefusableGoalStatuses, goal.value("lifecycleStatus", "")))
      return Invalid("only a goal still to be done can be refused", "refusal");
    goal["lifecycleStatus"] = "rejected";
    goal["statusDate"] = today;
    goal["statusReason"] = words;  // verbatim: why, in the person's words
    add_note("refusal", words);
  }
  SetExtension(goal, kWrittenByUrl, WrittenBy(author, now));
  return Ok();
}

}  // namespace

Result<std::vector<Record>> Records::SearchAll(std::string_view type, std::string query) {
  query += "&_count=" + std::to_string(resources::kMaxCount);
  auto parsed = fhir::search::ParseSearch(type, query, fhir::search::UnknownParams::kStrict);
  if (auto* error = std::get_if<fhir::search::SearchError>(&parsed))
    return Error::Internal("a care plan search: " + error->message);
  SearchOptions options;
  options.query = std::string(type) + "?" + query;
  JU_ASSIGN_OR_RETURN(Page page, Search(std::get<resources::SearchRequest>(parsed), options));
  return std::move(page.matches);
}

Result<PersonPlan> Records::PlanOf(std::string_view patient_id) {
  // Scope and role for every part first: a caller who may not read plans learns nothing about
  // who exists.
  for (std::string_view type : {"CarePlan", "Goal", "Task", "Flag"})
    JU_RETURN_IF_ERROR(Permit(Operation::kSearch, type));
  PersonPlan out;
  JU_ASSIGN_OR_RETURN(out.person, Read("Patient", patient_id));
  const std::string person = "patient=Patient/" + std::string(patient_id);
  JU_ASSIGN_OR_RETURN(std::vector<Record> plans,
                      SearchAll("CarePlan", person + "&status=" + std::string(kCurrentPlanStatuses)));
  // One plan per person (CreatePlan); should another system have sent more, the latest counts.
  for (Record& plan : plans)
    if (!out.plan || plan.meta.last_updated_ms > out.plan->meta.last_updated_ms)
      out.plan = std::move(plan);
  JU_ASSIGN_OR_RETURN(out.goals, SearchAll("Goal", person));
  JU_ASSIGN_OR_RETURN(out.tasks,
                      SearchAll("Task", person + "&status=" + std::string(kOpenTaskStatuses)));
  JU_ASSIGN_OR_RETURN(out.flags, SearchAll("Flag", person + "&status=active"));
  return out;
}

Result<Written> Records::CreatePlan(std::string_view patient_id, const PlanEdit& edit) {
  JU_RETURN_IF_ERROR(Permit(Operation::kCreate, "CarePlan"));
  const std::string person = "Patient/" + std::string(patient_id);
  JU_ASSIGN_OR_RETURN(Record patient, Read("Patient", patient_id));
  JU_ASSIGN_OR_RETURN(
      std::vector<Record> current,
      SearchAll("CarePlan", "patient=" + person + "&status=" + std::string(kCurrentPlanStatuses)));
  if (!current.empty())
    return Error{ErrorCode::kConflict,
                 "this person has a care plan already: change that one (one plan per person)",
                 "plan"};
  std::vector<std::pair<std::string, std::string>> task_people;
  if (edit.activities) {
    JU_ASSIGN_OR_RETURN(std::vector<Record> tasks, SearchAll("Task", "patient=" + person));
    for (const Record& t : tasks) task_people.emplace_back(t.id, person);
  }
  json plan = {{"resourceType", "CarePlan"},
               {"status", "active"},
               {"intent", "plan"},
               {"title", "Personalised care and support plan"},
               {"subject", {{"reference", person}}},
               {"created", FormatInstant(clock_())}};
  const json author = AuthorOf(requester_.caller, requester_.actor, person, edit.author_name);
  JU_RETURN_IF_ERROR(ApplyPlanEdit(plan, edit, author, FormatInstant(clock_()), task_people));
  return Create("CarePlan", Dump(plan));
}

Result<Written> Records::EditPlan(std::string_view plan_id, int64_t version, const PlanEdit& edit) {
  JU_RETURN_IF_ERROR(Permit(Operation::kUpdate, "CarePlan"));
  JU_ASSIGN_OR_RETURN(Record current, Read("CarePlan", plan_id));
  json plan = json::parse(current.json, nullptr, false);
  if (!plan.is_object()) return Error::Internal("a stored CarePlan is not a JSON object");
  const std::string person = PersonOf(plan);
  std::vector<std::pair<std::string, std::string>> task_people;
  if (edit.activities) {
    JU_ASSIGN_OR_RETURN(std::vector<Record> tasks, SearchAll("Task", "patient=" + person));
    for (const Record& t : tasks) task_people.emplace_back(t.id, person);
  }
  const json author = AuthorOf(requester_.caller, requester_.actor, person, edit.author_name);
  JU_RETURN_IF_ERROR(ApplyPlanEdit(plan, edit, author, FormatInstant(clock_()), task_people));
  return Update("CarePlan", plan_id, Dump(plan), version);
}

Result<Written> Records::CreateGoal(std::string_view patient_id, const GoalEdit& edit) {
  JU_RETURN_IF_ERROR(Permit(Operation::kCreate, "Goal"));
  const std::string person = "Patient/" + std::string(patient_id);
  JU_ASSIGN_OR_RETURN(Record patient, Read("Patient", patient_id));
  if (!edit.text) return Invalid("enter the goal", "text");
  const json author = AuthorOf(requester_.caller, requester_.actor, person, edit.author_name);
  const std::string now = FormatInstant(clock_());
  json goal = {{"resourceType", "Goal"},
               {"lifecycleStatus", "proposed"},
               {"description", json::object()},
               {"subject", {{"reference", person}}}};
  if (edit.in_persons_words) goal["expressedBy"] = {{"reference", person}};
  if (edit.agreed_with_person) {
    goal["extension"] = json::array(
        {{{"url", kGoalAgreedByUrl}, {"valueReference", {{"reference", person}}}},
         {{"url", kGoalAgreedByUrl}, {"valueReference", author}}});
  }
  JU_RETURN_IF_ERROR(ApplyGoalEdit(goal, edit, author, now, now.substr(0, 10)));
  JU_ASSIGN_OR_RETURN(Written written, Create("Goal", Dump(goal)));
  // The goal joins the person's plan (CarePlan.goal) when they have one: its own write, with
  // the plan's version just read, so a change made meanwhile is never overwritten. Should that
  // race be lost the goal stays the person's (the plan's screens show every goal of theirs).
  JU_ASSIGN_OR_RETURN(
      std::vector<Record> plans,
      SearchAll("CarePlan", "patient=" + person + "&status=" + std::string(kCurrentPlanStatuses)));
  if (!plans.empty()) {
    json plan = json::parse(plans.front().json, nullptr, false);
    if (plan.is_object()) {
      if (!plan.contains("goal") || !plan["goal"].is_array()) plan["goal"] = json::array();
      plan["goal"].push_back({{"reference", "Goal/" + written.record.id}});
      auto linked =
          Update("CarePlan", plans.front().id, Dump(plan), plans.front().meta.version_id);
      if (!linked.ok() && linked.error().code != ErrorCode::kPreconditionFailed)
        return linked.take_error();
    }
  }
  return written;
}

Result<Written> Records::EditGoal(std::string_view goal_id, int64_t version, const GoalEdit& edit) {
  JU_RETURN_IF_ERROR(Permit(Operation::kUpdate, "Goal"));
  JU_ASSIGN_OR_RETURN(Record current, Read("Goal", goal_id));
  json goal = json::parse(current.json, nullptr, false);
  if (!goal.is_object()) return Error::Internal("a stored Goal is not a JSON object");
  const json author =
      AuthorOf(requester_.caller, requester_.actor, PersonOf(goal), edit.author_name);
  const std::string now = FormatInstant(clock_());
  JU_RETURN_IF_ERROR(ApplyGoalEdit(goal, edit, author, now, now.substr(0, 10)));
  return Update("Goal", goal_id, Dump(goal), version);
}

// What a patient may change of their own plan and goals (issue 12 item 4), checked on the
// resource as it is and as it will be — whichever API sent it:
//   CarePlan: the notes of the sections that are theirs (PlanSection::person_writes), each
//             new or changed one written by them; who made the version (written-by) naming
//             them. Nothing else.
//   Goal:     the goal's wording (description.text, marked as written by them), notes they
//             write, and their refusal (lifecycleStatus "rejected" with statusReason and
//             statusDate); who made the version naming them. Nothing else — notes by staff stay.
Status Records::CheckPersonsChange(std::string_view type, const store::FoundResource& existing,
                                   std::string_view next_json, const std::vector<int64_t>& keys) {
  JU_ASSIGN_OR_RETURN(std::string before_text, RenderRecord(existing));
  const json before = Canonical(before_text);
  const json after = Canonical(next_json);
  if (!before.is_object() || !after.is_object()) return Invalid("the body is not a JSON object", "");
  const std::string self = PersonOf(before);
  std::string refused;  // the element, as FHIRPath-like text
  auto by_person = [&](const json& annotation) { return AuthorReferenceOf(annotation) == self; };
  auto written_by_person = [&](const json& element) {
    return FindExtension(element, kWrittenByUrl) == nullptr || WrittenByReference(element) == self;
  };
  // Extensions other than written-by stay as they were; written-by, when set, names the person.
  auto check_extensions = [&]() -> std::string {
    auto not_written_by = [](const json& e) { return e.value("url", "") == kWrittenByUrl; };
    if (Without(before.value("extension", json::array()), not_written_by) !=
        Without(after.value("extension", json::array()), not_written_by))
      return std::string(type) + ".extension";
    if (FindExtension(after, kWrittenByUrl) != nullptr && !written_by_person(after) &&
        (FindExtension(before, kWrittenByUrl) == nullptr ||
         *FindExtension(before, kWrittenByUrl) != *FindExtension(after, kWrittenByUrl)))
      return std::string(type) + ".extension:written-by";
    return "";
  };
  if (type == "CarePlan") {
    if (std::string key = FirstChange(before, after, {"note", "extension"}); !key.empty())
      refused = "CarePlan." + key;
    if (refused.empty()) refused = check_extensions();
    if (refused.empty()) {
      auto theirs = [](const json& note) {
        const PlanSection* s = FindPlanSection(SectionOf(note));
        return s != nullptr && s->person_writes;
      };
      const json old_notes = before.value("note", json::array());
      const json new_notes = after.value("note", json::array());
      const json staff_before = Without(old_notes, theirs), staff_after = Without(new_notes, theirs);
      if (staff_before != staff_after) {
        // Name the first section that differs.
        std::string section = "note";
        for (size_t i = 0; i < std::max(staff_before.size(), staff_after.size()); ++i) {
          const json& n = i < staff_after.size() ? staff_after[i] : staff_before[i];
          if (i >= staff_before.size() || i >= staff_after.size() ||
              staff_before[i] != staff_after[i]) {
            const std::string code = SectionOf(n);
            section = code.empty() ? "note" : "note:" + code;
            break;
          }
        }
        refused = "CarePlan." + section;
      }
      for (const json& n : new_notes)
        if (refused.empty() && theirs(n) && !Contains(old_notes, n) && !by_person(n))
          refused = "CarePlan.note:" + SectionOf(n) + ".author";
    }
  } else if (type == "Goal") {
    if (std::string key = FirstChange(before, after,
                                      {"description", "note", "lifecycleStatus", "statusReason",
                                       "statusDate", "extension"});
        !key.empty())
      refused = "Goal." + key;
    if (refused.empty()) refused = check_extensions();
    const json old_description = before.value("description", json::object());
    const json new_description = after.value("description", json::object());
    if (refused.empty() && old_description != new_description) {
      json a = old_description, b = new_description;
      a.erase("text");
      b.erase("text");
      SetExtension(a, kWrittenByUrl, nullptr);
      SetExtension(b, kWrittenByUrl, nullptr);
      if (a != b) refused = "Goal.description.coding";
      else if (!written_by_person(new_description) || FindExtension(new_description, kWrittenByUrl) == nullptr)
        refused = "Goal.description.extension:written-by";
    }
    const std::string status = after.value("lifecycleStatus", "");
    if (refused.empty() && status != before.value("lifecycleStatus", "") && status != "rejected")
      refused = "Goal.lifecycleStatus";
    if (refused.empty() && status != "rejected") {
      if (before.value("statusReason", json()) != after.value("statusReason", json()))
        refused = "Goal.statusReason";
      else if (before.value("statusDate", json()) != after.value("statusDate", json()))
        refused = "Goal.statusDate";
    }
    if (refused.empty()) {
      const json old_notes = before.value("note", json::array());
      const json new_notes = after.value("note", json::array());
      if (Without(old_notes, by_person) != Without(new_notes, by_person)) refused = "Goal.note";
      for (const json& n : new_notes)
        if (refused.empty() && !Contains(old_notes, n) && !by_person(n)) refused = "Goal.note.author";
    }
  }
  if (refused.empty()) return Ok();
  JU_RETURN_IF_ERROR(Audited(Operation::kUpdate, AuditOutcome::kSeriousFailure, keys,
                             "refused: " + refused));
  return Error{ErrorCode::kForbidden,
               "you can change only the parts of your plan that are yours — About me, What "
               "matters to me, and your goals' wording, progress and whether you agree to them; " +
                   refused + " is your care team's to change",
               refused};
}

}  // namespace joinedup::records
