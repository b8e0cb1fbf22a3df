// NdjsonWriter: a population written as FHIR R4 Bulk Data NDJSON, one file per resource type.
//
// Files in the directory: Organization.ndjson, Patient.ndjson, Encounter.ndjson,
// EpisodeOfCare.ndjson, ChargeItem.ndjson (one per Activity with cost_pence > 0),
// Condition.ndjson, Observation.ndjson, MedicationRequest.ndjson, and on Close() a Bulk Data
// style manifest.json listing the non-empty ones. Each line is exactly what MapResource reads
// back into the same record (fhir_mapping.h). Existing files of those names are replaced.
//
// Not thread-safe: one writer, one thread. Output is buffered; nothing is guaranteed to be on
// disk until Close() returns OK. A record that cannot be written faithfully (see the
// Append*Json functions) fails with kInvalidInput and writes nothing; I/O failures give
// kUnavailable.
#pragma once

#include <array>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "domain/population.h"

namespace joinedup::fhir {

struct NdjsonFile {
  std::string resource_type;  // "Patient"
  std::filesystem::path path;
  int64_t count = 0;          // resources (lines) written
};

struct NdjsonWriterOptions {
  // Bulk Data manifest "transactionTime" (FHIR instant); omitted when empty. The caller
  // supplies it so output is reproducible under a test clock.
  std::string transaction_time;
  bool write_manifest = true;
};

class NdjsonWriter final : public PopulationSink {
 public:
  // Creates `directory` if needed and opens the eight files for writing.
  static Result<std::unique_ptr<NdjsonWriter>> Open(const std::filesystem::path& directory,
                                                    NdjsonWriterOptions options = {});
  ~NdjsonWriter() override;  // closes the files if Close() was not called; errors are lost

  NdjsonWriter(const NdjsonWriter&) = delete;
  NdjsonWriter& operator=(const NdjsonWriter&) = delete;

  Status Add(const Practice& practice) override;
  Status Add(const Patient& patient) override;
  Status Add(const ClinicalEvent& event) override;
  Status Add(const Activity& activity) override;
  Status Add(const Medication& medication) override;

  // Flushes and closes every file, writes manifest.json, and gives the count per file
  // (all eight, in the order above). Call once; later Adds fail.
  Result<std::vector<NdjsonFile>> Close();

 private:
  static constexpr size_t kFiles = 8;
  struct File {
    std::FILE* handle = nullptr;
    std::string buffer;
    int64_t count = 0;
  };
  NdjsonWriter(std::filesystem::path directory, NdjsonWriterOptions options);
  Status Flush(size_t file);
  // Appends the line in `line_` (built by the caller) to `file`.
  Status Commit(size_t file);

  std::filesystem::path directory_;
  NdjsonWriterOptions options_;
  std::array<File, kFiles> files_;
  std::string line_;    // scratch: the record being written
  std::string charge_;  // scratch: an activity's ChargeItem
  bool closed_ = false;
};

}  // namespace joinedup::fhir
