// The one translation unit that includes cpp-httplib (Debian libcpp-httplib-dev 0.11.4).
#include "server/server.h"

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <thread>

#include "api/fhir_api.h"
#include "export/bulk_export.h"
#include "fhir/search/response.h"
#include "records/assessment.h"
#include "server/http_text.h"
#include "store/store.h"
#include "webapp/app_api.h"

namespace joinedup::server {
namespace {

namespace search = fhir::search;

// What the access log and metrics need across cpp-httplib's callbacks. A worker thread handles
// one request at a time (pre-routing → handler → post-routing → logger), so per-thread state
// is per-request state.
struct RequestContext {
  bool active = false;  // pre-routing ran (the request line and headers were good)
  std::chrono::steady_clock::time_point start;
  std::string request_id;         // ours, always
  std::string client_request_id;  // the client's X-Request-Id, if it sent a safe one
  std::string route;
  std::optional<int64_t> user_id;
};
thread_local RequestContext t_context;

void Begin(const httplib::Request& request) {
  t_context.start = std::chrono::steady_clock::now();
  // The server's own id names the request everywhere (a client could reuse or forge one to
  // muddle the audit trail); the client's is kept beside it for correlation.
  std::optional<std::string> given;
  if (request.has_header("X-Request-Id"))
    given = SafeRequestId(request.get_header_value("X-Request-Id"));
  t_context.request_id = NewRequestId();
  t_context.client_request_id = given.value_or("");
  t_context.route = RouteTemplate(request.path);
  t_context.user_id.reset();
}

std::string UtcNow() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const int millis = static_cast<int>(
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[96];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, millis);
  return text;
}

void SetIfAbsent(httplib::Response& response, const char* name, const std::string& value) {
  if (!response.has_header(name)) response.set_header(name, value);
}

std::string ErrorText(int status) {
  switch (status) {
    case 400:
      return "the request is malformed";
    case 404:
      return "no such endpoint";
    case 413:
      return "the request body is too large";
    case 414:
      return "the request URI is too long";
    case 431:
      return "the request headers are too large";
    default:
      return "the request could not be served";
  }
}

}  // namespace

struct Server::Impl {
  ServerOptions options;
  std::string base_url;
  std::unique_ptr<StorePool> stores;
  std::unique_ptr<Metrics> metrics;
  std::unique_ptr<Service> service;
  std::unique_ptr<exporter::BulkExport> bulk_export;
  std::unique_ptr<api::FhirApi> fhir_api;
  std::unique_ptr<webapp::AppApi> app_api;
  httplib::Server http;
  std::thread listener;
  int port = 0;
  bool hsts = false;
  std::vector<Cidr> trusted_proxies;
  std::mutex stop_mutex;
  std::mutex log_mutex;

  void Log(const std::string& line) {
    if (options.access_log) {
      options.access_log(line);
      return;
    }
    std::lock_guard lock(log_mutex);
    std::fputs((line + "\n").c_str(), stderr);
  }

  void Handle(const httplib::Request& in, httplib::Response& out) {
    http::HttpRequest request;
    request.method = in.method;
    request.path = in.path;
    const size_t question = in.target.find('?');
    if (question != std::string::npos) request.query = in.target.substr(question + 1);
    request.headers.reserve(in.headers.size());
    for (const auto& [name, value] : in.headers) {
      std::string lower = name;
      std::transform(lower.begin(), lower.end(), lower.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      request.headers.emplace_back(std::move(lower), value);
    }
    request.body = in.body;
    // Behind a trusted reverse proxy, the client is who the proxy says (throttling, audit).
    std::vector<std::string> forwarded_for;
    if (!trusted_proxies.empty())
      for (size_t i = 0, n = in.get_header_value_count("X-Forwarded-For"); i < n; ++i)
        forwarded_for.push_back(in.get_header_value("X-Forwarded-For", i));
    request.remote_address = ClientAddress(in.remote_addr, forwarded_for, trusted_proxies);
    request.request_id = t_context.request_id;
    request.client_request_id = t_context.client_request_id;
    RequestInfo info;
    http::HttpResponse response = service->Handle(request, &info);
    t_context.user_id = info.user_id;
    out.status = response.status;
    for (const auto& [name, value] : response.headers) out.set_header(name, value);
    if (response.content_type.empty())
      out.body.clear();
    else
      out.set_content(std::move(response.body), response.content_type);
  }

  // Every response, errors included: what a browser must not do with it, and the request id.
  void Decorate(httplib::Response& response) {
    if (!t_context.active && t_context.request_id.empty()) Begin(httplib::Request());
    SetIfAbsent(response, "X-Request-Id", t_context.request_id);
    // Only JSON and plain text are served: nothing may run, load or frame (no unsafe-inline).
    SetIfAbsent(response, "Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
    SetIfAbsent(response, "X-Content-Type-Options", "nosniff");
    SetIfAbsent(response, "Referrer-Policy", "no-referrer");
    SetIfAbsent(response, "X-Frame-Options", "DENY");
    // Answers may hold personal data and depend on who asked: no shared or private cache keeps
    // them. (Simpler and safer than deciding per route which answers are anonymous.)
    SetIfAbsent(response, "Cache-Control", "no-store");
    if (hsts) SetIfAbsent(response, "Strict-Transport-Security", "max-age=31536000");
  }

  void AccessLog(const httplib::Request& request, const httplib::Response& response) {
    const bool started = t_context.active;
    if (!started) t_context.route = "{unparsed}";  // refused before routing (Decorate began it)
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t_context.start).count();
    metrics->Observe(t_context.route, response.status, seconds);
    if (started) metrics->RequestFinished();
    char duration[32];
    std::snprintf(duration, sizeof duration, "%.3f", seconds * 1000.0);
    std::string line =
        "{\"time\":\"" + UtcNow() + "\",\"request_id\":" + JsonString(t_context.request_id) +
        (t_context.client_request_id.empty()
             ? std::string()
             : ",\"client_request_id\":" + JsonString(t_context.client_request_id)) +
        ",\"method\":" + JsonString(AuditSafeText(request.method, 16)) +
        ",\"route\":" + JsonString(t_context.route) +
        ",\"status\":" + std::to_string(response.status) +
        ",\"bytes\":" + std::to_string(response.body.size()) + ",\"duration_ms\":" + duration +
        ",\"user_id\":" + (t_context.user_id ? std::to_string(*t_context.user_id) : "null");
    if (seconds * 1000.0 > static_cast<double>(options.request_budget_ms)) line += ",\"slow\":true";
    line += "}";
    Log(line);
    t_context = RequestContext();
  }
};

Server::Server(ServerOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
}

Server::~Server() { Stop(); }

int Server::port() const { return impl_->port; }
const std::string& Server::base_url() const { return impl_->base_url; }

Status Server::Start() {
  Impl& s = *impl_;
  ServerOptions& o = s.options;
  if (!o.clock) o.clock = security::SystemClockMs;
  for (const std::string& block : o.trusted_proxies) {
    JU_ASSIGN_OR_RETURN(Cidr cidr, ParseCidr(block));
    s.trusted_proxies.push_back(cidr);
  }
  s.stores = std::make_unique<StorePool>(o.db_url);
  std::string csrf_key, cursor_key;
  {
    // Opening the first connection migrates the database; the secrets are the database's, so
    // every process serving it signs alike.
    JU_ASSIGN_OR_RETURN(StorePool::Lease lease, s.stores->Acquire());
    JU_ASSIGN_OR_RETURN(csrf_key, lease->ServerSecret("csrf", 32));
    JU_ASSIGN_OR_RETURN(cursor_key, lease->ServerSecret("cursor", 32));
    // The holistic assessment as shipped (data/assessment/): put, or superseded by a newer
    // shipped version, when the server starts; FHIR clients read it as a Questionnaire.
    if (auto installed = records::InstallShippedQuestionnaire(*lease, o.clock()); !installed.ok())
      return installed.take_error();
  }

  // A response written in two pieces must not wait for the client's delayed ACK (Nagle):
  // bench/README.md measured 44 ms per request. Set before binding: TCP_NODELAY goes on the
  // listening socket, and Linux copies it to every accepted one.
  s.http.set_tcp_nodelay(true);

  if (o.port == 0) {
    s.port = s.http.bind_to_any_port(o.bind);
  } else {
    s.port = s.http.bind_to_port(o.bind, o.port) ? o.port : -1;
  }
  if (s.port <= 0)
    return Error::Unavailable("cannot listen on " + o.bind + ":" + std::to_string(o.port));
  s.base_url = o.base_url.empty() ? "http://" + o.bind + ":" + std::to_string(s.port) : o.base_url;
  while (s.base_url.ends_with('/')) s.base_url.pop_back();
  s.hsts = s.base_url.starts_with("https://");

  s.metrics = std::make_unique<Metrics>(o.clock());
  FhirHandler fhir;
  api::FhirApiOptions api_options;
  api_options.base_url = s.base_url + "/fhir";
  api_options.software_version = JOINEDUP_VERSION;
  api_options.cursor_key = cursor_key;
  api_options.clock = o.clock;
  api_options.records = o.records;
  if (!o.export_dir.empty()) {
    exporter::BulkExportOptions export_options;
    export_options.directory = o.export_dir;
    export_options.file_lifetime_ms = int64_t{o.export_lifetime_hours} * 60 * 60 * 1000;
    export_options.store_url = o.db_url;
    export_options.base_url = s.base_url + "/fhir";
    export_options.clock = o.clock;
    s.bulk_export = std::make_unique<exporter::BulkExport>(std::move(export_options));
    api_options.bulk_export = s.bulk_export.get();
  }
  s.fhir_api = std::make_unique<api::FhirApi>(std::move(api_options));
  fhir = [api = s.fhir_api.get()](
             const http::HttpRequest& request, const std::optional<http::Principal>& principal,
             store::Store& store) { return api->Handle(request, principal, store); };
  webapp::AppApiOptions app_options;
  app_options.cursor_key = cursor_key;
  app_options.clock = o.clock;
  app_options.records = o.records;
  app_options.session_idle_ms = o.service.session_idle_ms;
  s.app_api = std::make_unique<webapp::AppApi>(std::move(app_options));
  AppHandler app = [api = s.app_api.get()](const http::HttpRequest& request,
                                           const http::Principal& principal,
                                           store::Store& store) {
    return api->Handle(request, principal, store);
  };
  ServiceOptions service_options = o.service;
  service_options.base_url = s.base_url;
  service_options.csrf_key = csrf_key;
  service_options.clock = o.clock;
  JU_ASSIGN_OR_RETURN(s.service, Service::Create(std::move(service_options), *s.stores, *s.metrics,
                                                 std::move(fhir), std::move(app)));

  // cpp-httplib keeps a keep-alive connection on one worker until it closes, so the worker
  // count bounds the clients served at once (bench/README.md: 4 workers under 32 connections
  // gave a 25 s p99). Idle workers cost a thread and, once used, one database connection.
  const int threads = o.threads > 0 ? o.threads : kDefaultThreads;
  s.http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  s.http.set_payload_max_length(o.max_body_bytes);
  s.http.set_read_timeout(o.read_timeout_s, 0);
  s.http.set_write_timeout(o.write_timeout_s, 0);
  s.http.set_keep_alive_timeout(o.keep_alive_timeout_s);
  s.http.set_keep_alive_max_count(o.keep_alive_max_requests);

  s.http.set_pre_routing_handler([&s](const httplib::Request& request, httplib::Response&) {
    Begin(request);
    t_context.active = true;
    s.metrics->RequestStarted();
    return httplib::Server::HandlerResponse::Unhandled;
  });
  const auto handler = [&s](const httplib::Request& request, httplib::Response& response) {
    s.Handle(request, response);
  };
  s.http.Get(".*", handler);
  s.http.Post(".*", handler);
  s.http.Put(".*", handler);
  s.http.Patch(".*", handler);
  s.http.Delete(".*", handler);
  s.http.Options(".*", handler);
  // cpp-httplib's own refusals (413, 414, 400, and 404 for a method we route nowhere, e.g.
  // TRACE) get an OperationOutcome like ours.
  s.http.set_error_handler(httplib::Server::HandlerWithResponse(
      [](const httplib::Request&, httplib::Response& response) {
        if (!response.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        search::OutcomeIssue issue;
        if (response.status == 404) {
          response.status = 405;
          response.set_header("Allow", "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS");
          issue.type = search::IssueType::kNotSupported;
          issue.diagnostics = "method not allowed";
        } else {
          issue.type = response.status == 413 || response.status == 414 || response.status == 431
                           ? search::IssueType::kTooLong
                           : search::IssueType::kInvalid;
          issue.diagnostics = ErrorText(response.status);
        }
        response.set_content(search::OperationOutcomeJson({&issue, 1}), "application/fhir+json");
        return httplib::Server::HandlerResponse::Handled;
      }));
  s.http.set_exception_handler(
      [](const httplib::Request&, httplib::Response& response, std::exception_ptr) {
        search::OutcomeIssue issue;
        issue.type = search::IssueType::kException;
        issue.diagnostics = "internal error";
        response.status = 500;
        response.headers.clear();
        response.set_content(search::OperationOutcomeJson({&issue, 1}), "application/fhir+json");
      });
  // Logged and counted when the response is complete but before it is sent, so whoever reads
  // the answer (or scrapes /metrics next) finds the request already counted.
  s.http.set_post_routing_handler(
      [&s](const httplib::Request& request, httplib::Response& response) {
        s.Decorate(response);
        s.AccessLog(request, response);
      });

  s.listener = std::thread([&s] { s.http.listen_after_bind(); });
  return Ok();
}

void Server::Stop() {
  std::lock_guard lock(impl_->stop_mutex);
  if (!impl_->listener.joinable()) return;
  impl_->http.stop();
  impl_->listener.join();
  if (impl_->service) impl_->service->Flush();
}

}  // namespace joinedup::server
