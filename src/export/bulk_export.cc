// Bulk Data $export jobs: kick-off, the worker that writes the NDJSON files, status, files and
// cancellation. The rules followed are those of the FHIR Bulk Data Access IG, "Export"
// (https://hl7.org/fhir/uv/bulkdata/export.html); docs/export.md says what joinedup chose where
// the IG leaves a choice.
#include "export/bulk_export.h"

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>
#include <unordered_set>
#include <variant>

#include <fcntl.h>
#include <unistd.h>

#include "core/strings.h"
#include "export/job_state.h"
#include "fhir/fhir_mapping.h"
#include "fhir/served_text.h"
#include "fhir/search/paging.h"
#include "fhir/search/response.h"
#include "fhir/search/search_params.h"
#include "resources/registry.h"
#include "store/store.h"

namespace joinedup::exporter {
namespace {

namespace fs = std::filesystem;
namespace search = fhir::search;
using internal::JobState;
using internal::JobStatus;
using internal::OutputFile;


constexpr int kPageSize = 1000;                // rows per SearchResources call
constexpr int64_t kMaxLinesPerFile = 100'000;  // a file is read whole by File(): bound it
constexpr size_t kFlushBytes = 1 << 20;        // buffered output per file before a write
constexpr auto kProgressEvery = std::chrono::seconds(1);
// A "running" job whose state has not been written for this long, and that no worker of this
// process runs, belongs to a process that ended (a worker writes at least once per page).
constexpr int64_t kStaleAfterMs = 10 * 60 * 1000;

// What can be exported is the registry's (resources/registry.h); the manifest lists files in
// registry order, which is the order `joinedup import` needs them in: referenced first.
bool IsExportType(std::string_view type) {
  const resources::ResourceTypeDef* t = resources::FindType(type);
  return t != nullptr && t->exported;
}

http::HttpResponse Outcome(int status, search::IssueSeverity severity, search::IssueType type,
                          std::string diagnostics, std::vector<std::string> expression = {}) {
  search::OutcomeIssue issue{severity, type, std::move(diagnostics), std::move(expression)};
  http::HttpResponse response;
  response.status = status;
  response.body = search::OperationOutcomeJson({&issue, 1});
  return response;
}

http::HttpResponse NoSuchJob() {
  return Outcome(404, search::IssueSeverity::kError, search::IssueType::kNotFound,
                 "no such export job");
}

// Beside each output file, the person each of its lines is about, one per line: a patient key
// or "-" (a practice). Never listed in the manifest, never served.
std::string KeysFileOf(std::string_view file) { return std::string(file) + ".keys"; }

// A new file readable and writable by the server's user only ("x": never one some other
// writer made, e.g. in a folder re-created by hand).
std::FILE* OpenPrivate(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return nullptr;
  std::FILE* handle = ::fdopen(fd, "wb");
  if (handle == nullptr) ::close(fd);
  return handle;
}

// Why a worker stops early.
enum class StopReason : int { kNone, kDeleted, kShutdown };

// Output of one resource type, split into files of at most kMaxLinesPerFile lines. A file is
// created on its first line, so types with nothing to export have no file.
class TypeOutput {
 public:
  TypeOutput(fs::path folder, std::string type)
      : folder_(std::move(folder)), type_(std::move(type)) {}
  ~TypeOutput() {
    if (handle_ != nullptr) std::fclose(handle_);
    if (keys_ != nullptr) std::fclose(keys_);
  }
  TypeOutput(const TypeOutput&) = delete;
  TypeOutput& operator=(const TypeOutput&) = delete;

  // `person`: whom the line is about (its patient key), so a download can be decided person
  // by person as the caller's access stands then.
  Status AddLine(std::string_view line, std::optional<int64_t> person) {
    if (handle_ == nullptr || files_.back().count == kMaxLinesPerFile)
      JU_RETURN_IF_ERROR(NextFile());
    buffer_.append(line);
    buffer_.push_back('\n');
    keys_buffer_ += person ? std::to_string(*person) : "-";
    keys_buffer_.push_back('\n');
    ++files_.back().count;
    ++total_;
    if (buffer_.size() >= kFlushBytes) return Flush();
    return Ok();
  }

  Status Close() {
    if (handle_ == nullptr) return Ok();
    JU_RETURN_IF_ERROR(Flush());
    std::FILE* handle = std::exchange(handle_, nullptr);
    std::FILE* keys = std::exchange(keys_, nullptr);
    const bool closed = std::fclose(handle) == 0;
    if (std::fclose(keys) != 0 || !closed) return IoError("close");
    return Ok();
  }

  const std::vector<OutputFile>& files() const { return files_; }
  int64_t total() const { return total_; }

 private:
  Status NextFile() {
    JU_RETURN_IF_ERROR(Close());
    OutputFile file;
    file.type = type_;
    file.file = files_.empty() ? type_ + ".ndjson"
                               : type_ + "-" + std::to_string(files_.size() + 1) + ".ndjson";
    for (auto [handle, name] : {std::pair{&handle_, file.file}, {&keys_, KeysFileOf(file.file)}}) {
      *handle = OpenPrivate(folder_ / name);
      if (*handle == nullptr) {
        const int error = errno;
        // Both files or neither: the folder can go (a deleted job) between the two opens.
        if (handle_ != nullptr) std::fclose(std::exchange(handle_, nullptr));
        if (error == ENOENT) return Error::NotFound("export job folder is gone");
        return Error::Unavailable("cannot create " + (folder_ / name).string() + ": " +
                                  std::strerror(error));
      }
    }
    files_.push_back(std::move(file));
    return Ok();
  }

  Status Flush() {
    if (buffer_.empty()) return Ok();
    if (std::fwrite(buffer_.data(), 1, buffer_.size(), handle_) != buffer_.size() ||
        std::fwrite(keys_buffer_.data(), 1, keys_buffer_.size(), keys_) != keys_buffer_.size())
      return IoError("write");
    buffer_.clear();
    keys_buffer_.clear();
    return Ok();
  }

  Status IoError(std::string_view what) const {
    return Error::Unavailable("cannot " + std::string(what) + " " +
                              (folder_ / files_.back().file).string() + ": " +
                              std::strerror(errno));
  }

  fs::path folder_;
  std::string type_;
  std::FILE* handle_ = nullptr;
  std::FILE* keys_ = nullptr;  // the person of each line: a key, or "-" (KeysFileOf)
  std::string buffer_;
  std::string keys_buffer_;
  std::vector<OutputFile> files_;
  int64_t total_ = 0;
};

// One job's work, on its own thread with its own Store.
class ExportRun {
 public:
  // `release` is called once the work is over, just before the final state is written, so a
  // client that sees the job done can start another at once.
  ExportRun(const BulkExportOptions& options, JobState state, const std::atomic<int>& stop,
            std::function<void()> release)
      : options_(options),
        state_(std::move(state)),
        stop_(stop),
        release_(std::move(release)),
        folder_(options.directory / state_.id) {}

  // Runs the job to its end and leaves the state file saying how it ended (or no folder at all
  // when the job was deleted meanwhile).
  void Run() {
    Status status = Export();
    for (auto& [type, output] : outputs_) (void)output->Close();
    store_.reset();
    release_();
    if (status.ok()) {
      (void)SaveState();  // kNotFound: deleted meanwhile; else the stale rule reports it
      return;
    }
    if (status.error().code == ErrorCode::kNotFound && !fs::exists(folder_)) return;  // deleted
    if (static_cast<StopReason>(stop_.load()) == StopReason::kDeleted) return;
    RemoveOutputFiles();
    bool shutdown = static_cast<StopReason>(stop_.load()) == StopReason::kShutdown;
    state_.status = shutdown ? JobStatus::kCancelled : JobStatus::kFailed;
    const Error& error = status.error();
    state_.detail = error.ToString();
    // What the client is told: its own mistakes in full (an unknown Group), nothing of the
    // server's insides (SQL, paths, connection strings).
    if (shutdown)
      state_.error = "the server stopped before the export finished; start it again";
    else if (error.code == ErrorCode::kNotFound || error.code == ErrorCode::kInvalidInput)
      state_.error = error.message;
    else if (error.code == ErrorCode::kUnavailable)
      state_.error = "a database or file system failure stopped the export; try again";
    else
      state_.error = "internal error";
    state_.output.clear();
    (void)SaveState();
  }

 private:
  bool Wanted(std::string_view type) const {
    if (state_.spec.types.empty()) return true;
    for (const std::string& t : state_.spec.types)
      if (t == type) return true;
    return false;
  }

  Status Export() {
    const ExportJobSpec& spec = state_.spec;
    JU_ASSIGN_OR_RETURN(store_, store::OpenStore(options_.store_url));
    resources_ = store_.get();  // what export asks of the store: store/resource_store.h

    if (spec.level == ExportJobSpec::Level::kGroup) {
      JU_ASSIGN_OR_RETURN(std::vector<int64_t> members,
                          resources_->SegmentMembers(spec.group_id, spec.visibility));
      members_.insert(members.begin(), members.end());
    }
    const bool system_level = spec.level == ExportJobSpec::Level::kSystem;
    // Below system level the Organizations are the practices the exported people are registered
    // with (and that their GP appointments were at), so the Patient rows are read when
    // Organization is wanted even if Patient is not.
    const bool collect_practices = !system_level && Wanted("Organization");
    const bool want_activities =
        Wanted("Encounter") || Wanted("EpisodeOfCare") || Wanted("ChargeItem");

    if (Wanted("Patient") || collect_practices)
      JU_RETURN_IF_ERROR(Scan("Patient", /*since_in_sql=*/!collect_practices));
    if (want_activities) {
      JU_RETURN_IF_ERROR(Scan("Encounter", true));
      JU_RETURN_IF_ERROR(Scan("EpisodeOfCare", true));
    }
    for (std::string_view type : {"Condition", "Observation", "MedicationRequest"})
      if (Wanted(type)) JU_RETURN_IF_ERROR(Scan(type, true));
    // Types kept as documents go out as stored, whatever they are.
    for (const resources::ResourceTypeDef& type : resources::AllTypes())
      if (type.kept_as_document && type.exported && Wanted(type.name))
        JU_RETURN_IF_ERROR(Scan(type.name, true));
    if (Wanted("Organization")) JU_RETURN_IF_ERROR(Scan("Organization", true));

    for (auto& [type, output] : outputs_) JU_RETURN_IF_ERROR(output->Close());
    JU_RETURN_IF_ERROR(CheckStop());

    // The completion audit comes before the files are released: no unaudited export.
    security::AuditEntry entry;
    entry.action = 'E';
    entry.subtype = "export";
    entry.query = spec.request_url;
    entry.patient_keys.assign(people_.begin(), people_.end());
    security::AuditTrail trail(*store_, options_.clock);
    JU_RETURN_IF_ERROR(trail.Record(spec.actor, std::move(entry)));

    state_.output.clear();
    for (const resources::ResourceTypeDef& type : resources::AllTypes()) {
      auto it = outputs_.find(std::string(type.name));
      if (it == outputs_.end()) continue;
      for (const OutputFile& file : it->second->files()) state_.output.push_back(file);
    }
    state_.status = JobStatus::kCompleted;
    state_.progress = "complete";
    return Ok();
  }

  // Pages through every visible row of `type` in id order (keyset paging) and writes those the
  // job wants. _since goes into the SQL as _lastUpdated (whole seconds, so it selects a
  // superset) and is applied exactly, in milliseconds, here.
  Status Scan(std::string_view type, bool since_in_sql) {
    const ExportJobSpec& spec = state_.spec;
    search::SearchRequest request;
    request.resource_type = std::string(type);
    request.count = kPageSize;
    request.total = search::Total::kNone;
    if (spec.since_ms && since_in_sql) {
      const search::SearchParamDef* param = search::FindSearchParam("Patient", "_lastUpdated");
      int64_t since_s =
          *spec.since_ms >= 0 ? *spec.since_ms / 1000 : -((-*spec.since_ms + 999) / 1000);
      search::Filter filter;
      filter.param = param;
      filter.any_of.push_back(search::DateValue{search::DatePrefix::kGe, since_s, since_s + 1});
      filter.raw_value = "ge" + internal::FormatInstant(since_s * 1000);
      request.filters.push_back(std::move(filter));
    }
    current_type_ = std::string(type);
    std::optional<search::PageCursor> cursor;
    while (true) {
      if (options_.before_page) options_.before_page([this] { return !CheckStop().ok(); });
      JU_RETURN_IF_ERROR(CheckStop());
      JU_ASSIGN_OR_RETURN(store::ResourcePage page,
                          resources_->SearchResources(request, cursor ? &*cursor : nullptr,
                                                      spec.visibility, /*want_total=*/false));
      for (const store::FoundResource& found : page.matches) JU_RETURN_IF_ERROR(Take(found));
      JU_RETURN_IF_ERROR(ReportProgress());
      if (!page.has_next || page.matches.empty()) return Ok();
      const store::FoundResource& last = page.matches.back();
      cursor = search::PageCursor{{last.sort_values.begin(), last.sort_values.end()}, last.id};
    }
  }

  bool InScope(const store::FoundResource& found) const {
    if (state_.spec.level != ExportJobSpec::Level::kGroup || !found.patient_key) return true;
    return members_.contains(*found.patient_key);
  }

  // _since: only resources whose meta.lastUpdated ≥ since; a resource never written through
  // the API has no lastUpdated and is left out (docs/export.md).
  bool Since(const store::FoundResource& found) const {
    const auto& since = state_.spec.since_ms;
    return !since || (found.meta.last_updated_ms && *found.meta.last_updated_ms >= *since);
  }

  Status Take(const store::FoundResource& found) {
    if (!InScope(found)) return Ok();
    bool since = Since(found);
    line_.clear();
    if (const auto* patient = std::get_if<Patient>(&found.record)) {
      if (!patient->practice_id.empty()) practices_.insert(patient->practice_id);
      if (!since || !Wanted("Patient")) return Ok();
      JU_RETURN_IF_ERROR(fhir::AppendPatientJson(*patient, line_));
      return Write("Patient", found);
    }
    if (!since) return Ok();
    if (const auto* activity = std::get_if<Activity>(&found.record)) {
      std::string_view type = fhir::ActivityResourceType(activity->type);
      if (Wanted(type)) {
        if (!activity->practice_id.empty()) practices_.insert(activity->practice_id);
        JU_RETURN_IF_ERROR(fhir::AppendActivityJson(*activity, line_));
        JU_RETURN_IF_ERROR(Write(type, found));
      }
      // So `joinedup import` rebuilds costs: one ChargeItem per activity with a cost.
      if (activity->cost_pence > 0 && Wanted("ChargeItem")) {
        line_.clear();
        JU_RETURN_IF_ERROR(fhir::AppendChargeItemJson(*activity, line_));
        JU_RETURN_IF_ERROR(Write("ChargeItem", found));
      }
      return Ok();
    }
    if (const auto* event = std::get_if<ClinicalEvent>(&found.record)) {
      JU_RETURN_IF_ERROR(fhir::AppendClinicalEventJson(*event, line_));
      return Write(found.resource_type, found);
    }
    if (const auto* medication = std::get_if<Medication>(&found.record)) {
      JU_RETURN_IF_ERROR(fhir::AppendMedicationRequestJson(*medication, line_));
      return Write("MedicationRequest", found);
    }
    if (const auto* document = std::get_if<store::ResourceJson>(&found.record)) {
      if (!resources::IsKeptAsDocument(found.resource_type))
        return Error::Internal("the store returned " + found.resource_type + " as a document");
      line_ = document->json;
      return Write(found.resource_type, found);
    }
    if (const auto* practice = std::get_if<Practice>(&found.record)) {
      if (state_.spec.level != ExportJobSpec::Level::kSystem && !practices_.contains(practice->id))
        return Ok();
      JU_RETURN_IF_ERROR(fhir::AppendOrganizationJson(*practice, line_));
      return Write("Organization", found);
    }
    return Error::Internal("the store returned a " + found.resource_type +
                           " record of the wrong kind");
  }

  Status Write(std::string_view type, const store::FoundResource& found) {
    auto it = outputs_.find(std::string(type));
    if (it == outputs_.end())
      it = outputs_
               .emplace(std::string(type), std::make_unique<TypeOutput>(folder_, std::string(type)))
               .first;
    // A record written through the API goes out as the client wrote it (a ChargeItem is
    // derived from its activity, so it is always the rendering).
    if (type == found.resource_type) line_ = fhir::ServedText(std::move(line_), found.document);
    JU_RETURN_IF_ERROR(it->second->AddLine(line_, found.patient_key));
    if (found.patient_key) people_.insert(*found.patient_key);
    ++written_;
    return Ok();
  }

  Status CheckStop() const {
    if (static_cast<StopReason>(stop_.load()) != StopReason::kNone)
      return Error::Conflict("the export was stopped");
    // Deleted by another process sharing the directory: its folder was renamed away.
    if (!fs::exists(folder_)) return Error::NotFound("export job folder is gone");
    return Ok();
  }

  Status ReportProgress() {
    auto now = std::chrono::steady_clock::now();
    if (now - last_progress_ < kProgressEvery) return Ok();
    last_progress_ = now;
    state_.progress = std::to_string(written_) + " resources written; reading " + current_type_;
    return SaveState();
  }

  Status SaveState() {
    state_.updated_ms = options_.clock();
    return internal::WriteFileAtomically(folder_ / "state.json", internal::JobStateJson(state_));
  }

  void RemoveOutputFiles() {
    for (auto& [type, output] : outputs_)
      for (const OutputFile& file : output->files()) {
        std::error_code ec;
        fs::remove(folder_ / file.file, ec);
      }
  }

  const BulkExportOptions& options_;
  JobState state_;
  const std::atomic<int>& stop_;
  std::function<void()> release_;
  fs::path folder_;
  std::unique_ptr<store::Store> store_;
  store::ResourceStore* resources_ = nullptr;
  std::unordered_set<int64_t> members_;  // kGroup: the segment's (visible) members
  std::set<std::string> practices_;      // below system level: the Organizations to export
  std::set<int64_t> people_;             // everyone with a resource in the output
  std::map<std::string, std::unique_ptr<TypeOutput>> outputs_;
  std::string line_;
  std::string current_type_;
  int64_t written_ = 0;
  std::chrono::steady_clock::time_point last_progress_ = std::chrono::steady_clock::now();
};

std::string ManifestJson(const JobState& state, std::string_view base_url) {
  using Json = nlohmann::json;
  Json output = Json::array();
  for (const OutputFile& file : state.output)
    output.push_back(
        {{"type", file.type},
         {"url", std::string(base_url) + "/$export-file/" + state.id + "/" + file.file},
         {"count", file.count}});
  Json manifest = {{"transactionTime", internal::FormatInstant(state.transaction_time_ms)},
                   {"request", state.spec.request_url},
                   {"requiresAccessToken", true},
                   {"output", output},
                   {"error", Json::array()}};
  return manifest.dump(2, ' ', false, Json::error_handler_t::replace);
}

}  // namespace

struct BulkExport::Impl {
  struct Worker {
    std::thread thread;
    std::atomic<int> stop{static_cast<int>(StopReason::kNone)};
    std::atomic<bool> finished{false};
  };

  BulkExportOptions options;
  std::mutex mutex;
  std::map<std::string, std::unique_ptr<Worker>> workers;  // this process's jobs, by id
  // The janitor deletes expired jobs while the server runs (SweepExpired).
  std::thread janitor;
  std::condition_variable janitor_wake;
  bool stopping = false;  // guarded by `mutex`

  fs::path Folder(std::string_view id) const { return options.directory / std::string(id); }

  // A job that ended (or whose process ended) more than file_lifetime_ms ago: it and its files
  // are deleted.
  bool Expired(const JobState& state) const {
    return options.clock() - state.updated_ms > options.file_lifetime_ms;
  }

  // The job's state if it exists, has not expired and `user_id` started it; nullopt answers
  // 404. An expired job found here is deleted at once.
  Result<std::optional<JobState>> Load(std::string_view id, int64_t user_id) const {
    if (!internal::IsValidJobId(id)) return std::optional<JobState>();
    auto text = internal::ReadWholeFile(Folder(id) / "state.json");
    if (!text.ok()) {
      if (text.error().code == ErrorCode::kNotFound) return std::optional<JobState>();
      return text.take_error();
    }
    JU_ASSIGN_OR_RETURN(JobState state, internal::ParseJobState(*text));
    if (state.id != id) return std::optional<JobState>();
    if (Expired(state)) {
      Delete(id);
      return std::optional<JobState>();
    }
    if (state.spec.user_id != user_id) return std::optional<JobState>();
    return std::optional<JobState>(std::move(state));
  }

  // Renames the job's folder away (atomic: from then on the job does not exist for any
  // process), then removes it. False if it could not be renamed and still exists.
  bool Delete(std::string_view id) const {
    fs::path folder = Folder(id);
    fs::path doomed =
        options.directory / (".deleted-" + std::string(id) + "-" + internal::NewJobId().substr(0, 8));
    std::error_code ec;
    fs::rename(folder, doomed, ec);
    if (ec) return !fs::exists(folder);
    // A worker of another process may still hold a file open here; unlinking is still safe.
    fs::remove_all(doomed, ec);
    return true;
  }

  // Joins the threads of finished jobs. Called with `mutex` held.
  void Reap() {
    for (auto it = workers.begin(); it != workers.end();) {
      if (it->second->finished.load()) {
        it->second->thread.join();
        it = workers.erase(it);
      } else {
        ++it;
      }
    }
  }
};

BulkExport::BulkExport(BulkExportOptions options) : impl_(std::make_unique<Impl>()) {
  if (!options.clock) options.clock = security::SystemClockMs;
  while (!options.base_url.empty() && options.base_url.back() == '/') options.base_url.pop_back();
  impl_->options = std::move(options);
  if (impl_->options.sweep_every_ms > 0)
    impl_->janitor = std::thread([this] {
      std::unique_lock lock(impl_->mutex);
      while (!impl_->stopping) {
        lock.unlock();
        SweepExpired();
        lock.lock();
        impl_->janitor_wake.wait_for(
            lock, std::chrono::milliseconds(impl_->options.sweep_every_ms),
            [this] { return impl_->stopping; });
      }
    });
}

BulkExport::~BulkExport() {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stopping = true;
  }
  impl_->janitor_wake.notify_all();
  if (impl_->janitor.joinable()) impl_->janitor.join();
  std::lock_guard lock(impl_->mutex);
  for (auto& [id, worker] : impl_->workers)
    worker->stop.store(static_cast<int>(StopReason::kShutdown));
  for (auto& [id, worker] : impl_->workers) worker->thread.join();
  impl_->workers.clear();
}

int BulkExport::SweepExpired() {
  int deleted = 0;
  std::error_code ec;
  // Never throws: the directory may change or vanish while it is read.
  for (fs::directory_iterator it(impl_->options.directory, ec), end; !ec && it != end;
       it.increment(ec)) {
    const fs::directory_entry& entry = *it;
    const std::string name = entry.path().filename().string();
    if (name.starts_with(".deleted-")) {  // a removal cut short (a crash): finish it
      std::error_code ignored;
      fs::remove_all(entry.path(), ignored);
      continue;
    }
    if (!internal::IsValidJobId(name)) continue;
    auto text = internal::ReadWholeFile(entry.path() / "state.json");
    if (!text.ok()) continue;
    auto state = internal::ParseJobState(*text);
    if (!state.ok() || !impl_->Expired(*state)) continue;
    {
      std::lock_guard lock(impl_->mutex);
      impl_->Reap();
      if (impl_->workers.contains(name)) continue;  // still being written by this process
    }
    if (impl_->Delete(name)) ++deleted;
  }
  return deleted;
}

std::optional<ExportJobSpec> BulkExport::Spec(std::string_view job_id, int64_t user_id) {
  auto loaded = impl_->Load(job_id, user_id);
  if (!loaded.ok() || !*loaded) return std::nullopt;
  return (*loaded)->spec;
}

http::HttpResponse BulkExport::Kickoff(const ExportJobSpec& spec) {
  for (const std::string& type : spec.types)
    if (!IsExportType(type)) {
      std::string types;
      for (const resources::ResourceTypeDef& t : resources::AllTypes())
        if (t.exported) types += (types.empty() ? "" : ", ") + std::string(t.name);
      return Outcome(400, search::IssueSeverity::kError, search::IssueType::kNotSupported,
                     "_type: " + type + " cannot be exported; the types are " + types, {"_type"});
    }
  if (spec.level == ExportJobSpec::Level::kGroup && spec.group_id.empty())
    return Outcome(400, search::IssueSeverity::kError, search::IssueType::kInvalid,
                   "a Group export needs the Group's id");

  std::lock_guard lock(impl_->mutex);
  impl_->Reap();
  if (static_cast<int>(impl_->workers.size()) >= impl_->options.max_concurrent_jobs) {
    search::HttpError error =
        search::TooManyRequests("too many exports are running on this server; try again later");
    http::HttpResponse response{error.status, "application/fhir+json", {}, error.Body()};
    response.headers.emplace_back("Retry-After", "60");
    return response;
  }

  JobState state;
  state.id = internal::NewJobId();
  state.spec = spec;
  state.transaction_time_ms = impl_->options.clock();
  state.updated_ms = state.transaction_time_ms;
  state.progress = "queued";
  std::error_code ec;
  fs::create_directories(impl_->options.directory, ec);
  fs::path folder = impl_->Folder(state.id);
  if (ec || !fs::create_directory(folder, ec) || ec)
    return Outcome(503, search::IssueSeverity::kError, search::IssueType::kTransient,
                   "cannot create the export job's folder");
  // The server's user alone may list or open what is exported (the files are 0600 too).
  fs::permissions(folder, fs::perms::owner_all, fs::perm_options::replace, ec);
  if (ec) {
    fs::remove_all(folder, ec);
    return Outcome(503, search::IssueSeverity::kError, search::IssueType::kTransient,
                   "cannot create the export job's folder");
  }
  if (Status saved =
          internal::WriteFileAtomically(folder / "state.json", internal::JobStateJson(state));
      !saved.ok()) {
    fs::remove_all(folder, ec);
    return Outcome(503, search::IssueSeverity::kError, search::IssueType::kTransient,
                   "cannot write the export job's state");
  }

  auto worker = std::make_unique<Impl::Worker>();
  Impl::Worker* raw = worker.get();
  const BulkExportOptions& options = impl_->options;
  worker->thread = std::thread([&options, raw, state] {
    ExportRun(options, state, raw->stop, [raw] { raw->finished.store(true); }).Run();
  });
  impl_->workers.emplace(state.id, std::move(worker));

  http::HttpResponse response = Outcome(202, search::IssueSeverity::kInformation,
                                       search::IssueType::kInformational, "export started");
  response.headers.emplace_back("Content-Location",
                                impl_->options.base_url + "/$export-status/" + state.id);
  return response;
}

http::HttpResponse BulkExport::Poll(std::string_view job_id, int64_t user_id) {
  auto loaded = impl_->Load(job_id, user_id);
  if (!loaded.ok())
    return Outcome(500, search::IssueSeverity::kError, search::IssueType::kException,
                   "cannot read the export job's state");
  if (!*loaded) return NoSuchJob();
  const JobState& state = **loaded;
  switch (state.status) {
    case JobStatus::kRunning: {
      bool ours = false;
      {
        std::lock_guard lock(impl_->mutex);
        ours = impl_->workers.contains(state.id);
      }
      if (!ours && impl_->options.clock() - state.updated_ms > kStaleAfterMs)
        return Outcome(500, search::IssueSeverity::kError, search::IssueType::kException,
                       "the export stopped: the server process running it ended; start it again");
      http::HttpResponse response;
      response.status = 202;
      response.body.clear();
      response.headers.emplace_back("X-Progress", state.progress);
      response.headers.emplace_back("Retry-After", "2");
      return response;
    }
    case JobStatus::kCompleted: {
      http::HttpResponse response;
      response.status = 200;
      response.content_type = "application/json";  // the IG: the manifest is plain JSON
      response.body = ManifestJson(state, impl_->options.base_url);
      return response;
    }
    case JobStatus::kFailed:
    case JobStatus::kCancelled:
      return Outcome(500, search::IssueSeverity::kError, search::IssueType::kException,
                     "the export failed: " + state.error);
  }
  return NoSuchJob();
}

http::HttpResponse BulkExport::Cancel(std::string_view job_id, int64_t user_id) {
  auto loaded = impl_->Load(job_id, user_id);
  if (!loaded.ok())
    return Outcome(500, search::IssueSeverity::kError, search::IssueType::kException,
                   "cannot read the export job's state");
  if (!*loaded) return NoSuchJob();
  {
    std::lock_guard lock(impl_->mutex);
    auto it = impl_->workers.find(std::string(job_id));
    if (it != impl_->workers.end()) it->second->stop.store(static_cast<int>(StopReason::kDeleted));
  }
  if (!fs::exists(impl_->Folder(job_id))) return NoSuchJob();  // deleted meanwhile
  if (!impl_->Delete(job_id))
    return Outcome(500, search::IssueSeverity::kError, search::IssueType::kException,
                   "cannot delete the export job");
  return Outcome(202, search::IssueSeverity::kInformation, search::IssueType::kInformational,
                 "export deleted");
}

http::HttpResponse BulkExport::File(std::string_view job_id, std::string_view file_name,
                                   int64_t user_id, const PersonFilter& may_see,
                                   std::vector<int64_t>* people) {
  auto loaded = impl_->Load(job_id, user_id);
  auto failed = [](std::string what) {
    return Outcome(500, search::IssueSeverity::kError, search::IssueType::kException,
                   std::move(what));
  };
  if (!loaded.ok()) return failed("cannot read the export job's state");
  if (!*loaded || (*loaded)->status != JobStatus::kCompleted) return NoSuchJob();
  // Only a name the manifest lists: the name is never used as a path unless it is one of ours.
  for (const OutputFile& file : (*loaded)->output) {
    if (file.file != file_name) continue;
    auto body = internal::ReadWholeFile(impl_->Folder(job_id) / file.file);
    auto keys = internal::ReadWholeFile(impl_->Folder(job_id) / KeysFileOf(file.file));
    for (const auto* read : {&body, &keys})
      if (!read->ok()) {
        if (read->error().code == ErrorCode::kNotFound) return NoSuchJob();  // deleted meanwhile
        return failed("cannot read the export file");
      }
    // Line by line, the person it is about decided as the caller's access stands now.
    std::string served;
    std::string_view lines = *body, persons = *keys;
    std::set<int64_t> seen;
    while (!lines.empty()) {
      const size_t line_end = lines.find('\n'), key_end = persons.find('\n');
      if (line_end == std::string_view::npos || key_end == std::string_view::npos)
        return failed("the export file is damaged");
      const std::string_view line = lines.substr(0, line_end + 1);
      const std::string_view key_text = persons.substr(0, key_end);
      lines.remove_prefix(line_end + 1);
      persons.remove_prefix(key_end + 1);
      bool keep = true;
      if (key_text != "-") {
        const std::optional<int64_t> key = ParseNonNegative(key_text);
        if (!key) return failed("the export file is damaged");
        if (may_see) {
          Result<bool> allowed = may_see(file.type, *key);
          if (!allowed.ok()) return failed("cannot decide who may be exported");
          keep = *allowed;
        }
        if (keep) seen.insert(*key);
      }
      if (keep) served += line;
    }
    if (people != nullptr) people->assign(seen.begin(), seen.end());
    http::HttpResponse response;
    response.status = 200;
    response.content_type = "application/fhir+ndjson";
    response.body = std::move(served);
    return response;
  }
  return NoSuchJob();
}

}  // namespace joinedup::exporter
