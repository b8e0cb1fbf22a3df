#include "fhir/ndjson_writer.h"

#include <cerrno>
#include <cstring>
#include <system_error>

#include "fhir/fhir_mapping.h"

namespace joinedup::fhir {
namespace {

constexpr std::array<std::string_view, 8> kTypes{
    "Organization", "Patient",   "Encounter",   "EpisodeOfCare",
    "ChargeItem",   "Condition", "Observation", "MedicationRequest"};
enum FileIndex : size_t {
  kOrganization, kPatient, kEncounter, kEpisodeOfCare, kChargeItem, kCondition, kObservation,
  kMedicationRequest
};

constexpr size_t kFlushAt = 1 << 20;  // bytes buffered per file before a write

std::string FileName(std::string_view type) { return std::string(type) + ".ndjson"; }

}  // namespace

NdjsonWriter::NdjsonWriter(std::filesystem::path directory, NdjsonWriterOptions options)
    : directory_(std::move(directory)), options_(std::move(options)) {}

NdjsonWriter::~NdjsonWriter() {
  for (auto& file : files_)
    if (file.handle != nullptr) std::fclose(file.handle);
}

Result<std::unique_ptr<NdjsonWriter>> NdjsonWriter::Open(const std::filesystem::path& directory,
                                                          NdjsonWriterOptions options) {
  std::error_code ec;
  std::filesystem::create_directories(directory, ec);
  if (ec) return Error::Unavailable("cannot create " + directory.string() + ": " + ec.message());
  std::unique_ptr<NdjsonWriter> writer(new NdjsonWriter(directory, std::move(options)));
  for (size_t i = 0; i < kFiles; ++i) {
    std::filesystem::path path = directory / FileName(kTypes[i]);
    writer->files_[i].handle = std::fopen(path.c_str(), "wb");
    if (writer->files_[i].handle == nullptr)
      return Error::Unavailable("cannot open " + path.string() + ": " + std::strerror(errno));
    writer->files_[i].buffer.reserve(kFlushAt + 4096);
  }
  return writer;
}

Status NdjsonWriter::Flush(size_t i) {
  File& file = files_[i];
  if (file.buffer.empty()) return Ok();
  if (std::fwrite(file.buffer.data(), 1, file.buffer.size(), file.handle) != file.buffer.size())
    return Error::Unavailable("cannot write " + (directory_ / FileName(kTypes[i])).string() + ": " +
                              std::strerror(errno));
  file.buffer.clear();
  return Ok();
}

Status NdjsonWriter::Commit(size_t i) {
  File& file = files_[i];
  file.buffer += line_;
  file.buffer += '\n';
  ++file.count;
  if (file.buffer.size() >= kFlushAt) return Flush(i);
  return Ok();
}

Status NdjsonWriter::Add(const Practice& practice) {
  if (closed_) return Error::Internal("NdjsonWriter used after Close()");
  line_.clear();
  JU_RETURN_IF_ERROR(AppendOrganizationJson(practice, line_));
  return Commit(kOrganization);
}

Status NdjsonWriter::Add(const Patient& patient) {
  if (closed_) return Error::Internal("NdjsonWriter used after Close()");
  line_.clear();
  JU_RETURN_IF_ERROR(AppendPatientJson(patient, line_));
  return Commit(kPatient);
}

Status NdjsonWriter::Add(const ClinicalEvent& event) {
  if (closed_) return Error::Internal("NdjsonWriter used after Close()");
  line_.clear();
  JU_RETURN_IF_ERROR(AppendClinicalEventJson(event, line_));
  return Commit(event.kind == EventKind::kCondition ? kCondition : kObservation);
}

Status NdjsonWriter::Add(const Activity& activity) {
  if (closed_) return Error::Internal("NdjsonWriter used after Close()");
  line_.clear();
  charge_.clear();
  // Both lines are built before either is written, so a refusal writes nothing.
  JU_RETURN_IF_ERROR(AppendActivityJson(activity, line_));
  if (activity.cost_pence > 0) JU_RETURN_IF_ERROR(AppendChargeItemJson(activity, charge_));
  JU_RETURN_IF_ERROR(Commit(IsEpisodeActivity(activity.type) ? kEpisodeOfCare : kEncounter));
  if (charge_.empty()) return Ok();
  line_.swap(charge_);
  return Commit(kChargeItem);
}

Status NdjsonWriter::Add(const Medication& medication) {
  if (closed_) return Error::Internal("NdjsonWriter used after Close()");
  line_.clear();
  JU_RETURN_IF_ERROR(AppendMedicationRequestJson(medication, line_));
  return Commit(kMedicationRequest);
}

Result<std::vector<NdjsonFile>> NdjsonWriter::Close() {
  if (closed_) return Error::Internal("NdjsonWriter closed twice");
  closed_ = true;
  std::vector<NdjsonFile> out;
  for (size_t i = 0; i < kFiles; ++i) {
    Status flushed = Flush(i);
    int rc = std::fclose(files_[i].handle);
    files_[i].handle = nullptr;
    JU_RETURN_IF_ERROR(flushed);
    std::filesystem::path path = directory_ / FileName(kTypes[i]);
    if (rc != 0) return Error::Unavailable("cannot close " + path.string() + ": " + std::strerror(errno));
    out.push_back({std::string(kTypes[i]), path, files_[i].count});
  }
  if (!options_.write_manifest) return out;

  // Bulk Data export manifest (https://hl7.org/fhir/uv/bulkdata/export.html): output lists
  // the non-empty files, url relative to the manifest.
  std::string manifest = "{";
  if (!options_.transaction_time.empty()) {
    manifest += "\"transactionTime\":";
    AppendJsonString(options_.transaction_time, manifest);
    manifest += ',';
  }
  manifest += "\"request\":\"joinedup export\",\"requiresAccessToken\":false,\"output\":[";
  bool first = true;
  for (const auto& file : out) {
    if (file.count == 0) continue;
    if (!first) manifest += ',';
    first = false;
    manifest += "{\"type\":\"" + file.resource_type + "\",\"url\":\"" + FileName(file.resource_type) +
                "\",\"count\":" + std::to_string(file.count) + "}";
  }
  manifest += "],\"error\":[]}\n";
  std::filesystem::path path = directory_ / "manifest.json";
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return Error::Unavailable("cannot open " + path.string() + ": " + std::strerror(errno));
  bool ok = std::fwrite(manifest.data(), 1, manifest.size(), f) == manifest.size();
  ok = std::fclose(f) == 0 && ok;
  if (!ok) return Error::Unavailable("cannot write " + path.string());
  return out;
}

}  // namespace joinedup::fhir
