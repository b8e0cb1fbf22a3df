// Segmentation models: the file format's errors (each kind, with its exact place), evaluation,
// both shipped models at every boundary of every rule, and the reasons JSON.
#include "analytics/segmentation.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <string>
#include <string_view>
#include <vector>

namespace joinedup::analytics {
namespace {

using nlohmann::json;

SegmentationModel Parse(std::string_view text) {
  auto model = ParseSegmentationModel("t.model", text);
  EXPECT_TRUE(model.ok()) << model.error().ToString();
  return model.ok() ? std::move(model).value() : SegmentationModel{};
}

std::string ParseError(std::string_view text) {
  auto model = ParseSegmentationModel("t.model", text);
  if (model.ok()) return "parsed";
  EXPECT_EQ(model.error().code, ErrorCode::kInvalidInput);
  return model.error().message;
}

SegmentationModel Shipped(std::string_view file) {
  auto model = LoadSegmentationModel(std::string(JOINEDUP_SOURCE_DIR) + "/data/segmentation/" +
                                     std::string(file));
  EXPECT_TRUE(model.ok()) << model.error().ToString();
  return model.ok() ? std::move(model).value() : SegmentationModel{};
}

constexpr std::string_view kHeader = "model: t\nversion: 1\n";

// ---- Parser errors ---------------------------------------------------------------------------

TEST(SegmentationParseTest, UnknownFeatureNamesPlaceAndVocabulary) {
  EXPECT_EQ(ParseError("model: t\nversion: 1\nsegment a \"A\" when ltc_cnt >= 2\n"),
            "t.model:3:20: unknown feature 'ltc_cnt' (features: age, sex, ltc_count, "
            "mental_health_need, social_care_need, efi, efi_deficits, efi_category, hfrs, "
            "hfrs_category, charlson_1987, charlson_quan2011, elixhauser, "
            "emergency_admissions_12m, ae_attendances_12m, bed_days_12m, annual_cost_pence, "
            "cost_percentile, continuing_healthcare, care_home, social_care_package, "
            "admission_risk)");
}

TEST(SegmentationParseTest, UnknownLevelNamesTheLevels) {
  EXPECT_EQ(ParseError("model: t\nversion: 1\nsegment a \"A\" when efi_category >= frail\n"),
            "t.model:3:36: unknown level 'frail' for efi_category (expected fit, mild, moderate "
            "or severe)");
  EXPECT_EQ(ParseError("model: t\nversion: 1\nsegment a \"A\" when hfrs_category > 1\n"),
            "t.model:3:36: expected a level of hfrs_category (low, intermediate or high), "
            "found '1'");
  EXPECT_EQ(ParseError("model: t\nversion: 1\nsegment a \"A\" when sex > male\n"),
            "t.model:3:24: the levels of sex have no order: use == or !=");
}

TEST(SegmentationParseTest, SyntaxErrors) {
  const std::string h(kHeader);
  EXPECT_EQ(ParseError(h + "segment a \"A\" ltc_count >= 2\n"),
            "t.model:3:15: expected 'rank <n>' or 'when' and a condition, found 'ltc_count'");
  EXPECT_EQ(ParseError(h + "segment a \"A\" when (age > 3\n"),
            "t.model:3:28: expected ')' to close the '(' at column 20, found the end of the "
            "statement");
  EXPECT_EQ(ParseError(h + "segment a \"A\" when age > 3 and care_home or care_home\n"),
            "t.model:3:42: 'or' after 'and': put parentheses around the part to combine first, "
            "e.g. a and (b or c)");
  EXPECT_EQ(ParseError(h + "segment a \"A when age > 3\n"),
            "t.model:3:11: unterminated label: expected a closing '\"' on the same line");
  EXPECT_EQ(ParseError(h + "segment a \"A\" when age\n"),
            "t.model:3:23: expected a comparison (<, <=, >, >=, ==, !=) after 'age', found the "
            "end of the statement");
  EXPECT_EQ(ParseError(h + "segment a \"A\" when age >= old\n"),
            "t.model:3:27: expected a number after '>=' for age, found 'old'");
  EXPECT_EQ(ParseError(h + "segment a \"A\" when care_home == 2\n"),
            "t.model:3:33: expected 0 or 1 for the yes/no flag care_home, found '2'");
  EXPECT_EQ(ParseError(h + "segment a \"A\" when age > 3 care_home\n"),
            "t.model:3:28: expected 'and', 'or' or the end of the rule, found 'care_home'");
  EXPECT_EQ(ParseError(h + "segment a \"A\" when\n"),
            "t.model:3:19: expected a condition after 'when'");
  EXPECT_EQ(ParseError(h + "segment a \"A\" when age > 3 & care_home\n"),
            "t.model:3:28: unexpected character '&'");
  EXPECT_EQ(ParseError(h + "segment a \"A\" when age > 3x\n"),
            "t.model:3:26: expected a number, found '3x'");
  EXPECT_EQ(ParseError(h + "segment \"A\" when age > 3\n"),
            "t.model:3:9: expected a segment id after 'segment' (e.g. tier3), found the label "
            "\"A\"");
  EXPECT_EQ(ParseError(h + "segment a when age > 3\n"),
            "t.model:3:11: expected a quoted label after 'a' (e.g. \"Tier 3\"), found 'when'");
  EXPECT_EQ(ParseError(h + "segment a \"A\" rank high when age > 3\n"),
            "t.model:3:20: expected a whole number from -1000 to 1000 after 'rank', found 'high'");
  EXPECT_EQ(ParseError(h + "tier a \"A\" when age > 3\n"),
            "t.model:3:1: expected a header (model:, version:, label:, source:, population:) or "
            "a rule 'segment <id> \"<label>\" when <condition>'");
  EXPECT_EQ(ParseError(h + "population: age >= 65 or\n"),
            "t.model:3:25: expected a feature name, 'not' or '(', found the end of the statement");
  EXPECT_EQ(ParseError("  model: t\n"),
            "t.model:1:3: indented line continues nothing: statements start in column 1");
}

TEST(SegmentationParseTest, FloatThresholdOutOfRange) {  // found by the fuzzer
  EXPECT_EQ(ParseError(std::string(kHeader) + "segment a \"A\" when admission_risk < 1" +
                       std::string(40, '0') + "\n"),
            "t.model:3:37: 1" + std::string(40, '0') + " is out of range for admission_risk");
}

TEST(SegmentationParseTest, DuplicateSegmentId) {
  EXPECT_EQ(ParseError(std::string(kHeader) + "segment a \"A\" when age > 3\n\n"
                                              "segment a \"B\" when age > 4\n"),
            "t.model:5:9: duplicate segment id 'a' (first on line 3)");
}

TEST(SegmentationParseTest, EmptyModel) {
  EXPECT_EQ(ParseError("model: t\nversion: 1\n# nothing else\n"),
            "t.model:2:1: the model has no segments: expected at least one rule 'segment <id> "
            "\"<label>\" when <condition>'");
  EXPECT_EQ(ParseError(""), "t.model:1:1: missing 'model:' header naming the model");
}

TEST(SegmentationParseTest, MissingVersion) {
  EXPECT_EQ(ParseError("# t\nmodel: t\nsegment a \"A\" when age > 3\n"),
            "t.model:2:1: model 't' has no 'version:' header");
}

TEST(SegmentationParseTest, HeaderErrors) {
  EXPECT_EQ(ParseError("model: t\nversion: 1\nversion: 2\n"),
            "t.model:3:1: duplicate 'version:' header (first on line 2)");
  EXPECT_EQ(ParseError("model: t\nauthor: me\n"),
            "t.model:2:1: unknown header 'author:' (expected model:, version:, label:, source: "
            "or population:)");
  EXPECT_EQ(ParseError("model: My Model\n"),
            "t.model:1:7: model name 'My Model' must be lower-case letters, digits and _");
  EXPECT_EQ(ParseError("model: t\nversion:   # none\n"),
            "t.model:2:9: expected a value after 'version:'");
}

TEST(SegmentationParseTest, RanksAreAllOrNone) {
  EXPECT_EQ(ParseError(std::string(kHeader) + "segment a \"A\" rank 2 when age > 3\n"
                                              "segment b \"B\" when age > 1\n"),
            "t.model:4:15: segment 'b' has no rank but the segments before it have: give every "
            "segment a rank or none");
}

TEST(SegmentationParseTest, BadBytesAndDeepNesting) {
  EXPECT_EQ(ParseError("model: t\nlabel: caf\xC3\n"),
            "t.model:2:11: invalid UTF-8: model files must be UTF-8 text");
  EXPECT_EQ(ParseError("model: t\x01\n"), "t.model:1:9: unexpected control character 0x01");
  std::string deep = std::string(kHeader) + "segment a \"A\" when " + std::string(40, '(') +
                     "age > 3" + std::string(40, ')') + "\n";
  EXPECT_EQ(ParseError(deep), "t.model:3:52: condition nested deeper than 32 levels");
}

// ---- Parsing and evaluation ------------------------------------------------------------------

TEST(SegmentationParseTest, HeadersContinuationsAndCanonicalText) {
  const SegmentationModel m = Parse(
      "# a comment\n"
      "model: demo   # trailing comment\n"
      "version: 2024-06 draft\n"
      "label: A demo\n"
      "source: one\n"
      "source: two,\n"
      "   continued\n"
      "population: age >= 18\n"
      "segment high \"High: café # not a comment\" rank 2\n"
      "  when (ltc_count>=3 and not care_home)\n"
      "\n"
      "  # a comment between continuation lines\n"
      "    or admission_risk >= 0.2\n"
      "segment low \"Low\" rank 1 when age = 18 or efi_category != fit\n");
  EXPECT_EQ(m.name, "demo");
  EXPECT_EQ(m.version, "2024-06 draft");
  EXPECT_EQ(m.label, "A demo");
  EXPECT_EQ(m.sources, (std::vector<std::string>{"one", "two, continued"}));
  ASSERT_EQ(m.segments.size(), 2u);
  EXPECT_EQ(m.segments[0].label, "High: café # not a comment");
  EXPECT_EQ(m.segments[0].line, 9);
  EXPECT_EQ(m.segments[0].rank, 2);
  EXPECT_EQ(ConditionText(m, m.segments[0].condition),
            "(ltc_count >= 3 and not care_home) or admission_risk >= 0.2");
  EXPECT_EQ(ConditionText(m, m.segments[1].condition), "age == 18 or efi_category != fit");
  EXPECT_EQ(ConditionText(m, m.population), "age >= 18");
  EXPECT_EQ(Info(m), (SegmentationModelInfo{
                         "demo", "2024-06 draft", {"High: café # not a comment", "Low"}}));
}

PersonFeatures Adult() {
  PersonFeatures p;
  p.age = 40;
  p.sex = Sex::kFemale;
  return p;
}

TEST(SegmentationAssignTest, FirstMatchWinsAndStatusesStayApart) {
  const SegmentationModel m = Parse(
      "model: t\nversion: 1\npopulation: age >= 18\n"
      "segment a \"A\" when ltc_count >= 2\n"
      "segment b \"B\" when ltc_count >= 1\n");
  PersonFeatures p = Adult();
  p.ltc_count = 3;
  SegmentAssignment got = Assign(m, p);
  EXPECT_EQ(got.status, AssignmentStatus::kAssigned);
  EXPECT_EQ(got.segment, 0);
  EXPECT_EQ(got.rule, 0);
  p.ltc_count = 1;
  EXPECT_EQ(Assign(m, p).segment, 1);
  p.ltc_count = 0;
  got = Assign(m, p);
  EXPECT_EQ(got.status, AssignmentStatus::kNoSegment);
  EXPECT_EQ(got.segment, kNoSegment);
  EXPECT_EQ(got.rule, -1);
  p.age = 17;
  p.ltc_count = 3;
  got = Assign(m, p);
  EXPECT_EQ(got.status, AssignmentStatus::kOutsidePopulation);
  EXPECT_EQ(got.segment, kOutsidePopulation);
  EXPECT_EQ(got.rule, -1);
}

TEST(SegmentationAssignTest, OperatorsFlagsLevelsAndNot) {
  const SegmentationModel m = Parse(
      "model: t\nversion: 1\n"
      "segment a \"A\" when sex == male and not (care_home or social_care_package)\n"
      "segment b \"B\" when efi_category >= moderate and hfrs < 5\n"
      "segment c \"C\" when charlson_1987 != 0 and elixhauser <= 2 and bed_days_12m > 10\n");
  PersonFeatures p = Adult();
  p.sex = Sex::kMale;
  EXPECT_EQ(Assign(m, p).segment, 0);
  p.care_home = true;
  EXPECT_EQ(Assign(m, p).segment, kNoSegment);
  p.efi_deficits = 9;  // moderate
  p.hfrs_tenths = 49;
  EXPECT_EQ(Assign(m, p).segment, 1);
  p.hfrs_tenths = 50;  // 5.0 is not < 5
  EXPECT_EQ(Assign(m, p).segment, kNoSegment);
  p.efi_deficits = 8;
  p.charlson_1987 = 1;
  p.elixhauser = 2;
  p.bed_days_12m = 11;
  EXPECT_EQ(Assign(m, p).segment, 2);
  p.bed_days_12m = 10;
  EXPECT_EQ(Assign(m, p).segment, kNoSegment);
}

TEST(SegmentationAssignTest, FloatFeaturesCompareAtFloatPrecision) {
  const SegmentationModel m = Parse(
      "model: t\nversion: 1\n"
      "segment a \"A\" when admission_risk >= 0.2\n"
      "segment b \"B\" when cost_percentile > 98.9\n");
  PersonFeatures p = Adult();
  p.admission_risk = 0.2f;  // as stored: 0.2000000029…, would be > 0.2 in double
  EXPECT_EQ(Assign(m, p).segment, 0);
  p.admission_risk = std::nextafter(0.2f, 0.0f);
  p.cost_percentile = 98.9f;
  EXPECT_EQ(Assign(m, p).segment, kNoSegment);
  p.cost_percentile = std::nextafter(98.9f, 100.0f);
  EXPECT_EQ(Assign(m, p).segment, 1);
}

TEST(SegmentationAssignTest, ApplyModelsInParallelMatchesOneByOne) {
  const std::vector<SegmentationModel> models = {Shipped("mcmw_tiers.model"),
                                                 Shipped("south_worcestershire.model")};
  CohortFeatures cohort;
  for (int i = 0; i < 70000; ++i) {
    PersonFeatures p;
    p.age = static_cast<int16_t>(i % 100);
    p.ltc_count = static_cast<int16_t>(i / 7 % 5);
    p.mental_health_need = i % 3 == 0;
    p.social_care_need = i % 11 == 0;
    p.emergency_admissions_12m = static_cast<int16_t>(i % 13 == 0);
    p.efi_deficits = static_cast<int16_t>(i / 3 % 20);
    p.hfrs_tenths = static_cast<int16_t>(i / 5 % 200);
    p.cost_percentile = static_cast<float>(i % 1000) / 10.0f;
    p.continuing_healthcare = i % 997 == 0;
    p.care_home = i % 17 == 0;
    p.social_care_package = i % 19 == 0;
    cohort.people.push_back(p);
  }
  const CohortAssignments all = ApplyModels(models, cohort, 4);
  ASSERT_EQ(all.assignments.size(), cohort.people.size() * 2);
  for (size_t i = 0; i < cohort.people.size(); ++i) {
    for (size_t m = 0; m < models.size(); ++m) {
      const SegmentAssignment one = Assign(models[m], cohort.people[i]);
      ASSERT_EQ(all.At(i, m).segment, one.segment) << "person " << i << " model " << m;
      ASSERT_EQ(all.At(i, m).status, one.status);
    }
  }
}

TEST(SegmentationAssignTest, TopSegmentsByRank) {
  const SegmentationModel m = Parse(
      "model: t\nversion: 1\n"
      "segment a \"A\" rank 1 when age < 10\n"
      "segment b \"B\" rank 3 when age < 20\n"
      "segment c \"C\" rank 2 when age < 30\n"
      "segment d \"D\" rank 3 when age < 40\n");
  EXPECT_EQ(TopSegments(m, 1), (std::vector<int16_t>{1, 3}));
  EXPECT_EQ(TopSegments(m, 2), (std::vector<int16_t>{1, 3, 2}));
  EXPECT_EQ(TopSegments(m, 9), (std::vector<int16_t>{1, 3, 2, 0}));
  EXPECT_TRUE(
      TopSegments(Parse("model: t\nversion: 1\nsegment a \"A\" when age < 10\n"), 1).empty());
}

TEST(SegmentationLoadTest, MissingFileIsNotFound) {
  auto model = LoadSegmentationModel("/nonexistent/x.model");
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(model.error().message, "/nonexistent/x.model: cannot open segmentation model file");
}

// ---- MCMW tiers ------------------------------------------------------------------------------

class McmwTest : public ::testing::Test {
 protected:
  const SegmentationModel model_ = Shipped("mcmw_tiers.model");
  std::string Tier(const PersonFeatures& p) const {
    const SegmentAssignment a = Assign(model_, p);
    if (a.status == AssignmentStatus::kOutsidePopulation) return "outside";
    if (a.status == AssignmentStatus::kNoSegment) return "none";
    return model_.segments[static_cast<size_t>(a.segment)].id;
  }
  static PersonFeatures Older(int ltc, bool mh = false, bool sc = false, int admissions = 0) {
    PersonFeatures p;
    p.age = 70;
    p.ltc_count = static_cast<int16_t>(ltc);
    p.mental_health_need = mh;
    p.social_care_need = sc;
    p.emergency_admissions_12m = static_cast<int16_t>(admissions);
    return p;
  }
};

TEST_F(McmwTest, HeaderAndTiers) {
  EXPECT_EQ(model_.name, "mcmw");
  EXPECT_EQ(model_.version, "1.0");
  ASSERT_EQ(model_.segments.size(), 4u);  // no Tier 2
  EXPECT_EQ(model_.segments[0].label,
            "Tier 4: three or more long-term conditions with mental-health or social-care needs");
  EXPECT_EQ(model_.segments[3].label, "Tier 0: mostly healthy");
  std::vector<int> ranks;
  for (const auto& s : model_.segments) ranks.push_back(*s.rank);
  EXPECT_EQ(ranks, (std::vector<int>{4, 3, 1, 0}));
}

TEST_F(McmwTest, PopulationIsPeopleAged65AndOver) {
  PersonFeatures p = Older(0);
  p.age = 64;
  EXPECT_EQ(Tier(p), "outside");
  p.age = 65;
  EXPECT_EQ(Tier(p), "tier0");
}

TEST_F(McmwTest, Tier0HasNoLongTermCondition) {
  EXPECT_EQ(Tier(Older(0)), "tier0");
  EXPECT_EQ(Tier(Older(0, true, true, 2)), "tier0");  // needs without an LTC stay mostly healthy
}

TEST_F(McmwTest, Tier1IsOneConditionWithoutEmergencyAdmission) {
  EXPECT_EQ(Tier(Older(1)), "tier1");
  EXPECT_EQ(Tier(Older(1, true, true)), "tier1");
  EXPECT_EQ(Tier(Older(1, false, false, 1)), "none");  // not well managed: fits no tier
}

TEST_F(McmwTest, Tier3IsTwoConditionsWithANeed) {
  EXPECT_EQ(Tier(Older(2, true, false)), "tier3");
  EXPECT_EQ(Tier(Older(2, false, true)), "tier3");
  EXPECT_EQ(Tier(Older(2, true, true, 3)), "tier3");
  EXPECT_EQ(Tier(Older(2)), "none");  // two LTCs, no need: the gap where a Tier 2 would be
}

TEST_F(McmwTest, Tier4IsThreeOrMoreConditionsWithANeed) {
  EXPECT_EQ(Tier(Older(3, true, false)), "tier4");
  EXPECT_EQ(Tier(Older(3, false, true)), "tier4");
  EXPECT_EQ(Tier(Older(12, true, true)), "tier4");
  EXPECT_EQ(Tier(Older(3)), "none");
  EXPECT_EQ(Tier(Older(7)), "none");
}

// ---- South Worcestershire groups --------------------------------------------------------------

class SouthWorcestershireTest : public ::testing::Test {
 protected:
  const SegmentationModel model_ = Shipped("south_worcestershire.model");
  std::string Group(const PersonFeatures& p) const {
    const SegmentAssignment a = Assign(model_, p);
    return a.status == AssignmentStatus::kAssigned
               ? model_.segments[static_cast<size_t>(a.segment)].id
               : "none";
  }
  static PersonFeatures Person(int efi_deficits, int hfrs_tenths) {
    PersonFeatures p;
    p.age = 50;
    p.efi_deficits = static_cast<int16_t>(efi_deficits);
    p.hfrs_tenths = static_cast<int16_t>(hfrs_tenths);
    p.cost_percentile = 50;
    return p;
  }
};

TEST_F(SouthWorcestershireTest, HeaderAndGroups) {
  EXPECT_EQ(model_.name, "south_worcestershire");
  EXPECT_EQ(model_.population, -1);  // all ages
  ASSERT_EQ(model_.segments.size(), 4u);
  EXPECT_EQ(model_.segments[0].label,
            "Group 4: intensive, high-cost packages (continuing healthcare, top cost)");
  EXPECT_EQ(Info(model_).segments.back(), "Group 1: largely healthy");
}

TEST_F(SouthWorcestershireTest, Group4IsContinuingHealthcareOrTopOnePercentCost) {
  PersonFeatures p = Person(0, 0);
  p.continuing_healthcare = true;
  EXPECT_EQ(Group(p), "group4");
  p = Person(20, 200);
  p.social_care_package = true;
  p.cost_percentile = 99.0f;
  EXPECT_EQ(Group(p), "group4");
  p.cost_percentile = std::nextafter(99.0f, 0.0f);
  EXPECT_EQ(Group(p), "group3");
}

TEST_F(SouthWorcestershireTest, Group3IsModerateFrailtyWithRegularSupport) {
  PersonFeatures p = Person(9, 0);  // moderate eFI
  p.social_care_package = true;
  EXPECT_EQ(Group(p), "group3");
  p = Person(8, 0);  // mild eFI is emerging, even with support
  p.social_care_package = true;
  EXPECT_EQ(Group(p), "group2");
  p = Person(0, 50);  // HFRS exactly 5.0 is intermediate
  p.care_home = true;
  EXPECT_EQ(Group(p), "group3");
  p = Person(0, 49);
  p.care_home = true;
  EXPECT_EQ(Group(p), "group1");  // support without frailty: largely healthy in this model
  EXPECT_EQ(Group(Person(13, 151)), "group2");  // severe, no regular support yet
}

TEST_F(SouthWorcestershireTest, Group2IsAnyFrailtyAndGroup1IsNone) {
  EXPECT_EQ(Group(Person(4, 49)), "group1");
  EXPECT_EQ(Group(Person(5, 0)), "group2");
  EXPECT_EQ(Group(Person(0, 50)), "group2");
  EXPECT_EQ(Group(Person(12, 150)), "group2");
  PersonFeatures child = Person(0, 0);
  child.age = 3;
  EXPECT_EQ(Group(child), "group1");
}

TEST_F(SouthWorcestershireTest, EveryoneFitsAGroup) {
  for (int efi = 0; efi <= 36; ++efi)
    for (int hfrs : {0, 49, 50, 150, 151, 400})
      for (int support = 0; support < 4; ++support)
        for (float cost : {0.0f, 98.5f, 99.0f}) {
          PersonFeatures p = Person(efi, hfrs);
          p.social_care_package = support & 1;
          p.care_home = support & 2;
          p.cost_percentile = cost;
          ASSERT_NE(Group(p), "none") << efi << " " << hfrs << " " << support << " " << cost;
        }
}

// ---- Reasons ---------------------------------------------------------------------------------

class ExplainTest : public ::testing::Test {
 protected:
  const SegmentationModel model_ = Shipped("mcmw_tiers.model");
  const std::vector<Cohort::Concept> concepts_ = {
      {CodeSystem::kSnomedCt, "44054006"},  // type 2 diabetes
      {CodeSystem::kIcd10, "F32.9"},        // depression
      {CodeSystem::kReadV2, "Eu\"q\\"},     // a code that needs escaping
      {CodeSystem::kSnomedCt, "1234"},
  };
  std::vector<FeatureEvidence> evidence_ = {
      {Feature::kLtcCount, 0, Date::FromYmd(2019, 3, 1), 1},
      {Feature::kLtcCount, 1, Date::FromYmd(2021, 7, 15), 4},
      {Feature::kMentalHealthNeed, 1, Date::FromYmd(2021, 7, 15), 0},
      {Feature::kEfiDeficits, 2, Date::FromYmd(2018, 1, 2), 7},
      {Feature::kSocialCareNeed, FeatureEvidence::kNoConcept, Date::FromYmd(2022, 2, 3), 0},
  };
};

TEST_F(ExplainTest, AssignedNamesRuleTestsValuesAndCodes) {
  PersonFeatures p;
  p.age = 80;
  p.ltc_count = 2;
  p.mental_health_need = true;
  const SegmentAssignment a = Assign(model_, p);
  const std::string text = ExplainJson(model_, a, p, evidence_, concepts_);
  EXPECT_EQ(text.find('\n'), std::string::npos);
  const json j = json::parse(text);
  EXPECT_EQ(j["model"], "mcmw");
  EXPECT_EQ(j["version"], "1.0");
  EXPECT_EQ(j["result"], "segment");
  EXPECT_EQ(j["segment"], "tier3");
  EXPECT_EQ(j["rank"], 3);
  EXPECT_EQ(j["rule"], 1);
  EXPECT_EQ(j["line"], model_.segments[1].line);
  EXPECT_EQ(j["population"], json::parse(R"js({"when":"age >= 65","holds":true,
      "tests":[{"test":"age >= 65","value":80,"holds":true}]})js"));
  ASSERT_EQ(j["rules"].size(), 1u);
  EXPECT_EQ(j["rules"][0], json::parse(R"js({"segment":"tier3",
      "when":"ltc_count == 2 and (mental_health_need or social_care_need)","holds":true,
      "tests":[{"test":"ltc_count == 2","value":2,"holds":true},
               {"test":"mental_health_need","value":true,"holds":true},
               {"test":"social_care_need","value":false,"holds":false}]})js"));
  // Evidence for the features tested (not the eFI deficit), codes as system|code.
  EXPECT_EQ(j["evidence"], json::parse(R"js([
      {"feature":"ltc_count","code":"snomed|44054006","date":"2019-03-01"},
      {"feature":"ltc_count","code":"icd10|F32.9","date":"2021-07-15"},
      {"feature":"mental_health_need","code":"icd10|F32.9","date":"2021-07-15"},
      {"feature":"social_care_need","code":null,"date":"2022-02-03"}])js"));
}

TEST_F(ExplainTest, NoSegmentListsEveryRuleAndOutsideOnlyThePopulation) {
  PersonFeatures p;
  p.age = 70;
  p.ltc_count = 2;
  json j = json::parse(ExplainJson(model_, Assign(model_, p), p, evidence_, concepts_));
  EXPECT_EQ(j["result"], "no_segment");
  EXPECT_FALSE(j.contains("segment"));
  ASSERT_EQ(j["rules"].size(), 4u);
  for (const auto& rule : j["rules"]) EXPECT_EQ(rule["holds"], false);
  EXPECT_EQ(j["rules"][2]["tests"][1],
            json::parse(R"js({"test":"emergency_admissions_12m == 0","value":0,"holds":true})js"));

  p.age = 64;
  j = json::parse(ExplainJson(model_, Assign(model_, p), p, evidence_, concepts_));
  EXPECT_EQ(j["result"], "outside_population");
  EXPECT_EQ(j["population"]["holds"], false);
  EXPECT_FALSE(j.contains("rules"));
  EXPECT_EQ(j["evidence"], json::array());  // age has no coded evidence
}

TEST_F(ExplainTest, EscapesAndCategoricalValues) {
  const SegmentationModel m = Parse(
      "model: t\nversion: v\\1\n"
      "segment frail \"Frail \\ old\" when efi_category >= moderate and admission_risk < 0.5\n");
  PersonFeatures p;
  p.efi_deficits = 9;
  p.admission_risk = 0.25f;
  const json j = json::parse(ExplainJson(m, Assign(m, p), p, evidence_, concepts_));
  EXPECT_EQ(j["version"], "v\\1");
  EXPECT_EQ(j["label"], "Frail \\ old");
  EXPECT_EQ(
      j["rules"][0]["tests"][0],
      json::parse(R"js({"test":"efi_category >= moderate","value":"moderate","holds":true})js"));
  EXPECT_EQ(j["rules"][0]["tests"][1]["value"], 0.25);
  // The eFI code is the family's evidence for efi_category; its odd characters survive.
  ASSERT_EQ(j["evidence"].size(), 1u);
  EXPECT_EQ(j["evidence"][0]["code"], "readv2|Eu\"q\\");
}

}  // namespace
}  // namespace joinedup::analytics
