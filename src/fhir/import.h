// Import: FHIR R4 NDJSON files, FHIR Bundles and CSV extracts into a Store, in one
// transaction. The command `joinedup import PATH…` is a thin shell around Import();
// docs/import.md describes the behaviour for users and the CSV extract format.
//
//   * PATHs are files or directories; a directory contributes its *.ndjson (one resource per
//     line, any types mixed), *.json (one Bundle: transaction, batch or collection) and *.csv
//     (CSV extract) files, not recursing.
//   * Records reach the store in dependency order whatever the order of the arguments:
//     Organization, Patient, Encounter/EpisodeOfCare, then Condition, Observation,
//     MedicationRequest and ChargeItem. Files are read in that order of their first record,
//     and a record that names something not yet read is held back and written once
//     everything else has been, so even one mixed file in any order imports.
//   * Strict by default: a malformed line, a missing or wrong field, an invalid NHS number,
//     a reference to something neither imported nor stored, or an id given twice is an
//     issue naming file:line (and entry[i] in a Bundle) and the field; if there is any
//     issue nothing is committed. With skip_invalid the rest is committed and each refused
//     record is written to the rejects file.
//   * Importing the same records again updates them: the store keys every record by its id.
//   * Resources of types joinedup does not store are counted per type as skipped.
//
// Thread safety: Import uses `store` from the calling thread only; progress is called on it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/result.h"
#include "store/store.h"

namespace joinedup::fhir {

struct ImportOptions {
  // Commit the valid records and report the invalid ones, instead of committing nothing.
  bool skip_invalid = false;
  // Accept people without an NHS number (see MapOptions::allow_missing_nhs_number).
  bool allow_missing_nhs_number = false;
  // With skip_invalid: where to write the rejects report (format in docs/import.md);
  // empty for none. Overwritten if it exists.
  std::string rejects_path;
  // An NDJSON line (or CSV record) longer than this is refused without being read into memory.
  size_t max_line_bytes = 16 << 20;
  // Called now and then with bytes read so far across all files and their total size.
  std::function<void(uint64_t bytes_done, uint64_t bytes_total)> progress;
  // How many issues the report keeps in full; the rest are only counted.
  int max_errors_reported = 100;
};

struct ImportIssue {
  std::string file;      // as given (the path of the file read)
  uint64_t line = 0;     // 1-based; 0 inside a Bundle (the entry says where)
  std::string location;  // "entry[3]" inside a Bundle, else ""
  std::string resource;  // "Patient/p1", "Patient" when it has no id, "" when unreadable
  std::string field;     // "identifier[0].value", "birth_date (column 5)", or ""
  std::string message;
  // "Patient.ndjson:12: Patient/p1: identifier[0].value: NHS number … fails the Modulus 11 check"
  // (parts that are empty are left out; a Bundle entry reads "b.json: entry[3]: …").
  std::string ToString() const;
};

struct ImportTypeCounts {
  uint64_t read = 0;      // resources (or CSV rows) of this type found
  uint64_t imported = 0;  // accepted by the store; they stay only if the report is `committed`
  uint64_t skipped = 0;   // of a type, or a kind, that joinedup does not store
  uint64_t rejected = 0;  // refused with an issue
  friend bool operator==(const ImportTypeCounts&, const ImportTypeCounts&) = default;
};

struct ImportReport {
  // Keyed by FHIR resource type ("Patient", "Claim"); CSV rows count under the type they
  // stand for (patients.csv → "Patient", events.csv → "Condition"/"Observation", …).
  // Lines that could not be read as a resource at all count under "(unreadable)".
  std::map<std::string, ImportTypeCounts> by_type;
  std::vector<ImportIssue> issues;  // the first max_errors_reported issues
  uint64_t issue_count = 0;         // all issues, including those not kept
  bool committed = false;           // false: the store is exactly as it was before
  uint64_t files = 0;
  uint64_t bytes = 0;

  ImportTypeCounts Totals() const;
};

// Imports `paths` into `store`. Problems with the data are issues in the report (and, unless
// skip_invalid, nothing is committed). The Result is an error only when the import could not
// be carried out at all, and then nothing is committed either: kNotFound for a path that does
// not exist, kInvalidInput for a file that is not .ndjson/.json/.csv or an unreadable
// directory, kUnavailable for a read error or a store failure.
Result<ImportReport> Import(const std::vector<std::string>& paths, const ImportOptions& options,
                            store::Store& store);

}  // namespace joinedup::fhir
