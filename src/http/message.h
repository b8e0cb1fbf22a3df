// An HTTP request and response as plain values, and who is asking: what src/server hands to
// the FHIR API (api/fhir_api.h) and Bulk Data export (export/bulk_export.h). Header-only, no
// HTTP library; it sits below both (above security, whose Caller it carries), so neither has
// to include the other.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "security/policy.h"

namespace joinedup::http {

struct HttpRequest {
  std::string method;  // "GET", "POST", …
  std::string path;    // below the FHIR base, percent-decoded: "/Patient/123/_history/2"
  std::string query;   // raw query string without '?' (percent-encoded as received)
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-case
  std::string body;
  std::string remote_address;
  std::string request_id;  // the server's id for this request (X-Request-Id, access log, audit)
  std::string client_request_id;  // the client's X-Request-Id (printable, bounded), or ""

  // The first header of that (lower-case) name, or nullopt.
  std::optional<std::string_view> Header(std::string_view name) const {
    for (const auto& [key, value] : headers)
      if (key == name) return std::string_view(value);
    return std::nullopt;
  }
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/fhir+json";
  std::vector<std::pair<std::string, std::string>> headers;  // ETag, Location, …
  std::string body;
};

// Who is asking, as the server authenticated them (bearer token or session cookie).
struct Principal {
  security::Caller caller;  // caller.break_glass_reason is filled from the request by FhirApi
  std::string username;
  std::string display_name;  // as the account says ("Dr Jane Smith")
};

}  // namespace joinedup::http
