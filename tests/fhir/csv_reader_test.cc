#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fhir/csv_extract.h"

namespace joinedup::fhir {
namespace {

struct Rec {
  std::vector<std::string> fields;
  uint64_t line;
  std::string raw;
  std::string error;
  size_t error_column;
  bool too_long;
};

std::vector<Rec> ReadAll(std::string_view data, size_t block, size_t max = 1 << 20) {
  CsvReader reader(InputBuffer::FromMemory(data, block), max);
  std::vector<Rec> out;
  CsvRecord r;
  for (;;) {
    auto next = reader.Next(r);
    EXPECT_TRUE(next.ok());
    if (!next.ok() || !*next) break;
    out.push_back({r.fields, r.line, std::string(r.raw), r.error, r.error_column, r.too_long});
  }
  EXPECT_EQ(reader.bytes_done(), data.size());
  return out;
}

using Fields = std::vector<std::string>;

class CsvReaderTest : public ::testing::TestWithParam<size_t> {};

TEST_P(CsvReaderTest, PlainFieldsLfAndCrlf) {
  auto recs = ReadAll("a,b,c\r\n1,,3\n", GetParam());
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].fields, (Fields{"a", "b", "c"}));
  EXPECT_EQ(recs[0].raw, "a,b,c");
  EXPECT_EQ(recs[1].fields, (Fields{"1", "", "3"}));
  EXPECT_EQ(recs[1].line, 2u);
}

TEST_P(CsvReaderTest, QuotedFieldsWithCommasQuotesAndLineBreaks) {
  auto recs = ReadAll("\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\"\r\nnext,\"\",x", GetParam());
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].fields, (Fields{"a,b", "say \"hi\"", "two\nlines"}));
  EXPECT_EQ(recs[0].line, 1u);
  EXPECT_EQ(recs[1].fields, (Fields{"next", "", "x"}));
  EXPECT_EQ(recs[1].line, 3u);  // the quoted line break moved the physical line on
  EXPECT_EQ(recs[1].raw, "next,\"\",x");
}

TEST_P(CsvReaderTest, UnicodeIsKept) {
  auto recs = ReadAll("Zoë,Łódź,日本\n", GetParam());
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].fields, (Fields{"Zoë", "Łódź", "日本"}));
  EXPECT_TRUE(recs[0].error.empty());
}

TEST_P(CsvReaderTest, QuoteInsideUnquotedFieldNamesTheColumnAndReadingResumes) {
  auto recs = ReadAll("a,b\"c,d\nok,1\n", GetParam());
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].error_column, 2u);
  EXPECT_NE(recs[0].error.find("quote inside an unquoted field"), std::string::npos);
  EXPECT_EQ(recs[1].fields, (Fields{"ok", "1"}));
  EXPECT_TRUE(recs[1].error.empty());
  EXPECT_EQ(recs[1].line, 2u);
}

TEST_P(CsvReaderTest, TextAfterClosingQuote) {
  auto recs = ReadAll("x,\"ab\"c\n", GetParam());
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].error_column, 2u);
  EXPECT_NE(recs[0].error.find("after the closing quote"), std::string::npos);
}

TEST_P(CsvReaderTest, UnterminatedQuoteNamesItsLine) {
  auto recs = ReadAll("a\nb,\"open\nand on\n", GetParam());
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[1].line, 2u);
  EXPECT_NE(recs[1].error.find("opened on line 2 is never closed"), std::string::npos);
}

TEST_P(CsvReaderTest, InvalidUtf8IsAnError) {
  auto recs = ReadAll("ok,\xC3\x28\n", GetParam());
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].error_column, 2u);
  EXPECT_NE(recs[0].error.find("UTF-8"), std::string::npos);
}

TEST_P(CsvReaderTest, OverlongRecordIsSkippedWithItsSize) {
  std::string data = "a,b\n\"" + std::string(3000, 'x') + "\n,\",y\nc,d\n";
  auto recs = ReadAll(data, GetParam(), 100);
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_TRUE(recs[1].too_long);
  EXPECT_TRUE(recs[1].fields.empty());
  EXPECT_EQ(recs[1].line, 2u);
  EXPECT_EQ(recs[2].fields, (Fields{"c", "d"}));
  EXPECT_EQ(recs[2].line, 4u);
}

INSTANTIATE_TEST_SUITE_P(BlockSizes, CsvReaderTest, ::testing::Values(1, 2, 5, 64, 1 << 20));

}  // namespace
}  // namespace joinedup::fhir
