// Movement between two hand-made runs: the transition matrix (with joiners, leavers, "no
// segment" and "outside population"), risers by segment rank and by score band, refusals.
#include "analytics/movement.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace joinedup::analytics {
namespace {

SegmentationModel Load(std::string_view text) {
  auto model = ParseSegmentationModel("t.model", text);
  EXPECT_TRUE(model.ok()) << model.error().ToString();
  return model.ok() ? std::move(model).value() : SegmentationModel{};
}

// Three ranked segments (A low … C high) over age 18+, and an unranked two-segment model.
const char kLadder[] =
    "model: ladder\nversion: 1\npopulation: age >= 18\n"
    "segment c \"C\" rank 3 when ltc_count >= 3\n"
    "segment b \"B\" rank 2 when ltc_count == 2\n"
    "segment a \"A\" rank 1 when ltc_count == 0\n";
const char kPlain[] =
    "model: plain\nversion: 1\n"
    "segment x \"X\" when age < 50\n"
    "segment y \"Y\" when age >= 50\n";

PersonRunResult Person(int64_t key, std::vector<int16_t> segments, float risk = 0,
                       int16_t efi_deficits = 0, int16_t hfrs_tenths = 0) {
  PersonRunResult p;
  p.patient_key = key;
  p.segment = std::move(segments);
  p.rule.assign(p.segment.size(), -1);
  p.admission_risk = risk;
  p.efi_deficits = efi_deficits;
  p.hfrs_tenths = hfrs_tenths;
  return p;
}

class MovementTest : public ::testing::Test {
 protected:
  MovementTest() {
    models_ = {Load(kLadder), Load(kPlain)};
    before_run_.id = 1;
    before_run_.models = {Info(models_[0]), Info(models_[1])};
    after_run_.id = 2;
    after_run_.models = before_run_.models;
    // Segment indices for ladder: 0 = C, 1 = B, 2 = A.
    before_ = {
        Person(10, {2, 0}, 0.10f),           // A → C: rises by segment
        Person(11, {0, 1}, 0.40f, 8, 49),    // C → B: falls; eFI 8→9 and HFRS 4.9→5.0 rise
        Person(12, {kNoSegment, 1}, 0.20f),  // no segment → B: not a ranked rise
        Person(13, {1, 1}, 0.50f),           // left
        Person(15, {kOutsidePopulation, 0}, 0.29f),  // turned 18: outside → A; risk crosses 0.3
        Person(16, {1, 1}, 0.30f, 12, 150),          // unchanged, at the bands' tops
    };
    after_ = {
        Person(10, {0, 0}, 0.10f), Person(11, {1, 1}, 0.40f, 9, 50),   Person(12, {1, 1}, 0.20f),
        Person(14, {0, 1}, 0.90f),                                      // joined
        Person(15, {2, 0}, 0.30f), Person(16, {1, 1}, 0.31f, 12, 150),  // risk was already at the
                                                                        // threshold: no crossing
    };
  }

  Result<Movement> Compare(const MovementOptions& options) {
    return CompareRuns({before_run_, before_}, {after_run_, after_}, models_, options);
  }

  std::vector<SegmentationModel> models_;
  StratificationRun before_run_, after_run_;
  std::vector<PersonRunResult> before_, after_;
};

TEST_F(MovementTest, TransitionMatrixCountsEveryone) {
  MovementOptions options;
  options.admission_risk_threshold = 0.3f;
  auto moved = Compare(options);
  ASSERT_TRUE(moved.ok()) << moved.error().ToString();
  EXPECT_EQ(moved->from_run, 1);
  EXPECT_EQ(moved->to_run, 2);
  EXPECT_EQ(moved->stayed, 5);
  EXPECT_EQ(moved->joined, 1);
  EXPECT_EQ(moved->left, 1);
  ASSERT_EQ(moved->models.size(), 2u);
  const ModelMovement& ladder = moved->models[0];
  EXPECT_EQ(ladder.name, "ladder");
  EXPECT_FALSE(ladder.version_changed);
  EXPECT_TRUE(ladder.ranked);
  EXPECT_EQ(ladder.from_states, (std::vector<std::string>{"C", "B", "A", "no segment",
                                                          "outside population", "joined"}));
  EXPECT_EQ(ladder.to_states,
            (std::vector<std::string>{"C", "B", "A", "no segment", "outside population", "left"}));
  // Rows C, B, A, none, outside, joined; columns C, B, A, none, outside, left.
  const std::vector<int64_t> expected = {
      0, 1, 0, 0, 0, 0,  // C → B (11)
      0, 1, 0, 0, 0, 1,  // B → B (16), B → left (13)
      1, 0, 0, 0, 0, 0,  // A → C (10)
      0, 1, 0, 0, 0, 0,  // none → B (12)
      0, 0, 1, 0, 0, 0,  // outside → A (15)
      1, 0, 0, 0, 0, 0,  // joined → C (14)
  };
  EXPECT_EQ(ladder.counts, expected);
  EXPECT_EQ(ladder.At(2, 0), 1);
  int64_t total = 0;
  for (int64_t c : moved->models[1].counts) total += c;
  EXPECT_EQ(total, 7);  // every person once per model, joiners and leavers included
  EXPECT_FALSE(moved->models[1].ranked);
}

TEST_F(MovementTest, RisersBySegmentAndBands) {
  MovementOptions options;
  options.admission_risk_threshold = 0.3f;
  auto moved = Compare(options);
  ASSERT_TRUE(moved.ok()) << moved.error().ToString();
  std::vector<std::string> lines;
  for (const Riser& r : moved->risers)
    for (const Rise& rise : r.rises)
      lines.push_back(std::to_string(r.patient_key) + " " + DescribeRise(*moved, rise));
  EXPECT_EQ(lines, (std::vector<std::string>{
                       "10 ladder: A → C",
                       "11 eFI mild → moderate (8 → 9 deficits)",
                       "11 HFRS low → intermediate (4.9 → 5.0 points)",
                       "15 emergency admission risk 0.290 → 0.300, crossing 0.300",
                   }));
  EXPECT_EQ(moved->risers[0].rises[0].kind, Rise::Kind::kSegment);
  EXPECT_EQ(moved->risers[0].rises[0].from, 2);
  EXPECT_EQ(moved->risers[0].rises[0].to, 0);
}

TEST_F(MovementTest, TopFractionCrossingUsesEachRunsCutoff) {
  // Default: into the top 5% of each run. With 6 people that is the single highest risk:
  // 0.50 before, 0.90 after; only patient 14 reaches it, and joiners cannot rise.
  auto moved = Compare({});
  ASSERT_TRUE(moved.ok());
  EXPECT_FLOAT_EQ(moved->from_risk_cutoff, 0.50f);
  EXPECT_FLOAT_EQ(moved->to_risk_cutoff, 0.90f);
  for (const Riser& r : moved->risers)
    for (const Rise& rise : r.rises) EXPECT_NE(rise.kind, Rise::Kind::kAdmissionRisk);
  // Half of each run: before the top 3 are 0.50, 0.40, 0.30; after 0.90, 0.40, 0.31.
  MovementOptions half;
  half.admission_risk_top_fraction = 0.5;
  moved = Compare(half);
  ASSERT_TRUE(moved.ok());
  EXPECT_FLOAT_EQ(moved->from_risk_cutoff, 0.30f);
  EXPECT_FLOAT_EQ(moved->to_risk_cutoff, 0.31f);
  std::vector<int64_t> risk_risers;
  for (const Riser& r : moved->risers)
    for (const Rise& rise : r.rises)
      if (rise.kind == Rise::Kind::kAdmissionRisk) risk_risers.push_back(r.patient_key);
  EXPECT_TRUE(risk_risers.empty());  // 15 reached 0.30 but the later cut-off is 0.31
}

TEST(AdmissionRiskCutoffTest, CeilOfFractionWithTies) {
  std::vector<PersonRunResult> people;
  for (int i = 1; i <= 100; ++i) people.push_back(Person(i, {}, static_cast<float>(i) / 100));
  EXPECT_FLOAT_EQ(AdmissionRiskCutoff(people, 0.05), 0.96f);   // 5 people: 0.96 … 1.00
  EXPECT_FLOAT_EQ(AdmissionRiskCutoff(people, 0.051), 0.95f);  // ceil(5.1) = 6
  EXPECT_FLOAT_EQ(AdmissionRiskCutoff(people, 1.0), 0.01f);
  EXPECT_EQ(AdmissionRiskCutoff(people, 0), std::numeric_limits<float>::infinity());
  EXPECT_EQ(AdmissionRiskCutoff({}, 0.05), std::numeric_limits<float>::infinity());
  people[0].admission_risk = std::nanf("");
  EXPECT_FLOAT_EQ(AdmissionRiskCutoff(people, 1.0), 0.02f);  // NaN is never in the top
}

TEST_F(MovementTest, RefusesRunsWithDifferentModelsUnlessNamed) {
  after_run_.models[1].name = "other";
  auto refused = Compare({});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidInput);
  EXPECT_EQ(refused.error().message,
            "cannot compare run 1 (models: ladder, plain) with run 2 (models: ladder, other): "
            "they applied different segmentation models; name the models to compare");
  MovementOptions only_ladder;
  only_ladder.models = {"ladder"};
  auto moved = Compare(only_ladder);
  ASSERT_TRUE(moved.ok()) << moved.error().ToString();
  ASSERT_EQ(moved->models.size(), 1u);
  MovementOptions plain;
  plain.models = {"plain"};
  refused = Compare(plain);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().message, "cannot compare model 'plain': run 2 applied ladder, other");
}

TEST_F(MovementTest, NewVersionWithSameSegmentsIsFlaggedAndStillRanked) {
  SegmentationModel v2 =
      Load(std::string(kLadder).replace(std::string(kLadder).find("version: 1"), 10, "version: 2"));
  models_.push_back(v2);
  after_run_.models[0] = Info(v2);
  auto moved = Compare({});
  ASSERT_TRUE(moved.ok());
  EXPECT_TRUE(moved->models[0].version_changed);
  EXPECT_EQ(moved->models[0].from_version, "1");
  EXPECT_EQ(moved->models[0].to_version, "2");
  EXPECT_TRUE(moved->models[0].ranked);
  EXPECT_EQ(moved->risers.front().patient_key, 10);
}

TEST_F(MovementTest, SegmentsThatNoLoadedModelDescribesAreNotRanked) {
  after_run_.models[0].segments = {"C", "B", "A", "Z"};  // a version we were not given
  auto moved = Compare({});
  ASSERT_TRUE(moved.ok());
  EXPECT_FALSE(moved->models[0].ranked);
  EXPECT_EQ(moved->models[0].to_states.size(), 7u);
  for (const Riser& r : moved->risers)
    for (const Rise& rise : r.rises) EXPECT_NE(rise.kind, Rise::Kind::kSegment);
}

TEST_F(MovementTest, RejectsMalformedResults) {
  std::swap(after_[0], after_[1]);
  auto bad = Compare({});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message,
            "run 2: results out of patient_key order at position 1 (key 10 after 11)");
  std::swap(after_[0], after_[1]);
  after_[2].segment[0] = 3;
  bad = Compare({});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "run 2: patient 12 has segment 3 in model 'ladder' of 3 segments");
  after_[2].segment = {1};
  bad = Compare({});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "run 2: patient 12 has 1 segments for 2 models");
}

}  // namespace
}  // namespace joinedup::analytics
