#include "analytics/stratification_report.h"

#include <gtest/gtest.h>

namespace joinedup::analytics {
namespace {

PersonFeatures Person(int age, Sex sex, int practice, int64_t cost, bool deceased = false) {
  PersonFeatures p;
  p.age = static_cast<int16_t>(age);
  p.sex = sex;
  p.practice = practice;
  p.cost_12m_pence = cost;
  p.deceased = deceased;
  return p;
}

TEST(CostConcentrationTest, SharesOfTheCostliestPeopleAmongTheLiving) {
  // 200 living people: one costs 10,000, one 5,000, the rest 100 each (total 34,800); a dead
  // person's cost is left out.
  std::vector<PersonFeatures> people;
  people.push_back(Person(80, Sex::kFemale, 0, 10000));
  people.push_back(Person(70, Sex::kMale, 0, 5000));
  for (int i = 0; i < 198; ++i) people.push_back(Person(40, Sex::kMale, 0, 100));
  people.push_back(Person(90, Sex::kFemale, 0, 1000000, /*deceased=*/true));
  const CostConcentration c = CostConcentrationOf(people);
  EXPECT_EQ(c.people, 200);
  EXPECT_EQ(c.total_pence, 34800);
  EXPECT_DOUBLE_EQ(c.share[0], 15000.0 / 34800);  // top 1% = 2 people
  EXPECT_DOUBLE_EQ(c.share[1], 15200.0 / 34800);  // top 2% = 4 people
  EXPECT_DOUBLE_EQ(c.share[2], 15800.0 / 34800);  // top 5% = 10 people
  EXPECT_DOUBLE_EQ(c.share[3], 16800.0 / 34800);  // top 10% = 20 people
}

TEST(CostConcentrationTest, EmptyAndFreePopulationsGiveZeroShares) {
  EXPECT_EQ(CostConcentrationOf({}).people, 0);
  std::vector<PersonFeatures> free_people(3, Person(50, Sex::kFemale, 0, 0));
  const CostConcentration c = CostConcentrationOf(free_people);
  EXPECT_EQ(c.people, 3);
  EXPECT_EQ(c.share[0], 0);
}

TEST(StratificationSummaryTest, CountsSegmentsPerPracticeAndThePyramid) {
  Cohort cohort;
  cohort.practices = {{"A1", "Practice A", "PCH1", "E1"}, {"B2", "Practice B", "PCH1", "E2"}};
  CohortFeatures features;
  features.index_date = Date::FromYmd(2026, 3, 31);
  features.people = {Person(70, Sex::kFemale, 0, 10), Person(67, Sex::kMale, 0, 10),
                     Person(30, Sex::kMale, 1, 10), Person(91, Sex::kFemale, -1, 10),
                     Person(88, Sex::kMale, 1, 10, /*deceased=*/true)};
  const std::vector<SegmentationModelInfo> models = {{"tiers", "1", {"low", "high"}}};
  CohortAssignments assigned;
  assigned.model_count = 1;
  assigned.assignments = {{AssignmentStatus::kAssigned, 1, 1},
                          {AssignmentStatus::kNoSegment, kNoSegment, -1},
                          {AssignmentStatus::kOutsidePopulation, kOutsidePopulation, -1},
                          {AssignmentStatus::kAssigned, 0, 0},
                          {AssignmentStatus::kAssigned, 1, 1}};
  const StratificationSummary s = SummariseStratification(cohort, features, models, assigned);
  EXPECT_EQ(s.living, 4);
  EXPECT_EQ(s.deceased, 1);
  EXPECT_EQ(s.pyramid[AgeBandOf(70)].female, 1);
  EXPECT_EQ(s.pyramid[AgeBandOf(67)].male, 1);
  EXPECT_EQ(s.pyramid[AgeBandOf(91)].female, 1);
  ASSERT_EQ(s.models.size(), 1u);
  const SegmentCounts& c = s.models[0];
  EXPECT_EQ(c.rows, (std::vector<std::string>{"A1", "B2", "(none)"}));
  EXPECT_EQ(c.counts[0], (std::vector<int64_t>{0, 1, 1, 0}));  // low, high, no segment, outside
  EXPECT_EQ(c.counts[1], (std::vector<int64_t>{0, 0, 0, 1}));  // the dead person is not counted
  EXPECT_EQ(c.counts[2], (std::vector<int64_t>{1, 0, 0, 0}));
  EXPECT_EQ(c.totals, (std::vector<int64_t>{1, 1, 1, 1}));

  const std::string text = FormatStratificationSummary(s);
  EXPECT_NE(text.find("4 living people (1 died on or before"), std::string::npos) << text;
  EXPECT_NE(text.find("Segments of tiers (version 1)"), std::string::npos) << text;
  EXPECT_NE(text.find("costliest  5% use"), std::string::npos) << text;
}

}  // namespace
}  // namespace joinedup::analytics
