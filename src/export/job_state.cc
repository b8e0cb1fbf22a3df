#include "export/job_state.h"

#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/date.h"

namespace joinedup::exporter::internal {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kStatusNames[] = {"running", "completed", "failed", "cancelled"};
constexpr std::string_view kLevelNames[] = {"system", "patient", "group"};

template <typename Enum, size_t N>
std::optional<Enum> FromName(const std::string_view (&names)[N], std::string_view name) {
  for (size_t i = 0; i < N; ++i)
    if (names[i] == name) return static_cast<Enum>(i);
  return std::nullopt;
}

}  // namespace

std::string_view JobStatusName(JobStatus status) {
  return kStatusNames[static_cast<size_t>(status)];
}

std::string NewJobId() {
  if (sodium_init() < 0) std::abort();  // libsodium cannot run at all: nothing else is safe
  unsigned char bytes[16];
  randombytes_buf(bytes, sizeof bytes);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  id.reserve(32);
  for (unsigned char b : bytes) {
    id.push_back(kHex[b >> 4]);
    id.push_back(kHex[b & 15]);
  }
  return id;
}

bool IsValidJobId(std::string_view id) {
  if (id.size() != 32) return false;
  for (char c : id)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

std::string JobStateJson(const JobState& state) {
  const ExportJobSpec& spec = state.spec;
  Json visibility = {{"kind", static_cast<int>(spec.visibility.kind)},
                     {"patient_key", spec.visibility.patient_key},
                     {"organisation_id", spec.visibility.organisation_id},
                     {"user_id", spec.visibility.user_id},
                     {"as_at_ms", spec.visibility.as_at_ms}};
  Json spec_json = {{"level", kLevelNames[static_cast<size_t>(spec.level)]},
                    {"group_id", spec.group_id},
                    {"types", spec.types},
                    {"visibility", visibility},
                    {"user_id", spec.user_id},
                    {"username", spec.actor.username},
                    {"role", spec.actor.role},
                    {"organisation_id", spec.actor.organisation_id},
                    {"request_id", spec.actor.request_id},
                    {"source_address", spec.actor.source_address},
                    {"request_url", spec.request_url}};
  if (spec.since_ms) spec_json["since_ms"] = *spec.since_ms;
  Json output = Json::array();
  for (const OutputFile& file : state.output)
    output.push_back({{"type", file.type}, {"file", file.file}, {"count", file.count}});
  Json json = {{"id", state.id},
               {"status", JobStatusName(state.status)},
               {"transaction_time_ms", state.transaction_time_ms},
               {"updated_ms", state.updated_ms},
               {"progress", state.progress},
               {"error", state.error},
               {"detail", state.detail},
               {"spec", spec_json},
               {"output", output}};
  // Replace, not throw, on invalid UTF-8 in user text: the state must always be writable.
  return json.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

Result<JobState> ParseJobState(std::string_view text) {
  // nlohmann throws on malformed input or a wrong type; no exception leaves this function.
  try {
    Json json = Json::parse(text);
    JobState state;
    state.id = json.at("id").get<std::string>();
    auto status = FromName<JobStatus>(kStatusNames, json.at("status").get<std::string>());
    if (!status) return Error::Internal("export job state: unknown status");
    state.status = *status;
    state.transaction_time_ms = json.at("transaction_time_ms").get<int64_t>();
    state.updated_ms = json.at("updated_ms").get<int64_t>();
    state.progress = json.at("progress").get<std::string>();
    state.error = json.at("error").get<std::string>();
    state.detail = json.at("detail").get<std::string>();
    const Json& spec_json = json.at("spec");
    ExportJobSpec& spec = state.spec;
    auto level =
        FromName<ExportJobSpec::Level>(kLevelNames, spec_json.at("level").get<std::string>());
    if (!level) return Error::Internal("export job state: unknown level");
    spec.level = *level;
    spec.group_id = spec_json.at("group_id").get<std::string>();
    spec.types = spec_json.at("types").get<std::vector<std::string>>();
    if (spec_json.contains("since_ms")) spec.since_ms = spec_json.at("since_ms").get<int64_t>();
    const Json& visibility = spec_json.at("visibility");
    int kind = visibility.at("kind").get<int>();
    if (kind < 0 || kind > static_cast<int>(store::Visibility::Kind::kEveryone))
      return Error::Internal("export job state: unknown visibility");
    spec.visibility.kind = static_cast<store::Visibility::Kind>(kind);
    spec.visibility.patient_key = visibility.at("patient_key").get<int64_t>();
    spec.visibility.organisation_id = visibility.at("organisation_id").get<std::string>();
    spec.visibility.user_id = visibility.at("user_id").get<int64_t>();
    if (visibility.contains("as_at_ms"))
      spec.visibility.as_at_ms = visibility.at("as_at_ms").get<int64_t>();
    spec.user_id = spec_json.at("user_id").get<int64_t>();
    spec.actor.user_id = spec.user_id;
    spec.actor.username = spec_json.at("username").get<std::string>();
    spec.actor.role = spec_json.at("role").get<std::string>();
    spec.actor.organisation_id = spec_json.at("organisation_id").get<std::string>();
    spec.actor.request_id = spec_json.at("request_id").get<std::string>();
    spec.actor.source_address = spec_json.at("source_address").get<std::string>();
    spec.request_url = spec_json.at("request_url").get<std::string>();
    for (const Json& file : json.at("output"))
      state.output.push_back({file.at("type").get<std::string>(),
                              file.at("file").get<std::string>(), file.at("count").get<int64_t>()});
    return state;
  } catch (const std::exception& e) {
    return Error::Internal(std::string("export job state is unreadable: ") + e.what());
  }
}

Status WriteFileAtomically(const std::filesystem::path& path, std::string_view content) {
  // The temporary name is unique per writer, so two processes writing at once never share one.
  std::filesystem::path temp = path;
  temp += ".tmp-" + NewJobId().substr(0, 12);
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == ENOENT) return Error::NotFound("export job folder is gone: " + path.string());
    return Error::Unavailable("cannot create " + temp.string() + ": " + std::strerror(errno));
  }
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      ::unlink(temp.c_str());
      return Error::Unavailable("cannot write " + temp.string() + ": " + std::strerror(err));
    }
    done += static_cast<size_t>(n);
  }
  // fsync before rename: a crash leaves the old state or the new one, never an empty file.
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(temp.c_str());
    return Error::Unavailable("cannot write " + temp.string() + ": " + std::strerror(errno));
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(temp.c_str());
    if (err == ENOENT) return Error::NotFound("export job folder is gone: " + path.string());
    return Error::Unavailable("cannot rename " + temp.string() + ": " + std::strerror(err));
  }
  return Ok();
}

Result<std::string> ReadWholeFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT || !std::filesystem::exists(path))
      return Error::NotFound(path.string() + " does not exist");
    return Error::Unavailable("cannot open " + path.string() + ": " + std::strerror(errno));
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return Error::Unavailable("cannot read " + path.string());
  return std::move(buffer).str();
}


}  // namespace joinedup::exporter::internal
