#include "analytics/feature_engine.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <limits>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "analytics/charlson.h"
#include "analytics/code_lists.h"
#include "analytics/efi.h"
#include "analytics/elixhauser.h"
#include "analytics/hfrs.h"
#include "analytics/ltc_conditions.h"
#include "analytics/risk_model.h"

namespace joinedup::embedded {
std::string_view codes_efi_value_rules();
}  // namespace joinedup::embedded

namespace joinedup::analytics {
namespace {

constexpr size_t kChunkPeople = 4096;

// What one concept of Cohort::concepts means to every score, worked out once per run so that
// the per-person pass is integer work on masks.
struct ConceptInfo {
  uint64_t efi = 0;         // eFI deficits its code implies
  uint64_t ltc = 0;         // long-term conditions
  uint64_t charlson = 0;    // Charlson conditions matched (before the hierarchy)
  uint64_t elixhauser = 0;  // Elixhauser conditions matched
  int16_t hfrs = -1;        // HFRS category, -1 if none
  bool icd10 = false;
  bool efi_values = false;  // has eFI value rules: valued events are scored one by one
  uint32_t canonical = 0;   // the first concept with the same (system, code)
};

struct Context {
  const Cohort* cohort = nullptr;
  Date index;
  Date hfrs_from, comorbidity_from, year_before, extract;
  const EfiModel* efi = nullptr;
  const HfrsModel* hfrs = nullptr;
  const ComorbidityIndex* charlson = nullptr;
  const ComorbidityIndex* elixhauser = nullptr;
  const LtcList* ltc = nullptr;
  int requirement_for_care = -1;  // eFI deficit that is a coded social-care need
  std::vector<ConceptInfo> concepts;
};

int Threads(int requested) {
  if (requested > 0) return requested;
  return std::max(1u, std::thread::hardware_concurrency());
}

// Runs body(chunk) for every chunk in [0, chunks) on `threads` threads, the caller among them;
// after each of its own chunks the caller runs after_own_chunk().
template <class Body, class AfterChunk>
void ParallelChunks(size_t chunks, int threads, Body body, AfterChunk after_own_chunk) {
  std::atomic<size_t> next{0};
  auto work = [&](bool caller) {
    for (size_t c; (c = next.fetch_add(1)) < chunks;) {
      body(c);
      if (caller) after_own_chunk();
    }
  };
  std::vector<std::thread> workers;
  const size_t extra = std::min<size_t>(static_cast<size_t>(threads) - 1, chunks);
  for (size_t t = 0; t < extra; ++t) workers.emplace_back(work, false);
  work(true);
  for (std::thread& w : workers) w.join();
}

// The codes (column `codes`, space-separated) that efi_value_rules.csv gives value rules for.
Result<std::unordered_set<std::string>> EfiValueRuleCodes() {
  JU_ASSIGN_OR_RETURN(ReferenceTable rules,
                      ParseReferenceCsv("efi_value_rules.csv", embedded::codes_efi_value_rules(),
                                        {"deficit", "codes", "lower", "lower_inclusive", "upper",
                                         "upper_inclusive", "sex", "unit", "rule"}));
  std::unordered_set<std::string> codes;
  for (const ReferenceRow& row : rules.rows) {
    std::string_view list = row.fields[1];
    while (!list.empty()) {
      const size_t space = list.find(' ');
      if (space != 0) codes.emplace(list.substr(0, space));
      list = space == std::string_view::npos ? std::string_view() : list.substr(space + 1);
    }
  }
  return codes;
}

Status DescribeConcepts(Context& ctx, int threads) {
  static const Result<std::unordered_set<std::string>> value_codes = EfiValueRuleCodes();
  if (!value_codes.ok()) return value_codes.error();
  const auto& concepts = ctx.cohort->concepts;
  ctx.concepts.assign(concepts.size(), ConceptInfo{});

  std::unordered_map<std::string, uint32_t> first;
  for (size_t i = 0; i < concepts.size(); ++i) {
    std::string key(CodeSystemTag(concepts[i].system));
    key += '|';
    key += concepts[i].code;
    ctx.concepts[i].canonical =
        first.emplace(std::move(key), static_cast<uint32_t>(i)).first->second;
  }

  const size_t chunks = (concepts.size() + kChunkPeople - 1) / kChunkPeople;
  ParallelChunks(
      chunks, threads,
      [&](size_t chunk) {
        ClinicalEvent probe;
        probe.date = ctx.index;
        const size_t end = std::min(concepts.size(), (chunk + 1) * kChunkPeople);
        for (size_t i = chunk * kChunkPeople; i < end; ++i) {
          const Cohort::Concept& c = concepts[i];
          ConceptInfo& info = ctx.concepts[i];
          info.ltc = ctx.ltc->Match(c.system, c.code);
          if (c.system == CodeSystem::kIcd10) {
            info.icd10 = true;
            info.charlson = ctx.charlson->Match(c.code);
            info.elixhauser = ctx.elixhauser->Match(c.code);
            info.hfrs = static_cast<int16_t>(ctx.hfrs->CategoryOf(c.code));
            continue;
          }
          if (c.system != CodeSystem::kReadV2 && c.system != CodeSystem::kCtv3 &&
              c.system != CodeSystem::kSnomedCt) {
            continue;
          }
          // Ask the eFI model itself which deficits a code alone implies.
          probe.system = c.system;
          probe.code = c.code;
          for (const EfiDeficitHit& hit : ctx.efi->Score({{&probe, 1}, {}, ctx.index}).found)
            info.efi |= uint64_t{1} << hit.deficit;
          info.efi_values = c.system != CodeSystem::kSnomedCt && value_codes->contains(c.code);
        }
      },
      [] {});
  return Ok();
}

Status CheckOffsets(const std::vector<uint64_t>& begin, size_t records, size_t people,
                    const char* name) {
  if (begin.size() != people + 1 || begin.front() != 0 || begin.back() != records) {
    return Error::Invalid(std::string("cohort: ") + name + " has " + std::to_string(begin.size()) +
                          " offsets for " + std::to_string(people) + " people and " +
                          std::to_string(records) +
                          " records; expected people + 1 offsets from 0 to the record count");
  }
  for (size_t i = 0; i < people; ++i) {
    if (begin[i] > begin[i + 1]) {
      return Error::Invalid(std::string("cohort: ") + name + " decreases at person " +
                            std::to_string(i));
    }
  }
  return Ok();
}

// Sets the bits of `add` not yet in `mask`, remembering `at` as the first record of each.
inline void Mark(uint64_t& mask, uint64_t add, uint32_t* first, uint32_t at) {
  uint64_t fresh = add & ~mask;
  if (!fresh) return;
  mask |= fresh;
  for (; fresh; fresh &= fresh - 1) first[std::countr_zero(fresh)] = at;
}

int16_t Clamp16(int64_t v) {
  return static_cast<int16_t>(std::clamp<int64_t>(v, 0, std::numeric_limits<int16_t>::max()));
}

struct Scratch {
  std::vector<uint32_t> medications;
  ClinicalEvent valued;  // for the eFI value rules
};

// One person's features and evidence. An error names the person on bad input.
Status ComputePerson(const Context& ctx, size_t i, PersonFeatures& f,
                     std::vector<FeatureEvidence>& evidence, Scratch& scratch) {
  const Cohort& cohort = *ctx.cohort;
  const Cohort::Person& person = cohort.people[i];
  const Date d = ctx.index;
  f = PersonFeatures{};
  f.sex = person.sex;
  f.practice = person.practice;
  f.deprivation_decile = person.deprivation_decile;
  f.age = Clamp16(AgeInYears(person.birth_date, d));
  if (person.death_date && *person.death_date <= d) {
    f.deceased = true;
    return Ok();
  }
  auto where = [&] {
    return "cohort: person " + std::to_string(i) + " (key " + std::to_string(person.key) + "): ";
  };

  // ---- Coded events --------------------------------------------------------------------
  const auto events = cohort.EventsOf(i);
  const size_t concept_count = ctx.concepts.size();
  uint64_t efi = 0, ltc = 0, charlson = 0, elixhauser = 0, hfrs[2] = {0, 0};
  uint32_t efi_first[64], ltc_first[64], charlson_first[64], elixhauser_first[64];
  uint32_t hfrs_first[128];
  Date previous = events.empty() ? d : events.front().date;
  for (uint32_t k = 0; k < events.size(); ++k) {
    const Cohort::Event& e = events[k];
    if (e.date < previous) return Error::Invalid(where() + "events are not in date order");
    previous = e.date;
    if (e.date > d) continue;
    if (e.concept_id >= concept_count) {
      return Error::Invalid(where() + "event concept " + std::to_string(e.concept_id) +
                            " is not in the concept dictionary");
    }
    const ConceptInfo& info = ctx.concepts[e.concept_id];
    Mark(efi, info.efi, efi_first, k);
    Mark(ltc, info.ltc, ltc_first, k);
    if (info.efi_values && e.value) {
      // Rare: a Read/CTV3 observation with a value (Barthel, haemoglobin ...). Let the eFI
      // model judge it, with the person's sex.
      const Cohort::Concept& c = cohort.concepts[e.concept_id];
      scratch.valued.kind = e.kind;
      scratch.valued.system = c.system;
      scratch.valued.code = c.code;
      scratch.valued.date = e.date;
      scratch.valued.value = e.value;
      uint64_t by_value = 0;
      for (const EfiDeficitHit& hit :
           ctx.efi->Score({{&scratch.valued, 1}, {}, d, person.sex}).found)
        by_value |= uint64_t{1} << hit.deficit;
      Mark(efi, by_value, efi_first, k);
    }
    if (!info.icd10) continue;
    if (e.date >= ctx.comorbidity_from) {
      Mark(charlson, info.charlson, charlson_first, k);
      Mark(elixhauser, info.elixhauser, elixhauser_first, k);
    }
    if (info.hfrs >= 0 && e.source == EventSource::kHospital &&
        e.admission_method == AdmissionMethod::kEmergency && e.date >= ctx.hfrs_from) {
      const uint64_t bit = uint64_t{1} << (info.hfrs & 63);
      uint64_t& word = hfrs[info.hfrs >> 6];
      if (!(word & bit)) {
        word |= bit;
        hfrs_first[info.hfrs] = k;
      }
    }
  }

  // ---- Polypharmacy: distinct medications prescribed in the year up to D (efi.h) --------
  scratch.medications.clear();
  for (const Cohort::Medication& m : cohort.MedicationsOf(i)) {
    if (m.concept_id >= concept_count) {
      return Error::Invalid(where() + "medication concept " + std::to_string(m.concept_id) +
                            " is not in the concept dictionary");
    }
    if (m.start > d || (m.end && *m.end < ctx.year_before)) continue;
    scratch.medications.push_back(ctx.concepts[m.concept_id].canonical);
  }
  std::sort(scratch.medications.begin(), scratch.medications.end());
  const auto distinct = std::unique(scratch.medications.begin(), scratch.medications.end()) -
                        scratch.medications.begin();
  const int polypharmacy = ctx.efi->polypharmacy_deficit();
  if (distinct >= kPolypharmacyMedications) efi |= uint64_t{1} << polypharmacy;

  // ---- Activity ---------------------------------------------------------------------------
  int64_t cost = 0, bed_days = 0;
  int emergency = 0, ae = 0;
  // Per episode type (index: 0 package, 1 care home, 2 CHC): the first current and the first
  // recent (current or ended in the last year) episode.
  const Cohort::Activity* current[3] = {};
  const Cohort::Activity* recent[3] = {};
  for (const Cohort::Activity& a : cohort.ActivitiesOf(i)) {
    if (a.start > d) continue;
    const bool in_window = a.start > ctx.year_before;
    int episode = -1;
    switch (a.type) {
      case ActivityType::kEmergencyAdmission:
      case ActivityType::kElectiveAdmission:
        if (!in_window) break;
        emergency += a.type == ActivityType::kEmergencyAdmission;
        bed_days += std::clamp<int64_t>(a.length_of_stay_days, 0, a.start.DaysUntil(d));
        cost += a.cost_pence;
        break;
      case ActivityType::kAeAttendance:
        if (!in_window) break;
        ++ae;
        cost += a.cost_pence;
        break;
      case ActivityType::kSocialCarePackage:
        episode = 0;
        break;
      case ActivityType::kCareHomePlacement:
        episode = 1;
        break;
      case ActivityType::kContinuingHealthcare:
        episode = 2;
        break;
      default:
        if (in_window) cost += a.cost_pence;
        break;
    }
    if (episode < 0) continue;
    if ((!a.end || *a.end >= d) && !current[episode]) current[episode] = &a;
    if ((!a.end || *a.end > ctx.year_before) && !recent[episode]) recent[episode] = &a;
    // Spread the episode's cost over its days [start, end) and count the days in the window.
    const Date end = a.end ? *a.end : ctx.extract;
    const int64_t span = a.start.DaysUntil(end);
    if (span <= 0) {
      if (in_window) cost += a.cost_pence;
      continue;
    }
    const Date from = std::max(a.start, ctx.year_before.AddDays(1));
    const Date to = std::min(end, d.AddDays(1));
    const int64_t overlap = std::max<int64_t>(0, from.DaysUntil(to));
    cost += a.cost_pence * overlap / span;
  }

  // ---- Features ---------------------------------------------------------------------------
  const uint64_t ltc_counted = ltc & ctx.ltc->ltc_bits();
  const uint64_t mental_health = ltc & ctx.ltc->mental_health_bits();
  const bool coded_care_need =
      ctx.requirement_for_care >= 0 && (efi >> ctx.requirement_for_care & 1);
  f.ltc_count = static_cast<int16_t>(std::popcount(ltc_counted));
  f.ltc_mask = ltc_counted;
  f.mental_health_need = mental_health != 0;
  f.social_care_need = recent[0] || recent[1] || recent[2] || coded_care_need;
  f.efi_deficits = static_cast<int16_t>(std::popcount(efi));
  int hfrs_tenths = 0;
  for (int w = 0; w < 2; ++w)
    for (uint64_t m = hfrs[w]; m; m &= m - 1)
      hfrs_tenths += ctx.hfrs->categories()[w * 64 + std::countr_zero(m)].points_tenths;
  f.hfrs_tenths = Clamp16(hfrs_tenths);
  const uint64_t charlson_counted = ctx.charlson->ApplyHierarchy(charlson);
  const uint64_t elixhauser_counted = ctx.elixhauser->ApplyHierarchy(elixhauser);
  f.charlson_1987 = Clamp16(ctx.charlson->Score(charlson_counted, kCharlson1987));
  f.charlson_quan2011 = Clamp16(ctx.charlson->Score(charlson_counted, kQuan2011));
  f.elixhauser = static_cast<int16_t>(std::popcount(elixhauser_counted));
  f.emergency_admissions_12m = Clamp16(emergency);
  f.ae_attendances_12m = Clamp16(ae);
  f.bed_days_12m = static_cast<int32_t>(std::min<int64_t>(bed_days, INT32_MAX));
  f.cost_12m_pence = cost;
  f.social_care_package = current[0] != nullptr;
  f.care_home = current[1] != nullptr;
  f.continuing_healthcare = current[2] != nullptr;

  // ---- Evidence, in the order feature_engine.h documents ---------------------------------
  auto from_event = [&](Feature feature, uint32_t k, int detail) {
    evidence.push_back(
        {feature, events[k].concept_id, events[k].date, static_cast<uint16_t>(detail)});
  };
  auto from_activity = [&](Feature feature, const Cohort::Activity& a) {
    evidence.push_back(
        {feature, FeatureEvidence::kNoConcept, a.start, static_cast<uint16_t>(a.type)});
  };
  for (uint64_t m = ltc_counted; m; m &= m - 1)
    from_event(Feature::kLtcCount, ltc_first[std::countr_zero(m)], std::countr_zero(m));
  for (uint64_t m = mental_health; m; m &= m - 1)
    from_event(Feature::kMentalHealthNeed, ltc_first[std::countr_zero(m)], std::countr_zero(m));
  for (const Cohort::Activity* a : recent)
    if (a) from_activity(Feature::kSocialCareNeed, *a);
  if (coded_care_need) {
    from_event(Feature::kSocialCareNeed, efi_first[ctx.requirement_for_care],
               ctx.requirement_for_care);
  }
  for (uint64_t m = efi; m; m &= m - 1) {
    const int deficit = std::countr_zero(m);
    if (deficit == polypharmacy) {
      evidence.push_back(
          {Feature::kEfiDeficits, FeatureEvidence::kNoConcept, d, static_cast<uint16_t>(deficit)});
    } else {
      from_event(Feature::kEfiDeficits, efi_first[deficit], deficit);
    }
  }
  for (int w = 0; w < 2; ++w)
    for (uint64_t m = hfrs[w]; m; m &= m - 1) {
      const int category = w * 64 + std::countr_zero(m);
      from_event(Feature::kHfrs, hfrs_first[category], category);
    }
  for (uint64_t m = charlson_counted; m; m &= m - 1)
    from_event(Feature::kCharlson1987, charlson_first[std::countr_zero(m)], std::countr_zero(m));
  for (uint64_t m = elixhauser_counted; m; m &= m - 1)
    from_event(Feature::kElixhauser, elixhauser_first[std::countr_zero(m)], std::countr_zero(m));
  if (current[2]) from_activity(Feature::kContinuingHealthcare, *current[2]);
  if (current[1]) from_activity(Feature::kCareHome, *current[1]);
  if (current[0]) from_activity(Feature::kSocialCarePackage, *current[0]);
  return Ok();
}

}  // namespace

Result<CohortFeatures> ComputeFeatures(const Cohort& cohort, const FeatureOptions& options) {
  const size_t n = cohort.size();
  JU_RETURN_IF_ERROR(CheckOffsets(cohort.event_begin, cohort.events.size(), n, "event_begin"));
  JU_RETURN_IF_ERROR(
      CheckOffsets(cohort.activity_begin, cohort.activities.size(), n, "activity_begin"));
  JU_RETURN_IF_ERROR(
      CheckOffsets(cohort.medication_begin, cohort.medications.size(), n, "medication_begin"));

  Context ctx;
  ctx.cohort = &cohort;
  ctx.index = options.index_date;
  ctx.hfrs_from = options.index_date.AddYears(-kHfrsLookbackYears);
  ctx.comorbidity_from = options.index_date.AddYears(-kComorbidityLookbackYears);
  ctx.year_before = options.index_date.AddYears(-kActivityWindowYears);
  ctx.extract = options.extract_date.value_or(options.index_date);
  JU_ASSIGN_OR_RETURN(ctx.efi, Efi());
  JU_ASSIGN_OR_RETURN(ctx.hfrs, Hfrs());
  JU_ASSIGN_OR_RETURN(ctx.charlson, Charlson());
  JU_ASSIGN_OR_RETURN(ctx.elixhauser, Elixhauser());
  JU_ASSIGN_OR_RETURN(ctx.ltc, LtcConditions());
  const auto& deficits = ctx.efi->deficits();
  const auto care = std::find(deficits.begin(), deficits.end(), "Requirement for care");
  if (care != deficits.end()) ctx.requirement_for_care = static_cast<int>(care - deficits.begin());
  const int threads = Threads(options.threads);
  JU_RETURN_IF_ERROR(DescribeConcepts(ctx, threads));

  CohortFeatures out;
  out.index_date = options.index_date;
  out.people.resize(n);
  out.evidence_begin.assign(n + 1, 0);
  const size_t chunks = (n + kChunkPeople - 1) / kChunkPeople;
  std::vector<std::vector<FeatureEvidence>> chunk_evidence(chunks);
  std::vector<Status> chunk_status(chunks, Ok());
  std::atomic<int64_t> done{0};
  ParallelChunks(
      chunks, threads,
      [&](size_t chunk) {
        Scratch scratch;
        std::vector<FeatureEvidence>& evidence = chunk_evidence[chunk];
        const size_t end = std::min(n, (chunk + 1) * kChunkPeople);
        for (size_t i = chunk * kChunkPeople; i < end; ++i) {
          const size_t before = evidence.size();
          Status status = ComputePerson(ctx, i, out.people[i], evidence, scratch);
          if (!status.ok()) {
            chunk_status[chunk] = std::move(status);
            break;
          }
          out.evidence_begin[i + 1] = evidence.size() - before;  // a count until the prefix sum
        }
        done.fetch_add(static_cast<int64_t>(end - chunk * kChunkPeople));
      },
      [&] {
        if (options.progress) options.progress(done.load(), static_cast<int64_t>(n));
      });
  for (Status& status : chunk_status)
    if (!status.ok()) return status.take_error();

  for (size_t i = 0; i < n; ++i) out.evidence_begin[i + 1] += out.evidence_begin[i];
  out.evidence.reserve(out.evidence_begin[n]);
  for (std::vector<FeatureEvidence>& part : chunk_evidence) {
    out.evidence.insert(out.evidence.end(), part.begin(), part.end());
    std::vector<FeatureEvidence>().swap(part);
  }

  // Cost percentile among the living, then the risk score (which may use it).
  std::vector<int64_t> costs;
  costs.reserve(n);
  for (const PersonFeatures& p : out.people)
    if (!p.deceased) costs.push_back(p.cost_12m_pence);
  std::sort(costs.begin(), costs.end());
  const double living = static_cast<double>(costs.size());
  ParallelChunks(
      chunks, threads,
      [&](size_t chunk) {
        const size_t end = std::min(n, (chunk + 1) * kChunkPeople);
        for (size_t i = chunk * kChunkPeople; i < end; ++i) {
          PersonFeatures& p = out.people[i];
          if (p.deceased) continue;
          const auto below = std::lower_bound(costs.begin(), costs.end(), p.cost_12m_pence);
          p.cost_percentile = static_cast<float>(100.0 * (below - costs.begin()) / living);
          if (options.risk_model)
            p.admission_risk = static_cast<float>(options.risk_model->Score(p));
        }
      },
      [] {});
  if (options.progress) options.progress(static_cast<int64_t>(n), static_cast<int64_t>(n));
  return out;
}

}  // namespace joinedup::analytics
