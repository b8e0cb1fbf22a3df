#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>

#include "analytics/population_report.h"
#include "cli/commands.h"
#include "cli/today.h"
#include "store/store.h"

namespace joinedup::cli {

void AddReportCommand(CLI::App& app, int* exit_code) {
  struct Options {
    std::string db = DefaultDatabaseUrl();
    std::string as_of;
    int top = 15;
  };
  auto options = std::make_shared<Options>();
  auto* cmd =
      app.add_subcommand("report", "Summarise the stored population: practices, ages, conditions");
  cmd->add_option("--db", options->db, "Store: a SQLite file path or postgresql:// URL")
      ->capture_default_str();
  cmd->add_option("--as-of", options->as_of,
                  "Date ages are counted on (YYYY-MM-DD; default today)");
  cmd->add_option("--top", options->top, "How many conditions to list")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  cmd->callback([options, exit_code] {
    auto as_of = ParseAsOf(options->as_of);
    if (!as_of.ok()) {
      std::fprintf(stderr, "joinedup report: --as-of: %s\n", as_of.error().message.c_str());
      *exit_code = 2;
      return;
    }
    auto store = store::OpenStore(options->db);
    if (!store.ok()) {
      std::fprintf(stderr, "joinedup report: %s\n", store.error().ToString().c_str());
      *exit_code = 1;
      return;
    }
    auto report = analytics::BuildPopulationReport(**store, *as_of, options->top);
    if (!report.ok()) {
      std::fprintf(stderr, "joinedup report: %s\n", report.error().ToString().c_str());
      *exit_code = 1;
      return;
    }
    std::fputs(analytics::FormatPopulationReport(*report).c_str(), stdout);
  });
}

}  // namespace joinedup::cli
