#include "synth/generator.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "synth/reference_data.h"
#include "synth/rng.h"

namespace joinedup::synth {

double NormalQuantile(double p) {
  // Acklam's algorithm: rational approximations in the central region and the two tails.
  static constexpr double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
                                 -2.759285104469687e+02, 1.383577518672690e+02,
                                 -3.066479806614716e+01, 2.506628277459239e+00};
  static constexpr double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
                                 -1.556989798598866e+02, 6.680131188771972e+01,
                                 -1.328068155288572e+01};
  static constexpr double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
                                 -2.400758277161838e+00, -2.549732539343734e+00,
                                 4.374664141464968e+00,  2.938163982698783e+00};
  static constexpr double d[] = {7.784695709041462e-03, 3.224671290700398e-01,
                                 2.445134137142996e+00, 3.754408661907416e+00};
  if (p <= 0.0) return -std::numeric_limits<double>::infinity();
  if (p >= 1.0) return std::numeric_limits<double>::infinity();
  constexpr double kLow = 0.02425;
  if (p < kLow) {
    const double q = std::sqrt(-2 * std::log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
           ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - kLow) {
    const double q = std::sqrt(-2 * std::log(1 - p));
    return -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
           ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  const double q = p - 0.5;
  const double r = q * q;
  return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
         (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

namespace {

constexpr int kWindowDays = 5 * 365;
constexpr int kMaxAge = 120;
constexpr int64_t kPersonsPerChunk = 1024;
// Latent factor model (see docs/synthetic-population.md, "How people differ").
constexpr double kMortalityBeta = 0.6;      // log-hazard per SD of the morbidity factor
constexpr double kIntensitySigma = 0.45;    // SD of log service-use intensity
constexpr double kIntensityOnFactor = 0.6;  // correlation of intensity with the factor
constexpr double kXFillerShare = 0.15;      // admissions from a provider writing "I10X"
constexpr int kPchTarget = 40000;           // NAPC Primary Care Home: 30,000-50,000 people
constexpr int kPchMinimum = 30000;
constexpr int kPchMaximum = 50000;

// ---- Fast id formatting ------------------------------------------------------------------

void AppendInt(std::string& out, int64_t value, int min_digits = 1) {
  char buf[24];
  int n = 0;
  do {
    buf[n++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value > 0);
  while (n < min_digits) buf[n++] = '0';
  while (n > 0) out += buf[--n];
}

void SetChildId(std::string& out, const std::string& patient_id, char tag, int n) {
  out.assign(patient_id);
  out += '-';
  out += tag;
  AppendInt(out, n);
}

// ---- Record pools: reuse strings' capacity between chunks --------------------------------

template <typename T>
struct Pool {
  std::vector<T> items;
  size_t used = 0;
  T& Next(uint32_t& index) {
    if (used == items.size()) items.emplace_back();
    index = static_cast<uint32_t>(used);
    return items[used++];
  }
};

enum class Op : uint8_t { kPatient, kEvent, kActivity, kMedication };

struct Batch {
  Pool<Patient> patients;
  Pool<ClinicalEvent> events;
  Pool<Activity> activities;
  Pool<Medication> medications;
  std::vector<std::pair<Op, uint32_t>> ops;
  GenerateStats stats;
  void Reset() {
    patients.used = events.used = activities.used = medications.used = 0;
    ops.clear();
    stats = GenerateStats{};
  }
};

// ---- The model: reference data plus tables derived from it once ---------------------------

struct Model {
  ReferenceData ref;
  Date as_of, window_start;
  uint64_t seed = 0;
  // Age/sex sampling: cumulative weights over (band, sex), sex 0 = female, 1 = male.
  std::vector<double> pop_cumulative;
  std::vector<std::pair<int, int>> pop_cells;  // (band index, sex)
  std::array<std::array<double, 2>, kMaxAge + 1> qx{};
  std::array<int, kMaxAge + 1> activity_band{};
  // thresholds[c][band][sex]: condition present when liability exceeds it.
  std::vector<std::array<std::array<double, 2>, kConditionBandCount>> condition_threshold;
  std::vector<std::array<double, kOldBandCount>> deficit_threshold;
  // Deficit ids (distinct eFI deficits): per condition (-1 if none) and per frailty deficit.
  std::vector<int> condition_deficit;
  std::vector<int> frailty_deficit;
  int deficit_count = 0;
  int polypharmacy_deficit = 0;
  std::vector<std::vector<int>> medications_by_condition;
  std::vector<int> given_female, given_male;
  std::vector<uint32_t> nhs_middles;  // valid 6-digit middles of 999 numbers, permuted
  // Practices.
  std::vector<Practice> practices;
  std::vector<int> practice_imd;
  std::vector<int64_t> practice_first_patient;  // size practices + 1
  int pch_count = 0;
};

bool ValidNhsMiddle(uint32_t middle, char& check) {
  char digits[10] = {'9', '9', '9'};
  for (int i = 8; i >= 3; --i) {
    digits[i] = static_cast<char>('0' + middle % 10);
    middle /= 10;
  }
  auto c = NhsNumber::CheckDigit(std::string_view(digits, 9));
  if (!c) return false;
  check = *c;
  // "9999999999" is one repeated digit and never issued.
  return !(std::string_view(digits, 9) == "999999999" && check == '9');
}

std::vector<uint32_t> BuildNhsMiddles(uint64_t seed, int64_t needed) {
  // An affine permutation of 000000..999999 (the multiplier is coprime with 10^6), so numbers
  // are scattered but each appears once; invalid Modulus 11 values are skipped.
  constexpr uint64_t kSpace = 1000000;
  constexpr uint64_t kMultiplier = 611953;
  const uint64_t offset = seed % kSpace;
  std::vector<uint32_t> out;
  out.reserve(static_cast<size_t>(std::min<int64_t>(needed, static_cast<int64_t>(kSpace))));
  for (uint64_t j = 0; j < kSpace && static_cast<int64_t>(out.size()) < needed; ++j) {
    const auto middle = static_cast<uint32_t>((kMultiplier * j + offset) % kSpace);
    char check;
    if (ValidNhsMiddle(middle, check)) out.push_back(middle);
  }
  return out;
}

int PickWeighted(Rng& rng, const std::vector<double>& cumulative) {
  const double x = rng.Uniform() * cumulative.back();
  return static_cast<int>(std::upper_bound(cumulative.begin(), cumulative.end(), x) -
                          cumulative.begin());
}

Result<std::vector<PracticePlan>> Plan(const GenerateOptions& options, const ReferenceData& ref) {
  Rng rng(options.seed, 0xffffffffffffULL);
  const int n = options.practices;
  // List sizes vary: log-normal weights (SD 0.45 on the log scale), scaled to the total.
  std::vector<double> weight(n);
  double sum = 0;
  for (auto& w : weight) sum += (w = std::exp(0.45 * rng.Normal()));
  std::vector<PracticePlan> plan(n);
  int64_t assigned = 0;
  double cumulative = 0;
  for (int p = 0; p < n; ++p) {
    cumulative += weight[p];
    const int64_t upto = p + 1 == n ? options.patients
                                    : std::max(assigned, static_cast<int64_t>(std::llround(
                                                             options.patients * cumulative / sum)));
    plan[p].list_size = upto - assigned;
    assigned = upto;
  }
  // Primary Care Homes: consecutive practices, a new group started before one would pass
  // the maximum or once it has reached the target; a last group under the minimum joins
  // the one before.
  std::vector<int> pch_of(n, 0);
  int pch = 0;
  int64_t in_group = 0;
  for (int p = 0; p < n; ++p) {
    if (in_group > 0 && (in_group >= kPchTarget || in_group + plan[p].list_size > kPchMaximum)) {
      ++pch;
      in_group = 0;
    }
    pch_of[p] = pch;
    in_group += plan[p].list_size;
  }
  if (pch > 0 && in_group < kPchMinimum) {
    for (int p = 0; p < n; ++p)
      if (pch_of[p] == pch) pch_of[p] = pch - 1;
  }
  std::vector<double> imd_cum;
  double acc = 0;
  for (double w : ref.imd_decile_weights) imd_cum.push_back(acc += w);
  for (int p = 0; p < n; ++p) {
    Practice& practice = plan[p].practice;
    practice.id = "SYN";
    AppendInt(practice.id, p + 1, 3);
    practice.postcode_district = ref.districts[rng.Below(ref.districts.size())];
    practice.name = "Synthetic Practice " + practice.id + " (" + practice.postcode_district + ")";
    practice.pch = "PCH";
    AppendInt(practice.pch, pch_of[p] + 1, 2);
    plan[p].imd_decile = PickWeighted(rng, imd_cum) + 1;
  }
  return plan;
}

Status CheckOptions(const GenerateOptions& options) {
  if (options.practices < 1 || options.practices > 999) {
    return Error::Invalid("practices must be between 1 and 999 (got " +
                          std::to_string(options.practices) + ")");
  }
  if (options.patients < 0 || options.patients > 9999999) {
    return Error::Invalid("patients must be between 0 and 9,999,999 (got " +
                          std::to_string(options.patients) + ")");
  }
  if (options.threads < 0) return Error::Invalid("threads must be 0 (all cores) or more");
  if (options.as_of.year() < 1930 || options.as_of.year() > 2200) {
    return Error::Invalid("as_of " + options.as_of.ToString() + " is outside 1930-2200");
  }
  return Ok();
}

Status BuildPractices(const GenerateOptions& options, Model& m) {
  JU_ASSIGN_OR_RETURN(std::vector<PracticePlan> plan, Plan(options, m.ref));
  m.practice_first_patient.assign(plan.size() + 1, 0);
  std::set<std::string> groups;
  for (size_t p = 0; p < plan.size(); ++p) {
    m.practice_first_patient[p + 1] = m.practice_first_patient[p] + plan[p].list_size;
    m.practice_imd.push_back(plan[p].imd_decile);
    groups.insert(plan[p].practice.pch);
    m.practices.push_back(std::move(plan[p].practice));
  }
  m.pch_count = static_cast<int>(groups.size());
  return Ok();
}

Result<std::unique_ptr<Model>> BuildModel(const GenerateOptions& options) {
  auto m = std::make_unique<Model>();
  JU_ASSIGN_OR_RETURN(m->ref, LoadReferenceData());
  const ReferenceData& ref = m->ref;
  m->as_of = options.as_of;
  m->window_start = options.as_of.AddDays(-kWindowDays);
  m->seed = options.seed;
  for (int age = 0; age <= kMaxAge; ++age) {
    for (const auto& band : ref.mortality)
      if (age >= band.age_from && age <= band.age_to) m->qx[age] = {band.qx_female, band.qx_male};
    if (age > ref.mortality.back().age_to) m->qx[age] = m->qx[age - 1];
    int found = static_cast<int>(ref.activity.size()) - 1;
    for (size_t i = 0; i < ref.activity.size(); ++i)
      if (age >= ref.activity[i].age_from && age <= ref.activity[i].age_to)
        found = static_cast<int>(i);
    m->activity_band[age] = found;
  }
  // Age/sex sampling weights: ONS count over the chance of surviving the 5-year window (at
  // the band's middle age), so the living population at the extract date follows ONS.
  double acc = 0;
  for (size_t b = 0; b < ref.population.size(); ++b) {
    const AgeSexBand& band = ref.population[b];
    const int mid = std::min(kMaxAge, (band.age_from + band.age_to + 1) / 2);
    for (int sex : {0, 1}) {
      double survive = 1;
      for (int y = 1; y <= 5; ++y) survive *= 1 - m->qx[std::max(0, mid - y)][sex];
      m->pop_cumulative.push_back(acc += (sex == 0 ? band.female : band.male) / survive);
      m->pop_cells.push_back({static_cast<int>(b), sex});
    }
  }
  if (acc <= 0) return Error::Invalid("data/synth/population_england.csv: population sums to zero");
  // Deficit ids by name, from the eFI codes list.
  std::map<std::string, int> deficit_id;
  std::map<std::string, std::string> deficit_of_code;
  for (const auto& c : ref.efi_codes) {
    deficit_of_code[c.code] = c.deficit;
    deficit_id.emplace(c.deficit, static_cast<int>(deficit_id.size()));
  }
  m->polypharmacy_deficit = static_cast<int>(deficit_id.size());
  m->deficit_count = m->polypharmacy_deficit + 1;
  for (const auto& c : ref.conditions) {
    std::array<std::array<double, 2>, kConditionBandCount> t{};
    for (int b = 0; b < kConditionBandCount; ++b) {
      t[b][0] = NormalQuantile(1 - std::min(0.999, c.prevalence[b] * 2 * c.female_share));
      t[b][1] = NormalQuantile(1 - std::min(0.999, c.prevalence[b] * 2 * (1 - c.female_share)));
    }
    m->condition_threshold.push_back(t);
    m->condition_deficit.push_back(c.efi_code.empty() ? -1
                                                      : deficit_id[deficit_of_code[c.efi_code]]);
  }
  for (const auto& d : ref.deficits) {
    std::array<double, kOldBandCount> t{};
    for (int b = 0; b < kOldBandCount; ++b) t[b] = NormalQuantile(1 - d.probability[b]);
    m->deficit_threshold.push_back(t);
    m->frailty_deficit.push_back(deficit_id[deficit_of_code[d.efi_code]]);
  }
  m->medications_by_condition.resize(ref.conditions.size());
  for (size_t i = 0; i < ref.medications.size(); ++i)
    m->medications_by_condition[ref.medications[i].condition].push_back(static_cast<int>(i));
  for (size_t i = 0; i < ref.given_names.size(); ++i)
    (ref.given_names[i].female ? m->given_female : m->given_male).push_back(static_cast<int>(i));
  m->nhs_middles = BuildNhsMiddles(options.seed, options.patients);
  JU_RETURN_IF_ERROR(BuildPractices(options, *m));
  return m;
}

// ---- One person ---------------------------------------------------------------------------

class PersonGenerator {
 public:
  PersonGenerator(const Model& m, Batch& batch) : m_(m), ref_(m.ref), batch_(batch) {}

  void Generate(int64_t index, int practice) {
    Rng rng(m_.seed, static_cast<uint64_t>(index));
    rng_ = &rng;
    event_n_ = activity_n_ = medication_n_ = 0;
    GenerateStats& stats = batch_.stats;

    // Who they are: age and sex at the extract date as if alive (the sampling weights are
    // ONS counts divided by 5-year survival, so that the living population at the extract
    // date has ONS's structure and the people who died in the window come on top).
    const auto [band, sex] = m_.pop_cells[PickWeighted(rng, m_.pop_cumulative)];
    const AgeSexBand& ab = ref_.population[band];
    female_ = sex == 0;
    const double age_years = ab.age_from + rng.Uniform() * (ab.age_to - ab.age_from + 1);
    birth_ = m_.as_of.AddDays(-static_cast<int32_t>(age_years * 365.2425) - 1);

    // Whether they died in the window: life-table qx for each year of it. Decedents carry
    // more morbidity: their latent factor is drawn from N(beta, 1), the standard normal
    // tilted by a mortality hazard proportional to exp(beta * z); survivors' from N(0, 1).
    death_.reset();
    std::array<double, 5> q{};
    double survive = 1;
    for (int y = 0; y < 5; ++y) {
      const Date seg = m_.window_start.AddDays(365 * y);
      if (seg < birth_) continue;
      const int age = std::min(kMaxAge, static_cast<int>(birth_.DaysUntil(seg) / 365.2425));
      q[y] = m_.qx[age][female_ ? 0 : 1];
      survive *= 1 - q[y];
    }
    if (rng.Chance(1 - survive)) {
      // The year of death: year y with probability S(y) q(y) / (1 - S(5)).
      double x = rng.Uniform() * (1 - survive), alive_to = 1;
      int year = 4;
      for (int y = 0; y < 5; ++y) {
        const double p_die = alive_to * q[y];
        if (x < p_die) {
          year = y;
          break;
        }
        x -= p_die;
        alive_to *= 1 - q[y];
      }
      const Date seg = std::max(m_.window_start.AddDays(365 * year), birth_);
      const Date seg_end = m_.window_start.AddDays(365 * (year + 1));
      death_ = seg < seg_end ? Between(rng, seg, seg_end) : seg;
      z_ = kMortalityBeta + rng.Normal();
    } else {
      z_ = rng.Normal();
    }

    uint32_t pi;
    Patient& p = batch_.patients.Next(pi);
    batch_.ops.push_back({Op::kPatient, pi});
    p.id.assign("p");
    AppendInt(p.id, index, 7);
    patient_id_ = &p.id;
    p.nhs_number.reset();
    if (index < static_cast<int64_t>(m_.nhs_middles.size())) {
      std::string digits = "999";
      AppendInt(digits, m_.nhs_middles[index], 6);
      digits += *NhsNumber::CheckDigit(digits);
      auto parsed = NhsNumber::Parse(digits);
      if (parsed.ok()) p.nhs_number = std::move(parsed).value();
    }
    if (!p.nhs_number) ++stats.patients_without_nhs_number;
    p.source_identifier.assign("https://joinedup.example/synthetic-patient|");
    p.source_identifier += p.id;
    const int birth_year = birth_.year();
    p.given_name = PickGivenName(birth_year);
    p.family_name = ref_.family_names[rng.Below(ref_.family_names.size())];
    p.birth_date = birth_;
    p.sex = female_ ? Sex::kFemale : Sex::kMale;
    const Practice& practice_rec = m_.practices[practice];
    p.postcode_district = practice_rec.postcode_district;
    const double spread = rng.Uniform();
    p.deprivation_decile = std::clamp(m_.practice_imd[practice] + (spread < 0.25    ? -1
                                                                   : spread >= 0.75 ? 1
                                                                                    : 0),
                                      1, 10);
    p.practice_id = practice_rec.id;
    practice_id_ = &practice_rec.id;

    p.death_date = death_;
    end_ = death_ ? *death_ : m_.as_of;
    if (death_) ++stats.deaths;
    age_now_ = std::min(kMaxAge, AgeInYears(birth_, end_));
    ++stats.patients;

    Conditions();
    Deficits();
    Medications();
    Intensity();
    Activities();
    SocialCare();
  }

 private:
  const std::string& PickGivenName(int birth_year) {
    const std::vector<int>& pool = female_ ? m_.given_female : m_.given_male;
    // Names of the person's birth period; pool sizes are small, so count then pick.
    int matching = 0;
    for (int i : pool) {
      const GivenName& g = ref_.given_names[i];
      matching += birth_year >= g.born_from && birth_year <= g.born_to;
    }
    if (matching == 0) return ref_.given_names[pool[rng_->Below(pool.size())]].name;
    int pick = static_cast<int>(rng_->Below(matching));
    for (int i : pool) {
      const GivenName& g = ref_.given_names[i];
      if (birth_year >= g.born_from && birth_year <= g.born_to && pick-- == 0) return g.name;
    }
    return ref_.given_names[pool[0]].name;
  }

  ClinicalEvent& NewEvent() {
    uint32_t i;
    ClinicalEvent& e = batch_.events.Next(i);
    batch_.ops.push_back({Op::kEvent, i});
    SetChildId(e.id, *patient_id_, 'c', ++event_n_);
    e.patient_id.assign(*patient_id_);
    e.kind = EventKind::kCondition;
    e.source = EventSource::kGp;
    e.admission_method = AdmissionMethod::kNone;
    e.activity_id.clear();
    e.value.reset();
    e.unit.clear();
    ++batch_.stats.clinical_events;
    return e;
  }

  Activity& NewActivity(ActivityType type, Date start, int64_t cost) {
    uint32_t i;
    Activity& a = batch_.activities.Next(i);
    batch_.ops.push_back({Op::kActivity, i});
    SetChildId(a.id, *patient_id_, 'a', ++activity_n_);
    a.patient_id.assign(*patient_id_);
    a.type = type;
    a.start = start;
    a.end.reset();
    a.length_of_stay_days = 0;
    a.cost_pence = cost;
    a.specialty.clear();
    a.practice_id.clear();
    ++batch_.stats.activities;
    ++batch_.stats.activities_by_type[static_cast<int>(type)];
    batch_.stats.total_cost_pence += cost;
    return a;
  }

  // A date uniformly in [from, to); `to` > `from`.
  static Date Between(Rng& rng, Date from, Date to) {
    return from.AddDays(static_cast<int32_t>(rng.Below(static_cast<uint64_t>(from.DaysUntil(to)))));
  }
  Date Between(Date from, Date to) { return Between(*rng_, from, to); }

  void Conditions() {
    has_.assign(ref_.conditions.size(), false);
    onset_.assign(ref_.conditions.size(), Date());
    deficits_.assign(m_.deficit_count, false);
    condition_count_ = 0;
    const int band = ConditionBand(age_now_);
    const int sex = female_ ? 0 : 1;
    const int lived_days = std::max(1, birth_.DaysUntil(end_));
    for (size_t c = 0; c < ref_.conditions.size(); ++c) {
      const ConditionSpec& spec = ref_.conditions[c];
      const double e = rng_->Normal();
      const double liability = spec.loading * z_ + std::sqrt(1 - spec.loading * spec.loading) * e;
      if (liability <= m_.condition_threshold[c][band][sex]) continue;
      has_[c] = true;
      ++condition_count_;
      // Diagnosed some time in the last 20 years (or since birth).
      const int back =
          static_cast<int>(rng_->Below(static_cast<uint64_t>(std::min(lived_days, 20 * 365))));
      onset_[c] = end_.AddDays(-back);
      ClinicalEvent& ev = NewEvent();
      ev.system = CodeSystem::kSnomedCt;
      ev.code = spec.snomed;
      ev.term = spec.term;
      ev.date = onset_[c];
      if (!spec.efi_code.empty()) {
        ClinicalEvent& legacy = NewEvent();
        legacy.system = CodeSystem::kReadV2;
        legacy.code = spec.efi_code;
        legacy.term = spec.term;
        legacy.date = onset_[c];
        deficits_[m_.condition_deficit[c]] = true;
      }
    }
  }

  void Deficits() {
    const int band = OldBand(age_now_);
    if (age_now_ < 18) return;
    for (size_t d = 0; d < ref_.deficits.size(); ++d) {
      const DeficitSpec& spec = ref_.deficits[d];
      const double e = rng_->Normal();
      const double liability = spec.loading * z_ + std::sqrt(1 - spec.loading * spec.loading) * e;
      if (liability <= m_.deficit_threshold[d][band]) continue;
      const int id = m_.frailty_deficit[d];
      if (deficits_[id]) continue;
      deficits_[id] = true;
      ClinicalEvent& ev = NewEvent();
      ev.kind = EventKind::kObservation;
      ev.system = CodeSystem::kReadV2;
      ev.code = spec.efi_code;
      ev.term = spec.term;
      const Date from = std::max(m_.window_start, birth_.AddYears(18));
      ev.date = from < end_ ? Between(from, end_) : end_;
    }
  }

  void Medications() {
    held_.clear();
    int current = 0;
    for (size_t c = 0; c < ref_.conditions.size(); ++c) {
      if (!has_[c]) continue;
      for (int mi : m_.medications_by_condition[c]) {
        const MedicationSpec& spec = ref_.medications[mi];
        if (!rng_->Chance(spec.probability)) continue;
        if (std::find(held_.begin(), held_.end(), mi) != held_.end()) continue;
        bool same_code = false;
        for (int h : held_) same_code |= ref_.medications[h].code == spec.code;
        if (same_code) continue;
        held_.push_back(mi);
        uint32_t i;
        Medication& med = batch_.medications.Next(i);
        batch_.ops.push_back({Op::kMedication, i});
        SetChildId(med.id, *patient_id_, 'm', ++medication_n_);
        med.patient_id.assign(*patient_id_);
        med.system = CodeSystem::kDmd;
        med.code = spec.code;
        med.term = spec.term;
        med.start = std::min(onset_[c].AddDays(static_cast<int32_t>(rng_->Below(90))), end_);
        med.end.reset();
        if (death_) {
          med.end = death_;
        } else if (rng_->Chance(0.08) && med.start < end_) {
          med.end = Between(med.start, end_);  // stopped
        } else {
          ++current;
        }
        ++batch_.stats.medications;
      }
    }
    if (current >= 5) deficits_[m_.polypharmacy_deficit] = true;
    deficit_total_ = static_cast<int>(std::count(deficits_.begin(), deficits_.end(), true));
  }

  void Intensity() {
    const double u = kIntensityOnFactor * z_ +
                     std::sqrt(1 - kIntensityOnFactor * kIntensityOnFactor) * rng_->Normal();
    intensity_ = std::exp(kIntensitySigma * u - kIntensitySigma * kIntensitySigma / 2);
    const double s = kIntensitySigma / 2;
    gp_intensity_ = std::exp(s * u - s * s / 2);
  }

  bool Matches(const DiagnosisSpec& d, int age, Date on) const {
    switch (d.trigger) {
      case TriggerKind::kAny:
        return true;
      case TriggerKind::kChild:
        return age < 16;
      case TriggerKind::kAge50:
        return age >= 50;
      case TriggerKind::kAge75:
        return age >= 75;
      case TriggerKind::kMale50:
        return !female_ && age >= 50;
      case TriggerKind::kCondition:
        return has_[d.condition] && onset_[d.condition] <= on;
    }
    return false;
  }

  const DiagnosisSpec* PickDiagnosis(DiagnosisKind kind, int age, Date on) {
    double total = 0;
    for (const auto& d : ref_.diagnoses)
      if (d.kind == kind && Matches(d, age, on)) total += d.weight;
    if (total <= 0) return nullptr;
    double x = rng_->Uniform() * total;
    const DiagnosisSpec* last = nullptr;
    for (const auto& d : ref_.diagnoses) {
      if (d.kind != kind || !Matches(d, age, on)) continue;
      last = &d;
      if ((x -= d.weight) < 0) return &d;
    }
    return last;
  }

  void Diagnosis(const Activity& admission, AdmissionMethod method, bool x_filler,
                 const std::string& code, const std::string& term) {
    ClinicalEvent& ev = NewEvent();
    ev.system = CodeSystem::kIcd10;
    ev.code = code;
    if (x_filler && code.size() == 3) ev.code += 'X';
    ev.term = term;
    ev.date = admission.start;
    ev.source = EventSource::kHospital;
    ev.admission_method = method;
    ev.activity_id = admission.id;
    ++batch_.stats.hospital_diagnoses;
  }

  void Admission(bool emergency, Date start, int age) {
    const ActivityBand& band = ref_.activity[m_.activity_band[age]];
    const UnitCosts& cost = ref_.costs;
    const DiagnosisSpec* primary =
        PickDiagnosis(emergency ? DiagnosisKind::kEmergency : DiagnosisKind::kElective, age, start);
    int los;
    int64_t pence;
    if (emergency) {
      const double frail = 0.8 + 0.05 * deficit_total_;
      const bool same_day = rng_->Chance(age < 65 ? 0.30 : 0.15);
      los = same_day ? 0
                     : 1 + static_cast<int>(rng_->Exponential(
                               std::max(0.5, band.emergency_mean_los * frail - 1)));
    } else {
      los = rng_->Chance(band.day_case_share)
                ? 0
                : 1 + static_cast<int>(rng_->Exponential(band.elective_mean_los - 1 + 0.01));
    }
    los = std::min(los, std::max(0, start.DaysUntil(end_)));
    if (emergency) {
      pence = los <= 1 ? cost.nel_short_stay_spell
                       : cost.nel_long_stay_spell + std::max(0, los - 5) * cost.excess_bed_day;
    } else {
      pence = los == 0 ? cost.elective_day_case : cost.elective_inpatient_spell;
    }
    Activity& a = NewActivity(
        emergency ? ActivityType::kEmergencyAdmission : ActivityType::kElectiveAdmission, start,
        pence);
    a.end = start.AddDays(los);
    a.length_of_stay_days = los;
    a.specialty = primary ? primary->specialty : "300";
    const AdmissionMethod method =
        emergency ? AdmissionMethod::kEmergency : AdmissionMethod::kElective;
    const bool x_filler = rng_->Chance(kXFillerShare);
    // Copy what the diagnoses need: adding events may not move activities, but keep it simple.
    const Activity& admission = a;
    if (primary) Diagnosis(admission, method, x_filler, primary->icd10, primary->term);
    for (size_t c = 0; c < ref_.conditions.size(); ++c) {
      if (!has_[c] || onset_[c] > start) continue;
      if (primary && primary->icd10 == ref_.conditions[c].icd10) continue;
      Diagnosis(admission, method, x_filler, ref_.conditions[c].icd10,
                ref_.conditions[c].icd10_term);
    }
    if (emergency && age >= 65) {
      const int n = rng_->Poisson(0.2 + 0.2 * std::max(0, deficit_total_ - 2));
      std::vector<const DiagnosisSpec*> added;
      if (primary && primary->icd10 == "S72.0") {
        for (const auto& d : ref_.diagnoses)
          if (d.kind == DiagnosisKind::kFrailtySecondary && d.icd10 == "W19") added.push_back(&d);
      }
      for (int k = 0; k < n; ++k) {
        const DiagnosisSpec* d = PickDiagnosis(DiagnosisKind::kFrailtySecondary, age, start);
        if (d && std::find(added.begin(), added.end(), d) == added.end()) added.push_back(d);
      }
      for (const DiagnosisSpec* d : added)
        Diagnosis(admission, method, x_filler, d->icd10, d->term);
    }
  }

  const char* OutpatientSpecialty(int age) {
    static constexpr const char* kGeneral[] = {"100", "101", "110", "120",
                                               "130", "300", "301", "330"};
    if (age < 16) return rng_->Chance(0.7) ? "420" : kGeneral[rng_->Below(8)];
    // Condition-led clinics: cardiology, respiratory, diabetic medicine, nephrology, clinical
    // oncology, rheumatology, trauma & orthopaedics, neurology, geriatric medicine.
    static const std::map<std::string, const char*> kByCondition{
        {"chd", "320"},
        {"heart_failure", "320"},
        {"atrial_fibrillation", "320"},
        {"copd", "340"},
        {"asthma", "340"},
        {"diabetes_t2", "307"},
        {"ckd", "361"},
        {"cancer", "800"},
        {"rheumatoid_arthritis", "410"},
        {"osteoarthritis", "110"},
        {"osteoporosis", "110"},
        {"epilepsy", "400"},
        {"parkinsons", "400"},
        {"stroke", "400"},
        {"dementia", "430"},
    };
    if (condition_count_ > 0 && rng_->Chance(0.6)) {
      int pick = static_cast<int>(rng_->Below(condition_count_));
      for (size_t c = 0; c < ref_.conditions.size(); ++c) {
        if (!has_[c] || pick-- != 0) continue;
        auto it = kByCondition.find(ref_.conditions[c].key);
        if (it != kByCondition.end()) return it->second;
        break;
      }
    }
    if (age >= 75 && rng_->Chance(0.3)) return "430";
    if (female_ && rng_->Chance(0.1)) return "502";
    return kGeneral[rng_->Below(8)];
  }

  void Activities() {
    const UnitCosts& cost = ref_.costs;
    for (int y = 0; y < 5; ++y) {
      const Date seg_start = std::max(m_.window_start.AddDays(365 * y), birth_);
      const Date seg_end = std::min(m_.window_start.AddDays(365 * (y + 1)), end_);
      if (seg_end <= seg_start) continue;
      const double exposure = seg_start.DaysUntil(seg_end) / 365.0;
      const int age = std::min(kMaxAge, static_cast<int>(birth_.DaysUntil(seg_start) / 365.2425));
      const ActivityBand& band = ref_.activity[m_.activity_band[age]];
      const double per_k = intensity_ * exposure / 1000.0;

      for (int n = rng_->Poisson(band.gp_appointments * gp_intensity_ * exposure); n > 0; --n) {
        Activity& a = NewActivity(ActivityType::kGpAppointment, Between(seg_start, seg_end),
                                  cost.gp_appointment);
        a.practice_id.assign(*practice_id_);
      }
      for (int n = rng_->Poisson(band.ae * per_k); n > 0; --n) {
        Activity& a = NewActivity(ActivityType::kAeAttendance, Between(seg_start, seg_end),
                                  cost.ae_attendance);
        a.specialty.assign("180");
        a.end = a.start;
      }
      for (int n = rng_->Poisson(band.emergency * per_k); n > 0; --n)
        Admission(true, Between(seg_start, seg_end), age);
      for (int n = rng_->Poisson(band.elective * per_k); n > 0; --n)
        Admission(false, Between(seg_start, seg_end), age);
      for (int n = rng_->Poisson(band.op_first * per_k); n > 0; --n) {
        Activity& a =
            NewActivity(ActivityType::kOutpatientFirst, Between(seg_start, seg_end), cost.op_first);
        a.specialty.assign(OutpatientSpecialty(age));
      }
      for (int n = rng_->Poisson(band.op_follow_up * per_k); n > 0; --n) {
        Activity& a = NewActivity(ActivityType::kOutpatientFollowUp, Between(seg_start, seg_end),
                                  cost.op_follow_up);
        a.specialty.assign(OutpatientSpecialty(age));
      }
      for (int n = rng_->Poisson(band.community_nursing * per_k); n > 0; --n) {
        NewActivity(ActivityType::kCommunityNursing, Between(seg_start, seg_end),
                    cost.community_nursing_contact);
      }
    }
  }

  void SocialCare() {
    if (age_now_ < 65) return;
    const int category = deficit_total_ <= 4    ? 0
                         : deficit_total_ <= 8  ? 1
                         : deficit_total_ <= 12 ? 2
                                                : 3;
    static constexpr ActivityType kTypes[] = {ActivityType::kSocialCarePackage,
                                              ActivityType::kCareHomePlacement,
                                              ActivityType::kContinuingHealthcare};
    const std::array<int64_t, kServiceCount> weekly{ref_.costs.home_care_week,
                                                    ref_.costs.care_home_week,
                                                    ref_.costs.continuing_healthcare_week};
    for (int s = 0; s < kServiceCount; ++s) {
      const ServiceSpec& spec = ref_.services[s];
      if (!rng_->Chance(spec.share[category])) continue;
      const int back =
          1 + static_cast<int>(rng_->Below(static_cast<uint64_t>(spec.duration_years * 365)));
      const Date start = std::max(end_.AddDays(-back), birth_.AddYears(65));
      if (!(start < end_)) continue;
      const Date costed_from = std::max(start, m_.window_start);
      const int64_t days = costed_from < end_ ? costed_from.DaysUntil(end_) : 0;
      const int64_t pence = std::max<int64_t>(1, weekly[s] * days / 7);
      Activity& a = NewActivity(kTypes[s], start, pence);
      if (death_) a.end = death_;
    }
  }

  const Model& m_;
  const ReferenceData& ref_;
  Batch& batch_;
  Rng* rng_ = nullptr;
  const std::string* patient_id_ = nullptr;
  const std::string* practice_id_ = nullptr;
  int event_n_ = 0, activity_n_ = 0, medication_n_ = 0;
  bool female_ = false;
  Date birth_, end_;
  std::optional<Date> death_;
  int age_now_ = 0;
  double z_ = 0, intensity_ = 1, gp_intensity_ = 1;
  std::vector<bool> has_;
  std::vector<Date> onset_;
  std::vector<bool> deficits_;
  std::vector<int> held_;
  int condition_count_ = 0;
  int deficit_total_ = 0;
};

int PracticeOf(const Model& m, int64_t index) {
  const auto& first = m.practice_first_patient;
  return static_cast<int>(std::upper_bound(first.begin(), first.end(), index) - first.begin()) - 1;
}

void GenerateChunk(const Model& m, int64_t chunk, int64_t total, Batch& batch) {
  batch.Reset();
  PersonGenerator gen(m, batch);
  const int64_t begin = chunk * kPersonsPerChunk;
  const int64_t end = std::min(total, begin + kPersonsPerChunk);
  for (int64_t i = begin; i < end; ++i) gen.Generate(i, PracticeOf(m, i));
}

void Merge(GenerateStats& into, const GenerateStats& from) {
  into.patients += from.patients;
  into.deaths += from.deaths;
  into.patients_without_nhs_number += from.patients_without_nhs_number;
  into.clinical_events += from.clinical_events;
  into.hospital_diagnoses += from.hospital_diagnoses;
  into.medications += from.medications;
  into.activities += from.activities;
  for (int t = 0; t < kActivityTypeCount; ++t)
    into.activities_by_type[t] += from.activities_by_type[t];
  into.total_cost_pence += from.total_cost_pence;
}

Status Emit(const Batch& batch, PopulationSink& sink) {
  for (const auto& [op, i] : batch.ops) {
    switch (op) {
      case Op::kPatient:
        JU_RETURN_IF_ERROR(sink.Add(batch.patients.items[i]));
        break;
      case Op::kEvent:
        JU_RETURN_IF_ERROR(sink.Add(batch.events.items[i]));
        break;
      case Op::kActivity:
        JU_RETURN_IF_ERROR(sink.Add(batch.activities.items[i]));
        break;
      case Op::kMedication:
        JU_RETURN_IF_ERROR(sink.Add(batch.medications.items[i]));
        break;
    }
  }
  return Ok();
}

}  // namespace

int64_t NhsNumberCapacity() {
  static const int64_t capacity = static_cast<int64_t>(BuildNhsMiddles(0, 1000000).size());
  return capacity;
}

Result<std::vector<PracticePlan>> PlanPractices(const GenerateOptions& options) {
  JU_RETURN_IF_ERROR(CheckOptions(options));
  JU_ASSIGN_OR_RETURN(ReferenceData ref, LoadReferenceData());
  return Plan(options, ref);
}

Result<GenerateStats> Generate(const GenerateOptions& options, PopulationSink& sink) {
  JU_RETURN_IF_ERROR(CheckOptions(options));
  JU_ASSIGN_OR_RETURN(std::unique_ptr<Model> model, BuildModel(options));
  const Model& m = *model;

  GenerateStats stats;
  stats.practices = static_cast<int64_t>(m.practices.size());
  stats.primary_care_homes = m.pch_count;
  for (const Practice& practice : m.practices) JU_RETURN_IF_ERROR(sink.Add(practice));

  const int64_t total = options.patients;
  const int64_t chunks = (total + kPersonsPerChunk - 1) / kPersonsPerChunk;
  int threads = options.threads;
  if (threads == 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  threads = static_cast<int>(std::min<int64_t>(threads, std::max<int64_t>(1, chunks)));

  if (threads == 1) {
    Batch batch;
    for (int64_t c = 0; c < chunks; ++c) {
      GenerateChunk(m, c, total, batch);
      JU_RETURN_IF_ERROR(Emit(batch, sink));
      Merge(stats, batch.stats);
      if (options.progress) options.progress(std::min(total, (c + 1) * kPersonsPerChunk), total);
    }
    return stats;
  }

  // Workers fill a ring of slots; the calling thread emits them in chunk order. A worker
  // may run at most `slots` chunks ahead of the emitter, which bounds memory.
  const int slots = 2 * threads + 2;
  struct Slot {
    Batch batch;
    int64_t chunk = -1;
    bool ready = false;
  };
  std::vector<Slot> ring(slots);
  std::mutex mu;
  std::condition_variable cv;
  int64_t next_claim = 0, next_emit = 0;
  bool stop = false;

  auto worker = [&] {
    while (true) {
      int64_t c;
      {
        std::unique_lock lock(mu);
        cv.wait(lock,
                [&] { return stop || next_claim >= chunks || next_claim < next_emit + slots; });
        if (stop || next_claim >= chunks) return;
        c = next_claim++;
      }
      Slot& slot = ring[c % slots];
      GenerateChunk(m, c, total, slot.batch);
      {
        std::lock_guard lock(mu);
        slot.chunk = c;
        slot.ready = true;
      }
      cv.notify_all();
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(threads);
  for (int t = 0; t < threads; ++t) pool.emplace_back(worker);

  Status status;
  for (int64_t c = 0; c < chunks; ++c) {
    Slot& slot = ring[c % slots];
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return slot.ready && slot.chunk == c; });
    }
    status = Emit(slot.batch, sink);
    if (!status.ok()) break;
    Merge(stats, slot.batch.stats);
    {
      std::lock_guard lock(mu);
      slot.ready = false;
      next_emit = c + 1;
    }
    cv.notify_all();
    if (options.progress) options.progress(std::min(total, (c + 1) * kPersonsPerChunk), total);
  }
  {
    std::lock_guard lock(mu);
    stop = true;
  }
  cv.notify_all();
  for (auto& t : pool) t.join();
  if (!status.ok()) return status.take_error();
  return stats;
}

}  // namespace joinedup::synth
