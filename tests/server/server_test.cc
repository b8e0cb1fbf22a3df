// The real server, in process, on an ephemeral loopback port over a SQLite temp file;
// cpp-httplib's Client is the client. Raw sockets where a well-behaved client cannot misbehave.
#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "security/crypto.h"
#include "security/tokens.h"
#include "server_test_support.h"

namespace joinedup::server_test {
namespace {

using nlohmann::json;

std::unique_ptr<httplib::Client> ClientOf(const server::Server& server) {
  auto client = std::make_unique<httplib::Client>("127.0.0.1", server.port());
  client->set_read_timeout(30, 0);
  return client;
}

json BodyJson(const httplib::Result& result) {
  return json::parse(result->body, nullptr, /*allow_exceptions=*/false);
}

const char* kForm = "application/x-www-form-urlencoded";

httplib::Result PostForm(httplib::Client& client, const std::string& path, const std::string& body,
                         const httplib::Headers& headers = {}) {
  return client.Post(path.c_str(), headers, body, kForm);
}

std::string PasswordToken(httplib::Client& client, const std::string& username,
                          const std::string& scope = "") {
  auto result = PostForm(client, "/auth/token",
                         "grant_type=password&username=" + username +
                             "&password=" + httplib::detail::encode_query_param(kPassword) +
                             (scope.empty() ? "" : "&scope=" + scope));
  EXPECT_TRUE(result);
  if (!result) return "";
  EXPECT_EQ(result->status, 200) << result->body;
  return BodyJson(result).value("access_token", "");
}

void ExpectSecurityHeaders(const httplib::Response& response, const std::string& what) {
  SCOPED_TRACE(what + " (status " + std::to_string(response.status) + ")");
  EXPECT_EQ(response.get_header_value("Content-Security-Policy"),
            "default-src 'none'; frame-ancestors 'none'");
  EXPECT_EQ(response.get_header_value("Content-Security-Policy").find("unsafe-inline"),
            std::string::npos);
  EXPECT_EQ(response.get_header_value("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(response.get_header_value("Referrer-Policy"), "no-referrer");
  EXPECT_EQ(response.get_header_value("Cache-Control"), "no-store");
  EXPECT_FALSE(response.get_header_value("X-Request-Id").empty());
  EXPECT_FALSE(response.has_header("Strict-Transport-Security"));  // plain HTTP here
}

// Sends `bytes` on a fresh connection and reads until the server closes it (or `timeout`).
struct RawExchange {
  std::string response;
  bool closed_by_server = false;
  double seconds = 0;
};
RawExchange Raw(int port, const std::string& bytes, std::chrono::seconds timeout) {
  RawExchange exchange;
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return exchange;
  }
  timeval tv{static_cast<time_t>(timeout.count()), 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  const auto start = std::chrono::steady_clock::now();
  (void)::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  char buffer[4096];
  while (true) {
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n == 0) {
      exchange.closed_by_server = true;
      break;
    }
    if (n < 0) break;  // timeout (or reset)
    exchange.response.append(buffer, static_cast<size_t>(n));
  }
  exchange.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ::close(fd);
  return exchange;
}

// ---- Operations ------------------------------------------------------------------------------

TEST_F(ServerTest, HealthReadyAndMetrics) {
  server::Server& server = StartServer();
  auto client = ClientOf(server);
  auto health = client->Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(health->body, "ok\n");
  auto ready = client->Get("/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200);
  ASSERT_EQ(client->Get("/nowhere")->status, 404);
  PasswordToken(*client, "grace");
  (void)PostForm(*client, "/auth/token", "grant_type=password&username=grace&password=wrong-one");

  auto metrics = client->Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  EXPECT_EQ(metrics->get_header_value("Content-Type").rfind("text/plain; version=0.0.4", 0), 0u);
  const std::string& text = metrics->body;
  EXPECT_NE(text.find("joinedup_http_requests_total{route=\"/healthz\",code=\"2xx\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("joinedup_http_requests_total{route=\"{unmatched}\",code=\"4xx\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("joinedup_http_requests_total{route=\"/auth/token\",code=\"2xx\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("joinedup_http_requests_total{route=\"/auth/token\",code=\"4xx\"} 1\n"),
            std::string::npos);
  EXPECT_NE(
      text.find("joinedup_http_request_duration_seconds_bucket{route=\"/readyz\",le=\"+Inf\"} 1\n"),
      std::string::npos);
  EXPECT_NE(text.find("joinedup_http_request_duration_seconds_count{route=\"/healthz\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("joinedup_http_requests_in_flight 1\n"), std::string::npos);  // this one
  EXPECT_NE(text.find("joinedup_sign_ins_total{outcome=\"ok\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("joinedup_sign_ins_total{outcome=\"failed\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("joinedup_uptime_seconds "), std::string::npos);
}

// ---- Headers on every response ----------------------------------------------------------------

TEST_F(ServerTest, SecurityHeadersAndRequestIdOnEveryResponseIncludingErrors) {
  server::Server& server =
      StartServer([](server::ServerOptions& options) { options.max_body_bytes = 1024; });
  auto client = ClientOf(server);
  auto check = [&](const httplib::Result& result, int status, const std::string& what) {
    ASSERT_TRUE(result) << what;
    EXPECT_EQ(result->status, status) << what << ": " << result->body;
    ExpectSecurityHeaders(*result, what);
  };
  check(client->Get("/healthz"), 200, "healthz");
  check(client->Get("/metrics"), 200, "metrics");
  check(client->Get("/.well-known/smart-configuration"), 200, "smart");
  check(client->Get("/no/such/thing"), 404, "unknown path");
  check(client->Put("/healthz", "", "text/plain"), 405, "wrong method");
  check(client->Get("/auth/token"), 405, "token by GET");
  check(PostForm(*client, "/auth/token", "grant_type=password&username=grace&password=x"), 400,
        "bad password");
  check(client->Get("/fhir/Patient", {{"Authorization", "Bearer not-a-token"}}), 401, "bad token");
  check(client->Post("/auth/token", std::string(4096, 'a'), kForm), 413, "body too large");
  check(client->Options("/fhir/Patient"), 405, "OPTIONS");
  // A method cpp-httplib does not take at all (400 before routing).
  RawExchange trace =
      Raw(server.port(), "TRACE /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
          std::chrono::seconds(5));
  EXPECT_EQ(trace.response.rfind("HTTP/1.1 4", 0), 0u) << trace.response;
  EXPECT_EQ(trace.response.find("200 OK"), std::string::npos);
  EXPECT_NE(trace.response.find("X-Content-Type-Options: nosniff"), std::string::npos);
  // The request line itself is garbage: cpp-httplib refuses it before routing; still decorated.
  RawExchange garbage = Raw(server.port(), "NONSENSE\r\n\r\n", std::chrono::seconds(5));
  EXPECT_NE(garbage.response.find("HTTP/1.1 400"), std::string::npos) << garbage.response;
  EXPECT_NE(garbage.response.find("Content-Security-Policy: default-src 'none'"),
            std::string::npos);
  EXPECT_NE(garbage.response.find("X-Request-Id: "), std::string::npos);
}

// The request id is always the server's own (a client could reuse one to muddle the audit
// trail); a safe X-Request-Id from the client is logged beside it.
TEST_F(ServerTest, RequestIdIsTheServersAndTheClientsIsKeptBeside) {
  server::Server& server = StartServer();
  auto client = ClientOf(server);
  auto given = client->Get("/healthz", {{"X-Request-Id", "trace-42.a_b"}});
  const std::string ours = given->get_header_value("X-Request-Id");
  EXPECT_EQ(ours.size(), 32u);
  EXPECT_NE(ours, "trace-42.a_b");
  auto replaced = client->Get("/healthz", {{"X-Request-Id", "evil\"},{\"user_id\":1"}});
  const std::string id = replaced->get_header_value("X-Request-Id");
  EXPECT_EQ(id.size(), 32u);
  EXPECT_EQ(id.find('"'), std::string::npos);
  auto generated_a = client->Get("/healthz"), generated_b = client->Get("/healthz");
  EXPECT_NE(generated_a->get_header_value("X-Request-Id"),
            generated_b->get_header_value("X-Request-Id"));
  // The log carries the response's id and, beside it, the client's; never the unsafe one.
  bool logged = false;
  for (const std::string& line : log_->Lines()) {
    if (line.find("\"request_id\":\"" + ours + "\",\"client_request_id\":\"trace-42.a_b\"") !=
        std::string::npos)
      logged = true;
    EXPECT_EQ(line.find("evil"), std::string::npos) << line;
  }
  EXPECT_TRUE(logged);
}

TEST_F(ServerTest, HttpsBaseUrlAddsHstsAndSecureCookies) {
  server::Server& server = StartServer(
      [](server::ServerOptions& options) { options.base_url = "https://fhir.example.org/"; });
  EXPECT_EQ(server.base_url(), "https://fhir.example.org");
  auto client = ClientOf(server);
  auto health = client->Get("/healthz");
  EXPECT_EQ(health->get_header_value("Strict-Transport-Security"), "max-age=31536000");
  auto session =
      PostForm(*client, "/auth/session",
               "username=grace&password=" + httplib::detail::encode_query_param(kPassword));
  ASSERT_EQ(session->status, 200) << session->body;
  EXPECT_NE(session->get_header_value("Set-Cookie").find("; Secure"), std::string::npos);
  auto smart = BodyJson(client->Get("/.well-known/smart-configuration"));
  EXPECT_EQ(smart["token_endpoint"], "https://fhir.example.org/auth/token");
}

// ---- Limits ------------------------------------------------------------------------------------

TEST_F(ServerTest, OversizedBodyIs413OperationOutcome) {
  server::Server& server =
      StartServer([](server::ServerOptions& options) { options.max_body_bytes = 2048; });
  auto client = ClientOf(server);
  auto big = client->Post("/fhir/Patient", std::string(3000, '{'), "application/fhir+json");
  ASSERT_TRUE(big);
  EXPECT_EQ(big->status, 413);
  json outcome = BodyJson(big);
  EXPECT_EQ(outcome["resourceType"], "OperationOutcome");
  EXPECT_EQ(outcome["issue"][0]["code"], "too-long");
  // Just under the limit is read (and then refused for what it is, not its size).
  auto small = client->Post("/auth/token", std::string(1000, 'a'), kForm);
  EXPECT_EQ(small->status, 400);
}

TEST_F(ServerTest, OversizedHeaderIsRefusedAndTheWorkerFreed) {
  server::Server& server = StartServer();
  const std::string huge = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(9000, 'a') +
                           "\r\nConnection: close\r\n\r\n";
  RawExchange exchange = Raw(server.port(), huge, std::chrono::seconds(5));
  EXPECT_NE(exchange.response.find("HTTP/1.1 400"), std::string::npos) << exchange.response;
  EXPECT_NE(exchange.response.find("X-Content-Type-Options: nosniff"), std::string::npos);
  const std::string long_uri = "GET /healthz?" + std::string(9000, 'q') +
                               " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  RawExchange uri = Raw(server.port(), long_uri, std::chrono::seconds(5));
  EXPECT_NE(uri.response.find("HTTP/1.1 414"), std::string::npos) << uri.response;
  EXPECT_EQ(ClientOf(server)->Get("/healthz")->status, 200);
}

TEST_F(ServerTest, ClientThatStopsSendingHeadersIsDroppedAfterTheReadTimeout) {
  server::Server& server = StartServer([](server::ServerOptions& options) {
    options.read_timeout_s = 1;
    options.keep_alive_timeout_s = 1;
    options.threads = 1;  // one worker: if the slow client kept it, nothing else would run
  });
  RawExchange slow =
      Raw(server.port(), "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ", std::chrono::seconds(10));
  EXPECT_TRUE(slow.closed_by_server);
  EXPECT_LT(slow.seconds, 5.0);
  EXPECT_EQ(slow.response.find("200 OK"), std::string::npos);
  EXPECT_EQ(slow.response.rfind("HTTP/1.1 400", 0), 0u) << slow.response;
  EXPECT_EQ(ClientOf(server)->Get("/healthz")->status, 200);
}

// ---- /auth/token -------------------------------------------------------------------------------

TEST_F(ServerTest, PasswordGrantIssuesABearerTokenWithTheRolesScopes) {
  server::Server& server = StartServer();
  auto client = ClientOf(server);
  auto result = PostForm(*client, "/auth/token",
                         "grant_type=password&username=grace&password=" +
                             httplib::detail::encode_query_param(kPassword) +
                             "&scope=user%2FPatient.rs+user%2FCondition.r+openid");
  ASSERT_TRUE(result);
  ASSERT_EQ(result->status, 200) << result->body;
  EXPECT_EQ(result->get_header_value("Cache-Control"), "no-store");
  EXPECT_EQ(result->get_header_value("Pragma"), "no-cache");
  EXPECT_EQ(result->get_header_value("Content-Type"), "application/json");
  json body = BodyJson(result);
  EXPECT_EQ(body["token_type"], "Bearer");
  EXPECT_EQ(body["expires_in"], 3600);
  EXPECT_EQ(body["scope"], "user/Patient.rs user/Condition.r");  // openid: no id tokens here
  const std::string token = body["access_token"];
  EXPECT_EQ(token.size(), 43u);
  auto store = OpenDb();
  auto authenticated = security::AuthenticateToken(*store, security::SystemClockMs, token);
  ASSERT_TRUE(authenticated.ok());
  EXPECT_EQ(authenticated->user.id, grace_id_);
  // Default scopes when none are asked for.
  auto plain = PostForm(*client, "/auth/token",
                        "grant_type=password&username=grace&password=" +
                            httplib::detail::encode_query_param(kPassword));
  EXPECT_EQ(BodyJson(plain)["scope"], "user/*.cruds");
}

TEST_F(ServerTest, ClientCredentialsByBasicOrFormGetSystemScopes) {
  server::Server& server = StartServer();
  auto client = ClientOf(server);
  auto basic = PostForm(*client, "/auth/token", "grant_type=client_credentials&scope=system%2F*.rs",
                        {httplib::make_basic_authentication_header(
                            "integration", httplib::detail::encode_query_param(kPassword))});
  ASSERT_EQ(basic->status, 200) << basic->body;
  EXPECT_EQ(BodyJson(basic)["scope"], "system/*.rs");
  auto form = PostForm(*client, "/auth/token",
                       "grant_type=client_credentials&client_id=integration&client_secret=" +
                           httplib::detail::encode_query_param(kPassword));
  ASSERT_EQ(form->status, 200) << form->body;
  EXPECT_EQ(BodyJson(form)["scope"], "system/*.rs");  // the default
  EXPECT_EQ(BodyJson(form)["token_type"], "Bearer");
}

TEST_F(ServerTest, TokenEndpointErrorsFollowRfc6749) {
  server::Server& server = StartServer();
  auto client = ClientOf(server);
  const std::string good = httplib::detail::encode_query_param(kPassword);
  auto expect_error = [&](const httplib::Result& result, int status, const std::string& error) {
    ASSERT_TRUE(result);
    EXPECT_EQ(result->status, status) << result->body;
    json body = BodyJson(result);
    EXPECT_EQ(body.value("error", ""), error) << result->body;
    EXPECT_TRUE(body.contains("error_description"));
    EXPECT_EQ(result->get_header_value("Cache-Control"), "no-store");
    EXPECT_EQ(body.value("access_token", ""), "");
  };
  expect_error(PostForm(*client, "/auth/token", "grant_type=authorization_code&code=x"), 400,
               "unsupported_grant_type");
  expect_error(PostForm(*client, "/auth/token", "username=grace&password=" + good), 400,
               "invalid_request");
  expect_error(client->Post("/auth/token", "grant_type=password&username=grace&password=" + good,
                            "application/json"),
               400, "invalid_request");
  expect_error(PostForm(*client, "/auth/token",
                        "grant_type=password&username=grace&username=dan&password=" + good),
               400, "invalid_request");
  expect_error(PostForm(*client, "/auth/token", "grant_type=password&username=grace"), 400,
               "invalid_request");
  expect_error(PostForm(*client, "/auth/token", "grant_type=password&username=grace&password=nope"),
               400, "invalid_grant");
  expect_error(
      PostForm(*client, "/auth/token", "grant_type=password&username=nobody&password=" + good), 400,
      "invalid_grant");
  expect_error(
      PostForm(*client, "/auth/token", "grant_type=password&username=dan&password=" + good), 400,
      "invalid_grant");  // disabled: told apart from a wrong password by nobody
  expect_error(PostForm(*client, "/auth/token",
                        "grant_type=password&username=grace&password=" + good +
                            "&scope=user%2FPatient.read"),
               400, "invalid_scope");  // SMART v1 syntax
  expect_error(
      PostForm(*client, "/auth/token",
               "grant_type=password&username=grace&password=" + good + "&scope=patient%2F*.rs"),
      400, "invalid_scope");  // a GP is not a patient
  expect_error(
      PostForm(*client, "/auth/token",
               "grant_type=password&username=grace&password=" + good + "&scope=system%2F*.rs"),
      400, "invalid_scope");  // nor a system, by the password grant
  expect_error(PostForm(*client, "/auth/token", "grant_type=password&username=grace&password=%zz"),
               400, "invalid_request");

  auto no_client = PostForm(*client, "/auth/token", "grant_type=client_credentials");
  expect_error(no_client, 401, "invalid_client");
  EXPECT_EQ(no_client->get_header_value("WWW-Authenticate"), "Basic realm=\"joinedup\"");
  expect_error(PostForm(*client, "/auth/token",
                        "grant_type=client_credentials&client_id=integration&client_secret=wrong"),
               401, "invalid_client");
  expect_error(PostForm(*client, "/auth/token", "grant_type=client_credentials",
                        {httplib::make_basic_authentication_header("integration", "wrong")}),
               401, "invalid_client");
  expect_error(PostForm(*client, "/auth/token", "grant_type=client_credentials",
                        {{"Authorization", "Basic %%%"}}),
               401, "invalid_client");
  expect_error(PostForm(*client, "/auth/token",
                        "grant_type=client_credentials&client_id=integration&client_secret=" +
                            good + "&scope=user%2F*.rs"),
               400, "invalid_scope");
  // Every refusal after the credentials were looked at was a failed sign-in, audited.
  EXPECT_GE(AuditEvents("login").size(), 8u);
}

TEST_F(ServerTest, RevokedTokensStopWorkingAndRevokeAlwaysAnswers200) {
  server::Server& server = StartServer();
  auto client = ClientOf(server);
  const std::string token = PasswordToken(*client, "grace");
  auto before = client->Get("/fhir/metadata", {{"Authorization", "Bearer " + token}});
  EXPECT_NE(before->status, 401);
  auto revoke = PostForm(*client, "/auth/revoke", "token=" + token);
  EXPECT_EQ(revoke->status, 200);
  EXPECT_EQ(PostForm(*client, "/auth/revoke", "token=unknown-token")->status, 200);
  EXPECT_EQ(PostForm(*client, "/auth/revoke", "token=" + security::NewBearerToken())->status, 200);
  EXPECT_EQ(PostForm(*client, "/auth/revoke", "nothing=here")->status, 400);
  auto after = client->Get("/fhir/Patient", {{"Authorization", "Bearer " + token}});
  EXPECT_EQ(after->status, 401);
}

// ---- Bad credentials on /fhir ------------------------------------------------------------------

TEST_F(ServerTest, ExpiredForgedRevokedAndMalformedTokensAre401AndAudited) {
  server::Server& server = StartServer();
  auto client = ClientOf(server);
  const std::string expiring = PasswordToken(*client, "grace");
  const std::string revoked = PasswordToken(*client, "grace");
  ASSERT_EQ(PostForm(*client, "/auth/revoke", "token=" + revoked)->status, 200);
  const size_t audited_before = AuditEvents("authenticate").size();

  auto refuse = [&](const httplib::Headers& headers, const std::string& error,
                    const std::string& what) {
    auto result = client->Get("/fhir/Patient?identifier=9434765919", headers);
    ASSERT_TRUE(result) << what;
    EXPECT_EQ(result->status, 401) << what;
    EXPECT_EQ(result->get_header_value("WWW-Authenticate"),
              "Bearer realm=\"joinedup\", error=\"" + error + "\"")
        << what;
    EXPECT_EQ(BodyJson(result)["resourceType"], "OperationOutcome") << what;
    ExpectSecurityHeaders(*result, what);
  };
  refuse({{"Authorization", "Bearer " + security::NewBearerToken()}}, "invalid_token", "forged");
  refuse({{"Authorization", "Bearer " + revoked}}, "invalid_token", "revoked");
  refuse({{"Authorization", "Bearer x"}}, "invalid_token", "malformed");
  refuse({{"Authorization", "Basic Z3JhY2U6eA=="}}, "invalid_request", "not bearer");
  refuse({{"Cookie", "joinedup_session=" + security::NewBearerToken()}}, "invalid_token",
         "forged cookie");
  clock_offset_->store(2 * 60 * 60 * 1000);  // two hours on: past the one-hour lifetime
  refuse({{"Authorization", "Bearer " + expiring}}, "invalid_token", "expired");

  // Audited in aggregate per address and minute: the first of the five at once, the other four
  // as one event with their count once the minute was over, then the expired token's own.
  std::vector<store::AuditEvent> events = AuditEvents("authenticate");
  ASSERT_EQ(events.size(), audited_before + 3);
  int64_t refused = 0;
  for (size_t i = audited_before; i < events.size(); ++i) {
    EXPECT_EQ(events[i].outcome, store::AuditOutcome::kMinorFailure);
    EXPECT_FALSE(events[i].user_id.has_value());
    EXPECT_EQ(events[i].source_address, "127.0.0.1");
    EXPECT_EQ(events[i].request_id.size(), 32u);
    EXPECT_TRUE(events[i].patient_keys.empty());
    ASSERT_TRUE(events[i].query.starts_with("refused credentials: ")) << events[i].query;
    refused += std::stoll(events[i].query.substr(21));
  }
  EXPECT_EQ(refused, 6);
  EXPECT_EQ(events[audited_before + 1].query, "refused credentials: 4");
}

// Security review rule 6: a flood of bad bearer tokens is counted, not written row by row into
// the hash-chained trail — one event per address per interval with the count, and what is
// still counted when the server stops is written then.
TEST_F(ServerTest, AFloodOfBadTokensIsAuditedInAggregate) {
  server::Server& server = StartServer();
  auto client = ClientOf(server);
  const httplib::Headers forged = {{"Authorization", "Bearer not-a-token"}};
  for (int i = 0; i < 200; ++i) ASSERT_EQ(client->Get("/fhir/Patient", forged)->status, 401);
  EXPECT_EQ(AuditEvents("authenticate").size(), 1u);
  clock_offset_->store(61 * 1000);
  ASSERT_EQ(client->Get("/fhir/Patient", forged)->status, 401);
  std::vector<store::AuditEvent> events = AuditEvents("authenticate");
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].query, "refused credentials: 1");
  EXPECT_EQ(events[1].query, "refused credentials: 199");
  EXPECT_EQ(events[2].query, "refused credentials: 1");
  for (int i = 0; i < 7; ++i) ASSERT_EQ(client->Get("/fhir/Patient", forged)->status, 401);
  server.Stop();
  events = AuditEvents("authenticate");
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[3].query, "refused credentials: 7");
  auto store = OpenDb();
  auto verified = security::VerifyAuditChain(*store);
  ASSERT_TRUE(verified.ok());
  EXPECT_TRUE(verified->intact());
}

TEST_F(ServerTest, NoCredentialsIsAnonymousNotRefusedHere) {
  server::Server& server = StartServer();
  auto client = ClientOf(server);
  auto result = client->Get("/fhir/Patient");
  ASSERT_TRUE(result);
  // The FHIR API answers anonymous requests (401 for all but /metadata); the server added no
  // audit event of its own and did not call it an invalid token.
  EXPECT_EQ(result->get_header_value("WWW-Authenticate").find("invalid_token"), std::string::npos);
  EXPECT_TRUE(AuditEvents("authenticate").empty());
}

// ---- Throttling --------------------------------------------------------------------------------

TEST_F(ServerTest, SixthAttemptAfterFiveFailuresIs429AcrossTwoServersOnOneDatabase) {
  server::Server& first = StartServer();
  server::Server& second = StartServer();
  auto a = ClientOf(first), b = ClientOf(second);
  const std::string wrong = "grant_type=password&username=grace&password=not-the-password";
  for (int i = 0; i < 3; ++i) EXPECT_EQ(PostForm(*a, "/auth/token", wrong)->status, 400);
  for (int i = 0; i < 2; ++i) EXPECT_EQ(PostForm(*b, "/auth/token", wrong)->status, 400);
  // Five failures for grace, counted from the shared audit trail: both servers refuse now, even
  // the right password.
  const std::string right = "grant_type=password&username=grace&password=" +
                            httplib::detail::encode_query_param(kPassword);
  for (auto* client : {a.get(), b.get()}) {
    auto refused = PostForm(*client, "/auth/token", right);
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->status, 429) << refused->body;
    // Until the oldest of the five leaves the 15-minute window (a busy machine may have taken a
    // few seconds over them).
    const int retry = std::stoi(refused->get_header_value("Retry-After"));
    EXPECT_LE(retry, 900);
    EXPECT_GE(retry, 880);
    EXPECT_EQ(BodyJson(refused)["error"], "slow_down");
  }
  // Another user is not affected, and the window passes.
  EXPECT_EQ(PostForm(*a, "/auth/token",
                     "grant_type=client_credentials&client_id=integration&client_secret=" +
                         httplib::detail::encode_query_param(kPassword))
                ->status,
            200);
  clock_offset_->store(16 * 60 * 1000);
  EXPECT_EQ(PostForm(*b, "/auth/token", right)->status, 200);
}

// Behind a trusted proxy the per-address limit and the audit trail use the client's address
// (X-Forwarded-For from the proxy); without --trusted-proxy the header is nobody's word.
TEST_F(ServerTest, TheClientsAddressComesFromATrustedProxyOnly) {
  server::Server& proxied = StartServer([](server::ServerOptions& options) {
    options.trusted_proxies = {"127.0.0.1/32"};
    options.service.max_failures_per_address = 2;
  });
  auto client = ClientOf(proxied);
  auto from = [&](const std::string& address, const std::string& user) {
    return client->Post("/auth/token", {{"X-Forwarded-For", address}},
                        "grant_type=password&username=" + user + "&password=x",
                        "application/x-www-form-urlencoded");
  };
  EXPECT_EQ(from("198.51.100.1", "u1")->status, 400);
  EXPECT_EQ(from("198.51.100.1", "u2")->status, 400);
  EXPECT_EQ(from("198.51.100.1", "u3")->status, 429);  // that client's limit
  EXPECT_EQ(from("198.51.100.2", "u4")->status, 400);  // another client behind the same proxy
  std::set<std::string> addresses;
  for (const store::AuditEvent& e : AuditEvents("login")) addresses.insert(e.source_address);
  EXPECT_EQ(addresses, (std::set<std::string>{"198.51.100.1", "198.51.100.2"}));

  // Not trusted: the header changes nothing, the peer's address is what counts.
  server::Server& direct = StartServer(
      [](server::ServerOptions& options) { options.service.max_failures_per_address = 2; });
  auto plain = ClientOf(direct);
  for (const char* claimed : {"192.0.2.1", "192.0.2.2"})
    EXPECT_EQ(plain
                  ->Post("/auth/token", {{"X-Forwarded-For", claimed}},
                         "grant_type=password&username=v&password=x",
                         "application/x-www-form-urlencoded")
                  ->status,
              400);
  EXPECT_EQ(plain
                ->Post("/auth/token", {{"X-Forwarded-For", "192.0.2.3"}},
                       "grant_type=password&username=w&password=x",
                       "application/x-www-form-urlencoded")
                ->status,
            429);
}

TEST_F(ServerTest, PerAddressLimitStopsSprayingAcrossUsernames) {
  server::Server& server = StartServer(
      [](server::ServerOptions& options) { options.service.max_failures_per_address = 3; });
  auto client = ClientOf(server);
  for (std::string user : {"u1", "u2", "u3"})
    EXPECT_EQ(
        PostForm(*client, "/auth/token", "grant_type=password&username=" + user + "&password=x")
            ->status,
        400);
  auto refused = PostForm(*client, "/auth/token", "grant_type=password&username=u4&password=x");
  EXPECT_EQ(refused->status, 429);
  const int retry = std::stoi(refused->get_header_value("Retry-After"));
  EXPECT_GT(retry, 800);
  EXPECT_LE(retry, 900);
}

// ---- Sessions and CSRF -------------------------------------------------------------------------

TEST_F(ServerTest, SessionCookieAndCsrf) {
  server::Server& server = StartServer();
  auto client = ClientOf(server);
  auto bad = PostForm(*client, "/auth/session", "username=grace&password=wrong");
  EXPECT_EQ(bad->status, 401);
  EXPECT_FALSE(bad->has_header("Set-Cookie"));

  auto signed_in =
      PostForm(*client, "/auth/session",
               "username=grace&password=" + httplib::detail::encode_query_param(kPassword));
  ASSERT_EQ(signed_in->status, 200) << signed_in->body;
  const std::string set_cookie = signed_in->get_header_value("Set-Cookie");
  EXPECT_EQ(set_cookie.rfind("joinedup_session=", 0), 0u);
  EXPECT_NE(set_cookie.find("; HttpOnly"), std::string::npos);
  EXPECT_NE(set_cookie.find("; SameSite=Strict"), std::string::npos);
  EXPECT_NE(set_cookie.find("; Path=/"), std::string::npos);
  EXPECT_EQ(set_cookie.find("Secure"), std::string::npos);  // http base URL
  const std::string token = set_cookie.substr(17, set_cookie.find(';') - 17);
  json body = BodyJson(signed_in);
  const std::string csrf = body["csrf_token"];
  EXPECT_EQ(csrf.size(), 64u);
  EXPECT_EQ(body["expires_in"], 8 * 3600);
  EXPECT_EQ(body["user"]["username"], "grace");
  EXPECT_EQ(body["user"]["display_name"], "Dr grace");
  EXPECT_EQ(body["user"]["role"], "gp");
  EXPECT_EQ(body["user"]["organisation"], "A81001");
  EXPECT_EQ(body.dump().find(token), std::string::npos);  // the token is in the cookie only

  const httplib::Headers cookie = {{"Cookie", "joinedup_session=" + token}};
  auto with = [&](httplib::Headers headers, const std::string& name, const std::string& value) {
    headers.emplace(name, value);
    return headers;
  };
  const std::string patient = R"({"resourceType":"Patient","id":"p-csrf"})";
  // Safe methods need no CSRF token.
  auto read = client->Get("/fhir/Patient", cookie);
  EXPECT_NE(read->status, 401);
  EXPECT_NE(read->status, 403);
  // Unsafe ones do: missing, wrong, then right.
  auto missing = client->Post("/fhir/Patient", cookie, patient, "application/fhir+json");
  EXPECT_EQ(missing->status, 403);
  EXPECT_EQ(BodyJson(missing)["issue"][0]["code"], "forbidden");
  auto wrong =
      client->Put("/fhir/Patient/p-csrf", with(cookie, "X-CSRF-Token", std::string(64, '0')),
                  patient, "application/fhir+json");
  EXPECT_EQ(wrong->status, 403);
  auto short_token = client->Delete("/fhir/Patient/p-csrf", with(cookie, "X-CSRF-Token", "ab"));
  EXPECT_EQ(short_token->status, 403);
  auto right = client->Post("/fhir/Patient", with(cookie, "X-CSRF-Token", csrf), patient,
                            "application/fhir+json");
  EXPECT_NE(right->status, 403);
  EXPECT_NE(right->status, 401);
  // A bearer token needs no CSRF token (a cross-site page cannot send the header).
  const std::string bearer = PasswordToken(*client, "grace");
  auto by_bearer = client->Post("/fhir/Patient", {{"Authorization", "Bearer " + bearer}}, patient,
                                "application/fhir+json");
  EXPECT_NE(by_bearer->status, 403);
  EXPECT_NE(by_bearer->status, 401);

  // GET /auth/session gives the CSRF token again; DELETE needs it, then signs out.
  auto who = client->Get("/auth/session", cookie);
  ASSERT_EQ(who->status, 200);
  EXPECT_EQ(BodyJson(who)["csrf_token"], csrf);
  EXPECT_EQ(client->Delete("/auth/session", cookie)->status, 403);
  auto signed_out = client->Delete("/auth/session", with(cookie, "X-CSRF-Token", csrf));
  EXPECT_EQ(signed_out->status, 204);
  EXPECT_NE(signed_out->get_header_value("Set-Cookie").find("Max-Age=0"), std::string::npos);
  EXPECT_EQ(client->Get("/auth/session", cookie)->status, 401);
  EXPECT_EQ(client->Get("/fhir/Patient", cookie)->status, 401);
  EXPECT_EQ(AuditEvents("logout").size(), 1u);
}

// ---- Audit and the access log ------------------------------------------------------------------

TEST_F(ServerTest, EverySignInIsAuditedWithWhoWhereAndTheRequestId) {
  server::Server& server = StartServer();
  auto client = ClientOf(server);
  auto ok = PostForm(*client, "/auth/token",
                     "grant_type=password&username=grace&password=" +
                         httplib::detail::encode_query_param(kPassword),
                     {{"X-Request-Id", "signin-ok"}});
  ASSERT_EQ(ok->status, 200);
  auto unknown = PostForm(*client, "/auth/token",
                          "grant_type=password&username=nobody%0A%FF&password=whatever",
                          {{"X-Request-Id", "signin-unknown"}});
  ASSERT_EQ(unknown->status, 400);
  auto wrong = PostForm(*client, "/auth/session", "username=grace&password=wrong",
                        {{"X-Request-Id", "signin-wrong"}});
  ASSERT_EQ(wrong->status, 401);

  std::vector<store::AuditEvent> events = AuditEvents("login");
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].action, 'E');
  EXPECT_EQ(events[0].outcome, store::AuditOutcome::kSuccess);
  EXPECT_EQ(events[0].user_id, grace_id_);
  EXPECT_EQ(events[0].username, "grace");
  EXPECT_EQ(events[0].role, "gp");
  EXPECT_EQ(events[0].organisation_id, "A81001");
  EXPECT_EQ(events[0].source_address, "127.0.0.1");
  EXPECT_EQ(events[0].client_request_id, "signin-ok");
  EXPECT_EQ(events[0].request_id.size(), 32u);
  EXPECT_EQ(events[1].outcome, store::AuditOutcome::kMinorFailure);
  EXPECT_FALSE(events[1].user_id.has_value());
  EXPECT_EQ(events[1].username, "nobody??");  // hostile bytes recorded recognisably
  EXPECT_EQ(events[1].client_request_id, "signin-unknown");
  EXPECT_EQ(events[1].request_id.size(), 32u);
  EXPECT_EQ(events[2].outcome, store::AuditOutcome::kMinorFailure);
  EXPECT_EQ(events[2].user_id, grace_id_);
  EXPECT_EQ(events[2].client_request_id, "signin-wrong");
  EXPECT_EQ(events[2].request_id.size(), 32u);
  // The chain is intact after all of it.
  auto store = OpenDb();
  auto verified = security::VerifyAuditChain(*store);
  ASSERT_TRUE(verified.ok());
  EXPECT_TRUE(verified->intact());
}

TEST_F(ServerTest, AccessLogNamesRoutesNeverIdentifiers) {
  server::Server& server = StartServer();
  auto client = ClientOf(server);
  const std::string token = PasswordToken(*client, "grace");
  const httplib::Headers bearer = {{"Authorization", "Bearer " + token}};
  auto found = client->Get(
      "/fhir/Patient?identifier=https%3A%2F%2Ffhir.nhs.uk%2FId%2Fnhs-number%7C9434765919", bearer);
  ASSERT_EQ(found->status, 200);  // the person is there, and found
  ASSERT_NE(found->body.find("9434765919"), std::string::npos);
  client->Get("/fhir/Patient/p-1", bearer);
  client->Get("/fhir/Patient/9434765919", bearer);
  client->Get("/fhir/Patient/9434765919/_history/2", bearer);
  client->Get("/fhir/Condition?subject=Patient/9434765919&code=http://snomed.info/sct|44054006",
              bearer);
  client->Get("/nowhere/9434765919");

  std::vector<std::string> lines = log_->Lines();
  ASSERT_GE(lines.size(), 7u);
  std::string all;
  for (const std::string& line : lines) {
    all += line + "\n";
    json entry = json::parse(line, nullptr, false);
    ASSERT_FALSE(entry.is_discarded()) << line;
    for (const char* field :
         {"time", "request_id", "method", "route", "status", "bytes", "duration_ms", "user_id"})
      EXPECT_TRUE(entry.contains(field)) << field << " in " << line;
  }
  EXPECT_EQ(all.find("9434765919"), std::string::npos) << all;
  EXPECT_EQ(all.find("44054006"), std::string::npos);
  EXPECT_EQ(all.find("p-1"), std::string::npos);
  EXPECT_EQ(all.find(token), std::string::npos);
  EXPECT_EQ(all.find("identifier"), std::string::npos);
  EXPECT_NE(all.find("\"route\":\"/fhir/Patient\""), std::string::npos);
  EXPECT_NE(all.find("\"route\":\"/fhir/Patient/{id}\""), std::string::npos);
  EXPECT_NE(all.find("\"route\":\"/fhir/Patient/{id}/_history/{vid}\""), std::string::npos);
  EXPECT_NE(all.find("\"route\":\"/fhir/Condition\""), std::string::npos);
  EXPECT_NE(all.find("\"user_id\":" + std::to_string(grace_id_)), std::string::npos);
  EXPECT_NE(all.find("\"route\":\"{unmatched}\""), std::string::npos);
}

// /fhir reaches api::FhirApi with the caller the server authenticated.
TEST_F(ServerTest, FhirApiIsServedUnderFhirWithTheAuthenticatedCaller) {
  server::Server& server = StartServer();
  auto client = ClientOf(server);
  auto metadata = client->Get("/fhir/metadata");
  ASSERT_EQ(metadata->status, 200) << metadata->body;
  EXPECT_EQ(BodyJson(metadata)["resourceType"], "CapabilityStatement");
  ExpectSecurityHeaders(*metadata, "metadata");
  EXPECT_EQ(client->Get("/fhir/Patient/p-1")->status, 401);  // anonymous: the API refuses

  const httplib::Headers gp = {{"Authorization", "Bearer " + PasswordToken(*client, "grace")}};
  auto found = client->Get(
      "/fhir/Patient?identifier=https%3A%2F%2Ffhir.nhs.uk%2FId%2Fnhs-number%7C9434765919", gp);
  ASSERT_EQ(found->status, 200) << found->body;
  json bundle = BodyJson(found);
  EXPECT_EQ(bundle["total"], 1);
  EXPECT_EQ(bundle["entry"][0]["resource"]["id"], "p-1");
  auto read = client->Get("/fhir/Patient/p-1", gp);
  ASSERT_EQ(read->status, 200) << read->body;
  EXPECT_EQ(BodyJson(read)["name"][0]["family"], "Smith");
  ExpectSecurityHeaders(*read, "read");
  // A commissioner's system token sees no person.
  auto system = PostForm(*client, "/auth/token",
                         "grant_type=client_credentials&client_id=integration&client_secret=" +
                             httplib::detail::encode_query_param(kPassword));
  const httplib::Headers integration = {
      {"Authorization", "Bearer " + BodyJson(system)["access_token"].get<std::string>()}};
  auto hidden = client->Get("/fhir/Patient/p-1", integration);
  EXPECT_TRUE(hidden->status == 403 || hidden->status == 404) << hidden->status;
}

TEST_F(ServerTest, SmartConfigurationAtBothAddresses) {
  server::Server& server = StartServer();
  auto client = ClientOf(server);
  for (const char* path :
       {"/.well-known/smart-configuration", "/fhir/.well-known/smart-configuration"}) {
    auto result = client->Get(path);
    ASSERT_EQ(result->status, 200) << path;
    EXPECT_EQ(result->get_header_value("Content-Type"), "application/json");
    json config = BodyJson(result);
    EXPECT_EQ(config["token_endpoint"], server.base_url() + "/auth/token");
    EXPECT_EQ(config["revocation_endpoint"], server.base_url() + "/auth/revoke");
    EXPECT_EQ(config["grant_types_supported"], json({"password", "client_credentials"}));
    EXPECT_TRUE(config["capabilities"].is_array());
    EXPECT_NE(config["scopes_supported"].dump().find("system/*.rs"), std::string::npos);
  }
  EXPECT_EQ(client->Post("/.well-known/smart-configuration", "", "text/plain")->status, 405);
}

}  // namespace
}  // namespace joinedup::server_test
