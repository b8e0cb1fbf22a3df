// Reading the published code lists (data/codes/*.csv) and matching ICD-10 codes against them.
//
// Every list is a CSV whose `#` lines cite its source, then one header row, then data rows
// (RFC 4180: fields may be quoted, "" is a quote inside a quoted field). The lists are compiled
// into the binary and parsed once, at first use; a malformed list is a kInvalidInput error
// naming the file, line and field, never a crash.
//
// ICD-10 matching (Charlson, Elixhauser, HFRS) works on the *normalised* code: surrounding
// whitespace trimmed, dots removed, ASCII letters upper-cased. So "I50.0", "I500", " i500 "
// and "I50.0 " are the same code, and NHS filler characters ("I10X", "I10-") simply follow
// the 3-character category. Upper-casing is our choice: ICD-10 publishes its codes in upper
// case and a lower-case "i500" cannot mean anything else; the R `comorbidity` package matches
// case-sensitively, so on upper-case input (all published data) the results are identical.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace joinedup::analytics {

struct ReferenceRow {
  int line = 0;  // 1-based line in the file, for error messages
  std::vector<std::string> fields;
};

struct ReferenceTable {
  std::string file_name;
  std::vector<std::string> provenance;  // the `#` lines, without the '#'
  std::vector<ReferenceRow> rows;       // every row has exactly as many fields as the header

  // "file.csv:12: field 'points': " — the start of an error message about one field.
  std::string Where(const ReferenceRow& row, std::string_view column) const;
};

// Parses `text` (the contents of `file_name`). The header must be exactly `columns`, in order.
// Errors: no header, a different header, a row with the wrong number of fields, an unterminated
// quote, a file with no data rows.
Result<ReferenceTable> ParseReferenceCsv(std::string_view file_name, std::string_view text,
                                         std::initializer_list<std::string_view> columns);

// Field converters used by the list parsers; `where` starts the error message.
Result<int> ParseIntField(std::string_view text, const std::string& where);
Result<double> ParseDoubleField(std::string_view text, const std::string& where);
// A decimal with at most one digit after the point ("7.1", "3", "0.5"), as tenths (71, 30, 5).
Result<int> ParseTenthsField(std::string_view text, const std::string& where);

// Trimmed, dot-free, upper-case ICD-10 code (see the file comment).
std::string NormaliseIcd10(std::string_view code);

// The first `n` (<= 4) characters of the normalised code, gathered without allocating.
// Returns how many were available (fewer if the code is shorter).
int GatherIcd10Prefix(std::string_view code, char* out, int n);

// Maps ICD-10 prefixes of 3 or 4 characters (digits and letters) to bit masks, and a code to
// the union of the masks of every prefix it starts with. Lookups touch at most two table
// slots, so scoring millions of rows is memory-bound, not search-bound. Immutable after
// building; safe to share between threads.
class Icd10PrefixIndex {
 public:
  Icd10PrefixIndex();

  // `prefix` must already be normalised; anything but 3-4 characters of [0-9A-Z] is refused.
  Status Add(std::string_view prefix, uint64_t bits);

  // Union of the bits of every prefix the (raw, unnormalised) code starts with.
  uint64_t Lookup(std::string_view code) const {
    char c[4];
    const int n = GatherIcd10Prefix(code, c, 4);
    return LookupGathered(c, n);
  }
  // Same, for characters already gathered with GatherIcd10Prefix.
  uint64_t LookupGathered(const char* c, int n) const;

  // Index of a 3-character category, or -1 if a character is not [0-9A-Za-z].
  static int Key3(const char* c);

 private:
  std::vector<uint64_t> by3_;      // Key3 -> bits of 3-character prefixes
  std::vector<int32_t> block_of_;  // Key3 -> block in by4_, or -1
  std::vector<uint64_t> by4_;      // blocks of kAlphabet slots: 4th character -> bits
};

}  // namespace joinedup::analytics
