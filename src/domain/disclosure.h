// Small-number disclosure control for counts of people shown to those who may not see the
// people themselves (commissioners' figures: Group quantities, dashboards, aggregate exports).
//
// The default is NHS Digital's rule for Hospital Episode Statistics outputs since September 2018
// ("Disclosure control methodology for HES and ECDS",
// https://digital.nhs.uk/data-and-information/data-tools-and-services/data-services/
// hospital-episode-statistics/change-to-disclosure-control-methodology-for-hes-and-ecds-from-
// september-2018): at sub-national level a count of 1 to 7 is shown as "*" and every other count
// is rounded to the nearest 5; 0 is shown as it is. joinedup's figures are all sub-national
// (a practice, a Primary Care Home, a segment of one system's population).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace joinedup {

struct DisclosureRule {
  int64_t suppress_up_to = 7;  // counts 1..suppress_up_to are shown as "*"
  int64_t round_to = 5;        // the rest to the nearest multiple (1: as they are)
  // No control at all (an operator's own tools; tests of exact figures).
  static DisclosureRule Off() { return {0, 1}; }
};

// A count as it may be shown: empty when suppressed.
struct DisclosedCount {
  std::optional<int64_t> value;
  bool suppressed() const { return !value.has_value(); }
  std::string Text() const { return value ? std::to_string(*value) : "*"; }  // "*" suppressed
};

// Halves round up (a multiple of round_to is never exactly between two when round_to is odd).
// Negative counts are not counts of people: passed through unchanged.
inline DisclosedCount Disclose(int64_t count, const DisclosureRule& rule) {
  if (count <= 0) return {count};
  if (count <= rule.suppress_up_to) return {std::nullopt};
  if (rule.round_to <= 1) return {count};
  return {(count + rule.round_to / 2) / rule.round_to * rule.round_to};
}

}  // namespace joinedup
