// Running the escalation rules from the command line: `joinedup escalate`, and after every
// `joinedup import` and `joinedup stratify` (records/escalation.h says what they raise).
#pragma once

#include <span>
#include <string>
#include <vector>

#include "analytics/segmentation.h"
#include "core/date.h"
#include "core/result.h"
#include "store/store.h"

namespace joinedup::cli {

// Runs the rules (the shipped ones, or `rules_file`'s) as of `as_of` and prints one line of
// what they raised, starting with `context` ("escalation after import").
Status RunEscalationRules(store::Store& store, Date as_of,
                          std::span<const analytics::SegmentationModel> models,
                          const std::string& rules_file, const std::vector<std::string>& only,
                          const char* context);

}  // namespace joinedup::cli
