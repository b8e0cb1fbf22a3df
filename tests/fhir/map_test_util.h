// Helpers shared by the fhir mapping tests: map one resource and compare records field by field.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <variant>

#include "fhir/resource.h"

namespace joinedup::fhir::testing {

inline std::variant<Mapped, MapError> Map(std::string_view json, MapOptions options = {}) {
  return MapResource(json, options, ReferenceResolver(ResolveRelativeReference));
}

// The record `json` maps to; a test failure (and T{}) when it maps to anything else.
template <typename T>
T MapAs(std::string_view json, MapOptions options = {}) {
  auto result = Map(json, options);
  if (const auto* error = std::get_if<MapError>(&result)) {
    ADD_FAILURE() << "MapError " << error->resource_type << "/" << error->resource_id << " "
                  << error->field << ": " << error->message << "\n  in " << json;
    return T{};
  }
  const Mapped& mapped = std::get<Mapped>(result);
  if (const T* record = std::get_if<T>(&mapped)) return *record;
  ADD_FAILURE() << "mapped to variant index " << mapped.index() << "\n  in " << json;
  return T{};
}

// The MapError `json` gives; a test failure when it maps.
inline MapError MapFails(std::string_view json, MapOptions options = {}) {
  auto result = Map(json, options);
  if (const auto* error = std::get_if<MapError>(&result)) return *error;
  ADD_FAILURE() << "expected a MapError\n  in " << json;
  return {};
}

inline void ExpectSame(const Practice& a, const Practice& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.pch, b.pch);
  EXPECT_EQ(a.postcode_district, b.postcode_district);
}

inline void ExpectSame(const Patient& a, const Patient& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.nhs_number.has_value(), b.nhs_number.has_value());
  if (a.nhs_number && b.nhs_number) {
    EXPECT_EQ(a.nhs_number->digits(), b.nhs_number->digits());
  }
  EXPECT_EQ(a.source_identifier, b.source_identifier);
  EXPECT_EQ(a.family_name, b.family_name);
  EXPECT_EQ(a.given_name, b.given_name);
  EXPECT_EQ(a.birth_date, b.birth_date);
  EXPECT_EQ(a.sex, b.sex);
  EXPECT_EQ(a.postcode_district, b.postcode_district);
  EXPECT_EQ(a.deprivation_decile, b.deprivation_decile);
  EXPECT_EQ(a.practice_id, b.practice_id);
  EXPECT_EQ(a.death_date, b.death_date);
}

// admission_method is not compared: the importer fills it from the referenced Encounter.
inline void ExpectSame(const ClinicalEvent& a, const ClinicalEvent& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.patient_id, b.patient_id);
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.system, b.system);
  EXPECT_EQ(a.code, b.code);
  EXPECT_EQ(a.term, b.term);
  EXPECT_EQ(a.date, b.date);
  EXPECT_EQ(a.source, b.source);
  EXPECT_EQ(a.activity_id, b.activity_id);
  EXPECT_EQ(a.value, b.value);
  EXPECT_EQ(a.unit, b.unit);
}

// cost_pence is not compared: it travels in a ChargeItem.
inline void ExpectSame(const Activity& a, const Activity& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.patient_id, b.patient_id);
  EXPECT_EQ(a.type, b.type);
  EXPECT_EQ(a.start, b.start);
  EXPECT_EQ(a.end, b.end);
  EXPECT_EQ(a.length_of_stay_days, b.length_of_stay_days);
  EXPECT_EQ(a.specialty, b.specialty);
  EXPECT_EQ(a.practice_id, b.practice_id);
}

inline void ExpectSame(const Medication& a, const Medication& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.patient_id, b.patient_id);
  EXPECT_EQ(a.system, b.system);
  EXPECT_EQ(a.code, b.code);
  EXPECT_EQ(a.term, b.term);
  EXPECT_EQ(a.start, b.start);
  EXPECT_EQ(a.end, b.end);
}

}  // namespace joinedup::fhir::testing
