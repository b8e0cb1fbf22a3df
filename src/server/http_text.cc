#include "server/http_text.h"

#include <arpa/inet.h>
#include <sodium.h>

#include <algorithm>
#include <array>

#include "core/strings.h"
#include "fhir/fhir_mapping.h"
#include "security/scopes.h"
#include "webapp/assets.h"

namespace joinedup::server {
namespace {

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

}  // namespace

Result<FormFields> ParseForm(std::string_view body) {
  FormFields fields;
  if (body.empty()) return fields;
  for (std::string_view pair : Split(body, '&')) {
    if (pair.empty()) continue;
    const size_t equals = pair.find('=');
    const std::string_view raw_name = pair.substr(0, equals);
    const std::string_view raw_value =
        equals == std::string_view::npos ? std::string_view() : pair.substr(equals + 1);
    std::optional<std::string> name = FormDecode(raw_name);
    if (!name) return Error::Invalid("form body: a malformed %-escape in a field name");
    std::optional<std::string> value = FormDecode(raw_value);
    if (!value) return Error::Invalid("form body: field '" + *name + "' has a malformed %-escape");
    fields.emplace_back(std::move(*name), std::move(*value));
  }
  return fields;
}

std::optional<std::string> FormValue(const FormFields& fields, std::string_view name) {
  for (const auto& [key, value] : fields)
    if (key == name) return value;
  return std::nullopt;
}

bool FormRepeats(const FormFields& fields, std::string_view name) {
  int seen = 0;
  for (const auto& field : fields)
    if (field.first == name) ++seen;
  return seen > 1;
}

std::optional<std::string> CookieValue(std::string_view cookie_header, std::string_view name) {
  for (std::string_view pair : Split(cookie_header, ';')) {
    pair = Trim(pair);
    const size_t equals = pair.find('=');
    if (equals == std::string_view::npos) continue;
    if (Trim(pair.substr(0, equals)) != name) continue;
    std::string_view value = Trim(pair.substr(equals + 1));
    // RFC 6265 §4.1.1 allows the value in double quotes.
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
      value = value.substr(1, value.size() - 2);
    return std::string(value);
  }
  return std::nullopt;
}

std::optional<BasicCredentials> ParseBasicAuthorization(std::string_view header, bool form_decode) {
  header = Trim(header);
  constexpr std::string_view kScheme = "basic ";
  if (header.size() <= kScheme.size()) return std::nullopt;
  for (size_t i = 0; i < kScheme.size(); ++i)  // the scheme is case-insensitive (RFC 7235 §2.1)
    if (static_cast<char>(std::tolower(static_cast<unsigned char>(header[i]))) != kScheme[i])
      return std::nullopt;
  const std::string_view encoded = Trim(header.substr(kScheme.size()));
  if (encoded.empty() || encoded.size() > 4096) return std::nullopt;
  if (sodium_init() < 0) return std::nullopt;
  std::string decoded(encoded.size(), '\0');
  size_t decoded_length = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(decoded.data()), decoded.size(),
                        encoded.data(), encoded.size(), nullptr, &decoded_length, nullptr,
                        sodium_base64_VARIANT_ORIGINAL) != 0)
    return std::nullopt;
  decoded.resize(decoded_length);
  const size_t colon = decoded.find(':');
  if (colon == std::string::npos) return std::nullopt;
  BasicCredentials credentials{decoded.substr(0, colon), decoded.substr(colon + 1)};
  if (form_decode) {
    std::optional<std::string> user = FormDecode(credentials.user);
    std::optional<std::string> password = FormDecode(credentials.password);
    if (!user || !password) return std::nullopt;
    credentials = {std::move(*user), std::move(*password)};
  }
  return credentials;
}

std::optional<std::string> SafeRequestId(std::string_view client_value) {
  if (client_value.empty() || client_value.size() > 64) return std::nullopt;
  for (char c : client_value) {
    const bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '.' || c == '_' || c == '-';
    if (!safe) return std::nullopt;
  }
  return std::string(client_value);
}

std::string NewRequestId() {
  if (sodium_init() < 0) return "00000000000000000000000000000000";
  std::array<unsigned char, 16> bytes{};
  randombytes_buf(bytes.data(), bytes.size());
  std::string hex(bytes.size() * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), bytes.data(), bytes.size());
  hex.pop_back();
  return hex;
}

std::string RouteTemplate(std::string_view path) {
  static constexpr std::array<std::string_view, 9> kFixed = {
      "/healthz",    "/readyz",      "/metrics",      "/.well-known/smart-configuration",
      "/auth/token", "/auth/revoke", "/auth/session", "/fhir",
      "/fhir/"};
  if (path == "/fhir/") return "/fhir";
  for (std::string_view fixed : kFixed)
    if (path == fixed) return std::string(fixed);
  if (path.starts_with("/assets/")) return "/assets/{file}";
  if (webapp::IsAppRoute(path)) {
    if (path.starts_with("/people/"))
      return path.ends_with("/care-plan/edit") ? "/people/{id}/care-plan/edit"
             : path.ends_with("/care-plan")    ? "/people/{id}/care-plan"
                                               : "/people/{id}";
    if (path.starts_with("/admin/")) return "/admin/{page}";
    if (path.starts_with("/caseload/")) return "/caseload/{team}";
    return std::string(path);
  }
  if (path == "/app/api" || path.starts_with("/app/api/")) {
    std::vector<std::string_view> parts = Split(path.substr(8), '/');
    if (!parts.empty() && parts.front().empty()) parts.erase(parts.begin());
    if (!parts.empty() && parts.back().empty()) parts.pop_back();
    const size_t n = parts.size();
    if (n == 1 && (parts[0] == "me" || parts[0] == "people" || parts[0] == "audit" ||
                   parts[0] == "segments" || parts[0] == "worklist" || parts[0] == "worklist.csv" ||
                   parts[0] == "alerts" || parts[0] == "population"))
      return "/app/api/" + std::string(parts[0]);
    if (n == 2 && parts[0] == "people") return "/app/api/people/{id}";
    if (n == 3 && parts[0] == "people" && (parts[2] == "consent" || parts[2] == "accesses"))
      return "/app/api/people/{id}/" + std::string(parts[2]);
    if (n == 3 && parts[0] == "people" && (parts[2] == "care-plan" || parts[2] == "goals"))
      return "/app/api/people/{id}/" + std::string(parts[2]);
    if (n == 2 && (parts[0] == "care-plans" || parts[0] == "goals"))
      return "/app/api/" + std::string(parts[0]) + "/{id}";
    if (n == 3 && parts[0] == "care-plans" && parts[2] == "history")
      return "/app/api/care-plans/{id}/history";
    if (n == 3 && parts[0] == "alerts" && parts[2] == "acknowledge")
      return "/app/api/alerts/{id}/acknowledge";
    if (n == 2 && parts[0] == "worklist" && parts[1] == "options")
      return "/app/api/worklist/options";
    if (n == 1 && (parts[0] == "caseloads" || parts[0] == "episodes"))
      return "/app/api/" + std::string(parts[0]);
    if (n == 2 && parts[0] == "caseloads") return "/app/api/caseloads/{team}";
    if (n == 3 && parts[0] == "caseloads" && parts[2] == "enrol")
      return "/app/api/caseloads/{team}/enrol";
    if (n == 3 && parts[0] == "episodes" &&
        (parts[2] == "start" || parts[2] == "transfer" || parts[2] == "discharge"))
      return "/app/api/episodes/{id}/" + std::string(parts[2]);
    if (n >= 2 && n <= 4 && parts[0] == "admin" &&
        (parts[1] == "users" || parts[1] == "organisations" || parts[1] == "care-teams")) {
      std::string route = "/app/api/admin/" + std::string(parts[1]);
      if (n >= 3) route += "/{id}";
      if (n == 4 && (parts[3] == "password" || parts[3] == "members" || parts[3] == "people"))
        route += "/" + std::string(parts[3]);
      else if (n == 4)
        return "/app/api/{unmatched}";
      return route;
    }
    return "/app/api/{unmatched}";
  }
  if (!path.starts_with("/fhir/")) return "{unmatched}";
  std::vector<std::string_view> parts = Split(path.substr(6), '/');
  if (!parts.empty() && parts.back().empty()) parts.pop_back();  // a trailing slash
  const auto type = [](std::string_view name) {
    return security::IsServedResourceType(name) ? std::string(name) : std::string("{type}");
  };
  const size_t n = parts.size();
  if (n == 1 && (parts[0] == "metadata" || parts[0] == "$export" || parts[0] == "_history"))
    return "/fhir/" + std::string(parts[0]);
  if (n == 2 && parts[0] == ".well-known" && parts[1] == "smart-configuration")
    return "/fhir/.well-known/smart-configuration";
  if (n == 2 && parts[0] == "$export-status") return "/fhir/$export-status/{job}";
  if (n == 3 && parts[0] == "$export-file") return "/fhir/$export-file/{job}/{file}";
  if (n == 0) return "/fhir";
  std::string route = "/fhir/" + type(parts[0]);
  if (n == 1) return route;
  if (parts[1] == "_search" || parts[1] == "$export" || parts[1] == "_history") {
    if (n == 2) return route + "/" + std::string(parts[1]);
    return "/fhir/{unmatched}";
  }
  route += "/{id}";
  if (n == 2) return route;
  if (n == 3 && (parts[2] == "_history" || parts[2] == "$export"))
    return route + "/" + std::string(parts[2]);
  if (n == 4 && parts[2] == "_history") return route + "/_history/{vid}";
  return "/fhir/{unmatched}";
}

std::string AuditSafeText(std::string_view text, size_t max_bytes) {
  std::string out;
  for (size_t i = 0; i < text.size();) {
    const size_t length = Utf8SequenceLength(text, i);
    const bool control =
        length == 1 && (static_cast<unsigned char>(text[i]) < 0x20 || text[i] == 0x7F);
    if (length == 0 || control) {
      if (out.size() + 1 > max_bytes) break;
      out += '?';
      i += 1;
      continue;
    }
    if (out.size() + length > max_bytes) break;
    out.append(text.substr(i, length));
    i += length;
  }
  return out;
}

std::string JsonString(std::string_view text) {
  std::string out;
  fhir::AppendJsonString(text, out);
  return out;
}

namespace {

// The 16 bytes of an IPv6 address, or an IPv4 one in the first 4; IPv4-mapped IPv6 as IPv4.
std::optional<std::pair<std::array<unsigned char, 16>, bool>> ParseAddress(std::string_view text) {
  if (text.empty() || text.size() > 45) return std::nullopt;
  const std::string z(text);
  std::array<unsigned char, 16> bytes{};
  if (::inet_pton(AF_INET, z.c_str(), bytes.data()) == 1) return std::pair{bytes, true};
  if (::inet_pton(AF_INET6, z.c_str(), bytes.data()) != 1) return std::nullopt;
  static constexpr unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::equal(std::begin(kMapped), std::end(kMapped), bytes.begin())) {
    std::array<unsigned char, 16> v4{};
    std::copy(bytes.begin() + 12, bytes.end(), v4.begin());
    return std::pair{v4, true};
  }
  return std::pair{bytes, false};
}

}  // namespace

Result<Cidr> ParseCidr(std::string_view text) {
  const size_t slash = text.find('/');
  auto address = ParseAddress(text.substr(0, slash));
  if (!address)
    return Error::Invalid("not an IP address block: " + std::string(text.substr(0, 64)));
  Cidr block;
  block.bytes = address->first;
  block.v4 = address->second;
  const int bits = block.v4 ? 32 : 128;
  block.prefix = bits;
  if (slash != std::string_view::npos) {
    std::optional<int64_t> prefix = ParseNonNegative(text.substr(slash + 1));
    if (!prefix || *prefix > bits)
      return Error::Invalid("not an IP address block: " + std::string(text.substr(0, 64)));
    block.prefix = static_cast<int>(*prefix);
  }
  return block;
}

bool InCidr(std::string_view text, const Cidr& block) {
  auto address = ParseAddress(text);
  if (!address || address->second != block.v4) return false;
  for (int bit = 0; bit < block.prefix; ++bit) {
    const auto byte = static_cast<size_t>(bit / 8);
    const int mask = 0x80 >> (bit % 8);
    if ((address->first[byte] & mask) != (block.bytes[byte] & mask)) return false;
  }
  return true;
}

std::string ClientAddress(std::string_view peer, const std::vector<std::string>& forwarded_for,
                          const std::vector<Cidr>& trusted) {
  auto is_trusted = [&](std::string_view address) {
    return std::any_of(trusted.begin(), trusted.end(),
                       [&](const Cidr& block) { return InCidr(address, block); });
  };
  if (!is_trusted(peer)) return std::string(peer);
  std::vector<std::string_view> hops;
  for (const std::string& header : forwarded_for)
    for (std::string_view hop : Split(header, ',')) hops.push_back(Trim(hop));
  for (auto it = hops.rbegin(); it != hops.rend(); ++it) {
    if (!ParseAddress(*it)) return std::string(peer);  // malformed: believe nothing
    if (!is_trusted(*it)) return std::string(*it);
  }
  return std::string(peer);
}

}  // namespace joinedup::server
