#include "fhir/csv_extract.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <span>

#include "core/strings.h"

namespace joinedup::fhir {

// ---- RFC 4180 records ---------------------------------------------------------------------

CsvReader::CsvReader(std::unique_ptr<InputBuffer> input, size_t max_record_bytes)
    : input_(std::move(input)), max_record_bytes_(std::max<size_t>(max_record_bytes, 1)) {}

Result<bool> CsvReader::Next(CsvRecord& r) {
  enum class State { kFieldStart, kUnquoted, kQuoted, kAfterQuote, kSkip };
  r.fields.clear();
  r.error.clear();
  r.error_column = 0;
  r.too_long = false;
  r.raw = {};
  r.line = line_number_;
  r.offset = input_->consumed();

  State state = State::kFieldStart;
  std::string field;
  uint64_t quote_line = 0;  // where the open quoted field began
  uint64_t discarded = 0;   // bytes already consumed (too long records only)
  bool any_byte = false;
  auto fail = [&](std::string message) {
    if (r.error.empty()) {
      r.error = std::move(message);
      r.error_column = r.fields.size() + 1;
    }
    state = State::kSkip;
  };
  auto end_field = [&] {
    if (!r.too_long) {
      if (r.error.empty() && ValidUtf8Prefix(field) != field.size())
        fail("the text is not valid UTF-8");
      r.fields.push_back(field);
    }
    field.clear();
  };

  size_t pos = 0;  // bytes of the window that belong to this record and have been scanned
  for (;;) {
    std::string_view window = input_->window();
    while (pos < window.size()) {
      const char c = window[pos];
      any_byte = true;
      if (c == '\n') {
        ++line_number_;
        if (state != State::kQuoted) {
          size_t length = pos;
          if (state == State::kUnquoted && !field.empty() && field.back() == '\r') field.pop_back();
          if (state != State::kSkip) end_field();
          r.size = discarded + length;
          if (!r.too_long) {
            std::string_view raw = window.substr(0, length);
            if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
            r.raw = raw;
          } else {
            r.fields.clear();
          }
          input_->Consume(length + 1);
          return true;
        }
      }
      switch (state) {
        case State::kFieldStart:
          if (c == '"') {
            state = State::kQuoted;
            quote_line = line_number_;
          } else if (c == ',') {
            end_field();
          } else {
            if (!r.too_long) field.push_back(c);
            state = State::kUnquoted;
          }
          break;
        case State::kUnquoted:
          if (c == ',') {
            end_field();
            state = State::kFieldStart;
          } else if (c == '"') {
            fail("a quote inside an unquoted field (quote the whole field and double the quote)");
          } else if (!r.too_long) {
            field.push_back(c);
          }
          break;
        case State::kQuoted:
          if (c == '"') {
            state = State::kAfterQuote;
          } else if (!r.too_long) {
            field.push_back(c);
          }
          break;
        case State::kAfterQuote:
          if (c == '"') {  // a doubled quote stands for one
            if (!r.too_long) field.push_back('"');
            state = State::kQuoted;
          } else if (c == ',') {
            end_field();
            state = State::kFieldStart;
          } else if (c != '\r') {
            fail("text after the closing quote of a quoted field");
          }
          break;
        case State::kSkip:
          break;
      }
      ++pos;
      if (!r.too_long && pos > max_record_bytes_) {
        r.too_long = true;
        r.fields.clear();
        field.clear();
      }
    }
    if (r.too_long) {  // keep nothing of an over-long record: drop what has been scanned
      input_->Consume(pos);
      discarded += pos;
      pos = 0;
    }
    JU_ASSIGN_OR_RETURN(bool more, input_->Fill());
    if (more) continue;
    // End of input: the last record may lack its line break.
    if (!any_byte) return false;
    window = input_->window();
    if (state == State::kQuoted)
      fail("the quoted field opened on line " + std::to_string(quote_line) + " is never closed");
    if (state != State::kSkip) end_field();
    r.size = discarded + pos;
    if (!r.too_long) {
      r.raw = window.substr(0, pos);
    } else {
      r.fields.clear();
    }
    input_->Consume(pos);
    return true;
  }
}

// ---- Extract files --------------------------------------------------------------------------

namespace {

struct Column {
  std::string_view name;
  bool required;
};

// Column order here is the documented order; files may put them in any order.
// The first column of each kind is its id and names the kind.
constexpr std::array<Column, 4> kPracticeColumns{
    {{"practice_id", true}, {"name", true}, {"pch", false}, {"postcode_district", false}}};
enum PracticeCol { kPrId, kPrName, kPrPch, kPrPostcode };

constexpr std::array<Column, 11> kPatientColumns{{{"patient_id", true},
                                                  {"nhs_number", true},
                                                  {"source_identifier", false},
                                                  {"family_name", false},
                                                  {"given_name", false},
                                                  {"birth_date", true},
                                                  {"sex", true},
                                                  {"postcode_district", false},
                                                  {"deprivation_decile", false},
                                                  {"practice_id", false},
                                                  {"death_date", false}}};
enum PatientCol {
  kPaId,
  kPaNhs,
  kPaSourceId,
  kPaFamily,
  kPaGiven,
  kPaBirth,
  kPaSex,
  kPaPostcode,
  kPaDecile,
  kPaPractice,
  kPaDeath
};

constexpr std::array<Column, 12> kEventColumns{{{"event_id", true},
                                                {"patient_id", true},
                                                {"kind", true},
                                                {"code_system", true},
                                                {"code", true},
                                                {"term", false},
                                                {"date", true},
                                                {"source", false},
                                                {"admission_method", false},
                                                {"activity_id", false},
                                                {"value", false},
                                                {"unit", false}}};
enum EventCol {
  kEvId,
  kEvPatient,
  kEvKind,
  kEvSystem,
  kEvCode,
  kEvTerm,
  kEvDate,
  kEvSource,
  kEvAdmission,
  kEvActivity,
  kEvValue,
  kEvUnit
};

constexpr std::array<Column, 8> kActivityColumns{{{"activity_id", true},
                                                  {"patient_id", true},
                                                  {"type", true},
                                                  {"start", true},
                                                  {"end", false},
                                                  {"cost_pence", false},
                                                  {"specialty", false},
                                                  {"practice_id", false}}};
enum ActivityCol {
  kAcId,
  kAcPatient,
  kAcType,
  kAcStart,
  kAcEnd,
  kAcCost,
  kAcSpecialty,
  kAcPractice
};

constexpr std::array<Column, 7> kMedicationColumns{{{"medication_id", true},
                                                    {"patient_id", true},
                                                    {"code_system", true},
                                                    {"code", true},
                                                    {"term", false},
                                                    {"start", true},
                                                    {"end", false}}};
enum MedicationCol { kMeId, kMePatient, kMeSystem, kMeCode, kMeTerm, kMeStart, kMeEnd };

std::span<const Column> ColumnsOf(ExtractKind kind) {
  switch (kind) {
    case ExtractKind::kPractices:
      return kPracticeColumns;
    case ExtractKind::kPatients:
      return kPatientColumns;
    case ExtractKind::kEvents:
      return kEventColumns;
    case ExtractKind::kActivities:
      return kActivityColumns;
    case ExtractKind::kMedications:
      return kMedicationColumns;
  }
  return {};
}

std::string JoinTags(std::string_view (*tag)(int), int count) {
  std::string out;
  for (int i = 0; i < count; ++i) {
    if (i > 0) out += ", ";
    out += tag(i);
  }
  return out;
}

// Reads one row's fields by column, building errors that name the column.
class RowMapper {
 public:
  RowMapper(const CsvRecord& record, const std::vector<int>& column_of,
            std::span<const Column> columns, std::string resource_type)
      : record_(record), column_of_(column_of), columns_(columns) {
    error_.resource_type = std::move(resource_type);
  }

  bool failed() const { return failed_; }
  MapError TakeError() { return std::move(error_); }
  void set_resource_type(std::string type) { error_.resource_type = std::move(type); }
  void set_id(std::string_view id) { error_.resource_id = std::string(id); }

  // The column's text, "" when the column is absent from the file.
  std::string_view Text(int col) const {
    int index = column_of_[static_cast<size_t>(col)];
    if (index < 0) return {};
    return record_.fields[static_cast<size_t>(index)];
  }

  void Fail(int col, std::string message) {
    if (failed_) return;  // the first problem is the one reported
    failed_ = true;
    int index = column_of_[static_cast<size_t>(col)];
    error_.field = std::string(columns_[static_cast<size_t>(col)].name);
    if (index >= 0) error_.field += " (column " + std::to_string(index + 1) + ")";
    error_.message = std::move(message);
  }

  std::string Required(int col) {
    std::string_view text = Text(col);
    if (text.empty()) Fail(col, "is required");
    return std::string(text);
  }

  // A FHIR-compatible id: 1–64 of A–Z a–z 0–9 - . (so the record can be exported as FHIR).
  std::string Id(int col, bool required) {
    std::string_view text = Text(col);
    if (text.empty()) {
      if (required) Fail(col, "is required");
      return {};
    }
    bool ok = text.size() <= 64 && std::all_of(text.begin(), text.end(), [](char c) {
                return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                       c == '-' || c == '.';
              });
    if (!ok)
      Fail(col, "\"" + std::string(text) +
                    "\" is not an id (1 to 64 of the characters A-Z a-z 0-9 - .)");
    return std::string(text);
  }

  Date RequiredDate(int col) {
    std::string_view text = Text(col);
    if (text.empty()) {
      Fail(col, "is required");
      return {};
    }
    return ParseDate(col, text);
  }

  std::optional<Date> OptionalDate(int col) {
    std::string_view text = Text(col);
    if (text.empty()) return std::nullopt;
    return ParseDate(col, text);
  }

  CodeSystem System(int col) {
    std::string_view text = Text(col);
    if (auto system = CodeSystemFromTag(text)) return *system;
    Fail(col, "\"" + std::string(text) + "\" is not a code system; use one of " +
                  JoinTags([](int i) { return CodeSystemTag(static_cast<CodeSystem>(i)); },
                           kCodeSystemCount));
    return CodeSystem::kSnomedCt;
  }

  std::string PostcodeDistrict(int col) {
    std::string_view text = Text(col);
    if (text.empty()) return {};
    // Outward codes are 2 to 4 letters and digits starting with a letter ("E1", "SW1A"):
    // a full postcode is refused so that no more than the district is ever stored.
    bool ok = text.size() >= 2 && text.size() <= 4 && text[0] >= 'A' && text[0] <= 'Z' &&
              std::all_of(text.begin(), text.end(),
                          [](char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); });
    if (!ok)
      Fail(col, "\"" + std::string(text) +
                    "\" is not a postcode district (the outward code only, e.g. \"E1\" or "
                    "\"SW1A\", in capitals)");
    return std::string(text);
  }

 private:
  Date ParseDate(int col, std::string_view text) {
    auto date = Date::Parse(text);
    if (!date.ok()) {
      Fail(col, "\"" + std::string(text) + "\" is not a date (YYYY-MM-DD)");
      return {};
    }
    return *date;
  }

  const CsvRecord& record_;
  const std::vector<int>& column_of_;
  std::span<const Column> columns_;
  MapError error_;
  bool failed_ = false;
};

template <typename Int>
bool ParseInt(std::string_view text, Int& out) {
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

Mapped MapPractice(RowMapper& m) {
  Practice p;
  p.id = m.Id(kPrId, true);
  m.set_id(p.id);
  p.name = m.Required(kPrName);
  p.pch = std::string(m.Text(kPrPch));
  p.postcode_district = m.PostcodeDistrict(kPrPostcode);
  return p;
}

Mapped MapPatient(RowMapper& m, const MapOptions& options) {
  Patient p;
  p.id = m.Id(kPaId, true);
  m.set_id(p.id);
  std::string_view nhs = m.Text(kPaNhs);
  if (!nhs.empty()) {
    auto parsed = NhsNumber::Parse(nhs);
    if (parsed.ok()) {
      p.nhs_number = *parsed;
    } else {
      m.Fail(kPaNhs, "NHS number \"" + std::string(nhs) + "\": " + parsed.error().message);
    }
  } else if (!options.allow_missing_nhs_number) {
    m.Fail(kPaNhs,
           "is empty: every person needs a valid NHS number (import with "
           "--allow-missing-nhs-number to key people without one by source_identifier)");
  }
  p.source_identifier = std::string(m.Text(kPaSourceId));
  if (!p.nhs_number && p.source_identifier.empty() && !m.failed())
    p.source_identifier = "patients.csv|" + p.id;
  p.family_name = std::string(m.Text(kPaFamily));
  p.given_name = std::string(m.Text(kPaGiven));
  p.birth_date = m.RequiredDate(kPaBirth);
  std::string_view sex = m.Text(kPaSex);
  if (auto parsed = SexFromCode(sex)) {
    p.sex = *parsed;
  } else {
    m.Fail(kPaSex, "\"" + std::string(sex) + "\" is not one of female, male, other, unknown");
  }
  p.postcode_district = m.PostcodeDistrict(kPaPostcode);
  std::string_view decile = m.Text(kPaDecile);
  if (!decile.empty() && (!ParseInt(decile, p.deprivation_decile) || p.deprivation_decile < 1 ||
                          p.deprivation_decile > 10)) {
    m.Fail(kPaDecile, "\"" + std::string(decile) +
                          "\" is not an IMD decile (1 to 10; leave empty when unknown)");
  }
  p.practice_id = m.Id(kPaPractice, false);
  p.death_date = m.OptionalDate(kPaDeath);
  if (p.death_date && !m.failed() && *p.death_date < p.birth_date)
    m.Fail(kPaDeath, "is before birth_date");
  return p;
}

Mapped MapEvent(RowMapper& m) {
  ClinicalEvent e;
  e.id = m.Id(kEvId, true);
  m.set_id(e.id);
  std::string_view kind = m.Text(kEvKind);
  if (kind == "condition") {
    e.kind = EventKind::kCondition;
  } else if (kind == "observation") {
    e.kind = EventKind::kObservation;
    m.set_resource_type("Observation");
  } else {
    m.Fail(kEvKind, "\"" + std::string(kind) + "\" is not one of condition, observation");
  }
  e.patient_id = m.Id(kEvPatient, true);
  e.system = m.System(kEvSystem);
  e.code = m.Required(kEvCode);
  e.term = std::string(m.Text(kEvTerm));
  e.date = m.RequiredDate(kEvDate);
  std::string_view source = m.Text(kEvSource);
  if (source.empty() || source == "gp") {
    e.source = EventSource::kGp;
  } else if (source == "hospital") {
    e.source = EventSource::kHospital;
  } else {
    m.Fail(kEvSource, "\"" + std::string(source) + "\" is not one of gp, hospital");
  }
  std::string_view admission = m.Text(kEvAdmission);
  if (!admission.empty()) {
    if (auto parsed = AdmissionMethodFromTag(admission)) {
      e.admission_method = *parsed;
      if (e.admission_method != AdmissionMethod::kNone && e.source != EventSource::kHospital)
        m.Fail(kEvAdmission, "is only for hospital events (source hospital)");
    } else {
      m.Fail(kEvAdmission,
             "\"" + std::string(admission) + "\" is not an admission method; use one of " +
                 JoinTags([](int i) { return AdmissionMethodTag(static_cast<AdmissionMethod>(i)); },
                          5));
    }
  }
  e.activity_id = m.Id(kEvActivity, false);
  std::string_view value = m.Text(kEvValue);
  if (!value.empty()) {
    double number = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), number,
                                     std::chars_format::fixed);
    if (ec != std::errc() || end != value.data() + value.size() || !std::isfinite(number)) {
      m.Fail(kEvValue, "\"" + std::string(value) + "\" is not a decimal number");
    } else {
      e.value = number;
    }
  }
  e.unit = std::string(m.Text(kEvUnit));
  if (!e.unit.empty() && !e.value) m.Fail(kEvUnit, "is given without a value");
  return e;
}

Mapped MapActivity(RowMapper& m) {
  Activity a;
  a.id = m.Id(kAcId, true);
  m.set_id(a.id);
  a.patient_id = m.Id(kAcPatient, true);
  std::string_view type = m.Text(kAcType);
  if (auto parsed = ActivityTypeFromTag(type)) {
    a.type = *parsed;
    if (IsEpisodeActivity(a.type)) m.set_resource_type("EpisodeOfCare");
  } else {
    m.Fail(kAcType,
           "\"" + std::string(type) + "\" is not an activity type; use one of " +
               JoinTags([](int i) { return ActivityTypeTag(static_cast<ActivityType>(i)); },
                        kActivityTypeCount));
  }
  a.start = m.RequiredDate(kAcStart);
  a.end = m.OptionalDate(kAcEnd);
  if (a.end && !m.failed()) {
    if (*a.end < a.start) {
      m.Fail(kAcEnd, "is before start");
    } else if (a.type == ActivityType::kEmergencyAdmission ||
               a.type == ActivityType::kElectiveAdmission) {
      a.length_of_stay_days = a.start.DaysUntil(*a.end);
    }
  }
  std::string_view cost = m.Text(kAcCost);
  if (!cost.empty() && (!ParseInt(cost, a.cost_pence) || a.cost_pence < 0))
    m.Fail(kAcCost, "\"" + std::string(cost) + "\" is not a cost in whole pence (0 or more)");
  std::string_view specialty = m.Text(kAcSpecialty);
  if (!specialty.empty()) {
    bool ok = specialty.size() == 3 && std::all_of(specialty.begin(), specialty.end(),
                                                   [](char c) { return c >= '0' && c <= '9'; });
    if (!ok)
      m.Fail(kAcSpecialty, "\"" + std::string(specialty) +
                               "\" is not a treatment function code (3 digits, e.g. 300)");
    a.specialty = std::string(specialty);
  }
  a.practice_id = m.Id(kAcPractice, false);
  return a;
}

Mapped MapMedication(RowMapper& m) {
  Medication med;
  med.id = m.Id(kMeId, true);
  m.set_id(med.id);
  med.patient_id = m.Id(kMePatient, true);
  med.system = m.System(kMeSystem);
  med.code = m.Required(kMeCode);
  med.term = std::string(m.Text(kMeTerm));
  med.start = m.RequiredDate(kMeStart);
  med.end = m.OptionalDate(kMeEnd);
  if (med.end && !m.failed() && *med.end < med.start) m.Fail(kMeEnd, "is before start");
  return med;
}

std::string_view ResourceTypeOf(ExtractKind kind) {
  switch (kind) {
    case ExtractKind::kPractices:
      return "Organization";
    case ExtractKind::kPatients:
      return "Patient";
    case ExtractKind::kEvents:
      return "Condition";
    case ExtractKind::kActivities:
      return "Encounter";
    case ExtractKind::kMedications:
      return "MedicationRequest";
  }
  return "";
}

}  // namespace

std::string_view ExtractKindName(ExtractKind kind) {
  switch (kind) {
    case ExtractKind::kPractices:
      return "practices";
    case ExtractKind::kPatients:
      return "patients";
    case ExtractKind::kEvents:
      return "events";
    case ExtractKind::kActivities:
      return "activities";
    case ExtractKind::kMedications:
      return "medications";
  }
  return "";
}

std::optional<ExtractKind> ExtractKindFromIdColumn(std::string_view first_column) {
  for (auto kind : {ExtractKind::kPractices, ExtractKind::kPatients, ExtractKind::kEvents,
                    ExtractKind::kActivities, ExtractKind::kMedications}) {
    if (ColumnsOf(kind)[0].name == first_column) return kind;
  }
  return std::nullopt;
}

CsvExtractReader::CsvExtractReader(std::unique_ptr<InputBuffer> input, const MapOptions& options,
                                   size_t max_record_bytes)
    : reader_(std::move(input), max_record_bytes),
      options_(options),
      max_record_bytes_(max_record_bytes) {}

Result<std::unique_ptr<CsvExtractReader>> CsvExtractReader::Open(std::unique_ptr<InputBuffer> input,
                                                                 const MapOptions& options,
                                                                 size_t max_record_bytes) {
  // A spreadsheet may start the file with a UTF-8 byte-order mark; it is not part of the header.
  for (;;) {
    std::string_view window = input->window();
    if (window.size() >= 3) break;
    JU_ASSIGN_OR_RETURN(bool more, input->Fill());
    if (!more) break;
  }
  if (input->window().starts_with("\xEF\xBB\xBF")) input->Consume(3);

  std::unique_ptr<CsvExtractReader> reader(
      new CsvExtractReader(std::move(input), options, max_record_bytes));
  CsvRecord& header = reader->record_;
  JU_ASSIGN_OR_RETURN(bool any, reader->reader_.Next(header));
  auto header_error = [&](size_t column, const std::string& message) {
    std::string where = "line " + std::to_string(header.line);
    if (column > 0) where += ", column " + std::to_string(column);
    return Error::Invalid(where + ": " + message);
  };
  constexpr std::string_view kExpected =
      "the header's first column must be one of practice_id, patient_id, event_id, "
      "activity_id, medication_id (see docs/import.md, \"CSV extract format\")";
  if (!any) return Error::Invalid("the file is empty: " + std::string(kExpected));
  if (header.too_long)
    return header_error(
        0, "the header row is longer than " + std::to_string(max_record_bytes) + " bytes");
  if (!header.error.empty()) return header_error(header.error_column, header.error);
  auto kind = ExtractKindFromIdColumn(header.fields[0]);
  if (!kind)
    return header_error(1, "\"" + header.fields[0] +
                               "\" does not start a CSV extract header: " + std::string(kExpected));
  reader->kind_ = *kind;
  std::span<const Column> columns = ColumnsOf(*kind);
  reader->column_of_.assign(columns.size(), -1);
  reader->width_ = header.fields.size();
  for (size_t i = 0; i < header.fields.size(); ++i) {
    const std::string& name = header.fields[i];
    auto it = std::find_if(columns.begin(), columns.end(),
                           [&](const Column& c) { return c.name == name; });
    if (it == columns.end()) {
      std::string known;
      for (const Column& c : columns) known += (known.empty() ? "" : ", ") + std::string(c.name);
      return header_error(i + 1, "\"" + name + "\" is not a column of a " +
                                     std::string(ExtractKindName(*kind)) + " extract (" + known +
                                     ")");
    }
    size_t col = static_cast<size_t>(it - columns.begin());
    if (reader->column_of_[col] >= 0)
      return header_error(i + 1, "column \"" + name + "\" appears twice");
    reader->column_of_[col] = static_cast<int>(i);
  }
  for (size_t col = 0; col < columns.size(); ++col) {
    if (columns[col].required && reader->column_of_[col] < 0)
      return header_error(0, "a " + std::string(ExtractKindName(*kind)) +
                                 " extract needs a column \"" + std::string(columns[col].name) +
                                 "\"");
  }
  return reader;
}

Result<bool> CsvExtractReader::Next(ExtractRow& row) {
  for (;;) {
    JU_ASSIGN_OR_RETURN(bool any, reader_.Next(record_));
    if (!any) return false;
    // Blank lines (e.g. a trailing empty line) carry nothing.
    if (!record_.too_long && record_.error.empty() && record_.fields.size() == 1 &&
        record_.fields[0].empty())
      continue;
    row.line = record_.line;
    row.raw = record_.raw;
    row.record = MapRow(record_);
    return true;
  }
}

std::variant<Mapped, MapError> CsvExtractReader::MapRow(const CsvRecord& record) const {
  MapError error;
  error.resource_type = std::string(ResourceTypeOf(kind_));
  if (record.too_long) {
    error.message = "the record is " + std::to_string(record.size) +
                    " bytes long, over the limit of " + std::to_string(max_record_bytes_) +
                    " bytes; it was not read";
    return error;
  }
  if (!record.error.empty()) {
    error.field = "column " + std::to_string(record.error_column);
    error.message = record.error;
    return error;
  }
  if (!record.fields.empty() && column_of_[0] >= 0 &&
      static_cast<size_t>(column_of_[0]) < record.fields.size())
    error.resource_id = record.fields[static_cast<size_t>(column_of_[0])];
  if (record.fields.size() != width_) {
    error.field = "column " + std::to_string(std::min(record.fields.size(), width_) + 1);
    error.message = "the row has " + std::to_string(record.fields.size()) +
                    " fields but the header has " + std::to_string(width_);
    return error;
  }
  RowMapper m(record, column_of_, ColumnsOf(kind_), error.resource_type);
  Mapped mapped;
  switch (kind_) {
    case ExtractKind::kPractices:
      mapped = MapPractice(m);
      break;
    case ExtractKind::kPatients:
      mapped = MapPatient(m, options_);
      break;
    case ExtractKind::kEvents:
      mapped = MapEvent(m);
      break;
    case ExtractKind::kActivities:
      mapped = MapActivity(m);
      break;
    case ExtractKind::kMedications:
      mapped = MapMedication(m);
      break;
  }
  if (m.failed()) return m.TakeError();
  return mapped;
}

}  // namespace joinedup::fhir
