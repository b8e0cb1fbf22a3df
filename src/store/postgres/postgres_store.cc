#include "store/postgres/postgres_store.h"

#include <libpq-fe.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <functional>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "core/strings.h"
#include "core/text_fold.h"
#include "store/cohort_builder.h"
#include "store/migrations.h"
#include "store/sql_store.h"
#include "store/store_columns.h"

namespace joinedup::store {
namespace {

struct ResultDeleter {
  void operator()(PGresult* result) const { PQclear(result); }
};
using PgResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using IdSet = std::unordered_set<std::string, StringHash, std::equal_to<>>;

// Any PostgreSQL advisory-lock key will do as long as it is fixed: it serialises migrations.
constexpr int64_t kMigrationLockKey = 0x6a6f696e6564;  // "joined"
// Serialises audit appends (held to commit) so the hash chain never forks.
constexpr int64_t kAuditChainLockKey = 0x6a7561756469;  // "juaudi"

std::string TrimEnd(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

Error PgErrorOfState(PGconn* conn, const PGresult* result, std::string_view what) {
  std::string message = "postgresql: " + std::string(what) + ": ";
  const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  const char* primary =
      result != nullptr ? PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  const char* detail =
      result != nullptr ? PQresultErrorField(result, PG_DIAG_MESSAGE_DETAIL) : nullptr;
  message += primary != nullptr ? std::string(primary) : TrimEnd(PQerrorMessage(conn));
  if (detail != nullptr) message += std::string(" (") + detail + ")";
  const std::string_view cls = state != nullptr ? std::string_view(state).substr(0, 2) : "";
  if (cls == "23") return Error::Conflict(std::move(message));  // integrity constraint
  if (cls == "22") return Error::Invalid(std::move(message));   // data exception
  if (cls == "08" || cls == "53" || cls == "57" || cls == "40" || cls == "55" ||
      PQstatus(conn) != CONNECTION_OK)
    return Error::Unavailable(std::move(message));
  return Error::Internal(std::move(message));
}

Error PgError(PGconn* conn, const PGresult* result, std::string_view what) {
  Error error = PgErrorOfState(conn, result, what);
  error.backend_text = true;
  return error;
}

// Runs one or more statements without parameters (schema, transaction control, merges from
// the staging tables — values never appear in this SQL).
Status Exec(PGconn* conn, const std::string& sql) {
  PgResultPtr result(PQexec(conn, sql.c_str()));
  const ExecStatusType status = PQresultStatus(result.get());
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return Ok();
  return PgError(conn, result.get(), "executing " + sql.substr(0, 60));
}

class PgRow final : public SqlRow {
 public:
  PgRow(const PGresult* result, int row) : result_(result), row_(row) {}
  bool IsNull(int column) const override { return PQgetisnull(result_, row_, column) != 0; }
  int64_t Int(int column) const override {
    std::string_view text = Text(column);
    int64_t value = 0;
    std::from_chars(text.data(), text.data() + text.size(), value);
    return value;
  }
  double Real(int column) const override {
    std::string_view text = Text(column);
    double value = 0;
    std::from_chars(text.data(), text.data() + text.size(), value);
    return value;
  }
  std::string_view Text(int column) const override {
    return {PQgetvalue(result_, row_, column),
            static_cast<size_t>(PQgetlength(result_, row_, column))};
  }
  // Text-format bytea is "\x" and two hex digits a byte.
  std::string_view Blob(int column) const override {
    std::string_view hex = Text(column);
    blob_.clear();
    if (!hex.starts_with("\\x")) return blob_;
    for (size_t i = 2; i + 1 < hex.size(); i += 2)
      blob_ += static_cast<char>(HexDigit(hex[i]) * 16 + HexDigit(hex[i + 1]));
    return blob_;
  }

 private:
  static int HexDigit(char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; }
  const PGresult* result_;
  int row_;
  mutable std::string blob_;
};

// ---- COPY text format -------------------------------------------------------------------------

// Appends one row of a COPY … FROM STDIN (text format) stream to a buffer.
class CopyRow {
 public:
  explicit CopyRow(std::string& buffer) : buffer_(buffer) {}
  ~CopyRow() { buffer_ += '\n'; }

  CopyRow& Text(std::string_view text) {
    Separate();
    for (char c : text) {
      switch (c) {
        case '\\':
          buffer_ += "\\\\";
          break;
        case '\t':
          buffer_ += "\\t";
          break;
        case '\n':
          buffer_ += "\\n";
          break;
        case '\r':
          buffer_ += "\\r";
          break;
        default:
          buffer_ += c;
      }
    }
    return *this;
  }
  CopyRow& TextOrNull(std::string_view text) { return text.empty() ? Null() : Text(text); }
  CopyRow& Int(int64_t value) {
    Separate();
    char digits[24];
    auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
    buffer_.append(digits, end);
    return *this;
  }
  CopyRow& Real(double value) {
    Separate();
    char digits[32];  // shortest text that reads back as the same double
    auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
    buffer_.append(digits, end);
    return *this;
  }
  CopyRow& Null() {
    Separate();
    buffer_ += "\\N";
    return *this;
  }
  CopyRow& OptionalDate(const std::optional<Date>& date) {
    return date ? Int(date->days_since_epoch()) : Null();
  }

 private:
  void Separate() {
    if (!first_) buffer_ += '\t';
    first_ = false;
  }
  std::string& buffer_;
  bool first_ = true;
};

// ---- COPY streams -------------------------------------------------------------------------------

// Streams COPY … FROM STDIN text rows: Put() whenever the buffer is big, End() once.
class CopyIn {
 public:
  CopyIn(PGconn* conn, std::string_view table) : conn_(conn), table_(table) {}

  Status Start(std::string_view columns) {
    const std::string sql =
        "COPY " + std::string(table_) + " (" + std::string(columns) + ") FROM STDIN";
    PgResultPtr started(PQexec(conn_, sql.c_str()));
    if (PQresultStatus(started.get()) != PGRES_COPY_IN)
      return PgError(conn_, started.get(), "starting COPY into " + std::string(table_));
    return Ok();
  }
  Status Put(const std::string& buffer) {
    if (buffer.empty()) return Ok();
    if (PQputCopyData(conn_, buffer.data(), static_cast<int>(buffer.size())) != 1)
      return PgError(conn_, nullptr, "sending COPY data");
    return Ok();
  }
  Status End() {
    if (PQputCopyEnd(conn_, nullptr) != 1) return PgError(conn_, nullptr, "ending COPY");
    Status status;
    while (PGresult* raw = PQgetResult(conn_)) {
      PgResultPtr result(raw);
      if (PQresultStatus(raw) != PGRES_COMMAND_OK && status.ok())
        status = PgError(conn_, raw, "COPY into " + std::string(table_));
    }
    return status;
  }

 private:
  PGconn* conn_;
  std::string_view table_;
};

// Sends `buffer` (complete COPY text rows) into `table`.
Status CopyInAll(PGconn* conn, std::string_view table, std::string_view columns,
                 const std::string& buffer) {
  CopyIn copy(conn, table);
  JU_RETURN_IF_ERROR(copy.Start(columns));
  Status put = copy.Put(buffer);
  Status ended = copy.End();
  JU_RETURN_IF_ERROR(put);
  return ended;
}

// One row of COPY … TO STDOUT (text format): fields split and unescaped.
class CopyOutRow {
 public:
  // `line` without its newline. Unescaped text lives in the row until the next Parse.
  void Parse(std::string_view line) {
    fields_.clear();
    scratch_.clear();
    size_t start = 0;
    for (;;) {
      const size_t tab = line.find('\t', start);
      std::string_view raw = line.substr(start, tab == std::string_view::npos ? tab : tab - start);
      fields_.push_back(Unescape(raw));
      if (tab == std::string_view::npos) break;
      start = tab + 1;
    }
    // Views into scratch_ are made only now that it will not grow again.
    for (auto& field : fields_)
      if (field.in_scratch) field.text = std::string_view(scratch_).substr(field.at, field.size);
  }
  size_t size() const { return fields_.size(); }
  bool IsNull(size_t i) const { return fields_[i].null; }
  std::string_view Text(size_t i) const { return fields_[i].text; }
  Result<int64_t> Int(size_t i) const {
    int64_t value = 0;
    std::string_view text = Text(i);
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (IsNull(i) || ec != std::errc() || end != text.data() + text.size())
      return Error::Internal("postgresql: COPY field " + std::to_string(i) + " is not an integer");
    return value;
  }
  Result<std::optional<int64_t>> OptionalInt(size_t i) const {
    if (IsNull(i)) return std::optional<int64_t>();
    JU_ASSIGN_OR_RETURN(int64_t value, Int(i));
    return std::optional<int64_t>(value);
  }
  Result<std::optional<double>> OptionalReal(size_t i) const {
    if (IsNull(i)) return std::optional<double>();
    double value = 0;
    std::string_view text = Text(i);
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size())
      return Error::Internal("postgresql: COPY field " + std::to_string(i) + " is not a number");
    return std::optional<double>(value);
  }

 private:
  struct Field {
    bool null = false;
    bool in_scratch = false;
    size_t at = 0, size = 0;
    std::string_view text;
  };
  Field Unescape(std::string_view raw) {
    Field field;
    if (raw == "\\N") {
      field.null = true;
      return field;
    }
    if (raw.find('\\') == std::string_view::npos) {
      field.text = raw;
      return field;
    }
    field.in_scratch = true;
    field.at = scratch_.size();
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] != '\\' || i + 1 == raw.size()) {
        scratch_ += raw[i];
        continue;
      }
      const char c = raw[++i];
      switch (c) {
        case 'b':
          scratch_ += '\b';
          break;
        case 'f':
          scratch_ += '\f';
          break;
        case 'n':
          scratch_ += '\n';
          break;
        case 'r':
          scratch_ += '\r';
          break;
        case 't':
          scratch_ += '\t';
          break;
        case 'v':
          scratch_ += '\v';
          break;
        default:
          if (c >= '0' && c <= '7') {  // up to three octal digits
            int value = c - '0';
            for (int k = 0; k < 2 && i + 1 < raw.size() && raw[i + 1] >= '0' && raw[i + 1] <= '7';
                 ++k)
              value = value * 8 + (raw[++i] - '0');
            scratch_ += static_cast<char>(value);
          } else {
            scratch_ += c;  // "\\\\" and any other escaped character stand for themselves
          }
      }
    }
    field.size = scratch_.size() - field.at;
    return field;
  }

  std::vector<Field> fields_;
  std::string scratch_;
};

// Runs COPY (query) TO STDOUT and calls on_row for each row. After an error from on_row the
// rest of the stream is drained, so the connection stays usable.
Status CopyOut(PGconn* conn, std::string_view query,
               const std::function<Status(const CopyOutRow&)>& on_row) {
  const std::string sql = "COPY (" + std::string(query) + ") TO STDOUT";
  PgResultPtr started(PQexec(conn, sql.c_str()));
  if (PQresultStatus(started.get()) != PGRES_COPY_OUT)
    return PgError(conn, started.get(), "starting COPY out");
  Status status;
  CopyOutRow row;
  for (;;) {
    char* data = nullptr;
    const int length = PQgetCopyData(conn, &data, 0);
    if (length < 0) break;  // -1: done; -2: failed (reported by PQgetResult)
    if (status.ok()) {
      std::string_view line(data, static_cast<size_t>(length));
      if (line.ends_with('\n')) line.remove_suffix(1);
      row.Parse(line);
      status = on_row(row);
    }
    PQfreemem(data);
  }
  while (PGresult* raw = PQgetResult(conn)) {
    PgResultPtr result(raw);
    if (PQresultStatus(raw) != PGRES_COMMAND_OK && status.ok())
      status = PgError(conn, raw, "COPY out");
  }
  return status;
}

// A staging table: rows wait in `buffer` (COPY text) until the writer flushes.
struct Stage {
  Stage(std::string_view t, std::string_view c, std::string_view m)
      : table(t), columns(c), merge_sql(m) {}
  std::string_view table;
  std::string_view columns;
  std::string_view merge_sql;  // moves the staged rows into the real table and empties it
  std::string buffer;
  size_t rows = 0;
};

constexpr std::string_view kStagingTables = R"sql(
CREATE TEMP TABLE stage_practices (seq BIGINT, id {{TEXT}}, name {{TEXT}}, pch {{TEXT}},
  postcode_district {{TEXT}}) ON COMMIT DROP;
CREATE TEMP TABLE stage_patients (seq BIGINT, id {{TEXT}}, nhs_number {{TEXT}},
  source_identifier {{TEXT}}, family_name {{TEXT}}, given_name {{TEXT}}, birth_date INTEGER,
  sex SMALLINT, postcode_district {{TEXT}}, deprivation_decile SMALLINT, practice_id {{TEXT}},
  death_date INTEGER, family_folded {{TEXT}}, given_folded {{TEXT}}) ON COMMIT DROP;
CREATE TEMP TABLE stage_activities (seq BIGINT, id {{TEXT}}, patient_id {{TEXT}}, type SMALLINT,
  start_date INTEGER, end_date INTEGER, length_of_stay_days INTEGER, cost_pence BIGINT,
  specialty {{TEXT}}, practice_id {{TEXT}}) ON COMMIT DROP;
CREATE TEMP TABLE stage_costs (id {{TEXT}}, cost_pence BIGINT) ON COMMIT DROP;
CREATE TEMP TABLE stage_events (seq BIGINT, id {{TEXT}}, patient_id {{TEXT}}, kind SMALLINT,
  code_system SMALLINT, code {{TEXT}}, term {{TEXT}}, date INTEGER, source SMALLINT,
  admission_method SMALLINT, activity_id {{TEXT}}, value DOUBLE PRECISION, unit {{TEXT}})
  ON COMMIT DROP;
CREATE TEMP TABLE stage_medications (seq BIGINT, id {{TEXT}}, patient_id {{TEXT}},
  code_system SMALLINT, code {{TEXT}}, term {{TEXT}}, start_date INTEGER, end_date INTEGER)
  ON COMMIT DROP;
)sql";

// DISTINCT ON keeps the last staged version of a record added twice in one batch (ON CONFLICT
// may not touch a row twice in one statement).
constexpr std::string_view kMergePractices = R"sql(
INSERT INTO practices (id, name, pch, postcode_district)
SELECT DISTINCT ON (id) id, name, pch, postcode_district FROM stage_practices ORDER BY id, seq DESC
ON CONFLICT (id) DO UPDATE SET name = excluded.name, pch = excluded.pch,
  postcode_district = excluded.postcode_district;
TRUNCATE stage_practices;
)sql";

constexpr std::string_view kMergePatients = R"sql(
INSERT INTO patients (id, nhs_number, source_identifier, family_name, given_name, birth_date, sex,
  postcode_district, deprivation_decile, practice_id, death_date, family_folded, given_folded)
SELECT DISTINCT ON (id) id, nhs_number, source_identifier, family_name, given_name, birth_date,
  sex, postcode_district, deprivation_decile, practice_id, death_date, family_folded, given_folded
FROM stage_patients ORDER BY id, seq DESC
ON CONFLICT (id) DO UPDATE SET nhs_number = excluded.nhs_number,
  source_identifier = excluded.source_identifier, family_name = excluded.family_name,
  given_name = excluded.given_name, birth_date = excluded.birth_date, sex = excluded.sex,
  postcode_district = excluded.postcode_district,
  deprivation_decile = excluded.deprivation_decile, practice_id = excluded.practice_id,
  death_date = excluded.death_date, family_folded = excluded.family_folded,
  given_folded = excluded.given_folded;
TRUNCATE stage_patients;
)sql";

constexpr std::string_view kMergeActivities = R"sql(
INSERT INTO activities (id, patient_key, type, start_date, end_date, length_of_stay_days,
  cost_pence, specialty, practice_id)
SELECT DISTINCT ON (s.id) s.id, p.key, s.type, s.start_date, s.end_date, s.length_of_stay_days,
  s.cost_pence, s.specialty, s.practice_id
FROM stage_activities s JOIN patients p ON p.id = s.patient_id ORDER BY s.id, s.seq DESC
ON CONFLICT (id) DO UPDATE SET patient_key = excluded.patient_key, type = excluded.type,
  start_date = excluded.start_date, end_date = excluded.end_date,
  length_of_stay_days = excluded.length_of_stay_days, cost_pence = excluded.cost_pence,
  specialty = excluded.specialty, practice_id = excluded.practice_id;
TRUNCATE stage_activities;
)sql";

constexpr std::string_view kMergeCosts = R"sql(
UPDATE activities a SET cost_pence = s.cost_pence FROM stage_costs s WHERE a.id = s.id;
TRUNCATE stage_costs;
)sql";

constexpr std::string_view kMergeEvents = R"sql(
INSERT INTO concepts (code_system, code, term)
SELECT DISTINCT s.code_system, s.code, s.term FROM stage_events s
WHERE NOT EXISTS (SELECT 1 FROM concepts c
                  WHERE c.code_system = s.code_system AND c.code = s.code AND c.term = s.term)
ON CONFLICT DO NOTHING;
INSERT INTO events (id, patient_key, kind, concept_key, date, source, admission_method,
  activity_key, value, unit)
SELECT DISTINCT ON (s.id) s.id, p.key, s.kind, c.key, s.date, s.source, s.admission_method,
  a.key, s.value, s.unit
FROM stage_events s JOIN patients p ON p.id = s.patient_id
JOIN concepts c ON c.code_system = s.code_system AND c.code = s.code AND c.term = s.term
LEFT JOIN activities a ON a.id = s.activity_id
ORDER BY s.id, s.seq DESC
ON CONFLICT (id) DO UPDATE SET patient_key = excluded.patient_key, kind = excluded.kind,
  concept_key = excluded.concept_key, date = excluded.date, source = excluded.source,
  admission_method = excluded.admission_method, activity_key = excluded.activity_key,
  value = excluded.value, unit = excluded.unit;
TRUNCATE stage_events;
)sql";

constexpr std::string_view kMergeMedications = R"sql(
INSERT INTO concepts (code_system, code, term)
SELECT DISTINCT s.code_system, s.code, s.term FROM stage_medications s
WHERE NOT EXISTS (SELECT 1 FROM concepts c
                  WHERE c.code_system = s.code_system AND c.code = s.code AND c.term = s.term)
ON CONFLICT DO NOTHING;
INSERT INTO medications (id, patient_key, concept_key, start_date, end_date)
SELECT DISTINCT ON (s.id) s.id, p.key, c.key, s.start_date, s.end_date
FROM stage_medications s JOIN patients p ON p.id = s.patient_id
JOIN concepts c ON c.code_system = s.code_system AND c.code = s.code AND c.term = s.term
ORDER BY s.id, s.seq DESC
ON CONFLICT (id) DO UPDATE SET patient_key = excluded.patient_key,
  concept_key = excluded.concept_key, start_date = excluded.start_date,
  end_date = excluded.end_date;
TRUNCATE stage_medications;
)sql";

class PgStore;

class PgWriter final : public Writer {
 public:
  PgWriter(PgStore& store, PGconn* conn);
  ~PgWriter() override;

  Status Init();
  Status Add(const Practice& practice) override;
  Status Add(const Patient& patient) override;
  Status Add(const ClinicalEvent& event) override;
  Status Add(const Activity& activity) override;
  Status Add(const Medication& medication) override;
  Status SetActivityCost(std::string_view activity_id, int64_t cost_pence) override;
  Status AddDocument(const ResourceWrite& write) override;
  Status Commit() override;
  // Merges everything staged into the tables (inside the transaction).
  Status Flush();

 private:
  // Rows staged before the writer merges them: big enough that a merge's fixed cost (a few
  // round trips, one plan) is spread thin, small enough that the staging tables stay cached.
  static constexpr size_t kFlushRows = 20'000;
  // Ids remembered per table; past this the set is dropped and misses query the table.
  static constexpr size_t kMaxKnownIds = 1'000'000;
  // After this many single-id lookups in a table we fetch all its ids at once instead: an
  // update of a big store touches most of its patients, and one query beats a million.
  static constexpr int kLookupsBeforePreload = 256;

  // What the writer knows about one referenced table's ids.
  struct Known {
    explicit Known(std::string_view t) : table(t) {}
    std::string_view table;
    IdSet ids;
    bool complete = false;  // `ids` holds every id in the table (it was empty, or preloaded)
    int lookups = 0;
  };

  Status Usable() const;
  Status Fail(Error error);
  Result<bool> IsKnown(Known& known, std::string_view id);
  Status Remember(Known& known, std::string_view id);
  Status Staged(Stage& stage);
  Status CopyIn(std::string_view table, std::string_view columns, const std::string& buffer);

  PgStore& store_;
  PGconn* conn_;
  bool open_ = false;
  bool committed_ = false;
  std::optional<Error> failed_;
  int64_t seq_ = 0;
  size_t staged_rows_ = 0;

  Known practices_{"practices"}, patients_{"patients"}, activities_{"activities"};
  Stage stage_practices_{"stage_practices", "seq, id, name, pch, postcode_district",
                         kMergePractices};
  Stage stage_patients_{"stage_patients",
                        "seq, id, nhs_number, source_identifier, family_name, given_name,"
                        " birth_date, sex, postcode_district, deprivation_decile, practice_id,"
                        " death_date, family_folded, given_folded",
                        kMergePatients};
  Stage stage_activities_{"stage_activities",
                          "seq, id, patient_id, type, start_date, end_date,"
                          " length_of_stay_days, cost_pence, specialty, practice_id",
                          kMergeActivities};
  Stage stage_events_{"stage_events",
                      "seq, id, patient_id, kind, code_system, code, term, date, source,"
                      " admission_method, activity_id, value, unit",
                      kMergeEvents};
  Stage stage_medications_{"stage_medications",
                           "seq, id, patient_id, code_system, code, term, start_date, end_date",
                           kMergeMedications};
  // Costs for activities not staged in the current batch, applied after the activity merge.
  std::unordered_map<std::string, int64_t, StringHash, std::equal_to<>> pending_costs_;
};

class PgStore final : public SqlStore {
 public:
  explicit PgStore(PGconn* conn) : conn_(conn) {}
  ~PgStore() override { PQfinish(conn_); }
  // Audit appends of this process's connections to `url` are committed in groups.
  void ShareUrl(const std::string& url) { ShareDatabase(url); }

  std::string_view backend() const override { return "postgresql"; }
  int schema_version() const override { return schema_version_; }

  Status Migrate();

  Result<std::unique_ptr<Writer>> BeginWrite() override {
    if (writer_active_)
      return Error::Conflict("postgresql: a writer is already open on this store");
    auto writer = std::make_unique<PgWriter>(*this, conn_);
    writer_active_ = true;  // cleared by the writer's destructor, even if Init fails
    JU_RETURN_IF_ERROR(writer->Init());
    return std::unique_ptr<Writer>(std::move(writer));
  }
  void WriterClosed() { writer_active_ = false; }

  Result<Cohort> LoadCohort(const CohortLoadOptions& options) override;
  Result<int64_t> SaveRun(const StratificationRun& run,
                          std::span<const PersonRunResult> results) override;

  // Public here: the writer looks ids up through it.
  Status Query(std::string_view sql, std::span<const SqlParam> params,
               const RowFn& on_row) override {
    return Run(sql, params, on_row, /*prepare=*/true);
  }

 protected:
  Status InTransaction(bool audit_lock, const std::function<Status()>& body) override;
  Status QueryPlannedPerCall(std::string_view sql, std::span<const SqlParam> params,
                             const RowFn& on_row) override {
    return Run(sql, params, on_row, /*prepare=*/false);
  }
  Dialect dialect() const override { return Dialect::kPostgres; }
  Status LockResource(std::string_view resource_type, std::string_view id) override;
  Status FlushWriter(Writer& writer) override { return static_cast<PgWriter&>(writer).Flush(); }

 private:
  Status Run(std::string_view sql, std::span<const SqlParam> params, const RowFn& on_row,
             bool prepare);

  // Statements prepared on this connection, by their SQL text (see Run).
  static constexpr size_t kMaxPrepared = 512;
  std::unordered_map<std::string, std::string, StringHash, std::equal_to<>> prepared_;

  PGconn* conn_;
  int schema_version_ = 0;
  bool writer_active_ = false;
};

Status PgStore::Run(std::string_view sql, std::span<const SqlParam> params, const RowFn& on_row,
                    bool prepare) {
  // `?N` → `$N` (the shared SQL never has a literal '?').
  std::string text(sql);
  for (size_t i = 0; i + 1 < text.size(); ++i)
    if (text[i] == '?' && text[i + 1] >= '0' && text[i + 1] <= '9') text[i] = '$';
  std::vector<std::string> storage(params.size());
  std::vector<const char*> values(params.size(), nullptr);
  for (size_t i = 0; i < params.size(); ++i) {
    switch (params[i].kind) {
      case SqlParam::Kind::kNull:
        break;
      case SqlParam::Kind::kInt:
        storage[i] = std::to_string(params[i].integer);
        break;
      case SqlParam::Kind::kReal: {  // the shortest text that reads back as the same double
        char buffer[32];
        const auto written = std::to_chars(buffer, buffer + sizeof buffer, params[i].real);
        storage[i].assign(buffer, written.ptr);
        break;
      }
      case SqlParam::Kind::kText:
        storage[i] = params[i].text;
        break;
      case SqlParam::Kind::kBlob:  // bytea's text input form: \x and two hex digits a byte
        storage[i] = "\\x";
        for (char byte : params[i].text) {
          static constexpr char kDigits[] = "0123456789abcdef";
          storage[i] += kDigits[static_cast<uint8_t>(byte) >> 4];
          storage[i] += kDigits[static_cast<uint8_t>(byte) & 0xf];
        }
        break;
    }
    if (params[i].kind != SqlParam::Kind::kNull) values[i] = storage[i].c_str();
  }
  // Statements are prepared once per connection and SQL text, as SQLite's are: a search's SQL
  // is the same for every value, so parsing and planning are paid once (PostgreSQL keeps a
  // generic plan once it is no worse than the custom ones). DDL and transaction control are
  // not prepared, nor statements asked for with prepare = false (QueryPlannedPerCall), and the
  // cache is bounded (an IN list's length changes the text).
  const std::string_view verb = std::string_view(text).substr(0, 7);
  const bool cacheable = verb.starts_with("SELECT") || verb.starts_with("INSERT") ||
                         verb.starts_with("UPDATE") || verb.starts_with("DELETE") ||
                         verb.starts_with("WITH");
  const std::string* name = nullptr;
  if (auto it = prepare ? prepared_.find(text) : prepared_.end(); it != prepared_.end()) {
    name = &it->second;
  } else if (prepare && cacheable && prepared_.size() < kMaxPrepared) {
    std::string fresh = "ju_" + std::to_string(prepared_.size());
    PgResultPtr prepared(
        PQprepare(conn_, fresh.c_str(), text.c_str(), static_cast<int>(params.size()), nullptr));
    if (PQresultStatus(prepared.get()) != PGRES_COMMAND_OK)
      return PgError(conn_, prepared.get(), "preparing a query");
    name = &prepared_.emplace(text, std::move(fresh)).first->second;
  }
  PgResultPtr result(name != nullptr
                         ? PQexecPrepared(conn_, name->c_str(), static_cast<int>(params.size()),
                                          values.data(), nullptr, nullptr, 0)
                         : PQexecParams(conn_, text.c_str(), static_cast<int>(params.size()),
                                        nullptr, values.data(), nullptr, nullptr, 0));
  const ExecStatusType status = PQresultStatus(result.get());
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK)
    return PgError(conn_, result.get(), "query");
  const int rows = PQntuples(result.get());
  for (int r = 0; r < rows; ++r) JU_RETURN_IF_ERROR(on_row(PgRow(result.get(), r)));
  return Ok();
}

Status PgStore::Migrate() {
  JU_RETURN_IF_ERROR(Exec(conn_, "BEGIN"));
  auto migrate = [&]() -> Status {
    const SqlParam lock = SqlParam::Int(kMigrationLockKey);
    JU_RETURN_IF_ERROR(
        Query("SELECT pg_advisory_xact_lock(?1)", {&lock, 1}, [](const SqlRow&) { return Ok(); }));
    JU_RETURN_IF_ERROR(Exec(conn_, SchemaMigrationsTableSql(Dialect::kPostgres)));
    JU_RETURN_IF_ERROR(ApplyMigrations(
        "postgresql", [&](const std::string& script) { return Exec(conn_, script); }));
    schema_version_ = kLatestSchemaVersion;
    return Ok();
  };
  Status status = migrate();
  if (!status.ok()) {
    (void)Exec(conn_, "ROLLBACK");
    return status;
  }
  return Exec(conn_, "COMMIT");
}

// A transaction-scoped advisory lock on (type, id): concurrent PutResource calls on one
// resource, from any connection or process, take turns until commit. The key is a 64-bit
// FNV-1a hash; a collision only makes two resources take turns.
Status PgStore::LockResource(std::string_view resource_type, std::string_view id) {
  const SqlParam lock =
      SqlParam::Int(StableHash64(std::string(resource_type) + "/" + std::string(id)));
  return Query("SELECT pg_advisory_xact_lock(?1)", {&lock, 1}, [](const SqlRow&) { return Ok(); });
}

Status PgStore::InTransaction(bool audit_lock, const std::function<Status()>& body) {
  if (writer_active_) return Error::Conflict("postgresql: a writer is open on this store");
  JU_RETURN_IF_ERROR(Exec(conn_, "BEGIN"));
  Status status;
  if (audit_lock) {
    const SqlParam lock = SqlParam::Int(kAuditChainLockKey);
    status =
        Query("SELECT pg_advisory_xact_lock(?1)", {&lock, 1}, [](const SqlRow&) { return Ok(); });
  }
  if (status.ok()) status = body();
  Status ended = Exec(conn_, status.ok() ? "COMMIT" : "ROLLBACK");
  if (!ended.ok() && status.ok()) {
    (void)Exec(conn_, "ROLLBACK");
    return ended;
  }
  return status;
}

// ---- LoadCohort ---------------------------------------------------------------------------------

// One REPEATABLE READ transaction (a single snapshot) on the store's connection; each table
// streams through COPY in key order into one slice. Correct first: the grouping and sorting
// run on `threads`, the reading on one connection.
Result<Cohort> PgStore::LoadCohort(const CohortLoadOptions& options) {
  const int threads = options.threads > 0
                          ? std::min(options.threads, 64)
                          : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  if (writer_active_) return Error::Conflict("postgresql: a writer is open on this store");
  JU_RETURN_IF_ERROR(Exec(conn_, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
  int64_t done = 0, total = 0;
  auto counted = [&]() {
    if (++done % 65536 == 0 && options.progress) options.progress(done, total);
  };
  CohortBuilder builder;
  auto load = [&]() -> Status {
    // Exact within the snapshot: they size the builder's tables.
    int64_t events = 0, activities = 0, medications = 0;
    JU_RETURN_IF_ERROR(
        Query("SELECT (SELECT COUNT(*) FROM patients), (SELECT COUNT(*) FROM"
              " events), (SELECT COUNT(*) FROM activities), (SELECT COUNT(*)"
              " FROM medications)",
              {}, [&](const SqlRow& row) -> Status {
                events = row.Int(1);
                activities = row.Int(2);
                medications = row.Int(3);
                total = row.Int(0) + events + activities + medications;
                return Ok();
              }));
    JU_ASSIGN_OR_RETURN(std::vector<Practice> practices, Practices());
    for (Practice& practice : practices) builder.AddPractice(std::move(practice));
    JU_RETURN_IF_ERROR(Query("SELECT key, code_system, code FROM concepts ORDER BY key", {},
                             [&](const SqlRow& row) -> Status {
                               return builder.AddConcept(row.Int(0), row.Int(1), row.Text(2));
                             }));
    JU_RETURN_IF_ERROR(
        CopyOut(conn_,
                "SELECT key, id, nhs_number, practice_id, birth_date, sex, deprivation_decile,"
                " death_date FROM patients ORDER BY key",
                [&](const CopyOutRow& row) -> Status {
                  JU_ASSIGN_OR_RETURN(int64_t key, row.Int(0));
                  JU_ASSIGN_OR_RETURN(int64_t birth, row.Int(4));
                  JU_ASSIGN_OR_RETURN(int64_t sex, row.Int(5));
                  JU_ASSIGN_OR_RETURN(int64_t decile, row.Int(6));
                  JU_ASSIGN_OR_RETURN(std::optional<int64_t> death, row.OptionalInt(7));
                  JU_RETURN_IF_ERROR(builder.AddPerson(key, row.Text(1), row.Text(2), row.Text(3),
                                                       birth, sex, decile, death));
                  counted();
                  return Ok();
                }));
    if (options.people_only) {
      total -= events + activities + medications;
      builder.AllocateRows(0, 0, 0);
      builder.EndPeople();
      return Ok();
    }
    builder.AllocateRows(static_cast<uint64_t>(events), static_cast<uint64_t>(activities),
                         static_cast<uint64_t>(medications));
    builder.EndPeople();
    uint64_t position = 0;  // the row's rank in its key-ordered stream
    JU_RETURN_IF_ERROR(
        CopyOut(conn_,
                "SELECT patient_key, concept_key, date, kind, source, admission_method, value"
                " FROM events ORDER BY key",
                [&](const CopyOutRow& row) -> Status {
                  int64_t v[6];
                  for (size_t i = 0; i < 6; ++i) {
                    JU_ASSIGN_OR_RETURN(v[i], row.Int(i));
                  }
                  JU_ASSIGN_OR_RETURN(std::optional<double> value, row.OptionalReal(6));
                  JU_RETURN_IF_ERROR(
                      builder.SetEvent(position++, v[0], v[1], v[2], v[3], v[4], v[5], value));
                  counted();
                  return Ok();
                }));
    position = 0;
    JU_RETURN_IF_ERROR(CopyOut(
        conn_,
        "SELECT patient_key, type, start_date, end_date, length_of_stay_days, cost_pence"
        " FROM activities" +
            (options.activities_from ? " WHERE " + ActivitiesFromCondition(*options.activities_from)
                                     : std::string()) +
            " ORDER BY key",
        [&](const CopyOutRow& row) -> Status {
          JU_ASSIGN_OR_RETURN(int64_t patient, row.Int(0));
          JU_ASSIGN_OR_RETURN(int64_t type, row.Int(1));
          JU_ASSIGN_OR_RETURN(int64_t start, row.Int(2));
          JU_ASSIGN_OR_RETURN(std::optional<int64_t> end, row.OptionalInt(3));
          JU_ASSIGN_OR_RETURN(int64_t stay, row.Int(4));
          JU_ASSIGN_OR_RETURN(int64_t cost, row.Int(5));
          JU_RETURN_IF_ERROR(
              builder.SetActivity(position++, patient, type, start, end, stay, cost));
          counted();
          return Ok();
        }));
    position = 0;
    return CopyOut(
        conn_,
        "SELECT patient_key, concept_key, start_date, end_date FROM medications"
        " ORDER BY key",
        [&](const CopyOutRow& row) -> Status {
          JU_ASSIGN_OR_RETURN(int64_t patient, row.Int(0));
          JU_ASSIGN_OR_RETURN(int64_t concept_key, row.Int(1));
          JU_ASSIGN_OR_RETURN(int64_t start, row.Int(2));
          JU_ASSIGN_OR_RETURN(std::optional<int64_t> end, row.OptionalInt(3));
          JU_RETURN_IF_ERROR(builder.SetMedication(position++, patient, concept_key, start, end));
          counted();
          return Ok();
        });
  };
  Status loaded = load();
  Status ended = Exec(conn_, loaded.ok() ? "COMMIT" : "ROLLBACK");
  JU_RETURN_IF_ERROR(loaded);
  JU_RETURN_IF_ERROR(ended);
  Cohort cohort = builder.Finish(threads);
  if (options.progress) options.progress(total, total);
  return cohort;
}

// ---- SaveRun ------------------------------------------------------------------------------------

// One transaction: the run's header rows by INSERT, its results by one streamed COPY.
Result<int64_t> PgStore::SaveRun(const StratificationRun& run,
                                 std::span<const PersonRunResult> results) {
  if (writer_active_) return Error::Conflict("postgresql: a writer is open on this store");
  JU_ASSIGN_OR_RETURN(std::vector<uint32_t> order, CheckRunResults(run, results));
  JU_RETURN_IF_ERROR(Exec(conn_, "BEGIN"));
  auto save = [&]() -> Result<int64_t> {
    JU_RETURN_IF_ERROR(CheckPatientKeys(results, order));
    JU_ASSIGN_OR_RETURN(int64_t id, InsertRun(run));
    CopyIn copy(conn_, "stratification_results");
    JU_RETURN_IF_ERROR(
        copy.Start("run_id, patient_key, ltc_count, efi_deficits, hfrs_tenths, charlson_1987,"
                   " charlson_quan2011, elixhauser, admission_risk, cost_12m_pence, segments"));
    std::string buffer, segments, hex;
    Status put;
    for (uint32_t i : order) {
      const PersonRunResult& r = results[i];
      EncodeSegments(r, segments);
      hex = "\\x";
      for (char byte : segments) {
        static constexpr char kDigits[] = "0123456789abcdef";
        hex += kDigits[static_cast<uint8_t>(byte) >> 4];
        hex += kDigits[static_cast<uint8_t>(byte) & 0xf];
      }
      CopyRow(buffer)
          .Int(id)
          .Int(r.patient_key)
          .Int(r.ltc_count)
          .Int(r.efi_deficits)
          .Int(r.hfrs_tenths)
          .Int(r.charlson_1987)
          .Int(r.charlson_quan2011)
          .Int(r.elixhauser)
          .Real(static_cast<double>(r.admission_risk))
          .Int(r.cost_12m_pence)
          .Text(hex);
      if (buffer.size() >= (1 << 20)) {
        put = copy.Put(buffer);
        buffer.clear();
        if (!put.ok()) break;
      }
    }
    if (put.ok()) put = copy.Put(buffer);
    Status ended = copy.End();
    JU_RETURN_IF_ERROR(put);
    JU_RETURN_IF_ERROR(ended);
    return id;
  };
  Result<int64_t> saved = save();
  Status ended = Exec(conn_, saved.ok() ? "COMMIT" : "ROLLBACK");
  if (saved.ok() && !ended.ok()) return ended.take_error();
  return saved;
}

// ---- Writer ---------------------------------------------------------------------------------

PgWriter::PgWriter(PgStore& store, PGconn* conn) : store_(store), conn_(conn) {}

PgWriter::~PgWriter() {
  if (open_ && !committed_) (void)Exec(conn_, "ROLLBACK");
  store_.WriterClosed();
}

Status PgWriter::Init() {
  JU_RETURN_IF_ERROR(Exec(conn_, "BEGIN"));
  open_ = true;
  JU_RETURN_IF_ERROR(Exec(conn_, Render(kStagingTables, Dialect::kPostgres)));
  return store_.Query(
      "SELECT NOT EXISTS (SELECT 1 FROM practices), NOT EXISTS (SELECT 1 FROM patients),"
      " NOT EXISTS (SELECT 1 FROM activities)",
      {}, [&](const SqlRow& row) -> Status {
        practices_.complete = row.Text(0) == "t";
        patients_.complete = row.Text(1) == "t";
        activities_.complete = row.Text(2) == "t";
        return Ok();
      });
}

Status PgWriter::Usable() const {
  if (committed_) return Error::Internal("postgresql: the writer has already committed");
  if (failed_)
    return Error{failed_->code,
                 "an earlier write failed, nothing more can be written in this "
                 "transaction: " +
                     failed_->message,
                 failed_->field, failed_->backend_text};
  return Ok();
}

Status PgWriter::Fail(Error error) {
  failed_ = error;
  return error;
}

Result<bool> PgWriter::IsKnown(Known& known, std::string_view id) {
  if (known.ids.find(id) != known.ids.end()) return true;
  if (known.complete) return false;
  if (++known.lookups > kLookupsBeforePreload) {
    // Many misses: fetch the table's ids in one go if they fit, then answer from memory.
    int64_t count = 0;
    Status counted = store_.Query("SELECT COUNT(*) FROM " + std::string(known.table), {},
                                  [&](const SqlRow& row) -> Status {
                                    count = row.Int(0);
                                    return Ok();
                                  });
    if (!counted.ok()) return Fail(counted.take_error()).take_error();
    if (count + known.ids.size() < kMaxKnownIds) {
      Status loaded = store_.Query("SELECT id FROM " + std::string(known.table), {},
                                   [&](const SqlRow& row) -> Status {
                                     known.ids.emplace(row.Text(0));
                                     return Ok();
                                   });
      if (!loaded.ok()) return Fail(loaded.take_error()).take_error();
      known.complete = true;
      return known.ids.find(id) != known.ids.end();
    }
    known.lookups = -1'000'000'000;  // too big to hold: keep asking one id at a time
  }
  bool found = false;
  const SqlParam param = SqlParam::Text(id);
  Status status = store_.Query("SELECT 1 FROM " + std::string(known.table) + " WHERE id = ?1",
                               {&param, 1}, [&](const SqlRow&) -> Status {
                                 found = true;
                                 return Ok();
                               });
  if (!status.ok()) return Fail(status.take_error()).take_error();
  if (found) JU_RETURN_IF_ERROR(Remember(known, id));
  return found;
}

Status PgWriter::Remember(Known& known, std::string_view id) {
  if (known.ids.size() >= kMaxKnownIds && known.ids.find(id) == known.ids.end()) {
    // Forgetting ids is only safe once everything staged is in the tables, where a lookup
    // will find it.
    JU_RETURN_IF_ERROR(Flush());
    known.ids.clear();
    known.complete = false;
  }
  known.ids.emplace(id);
  return Ok();
}

Status PgWriter::Staged(Stage& stage) {
  ++stage.rows;
  if (++staged_rows_ >= kFlushRows) return Flush();
  return Ok();
}

Status PgWriter::CopyIn(std::string_view table, std::string_view columns,
                        const std::string& buffer) {
  return CopyInAll(conn_, table, columns, buffer);
}

Status PgWriter::Flush() {
  auto merge = [&](Stage& stage) -> Status {
    if (stage.rows == 0) return Ok();
    JU_RETURN_IF_ERROR(CopyIn(stage.table, stage.columns, stage.buffer));
    JU_RETURN_IF_ERROR(Exec(conn_, std::string(stage.merge_sql)));
    stage.buffer.clear();
    stage.rows = 0;
    return Ok();
  };
  auto flush = [&]() -> Status {
    // Parents before children, so every reference resolves inside the merge joins.
    JU_RETURN_IF_ERROR(merge(stage_practices_));
    JU_RETURN_IF_ERROR(merge(stage_patients_));
    JU_RETURN_IF_ERROR(merge(stage_activities_));
    if (!pending_costs_.empty()) {
      std::string buffer;
      for (const auto& [id, cost] : pending_costs_) CopyRow(buffer).Text(id).Int(cost);
      JU_RETURN_IF_ERROR(CopyIn("stage_costs", "id, cost_pence", buffer));
      JU_RETURN_IF_ERROR(Exec(conn_, std::string(kMergeCosts)));
      pending_costs_.clear();
    }
    JU_RETURN_IF_ERROR(merge(stage_events_));
    JU_RETURN_IF_ERROR(merge(stage_medications_));
    staged_rows_ = 0;
    return Ok();
  };
  Status status = flush();
  if (!status.ok()) return Fail(status.take_error());
  return Ok();
}

Status PgWriter::Add(const Practice& practice) {
  JU_RETURN_IF_ERROR(Usable());
  JU_RETURN_IF_ERROR(ValidateForStore(practice));
  JU_RETURN_IF_ERROR(Remember(practices_, practice.id));
  CopyRow(stage_practices_.buffer)
      .Int(++seq_)
      .Text(practice.id)
      .Text(practice.name)
      .Text(practice.pch)
      .Text(practice.postcode_district);
  return Staged(stage_practices_);
}

Status PgWriter::Add(const Patient& patient) {
  JU_RETURN_IF_ERROR(Usable());
  JU_RETURN_IF_ERROR(ValidateForStore(patient));
  if (!patient.practice_id.empty()) {
    JU_ASSIGN_OR_RETURN(bool known, IsKnown(practices_, patient.practice_id));
    if (!known) return UnknownPractice(patient.practice_id);
  }
  JU_RETURN_IF_ERROR(Remember(patients_, patient.id));
  {
    CopyRow row(stage_patients_.buffer);
    row.Int(++seq_).Text(patient.id);
    if (patient.nhs_number) {
      row.Text(patient.nhs_number->digits());
    } else {
      row.Null();
    }
    row.Text(patient.source_identifier)
        .Text(patient.family_name)
        .Text(patient.given_name)
        .Int(patient.birth_date.days_since_epoch())
        .Int(Ordinal(patient.sex))
        .Text(patient.postcode_district)
        .Int(patient.deprivation_decile)
        .TextOrNull(patient.practice_id)
        .OptionalDate(patient.death_date)
        .Text(FoldForSearch(patient.family_name))  // for name searches (resource_store.h)
        .Text(FoldForSearch(patient.given_name));
  }
  return Staged(stage_patients_);
}

Status PgWriter::Add(const Activity& activity) {
  JU_RETURN_IF_ERROR(Usable());
  JU_RETURN_IF_ERROR(ValidateForStore(activity));
  JU_ASSIGN_OR_RETURN(bool patient_known, IsKnown(patients_, activity.patient_id));
  if (!patient_known) return UnknownPatient(activity.patient_id);
  if (!activity.practice_id.empty()) {
    JU_ASSIGN_OR_RETURN(bool practice_known, IsKnown(practices_, activity.practice_id));
    if (!practice_known) return UnknownPractice(activity.practice_id);
  }
  JU_RETURN_IF_ERROR(Remember(activities_, activity.id));
  CopyRow(stage_activities_.buffer)
      .Int(++seq_)
      .Text(activity.id)
      .Text(activity.patient_id)
      .Int(Ordinal(activity.type))
      .Int(activity.start.days_since_epoch())
      .OptionalDate(activity.end)
      .Int(activity.length_of_stay_days)
      .Int(activity.cost_pence)
      .Text(activity.specialty)
      .TextOrNull(activity.practice_id);
  // The record carries its own cost; an earlier SetActivityCost no longer applies.
  if (!pending_costs_.empty()) {
    if (auto it = pending_costs_.find(activity.id); it != pending_costs_.end())
      pending_costs_.erase(it);
  }
  return Staged(stage_activities_);
}

Status PgWriter::Add(const ClinicalEvent& event) {
  JU_RETURN_IF_ERROR(Usable());
  JU_RETURN_IF_ERROR(ValidateForStore(event));
  JU_ASSIGN_OR_RETURN(bool patient_known, IsKnown(patients_, event.patient_id));
  if (!patient_known) return UnknownPatient(event.patient_id);
  if (!event.activity_id.empty()) {
    JU_ASSIGN_OR_RETURN(bool activity_known, IsKnown(activities_, event.activity_id));
    if (!activity_known) return UnknownActivity(event.activity_id);
  }
  {
    CopyRow row(stage_events_.buffer);
    row.Int(++seq_)
        .Text(event.id)
        .Text(event.patient_id)
        .Int(Ordinal(event.kind))
        .Int(Ordinal(event.system))
        .Text(event.code)
        .Text(event.term)
        .Int(event.date.days_since_epoch())
        .Int(Ordinal(event.source))
        .Int(Ordinal(event.admission_method))
        .TextOrNull(event.activity_id);
    if (event.value) {
      row.Real(*event.value);
    } else {
      row.Null();
    }
    row.Text(event.unit);
  }  // the row is complete (newline written) before a flush may send the buffer
  return Staged(stage_events_);
}

Status PgWriter::Add(const Medication& medication) {
  JU_RETURN_IF_ERROR(Usable());
  JU_RETURN_IF_ERROR(ValidateForStore(medication));
  JU_ASSIGN_OR_RETURN(bool patient_known, IsKnown(patients_, medication.patient_id));
  if (!patient_known) return UnknownPatient(medication.patient_id);
  CopyRow(stage_medications_.buffer)
      .Int(++seq_)
      .Text(medication.id)
      .Text(medication.patient_id)
      .Int(Ordinal(medication.system))
      .Text(medication.code)
      .Text(medication.term)
      .Int(medication.start.days_since_epoch())
      .OptionalDate(medication.end);
  return Staged(stage_medications_);
}

Status PgWriter::SetActivityCost(std::string_view activity_id, int64_t cost_pence) {
  JU_RETURN_IF_ERROR(Usable());
  JU_ASSIGN_OR_RETURN(bool known, IsKnown(activities_, activity_id));
  if (!known) return UnknownActivity(activity_id);
  // Applied after the next activity merge, so it also lands on an activity staged but not yet
  // merged; a later Add of the same activity cancels it (see Add(Activity)).
  auto [it, inserted] = pending_costs_.try_emplace(std::string(activity_id), cost_pence);
  if (!inserted) it->second = cost_pence;
  if (++staged_rows_ >= kFlushRows) return Flush();
  return Ok();
}

// The staged rows are merged first, so the document's person, added by this writer, is there.
Status PgWriter::AddDocument(const ResourceWrite& write) {
  JU_RETURN_IF_ERROR(Usable());
  JU_RETURN_IF_ERROR(Flush());
  ResourceMeta written;
  Status status = store_.WriteDocument(write, written);
  // A refusal before any statement failed leaves the transaction usable; anything else ends it.
  if (!status.ok() && status.error().code != ErrorCode::kNotFound &&
      status.error().code != ErrorCode::kInvalidInput)
    return Fail(status.take_error());
  return status;
}

Status PgWriter::Commit() {
  JU_RETURN_IF_ERROR(Usable());
  JU_RETURN_IF_ERROR(Flush());
  Status status = Exec(conn_, "COMMIT");
  if (!status.ok()) return Fail(status.take_error());
  committed_ = true;
  return Ok();
}

}  // namespace

Result<std::unique_ptr<Store>> OpenPostgresStore(const std::string& url) {
  PGconn* conn = PQconnectdb(url.c_str());
  if (conn == nullptr) return Error::Unavailable("postgresql: out of memory connecting");
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string message = "postgresql: cannot connect: " + TrimEnd(PQerrorMessage(conn));
    PQfinish(conn);
    return Error::Unavailable(std::move(message));
  }
  // Server notices ("relation already exists, skipping") are not for the user's terminal.
  PQsetNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);
  auto store = std::make_unique<PgStore>(conn);
  store->ShareUrl(url);
  JU_RETURN_IF_ERROR(store->Migrate());
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace joinedup::store
