// Early escalation when a person on a caseload becomes unstable (seed 001: "Proactive planned
// care and early escalation of risk when a patient becomes unstable"; issue 12 item 6).
//
// The rules are data (data/escalation/escalation_rules.json, compiled in; a commissioner may
// give another file): each names a trigger — an activity of given types (an emergency
// admission, an A&E attendance), a coded event (a fall), the eFI category or a segment rising
// between the latest two stratification runs, a planned visit (a Task) left undone past its due
// time — and how soon the person's named care coordinator must act, in elapsed hours or in
// working days on the England and Wales calendar.
//
// Each trigger that fires for a person with an open case episode raises, once:
//   - a Flag on the person (status active; Flag.code names the rule and what happened), shown
//     on the caseload board and the person's page until someone resolves it with a note, and
//   - a Task for their coordinator (owner Practitioner/<username>; a person still on the
//     waiting list has no coordinator yet, so the task is the team's, named in
//     Task.performerType) due by the rule's time, with Task.reasonReference the Flag.
// Both carry the identifier https://joinedup.example/fhir/escalation|<rule>/<trigger> and
// deterministic ids, so running the rules again (after every import, every stratification and
// from `joinedup escalate`) raises nothing twice. Every escalation raised is audited against
// the person (subtype "escalation") as the actor who ran the rules.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/calendar.h"
#include "core/date.h"
#include "core/result.h"
#include "domain/population.h"
#include "security/audit.h"

namespace joinedup::analytics {
struct SegmentationModel;
}
namespace joinedup::store {
class Store;
}

namespace joinedup::records {

// joinedup's codes for care tasks (Task.code): planned-visit, plan-review, escalation.
inline constexpr std::string_view kCareTaskSystem =
    "https://joinedup.example/fhir/CodeSystem/care-task";

enum class EscalationTrigger : uint8_t {
  kActivity,         // activity_types
  kCodedEvent,       // codes
  kEfiCategoryRise,  // fit < mild < moderate < severe, between the latest two runs
  kSegmentRise,      // a segment of higher rank in any ranked model (or `model`)
  kMissedTask,       // an open Task coded task_system|task_code, grace_hours past its due time
};

// How soon the coordinator must act: exactly one of the two is set (> 0).
struct EscalationDue {
  int hours = 0;         // elapsed hours from when the escalation is raised
  int working_days = 0;  // the same time of day on the n-th working day after the day raised
};

struct EscalationRule {
  std::string id;     // [a-z0-9-]+, unique in the file
  std::string title;  // "Emergency admission": the flag's heading
  EscalationTrigger trigger = EscalationTrigger::kActivity;
  std::vector<ActivityType> activity_types;
  // kCodedEvent: exact codes, or prefixes where the file's code ends in '*'. ICD-10 codes are
  // compared without their dot or filler ("W19", "W19.0" and "W19X" all match "W19*").
  struct Code {
    CodeSystem system = CodeSystem::kSnomedCt;
    std::string code;
    bool prefix = false;
  };
  std::vector<Code> codes;
  std::string model;                    // kSegmentRise: "" any ranked model
  std::string task_system, task_code;  // kMissedTask
  int grace_hours = 0;                  // kMissedTask
  int lookback_days = 14;  // kActivity, kCodedEvent: dated no earlier than this before as-of
  EscalationDue due;
  std::string priority = "routine";  // FHIR request-priority: routine | urgent | asap | stat
  std::string action;                // what the coordinator is asked to do (Task.description)

  bool Matches(CodeSystem system, std::string_view code) const;
};

struct EscalationRules {
  std::string name, version, source;
  std::vector<EscalationRule> rules;
};

// Parses a rules file (see data/escalation/escalation_rules.json). kInvalidInput naming the
// file, the rule (by position and id) and the member at fault; nothing is partly accepted.
Result<EscalationRules> ParseEscalationRules(std::string_view file_name, std::string_view text);
// The shipped rules, compiled in from data/escalation/escalation_rules.json.
const EscalationRules& ShippedEscalationRules();

// When an escalation raised at `raised_ms` (UTC) falls due under `due`. Working days count as
// core/calendar.h's AddWorkingDays does (the day raised never counts): raised on Friday
// 14:00, one working day is Monday 14:00 (Tuesday after a bank-holiday Monday). kInvalidInput
// outside the calendar's years.
Result<int64_t> EscalationDueMs(const EscalationDue& due, int64_t raised_ms,
                                const WorkingDayCalendar& calendar);

struct EscalationRun {
  int64_t now_ms = 0;  // when the rules run: escalations are raised (and fall due) from here
  Date as_of;          // activities and events dated within a rule's lookback before this count
  // The segmentation models whose ranks decide a segment rise (by name; a model of the runs
  // not given here is not compared). Empty: no segment rule fires.
  std::span<const analytics::SegmentationModel> models;
  security::AuditActor actor;  // who ran the rules (the audit trail's actor)
  std::vector<std::string> only_rules;  // rule ids to run; empty: every rule
};

struct EscalationOutcome {
  std::map<std::string, int64_t> raised;  // by rule id, rules that raised none included
  int64_t already_raised = 0;             // triggers found that had been escalated before
  int64_t people_on_caseloads = 0;
  std::vector<std::string> notes;  // what could not be judged, and why
};

// Runs `rules` over everyone on a caseload: raises a Flag and a Task per new trigger (see the
// file comment), each in its own transaction, audited. Rules are independent; the first store
// error stops the run (what was raised stays raised, and a re-run continues).
Result<EscalationOutcome> RunEscalation(store::Store& store, const EscalationRules& rules,
                                        const EscalationRun& run);

}  // namespace joinedup::records
