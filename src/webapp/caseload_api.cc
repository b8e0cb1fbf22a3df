// Caseload handlers (caseload_api.h): JSON in and out; the records service decides and audits.
#include "webapp/caseload_api.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <utility>

#include "core/date.h"
#include "core/nhs_number.h"
#include "domain/caseload.h"
#include "resources/registry.h"
#include "security/policy.h"
#include "webapp/app_json.h"

namespace joinedup::webapp {
namespace {

using json = nlohmann::json;
using http::HttpResponse;


// A refusal as the caseload screens show it: a form's problem names its field; someone else's
// change first is 412 with what to do.
HttpResponse Refused(const Error& error) {
  if (error.code == ErrorCode::kPreconditionFailed)
    return Problem(412, "Someone else has changed this", error.message, error.field);
  return FormRefusal(error);
}

// An optional id member: absent or null is 0; anything but a positive integer is an error.
Result<int64_t> IdMember(const json& body, const char* key, bool required) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) {
    if (required) return Invalid(std::string("Enter the ") + key, key);
    return int64_t{0};
  }
  if (it->is_number_integer() && it->get<int64_t>() > 0) return it->get<int64_t>();
  if (it->is_string())
    if (auto id = PositiveId(it->get<std::string>())) return *id;
  return Invalid(std::string(key) + " must be a positive whole number", key);
}

std::string PersonName(const Patient& p);

json EntryJson(const records::CaseloadEntry& entry) {
  const store::CaseEpisode& e = entry.episode;
  const Patient& p = entry.person;
  json person = {{"id", e.patient_id},
                 {"name", PersonName(p)},
                 {"nhs_number", p.nhs_number ? json(p.nhs_number->Formatted()) : json(nullptr)},
                 {"birth_date", p.birth_date.ToString()},
                 {"practice", p.practice_id}};
  auto instant = [](int64_t ms) { return ms ? json(Instant(ms)) : json(nullptr); };
  const DischargeReason* reason = FindDischargeReason(e.end_reason);
  return {{"id", e.id},
          {"version", e.version},
          {"status", EpisodeStatusName(e.status)},
          {"source", e.source},
          {"person", std::move(person)},
          {"team", {{"id", e.care_team_id}, {"name", entry.team}}},
          {"coordinator", e.coordinator_id
                              ? json{{"id", e.coordinator_id}, {"name", entry.coordinator}}
                              : json(nullptr)},
          {"requested", instant(e.requested_at_ms)},
          {"started", instant(e.started_at_ms)},
          {"ended", instant(e.ended_at_ms)},
          {"end_reason", reason ? json{{"code", reason->code}, {"display", reason->display}}
                                : json(nullptr)},
          {"end_note", e.end_note},
          {"updated", instant(e.updated_at_ms)},
          {"work",
           {{"flags", entry.work.active_flags},
            {"overdue_tasks", entry.work.overdue_tasks},
            {"due_tasks", entry.work.due_tasks}}}};
}

std::string PersonName(const Patient& p) {
  std::string name = p.family_name;
  if (!p.given_name.empty()) name = name.empty() ? p.given_name : p.given_name + " " + name;
  return name;
}

// A task as the task lists show it: the FHIR Task's parts a person acts on.
json TaskJson(const records::TaskItem& item, int64_t now_ms, const json& flag) {
  const json task = json::parse(item.task.json, nullptr, false);
  const json none = json::object();
  const json& t = task.is_object() ? task : none;
  const std::string due = t.contains("restriction") ? t["restriction"].value("period", none).value("end", "")
                                                    : std::string();
  std::string owner;
  if (t.contains("owner") && t["owner"].is_object()) owner = t["owner"].value("display", "");
  if (owner.empty() && t.contains("performerType") && t["performerType"].is_array() &&
      !t["performerType"].empty() && t["performerType"][0].is_object())
    owner = t["performerType"][0].value("text", "");
  const Patient& p = item.person;
  return {{"id", item.task.id},
          {"version", item.task.version_id},
          {"status", t.value("status", "")},
          {"priority", t.value("priority", "routine")},
          {"description", t.value("description", "")},
          {"due", due.empty() ? json(nullptr) : json(due)},
          {"overdue", !item.task.due.empty() && item.task.due < Instant(now_ms)},
          {"owner", owner},
          {"flag", flag},
          {"person",
           {{"id", item.patient_id},
            {"name", PersonName(p)},
            {"nhs_number", p.nhs_number ? json(p.nhs_number->Formatted()) : json(nullptr)}}}};
}

json Entries(const std::vector<records::CaseloadEntry>& entries) {
  json out = json::array();
  for (const records::CaseloadEntry& entry : entries) out.push_back(EntryJson(entry));
  return out;
}

json TeamJson(const records::CaseloadBoard& board) {
  return {{"id", board.team.id},
          {"name", board.team.name},
          {"organisation", board.team.organisation_id},
          {"capacity", board.capacity ? json(*board.capacity) : json(nullptr)},
          {"active", board.counts.active},
          {"waiting", board.counts.waiting},
          {"full", board.capacity && board.counts.active >= *board.capacity}};
}

json Reasons() {
  json out = json::array();
  for (const DischargeReason& r : DischargeReasons())
    out.push_back({{"code", r.code}, {"display", r.display}});
  return out;
}

HttpResponse Home(records::Records& records) {
  auto teams = records.MyTeams();
  if (!teams.ok()) return Refused(teams.error());
  auto mine = records.MyCaseload();
  if (!mine.ok()) return Refused(mine.error());
  json team_list = json::array();
  for (const records::CaseloadBoard& board : *teams) team_list.push_back(TeamJson(board));
  return Json(200, {{"teams", std::move(team_list)}, {"mine", Entries(*mine)}});
}

HttpResponse Board(records::Records& records, int64_t team) {
  auto board = records.Caseload(team);
  if (!board.ok()) return Refused(board.error());
  json coordinators = json::array();
  for (const store::User& u : board->coordinators)
    coordinators.push_back(
        {{"id", u.id}, {"name", u.display_name}, {"role", security::RoleName(u.role)}});
  json out = TeamJson(*board);
  out["coordinators"] = std::move(coordinators);
  out["people"] = {{"active", Entries(board->active)}, {"waiting", Entries(board->waiting)}};
  out["discharge_reasons"] = Reasons();
  return Json(200, out);
}

std::optional<json> BodyObject(const http::HttpRequest& request) {
  json body = json::parse(request.body, nullptr, false);
  if (!body.is_object()) return std::nullopt;
  return body;
}

HttpResponse NotAnObject() {
  return Problem(400, TitleOf(400), "Send the form's fields as a JSON object.");
}

HttpResponse Enrol(records::Records& records, int64_t team, const http::HttpRequest& request) {
  std::optional<json> body = BodyObject(request);
  if (!body) return NotAnObject();
  records::Enrolment enrolment;
  enrolment.care_team_id = team;
  enrolment.patient_id = Str(*body, "patient");
  if (enrolment.patient_id.empty())
    return Problem(400, TitleOf(400), "Choose the person to enrol", "patient");
  auto coordinator = IdMember(*body, "coordinator", false);
  if (!coordinator.ok()) return Refused(coordinator.error());
  enrolment.coordinator_id = *coordinator;
  if (const std::string source = Str(*body, "source"); !source.empty()) enrolment.source = source;
  auto entry = records.Enrol(enrolment);
  if (!entry.ok()) return Refused(entry.error());
  return Json(201, EntryJson(*entry));
}

HttpResponse Change(records::Records& records, int64_t episode, std::string_view action,
                    const http::HttpRequest& request) {
  std::optional<json> body = BodyObject(request);
  if (!body) return NotAnObject();
  auto version = IdMember(*body, "version", true);
  if (!version.ok()) return Refused(version.error());
  Result<records::CaseloadEntry> entry = Error::Internal("no action");
  if (action == "start") {
    auto coordinator = IdMember(*body, "coordinator", false);
    if (!coordinator.ok()) return Refused(coordinator.error());
    entry = records.StartEpisode(episode, *version, *coordinator);
  } else if (action == "transfer") {
    auto team = IdMember(*body, "team", false);
    if (!team.ok()) return Refused(team.error());
    auto coordinator = IdMember(*body, "coordinator", false);
    if (!coordinator.ok()) return Refused(coordinator.error());
    entry = records.TransferEpisode(episode, *version, *team, *coordinator);
  } else {
    entry = records.DischargeEpisode(episode, *version, Str(*body, "reason"), Str(*body, "note"));
  }
  if (!entry.ok()) return Refused(entry.error());
  return Json(200, EntryJson(*entry));
}

HttpResponse Tasks(records::Records& records, const http::HttpRequest& request, int64_t now_ms) {
  auto params = QueryParams(request.query);
  if (!params.ok()) return Refused(params.error());
  const std::string team_text = Param(*params, "team");
  Result<std::vector<records::TaskItem>> tasks = Error::Internal("unset");
  if (team_text.empty()) {
    tasks = records.MyTasks();
  } else {
    const std::optional<int64_t> team = PositiveId(team_text);
    if (!team) return Problem(400, TitleOf(400), "team must be a care team's id", "team");
    tasks = records.TeamTasks(*team);
  }
  if (!tasks.ok()) return Refused(tasks.error());
  json out = json::array();
  for (const records::TaskItem& item : *tasks) {
    // The concern a task answers (an escalation's Flag), read — and so decided and audited — as
    // any record is, so the list can show it and resolve it from its version.
    json flag = nullptr;
    const json task = json::parse(item.task.json, nullptr, false);
    const std::string reference =
        task.is_object() && task.contains("reasonReference") && task["reasonReference"].is_object()
            ? task["reasonReference"].value("reference", "")
            : std::string();
    if (reference.starts_with("Flag/")) {
      if (auto read = records.Read("Flag", reference.substr(5)); read.ok()) {
        const json f = json::parse(read->json, nullptr, false);
        if (f.is_object())
          flag = {{"id", read->id},
                  {"version", read->meta.version_id},
                  {"status", f.value("status", "")},
                  {"text", f.contains("code") && f["code"].is_object() ? f["code"].value("text", "")
                                                                      : std::string()}};
      }
    }
    out.push_back(TaskJson(item, now_ms, flag));
  }
  // Overdue first (the store gives soonest due first, so overdue ones already lead).
  return Json(200, {{"tasks", std::move(out)}});
}

// Completing a task or resolving a flag is an update of the FHIR resource through the records
// service (decided and audited there), from the version the screen showed: no lost update.
HttpResponse Close(records::Records& records, std::string_view type, std::string_view id,
                   const http::HttpRequest& request, int64_t now_ms) {
  std::optional<json> body = BodyObject(request);
  if (!body) return NotAnObject();
  auto version = IdMember(*body, "version", true);
  if (!version.ok()) return Refused(version.error());
  const std::string note(Trim(Str(*body, "note")));
  if (type == "Flag" && note.empty())
    return Problem(400, TitleOf(400), "Say how the concern was resolved", "note");
  auto current = records.Read(type, id);
  if (!current.ok()) return Refused(current.error());
  if (current->meta.version_id != *version)
    return Problem(412, "Someone else has changed this",
                   "It has changed since you opened it. Reload the page to see the change.",
                   "version");
  json resource = json::parse(current->json, nullptr, false);
  if (!resource.is_object()) return FromError(Error::Internal("stored resource is not JSON"));
  const std::string when = Instant(now_ms);
  if (type == "Flag") {
    if (resource.value("status", "") != "active")
      return Problem(409, "This cannot be done now", "This flag is already resolved.", "version");
    resource["status"] = "inactive";
    if (!resource.contains("period") || !resource["period"].is_object())
      resource["period"] = json::object();
    resource["period"]["end"] = when;
    if (!resource.contains("extension") || !resource["extension"].is_array())
      resource["extension"] = json::array();
    resource["extension"].push_back(
        {{"url", "https://joinedup.example/fhir/StructureDefinition/resolution-note"},
         {"valueString", note}});
  } else {
    const std::string status = resource.value("status", "");
    if (status == "completed" || status == "cancelled" || status == "failed" ||
        status == "rejected" || status == "entered-in-error")
      return Problem(409, "This cannot be done now", "This task is already closed.", "version");
    resource["status"] = "completed";
    if (!resource.contains("executionPeriod") || !resource["executionPeriod"].is_object())
      resource["executionPeriod"] = json::object();
    resource["executionPeriod"]["end"] = when;
    if (!note.empty()) {
      if (!resource.contains("note") || !resource["note"].is_array()) resource["note"] = json::array();
      resource["note"].push_back({{"text", note}, {"time", when}});
    }
  }
  auto written = records.Update(type, id, resource.dump(), *version);
  if (!written.ok()) return Refused(written.error());
  return Json(200, {{"id", std::string(id)},
                    {"version", written->record.meta.version_id},
                    {"status", resource["status"]}});
}

}  // namespace

HttpResponse CaseloadApi(records::Records& records, const http::HttpRequest& request,
                         std::span<const std::string_view> path) {
  const std::string& method = request.method;
  if (path[0] == "caseloads") {
    if (path.size() == 1) return method == "GET" ? Home(records) : MethodNotAllowed("GET");
    const std::optional<int64_t> team = PositiveId(path[1]);
    if (!team) return NoSuchPage();
    if (path.size() == 2) return method == "GET" ? Board(records, *team) : MethodNotAllowed("GET");
    if (path.size() == 3 && path[2] == "enrol")
      return method == "POST" ? Enrol(records, *team, request) : MethodNotAllowed("POST");
    return NoSuchPage();
  }
  if (path[0] == "tasks" || path[0] == "flags") {
    const int64_t now_ms = records.Now();
    if (path[0] == "tasks" && path.size() == 1)
      return method == "GET" ? Tasks(records, request, now_ms) : MethodNotAllowed("GET");
    const bool closes = path.size() == 3 && ((path[0] == "tasks" && path[2] == "complete") ||
                                             (path[0] == "flags" && path[2] == "resolve"));
    if (!closes || !resources::IsValidFhirId(path[1])) return NoSuchPage();
    if (method != "POST") return MethodNotAllowed("POST");
    return Close(records, path[0] == "tasks" ? "Task" : "Flag", path[1], request, now_ms);
  }
  // /episodes
  if (path.size() == 1) {
    if (method != "GET") return MethodNotAllowed("GET");
    auto params = QueryParams(request.query);
    if (!params.ok()) return Refused(params.error());
    const std::string patient = Param(*params, "patient");
    if (patient.empty()) return Problem(400, TitleOf(400), "Say whose episodes", "patient");
    auto episodes = records.CaseEpisodesOf(patient);
    if (!episodes.ok()) return Refused(episodes.error());
    return Json(200, {{"episodes", Entries(*episodes)}, {"discharge_reasons", Reasons()}});
  }
  const std::optional<int64_t> episode = PositiveId(path[1]);
  if (!episode || path.size() != 3) return NoSuchPage();
  if (path[2] != "start" && path[2] != "transfer" && path[2] != "discharge") return NoSuchPage();
  if (method != "POST") return MethodNotAllowed("POST");
  return Change(records, *episode, path[2], request);
}

}  // namespace joinedup::webapp
