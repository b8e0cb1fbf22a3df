// Several server processes on one PostgreSQL database (issue 4: stateless): two servers share
// sign-in throttling, tokens and sessions through the database alone. Runs under ctest's
// `postgres` fixture (tests/store/CMakeLists.txt); skipped, saying so, outside it.
#include <fcntl.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <map>
#include <mutex>
#include <regex>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "security/audit.h"
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

// ---- Two `joinedup serve` processes, one killed mid-run (security review rule 10) ---------------

// A `joinedup serve` child process on `db`; its port from the first line it writes.
struct ServeProcess {
  pid_t pid = -1;
  int port = 0;
  std::filesystem::path err;

  static ServeProcess Start(const std::string& db, const std::filesystem::path& err) {
    ServeProcess p;
    p.err = err;
    p.pid = ::fork();
    if (p.pid == 0) {
      const int fd = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      ::dup2(fd, STDERR_FILENO);
      ::execl(JOINEDUP_EXECUTABLE, JOINEDUP_EXECUTABLE, "serve", "--db", db.c_str(), "--port",
              "0", "--threads", "12", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    const std::regex listening(R"(listening on http://127\.0\.0\.1:(\d+))");
    for (int i = 0; i < 600 && p.port == 0; ++i) {
      std::stringstream text;
      text << std::ifstream(err).rdbuf();
      std::smatch match;
      const std::string all = text.str();
      if (std::regex_search(all, match, listening))
        p.port = std::stoi(match[1]);
      else
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return p;
  }
  void Kill() {
    if (pid <= 0) return;
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    pid = -1;
  }
  ~ServeProcess() {
    if (pid > 0) {
      ::kill(pid, SIGTERM);
      ::waitpid(pid, nullptr, 0);
    }
  }
};

// Sixteen clients update one Condition with If-Match through two server processes on one
// database; one process is killed (SIGKILL) mid-run and its clients carry on through the
// other. No acknowledged write is lost, no version is skipped or written twice, the audit
// chain is intact, and a session and the sign-in throttle made on the dead server still hold
// on the live one.
TEST_F(PostgresServerTest, TwoServeProcessesOneKilledLoseNoAcknowledgedWrite) {
  ServeProcess a = ServeProcess::Start(db_, dir_ / "a.err");
  ServeProcess b = ServeProcess::Start(db_, dir_ / "b.err");
  ASSERT_GT(a.port, 0);
  ASSERT_GT(b.port, 0);
  const char* form = "application/x-www-form-urlencoded";
  httplib::Client on_a("127.0.0.1", a.port), on_b("127.0.0.1", b.port);
  auto issued = on_a.Post("/auth/token", Form("grace", kPassword), form);
  ASSERT_TRUE(issued);
  ASSERT_EQ(issued->status, 200) << issued->body;
  const std::string token = json::parse(issued->body)["access_token"];
  const httplib::Headers bearer = {{"Authorization", "Bearer " + token}};
  auto session = on_a.Post("/auth/session",
                           "username=grace&password=" + httplib::detail::encode_query_param(kPassword),
                           form);
  ASSERT_TRUE(session);
  ASSERT_EQ(session->status, 200);
  const std::string cookie = session->get_header_value("Set-Cookie");
  for (int i = 0; i < 5; ++i)
    ASSERT_EQ(on_a.Post("/auth/token", Form("integration", "wrong"), form)->status, 400);

  const std::string condition =
      R"({"resourceType":"Condition","code":{"coding":[{"system":"http://snomed.info/sct",)"
      R"("code":"38341003"}]},"subject":{"reference":"Patient/p-1"},"onsetDateTime":"2021-05-06"})";
  auto created = on_a.Post("/fhir/Condition", bearer, condition, "application/fhir+json");
  ASSERT_TRUE(created);
  ASSERT_EQ(created->status, 201) << created->body;
  const std::string id = json::parse(created->body)["id"];
  const std::string path = "/fhir/Condition/" + id;

  struct Acknowledged {
    int64_t version;
    std::string note;
  };
  constexpr int kClients = 16, kWritesEach = 6;
  std::mutex mutex;
  std::vector<Acknowledged> acknowledged;
  std::atomic<int> total{0}, unexpected{0};
  std::string first_unexpected;
  std::atomic<bool> a_dead{false};
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      // Half start on the server that will die; when it does, they carry on through the other.
      bool use_a = c % 2 == 0;
      auto client = [&] {
        auto made = std::make_unique<httplib::Client>("127.0.0.1", use_a ? a.port : b.port);
        made->set_connection_timeout(2);
        made->set_read_timeout(10);
        return made;
      };
      std::unique_ptr<httplib::Client> http = client();
      int mine = 0;
      for (int attempt = 0; mine < kWritesEach && std::chrono::steady_clock::now() < deadline;
           ++attempt) {
        auto got = http->Get(path, bearer);
        if (!got) {  // the server is gone: carry on through the other
          if (use_a && a_dead) {
            use_a = false;
            http = client();
          }
          continue;
        }
        if (got->status != 200) {
          ++unexpected;
          continue;
        }
        json resource = json::parse(got->body);
        const std::string etag = got->get_header_value("ETag");
        const std::string note = "client " + std::to_string(c) + " write " + std::to_string(mine) +
                                 " attempt " + std::to_string(attempt);
        resource.erase("meta");
        resource["note"] = json::array({{{"text", note}}});
        httplib::Headers headers = bearer;
        headers.emplace("If-Match", etag);
        auto put = http->Put(path, headers, resource.dump(), "application/fhir+json");
        if (!put) continue;  // not acknowledged (the server died under it)
        if (put->status == 412) continue;
        if (put->status != 200) {
          ++unexpected;
          std::lock_guard lock(mutex);
          if (first_unexpected.empty()) first_unexpected = std::to_string(put->status) + put->body;
          continue;
        }
        const std::string written = put->get_header_value("ETag");  // W/"n"
        std::lock_guard lock(mutex);
        acknowledged.push_back({std::stoll(written.substr(3, written.size() - 4)), note});
        ++mine;
        ++total;
      }
    });
  }
  // Kill the first server once the run is under way.
  while (total < kClients && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  a.Kill();
  a_dead = true;
  for (std::thread& t : clients) t.join();
  EXPECT_EQ(unexpected, 0) << first_unexpected;
  ASSERT_EQ(total, kClients * kWritesEach) << "some clients did not finish";

  // Every version from 1 to the current, once each; every acknowledged write is its version.
  auto history = on_b.Get(path + "/_history", bearer);
  ASSERT_TRUE(history);
  ASSERT_EQ(history->status, 200);
  const json bundle = json::parse(history->body);
  std::map<int64_t, std::string> notes;  // version → its note
  for (const json& entry : bundle["entry"]) {
    const int64_t version = std::stoll(entry["resource"]["meta"]["versionId"].get<std::string>());
    EXPECT_FALSE(notes.contains(version)) << "version " << version << " twice";
    const json& resource = entry["resource"];
    notes[version] = resource.contains("note") ? resource["note"][0]["text"].get<std::string>()
                                               : std::string();
  }
  ASSERT_FALSE(notes.empty());
  EXPECT_EQ(notes.begin()->first, 1);
  EXPECT_EQ(notes.rbegin()->first, static_cast<int64_t>(notes.size())) << "a version skipped";
  for (const Acknowledged& w : acknowledged) {
    ASSERT_TRUE(notes.contains(w.version)) << "acknowledged version " << w.version << " lost";
    EXPECT_EQ(notes[w.version], w.note);
  }

  // The audit trail is one intact chain, written by both processes.
  auto store = OpenDb();
  auto verified = security::VerifyAuditChain(*store);
  ASSERT_TRUE(verified.ok());
  EXPECT_TRUE(verified->intact()) << verified->problem;
  // The session and the throttle made on the dead server hold on the live one.
  EXPECT_EQ(on_b.Get("/auth/session", {{"Cookie", cookie.substr(0, cookie.find(';'))}})->status,
            200);
  EXPECT_EQ(on_b.Post("/auth/token", Form("integration", kPassword), form)->status, 429);
}

}  // namespace
}  // namespace joinedup::server_test
