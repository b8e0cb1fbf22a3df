// Fuzzes the web application's API (webapp::AppApi::Handle) against the same small SQLite
// store as fhir_api_fuzz (api_fuzz_world.h), as a GP, a patient, a privacy officer, a
// commissioner or an administrator: query strings, JSON bodies (administration's forms too),
// break-glass reasons, ids. Nothing may crash or
// throw; every answer is a known status, never 500, and JSON (or the worklist's CSV).
#include <nlohmann/json.hpp>

#include <cstdint>

#include "api_fuzz_world.h"
#include "webapp/app_api.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace joinedup;
  static webapp::AppApi* api = [] {
    webapp::AppApiOptions o;
    o.cursor_key = std::string(32, 'f');
    o.clock = [] { return int64_t{1'790'000'000'000}; };
    return new webapp::AppApi(o);
  }();
  fuzz::ApiWorld& w = fuzz::TheApiWorld();
  const fuzz::FuzzRequest in =
      fuzz::ParseFuzzRequest(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!in.principal) return 0;  // the server answers the anonymous itself (Service::App)
  const http::HttpResponse res = api->Handle(in.request, *in.principal, *w.store);
  fuzz::Check(res.status >= 200 && res.status < 600 && res.status != 500);
  if (res.content_type.starts_with("text/csv")) return 0;
  fuzz::Check(nlohmann::json::accept(res.body));
  return 0;
}
