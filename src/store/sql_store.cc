#include "store/sql_store.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <mutex>
#include <unordered_map>
#include <utility>

#include "store/store_columns.h"

namespace joinedup::store {
namespace {

constexpr std::string_view kPatientColumns =
    "SELECT p.id, p.nhs_number, p.source_identifier, p.family_name, p.given_name, p.birth_date,"
    " p.sex, p.postcode_district, p.deprivation_decile, p.practice_id, p.death_date"
    " FROM patients p ";

}  // namespace

Result<ClinicalEvent> DecodeEvent(const SqlRow& row) {
  ClinicalEvent e;
  e.id = row.Text(0);
  e.patient_id = row.Text(1);
  JU_ASSIGN_OR_RETURN(e.kind, EnumFromOrdinal<EventKind>(row.Int(2), 2, "events.kind"));
  JU_ASSIGN_OR_RETURN(
      e.system, EnumFromOrdinal<CodeSystem>(row.Int(3), kCodeSystemCount, "concepts.code_system"));
  e.code = row.Text(4);
  e.term = row.Text(5);
  e.date = Date::FromDays(static_cast<int32_t>(row.Int(6)));
  JU_ASSIGN_OR_RETURN(e.source, EnumFromOrdinal<EventSource>(row.Int(7), 2, "events.source"));
  JU_ASSIGN_OR_RETURN(e.admission_method,
                      EnumFromOrdinal<AdmissionMethod>(row.Int(8), 5, "events.admission_method"));
  e.activity_id = row.Text(9);
  if (!row.IsNull(10)) e.value = row.Real(10);
  e.unit = row.Text(11);
  return e;
}

Result<Medication> DecodeMedication(const SqlRow& row) {
  Medication m;
  m.id = row.Text(0);
  m.patient_id = row.Text(1);
  JU_ASSIGN_OR_RETURN(
      m.system, EnumFromOrdinal<CodeSystem>(row.Int(2), kCodeSystemCount, "concepts.code_system"));
  m.code = row.Text(3);
  m.term = row.Text(4);
  m.start = Date::FromDays(static_cast<int32_t>(row.Int(5)));
  if (!row.IsNull(6)) m.end = Date::FromDays(static_cast<int32_t>(row.Int(6)));
  return m;
}

Result<Patient> DecodePatient(const SqlRow& row) {
  Patient p;
  p.id = row.Text(0);
  if (!row.IsNull(1)) {
    auto nhs = NhsNumber::Parse(row.Text(1));
    if (!nhs.ok())
      return Error::Internal("store: Patient/" + p.id +
                             " has a malformed NHS number: " + nhs.error().message);
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

namespace {

constexpr std::string_view kActivityColumns =
    "SELECT a.id, p.id, a.type, a.start_date, a.end_date, a.length_of_stay_days, a.cost_pence,"
    " a.specialty, a.practice_id"
    " FROM activities a JOIN patients p ON p.key = a.patient_key ";

}  // namespace

Result<Activity> DecodeActivity(const SqlRow& row) {
  Activity a;
  a.id = row.Text(0);
  a.patient_id = row.Text(1);
  JU_ASSIGN_OR_RETURN(
      a.type, EnumFromOrdinal<ActivityType>(row.Int(2), kActivityTypeCount, "activities.type"));
  a.start = Date::FromDays(static_cast<int32_t>(row.Int(3)));
  if (!row.IsNull(4)) a.end = Date::FromDays(static_cast<int32_t>(row.Int(4)));
  a.length_of_stay_days = static_cast<int>(row.Int(5));
  a.cost_pence = row.Int(6);
  a.specialty = row.Text(7);
  a.practice_id = row.Text(8);
  return a;
}

namespace {

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

void SqlStore::ShareDatabase(const std::string& key) {
  if (key.empty()) return;
  // Weak: the entry lives as long as some store on that database does.
  static std::mutex registry_mutex;
  static std::unordered_map<std::string, std::weak_ptr<SharedDatabase>> registry;
  std::lock_guard lock(registry_mutex);
  std::erase_if(registry, [](const auto& entry) { return entry.second.expired(); });
  std::weak_ptr<SharedDatabase>& entry = registry[key];
  if (auto existing = entry.lock()) {
    shared_ = std::move(existing);
  } else {
    entry = shared_;
  }
}

Result<TableCounts> SqlStore::Counts() {
  TableCounts counts;
  JU_RETURN_IF_ERROR(
      Query("SELECT (SELECT COUNT(*) FROM practices), (SELECT COUNT(*) FROM patients),"
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
  JU_RETURN_IF_ERROR(Query("SELECT id, name, pch, postcode_district FROM practices ORDER BY id", {},
                           [&](const SqlRow& row) -> Status {
                             out.push_back({std::string(row.Text(0)), std::string(row.Text(1)),
                                            std::string(row.Text(2)), std::string(row.Text(3))});
                             return Ok();
                           }));
  return out;
}

Result<std::optional<Patient>> SqlStore::FindOnePatient(std::string_view where,
                                                        const SqlParam& param) {
  std::optional<Patient> found;
  JU_RETURN_IF_ERROR(
      Query(Concat(kPatientColumns, where), {&param, 1}, [&](const SqlRow& row) -> Status {
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
  JU_RETURN_IF_ERROR(
      Query("SELECT e.id, p.id, e.kind, c.code_system, c.code, c.term, e.date, e.source,"
            " e.admission_method, a.id, e.value, e.unit"
            " FROM events e JOIN patients p ON p.key = e.patient_key"
            " JOIN concepts c ON c.key = e.concept_key"
            " LEFT JOIN activities a ON a.key = e.activity_key"
            " WHERE p.id = ?1 ORDER BY e.date, e.id",
            {&param, 1}, Collect(out, DecodeEvent)));
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
  JU_RETURN_IF_ERROR(
      Query("SELECT m.id, p.id, c.code_system, c.code, c.term, m.start_date, m.end_date"
            " FROM medications m JOIN patients p ON p.key = m.patient_key"
            " JOIN concepts c ON c.key = m.concept_key"
            " WHERE p.id = ?1 ORDER BY m.start_date, m.id",
            {&param, 1}, Collect(out, DecodeMedication)));
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

Result<std::vector<RegisteredPerson>> SqlStore::RegisteredPeople() {
  std::vector<RegisteredPerson> out;
  JU_RETURN_IF_ERROR(Query(
      "SELECT key, practice_id, birth_date, sex, death_date FROM patients ORDER BY key", {},
      [&](const SqlRow& row) -> Status {
        RegisteredPerson& p = out.emplace_back();
        p.patient_key = row.Int(0);
        if (!row.IsNull(1)) p.practice_id = row.Text(1);
        p.birth_date = Date::FromDays(static_cast<int32_t>(row.Int(2)));
        JU_ASSIGN_OR_RETURN(p.sex, EnumFromOrdinal<Sex>(row.Int(3), 4, "patients.sex"));
        if (!row.IsNull(4)) p.death_date = Date::FromDays(static_cast<int32_t>(row.Int(4)));
        return Ok();
      }));
  return out;
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

// ---- Stratification runs ----------------------------------------------------------------------

void EncodeSegments(const PersonRunResult& result, std::string& out) {
  out.clear();
  auto put = [&](int16_t value) {
    const auto bits = static_cast<uint16_t>(value);
    out += static_cast<char>(bits & 0xff);
    out += static_cast<char>(bits >> 8);
  };
  for (size_t m = 0; m < result.segment.size(); ++m) {
    put(result.segment[m]);
    put(result.rule[m]);
  }
}

Status DecodeSegments(std::string_view bytes, size_t models, PersonRunResult& out) {
  if (bytes.size() != 4 * models)
    return Error::Internal("store: stratification_results.segments holds " +
                           std::to_string(bytes.size()) + " bytes, not 4 for each of " +
                           std::to_string(models) + " models");
  auto get = [&](size_t at) {
    const auto low = static_cast<uint8_t>(bytes[at]);
    const auto high = static_cast<uint8_t>(bytes[at + 1]);
    return static_cast<int16_t>(static_cast<uint16_t>(low | (high << 8)));
  };
  out.segment.resize(models);
  out.rule.resize(models);
  for (size_t m = 0; m < models; ++m) {
    out.segment[m] = get(4 * m);
    out.rule[m] = get(4 * m + 2);
  }
  return Ok();
}

namespace {

std::string At(size_t index) { return "results[" + std::to_string(index) + "]: "; }

Status CheckRunText(std::string_view what, std::string_view text) {
  if (std::memchr(text.data(), '\0', text.size()) != nullptr)
    return Error::Invalid("stratification run: " + std::string(what) + " contains a NUL character");
  return Ok();
}

}  // namespace

Result<std::vector<uint32_t>> CheckRunResults(const StratificationRun& run,
                                              std::span<const PersonRunResult> results) {
  const size_t models = run.models.size();
  if (models > 16'000) return Error::Invalid("stratification run: too many models");
  if (results.size() > UINT32_MAX) return Error::TooLarge("stratification run: too many results");
  for (const SegmentationModelInfo& model : run.models) {
    JU_RETURN_IF_ERROR(CheckRunText("a model name", model.name));
    JU_RETURN_IF_ERROR(CheckRunText("model " + model.name + "'s version", model.version));
    for (const std::string& label : model.segments)
      JU_RETURN_IF_ERROR(CheckRunText("a segment label of model " + model.name, label));
  }
  for (size_t i = 0; i < results.size(); ++i) {
    const PersonRunResult& r = results[i];
    if (r.segment.size() != models || r.rule.size() != models)
      return Error::Invalid(At(i) + "has " + std::to_string(r.segment.size()) + " segments and " +
                            std::to_string(r.rule.size()) + " rules, but the run has " +
                            std::to_string(models) + " models");
    for (size_t m = 0; m < models; ++m) {
      const auto segments = static_cast<int64_t>(run.models[m].segments.size());
      if (r.segment[m] < kOutsidePopulation || r.segment[m] >= segments)
        return Error::Invalid(At(i) + "segment " + std::to_string(r.segment[m]) + " of model " +
                              run.models[m].name +
                              " is not -2 (outside its population), -1 (no "
                              "segment) or one of its " +
                              std::to_string(segments) + " segments");
      if (r.rule[m] < -1)
        return Error::Invalid(At(i) + "rule " + std::to_string(r.rule[m]) + " of model " +
                              run.models[m].name + " is below -1");
    }
    // SQLite would store NaN as NULL; refuse it so both backends round-trip exactly.
    if (!std::isfinite(r.admission_risk))
      return Error::Invalid(At(i) + "admission_risk is not a finite number");
  }
  std::vector<uint32_t> order(results.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<uint32_t>(i);
  // Stable, so of two results for one person the earlier comes first and the later is named.
  std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    return results[a].patient_key < results[b].patient_key;
  });
  for (size_t k = 1; k < order.size(); ++k) {
    if (results[order[k]].patient_key == results[order[k - 1]].patient_key)
      return Error::Invalid(At(order[k]) + "repeats patient_key " +
                            std::to_string(results[order[k]].patient_key) + " of results[" +
                            std::to_string(order[k - 1]) + "]");
  }
  return order;
}

Status SqlStore::CheckPatientKeys(std::span<const PersonRunResult> results,
                                  std::span<const uint32_t> order) {
  auto unknown = [&](uint32_t i) {
    return Error::NotFound(At(i) + "patient_key " + std::to_string(results[i].patient_key) +
                           " is not a known patient");
  };
  // A few results: look each up. Many: read every key once, in order, and walk both lists.
  if (order.size() <= 1000) {
    for (uint32_t i : order) {
      bool found = false;
      const SqlParam key = SqlParam::Int(results[i].patient_key);
      JU_RETURN_IF_ERROR(
          Query("SELECT 1 FROM patients WHERE key = ?1", {&key, 1}, [&](const SqlRow&) -> Status {
            found = true;
            return Ok();
          }));
      if (!found) return unknown(i);
    }
    return Ok();
  }
  std::vector<int64_t> keys;
  JU_RETURN_IF_ERROR(
      Query("SELECT key FROM patients ORDER BY key", {}, [&](const SqlRow& row) -> Status {
        keys.push_back(row.Int(0));
        return Ok();
      }));
  size_t at = 0;
  for (uint32_t i : order) {
    const int64_t wanted = results[i].patient_key;
    while (at < keys.size() && keys[at] < wanted) ++at;
    if (at == keys.size() || keys[at] != wanted) return unknown(i);
  }
  return Ok();
}

Result<int64_t> SqlStore::InsertRun(const StratificationRun& run) {
  int64_t id = 0;
  const SqlParam header[] = {SqlParam::Int(run.index_date.days_since_epoch()),
                             SqlParam::Int(run.people)};
  JU_RETURN_IF_ERROR(
      Query("INSERT INTO stratification_runs (index_date, people) VALUES (?1, ?2) RETURNING id",
            header, [&](const SqlRow& row) -> Status {
              id = row.Int(0);
              return Ok();
            }));
  auto ignore = [](const SqlRow&) { return Ok(); };
  for (size_t m = 0; m < run.models.size(); ++m) {
    const SegmentationModelInfo& model = run.models[m];
    const SqlParam params[] = {SqlParam::Int(id), SqlParam::Int(static_cast<int64_t>(m)),
                               SqlParam::Text(model.name), SqlParam::Text(model.version)};
    JU_RETURN_IF_ERROR(
        Query("INSERT INTO stratification_run_models (run_id, model_index, name,"
              " version) VALUES (?1, ?2, ?3, ?4)",
              params, ignore));
    for (size_t s = 0; s < model.segments.size(); ++s) {
      const SqlParam label[] = {SqlParam::Int(id), SqlParam::Int(static_cast<int64_t>(m)),
                                SqlParam::Int(static_cast<int64_t>(s)),
                                SqlParam::Text(model.segments[s])};
      JU_RETURN_IF_ERROR(
          Query("INSERT INTO stratification_run_segments (run_id, model_index,"
                " segment_index, label) VALUES (?1, ?2, ?3, ?4)",
                label, ignore));
    }
  }
  return id;
}

Result<std::vector<StratificationRun>> SqlStore::LoadRuns(std::string_view where,
                                                          std::span<const SqlParam> params) {
  std::vector<StratificationRun> runs;
  std::unordered_map<int64_t, size_t> by_id;
  JU_RETURN_IF_ERROR(Query(Concat("SELECT id, created_at, index_date, people"
                                  " FROM stratification_runs ",
                                  Concat(where, " ORDER BY id DESC")),
                           params, [&](const SqlRow& row) -> Status {
                             StratificationRun& run = runs.emplace_back();
                             run.id = row.Int(0);
                             run.created_at = row.Text(1);
                             run.index_date = Date::FromDays(static_cast<int32_t>(row.Int(2)));
                             run.people = row.Int(3);
                             by_id.emplace(run.id, runs.size() - 1);
                             return Ok();
                           }));
  if (runs.empty()) return runs;
  // The same filter on the child tables, whose run column is run_id.
  std::string child_where(where);
  if (!child_where.empty()) child_where = "WHERE run_id = ?1";
  auto run_of = [&](int64_t id) -> Result<StratificationRun*> {
    auto it = by_id.find(id);
    if (it == by_id.end())
      return Error::Internal("store: a stratification model names run " + std::to_string(id) +
                             ", which is not stored");
    return &runs[it->second];
  };
  JU_RETURN_IF_ERROR(
      Query(Concat("SELECT run_id, model_index, name, version"
                   " FROM stratification_run_models ",
                   Concat(child_where, " ORDER BY run_id, model_index")),
            params, [&](const SqlRow& row) -> Status {
              JU_ASSIGN_OR_RETURN(StratificationRun * run, run_of(row.Int(0)));
              if (row.Int(1) != static_cast<int64_t>(run->models.size()))
                return Error::Internal("store: run " + std::to_string(run->id) +
                                       " has a gap in its models");
              run->models.push_back({std::string(row.Text(2)), std::string(row.Text(3)), {}});
              return Ok();
            }));
  JU_RETURN_IF_ERROR(Query(
      Concat("SELECT run_id, model_index, segment_index, label FROM stratification_run_segments ",
             Concat(child_where, " ORDER BY run_id, model_index, segment_index")),
      params, [&](const SqlRow& row) -> Status {
        JU_ASSIGN_OR_RETURN(StratificationRun * run, run_of(row.Int(0)));
        const int64_t m = row.Int(1);
        if (m < 0 || m >= static_cast<int64_t>(run->models.size()) ||
            row.Int(2) != static_cast<int64_t>(run->models[static_cast<size_t>(m)].segments.size()))
          return Error::Internal("store: run " + std::to_string(run->id) +
                                 " has a gap in its segment labels");
        run->models[static_cast<size_t>(m)].segments.emplace_back(row.Text(3));
        return Ok();
      }));
  return runs;
}

Result<std::vector<StratificationRun>> SqlStore::Runs() { return LoadRuns("", {}); }

Result<std::optional<StratificationRun>> SqlStore::FindRun(int64_t id) {
  const SqlParam param = SqlParam::Int(id);
  JU_ASSIGN_OR_RETURN(std::vector<StratificationRun> runs, LoadRuns("WHERE id = ?1", {&param, 1}));
  if (runs.empty()) return std::optional<StratificationRun>();
  return std::optional<StratificationRun>(std::move(runs.front()));
}

const std::string_view kResultColumns =
    "s.patient_key, s.ltc_count, s.efi_deficits, s.hfrs_tenths, s.charlson_1987,"
    " s.charlson_quan2011, s.elixhauser, s.admission_risk, s.cost_12m_pence, s.segments";

// Decodes kResultColumns starting at column `at`.
Result<PersonRunResult> DecodeResult(const SqlRow& row, int at, size_t models) {
  PersonRunResult r;
  r.patient_key = row.Int(at);
  auto small = [&](int column) { return static_cast<int16_t>(row.Int(at + column)); };
  r.ltc_count = small(1);
  r.efi_deficits = small(2);
  r.hfrs_tenths = small(3);
  r.charlson_1987 = small(4);
  r.charlson_quan2011 = small(5);
  r.elixhauser = small(6);
  // Stored as the double the float widened to, so narrowing gives back the same float.
  r.admission_risk = static_cast<float>(row.Real(at + 7));
  r.cost_12m_pence = row.Int(at + 8);
  JU_RETURN_IF_ERROR(DecodeSegments(row.Blob(at + 9), models, r));
  return r;
}

Result<std::vector<PersonRunResult>> SqlStore::RunResults(int64_t run_id) {
  JU_ASSIGN_OR_RETURN(std::optional<StratificationRun> run, FindRun(run_id));
  if (!run)
    return Error::NotFound("stratification run " + std::to_string(run_id) + " is not known");
  const size_t models = run->models.size();
  std::vector<PersonRunResult> out;
  out.reserve(static_cast<size_t>(std::max<int64_t>(run->people, 0)));
  const SqlParam param = SqlParam::Int(run_id);
  JU_RETURN_IF_ERROR(Query(Concat(Concat("SELECT ", kResultColumns),
                                  " FROM stratification_results s WHERE s.run_id = ?1"
                                  " ORDER BY s.patient_key"),
                           {&param, 1}, [&](const SqlRow& row) -> Status {
                             JU_ASSIGN_OR_RETURN(PersonRunResult r, DecodeResult(row, 0, models));
                             out.push_back(std::move(r));
                             return Ok();
                           }));
  return out;
}

Result<std::vector<std::pair<StratificationRun, PersonRunResult>>> SqlStore::PersonHistory(
    int64_t patient_key) {
  JU_ASSIGN_OR_RETURN(std::vector<StratificationRun> runs, Runs());
  std::unordered_map<int64_t, const StratificationRun*> by_id;
  for (const StratificationRun& run : runs) by_id.emplace(run.id, &run);
  std::vector<std::pair<StratificationRun, PersonRunResult>> out;
  const SqlParam param = SqlParam::Int(patient_key);
  // Runs first (CROSS JOIN fixes SQLite's join order): one primary key seek per run.
  JU_RETURN_IF_ERROR(Query(
      Concat(Concat("SELECT r.id, ", kResultColumns),
             " FROM stratification_runs r CROSS JOIN stratification_results s"
             " WHERE s.run_id = r.id AND s.patient_key = ?1 ORDER BY r.id"),
      {&param, 1}, [&](const SqlRow& row) -> Status {
        auto it = by_id.find(row.Int(0));
        if (it == by_id.end())
          return Error::Internal("store: a result names a run that appeared meanwhile");
        JU_ASSIGN_OR_RETURN(PersonRunResult r, DecodeResult(row, 1, it->second->models.size()));
        out.emplace_back(*it->second, std::move(r));
        return Ok();
      }));
  return out;
}

std::string ActivitiesFromCondition(Date from) {
  // Contacts (0, 4, 5, 6) carry no end; everything else without one is still open.
  static_assert(static_cast<int>(ActivityType::kGpAppointment) == 0 &&
                static_cast<int>(ActivityType::kOutpatientFirst) == 4 &&
                static_cast<int>(ActivityType::kOutpatientFollowUp) == 5 &&
                static_cast<int>(ActivityType::kCommunityNursing) == 6 &&
                static_cast<int>(ActivityType::kAeAttendance) == 1 &&
                static_cast<int>(ActivityType::kElectiveAdmission) == 3 &&
                kActivityTypeCount == 10);
  const std::string f = std::to_string(from.days_since_epoch());
  // Ranges rather than NOT IN: SQLite evaluates this on every row of the table, and an IN
  // list costs a lookup per row (measured: 3.5 s against 2.5 s of CPU for 36M rows).
  return "(start_date >= " + f + " OR end_date >= " + f +
         " OR (end_date IS NULL AND (type > 6 OR type BETWEEN 1 AND 3)))";
}

}  // namespace joinedup::store
