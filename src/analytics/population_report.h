// The population at a glance: who is registered where, their ages, and the commonest conditions.
//
// What `joinedup report` prints after an import, and the first thing a commissioner asks of a
// new extract. Computed from the store in one pass over patients plus one aggregate query.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/date.h"
#include "core/result.h"
#include "store/store.h"

namespace joinedup::analytics {

// Five-year bands 0–4 … 85–89, then 90+.
inline constexpr int kAgeBandCount = 19;
std::string AgeBandLabel(int band);  // "0-4", …, "85-89", "90+"
int AgeBandOf(int age_years);

struct PracticeCount {
  std::string id;
  std::string name;
  std::string pch;
  int64_t registered = 0;  // alive on the as-of date
  int64_t aged_65_plus = 0;
  int64_t aged_75_plus = 0;
};

struct AgeBandCount {
  int64_t female = 0;
  int64_t male = 0;
  int64_t other = 0;  // other or unknown gender
  int64_t total() const { return female + male + other; }
};

struct PopulationReport {
  Date as_of;
  store::TableCounts counts;
  int64_t registered = 0;           // alive on as_of (born on or before it, not died before it)
  int64_t deceased = 0;             // died on or before as_of
  int64_t without_nhs_number = 0;   // imported with --allow-missing-nhs-number
  int64_t unregistered = 0;         // alive but with no known practice
  std::vector<PracticeCount> practices;  // in practice id order; every practice, even if empty
  std::array<AgeBandCount, kAgeBandCount> age_bands{};
  std::vector<store::CodeFrequency> top_conditions;
};

Result<PopulationReport> BuildPopulationReport(store::Store& store, Date as_of, int top_conditions);

// Plain-text tables for a terminal.
std::string FormatPopulationReport(const PopulationReport& report);

}  // namespace joinedup::analytics
