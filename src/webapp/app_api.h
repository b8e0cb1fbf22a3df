// The web application's JSON API (/app/api, docs/app-api.md) as a function: an authenticated
// request in, a response out, like the FHIR API beside it (api/fhir_api.h). Shaped for the
// UI's screens, and a codec over the same records service: every read and search of a
// person's data is decided and audited there, once, and a record the caller may not see
// answers exactly as one that does not exist. Nothing here decides access.
//
// Thread safety: one AppApi may serve many threads at once; each call brings its own Store.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "http/message.h"
#include "records/records.h"
#include "security/audit.h"

namespace joinedup::store {
class Store;
}

namespace joinedup::webapp {

struct AppApiOptions {
  std::string cursor_key;  // 32 bytes: seals page cursors (the FHIR API's key)
  security::Clock clock;
  records::Settings records;
  // What the UI is told about sessions (the server enforces the idle timeout itself).
  int64_t session_idle_ms = 30 * 60 * 1000;
  int64_t session_warn_ms = 2 * 60 * 1000;
};

class AppApi {
 public:
  explicit AppApi(AppApiOptions options);
  ~AppApi();

  // `request.path` is below /app/api ("/people/p1"). Never throws; an unexpected failure is a
  // 500 with no detail.
  http::HttpResponse Handle(const http::HttpRequest& request, const http::Principal& principal,
                            store::Store& store) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace joinedup::webapp
