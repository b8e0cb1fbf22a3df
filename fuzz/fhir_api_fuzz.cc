// Fuzzes the FHIR API request handler (api::FhirApi::Handle) against a small SQLite store
// (api_fuzz_world.h: the world and the input format; users gp, patient, privacy-officer,
// commissioner, or anonymous). Nothing may crash or throw; every answer must be a known status,
// never 500, and its body JSON.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>

#include "api/fhir_api.h"
#include "api_fuzz_world.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace joinedup;
  static api::FhirApi* api = [] {
    api::FhirApiOptions o;
    o.base_url = "https://fuzz.example/fhir";
    o.cursor_key = std::string(32, 'f');
    o.clock = [] { return int64_t{1'790'000'000'000}; };
    return new api::FhirApi(o);
  }();
  fuzz::ApiWorld& w = fuzz::TheApiWorld();
  const fuzz::FuzzRequest in =
      fuzz::ParseFuzzRequest(std::string_view(reinterpret_cast<const char*>(data), size));
  const api::HttpResponse res = api->Handle(in.request, in.principal, *w.store);
  fuzz::Check(res.status >= 200 && res.status < 600 && res.status != 500);
  if (!res.body.empty()) fuzz::Check(nlohmann::json::accept(res.body));
  return 0;
}
