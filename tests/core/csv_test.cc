#include "core/csv.h"

#include <gtest/gtest.h>

namespace joinedup {
namespace {

std::string Field(std::string_view text) {
  std::string out = "x,";
  AppendCsvField(out, text);
  return out;
}

TEST(CsvFieldTest, PlainTextIsWrittenAsItIs) {
  EXPECT_EQ(Field("Tier 4"), "x,Tier 4");
  EXPECT_EQ(Field(""), "x,");
}

TEST(CsvFieldTest, CommasQuotesAndLineBreaksAreQuoted) {
  EXPECT_EQ(Field("a,b"), "x,\"a,b\"");
  EXPECT_EQ(Field("say \"hi\""), "x,\"say \"\"hi\"\"\"");
  EXPECT_EQ(Field("two\nlines"), "x,\"two\nlines\"");
  EXPECT_EQ(Field("cr\r"), "x,\"cr\r\"");
}

}  // namespace
}  // namespace joinedup
