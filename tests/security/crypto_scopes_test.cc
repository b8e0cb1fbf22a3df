// Passwords, bearer tokens and SMART scope parsing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "security/crypto.h"
#include "security/scopes.h"

namespace joinedup::security {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST(PasswordTest, HashesWithArgon2idAndVerifiesOnlyTheRightPassword) {
  auto hash = HashPassword("correct horse battery staple");
  ASSERT_TRUE(hash.ok()) << hash.error().ToString();
  // libsodium's INTERACTIVE limits: 64 MiB, 2 passes.
  EXPECT_THAT(*hash, StartsWith("$argon2id$v=19$m=65536,t=2,p=1$"));
  EXPECT_TRUE(VerifyPassword(*hash, "correct horse battery staple"));
  EXPECT_FALSE(VerifyPassword(*hash, "correct horse battery stapLe"));
  EXPECT_FALSE(VerifyPassword(*hash, ""));
  EXPECT_FALSE(VerifyPassword("not a hash", "correct horse battery staple"));
  EXPECT_FALSE(PasswordNeedsRehash(*hash));
  // Salted: the same password hashes differently each time.
  EXPECT_NE(*hash, HashPassword("correct horse battery staple").value());
}

TEST(PasswordTest, RulesNameWhatIsWrong) {
  EXPECT_THAT(HashPassword("short").error().message, HasSubstr("shorter than 12"));
  EXPECT_THAT(HashPassword(std::string(1025, 'x')).error().message, HasSubstr("longer than 1024"));
  EXPECT_THAT(HashPassword(std::string("twelve chars\0x", 14)).error().message, HasSubstr("NUL"));
  EXPECT_TRUE(CheckPasswordRules("exactly12chr").ok());
}

TEST(BearerTokenTest, IsBase64urlOf32RandomBytesHashedWithSha256) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    const std::string token = NewBearerToken();
    ASSERT_EQ(token.size(), 43u);
    for (char c : token)
      ASSERT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_');
    seen.insert(token);
    auto hash = BearerTokenHash(token);
    ASSERT_TRUE(hash.ok());
    EXPECT_EQ(hash->size(), 64u);
  }
  EXPECT_EQ(seen.size(), 100u);
  // 32 zero bytes, base64url without padding, and SHA-256 of 32 zero bytes (a published value:
  // 66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925).
  EXPECT_EQ(BearerTokenHash(std::string(43, 'A')).value(),
            "66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925");
  for (std::string bad : {std::string(42, 'A'), std::string(44, 'A'), std::string(43, '+'),
                          std::string(42, 'A') + "=", std::string(42, 'A') + "B"})
    EXPECT_EQ(BearerTokenHash(bad).error().code, ErrorCode::kUnauthenticated) << bad;
}

TEST(Sha256Test, MatchesFips180Examples) {
  // FIPS 180-2 appendix B.1.
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(ScopesTest, ParsesSmartV2Scopes) {
  auto set =
      ParseScopes("openid fhirUser patient/*.rs user/Patient.r system/*.cruds  user/Condition.cu");
  ASSERT_TRUE(set.ok()) << set.error().ToString();
  ASSERT_EQ(set->resources.size(), 4u);
  EXPECT_EQ(set->resources[0], (ResourceScope{ScopeContext::kPatient, "*", kRead | kSearch}));
  EXPECT_EQ(set->resources[1], (ResourceScope{ScopeContext::kUser, "Patient", kRead}));
  EXPECT_EQ(set->resources[2], (ResourceScope{ScopeContext::kSystem, "*",
                                              kCreate | kRead | kUpdate | kDelete | kSearch}));
  EXPECT_EQ(set->others, (std::vector<std::string>{"openid", "fhirUser"}));
  EXPECT_EQ(set->ToString(),
            "patient/*.rs user/Patient.r system/*.cruds user/Condition.cu openid fhirUser");
  EXPECT_TRUE(ParseScopes("").value().resources.empty());
}

TEST(ScopesTest, AllowsOnlyWhatIsGranted) {
  const ScopeSet set = ParseScopes("user/Patient.rs patient/*.r").value();
  EXPECT_TRUE(set.Allows(ScopeContext::kUser, "Patient", kRead));
  EXPECT_TRUE(set.Allows(ScopeContext::kUser, "Patient", kRead | kSearch));
  EXPECT_FALSE(set.Allows(ScopeContext::kUser, "Patient", kUpdate));
  EXPECT_FALSE(set.Allows(ScopeContext::kUser, "Condition", kRead));
  EXPECT_TRUE(set.Allows(ScopeContext::kPatient, "Condition", kRead));
  EXPECT_FALSE(set.Allows(ScopeContext::kPatient, "Condition", kSearch));
  EXPECT_FALSE(set.Allows(ScopeContext::kSystem, "Patient", kRead));
  EXPECT_FALSE(set.Allows(ScopeContext::kUser, "Patient", 0));
}

TEST(ScopesTest, ErrorsNameTheScopeAndTheProblem) {
  struct Case {
    const char* text;
    const char* message;
  };
  for (const Case& c : std::initializer_list<Case>{
           {"patient/*.read",
            "scope 'patient/*.read': SMART v1 permissions are not accepted; use v2 letters (e.g. "
            ".rs)"},
           {"user/*.*", "v1"},
           {"user/*.rsc", "in the order c r u d s"},
           {"user/*.rr", "in the order c r u d s"},
           {"user/*.x", "'x' is not a permission"},
           {"user/*.", "no permissions"},
           {"user/Patient", "missing '.'"},
           {"user/Foo.r", "'Foo' is not a resource type this server serves"},
           {"admin/*.r", "unknown scope"},
           {"email", "unknown scope"},
           {"patient/Observation.rs?category=laboratory", "finer-grained"},
           {"user/*.r\x01", "printable ASCII"},
       }) {
    auto parsed = ParseScopes(c.text);
    ASSERT_FALSE(parsed.ok()) << c.text;
    EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidInput);
    EXPECT_THAT(parsed.error().message, HasSubstr(c.message)) << c.text;
  }
}

}  // namespace
}  // namespace joinedup::security
