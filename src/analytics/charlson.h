// Charlson comorbidity index with the ICD-10 coding algorithm of Quan et al. 2005.
//
// Sources (cited in data/codes/charlson_quan2005_icd10.csv, which is compiled in):
//   codes   Quan H et al. Coding algorithms for defining comorbidities in ICD-9-CM and ICD-10
//           administrative data. Med Care 2005;43(11):1130-9, Table 1 (ICD-10 column).
//   weights Charlson ME et al. J Chronic Dis 1987;40(5):373-83 (kCharlson1987), and the
//           updated weights of Quan H et al. Am J Epidemiol 2011;173(6):676-82 (kQuan2011).
//   rules   17 conditions, each counted once per person; prefix (starts-with) match on the
//           dot-free code; hierarchy as R package `comorbidity` (Gasparini 2018) with
//           assign0 = TRUE: moderate/severe liver disease (msld) cancels mild liver disease
//           (mld); diabetes with chronic complication (diabwc) cancels diabetes without (diab);
//           metastatic solid tumour (metacanc) cancels any malignancy (canc).
// On the reference file shared/reference (1M rows) this reproduces the R package's means.
#pragma once

#include <string_view>

#include "analytics/comorbidity_index.h"
#include "core/result.h"

namespace joinedup::analytics {

inline constexpr int kCharlson1987 = 0;  // weight set index in ComorbidityResult::scores
inline constexpr int kQuan2011 = 1;

// Parses a Charlson list in the layout of data/codes/charlson_quan2005_icd10.csv.
Result<ComorbidityIndex> ParseCharlson(std::string_view file_name, std::string_view text);

// The compiled-in list, parsed at first use (thread-safe). An error only if the embedded file
// is malformed, which the tests rule out.
Result<const ComorbidityIndex*> Charlson();

}  // namespace joinedup::analytics
