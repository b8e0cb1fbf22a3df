// The subcommands of `joinedup`. Each Add*Command registers its options on `app` and runs
// when chosen; the command's exit code is left in `*exit_code`.
#pragma once

#include <string>

#include "core/result.h"

namespace CLI {
class App;
}

namespace joinedup::cli {

void AddGenerateCommand(CLI::App& app, int* exit_code);
void AddImportCommand(CLI::App& app, int* exit_code);
void AddReportCommand(CLI::App& app, int* exit_code);
void AddStratifyCommand(CLI::App& app, int* exit_code);
void AddRunsCommands(CLI::App& app, int* exit_code);   // runs, history, movement, worklist
void AddUserCommands(CLI::App& app, int* exit_code);   // user add, user list
void AddCareTeamCommands(CLI::App& app, int* exit_code);  // careteam add, careteam extend
void AddCaseloadCommands(CLI::App& app, int* exit_code);  // caseload capacity, caseload seed
void AddEscalateCommand(CLI::App& app, int* exit_code);   // escalate
// caseload care-work (registered under `caseload` by AddCaseloadCommands)
void AddCareWorkCommand(CLI::App& caseload, int* exit_code);
void AddAuditCommands(CLI::App& app, int* exit_code);  // audit verify
void AddServeCommand(CLI::App& app, int* exit_code);   // serve
void AddResourceTypesCommand(CLI::App& app, int* exit_code);  // resource-types

// Prints "joinedup COMMAND: <error>" on stderr and sets exit code 1 when `status` failed.
void ReportFailure(const char* command, const Status& status, int* exit_code);

// Where the store lives unless --db says otherwise: $JOINEDUP_DB, else ./joinedup.db.
std::string DefaultDatabaseUrl();

}  // namespace joinedup::cli
