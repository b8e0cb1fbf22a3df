#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fhir/csv_extract.h"

namespace joinedup::fhir {
namespace {

Result<std::unique_ptr<CsvExtractReader>> OpenText(const std::string& text,
                                                   MapOptions options = {}) {
  // The text lives as long as the test: keep a copy that the reader can point into.
  static std::vector<std::unique_ptr<std::string>> keep;
  keep.push_back(std::make_unique<std::string>(text));
  return CsvExtractReader::Open(InputBuffer::FromMemory(*keep.back(), 7), options, 1 << 16);
}

std::vector<ExtractRow> Rows(CsvExtractReader& reader) {
  std::vector<ExtractRow> rows;
  ExtractRow row;
  for (;;) {
    auto next = reader.Next(row);
    EXPECT_TRUE(next.ok());
    if (!next.ok() || !*next) break;
    row.raw = {};  // not valid after the next call
    rows.push_back(row);
  }
  return rows;
}

template <typename T>
const T& As(const ExtractRow& row) {
  static const T kEmpty{};
  if (const auto* error = std::get_if<MapError>(&row.record)) {
    ADD_FAILURE() << "line " << row.line << ": " << error->field << ": " << error->message;
    return kEmpty;
  }
  const auto* record = std::get_if<T>(&std::get<Mapped>(row.record));
  if (record == nullptr) {
    ADD_FAILURE() << "line " << row.line << " mapped to another type";
    return kEmpty;
  }
  return *record;
}

MapError ErrorOf(const ExtractRow& row) {
  if (const auto* error = std::get_if<MapError>(&row.record)) return *error;
  ADD_FAILURE() << "line " << row.line << " was accepted";
  return {};
}

TEST(CsvExtractTest, Practices) {
  auto reader = OpenText(
      "\xEF\xBB\xBFpractice_id,name,pch,postcode_district\n"
      "F84001,\"The Surgery, High St\",PCH North,E1\n");
  ASSERT_TRUE(reader.ok()) << reader.error().ToString();
  EXPECT_EQ((*reader)->kind(), ExtractKind::kPractices);
  auto rows = Rows(**reader);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].line, 2u);
  const auto& p = As<Practice>(rows[0]);
  EXPECT_EQ(p.id, "F84001");
  EXPECT_EQ(p.name, "The Surgery, High St");
  EXPECT_EQ(p.pch, "PCH North");
  EXPECT_EQ(p.postcode_district, "E1");
}

TEST(CsvExtractTest, PatientsInAnyColumnOrderWithOptionalColumnsLeftOut) {
  auto reader = OpenText(
      "patient_id,sex,birth_date,nhs_number,practice_id,deprivation_decile,death_date\r\n"
      "p1,female,1940-02-29,943 476 5919,F84001,3,\r\n"
      "p2,male,1950-01-01,9434765870,,,2020-05-06\r\n");
  ASSERT_TRUE(reader.ok()) << reader.error().ToString();
  EXPECT_EQ((*reader)->kind(), ExtractKind::kPatients);
  auto rows = Rows(**reader);
  ASSERT_EQ(rows.size(), 2u);
  const auto& p1 = As<Patient>(rows[0]);
  EXPECT_EQ(p1.id, "p1");
  ASSERT_TRUE(p1.nhs_number.has_value());
  EXPECT_EQ(p1.nhs_number->digits(), "9434765919");
  EXPECT_EQ(p1.birth_date, Date::FromYmd(1940, 2, 29));
  EXPECT_EQ(p1.sex, Sex::kFemale);
  EXPECT_EQ(p1.deprivation_decile, 3);
  EXPECT_EQ(p1.practice_id, "F84001");
  EXPECT_FALSE(p1.death_date.has_value());
  const auto& p2 = As<Patient>(rows[1]);
  EXPECT_EQ(p2.deprivation_decile, 0);
  EXPECT_EQ(p2.death_date, Date::FromYmd(2020, 5, 6));
}

TEST(CsvExtractTest, MissingNhsNumberRefusedUnlessAllowed) {
  const std::string text =
      "patient_id,nhs_number,birth_date,sex,source_identifier\n"
      "p1,,1960-01-01,unknown,\n"
      "p2,,1960-01-01,unknown,https://example.org/mrn|42\n";
  {
    auto reader = OpenText(text);
    ASSERT_TRUE(reader.ok());
    auto rows = Rows(**reader);
    ASSERT_EQ(rows.size(), 2u);
    auto error = ErrorOf(rows[0]);
    EXPECT_EQ(error.resource_type, "Patient");
    EXPECT_EQ(error.resource_id, "p1");
    EXPECT_EQ(error.field, "nhs_number (column 2)");
    EXPECT_NE(error.message.find("--allow-missing-nhs-number"), std::string::npos);
  }
  MapOptions allow;
  allow.allow_missing_nhs_number = true;
  auto reader = OpenText(text, allow);
  ASSERT_TRUE(reader.ok());
  auto rows = Rows(**reader);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_FALSE(As<Patient>(rows[0]).nhs_number.has_value());
  EXPECT_EQ(As<Patient>(rows[0]).source_identifier, "patients.csv|p1");
  EXPECT_EQ(As<Patient>(rows[1]).source_identifier, "https://example.org/mrn|42");
}

TEST(CsvExtractTest, EventsActivitiesMedications) {
  auto events = OpenText(
      "event_id,patient_id,kind,code_system,code,term,date,source,admission_method,activity_id,"
      "value,unit\n"
      "e1,p1,condition,icd10,I50.0,Heart failure,2021-03-04,hospital,emergency,a1,,\n"
      "e2,p1,observation,snomed,273302005,Barthel index,2021-03-05,,,,15,score\n");
  ASSERT_TRUE(events.ok()) << events.error().ToString();
  auto rows = Rows(**events);
  ASSERT_EQ(rows.size(), 2u);
  const auto& e1 = As<ClinicalEvent>(rows[0]);
  EXPECT_EQ(e1.kind, EventKind::kCondition);
  EXPECT_EQ(e1.system, CodeSystem::kIcd10);
  EXPECT_EQ(e1.code, "I50.0");
  EXPECT_EQ(e1.source, EventSource::kHospital);
  EXPECT_EQ(e1.admission_method, AdmissionMethod::kEmergency);
  EXPECT_EQ(e1.activity_id, "a1");
  EXPECT_FALSE(e1.value.has_value());
  const auto& e2 = As<ClinicalEvent>(rows[1]);
  EXPECT_EQ(e2.kind, EventKind::kObservation);
  EXPECT_EQ(e2.source, EventSource::kGp);
  ASSERT_TRUE(e2.value.has_value());
  EXPECT_DOUBLE_EQ(*e2.value, 15.0);
  EXPECT_EQ(e2.unit, "score");

  auto activities = OpenText(
      "activity_id,patient_id,type,start,end,cost_pence,specialty,practice_id\n"
      "a1,p1,emergency_admission,2021-03-04,2021-03-10,345678,300,\n"
      "a2,p1,social_care_package,2021-04-01,,0,,\n"
      "a3,p1,gp_appointment,2021-04-02,2021-04-02,3600,,F84001\n");
  ASSERT_TRUE(activities.ok()) << activities.error().ToString();
  rows = Rows(**activities);
  ASSERT_EQ(rows.size(), 3u);
  const auto& a1 = As<Activity>(rows[0]);
  EXPECT_EQ(a1.type, ActivityType::kEmergencyAdmission);
  EXPECT_EQ(a1.length_of_stay_days, 6);
  EXPECT_EQ(a1.cost_pence, 345678);
  EXPECT_EQ(a1.specialty, "300");
  EXPECT_FALSE(As<Activity>(rows[1]).end.has_value());
  EXPECT_EQ(As<Activity>(rows[2]).length_of_stay_days, 0);
  EXPECT_EQ(As<Activity>(rows[2]).practice_id, "F84001");

  auto meds = OpenText(
      "medication_id,patient_id,code_system,code,term,start,end\n"
      "m1,p1,dmd,39732311000001104,\"Amlodipine 5mg tablets\",2020-01-01,\n");
  ASSERT_TRUE(meds.ok()) << meds.error().ToString();
  rows = Rows(**meds);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(As<Medication>(rows[0]).system, CodeSystem::kDmd);
  EXPECT_EQ(As<Medication>(rows[0]).term, "Amlodipine 5mg tablets");
  EXPECT_FALSE(As<Medication>(rows[0]).end.has_value());
}

TEST(CsvExtractTest, HeaderErrorsNameLineAndColumn) {
  struct Case {
    std::string text;
    std::string expected;
  } cases[] = {
      {"", "the file is empty"},
      {"id,name\n", "line 1, column 1: \"id\" does not start a CSV extract header"},
      {"practice_id,name,colour\n", "line 1, column 3: \"colour\" is not a column of a practices"},
      {"practice_id,name,name\n", "line 1, column 3: column \"name\" appears twice"},
      {"patient_id,nhs_number,sex\n", "needs a column \"birth_date\""},
      {"practice_id,\"name\n", "never closed"},
  };
  for (const auto& c : cases) {
    auto reader = OpenText(c.text);
    ASSERT_FALSE(reader.ok()) << c.text;
    EXPECT_EQ(reader.error().code, ErrorCode::kInvalidInput);
    EXPECT_NE(reader.error().message.find(c.expected), std::string::npos) << reader.error().message;
  }
}

TEST(CsvExtractTest, RowErrorsNameTheColumn) {
  struct Case {
    std::string header;
    std::string row;
    std::string field;
    std::string message;
  } cases[] = {
      {"patient_id,nhs_number,birth_date,sex", "p1,9434765918,1960-01-01,male",
       "nhs_number (column 2)", "check digit"},
      {"patient_id,nhs_number,birth_date,sex", "p1,9434765919,1960-13-01,male",
       "birth_date (column 3)", "is not a date"},
      {"patient_id,nhs_number,birth_date,sex", "p1,9434765919,1960-01-01,M", "sex (column 4)",
       "is not one of female"},
      {"patient_id,nhs_number,birth_date,sex", "p 1,9434765919,1960-01-01,male",
       "patient_id (column 1)", "is not an id"},
      {"patient_id,nhs_number,birth_date,sex,postcode_district",
       "p1,9434765919,1960-01-01,male,E1 6AN", "postcode_district (column 5)", "outward code only"},
      {"patient_id,nhs_number,birth_date,sex,deprivation_decile",
       "p1,9434765919,1960-01-01,male,11", "deprivation_decile (column 5)", "IMD decile"},
      {"patient_id,nhs_number,birth_date,sex", "p1,9434765919,1960-01-01", "column 4",
       "the row has 3 fields but the header has 4"},
      {"event_id,patient_id,kind,code_system,code,date", "e1,p1,condition,icd11,X,2020-01-01",
       "code_system (column 4)", "use one of snomed, readv2"},
      {"event_id,patient_id,kind,code_system,code,date", "e1,p1,symptom,icd10,X,2020-01-01",
       "kind (column 3)", "condition, observation"},
      {"event_id,patient_id,kind,code_system,code,date", "e1,p1,condition,icd10,,2020-01-01",
       "code (column 5)", "is required"},
      {"event_id,patient_id,kind,code_system,code,date,admission_method",
       "e1,p1,condition,icd10,I10,2020-01-01,emergency", "admission_method (column 7)",
       "only for hospital events"},
      {"event_id,patient_id,kind,code_system,code,date,value",
       "e1,p1,observation,snomed,1,2020-01-01,1e999", "value (column 7)", "decimal number"},
      {"activity_id,patient_id,type,start,end", "a1,p1,emergency_admission,2020-01-05,2020-01-01",
       "end (column 5)", "is before start"},
      {"activity_id,patient_id,type,start,cost_pence", "a1,p1,gp_appointment,2020-01-05,12.50",
       "cost_pence (column 5)", "whole pence"},
      {"activity_id,patient_id,type,start", "a1,p1,gp_visit,2020-01-05", "type (column 3)",
       "gp_appointment"},
      {"medication_id,patient_id,code_system,code,start", "m1,,dmd,123,2020-01-01",
       "patient_id (column 2)", "is required"},
      {"practice_id,name", "F1,\"Surgery\"x", "column 2", "after the closing quote"},
  };
  for (const auto& c : cases) {
    auto reader = OpenText(c.header + "\n" + c.row + "\n");
    ASSERT_TRUE(reader.ok()) << c.header << ": " << reader.error().ToString();
    auto rows = Rows(**reader);
    ASSERT_EQ(rows.size(), 1u) << c.row;
    EXPECT_EQ(rows[0].line, 2u);
    auto error = ErrorOf(rows[0]);
    EXPECT_EQ(error.field, c.field) << c.row;
    EXPECT_NE(error.message.find(c.message), std::string::npos) << c.row << ": " << error.message;
  }
}

TEST(CsvExtractTest, ErrorsNameTheResource) {
  auto reader = OpenText(
      "activity_id,patient_id,type,start\n"
      "a9,p1,care_home_placement,2020-02-30\n");
  ASSERT_TRUE(reader.ok());
  auto rows = Rows(**reader);
  ASSERT_EQ(rows.size(), 1u);
  auto error = ErrorOf(rows[0]);
  EXPECT_EQ(error.resource_type, "EpisodeOfCare");
  EXPECT_EQ(error.resource_id, "a9");
  EXPECT_EQ(error.field, "start (column 4)");
}

TEST(CsvExtractTest, BlankLinesAreSkippedAndLinesCountedThroughQuotedBreaks) {
  auto reader = OpenText(
      "practice_id,name\n"
      "\n"
      "F1,\"Two\nlines\"\n"
      "F2,Second\n\n");
  ASSERT_TRUE(reader.ok());
  auto rows = Rows(**reader);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].line, 3u);
  EXPECT_EQ(As<Practice>(rows[0]).name, "Two\nlines");
  EXPECT_EQ(rows[1].line, 5u);
}

}  // namespace
}  // namespace joinedup::fhir
