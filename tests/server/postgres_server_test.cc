// Several server processes on one PostgreSQL database (issue 4: stateless): two servers share
// sign-in throttling, tokens and sessions through the database alone. Runs under ctest's
// `postgres` fixture (tests/store/CMakeLists.txt); skipped, saying so, outside it.
#include <httplib.h>

#include <nlohmann/json.hpp>

#include "server_test_support.h"
#include "store_test_support.h"

namespace joinedup::server_test {
namespace {

using nlohmann::json;

class PostgresServerTest : public ServerTest {
 protected:
  void SetUp() override {
    std::string skip_reason;
    database_ =
        store::testing::TestDatabase::Create(store::testing::Backend::kPostgres, skip_reason);
    if (database_ == nullptr) GTEST_SKIP() << skip_reason;
    db_ = database_->url();
    ServerTest::SetUp();
  }
  std::unique_ptr<store::testing::TestDatabase> database_;
};

std::string Form(const std::string& username, const std::string& password) {
  return "grant_type=password&username=" + username +
         "&password=" + httplib::detail::encode_query_param(password);
}

TEST_F(PostgresServerTest, TwoServersShareThrottlingTokensAndSessions) {
  server::Server& first = StartServer();
  server::Server& second = StartServer();
  httplib::Client a("127.0.0.1", first.port()), b("127.0.0.1", second.port());
  const char* form = "application/x-www-form-urlencoded";

  // A token from one server works on the other; revoked on one, refused by both.
  auto issued = a.Post("/auth/token", Form("grace", kPassword), form);
  ASSERT_EQ(issued->status, 200) << issued->body;
  const std::string token = json::parse(issued->body)["access_token"];
  const httplib::Headers bearer = {{"Authorization", "Bearer " + token}};
  EXPECT_NE(b.Get("/fhir/metadata", bearer)->status, 401);
  EXPECT_EQ(b.Post("/auth/revoke", "token=" + token, form)->status, 200);
  EXPECT_EQ(a.Get("/fhir/Patient", bearer)->status, 401);

  // A session made on one server, its CSRF token checked on the other (the key is the
  // database's).
  auto session =
      a.Post("/auth/session",
             "username=grace&password=" + httplib::detail::encode_query_param(kPassword), form);
  ASSERT_EQ(session->status, 200);
  const std::string cookie = session->get_header_value("Set-Cookie");
  const httplib::Headers with_cookie = {{"Cookie", cookie.substr(0, cookie.find(';'))}};
  auto who = b.Get("/auth/session", with_cookie);
  ASSERT_EQ(who->status, 200);
  EXPECT_EQ(json::parse(who->body)["csrf_token"], json::parse(session->body)["csrf_token"]);

  // Five failures split over the two servers: both refuse the sixth attempt.
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(a.Post("/auth/token", Form("grace", "wrong"), form)->status, 400);
  for (int i = 0; i < 2; ++i)
    EXPECT_EQ(b.Post("/auth/token", Form("grace", "wrong"), form)->status, 400);
  EXPECT_EQ(a.Post("/auth/token", Form("grace", kPassword), form)->status, 429);
  EXPECT_EQ(b.Post("/auth/token", Form("grace", kPassword), form)->status, 429);
  EXPECT_EQ(a.Get("/readyz")->status, 200);
  EXPECT_EQ(b.Get("/readyz")->status, 200);
}

}  // namespace
}  // namespace joinedup::server_test
