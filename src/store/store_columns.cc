#include "store/store_columns.h"

#include <cmath>
#include <cstring>
#include <initializer_list>

namespace joinedup::store {
namespace {

// PostgreSQL text cannot hold NUL; refusing it in both backends keeps them interchangeable.
Status CheckText(std::string_view record, std::string_view id,
                 std::initializer_list<std::pair<std::string_view, std::string_view>> fields) {
  for (const auto& [name, value] : fields) {
    if (std::memchr(value.data(), '\0', value.size()) != nullptr)
      return Error::Invalid(std::string(record) + "/" + std::string(id) + ": " + std::string(name) +
                            " contains a NUL character");
  }
  return Ok();
}

Status CheckId(std::string_view record, std::string_view id) {
  if (id.empty()) return Error::Invalid(std::string(record) + ": id is empty");
  return Ok();
}

template <typename Enum>
Status CheckEnum(std::string_view record, std::string_view id, std::string_view field, Enum e,
                 int count) {
  if (Ordinal(e) < 0 || Ordinal(e) >= count)
    return Error::Invalid(std::string(record) + "/" + std::string(id) + ": " + std::string(field) +
                          " is out of range");
  return Ok();
}

}  // namespace

Status ValidateForStore(const Practice& practice) {
  JU_RETURN_IF_ERROR(CheckId("Organization", practice.id));
  return CheckText("Organization", practice.id,
                   {{"id", practice.id},
                    {"name", practice.name},
                    {"pch", practice.pch},
                    {"postcode_district", practice.postcode_district}});
}

Status ValidateForStore(const Patient& patient) {
  JU_RETURN_IF_ERROR(CheckId("Patient", patient.id));
  if (patient.deprivation_decile < 0 || patient.deprivation_decile > 10)
    return Error::Invalid("Patient/" + patient.id + ": deprivation_decile " +
                          std::to_string(patient.deprivation_decile) + " is not 0..10");
  JU_RETURN_IF_ERROR(CheckEnum("Patient", patient.id, "sex", patient.sex, 4));
  return CheckText("Patient", patient.id,
                   {{"id", patient.id},
                    {"source_identifier", patient.source_identifier},
                    {"family_name", patient.family_name},
                    {"given_name", patient.given_name},
                    {"postcode_district", patient.postcode_district},
                    {"practice_id", patient.practice_id}});
}

Status ValidateForStore(const ClinicalEvent& event) {
  JU_RETURN_IF_ERROR(CheckId("ClinicalEvent", event.id));
  JU_RETURN_IF_ERROR(CheckEnum("ClinicalEvent", event.id, "kind", event.kind, 2));
  JU_RETURN_IF_ERROR(
      CheckEnum("ClinicalEvent", event.id, "system", event.system, kCodeSystemCount));
  JU_RETURN_IF_ERROR(CheckEnum("ClinicalEvent", event.id, "source", event.source, 2));
  JU_RETURN_IF_ERROR(
      CheckEnum("ClinicalEvent", event.id, "admission_method", event.admission_method, 5));
  // SQLite would silently store NaN as NULL; keep both backends exact by refusing it.
  if (event.value && !std::isfinite(*event.value))
    return Error::Invalid("ClinicalEvent/" + event.id + ": value is not a finite number");
  return CheckText("ClinicalEvent", event.id,
                   {{"id", event.id},
                    {"patient_id", event.patient_id},
                    {"code", event.code},
                    {"term", event.term},
                    {"activity_id", event.activity_id},
                    {"unit", event.unit}});
}

Status ValidateForStore(const Activity& activity) {
  JU_RETURN_IF_ERROR(CheckId("Activity", activity.id));
  JU_RETURN_IF_ERROR(CheckEnum("Activity", activity.id, "type", activity.type, kActivityTypeCount));
  return CheckText("Activity", activity.id,
                   {{"id", activity.id},
                    {"patient_id", activity.patient_id},
                    {"specialty", activity.specialty},
                    {"practice_id", activity.practice_id}});
}

Status ValidateForStore(const Medication& medication) {
  JU_RETURN_IF_ERROR(CheckId("Medication", medication.id));
  JU_RETURN_IF_ERROR(
      CheckEnum("Medication", medication.id, "system", medication.system, kCodeSystemCount));
  return CheckText("Medication", medication.id,
                   {{"id", medication.id},
                    {"patient_id", medication.patient_id},
                    {"code", medication.code},
                    {"term", medication.term}});
}

}  // namespace joinedup::store
