// Emergency-admission risk: the probability that a person has at least one emergency hospital
// admission in the 12 months after the index date, from an open logistic model.
//
// Method (published and open, not a licensed tool): a logistic regression on routinely
// collected features, in the style of the Patients at Risk of Re-hospitalisation tool and the
// Combined Predictive Model (Billings J, Dixon J, Mijanovich T, Wennberg D. Case finding for
// patients at risk of readmission to hospital: development of algorithm to identify high risk
// patients. BMJ 2006;333:327, doi:10.1136/bmj.38870.657917.AE; Wennberg D, Siegel M, Darin B
// et al. Combined Predictive Model: final report. London: The King's Fund, 2006): age bands,
// sex, long-term conditions, frailty, prior emergency admissions, A&E attendances and bed days,
// cost, deprivation and social care. The coefficients are data (data/risk/
// admission_risk_model.csv, compiled in), fitted by maximum likelihood on the synthetic
// population with FitAdmissionRisk (tool: fit_risk_model, built from tests/analytics), whose
// `#` lines record how (seed, size, dates, held-out c-statistic).
//
// The model file: `#` provenance lines, the header `predictor,coefficient`, one row per term.
// A predictor is a formula over the features of features.h, so a commissioner can read it:
//   intercept                       1
//   <feature>                       the feature's value (FeatureValue), e.g. charlson_quan2011
//   <feature>=<v>                   1 if the value equals v (a number or a level, sex=male)
//   <feature>=<a>..<b>              1 if a <= value <= b, e.g. age=65..74
//   <feature>>=<v>                  1 if value >= v, e.g. emergency_admissions_12m>=3
//   log1p(<feature>)                ln(1 + value), e.g. log1p(annual_cost_pence)
//   ltc:<condition>                 1 if the person has that long-term condition
//   (ltc_conditions.csv)
// `deprivation_decile` (IMD 2019 decile, 1 = most deprived, 0 = unknown) may be named like a
// feature. `admission_risk` may not (it is the model's own output). Immutable after Parse.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "analytics/features.h"
#include "core/date.h"
#include "core/result.h"
#include "domain/cohort.h"

namespace joinedup::analytics {

class RiskModel {
 public:
  struct Term {
    std::string predictor;
    double coefficient = 0;
  };

  // Refuses, naming the line and field: a header other than predictor,coefficient; an unknown
  // or malformed predictor; a repeated predictor; a coefficient that is not a finite number; a
  // file with no terms.
  static Result<RiskModel> Parse(std::string_view file_name, std::string_view text);
  // The same checks for terms built in code (e.g. by the fitting tool).
  static Result<RiskModel> Make(std::vector<Term> terms);

  const std::vector<Term>& terms() const { return terms_; }

  // The person's value of each term's predictor, in term order (`out` has terms().size()).
  void Design(const PersonFeatures& person, std::span<double> out) const;
  double LinearPredictor(const PersonFeatures& person) const;
  // 1 / (1 + exp(-linear predictor)).
  double Score(const PersonFeatures& person) const;

  // The model file: `#` + each provenance line, the header, one row per term (coefficients to
  // 10 significant digits, which Parse reads back to within 5e-10 relative).
  std::string ToCsv(std::span<const std::string> provenance) const;

 private:
  enum class Kind : uint8_t { kIntercept, kValue, kEquals, kBetween, kAtLeast, kLog1p, kLtc };
  struct Predictor {
    Kind kind = Kind::kIntercept;
    int source = 0;  // Feature, or kDeprivation; the LTC index for kLtc
    double a = 0, b = 0;
  };
  static constexpr int kDeprivation = -1;
  static Result<Predictor> ParsePredictor(std::string_view name);
  static double SourceValue(const PersonFeatures& person, int source);
  static double Evaluate(const Predictor& p, const PersonFeatures& person);

  std::vector<Term> terms_;
  std::vector<Predictor> predictors_;
};

// The compiled-in data/risk/admission_risk_model.csv, parsed at first use (thread-safe).
Result<const RiskModel*> AdmissionRiskModel();

// ---- Fitting and validation ------------------------------------------------------------------

struct LogisticFit {
  std::vector<double> coefficients;  // one per design column
  int iterations = 0;
  double log_likelihood = 0;  // at the solution, without the penalty
};

// Maximum-likelihood logistic regression by Newton-Raphson (iteratively reweighted least
// squares), maximising log L(b) - ridge/2 * sum(b_j^2 for j >= 1): column 0 is taken to be the
// intercept and is not penalised; the small ridge keeps the Hessian invertible when a column is
// empty or two are collinear. `design` is row-major, rows x columns. Stops when no coefficient
// moves by more than 1e-9 (absolute); an error if that takes more than 100 iterations or the
// input is inconsistent. Deterministic: the same input gives bit-identical coefficients.
Result<LogisticFit> FitLogistic(std::span<const double> design, size_t columns,
                                std::span<const uint8_t> outcomes, double ridge);

// The c-statistic (area under the ROC curve): the probability that a random person with the
// outcome scores higher than a random person without it, ties counting one half (the
// Mann-Whitney U statistic / (positives x negatives)), computed exactly by sorting. An error
// when there are no positives or no negatives, or the spans differ in length.
Result<double> CStatistic(std::span<const double> scores, std::span<const uint8_t> outcomes);

// The whole published procedure on a cohort whose records run up to `as_of` (the extract date):
// features at T0 = as_of - 1 year (FeatureOptions::extract_date = as_of); people alive and born
// by T0 are eligible; outcome = an emergency admission (activity) starting in (T0, as_of];
// people are split 50/50 by a stable hash of their store key (SplitMix64(key) odd: held out);
// the model with `predictors` is fitted on the training half and its c-statistic measured on
// the held-out half.
struct AdmissionRiskFit {
  RiskModel model;
  Date index_date;  // T0
  int64_t train_people = 0, train_admitted = 0, test_people = 0, test_admitted = 0;
  int iterations = 0;
  double c_statistic = 0;  // held-out half
};
Result<AdmissionRiskFit> FitAdmissionRisk(const Cohort& cohort, Date as_of,
                                          std::span<const std::string> predictors, double ridge,
                                          int threads);

// True if the person (by store key) is in the held-out half of FitAdmissionRisk's split.
bool InHeldOutHalf(int64_t person_key);

}  // namespace joinedup::analytics
