// Resource types kept as documents (resources/registry.h, kept_as_document): what joinedup
// reads from such a resource — its person and the values of its search parameters — so the
// store can keep it whole and search it without knowing FHIR JSON.
#pragma once

#include <string_view>
#include <variant>

#include "fhir/resource.h"

namespace joinedup::fhir {

// Reads a resource of a document type given as JSON text (resourceType and id included).
// Each type-specific search parameter's simple path ("RelatedPerson.name") is followed through
// objects and arrays, and each value reached is indexed by the parameter's type:
//   string     a string; or a HumanName's family, given, text, prefix and suffix; or an
//              Address's line, city, district, state, postalCode, country and text
//   token      a code or boolean (no system); a CodeableConcept's codings, a Coding (system,
//              code); an Identifier or ContactPoint (system, value)
//   reference  a Reference to the parameter's target type, resolved with `resolve`; a
//              `urn:` reference (a Bundle's fullUrl) is rewritten to Type/id in Document::json;
//              a canonical (a string) that ends in Type/id, "|version" dropped. A path ending
//              in `.where(resolve() is Type)` takes only the references that resolve to Type
//   date       a date, dateTime or instant as the range its precision covers
//              (search::ParseDateRange), or a Period from its start to its end, a missing side
//              open; kept as IndexInstant(start), IndexInstant(end) (resources/query.h)
//   uri        a string, exactly
// Refused (MapError naming the element): not a JSON object, a type that is not kept as a
// document, a bad id, a reference that does not resolve to the target type, a date that is
// not one, and for a person-bound type a missing person reference ("patient").
std::variant<Document, MapError> ReadDocument(std::string_view json,
                                              const ReferenceResolver& resolve);

}  // namespace joinedup::fhir
