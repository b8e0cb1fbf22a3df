// Segmentation models: commissioner-editable text files (data/segmentation/*.model) that divide
// a population into ordered segments (MCMW tiers, Worcestershire groups …) by rules over the
// features of features.h, and the evaluator that places each person and says why.
//
// The file format is specified in docs/segmentation.md. In short:
//
//   model: mcmw                        # required, [a-z0-9_]+; runs are compared by this name
//   version: 2024-06                   # required, free text
//   label: My Care My Way tiers        # optional free text
//   source: West London CCG, …         # optional, may repeat
//   population: age >= 65              # optional condition; people outside are not segmented
//   segment tier4 "Tier 4" rank 4 when ltc_count >= 3 and (mental_health_need or social_care_need)
//
// Rules are tried in file order and the first whose condition holds assigns its segment. An
// indented line continues the statement above it; `#` starts a comment outside a "label".
//
// Thread safety: a parsed SegmentationModel is immutable; Assign and ExplainJson may be called
// from any number of threads at once.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "analytics/features.h"
#include "core/result.h"
#include "domain/cohort.h"
#include "domain/stratification_run.h"

namespace joinedup::analytics {

enum class CompareOp : uint8_t { kLess, kLessEqual, kGreater, kGreaterEqual, kEqual, kNotEqual };
std::string_view CompareOpText(CompareOp op);  // "<", "<=", …

// One node of a condition. Conditions are stored flat in SegmentationModel::nodes; and/or are
// n-ary so a long chain of `and`s does not make a deep tree.
struct ConditionNode {
  enum class Kind : uint8_t { kCompare, kAnd, kOr, kNot };
  Kind kind = Kind::kCompare;
  // kCompare: `feature op threshold`. For categorical features the threshold is the level index;
  // for float-backed features (admission_risk, cost_percentile) it is rounded to float when
  // parsed, so `admission_risk >= 0.2` holds for a stored 0.2f.
  Feature feature = Feature::kAge;
  CompareOp op = CompareOp::kEqual;
  bool bare_flag = false;  // written as a bare yes/no flag (`care_home`), meaning `!= 0`
  double threshold = 0;
  // kAnd, kOr, kNot: operands are SegmentationModel::operands[first_operand ..
  // first_operand + operand_count).
  uint32_t first_operand = 0;
  uint32_t operand_count = 0;
};

struct Segment {
  std::string id;     // unique within the model: `tier4`
  std::string label;  // as quoted in the file: "Tier 4: three or more LTCs …"
  // Higher rank = higher need; movement calls a move to a higher rank a rise. Optional in the
  // file but all-or-none: nullopt for every segment of a model that declares no ranks.
  std::optional<int> rank;
  int32_t condition = -1;  // root node index
  int line = 0;            // where the rule starts in the file
};

struct SegmentationModel {
  std::string file_name;  // as given to the parser, for messages
  std::string name;
  std::string version;
  std::string label;
  std::vector<std::string> sources;
  int32_t population = -1;  // root node of the population condition, or -1: everyone
  // One rule per segment; the rule index is the segment index, in file order.
  std::vector<Segment> segments;
  std::vector<ConditionNode> nodes;
  std::vector<int32_t> operands;
  // Each node's canonical text (ConditionText) as a JSON string, filled by the parser so
  // ExplainJson does not rebuild it for every person.
  std::vector<std::string> node_json;

  bool ranked() const { return !segments.empty() && segments.front().rank.has_value(); }
};

// Parses a model file. Any fault is kInvalidInput with "<file_name>:<line>:<column>: <what was
// wrong and what was expected>"; nothing is half-parsed.
Result<SegmentationModel> ParseSegmentationModel(std::string_view file_name, std::string_view text);
// Reads and parses a file from disk (kNotFound / kUnavailable if it cannot be read).
Result<SegmentationModel> LoadSegmentationModel(const std::string& path);

// The model as a run records it.
SegmentationModelInfo Info(const SegmentationModel& model);

// Canonical text of a condition (`ltc_count >= 3 and (mental_health_need or …)`).
std::string ConditionText(const SegmentationModel& model, int32_t node);

enum class AssignmentStatus : uint8_t {
  kAssigned,           // a rule matched
  kNoSegment,          // in the model's population, but no rule matched
  kOutsidePopulation,  // the `population:` condition does not hold
};

struct SegmentAssignment {
  AssignmentStatus status = AssignmentStatus::kNoSegment;
  // Index into model.segments, or kNoSegment / kOutsidePopulation (stratification_run.h), the
  // values PersonRunResult::segment stores.
  int16_t segment = kNoSegment;
  int16_t rule = -1;  // index of the rule that matched, or -1
};

// Places one person. PersonFeatures::deceased is not looked at: who is stratified is the
// caller's choice.
SegmentAssignment Assign(const SegmentationModel& model, const PersonFeatures& person);

// Every person of a cohort under every model: assignments[person * models.size() + m].
// threads <= 0 means all cores.
struct CohortAssignments {
  size_t model_count = 0;
  std::vector<SegmentAssignment> assignments;
  const SegmentAssignment& At(size_t person, size_t model) const {
    return assignments[person * model_count + model];
  }
};
CohortAssignments ApplyModels(std::span<const SegmentationModel> models,
                              const CohortFeatures& features, int threads = 0);

// The reasons for one person's assignment under one model, as compact JSON (UTF-8, one line):
// the outcome, the rule matched with its condition, every comparison tested with the person's
// value and whether it held, and the codes (system|code, date) behind the features tested,
// from that person's evidence. `concepts` is Cohort::concepts. Shape in docs/segmentation.md.
std::string ExplainJson(const SegmentationModel& model, const SegmentAssignment& assignment,
                        const PersonFeatures& person, std::span<const FeatureEvidence> evidence,
                        std::span<const Cohort::Concept> concepts);

// Indices of the segments of the `count` highest ranks (all segments sharing one of those
// ranks), highest first; empty for an unranked model.
std::vector<int16_t> TopSegments(const SegmentationModel& model, int count);

}  // namespace joinedup::analytics
