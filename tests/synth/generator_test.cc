// Synthetic population generator: determinism, the sink order contract, identifiers, and
// achieved rates against the cited sources (data/synth/*.csv and the published figures
// named below).
#include "synth/generator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "synth/reference_data.h"

namespace joinedup::synth {
namespace {

const Date kAsOf = Date::FromYmd(2024, 3, 31);

// ---- Hashing sink: a fingerprint of every field of every record, in order -----------------

class HashingSink : public PopulationSink {
 public:
  Status Add(const Practice& p) override {
    Mix("P", p.id, p.name, p.pch, p.postcode_district);
    return Ok();
  }
  Status Add(const Patient& p) override {
    Mix("T", p.id, p.nhs_number ? p.nhs_number->digits() : "", p.source_identifier, p.family_name,
        p.given_name, p.birth_date.ToString(), SexCode(p.sex), p.postcode_district,
        std::to_string(p.deprivation_decile), p.practice_id,
        p.death_date ? p.death_date->ToString() : "");
    return Ok();
  }
  Status Add(const ClinicalEvent& e) override {
    Mix("E", e.id, e.patient_id, std::to_string(static_cast<int>(e.kind)), CodeSystemTag(e.system),
        e.code, e.term, e.date.ToString(), std::to_string(static_cast<int>(e.source)),
        AdmissionMethodTag(e.admission_method), e.activity_id);
    return Ok();
  }
  Status Add(const Activity& a) override {
    Mix("A", a.id, a.patient_id, ActivityTypeTag(a.type), a.start.ToString(),
        a.end ? a.end->ToString() : "", std::to_string(a.length_of_stay_days),
        std::to_string(a.cost_pence), a.specialty, a.practice_id);
    return Ok();
  }
  Status Add(const Medication& m) override {
    Mix("M", m.id, m.patient_id, CodeSystemTag(m.system), m.code, m.term, m.start.ToString(),
        m.end ? m.end->ToString() : "");
    return Ok();
  }
  uint64_t hash = 1469598103934665603ULL;
  int64_t records = 0;

 private:
  template <typename... Fields>
  void Mix(const Fields&... fields) {
    ++records;
    (MixOne(std::string_view(fields)), ...);
  }
  void MixOne(std::string_view s) {
    for (unsigned char c : s) hash = (hash ^ c) * 1099511628211ULL;
    hash = (hash ^ 0x1f) * 1099511628211ULL;
  }
};

uint64_t HashOf(uint64_t seed, int64_t patients, int threads) {
  GenerateOptions options;
  options.seed = seed;
  options.patients = patients;
  options.practices = 12;
  options.as_of = kAsOf;
  options.threads = threads;
  HashingSink sink;
  auto stats = Generate(options, sink);
  EXPECT_TRUE(stats.ok()) << stats.error().ToString();
  return sink.hash;
}

TEST(Generator, SameSeedSameStreamWhateverTheThreadCount) {
  const uint64_t one = HashOf(42, 3000, 1);
  EXPECT_EQ(one, HashOf(42, 3000, 1));
  EXPECT_EQ(one, HashOf(42, 3000, 2));
  EXPECT_EQ(one, HashOf(42, 3000, 3));
  EXPECT_NE(one, HashOf(43, 3000, 2));
}

TEST(Generator, InvalidOptionsAreRefused) {
  HashingSink sink;
  GenerateOptions options;
  options.practices = 0;
  EXPECT_EQ(Generate(options, sink).error().code, ErrorCode::kInvalidInput);
  options = {};
  options.patients = -1;
  EXPECT_EQ(Generate(options, sink).error().code, ErrorCode::kInvalidInput);
  options = {};
  options.threads = -2;
  EXPECT_EQ(Generate(options, sink).error().code, ErrorCode::kInvalidInput);
  EXPECT_EQ(sink.records, 0);
}

class FailingSink : public HashingSink {
 public:
  explicit FailingSink(int64_t fail_at) : fail_at_(fail_at) {}
  Status Add(const Activity& a) override {
    if (++activities_ == fail_at_) return Error::Unavailable("disk full");
    return HashingSink::Add(a);
  }

 private:
  int64_t fail_at_, activities_ = 0;
};

TEST(Generator, SinkErrorStopsGenerationAndIsReturned) {
  for (int threads : {1, 2}) {
    FailingSink sink(20000);
    GenerateOptions options;
    options.patients = 20000;
    options.threads = threads;
    auto stats = Generate(options, sink);
    ASSERT_FALSE(stats.ok());
    EXPECT_EQ(stats.error().code, ErrorCode::kUnavailable);
    EXPECT_EQ(stats.error().message, "disk full");
  }
}

// ---- Order and reference checking sink ----------------------------------------------------

class CheckingSink : public PopulationSink {
 public:
  Status Add(const Practice& p) override {
    if (patients_ > 0) Fail("practice " + p.id + " after a patient");
    if (!practices_.insert(p.id).second) Fail("duplicate practice " + p.id);
    if (p.id.size() != 6 || p.id.rfind("SYN", 0) != 0) Fail("practice id " + p.id);
    pch_.insert(p.pch);
    return Ok();
  }
  Status Add(const Patient& p) override {
    ++patients_;
    current_ = p.id;
    current_practice_ = p.practice_id;
    birth_ = p.birth_date;
    death_ = p.death_date;
    activities_.clear();
    if (!practices_.count(p.practice_id))
      Fail("patient " + p.id + " at unknown practice " + p.practice_id);
    if (!ids_.insert(p.id).second) Fail("duplicate id " + p.id);
    if (p.nhs_number) {
      const std::string& digits = p.nhs_number->digits();
      if (digits.rfind("999", 0) != 0) Fail("NHS number outside the 999 test range: " + digits);
      if (!NhsNumber::Parse(digits).ok()) Fail("invalid NHS number " + digits);
      if (!nhs_.insert(digits).second) Fail("duplicate NHS number " + digits);
    } else {
      Fail("patient without an NHS number: " + p.id);
    }
    if (p.deprivation_decile < 1 || p.deprivation_decile > 10) Fail("decile");
    if (p.given_name.empty() || p.family_name.empty()) Fail("name");
    if (p.death_date && (*p.death_date < birth_ || !(*p.death_date < kAsOf)))
      Fail("death date " + p.id);
    return Ok();
  }
  Status Add(const ClinicalEvent& e) override {
    Owned(e.patient_id, e.id);
    if (e.date < birth_ || (death_ && *death_ < e.date) || kAsOf < e.date)
      Fail("event date " + e.id);
    if (e.system == CodeSystem::kIcd10) {
      ++icd10_;
      if (e.source != EventSource::kHospital) Fail("ICD-10 not from hospital " + e.id);
      auto it = activities_.find(e.activity_id);
      if (it == activities_.end())
        Fail("diagnosis " + e.id + " before/without its admission " + e.activity_id);
      else if ((it->second == ActivityType::kEmergencyAdmission) !=
               (e.admission_method == AdmissionMethod::kEmergency))
        Fail("admission method of " + e.id);
      const std::string& c = e.code;
      const bool dotted = c.size() >= 5 && c[3] == '.';
      const bool three = c.size() == 3;
      const bool filler = c.size() == 4 && c[3] == 'X';
      if (!(dotted || three || filler)) Fail("ICD-10 form " + c);
      if (filler) ++x_filler_;
    }
    return Ok();
  }
  Status Add(const Activity& a) override {
    Owned(a.patient_id, a.id);
    activities_[a.id] = a.type;
    if (a.cost_pence <= 0) Fail("activity without cost " + a.id);
    if (a.type == ActivityType::kGpAppointment && a.practice_id != current_practice_)
      Fail("GP practice " + a.id);
    if (a.type != ActivityType::kGpAppointment && !a.practice_id.empty())
      Fail("practice on non-GP " + a.id);
    if ((a.type == ActivityType::kOutpatientFirst || a.type == ActivityType::kOutpatientFollowUp ||
         a.type == ActivityType::kEmergencyAdmission ||
         a.type == ActivityType::kElectiveAdmission) &&
        a.specialty.size() != 3)
      Fail("specialty of " + a.id);
    if (a.end && *a.end < a.start) Fail("end before start " + a.id);
    return Ok();
  }
  Status Add(const Medication& m) override {
    Owned(m.patient_id, m.id);
    if (m.system != CodeSystem::kDmd || m.code.empty()) Fail("medication code " + m.id);
    return Ok();
  }

  void Owned(const std::string& patient_id, const std::string& id) {
    if (patient_id != current_)
      Fail(id + " follows patient " + current_ + " but belongs to " + patient_id);
    if (id.rfind(patient_id + "-", 0) != 0) Fail("id " + id + " not derived from " + patient_id);
    if (!ids_.insert(id).second) Fail("duplicate id " + id);
  }
  void Fail(const std::string& what) {
    if (failures_.size() < 10) failures_.push_back(what);
    ++failure_count_;
  }

  std::vector<std::string> failures_;
  int64_t failure_count_ = 0;
  int64_t patients_ = 0, icd10_ = 0, x_filler_ = 0;
  std::set<std::string> pch_;

 private:
  std::unordered_set<std::string> ids_, nhs_;
  std::set<std::string> practices_;
  std::string current_, current_practice_;
  Date birth_;
  std::optional<Date> death_;
  std::unordered_map<std::string, ActivityType> activities_;
};

TEST(Generator, RecordsFollowTheirPatientAndReferencesResolve) {
  CheckingSink sink;
  GenerateOptions options;
  options.patients = 20000;
  options.practices = 8;
  options.as_of = kAsOf;
  options.threads = 2;
  int64_t last_progress = 0;
  options.progress = [&](int64_t done, int64_t total) {
    EXPECT_EQ(total, 20000);
    EXPECT_GT(done, last_progress);
    last_progress = done;
  };
  auto stats = Generate(options, sink);
  ASSERT_TRUE(stats.ok()) << stats.error().ToString();
  EXPECT_EQ(sink.failure_count_, 0) << ::testing::PrintToString(sink.failures_);
  EXPECT_EQ(sink.patients_, 20000);
  EXPECT_EQ(stats->patients, 20000);
  EXPECT_EQ(stats->practices, 8);
  EXPECT_EQ(last_progress, 20000);
  EXPECT_EQ(stats->patients_without_nhs_number, 0);
  EXPECT_GT(sink.icd10_, 0);
  EXPECT_EQ(sink.icd10_, stats->hospital_diagnoses);
  // About 15% of admissions come from a provider that writes 3-character codes as "I10X".
  EXPECT_GT(sink.x_filler_, 0);
  EXPECT_LT(sink.x_filler_, sink.icd10_ / 5);
  for (int t = 0; t < kActivityTypeCount; ++t)
    EXPECT_GT(stats->activities_by_type[t], 0) << ActivityTypeTag(static_cast<ActivityType>(t));
}

TEST(Generator, NhsNumberRangeCapacityIsKnown) {
  // 10^6 candidates "999xxxxxx?", about 1 in 11 without a valid check digit.
  EXPECT_GT(NhsNumberCapacity(), 900000);
  EXPECT_LT(NhsNumberCapacity(), 910000);
}

TEST(Generator, PracticesFormPrimaryCareHomesOfThirtyToFiftyThousand) {
  GenerateOptions options;  // 45 practices, 245,315 people
  auto plan = PlanPractices(options);
  ASSERT_TRUE(plan.ok()) << plan.error().ToString();
  ASSERT_EQ(plan->size(), 45u);
  std::map<std::string, int64_t> group_size;
  int64_t total = 0, smallest = options.patients, largest = 0;
  std::set<std::string> ids;
  for (const PracticePlan& p : *plan) {
    total += p.list_size;
    smallest = std::min(smallest, p.list_size);
    largest = std::max(largest, p.list_size);
    group_size[p.practice.pch] += p.list_size;
    EXPECT_TRUE(ids.insert(p.practice.id).second);
    EXPECT_GE(p.imd_decile, 1);
    EXPECT_LE(p.imd_decile, 10);
    EXPECT_FALSE(p.practice.postcode_district.empty());
  }
  EXPECT_EQ(total, options.patients);
  EXPECT_EQ(plan->front().practice.id, "SYN001");
  EXPECT_EQ(plan->back().practice.id, "SYN045");
  // List sizes vary (NHS Digital: from a couple of thousand to over 20,000 registered).
  EXPECT_GT(largest, 2 * smallest);
  EXPECT_GE(group_size.size(), 5u);
  for (const auto& [pch, size] : group_size) {
    EXPECT_GE(size, 30000) << pch;
    EXPECT_LE(size, 50000) << pch;
  }
  // The plan is the layout Generate uses.
  CheckingSink sink;
  options.patients = 0;
  ASSERT_TRUE(Generate(options, sink).ok());
  EXPECT_EQ(sink.failure_count_, 0);
}

// ---- Rates against the sources ------------------------------------------------------------

struct EfiMap {
  std::unordered_map<std::string, std::string> deficit_of_code;
};

EfiMap LoadEfiMap() {
  EfiMap map;
  std::ifstream in(std::string(JOINEDUP_SOURCE_DIR) + "/data/codes/efi_codes_used.csv");
  std::string line;
  bool header = true;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    if (header) {
      header = false;
      continue;
    }
    std::vector<std::string> f;
    std::stringstream ss(line);
    std::string field;
    while (std::getline(ss, field, ',')) f.push_back(field);
    if (f.size() >= 4 && f[2] == "readv2") map.deficit_of_code[f[3]] = f[0];
  }
  return map;
}

// Streams the population and keeps per-age-band tallies; never holds the population.
class RateSink : public PopulationSink {
 public:
  explicit RateSink(EfiMap efi) : efi_(std::move(efi)) {}
  Status Add(const Practice&) override { return Ok(); }
  Status Add(const Patient& p) override {
    Finish();
    open_ = true;
    female_ = p.sex == Sex::kFemale;
    birth_ = p.birth_date;
    death_ = p.death_date;
    snomed_.clear();
    deficits_.clear();
    current_meds_ = 0;
    cost_last_year_ = 0;
    emergency_last_year_ = 0;
    services_.fill(false);
    return Ok();
  }
  Status Add(const ClinicalEvent& e) override {
    if (e.system == CodeSystem::kSnomedCt) snomed_.insert(e.code);
    if (e.system == CodeSystem::kReadV2) {
      auto it = efi_.deficit_of_code.find(e.code);
      if (it != efi_.deficit_of_code.end()) deficits_.insert(it->second);
    }
    return Ok();
  }
  Status Add(const Activity& a) override {
    const Date year_start = kAsOf.AddDays(-365);
    if (a.type == ActivityType::kSocialCarePackage || a.type == ActivityType::kCareHomePlacement ||
        a.type == ActivityType::kContinuingHealthcare) {
      // Episode cost covers its days inside the 5-year window; attribute the last year's share.
      const Date window = kAsOf.AddDays(-5 * 365);
      const Date from = std::max(a.start, window);
      const Date to = a.end ? *a.end : kAsOf;
      const double days = std::max(1, from.DaysUntil(to));
      const Date lf = std::max(from, year_start);
      const double last = std::max(0, lf.DaysUntil(to));
      cost_last_year_ += a.cost_pence * std::min(1.0, last / days);
      if (!a.end)
        services_[a.type == ActivityType::kSocialCarePackage   ? 0
                  : a.type == ActivityType::kCareHomePlacement ? 1
                                                               : 2] = true;
    } else if (!(a.start < year_start)) {
      cost_last_year_ += a.cost_pence;
      if (a.type == ActivityType::kEmergencyAdmission) ++emergency_last_year_;
    }
    return Ok();
  }
  Status Add(const Medication& m) override {
    if (!m.end || !(*m.end < kAsOf.AddDays(-365))) ++current_meds_;
    return Ok();
  }
  void Finish() {
    if (!open_) return;
    open_ = false;
    const int age = AgeInYears(birth_, kAsOf);
    const bool alive = !death_;
    const Date year_start = kAsOf.AddDays(-365);
    // Population structure: everyone alive at the extract date.
    if (alive) {
      ++alive_;
      alive_female_ += female_;
      alive_65_ += age >= 65;
      alive_under18_ += age < 18;
    }
    // Person-years in the final year, by age at its start; deaths in it.
    if (birth_ < year_start && (!death_ || !(*death_ < year_start))) {
      const int b = Band(AgeAt(year_start));
      const Date to = death_ ? *death_ : kAsOf;
      person_years_[b] += year_start.DaysUntil(to) / 365.0;
      at_risk_[b] += 1;
      if (death_) ++deaths_[b];
      emergency_[b] += emergency_last_year_;
      const int band_age = AgeAt(year_start);
      expected_deaths_[b] += QxAt(band_age);
    }
    costs_.push_back(cost_last_year_);
    if (alive && age >= 65) {
      ++old_;
      int conditions = 0;
      for (const auto& code : snomed_) conditions += tracked_.count(code) > 0;
      multimorbid_ += conditions >= 2;
      for (const auto& [code, _] : tracked_) prevalent_[code] += snomed_.count(code);
      const int band = age < 75 ? 0 : age < 85 ? 1 : 2;
      ++old_band_[band];
      for (const auto& [code, _] : tracked_) prevalent_band_[code][band] += snomed_.count(code);
      const int deficits = static_cast<int>(deficits_.size()) + (current_meds_ >= 5 ? 1 : 0);
      ++efi_category_[deficits <= 4 ? 0 : deficits <= 8 ? 1 : deficits <= 12 ? 2 : 3];
      deficit_sum_ += deficits;
      for (int k = 0; k < 3; ++k) service_count_[k] += services_[k];
    }
  }
  // Age bands matching activity_rates.csv.
  static int Band(int age) {
    static constexpr int kFrom[] = {0, 5, 15, 45, 65, 75, 85};
    int b = 0;
    for (int i = 0; i < 7; ++i)
      if (age >= kFrom[i]) b = i;
    return b;
  }
  int AgeAt(Date d) const { return AgeInYears(birth_, d); }
  double QxAt(int age) const {
    for (const auto& m : ref_->mortality)
      if (age >= m.age_from && age <= m.age_to) return female_ ? m.qx_female : m.qx_male;
    return ref_->mortality.back().qx_male;
  }

  const ReferenceData* ref_ = nullptr;
  std::map<std::string, std::string> tracked_;  // SNOMED code -> condition key
  EfiMap efi_;
  bool open_ = false, female_ = false;
  Date birth_;
  std::optional<Date> death_;
  std::set<std::string> snomed_;
  std::set<std::string> deficits_;
  int current_meds_ = 0;
  double cost_last_year_ = 0;
  int emergency_last_year_ = 0;
  std::array<bool, 3> services_{};
  std::array<int64_t, 3> service_count_{};
  int64_t alive_ = 0, alive_female_ = 0, alive_65_ = 0, alive_under18_ = 0, old_ = 0,
          multimorbid_ = 0;
  std::map<std::string, int64_t> prevalent_;
  std::map<std::string, std::array<int64_t, 3>> prevalent_band_;
  std::array<int64_t, 3> old_band_{};
  std::array<int64_t, 4> efi_category_{};
  int64_t deficit_sum_ = 0;
  std::array<double, 7> person_years_{}, at_risk_{}, deaths_{}, expected_deaths_{}, emergency_{};
  std::vector<double> costs_;
};

class GeneratorRates : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ref_ = new ReferenceData(LoadReferenceData().value());
    sink_ = new RateSink(LoadEfiMap());
    sink_->ref_ = ref_;
    for (const auto& c : ref_->conditions) sink_->tracked_[c.snomed] = c.key;
    GenerateOptions options;
    options.seed = 2024;
    options.patients = 40000;
    options.practices = 6;
    options.as_of = kAsOf;
    options.threads = 2;
    auto stats = Generate(options, *sink_);
    ASSERT_TRUE(stats.ok()) << stats.error().ToString();
    sink_->Finish();
  }
  static void TearDownTestSuite() {
    delete sink_;
    delete ref_;
  }
  static ReferenceData* ref_;
  static RateSink* sink_;
};
ReferenceData* GeneratorRates::ref_ = nullptr;
RateSink* GeneratorRates::sink_ = nullptr;

TEST_F(GeneratorRates, AgeSexStructureFollowsOns) {
  // ONS mid-2021 England (population_england.csv): share 65+, under 18, female.
  double total = 0, over65 = 0, under18 = 0, female = 0;
  for (const auto& b : ref_->population) {
    const double n = b.male + b.female;
    total += n;
    female += b.female;
    if (b.age_from >= 65) over65 += n;
    if (b.age_to < 18)
      under18 += n;
    else if (b.age_from < 18)
      under18 += n * (18 - b.age_from) / (b.age_to - b.age_from + 1);
  }
  const auto& s = *sink_;
  const double alive = static_cast<double>(s.alive_);
  std::printf(
      "[rates] alive %lld: 65+ %.3f (ONS %.3f), <18 %.3f (ONS %.3f), female %.3f (ONS %.3f)\n",
      static_cast<long long>(s.alive_), s.alive_65_ / alive, over65 / total,
      s.alive_under18_ / alive, under18 / total, s.alive_female_ / alive, female / total);
  // Deaths in the window thin the oldest bands a little, so allow 1.5 percentage points.
  EXPECT_NEAR(s.alive_65_ / alive, over65 / total, 0.015);
  EXPECT_NEAR(s.alive_under18_ / alive, under18 / total, 0.015);
  EXPECT_NEAR(s.alive_female_ / alive, female / total, 0.015);
}

TEST_F(GeneratorRates, ConditionPrevalenceAmongOlderPeopleFollowsTheTable) {
  const auto& s = *sink_;
  for (const auto& c : ref_->conditions) {
    if (c.key != "hypertension" && c.key != "diabetes_t2" && c.key != "copd" &&
        c.key != "atrial_fibrillation" && c.key != "dementia" && c.key != "chd" && c.key != "ckd")
      continue;
    for (int band = 0; band < 3; ++band) {
      const double expected = c.prevalence[3 + band];
      const double achieved =
          static_cast<double>(s.prevalent_band_.at(c.snomed)[band]) / s.old_band_[band];
      std::printf("[rates] %-20s band %d: %.3f (table %.3f)\n", c.key.c_str(), band, achieved,
                  expected);
      // Relative tolerance, wider where the expected count is small; the sex mix and
      // deaths in the window move the achieved value a little.
      const double cases = expected * s.old_band_[band];
      const double tolerance = std::max(0.15, 3.0 / std::sqrt(std::max(1.0, cases)));
      EXPECT_NEAR(achieved / expected, 1.0, tolerance) << c.key << " band " << band;
    }
  }
}

TEST_F(GeneratorRates, AboutHalfOfOlderPeopleHaveTwoOrMoreConditions) {
  const double share = static_cast<double>(sink_->multimorbid_) / sink_->old_;
  std::printf("[rates] 65+ with 2+ conditions: %.3f (Barnett 2012: 0.649 of 65-84 with 2+ of 40)\n",
              share);
  EXPECT_GE(share, 0.45);
  EXPECT_LE(share, 0.75);
}

TEST_F(GeneratorRates, EfiCategoriesAmongOlderPeopleFollowClegg2016) {
  const auto& s = *sink_;
  const double n = static_cast<double>(s.old_);
  const double fit = s.efi_category_[0] / n, mild = s.efi_category_[1] / n,
               moderate = s.efi_category_[2] / n, severe = s.efi_category_[3] / n;
  std::printf(
      "[rates] eFI 65+: fit %.3f mild %.3f moderate %.3f severe %.3f (Clegg 2016: 0.50 0.35 0.12 "
      "0.03); mean %.2f deficits\n",
      fit, mild, moderate, severe, static_cast<double>(s.deficit_sum_) / n);
  EXPECT_NEAR(fit, 0.50, 0.06);
  EXPECT_NEAR(mild, 0.35, 0.06);
  EXPECT_NEAR(moderate, 0.12, 0.04);
  EXPECT_NEAR(severe, 0.03, 0.02);
}

TEST_F(GeneratorRates, EmergencyAdmissionRatesByAgeFollowHes) {
  const auto& s = *sink_;
  for (int b = 0; b < 7; ++b) {
    const double expected = ref_->activity[b].emergency;  // per 1,000 person-years
    const double achieved = 1000.0 * s.emergency_[b] / s.person_years_[b];
    const double cases = expected * s.person_years_[b] / 1000.0;
    std::printf(
        "[rates] emergency admissions band %d: %.0f per 1000 (HES table %.0f, %.0f expected)\n", b,
        achieved, expected, cases);
    if (cases < 100) continue;
    EXPECT_NEAR(achieved / expected, 1.0, 0.20) << "band " << b;
  }
}

TEST_F(GeneratorRates, AnnualDeathRatesByAgeFollowTheLifeTable) {
  const auto& s = *sink_;
  for (int b = 4; b < 7; ++b) {
    const double achieved = s.deaths_[b] / s.at_risk_[b];
    const double expected = s.expected_deaths_[b] / s.at_risk_[b];
    std::printf("[rates] deaths band %d: %.4f per year (life table %.4f, %.0f deaths)\n", b,
                achieved, expected, s.deaths_[b]);
    EXPECT_NEAR(achieved / expected, 1.0, 0.30) << "band " << b;
  }
}

TEST_F(GeneratorRates, CostliestFivePercentUseAboutFortyPercent) {
  std::vector<double> costs = sink_->costs_;
  std::sort(costs.begin(), costs.end(), std::greater<>());
  double total = 0, top = 0;
  const size_t top_n = costs.size() / 20;
  for (size_t i = 0; i < costs.size(); ++i) {
    total += costs[i];
    if (i < top_n) top += costs[i];
  }
  std::printf("[rates] top 5%% share of last-year cost: %.3f; mean %.0f GBP per person\n",
              top / total, total / costs.size() / 100.0);
  const double old = static_cast<double>(sink_->old_);
  std::printf(
      "[rates] 65+ receiving at the extract date: home care %.3f, care home %.3f, CHC %.4f\n",
      sink_->service_count_[0] / old, sink_->service_count_[1] / old,
      sink_->service_count_[2] / old);
  // ASC-FR 2022-23 plus self-funders: roughly 2-3% of people 65+ live in care homes.
  EXPECT_GE(sink_->service_count_[1] / old, 0.01);
  EXPECT_LE(sink_->service_count_[1] / old, 0.04);
  EXPECT_GE(top / total, 0.35);
  EXPECT_LE(top / total, 0.50);
}

}  // namespace
}  // namespace joinedup::synth
