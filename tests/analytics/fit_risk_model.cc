// fit_risk_model: regenerates data/risk/admission_risk_model.csv, deterministically, from the
// synthetic population, and times the feature engine on it.
//
//   fit_risk_model [--people N] [--seed S] [--as-of YYYY-MM-DD] [--threads T] [--out FILE]
//                  [--repeat-events K]
//
// Generates the population (synth::Generate), fits the emergency-admission model with
// FitAdmissionRisk (features at as_of - 1 year, outcome in the following year, 50/50 split by
// person key) and prints the held-out c-statistic; then computes every feature at as_of with
// the fitted model and prints how long ComputeFeatures took. With --out, writes the model with
// its provenance. Same options, same file, whatever the thread count.
// --repeat-events K times the feature engine on a denser record (each person's coded events
// repeated K times; the generator records about 5 events a person, real GP records far more);
// the model is always fitted on the records as generated.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "analytics/feature_engine.h"
#include "analytics/risk_model.h"
#include "synth_cohort.h"

namespace {

using joinedup::Date;
using namespace joinedup::analytics;

// The model's terms. Reference levels (left out): age 18-39, female, eFI fit, HFRS low, no
// prior admission or attendance, deprivation deciles 5-10.
const std::vector<std::string> kPredictors = {
    "intercept",
    "age=0..4",
    "age=5..17",
    "age=40..54",
    "age=55..64",
    "age=65..74",
    "age=75..84",
    "age>=85",
    "sex=male",
    "ltc_count",
    "ltc:heart_failure",
    "ltc:copd",
    "ltc:ckd",
    "ltc:dementia",
    "ltc:diabetes",
    "ltc:cancer",
    "ltc:atrial_fibrillation",
    "ltc:chd",
    "ltc:stroke_tia",
    "mental_health_need",
    "efi_category=mild",
    "efi_category=moderate",
    "efi_category=severe",
    "hfrs_category=intermediate",
    "hfrs_category=high",
    "charlson_quan2011",
    "emergency_admissions_12m=1",
    "emergency_admissions_12m=2",
    "emergency_admissions_12m>=3",
    "ae_attendances_12m=1",
    "ae_attendances_12m>=2",
    "log1p(bed_days_12m)",
    "log1p(annual_cost_pence)",
    "deprivation_decile=1..2",
    "deprivation_decile=3..4",
    "care_home",
    "continuing_healthcare",
    "social_care_package",
};
constexpr double kRidge = 1.0;

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

int Usage() {
  std::fprintf(stderr,
               "usage: fit_risk_model [--people N] [--seed S] [--as-of YYYY-MM-DD] "
               "[--threads T] [--out FILE] [--repeat-events K]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  joinedup::synth::GenerateOptions options;
  options.seed = 20240331;
  options.patients = 1000000;
  options.as_of = Date::FromYmd(2024, 3, 31);
  int threads = 0, repeat_events = 1;
  std::string out;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (i + 1 >= argc) return Usage();
    const char* value = argv[++i];
    if (arg == "--people") {
      options.patients = std::atoll(value);
    } else if (arg == "--seed") {
      options.seed = std::strtoull(value, nullptr, 10);
    } else if (arg == "--threads") {
      threads = std::atoi(value);
    } else if (arg == "--repeat-events") {
      repeat_events = std::max(1, std::atoi(value));
    } else if (arg == "--out") {
      out = value;
    } else if (arg == "--as-of") {
      auto date = Date::Parse(value);
      if (!date.ok()) {
        std::fprintf(stderr, "--as-of: %s\n", date.error().ToString().c_str());
        return 2;
      }
      options.as_of = *date;
    } else {
      return Usage();
    }
  }
  options.threads = threads;

  auto start = std::chrono::steady_clock::now();
  auto cohort = joinedup::analytics::testing::GenerateCohort(options);
  if (!cohort.ok()) {
    std::fprintf(stderr, "generate: %s\n", cohort.error().ToString().c_str());
    return 1;
  }
  std::printf("generated %zu people, %zu events, %zu activities, %zu medications in %.2f s\n",
              cohort->size(), cohort->events.size(), cohort->activities.size(),
              cohort->medications.size(), Seconds(start));

  start = std::chrono::steady_clock::now();
  auto fit = FitAdmissionRisk(*cohort, options.as_of, kPredictors, kRidge, threads);
  if (!fit.ok()) {
    std::fprintf(stderr, "fit: %s\n", fit.error().ToString().c_str());
    return 1;
  }
  std::printf(
      "fitted in %.2f s (%d Newton iterations): train %lld people (%lld admitted), "
      "held out %lld (%lld admitted), held-out c-statistic %.4f\n",
      Seconds(start), fit->iterations, static_cast<long long>(fit->train_people),
      static_cast<long long>(fit->train_admitted), static_cast<long long>(fit->test_people),
      static_cast<long long>(fit->test_admitted), fit->c_statistic);
  for (const RiskModel::Term& t : fit->model.terms())
    std::printf("  %-30s %+.4f\n", t.predictor.c_str(), t.coefficient);

  if (repeat_events > 1) {
    std::vector<joinedup::Cohort::Event> events;
    events.reserve(cohort->events.size() * static_cast<size_t>(repeat_events));
    std::vector<uint64_t> begin = {0};
    for (size_t i = 0; i < cohort->size(); ++i) {
      for (const joinedup::Cohort::Event& e : cohort->EventsOf(i))
        events.insert(events.end(), static_cast<size_t>(repeat_events), e);
      begin.push_back(events.size());
    }
    cohort->events = std::move(events);
    cohort->event_begin = std::move(begin);
  }

  FeatureOptions features;
  features.index_date = options.as_of;
  features.threads = threads;
  features.risk_model = &fit->model;
  start = std::chrono::steady_clock::now();
  auto computed = ComputeFeatures(*cohort, features);
  if (!computed.ok()) {
    std::fprintf(stderr, "features: %s\n", computed.error().ToString().c_str());
    return 1;
  }
  std::printf(
      "ComputeFeatures at %s on %d thread(s): %zu people, %zu events, %zu evidence "
      "rows in %.3f s\n",
      options.as_of.ToString().c_str(), threads, cohort->size(), cohort->events.size(),
      computed->evidence.size(), Seconds(start));

  if (out.empty()) return 0;
  char c_statistic[32];
  std::snprintf(c_statistic, sizeof c_statistic, "%.4f", fit->c_statistic);
  const std::vector<std::string> provenance = {
      "Emergency-admission risk model: probability of at least one emergency hospital admission "
      "in the 12 months after the index date = 1 / (1 + exp(-sum(coefficient x predictor))). "
      "Predictor language: src/analytics/risk_model.h.",
      "Method: open logistic model in the style of the Patients at Risk of Re-hospitalisation "
      "tool and the Combined Predictive Model: Billings J, Dixon J, Mijanovich T, Wennberg D. "
      "BMJ 2006;333:327, doi:10.1136/bmj.38870.657917.AE; Wennberg D et al. Combined "
      "Predictive Model: final report. The King's Fund, 2006.",
      "Fitted by maximum likelihood (Newton-Raphson / IRLS, ridge " +
          std::to_string(kRidge).substr(0, 3) +
          " on every coefficient but the intercept) by fit_risk_model (tests/analytics/"
          "fit_risk_model.cc) on the SYNTHETIC population of synth::Generate with seed " +
          std::to_string(options.seed) + ", " + std::to_string(options.patients) + " people, " +
          std::to_string(options.practices) + " practices, as_of " + options.as_of.ToString() + ".",
      "Design: features at T0 = " + fit->index_date.ToString() +
          " (as_of - 1 year); outcome = an emergency admission starting in (T0, as_of]; people "
          "alive and born at T0; split 50/50 by SplitMix64(person key) parity.",
      "Training half: " + std::to_string(fit->train_people) + " people, " +
          std::to_string(fit->train_admitted) +
          " admitted. Held-out half: " + std::to_string(fit->test_people) + " people, " +
          std::to_string(fit->test_admitted) + " admitted; held-out c-statistic " + c_statistic +
          ". Converged in " + std::to_string(fit->iterations) + " iterations.",
      "CAUTION: the coefficients describe the synthetic generator's assumptions, not a real "
      "population. Refit on local data (same tool, same predictors) before any clinical use.",
  };
  std::ofstream file(out, std::ios::binary);
  file << fit->model.ToCsv(provenance);
  if (!file) {
    std::fprintf(stderr, "cannot write %s\n", out.c_str());
    return 1;
  }
  std::printf("wrote %s\n", out.c_str());
  return 0;
}
