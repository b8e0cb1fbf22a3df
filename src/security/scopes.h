// SMART App Launch v2 scopes
// (https://hl7.org/fhir/smart-app-launch/scopes-and-launch-context.html).
//
// A scope string is space-separated scopes. A resource scope is
//   <context>/<resource type or *>.<permissions>
// where context is patient, user or system and permissions are the letters c r u d s, each
// at most once and in that order (v2: "cruds"), e.g. patient/*.rs, user/Patient.r,
// system/*.cruds. Non-resource scopes openid, fhirUser, profile, launch, launch/patient,
// offline_access and online_access are accepted and kept. SMART v1 suffixes (.read, .write,
// .*) and v2 finer-grained query parameters (?category=…) are refused, each with a message
// that says so; so is any resource type this server does not serve.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace joinedup::security {

enum class ScopeContext : uint8_t { kPatient, kUser, kSystem };

// One bit per SMART v2 permission letter.
enum Permission : uint8_t {
  kCreate = 1,   // c
  kRead = 2,     // r
  kUpdate = 4,   // u
  kDelete = 8,   // d
  kSearch = 16,  // s
};

struct ResourceScope {
  ScopeContext context = ScopeContext::kUser;
  std::string resource_type;  // "*" for every type
  uint8_t permissions = 0;    // Permission bits
  friend bool operator==(const ResourceScope&, const ResourceScope&) = default;
};

struct ScopeSet {
  std::vector<ResourceScope> resources;
  std::vector<std::string> others;  // openid, fhirUser, launch/patient, … in the order given

  // True if some scope of `context` covers `resource_type` with every bit of `permissions`.
  bool Allows(ScopeContext context, std::string_view resource_type, uint8_t permissions) const;
  // The canonical text: each scope re-rendered, in the order parsed, single spaces.
  std::string ToString() const;
};

// The resource types the FHIR API serves (resources::IsServed), which resource scopes may name.
bool IsServedResourceType(std::string_view type);

// kInvalidInput naming the offending scope and what is wrong with it; an empty string is an
// empty set. Duplicate scopes are kept once.
Result<ScopeSet> ParseScopes(std::string_view text);

}  // namespace joinedup::security
