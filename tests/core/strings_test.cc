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

}  // namespace
}  // namespace joinedup
