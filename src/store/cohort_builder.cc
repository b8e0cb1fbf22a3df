#include "store/cohort_builder.h"

#include <algorithm>
#include <atomic>
#include <span>
#include <thread>
#include <utility>

#include "store/store_columns.h"

namespace joinedup::store {
namespace {

Error BadRow(std::string_view table, std::string_view what) {
  return Error::Internal("store: a row of " + std::string(table) + " " + std::string(what));
}

Date Day(int64_t days) { return Date::FromDays(static_cast<int32_t>(days)); }
std::optional<Date> OptionalDay(std::optional<int64_t> days) {
  if (!days) return std::nullopt;
  return Day(*days);
}

// Stable: insertion sort for the short runs most people have, merge sort beyond.
template <typename Record, typename DateOf>
void SortByDate(std::span<Record> records, DateOf date_of) {
  auto before = [&](const Record& a, const Record& b) { return date_of(a) < date_of(b); };
  if (records.size() > 48) {
    std::stable_sort(records.begin(), records.end(), before);
    return;
  }
  for (size_t i = 1; i < records.size(); ++i) {
    if (!before(records[i], records[i - 1])) continue;
    Record moving = std::move(records[i]);
    size_t j = i;
    for (; j > 0 && before(moving, records[j - 1]); --j) records[j] = std::move(records[j - 1]);
    records[j] = std::move(moving);
  }
}

}  // namespace

void ParallelFor(int threads, int64_t n,
                 const std::function<void(int64_t begin, int64_t end)>& fn) {
  if (n <= 0) return;
  // Blocks of work handed out one at a time, so an uneven block does not stall the rest.
  const int64_t blocks = std::min<int64_t>(n, static_cast<int64_t>(std::max(threads, 1)) * 16);
  std::atomic<int64_t> next{0};
  auto work = [&] {
    for (int64_t b; (b = next.fetch_add(1)) < blocks;) fn(n * b / blocks, n * (b + 1) / blocks);
  };
  std::vector<std::jthread> helpers;
  for (int t = 1; t < std::min<int64_t>(threads, blocks); ++t) helpers.emplace_back(work);
  work();
}

// ---- KeyIndex ---------------------------------------------------------------------------------

void KeyIndex::Build(std::vector<int64_t> keys) {
  direct_.clear();
  sorted_.clear();
  if (keys.empty()) return;
  min_ = keys.front();
  const uint64_t span = static_cast<uint64_t>(keys.back() - keys.front()) + 1;
  // Direct when the table costs at most a few entries per key (4 bytes each, versus 8 for the
  // sorted keys and a binary search per lookup).
  if (span <= 4 * keys.size() + 1024) {
    direct_.assign(span, -1);
    for (size_t i = 0; i < keys.size(); ++i)
      direct_[static_cast<size_t>(keys[i] - min_)] = static_cast<int32_t>(i);
  } else {
    sorted_ = std::move(keys);
  }
}

int64_t KeyIndex::FindSorted(int64_t key) const {
  auto it = std::lower_bound(sorted_.begin(), sorted_.end(), key);
  if (it == sorted_.end() || *it != key) return -1;
  return it - sorted_.begin();
}

// ---- Phase 1 ----------------------------------------------------------------------------------

void CohortBuilder::AddPractice(Practice practice) {
  practice_index_.emplace(practice.id, static_cast<int32_t>(cohort_.practices.size()));
  cohort_.practices.push_back(std::move(practice));
}

Status CohortBuilder::AddConcept(int64_t key, int64_t system, std::string_view code) {
  JU_ASSIGN_OR_RETURN(CodeSystem code_system, EnumFromOrdinal<CodeSystem>(system, kCodeSystemCount,
                                                                          "concepts.code_system"));
  if (!concept_keys_.empty() && key <= concept_keys_.back())
    return BadRow("concepts", "came out of key order");
  std::string interned;
  interned.reserve(code.size() + 1);
  interned += static_cast<char>('0' + system);
  interned += code;
  auto [it, added] = concept_by_code_.try_emplace(std::move(interned),
                                                  static_cast<uint32_t>(cohort_.concepts.size()));
  if (added) cohort_.concepts.push_back({code_system, std::string(code)});
  concept_keys_.push_back(key);
  concept_of_key_.push_back(it->second);
  return Ok();
}

Status CohortBuilder::AddPerson(int64_t key, std::string_view id, std::string_view nhs_number,
                                std::string_view practice_id, int64_t birth_date, int64_t sex,
                                int64_t deprivation_decile, std::optional<int64_t> death_date) {
  if (!person_keys_.empty() && key <= person_keys_.back())
    return BadRow("patients", "came out of key order");
  Cohort::Person& person = cohort_.people.emplace_back();
  person.key = key;
  person.id = id;
  if (!nhs_number.empty()) {
    auto parsed = NhsNumber::Parse(nhs_number);
    if (!parsed.ok())
      return Error::Internal("store: Patient/" + person.id +
                             " has a malformed NHS number: " + parsed.error().message);
    person.nhs_number = std::move(parsed).value();
  }
  if (!practice_id.empty()) {
    // The schema's foreign key guarantees a match; -1 would only mean an unknown practice.
    if (auto it = practice_index_.find(practice_id); it != practice_index_.end())
      person.practice = it->second;
  }
  person.birth_date = Day(birth_date);
  JU_ASSIGN_OR_RETURN(person.sex, EnumFromOrdinal<Sex>(sex, 4, "patients.sex"));
  if (deprivation_decile < 0 || deprivation_decile > 10)
    return BadRow("patients", "has deprivation_decile " + std::to_string(deprivation_decile));
  person.deprivation_decile = static_cast<int8_t>(deprivation_decile);
  person.death_date = OptionalDay(death_date);
  person_keys_.push_back(key);
  return Ok();
}

void CohortBuilder::EndPeople() {
  people_.Build(std::move(person_keys_));
  concepts_.Build(std::move(concept_keys_));
}

void CohortBuilder::AllocateRows(uint64_t events, uint64_t activities, uint64_t medications) {
  auto size = [](auto& rows, uint64_t n) {
    rows.person.assign(n, kHole);
    rows.records.resize(n);
  };
  size(events_, events);
  size(activities_, activities);
  size(medications_, medications);
}

// ---- Phase 2 ----------------------------------------------------------------------------------

template <typename Record>
Status CohortBuilder::Rows<Record>::Check(uint64_t position, std::string_view table) const {
  if (position >= person.size() || person[position] != kHole)
    return BadRow(table, "was read at position " + std::to_string(position) +
                             ", outside the table's key range or twice");
  return Ok();
}

Result<uint32_t> CohortBuilder::Person(int64_t patient_key, std::string_view table) const {
  const int64_t index = people_.Find(patient_key);
  if (index < 0)
    return BadRow(
        table, "names patient key " + std::to_string(patient_key) + ", which is not in patients");
  return static_cast<uint32_t>(index);
}

Result<uint32_t> CohortBuilder::Concept(int64_t concept_key, std::string_view table) const {
  const int64_t index = concepts_.Find(concept_key);
  if (index < 0)
    return BadRow(
        table, "names concept key " + std::to_string(concept_key) + ", which is not in concepts");
  return concept_of_key_[static_cast<size_t>(index)];
}

Status CohortBuilder::SetEvent(uint64_t position, int64_t patient_key, int64_t concept_key,
                               int64_t date, int64_t kind, int64_t source, int64_t admission_method,
                               std::optional<double> value) {
  JU_RETURN_IF_ERROR(events_.Check(position, "events"));
  JU_ASSIGN_OR_RETURN(uint32_t person, Person(patient_key, "events"));
  Cohort::Event& event = events_.records[position];
  JU_ASSIGN_OR_RETURN(event.concept_id, Concept(concept_key, "events"));
  event.date = Day(date);
  JU_ASSIGN_OR_RETURN(event.kind, EnumFromOrdinal<EventKind>(kind, 2, "events.kind"));
  JU_ASSIGN_OR_RETURN(event.source, EnumFromOrdinal<EventSource>(source, 2, "events.source"));
  JU_ASSIGN_OR_RETURN(event.admission_method, EnumFromOrdinal<AdmissionMethod>(
                                                  admission_method, 5, "events.admission_method"));
  event.value = value;
  events_.person[position] = person;
  return Ok();
}

Status CohortBuilder::SetActivity(uint64_t position, int64_t patient_key, int64_t type,
                                  int64_t start, std::optional<int64_t> end,
                                  int64_t length_of_stay_days, int64_t cost_pence) {
  JU_RETURN_IF_ERROR(activities_.Check(position, "activities"));
  JU_ASSIGN_OR_RETURN(uint32_t person, Person(patient_key, "activities"));
  Cohort::Activity& activity = activities_.records[position];
  JU_ASSIGN_OR_RETURN(activity.type,
                      EnumFromOrdinal<ActivityType>(type, kActivityTypeCount, "activities.type"));
  activity.start = Day(start);
  activity.end = OptionalDay(end);
  activity.length_of_stay_days = static_cast<int32_t>(length_of_stay_days);
  activity.cost_pence = cost_pence;
  activities_.person[position] = person;
  return Ok();
}

Status CohortBuilder::SetMedication(uint64_t position, int64_t patient_key, int64_t concept_key,
                                    int64_t start, std::optional<int64_t> end) {
  JU_RETURN_IF_ERROR(medications_.Check(position, "medications"));
  JU_ASSIGN_OR_RETURN(uint32_t person, Person(patient_key, "medications"));
  Cohort::Medication& medication = medications_.records[position];
  JU_ASSIGN_OR_RETURN(medication.concept_id, Concept(concept_key, "medications"));
  medication.start = Day(start);
  medication.end = OptionalDay(end);
  medications_.person[position] = person;
  return Ok();
}

// ---- Finish -----------------------------------------------------------------------------------

namespace {

// Moves `records` (by position, person[i] the person of each; kHole marks none) into `out`
// grouped by person, fills `begin`, and sorts each person's records by date.
template <typename Record, typename DateOf>
void Group(size_t people, int threads, uint32_t hole, std::vector<uint32_t>& person,
           std::vector<Record>& records, std::vector<uint64_t>& begin, std::vector<Record>& out,
           DateOf date_of) {
  begin.assign(people + 1, 0);
  bool grouped = true;  // already person by person in position order, with no holes
  for (size_t i = 0; i < person.size(); ++i) {
    const uint32_t p = person[i];
    if (p == hole) {
      grouped = false;
      continue;
    }
    if (i > 0 && p < person[i - 1]) grouped = false;
    ++begin[p + 1];
  }
  for (size_t p = 0; p < people; ++p) begin[p + 1] += begin[p];
  if (grouped) {
    out = std::move(records);
  } else {
    // Counting sort: stable, so each person's records keep position order.
    out.resize(begin[people]);
    std::vector<uint64_t> cursor(begin.begin(), begin.end() - 1);
    for (size_t i = 0; i < person.size(); ++i)
      if (person[i] != hole) out[cursor[person[i]]++] = std::move(records[i]);
  }
  person = {};
  records = {};
  ParallelFor(threads, static_cast<int64_t>(people), [&](int64_t first, int64_t last) {
    for (int64_t p = first; p < last; ++p)
      SortByDate(std::span<Record>(out.data() + begin[static_cast<size_t>(p)],
                                   out.data() + begin[static_cast<size_t>(p) + 1]),
                 date_of);
  });
}

}  // namespace

Cohort CohortBuilder::Finish(int threads) {
  const size_t people = cohort_.people.size();
  Group(people, threads, kHole, events_.person, events_.records, cohort_.event_begin,
        cohort_.events, [](const Cohort::Event& e) { return e.date; });
  Group(people, threads, kHole, activities_.person, activities_.records, cohort_.activity_begin,
        cohort_.activities, [](const Cohort::Activity& a) { return a.start; });
  Group(people, threads, kHole, medications_.person, medications_.records, cohort_.medication_begin,
        cohort_.medications, [](const Cohort::Medication& m) { return m.start; });
  return std::move(cohort_);
}

}  // namespace joinedup::store
