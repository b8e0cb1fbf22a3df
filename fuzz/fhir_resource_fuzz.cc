// Fuzzes the FHIR readers on arbitrary bytes: MapResource (with and without missing NHS
// numbers allowed) and ExpandBundle, then MapResource on every entry of a Bundle that
// expands, with the Bundle's own resolver. Nothing may crash, and every refusal must say why.
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <variant>

#include "fhir/bundle.h"
#include "fhir/resource.h"

namespace {
void Check(bool condition) {
  if (!condition) std::abort();
}

void CheckMapped(const std::variant<joinedup::fhir::Mapped, joinedup::fhir::MapError>& result) {
  if (const auto* error = std::get_if<joinedup::fhir::MapError>(&result))
    Check(!error->message.empty());
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace joinedup::fhir;
  std::string_view json(reinterpret_cast<const char*>(data), size);
  const ReferenceResolver relative = [](std::string_view reference, std::string_view type) {
    return ResolveRelativeReference(reference, type);
  };
  MapOptions strict;
  MapOptions lenient;
  lenient.allow_missing_nhs_number = true;
  CheckMapped(MapResource(json, strict, relative));
  CheckMapped(MapResource(json, lenient, relative));

  auto bundle = ExpandBundle(json);
  if (!bundle.ok()) {
    Check(!bundle.error().message.empty());
    return 0;
  }
  const ReferenceResolver resolve = bundle->Resolver();
  for (const BundleEntry& entry : bundle->entries())
    CheckMapped(MapResource(entry.resource_json, lenient, resolve));
  return 0;
}
