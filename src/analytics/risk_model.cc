#include "analytics/risk_model.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <utility>

#include "analytics/code_lists.h"
#include "analytics/feature_engine.h"
#include "analytics/ltc_conditions.h"
#include "core/csv.h"

namespace joinedup::embedded {
std::string_view risk_admission_risk_model();
}  // namespace joinedup::embedded

namespace joinedup::analytics {
namespace {

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

Result<double> ParseNumber(std::string_view text) {
  double value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() ||
      !std::isfinite(value)) {
    return Error::Invalid("'" + std::string(text) + "' is not a number");
  }
  return value;
}

// ln(1 + e^x) without overflow.
double Softplus(double x) { return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x)); }
double Sigmoid(double x) {
  if (x >= 0) return 1 / (1 + std::exp(-x));
  const double e = std::exp(x);
  return e / (1 + e);
}

uint64_t SplitMix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// Solves a x = b for symmetric positive definite a (p x p, row-major) by Cholesky; false if
// `a` is not positive definite.
bool SolveCholesky(std::vector<double> a, std::vector<double>& b, size_t p) {
  for (size_t j = 0; j < p; ++j) {
    double d = a[j * p + j];
    for (size_t k = 0; k < j; ++k) d -= a[j * p + k] * a[j * p + k];
    if (!(d > 0)) return false;
    d = std::sqrt(d);
    a[j * p + j] = d;
    for (size_t i = j + 1; i < p; ++i) {
      double s = a[i * p + j];
      for (size_t k = 0; k < j; ++k) s -= a[i * p + k] * a[j * p + k];
      a[i * p + j] = s / d;
    }
  }
  for (size_t i = 0; i < p; ++i) {  // L y = b
    double s = b[i];
    for (size_t k = 0; k < i; ++k) s -= a[i * p + k] * b[k];
    b[i] = s / a[i * p + i];
  }
  for (size_t i = p; i-- > 0;) {  // L^T x = y
    double s = b[i];
    for (size_t k = i + 1; k < p; ++k) s -= a[k * p + i] * b[k];
    b[i] = s / a[i * p + i];
  }
  return true;
}

}  // namespace

// ---- Predictors ------------------------------------------------------------------------------

Result<RiskModel::Predictor> RiskModel::ParsePredictor(std::string_view name) {
  Predictor p;
  if (name == "intercept") return p;
  if (StartsWith(name, "ltc:")) {
    JU_ASSIGN_OR_RETURN(const LtcList* list, LtcConditions());
    p.kind = Kind::kLtc;
    p.source = list->ConditionIndex(name.substr(4));
    if (p.source < 0) {
      return Error::Invalid("'" + std::string(name.substr(4)) +
                            "' is not a condition of ltc_conditions.csv");
    }
    return p;
  }
  auto source_of = [](std::string_view text) -> Result<int> {
    if (text == "deprivation_decile") return kDeprivation;
    const auto feature = FeatureFromName(text);
    if (!feature) return Error::Invalid("'" + std::string(text) + "' is not a feature");
    if (*feature == Feature::kAdmissionRisk) {
      return Error::Invalid("admission_risk is the model's own output, not a predictor");
    }
    return static_cast<int>(*feature);
  };
  // A number, or for a categorical feature one of its levels ("male", "moderate").
  auto value_of = [](int source, std::string_view text) -> Result<double> {
    if (source != kDeprivation) {
      const auto levels = FeatureLevels(static_cast<Feature>(source));
      for (size_t i = 0; i < levels.size(); ++i)
        if (levels[i] == text) return static_cast<double>(i);
    }
    return ParseNumber(text);
  };
  if (StartsWith(name, "log1p(") && name.back() == ')') {
    p.kind = Kind::kLog1p;
    JU_ASSIGN_OR_RETURN(p.source, source_of(name.substr(6, name.size() - 7)));
    return p;
  }
  if (const size_t at = name.find(">="); at != std::string_view::npos) {
    p.kind = Kind::kAtLeast;
    JU_ASSIGN_OR_RETURN(p.source, source_of(name.substr(0, at)));
    JU_ASSIGN_OR_RETURN(p.a, value_of(p.source, name.substr(at + 2)));
    return p;
  }
  if (const size_t at = name.find('='); at != std::string_view::npos) {
    JU_ASSIGN_OR_RETURN(p.source, source_of(name.substr(0, at)));
    const std::string_view value = name.substr(at + 1);
    if (const size_t dots = value.find(".."); dots != std::string_view::npos) {
      p.kind = Kind::kBetween;
      JU_ASSIGN_OR_RETURN(p.a, value_of(p.source, value.substr(0, dots)));
      JU_ASSIGN_OR_RETURN(p.b, value_of(p.source, value.substr(dots + 2)));
      if (p.a > p.b) return Error::Invalid("empty range '" + std::string(value) + "'");
      return p;
    }
    p.kind = Kind::kEquals;
    JU_ASSIGN_OR_RETURN(p.a, value_of(p.source, value));
    return p;
  }
  p.kind = Kind::kValue;
  JU_ASSIGN_OR_RETURN(p.source, source_of(name));
  return p;
}

double RiskModel::SourceValue(const PersonFeatures& person, int source) {
  if (source == kDeprivation) return person.deprivation_decile;
  return FeatureValue(person, static_cast<Feature>(source));
}

double RiskModel::Evaluate(const Predictor& p, const PersonFeatures& person) {
  switch (p.kind) {
    case Kind::kIntercept:
      return 1;
    case Kind::kLtc:
      return static_cast<double>(person.ltc_mask >> p.source & 1);
    case Kind::kValue:
      return SourceValue(person, p.source);
    case Kind::kEquals:
      return SourceValue(person, p.source) == p.a;
    case Kind::kBetween: {
      const double v = SourceValue(person, p.source);
      return v >= p.a && v <= p.b;
    }
    case Kind::kAtLeast:
      return SourceValue(person, p.source) >= p.a;
    case Kind::kLog1p:
      return std::log1p(std::max(0.0, SourceValue(person, p.source)));
  }
  return 0;
}

// ---- RiskModel -------------------------------------------------------------------------------

Result<RiskModel> RiskModel::Make(std::vector<Term> terms) {
  if (terms.empty()) return Error::Invalid("a risk model needs at least one term");
  RiskModel model;
  for (size_t i = 0; i < terms.size(); ++i) {
    const Term& t = terms[i];
    for (size_t j = 0; j < i; ++j) {
      if (terms[j].predictor == t.predictor) {
        return Error::Invalid("predictor '" + t.predictor + "' is repeated");
      }
    }
    if (!std::isfinite(t.coefficient)) {
      return Error::Invalid("predictor '" + t.predictor + "': coefficient is not finite");
    }
    auto predictor = ParsePredictor(t.predictor);
    if (!predictor.ok()) {
      return Error::Invalid("predictor '" + t.predictor + "': " + predictor.error().message);
    }
    model.predictors_.push_back(*predictor);
  }
  model.terms_ = std::move(terms);
  return model;
}

Result<RiskModel> RiskModel::Parse(std::string_view file_name, std::string_view text) {
  JU_ASSIGN_OR_RETURN(ReferenceTable table,
                      ParseReferenceCsv(file_name, text, {"predictor", "coefficient"}));
  std::vector<Term> terms;
  for (const ReferenceRow& row : table.rows) {
    Term term;
    term.predictor = row.fields[0];
    for (const Term& earlier : terms) {
      if (earlier.predictor == term.predictor) {
        return Error::Invalid(table.Where(row, "predictor") + "'" + term.predictor +
                              "' is repeated");
      }
    }
    auto predictor = ParsePredictor(term.predictor);
    if (!predictor.ok()) {
      return Error::Invalid(table.Where(row, "predictor") + predictor.error().message);
    }
    JU_ASSIGN_OR_RETURN(term.coefficient,
                        ParseDoubleField(row.fields[1], table.Where(row, "coefficient")));
    terms.push_back(std::move(term));
  }
  return Make(std::move(terms));
}

void RiskModel::Design(const PersonFeatures& person, std::span<double> out) const {
  for (size_t i = 0; i < predictors_.size(); ++i) out[i] = Evaluate(predictors_[i], person);
}

double RiskModel::LinearPredictor(const PersonFeatures& person) const {
  double eta = 0;
  for (size_t i = 0; i < predictors_.size(); ++i)
    eta += terms_[i].coefficient * Evaluate(predictors_[i], person);
  return eta;
}

double RiskModel::Score(const PersonFeatures& person) const {
  return Sigmoid(LinearPredictor(person));
}

std::string RiskModel::ToCsv(std::span<const std::string> provenance) const {
  std::string out;
  for (const std::string& line : provenance) out += "# " + line + "\n";
  out += "predictor,coefficient\n";
  for (const Term& t : terms_) {
    char number[64];
    std::snprintf(number, sizeof number, "%.10g", t.coefficient);
    AppendCsvField(out, t.predictor);
    out += ',';
    out += number;
    out += '\n';
  }
  return out;
}

Result<const RiskModel*> AdmissionRiskModel() {
  static const Result<RiskModel> parsed =
      RiskModel::Parse("admission_risk_model.csv", embedded::risk_admission_risk_model());
  if (!parsed.ok()) return parsed.error();
  return &parsed.value();
}

// ---- Fitting ---------------------------------------------------------------------------------

Result<LogisticFit> FitLogistic(std::span<const double> design, size_t columns,
                                std::span<const uint8_t> outcomes, double ridge) {
  const size_t n = outcomes.size(), p = columns;
  if (p == 0 || n == 0 || design.size() != n * p) {
    return Error::Invalid("FitLogistic: " + std::to_string(design.size()) + " design values for " +
                          std::to_string(n) + " outcomes and " + std::to_string(p) + " columns");
  }
  if (!(ridge >= 0)) return Error::Invalid("FitLogistic: ridge must be >= 0");
  for (double x : design)
    if (!std::isfinite(x)) return Error::Invalid("FitLogistic: a design value is not finite");

  // One pass: penalised objective, gradient and Hessian (upper triangle, then mirrored).
  std::vector<double> gradient(p), hessian(p * p);
  auto pass = [&](const std::vector<double>& beta, bool derivatives) {
    double log_likelihood = 0;
    if (derivatives) {
      std::fill(gradient.begin(), gradient.end(), 0.0);
      std::fill(hessian.begin(), hessian.end(), 0.0);
    }
    for (size_t i = 0; i < n; ++i) {
      const double* x = design.data() + i * p;
      double eta = 0;
      for (size_t j = 0; j < p; ++j) eta += x[j] * beta[j];
      const double y = outcomes[i] ? 1.0 : 0.0;
      log_likelihood += y * eta - Softplus(eta);
      if (!derivatives) continue;
      const double mu = Sigmoid(eta), w = mu * (1 - mu), r = y - mu;
      for (size_t j = 0; j < p; ++j) {
        gradient[j] += r * x[j];
        const double wx = w * x[j];
        if (wx == 0) continue;
        double* row = hessian.data() + j * p;
        for (size_t k = j; k < p; ++k) row[k] += wx * x[k];
      }
    }
    double penalty = 0;
    for (size_t j = 1; j < p; ++j) penalty += beta[j] * beta[j];
    if (derivatives) {
      for (size_t j = 0; j < p; ++j) {
        for (size_t k = 0; k < j; ++k) hessian[j * p + k] = hessian[k * p + j];
        if (j > 0) {
          gradient[j] -= ridge * beta[j];
          hessian[j * p + j] += ridge;
        }
      }
    }
    return std::pair(log_likelihood, log_likelihood - ridge / 2 * penalty);
  };

  constexpr int kMaxIterations = 100;
  constexpr double kTolerance = 1e-9;
  std::vector<double> beta(p, 0.0), previous = beta, step(p, 0.0);
  double previous_objective = -INFINITY;
  int halvings = 0;
  for (int iteration = 1; iteration <= kMaxIterations; ++iteration) {
    const auto [log_likelihood, objective] = pass(beta, true);
    // Newton can overshoot far from the optimum: step back by halves until the objective rises.
    if (objective < previous_objective && halvings < 40) {
      ++halvings;
      for (size_t j = 0; j < p; ++j) {
        step[j] /= 2;
        beta[j] = previous[j] + step[j];
      }
      continue;
    }
    halvings = 0;
    std::vector<double> delta = gradient;
    if (!SolveCholesky(hessian, delta, p)) {
      return Error::Invalid(
          "FitLogistic: the information matrix is singular (an empty or collinear column); "
          "use a ridge > 0");
    }
    previous = beta;
    previous_objective = objective;
    double largest = 0;
    for (size_t j = 0; j < p; ++j) {
      step[j] = delta[j];
      beta[j] += delta[j];
      largest = std::max(largest, std::abs(delta[j]));
    }
    if (largest < kTolerance) {
      LogisticFit fit;
      fit.coefficients = beta;
      fit.iterations = iteration;
      fit.log_likelihood = pass(beta, false).first;
      (void)log_likelihood;
      return fit;
    }
  }
  return Error::Invalid("FitLogistic: no convergence in " + std::to_string(kMaxIterations) +
                        " iterations (separated data?)");
}

Result<double> CStatistic(std::span<const double> scores, std::span<const uint8_t> outcomes) {
  if (scores.size() != outcomes.size()) {
    return Error::Invalid("CStatistic: " + std::to_string(scores.size()) + " scores for " +
                          std::to_string(outcomes.size()) + " outcomes");
  }
  for (double s : scores)
    if (std::isnan(s)) return Error::Invalid("CStatistic: a score is not a number");
  std::vector<uint32_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0u);
  std::sort(order.begin(), order.end(),
            [&](uint32_t a, uint32_t b) { return scores[a] < scores[b]; });
  // Walk groups of equal scores upwards: each positive beats every negative below its group
  // and ties with the negatives in it.
  double wins = 0;
  int64_t negatives_below = 0, positives = 0;
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    int64_t group_positive = 0, group_negative = 0;
    for (; j < order.size() && scores[order[j]] == scores[order[i]]; ++j)
      (outcomes[order[j]] ? group_positive : group_negative) += 1;
    wins += static_cast<double>(group_positive) *
            (static_cast<double>(negatives_below) + 0.5 * static_cast<double>(group_negative));
    negatives_below += group_negative;
    positives += group_positive;
    i = j;
  }
  if (positives == 0 || negatives_below == 0) {
    return Error::Invalid("CStatistic: needs at least one person with and one without the outcome");
  }
  return wins / (static_cast<double>(positives) * static_cast<double>(negatives_below));
}

bool InHeldOutHalf(int64_t person_key) { return SplitMix64(static_cast<uint64_t>(person_key)) & 1; }

Result<AdmissionRiskFit> FitAdmissionRisk(const Cohort& cohort, Date as_of,
                                          std::span<const std::string> predictors, double ridge,
                                          int threads) {
  std::vector<RiskModel::Term> terms;
  for (const std::string& name : predictors) terms.push_back({name, 0.0});
  JU_ASSIGN_OR_RETURN(RiskModel model, RiskModel::Make(std::move(terms)));

  FeatureOptions options;
  options.index_date = as_of.AddYears(-1);
  options.extract_date = as_of;
  options.threads = threads;
  JU_ASSIGN_OR_RETURN(CohortFeatures features, ComputeFeatures(cohort, options));

  AdmissionRiskFit result{std::move(model), options.index_date};
  const size_t p = predictors.size();
  std::vector<double> train_design, row(p);
  std::vector<uint8_t> train_outcomes, test_outcomes;
  std::vector<uint32_t> test_people;
  for (size_t i = 0; i < cohort.size(); ++i) {
    const Cohort::Person& person = cohort.people[i];
    if (features.people[i].deceased || person.birth_date > options.index_date) continue;
    uint8_t admitted = 0;
    for (const Cohort::Activity& a : cohort.ActivitiesOf(i)) {
      admitted |= a.type == ActivityType::kEmergencyAdmission && a.start > options.index_date &&
                  a.start <= as_of;
    }
    if (InHeldOutHalf(person.key)) {
      test_people.push_back(static_cast<uint32_t>(i));
      test_outcomes.push_back(admitted);
      continue;
    }
    result.model.Design(features.people[i], row);
    train_design.insert(train_design.end(), row.begin(), row.end());
    train_outcomes.push_back(admitted);
  }
  JU_ASSIGN_OR_RETURN(LogisticFit fit, FitLogistic(train_design, p, train_outcomes, ridge));
  std::vector<RiskModel::Term> fitted = result.model.terms();
  for (size_t j = 0; j < p; ++j) fitted[j].coefficient = fit.coefficients[j];
  JU_ASSIGN_OR_RETURN(result.model, RiskModel::Make(std::move(fitted)));

  std::vector<double> test_scores;
  test_scores.reserve(test_people.size());
  for (uint32_t i : test_people) test_scores.push_back(result.model.Score(features.people[i]));
  JU_ASSIGN_OR_RETURN(result.c_statistic, CStatistic(test_scores, test_outcomes));
  result.iterations = fit.iterations;
  result.train_people = static_cast<int64_t>(train_outcomes.size());
  result.test_people = static_cast<int64_t>(test_outcomes.size());
  result.train_admitted = std::count(train_outcomes.begin(), train_outcomes.end(), 1);
  result.test_admitted = std::count(test_outcomes.begin(), test_outcomes.end(), 1);
  return result;
}

}  // namespace joinedup::analytics
