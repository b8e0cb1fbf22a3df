// Hospital Frailty Risk Score: points from Gilbert 2018's table, band edges, once-per-category
// counting and the two-year emergency-admission window.
#include <gtest/gtest.h>

#include <string_view>
#include <vector>

#include "analytics/hfrs.h"

namespace joinedup::analytics {
namespace {

const HfrsModel& Model() {
  auto model = Hfrs();
  EXPECT_TRUE(model.ok()) << model.error().ToString();
  return **model;
}

HfrsResult Score(std::vector<std::string_view> codes) { return Model().Score(codes); }

TEST(HfrsTest, EmbeddedListHas109CategoriesSumming173Point2) {
  const auto& model = Model();
  ASSERT_EQ(model.categories().size(), 109u);
  int total = 0;
  for (const auto& c : model.categories()) total += c.points_tenths;
  EXPECT_EQ(total, 1732);  // "Sum of all 109 weights = 173.2" (list header)
  EXPECT_EQ(model.categories()[model.CategoryOf("F00")].points_tenths, 71);
}

TEST(HfrsTest, BandEdges) {
  // R31 3.0 + H54 1.9 = 4.9: low.  R31 3.0 + Z75 2.0 = exactly 5.0: intermediate.
  auto r = Score({"R31", "H54.0"});
  EXPECT_EQ(r.points_tenths, 49);
  EXPECT_EQ(r.band, HfrsBand::kLow);
  r = Score({"R31", "Z75.1"});
  EXPECT_EQ(r.points_tenths, 50);
  EXPECT_EQ(r.score(), 5.0);
  EXPECT_EQ(r.band, HfrsBand::kIntermediate);
  // G81 4.4 + G30 4.0 + R29 3.6 + R31 3.0 = exactly 15.0: intermediate.
  r = Score({"G81.9", "G30.1", "R29.6", "R31"});
  EXPECT_EQ(r.points_tenths, 150);
  EXPECT_EQ(r.band, HfrsBand::kIntermediate);
  // ... with I69 3.7 instead of R29 3.6 = 15.1: high (in doubles 15.100000000000001).
  r = Score({"G81.9", "G30.1", "I69.4", "R31"});
  EXPECT_EQ(r.points_tenths, 151);
  EXPECT_EQ(r.band, HfrsBand::kHigh);
  EXPECT_EQ(HfrsBandName(HfrsBandOf(0)), "low");
  EXPECT_EQ(HfrsBandName(HfrsBandOf(151)), "high");
}

TEST(HfrsTest, EachCategoryOnceWhateverTheFourthCharacter) {
  auto r = Score({"N39.0", "N394", "n39.4", "N39X", "I10"});  // I10 is not an HFRS category
  EXPECT_EQ(r.points_tenths, 32);
  ASSERT_EQ(r.found.size(), 1u);
  EXPECT_EQ(r.found[0].code, "N39.0");
  EXPECT_EQ(Model().categories()[r.found[0].category].category, "N39");
  EXPECT_EQ(Score({"N3", "", "N-39"}).points_tenths, 0);
}

TEST(HfrsTest, TwoYearEmergencyAdmissionWindow) {
  const Date index = Date::FromYmd(2024, 6, 1);
  std::vector<HfrsDiagnosis> d = {
      {"F00.1", Date::FromYmd(2024, 6, 1), true},  // index admission: 7.1
      {"W19", Date::FromYmd(2022, 6, 1), true},    // exactly two years before: 3.2
      {"G81", Date::FromYmd(2022, 5, 31), true},   // a day too early
      {"R29", Date::FromYmd(2024, 6, 2), true},    // after the index date
      {"N39", Date::FromYmd(2023, 1, 1), false},   // elective: not counted
      {"W19", Date::FromYmd(2023, 1, 1), true},    // W19 again: once
  };
  auto r = Model().ScoreAdmissions(d, index);
  EXPECT_EQ(r.points_tenths, 71 + 32);
  ASSERT_EQ(r.found.size(), 2u);
  // Index date 29 February: the window opens on 28 February two years before.
  std::vector<HfrsDiagnosis> leap = {{"F05", Date::FromYmd(2022, 2, 28), true},
                                     {"F00", Date::FromYmd(2022, 2, 27), true}};
  EXPECT_EQ(Model().ScoreAdmissions(leap, Date::FromYmd(2024, 2, 29)).points_tenths, 32);
}

TEST(HfrsListTest, MalformedListsAreClearErrors) {
  const std::string header = "icd10_category,points,description\n";
  auto expect_error = [](const std::string& text, std::string_view message) {
    auto model = HfrsModel::Parse("h.csv", text);
    ASSERT_FALSE(model.ok()) << text;
    EXPECT_NE(model.error().message.find(message), std::string::npos) << model.error().message;
  };
  expect_error(header + "F00,7.15,x\n", "h.csv:2: field 'points': '7.15'");
  expect_error(header + "F00,7.1,x\nF00,1.0,y\n",
               "h.csv:3: field 'icd10_category': 'F00' repeated");
  expect_error(header + "F0,7.1,x\n", "'F0' is not a 3-character ICD-10 category");
  expect_error("category,points\nF00,7.1\n", "h.csv:1: expected header");
  auto ok = HfrsModel::Parse("h.csv", "# src\n" + header + "F00,7.1,\"a, b\"\r\n");
  ASSERT_TRUE(ok.ok()) << ok.error().ToString();
  EXPECT_EQ(ok->categories()[0].description, "a, b");
}

}  // namespace
}  // namespace joinedup::analytics
