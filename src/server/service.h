// Everything the server answers, as a function from a request to a response — no sockets.
// server.cc adapts cpp-httplib to this; tests and fuzz/http_request_fuzz.cc call it directly.
//
//   /healthz /readyz /metrics                          operations
//   /.well-known/smart-configuration (and under /fhir)  SMART App Launch v2 discovery
//   /auth/token   RFC 6749 §4.3 password and §4.4 client-credentials grants
//   /auth/revoke  RFC 7009
//   /auth/session the web UI's session: a cookie and a CSRF token
//   /fhir/…       authenticated (bearer token or session cookie), then handed to the FHIR API
//
// Stateless: secrets come from the database (ResourceStore::ServerSecret), sessions are tokens
// in the tokens table, sign-in throttling counts the audit trail — so several processes can
// serve one PostgreSQL database. The per-address limit is in memory (per process) on purpose:
// it is a cheap first line, the per-username limit is the shared one.
//
// Thread safety: Handle may be called from many threads at once.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/result.h"
#include "http/message.h"
#include "security/audit.h"
#include "server/metrics.h"
#include "store/security_store.h"

namespace joinedup::store {
class Store;
}

namespace joinedup::server {

// One Store per worker at a time (a Store is single-threaded), opened on first need and kept.
class StorePool {
 public:
  explicit StorePool(std::string url);
  ~StorePool();

  class Lease {
   public:
    Lease(StorePool* pool, std::unique_ptr<store::Store> store);
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    store::Store& operator*() const { return *store_; }
    store::Store* operator->() const { return store_.get(); }
    // The connection failed: close it instead of giving it back.
    void Discard();

   private:
    StorePool* pool_;
    std::unique_ptr<store::Store> store_;
  };

  // kUnavailable if the database cannot be opened.
  Result<Lease> Acquire();
  const std::string& url() const { return url_; }

 private:
  std::string url_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<store::Store>> idle_;
};

// The FHIR API as the server calls it (api::FhirApi::Handle, bound).
using FhirHandler = std::function<http::HttpResponse(
    const http::HttpRequest&, const std::optional<http::Principal>&, store::Store&)>;
// The web application's API (webapp::AppApi::Handle, bound): always someone signed in.
using AppHandler = std::function<http::HttpResponse(const http::HttpRequest&,
                                                    const http::Principal&, store::Store&)>;

struct ServiceOptions {
  std::string base_url;  // how clients reach this server, no trailing slash: "http://host:8080"
  std::string csrf_key;  // 32 bytes (ServerSecret "csrf")
  security::Clock clock;
  int64_t token_lifetime_ms = 60 * 60 * 1000;        // bearer tokens: 1 hour
  int64_t session_lifetime_ms = 8 * 60 * 60 * 1000;  // a working day
  // A web session (the cookie) also ends when unused this long; every request with it is use.
  int64_t session_idle_ms = 30 * 60 * 1000;
  // Sign-in throttling: at most this many failures per username (every process, counted in
  // the audit trail) or per source address (this process) within the window; then 429.
  int max_failures_per_user = 5;
  int max_failures_per_address = 20;
  int64_t throttle_window_ms = 15 * 60 * 1000;
  // Where a user "usually" signs in: an address of a successful sign-in within this time.
  // Attempts from there are not locked by failures from elsewhere (docs/security.md).
  int64_t usual_address_window_ms = 30LL * 24 * 60 * 60 * 1000;
  // Refused bearer tokens and session cookies: the first from an address is audited at once,
  // the rest from it within this interval as one event with their count.
  int64_t refusal_audit_interval_ms = 60 * 1000;
};

// What the access log needs to know about a request beyond the response.
struct RequestInfo {
  std::optional<int64_t> user_id;
};

inline constexpr std::string_view kSessionCookie = "joinedup_session";

class Service {
 public:
  // Builds the dummy password hash that sign-ins for unknown usernames verify against.
  static Result<std::unique_ptr<Service>> Create(ServiceOptions options, StorePool& stores,
                                                 Metrics& metrics, FhirHandler fhir,
                                                 AppHandler app = nullptr);
  ~Service();

  // `request.path` is the whole path ("/fhir/Patient/1"), percent-decoded.
  http::HttpResponse Handle(const http::HttpRequest& request, RequestInfo* info) const;

  // Writes what is counted and not yet audited (refused credentials); the server calls it when
  // it stops.
  void Flush() const;

  // The CSRF token for a session token: hex HMAC-SHA256(csrf key, SHA-256 of the token).
  std::string CsrfToken(std::string_view token_hash_hex) const;

 private:
  Service(ServiceOptions options, StorePool& stores, Metrics& metrics, FhirHandler fhir,
          AppHandler app, std::string dummy_hash);

  class AddressThrottle;
  class RefusalTally;
  enum class Grant { kPassword, kClientCredentials, kSession };
  struct SignInAttempt;

  // Checks the throttles, then the credentials; every failure is audited (subtype "login")
  // and answered here (RFC 6749 §5.2 JSON).
  SignInAttempt SignIn(const http::HttpRequest& request, store::Store& store,
                       std::string_view username, std::string_view password, Grant grant) const;
  // Audits refused credentials, one event per address with its count (subtype
  // "authenticate", query "refused credentials: N"); false if the audit trail refused one.
  struct RefusalCount {
    std::string address;
    int64_t count = 0;
  };
  bool AuditRefusals(store::Store& store, const std::vector<RefusalCount>& due,
                     const http::HttpRequest* request) const;
  // Audits a sign-in (action E, subtype "login"); false if the audit trail refused it.
  bool AuditSignIn(const http::HttpRequest& request, store::Store& store, std::string_view username,
                   const store::User* user, bool ok) const;

  // Who is asking: a bearer token or the session cookie (with its CSRF token on unsafe
  // methods, and not idle too long). Empty principal: anonymous; a response: refused (and
  // audited) or the store is unavailable.
  struct Authenticated {
    std::optional<http::Principal> principal;
    std::optional<http::HttpResponse> refusal;
  };
  Authenticated Authenticate(const http::HttpRequest& request, store::Store& store,
                             RequestInfo* info) const;
  // A session cookie's token as found: ended by inactivity? Otherwise its use is recorded.
  Result<bool> SessionIdle(store::Store& store, const store::TokenRecord& token) const;
  http::HttpResponse Fhir(const http::HttpRequest& request, RequestInfo* info) const;
  http::HttpResponse App(const http::HttpRequest& request, RequestInfo* info) const;
  http::HttpResponse Token(const http::HttpRequest& request, RequestInfo* info) const;
  http::HttpResponse Revoke(const http::HttpRequest& request) const;
  http::HttpResponse Session(const http::HttpRequest& request, RequestInfo* info) const;
  http::HttpResponse Ready() const;
  http::HttpResponse WebAsset(std::string_view path) const;
  std::string SmartConfiguration() const;

  ServiceOptions options_;
  StorePool& stores_;
  Metrics& metrics_;
  FhirHandler fhir_;
  AppHandler app_;
  std::string dummy_hash_;
  std::unique_ptr<AddressThrottle> address_throttle_;
  std::unique_ptr<RefusalTally> refusals_;
};

}  // namespace joinedup::server
