#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fhir/ndjson_reader.h"

namespace joinedup::fhir {
namespace {

struct Seen {
  std::string text;
  uint64_t number;
  uint64_t offset;
  uint64_t size;
  bool too_long;
  friend bool operator==(const Seen&, const Seen&) = default;
};

std::ostream& operator<<(std::ostream& out, const Seen& s) {
  return out << "{\"" << s.text << "\" #" << s.number << " @" << s.offset << " size " << s.size
             << (s.too_long ? " too long" : "") << "}";
}

std::vector<Seen> ReadAll(std::string_view data, size_t block, size_t max_line) {
  LineReader reader(InputBuffer::FromMemory(data, block), max_line);
  std::vector<Seen> lines;
  Line line;
  for (;;) {
    auto next = reader.Next(line);
    EXPECT_TRUE(next.ok());
    if (!next.ok() || !*next) break;
    lines.push_back({std::string(line.text), line.number, line.offset, line.size, line.too_long});
  }
  EXPECT_EQ(reader.bytes_done(), data.size());
  return lines;
}

class LineReaderTest : public ::testing::TestWithParam<size_t> {};

TEST_P(LineReaderTest, SplitsLinesWithNumbersAndOffsets) {
  const std::string data = "{\"a\":1}\n\n{\"b\":2}\r\nlast";
  std::vector<Seen> expected = {{"{\"a\":1}", 1, 0, 7, false},
                                {"", 2, 8, 0, false},
                                {"{\"b\":2}", 3, 9, 8, false},
                                {"last", 4, 18, 4, false}};
  EXPECT_EQ(ReadAll(data, GetParam(), 1024), expected);
}

TEST_P(LineReaderTest, FinalNewlineDoesNotAddALine) {
  EXPECT_EQ(ReadAll("x\ny\n", GetParam(), 1024).size(), 2u);
  EXPECT_TRUE(ReadAll("", GetParam(), 1024).empty());
  EXPECT_EQ(ReadAll("\n", GetParam(), 1024).size(), 1u);
}

TEST_P(LineReaderTest, LongLineIsSkippedWithItsSizeAndReadingGoesOn) {
  const std::string long_line(5000, 'x');
  const std::string data = "short\n" + long_line + "\nafter\n" + long_line;
  auto lines = ReadAll(data, GetParam(), 100);
  std::vector<Seen> expected = {{"short", 1, 0, 5, false},
                                {"", 2, 6, 5000, true},
                                {"after", 3, 5007, 5, false},
                                {"", 4, 5013, 5000, true}};
  EXPECT_EQ(lines, expected);
}

TEST_P(LineReaderTest, LineExactlyAtTheLimitIsKept) {
  auto lines = ReadAll("abcd\nabcde\n", GetParam(), 4);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_FALSE(lines[0].too_long);
  EXPECT_EQ(lines[0].text, "abcd");
  EXPECT_TRUE(lines[1].too_long);
  EXPECT_EQ(lines[1].size, 5u);
}

INSTANTIATE_TEST_SUITE_P(BlockSizes, LineReaderTest, ::testing::Values(1, 2, 3, 7, 64, 1 << 20));

TEST(InputBufferTest, MissingFileIsNotFound) {
  auto input = InputBuffer::OpenFile("/nonexistent/joinedup/file.ndjson");
  ASSERT_FALSE(input.ok());
  EXPECT_EQ(input.error().code, ErrorCode::kNotFound);
  EXPECT_NE(input.error().message.find("/nonexistent/joinedup/file.ndjson"), std::string::npos);
}

TEST(InputBufferTest, DirectoryIsNotARegularFile) {
  auto input = InputBuffer::OpenFile("/");
  ASSERT_FALSE(input.ok());
  EXPECT_EQ(input.error().code, ErrorCode::kInvalidInput);
}

}  // namespace
}  // namespace joinedup::fhir
