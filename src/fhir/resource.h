// One FHIR R4 resource, mapped to what joinedup stores.
//
// The mapper (fhir_mapping.cc) knows FHIR; the importer (import.cc) knows files, ordering,
// transactions and reporting. They meet here. This header does not include simdjson: the
// mapper takes the resource as raw JSON text so widely included headers stay light.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "domain/population.h"
#include "domain/sharing.h"
#include "resources/query.h"

namespace joinedup::fhir {

// A ChargeItem: the notional cost of one Encounter or EpisodeOfCare (its `context`).
struct Charge {
  std::string id;
  std::string activity_id;
  int64_t cost_pence = 0;
};

// A resource of a type joinedup does not store (Claim, Immunization, …): counted, not read.
struct Skipped {
  std::string resource_type;
  std::string reason;  // why, e.g. "joinedup does not store Claim" or "not a GP practice: …"
};

// A resource of a type kept whole as a document (fhir/document.h): its text, its person and
// the values of its search parameters.
struct Document {
  std::string resource_type;
  std::string id;
  std::string json;        // the resource as given
  std::string patient_id;  // its person (person-bound types); "" otherwise
  std::string person_element;  // the element naming the person ("patient"); "" for none
  std::vector<resources::IndexEntry> index;
  // Its own sharing restriction (domain/sharing.h): the extension kRecordSharingUrl.
  RecordSharing sharing = RecordSharing::kCareRelationship;
};

using Mapped =
    std::variant<Practice, Patient, ClinicalEvent, Activity, Medication, Charge, Skipped, Document>;

// Why a resource was refused. `field` is a FHIRPath-style location inside the resource,
// e.g. "identifier[0].value" or "subject.reference"; empty when the whole resource is wrong.
struct MapError {
  std::string resource_type;  // "Patient", or "" when even that could not be read
  std::string resource_id;    // "" when absent
  std::string field;
  std::string message;
};

struct MapOptions {
  // Import a Patient without an NHS number, keyed by its first identifier ("system|value")
  // and marked as having no verified NHS number. Off by default: such people are refused.
  bool allow_missing_nhs_number = false;
};

// Turns a reference ("Patient/123", "urn:uuid:…", an absolute URL ending in Type/id) into
// the logical id of its target, which must be of `expected_type`. nullopt: cannot resolve
// (the mapper then refuses the resource, naming the field). For NDJSON the resolver just
// checks the type and strips it; inside a Bundle it also resolves urn:uuid fullUrls.
using ReferenceResolver =
    std::function<std::optional<std::string>(std::string_view reference, std::string_view expected_type)>;

// The default resolver: "Type/id" or "<base>/Type/id" with Type == expected_type.
std::optional<std::string> ResolveRelativeReference(std::string_view reference,
                                                    std::string_view expected_type);

// Maps one resource given as JSON text. Never throws; malformed JSON, a wrong type or a
// missing required field gives a MapError.
std::variant<Mapped, MapError> MapResource(std::string_view json, const MapOptions& options,
                                           const ReferenceResolver& resolve);

}  // namespace joinedup::fhir
