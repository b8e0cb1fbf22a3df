#include "store/sql_store.h"

#include <utility>

#include "store/store_columns.h"

namespace joinedup::store {
namespace {

constexpr std::string_view kPatientColumns =
    "SELECT p.id, p.nhs_number, p.source_identifier, p.family_name, p.given_name, p.birth_date,"
    " p.sex, p.postcode_district, p.deprivation_decile, p.practice_id, p.death_date"
    " FROM patients p ";

Result<Patient> DecodePatient(const SqlRow& row) {
  Patient p;
  p.id = row.Text(0);
  if (!row.IsNull(1)) {
    auto nhs = NhsNumber::Parse(row.Text(1));
    if (!nhs.ok())
      return Error::Internal("store: Patient/" + p.id + " has a malformed NHS number: " +
                             nhs.error().message);
    p.nhs_number = std::move(nhs).value();
  }
  p.source_identifier = row.Text(2);
  p.family_name = row.Text(3);
  p.given_name = row.Text(4);
  p.birth_date = Date::FromDays(static_cast<int32_t>(row.Int(5)));
  JU_ASSIGN_OR_RETURN(p.sex, EnumFromOrdinal<Sex>(row.Int(6), 4, "patients.sex"));
  p.postcode_district = row.Text(7);
  p.deprivation_decile = static_cast<int>(row.Int(8));
  p.practice_id = row.Text(9);
  if (!row.IsNull(10)) p.death_date = Date::FromDays(static_cast<int32_t>(row.Int(10)));
  return p;
}

constexpr std::string_view kActivityColumns =
    "SELECT a.id, p.id, a.type, a.start_date, a.end_date, a.length_of_stay_days, a.cost_pence,"
    " a.specialty, a.practice_id"
    " FROM activities a JOIN patients p ON p.key = a.patient_key ";

Result<Activity> DecodeActivity(const SqlRow& row) {
  Activity a;
  a.id = row.Text(0);
  a.patient_id = row.Text(1);
  JU_ASSIGN_OR_RETURN(a.type, EnumFromOrdinal<ActivityType>(row.Int(2), kActivityTypeCount,
                                                            "activities.type"));
  a.start = Date::FromDays(static_cast<int32_t>(row.Int(3)));
  if (!row.IsNull(4)) a.end = Date::FromDays(static_cast<int32_t>(row.Int(4)));
  a.length_of_stay_days = static_cast<int>(row.Int(5));
  a.cost_pence = row.Int(6);
  a.specialty = row.Text(7);
  a.practice_id = row.Text(8);
  return a;
}

// Callback collecting decoded rows into a vector.
template <typename T, typename Decode>
auto Collect(std::vector<T>& out, Decode decode) {
  return [&out, decode](const SqlRow& row) -> Status {
    JU_ASSIGN_OR_RETURN(T value, decode(row));
    out.push_back(std::move(value));
    return Ok();
  };
}

std::string Concat(std::string_view a, std::string_view b) {
  std::string s(a);
  s += b;
  return s;
}

}  // namespace

Result<TableCounts> SqlStore::Counts() {
  TableCounts counts;
  JU_RETURN_IF_ERROR(Query(
      "SELECT (SELECT COUNT(*) FROM practices), (SELECT COUNT(*) FROM patients),"
      " (SELECT COUNT(*) FROM events), (SELECT COUNT(*) FROM activities),"
      " (SELECT COUNT(*) FROM medications)",
      {}, [&](const SqlRow& row) -> Status {
        counts = {row.Int(0), row.Int(1), row.Int(2), row.Int(3), row.Int(4)};
        return Ok();
      }));
  return counts;
}

Result<std::vector<Practice>> SqlStore::Practices() {
  std::vector<Practice> out;
  JU_RETURN_IF_ERROR(Query("SELECT id, name, pch, postcode_district FROM practices ORDER BY id",
                           {}, [&](const SqlRow& row) -> Status {
                             out.push_back({std::string(row.Text(0)), std::string(row.Text(1)),
                                            std::string(row.Text(2)), std::string(row.Text(3))});
                             return Ok();
                           }));
  return out;
}

Result<std::optional<Patient>> SqlStore::FindOnePatient(std::string_view where,
                                                        const SqlParam& param) {
  std::optional<Patient> found;
  JU_RETURN_IF_ERROR(Query(Concat(kPatientColumns, where), {&param, 1},
                           [&](const SqlRow& row) -> Status {
                             JU_ASSIGN_OR_RETURN(found, DecodePatient(row));
                             return Ok();
                           }));
  return found;
}

Result<std::optional<Patient>> SqlStore::FindPatient(std::string_view id) {
  return FindOnePatient("WHERE p.id = ?1", SqlParam::Text(id));
}

Result<std::optional<Patient>> SqlStore::FindPatientByNhsNumber(const NhsNumber& nhs_number) {
  return FindOnePatient("WHERE p.nhs_number = ?1", SqlParam::Text(nhs_number.digits()));
}

Result<std::vector<ClinicalEvent>> SqlStore::EventsForPatient(std::string_view patient_id) {
  std::vector<ClinicalEvent> out;
  const SqlParam param = SqlParam::Text(patient_id);
  JU_RETURN_IF_ERROR(Query(
      "SELECT e.id, p.id, e.kind, c.code_system, c.code, c.term, e.date, e.source,"
      " e.admission_method, a.id, e.value, e.unit"
      " FROM events e JOIN patients p ON p.key = e.patient_key"
      " JOIN concepts c ON c.key = e.concept_key"
      " LEFT JOIN activities a ON a.key = e.activity_key"
      " WHERE p.id = ?1 ORDER BY e.date, e.id",
      {&param, 1}, Collect(out, [](const SqlRow& row) -> Result<ClinicalEvent> {
        ClinicalEvent e;
        e.id = row.Text(0);
        e.patient_id = row.Text(1);
        JU_ASSIGN_OR_RETURN(e.kind, EnumFromOrdinal<EventKind>(row.Int(2), 2, "events.kind"));
        JU_ASSIGN_OR_RETURN(e.system, EnumFromOrdinal<CodeSystem>(row.Int(3), kCodeSystemCount,
                                                                  "concepts.code_system"));
        e.code = row.Text(4);
        e.term = row.Text(5);
        e.date = Date::FromDays(static_cast<int32_t>(row.Int(6)));
        JU_ASSIGN_OR_RETURN(e.source,
                            EnumFromOrdinal<EventSource>(row.Int(7), 2, "events.source"));
        JU_ASSIGN_OR_RETURN(e.admission_method, EnumFromOrdinal<AdmissionMethod>(
                                                    row.Int(8), 5, "events.admission_method"));
        e.activity_id = row.Text(9);
        if (!row.IsNull(10)) e.value = row.Real(10);
        e.unit = row.Text(11);
        return e;
      })));
  return out;
}

Result<std::optional<Activity>> SqlStore::FindActivity(std::string_view id) {
  std::optional<Activity> found;
  const SqlParam param = SqlParam::Text(id);
  JU_RETURN_IF_ERROR(Query(Concat(kActivityColumns, "WHERE a.id = ?1"), {&param, 1},
                           [&](const SqlRow& row) -> Status {
                             JU_ASSIGN_OR_RETURN(found, DecodeActivity(row));
                             return Ok();
                           }));
  return found;
}

Result<std::vector<Activity>> SqlStore::ActivitiesForPatient(std::string_view patient_id) {
  std::vector<Activity> out;
  const SqlParam param = SqlParam::Text(patient_id);
  JU_RETURN_IF_ERROR(Query(Concat(kActivityColumns, "WHERE p.id = ?1 ORDER BY a.start_date, a.id"),
                           {&param, 1}, Collect(out, DecodeActivity)));
  return out;
}

Result<std::vector<Medication>> SqlStore::MedicationsForPatient(std::string_view patient_id) {
  std::vector<Medication> out;
  const SqlParam param = SqlParam::Text(patient_id);
  JU_RETURN_IF_ERROR(Query(
      "SELECT m.id, p.id, c.code_system, c.code, c.term, m.start_date, m.end_date"
      " FROM medications m JOIN patients p ON p.key = m.patient_key"
      " JOIN concepts c ON c.key = m.concept_key"
      " WHERE p.id = ?1 ORDER BY m.start_date, m.id",
      {&param, 1}, Collect(out, [](const SqlRow& row) -> Result<Medication> {
        Medication m;
        m.id = row.Text(0);
        m.patient_id = row.Text(1);
        JU_ASSIGN_OR_RETURN(m.system, EnumFromOrdinal<CodeSystem>(row.Int(2), kCodeSystemCount,
                                                                  "concepts.code_system"));
        m.code = row.Text(3);
        m.term = row.Text(4);
        m.start = Date::FromDays(static_cast<int32_t>(row.Int(5)));
        if (!row.IsNull(6)) m.end = Date::FromDays(static_cast<int32_t>(row.Int(6)));
        return m;
      })));
  return out;
}

Status SqlStore::ScanPatients(const std::function<Status(const Patient&)>& fn) {
  // Keyset pages rather than one open cursor: memory stays bounded on millions of patients,
  // and `fn` may itself call the store (a PostgreSQL connection runs one query at a time).
  constexpr int64_t kPageSize = 2000;
  const std::string first_page =
      Concat(kPatientColumns, "ORDER BY p.id LIMIT " + std::to_string(kPageSize));
  const std::string next_page =
      Concat(kPatientColumns, "WHERE p.id > ?1 ORDER BY p.id LIMIT " + std::to_string(kPageSize));
  std::vector<Patient> page;
  std::string last_id;
  for (bool first = true;; first = false) {
    page.clear();
    const SqlParam after = SqlParam::Text(last_id);
    JU_RETURN_IF_ERROR(Query(first ? first_page : next_page,
                             first ? std::span<const SqlParam>() : std::span(&after, 1),
                             Collect(page, DecodePatient)));
    for (const Patient& patient : page) JU_RETURN_IF_ERROR(fn(patient));
    if (static_cast<int64_t>(page.size()) < kPageSize) return Ok();
    last_id = page.back().id;
  }
}

Result<std::vector<CodeFrequency>> SqlStore::TopConditionCodes(int limit) {
  std::vector<CodeFrequency> out;
  if (limit <= 0) return out;
  // A code recorded with several display terms is one code: group by (system, code) and
  // show the greatest term, which prefers a real term over an empty one.
  const SqlParam param = SqlParam::Int(limit);
  JU_RETURN_IF_ERROR(Query(
      "SELECT c.code_system, c.code, MAX(c.term), COUNT(DISTINCT e.patient_key) AS people"
      " FROM events e JOIN concepts c ON c.key = e.concept_key"
      " JOIN patients p ON p.key = e.patient_key"
      " WHERE e.kind = 0 AND p.death_date IS NULL"
      " GROUP BY c.code_system, c.code"
      " ORDER BY people DESC, c.code_system, c.code LIMIT ?1",
      {&param, 1}, Collect(out, [](const SqlRow& row) -> Result<CodeFrequency> {
        CodeFrequency f;
        JU_ASSIGN_OR_RETURN(f.system, EnumFromOrdinal<CodeSystem>(row.Int(0), kCodeSystemCount,
                                                                  "concepts.code_system"));
        f.code = row.Text(1);
        f.term = row.Text(2);
        f.patients = row.Int(3);
        return f;
      })));
  return out;
}

}  // namespace joinedup::store
