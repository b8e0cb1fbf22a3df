// What every handler of the web application's API (app_api.cc, admin_api.cc) says the same way:
// JSON responses, the error body the UI shows in the NHS.UK error summary, records-service
// refusals in those words, and query strings and JSON bodies read.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"
#include "http/message.h"

namespace joinedup::webapp {

using QueryList = std::vector<std::pair<std::string, std::string>>;

std::string_view Trim(std::string_view text);  // core TrimSpace: white space at either end
Error Invalid(std::string message, std::string field);
// A record number in a path ("12"): a positive decimal of at most 18 digits; nullopt otherwise.
std::optional<int64_t> PositiveId(std::string_view text);
// Milliseconds since 1970 as an ISO 8601 UTC instant to the second ("2026-03-31T09:00:00Z").
std::string Instant(int64_t ms);

http::HttpResponse Json(int status, const nlohmann::json& body);
// {"error":{status,title,detail,field}}: a heading, what to do next, and the query parameter
// or body member at fault.
http::HttpResponse Problem(int status, std::string_view title, std::string_view detail,
                           std::string_view field = {});
std::string_view TitleOf(int status);
// A records-service refusal as the UI shows it. The wording is the FHIR API's (ToHttpError:
// never database text), so the two APIs say the same about the same refusal.
http::HttpResponse FromError(const Error& error);
// An address below /app/api that names nothing: 404 "There is no such page".
http::HttpResponse NoSuchPage();
// 405, with the Allow header naming what the address accepts.
http::HttpResponse MethodNotAllowed(std::string_view allow);
// A form's refusal as the screens show it: 400 (kInvalidInput) and 409 (kConflict, "This cannot
// be done now") with the records service's words and the field at fault; the rest as FromError.
http::HttpResponse FormRefusal(const Error& error);

// The query string's parameters, decoded; a malformed one is an error naming it.
Result<QueryList> QueryParams(std::string_view query);
std::string Param(const QueryList& params, std::string_view name);  // trimmed; "" if absent
// A string member of an object; "" if absent or not a string.
std::string Str(const nlohmann::json& j, std::string_view key);

}  // namespace joinedup::webapp
