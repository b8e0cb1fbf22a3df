// Internal to joinedup_export: a Bulk Data export job as it is kept on disk, so that every
// process sharing the jobs directory can answer for it.
//
//   <directory>/<job id>/state.json        this JobState, replaced atomically (temp + rename)
//   <directory>/<job id>/<Type>.ndjson      the output, listed in state.output once complete
//
// The job folder's existence is the job's existence: DELETE renames the folder away (atomic)
// and then removes it, so a worker in another process finds its next write failing and stops.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/date.h"
#include "core/result.h"
#include "export/bulk_export.h"

namespace joinedup::exporter::internal {

enum class JobStatus { kRunning, kCompleted, kFailed, kCancelled };
std::string_view JobStatusName(JobStatus status);  // "running", "completed", …

struct OutputFile {
  std::string type;  // "Patient"
  std::string file;  // "Patient.ndjson", "Patient-2.ndjson", … (a name inside the job folder)
  int64_t count = 0;
  friend bool operator==(const OutputFile&, const OutputFile&) = default;
};

struct JobState {
  std::string id;
  JobStatus status = JobStatus::kRunning;
  int64_t transaction_time_ms = 0;  // kick-off time: the manifest's transactionTime
  int64_t updated_ms = 0;           // last write of this state
  std::string progress;             // X-Progress while running
  std::string error;                // why it failed (kFailed, kCancelled), as the client sees it
  std::string detail;               // the full error, for whoever runs the server; never served
  ExportJobSpec spec;
  std::vector<OutputFile> output;  // complete only
};

// 128 random bits as 32 lowercase hex digits (libsodium randombytes).
std::string NewJobId();
// Exactly 32 lowercase hex digits: anything else is never used to build a path.
bool IsValidJobId(std::string_view id);

std::string JobStateJson(const JobState& state);
// kInternal for a state file that is not what JobStateJson writes.
Result<JobState> ParseJobState(std::string_view json);

// Writes `content` to `path` through a temporary file in the same folder and a rename, so a
// reader sees the old or the new content, never a mix. kNotFound if the folder is gone (the job
// was cancelled); kUnavailable for other I/O errors.
Status WriteFileAtomically(const std::filesystem::path& path, std::string_view content);
// kNotFound if there is no such file.
Result<std::string> ReadWholeFile(const std::filesystem::path& path);

using ::joinedup::FormatInstant;  // core/date.h

}  // namespace joinedup::exporter::internal
