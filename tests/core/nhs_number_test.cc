#include "core/nhs_number.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace joinedup {
namespace {

TEST(NhsNumber, AcceptsValidNumberInAllForms) {
  for (const char* text : {"9434765919", "943 476 5919", "943-476-5919"}) {
    auto n = NhsNumber::Parse(text);
    ASSERT_TRUE(n.ok()) << text << ": " << n.error().message;
    EXPECT_EQ(n->digits(), "9434765919");
    EXPECT_EQ(n->Formatted(), "943 476 5919");
  }
}

TEST(NhsNumber, RejectsWrongCheckDigit) {
  auto n = NhsNumber::Parse("9434765918");
  ASSERT_FALSE(n.ok());
  EXPECT_NE(n.error().message.find("Modulus 11"), std::string::npos);
}

}  // namespace
}  // namespace joinedup

namespace joinedup {
namespace {

using ::testing::HasSubstr;

TEST(NhsNumber, AcceptsSeveralValidNumbers) {
  for (const char* text : {"9434765919", "4010232137", "9449306125", "9449310602"}) {
    auto n = NhsNumber::Parse(text);
    ASSERT_TRUE(n.ok()) << text << ": " << n.error().message;
    EXPECT_EQ(n->digits(), text);
  }
}

TEST(NhsNumber, CheckDigitZeroWhenModulusResultIsEleven) {
  // 9876543210: weighted sum 330 = 30 × 11, so 11 − 0 = 11, which is written as 0.
  EXPECT_EQ(NhsNumber::CheckDigit("987654321"), '0');
  auto n = NhsNumber::Parse("9876543210");
  ASSERT_TRUE(n.ok()) << n.error().message;
  EXPECT_EQ(n->Formatted(), "987 654 3210");
  EXPECT_FALSE(NhsNumber::Parse("9876543211").ok());
}

TEST(NhsNumber, CheckDigitMatchesHandComputation) {
  // 9·10 + 4·9 + 3·8 + 4·7 + 7·6 + 6·5 + 5·4 + 9·3 + 1·2 = 299; 299 mod 11 = 2; 11 − 2 = 9.
  EXPECT_EQ(NhsNumber::CheckDigit("943476591"), '9');
}

TEST(NhsNumber, RejectsEveryWrongCheckDigit) {
  for (char last = '0'; last <= '9'; ++last) {
    std::string text = "943476591";
    text += last;
    auto n = NhsNumber::Parse(text);
    EXPECT_EQ(n.ok(), last == '9') << text;
    if (!n.ok()) {
      EXPECT_EQ(n.error().code, ErrorCode::kInvalidInput);
      EXPECT_THAT(n.error().message, HasSubstr("check digit should be 9")) << text;
    }
  }
}

TEST(NhsNumber, RefusesPrefixWhoseCheckValueIsTen) {
  // 1·10 + 2·9 + 3·8 + 4·7 + 5·6 + 6·5 + 7·4 + 8·3 + 9·2 = 210; 210 mod 11 = 1; 11 − 1 = 10.
  EXPECT_EQ(NhsNumber::CheckDigit("123456789"), std::nullopt);
  for (char last = '0'; last <= '9'; ++last) {
    std::string text = "123456789";
    text += last;
    auto n = NhsNumber::Parse(text);
    ASSERT_FALSE(n.ok()) << text;
    EXPECT_THAT(n.error().message, HasSubstr("check value is 10")) << text;
  }
}

TEST(NhsNumber, RejectsAllTenRepeatedDigitNumbers) {
  int pass_arithmetic = 0;
  for (char d = '0'; d <= '9'; ++d) {
    std::string text(10, d);
    if (NhsNumber::CheckDigit(std::string_view(text).substr(0, 9)) == d) ++pass_arithmetic;
    auto n = NhsNumber::Parse(text);
    ASSERT_FALSE(n.ok()) << text;
    EXPECT_THAT(n.error().message, HasSubstr("repeated digit")) << text;
    // Also in the spaced form.
    std::string spaced = text.substr(0, 3) + " " + text.substr(3, 3) + " " + text.substr(6, 4);
    EXPECT_FALSE(NhsNumber::Parse(spaced).ok()) << spaced;
  }
  // The rule matters: several of them would pass Modulus 11 alone (0000000000, 1111111111…).
  EXPECT_GT(pass_arithmetic, 1);
}

TEST(NhsNumber, RejectsBadFormats) {
  const char* bad[] = {
      "",                // empty
      "943476591",       // 9 digits
      "94347659190",     // 11 digits
      "94347659I9",      // a letter I for 1
      "943476591X",      // letter in the check position
      "943 4765919",     // one separator only
      "943-476 5919",    // mixed separators
      "943 476-5919",    // mixed the other way
      "9434 765 919",    // separators in the wrong places
      "943  476 5919",   // doubled separator
      " 9434765919",     // leading space
      "9434765919 ",     // trailing space
      " 943 476 5919",   // leading space, spaced form
      "943 476 5919\n",  // trailing newline
      "943.476.5919",    // another separator
      "+9434765919",
      "-943476591",
  };
  for (const char* text : bad) {
    auto n = NhsNumber::Parse(text);
    ASSERT_FALSE(n.ok()) << "'" << text << "'";
    EXPECT_EQ(n.error().code, ErrorCode::kInvalidInput);
  }
}

TEST(NhsNumber, RejectsNonAsciiDigits) {
  // Fullwidth digits (U+FF10…) and Arabic-Indic digits (U+0660…) are digits to Unicode but not
  // NHS numbers; the Arabic-Indic form of five digits is ten bytes long, the length of a real one.
  EXPECT_FALSE(NhsNumber::Parse("\xEF\xBC\x99\xEF\xBC\x94\xEF\xBC\x93\xEF\xBC\x94\xEF\xBC\x97"
                                "\xEF\xBC\x96\xEF\xBC\x95\xEF\xBC\x99\xEF\xBC\x91\xEF\xBC\x99")
                   .ok());
  auto arabic = NhsNumber::Parse("\xD9\xA9\xD9\xA4\xD9\xA3\xD9\xA4\xD9\xA7");
  ASSERT_FALSE(arabic.ok());
  EXPECT_THAT(arabic.error().message, HasSubstr("non-digit"));
  EXPECT_FALSE(NhsNumber::Parse(std::string("943476\0919", 10)).ok());  // embedded NUL
}

TEST(NhsNumber, ErrorsQuoteTheInputButNotWithoutLimit) {
  std::string huge(10000, '9');
  auto n = NhsNumber::Parse(huge);
  ASSERT_FALSE(n.ok());
  EXPECT_LT(n.error().message.size(), 200u);
  auto short_one = NhsNumber::Parse("12345");
  ASSERT_FALSE(short_one.ok());
  EXPECT_THAT(short_one.error().message, HasSubstr("'12345'"));
}

TEST(NhsNumber, FormattedAndEquality) {
  auto a = NhsNumber::Parse("9449306125");
  auto b = NhsNumber::Parse("944-930-6125");
  auto c = NhsNumber::Parse("944 931 0602");
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(a->Formatted(), "944 930 6125");
  EXPECT_EQ(c->Formatted(), "944 931 0602");
  EXPECT_EQ(*a, *b);
  EXPECT_FALSE(*a == *c);
  // Formatted output parses back to the same number.
  auto round_trip = NhsNumber::Parse(a->Formatted());
  ASSERT_TRUE(round_trip.ok());
  EXPECT_EQ(*round_trip, *a);
}

}  // namespace
}  // namespace joinedup
