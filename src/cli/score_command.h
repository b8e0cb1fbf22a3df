// `joinedup score charlson|elixhauser|hfrs --input FILE.csv --out FILE.csv [--threads N]`:
// scores a CSV of (id, ICD-10 code) rows, one output row per id (see analytics/score_file.h
// for the formats). Exit codes: 0 done; 1 bad or unreadable input, unwritable output; 2 an
// unknown score name.
#pragma once

namespace CLI {
class App;
}

namespace joinedup::cli {

void AddScoreCommand(CLI::App& app, int* exit_code);

}  // namespace joinedup::cli
