// Emergency-admission risk model: the predictor language, hand-computed scores, errors naming
// the line and field, maximum-likelihood fitting and the c-statistic.
#include "analytics/risk_model.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "analytics/ltc_conditions.h"
#include "synth_cohort.h"

namespace joinedup::analytics {
namespace {

RiskModel MustParse(std::string_view text) {
  auto model = RiskModel::Parse("m.csv", text);
  EXPECT_TRUE(model.ok()) << model.error().ToString();
  return model.ok() ? std::move(model).value() : *RiskModel::Make({{"intercept", 0}});
}

std::string ParseError(std::string_view text) {
  auto model = RiskModel::Parse("m.csv", text);
  EXPECT_FALSE(model.ok());
  return model.ok() ? "" : model.error().message;
}

TEST(RiskModel, HandComputedLogisticScore) {
  const RiskModel model = MustParse(
      "# a tiny model\n"
      "predictor,coefficient\n"
      "intercept,-3\n"
      "age=65..74,0.5\n"
      "sex=male,0.25\n"
      "emergency_admissions_12m>=2,1.5\n"
      "log1p(bed_days_12m),0.2\n"
      "ltc:heart_failure,0.7\n"
      "efi_category>=moderate,0.4\n"
      "deprivation_decile=1..2,0.1\n"
      "charlson_quan2011,0.3\n");
  PersonFeatures p;
  p.age = 70;
  p.sex = Sex::kMale;
  p.emergency_admissions_12m = 2;
  p.bed_days_12m = 9;
  p.ltc_mask = uint64_t{1} << (**LtcConditions()).ConditionIndex("heart_failure");
  p.efi_deficits = 9;  // moderate
  p.deprivation_decile = 2;
  p.charlson_quan2011 = 2;
  const double eta = -3 + 0.5 + 0.25 + 1.5 + 0.2 * std::log(10.0) + 0.7 + 0.4 + 0.1 + 0.6;
  EXPECT_NEAR(model.LinearPredictor(p), eta, 1e-12);
  EXPECT_NEAR(model.Score(p), 1 / (1 + std::exp(-eta)), 1e-12);

  PersonFeatures q;  // none of the terms: the intercept alone
  q.age = 75;
  q.sex = Sex::kFemale;
  q.emergency_admissions_12m = 1;
  q.efi_deficits = 8;
  q.deprivation_decile = 3;
  EXPECT_NEAR(model.Score(q), 1 / (1 + std::exp(3.0)), 1e-12);

  std::vector<double> row(model.terms().size());
  model.Design(p, row);
  EXPECT_EQ(row[0], 1);
  EXPECT_EQ(row[1], 1);
  EXPECT_NEAR(row[4], std::log(10.0), 1e-12);
  EXPECT_EQ(row[8], 2);
}

TEST(RiskModel, WritesAndReadsBackTheSameModel) {
  const RiskModel model =
      MustParse("predictor,coefficient\nintercept,-2.123456789012\nltc_count,0.333333333333\n");
  const std::vector<std::string> provenance = {"fitted by hand", "c-statistic 0.5"};
  const std::string csv = model.ToCsv(provenance);
  EXPECT_EQ(csv.substr(0, 17), "# fitted by hand\n");
  const RiskModel again = MustParse(csv);
  ASSERT_EQ(again.terms().size(), 2u);
  EXPECT_NEAR(again.terms()[0].coefficient, -2.123456789012, 1e-9);
  EXPECT_EQ(again.terms()[1].predictor, "ltc_count");
}

TEST(RiskModel, BadFilesNameTheLineAndField) {
  EXPECT_NE(ParseError("predictor,coefficient\nintercept,1\nheight,2\n")
                .find("m.csv:3: field 'predictor': 'height' is not a feature"),
            std::string::npos);
  EXPECT_NE(ParseError("predictor,coefficient\nintercept,x\n").find("m.csv:2: field 'coefficient'"),
            std::string::npos);
  EXPECT_NE(ParseError("predictor,coefficient\nintercept,1\nintercept,2\n").find("repeated"),
            std::string::npos);
  EXPECT_NE(ParseError("predictor,coefficient\nltc:gout,1\n").find("'gout' is not a condition"),
            std::string::npos);
  EXPECT_NE(ParseError("predictor,coefficient\nadmission_risk,1\n").find("own output"),
            std::string::npos);
  EXPECT_NE(ParseError("predictor,coefficient\nage=80..65,1\n").find("empty range"),
            std::string::npos);
  EXPECT_NE(ParseError("predictor,coefficient\nefi_category>=frail,1\n").find("'frail'"),
            std::string::npos);
  EXPECT_NE(ParseError("predictor,weight\nintercept,1\n").find("m.csv"), std::string::npos);
  EXPECT_NE(ParseError("# nothing\npredictor,coefficient\n").find("m.csv"), std::string::npos);
}

TEST(CStatistic, HandCases) {
  const std::vector<uint8_t> y = {0, 0, 1, 1};
  EXPECT_DOUBLE_EQ(*CStatistic(std::vector<double>{0.1, 0.2, 0.8, 0.9}, y), 1.0);  // perfect
  EXPECT_DOUBLE_EQ(*CStatistic(std::vector<double>{0.9, 0.8, 0.2, 0.1}, y), 0.0);  // inverse
  EXPECT_DOUBLE_EQ(*CStatistic(std::vector<double>{0.5, 0.5, 0.5, 0.5}, y), 0.5);  // all tied
  // Hanley & McNeil style: pairs (pos, neg) = (0.35: beats 0.1, loses 0.4), (0.8: beats both).
  EXPECT_DOUBLE_EQ(*CStatistic(std::vector<double>{0.1, 0.4, 0.35, 0.8}, y), 0.75);
  // One tie among the four pairs: (0.4 vs 0.4) = 1/2, (0.4 vs 0.1) = 1, (0.9 vs both) = 2.
  EXPECT_DOUBLE_EQ(*CStatistic(std::vector<double>{0.1, 0.4, 0.4, 0.9}, y), 3.5 / 4);
  EXPECT_FALSE(CStatistic(std::vector<double>{0.1, 0.2}, std::vector<uint8_t>{1, 1}).ok());
  EXPECT_FALSE(CStatistic(std::vector<double>{0.1}, y).ok());
}

TEST(FitLogistic, RecoversKnownCoefficients) {
  // y ~ Bernoulli(sigmoid(-1 + 0.8 x1 - 0.5 x2)), x1 ~ N(0, 1), x2 ~ Bernoulli(0.3).
  std::mt19937_64 rng(20240331);
  std::normal_distribution<double> normal;
  std::uniform_real_distribution<double> uniform;
  const size_t n = 200000;
  std::vector<double> design;
  std::vector<uint8_t> y;
  for (size_t i = 0; i < n; ++i) {
    const double x1 = normal(rng), x2 = uniform(rng) < 0.3 ? 1 : 0;
    const double p = 1 / (1 + std::exp(-(-1 + 0.8 * x1 - 0.5 * x2)));
    design.insert(design.end(), {1.0, x1, x2});
    y.push_back(uniform(rng) < p);
  }
  auto fit = FitLogistic(design, 3, y, 1e-6);
  ASSERT_TRUE(fit.ok()) << fit.error().ToString();
  // Standard errors at n = 200,000 are about 0.006-0.012: allow 4 of them.
  EXPECT_NEAR(fit->coefficients[0], -1.0, 0.04);
  EXPECT_NEAR(fit->coefficients[1], 0.8, 0.03);
  EXPECT_NEAR(fit->coefficients[2], -0.5, 0.05);
  EXPECT_LT(fit->iterations, 15);
  // At the maximum the score equations hold: sum(y - p) = 0 for the intercept.
  double residual = 0;
  for (size_t i = 0; i < n; ++i) {
    const double eta = fit->coefficients[0] + fit->coefficients[1] * design[3 * i + 1] +
                       fit->coefficients[2] * design[3 * i + 2];
    residual += y[i] - 1 / (1 + std::exp(-eta));
  }
  EXPECT_NEAR(residual, 0, 1e-4);
}

TEST(FitLogistic, TinyHandCaseAndErrors) {
  // Intercept only: the MLE is the log odds of the mean, log(1/3).
  auto fit = FitLogistic(std::vector<double>{1, 1, 1, 1}, 1, std::vector<uint8_t>{1, 0, 0, 0}, 0);
  ASSERT_TRUE(fit.ok());
  EXPECT_NEAR(fit->coefficients[0], std::log(1.0 / 3), 1e-9);
  EXPECT_NEAR(fit->log_likelihood, std::log(0.25) + 3 * std::log(0.75), 1e-9);
  // An all-zero column is singular without a ridge, fine with one.
  const std::vector<double> design = {1, 0, 1, 0, 1, 0};
  const std::vector<uint8_t> y = {1, 0, 0};
  EXPECT_FALSE(FitLogistic(design, 2, y, 0).ok());
  auto ridged = FitLogistic(design, 2, y, 1);
  ASSERT_TRUE(ridged.ok());
  EXPECT_NEAR(ridged->coefficients[1], 0, 1e-12);
  EXPECT_FALSE(FitLogistic(design, 4, y, 1).ok());  // shape mismatch
}

TEST(AdmissionRisk, FitOnASyntheticPopulationIsDeterministicAndDiscriminates) {
  synth::GenerateOptions options;
  options.seed = 5;
  options.practices = 4;
  options.patients = 40000;
  options.as_of = Date::FromYmd(2024, 3, 31);
  auto cohort = testing::GenerateCohort(options);
  ASSERT_TRUE(cohort.ok()) << cohort.error().ToString();
  const std::vector<std::string> predictors = {"intercept",
                                               "age=0..4",
                                               "age=65..74",
                                               "age=75..84",
                                               "age>=85",
                                               "emergency_admissions_12m=1",
                                               "emergency_admissions_12m>=2",
                                               "ltc_count",
                                               "efi_deficits"};
  auto a = FitAdmissionRisk(*cohort, options.as_of, predictors, 1.0, 3);
  auto b = FitAdmissionRisk(*cohort, options.as_of, predictors, 1.0, 1);
  ASSERT_TRUE(a.ok()) << a.error().ToString();
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(a->index_date, Date::FromYmd(2023, 3, 31));
  EXPECT_GT(a->train_people, 15000);
  EXPECT_GT(a->test_people, 15000);
  EXPECT_GT(a->train_admitted, 300);
  for (size_t j = 0; j < predictors.size(); ++j)
    EXPECT_EQ(a->model.terms()[j].coefficient, b->model.terms()[j].coefficient) << j;
  EXPECT_EQ(a->c_statistic, b->c_statistic);
  EXPECT_GT(a->c_statistic, 0.6);  // far better than chance on held-out people
  EXPECT_LT(a->c_statistic, 1.0);
  EXPECT_GT(a->model.terms()[5].coefficient, 0);  // a prior admission raises the risk
}

TEST(AdmissionRisk, ShippedModelParsesAndRecordsHowItWasFitted) {
  auto model = AdmissionRiskModel();
  ASSERT_TRUE(model.ok()) << model.error().ToString();
  EXPECT_GT((*model)->terms().size(), 10u);
  EXPECT_EQ((*model)->terms()[0].predictor, "intercept");
  std::ifstream file(std::string(JOINEDUP_SOURCE_DIR) + "/data/risk/admission_risk_model.csv");
  std::stringstream text;
  text << file.rdbuf();
  EXPECT_NE(text.str().find("c-statistic"), std::string::npos);
  EXPECT_NE(text.str().find("Billings"), std::string::npos);
}

}  // namespace
}  // namespace joinedup::analytics
