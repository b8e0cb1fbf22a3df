// Elixhauser comorbidities (31 conditions) with the ICD-10 coding algorithm of Quan et al. 2005.
//
// Sources (cited in data/codes/elixhauser_quan2005_icd10.csv, which is compiled in):
//   codes   Quan H et al. Med Care 2005;43(11):1130-9, Table 2 (ICD-10 column).
//   weights van Walraven C et al. A modification of the Elixhauser comorbidity measures into a
//           point system for hospital death using administrative data. Med Care
//           2009;47(6):626-33 (kVanWalraven2009); the Swiss weights shipped with R
//           `comorbidity` (kSwissWeights; provenance as in the list's header).
//   rules   prefix (starts-with) match on the dot-free code, each condition once per person;
//           hierarchy as stated in the list's header (and R `comorbidity`, assign0):
//           complicated hypertension (hypc) cancels uncomplicated (hypunc); complicated
//           diabetes (diabc) cancels uncomplicated (diabunc); metastatic cancer (metacanc)
//           cancels solid tumour without metastasis (solidtum).
// Some codes fall under two conditions (e.g. I426: chf and alcohol; I110: hypc and chf) and
// then count for both, as in the published algorithm.
#pragma once

#include <string_view>

#include "analytics/comorbidity_index.h"
#include "core/result.h"

namespace joinedup::analytics {

inline constexpr int kVanWalraven2009 = 0;  // weight set index in ComorbidityResult::scores
inline constexpr int kSwissWeights = 1;

// Parses an Elixhauser list in the layout of data/codes/elixhauser_quan2005_icd10.csv.
Result<ComorbidityIndex> ParseElixhauser(std::string_view file_name, std::string_view text);

// The compiled-in list, parsed at first use (thread-safe).
Result<const ComorbidityIndex*> Elixhauser();

}  // namespace joinedup::analytics
