// The FHIR R4 REST API as a function: an HTTP request (already read by the server, already
// authenticated) in, an HTTP response out. No sockets here — src/server adapts cpp-httplib to
// this, tests and the request-handler fuzz target call it directly.
//
// A codec over the records service (records/records.h), which decides every request about a
// person's data by the access policy (security/policy.h) and audits it (security/audit.h). A
// record the caller may not see answers exactly as one that does not exist. docs/fhir-api.md
// lists the routes.
//
// Thread safety: one FhirApi may serve many threads at once; each call brings its own Store
// (one connection per worker thread).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/message.h"
#include "records/records.h"
#include "security/audit.h"

namespace joinedup::store {
class Store;
}
namespace joinedup::exporter {
class BulkExport;
}

namespace joinedup::api {

using http::HttpRequest;
using http::HttpResponse;
using http::Principal;

struct FhirApiOptions {
  std::string base_url;  // the FHIR base as clients reach it, no trailing slash
  std::string software_version;
  std::string cursor_key;  // 32 bytes: signs page cursors (store::ResourceStore::ServerSecret)
  security::Clock clock;   // milliseconds since the epoch
  exporter::BulkExport* bulk_export = nullptr;  // $export routes answer 501 without it
  records::Settings records;
};

class FhirApi {
 public:
  explicit FhirApi(FhirApiOptions options);
  ~FhirApi();

  // `principal` is empty for an anonymous request: only GET /metadata answers; everything else
  // is 401. Never throws; an unexpected failure is a 500 OperationOutcome with no detail.
  HttpResponse Handle(const HttpRequest& request, const std::optional<Principal>& principal,
                      store::Store& store) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace joinedup::api
