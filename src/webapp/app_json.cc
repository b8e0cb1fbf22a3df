// The web application's shared JSON helpers (app_json.h).
#include "webapp/app_json.h"

#include <charconv>
#include <cstdio>

#include "core/date.h"
#include "core/strings.h"
#include "fhir/search/response.h"

namespace joinedup::webapp {

using json = nlohmann::json;
namespace search = fhir::search;

std::string_view Trim(std::string_view text) { return TrimSpace(text); }

std::string Instant(int64_t ms) {
  const int64_t seconds = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
  const Date day = Date::FromDays(
      static_cast<int32_t>(seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400));
  const int64_t in_day = seconds - int64_t{day.days_since_epoch()} * 86400;
  char text[32];
  std::snprintf(text, sizeof text, "%sT%02d:%02d:%02dZ", day.ToString().c_str(),
                static_cast<int>(in_day / 3600), static_cast<int>(in_day / 60 % 60),
                static_cast<int>(in_day % 60));
  return text;
}

std::optional<int64_t> PositiveId(std::string_view text) {
  int64_t value = 0;
  if (text.empty() || text.size() > 18) return std::nullopt;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value <= 0) return std::nullopt;
  return value;
}

Error Invalid(std::string message, std::string field) {
  return Error{ErrorCode::kInvalidInput, std::move(message), std::move(field)};
}

http::HttpResponse Json(int status, const json& body) {
  http::HttpResponse r;
  r.status = status;
  r.content_type = "application/json; charset=utf-8";
  r.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return r;
}

http::HttpResponse Problem(int status, std::string_view title, std::string_view detail,
                           std::string_view field) {
  json error = {{"status", status}, {"title", title}, {"detail", detail}};
  if (!field.empty()) error["field"] = field;
  return Json(status, {{"error", std::move(error)}});
}

std::string_view TitleOf(int status) {
  switch (status) {
    case 400:
    case 422:
      return "There is a problem";
    case 401:
      return "Your session has ended";
    case 403:
      return "You do not have permission to do this";
    case 404:
      return "Not found";
    case 409:
    case 412:
      return "The record has changed";
    case 429:
      return "Too many requests";
    default:
      return "Sorry, there is a problem with joinedup";
  }
}

http::HttpResponse FromError(const Error& error) {
  if (error.code == ErrorCode::kInternal || error.code == ErrorCode::kUnavailable ||
      error.backend_text)
    std::fprintf(stderr, "joinedup app api: %s\n", error.ToString().c_str());
  const search::HttpError http = search::ToHttpError(error);
  std::string detail = http.issue.diagnostics;
  if (http.status >= 500)
    detail =
        "Try again in a few minutes. If it keeps happening, tell your "
        "system administrator.";
  return Problem(http.status, TitleOf(http.status), detail,
                 http.issue.expression.empty() ? std::string_view() : http.issue.expression[0]);
}

http::HttpResponse NoSuchPage() {
  return Problem(404, TitleOf(404), "There is no such page. Check the address.");
}

http::HttpResponse MethodNotAllowed(std::string_view allow) {
  http::HttpResponse r = Problem(405, "Method not allowed", "This address does not accept that.");
  r.headers.emplace_back("Allow", std::string(allow));
  return r;
}

http::HttpResponse FormRefusal(const Error& error) {
  if (error.code == ErrorCode::kInvalidInput)
    return Problem(400, TitleOf(400), error.message, error.field);
  if (error.code == ErrorCode::kConflict)
    return Problem(409, "This cannot be done now", error.message, error.field);
  return FromError(error);
}

Result<QueryList> QueryParams(std::string_view query) {
  QueryList out;
  for (std::string_view pair : Split(query, '&')) {
    if (pair.empty()) continue;
    const size_t equals = pair.find('=');
    auto name = FormDecode(pair.substr(0, equals));
    auto value = FormDecode(equals == std::string_view::npos ? "" : pair.substr(equals + 1));
    if (!name || !value)
      return Invalid("a query parameter is not well encoded", std::string(pair.substr(0, 40)));
    out.emplace_back(std::move(*name), std::move(*value));
  }
  return out;
}

std::string Param(const QueryList& params, std::string_view name) {
  for (const auto& [key, value] : params)
    if (key == name) return std::string(Trim(value));
  return "";
}

std::string Str(const json& j, std::string_view key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace joinedup::webapp
