#include "fhir/served_text.h"

#include "core/strings.h"

namespace joinedup::fhir {

std::string ServedText(std::string rendering,
                       const std::optional<store::StoredDocument>& document) {
  if (document && document->rendering_hash == StableHash64(rendering)) return document->json;
  return rendering;
}

}  // namespace joinedup::fhir
