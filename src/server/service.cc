#include "server/service.h"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <set>

#include "fhir/search/response.h"
#include "security/crypto.h"
#include "security/policy.h"
#include "security/scopes.h"
#include "security/tokens.h"
#include "server/http_text.h"
#include "store/store.h"
#include "webapp/assets.h"

namespace joinedup::server {

namespace search = fhir::search;
using http::HttpRequest;
using http::HttpResponse;

// ---- StorePool ---------------------------------------------------------------------------------

StorePool::StorePool(std::string url) : url_(std::move(url)) {}
StorePool::~StorePool() = default;

StorePool::Lease::Lease(StorePool* pool, std::unique_ptr<store::Store> store)
    : pool_(pool), store_(std::move(store)) {}
StorePool::Lease::Lease(Lease&& other) noexcept = default;
void StorePool::Lease::Discard() { store_.reset(); }

StorePool::Lease::~Lease() {
  if (store_ == nullptr || pool_ == nullptr) return;
  std::lock_guard lock(pool_->mutex_);
  pool_->idle_.push_back(std::move(store_));
}

Result<StorePool::Lease> StorePool::Acquire() {
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      std::unique_ptr<store::Store> store = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(store));
    }
  }
  auto opened = store::OpenStore(url_);
  if (!opened.ok()) return opened.take_error();
  return Lease(this, std::move(opened).value());
}

// ---- Responses ---------------------------------------------------------------------------------

namespace {

// A browser's navigation asks for HTML by name (Accept: text/html,…); API clients do not.
bool AcceptsHtml(std::optional<std::string_view> accept) {
  return accept && accept->find("text/html") != std::string_view::npos;
}

// How often a session's use is written down (SecurityStore::TouchToken).
constexpr int64_t kSessionTouchEveryMs = 15 * 1000;

HttpResponse Outcome(int status, search::IssueType type, std::string diagnostics) {
  search::OutcomeIssue issue;
  issue.severity = search::IssueSeverity::kError;
  issue.type = type;
  issue.diagnostics = std::move(diagnostics);
  HttpResponse response;
  response.status = status;
  response.content_type = "application/fhir+json";
  response.body = search::OperationOutcomeJson({&issue, 1});
  return response;
}

HttpResponse Json(int status, std::string body) {
  HttpResponse response;
  response.status = status;
  response.content_type = "application/json";
  response.body = std::move(body);
  return response;
}

// RFC 6749 §5.2. Token responses are never cached (§5.1).
HttpResponse OAuthError(int status, std::string_view error, std::string_view description) {
  HttpResponse response = Json(
      status, "{\"error\":" + JsonString(error) +
                  ",\"error_description\":" + JsonString(AuditSafeText(description, 512)) + "}");
  response.headers.emplace_back("Cache-Control", "no-store");
  response.headers.emplace_back("Pragma", "no-cache");
  return response;
}

HttpResponse MethodNotAllowed(std::string_view allow) {
  HttpResponse response = Outcome(405, search::IssueType::kNotSupported,
                                  "method not allowed here; use " + std::string(allow));
  response.headers.emplace_back("Allow", std::string(allow));
  return response;
}

HttpResponse Unavailable() {
  HttpResponse response =
      Outcome(503, search::IssueType::kTransient, "the database is not available; try again");
  response.headers.emplace_back("Retry-After", "5");
  return response;
}

// RFC 6750 §3: a refused bearer token.
HttpResponse InvalidToken(std::string_view error, std::string_view description) {
  HttpResponse response = Outcome(401, search::IssueType::kLogin, std::string(description));
  response.headers.emplace_back("WWW-Authenticate",
                                "Bearer realm=\"joinedup\", error=\"" + std::string(error) + "\"");
  return response;
}

HttpResponse TooManyRequests(int64_t retry_after_s) {
  HttpResponse response = OAuthError(429, "slow_down", "too many failed sign-ins; try later");
  response.headers.emplace_back("Retry-After", std::to_string(std::max<int64_t>(retry_after_s, 1)));
  return response;
}

bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// The media type without parameters, lower-case.
std::string MediaType(std::optional<std::string_view> content_type) {
  if (!content_type) return "";
  std::string_view type = content_type->substr(0, content_type->find(';'));
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  std::string out(type);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// "scheme://host[:port]" of a base URL: what a browser sends as Origin from its pages.
std::string_view OriginOf(std::string_view base_url) {
  const size_t scheme = base_url.find("://");
  if (scheme == std::string_view::npos) return base_url;
  return base_url.substr(0, base_url.find('/', scheme + 3));
}

bool IsLoopback(std::string_view address) {
  return address.starts_with("127.") || address == "::1" || address.starts_with("::ffff:127.");
}

bool IsUnsafeMethod(std::string_view method) {
  return method != "GET" && method != "HEAD" && method != "OPTIONS";
}

// The scope context an account signs in with, and what it gets when it asks for nothing.
security::ScopeContext ContextFor(const store::User& user, bool client_credentials) {
  if (client_credentials) return security::ScopeContext::kSystem;
  return user.role == store::Role::kPatient ? security::ScopeContext::kPatient
                                            : security::ScopeContext::kUser;
}

std::string_view DefaultScopes(security::ScopeContext context) {
  switch (context) {
    case security::ScopeContext::kPatient:
      return "patient/*.cruds";
    case security::ScopeContext::kUser:
      return "user/*.cruds";
    case security::ScopeContext::kSystem:
      return "system/*.rs";
  }
  return "";
}

std::string_view ContextName(security::ScopeContext context) {
  switch (context) {
    case security::ScopeContext::kPatient:
      return "patient";
    case security::ScopeContext::kUser:
      return "user";
    case security::ScopeContext::kSystem:
      return "system";
  }
  return "";
}

// The scopes granted: the request's (or the default), resource scopes of the account's own
// context only. Non-resource scopes (openid, offline_access, …) are dropped: this server issues
// neither id tokens nor refresh tokens, and RFC 6749 §3.3 lets it grant less than asked (the
// response's `scope` says what was granted).
Result<std::string> GrantScopes(std::string_view requested, security::ScopeContext context) {
  const bool asked = requested.find_first_not_of(' ') != std::string_view::npos;
  JU_ASSIGN_OR_RETURN(security::ScopeSet parsed,
                      security::ParseScopes(asked ? requested : DefaultScopes(context)));
  security::ScopeSet granted;
  for (const security::ResourceScope& scope : parsed.resources) {
    if (scope.context != context)
      return Error::Invalid("this account may only be granted " +
                            std::string(ContextName(context)) + "/ scopes");
    granted.resources.push_back(scope);
  }
  if (granted.resources.empty()) return Error::Invalid("no resource scope requested");
  return granted.ToString();
}

// A token issued by the client-credentials grant carries system/ scopes and nothing else; no
// other grant issues those (GrantScopes), so the token record itself tells.
// The audit trail's actor for a request to the server by `user` (null: not a known user).
security::AuditActor RequestActor(const HttpRequest& request, const store::User* user) {
  security::AuditActor actor;
  if (user != nullptr) {
    actor.user_id = user->id;
    actor.username = AuditSafeText(user->username);
    actor.role = std::string(security::RoleName(user->role));
    actor.organisation_id = user->organisation_id;
  }
  actor.request_id = request.request_id;
  actor.client_request_id = request.client_request_id;
  actor.source_address = AuditSafeText(request.remote_address);
  return actor;
}

bool IsSystemToken(const security::ScopeSet& scopes) {
  if (scopes.resources.empty()) return false;
  return std::all_of(scopes.resources.begin(), scopes.resources.end(), [](const auto& scope) {
    return scope.context == security::ScopeContext::kSystem;
  });
}

std::string Hex(const unsigned char* bytes, size_t size) {
  std::string hex(size * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), bytes, size);
  hex.pop_back();
  return hex;
}

}  // namespace

// Sign-ins read per attempt for throttling: a month of an integration's hourly tokens fits.
constexpr int kSignInHistoryLimit = 5000;

// ---- Per-address throttle (this process) -------------------------------------------------------

class Service::AddressThrottle {
 public:
  AddressThrottle(int limit, int64_t window_ms) : limit_(limit), window_ms_(window_ms) {}

  // Seconds until the address may try again, or 0.
  int64_t RetryAfter(const std::string& address, int64_t now_ms) {
    std::lock_guard lock(mutex_);
    auto found = failures_.find(address);
    if (found == failures_.end()) return 0;
    Expire(found->second, now_ms);
    if (static_cast<int>(found->second.size()) < limit_) return 0;
    return (found->second.front() + window_ms_ - now_ms + 999) / 1000;
  }

  void Failed(const std::string& address, int64_t now_ms) {
    std::lock_guard lock(mutex_);
    // Bounded memory under a spray of addresses: drop idle entries when the map grows.
    if (failures_.size() > kMaxAddresses) {
      for (auto it = failures_.begin(); it != failures_.end();) {
        Expire(it->second, now_ms);
        it = it->second.empty() ? failures_.erase(it) : std::next(it);
      }
      if (failures_.size() > kMaxAddresses) failures_.clear();
    }
    std::deque<int64_t>& times = failures_[address];
    Expire(times, now_ms);
    times.push_back(now_ms);
    while (static_cast<int>(times.size()) > limit_) times.pop_front();
  }

 private:
  static constexpr size_t kMaxAddresses = 100000;
  void Expire(std::deque<int64_t>& times, int64_t now_ms) const {
    while (!times.empty() && times.front() + window_ms_ <= now_ms) times.pop_front();
  }
  const int limit_;
  const int64_t window_ms_;
  std::mutex mutex_;
  std::unordered_map<std::string, std::deque<int64_t>> failures_;
};

// ---- Refused credentials, audited in aggregate (this process) ----------------------------------

// A flood of bad bearer tokens must not become a flood of hash-chained audit rows: the first
// refusal from an address is audited at once; the rest from it within the interval are counted
// and audited as one event with the count once the interval is over (noticed at the next
// refusal from anywhere, or when the service stops).
class Service::RefusalTally {
 public:
  using Due = RefusalCount;
  explicit RefusalTally(int64_t interval_ms) : interval_ms_(interval_ms) {}

  // True if this refusal is audited by itself now; `due` gets the counts of intervals over.
  bool Refused(const std::string& address, int64_t now_ms, std::vector<Due>& due) {
    std::lock_guard lock(mutex_);
    for (auto it = open_.begin(); it != open_.end();) {
      if (now_ms - it->second.start_ms < interval_ms_) {
        ++it;
        continue;
      }
      if (it->second.count > 0) due.push_back({it->first, it->second.count});
      it = open_.erase(it);
    }
    auto [it, added] = open_.try_emplace(address, Interval{now_ms, 0});
    if (added) {
      if (open_.size() > kMaxAddresses) {  // a spray of addresses: audit each at once
        open_.erase(it);
      }
      return true;
    }
    ++it->second.count;
    return false;
  }

  std::vector<Due> Drain() {
    std::lock_guard lock(mutex_);
    std::vector<Due> due;
    for (const auto& [address, interval] : open_)
      if (interval.count > 0) due.push_back({address, interval.count});
    open_.clear();
    return due;
  }

 private:
  static constexpr size_t kMaxAddresses = 100000;
  struct Interval {
    int64_t start_ms;
    int64_t count;  // refusals since the one audited at start_ms
  };
  const int64_t interval_ms_;
  std::mutex mutex_;
  std::unordered_map<std::string, Interval> open_;
};

// ---- Service -----------------------------------------------------------------------------------

struct Service::SignInAttempt {
  std::optional<store::User> user;  // signed in
  HttpResponse refusal;             // otherwise
};

Service::Service(ServiceOptions options, StorePool& stores, Metrics& metrics, FhirHandler fhir,
                 AppHandler app, std::string dummy_hash)
    : options_(std::move(options)),
      stores_(stores),
      metrics_(metrics),
      fhir_(std::move(fhir)),
      app_(std::move(app)),
      dummy_hash_(std::move(dummy_hash)),
      address_throttle_(std::make_unique<AddressThrottle>(options_.max_failures_per_address,
                                                          options_.throttle_window_ms)),
      refusals_(std::make_unique<RefusalTally>(options_.refusal_audit_interval_ms)) {}

Service::~Service() { Flush(); }

void Service::Flush() const {
  std::vector<RefusalCount> due = refusals_->Drain();
  if (due.empty()) return;
  auto lease = stores_.Acquire();
  if (lease.ok() && AuditRefusals(**lease, due, nullptr)) return;
  std::fprintf(stderr, "joinedup: could not audit %zu addresses' refused credentials at stop\n",
               due.size());
}

bool Service::AuditRefusals(store::Store& store, const std::vector<RefusalCount>& due,
                            const HttpRequest* request) const {
  for (const RefusalCount& d : due) {
    security::AuditActor actor;
    if (request != nullptr) actor = RequestActor(*request, nullptr);
    actor.source_address = AuditSafeText(d.address);
    security::AuditEntry entry;
    entry.action = 'E';
    entry.subtype = "authenticate";
    entry.outcome = store::AuditOutcome::kMinorFailure;
    entry.query = "refused credentials: " + std::to_string(d.count);
    if (!security::AuditTrail(store, options_.clock).Record(actor, std::move(entry)).ok())
      return false;
  }
  return true;
}

Result<std::unique_ptr<Service>> Service::Create(ServiceOptions options, StorePool& stores,
                                                 Metrics& metrics, FhirHandler fhir,
                                                 AppHandler app) {
  if (options.csrf_key.size() != crypto_auth_hmacsha256_KEYBYTES)
    return Error::Invalid("the CSRF key must be 32 bytes");
  if (!options.clock) options.clock = security::SystemClockMs;
  // A random password nobody knows: an unknown username costs one Argon2id verification like a
  // known one, so response time does not tell which usernames exist.
  JU_ASSIGN_OR_RETURN(std::string dummy_hash, security::HashPassword(security::NewBearerToken()));
  return std::unique_ptr<Service>(
      new Service(std::move(options), stores, metrics, std::move(fhir), std::move(app),
                  std::move(dummy_hash)));
}

std::string Service::CsrfToken(std::string_view token_hash_hex) const {
  std::array<unsigned char, crypto_auth_hmacsha256_BYTES> mac{};
  crypto_auth_hmacsha256(mac.data(), reinterpret_cast<const unsigned char*>(token_hash_hex.data()),
                         token_hash_hex.size(),
                         reinterpret_cast<const unsigned char*>(options_.csrf_key.data()));
  return Hex(mac.data(), mac.size());
}

HttpResponse Service::Handle(const HttpRequest& request, RequestInfo* info) const {
  const std::string& path = request.path;
  const std::string& method = request.method;
  const bool get = method == "GET" || method == "HEAD";
  auto only_get = [&](auto&& answer) -> HttpResponse {
    return get ? answer() : MethodNotAllowed("GET, HEAD");
  };
  if (path == "/fhir" || path.starts_with("/fhir/")) {
    if (path == "/fhir/.well-known/smart-configuration")
      return only_get([&] { return Json(200, SmartConfiguration()); });
    return Fhir(request, info);
  }
  if (path == "/app/api" || path.starts_with("/app/api/")) return App(request, info);
  if (path == "/healthz")
    return only_get([] {
      HttpResponse response;
      response.content_type = "text/plain; charset=utf-8";
      response.body = "ok\n";
      return response;
    });
  if (path == "/readyz") return only_get([&] { return Ready(); });
  if (path == "/metrics") {
    // Not public: the figures say how busy the service is and how sign-ins fare. Answered only
    // to a scraper on this machine talking directly (no proxy's forwarding headers); to anyone
    // else the endpoint does not exist.
    if (!IsLoopback(request.remote_address) || request.Header("x-forwarded-for") ||
        request.Header("forwarded"))
      return Outcome(404, search::IssueType::kNotFound, "no such endpoint");
    return only_get([&] {
      HttpResponse response;
      response.content_type = "text/plain; version=0.0.4; charset=utf-8";
      response.body = metrics_.Text(options_.clock());
      return response;
    });
  }
  if (path == "/.well-known/smart-configuration")
    return only_get([&] { return Json(200, SmartConfiguration()); });
  if (path.starts_with("/assets/") || webapp::IsAppRoute(path))
    return only_get([&] { return WebAsset(path); });
  if (path == "/auth/token")
    return method == "POST" ? Token(request, info) : MethodNotAllowed("POST");
  if (path == "/auth/revoke") return method == "POST" ? Revoke(request) : MethodNotAllowed("POST");
  if (path == "/auth/session") {
    if (method == "GET" || method == "HEAD" || method == "POST" || method == "DELETE")
      return Session(request, info);
    return MethodNotAllowed("GET, HEAD, POST, DELETE");
  }
  // A browser navigating to an address that is not one of ours: the UI's page, which says
  // "Page not found" in words, with the status a 404 must have. Other clients get JSON.
  if (get && webapp::AppPage() != nullptr && AcceptsHtml(request.Header("accept"))) {
    HttpResponse page = WebAsset("/");
    page.status = 404;
    return page;
  }
  return Outcome(404, search::IssueType::kNotFound, "no such endpoint");
}

// The web UI's files. Every screen is the one page (the UI routes in the browser); its
// policy lets it load only its own script and styles — nothing inline, nothing from elsewhere.
HttpResponse Service::WebAsset(std::string_view path) const {
  const webapp::Asset* asset =
      path.starts_with("/assets/") ? webapp::FindAsset(path) : webapp::AppPage();
  if (asset == nullptr)
    return Outcome(404, search::IssueType::kNotFound,
                   webapp::AppPage() ? "no such endpoint"
                                     : "the web UI is not built into this joinedup");
  HttpResponse response;
  response.content_type = std::string(asset->content_type);
  response.body = std::string(asset->body);
  if (asset == webapp::AppPage()) {
    response.headers.emplace_back(
        "Content-Security-Policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'");
  } else {
    // Built files are named by their content's hash: a new build is a new name.
    response.headers.emplace_back("Cache-Control", "public, max-age=31536000, immutable");
  }
  return response;
}

HttpResponse Service::Ready() const {
  auto lease = stores_.Acquire();
  if (!lease.ok()) return Unavailable();
  // A trivial indexed query: proves the connection answers, whatever the population's size.
  auto probe = (*lease)->FindOrganisation("-");
  if (!probe.ok()) {
    lease->Discard();
    return Unavailable();
  }
  HttpResponse response;
  response.content_type = "text/plain; charset=utf-8";
  response.body = "ready\n";
  return response;
}

std::string Service::SmartConfiguration() const {
  const std::string& base = options_.base_url;
  return "{\"issuer\":" + JsonString(base) +
         ",\"token_endpoint\":" + JsonString(base + "/auth/token") +
         ",\"revocation_endpoint\":" + JsonString(base + "/auth/revoke") +
         ",\"token_endpoint_auth_methods_supported\":[\"client_secret_basic\","
         "\"client_secret_post\"]"
         ",\"grant_types_supported\":[\"password\",\"client_credentials\"]"
         ",\"scopes_supported\":[\"patient/*.rs\",\"patient/*.cruds\",\"user/*.rs\","
         "\"user/*.cruds\",\"system/*.rs\",\"system/*.cruds\"]"
         ",\"response_types_supported\":[]"
         ",\"capabilities\":[\"client-confidential-symmetric\",\"permission-v2\"]}";
}

bool Service::AuditSignIn(const HttpRequest& request, store::Store& store,
                          std::string_view username, const store::User* user, bool ok) const {
  security::AuditActor actor = RequestActor(request, user);
  actor.username = AuditSafeText(username);
  security::AuditEntry entry;
  entry.action = 'E';
  entry.subtype = "login";
  entry.outcome = ok ? store::AuditOutcome::kSuccess : store::AuditOutcome::kMinorFailure;
  return security::AuditTrail(store, options_.clock).Record(actor, std::move(entry)).ok();
}

Service::SignInAttempt Service::SignIn(const HttpRequest& request, store::Store& store,
                                       std::string_view username, std::string_view password,
                                       Grant grant) const {
  const int64_t now = options_.clock();
  const bool client = grant == Grant::kClientCredentials;
  auto refuse = [&](const store::User* user, HttpResponse response) {
    metrics_.SignIn(false);
    address_throttle_->Failed(request.remote_address, now);
    if (!AuditSignIn(request, store, username, user, false))
      return SignInAttempt{{}, Unavailable()};
    return SignInAttempt{{}, std::move(response)};
  };
  auto bad_credentials = [&](const store::User* user) {
    if (client) {
      HttpResponse response = OAuthError(401, "invalid_client", "client authentication failed");
      response.headers.emplace_back("WWW-Authenticate", "Basic realm=\"joinedup\"");
      return refuse(user, std::move(response));
    }
    return refuse(user, OAuthError(grant == Grant::kSession ? 401 : 400, "invalid_grant",
                                   "the username or password is not right"));
  };

  // A refusal while throttled is audited as such (subtype "login-throttled") and counts as no
  // failure anywhere: hammering a locked account never extends its lock.
  auto throttled = [&](int64_t wait_s) {
    metrics_.SignIn(false);
    security::AuditActor actor = RequestActor(request, nullptr);
    actor.username = AuditSafeText(username);
    security::AuditEntry entry;
    entry.action = 'E';
    entry.subtype = "login-throttled";
    entry.outcome = store::AuditOutcome::kMinorFailure;
    if (!security::AuditTrail(store, options_.clock).Record(actor, std::move(entry)).ok())
      return SignInAttempt{{}, Unavailable()};
    return SignInAttempt{{}, TooManyRequests(std::max<int64_t>(wait_s, 1))};
  };

  // Throttles first, before any password is checked: a throttled guess tells nothing.
  if (int64_t wait = address_throttle_->RetryAfter(request.remote_address, now); wait > 0)
    return throttled(wait);
  // Per username (docs/security.md, "Sign-in throttling"): max_failures_per_user failures in
  // the window lock the name — but only for attempts from where the person does not usually
  // sign in. From an address they signed in from successfully within usual_address_window_ms,
  // only failures from their usual addresses count, so someone guessing from elsewhere cannot
  // lock a clinician out of their own desk.
  const std::string recorded_username = AuditSafeText(username);
  auto history = store.SignInsOf(recorded_username,
                                 now - std::max(options_.usual_address_window_ms,
                                                options_.throttle_window_ms),
                                 kSignInHistoryLimit);
  if (!history.ok()) return SignInAttempt{{}, Unavailable()};
  std::set<std::string> usual;
  for (const store::ResourceStore::SignIn& s : *history)
    if (s.succeeded && s.time_ms >= now - options_.usual_address_window_ms)
      usual.insert(s.source_address);
  const bool from_usual = usual.contains(AuditSafeText(request.remote_address));
  std::vector<int64_t> counted;  // failure times that count against this attempt, oldest first
  for (const store::ResourceStore::SignIn& s : *history)
    if (!s.succeeded && s.time_ms > now - options_.throttle_window_ms &&
        (!from_usual || usual.contains(s.source_address)))
      counted.push_back(s.time_ms);
  const auto limit = static_cast<size_t>(std::max(options_.max_failures_per_user, 1));
  if (counted.size() >= limit) {
    // Locked until fewer than `limit` counted failures remain in the window.
    const int64_t until = counted[counted.size() - limit] + options_.throttle_window_ms;
    return throttled((until - now + 999) / 1000);
  }

  auto found = store.FindUser(username);
  if (!found.ok()) return SignInAttempt{{}, Unavailable()};
  if (!*found) {
    (void)security::VerifyPassword(dummy_hash_, password);
    return bad_credentials(nullptr);
  }
  const store::User& user = **found;
  const bool verified = security::VerifyPassword(user.password_hash, password);
  if (!verified || user.disabled) return bad_credentials(&user);
  // Patients are people, never integrations: no client-credentials token for a patient account.
  if (client && user.role == store::Role::kPatient) {
    HttpResponse response = OAuthError(400, "unauthorized_client",
                                       "a patient account cannot use the client_credentials grant");
    return refuse(&user, std::move(response));
  }
  return SignInAttempt{user, {}};
}

HttpResponse Service::Token(const HttpRequest& request, RequestInfo* info) const {
  if (MediaType(request.Header("content-type")) != "application/x-www-form-urlencoded")
    return OAuthError(400, "invalid_request",
                      "the body must be application/x-www-form-urlencoded (RFC 6749 §4.3.2)");
  auto form = ParseForm(request.body);
  if (!form.ok()) return OAuthError(400, "invalid_request", form.error().message);
  for (std::string_view name :
       {"grant_type", "username", "password", "scope", "client_id", "client_secret"})
    if (FormRepeats(*form, name))
      return OAuthError(400, "invalid_request", "parameter " + std::string(name) + " is repeated");
  const std::string grant_type = FormValue(*form, "grant_type").value_or("");
  if (grant_type.empty()) return OAuthError(400, "invalid_request", "grant_type is missing");
  Grant grant;
  std::string username, password;
  if (grant_type == "password") {
    grant = Grant::kPassword;
    std::optional<std::string> u = FormValue(*form, "username"), p = FormValue(*form, "password");
    if (!u || !p || u->empty())
      return OAuthError(400, "invalid_request", "username and password are required");
    username = std::move(*u);
    password = std::move(*p);
  } else if (grant_type == "client_credentials") {
    grant = Grant::kClientCredentials;
    // RFC 6749 §2.3.1: HTTP Basic, or client_id/client_secret in the body — not both.
    std::optional<std::string_view> authorization = request.Header("authorization");
    std::optional<std::string> id = FormValue(*form, "client_id");
    std::optional<std::string> secret = FormValue(*form, "client_secret");
    if (authorization) {
      std::optional<BasicCredentials> basic = ParseBasicAuthorization(*authorization, true);
      if (!basic || secret) {
        HttpResponse response = OAuthError(401, "invalid_client",
                                           basic ? "use one client authentication method"
                                                 : "malformed HTTP Basic client credentials");
        response.headers.emplace_back("WWW-Authenticate", "Basic realm=\"joinedup\"");
        return response;
      }
      if (id && *id != basic->user)
        return OAuthError(400, "invalid_request", "client_id differs from the Basic credentials");
      username = std::move(basic->user);
      password = std::move(basic->password);
    } else {
      if (!id || !secret || id->empty()) {
        HttpResponse response =
            OAuthError(401, "invalid_client", "client authentication is required");
        response.headers.emplace_back("WWW-Authenticate", "Basic realm=\"joinedup\"");
        return response;
      }
      username = std::move(*id);
      password = std::move(*secret);
    }
  } else {
    return OAuthError(400, "unsupported_grant_type",
                      "grant_type must be password or client_credentials");
  }
  const std::string requested_scope = FormValue(*form, "scope").value_or("");
  // A malformed scope is refused before any credential is checked (no sign-in was attempted).
  if (auto parsed = security::ParseScopes(requested_scope); !parsed.ok())
    return OAuthError(400, "invalid_scope", parsed.error().message);

  auto lease = stores_.Acquire();
  if (!lease.ok()) return Unavailable();
  store::Store& store = **lease;
  SignInAttempt attempt = SignIn(request, store, username, password, grant);
  if (!attempt.user) return std::move(attempt.refusal);
  const store::User& user = *attempt.user;
  if (info != nullptr) info->user_id = user.id;

  const security::ScopeContext context = ContextFor(user, grant == Grant::kClientCredentials);
  auto scopes = GrantScopes(requested_scope, context);
  if (!scopes.ok()) {
    metrics_.SignIn(false);
    if (!AuditSignIn(request, store, username, &user, false)) return Unavailable();
    return OAuthError(400, "invalid_scope", scopes.error().message);
  }
  auto issued =
      security::IssueToken(store, options_.clock, user.id, *scopes, options_.token_lifetime_ms);
  if (!issued.ok()) return Unavailable();
  // No token leaves without its sign-in in the audit trail.
  if (!AuditSignIn(request, store, username, &user, true)) {
    (void)security::RevokeBearerToken(store, issued->bearer);
    return Unavailable();
  }
  metrics_.SignIn(true);
  HttpResponse response = Json(200, "{\"access_token\":" + JsonString(issued->bearer) +
                                        ",\"token_type\":\"Bearer\",\"expires_in\":" +
                                        std::to_string(options_.token_lifetime_ms / 1000) +
                                        ",\"scope\":" + JsonString(issued->record.scopes) + "}");
  response.headers.emplace_back("Cache-Control", "no-store");
  response.headers.emplace_back("Pragma", "no-cache");
  return response;
}

HttpResponse Service::Revoke(const HttpRequest& request) const {
  if (MediaType(request.Header("content-type")) != "application/x-www-form-urlencoded")
    return OAuthError(400, "invalid_request", "the body must be application/x-www-form-urlencoded");
  auto form = ParseForm(request.body);
  if (!form.ok()) return OAuthError(400, "invalid_request", form.error().message);
  std::optional<std::string> token = FormValue(*form, "token");
  if (!token || FormRepeats(*form, "token"))
    return OAuthError(400, "invalid_request", "exactly one token parameter is required");
  auto lease = stores_.Acquire();
  if (!lease.ok()) return Unavailable();
  // RFC 7009 §2.2: an invalid or unknown token is not an error; the answer is the same 200.
  Status revoked = security::RevokeBearerToken(**lease, *token);
  if (!revoked.ok() && revoked.error().code == ErrorCode::kUnavailable) return Unavailable();
  HttpResponse response = Json(200, "{}");
  response.headers.emplace_back("Cache-Control", "no-store");
  return response;
}

HttpResponse Service::Session(const HttpRequest& request, RequestInfo* info) const {
  const bool secure = options_.base_url.starts_with("https://");
  const std::string attributes =
      std::string("; HttpOnly; SameSite=Strict; Path=/") + (secure ? "; Secure" : "");
  auto lease = stores_.Acquire();
  if (!lease.ok()) return Unavailable();
  store::Store& store = **lease;
  auto session_json = [&](const store::User& user, std::string_view token_hash,
                          int64_t expires_in_s) {
    const int64_t idle_s = std::min(expires_in_s, options_.session_idle_ms / 1000);
    return "{\"csrf_token\":" + JsonString(CsrfToken(token_hash)) +
           ",\"expires_in\":" + std::to_string(expires_in_s) +
           ",\"idle_expires_in\":" + std::to_string(idle_s) +
           ",\"user\":{\"username\":" + JsonString(AuditSafeText(user.username)) +
           ",\"display_name\":" + JsonString(AuditSafeText(user.display_name)) +
           ",\"role\":" + JsonString(security::RoleName(user.role)) +
           ",\"organisation\":" + JsonString(AuditSafeText(user.organisation_id)) + "}}";
  };

  if (request.method == "POST") {
    // Login CSRF: a page elsewhere must not sign a browser in (to an account of the attacker's
    // choosing). A browser says where a POST comes from; it must be this server's own origin.
    // Clients that are not browsers send neither header.
    std::optional<std::string_view> origin = request.Header("origin");
    std::optional<std::string_view> fetch_site = request.Header("sec-fetch-site");
    if ((origin && *origin != OriginOf(options_.base_url)) ||
        (fetch_site && *fetch_site != "same-origin" && *fetch_site != "none"))
      return OAuthError(403, "invalid_request", "sign in from this service's own sign-in page");
    if (MediaType(request.Header("content-type")) != "application/x-www-form-urlencoded")
      return OAuthError(400, "invalid_request",
                        "the body must be application/x-www-form-urlencoded");
    auto form = ParseForm(request.body);
    if (!form.ok()) return OAuthError(400, "invalid_request", form.error().message);
    std::optional<std::string> username = FormValue(*form, "username");
    std::optional<std::string> password = FormValue(*form, "password");
    if (!username || !password || username->empty() || FormRepeats(*form, "username") ||
        FormRepeats(*form, "password"))
      return OAuthError(400, "invalid_request", "username and password are required, once each");
    SignInAttempt attempt = SignIn(request, store, *username, *password, Grant::kSession);
    if (!attempt.user) return std::move(attempt.refusal);
    const store::User& user = *attempt.user;
    if (info != nullptr) info->user_id = user.id;
    auto issued =
        security::IssueToken(store, options_.clock, user.id, DefaultScopes(ContextFor(user, false)),
                             options_.session_lifetime_ms);
    if (!issued.ok()) return Unavailable();
    if (!AuditSignIn(request, store, *username, &user, true)) {
      (void)security::RevokeBearerToken(store, issued->bearer);
      return Unavailable();
    }
    metrics_.SignIn(true);
    const int64_t lifetime_s = options_.session_lifetime_ms / 1000;
    HttpResponse response = Json(200, session_json(user, issued->record.hash_hex, lifetime_s));
    response.headers.emplace_back("Set-Cookie", std::string(kSessionCookie) + "=" + issued->bearer +
                                                    attributes +
                                                    "; Max-Age=" + std::to_string(lifetime_s));
    return response;
  }

  // GET (who am I, and the CSRF token again after a page reload) and DELETE (sign out).
  std::optional<std::string> cookie;
  if (auto header = request.Header("cookie")) cookie = CookieValue(*header, kSessionCookie);
  if (!cookie) return InvalidToken("invalid_token", "no session");
  auto authenticated = security::AuthenticateToken(store, options_.clock, *cookie);
  if (!authenticated.ok()) {
    if (authenticated.error().code == ErrorCode::kUnavailable) return Unavailable();
    return InvalidToken("invalid_token", "the session is not valid");
  }
  // Asking about the session is using it ("stay signed in"), unless it has already ended.
  auto idle = SessionIdle(store, authenticated->record);
  if (!idle.ok()) return Unavailable();
  if (*idle) return InvalidToken("invalid_token", "the session has ended");
  const store::User& user = authenticated->user;
  if (info != nullptr) info->user_id = user.id;
  const std::string& hash = authenticated->record.hash_hex;
  if (request.method == "DELETE") {
    const std::string expected = CsrfToken(hash);
    std::optional<std::string_view> given = request.Header("x-csrf-token");
    if (!given || given->size() != expected.size() ||
        sodium_memcmp(given->data(), expected.data(), expected.size()) != 0)
      return Outcome(403, search::IssueType::kForbidden, "X-CSRF-Token is missing or wrong");
    Status revoked = security::RevokeBearerToken(store, *cookie);
    if (!revoked.ok()) return Unavailable();
    if (!security::AuditTrail(store, options_.clock)
             .Record(RequestActor(request, &user), {.action = 'E', .subtype = "logout"})
             .ok())
      return Unavailable();
    HttpResponse response;
    response.status = 204;
    response.content_type.clear();
    response.headers.emplace_back("Set-Cookie",
                                  std::string(kSessionCookie) + "=" + attributes + "; Max-Age=0");
    return response;
  }
  const int64_t left_s =
      std::max<int64_t>(0, (authenticated->record.expires_at_ms - options_.clock()) / 1000);
  return Json(200, session_json(user, hash, left_s));
}

Result<bool> Service::SessionIdle(store::Store& store, const store::TokenRecord& token) const {
  const int64_t now = options_.clock();
  const int64_t last = std::max(token.last_used_at_ms, token.issued_at_ms);
  if (now - last > options_.session_idle_ms) return true;
  // Recorded at most every few seconds: a page's burst of requests costs one write.
  if (now - token.last_used_at_ms >= kSessionTouchEveryMs)
    JU_RETURN_IF_ERROR(store.TouchToken(token.hash_hex, now));
  return false;
}

Service::Authenticated Service::Authenticate(const HttpRequest& request, store::Store& store,
                                             RequestInfo* info) const {
  // Credentials: the Authorization header, else the session cookie.
  std::optional<std::string> bearer;
  bool via_cookie = false;
  bool malformed_header = false;
  if (std::optional<std::string_view> authorization = request.Header("authorization")) {
    std::string_view value = *authorization;
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    if (value.size() > 7 && IEquals(value.substr(0, 7), "bearer ")) {
      value.remove_prefix(7);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
      bearer = std::string(value);
    } else {
      malformed_header = true;
    }
  } else if (std::optional<std::string_view> cookie_header = request.Header("cookie")) {
    bearer = CookieValue(*cookie_header, kSessionCookie);
    via_cookie = bearer.has_value();
  }
  Authenticated out;
  if (!bearer && !malformed_header) return out;  // anonymous

  std::optional<security::AuthenticatedToken> token;
  if (bearer) {
    auto authenticated = security::AuthenticateToken(store, options_.clock, *bearer);
    if (authenticated.ok()) {
      token = std::move(authenticated).value();
    } else if (authenticated.error().code != ErrorCode::kUnauthenticated) {
      out.refusal = Unavailable();
      return out;
    }
  }
  if (token && via_cookie) {
    auto idle = SessionIdle(store, token->record);
    if (!idle.ok()) {
      out.refusal = Unavailable();
      return out;
    }
    if (*idle) token.reset();
  }
  if (!token) {
    // Present but not good: never anonymous, never reaches an API, and audited — the first
    // from an address at once, the rest in aggregate (RefusalTally).
    std::vector<RefusalCount> due;
    if (refusals_->Refused(request.remote_address, options_.clock(), due))
      due.push_back({request.remote_address, 1});
    if (!AuditRefusals(store, due, &request)) {
      out.refusal = Unavailable();
      return out;
    }
    out.refusal = malformed_header
                      ? InvalidToken("invalid_request", "the Authorization header must be Bearer")
                      : InvalidToken("invalid_token", via_cookie ? "the session has ended"
                                                                 : "the access token is not valid");
    return out;
  }
  if (info != nullptr) info->user_id = token->user.id;
  if (via_cookie && IsUnsafeMethod(request.method)) {
    // Double-submit protection for cookie sessions: a cross-site form cannot set this header.
    const std::string expected = CsrfToken(token->record.hash_hex);
    std::optional<std::string_view> given = request.Header("x-csrf-token");
    if (!given || given->size() != expected.size() ||
        sodium_memcmp(given->data(), expected.data(), expected.size()) != 0) {
      out.refusal =
          Outcome(403, search::IssueType::kForbidden, "X-CSRF-Token is missing or wrong");
      return out;
    }
  }
  auto care_teams = store.CareTeamsOfUser(token->user.id);
  if (!care_teams.ok()) {
    out.refusal = Unavailable();
    return out;
  }
  http::Principal who;
  who.username = token->user.username;
  who.display_name = token->user.display_name;
  who.caller.user_id = token->user.id;
  who.caller.role = token->user.role;
  who.caller.organisation_id = token->user.organisation_id;
  who.caller.care_team_ids = std::move(care_teams).value();
  who.caller.patient_key = token->user.patient_key;
  who.caller.disabled = token->user.disabled;
  who.caller.system_client = IsSystemToken(token->scopes);
  who.caller.scopes = std::move(token->scopes);
  out.principal = std::move(who);
  return out;
}

HttpResponse Service::Fhir(const HttpRequest& request, RequestInfo* info) const {
  static constexpr std::string_view kAllowed = "GET, HEAD, POST, PUT, PATCH, DELETE";
  const std::string& method = request.method;
  if (method != "GET" && method != "HEAD" && method != "POST" && method != "PUT" &&
      method != "PATCH" && method != "DELETE")
    return MethodNotAllowed(kAllowed);

  auto lease = stores_.Acquire();
  if (!lease.ok()) return Unavailable();
  store::Store& store = **lease;
  Authenticated who = Authenticate(request, store, info);
  if (who.refusal) return std::move(*who.refusal);

  if (!fhir_) return Outcome(501, search::IssueType::kNotSupported, "the FHIR API is not built");
  HttpRequest below = request;
  below.path = request.path.size() > 5 ? request.path.substr(5) : "/";
  if (below.method == "HEAD") below.method = "GET";
  return fhir_(below, who.principal, store);
}

HttpResponse Service::App(const HttpRequest& request, RequestInfo* info) const {
  const std::string& method = request.method;
  if (method != "GET" && method != "HEAD" && method != "POST" && method != "PUT" &&
      method != "DELETE")
    return MethodNotAllowed("GET, HEAD, POST, PUT, DELETE");
  auto lease = stores_.Acquire();
  if (!lease.ok()) return Unavailable();
  store::Store& store = **lease;
  Authenticated who = Authenticate(request, store, info);
  // Refused before the app API: answered in its error shape (docs/app-api.md), headers kept.
  auto app_error = [](int status, std::string_view title, std::string_view detail) {
    return Json(status, "{\"error\":{\"status\":" + std::to_string(status) +
                            ",\"title\":" + JsonString(title) + ",\"detail\":" +
                            JsonString(detail) + "}}");
  };
  if (who.refusal) {
    HttpResponse refused = who.refusal->status == 401
                               ? app_error(401, "Your session has ended", "Sign in again.")
                           : who.refusal->status == 403
                               ? app_error(403, "Your request could not be checked",
                                           "Reload the page and try again.")
                               : app_error(who.refusal->status, "Sorry, joinedup is busy",
                                           "Try again in a few minutes.");
    refused.headers = std::move(who.refusal->headers);
    return refused;
  }
  if (!who.principal) {
    HttpResponse r = app_error(401, "Sign in", "Sign in to use joinedup.");
    r.headers.emplace_back("WWW-Authenticate", "Bearer");
    return r;
  }
  if (!app_) return Outcome(501, search::IssueType::kNotSupported, "the app API is not built");
  HttpRequest below = request;
  below.path = request.path.size() > 8 ? request.path.substr(8) : "/";
  if (below.method == "HEAD") below.method = "GET";
  return app_(below, *who.principal, store);
}

}  // namespace joinedup::server
