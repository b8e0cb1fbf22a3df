// joinedup: population health and care coordination for integrated care.
#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/score_command.h"

int main(int argc, char** argv) {
  CLI::App app{
      "joinedup — one population, one care plan, one budget.\n"
      "Stratifies a registered population and coordinates the care of those who need it most."};
  app.require_subcommand(1);
  app.set_version_flag("--version", "joinedup 0.1.0");
  int exit_code = 0;
  joinedup::cli::AddGenerateCommand(app, &exit_code);
  joinedup::cli::AddImportCommand(app, &exit_code);
  joinedup::cli::AddReportCommand(app, &exit_code);
  joinedup::cli::AddStratifyCommand(app, &exit_code);
  joinedup::cli::AddRunsCommands(app, &exit_code);
  joinedup::cli::AddScoreCommand(app, &exit_code);
  joinedup::cli::AddUserCommands(app, &exit_code);
  joinedup::cli::AddCareTeamCommands(app, &exit_code);
  joinedup::cli::AddCaseloadCommands(app, &exit_code);
  joinedup::cli::AddEscalateCommand(app, &exit_code);
  joinedup::cli::AddAuditCommands(app, &exit_code);
  joinedup::cli::AddServeCommand(app, &exit_code);
  joinedup::cli::AddResourceTypesCommand(app, &exit_code);
  CLI11_PARSE(app, argc, argv);
  return exit_code;
}
