// joinedup audit verify: walks the audit trail's hash chain.
// Exit 0 intact, 1 broken (the first bad event named), 2 could not check.
#include <CLI/CLI.hpp>

#include <cstdio>

#include "cli/commands.h"
#include "security/audit.h"
#include "store/store.h"

namespace joinedup::cli {

void AddAuditCommands(CLI::App& app, int* exit_code) {
  auto db = std::make_shared<std::string>(DefaultDatabaseUrl());
  auto* audit = app.add_subcommand("audit", "The audit trail");
  audit->require_subcommand(1);
  auto* verify = audit->add_subcommand(
      "verify",
      "Prove the audit trail's hash chain is intact (exit 0), or name the first "
      "altered, inserted or missing event (exit 1)");
  verify->add_option("--db", *db, "Store: a SQLite file path or postgresql:// URL")
      ->capture_default_str();
  verify->callback([db, exit_code] {
    auto store = store::OpenStore(*db);
    if (!store.ok()) {
      std::fprintf(stderr, "joinedup audit verify: %s\n", store.error().ToString().c_str());
      *exit_code = 2;
      return;
    }
    auto result = security::VerifyAuditChain(**store);
    if (!result.ok()) {
      std::fprintf(stderr, "joinedup audit verify: %s\n", result.error().ToString().c_str());
      *exit_code = 2;
      return;
    }
    if (!result->intact()) {
      std::printf("audit trail BROKEN at event %lld: %s\n",
                  static_cast<long long>(*result->first_broken), result->problem.c_str());
      *exit_code = 1;
      return;
    }
    // Keep the head somewhere else: removing the newest events leaves a valid shorter chain.
    std::printf("audit trail intact: %lld events; head event %lld hash %s\n",
                static_cast<long long>(result->events),
                static_cast<long long>(result->head_sequence),
                result->head_hash.empty() ? "-" : result->head_hash.c_str());
  });
}

}  // namespace joinedup::cli
