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

TEST_F(PostgresServerTest, ReadyzIs503WhileTheDatabaseIsGoneAndRecovers) {
  server::Server& server = StartServer([](server::ServerOptions& options) { options.threads = 1; });
  httplib::Client client("127.0.0.1", server.port());
  ASSERT_EQ(client.Get("/readyz")->status, 200);
  // Kill the server's pooled connection from outside, as a database restart would.
  std::string killed;
  ASSERT_EQ(database_->RawExec("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                               "WHERE datname = current_database() AND pid <> pg_backend_pid()",
                               &killed),
            "");
  ASSERT_NE(killed, "0");
  auto down = client.Get("/readyz");
  ASSERT_TRUE(down);
  EXPECT_EQ(down->status, 503);
  EXPECT_EQ(down->get_header_value("Retry-After"), "5");
  EXPECT_EQ(client.Get("/healthz")->status, 200);  // the process is fine
  EXPECT_EQ(client.Get("/readyz")->status, 200);   // a fresh connection replaced the dead one
}

}  // namespace
}  // namespace joinedup::server_test
