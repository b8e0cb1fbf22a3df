// Charlson and Elixhauser: hand-worked cases from the published tables (Quan 2005 codes;
// Charlson 1987, Quan 2011 and van Walraven 2009 weights), the hierarchies, and bad lists.
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "analytics/charlson.h"
#include "analytics/code_lists.h"
#include "analytics/elixhauser.h"

namespace joinedup::analytics {
namespace {

const ComorbidityIndex& CharlsonIndex() {
  auto index = Charlson();
  EXPECT_TRUE(index.ok()) << index.error().ToString();
  return **index;
}

const ComorbidityIndex& ElixhauserIndex() {
  auto index = Elixhauser();
  EXPECT_TRUE(index.ok()) << index.error().ToString();
  return **index;
}

ComorbidityResult Eval(const ComorbidityIndex& index, std::vector<std::string_view> codes) {
  return index.Evaluate(codes);
}

std::vector<std::string> Keys(const ComorbidityIndex& index, const ComorbidityResult& r) {
  std::vector<std::string> keys;
  for (const auto& hit : r.found) keys.push_back(index.conditions()[hit.condition].key);
  return keys;
}

int UnhierarchicalScore(const ComorbidityIndex& index, const ComorbidityResult& r, int w) {
  return index.Score(r.matched, w);
}

TEST(CharlsonTest, EmbeddedListHas17ConditionsWithPublishedWeights) {
  const auto& index = CharlsonIndex();
  ASSERT_EQ(index.condition_count(), 17);
  // Charlson 1987 weights / Quan 2011 weights, in the list's order.
  const std::vector<std::pair<std::string, std::pair<int, int>>> expected = {
      {"mi", {1, 0}},       {"chf", {1, 2}},  {"pvd", {1, 0}},    {"cevd", {1, 0}},
      {"dementia", {1, 2}}, {"cpd", {1, 1}},  {"rheumd", {1, 1}}, {"pud", {1, 0}},
      {"mld", {1, 2}},      {"diab", {1, 0}}, {"diabwc", {2, 1}}, {"hp", {2, 2}},
      {"rend", {2, 1}},     {"canc", {2, 2}}, {"msld", {3, 4}},   {"metacanc", {6, 6}},
      {"aids", {6, 4}}};
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(index.conditions()[i].key, expected[i].first);
    EXPECT_EQ(index.conditions()[i].weights[kCharlson1987], expected[i].second.first) << i;
    EXPECT_EQ(index.conditions()[i].weights[kQuan2011], expected[i].second.second) << i;
  }
}

TEST(CharlsonTest, BothWeightSets) {
  const auto& index = CharlsonIndex();
  // MI (I21), CHF (I50), dementia (F00): 1+1+1 under Charlson 1987; 0+2+2 under Quan 2011.
  auto r = Eval(index, {"I21.0", "I50.0", "F00.1"});
  EXPECT_EQ(Keys(index, r), (std::vector<std::string>{"mi", "chf", "dementia"}));
  EXPECT_EQ(r.scores[kCharlson1987], 3);
  EXPECT_EQ(r.scores[kQuan2011], 4);
  // AIDS (B20) weighs 6 in 1987 and 4 in Quan 2011 (the paper; comorbidipy uses 2).
  r = Eval(index, {"B20"});
  EXPECT_EQ(r.scores[kCharlson1987], 6);
  EXPECT_EQ(r.scores[kQuan2011], 4);
}

TEST(CharlsonTest, EveryConditionGivesTheMaximumScores) {
  const auto& index = CharlsonIndex();
  // One code per condition, mild and severe forms both present.
  auto r = Eval(index, {"I21", "I50", "I70", "I63", "F00", "J44", "M05", "K25", "K70.0", "K70.4",
                        "E11.9", "E11.2", "G81", "N18", "C34", "C78", "B20"});
  EXPECT_EQ(r.found.size(), 14u);      // mld, diab and canc dropped by the hierarchy
  EXPECT_EQ(r.scores[kQuan2011], 24);  // Quan 2011: "maximum score 24"
  EXPECT_EQ(r.scores[kCharlson1987], 29);
  EXPECT_EQ(UnhierarchicalScore(index, r, kCharlson1987), 29 + 1 + 1 + 2);
}

TEST(CharlsonTest, SevereLiverDiseaseCancelsMild) {
  const auto& index = CharlsonIndex();
  auto r = Eval(index, {"K70.0", "K70.4"});  // alcoholic fatty liver (mld); hepatic failure (msld)
  EXPECT_EQ(Keys(index, r), (std::vector<std::string>{"msld"}));
  EXPECT_EQ(r.scores[kCharlson1987], 3);
  EXPECT_EQ(r.scores[kQuan2011], 4);
  EXPECT_EQ(UnhierarchicalScore(index, r, kCharlson1987), 4);
  EXPECT_EQ(UnhierarchicalScore(index, r, kQuan2011), 6);
  // Mild alone still counts.
  EXPECT_EQ(Eval(index, {"K70.0"}).scores[kQuan2011], 2);
}

TEST(CharlsonTest, ComplicatedDiabetesCancelsUncomplicated) {
  const auto& index = CharlsonIndex();
  auto r = Eval(index, {"E11.9", "E11.2"});
  EXPECT_EQ(Keys(index, r), (std::vector<std::string>{"diabwc"}));
  EXPECT_EQ(r.scores[kCharlson1987], 2);
  EXPECT_EQ(UnhierarchicalScore(index, r, kCharlson1987), 3);
  // Quan 2011 gives uncomplicated diabetes no weight, so there the hierarchy changes nothing.
  EXPECT_EQ(r.scores[kQuan2011], 1);
  EXPECT_EQ(UnhierarchicalScore(index, r, kQuan2011), 1);
}

TEST(CharlsonTest, MetastasisCancelsAnyMalignancy) {
  const auto& index = CharlsonIndex();
  auto r = Eval(index, {"C34.1", "C78.0"});
  EXPECT_EQ(Keys(index, r), (std::vector<std::string>{"metacanc"}));
  EXPECT_EQ(r.scores[kCharlson1987], 6);
  EXPECT_EQ(r.scores[kQuan2011], 6);
  EXPECT_EQ(UnhierarchicalScore(index, r, kCharlson1987), 8);
  EXPECT_EQ(UnhierarchicalScore(index, r, kQuan2011), 8);
}

TEST(CharlsonTest, CodeFormsAndPrefixes) {
  const auto& index = CharlsonIndex();
  const uint64_t mi = uint64_t{1} << index.ConditionIndex("mi");
  const uint64_t dementia = uint64_t{1} << index.ConditionIndex("dementia");
  for (std::string_view code :
       {"I21.9", "I219", "i21.9", " I21.9 ", "I21X", "I21", "I2.1.9", "I25.2", "I252"}) {
    EXPECT_EQ(index.Match(code), mi) << code;
  }
  EXPECT_EQ(index.Match("F03X"), dementia);  // NHS filler after a 3-character category
  // I25.2 (old MI) is in the list; I25.1 and the bare category I25 are not; too short is nothing.
  for (std::string_view code : {"I25.1", "I25", "I2", "", "   ", "21I", "I-21"}) {
    EXPECT_EQ(index.Match(code), 0u) << code;
  }
  EXPECT_EQ(NormaliseIcd10(" i50.0\r"), "I500");
}

TEST(CharlsonTest, EachConditionOnceAndTheFirstCodeReported) {
  const auto& index = CharlsonIndex();
  auto r = Eval(index, {"I22.1", "I21.0", "I21.0", "I50.9"});
  ASSERT_EQ(r.found.size(), 2u);
  EXPECT_EQ(r.found[0].code, "I22.1");  // the code that first triggered MI
  EXPECT_EQ(r.found[1].code, "I50.9");
  EXPECT_EQ(r.scores[kCharlson1987], 2);
}

TEST(ElixhauserTest, EmbeddedListHas31Conditions) {
  const auto& index = ElixhauserIndex();
  ASSERT_EQ(index.condition_count(), 31);
  EXPECT_EQ(index.conditions()[index.ConditionIndex("chf")].weights[kVanWalraven2009], 7);
  EXPECT_EQ(index.conditions()[index.ConditionIndex("metacanc")].weights[kVanWalraven2009], 12);
  EXPECT_EQ(index.conditions()[index.ConditionIndex("drug")].weights[kVanWalraven2009], -7);
}

TEST(ElixhauserTest, CodeMatchingTwoConditions) {
  const auto& index = ElixhauserIndex();
  // I42.6 alcoholic cardiomyopathy: listed under both chf and alcohol in Quan 2005.
  auto r = Eval(index, {"I42.6"});
  EXPECT_EQ(Keys(index, r), (std::vector<std::string>{"chf", "alcohol"}));
  EXPECT_EQ(r.scores[kVanWalraven2009], 7 + 0);
  EXPECT_EQ(r.scores[kSwissWeights], 13 - 3);
  // I11.0 (hypertensive heart disease with failure): the 3-character hypc prefix and chf's I110.
  r = Eval(index, {"I110"});
  EXPECT_EQ(Keys(index, r), (std::vector<std::string>{"chf", "hypc"}));
}

TEST(ElixhauserTest, Hierarchies) {
  const auto& index = ElixhauserIndex();
  auto r = Eval(index, {"I10", "I11.9"});
  EXPECT_EQ(Keys(index, r), (std::vector<std::string>{"hypc"}));
  EXPECT_EQ(r.scores[kSwissWeights], -3);
  EXPECT_EQ(UnhierarchicalScore(index, r, kSwissWeights), -7);

  r = Eval(index, {"E11.9", "E11.2"});
  EXPECT_EQ(Keys(index, r), (std::vector<std::string>{"diabc"}));
  EXPECT_EQ(r.scores[kSwissWeights], -1);
  EXPECT_EQ(UnhierarchicalScore(index, r, kSwissWeights), 0);

  r = Eval(index, {"C34.1", "C78.0"});
  EXPECT_EQ(Keys(index, r), (std::vector<std::string>{"metacanc"}));
  EXPECT_EQ(r.scores[kVanWalraven2009], 12);
  EXPECT_EQ(UnhierarchicalScore(index, r, kVanWalraven2009), 16);
}

constexpr std::string_view kGoodList =
    "# source line\n"
    "condition,icd10_prefix,weight_charlson1987,weight_quan2011,condition_label\n"
    "mi,I21,1,0,Myocardial infarction\n"
    "msld,K704,3,4,\"Liver, severe\"\n"
    "mld,K70,1,2,Mild liver\n"
    "diab,E10,1,0,D\n"
    "diabwc,E102,2,1,DC\n"
    "canc,C34,2,2,C\n"
    "metacanc,C78,6,6,M\n";

TEST(ComorbidityListTest, ParsesAQuotedLabel) {
  auto index = ParseCharlson("test.csv", kGoodList);
  ASSERT_TRUE(index.ok()) << index.error().ToString();
  EXPECT_EQ(index->conditions()[1].label, "Liver, severe");
  // A 3-character prefix and a longer one under another condition both match.
  EXPECT_EQ(index->Match("K70.4"), 0b110u);
}

void ExpectListError(std::string_view text, std::string_view message) {
  auto index = ParseCharlson("bad.csv", text);
  ASSERT_FALSE(index.ok()) << text;
  EXPECT_EQ(index.error().code, ErrorCode::kInvalidInput);
  EXPECT_NE(index.error().message.find(message), std::string::npos) << index.error().message;
}

TEST(ComorbidityListTest, MalformedListsAreClearErrors) {
  const std::string header =
      "condition,icd10_prefix,weight_charlson1987,weight_quan2011,condition_label\n";
  const std::string rest =
      "msld,K704,3,4,a\nmld,K70,1,2,b\ndiabwc,E102,2,1,c\ndiab,E10,1,0,d\n"
      "metacanc,C78,6,6,e\ncanc,C34,2,2,f\n";
  ExpectListError("", "no header row");
  ExpectListError("# only provenance\n", "no header row");
  ExpectListError(header, "no data rows");
  ExpectListError("condition,prefix,a,b,c\nmi,I21,1,0,x\n", "bad.csv:1: expected header");
  ExpectListError(header + "mi,I21,one,0,x\n" + rest,
                  "bad.csv:2: field 'weight_charlson1987': 'one' is not an integer");
  ExpectListError(header + "mi,I21,1,0\n" + rest, "bad.csv:2: expected 5 fields, found 4");
  ExpectListError(header + "mi,I21,1,0,\"open\n" + rest, "unterminated quoted field");
  ExpectListError(header + "mi,I2,1,0,x\n" + rest, "bad.csv:2: field 'icd10_prefix'");
  ExpectListError(header + "mi,I21.0,1,0,x\n" + rest, "not a normalised ICD-10 prefix");
  ExpectListError(header + "mi,I21,1,0,x\nmi,I21,1,0,x\n" + rest,
                  "bad.csv:3: field 'icd10_prefix': 'I21' repeated");
  ExpectListError(header + "mi,I21,1,0,x\nmi,I22,2,0,x\n" + rest,
                  "bad.csv:3: field 'condition': weights of 'mi' differ");
  ExpectListError(header + "mi,I21,1,0,x\n", "hierarchy msld > mld names a condition");
  ExpectListError(header + "mi,I21,1,0,x\n# late comment\n" + rest,
                  "bad.csv:3: '#' line after the header");
}

TEST(ReferenceCsvTest, TenthsAndNumbers) {
  EXPECT_EQ(*ParseTenthsField("7.1", "w: "), 71);
  EXPECT_EQ(*ParseTenthsField("3", "w: "), 30);
  EXPECT_EQ(*ParseTenthsField("0.5", "w: "), 5);
  for (std::string_view bad : {"", "7.15", "-1", "7.", ".5", "1e2", "7,1"}) {
    EXPECT_FALSE(ParseTenthsField(bad, "w: ").ok()) << bad;
  }
  EXPECT_FALSE(ParseDoubleField("nan", "w: ").ok());
  EXPECT_EQ(*ParseDoubleField("-2.5", "w: "), -2.5);
}

}  // namespace
}  // namespace joinedup::analytics
