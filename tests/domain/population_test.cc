#include "domain/population.h"

#include <gtest/gtest.h>

namespace joinedup {
namespace {

TEST(CodeSystem, TagsAndUrisRoundTrip) {
  for (int i = 0; i < kCodeSystemCount; ++i) {
    auto s = static_cast<CodeSystem>(i);
    EXPECT_EQ(CodeSystemFromTag(CodeSystemTag(s)), s);
    EXPECT_EQ(CodeSystemFromUri(CodeSystemUri(s)), s);
  }
  EXPECT_EQ(CodeSystemFromUri("http://hl7.org/fhir/sid/icd-10-uk"), CodeSystem::kIcd10);
  EXPECT_FALSE(CodeSystemFromUri("http://example.org/codes").has_value());
  EXPECT_FALSE(CodeSystemFromTag("SNOMED").has_value());
}

TEST(ActivityType, TagsRoundTripAndClassify) {
  for (int i = 0; i < kActivityTypeCount; ++i) {
    auto t = static_cast<ActivityType>(i);
    EXPECT_EQ(ActivityTypeFromTag(ActivityTypeTag(t)), t);
  }
  EXPECT_TRUE(IsHospitalActivity(ActivityType::kEmergencyAdmission));
  EXPECT_FALSE(IsHospitalActivity(ActivityType::kGpAppointment));
  EXPECT_TRUE(IsEpisodeActivity(ActivityType::kCareHomePlacement));
  EXPECT_FALSE(IsEpisodeActivity(ActivityType::kAeAttendance));
}

TEST(Sex, CodesRoundTrip) {
  EXPECT_EQ(SexFromCode("female"), Sex::kFemale);
  EXPECT_EQ(SexCode(Sex::kMale), "male");
  EXPECT_FALSE(SexFromCode("F").has_value());
}

}  // namespace
}  // namespace joinedup
