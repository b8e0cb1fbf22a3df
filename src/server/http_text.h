// The small text formats the HTTP layer reads and writes itself: form bodies
// (application/x-www-form-urlencoded), cookies, HTTP Basic credentials, request ids, route
// templates for logs and metrics. Pure functions over outside input, so the fuzz target
// (fuzz/http_request_fuzz.cc) and unit tests call them directly.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace joinedup::server {

using FormFields = std::vector<std::pair<std::string, std::string>>;

// application/x-www-form-urlencoded (WHATWG URL §5.1): '&'-separated name=value, '+' is a
// space, %XX escapes. A malformed escape is kInvalidInput naming the field, not silently kept:
// credentials must mean exactly one thing.
Result<FormFields> ParseForm(std::string_view body);
// The value of the first field named `name`; empty if absent.
std::optional<std::string> FormValue(const FormFields& fields, std::string_view name);
// True if `name` occurs more than once (RFC 6749 §3.1: parameters MUST NOT be repeated).
bool FormRepeats(const FormFields& fields, std::string_view name);

// The value of the first cookie called `name` in a Cookie header (RFC 6265 §5.4).
std::optional<std::string> CookieValue(std::string_view cookie_header, std::string_view name);

struct BasicCredentials {
  std::string user;
  std::string password;
};
// "Basic <base64(user:password)>" (RFC 7617). For OAuth client authentication the id and
// secret are form-urlencoded before encoding (RFC 6749 §2.3.1), so both are decoded as form
// text. Empty when the header is not Basic or is malformed.
std::optional<BasicCredentials> ParseBasicAuthorization(std::string_view header, bool form_decode);

// The client's X-Request-Id if it is 1..64 characters of [A-Za-z0-9._-] (safe to log and echo),
// otherwise empty: the server then makes its own.
std::optional<std::string> SafeRequestId(std::string_view client_value);
// 32 random hex digits.
std::string NewRequestId();

// The route a path belongs to, for logs and metrics: a fixed template, never the path itself
// (which may hold identifiers), e.g. "/fhir/Patient/{id}", "/fhir/{type}/{id}/_history/{vid}".
// Resource types the server serves appear by name; anything else as "{type}".
std::string RouteTemplate(std::string_view path);

// Text safe to store in the audit trail (valid UTF-8, no control characters, at most
// `max_bytes`): hostile usernames are recorded recognisably instead of failing the append.
std::string AuditSafeText(std::string_view text, size_t max_bytes = 256);

// An address block of trusted reverse proxies: "10.0.0.0/8", "2001:db8::/32", or one address
// ("127.0.0.1" is /32, "::1" /128). IPv4-mapped IPv6 addresses match as IPv4.
struct Cidr {
  std::array<unsigned char, 16> bytes{};
  bool v4 = false;
  int prefix = 0;
};
Result<Cidr> ParseCidr(std::string_view text);
bool InCidr(std::string_view address, const Cidr& block);

// The client's address: the peer's, unless the peer is a trusted proxy — then the right-most
// X-Forwarded-For entry that is not itself a trusted proxy (RFC 7239 §5.2's reasoning: only the
// entries our own proxies appended can be believed). A missing or malformed header, or one of
// trusted proxies only, leaves the peer's address. `forwarded_for`: every X-Forwarded-For
// header's value, in order.
std::string ClientAddress(std::string_view peer, const std::vector<std::string>& forwarded_for,
                          const std::vector<Cidr>& trusted);

// `text` as a JSON string literal, quotes included.
std::string JsonString(std::string_view text);

}  // namespace joinedup::server
