// `joinedup serve`: the HTTP server (cpp-httplib, compiled in server.cc only) around Service.
//
// Per request: an X-Request-Id (the client's if it is short and of a safe charset, else a new
// random one), security headers on every response including errors, one JSON access-log line
// (route template, never the path or query), Prometheus metrics.
//
// Limits (issue 4 §6), and what each covers:
//   body        max_body_bytes; larger → 413 OperationOutcome before the body is read.
//   headers     cpp-httplib's build-time limits: 8,192 bytes per header line and for the
//               request line (longer → 400 / 414), 5 keep-alive requests per connection unless
//               raised here, no separate header-count limit.
//   time        read_timeout_s bounds each wait for bytes from the client (a client that
//               stops sending mid-request is dropped after it); write_timeout_s each wait to
//               send. Together they stop slow-loris clients holding a worker forever, but a
//               client trickling one byte per interval can still take (size × interval); and
//               the handler's own work (a database query) is not interrupted once started —
//               request_budget_ms only marks such requests in the access log ("slow": true).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "records/records.h"
#include "security/audit.h"
#include "server/service.h"

namespace joinedup::server {

inline constexpr int kDefaultThreads = 32;

struct ServerOptions {
  std::string db_url;
  std::string bind = "127.0.0.1";
  int port = 8080;         // 0: an ephemeral port (see Server::port)
  int threads = 0;         // worker threads = client connections served at once; 0: kDefaultThreads
  std::string export_dir;  // Bulk Data $export job directory; empty: $export answers 501
  int export_lifetime_hours = 24;  // a job and its files are deleted this long after it ends
  // How clients reach the server, no trailing slash; empty: http://<bind>:<port>. An https://
  // base means TLS is terminated in front of this process (a reverse proxy): cookies get
  // Secure and responses Strict-Transport-Security.
  std::string base_url;
  // Reverse proxies in front (CIDR blocks): for a request from one of them the client's address
  // is taken from X-Forwarded-For (http_text.h ClientAddress); from anyone else, never.
  std::vector<std::string> trusted_proxies;
  size_t max_body_bytes = 8u << 20;
  int read_timeout_s = 10;
  int write_timeout_s = 10;
  int keep_alive_timeout_s = 5;
  // Requests on one keep-alive connection before it is closed (nginx's keepalive_requests
  // default; it was 100, one new connection per hundred requests — bench/README: no
  // measurable change in the p99 either way).
  int keep_alive_max_requests = 1000;
  int64_t request_budget_ms = 10'000;
  security::Clock clock;  // default: the system clock
  // Receives each access-log line (no newline); default: stderr.
  std::function<void(const std::string&)> access_log;
  // Token and session lifetimes and throttling; base_url, csrf_key and clock are filled in.
  ServiceOptions service;
  records::Settings records;  // break-glass limits
};

class Server {
 public:
  explicit Server(ServerOptions options);
  ~Server();  // Stop()

  // Opens the database (migrating it), reads the server secrets, binds and starts serving on
  // a background thread. kUnavailable if the database or the address cannot be had.
  Status Start();
  int port() const;
  const std::string& base_url() const;
  // Stops accepting connections, lets requests in flight finish, joins the workers. Safe to
  // call twice and from any thread but a worker's.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace joinedup::server
