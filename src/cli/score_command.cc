#include "cli/score_command.h"

#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "analytics/score_file.h"

namespace joinedup::cli {

void AddScoreCommand(CLI::App& app, int* exit_code) {
  struct Options {
    std::string score;
    std::string input;
    std::string out;
    int threads = 0;
    bool quiet = false;
  };
  auto options = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "score", "Score a CSV of id,ICD-10 code rows: Charlson, Elixhauser or HFRS per id");
  cmd->add_option("score", options->score, "Which score: charlson, elixhauser or hfrs")->required();
  cmd->add_option("--input", options->input, "CSV of id,code rows (header line optional)")
      ->required();
  cmd->add_option("--out", options->out, "Where to write one row per id")->required();
  cmd->add_option("--threads", options->threads, "Threads to use (0 = all cores)")
      ->check(CLI::Range(0, 1024))
      ->capture_default_str();
  cmd->add_flag("--quiet", options->quiet, "Do not print the summary line");
  cmd->callback([options, exit_code] {
    const auto kind = analytics::ScoreKindFromName(options->score);
    if (!kind) {
      std::fprintf(stderr,
                   "joinedup score: unknown score '%s' (expected charlson, elixhauser or hfrs)\n",
                   options->score.c_str());
      *exit_code = 2;
      return;
    }
    const auto start = std::chrono::steady_clock::now();
    auto stats = analytics::ScoreFile(options->input, options->out, *kind, options->threads);
    if (!stats.ok()) {
      std::fprintf(stderr, "joinedup score: %s\n", stats.error().message.c_str());
      *exit_code = 1;
      return;
    }
    if (!options->quiet) {
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::fprintf(stderr, "joinedup score %s: %lld rows, %lld people -> %s (%.3f s)\n",
                   options->score.c_str(), static_cast<long long>(stats->rows),
                   static_cast<long long>(stats->people), options->out.c_str(), seconds);
    }
  });
}

}  // namespace joinedup::cli
