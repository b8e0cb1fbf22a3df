// The proof that joinedup imports what it exports: for every record type and combination of
// fields, MapResource(Append…Json(record)) gives back the record, field for field.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "fhir/fhir_mapping.h"
#include "map_test_util.h"

namespace joinedup::fhir {
namespace {

using testing::ExpectSame;
using testing::MapAs;

NhsNumber ValidNhs(std::string nine) {
  for (;;) {
    if (auto check = NhsNumber::CheckDigit(nine)) return *NhsNumber::Parse(nine + *check);
    nine[8] = static_cast<char>('0' + (nine[8] - '0' + 1) % 10);
  }
}

template <typename Record, typename AppendFn>
std::string Written(const Record& record, AppendFn append) {
  std::string out;
  Status status = append(record, out);
  EXPECT_TRUE(status.ok()) << status.error().ToString();
  EXPECT_EQ(out.find('\n'), std::string::npos) << "one resource must be one line";
  return out;
}

TEST(MapRoundTrip, Practice) {
  std::vector<Practice> cases = {
      {"F84001", "The Spitalfields Practice", "PCH Tower Hamlets \"North\"", "E1"},
      {"Y01234", "", "", ""},
      {"A81001", "Surgery, \\ back-slash; tab\tand newline\n", "Ünïcödé PCN ✓", "EC1A"},
      {"M85063", "St. Mary's", "Cluster 3", "SW19"},
  };
  for (const auto& p : cases) {
    SCOPED_TRACE(p.id);
    ExpectSame(MapAs<Practice>(Written(p, AppendOrganizationJson)), p);
  }
}

TEST(MapRoundTrip, PatientEveryFieldCombination) {
  Patient base;
  base.id = "p-1";
  base.nhs_number = *NhsNumber::Parse("9434765919");
  base.family_name = "O'Brien";
  base.given_name = "Mary Ann";
  base.birth_date = Date::FromYmd(1938, 2, 28);
  base.sex = Sex::kFemale;
  base.postcode_district = "E1";
  base.deprivation_decile = 1;
  base.practice_id = "F84001";
  std::vector<Patient> cases;
  cases.push_back(base);
  for (Sex sex : {Sex::kMale, Sex::kOther, Sex::kUnknown}) {
    Patient p = base;
    p.sex = sex;
    p.id = "p-sex-" + std::string(SexCode(sex));
    cases.push_back(p);
  }
  for (int decile = 0; decile <= 10; ++decile) {
    Patient p = base;
    p.id = "p-imd-" + std::to_string(decile);
    p.deprivation_decile = decile;
    p.nhs_number = ValidNhs("94347659" + std::to_string(decile % 10));
    cases.push_back(p);
  }
  {
    Patient p = base;
    p.id = "p-dead";
    p.death_date = Date::FromYmd(2024, 2, 29);
    cases.push_back(p);
  }
  {
    Patient p = base;
    p.id = "p-bare";
    p.family_name.clear();
    p.given_name.clear();
    p.postcode_district.clear();
    p.practice_id.clear();
    p.deprivation_decile = 0;
    cases.push_back(p);
  }
  {
    Patient p = base;
    p.id = "p-only-given";
    p.family_name.clear();
    p.given_name = "Zoë \"Zed\" \x01\x1f";
    cases.push_back(p);
  }
  for (std::string source : {"https://example.org/mrn|MRN-0042", "LOCAL-7", "Patient/p-nonhs"}) {
    Patient p = base;
    p.id = "p-nonhs";
    p.nhs_number.reset();
    p.source_identifier = source;
    cases.push_back(p);
  }
  for (const auto& p : cases) {
    SCOPED_TRACE(p.id + " " + p.source_identifier);
    MapOptions options;
    options.allow_missing_nhs_number = !p.nhs_number.has_value();
    ExpectSame(MapAs<Patient>(Written(p, AppendPatientJson), options), p);
  }
}

TEST(MapRoundTrip, ConditionsAndObservations) {
  ClinicalEvent base;
  base.id = "e-1";
  base.patient_id = "p-1";
  base.kind = EventKind::kCondition;
  base.system = CodeSystem::kSnomedCt;
  base.code = "49436004";
  base.term = "Atrial fibrillation";
  base.date = Date::FromYmd(2019, 12, 31);
  std::vector<ClinicalEvent> cases;
  cases.push_back(base);
  for (CodeSystem system : {CodeSystem::kReadV2, CodeSystem::kCtv3, CodeSystem::kIcd10}) {
    for (EventSource source : {EventSource::kGp, EventSource::kHospital}) {
      ClinicalEvent e = base;
      e.id = "e-" + std::string(CodeSystemTag(system)) + (source == EventSource::kGp ? "-gp" : "-h");
      e.system = system;
      e.code = system == CodeSystem::kIcd10 ? "I48.9" : "G573.";
      e.source = source;
      if (source == EventSource::kHospital) e.activity_id = "enc-7";
      cases.push_back(e);
    }
  }
  {
    ClinicalEvent e = base;
    e.id = "e-noterm";
    e.term.clear();
    cases.push_back(e);
  }
  ClinicalEvent obs = base;
  obs.kind = EventKind::kObservation;
  obs.system = CodeSystem::kLoinc;
  obs.code = "8302-2";
  obs.term = "Body height";
  for (double value : {168.80253764416227, 0.0, -3.5, 1e-7, 123456789.123, 1e20, 100.0}) {
    ClinicalEvent e = obs;
    e.id = "o-" + std::to_string(cases.size());
    e.value = value;
    e.unit = "cm";
    cases.push_back(e);
  }
  {
    ClinicalEvent e = obs;
    e.id = "o-novalue";
    cases.push_back(e);
    e.id = "o-unit-only";
    e.unit = "{score}";
    cases.push_back(e);
    e.id = "o-hospital";
    e.value = 42;
    e.source = EventSource::kHospital;
    e.activity_id = "enc-9";
    e.system = CodeSystem::kSnomedCt;
    e.code = "273302005";
    e.term = "Barthel index";
    cases.push_back(e);
  }
  for (const auto& e : cases) {
    SCOPED_TRACE(e.id);
    ExpectSame(MapAs<ClinicalEvent>(Written(e, AppendClinicalEventJson)), e);
  }
}

TEST(MapRoundTrip, EveryActivityTypeWithItsCharge) {
  int n = 0;
  for (int t = 0; t < kActivityTypeCount; ++t) {
    auto type = static_cast<ActivityType>(t);
    for (bool ended : {false, true}) {
      Activity a;
      a.id = "a-" + std::to_string(n++);
      a.patient_id = "p-1";
      a.type = type;
      a.start = Date::FromYmd(2023, 3, 30);
      if (ended) a.end = Date::FromYmd(2023, 4, 11);
      bool admission =
          type == ActivityType::kEmergencyAdmission || type == ActivityType::kElectiveAdmission;
      a.length_of_stay_days = admission && ended ? 12 : (IsEpisodeActivity(type) && ended ? 12 : 0);
      if (!IsEpisodeActivity(type) && type != ActivityType::kGpAppointment) a.specialty = "300";
      if (type == ActivityType::kGpAppointment) a.practice_id = "F84001";
      a.cost_pence = 123456 + n;
      SCOPED_TRACE(std::string(ActivityTypeTag(type)) + (ended ? " ended" : " ongoing"));
      std::string json = Written(a, AppendActivityJson);
      EXPECT_NE(json.find(ActivityResourceType(type)), std::string::npos);
      ExpectSame(MapAs<Activity>(json), a);
      Charge charge = MapAs<Charge>(Written(a, AppendChargeItemJson));
      EXPECT_EQ(charge.id, ChargeItemId(a.id));
      EXPECT_EQ(charge.activity_id, a.id);
      EXPECT_EQ(charge.cost_pence, a.cost_pence);
    }
  }
}

TEST(MapRoundTrip, AdmissionLengthOfStayIsNotDerivedWhenWritten) {
  // A day case: an admission that ends the next day but is recorded with 0 days.
  Activity a;
  a.id = "a-day";
  a.patient_id = "p-1";
  a.type = ActivityType::kElectiveAdmission;
  a.start = Date::FromYmd(2023, 1, 1);
  a.end = Date::FromYmd(2023, 1, 2);
  a.length_of_stay_days = 0;
  ExpectSame(MapAs<Activity>(Written(a, AppendActivityJson)), a);
  // An outpatient with no end and a non-zero length (odd, but it must survive).
  a.id = "a-odd";
  a.type = ActivityType::kOutpatientFirst;
  a.end.reset();
  a.length_of_stay_days = 3;
  ExpectSame(MapAs<Activity>(Written(a, AppendActivityJson)), a);
}

TEST(MapRoundTrip, ChargeIsExactToThePenny) {
  for (int64_t pence : {int64_t{1}, int64_t{5}, int64_t{99}, int64_t{100}, int64_t{101},
                        int64_t{1005}, int64_t{123456789}, int64_t{999999999999}}) {
    Activity a;
    a.id = "a-1";
    a.patient_id = "p-1";
    a.type = ActivityType::kCareHomePlacement;
    a.cost_pence = pence;
    SCOPED_TRACE(pence);
    EXPECT_EQ(MapAs<Charge>(Written(a, AppendChargeItemJson)).cost_pence, pence);
  }
  // Every pence value 0.00..99.99 over a few pound amounts: no float drift anywhere.
  for (int64_t pounds : {0, 1, 7, 1234, 99999}) {
    for (int64_t p = 0; p < 100; ++p) {
      Activity a;
      a.id = "a-2";
      a.patient_id = "p-1";
      a.cost_pence = pounds * 100 + p;
      ASSERT_EQ(MapAs<Charge>(Written(a, AppendChargeItemJson)).cost_pence, a.cost_pence);
    }
  }
}

TEST(MapRoundTrip, Medications) {
  Medication base;
  base.id = "m-1";
  base.patient_id = "p-1";
  base.system = CodeSystem::kDmd;
  base.code = "39720311000001101";
  base.term = "Paracetamol 500mg tablets";
  base.start = Date::FromYmd(2020, 1, 15);
  std::vector<Medication> cases{base};
  for (CodeSystem system : {CodeSystem::kSnomedCt, CodeSystem::kRxNorm}) {
    Medication m = base;
    m.id = "m-" + std::string(CodeSystemTag(system));
    m.system = system;
    m.end = Date::FromYmd(2020, 7, 15);
    cases.push_back(m);
  }
  Medication same_day = base;
  same_day.id = "m-same-day";
  same_day.end = same_day.start;
  same_day.term.clear();
  cases.push_back(same_day);
  for (const auto& m : cases) {
    SCOPED_TRACE(m.id);
    ExpectSame(MapAs<Medication>(Written(m, AppendMedicationRequestJson)), m);
  }
}

TEST(MapRoundTrip, SnomedCodingAloneClassifiesJoinedupEncounters) {
  // Another system that keeps only the SNOMED CT coding of joinedup's output still reads the
  // same activity type (outpatients excepted: first and follow-up share one concept).
  for (ActivityType type : {ActivityType::kGpAppointment, ActivityType::kAeAttendance,
                            ActivityType::kEmergencyAdmission, ActivityType::kElectiveAdmission,
                            ActivityType::kCommunityNursing, ActivityType::kOutpatientFollowUp}) {
    Activity a;
    a.id = "a-1";
    a.patient_id = "p-1";
    a.type = type;
    a.start = Date::FromYmd(2023, 3, 30);
    std::string json = Written(a, AppendActivityJson);
    std::string joinedup_coding = "{\"system\":\"" + std::string(kActivityTypeSystem) +
                                  "\",\"code\":\"" + std::string(ActivityTypeTag(type)) + "\"},";
    auto at = json.find(joinedup_coding);
    ASSERT_NE(at, std::string::npos) << json;
    json.erase(at, joinedup_coding.size());
    SCOPED_TRACE(json);
    EXPECT_EQ(MapAs<Activity>(json).type, type);
  }
}

TEST(MapRoundTrip, WriterRefusesWhatCannotReadBack) {
  std::string out;
  Practice bad_id{"F84 001", "", "", ""};
  EXPECT_FALSE(AppendOrganizationJson(bad_id, out).ok());
  Practice bad_district{"F84001", "", "", "01803"};
  EXPECT_FALSE(AppendOrganizationJson(bad_district, out).ok());
  Patient bad_utf8;
  bad_utf8.id = "p-1";
  bad_utf8.nhs_number = *NhsNumber::Parse("9434765919");
  bad_utf8.family_name = "\xff\xfe";
  Status status = AppendPatientJson(bad_utf8, out);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find("family_name"), std::string::npos);
  ClinicalEvent nan_value;
  nan_value.id = "o-1";
  nan_value.patient_id = "p-1";
  nan_value.kind = EventKind::kObservation;
  nan_value.code = "1";
  nan_value.value = std::numeric_limits<double>::quiet_NaN();
  EXPECT_FALSE(AppendClinicalEventJson(nan_value, out).ok());
  Activity negative;
  negative.id = "a-1";
  negative.patient_id = "p-1";
  negative.cost_pence = -1;
  EXPECT_FALSE(AppendActivityJson(negative, out).ok());
  EXPECT_TRUE(out.empty()) << out;
}

TEST(OutwardCode, UkPostcodesOnly) {
  EXPECT_EQ(OutwardCode("E1 6AN"), "E1");
  EXPECT_EQ(OutwardCode("e16an"), "E1");
  EXPECT_EQ(OutwardCode("SW1A 1AA"), "SW1A");
  EXPECT_EQ(OutwardCode("M60 1NW"), "M60");
  EXPECT_EQ(OutwardCode("CR2 6XH"), "CR2");
  EXPECT_EQ(OutwardCode("DN55 1PT"), "DN55");
  EXPECT_EQ(OutwardCode("EC1A"), "EC1A");
  EXPECT_EQ(OutwardCode("01803"), "");
  EXPECT_EQ(OutwardCode("90210-1234"), "");
  EXPECT_EQ(OutwardCode(""), "");
}

TEST(AppendJsonString, EscapesOnlyWhatJsonRequires) {
  std::string out;
  AppendJsonString("a\"b\\c\n\x01 é ✓", out);
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\n\\u0001 é ✓\"");
}

}  // namespace
}  // namespace joinedup::fhir
