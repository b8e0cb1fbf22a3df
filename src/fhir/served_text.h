// Nothing written is lost: what a typed record is served as (read, search, export).
#pragma once

#include <optional>
#include <string>

#include "store/resource_store.h"

namespace joinedup::fhir {

// The client's resource as written (`document`) while the typed rows still render as they did
// when it was written (its rendering hash equals StableHash64(rendering)); otherwise — no
// document, or another writer such as an import has changed the rows since — the rendering
// of the typed rows, which stay the truth for analytics.
std::string ServedText(std::string rendering, const std::optional<store::StoredDocument>& document);

}  // namespace joinedup::fhir
