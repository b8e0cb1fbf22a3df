#include "core/result.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace joinedup {
namespace {

using ::testing::HasSubstr;

Result<int> Half(int n) {
  if (n % 2 != 0) return Error::Invalid(std::to_string(n) + " is odd");
  return n / 2;
}

Status CheckPositive(int n) {
  if (n <= 0) return Error::Invalid("not positive");
  return Ok();
}

// Uses both macros; `steps` records how far the function got.
Result<int> Quarter(int n, std::vector<std::string>& steps) {
  JU_RETURN_IF_ERROR(CheckPositive(n));
  steps.push_back("positive");
  JU_ASSIGN_OR_RETURN(int half, Half(n));
  steps.push_back("halved");
  JU_ASSIGN_OR_RETURN(auto quarter, Half(half));
  steps.push_back("quartered");
  return quarter;
}

Status Validate(int n, bool& reached_end) {
  JU_RETURN_IF_ERROR(CheckPositive(n));
  JU_ASSIGN_OR_RETURN(int half, Half(n));
  reached_end = half > 0;
  return Ok();
}

TEST(Result, HoldsValueOrError) {
  Result<int> good = 7;
  ASSERT_TRUE(good.ok());
  EXPECT_TRUE(static_cast<bool>(good));
  EXPECT_EQ(good.value(), 7);
  EXPECT_EQ(*good, 7);

  Result<int> bad = Error::NotFound("no such patient");
  ASSERT_FALSE(bad.ok());
  EXPECT_FALSE(static_cast<bool>(bad));
  EXPECT_EQ(bad.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(bad.error().message, "no such patient");
}

TEST(Result, ArrowAndMoveOnlyValues) {
  Result<std::string> s = std::string("abc");
  EXPECT_EQ(s->size(), 3u);
  Result<std::unique_ptr<int>> p = std::make_unique<int>(5);
  ASSERT_TRUE(p.ok());
  std::unique_ptr<int> taken = std::move(p).value();
  ASSERT_NE(taken, nullptr);
  EXPECT_EQ(*taken, 5);
}

TEST(Result, TakeErrorMovesTheError) {
  Result<int> bad = Error::Conflict("duplicate id");
  Error e = bad.take_error();
  EXPECT_EQ(e.code, ErrorCode::kConflict);
  EXPECT_EQ(e.message, "duplicate id");
}

TEST(Status, OkAndError) {
  Status ok = Ok();
  EXPECT_TRUE(ok.ok());
  Status s = CheckPositive(-1);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kInvalidInput);
  EXPECT_EQ(s.error().ToString(), "invalid input: not positive");
}

TEST(Error, FactoriesAndNames) {
  EXPECT_EQ(Error::Invalid("x").code, ErrorCode::kInvalidInput);
  EXPECT_EQ(Error::NotFound("x").code, ErrorCode::kNotFound);
  EXPECT_EQ(Error::Conflict("x").code, ErrorCode::kConflict);
  EXPECT_EQ(Error::Unavailable("x").code, ErrorCode::kUnavailable);
  EXPECT_EQ(Error::Internal("x").code, ErrorCode::kInternal);
  EXPECT_EQ(Error::TooLarge("x").code, ErrorCode::kTooLarge);
  EXPECT_EQ(Error{}.code, ErrorCode::kInternal);  // a default Error is never mistaken for benign

  const ErrorCode all[] = {
      ErrorCode::kInvalidInput,       ErrorCode::kNotFound,        ErrorCode::kConflict,
      ErrorCode::kPreconditionFailed, ErrorCode::kUnauthenticated, ErrorCode::kForbidden,
      ErrorCode::kTooLarge,           ErrorCode::kUnavailable,     ErrorCode::kInternal};
  std::vector<std::string_view> names;
  for (ErrorCode code : all) {
    std::string_view name = ErrorCodeName(code);
    EXPECT_FALSE(name.empty());
    EXPECT_NE(name, "unknown error");
    for (std::string_view seen : names) EXPECT_NE(name, seen);
    names.push_back(name);
  }
  EXPECT_EQ(Error::TooLarge("body over 1 MiB").ToString(), "too large: body over 1 MiB");
}

TEST(ResultMacros, AssignOrReturnBindsValuesInSequence) {
  std::vector<std::string> steps;
  auto r = Quarter(12, steps);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, 3);
  EXPECT_THAT(steps, ::testing::ElementsAre("positive", "halved", "quartered"));
}

TEST(ResultMacros, ReturnIfErrorStopsAtTheFirstFailure) {
  std::vector<std::string> steps;
  auto r = Quarter(-4, steps);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "not positive");
  EXPECT_TRUE(steps.empty());
}

TEST(ResultMacros, AssignOrReturnPropagatesTheErrorUnchanged) {
  std::vector<std::string> steps;
  auto r = Quarter(7, steps);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidInput);
  EXPECT_EQ(r.error().message, "7 is odd");
  EXPECT_THAT(steps, ::testing::ElementsAre("positive"));

  steps.clear();
  auto r2 = Quarter(6, steps);  // 6 → 3, then 3 is odd
  ASSERT_FALSE(r2.ok());
  EXPECT_THAT(r2.error().message, HasSubstr("3 is odd"));
  EXPECT_THAT(steps, ::testing::ElementsAre("positive", "halved"));
}

TEST(ResultMacros, WorkInsideStatusFunctions) {
  bool reached = false;
  EXPECT_TRUE(Validate(4, reached).ok());
  EXPECT_TRUE(reached);
  reached = false;
  Status odd = Validate(5, reached);
  ASSERT_FALSE(odd.ok());
  EXPECT_EQ(odd.error().message, "5 is odd");
  EXPECT_FALSE(reached);
}

}  // namespace
}  // namespace joinedup
