// CSV extracts: the import format for sites without FHIR (documented in docs/import.md).
//
// Five kinds of file, each recognised by its header row (not its name): the first column
// names the kind — practice_id, patient_id, event_id, activity_id or medication_id — and the
// other columns, in any order, must be columns of that kind. Quoting follows RFC 4180
// (quoted fields, doubled quotes, embedded commas and line breaks; CRLF or LF), text is
// UTF-8 (a leading byte-order mark is ignored), dates are YYYY-MM-DD, enumerations use the
// tags of domain/population.h and costs are whole pence.
//
// Each row becomes the same Mapped record a FHIR resource would (fhir/resource.h), or a
// MapError whose `field` names the column ("birth_date (column 5)"), so the importer treats
// both formats alike.
//
// Thread safety: none; one reader per thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/result.h"
#include "fhir/ndjson_reader.h"
#include "fhir/resource.h"

namespace joinedup::fhir {

// ---- RFC 4180 records ---------------------------------------------------------------------

struct CsvRecord {
  std::vector<std::string> fields;  // unquoted values
  uint64_t line = 0;                // physical line on which the record starts (1-based)
  uint64_t offset = 0;              // byte offset of its first byte
  std::string_view raw;             // the record's bytes as read, without the final line break
                                    // (empty when too_long); valid until the next call
  uint64_t size = 0;                // bytes, line break excluded
  bool too_long = false;            // longer than the limit: fields are empty
  // Malformed quoting or bytes that are not UTF-8: what is wrong, and the 1-based column
  // where it was found. The reader then resumes after the next line break.
  std::string error;
  size_t error_column = 0;
};

class CsvReader {
 public:
  CsvReader(std::unique_ptr<InputBuffer> input, size_t max_record_bytes);

  // Reads the next record. Returns false at end of input. Blank lines are records with one
  // empty field (the caller decides whether to skip them). kUnavailable on a read error.
  Result<bool> Next(CsvRecord& record);

  uint64_t bytes_done() const { return input_->consumed(); }
  uint64_t bytes_total() const { return input_->total(); }

 private:
  std::unique_ptr<InputBuffer> input_;
  size_t max_record_bytes_;
  uint64_t line_number_ = 1;  // physical line of the next unread byte
};

// ---- Extract files --------------------------------------------------------------------------

enum class ExtractKind { kPractices, kPatients, kEvents, kActivities, kMedications };
std::string_view ExtractKindName(ExtractKind kind);  // "practices", "patients", …

// The kind whose header `first_column` starts, if any (used to recognise a file).
std::optional<ExtractKind> ExtractKindFromIdColumn(std::string_view first_column);

struct ExtractRow {
  uint64_t line = 0;
  std::string_view raw;  // as CsvRecord::raw
  std::variant<Mapped, MapError> record;
};

class CsvExtractReader {
 public:
  // Reads and checks the header. kInvalidInput naming the line and column when the header is
  // not one of the documented kinds, repeats a column, or lacks a required one.
  static Result<std::unique_ptr<CsvExtractReader>> Open(std::unique_ptr<InputBuffer> input,
                                                        const MapOptions& options,
                                                        size_t max_record_bytes);

  ExtractKind kind() const { return kind_; }

  // Reads the next non-blank row. Returns false at end of input.
  Result<bool> Next(ExtractRow& row);

  uint64_t bytes_done() const { return reader_.bytes_done(); }
  uint64_t bytes_total() const { return reader_.bytes_total(); }

 private:
  CsvExtractReader(std::unique_ptr<InputBuffer> input, const MapOptions& options,
                   size_t max_record_bytes);
  std::variant<Mapped, MapError> MapRow(const CsvRecord& record) const;

  CsvReader reader_;
  MapOptions options_;
  size_t max_record_bytes_;
  ExtractKind kind_ = ExtractKind::kPractices;
  // column_of_[c] = index in the row of the kind's c-th known column, or -1 if absent.
  std::vector<int> column_of_;
  size_t width_ = 0;  // number of columns in the header
  CsvRecord record_;
};

}  // namespace joinedup::fhir
