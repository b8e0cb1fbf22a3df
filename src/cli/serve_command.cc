// joinedup serve: the FHIR server with identity endpoints (src/server). Runs in the foreground
// until SIGTERM or SIGINT, then stops accepting, lets requests in flight finish and exits 0.
#include <signal.h>
#include <CLI/CLI.hpp>

#include <cstdio>

#include "cli/commands.h"
#include "server/server.h"

namespace joinedup::cli {
namespace {

int Serve(server::ServerOptions options) {
  // Block the stop signals in every thread (workers inherit this mask), then wait for one here:
  // no work happens in a signal handler.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  // A client that hangs up mid-response must not kill the process.
  signal(SIGPIPE, SIG_IGN);

  server::Server http(std::move(options));
  Status started = http.Start();
  if (!started.ok()) {
    std::fprintf(stderr, "joinedup serve: %s\n", started.error().ToString().c_str());
    return 1;
  }
  std::fprintf(stderr, "joinedup serve: listening on %s (FHIR base %s/fhir); Ctrl-C stops\n",
               http.base_url().c_str(), http.base_url().c_str());
  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  std::fprintf(stderr, "joinedup serve: %s received; finishing requests in flight\n",
               signal_number == SIGTERM ? "SIGTERM" : "SIGINT");
  http.Stop();
  std::fprintf(stderr, "joinedup serve: stopped\n");
  return 0;
}

}  // namespace

void AddServeCommand(CLI::App& app, int* exit_code) {
  struct Options {
    std::string db = DefaultDatabaseUrl();
    server::ServerOptions server;
    double session_idle_minutes = 30;
  };
  auto options = std::make_shared<Options>();
  auto* serve = app.add_subcommand(
      "serve", "Serve the FHIR R4 API, sign-in (/auth/token, /auth/session) and /metrics");
  serve->add_option("--db", options->db, "Store: a SQLite file path or postgresql:// URL")
      ->capture_default_str();
  serve->add_option("--bind", options->server.bind, "Address to listen on")->capture_default_str();
  serve->add_option("--port", options->server.port, "TCP port (0: any free port)")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  serve
      ->add_option("--threads", options->server.threads,
                   "Worker threads, each with its own database connection once used: the "
                   "number of client connections served at once (0: 32)")
      ->check(CLI::Range(0, 1024));
  serve->add_option("--export-dir", options->server.export_dir,
                    "Directory for Bulk Data $export jobs (without it $export answers 501)");
  serve
      ->add_option("--export-lifetime-hours", options->server.export_lifetime_hours,
                   "An export job and its files are deleted this many hours after it ends")
      ->capture_default_str()
      ->check(CLI::Range(1, 24 * 365));
  serve->add_option("--trusted-proxy", options->server.trusted_proxies,
                    "A reverse proxy in front (CIDR, repeatable): requests from it are taken to "
                    "come from the right-most X-Forwarded-For address it did not add itself");
  serve->add_option("--base-url", options->server.base_url,
                    "How clients reach this server, e.g. https://fhir.example.org when TLS ends "
                    "at a proxy in front (cookies then get Secure, responses HSTS); default "
                    "http://BIND:PORT");
  serve
      ->add_option("--break-glass-daily-limit", options->server.records.break_glass_daily_limit,
                   "Break-glass reads one user may make in any 24 hours; the next is refused "
                   "and the privacy officer alerted")
      ->capture_default_str()
      ->check(CLI::Range(0, 1000));
  serve
      ->add_option("--counts-suppressed-up-to",
                   options->server.records.disclosure.suppress_up_to,
                   "Counts of people served as figures (Group quantities) from 1 to this are "
                   "shown as masked (NHS Digital's HES rule: 7; 0 shows every count)")
      ->capture_default_str()
      ->check(CLI::Range(0, 1000));
  serve
      ->add_option("--counts-rounded-to", options->server.records.disclosure.round_to,
                   "Other counts are rounded to the nearest multiple of this (HES: 5; 1: exact)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  serve
      ->add_option("--session-idle-minutes", options->session_idle_minutes,
                   "A web session ends after this many minutes without use (fractions allowed; "
                   "the web UI warns two minutes before)")
      ->capture_default_str()
      ->check(CLI::Range(0.05, 24.0 * 60));
  serve->callback([options, exit_code] {
    options->server.db_url = options->db;
    options->server.service.session_idle_ms =
        static_cast<int64_t>(options->session_idle_minutes * 60 * 1000);
    *exit_code = Serve(options->server);
  });
}

}  // namespace joinedup::cli
