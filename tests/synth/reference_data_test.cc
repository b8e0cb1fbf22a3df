// The embedded reference tables parse, and a malformed table is a clear error naming the
// file, line and field.
#include "synth/reference_data.h"

#include <gtest/gtest.h>

#include <string>

namespace joinedup::synth {
namespace {

using Files = std::map<std::string, std::string_view, std::less<>>;

TEST(ReferenceData, EmbeddedTablesParse) {
  auto ref = LoadReferenceData();
  ASSERT_TRUE(ref.ok()) << ref.error().ToString();
  EXPECT_EQ(ref->population.size(), 19u);
  EXPECT_GE(ref->conditions.size(), 15u);
  EXPECT_GE(ref->deficits.size(), 20u);
  EXPECT_FALSE(ref->medications.empty());
  EXPECT_GT(ref->costs.gp_appointment, 0);
  EXPECT_EQ(ref->districts.size(), 30u);
}

// Replaces one file's text and returns the parse error message ("" if it parsed).
std::string ErrorWith(std::string_view file, const std::string& text) {
  Files files = EmbeddedReferenceFiles();
  files[std::string(file)] = text;
  auto ref = ParseReferenceData(files);
  return ref.ok() ? "" : ref.error().message;
}

std::string Embedded(std::string_view file) {
  return std::string(EmbeddedReferenceFiles().at(std::string(file)));
}

std::string ReplaceOnce(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

TEST(ReferenceData, BadNumberNamesFileLineAndField) {
  std::string text =
      ReplaceOnce(Embedded("synth/conditions.csv"), "0.4200,0.5600", "0.4x00,0.5600");
  const std::string message = ErrorWith("synth/conditions.csv", text);
  EXPECT_NE(message.find("data/synth/conditions.csv:"), std::string::npos) << message;
  EXPECT_NE(message.find("field 'p_65_74'"), std::string::npos) << message;
  EXPECT_NE(message.find("not a number"), std::string::npos) << message;
}

TEST(ReferenceData, OutOfRangeProbabilityIsRefused) {
  std::string text =
      ReplaceOnce(Embedded("synth/social_care.csv"), "home_care,0.005", "home_care,1.5");
  const std::string message = ErrorWith("synth/social_care.csv", text);
  EXPECT_NE(message.find("field 'fit'"), std::string::npos) << message;
  EXPECT_NE(message.find("outside [0, 1]"), std::string::npos) << message;
}

TEST(ReferenceData, WrongHeaderIsRefused) {
  std::string text =
      ReplaceOnce(Embedded("synth/unit_costs.csv"), "item,pence,source", "item,pounds,source");
  const std::string message = ErrorWith("synth/unit_costs.csv", text);
  EXPECT_NE(message.find("data/synth/unit_costs.csv:"), std::string::npos) << message;
  EXPECT_NE(message.find("header must be 'item,pence,source'"), std::string::npos) << message;
}

TEST(ReferenceData, WrongFieldCountIsRefused) {
  const std::string message =
      ErrorWith("synth/mortality_england.csv", "age_from,age_to,qx_male,qx_female\n0,4,0.001\n");
  EXPECT_NE(message.find("data/synth/mortality_england.csv:2: 3 fields, expected 4"),
            std::string::npos)
      << message;
}

TEST(ReferenceData, UnknownReferencesAreRefused) {
  EXPECT_NE(ErrorWith("synth/medications.csv",
                      ReplaceOnce(Embedded("synth/medications.csv"), "hypertension,108537001",
                                  "hypertensoin,108537001"))
                .find("unknown condition 'hypertensoin'"),
            std::string::npos);
  EXPECT_NE(
      ErrorWith("synth/frailty_deficits.csv",
                ReplaceOnce(Embedded("synth/frailty_deficits.csv"), "Falls,16D..", "Falls,16Dxx"))
          .find("'16Dxx' is not in data/codes/efi_codes_used.csv"),
      std::string::npos);
  EXPECT_NE(ErrorWith("synth/hospital_diagnoses.csv",
                      ReplaceOnce(Embedded("synth/hospital_diagnoses.csv"), "R07.4", "R074"))
                .find("'R074' is not a dotted ICD-10 code"),
            std::string::npos);
}

TEST(ReferenceData, UnterminatedQuoteAndMissingFileAreRefused) {
  EXPECT_NE(ErrorWith("synth/names.csv", "kind,born_from,born_to,name\nfamily,0,0,\"Smith\n")
                .find("unterminated quoted field"),
            std::string::npos);
  Files files = EmbeddedReferenceFiles();
  files.erase("synth/geography.csv");
  auto ref = ParseReferenceData(files);
  ASSERT_FALSE(ref.ok());
  EXPECT_NE(ref.error().message.find("synth/geography.csv is missing"), std::string::npos);
}

TEST(ReferenceData, EmptyTableIsRefused) {
  EXPECT_NE(ErrorWith("synth/geography.csv", "# only a comment\n").find("no header row"),
            std::string::npos);
  EXPECT_NE(ErrorWith("synth/geography.csv", "kind,value,weight\n").find("no data rows"),
            std::string::npos);
}

}  // namespace
}  // namespace joinedup::synth
