// Scoring a CSV of (id, ICD-10 code) rows: what `joinedup score charlson|elixhauser|hfrs` does.
//
// Input: one row per diagnosis, two fields `id,code`. The first line is a header, and skipped,
// if its fields are `id` and `code` (any case, surrounding spaces ignored); otherwise it is
// data. Fields may be quoted (RFC 4180: "a,b", "say ""x"""); a line break inside a quoted field
// is refused (an id or a code never holds one, and refusing it lets the file be split at any
// line break). Lines may end in LF or CRLF; empty lines are skipped; a UTF-8 byte order mark is
// ignored. An id is kept exactly as written (after unquoting); codes are normalised as in
// code_lists.h. Every row counts (HFRS: the caller chose the admissions). Malformed rows (wrong
// field count, empty id or code, bad quoting) stop the run with "file:line: …"; an empty file
// or one with only a header is an error too.
//
// Output: one row per id in order of first appearance in the input, whatever the thread count.
//   charlson:   id,charlson_1987,charlson_quan2011,<17 condition flags>
//   elixhauser: id,elixhauser_vw2009,elixhauser_swiss,<31 condition flags>
//   hfrs:       id,hfrs,hfrs_band,hfrs_categories  (categories space-separated, list order)
// Flags are 0/1 after the hierarchy (as R `comorbidity` with assign0 = TRUE); ids that need it
// are quoted.
//
// Speed: the file is memory-mapped and cut into one chunk per thread at line breaks; each
// thread parses its chunk and folds codes into a per-id bit mask in its own hash table (an
// id's rows may be anywhere in the file); the tables are then merged in chunk order, which
// yields first-appearance order directly, and output rows are formatted in parallel.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace joinedup::analytics {

enum class ScoreKind { kCharlson, kElixhauser, kHfrs };
std::string_view ScoreKindName(ScoreKind kind);  // "charlson", "elixhauser", "hfrs"
std::optional<ScoreKind> ScoreKindFromName(std::string_view name);

struct ScoredPerson {
  std::string_view id;        // into the scored text, or into ScoredFile::owned_ids
  uint64_t first_offset = 0;  // byte offset of the id's first row
  // Charlson/Elixhauser: bits[0] = conditions matched (before the hierarchy).
  // HFRS: bit i of the 128 = category i found.
  uint64_t bits[2] = {0, 0};
};

struct ScoredFile {
  ScoreKind kind = ScoreKind::kCharlson;
  int64_t rows = 0;
  std::vector<ScoredPerson> people;  // first-appearance order
  // Ids that had to be unquoted ("a""b"), one deque per parsing thread: moving a deque keeps
  // its elements in place, so the string_views above stay valid.
  std::vector<std::deque<std::string>> owned_ids;
};

// The scores of one person: Charlson {1987, Quan 2011}; Elixhauser {van Walraven, Swiss};
// HFRS {points in tenths}.
std::vector<int> PersonScores(ScoreKind kind, const ScoredPerson& person);

// Scores `text` (the contents of `file_name`, used in errors) on `threads` threads (0 = all
// cores). The result points into `text`, which must outlive it.
Result<ScoredFile> ScoreCsvText(std::string_view file_name, std::string_view text, ScoreKind kind,
                                int threads);

// The output CSV (header and rows) of a scored file.
std::string FormatScoredFile(const ScoredFile& scored, int threads);

struct ScoreFileStats {
  int64_t rows = 0;
  int64_t people = 0;
};

// Reads `input_path`, writes `output_path` (via a temporary file renamed into place, so a
// failed run leaves no partial output). Errors name the file (and line for bad rows).
Result<ScoreFileStats> ScoreFile(const std::string& input_path, const std::string& output_path,
                                 ScoreKind kind, int threads);

}  // namespace joinedup::analytics
