// Assessment handlers (assessment_api.h): JSON in and out; the records service decides and
// audits, records/assessment.cc keeps the assessment's rules.
#include "webapp/assessment_api.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <utility>

#include "webapp/app_json.h"

namespace joinedup::webapp {
namespace {

using json = nlohmann::json;
using http::HttpResponse;


HttpResponse Refused(const Error& error) {
  if (error.code == ErrorCode::kPreconditionFailed)
    return Problem(412, "Someone else has changed this",
                   "The assessment was changed after you opened it. Reload it to see the "
                   "changes, then make yours again.",
                   "version");
  return FormRefusal(error);
}

json AssessmentJson(const records::Assessment& a) {
  json needs = json::array();
  for (const records::Need& n : a.needs)
    needs.push_back({{"link_id", n.link_id},
                     {"question", n.question},
                     {"answer", n.answer},
                     {"system", n.system},
                     {"code", n.code},
                     {"display", n.display}});
  if (!a.current) return {{"assessment", nullptr}, {"needs", needs}, {"history", json::array()}};
  json answers = json::object();
  for (const records::RecordedAnswer& r : a.answers)
    answers[r.link_id] = {{"values", r.values},
                          {"displays", r.displays},
                          {"recorded_by", r.recorded_by.empty() ? json(nullptr) : json(r.recorded_by)},
                          {"recorded_by_username", r.recorded_by_username.empty()
                                                       ? json(nullptr)
                                                       : json(r.recorded_by_username)},
                          {"recorded_at", r.recorded_at.empty() ? json(nullptr) : json(r.recorded_at)}};
  json history = json::array();
  for (const records::AssessmentVersion& v : a.history)
    history.push_back({{"version", v.version_id},
                       {"status", v.status},
                       {"authored", v.authored.empty() ? json(nullptr) : json(v.authored)},
                       {"updated", v.last_updated_ms ? json(Instant(*v.last_updated_ms)) : json(nullptr)},
                       {"questionnaire_version", v.questionnaire_version},
                       {"answered", v.answered},
                       {"needs", v.needs}});
  return {{"assessment",
           {{"id", a.current->id},
            {"version", a.current->meta.version_id},
            {"status", a.status},
            {"questionnaire_version", a.questionnaire_version},
            {"sharing", RecordSharingCode(a.sharing)},
            {"answers", std::move(answers)}}},
          {"needs", std::move(needs)},
          {"history", std::move(history)}};
}

Result<json> BodyObject(const http::HttpRequest& request) {
  json body = json::parse(request.body, nullptr, false);
  if (!body.is_object()) return Invalid("The request body is not a JSON object.", "");
  return body;
}

// The version member: a positive whole number; absent or null when `optional`.
Result<std::optional<int64_t>> VersionOf(const json& body, bool optional) {
  auto it = body.find("version");
  if (it == body.end() || it->is_null()) {
    if (optional) return std::optional<int64_t>();
    return Invalid("Say which version of the assessment you are changing.", "version");
  }
  if (it->is_number_integer() && it->get<int64_t>() > 0)
    return std::optional<int64_t>(it->get<int64_t>());
  return Invalid("version must be a positive whole number", "version");
}

Result<RecordSharing> SharingOf(const json& body) {
  const std::string code = Str(body, "sharing");
  if (auto sharing = ParseRecordSharing(code)) return *sharing;
  return Invalid("Choose who may see the assessment: care-team, care-relationship or gp-only.",
                 "sharing");
}

HttpResponse Answered(const Result<records::Assessment>& result, int status = 200) {
  if (!result.ok()) return Refused(result.error());
  return Json(status, AssessmentJson(*result));
}

HttpResponse Save(records::Assessments& assessments, std::string_view patient,
                  const http::HttpRequest& request) {
  auto body = BodyObject(request);
  if (!body.ok()) return Refused(body.error());
  auto version = VersionOf(*body, /*optional=*/true);
  if (!version.ok()) return Refused(version.error());
  records::AssessmentSave save;
  save.version = *version;
  if (auto it = body->find("complete"); it != body->end() && !it->is_null()) {
    if (!it->is_boolean())
      return Problem(400, TitleOf(400), "complete is true or false.", "complete");
    save.complete = it->get<bool>();
  }
  if (body->contains("sharing") && !(*body)["sharing"].is_null()) {
    auto sharing = SharingOf(*body);
    if (!sharing.ok()) return Refused(sharing.error());
    save.sharing = *sharing;
  }
  const json answers = body->value("answers", json::object());
  if (!answers.is_object())
    return Problem(400, TitleOf(400), "answers is an object of question ids and answers.",
                   "answers");
  for (const auto& [link_id, value] : answers.items()) {
    records::AnswerInput input;
    input.link_id = link_id;
    const std::string field = "answers." + link_id;
    if (value.is_string()) {
      input.values.push_back(value.get<std::string>());
    } else if (value.is_array()) {
      for (const json& v : value) {
        if (!v.is_string())
          return Problem(400, TitleOf(400), "Each answer is text or an option's code.", field);
        input.values.push_back(v.get<std::string>());
      }
    } else if (!value.is_null()) {
      return Problem(400, TitleOf(400), "Each answer is text or an option's code.", field);
    }
    save.answers.push_back(std::move(input));
  }
  return Answered(assessments.Save(patient, save));
}

}  // namespace

bool IsAssessmentPath(std::span<const std::string_view> path) {
  if (path.size() == 2 && path[0] == "assessment" && path[1] == "questionnaire") return true;
  return path.size() >= 3 && path.size() <= 4 && path[0] == "people" && path[2] == "assessment";
}

HttpResponse AssessmentApi(records::Records& records, records::AssessmentAuthor author,
                           const http::HttpRequest& request,
                           std::span<const std::string_view> path) {
  const std::string& method = request.method;
  if (path[0] == "assessment") {
    if (method != "GET") return MethodNotAllowed("GET");
    // A form's definition: for everyone who may read the directory (the registry's category
    // for Questionnaire), decided by the records service.
    if (Status permitted = records.Permit(records::Operation::kRead, "Questionnaire");
        !permitted.ok())
      return FromError(permitted.error());
    HttpResponse r = Json(200, json::parse(records::LatestQuestionnaire().json));
    return r;
  }
  const std::string_view patient = path[1];
  records::Assessments assessments(records, std::move(author));
  if (path.size() == 3) {
    if (method == "GET") return Answered(assessments.Of(patient));
    if (method == "PUT") return Save(assessments, patient, request);
    return MethodNotAllowed("GET, PUT");
  }
  if (path[3] == "reassess") {
    if (method != "POST") return MethodNotAllowed("POST");
    auto body = BodyObject(request);
    if (!body.ok()) return Refused(body.error());
    auto version = VersionOf(*body, /*optional=*/false);
    if (!version.ok()) return Refused(version.error());
    return Answered(assessments.Reassess(patient, **version));
  }
  if (path[3] == "sharing") {
    if (method != "PUT") return MethodNotAllowed("PUT");
    auto body = BodyObject(request);
    if (!body.ok()) return Refused(body.error());
    auto version = VersionOf(*body, /*optional=*/false);
    if (!version.ok()) return Refused(version.error());
    auto sharing = SharingOf(*body);
    if (!sharing.ok()) return Refused(sharing.error());
    return Answered(assessments.Share(patient, **version, *sharing));
  }
  return NoSuchPage();
}

}  // namespace joinedup::webapp
