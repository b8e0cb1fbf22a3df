// The holistic assessment (assessment.h): the shipped questionnaire, and a person's assessment
// read and written through the records service.
#include "records/assessment.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <iterator>
#include <map>
#include <set>
#include <utility>

#include "core/date.h"
#include "fhir/document.h"
#include "fhir/search/search_params.h"
#include "store/store.h"

namespace joinedup::embedded {
std::string_view assessment_holistic_assessment_1_0_0();
}

namespace joinedup::records {
namespace {

using json = nlohmann::json;
constexpr std::string_view kType = "QuestionnaireResponse";
constexpr size_t kMaxTextBytes = 10'000;

// Oldest first; a new version is added at the end (data/assessment/README.md).
const ShippedQuestionnaire kShipped[] = {
    {"1.0.0", embedded::assessment_holistic_assessment_1_0_0()},
};

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// A question of a shipped questionnaire, with its section.
struct Question {
  const json* item = nullptr;
  std::string section;
};

// A shipped questionnaire parsed once: its questions by linkId, in order.
struct Parsed {
  json questionnaire;
  std::vector<std::string> order;
  std::map<std::string, Question> questions;
};

void Collect(const json& items, const std::string& section, Parsed& out) {
  if (!items.is_array()) return;
  for (const json& item : items) {
    const std::string link_id = item.value("linkId", "");
    if (item.value("type", "") == "group") {
      // By reference: Question keeps pointers into the parsed questionnaire.
      if (auto children = item.find("item"); children != item.end())
        Collect(*children, item.value("text", section), out);
      continue;
    }
    out.order.push_back(link_id);
    out.questions[link_id] = Question{&item, section};
  }
}

const Parsed& ParsedFor(const ShippedQuestionnaire& shipped) {
  static const std::map<std::string_view, Parsed>* all = [] {
    auto* parsed = new std::map<std::string_view, Parsed>();
    for (const ShippedQuestionnaire& q : kShipped) {
      Parsed& p = (*parsed)[q.version];
      p.questionnaire = json::parse(q.json);
      Collect(p.questionnaire["item"], "", p);
    }
    return parsed;
  }();
  return all->at(shipped.version);
}

// The answer option of a choice question with this code; nullptr if none.
const json* OptionOf(const json& question, std::string_view code) {
  auto options = question.find("answerOption");  // by reference: the answer points into it
  if (options == question.end() || !options->is_array()) return nullptr;
  for (const json& option : *options) {
    const json& coding = option.value("valueCoding", json::object());
    if (coding.value("code", "") == code) return &option;
  }
  return nullptr;
}

bool IsChoice(const json& question) { return question.value("type", "") == "choice"; }

// Every answered item of a response by linkId (any depth), as written.
void AnswersOf(const json& items, std::map<std::string, json>& out,
               std::vector<std::string>& order) {
  if (!items.is_array()) return;
  for (const json& item : items) {
    if (!item.is_object()) continue;
    const std::string link_id = item.value("linkId", "");
    if (item.contains("answer") && !link_id.empty() && !out.count(link_id)) {
      out[link_id] = item;
      order.push_back(link_id);
    }
    AnswersOf(item.value("item", json::array()), out, order);
  }
}

// An answer's value as the form names it (a choice's code, a text) and as it is shown.
std::pair<std::string, std::string> ValueOf(const json& answer) {
  if (auto it = answer.find("valueCoding"); it != answer.end() && it->is_object())
    return {it->value("code", ""), it->value("display", it->value("code", ""))};
  for (const char* key : {"valueString", "valueDate", "valueDateTime", "valueUri"})
    if (auto it = answer.find(key); it != answer.end() && it->is_string())
      return {it->get<std::string>(), it->get<std::string>()};
  if (auto it = answer.find("valueBoolean"); it != answer.end() && it->is_boolean())
    return {it->get<bool>() ? "true" : "false", it->get<bool>() ? "Yes" : "No"};
  if (auto it = answer.find("valueInteger"); it != answer.end() && it->is_number_integer())
    return {std::to_string(it->get<int64_t>()), std::to_string(it->get<int64_t>())};
  return {"", ""};
}

std::string CanonicalOf(const json& response) { return response.value("questionnaire", ""); }

RecordSharing SharingOf(const json& response) {
  for (const json& e : response.value("extension", json::array()))
    if (e.is_object() && e.value("url", "") == kRecordSharingUrl)
      if (auto s = ParseRecordSharing(e.value("valueCode", ""))) return *s;
  return RecordSharing::kCareRelationship;
}

std::vector<Need> NeedsOf(const json& response) {
  std::vector<Need> needs;
  const Parsed& q = ParsedFor(QuestionnaireFor(CanonicalOf(response)));
  std::map<std::string, json> answered;
  std::vector<std::string> order;
  AnswersOf(response.value("item", json::array()), answered, order);
  for (const std::string& link_id : q.order) {
    auto it = answered.find(link_id);
    if (it == answered.end()) continue;
    const json& question = *q.questions.at(link_id).item;
    for (const json& answer : it->second.value("answer", json::array())) {
      if (!answer.is_object()) continue;
      const json* option = OptionOf(question, ValueOf(answer).first);
      if (option == nullptr) continue;
      for (const json& e : option->value("extension", json::array())) {
        if (e.value("url", "") != kRaisesNeedUrl) continue;
        const json& finding = e.value("valueCoding", json::object());
        needs.push_back({link_id, question.value("text", ""),
                         option->value("valueCoding", json::object()).value("display", ""),
                         finding.value("system", ""), finding.value("code", ""),
                         finding.value("display", "")});
      }
    }
  }
  return needs;
}

// `value` with the provenance extension's parts, or "" where absent.
void ProvenanceOf(const json& item, RecordedAnswer& out) {
  for (const json& e : item.value("extension", json::array())) {
    if (!e.is_object() || e.value("url", "") != kAnswerRecordedUrl) continue;
    for (const json& part : e.value("extension", json::array())) {
      if (part.value("url", "") == "by") {
        const json& who = part.value("valueReference", json::object());
        out.recorded_by = who.value("display", "");
        out.recorded_by_username = who.value("identifier", json::object()).value("value", "");
      } else if (part.value("url", "") == "at") {
        out.recorded_at = part.value("valueDateTime", "");
      }
    }
  }
}

std::string DateTimeOf(int64_t ms) {
  const int64_t s = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
  const int64_t days = s >= 0 ? s / 86400 : -((-s + 86399) / 86400);
  const int64_t rest = s - days * 86400;
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%sT%02d:%02d:%02dZ",
                Date::FromDays(static_cast<int32_t>(days)).ToString().c_str(),
                static_cast<int>(rest / 3600), static_cast<int>(rest / 60 % 60),
                static_cast<int>(rest % 60));
  return buffer;
}

json Provenance(const AssessmentAuthor& author, int64_t now_ms) {
  return {{"url", kAnswerRecordedUrl},
          {"extension",
           {{{"url", "by"},
             {"valueReference",
              {{"identifier", {{"system", kUsernameSystem}, {"value", author.username}}},
               {"display", author.display}}}},
            {{"url", "at"}, {"valueDateTime", DateTimeOf(now_ms)}}}}};
}

// The response's items rebuilt in the questionnaire's groups from `answered` (linkId → item);
// items the questionnaire does not have are kept after them, as they were.
json Nest(const json& groups, std::map<std::string, json>& answered) {
  json out = json::array();
  for (const json& item : groups) {
    const std::string link_id = item.value("linkId", "");
    if (item.value("type", "") == "group") {
      json children = Nest(item.value("item", json::array()), answered);
      if (!children.empty())
        out.push_back({{"linkId", link_id}, {"text", item.value("text", "")}, {"item", children}});
      continue;
    }
    auto it = answered.find(link_id);
    if (it == answered.end()) continue;
    out.push_back(std::move(it->second));
    answered.erase(it);
  }
  return out;
}

json Rebuild(const Parsed& q, std::map<std::string, json> answered,
             const std::vector<std::string>& order) {
  json items = Nest(q.questionnaire["item"], answered);
  for (const std::string& link_id : order)
    if (auto it = answered.find(link_id); it != answered.end()) items.push_back(it->second);
  return items;
}

void SetSharing(json& response, RecordSharing sharing) {
  json kept = json::array();
  for (const json& e : response.value("extension", json::array()))
    if (!(e.is_object() && e.value("url", "") == kRecordSharingUrl)) kept.push_back(e);
  kept.push_back({{"url", kRecordSharingUrl}, {"valueCode", RecordSharingCode(sharing)}});
  response["extension"] = std::move(kept);
}

std::vector<int> VersionParts(std::string_view version) {
  std::vector<int> parts;
  int current = 0;
  bool any = false;
  for (char c : version) {
    if (c == '.') {
      parts.push_back(current);
      current = 0;
      any = false;
    } else if (c >= '0' && c <= '9') {
      current = current * 10 + (c - '0');
      any = true;
    }
  }
  if (any || !parts.empty()) parts.push_back(current);
  return parts;
}

}  // namespace

std::span<const ShippedQuestionnaire> ShippedQuestionnaires() { return kShipped; }

const ShippedQuestionnaire& LatestQuestionnaire() { return kShipped[std::size(kShipped) - 1]; }

const ShippedQuestionnaire& QuestionnaireFor(std::string_view canonical) {
  const size_t bar = canonical.find('|');
  if (bar == std::string_view::npos || canonical.substr(0, bar) != kHolisticAssessmentUrl)
    return LatestQuestionnaire();
  const std::string_view version = canonical.substr(bar + 1);
  for (const ShippedQuestionnaire& q : kShipped)
    if (q.version == version) return q;
  return LatestQuestionnaire();
}

bool NewerVersion(std::string_view a, std::string_view b) {
  const std::vector<int> x = VersionParts(a), y = VersionParts(b);
  return std::lexicographical_compare(y.begin(), y.end(), x.begin(), x.end());
}

std::vector<Need> AssessmentNeeds(std::string_view questionnaire_response_json) {
  const json response = json::parse(questionnaire_response_json, nullptr, false);
  if (!response.is_object()) return {};
  return NeedsOf(response);
}

Result<bool> InstallShippedQuestionnaire(store::Store& store, int64_t now_ms) {
  const ShippedQuestionnaire& latest = LatestQuestionnaire();
  for (int attempt = 0; attempt < 3; ++attempt) {
    JU_ASSIGN_OR_RETURN(std::optional<store::FoundResource> stored,
                        store.FindResource("Questionnaire", kHolisticAssessmentId));
    if (stored) {
      const auto* text = std::get_if<store::ResourceJson>(&stored->record);
      const json current = text ? json::parse(text->json, nullptr, false) : json();
      const std::string version = current.is_object() ? current.value("version", "") : "";
      if (!NewerVersion(latest.version, version)) return false;
    }
    auto read = fhir::ReadDocument(latest.json, fhir::ResolveRelativeReference);
    if (auto* e = std::get_if<fhir::MapError>(&read))
      return Error::Internal("the shipped questionnaire is refused: " + e->field + ": " +
                             e->message);
    fhir::Document& document = std::get<fhir::Document>(read);
    store::ResourceWrite write;
    write.resource_type = "Questionnaire";
    write.id = std::string(kHolisticAssessmentId);
    write.json = Dump(json::parse(latest.json));  // one line, as the API keeps resources
    write.record = store::ResourceJson{write.json};
    write.index = std::move(document.index);
    write.now_ms = now_ms;
    write.if_match = stored ? stored->meta.version_id : 0;
    write.create_only = !stored;
    auto written = store.PutResource(write);
    if (written.ok()) return true;
    // Another process put it first: look again.
    if (written.error().code != ErrorCode::kConflict &&
        written.error().code != ErrorCode::kPreconditionFailed)
      return written.error();
  }
  return Error{ErrorCode::kConflict, "the holistic assessment kept changing while it was installed"};
}

// ---- A person's assessment ------------------------------------------------------------------

struct Assessments::Found {
  std::optional<Record> current;
  json response;  // its JSON; null when there is none
};

Assessments::Assessments(Records& records, AssessmentAuthor author)
    : records_(records), author_(std::move(author)) {}

Result<Assessments::Found> Assessments::Current(std::string_view patient_id) {
  // The person first: one the caller may not see is refused as one that does not exist.
  if (auto person = records_.Read("Patient", patient_id); !person.ok()) return person.take_error();
  const std::string query = "patient=Patient/" + std::string(patient_id) +
                            "&questionnaire=Questionnaire/" + std::string(kHolisticAssessmentId) +
                            "&_sort=-_lastUpdated&_count=1";
  auto parsed = fhir::search::ParseSearch(kType, query);
  if (auto* e = std::get_if<fhir::search::SearchError>(&parsed))
    return Error{ErrorCode::kInvalidInput, e->message, "patient"};
  SearchOptions options;
  options.query = std::string(kType) + "?" + query;
  JU_ASSIGN_OR_RETURN(Page page,
                      records_.Search(std::get<fhir::search::SearchRequest>(parsed), options));
  Found found;
  if (!page.matches.empty()) {
    found.current = std::move(page.matches.front());
    found.response = json::parse(found.current->json, nullptr, false);
    if (!found.response.is_object()) found.response = json::object();
  }
  return found;
}

Result<Assessment> Assessments::Describe(std::string_view patient_id,
                                         std::optional<Record> current) {
  (void)patient_id;
  Assessment out;
  if (!current) return out;
  const json response = json::parse(current->json, nullptr, false);
  if (!response.is_object()) return Error::Internal("a stored assessment is not JSON");
  const ShippedQuestionnaire& shipped = QuestionnaireFor(CanonicalOf(response));
  const Parsed& q = ParsedFor(shipped);
  out.status = response.value("status", "");
  out.questionnaire_version = std::string(shipped.version);
  out.sharing = SharingOf(response);
  out.needs = NeedsOf(response);
  std::map<std::string, json> answered;
  std::vector<std::string> order;
  AnswersOf(response.value("item", json::array()), answered, order);
  std::vector<std::string> ordered = q.order;
  for (const std::string& link_id : order)
    if (!q.questions.count(link_id)) ordered.push_back(link_id);
  for (const std::string& link_id : ordered) {
    auto it = answered.find(link_id);
    if (it == answered.end()) continue;
    RecordedAnswer a;
    a.link_id = link_id;
    for (const json& answer : it->second.value("answer", json::array())) {
      if (!answer.is_object()) continue;
      auto [value, display] = ValueOf(answer);
      a.values.push_back(std::move(value));
      a.displays.push_back(std::move(display));
    }
    ProvenanceOf(it->second, a);
    out.answers.push_back(std::move(a));
  }
  JU_ASSIGN_OR_RETURN(std::vector<Version> versions, records_.History(kType, current->id));
  for (const Version& v : versions) {
    const json j = json::parse(v.json, nullptr, false);
    if (!j.is_object()) continue;
    AssessmentVersion summary;
    summary.version_id = v.meta.version_id;
    summary.last_updated_ms = v.meta.last_updated_ms;
    summary.status = j.value("status", "");
    summary.authored = j.value("authored", "");
    summary.questionnaire_version = std::string(QuestionnaireFor(CanonicalOf(j)).version);
    std::map<std::string, json> a;
    std::vector<std::string> o;
    AnswersOf(j.value("item", json::array()), a, o);
    summary.answered = a.size();
    summary.needs = NeedsOf(j).size();
    out.history.push_back(std::move(summary));
  }
  out.current = std::move(current);
  return out;
}

Result<Assessment> Assessments::Of(std::string_view patient_id) {
  JU_ASSIGN_OR_RETURN(Found found, Current(patient_id));
  return Describe(patient_id, std::move(found.current));
}

Result<Assessment> Assessments::Write(std::string_view patient_id, const Found& found,
                                      std::string json_text, int64_t version) {
  if (found.current) {
    auto written = records_.Update(kType, found.current->id, json_text, version);
    if (!written.ok()) return written.take_error();
  } else {
    auto written = records_.Create(kType, json_text);
    if (!written.ok()) return written.take_error();
  }
  return Of(patient_id);
}

Result<Assessment> Assessments::Save(std::string_view patient_id, const AssessmentSave& save) {
  JU_ASSIGN_OR_RETURN(Found found, Current(patient_id));
  auto stale = [] {
    return Error{ErrorCode::kPreconditionFailed,
                 "the assessment has been changed since you opened it", "version"};
  };
  if (found.current && !save.version) return stale();
  if (save.version && (!found.current || found.current->meta.version_id != *save.version))
    return stale();
  if (found.current && save.sharing)
    return Error{ErrorCode::kInvalidInput,
                 "the person's decision on who may see the assessment is changed on its own",
                 "sharing"};
  const int64_t now = records_.Now();
  json response = found.current ? found.response
                                : json{{"resourceType", kType},
                                       {"status", "in-progress"},
                                       {"questionnaire",
                                        std::string(kHolisticAssessmentUrl) + "|" +
                                            std::string(LatestQuestionnaire().version)},
                                       {"subject",
                                        {{"reference", "Patient/" + std::string(patient_id)}}}};
  if (!found.current) SetSharing(response, save.sharing.value_or(RecordSharing::kCareTeam));
  const Parsed& q = ParsedFor(QuestionnaireFor(CanonicalOf(response)));
  std::map<std::string, json> answered;
  std::vector<std::string> order;
  AnswersOf(response.value("item", json::array()), answered, order);
  bool changed = false;
  std::set<std::string> seen;
  for (const AnswerInput& input : save.answers) {
    const std::string field = "answers." + input.link_id;
    auto question_it = q.questions.find(input.link_id);
    if (question_it == q.questions.end())
      return Error{ErrorCode::kInvalidInput, input.link_id + " is not a question of this assessment",
                   field};
    if (!seen.insert(input.link_id).second)
      return Error{ErrorCode::kInvalidInput, input.link_id + " is answered twice", field};
    const json& question = *question_it->second.item;
    json answers = json::array();
    if (IsChoice(question)) {
      if (input.values.size() > 1 && !question.value("repeats", false))
        return Error{ErrorCode::kInvalidInput, "choose one answer to \"" +
                                                   question.value("text", "") + "\"", field};
      std::set<std::string> chosen;
      for (const std::string& code : input.values) {
        const json* option = OptionOf(question, code);
        if (option == nullptr)
          return Error{ErrorCode::kInvalidInput,
                       "\"" + code + "\" is not an answer to \"" + question.value("text", "") + "\"",
                       field};
        if (chosen.insert(code).second) answers.push_back({{"valueCoding", (*option)["valueCoding"]}});
      }
    } else {
      if (input.values.size() > 1)
        return Error{ErrorCode::kInvalidInput, "one text answers \"" + question.value("text", "") + "\"",
                     field};
      for (const std::string& text : input.values) {
        if (text.size() > kMaxTextBytes)
          return Error{ErrorCode::kInvalidInput, "an answer is at most 10,000 characters", field};
        if (!text.empty()) answers.push_back({{"valueString", text}});
      }
    }
    auto existing = answered.find(input.link_id);
    if (answers.empty()) {
      if (existing != answered.end()) {
        answered.erase(existing);
        changed = true;
      }
      continue;
    }
    if (existing != answered.end() && existing->second.value("answer", json::array()) == answers)
      continue;  // unchanged: who recorded it stays as it was
    json item = {{"linkId", input.link_id},
                 {"text", question.value("text", "")},
                 {"answer", std::move(answers)},
                 {"extension", json::array({Provenance(author_, now)})}};
    if (existing == answered.end()) order.push_back(input.link_id);
    answered[input.link_id] = std::move(item);
    changed = true;
  }
  const std::string status = response.value("status", "in-progress");
  std::string next_status = status;
  if (save.complete) {
    for (const std::string& link_id : q.order) {
      const json& question = *q.questions.at(link_id).item;
      if (question.value("required", false) && !answered.count(link_id))
        return Error{ErrorCode::kInvalidInput,
                     "answer \"" + question.value("text", "") + "\" before finishing",
                     "answers." + link_id};
    }
    next_status = status == "in-progress" ? "completed" : (changed ? "amended" : status);
  } else if (changed && (status == "completed" || status == "amended")) {
    next_status = "amended";
  }
  if (found.current && !changed && next_status == status) return Describe(patient_id, found.current);
  response["status"] = next_status;
  response["authored"] = DateTimeOf(now);
  response["item"] = Rebuild(q, std::move(answered), order);
  if (response["item"].empty()) response.erase("item");
  return Write(patient_id, found, Dump(response), save.version.value_or(0));
}

Result<Assessment> Assessments::Reassess(std::string_view patient_id, int64_t version) {
  JU_ASSIGN_OR_RETURN(Found found, Current(patient_id));
  if (!found.current || found.current->meta.version_id != version)
    return Error{ErrorCode::kPreconditionFailed,
                 "the assessment has been changed since you opened it", "version"};
  const std::string status = found.response.value("status", "");
  if (status != "completed" && status != "amended")
    return Error{ErrorCode::kInvalidInput, "finish the assessment before starting a reassessment",
                 "version"};
  json response = found.response;
  const Parsed& latest = ParsedFor(LatestQuestionnaire());
  std::map<std::string, json> answered;
  std::vector<std::string> order;
  AnswersOf(response.value("item", json::array()), answered, order);
  // Carried forward with who recorded them; questions the latest version dropped go with it
  // (they stay in the earlier versions).
  for (auto it = answered.begin(); it != answered.end();)
    it = latest.questions.count(it->first) ? std::next(it) : answered.erase(it);
  response["status"] = "in-progress";
  response["questionnaire"] =
      std::string(kHolisticAssessmentUrl) + "|" + std::string(LatestQuestionnaire().version);
  response["authored"] = DateTimeOf(records_.Now());
  response["item"] = Rebuild(latest, std::move(answered), {});
  if (response["item"].empty()) response.erase("item");
  return Write(patient_id, found, Dump(response), version);
}

Result<Assessment> Assessments::Share(std::string_view patient_id, int64_t version,
                                      RecordSharing sharing) {
  JU_ASSIGN_OR_RETURN(Found found, Current(patient_id));
  if (!found.current || found.current->meta.version_id != version)
    return Error{ErrorCode::kPreconditionFailed,
                 "the assessment has been changed since you opened it", "version"};
  json response = found.response;
  if (SharingOf(response) == sharing && response.contains("extension"))
    return Describe(patient_id, found.current);
  SetSharing(response, sharing);
  return Write(patient_id, found, Dump(response), version);
}

}  // namespace joinedup::records
