// Feature engine: each feature on hand-built cohorts, its window edges, its evidence; the
// same answers as the published scorers on a generated population; any thread count.
#include "analytics/feature_engine.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "analytics/charlson.h"
#include "analytics/efi.h"
#include "analytics/elixhauser.h"
#include "analytics/hfrs.h"
#include "analytics/ltc_conditions.h"
#include "analytics/risk_model.h"
#include "synth_cohort.h"

namespace joinedup::analytics {
namespace {

const Date kIndex = Date::FromYmd(2024, 3, 31);
const Date kLongAgo = Date::FromYmd(2015, 6, 1);

// Builds a Cohort person by person; records may be added in any order (Build sorts by date).
class CohortMaker {
 public:
  size_t Person(Date birth = Date::FromYmd(1940, 1, 1), Sex sex = Sex::kFemale,
                std::optional<Date> death = std::nullopt) {
    Cohort::Person p;
    p.key = static_cast<int64_t>(people_.size()) + 100;
    p.id = "p" + std::to_string(people_.size());
    p.birth_date = birth;
    p.sex = sex;
    p.death_date = death;
    p.practice = 0;
    p.deprivation_decile = 3;
    people_.push_back({p, {}, {}, {}});
    return people_.size() - 1;
  }
  uint32_t Concept(CodeSystem system, const std::string& code) {
    for (size_t i = 0; i < cohort_.concepts.size(); ++i)
      if (cohort_.concepts[i].system == system && cohort_.concepts[i].code == code)
        return static_cast<uint32_t>(i);
    cohort_.concepts.push_back({system, code});
    return static_cast<uint32_t>(cohort_.concepts.size() - 1);
  }
  void Code(CodeSystem system, const std::string& code, Date date,
            std::optional<double> value = std::nullopt) {
    people_.back().events.push_back({Concept(system, code), date, EventKind::kCondition,
                                     EventSource::kGp, AdmissionMethod::kNone, value});
  }
  void Snomed(const std::string& code, Date date = kLongAgo) {
    Code(CodeSystem::kSnomedCt, code, date);
  }
  void Read(const std::string& code, Date date = kLongAgo) {
    Code(CodeSystem::kReadV2, code, date);
  }
  void Diagnosis(const std::string& code, Date date,
                 AdmissionMethod method = AdmissionMethod::kEmergency,
                 EventSource source = EventSource::kHospital) {
    people_.back().events.push_back({Concept(CodeSystem::kIcd10, code), date, EventKind::kCondition,
                                     source, method, std::nullopt});
  }
  void Activity(ActivityType type, Date start, std::optional<Date> end = std::nullopt, int los = 0,
                int64_t cost = 0) {
    people_.back().activities.push_back({type, start, end, los, cost});
  }
  void Medication(const std::string& code, Date start, std::optional<Date> end = std::nullopt) {
    people_.back().medications.push_back({Concept(CodeSystem::kDmd, code), start, end});
  }

  Cohort Build() {
    Cohort c = cohort_;
    c.practices.push_back({"P1", "Practice", "PCH", "E1"});
    c.event_begin = {0};
    c.activity_begin = {0};
    c.medication_begin = {0};
    for (PersonRecords& p : people_) {
      std::stable_sort(p.events.begin(), p.events.end(),
                       [](const auto& a, const auto& b) { return a.date < b.date; });
      c.people.push_back(p.person);
      c.events.insert(c.events.end(), p.events.begin(), p.events.end());
      c.activities.insert(c.activities.end(), p.activities.begin(), p.activities.end());
      c.medications.insert(c.medications.end(), p.medications.begin(), p.medications.end());
      c.event_begin.push_back(c.events.size());
      c.activity_begin.push_back(c.activities.size());
      c.medication_begin.push_back(c.medications.size());
    }
    return c;
  }

 private:
  struct PersonRecords {
    Cohort::Person person;
    std::vector<Cohort::Event> events;
    std::vector<Cohort::Activity> activities;
    std::vector<Cohort::Medication> medications;
  };
  Cohort cohort_;
  std::vector<PersonRecords> people_;
};

CohortFeatures Compute(const Cohort& cohort, int threads = 1, const RiskModel* model = nullptr,
                       std::optional<Date> extract = std::nullopt) {
  FeatureOptions options;
  options.index_date = kIndex;
  options.threads = threads;
  options.risk_model = model;
  options.extract_date = extract;
  auto result = ComputeFeatures(cohort, options);
  EXPECT_TRUE(result.ok()) << result.error().ToString();
  return result.ok() ? std::move(result).value() : CohortFeatures{};
}

const LtcList& Ltc() { return **LtcConditions(); }
const EfiModel& EfiList() { return **Efi(); }
int Deficit(const std::string& name) {
  const auto& d = EfiList().deficits();
  return static_cast<int>(std::find(d.begin(), d.end(), name) - d.begin());
}

std::vector<FeatureEvidence> EvidenceFor(const CohortFeatures& f, size_t person, Feature feature) {
  std::vector<FeatureEvidence> out;
  for (const FeatureEvidence& e : f.EvidenceOf(person))
    if (e.feature == feature) out.push_back(e);
  return out;
}

// ---- The long-term-condition list --------------------------------------------------------------

TEST(LtcList, ShippedListHasTheQofRegistersAndMatchesBothTerminologies) {
  const LtcList& list = Ltc();
  for (const char* key :
       {"hypertension", "diabetes", "asthma", "copd", "chd", "heart_failure", "atrial_fibrillation",
        "stroke_tia", "ckd", "dementia", "depression", "smi", "cancer", "epilepsy",
        "rheumatoid_arthritis", "osteoporosis", "learning_disability", "pad"})
    EXPECT_GE(list.ConditionIndex(key), 0) << key;
  const auto bit = [&](const char* key) { return uint64_t{1} << list.ConditionIndex(key); };
  EXPECT_EQ(list.Match(CodeSystem::kSnomedCt, "59621000"), bit("hypertension"));
  EXPECT_EQ(list.Match(CodeSystem::kIcd10, "I10X"), bit("hypertension"));
  EXPECT_EQ(list.Match(CodeSystem::kIcd10, "i10.x"), bit("hypertension"));
  EXPECT_EQ(list.Match(CodeSystem::kIcd10, "I11.0"), bit("hypertension") | bit("heart_failure"));
  EXPECT_EQ(list.Match(CodeSystem::kIcd10, "C43.9"), bit("cancer"));
  EXPECT_EQ(list.Match(CodeSystem::kIcd10, "C44.9"), 0u);  // non-melanoma skin cancer
  EXPECT_EQ(list.Match(CodeSystem::kIcd10, "C45.0"), bit("cancer"));
  EXPECT_EQ(list.Match(CodeSystem::kIcd10, "F05.1"), bit("dementia"));
  EXPECT_EQ(list.Match(CodeSystem::kIcd10, "F05.9"), 0u);      // delirium alone
  EXPECT_EQ(list.Match(CodeSystem::kIcd10, "N18.2"), 0u);      // CKD stage 2: not on the register
  EXPECT_EQ(list.Match(CodeSystem::kReadV2, "59621000"), 0u);  // right code, wrong terminology
  EXPECT_EQ(list.mental_health_bits(), bit("dementia") | bit("depression") | bit("smi"));
}

TEST(LtcList, BadListsNameTheLineAndField) {
  const std::string header = "condition,label,qof_cluster,ltc,mental_health,system,code,term\n";
  auto error = [&](const std::string& rows) {
    auto list = LtcList::Parse("l.csv", header + rows);
    EXPECT_FALSE(list.ok());
    return list.ok() ? std::string() : list.error().message;
  };
  EXPECT_NE(error("a,A,X,1,0,icd9,250,t\n").find("l.csv:2: field 'system'"), std::string::npos);
  EXPECT_NE(error("a,A,X,2,0,snomed,1,t\n").find("l.csv:2: field 'ltc'"), std::string::npos);
  EXPECT_NE(error("a,A,X,1,0,icd10,C43-B12,t\n").find("l.csv:2: field 'code'"), std::string::npos);
  EXPECT_NE(error("a,A,X,1,0,icd10,I1,t\n").find("l.csv:2: field 'code'"), std::string::npos);
  EXPECT_NE(error("a,A,X,1,0,icd10,I10,t\na,A,X,1,1,icd10,I11,t\n").find("l.csv:3"),
            std::string::npos);
  EXPECT_NE(error("a,A,X,1,0,snomed,1,t\na,A,X,1,0,snomed,1,t\n").find("repeated"),
            std::string::npos);
  EXPECT_NE(error("a,A,X,1,0,snomed,,t\n").find("empty"), std::string::npos);
  std::string many;
  for (int i = 0; i <= 64; ++i) many += "c" + std::to_string(i) + ",C,X,1,0,snomed,1,t\n";
  EXPECT_NE(error(many).find("more than 64"), std::string::npos);
}

// ---- Demographics ------------------------------------------------------------------------------

TEST(FeatureEngine, AgeAtIndexDateAndDeceasedExcluded) {
  CohortMaker m;
  m.Person(Date::FromYmd(1944, 3, 31), Sex::kMale);           // 80 on the index date
  m.Person(Date::FromYmd(1944, 4, 1));                        // 79 until tomorrow
  m.Person(Date::FromYmd(1944, 1, 1), Sex::kFemale, kIndex);  // died on the index date
  m.Snomed("59621000");
  m.Person(Date::FromYmd(1944, 1, 1), Sex::kFemale, kIndex.AddDays(1));  // died the day after
  m.Snomed("59621000");
  m.Activity(ActivityType::kGpAppointment, kIndex.AddDays(-10), std::nullopt, 0, 4200);
  const CohortFeatures f = Compute(m.Build());
  ASSERT_EQ(f.people.size(), 4u);
  EXPECT_EQ(f.people[0].age, 80);
  EXPECT_EQ(f.people[0].sex, Sex::kMale);
  EXPECT_EQ(f.people[0].deprivation_decile, 3);
  EXPECT_EQ(f.people[1].age, 79);
  EXPECT_TRUE(f.people[2].deceased);
  EXPECT_EQ(f.people[2].ltc_count, 0);  // not scored
  EXPECT_TRUE(f.EvidenceOf(2).empty());
  EXPECT_FALSE(f.people[3].deceased);
  EXPECT_EQ(f.people[3].ltc_count, 1);
  // Cost percentile over the three living people: two cost nothing, one 42 pounds.
  EXPECT_FLOAT_EQ(f.people[0].cost_percentile, 0);
  EXPECT_FLOAT_EQ(f.people[3].cost_percentile, 100.0f * 2 / 3);
}

// ---- Long-term conditions and mental health
// ------------------------------------------------------

TEST(FeatureEngine, LongTermConditionsFromGpAndHospitalCodesCountOnce) {
  CohortMaker m;
  m.Person();
  m.Snomed("59621000", Date::FromYmd(2010, 5, 1));  // essential hypertension
  m.Diagnosis("I10X", Date::FromYmd(2022, 1, 1));   // hypertension again, hospital, filler
  m.Diagnosis("E11.9", Date::FromYmd(2023, 1, 1), AdmissionMethod::kElective);  // diabetes
  m.Diagnosis("n183", Date::FromYmd(2023, 2, 1));   // CKD 3: lower case, undotted
  m.Diagnosis("N181", Date::FromYmd(2023, 2, 1));   // CKD 1: not on the register
  m.Snomed("84114007", kIndex);                     // heart failure on the index date counts
  m.Snomed("49436004", kIndex.AddDays(1));          // AF tomorrow does not
  m.Snomed("35489007", Date::FromYmd(2019, 1, 1));  // depression
  const CohortFeatures f = Compute(m.Build());
  const PersonFeatures& p = f.people[0];
  EXPECT_EQ(p.ltc_count, 5);  // hypertension, diabetes, CKD, heart failure, depression
  const auto bit = [](int i) { return uint64_t{1} << i; };
  EXPECT_EQ(p.ltc_mask,
            bit(Ltc().ConditionIndex("hypertension")) | bit(Ltc().ConditionIndex("diabetes")) |
                bit(Ltc().ConditionIndex("ckd")) | bit(Ltc().ConditionIndex("heart_failure")) |
                bit(Ltc().ConditionIndex("depression")));
  EXPECT_TRUE(p.mental_health_need);

  const auto ltc = EvidenceFor(f, 0, Feature::kLtcCount);
  ASSERT_EQ(ltc.size(), 5u);
  const FeatureEvidence& hypertension = ltc[0];  // condition order: hypertension first
  EXPECT_EQ(hypertension.detail, Ltc().ConditionIndex("hypertension"));
  EXPECT_EQ(hypertension.date, Date::FromYmd(2010, 5, 1));  // the earliest code
  EXPECT_EQ(m.Build().concepts[hypertension.concept_id].code, "59621000");
  const auto mh = EvidenceFor(f, 0, Feature::kMentalHealthNeed);
  ASSERT_EQ(mh.size(), 1u);
  EXPECT_EQ(mh[0].detail, Ltc().ConditionIndex("depression"));
  EXPECT_EQ(mh[0].date, Date::FromYmd(2019, 1, 1));
}

TEST(FeatureEngine, MentalHealthNeedOnlyFromMentalHealthConditions) {
  CohortMaker m;
  m.Person();
  m.Snomed("195967001");  // asthma
  m.Person();
  m.Diagnosis("F03X", Date::FromYmd(2021, 1, 1));  // dementia, hospital
  m.Person();
  m.Snomed("58214004");  // schizophrenia
  const CohortFeatures f = Compute(m.Build());
  EXPECT_FALSE(f.people[0].mental_health_need);
  EXPECT_TRUE(f.people[1].mental_health_need);
  EXPECT_TRUE(f.people[2].mental_health_need);
}

// ---- Electronic frailty index ------------------------------------------------------------------

// Read v2 codes each in exactly one eFI deficit's list (as in efi_test.cc).
const std::vector<std::string> kOneDeficitEach = {"14G..", "14AN.", "2BBR.", "1491.", "173..",
                                                  "16D..", "13G8.", "1C12.", "14A6.", "14A2.",
                                                  "14OD.", "14F3.", "1593.", "1483."};

TEST(FeatureEngine, EfiCategoryBoundaries) {
  CohortMaker m;
  const std::vector<int> counts = {4, 5, 8, 9, 12, 13};
  for (int n : counts) {
    m.Person();
    for (int i = 0; i < n; ++i) m.Read(kOneDeficitEach[i]);
  }
  const CohortFeatures f = Compute(m.Build());
  const std::vector<double> expected = {0, 1, 1, 2, 2, 3};  // fit, mild, mild, moderate, ...
  for (size_t i = 0; i < counts.size(); ++i) {
    EXPECT_EQ(f.people[i].efi_deficits, counts[i]);
    EXPECT_EQ(FeatureValue(f.people[i], Feature::kEfiCategory), expected[i]) << counts[i];
    EXPECT_DOUBLE_EQ(FeatureValue(f.people[i], Feature::kEfi), counts[i] / 36.0);
  }
}

TEST(FeatureEngine, EfiEvidenceNamesTheEarliestTriggerAndPolypharmacy) {
  CohortMaker m;
  m.Person(Date::FromYmd(1940, 1, 1), Sex::kMale);
  m.Read("16D..", Date::FromYmd(2020, 1, 1));  // falls
  m.Read("16D..", Date::FromYmd(2018, 1, 1));  // falls, earlier
  m.Read("16D..", kIndex.AddDays(1));          // after the index date: ignored
  m.Code(CodeSystem::kReadV2, "423..", Date::FromYmd(2023, 1, 1), 11.0);  // Hb 11 g/dL, male
  for (int i = 0; i < 5; ++i) m.Medication("dmd" + std::to_string(i), Date::FromYmd(2020, 1, 1));
  m.Medication("dmd0", Date::FromYmd(2021, 1, 1));  // the same drug again: still 5 distinct
  m.Person();
  for (int i = 0; i < 4; ++i) m.Medication("dmd" + std::to_string(i), Date::FromYmd(2020, 1, 1));
  // Stopped the day before the year began: not counted; stopped on its first day: counted.
  m.Medication("old", Date::FromYmd(2020, 1, 1), kIndex.AddYears(-1).AddDays(-1));
  m.Person();
  for (int i = 0; i < 4; ++i) m.Medication("dmd" + std::to_string(i), Date::FromYmd(2020, 1, 1));
  m.Medication("edge", Date::FromYmd(2020, 1, 1), kIndex.AddYears(-1));
  const Cohort cohort = m.Build();
  const CohortFeatures f = Compute(cohort);

  EXPECT_EQ(f.people[0].efi_deficits, 3);  // falls, anaemia (by value), polypharmacy
  const auto efi = EvidenceFor(f, 0, Feature::kEfiDeficits);
  ASSERT_EQ(efi.size(), 3u);
  EXPECT_EQ(efi[0].detail, Deficit("Anaemia & haematinic deficiency"));
  EXPECT_EQ(cohort.concepts[efi[0].concept_id].code, "423..");
  EXPECT_EQ(efi[1].detail, Deficit("Falls"));
  EXPECT_EQ(efi[1].date, Date::FromYmd(2018, 1, 1));
  EXPECT_EQ(cohort.concepts[efi[1].concept_id].code, "16D..");
  EXPECT_EQ(efi[2].detail, Deficit("Polypharmacy"));
  EXPECT_EQ(efi[2].concept_id, FeatureEvidence::kNoConcept);
  EXPECT_EQ(efi[2].date, kIndex);

  EXPECT_EQ(f.people[1].efi_deficits, 0);
  EXPECT_EQ(f.people[2].efi_deficits, 1);
}

// ---- Hospital Frailty Risk Score --------------------------------------------------------------

TEST(FeatureEngine, HfrsBandEdgesAndTwoYearWindow) {
  CohortMaker m;
  const Date recent = Date::FromYmd(2023, 6, 1);
  m.Person();  // 3.0 + 1.9 = 4.9: low
  m.Diagnosis("R31", recent);
  m.Diagnosis("H54.0", recent);
  m.Person();  // W19 3.2 + R55 1.8 = 5.0: intermediate
  m.Diagnosis("W19X", recent);
  m.Diagnosis("R55", recent);
  m.Person();  // F00 7.1 + G30 4.0 + S06 2.4 + Z87 1.5 = 15.0: intermediate
  for (const char* code : {"F00.1", "G309", "S06.0", "Z87.8"}) m.Diagnosis(code, recent);
  m.Person();  // F00 7.1 + G81 4.4 + R29 3.6 = 15.1: high
  for (const char* code : {"F001", "G81.9", "R29.6"}) m.Diagnosis(code, recent);
  m.Person();  // window: exactly 2 years before counts, one day earlier does not
  m.Diagnosis("W19", kIndex.AddYears(-2));
  m.Diagnosis("R55", kIndex.AddYears(-2).AddDays(-1));
  m.Diagnosis("F05.9", recent, AdmissionMethod::kElective);  // elective: not counted
  m.Diagnosis("N39.0", recent, AdmissionMethod::kEmergency, EventSource::kGp);  // not hospital
  m.Diagnosis("S00", recent);  // counted once although recorded twice
  m.Diagnosis("S00.8", recent.AddDays(3));
  const CohortFeatures f = Compute(m.Build());
  const std::vector<int> tenths = {49, 50, 150, 151, 64};
  const std::vector<double> band = {0, 1, 1, 2, 1};
  for (size_t i = 0; i < tenths.size(); ++i) {
    EXPECT_EQ(f.people[i].hfrs_tenths, tenths[i]) << i;
    EXPECT_EQ(FeatureValue(f.people[i], Feature::kHfrsCategory), band[i]) << i;
  }
  const auto hfrs = EvidenceFor(f, 4, Feature::kHfrs);
  ASSERT_EQ(hfrs.size(), 2u);  // W19 and S00, each with its first code
  const auto& categories = (**Hfrs()).categories();
  EXPECT_EQ(categories[hfrs[0].detail].category, "W19");
  EXPECT_EQ(hfrs[0].date, kIndex.AddYears(-2));
  EXPECT_EQ(categories[hfrs[1].detail].category, "S00");
  EXPECT_EQ(hfrs[1].date, recent);
}

// ---- Charlson and Elixhauser -------------------------------------------------------------------

TEST(FeatureEngine, CharlsonHierarchyDottedCodesAndFiveYearLookback) {
  CohortMaker m;
  m.Person();
  m.Diagnosis("E11.9", Date::FromYmd(2021, 1, 1), AdmissionMethod::kElective);  // diab
  m.Diagnosis("E112", Date::FromYmd(2022, 1, 1));   // diabwc cancels diab
  m.Diagnosis("C18.9", Date::FromYmd(2022, 1, 1));  // canc
  m.Diagnosis("C78.7", Date::FromYmd(2023, 1, 1));  // metacanc cancels canc
  m.Diagnosis("I10X", Date::FromYmd(2023, 1, 1));   // Elixhauser hypunc only
  m.Person();
  m.Diagnosis("I21.9", kIndex.AddYears(-5));              // MI exactly 5 years ago: counts
  m.Diagnosis("I50.0", kIndex.AddYears(-5).AddDays(-1));  // CHF a day earlier: does not
  const Cohort cohort = m.Build();
  const CohortFeatures f = Compute(cohort);
  // Charlson 1987: diabwc 2 + metacanc 6 = 8; Quan 2011: diabwc 1 + metacanc 6 = 7.
  EXPECT_EQ(f.people[0].charlson_1987, 8);
  EXPECT_EQ(f.people[0].charlson_quan2011, 7);
  const ComorbidityIndex& charlson = **Charlson();
  const auto evidence = EvidenceFor(f, 0, Feature::kCharlson1987);
  ASSERT_EQ(evidence.size(), 2u);
  std::vector<std::string> keys;
  for (const auto& e : evidence) keys.push_back(charlson.conditions()[e.detail].key);
  EXPECT_EQ(keys, (std::vector<std::string>{"diabwc", "metacanc"}));
  EXPECT_EQ(cohort.concepts[evidence[1].concept_id].code, "C78.7");
  // Elixhauser: diabc (cancels diabunc), metacanc (cancels solidtum), hypunc.
  EXPECT_EQ(f.people[0].elixhauser, 3);

  EXPECT_EQ(f.people[1].charlson_1987, 1);
  EXPECT_EQ(f.people[1].charlson_quan2011, 0);  // MI weighs 0 in Quan 2011
  EXPECT_EQ(f.people[1].ltc_count, 2);          // but a CHD and HF history both count as LTCs
}

// ---- Activity, cost and care -------------------------------------------------------------------

TEST(FeatureEngine, TwelveMonthActivityWindowAndCost) {
  CohortMaker m;
  m.Person();
  const Date year_ago = kIndex.AddYears(-1);
  m.Activity(ActivityType::kEmergencyAdmission, year_ago, year_ago.AddDays(3), 3, 100000);
  m.Activity(ActivityType::kEmergencyAdmission, year_ago.AddDays(1), year_ago.AddDays(5), 4,
             200000);
  m.Activity(ActivityType::kEmergencyAdmission, kIndex.AddDays(-2), kIndex.AddDays(8), 10, 300000);
  m.Activity(ActivityType::kElectiveAdmission, kIndex.AddDays(-100), kIndex.AddDays(-98), 2, 50000);
  m.Activity(ActivityType::kEmergencyAdmission, kIndex.AddDays(1), kIndex.AddDays(2), 1, 999999);
  m.Activity(ActivityType::kAeAttendance, kIndex, kIndex, 0, 24200);
  m.Activity(ActivityType::kAeAttendance, year_ago, year_ago, 0, 24200);
  m.Activity(ActivityType::kGpAppointment, kIndex.AddDays(-30), std::nullopt, 0, 4200);
  const CohortFeatures f = Compute(m.Build());
  const PersonFeatures& p = f.people[0];
  EXPECT_EQ(p.emergency_admissions_12m, 2);  // exactly a year ago is outside (D-1y, D]
  EXPECT_EQ(p.ae_attendances_12m, 1);
  EXPECT_EQ(p.bed_days_12m, 4 + 2 + 2);  // the current stay is cut at the index date
  EXPECT_EQ(p.cost_12m_pence, 200000 + 300000 + 50000 + 24200 + 4200);
}

TEST(FeatureEngine, CarePackagesCurrentRecentAndProRataCost) {
  CohortMaker m;
  m.Person();  // CHC open since 100 days before the index date, costed to the extract date
  m.Activity(ActivityType::kContinuingHealthcare, kIndex.AddDays(-100), std::nullopt, 0,
             200 * 1000);
  m.Person();  // care home ended 6 months ago: a recent need, no current placement
  m.Activity(ActivityType::kCareHomePlacement, Date::FromYmd(2021, 1, 1), kIndex.AddDays(-182));
  m.Person();  // package ended 13 months ago: nothing
  m.Activity(ActivityType::kSocialCarePackage, Date::FromYmd(2021, 1, 1), kIndex.AddDays(-400));
  m.Person();       // coded requirement for care (eFI): a social-care need
  m.Read("13G61");  // home help attends
  m.Person();       // package ending on the index date is current
  m.Activity(ActivityType::kSocialCarePackage, kIndex.AddDays(-730), kIndex, 0, 730 * 10);
  const CohortFeatures f = Compute(m.Build(), 1, nullptr, kIndex.AddDays(100));
  // Open CHC spans the 200 days [D-100, D+100) to the extract date, 1000 pence a day; the
  // window (D-1y, D] holds 101 of them (the index day included).
  EXPECT_TRUE(f.people[0].continuing_healthcare);
  EXPECT_TRUE(f.people[0].social_care_need);
  EXPECT_EQ(f.people[0].cost_12m_pence, 101 * 1000);
  EXPECT_FALSE(f.people[1].care_home);
  EXPECT_TRUE(f.people[1].social_care_need);
  EXPECT_FALSE(f.people[2].social_care_package);
  EXPECT_FALSE(f.people[2].social_care_need);
  EXPECT_TRUE(f.people[3].social_care_need);
  EXPECT_TRUE(f.people[4].social_care_package);
  EXPECT_EQ(f.people[4].cost_12m_pence, 365 * 10);  // days (D-1y, D) of [start, end)

  const auto chc = EvidenceFor(f, 0, Feature::kContinuingHealthcare);
  ASSERT_EQ(chc.size(), 1u);
  EXPECT_EQ(chc[0].concept_id, FeatureEvidence::kNoConcept);
  EXPECT_EQ(chc[0].date, kIndex.AddDays(-100));
  EXPECT_EQ(chc[0].detail, static_cast<uint16_t>(ActivityType::kContinuingHealthcare));
  const auto coded = EvidenceFor(f, 3, Feature::kSocialCareNeed);
  ASSERT_EQ(coded.size(), 1u);
  EXPECT_EQ(coded[0].detail, Deficit("Requirement for care"));
}

// ---- Risk score, errors, threads ---------------------------------------------------------------

TEST(FeatureEngine, AdmissionRiskFromTheModel) {
  auto model = RiskModel::Parse("m.csv", "predictor,coefficient\nintercept,-1\nltc_count,0.5\n");
  ASSERT_TRUE(model.ok()) << model.error().ToString();
  CohortMaker m;
  m.Person();
  m.Snomed("59621000");
  m.Snomed("44054006");
  m.Person(Date::FromYmd(1940, 1, 1), Sex::kFemale, Date::FromYmd(2020, 1, 1));
  const CohortFeatures f = Compute(m.Build(), 1, &*model);
  EXPECT_FLOAT_EQ(f.people[0].admission_risk, 0.5f);  // -1 + 2 x 0.5 = 0
  EXPECT_EQ(f.people[1].admission_risk, 0);           // deceased
}

TEST(FeatureEngine, BadCohortsAreErrorsNamingThePerson) {
  CohortMaker m;
  m.Person();
  m.Snomed("59621000");
  m.Person();
  m.Snomed("44054006");
  Cohort cohort = m.Build();
  FeatureOptions options;
  options.index_date = kIndex;

  Cohort bad_concept = cohort;
  bad_concept.events[1].concept_id = 99;
  auto r = ComputeFeatures(bad_concept, options);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("person 1 (key 101)"), std::string::npos) << r.error().message;

  Cohort bad_offsets = cohort;
  bad_offsets.event_begin.pop_back();
  r = ComputeFeatures(bad_offsets, options);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("event_begin"), std::string::npos);

  Cohort unsorted = cohort;
  Cohort::Event early;
  early.date = Date::FromYmd(2000, 1, 1);
  unsorted.events.push_back(early);
  unsorted.event_begin.back() = unsorted.events.size();
  r = ComputeFeatures(unsorted, options);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("date order"), std::string::npos);
}

Cohort Generated() {
  synth::GenerateOptions options;
  options.seed = 11;
  options.practices = 3;
  options.patients = 20000;
  options.as_of = kIndex;
  auto cohort = testing::GenerateCohort(options);
  EXPECT_TRUE(cohort.ok()) << cohort.error().ToString();
  return std::move(cohort).value();
}

bool SamePerson(const PersonFeatures& a, const PersonFeatures& b) {
  for (int i = 0; i < kFeatureCount; ++i) {
    const Feature f = static_cast<Feature>(i);
    if (FeatureValue(a, f) != FeatureValue(b, f)) return false;
  }
  return a.ltc_mask == b.ltc_mask && a.deceased == b.deceased && a.practice == b.practice;
}

TEST(FeatureEngine, SameResultsOnOneOrManyThreads) {
  const Cohort cohort = Generated();
  const RiskModel* model = *AdmissionRiskModel();
  int64_t reported = 0;
  FeatureOptions options;
  options.index_date = kIndex;
  options.threads = 1;
  options.risk_model = model;
  auto one = ComputeFeatures(cohort, options);
  options.threads = 7;
  options.progress = [&](int64_t done, int64_t total) {
    EXPECT_GE(done, reported);
    EXPECT_EQ(total, static_cast<int64_t>(cohort.size()));
    reported = done;
  };
  auto many = ComputeFeatures(cohort, options);
  ASSERT_TRUE(one.ok() && many.ok());
  EXPECT_EQ(reported, static_cast<int64_t>(cohort.size()));
  ASSERT_EQ(one->people.size(), many->people.size());
  for (size_t i = 0; i < one->people.size(); ++i)
    ASSERT_TRUE(SamePerson(one->people[i], many->people[i])) << i;
  EXPECT_EQ(one->evidence_begin, many->evidence_begin);
  ASSERT_EQ(one->evidence.size(), many->evidence.size());
  for (size_t i = 0; i < one->evidence.size(); ++i) {
    const FeatureEvidence &a = one->evidence[i], &b = many->evidence[i];
    ASSERT_TRUE(a.feature == b.feature && a.concept_id == b.concept_id && a.date == b.date &&
                a.detail == b.detail)
        << i;
  }
}

// The engine's integer fast path agrees with the published scorers run on each person's records.
TEST(FeatureEngine, AgreesWithTheReferenceScorersOnAGeneratedPopulation) {
  const Cohort cohort = Generated();
  const CohortFeatures f = Compute(cohort, 2);
  const EfiModel& efi = EfiList();
  const HfrsModel& hfrs = **Hfrs();
  const ComorbidityIndex& charlson = **Charlson();
  const ComorbidityIndex& elixhauser = **Elixhauser();
  int checked = 0, frail = 0, hfrs_scored = 0, charlson_scored = 0;
  for (size_t i = 0; i < cohort.size(); ++i) {
    if (f.people[i].deceased) continue;
    std::vector<ClinicalEvent> events;
    std::vector<HfrsDiagnosis> diagnoses;
    std::vector<std::string_view> comorbidity_codes;
    for (const Cohort::Event& e : cohort.EventsOf(i)) {
      const Cohort::Concept& c = cohort.concepts[e.concept_id];
      ClinicalEvent ce;
      ce.system = c.system;
      ce.code = c.code;
      ce.date = e.date;
      ce.value = e.value;
      events.push_back(ce);
      if (c.system != CodeSystem::kIcd10) continue;
      if (e.source == EventSource::kHospital && e.date <= kIndex) {
        diagnoses.push_back({c.code, e.date, e.admission_method == AdmissionMethod::kEmergency});
      }
      if (e.date >= kIndex.AddYears(-5) && e.date <= kIndex) comorbidity_codes.push_back(c.code);
    }
    std::vector<Medication> medications;
    for (const Cohort::Medication& m : cohort.MedicationsOf(i)) {
      Medication med;
      med.system = cohort.concepts[m.concept_id].system;
      med.code = cohort.concepts[m.concept_id].code;
      med.start = m.start;
      med.end = m.end;
      medications.push_back(med);
    }
    const EfiResult e = efi.Score({events, medications, kIndex, cohort.people[i].sex});
    ASSERT_EQ(f.people[i].efi_deficits, e.deficit_count) << i;
    const HfrsResult h = hfrs.ScoreAdmissions(diagnoses, kIndex);
    ASSERT_EQ(f.people[i].hfrs_tenths, h.points_tenths) << i;
    const ComorbidityResult c = charlson.Evaluate(comorbidity_codes);
    ASSERT_EQ(f.people[i].charlson_1987, c.scores[kCharlson1987]) << i;
    ASSERT_EQ(f.people[i].charlson_quan2011, c.scores[kQuan2011]) << i;
    ASSERT_EQ(f.people[i].elixhauser,
              static_cast<int>(elixhauser.Evaluate(comorbidity_codes).found.size()))
        << i;
    ++checked;
    frail += e.deficit_count >= 5;
    hfrs_scored += h.points_tenths > 0;
    charlson_scored += c.scores[kCharlson1987] > 0;
  }
  // The population exercises every score.
  EXPECT_GT(checked, 19000);
  EXPECT_GT(frail, 100);
  EXPECT_GT(hfrs_scored, 100);
  EXPECT_GT(charlson_scored, 100);
}

}  // namespace
}  // namespace joinedup::analytics

namespace joinedup::analytics {
namespace {

// Category features take their levels from the scores' own definitions (efi.h, hfrs.h).
TEST(FeatureLevelsTest, CategoryLevelsAreTheScoresOwn) {
  const auto efi = FeatureLevels(Feature::kEfiCategory);
  ASSERT_EQ(efi.size(), 4u);
  for (int c = 0; c < 4; ++c) EXPECT_EQ(efi[c], EfiCategoryName(static_cast<EfiCategory>(c)));
  const auto hfrs = FeatureLevels(Feature::kHfrsCategory);
  ASSERT_EQ(hfrs.size(), 3u);
  for (int b = 0; b < 3; ++b) EXPECT_EQ(hfrs[b], HfrsBandName(static_cast<HfrsBand>(b)));
  PersonFeatures p;
  for (int16_t deficits : {4, 5, 8, 9, 12, 13}) {
    p.efi_deficits = deficits;
    EXPECT_EQ(FeatureValue(p, Feature::kEfiCategory), static_cast<int>(EfiCategoryOf(deficits)));
  }
  for (int16_t tenths : {49, 50, 150, 151}) {
    p.hfrs_tenths = tenths;
    EXPECT_EQ(FeatureValue(p, Feature::kHfrsCategory), static_cast<int>(HfrsBandOf(tenths)));
  }
  EXPECT_TRUE(FeatureLevels(Feature::kAge).empty());
}

}  // namespace
}  // namespace joinedup::analytics
