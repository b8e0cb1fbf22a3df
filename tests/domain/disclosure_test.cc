// The small-number rule at each of its edges (domain/disclosure.h: NHS Digital's HES rule —
// 1 to 7 shown as "*", the rest rounded to the nearest 5).
#include "domain/disclosure.h"

#include <gtest/gtest.h>

namespace joinedup {
namespace {

TEST(Disclose, HesRuleAtEveryEdge) {
  const DisclosureRule hes;
  struct Case {
    int64_t count;
    const char* shown;
  };
  for (const Case& c : {Case{0, "0"}, Case{1, "*"}, Case{2, "*"}, Case{7, "*"}, Case{8, "10"},
                        Case{10, "10"}, Case{12, "10"}, Case{13, "15"}, Case{17, "15"},
                        Case{18, "20"}, Case{1234, "1235"}, Case{1232, "1230"},
                        Case{245315, "245315"}, Case{245317, "245315"}, Case{245318, "245320"}})
    EXPECT_EQ(Disclose(c.count, hes).Text(), c.shown) << c.count;
  EXPECT_TRUE(Disclose(5, hes).suppressed());
  EXPECT_FALSE(Disclose(0, hes).suppressed());
}

TEST(Disclose, OtherSettingsAndOff) {
  EXPECT_EQ(Disclose(3, DisclosureRule::Off()).Text(), "3");
  EXPECT_EQ(Disclose(1, DisclosureRule::Off()).Text(), "1");
  const DisclosureRule tens{9, 10};
  EXPECT_EQ(Disclose(9, tens).Text(), "*");
  EXPECT_EQ(Disclose(10, tens).Text(), "10");
  EXPECT_EQ(Disclose(14, tens).Text(), "10");
  EXPECT_EQ(Disclose(15, tens).Text(), "20");  // halves up
}

}  // namespace
}  // namespace joinedup
