// FHIR Bulk Data $export (https://hl7.org/fhir/uv/bulkdata/export.html), asynchronous:
// kick-off answers 202 with Content-Location, polling answers 202 with X-Progress until the
// manifest is ready, DELETE cancels, and the manifest's NDJSON files are fetched with the same
// bearer token. The output is what `joinedup import` reads back.
//
// The FHIR API (api/fhir_api.h) decides who may export and what they may see (the Visibility
// in the spec) and audits the kick-off; this module runs the jobs. Jobs live in a directory
// (one folder per job, its state in a file written atomically), so any server process sharing
// the directory can answer a poll; the worker threads belong to the process that took the
// kick-off. Each worker opens its own Store from `store_url`. Job folders and files are the
// server user's alone (0700, 0600) and are deleted file_lifetime_ms after the job ends; beside
// each file the person of each line is kept (never served), so a download can be decided
// person by person as access stands then.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/message.h"
#include "security/audit.h"
#include "store/resource_store.h"

namespace joinedup::exporter {

struct ExportJobSpec {
  enum class Level { kSystem, kPatient, kGroup };
  Level level = Level::kSystem;
  std::string group_id;             // kGroup: the Group (segment) whose members are exported
  std::vector<std::string> types;   // _type; empty: every type the caller may export
  std::optional<int64_t> since_ms;  // _since
  store::Visibility visibility;     // whose records may go out
  int64_t user_id = 0;              // who asked: only they may poll, fetch or cancel
  security::AuditActor actor;       // who the completion AuditEvent names
  std::string request_url;  // the kick-off URL as the client sent it (manifest "request")
};

struct BulkExportOptions {
  std::filesystem::path directory;  // where jobs and their files live
  std::string store_url;            // workers open their own connection
  std::string base_url;             // the FHIR base, for Content-Location and file URLs
  security::Clock clock;
  int max_concurrent_jobs = 1;
  // A job and its files are deleted this long after it ended (completed, failed or cancelled);
  // the Bulk Data IG leaves the time to the server. Default: 24 hours.
  int64_t file_lifetime_ms = 24LL * 60 * 60 * 1000;
  // How often a thread looks for expired jobs to delete (0: never; tests call SweepExpired).
  int64_t sweep_every_ms = 60 * 1000;
  // Called by a worker thread before it reads each page, with a predicate that turns true once
  // the job is being stopped (deleted or shut down). Tests hold a job running with it until
  // they release it or stop it, instead of hoping it is still running when they poll.
  std::function<void(const std::function<bool()>& stopping)> before_page;
};

class BulkExport {
 public:
  explicit BulkExport(BulkExportOptions options);
  ~BulkExport();  // stops running jobs (they are left "cancelled") and joins the workers

  // 202 with Content-Location <base>/$export-status/<job>; 429 when max_concurrent_jobs run;
  // 400 OperationOutcome for a _type this module cannot export.
  http::HttpResponse Kickoff(const ExportJobSpec& spec);
  // 202 + X-Progress while running; 200 + the manifest when done; 500 OperationOutcome if the
  // job failed; 404 for an unknown job or one that `user_id` did not start.
  http::HttpResponse Poll(std::string_view job_id, int64_t user_id);
  // 202 and the job's files removed; 404 as for Poll.
  http::HttpResponse Cancel(std::string_view job_id, int64_t user_id);
  // Whether a line about the person `patient_key` of a file of `type` may go to the caller now
  // (their role, scopes, relationships and the person's consent as they stand at download).
  using PersonFilter = std::function<Result<bool>(std::string_view type, int64_t patient_key)>;
  // application/fhir+ndjson; 404 as for Poll or for a file the manifest does not list. With
  // `may_see`, only the lines it allows (lines about no one always go); `people` gets everyone
  // the answer names, for its audit event.
  http::HttpResponse File(std::string_view job_id, std::string_view file_name, int64_t user_id,
                          const PersonFilter& may_see = {},
                          std::vector<int64_t>* people = nullptr);

  // What job `job_id` was asked for, if it exists and `user_id` started it (so that each later
  // step can be authorised again as the caller is then).
  std::optional<ExportJobSpec> Spec(std::string_view job_id, int64_t user_id);
  // Deletes every job that ended more than file_lifetime_ms ago; returns how many.
  int SweepExpired();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace joinedup::exporter
