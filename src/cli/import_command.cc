// `joinedup import PATH…`: FHIR R4 NDJSON, Bundles and CSV extracts into the store, in one
// transaction (see fhir/import.h and docs/import.md).
//
// Exit codes: 0 everything imported; 1 nothing imported (problems in the data, listed on
// stderr, or the import could not run); 2 usage; 3 --skip-invalid imported the valid records
// and refused some (listed, and written to --rejects).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/escalation.h"
#include "cli/today.h"
#include "cli/progress.h"
#include "fhir/import.h"
#include "store/store.h"

namespace joinedup::cli {
namespace {

struct ImportArgs {
  std::string db = DefaultDatabaseUrl();
  std::vector<std::string> paths;
  bool skip_invalid = false;
  bool allow_missing_nhs_number = false;
  std::string rejects;
  int max_errors = 20;
};

void PrintReport(const fhir::ImportReport& report, int max_errors) {
  std::printf("%-20s %10s %10s %10s %10s\n", "resource", "read", "imported", "skipped", "rejected");
  for (const auto& [type, c] : report.by_type)
    std::printf(
        "%-20s %10llu %10llu %10llu %10llu\n", type.c_str(),
        static_cast<unsigned long long>(c.read), static_cast<unsigned long long>(c.imported),
        static_cast<unsigned long long>(c.skipped), static_cast<unsigned long long>(c.rejected));
  const fhir::ImportTypeCounts t = report.Totals();
  std::printf("%-20s %10llu %10llu %10llu %10llu\n", "total",
              static_cast<unsigned long long>(t.read), static_cast<unsigned long long>(t.imported),
              static_cast<unsigned long long>(t.skipped),
              static_cast<unsigned long long>(t.rejected));
  int shown = 0;
  for (const auto& issue : report.issues) {
    if (shown == max_errors) break;
    std::fprintf(stderr, "%s\n", issue.ToString().c_str());
    ++shown;
  }
  if (report.issue_count > static_cast<uint64_t>(shown))
    std::fprintf(stderr, "… and %llu more problems\n",
                 static_cast<unsigned long long>(report.issue_count - shown));
}

int RunImport(const ImportArgs& args) {
  auto store = store::OpenStore(args.db);
  if (!store.ok()) {
    std::fprintf(stderr, "joinedup import: %s\n", store.error().ToString().c_str());
    return 1;
  }
  ProgressBar bar("import", "bytes");
  fhir::ImportOptions options;
  options.skip_invalid = args.skip_invalid;
  options.allow_missing_nhs_number = args.allow_missing_nhs_number;
  options.rejects_path = args.rejects;
  options.max_errors_reported = args.max_errors;
  options.progress = [&bar](uint64_t done, uint64_t total) { bar.Update(done, total); };
  auto report = fhir::Import(args.paths, options, **store);
  bar.Finish();
  if (!report.ok()) {
    std::fprintf(stderr, "joinedup import: %s\n", report.error().ToString().c_str());
    return 1;
  }
  PrintReport(*report, args.max_errors);
  if (!report->committed) {
    std::fprintf(stderr,
                 "joinedup import: %llu problem(s); nothing was imported. Fix them, or use "
                 "--skip-invalid to import the valid records.\n",
                 static_cast<unsigned long long>(report->issue_count));
    return 1;
  }
  // What arrived may show someone on a caseload becoming unstable (an emergency admission, a
  // fall): the escalation rules run now, not at the next scheduled run.
  if (Status escalated = RunEscalationRules(**store, TodayUtc(), {}, "", {},
                                            "escalation after import");
      !escalated.ok()) {
    std::fprintf(stderr, "joinedup import: imported, but the escalation rules failed: %s\n",
                 escalated.error().ToString().c_str());
    return 1;
  }
  if (report->issue_count > 0) {
    std::fprintf(stderr, "joinedup import: %llu record(s) refused%s%s\n",
                 static_cast<unsigned long long>(report->issue_count),
                 args.rejects.empty() ? "" : "; see ", args.rejects.c_str());
    return 3;
  }
  std::printf("Imported %llu files into %s\n", static_cast<unsigned long long>(report->files),
              args.db.c_str());
  return 0;
}

}  // namespace

void AddImportCommand(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<ImportArgs>();
  auto* cmd = app.add_subcommand(
      "import", "Import FHIR R4 NDJSON, Bundles or CSV extracts (all or nothing by default)");
  cmd->add_option("paths", args->paths, "Files or directories (*.ndjson, *.json, *.csv)")
      ->required();
  cmd->add_option("--db", args->db, "Store: a SQLite file path or postgresql:// URL")
      ->capture_default_str();
  cmd->add_flag("--skip-invalid", args->skip_invalid,
                "Import the valid records and refuse the invalid ones (exit code 3)");
  cmd->add_option("--rejects", args->rejects,
                  "With --skip-invalid: write the refused records and reasons to this file");
  cmd->add_flag("--allow-missing-nhs-number", args->allow_missing_nhs_number,
                "Accept people without an NHS number, keyed by their source identifier");
  cmd->add_option("--max-errors", args->max_errors, "Problems to list")
      ->check(CLI::Range(0, 1000000))
      ->capture_default_str();
  cmd->callback([args, exit_code] {
    if (!args->rejects.empty() && !args->skip_invalid) {
      std::fprintf(stderr, "joinedup import: --rejects needs --skip-invalid\n");
      *exit_code = 2;
      return;
    }
    *exit_code = RunImport(*args);
  });
}

}  // namespace joinedup::cli
