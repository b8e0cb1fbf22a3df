#include "core/strings.h"

#include <gtest/gtest.h>

#include <string>

namespace joinedup {
namespace {

using Parts = std::vector<std::string_view>;

TEST(SplitTest, EveryPartIsKeptEmptyOnesIncluded) {
  EXPECT_EQ(Split("a&b&c", '&'), (Parts{"a", "b", "c"}));
  EXPECT_EQ(Split("a,,b", ','), (Parts{"a", "", "b"}));
  EXPECT_EQ(Split(",a,", ','), (Parts{"", "a", ""}));
}

TEST(SplitTest, NoSeparatorGivesTheWholeTextAndEmptyTextOneEmptyPart) {
  EXPECT_EQ(Split("abc", '/'), (Parts{"abc"}));
  EXPECT_EQ(Split("", '/'), (Parts{""}));
  EXPECT_EQ(Split("/", '/'), (Parts{"", ""}));
}

TEST(SplitTest, PartsPointIntoTheText) {
  const std::string text = "Patient/p1/_history";
  const Parts parts = Split(text, '/');
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[1].data(), text.data() + 8);
  EXPECT_EQ(parts[2].size(), 8u);
}

// RFC 3629 §4's table of well-formed byte sequences, at each edge.
TEST(Utf8Test, WellFormedSequencesOnlyAtEveryEdgeOfRfc3629) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("Zo\xc3\xab"));                  // ë
  EXPECT_TRUE(IsValidUtf8("\xe0\xa0\x80"));                // U+0800, the first 3-byte
  EXPECT_TRUE(IsValidUtf8("\xed\x9f\xbf"));                // U+D7FF, below the surrogates
  EXPECT_TRUE(IsValidUtf8("\xf4\x8f\xbf\xbf"));            // U+10FFFF, the last
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));                    // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xe0\x9f\xbf"));                // overlong 3-byte
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));                // U+D800, a surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));            // above U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xc3"));                        // cut off
  EXPECT_FALSE(IsValidUtf8("\x80"));                        // a lone continuation byte
  EXPECT_EQ(ValidUtf8Prefix("ab\xc3\xab" "c\xff"), 5u);
  EXPECT_EQ(Utf8SequenceLength("\xf0\x9f\x98\x80", 0), 4u);  // 😀
}

TEST(FormDecodeTest, PlusIsASpaceAndEscapesAreBytes) {
  EXPECT_EQ(FormDecode("a+b%2Bc%3d"), std::optional<std::string>("a b+c="));
  EXPECT_EQ(FormDecode("%C3%AB"), std::optional<std::string>("\xc3\xab"));
  EXPECT_EQ(FormDecode(""), std::optional<std::string>(""));
  EXPECT_FALSE(FormDecode("%"));
  EXPECT_FALSE(FormDecode("%4"));
  EXPECT_FALSE(FormDecode("%4g"));
}

TEST(JsonStringTest, QuotesBackslashesAndControlCharactersAreEscaped) {
  std::string out;
  AppendJsonString("a\"b\\c\n\x01\xc3\xab", out);
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\n\\u0001\xc3\xab\"");
}

TEST(StableHashTest, IsFnv1a64) {
  // FNV-1a 64 test vectors (the offset basis for "", and "a").
  EXPECT_EQ(static_cast<uint64_t>(StableHash64("")), 0xcbf29ce484222325ULL);
  EXPECT_EQ(static_cast<uint64_t>(StableHash64("a")), 0xaf63dc4c8601ec8cULL);
}

}  // namespace
TEST(ParseNonNegativeTest, DecimalDigitsOnlyUpToEighteen) {
  EXPECT_EQ(ParseNonNegative("0"), 0);
  EXPECT_EQ(ParseNonNegative("007"), 7);
  EXPECT_EQ(ParseNonNegative("999999999999999999"), 999999999999999999);  // 18 digits
  EXPECT_EQ(ParseNonNegative("1000000000000000000"), std::nullopt);       // 19
  for (std::string_view bad : {"", "-1", "+1", "1.0", " 1", "1 ", "1a", "0x10"})
    EXPECT_EQ(ParseNonNegative(bad), std::nullopt) << bad;
}

}  // namespace joinedup
