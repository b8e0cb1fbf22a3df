#include "fhir/import.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <variant>

#include "fhir/bundle.h"
#include "fhir/csv_extract.h"
#include "fhir/fhir_mapping.h"
#include "fhir/ndjson_reader.h"
#include "fhir/resource.h"
#include "resources/registry.h"

namespace joinedup::fhir {

ImportTypeCounts ImportReport::Totals() const {
  ImportTypeCounts total;
  for (const auto& [type, counts] : by_type) {
    total.read += counts.read;
    total.imported += counts.imported;
    total.skipped += counts.skipped;
    total.rejected += counts.rejected;
  }
  return total;
}

std::string ImportIssue::ToString() const {
  std::string out = file;
  if (line > 0) out += ":" + std::to_string(line);
  for (const std::string* part : {&location, &resource, &field}) {
    if (part->empty()) continue;
    out += ": ";
    out += *part;
  }
  out += ": ";
  out += message;
  return out;
}

namespace {

namespace fs = std::filesystem;

// A Bundle is parsed whole; beyond this, NDJSON (read line by line) is the format to use.
constexpr uint64_t kMaxBundleBytes = uint64_t{1} << 30;

enum class Format : uint8_t { kNdjson, kBundle, kCsv };

// Dependency ranks: a record may only refer to records of a lower rank.
constexpr int kRankOrganization = 0;
constexpr int kRankPatient = 1;
constexpr int kRankActivity = 2;
constexpr int kRankOther = 3;

int RankOfType(std::string_view type) {
  if (type == "Organization") return kRankOrganization;
  if (type == "Patient") return kRankPatient;
  if (type == "Encounter" || type == "EpisodeOfCare") return kRankActivity;
  return kRankOther;
}

int RankOf(const Mapped& mapped) {
  if (std::holds_alternative<Practice>(mapped)) return kRankOrganization;
  // A document type's rank is the registry's: it refers to what ranks below it.
  if (const auto* document = std::get_if<Document>(&mapped))
    return resources::FindType(document->resource_type)->exchange_rank;
  if (std::holds_alternative<Patient>(mapped)) return kRankPatient;
  if (std::holds_alternative<Activity>(mapped)) return kRankActivity;
  return kRankOther;
}

// The resource types joinedup stores, as small numbers for per-record bookkeeping.
enum class Kind : uint8_t {
  kOrganization,
  kPatient,
  kEncounter,
  kEpisodeOfCare,
  kCondition,
  kObservation,
  kMedicationRequest,
  kChargeItem,
};
constexpr int kKindCount = 8;
constexpr std::array<std::string_view, kKindCount> kKindNames{
    "Organization", "Patient",     "Encounter",         "EpisodeOfCare",
    "Condition",    "Observation", "MedicationRequest", "ChargeItem"};

// The store table a record lands in: ids must be unique per table, not per FHIR type
// (a Condition and an Observation with the same id would be one row).
enum class Table : uint8_t { kPractices, kPatients, kActivities, kEvents, kMedications, kCharges };
constexpr int kTableCount = 6;

Kind KindOf(const Mapped& mapped) {
  struct Visitor {
    Kind operator()(const Practice&) const { return Kind::kOrganization; }
    Kind operator()(const Patient&) const { return Kind::kPatient; }
    Kind operator()(const ClinicalEvent& e) const {
      return e.kind == EventKind::kCondition ? Kind::kCondition : Kind::kObservation;
    }
    Kind operator()(const Activity& a) const {
      return IsEpisodeActivity(a.type) ? Kind::kEpisodeOfCare : Kind::kEncounter;
    }
    Kind operator()(const Medication&) const { return Kind::kMedicationRequest; }
    Kind operator()(const Charge&) const { return Kind::kChargeItem; }
    Kind operator()(const Skipped&) const { return Kind::kChargeItem; }   // never asked
    Kind operator()(const Document&) const { return Kind::kChargeItem; }  // never asked
  };
  return std::visit(Visitor{}, mapped);
}

Table TableOf(Kind kind) {
  switch (kind) {
    case Kind::kOrganization:
      return Table::kPractices;
    case Kind::kPatient:
      return Table::kPatients;
    case Kind::kEncounter:
    case Kind::kEpisodeOfCare:
      return Table::kActivities;
    case Kind::kCondition:
    case Kind::kObservation:
      return Table::kEvents;
    case Kind::kMedicationRequest:
      return Table::kMedications;
    case Kind::kChargeItem:
      return Table::kCharges;
  }
  return Table::kEvents;
}

const std::string& IdOf(const Mapped& mapped) {
  static const std::string kNone;
  return std::visit(
      [](const auto& record) -> const std::string& {
        if constexpr (requires { record.id; }) {
          return record.id;
        } else {
          return kNone;
        }
      },
      mapped);
}

// Where a record came from: file, line, and the Bundle entry if any.
struct Origin {
  uint32_t file = 0;
  int32_t entry = -1;  // Bundle entry index, or -1
  uint64_t line = 0;   // 0 inside a Bundle
};

// Ids seen in this import, per table, with where each was first seen. Ids are copied into
// an arena so that the map's keys are plain string_views (one allocation per megabyte of
// ids rather than one per id: a national import has tens of millions).
class SeenIds {
 public:
  struct Entry {
    Origin origin;
    Kind kind;
    ActivityType activity_type;  // activities only: for the admission method of diagnoses
  };

  // Records `id` for `table`; returns the earlier entry if it was already there.
  const Entry* Insert(Table table, std::string_view id, const Entry& entry) {
    auto& map = maps_[static_cast<size_t>(table)];
    if (auto it = map.find(id); it != map.end()) return &it->second;
    map.emplace(Copy(id), entry);
    return nullptr;
  }
  const Entry* Find(Table table, std::string_view id) const {
    const auto& map = maps_[static_cast<size_t>(table)];
    auto it = map.find(id);
    return it == map.end() ? nullptr : &it->second;
  }
  // The arena's copy of an id already inserted (stable for the importer's lifetime).
  std::string_view Key(Table table, std::string_view id) const {
    const auto& map = maps_[static_cast<size_t>(table)];
    auto it = map.find(id);
    return it == map.end() ? std::string_view() : it->first;
  }

 private:
  struct Hash {
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::string_view Copy(std::string_view id) {
    constexpr size_t kBlock = 1 << 20;
    if (id.size() > kBlock - used_ || blocks_.empty()) {
      size_t size = std::max(kBlock, id.size());
      blocks_.push_back(std::make_unique<char[]>(size));
      used_ = 0;
      if (id.size() > kBlock) used_ = kBlock;  // a block of its own; the next id starts anew
    }
    char* at = blocks_.back().get() + (id.size() > kBlock ? 0 : used_);
    if (!id.empty()) std::memcpy(at, id.data(), id.size());
    if (id.size() <= kBlock) used_ += id.size();
    return {at, id.size()};
  }

  std::array<std::unordered_map<std::string_view, Entry, Hash>, kTableCount> maps_;
  std::vector<std::unique_ptr<char[]>> blocks_;
  size_t used_ = 0;
};

// The field of the reference a store "X/id is not known" refusal is about.
std::string ReferenceField(const Mapped& mapped, std::string_view message, Format format) {
  const bool csv = format == Format::kCsv;
  const bool to_patient = message.starts_with("Patient/");
  const bool to_practice = message.starts_with("Organization/");
  const bool to_activity = message.starts_with("Activity/");
  if (std::holds_alternative<Patient>(mapped) && to_practice)
    return csv ? "practice_id" : "generalPractitioner";
  if (const auto* activity = std::get_if<Activity>(&mapped)) {
    const bool episode = IsEpisodeActivity(activity->type);
    if (to_patient) return csv ? "patient_id" : episode ? "patient" : "subject";
    if (to_practice)
      return csv ? "practice_id" : episode ? "managingOrganization" : "serviceProvider";
  }
  if (std::holds_alternative<ClinicalEvent>(mapped)) {
    if (to_patient) return csv ? "patient_id" : "subject";
    if (to_activity) return csv ? "activity_id" : "encounter";
  }
  if (std::holds_alternative<Medication>(mapped) && to_patient)
    return csv ? "patient_id" : "subject";
  if (std::holds_alternative<Charge>(mapped) && to_activity) return "context";
  if (const auto* document = std::get_if<Document>(&mapped); document && to_patient)
    return document->person_element;
  return "";
}

// Escapes what would break a one-line, tab-separated report.
std::string OneLine(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        out += c;
    }
  }
  return out;
}

struct InputFile {
  std::string path;
  Format format = Format::kNdjson;
  int rank = kRankOther;
  uint64_t size = 0;
};

bool IsBlank(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return c == ' ' || c == '\t' || c == '\r'; });
}

// The value of the first "resourceType" in `json`, if it is easy to see. Only a hint for the
// file order: records that arrive early are held back anyway.
std::string_view SniffResourceType(std::string_view json) {
  constexpr std::string_view kKey = "\"resourceType\"";
  size_t at = json.find(kKey);
  if (at == std::string_view::npos) return {};
  at += kKey.size();
  while (at < json.size() && (json[at] == ' ' || json[at] == '\t' || json[at] == ':')) ++at;
  if (at >= json.size() || json[at] != '"') return {};
  size_t end = json.find('"', at + 1);
  if (end == std::string_view::npos) return {};
  return json.substr(at + 1, end - at - 1);
}

// Guesses the file's rank from its first line (NDJSON) or header (CSV) without reading more
// than one block.
int SniffRank(const std::string& path, Format format) {
  if (format == Format::kBundle) return kRankPatient;
  auto input = InputBuffer::OpenFile(path, 64 << 10);
  if (!input.ok()) return kRankOther;  // the real read reports the error
  auto filled = (*input)->Fill();
  if (!filled.ok() || !*filled) return kRankOther;
  std::string_view window = (*input)->window();
  if (format == Format::kNdjson) {
    // The first non-blank line.
    while (!window.empty()) {
      size_t end = window.find('\n');
      std::string_view line = window.substr(0, end);
      if (!IsBlank(line)) return RankOfType(SniffResourceType(line));
      if (end == std::string_view::npos) break;
      window.remove_prefix(end + 1);
    }
    return kRankOther;
  }
  if (window.starts_with("\xEF\xBB\xBF")) window.remove_prefix(3);
  std::string_view first = window.substr(0, window.find_first_of(",\r\n"));
  if (first.size() >= 2 && first.front() == '"' && first.back() == '"')
    first = first.substr(1, first.size() - 2);
  switch (ExtractKindFromIdColumn(first).value_or(ExtractKind::kEvents)) {
    case ExtractKind::kPractices:
      return kRankOrganization;
    case ExtractKind::kPatients:
      return kRankPatient;
    case ExtractKind::kActivities:
      return kRankActivity;
    default:
      return kRankOther;
  }
}

// A FHIR Bulk Data export directory holds a manifest.json next to its NDJSON files: a JSON
// object with an "output" list and no resourceType. It describes the files; it is not data.
bool IsBulkDataManifest(const std::string& path) {
  auto input = InputBuffer::OpenFile(path, 64 << 10);
  if (!input.ok()) return false;
  auto filled = (*input)->Fill();
  if (!filled.ok() || !*filled) return false;
  std::string_view window = (*input)->window();
  return window.find("\"resourceType\"") == std::string_view::npos &&
         window.find("\"output\"") != std::string_view::npos;
}

std::optional<Format> FormatOf(const fs::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (ext == ".ndjson" || ext == ".jsonl") return Format::kNdjson;
  if (ext == ".json") return Format::kBundle;
  if (ext == ".csv") return Format::kCsv;
  return std::nullopt;
}

Result<std::vector<InputFile>> ListInputs(const std::vector<std::string>& paths) {
  std::vector<InputFile> files;
  auto add = [&](const fs::path& path, Format format) -> Status {
    std::error_code ec;
    uint64_t size = fs::file_size(path, ec);
    if (ec) return Error::Unavailable(path.string() + ": " + ec.message());
    files.push_back({path.string(), format, kRankOther, size});
    return Ok();
  };
  for (const std::string& arg : paths) {
    std::error_code ec;
    fs::file_status status = fs::status(arg, ec);
    if (ec || !fs::exists(status)) return Error::NotFound(arg + ": no such file or directory");
    if (fs::is_directory(status)) {
      std::vector<std::pair<fs::path, Format>> found;
      fs::directory_iterator it(arg, ec);
      if (ec) return Error::Invalid(arg + ": cannot list the directory: " + ec.message());
      for (; it != fs::directory_iterator(); it.increment(ec)) {
        if (ec) return Error::Unavailable(arg + ": " + ec.message());
        if (!it->is_regular_file(ec)) continue;
        auto format = FormatOf(it->path());
        if (!format) continue;
        if (*format == Format::kBundle && IsBulkDataManifest(it->path().string())) continue;
        found.emplace_back(it->path(), *format);
      }
      std::sort(found.begin(), found.end());  // a stable, readable order for reports
      for (const auto& [path, format] : found) JU_RETURN_IF_ERROR(add(path, format));
      continue;
    }
    auto format = FormatOf(arg);
    if (!format)
      return Error::Invalid(arg +
                            ": not an import file (expected .ndjson or .jsonl for FHIR NDJSON, "
                            ".json for a FHIR Bundle, .csv for a CSV extract)");
    JU_RETURN_IF_ERROR(add(arg, *format));
  }
  for (InputFile& file : files) file.rank = SniffRank(file.path, file.format);
  std::stable_sort(files.begin(), files.end(),
                   [](const InputFile& a, const InputFile& b) { return a.rank < b.rank; });
  return files;
}

class Importer {
 public:
  Importer(const ImportOptions& options, store::Store& store, store::Writer& writer,
           bool store_had_patients, ImportReport& report)
      : options_(options),
        store_(store),
        writer_(writer),
        store_had_patients_(store_had_patients),
        report_(report) {
    map_options_.allow_missing_nhs_number = options.allow_missing_nhs_number;
  }

  Status Run(const std::vector<InputFile>& files) {
    if (options_.skip_invalid && !options_.rejects_path.empty()) {
      rejects_.open(options_.rejects_path, std::ios::out | std::ios::trunc | std::ios::binary);
      if (!rejects_)
        return Error::Unavailable(options_.rejects_path + ": cannot write the rejects report");
      rejects_ << "# joinedup import rejects: location\tresource\tfield\tmessage\toriginal\n";
    }
    files_ = &files;
    for (const InputFile& file : files) bytes_total_ += file.size;
    for (uint32_t i = 0; i < files.size(); ++i) {
      const InputFile& file = files[i];
      switch (file.format) {
        case Format::kNdjson:
          JU_RETURN_IF_ERROR(ReadNdjson(i));
          break;
        case Format::kCsv:
          JU_RETURN_IF_ERROR(ReadCsv(i));
          break;
        case Format::kBundle:
          JU_RETURN_IF_ERROR(ReadBundle(i));
          break;
      }
      bytes_done_ += file.size;
      ReportProgress(0);
      if (stopped_) break;
    }
    if (!stopped_) JU_RETURN_IF_ERROR(WriteHeldBack());
    for (int k = 0; k < kKindCount; ++k) {
      const ImportTypeCounts& counts = kind_counts_[static_cast<size_t>(k)];
      if (counts.read > 0) {
        ImportTypeCounts& total = report_.by_type[std::string(kKindNames[static_cast<size_t>(k)])];
        total.read += counts.read;
        total.imported += counts.imported;
        total.rejected += counts.rejected;
        total.skipped += counts.skipped;
      }
    }
    report_.files = files.size();
    report_.bytes = bytes_total_;
    if (rejects_.is_open()) {
      rejects_.flush();
      if (!rejects_)
        return Error::Unavailable(options_.rejects_path + ": error writing the rejects report");
    }
    return Ok();
  }

  // A store write failed in a way that ends the transaction: nothing more can be written.
  bool stopped() const { return stopped_; }
  const std::optional<Error>& fatal() const { return fatal_; }

 private:
  // ---- Files ----

  Status ReadNdjson(uint32_t file_index) {
    const InputFile& file = (*files_)[file_index];
    auto input = InputBuffer::OpenFile(file.path);
    if (!input.ok()) return input.take_error();
    LineReader reader(std::move(*input), options_.max_line_bytes);
    Line line;
    const ReferenceResolver& resolve = RelativeResolver();
    for (;;) {
      auto next = reader.Next(line);
      if (!next.ok()) return Error::Unavailable(file.path + ": " + next.error().message);
      if (!*next) break;
      Origin origin{file_index, -1, line.number};
      if (line.too_long) {
        AddIssue(origin, "", "",
                 "the line is " + std::to_string(line.size) + " bytes long, over the limit of " +
                     std::to_string(options_.max_line_bytes) + " bytes; it was not read",
                 "", Format::kNdjson);
        Count("(unreadable)").read++;
        Count("(unreadable)").rejected++;
        continue;
      }
      if (IsBlank(line.text)) continue;
      auto mapped = MapResource(line.text, map_options_, resolve);
      Accept(std::move(mapped), origin, line.text, Format::kNdjson);
      if (stopped_) return Ok();
      if ((++records_ & 0xfff) == 0) ReportProgress(reader.bytes_done());
    }
    return Ok();
  }

  Status ReadCsv(uint32_t file_index) {
    const InputFile& file = (*files_)[file_index];
    auto input = InputBuffer::OpenFile(file.path);
    if (!input.ok()) return input.take_error();
    auto reader = CsvExtractReader::Open(std::move(*input), map_options_, options_.max_line_bytes);
    if (!reader.ok()) {
      if (reader.error().code != ErrorCode::kInvalidInput)
        return Error::Unavailable(file.path + ": " + reader.error().message);
      // "line 1, column 3: …": the header is the file's problem, named as such.
      ImportIssue issue;
      issue.file = file.path;
      issue.message = reader.error().message;
      RecordIssue(std::move(issue), "");
      Count("(unreadable)").read++;
      Count("(unreadable)").rejected++;
      return Ok();
    }
    ExtractRow row;
    for (;;) {
      auto next = (*reader)->Next(row);
      if (!next.ok()) return Error::Unavailable(file.path + ": " + next.error().message);
      if (!*next) break;
      Accept(std::move(row.record), Origin{file_index, -1, row.line}, row.raw, Format::kCsv);
      if (stopped_) return Ok();
      if ((++records_ & 0xfff) == 0) ReportProgress((*reader)->bytes_done());
    }
    return Ok();
  }

  // A Bundle is one JSON document, so it is read whole (up to kMaxBundleBytes).
  Status ReadBundle(uint32_t file_index) {
    const InputFile& file = (*files_)[file_index];
    auto bundle_issue = [&](std::string message) {
      ImportIssue issue;
      issue.file = file.path;
      issue.resource = "Bundle";
      issue.message = std::move(message);
      RecordIssue(std::move(issue), "");
      Count("Bundle").read++;
      Count("Bundle").rejected++;
    };
    if (file.size > kMaxBundleBytes) {
      bundle_issue("the file is " + std::to_string(file.size) + " bytes, over the limit of " +
                   std::to_string(kMaxBundleBytes) +
                   " bytes for one Bundle; split it, or export FHIR NDJSON instead");
      return Ok();
    }
    auto input = InputBuffer::OpenFile(file.path, kDefaultBlockBytes);
    if (!input.ok()) return input.take_error();
    std::string json;
    json.reserve(file.size);
    for (;;) {
      auto more = (*input)->Fill();
      if (!more.ok()) return Error::Unavailable(file.path + ": " + more.error().message);
      if (!*more) break;
      std::string_view window = (*input)->window();
      json.append(window);
      (*input)->Consume(window.size());
      if (json.size() > kMaxBundleBytes) {
        bundle_issue("the Bundle is over the limit of " + std::to_string(kMaxBundleBytes) +
                     " bytes");
        return Ok();
      }
    }
    auto bundle = ExpandBundle(json);
    if (!bundle.ok()) {
      bundle_issue(bundle.error().message);
      return Ok();
    }
    std::string().swap(json);  // the entries hold their own copies
    const ReferenceResolver resolve = bundle->Resolver();
    uint64_t done = 0;
    for (const BundleEntry& entry : bundle->entries()) {
      Origin origin{file_index, EntryIndex(entry.location), 0};
      auto mapped = MapResource(entry.resource_json, map_options_, resolve);
      // resource_json is compact JSON on one line: it goes to the rejects file as it is.
      Accept(std::move(mapped), origin, entry.resource_json, Format::kBundle);
      if (stopped_) return Ok();
      done += entry.resource_json.size();
      if ((++records_ & 0xfff) == 0) ReportProgress(std::min<uint64_t>(done, file.size));
    }
    return Ok();
  }

  // "entry[12]" → 12.
  static int32_t EntryIndex(std::string_view location) {
    int32_t index = -1;
    size_t open = location.find('[');
    if (open == std::string_view::npos) return index;
    auto [end, ec] =
        std::from_chars(location.data() + open + 1, location.data() + location.size(), index);
    (void)end;
    return ec == std::errc() ? index : -1;
  }

  static const ReferenceResolver& RelativeResolver() {
    static const ReferenceResolver resolver = [](std::string_view reference,
                                                 std::string_view expected_type) {
      return ResolveRelativeReference(reference, expected_type);
    };
    return resolver;
  }

  // ---- Records ----

  void Accept(std::variant<Mapped, MapError>&& result, const Origin& origin,
              std::string_view original, Format format) {
    if (auto* error = std::get_if<MapError>(&result)) {
      std::string type = error->resource_type.empty() ? "(unreadable)" : error->resource_type;
      Count(type).read++;
      Count(type).rejected++;
      std::string resource = error->resource_type;
      if (!error->resource_id.empty()) resource += "/" + error->resource_id;
      AddIssue(origin, resource, error->field, error->message, original, format);
      return;
    }
    Mapped& mapped = std::get<Mapped>(result);
    if (const auto* skipped = std::get_if<Skipped>(&mapped)) {
      ImportTypeCounts& counts = Count(skipped->resource_type);
      counts.read++;
      counts.skipped++;
      return;
    }
    if (auto* document = std::get_if<Document>(&mapped)) {
      Count(document->resource_type).read++;
      auto [earlier, inserted] =
          seen_documents_.try_emplace({document->resource_type, document->id}, origin);
      if (!inserted) {
        Reject(mapped, origin, "id", "the id is given twice: also at " + Where(earlier->second),
               original, format);
        return;
      }
      Write(std::move(mapped), origin, original, format, /*last_chance=*/false);
      return;
    }
    const Kind kind = KindOf(mapped);
    KindCount(kind).read++;
    const std::string& id = IdOf(mapped);
    SeenIds::Entry entry{origin, kind, ActivityType::kGpAppointment};
    if (const auto* activity = std::get_if<Activity>(&mapped)) entry.activity_type = activity->type;
    if (const SeenIds::Entry* earlier = seen_.Insert(TableOf(kind), id, entry)) {
      std::string message = "the id is given twice: also at " + Where(earlier->origin);
      if (earlier->kind != kind)
        message += " (as " + std::string(kKindNames[static_cast<size_t>(earlier->kind)]) + "/" +
                   id + "; both would be stored as one record)";
      Reject(mapped, origin, "id", message, original, format);
      return;
    }
    if (const auto* patient = std::get_if<Patient>(&mapped)) {
      if (!CheckNhsNumber(*patient, origin, original, format)) return;
    }
    Write(std::move(mapped), origin, original, format, /*last_chance=*/false);
  }

  // Refuses a second person with the same NHS number (the store keeps them unique).
  bool CheckNhsNumber(const Patient& patient, const Origin& origin, std::string_view original,
                      Format format) {
    if (!patient.nhs_number) return true;
    const std::string field = format == Format::kCsv ? "nhs_number" : "identifier";
    const std::string& digits = patient.nhs_number->digits();
    const uint64_t key = std::stoull(digits);
    std::string_view id = seen_.Key(Table::kPatients, patient.id);
    auto [it, inserted] = nhs_numbers_.try_emplace(key, id);
    if (!inserted && it->second != patient.id) {
      const SeenIds::Entry* other = seen_.Find(Table::kPatients, it->second);
      Reject(patient, origin, field,
             "NHS number " + patient.nhs_number->Formatted() + " is also given to Patient/" +
                 std::string(it->second) + (other ? " at " + Where(other->origin) : ""),
             original, format);
      return false;
    }
    if (store_had_patients_) {
      auto found = store_.FindPatientByNhsNumber(*patient.nhs_number);
      if (found.ok() && *found && (*found)->id != patient.id) {
        Reject(patient, origin, field,
               "NHS number " + patient.nhs_number->Formatted() + " already belongs to Patient/" +
                   (*found)->id + " in the store",
               original, format);
        return false;
      }
    }
    return true;
  }

  // Fills in what the importer knows and the mapper cannot: the admission method of a
  // diagnosis, from the activity it was recorded in.
  void Complete(ClinicalEvent& event) {
    if (event.activity_id.empty() || event.admission_method != AdmissionMethod::kNone) return;
    if (const SeenIds::Entry* activity = seen_.Find(Table::kActivities, event.activity_id)) {
      event.admission_method = AdmissionMethodOf(activity->activity_type);
      return;
    }
    auto stored = store_.FindActivity(event.activity_id);
    if (stored.ok() && *stored) event.admission_method = AdmissionMethodOf((*stored)->type);
  }

  Status Add(Mapped& mapped) {
    return std::visit(
        [&](auto& record) -> Status {
          using T = std::decay_t<decltype(record)>;
          if constexpr (std::is_same_v<T, Skipped>) {
            return Ok();
          } else if constexpr (std::is_same_v<T, Charge>) {
            return writer_.SetActivityCost(record.activity_id, record.cost_pence);
          } else if constexpr (std::is_same_v<T, Document>) {
            store::ResourceWrite write;
            write.resource_type = record.resource_type;
            write.id = record.id;
            write.record = store::ResourceJson{record.json};
            write.json = record.json;
            write.now_ms = import_time_ms_;
            write.patient_id = record.patient_id;
            write.index = record.index;
            write.sharing = record.sharing;
            return writer_.AddDocument(write);
          } else {
            if constexpr (std::is_same_v<T, ClinicalEvent>) Complete(record);
            return writer_.Add(record);
          }
        },
        mapped);
  }

  void Write(Mapped&& mapped, const Origin& origin, std::string_view original, Format format,
             bool last_chance) {
    Status status = Add(mapped);
    if (status.ok()) {
      CountOf(mapped).imported++;
      return;
    }
    const Error& error = status.error();
    switch (error.code) {
      case ErrorCode::kNotFound:
        if (!last_chance) {  // what it names may come later: hold it back until the end
          held_.push_back({std::move(mapped), origin, format,
                           rejects_.is_open() ? std::string(original) : std::string()});
          return;
        }
        Reject(mapped, origin, ReferenceField(mapped, error.message, format), error.message,
               original, format);
        return;
      case ErrorCode::kInvalidInput:
        Reject(mapped, origin, "", error.message, original, format);
        return;
      default:
        // The store refused in a way that ends the transaction (a constraint, a failed
        // disk): report it at this record and stop; nothing is committed.
        Reject(mapped, origin, "", "the store refused the record: " + error.message, original,
               format);
        stopped_ = true;
        fatal_ = error;
        return;
    }
  }

  // Writes the records held back for a missing reference, lowest rank first, so that a
  // Condition waits for a held-back Encounter that waits for a held-back Patient.
  Status WriteHeldBack() {
    std::stable_sort(held_.begin(), held_.end(), [](const Held& a, const Held& b) {
      return RankOf(a.mapped) < RankOf(b.mapped);
    });
    for (Held& held : held_) {
      Write(std::move(held.mapped), held.origin, held.original, held.format, /*last_chance=*/true);
      if (stopped_) break;
    }
    held_.clear();
    return Ok();
  }

  void Reject(const Mapped& mapped, const Origin& origin, const std::string& field,
              const std::string& message, std::string_view original, Format format) {
    CountOf(mapped).rejected++;
    std::string resource = TypeName(mapped) + "/" + IdOf(mapped);
    AddIssue(origin, resource, field, message, original, format);
  }

  void AddIssue(const Origin& origin, std::string resource, std::string field, std::string message,
                std::string_view original, Format format) {
    ImportIssue issue;
    issue.file = (*files_)[origin.file].path;
    issue.line = origin.line;
    if (origin.entry >= 0) issue.location = "entry[" + std::to_string(origin.entry) + "]";
    issue.resource = std::move(resource);
    issue.field = std::move(field);
    issue.message = std::move(message);
    // NDJSON lines and Bundle entries (compact JSON) hold no line breaks, so the original goes
    // in as it is (re-importable as NDJSON with `cut -f5-`); CSV records may span lines and
    // are escaped.
    RecordIssue(std::move(issue),
                format == Format::kNdjson ? std::string(original) : OneLine(original));
  }

  void RecordIssue(ImportIssue issue, const std::string& original) {
    report_.issue_count++;
    if (rejects_.is_open()) {
      std::string where = issue.file;
      if (issue.line > 0) where += ":" + std::to_string(issue.line);
      if (!issue.location.empty()) where += ":" + issue.location;
      rejects_ << OneLine(where) << '\t' << OneLine(issue.resource) << '\t' << OneLine(issue.field)
               << '\t' << OneLine(issue.message) << '\t' << original << '\n';
    }
    if (report_.issues.size() < static_cast<size_t>(std::max(options_.max_errors_reported, 0)))
      report_.issues.push_back(std::move(issue));
  }

  std::string Where(const Origin& origin) const {
    std::string out = (*files_)[origin.file].path;
    if (origin.line > 0) out += ":" + std::to_string(origin.line);
    if (origin.entry >= 0) out += " entry[" + std::to_string(origin.entry) + "]";
    return out;
  }

  ImportTypeCounts& Count(const std::string& type) { return report_.by_type[type]; }
  ImportTypeCounts& KindCount(Kind kind) { return kind_counts_[static_cast<size_t>(kind)]; }
  // A document type is counted under its own name; the others by their kind.
  ImportTypeCounts& CountOf(const Mapped& mapped) {
    if (const auto* document = std::get_if<Document>(&mapped))
      return Count(document->resource_type);
    return KindCount(KindOf(mapped));
  }
  static std::string TypeName(const Mapped& mapped) {
    if (const auto* document = std::get_if<Document>(&mapped)) return document->resource_type;
    return std::string(kKindNames[static_cast<size_t>(KindOf(mapped))]);
  }

  void ReportProgress(uint64_t in_file) {
    if (options_.progress) options_.progress(bytes_done_ + in_file, bytes_total_);
  }

  struct Held {
    Mapped mapped;
    Origin origin;
    Format format;
    std::string original;
  };

  const ImportOptions& options_;
  store::Store& store_;
  store::Writer& writer_;
  const bool store_had_patients_;
  ImportReport& report_;
  MapOptions map_options_;
  const std::vector<InputFile>* files_ = nullptr;
  std::ofstream rejects_;
  SeenIds seen_;
  std::unordered_map<uint64_t, std::string_view> nhs_numbers_;  // → patient id (in seen_)
  // Document-kept resources read so far, (type, id) → where (a few; not the arena's millions).
  std::map<std::pair<std::string, std::string>, Origin> seen_documents_;
  // meta.lastUpdated of the document-kept resources this import writes.
  const int64_t import_time_ms_ =
      std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::system_clock::now().time_since_epoch())
          .count();
  std::vector<Held> held_;
  std::array<ImportTypeCounts, kKindCount> kind_counts_{};
  uint64_t bytes_total_ = 0;
  uint64_t bytes_done_ = 0;
  uint64_t records_ = 0;
  bool stopped_ = false;
  std::optional<Error> fatal_;
};

}  // namespace

Result<ImportReport> Import(const std::vector<std::string>& paths, const ImportOptions& options,
                            store::Store& store) {
  if (paths.empty())
    return Error::Invalid("nothing to import: give one or more files or directories");
  JU_ASSIGN_OR_RETURN(std::vector<InputFile> files, ListInputs(paths));
  JU_ASSIGN_OR_RETURN(store::TableCounts before, store.Counts());
  JU_ASSIGN_OR_RETURN(std::unique_ptr<store::Writer> writer, store.BeginWrite());

  ImportReport report;
  Importer importer(options, store, *writer, before.patients > 0, report);
  JU_RETURN_IF_ERROR(importer.Run(files));  // the writer rolls back as it goes out of scope
  if (importer.fatal() && importer.fatal()->code != ErrorCode::kConflict)
    return Error{importer.fatal()->code, importer.fatal()->message};
  const bool clean = report.issue_count == 0;
  if (!importer.stopped() && (clean || options.skip_invalid)) {
    JU_RETURN_IF_ERROR(writer->Commit());
    report.committed = true;
  }
  return report;
}

}  // namespace joinedup::fhir
