// Electronic Frailty Index: category boundaries on deficit counts, exact case-sensitive codes,
// value rules, polypharmacy and bad lists.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "analytics/efi.h"

namespace joinedup::analytics {
namespace {

const EfiModel& Model() {
  auto model = Efi();
  EXPECT_TRUE(model.ok()) << model.error().ToString();
  return **model;
}

const Date kIndex = Date::FromYmd(2024, 6, 1);

ClinicalEvent Event(CodeSystem system, std::string code, Date date = Date::FromYmd(2020, 1, 1)) {
  ClinicalEvent e;
  e.system = system;
  e.code = std::move(code);
  e.date = date;
  return e;
}

ClinicalEvent Value(std::string code, double value, std::string unit = "",
                    Date date = Date::FromYmd(2020, 1, 1)) {
  ClinicalEvent e = Event(CodeSystem::kReadV2, std::move(code), date);
  e.kind = EventKind::kObservation;
  e.value = value;
  e.unit = std::move(unit);
  return e;
}

Medication Med(std::string code, Date start, std::optional<Date> end = std::nullopt) {
  Medication m;
  m.code = std::move(code);
  m.start = start;
  m.end = end;
  return m;
}

// Read v2 codes each in exactly one deficit's list (Arthritis, AF, Diabetes, Dizziness, ...).
const std::vector<std::string> kOneDeficitEach = {"14G..", "14AN.", "2BBR.", "1491.", "173..",
                                                  "16D..", "13G8.", "1C12.", "14A6.", "14A2.",
                                                  "14OD.", "14F3.", "1593.", "1483."};

EfiResult ScoreCodes(int n) {
  std::vector<ClinicalEvent> events;
  for (int i = 0; i < n; ++i) events.push_back(Event(CodeSystem::kReadV2, kOneDeficitEach[i]));
  return Model().Score({events, {}, kIndex});
}

std::vector<std::string> DeficitNames(const EfiResult& r) {
  std::vector<std::string> names;
  for (const auto& hit : r.found) names.push_back(Model().deficits()[hit.deficit]);
  return names;
}

TEST(EfiTest, EmbeddedListsHave36Deficits) {
  ASSERT_EQ(Model().deficits().size(), 36u);
  EXPECT_EQ(Model().deficits()[Model().polypharmacy_deficit()], "Polypharmacy");
}

TEST(EfiTest, CategoryBoundariesOnDeficitCounts) {
  const std::vector<std::pair<int, EfiCategory>> cases = {
      {0, EfiCategory::kFit},     {4, EfiCategory::kFit},      {5, EfiCategory::kMild},
      {8, EfiCategory::kMild},    {9, EfiCategory::kModerate}, {12, EfiCategory::kModerate},
      {13, EfiCategory::kSevere}, {14, EfiCategory::kSevere}};
  for (const auto& [n, category] : cases) {
    const EfiResult r = ScoreCodes(n);
    EXPECT_EQ(r.deficit_count, n);
    EXPECT_EQ(r.category, category) << n << " deficits: " << EfiCategoryName(r.category);
    EXPECT_DOUBLE_EQ(r.efi(), n / 36.0);
  }
  EXPECT_EQ(EfiCategoryOf(36), EfiCategory::kSevere);
}

TEST(EfiTest, CodesAreExactCaseSensitiveAndPerTerminology) {
  // CTV3 Xa0AZ is in the osteoporosis list; other spellings and other terminologies are not.
  auto score = [](CodeSystem system, std::string code) {
    std::vector<ClinicalEvent> events = {Event(system, std::move(code))};
    return Model().Score({events, {}, kIndex}).deficit_count;
  };
  EXPECT_EQ(score(CodeSystem::kCtv3, "Xa0AZ"), 1);
  EXPECT_EQ(score(CodeSystem::kCtv3, "XA0AZ"), 0);
  EXPECT_EQ(score(CodeSystem::kCtv3, "xa0az"), 0);
  EXPECT_EQ(score(CodeSystem::kCtv3, "Xa0AZ "), 0);
  EXPECT_EQ(score(CodeSystem::kReadV2, "Xa0AZ"), 0);
  EXPECT_EQ(score(CodeSystem::kIcd10, "Xa0AZ"), 0);
}

TEST(EfiTest, CodesAnyTimeUpToTheIndexDateAndReportedWithTheirTrigger) {
  std::vector<ClinicalEvent> events = {
      Event(CodeSystem::kReadV2, "14A6.", Date::FromYmd(2019, 3, 1)),
      Event(CodeSystem::kCtv3, "XE2QG", Date::FromYmd(2001, 5, 2)),    // heart failure, earlier
      Event(CodeSystem::kReadV2, "14G..", Date::FromYmd(2024, 6, 2)),  // after the index date
      Event(CodeSystem::kReadV2, "G670.", Date::FromYmd(1990, 1, 1)),  // two deficits
  };
  const EfiResult r = Model().Score({events, {}, kIndex});
  EXPECT_EQ(DeficitNames(r), (std::vector<std::string>{"Cerebrovascular disease", "Heart failure",
                                                       "Peripheral vascular disease"}));
  EXPECT_EQ(r.found[1].code, "XE2QG");
  EXPECT_EQ(r.found[1].date, Date::FromYmd(2001, 5, 2));
}

TEST(EfiTest, ValueRules) {
  auto deficits = [](std::vector<ClinicalEvent> events, Sex sex = Sex::kUnknown) {
    return DeficitNames(Model().Score({events, {}, kIndex, sex}));
  };
  using V = std::vector<std::string>;
  // Barthel index <= 18 (39F..): 18 is a deficit, 19 is not.
  EXPECT_EQ(deficits({Value("39F..", 18)}), V{"Activity limitation"});
  EXPECT_EQ(deficits({Value("39F..", 19)}), V{});
  // Recorded after the index date: not counted.
  EXPECT_EQ(deficits({Value("39F..", 10, "", Date::FromYmd(2024, 7, 1))}), V{});
  // Hypertension: average 24h systolic > 135 (246W.); 135 itself is not.
  EXPECT_EQ(deficits({Value("246W.", 136)}), V{"Hypertension"});
  EXPECT_EQ(deficits({Value("246W.", 135)}), V{});
  // TSH outside 0.36-5.5.
  EXPECT_EQ(deficits({Value("442W.", 0.3)}), V{"Thyroid disease"});
  EXPECT_EQ(deficits({Value("442W.", 2.0)}), V{});
  EXPECT_EQ(deficits({Value("442W.", 5.6)}), V{"Thyroid disease"});
  // Haemoglobin needs the sex: male < 13 g/dL, female < 11.5 g/dL; g/L from 25.
  EXPECT_EQ(deficits({Value("423..", 12.0, "g/dL")}, Sex::kMale),
            V{"Anaemia & haematinic deficiency"});
  EXPECT_EQ(deficits({Value("423..", 12.0, "g/dL")}, Sex::kFemale), V{});
  EXPECT_EQ(deficits({Value("423..", 11.4, "g/dL")}, Sex::kFemale),
            V{"Anaemia & haematinic deficiency"});
  EXPECT_EQ(deficits({Value("423..", 120, "g/L")}, Sex::kMale),
            V{"Anaemia & haematinic deficiency"});
  EXPECT_EQ(deficits({Value("423..", 120, "g/dL")}, Sex::kMale),
            V{});                                            // unit says g/dL: 120 is not < 13
  EXPECT_EQ(deficits({Value("423..", 12.0, "g/dL")}), V{});  // sex unknown
  // Any value of the AF code counts; a CTV3-cased code must match exactly.
  EXPECT_EQ(deficits({Value("38DE.", 0)}), V{"Atrial fibrillation"});
  const EfiResult r = Model().Score({std::vector<ClinicalEvent>{Value("39F..", 16)}, {}, kIndex});
  ASSERT_EQ(r.found.size(), 1u);
  EXPECT_EQ(r.found[0].code, "39F..");
  EXPECT_EQ(r.found[0].reason, "value 16 (Barthel index <= 18)");
}

TEST(EfiTest, PolypharmacyThreshold) {
  const Date old_start = Date::FromYmd(2015, 1, 1);
  std::vector<Medication> meds = {Med("a", old_start), Med("b", old_start), Med("c", old_start),
                                  Med("d", old_start), Med("d", Date::FromYmd(2024, 1, 1))};
  auto poly = [&meds] {
    const EfiResult r = Model().Score({{}, meds, kIndex});
    return r.deficit_count == 1 && r.found[0].deficit == Model().polypharmacy_deficit();
  };
  EXPECT_FALSE(poly());  // 4 distinct medications ("d" twice)
  meds.push_back(Med("e", old_start, Date::FromYmd(2023, 5, 31)));  // ended > 1 year before
  EXPECT_FALSE(poly());
  meds.push_back(Med("f", Date::FromYmd(2024, 6, 2)));  // starts after the index date
  EXPECT_FALSE(poly());
  meds.push_back(Med("g", old_start, Date::FromYmd(2023, 6, 1)));  // ended exactly a year before
  EXPECT_TRUE(poly());
  const EfiResult r = Model().Score({{}, meds, kIndex});
  EXPECT_EQ(r.found[0].reason, "5 medications");
}

TEST(EfiListTest, MalformedListsAreClearErrors) {
  std::string deficits =
      "deficit_no,deficit,gm_sde_codeset,n_readv2,n_ctv3,n_snomed_mapped,value_rule\n";
  for (int i = 1; i <= 36; ++i) {
    deficits += std::to_string(i) + "," +
                (i == 26 ? std::string("Polypharmacy") : "D" + std::to_string(i)) + ",x,0,0,0,\n";
  }
  const std::string codes = "deficit,gm_sde_codeset,terminology,code,term,list_status\n";
  const std::string rules =
      "deficit,codes,lower,lower_inclusive,upper,upper_inclusive,sex,unit,rule\n";
  auto ok =
      EfiModel::Parse(deficits, codes + "D1,x,readv2,ab,t,s\n", rules + "D2,c1 c2,,,18,1,any,,r\n");
  ASSERT_TRUE(ok.ok()) << ok.error().ToString();
  auto expect_error = [&](const std::string& d, const std::string& c, const std::string& r,
                          std::string_view message) {
    auto model = EfiModel::Parse(d, c, r);
    ASSERT_FALSE(model.ok());
    EXPECT_NE(model.error().message.find(message), std::string::npos) << model.error().message;
  };
  const std::string good_codes = codes + "D1,x,readv2,ab,t,s\n";
  const std::string good_rules = rules + "D2,c1,,,18,1,any,,r\n";
  expect_error(deficits + "37,D37,x,0,0,0,\n", good_codes, good_rules, "expected 36 deficits");
  expect_error(deficits, codes + "Nope,x,readv2,ab,t,s\n", good_rules,
               "efi_codes.csv:2: field 'deficit': 'Nope' is not a coded eFI deficit");
  expect_error(deficits, codes + "D1,x,icd9,ab,t,s\n", good_rules,
               "efi_codes.csv:2: field 'terminology': 'icd9'");
  expect_error(deficits, good_codes, rules + "D2,c1,,,high,1,any,,r\n",
               "efi_value_rules.csv:2: field 'upper': 'high' is not a number");
  expect_error(deficits, good_codes, rules + "D2,c1,,,18,yes,any,,r\n",
               "field 'upper_inclusive': 'yes' is not 0 or 1");
  expect_error(deficits, good_codes, rules + "D2,c1,,,18,1,both,,r\n", "field 'sex'");
}

}  // namespace
}  // namespace joinedup::analytics
