#include "analytics/charlson.h"

namespace joinedup::embedded {
std::string_view codes_charlson_quan2005_icd10();
}  // namespace joinedup::embedded

namespace joinedup::analytics {

Result<ComorbidityIndex> ParseCharlson(std::string_view file_name, std::string_view text) {
  // Hierarchy of R `comorbidity` (assign0), as stated in the list's header.
  return ComorbidityIndex::Parse(file_name, text, "weight_charlson1987", "weight_quan2011",
                                 {{"msld", "mld"}, {"diabwc", "diab"}, {"metacanc", "canc"}});
}

Result<const ComorbidityIndex*> Charlson() {
  static const Result<ComorbidityIndex> parsed =
      ParseCharlson("charlson_quan2005_icd10.csv", embedded::codes_charlson_quan2005_icd10());
  if (!parsed.ok()) return parsed.error();
  return &parsed.value();
}

}  // namespace joinedup::analytics
