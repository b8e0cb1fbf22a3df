// The holistic assessment (issue 12, item 2): the shipped Questionnaire (data/assessment/,
// compiled in), a person's assessment as one QuestionnaireResponse saved as you go, the needs
// its answers raise, who recorded each answer, reassessment as a new version, and the person's
// decision on who may see it. docs/app-api.md "The holistic assessment" has the wire form.
//
// Every read and write goes through records::Records (Read, Search, History, Create, Update),
// so the access decision — the person's relationship and consent, and the assessment's own
// sharing restriction (domain/sharing.h, security::DecideRecord) — and the audit trail are
// the records service's, once. An assessment the caller may not see is answered exactly as
// none: Assessment::current is empty.
//
// Representation on the QuestionnaireResponse (docs/fhir-api.md "The holistic assessment"):
//   questionnaire   kHolisticAssessmentUrl|<version answered>
//   status          in-progress while being filled in; completed when finished; amended when
//                   a completed one is changed; a reassessment starts a new version in-progress
//   authored        when the answers were last changed
//   item            nested as the questionnaire's groups; each answered item carries the
//                   extension kAnswerRecordedUrl with `by` (valueReference: the user's
//                   username as an identifier, their name, role and organisation as display)
//                   and `at` (valueDateTime) — who recorded that answer and when
//   extension       kRecordSharingUrl (domain/sharing.h): the person's decision
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "domain/sharing.h"
#include "records/records.h"

namespace joinedup::store {
class Store;
}

namespace joinedup::records {

inline constexpr std::string_view kHolisticAssessmentId = "holistic-assessment";
inline constexpr std::string_view kHolisticAssessmentUrl =
    "https://joinedup.example/fhir/Questionnaire/holistic-assessment";
inline constexpr std::string_view kAnswerRecordedUrl =
    "https://joinedup.example/fhir/StructureDefinition/answer-recorded";
inline constexpr std::string_view kRaisesNeedUrl =
    "https://joinedup.example/fhir/StructureDefinition/raises-need";

// A shipped version of the holistic assessment: its version and FHIR JSON (data/assessment/).
struct ShippedQuestionnaire {
  std::string_view version;
  std::string_view json;
};
// Every shipped version, oldest first; the last is the one new assessments use.
std::span<const ShippedQuestionnaire> ShippedQuestionnaires();
const ShippedQuestionnaire& LatestQuestionnaire();
// The shipped version a response names (`url|version`), or the latest when it names none or
// one this binary does not ship.
const ShippedQuestionnaire& QuestionnaireFor(std::string_view canonical);
// Whether dotted version `a` is newer than `b`, part by part as numbers ("1.10" > "1.9"; "1.0"
// > "1": more parts is newer when the rest are equal).
bool NewerVersion(std::string_view a, std::string_view b);

// Puts the latest shipped version into the store as Questionnaire/holistic-assessment unless
// the stored one is as new or newer: a newer one becomes a new version of the resource, the
// older versions staying in its history. Idempotent; safe for several processes at once.
// Returns whether it wrote. Not audited: a form's definition is about no one.
Result<bool> InstallShippedQuestionnaire(store::Store& store, int64_t now_ms);

// Who is recording (shown beside each answer they record).
struct AssessmentAuthor {
  std::string username;
  std::string display;  // "Name (role, organisation)"
};

// A need an answer raised: the answer option's coded finding.
struct Need {
  std::string link_id, question, answer;
  std::string system, code, display;  // SNOMED CT
};

// One answered question as recorded.
struct RecordedAnswer {
  std::string link_id;
  std::vector<std::string> values;    // choice: the option codes; text: the text
  std::vector<std::string> displays;  // what was shown for each value
  std::string recorded_by;            // kAnswerRecordedUrl `by` display; "" if not recorded
  std::string recorded_by_username;
  std::string recorded_at;  // FHIR dateTime; "" if not recorded
};

// One version of a person's assessment (its FHIR history), summarised.
struct AssessmentVersion {
  int64_t version_id = 0;
  std::optional<int64_t> last_updated_ms;
  std::string status;    // in-progress, completed, amended
  std::string authored;  // FHIR dateTime
  std::string questionnaire_version;
  size_t answered = 0;
  size_t needs = 0;
};

struct Assessment {
  std::optional<Record> current;  // the QuestionnaireResponse; empty: none the caller may see
  std::string status;
  std::string questionnaire_version;
  RecordSharing sharing = RecordSharing::kCareRelationship;
  std::vector<RecordedAnswer> answers;  // in the questionnaire's order
  std::vector<Need> needs;
  std::vector<AssessmentVersion> history;  // newest first, the current version first
};

// The needs a QuestionnaireResponse's answers raise, read against the questionnaire version it
// names (QuestionnaireFor). Unreadable text raises none.
std::vector<Need> AssessmentNeeds(std::string_view questionnaire_response_json);

// An answer as the form sends it: the values for one question (choice: option codes; text or
// string: one text). No values: the answer is cleared.
struct AnswerInput {
  std::string link_id;
  std::vector<std::string> values;
};

struct AssessmentSave {
  // The version the client last saw; empty to start the person's first assessment (refused
  // with kPreconditionFailed if one exists already).
  std::optional<int64_t> version;
  std::vector<AnswerInput> answers;
  bool complete = false;  // finish it: every required question must be answered
  // A new assessment only: the person's decision on who may see it (default: their care team,
  // issue 12: "visible to every professional in the person's care team and to no one outside
  // it"). Changed afterwards with Share.
  std::optional<RecordSharing> sharing;
};

// A person's holistic assessment, for one request (one Records). Errors are the records
// service's (kNotFound for a person or assessment the caller may not see, kPreconditionFailed
// for a stale version) or kInvalidInput naming the field: "answers.<linkId>", "version",
// "sharing".
class Assessments {
 public:
  Assessments(Records& records, AssessmentAuthor author);

  // The person's latest assessment (current empty: none), its needs and history.
  Result<Assessment> Of(std::string_view patient_id);
  // Saves answers as the caller (each changed answer gets their name and the time).
  Result<Assessment> Save(std::string_view patient_id, const AssessmentSave& save);
  // A completed assessment starts again as a new version, in progress, against the latest
  // shipped questionnaire; its answers carried forward with who recorded them.
  Result<Assessment> Reassess(std::string_view patient_id, int64_t version);
  // Records the person's decision on who may see the assessment (a new version).
  Result<Assessment> Share(std::string_view patient_id, int64_t version, RecordSharing sharing);

 private:
  struct Found;
  Result<Found> Current(std::string_view patient_id);
  Result<Assessment> Describe(std::string_view patient_id, std::optional<Record> current);
  Result<Assessment> Write(std::string_view patient_id, const Found& found, std::string json,
                           int64_t version);

  Records& records_;
  AssessmentAuthor author_;
};

}  // namespace joinedup::records
