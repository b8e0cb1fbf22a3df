#include "analytics/elixhauser.h"

namespace joinedup::embedded {
std::string_view codes_elixhauser_quan2005_icd10();
}  // namespace joinedup::embedded

namespace joinedup::analytics {

Result<ComorbidityIndex> ParseElixhauser(std::string_view file_name, std::string_view text) {
  // "Hierarchy: hypc -> hypunc=0; diabc -> diabunc=0; metacanc -> solidtum=0" (list header).
  return ComorbidityIndex::Parse(
      file_name, text, "weight_vanwalraven2009", "weight_swiss",
      {{"hypc", "hypunc"}, {"diabc", "diabunc"}, {"metacanc", "solidtum"}});
}

Result<const ComorbidityIndex*> Elixhauser() {
  static const Result<ComorbidityIndex> parsed =
      ParseElixhauser("elixhauser_quan2005_icd10.csv", embedded::codes_elixhauser_quan2005_icd10());
  if (!parsed.ok()) return parsed.error();
  return &parsed.value();
}

}  // namespace joinedup::analytics
