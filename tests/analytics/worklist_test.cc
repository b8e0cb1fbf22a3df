// The case-management worklist: selection by top segment and/or top risk, caseload exclusion,
// grouping per practice, and deterministic order.
#include "analytics/worklist.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "analytics/segmentation.h"

namespace joinedup::analytics {
namespace {

SegmentationModel Mcmw() {
  auto model = LoadSegmentationModel(std::string(JOINEDUP_SOURCE_DIR) +
                                     "/data/segmentation/mcmw_tiers.model");
  EXPECT_TRUE(model.ok()) << model.error().ToString();
  return model.ok() ? std::move(model).value() : SegmentationModel{};
}

PersonRunResult Person(int64_t key, int16_t segment, float risk, int64_t cost = 0) {
  PersonRunResult p;
  p.patient_key = key;
  p.segment = {segment};
  p.rule = {segment};
  p.admission_risk = risk;
  p.cost_12m_pence = cost;
  return p;
}

class WorklistTest : public ::testing::Test {
 protected:
  WorklistTest() {
    run_.id = 7;
    run_.models = {Info(model_)};
    // MCMW segment indices: 0 Tier 4, 1 Tier 3, 2 Tier 1, 3 Tier 0.
    people_ = {
        Person(1, 0, 0.20f, 500),      // practice 1, tier 4
        Person(2, 0, 0.20f, 900),      // practice 1, tier 4: same risk, costlier → first
        Person(3, 0, 0.20f, 900),      // practice 1, tier 4: full tie → lower key after 2
        Person(4, 1, 0.95f),           // practice 0, tier 3, top risk
        Person(5, 0, 0.10f),           // practice 0, tier 4
        Person(6, 0, 0.50f),           // practice 0, tier 4, on a caseload
        Person(7, 3, 0.05f),           // practice 1, tier 0
        Person(8, 0, 0.30f),           // unregistered, tier 4
        Person(9, kNoSegment, 0.90f),  // practice 1, fits no tier, high risk
        Person(10, kOutsidePopulation, 0.01f),
    };
    practice_ = {1, 1, 1, 0, 0, 0, 1, -1, 1, 0};
  }

  std::vector<std::vector<int64_t>> Keys(const Worklist& w) {
    std::vector<std::vector<int64_t>> out;
    for (const auto& p : w.practices) {
      out.emplace_back();
      for (const auto& e : p.entries) out.back().push_back(e.patient_key);
    }
    return out;
  }

  const SegmentationModel model_ = Mcmw();
  StratificationRun run_;
  std::vector<PersonRunResult> people_;
  std::vector<int32_t> practice_;
  std::function<bool(int64_t)> caseload_ = [](int64_t key) { return key == 6; };
};

TEST_F(WorklistTest, TopSegmentPerPracticeByRiskWithoutCaseload) {
  WorklistSelection selection;
  selection.model = 0;
  selection.segments = TopSegments(model_, 1);
  ASSERT_EQ(selection.segments, (std::vector<int16_t>{0}));  // Tier 4
  auto list = BuildWorklist(run_, people_, practice_, selection, caseload_);
  ASSERT_TRUE(list.ok()) << list.error().ToString();
  EXPECT_EQ(Keys(*list), (std::vector<std::vector<int64_t>>{{5}, {2, 3, 1}, {8}}));
  EXPECT_EQ(list->practices[0].practice, 0);
  EXPECT_EQ(list->practices[1].practice, 1);
  EXPECT_EQ(list->practices[2].practice, -1);  // unregistered last
  EXPECT_EQ(list->selected, 5);
  EXPECT_EQ(list->on_caseload, 1);
  EXPECT_TRUE(list->practices[0].entries[0].by_segment);
  EXPECT_FALSE(list->practices[0].entries[0].by_risk);
}

TEST_F(WorklistTest, TopFractionByRiskAlone) {
  WorklistSelection selection;
  selection.top_risk_fraction = 0.2;  // 2 of 10: risks 0.95 and 0.90
  auto list = BuildWorklist(run_, people_, practice_, selection, caseload_);
  ASSERT_TRUE(list.ok()) << list.error().ToString();
  EXPECT_FLOAT_EQ(list->risk_cutoff, 0.90f);
  EXPECT_EQ(Keys(*list), (std::vector<std::vector<int64_t>>{{4}, {9}}));
  EXPECT_TRUE(list->practices[1].entries[0].by_risk);
  EXPECT_EQ(list->practices[1].entries[0].segment, -1);
}

TEST_F(WorklistTest, SegmentsOrRiskCombineAndNoCaseloadFunctionMeansNobody) {
  WorklistSelection selection;
  selection.model = 0;
  selection.segments = TopSegments(model_, 2);  // Tier 4 and Tier 3
  selection.top_risk_fraction = 0.2;
  auto list = BuildWorklist(run_, people_, practice_, selection);
  ASSERT_TRUE(list.ok()) << list.error().ToString();
  EXPECT_EQ(Keys(*list), (std::vector<std::vector<int64_t>>{{4, 6, 5}, {9, 2, 3, 1}, {8}}));
  EXPECT_EQ(list->on_caseload, 0);
  const WorklistEntry& top = list->practices[0].entries[0];
  EXPECT_TRUE(top.by_segment && top.by_risk);
  EXPECT_EQ(top.segment, 1);
}

TEST_F(WorklistTest, SameInputSameListWhateverTheInputOrder) {
  WorklistSelection selection;
  selection.model = 0;
  selection.segments = {0, 1, 2, 3};
  auto first = BuildWorklist(run_, people_, practice_, selection, caseload_);
  std::reverse(people_.begin(), people_.end());
  std::reverse(practice_.begin(), practice_.end());
  auto second = BuildWorklist(run_, people_, practice_, selection, caseload_);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(Keys(*first), Keys(*second));
}

TEST_F(WorklistTest, BadSelectionsAreRefused) {
  WorklistSelection none;
  auto list = BuildWorklist(run_, people_, practice_, none);
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.error().message,
            "worklist: choose a model's segments, a top fraction by risk, or both");
  WorklistSelection wrong_model;
  wrong_model.model = 1;
  wrong_model.segments = {0};
  list = BuildWorklist(run_, people_, practice_, wrong_model);
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.error().message, "worklist: run 7 has 1 models, not model 1");
  WorklistSelection wrong_segment;
  wrong_segment.model = 0;
  wrong_segment.segments = {4};
  list = BuildWorklist(run_, people_, practice_, wrong_segment);
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.error().message, "worklist: model 'mcmw' has 4 segments, not segment 4");
  WorklistSelection too_much;
  too_much.top_risk_fraction = 1.5;
  list = BuildWorklist(run_, people_, practice_, too_much);
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.error().message, "worklist: top risk fraction 1.5 is not between 0 and 1");
  practice_.pop_back();
  WorklistSelection risk;
  risk.top_risk_fraction = 0.1;
  list = BuildWorklist(run_, people_, practice_, risk);
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.error().message, "worklist: 9 practices given for 10 people");
}

}  // namespace
}  // namespace joinedup::analytics
