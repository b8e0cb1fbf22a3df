// A `joinedup` with only the score subcommand, so the command can be tested (and timed) before
// the cli layer wires it into the main binary. Same parsing as src/cli/main.cc.
#include <CLI/CLI.hpp>

#include "cli/score_command.h"

int main(int argc, char** argv) {
  CLI::App app{"joinedup (score only)"};
  app.require_subcommand(1);
  int exit_code = 0;
  joinedup::cli::AddScoreCommand(app, &exit_code);
  CLI11_PARSE(app, argc, argv);
  return exit_code;
}
