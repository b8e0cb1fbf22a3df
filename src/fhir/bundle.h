// FHIR R4 Bundles: the resources in a Bundle, in an order the store can take them, and a
// resolver for the references between them.
//
// Accepted Bundle.type: transaction, batch, collection, searchset, transaction-response and
// batch-response. Refused: history (entries are versions and deletions, not current state),
// document and message (their meaning hangs on the Composition / MessageHeader, which
// joinedup does not read). docs/fhir-mapping.md has the rules.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/result.h"
#include "fhir/resource.h"

namespace joinedup::fhir {

struct BundleEntry {
  std::string location;       // "entry[12]": where it was in the Bundle, for messages
  std::string full_url;       // entry.fullUrl, "" when absent
  std::string resource_type;  // entry.resource.resourceType
  // entry.resource as compact JSON text, ready for MapResource. When the resource has no id
  // and its fullUrl is "urn:uuid:<uuid>", "id":"<uuid>" is added, so the record's id is the
  // one references to it resolve to.
  std::string resource_json;
};

class ExpandedBundle {
 public:
  const std::string& type() const { return type_; }
  // Targets before what refers to them: Organization, Patient, Encounter and EpisodeOfCare,
  // then Condition, Observation, MedicationRequest and ChargeItem, then everything else;
  // Bundle order within each group.
  const std::vector<BundleEntry>& entries() const { return entries_; }

  // Resolves a reference made inside this Bundle: a fullUrl ("urn:uuid:…" or an absolute
  // URL) or "Type/id" of an entry gives that entry's logical id if its type matches;
  // anything else falls back to ResolveRelativeReference (a target already in the store).
  // A urn:uuid that is not in the Bundle does not resolve. The resolver shares ownership of
  // the index, so it may outlive this object; it is safe to call from several threads.
  ReferenceResolver Resolver() const;

 private:
  friend Result<ExpandedBundle> ExpandBundle(std::string_view json);
  struct Target {
    std::string resource_type;
    std::string id;
  };
  using Index = std::unordered_map<std::string, Target>;

  std::string type_;
  std::vector<BundleEntry> entries_;
  std::shared_ptr<const Index> by_url_;  // fullUrl → target; also "Type/id" → target
};

// Reads a Bundle. Errors (kInvalidInput) name the place: "invalid JSON at byte 120: …",
// "Bundle.type: 'history' is not supported", "entry[3].resource: missing".
Result<ExpandedBundle> ExpandBundle(std::string_view json);

}  // namespace joinedup::fhir
