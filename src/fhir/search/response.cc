// FHIR API responses: OperationOutcome, searchset Bundle, CapabilityStatement, status mapping,
// ETags and request-body limits.
#include "fhir/search/response.h"

#include <simdjson.h>

#include <algorithm>
#include <set>

#include "core/strings.h"
#include "resources/registry.h"

namespace joinedup::fhir::search {

using resources::IsValidFhirId;
namespace {

// A JSON string from text of unknown origin: invalid UTF-8 bytes become U+FFFD.
void AppendText(std::string_view text, std::string& out) {
  if (simdjson::validate_utf8(text.data(), text.size())) {
    AppendJsonString(text, out);
    return;
  }
  std::string clean;
  clean.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    auto c = static_cast<unsigned char>(text[i]);
    size_t len = c < 0x80             ? 1
                 : (c & 0xE0) == 0xC0 ? 2
                 : (c & 0xF0) == 0xE0 ? 3
                 : (c & 0xF8) == 0xF0 ? 4
                                      : 0;
    if (len > 0 && i + len <= text.size() && simdjson::validate_utf8(text.data() + i, len)) {
      clean.append(text.data() + i, len);
      i += len;
    } else {
      clean += "\xEF\xBF\xBD";
      ++i;
    }
  }
  AppendJsonString(clean, out);
}

// "key": , with a comma before every key but the first of its object.
class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}
  void Open(char c) {
    out_ += c;
    first_.push_back(true);
  }
  void Close(char c) {
    out_ += c;
    first_.pop_back();
  }
  void Key(std::string_view key) {
    Comma();
    AppendJsonString(key, out_);
    out_ += ':';
  }
  void Comma() {  // before an array element or a key
    if (!first_.back()) out_ += ',';
    first_.back() = false;
  }
  void String(std::string_view key, std::string_view value) {
    Key(key);
    AppendText(value, out_);
  }
  void Raw(std::string_view key, std::string_view json) {
    Key(key);
    out_ += json;
  }
  std::string& out() { return out_; }

 private:
  std::string& out_;
  std::vector<bool> first_;
};

void WriteIssue(Writer& w, const OutcomeIssue& issue) {
  w.Comma();
  w.Open('{');
  w.String("severity", IssueSeverityCode(issue.severity));
  w.String("code", IssueTypeCode(issue.type));
  if (!issue.diagnostics.empty()) w.String("diagnostics", issue.diagnostics);
  if (!issue.expression.empty()) {
    w.Key("expression");
    w.Open('[');
    for (const std::string& e : issue.expression) {
      w.Comma();
      AppendText(e, w.out());
    }
    w.Close(']');
  }
  w.Close('}');
}

void WriteOutcome(Writer& w, std::span<const OutcomeIssue> issues) {
  w.Open('{');
  w.String("resourceType", "OperationOutcome");
  w.Key("issue");
  w.Open('[');
  for (const OutcomeIssue& issue : issues) WriteIssue(w, issue);
  w.Close(']');
  w.Close('}');
}

IssueType IssueTypeOf(ErrorCode code, ErrorContext context) {
  switch (code) {
    case ErrorCode::kInvalidInput:
      return context == ErrorContext::kResourceBody ? IssueType::kProcessing : IssueType::kInvalid;
    case ErrorCode::kNotFound:
      return IssueType::kNotFound;
    case ErrorCode::kConflict:
      return IssueType::kConflict;
    case ErrorCode::kPreconditionFailed:
      return IssueType::kConflict;
    case ErrorCode::kUnauthenticated:
      return IssueType::kLogin;
    case ErrorCode::kForbidden:
      return IssueType::kForbidden;
    case ErrorCode::kTooLarge:
      return IssueType::kTooLong;
    case ErrorCode::kUnavailable:
      return IssueType::kTransient;
    case ErrorCode::kInternal:
      return IssueType::kException;
  }
  return IssueType::kException;
}

}  // namespace

std::string_view IssueSeverityCode(IssueSeverity severity) {
  switch (severity) {
    case IssueSeverity::kFatal:
      return "fatal";
    case IssueSeverity::kError:
      return "error";
    case IssueSeverity::kWarning:
      return "warning";
    case IssueSeverity::kInformation:
      return "information";
  }
  return "error";
}

std::string_view IssueTypeCode(IssueType type) {
  switch (type) {
    case IssueType::kInvalid:
      return "invalid";
    case IssueType::kStructure:
      return "structure";
    case IssueType::kProcessing:
      return "processing";
    case IssueType::kNotSupported:
      return "not-supported";
    case IssueType::kNotFound:
      return "not-found";
    case IssueType::kConflict:
      return "conflict";
    case IssueType::kTooLong:
      return "too-long";
    case IssueType::kLogin:
      return "login";
    case IssueType::kForbidden:
      return "forbidden";
    case IssueType::kThrottled:
      return "throttled";
    case IssueType::kTransient:
      return "transient";
    case IssueType::kException:
      return "exception";
    case IssueType::kInformational:
      return "informational";
  }
  return "exception";
}

std::string OperationOutcomeJson(std::span<const OutcomeIssue> issues) {
  std::string out;
  Writer w(out);
  WriteOutcome(w, issues);
  return out;
}

OutcomeIssue IssueFrom(const SearchError& error) {
  OutcomeIssue issue;
  issue.type =
      error.kind == SearchErrorKind::kNotSupported ? IssueType::kNotSupported : IssueType::kInvalid;
  issue.diagnostics = error.message;
  if (!error.parameter.empty()) issue.expression.push_back(error.parameter);
  return issue;
}

std::vector<OutcomeIssue> IgnoredParameterWarnings(const SearchRequest& request) {
  std::vector<OutcomeIssue> issues;
  for (const std::string& why : request.ignored) {
    OutcomeIssue issue;
    issue.severity = IssueSeverity::kWarning;
    issue.type = IssueType::kNotSupported;
    issue.diagnostics = why;
    issue.expression.push_back(why.substr(0, why.find(':')));
    issues.push_back(std::move(issue));
  }
  return issues;
}

int HttpStatusOf(ErrorCode code, ErrorContext context) {
  switch (code) {
    case ErrorCode::kInvalidInput:
      return context == ErrorContext::kResourceBody ? 422 : 400;
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kConflict:
      return 409;
    case ErrorCode::kPreconditionFailed:
      return 412;
    case ErrorCode::kUnauthenticated:
      return 401;
    case ErrorCode::kForbidden:
      return 403;
    case ErrorCode::kTooLarge:
      return 413;
    case ErrorCode::kUnavailable:
      return 503;
    case ErrorCode::kInternal:
      return 500;
  }
  return 500;
}

HttpError ToHttpError(const Error& error, ErrorContext context) {
  HttpError out;
  out.status = HttpStatusOf(error.code, context);
  out.issue.severity =
      error.code == ErrorCode::kInternal ? IssueSeverity::kFatal : IssueSeverity::kError;
  out.issue.type = IssueTypeOf(error.code, context);
  // A bug's message may name internals; the log keeps it, the client gets a plain sentence.
  out.issue.diagnostics = error.code == ErrorCode::kInternal ? "internal error" : error.message;
  if (!error.field.empty() && error.code != ErrorCode::kInternal)
    out.issue.expression = {error.field};
  if (error.backend_text) {
    // A database's own words may name tables and columns or quote another person's values:
    // the client gets a plain sentence (the caller logs the original).
    out.issue.expression.clear();
    switch (error.code) {
      case ErrorCode::kConflict:
        out.issue.diagnostics = "the change clashes with a record already stored";
        break;
      case ErrorCode::kInvalidInput:
        out.issue.diagnostics = "a value could not be stored";
        break;
      case ErrorCode::kUnavailable:
        out.issue.diagnostics = "the database is unavailable; try again";
        break;
      default:
        out.issue.diagnostics = "internal error";
        break;
    }
  }
  return out;
}

HttpError ToHttpError(const SearchError& error) { return {400, IssueFrom(error)}; }

HttpError UnsupportedMediaType(std::string_view content_type) {
  HttpError out;
  out.status = 415;
  out.issue.type = IssueType::kNotSupported;
  out.issue.diagnostics = "Content-Type '" + std::string(content_type.substr(0, 100)) +
                          "' is not supported (send application/fhir+json)";
  return out;
}

HttpError TooManyRequests(std::string_view what) {
  HttpError out;
  out.status = 429;
  out.issue.type = IssueType::kThrottled;
  out.issue.diagnostics = std::string(what);
  return out;
}

std::string FormatETag(std::string_view version_id) {
  return "W/\"" + std::string(version_id) + "\"";
}

Result<std::string> ParseIfMatch(std::string_view header) {
  auto refuse = [&](std::string_view why) {
    return Error::Invalid("If-Match: " + std::string(why) + " (expected W/\"<versionId>\")");
  };
  while (!header.empty() && (header.front() == ' ' || header.front() == '\t'))
    header.remove_prefix(1);
  while (!header.empty() && (header.back() == ' ' || header.back() == '\t'))
    header.remove_suffix(1);
  if (header == "*") return refuse("'*' is not supported; name the version you read");
  if (header.size() < 5 || header.substr(0, 3) != "W/\"" || header.back() != '"')
    return refuse("not a weak entity tag");
  std::string_view version = header.substr(3, header.size() - 4);
  if (!IsValidFhirId(version)) return refuse("the version is not a FHIR id");
  return std::string(version);
}

Status CheckRequestBody(std::string_view body, const BodyLimits& limits) {
  if (body.size() > limits.max_bytes)
    return Error::TooLarge("request body is " + std::to_string(body.size()) +
                           " bytes; the limit is " + std::to_string(limits.max_bytes));
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > limits.max_depth)
        return Error::Invalid("request body: JSON nested deeper than " +
                              std::to_string(limits.max_depth) + " levels at byte " +
                              std::to_string(i));
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return Ok();
}

bool WantsTotal(const SearchRequest& request) {
  return request.summary_count || request.total != Total::kNone;
}

std::string SearchsetBundleJson(const SearchsetBundle& bundle) {
  size_t size = 256;
  for (const SearchEntry& e : bundle.entries)
    size += e.resource_json.size() + e.full_url.size() + 64;
  std::string out;
  out.reserve(size);
  Writer w(out);
  w.Open('{');
  w.String("resourceType", "Bundle");
  w.String("type", "searchset");
  if (bundle.total) w.Raw("total", std::to_string(*bundle.total));
  w.Key("link");
  w.Open('[');
  auto link = [&](std::string_view relation, std::string_view url) {
    w.Comma();
    w.Open('{');
    w.String("relation", relation);
    w.String("url", url);
    w.Close('}');
  };
  link("self", bundle.links.self);
  if (bundle.links.next) link("next", *bundle.links.next);
  w.Close(']');
  if (!bundle.entries.empty() || !bundle.warnings.empty()) {
    w.Key("entry");
    w.Open('[');
    for (const SearchEntry& e : bundle.entries) {
      w.Comma();
      w.Open('{');
      w.String("fullUrl", e.full_url);
      w.Raw("resource", e.resource_json);
      w.Key("search");
      w.Open('{');
      w.String("mode", e.mode == SearchMode::kMatch ? "match" : "include");
      w.Close('}');
      w.Close('}');
    }
    if (!bundle.warnings.empty()) {
      w.Comma();
      w.Open('{');
      w.Key("resource");
      WriteOutcome(w, bundle.warnings);
      w.Key("search");
      w.Open('{');
      w.String("mode", "outcome");
      w.Close('}');
      w.Close('}');
    }
    w.Close(']');
  }
  w.Close('}');
  return out;
}

std::string CapabilityStatementJson(const CapabilityOptions& options) {
  std::set<std::string> types;  // alphabetical, as most servers list them
  for (std::string_view t : SearchableTypes()) types.emplace(t);
  for (const auto& [t, _] : options.interactions) types.insert(t);

  std::string out;
  Writer w(out);
  w.Open('{');
  w.String("resourceType", "CapabilityStatement");
  w.String("status", "active");
  w.String("date", options.date);
  w.String("kind", "instance");
  w.Key("software");
  w.Open('{');
  w.String("name", "joinedup");
  if (!options.software_version.empty()) w.String("version", options.software_version);
  w.Close('}');
  w.Key("implementation");
  w.Open('{');
  w.String("description", "joinedup FHIR R4 API");
  if (!options.base_url.empty()) w.String("url", options.base_url);
  w.Close('}');
  w.String("fhirVersion", "4.0.1");
  w.Raw("format", R"(["json","application/fhir+json"])");
  w.Key("rest");
  w.Open('[');
  w.Comma();
  w.Open('{');
  w.String("mode", "server");
  w.Key("resource");
  w.Open('[');
  for (const std::string& type : types) {
    const auto params = SearchParamsOf(type);
    std::vector<std::string> interactions;
    if (auto it = options.interactions.find(type); it != options.interactions.end())
      interactions = it->second;
    if (!params.empty() &&
        std::find(interactions.begin(), interactions.end(), "search-type") == interactions.end())
      interactions.push_back("search-type");
    w.Comma();
    w.Open('{');
    w.String("type", type);
    w.Key("interaction");
    w.Open('[');
    for (const std::string& code : interactions) {
      w.Comma();
      w.Open('{');
      w.String("code", code);
      w.Close('}');
    }
    w.Close(']');
    // Whether a PUT to an unknown id creates (FHIR R4 CapabilityStatement.rest.resource
    // .updateCreate), for the types that take updates.
    if (std::find(interactions.begin(), interactions.end(), "update") != interactions.end()) {
      const resources::ResourceTypeDef* def = resources::FindType(type);
      w.Raw("updateCreate", def != nullptr && def->interactions.update_create ? "true" : "false");
    }
    auto include_list = [&](std::string_view key, bool reverse) {
      std::vector<std::string> names;
      for (const IncludeDef& def : Includes())
        if ((reverse ? def.target_type : def.source_type) == type) names.push_back(def.ToString());
      if (names.empty()) return;
      w.Key(key);
      w.Open('[');
      for (const std::string& n : names) {
        w.Comma();
        AppendJsonString(n, w.out());
      }
      w.Close(']');
    };
    include_list("searchInclude", false);
    include_list("searchRevInclude", true);
    if (!params.empty()) {
      w.Key("searchParam");
      w.Open('[');
      for (const SearchParamDef* def : params) {
        w.Comma();
        w.Open('{');
        w.String("name", def->name);
        w.String("type", ParamTypeName(def->type));
        std::string doc = "Searches " + std::string(def->expression);
        if (def->type == ParamType::kString)
          doc += "; case- and accent-insensitive starts-with, or :exact, :contains";
        if (def->type == ParamType::kDate) doc += "; prefixes eq ne lt le gt ge sa eb ap";
        if (def->type == ParamType::kReference)
          doc += "; " + std::string(def->target_type) + "/<id> or <id>";
        w.String("documentation", doc);
        w.Close('}');
      }
      w.Close(']');
    }
    w.Close('}');
  }
  w.Close(']');
  w.Close('}');
  w.Close(']');
  w.Close('}');
  return out;
}

}  // namespace joinedup::fhir::search
