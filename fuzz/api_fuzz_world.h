// The small SQLite world the API fuzz targets run against (fhir_api_fuzz, app_api_fuzz): one
// practice, two people with a condition each, and a GP, a patient (p1), a privacy officer and a
// commissioner; and the input format both read: a first line "<user> <METHOD> <path>[?query]",
// "name: value" header lines up to an empty line, then the body.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "http/message.h"
#include "store/store.h"

namespace joinedup::fuzz {

void Check(bool condition);  // aborts when false: the fuzzer's finding

struct ApiWorld {
  std::unique_ptr<store::Store> store;
  http::Principal gp, patient, officer, commissioner, administrator;
};

// Built once per process.
ApiWorld& TheApiWorld();

// The request of an input (remote address and request id filled in) and who sends it ("gp",
// "patient", "privacy-officer", "commissioner", "administrator"; anyone else: nobody).
struct FuzzRequest {
  http::HttpRequest request;
  std::optional<http::Principal> principal;
};
FuzzRequest ParseFuzzRequest(std::string_view input);

}  // namespace joinedup::fuzz
