#include "security/scopes.h"

#include <algorithm>
#include <array>

#include "resources/registry.h"

namespace joinedup::security {
namespace {

constexpr std::array<std::string_view, 7> kOtherScopes = {
    "openid", "fhirUser", "profile", "launch", "launch/patient", "offline_access", "online_access"};

constexpr std::string_view kLetters = "cruds";

Error Bad(std::string_view scope, const std::string& why) {
  return Error::Invalid("scope '" + std::string(scope) + "': " + why);
}

Result<ResourceScope> ParseResourceScope(std::string_view scope) {
  ResourceScope out;
  const size_t slash = scope.find('/');
  const std::string_view context = scope.substr(0, slash);
  if (context == "patient") {
    out.context = ScopeContext::kPatient;
  } else if (context == "user") {
    out.context = ScopeContext::kUser;
  } else if (context == "system") {
    out.context = ScopeContext::kSystem;
  } else {
    return Bad(scope, "unknown scope (a resource scope starts patient/, user/ or system/)");
  }
  std::string_view rest = scope.substr(slash + 1);
  if (rest.find('?') != std::string_view::npos)
    return Bad(scope, "finer-grained scope parameters (?…) are not supported");
  const size_t dot = rest.find('.');
  if (dot == std::string_view::npos)
    return Bad(scope, "missing '.' and permissions (e.g. " + std::string(context) + "/*.rs)");
  const std::string_view type = rest.substr(0, dot);
  const std::string_view letters = rest.substr(dot + 1);
  if (type != "*" && !IsServedResourceType(type))
    return Bad(scope, "'" + std::string(type) + "' is not a resource type this server serves");
  out.resource_type = type;
  if (letters == "read" || letters == "write" || letters == "*")
    return Bad(scope, "SMART v1 permissions are not accepted; use v2 letters (e.g. ." +
                          std::string(letters == "read" ? "rs" : "cruds") + ")");
  if (letters.empty()) return Bad(scope, "no permissions after '.'");
  size_t next = 0;  // letters must appear in "cruds" order, each once
  for (char c : letters) {
    const size_t at = kLetters.find(c, next);
    if (at == std::string_view::npos)
      return Bad(scope, kLetters.find(c) == std::string_view::npos
                            ? "'" + std::string(1, c) + "' is not a permission (use c r u d s)"
                            : "permissions must appear once each in the order c r u d s");
    out.permissions |= static_cast<uint8_t>(1u << at);
    next = at + 1;
  }
  return out;
}

std::string_view ContextName(ScopeContext context) {
  switch (context) {
    case ScopeContext::kPatient:
      return "patient";
    case ScopeContext::kUser:
      return "user";
    case ScopeContext::kSystem:
      return "system";
  }
  return "?";
}

}  // namespace

bool IsServedResourceType(std::string_view type) { return resources::IsServed(type); }

Result<ScopeSet> ParseScopes(std::string_view text) {
  ScopeSet set;
  size_t at = 0;
  while (at < text.size()) {
    if (text[at] == ' ') {
      ++at;
      continue;
    }
    size_t end = text.find(' ', at);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view scope = text.substr(at, end - at);
    at = end;
    for (char c : scope)
      if (static_cast<unsigned char>(c) < 0x21 || static_cast<unsigned char>(c) > 0x7e)
        return Error::Invalid("scope text contains a character outside printable ASCII");
    if (std::find(kOtherScopes.begin(), kOtherScopes.end(), scope) != kOtherScopes.end()) {
      if (std::find(set.others.begin(), set.others.end(), scope) == set.others.end())
        set.others.emplace_back(scope);
      continue;
    }
    JU_ASSIGN_OR_RETURN(ResourceScope parsed, ParseResourceScope(scope));
    if (std::find(set.resources.begin(), set.resources.end(), parsed) == set.resources.end())
      set.resources.push_back(std::move(parsed));
  }
  return set;
}

bool ScopeSet::Allows(ScopeContext context, std::string_view resource_type,
                      uint8_t permissions) const {
  if (permissions == 0) return false;
  return std::any_of(resources.begin(), resources.end(), [&](const ResourceScope& scope) {
    return scope.context == context &&
           (scope.resource_type == "*" || scope.resource_type == resource_type) &&
           (scope.permissions & permissions) == permissions;
  });
}

std::string ScopeSet::ToString() const {
  std::string out;
  auto add = [&](std::string_view part) {
    if (!out.empty()) out += ' ';
    out += part;
  };
  for (const ResourceScope& scope : resources) {
    std::string text(ContextName(scope.context));
    text += '/' + scope.resource_type + '.';
    for (size_t i = 0; i < kLetters.size(); ++i)
      if (scope.permissions & (1u << i)) text += kLetters[i];
    add(text);
  }
  for (const std::string& other : others) add(other);
  return out;
}

}  // namespace joinedup::security
