// Service without sockets: what /fhir hands the FHIR API — the request below the base and the
// caller the server authenticated. The handler here records what it was given; the store is the
// real one.
#include "server/service.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>

#include "security/crypto.h"
#include "security/tokens.h"
#include "server_test_support.h"
#include "webapp/assets.h"

namespace joinedup::server_test {
namespace {

struct Seen {
  int calls = 0;
  http::HttpRequest request;
  std::optional<http::Principal> principal;
};

class ServiceTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    pool_ = std::make_unique<server::StorePool>(db_);
    metrics_ = std::make_unique<server::Metrics>(0);
    server::ServiceOptions options;
    options.base_url = "http://joinedup.test";
    options.csrf_key = std::string(32, 'k');
    now_ms_ = security::SystemClockMs();
    options.clock = [this] { return now_ms_.load(); };
    auto created = server::Service::Create(
        options, *pool_, *metrics_,
        [this](const http::HttpRequest& request, const std::optional<http::Principal>& principal,
               store::Store&) {
          ++seen_.calls;
          seen_.request = request;
          seen_.principal = principal;
          http::HttpResponse response;
          response.body = "{}";
          return response;
        });
    ASSERT_TRUE(created.ok());
    service_ = std::move(created).value();
  }

  http::HttpResponse Call(std::string method, std::string path,
                         std::vector<std::pair<std::string, std::string>> headers = {},
                         std::string body = "", std::string from = "192.0.2.7") {
    http::HttpRequest request;
    request.method = std::move(method);
    const size_t question = path.find('?');
    request.path = path.substr(0, question);
    if (question != std::string::npos) request.query = path.substr(question + 1);
    request.headers = std::move(headers);
    request.body = std::move(body);
    request.remote_address = std::move(from);
    request.request_id = "req-1";
    return service_->Handle(request, &info_);
  }

  std::string Issue(int64_t user_id, const std::string& scopes) {
    auto store = OpenDb();
    auto issued = security::IssueToken(*store, security::SystemClockMs, user_id, scopes, 60000);
    EXPECT_TRUE(issued.ok());
    return issued.ok() ? issued->bearer : "";
  }

  std::unique_ptr<server::StorePool> pool_;
  std::unique_ptr<server::Metrics> metrics_;
  std::unique_ptr<server::Service> service_;
  server::RequestInfo info_;
  Seen seen_;
  std::atomic<int64_t> now_ms_{0};
};

TEST_F(ServiceTest, BearerTokenBecomesTheCallerWithCareTeamsAndScopes) {
  const std::string token = Issue(grace_id_, "user/*.rs");
  http::HttpResponse response = Call("GET", "/fhir/Patient?name=smith",
                                    {{"authorization", "Bearer " + token}, {"accept", "x"}});
  EXPECT_EQ(response.status, 200);
  ASSERT_EQ(seen_.calls, 1);
  EXPECT_EQ(seen_.request.path, "/Patient");
  EXPECT_EQ(seen_.request.query, "name=smith");
  EXPECT_EQ(seen_.request.remote_address, "192.0.2.7");
  EXPECT_EQ(seen_.request.request_id, "req-1");
  EXPECT_EQ(seen_.request.Header("accept"), "x");
  ASSERT_TRUE(seen_.principal.has_value());
  const security::Caller& caller = seen_.principal->caller;
  EXPECT_EQ(seen_.principal->username, "grace");
  EXPECT_EQ(caller.user_id, grace_id_);
  EXPECT_EQ(caller.role, store::Role::kGp);
  EXPECT_EQ(caller.organisation_id, "A81001");
  EXPECT_EQ(caller.care_team_ids, std::vector<int64_t>{team_id_});
  EXPECT_FALSE(caller.patient_key.has_value());
  EXPECT_FALSE(caller.system_client);
  EXPECT_EQ(caller.scopes.ToString(), "user/*.rs");
  EXPECT_TRUE(caller.break_glass_reason.empty());
  EXPECT_EQ(info_.user_id, grace_id_);
}

TEST_F(ServiceTest, ClientCredentialsTokenIsASystemClient) {
  const std::string token = Issue(client_id_, "system/*.rs");
  Call("GET", "/fhir/Group", {{"authorization", "bearer  " + token + " "}});
  ASSERT_TRUE(seen_.principal.has_value());
  EXPECT_TRUE(seen_.principal->caller.system_client);
  EXPECT_EQ(seen_.principal->caller.role, store::Role::kCommissioner);
}

TEST_F(ServiceTest, AnonymousReachesTheApiWithoutAPrincipal) {
  Call("GET", "/fhir/metadata");
  ASSERT_EQ(seen_.calls, 1);
  EXPECT_FALSE(seen_.principal.has_value());
  EXPECT_EQ(seen_.request.path, "/metadata");
  Call("HEAD", "/fhir");
  EXPECT_EQ(seen_.request.path, "/");
  EXPECT_EQ(seen_.request.method, "GET");
}

TEST_F(ServiceTest, RefusedCredentialsNeverReachTheApi) {
  EXPECT_EQ(Call("GET", "/fhir/Patient", {{"authorization", "Bearer nope"}}).status, 401);
  EXPECT_EQ(Call("GET", "/fhir/Patient", {{"authorization", "Digest x"}}).status, 401);
  EXPECT_EQ(Call("GET", "/fhir/Patient", {{"cookie", "joinedup_session=nope"}}).status, 401);
  const std::string token = Issue(grace_id_, "user/*.cruds");
  EXPECT_EQ(Call("POST", "/fhir/Patient", {{"cookie", "joinedup_session=" + token}}).status, 403);
  EXPECT_EQ(seen_.calls, 0);
  EXPECT_EQ(Call("OPTIONS", "/fhir/Patient").status, 405);
  EXPECT_EQ(seen_.calls, 0);
  // The right CSRF token for that session lets it through.
  auto hash = security::BearerTokenHash(token);
  ASSERT_TRUE(hash.ok());
  EXPECT_EQ(
      Call("POST", "/fhir/Patient",
           {{"cookie", "joinedup_session=" + token}, {"x-csrf-token", service_->CsrfToken(*hash)}})
          .status,
      200);
  EXPECT_EQ(seen_.calls, 1);
}

// /metrics is for a scraper on this machine: elsewhere, or through a proxy, it does not exist.
TEST_F(ServiceTest, MetricsAnswerOnlyOnThisMachine) {
  EXPECT_EQ(Call("GET", "/metrics", {}, "", "127.0.0.1").status, 200);
  EXPECT_EQ(Call("GET", "/metrics", {}, "", "::1").status, 200);
  const http::HttpResponse outside = Call("GET", "/metrics");
  EXPECT_EQ(outside.status, 404);
  EXPECT_EQ(outside.body.find("joinedup_"), std::string::npos);
  EXPECT_EQ(outside.body, Call("GET", "/no-such-thing").body);
  EXPECT_EQ(Call("GET", "/metrics", {{"x-forwarded-for", "198.51.100.9"}}, "", "127.0.0.1").status,
            404);
  EXPECT_EQ(Call("GET", "/metrics", {{"forwarded", "for=198.51.100.9"}}, "", "127.0.0.1").status,
            404);
}

// Login CSRF: a browser's sign-in must come from this service's own pages.
TEST_F(ServiceTest, SignInFromAnotherSitesPageIsRefused) {
  std::string form = "username=grace&password=" + std::string(kPassword);
  std::replace(form.begin(), form.end(), ' ', '+');
  const std::pair<std::string, std::string> form_type = {"content-type",
                                                         "application/x-www-form-urlencoded"};
  struct Case {
    std::vector<std::pair<std::string, std::string>> headers;
    int status;
  };
  for (const Case& c : std::vector<Case>{
           {{form_type}, 200},  // not a browser
           {{form_type, {"origin", "http://joinedup.test"}}, 200},
           {{form_type, {"origin", "http://joinedup.test"}, {"sec-fetch-site", "same-origin"}},
            200},
           {{form_type, {"origin", "https://evil.example"}}, 403},
           {{form_type, {"origin", "null"}}, 403},
           {{form_type, {"origin", "http://joinedup.test:8080"}}, 403},
           {{form_type, {"sec-fetch-site", "cross-site"}}, 403},
           {{form_type, {"origin", "http://joinedup.test"}, {"sec-fetch-site", "same-site"}}, 403},
       }) {
    const http::HttpResponse r = Call("POST", "/auth/session", c.headers, form);
    EXPECT_EQ(r.status, c.status) << c.headers.back().first << ": " << c.headers.back().second
                                  << " → " << r.body;
    if (c.status == 403) {
      EXPECT_EQ(r.body.find("csrf_token"), std::string::npos);
      for (const auto& [name, value] : r.headers) EXPECT_NE(name, "Set-Cookie");
    }
  }
}

// Security review rule 6: sign-in throttling cannot be turned against the person it protects.
// Someone guessing grace's password from elsewhere is slowed and then locked out; grace signs in
// from her usual desk all the same; refusals while locked do not extend the lock.
TEST_F(ServiceTest, AGuesserElsewhereCannotLockAClinicianOutOfHerUsualDesk) {
  std::string right = "grant_type=password&username=grace&password=" + std::string(kPassword);
  std::replace(right.begin(), right.end(), ' ', '+');
  const std::string wrong = "grant_type=password&username=grace&password=guess";
  const std::vector<std::pair<std::string, std::string>> form = {
      {"content-type", "application/x-www-form-urlencoded"}};
  const std::string desk = "192.0.2.10", elsewhere = "198.51.100.66";
  ASSERT_EQ(Call("POST", "/auth/token", form, right, desk).status, 200);  // her usual address

  for (int i = 0; i < 5; ++i) EXPECT_EQ(Call("POST", "/auth/token", form, wrong, elsewhere).status, 400);
  const http::HttpResponse locked = Call("POST", "/auth/token", form, right, elsewhere);
  ASSERT_EQ(locked.status, 429) << locked.body;  // even the right password, from there
  int64_t first_wait = 0;
  for (const auto& [name, value] : locked.headers)
    if (name == "Retry-After") first_wait = std::stoll(value);
  EXPECT_GT(first_wait, 800);
  for (int i = 0; i < 10; ++i) {
    const http::HttpResponse again = Call("POST", "/auth/token", form, wrong, elsewhere);
    EXPECT_EQ(again.status, 429);
    for (const auto& [name, value] : again.headers)
      if (name == "Retry-After") {
        EXPECT_LE(std::stoll(value), first_wait) << "the lock grew";
      }
  }
  // The failures that count are still the five real guesses: hammering added none.
  auto store = OpenDb();
  auto sign_ins = store->SignInsOf("grace", 0, 100);
  ASSERT_TRUE(sign_ins.ok());
  int failures = 0;
  for (const auto& s : *sign_ins) failures += s.succeeded ? 0 : 1;
  EXPECT_EQ(failures, 5);
  auto throttled = store->SearchAuditEvents({.limit = 1000});
  ASSERT_TRUE(throttled.ok());
  int refusals = 0;
  for (const store::AuditEvent& e : *throttled)
    if (e.subtype == "login-throttled" && e.username == "grace") {
      ++refusals;
      EXPECT_EQ(e.source_address, elsewhere);
    }
  EXPECT_EQ(refusals, 11);

  // Grace, at her desk, is not locked out by them.
  EXPECT_EQ(Call("POST", "/auth/token", form, right, desk).status, 200);
  // Failures at her own desk do count there (a colleague at her keyboard, or her own typos).
  for (int i = 0; i < 5; ++i) EXPECT_EQ(Call("POST", "/auth/token", form, wrong, desk).status, 400);
  EXPECT_EQ(Call("POST", "/auth/token", form, right, desk).status, 429);
}

// A web session ends after 30 minutes unused, however long it had left; using it (any request,
// or asking about the session: "stay signed in") keeps it going.
TEST_F(ServiceTest, AWebSessionEndsWhenUnused) {
  std::string form = "username=grace&password=" + std::string(kPassword);
  std::replace(form.begin(), form.end(), ' ', '+');
  const http::HttpResponse signed_in = Call(
      "POST", "/auth/session", {{"content-type", "application/x-www-form-urlencoded"}}, form);
  ASSERT_EQ(signed_in.status, 200) << signed_in.body;
  EXPECT_NE(signed_in.body.find("\"idle_expires_in\":1800"), std::string::npos);
  std::string cookie;
  for (const auto& [name, value] : signed_in.headers)
    if (name == "Set-Cookie") cookie = value.substr(0, value.find(';'));
  ASSERT_FALSE(cookie.empty());
  const std::vector<std::pair<std::string, std::string>> with_cookie = {{"cookie", cookie}};
  constexpr int64_t kMinute = 60 * 1000;

  now_ms_ += 29 * kMinute;
  EXPECT_EQ(Call("GET", "/fhir/Patient", with_cookie).status, 200);
  now_ms_ += 29 * kMinute;  // 58 minutes after sign-in, 29 after its last use
  EXPECT_EQ(Call("GET", "/auth/session", with_cookie).status, 200);
  now_ms_ += 29 * kMinute;
  EXPECT_EQ(Call("GET", "/fhir/Patient", with_cookie).status, 200);
  const int calls = seen_.calls;
  now_ms_ += 31 * kMinute;
  const http::HttpResponse ended = Call("GET", "/fhir/Patient", with_cookie);
  EXPECT_EQ(ended.status, 401);
  EXPECT_NE(ended.body.find("the session has ended"), std::string::npos);
  EXPECT_EQ(seen_.calls, calls);  // never reached the API
  EXPECT_EQ(Call("GET", "/auth/session", with_cookie).status, 401);
  EXPECT_EQ(Call("GET", "/app/api/me", with_cookie).status, 401);
}

// The web application's API takes the same credentials as /fhir, and never anonymously.
TEST_F(ServiceTest, TheAppApiNeedsASignedInCallerAndItsCsrfToken) {
  const http::HttpResponse anonymous = Call("GET", "/app/api/me");
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_EQ(anonymous.content_type.rfind("application/json", 0), 0u);
  std::string form = "username=grace&password=" + std::string(kPassword);
  std::replace(form.begin(), form.end(), ' ', '+');
  const http::HttpResponse signed_in = Call(
      "POST", "/auth/session", {{"content-type", "application/x-www-form-urlencoded"}}, form);
  std::string cookie;
  for (const auto& [name, value] : signed_in.headers)
    if (name == "Set-Cookie") cookie = value.substr(0, value.find(';'));
  const http::HttpResponse posted =
      Call("POST", "/app/api/people/p1/consent", {{"cookie", cookie}}, R"({"decision":"deny"})");
  EXPECT_EQ(posted.status, 403);
  EXPECT_NE(posted.body.find("could not be checked"), std::string::npos);  // the app's words
  EXPECT_EQ(Call("PATCH", "/app/api/me", {{"cookie", cookie}}).status, 405);
}

// A browser that navigates to an address that is not ours gets the UI's "Page not found" page
// (status 404); any other client gets the JSON 404 it always had.
TEST_F(ServiceTest, UnknownAddressesAreA404ForBrowsersAndClientsAlike) {
  const http::HttpResponse json_404 = Call("GET", "/no/such/thing");
  EXPECT_EQ(json_404.status, 404);
  EXPECT_EQ(json_404.content_type.find("html"), std::string::npos);
  const http::HttpResponse browser =
      Call("GET", "/no/such/thing", {{"accept", "text/html,application/xhtml+xml,*/*;q=0.8"}});
  EXPECT_EQ(browser.status, 404);
  if (webapp::AppPage() != nullptr) {
    EXPECT_EQ(browser.content_type.rfind("text/html", 0), 0u);
  }
}

TEST_F(ServiceTest, CsrfTokenIsAKeyedMacOfTheSession) {
  const std::string a = service_->CsrfToken(std::string(64, 'a'));
  EXPECT_EQ(a.size(), 64u);
  EXPECT_EQ(a, service_->CsrfToken(std::string(64, 'a')));
  EXPECT_NE(a, service_->CsrfToken(std::string(64, 'b')));
}

}  // namespace
}  // namespace joinedup::server_test
