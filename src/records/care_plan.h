// The person-centred care and support plan (issue 12 items 3 and 4; docs/fhir-api.md "Care
// plans"): its shape, aligned with the PRSB *Personalised Care and Support Plan* standard, and
// how it is kept in a FHIR R4 CarePlan document and the person's Goals.
//
// Every part of the plan keeps who wrote it and when (provenance), so staff see the person's own
// words marked as theirs:
//   - a section of the plan is a CarePlan.note Annotation (author, time, text) carrying the
//     section's code in the care-plan-section extension; a contact to call is such a note with
//     the care-plan-contact extension (name, telephone);
//   - an activity ("what we will do") is a CarePlan.activity with detail.description (what),
//     detail.performer[0].display (who) and detail.scheduledString (when), the Task that carries
//     it out in the care-plan-activity-task extension, and who wrote it in written-by;
//   - a goal is a Goal: description.text in the person's own words, verbatim; who agreed it
//     (goal-agreed-by), target.dueDate, progress notes as Goal.note Annotations; a goal the
//     person refused is lifecycleStatus "rejected" with their words as statusReason and as a
//     note of kind "refusal" written by them;
//   - the review date is the care-plan-review-date extension; who made each version of the plan
//     or goal is written-by on the resource itself (its history keeps every version).
// The extensions are joinedup's, under https://joinedup.example/fhir/StructureDefinition/.
// A client's resource is stored and served whole, so the plan round-trips exactly.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace joinedup::records {

inline constexpr std::string_view kPlanSectionUrl =
    "https://joinedup.example/fhir/StructureDefinition/care-plan-section";
inline constexpr std::string_view kPlanSectionSystem =
    "https://joinedup.example/fhir/CodeSystem/care-plan-section";
inline constexpr std::string_view kPlanContactUrl =
    "https://joinedup.example/fhir/StructureDefinition/care-plan-contact";
inline constexpr std::string_view kPlanReviewDateUrl =
    "https://joinedup.example/fhir/StructureDefinition/care-plan-review-date";
inline constexpr std::string_view kActivityTaskUrl =
    "https://joinedup.example/fhir/StructureDefinition/care-plan-activity-task";
inline constexpr std::string_view kWrittenByUrl =
    "https://joinedup.example/fhir/StructureDefinition/written-by";
inline constexpr std::string_view kGoalAgreedByUrl =
    "https://joinedup.example/fhir/StructureDefinition/goal-agreed-by";
inline constexpr std::string_view kGoalNoteKindUrl =
    "https://joinedup.example/fhir/StructureDefinition/goal-note-kind";
// A member of staff named in a plan: their joinedup username (no Practitioner record needed).
inline constexpr std::string_view kUsernameSystem = "https://joinedup.example/fhir/sid/username";

// One section of the plan (a part of a PRSB PCSP section).
struct PlanSection {
  std::string_view code;     // care-plan-section code
  std::string_view prsb;     // the PRSB PCSP section it belongs to
  std::string_view heading;  // what staff read
  std::string_view plain;    // what the person reads, in plain English
  bool person_writes;        // the person co-owns it: they may write it in their own words
  bool contact;              // a name and telephone number (who to call)
};
std::span<const PlanSection> PlanSections();
const PlanSection* FindPlanSection(std::string_view code);

// A contact to call (contingency plan): both empty clears it.
struct PlanContact {
  std::string name, telephone;
};

// "What we will do": who does what and when.
struct PlanActivity {
  std::string description;        // what
  std::string who;                // who does it ("Carers from Home First", "Me", "Daughter")
  std::string when;               // "twice a day, morning and evening"
  std::string status = "scheduled";  // CarePlan.activity.detail.status
  std::string task_id;            // the Task carrying it out; "" none
};

// A change to a plan: what is set changes, the rest stays.
struct PlanEdit {
  std::vector<std::pair<std::string, std::string>> sections;  // code, text ("" clears)
  std::vector<std::pair<std::string, PlanContact>> contacts;  // code, contact
  std::optional<std::string> review_date;                     // YYYY-MM-DD; "" clears
  std::optional<std::vector<PlanActivity>> activities;        // the whole list
  std::string author_name;  // the writer's display name, shown with what they wrote
};

// A new goal, or a change to one: what is set changes.
struct GoalEdit {
  std::optional<std::string> text;         // description.text, kept verbatim
  std::optional<std::string> target_date;  // YYYY-MM-DD; "" clears
  std::optional<std::string> status;       // lifecycleStatus (staff): proposed, active, …
  std::optional<std::string> progress;     // a progress note to add
  std::optional<std::string> refusal;      // the person refuses the goal, in their words
  bool agreed_with_person = false;         // new goals: agreed by the person and the writer
  bool in_persons_words = false;           // new goals: the person said it (expressedBy)
  std::string author_name;
};

}  // namespace joinedup::records
