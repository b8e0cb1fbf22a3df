#include "store/sqlite/sqlite_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/text_fold.h"
#include "store/cohort_builder.h"
#include "store/migrations.h"
#include "store/sql_store.h"
#include "store/store_columns.h"

namespace joinedup::store {
namespace {

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
// Text id → surrogate key, looked up with string_views (no allocation per lookup).
using KeyCache = std::unordered_map<std::string, int64_t, StringHash, std::equal_to<>>;

Error SqliteErrorOfCode(int rc, std::string message) {
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
      return Error::Conflict(std::move(message));
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_NOMEM:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_PERM:
    case SQLITE_AUTH:
      return Error::Unavailable(std::move(message));
    default:
      return Error::Internal(std::move(message));
  }
}

Error SqliteError(sqlite3* db, int rc, std::string_view what) {
  Error error =
      SqliteErrorOfCode(rc, "sqlite: " + std::string(what) + ": " +
                                (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
  error.backend_text = true;
  return error;
}

struct StmtDeleter {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtDeleter>;

Result<StmtPtr> Prepare(sqlite3* db, std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) return SqliteError(db, rc, "preparing statement");
  return StmtPtr(stmt);
}

constexpr int kBusyTimeoutMs = 5000;

// This process's turn to write `file` (SharedDatabase::write_mutex), waited for as long as
// SQLite's busy timeout would wait for another process.
Status TakeWriteTurn(std::timed_mutex& mutex, std::unique_lock<std::timed_mutex>& turn) {
  turn = std::unique_lock(mutex, std::defer_lock);
  if (!turn.try_lock_for(std::chrono::milliseconds(kBusyTimeoutMs)))
    return Error::Unavailable("sqlite: database is locked (another writer of this process)");
  return Ok();
}

Status Exec(sqlite3* db, const std::string& sql) {
  char* message = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message);
  if (rc == SQLITE_OK) return Ok();
  std::string text = message != nullptr ? message : sqlite3_errstr(rc);
  sqlite3_free(message);
  Error error = SqliteError(nullptr, rc, "");
  error.message = "sqlite: " + text + " (in: " + sql.substr(0, 80) + ")";
  return error;
}

// Binds a text value without copying; the view must live until the statement has stepped.
void BindText(sqlite3_stmt* stmt, int index, std::string_view text) {
  sqlite3_bind_text(stmt, index, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
}
void BindTextOrNull(sqlite3_stmt* stmt, int index, std::string_view text) {
  if (text.empty()) {
    sqlite3_bind_null(stmt, index);
  } else {
    BindText(stmt, index, text);
  }
}
void BindOptionalDate(sqlite3_stmt* stmt, int index, const std::optional<Date>& date) {
  if (date) {
    sqlite3_bind_int(stmt, index, date->days_since_epoch());
  } else {
    sqlite3_bind_null(stmt, index);
  }
}

class SqliteRow final : public SqlRow {
 public:
  explicit SqliteRow(sqlite3_stmt* stmt) : stmt_(stmt) {}
  bool IsNull(int column) const override {
    return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
  }
  int64_t Int(int column) const override { return sqlite3_column_int64(stmt_, column); }
  double Real(int column) const override { return sqlite3_column_double(stmt_, column); }
  std::string_view Text(int column) const override {
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
    if (text == nullptr) return {};
    return {text, static_cast<size_t>(sqlite3_column_bytes(stmt_, column))};
  }
  std::string_view Blob(int column) const override {
    const auto* bytes = static_cast<const char*>(sqlite3_column_blob(stmt_, column));
    if (bytes == nullptr) return {};
    return {bytes, static_cast<size_t>(sqlite3_column_bytes(stmt_, column))};
  }

 private:
  sqlite3_stmt* stmt_;
};

class SqliteStore;

// One IMMEDIATE transaction. Ids named by records are resolved to surrogate keys through
// caches filled as the writer goes: with what it wrote itself and, on a miss, with one
// indexed lookup (a few microseconds) — skipped when the table was empty as the writer began,
// the common case of a first import. Ids are not preloaded: that would read the whole id
// index even when an import touches a handful of patients.
//
// Speed (see Upsert and Init): each record is one plain single-row INSERT, and the
// connection's foreign key enforcement is suspended while the writer's transaction is open —
// the writer performs exactly those reference checks itself, before writing, as the Writer
// contract requires. Both avoid SQLite's per-statement journal, which measured at about half
// of the writer's time.
class SqliteWriter final : public Writer {
 public:
  SqliteWriter(SqliteStore& store, sqlite3* db) : store_(store), db_(db) {}
  ~SqliteWriter() override;

  Status Init();
  Status Add(const Practice& practice) override;
  Status Add(const Patient& patient) override;
  Status Add(const ClinicalEvent& event) override;
  Status Add(const Activity& activity) override;
  Status Add(const Medication& medication) override;
  Status SetActivityCost(std::string_view activity_id, int64_t cost_pence) override;
  Status AddDocument(const ResourceWrite& write) override;
  Status Commit() override;

 private:
  struct Table {
    KeyCache keys;
    StmtPtr lookup;  // SELECT key FROM <table> WHERE id = ?1
    bool had_rows_at_begin = true;

    // Bounded, so memory stays flat on tens of millions of records: when full the cache is
    // dropped and misses go to the (indexed) table again.
    void Remember(std::string_view id, int64_t key) {
      if (keys.size() >= kMaxCachedIds) {
        keys.clear();
        had_rows_at_begin = true;
      }
      auto [it, inserted] = keys.try_emplace(std::string(id), key);
      if (!inserted) it->second = key;
    }
  };
  static constexpr size_t kMaxCachedIds = 1'000'000;

  Status Usable() const;
  // A database failure leaves the transaction in an unknown state: refuse further work.
  Status Fail(Error error);
  Result<std::optional<int64_t>> Resolve(Table& table, std::string_view id);
  Result<int64_t> ConceptKey(CodeSystem system, std::string_view code, std::string_view term);
  Status StepDone(sqlite3_stmt* stmt, std::string_view what);
  template <typename Bind, typename Describe>
  Result<int64_t> Upsert(sqlite3_stmt* insert, sqlite3_stmt* update, const Bind& bind,
                         const Describe& describe);
  void Close(std::string_view end);

  SqliteStore& store_;
  sqlite3* db_;
  std::unique_lock<std::timed_mutex> turn_;  // this process's write turn, held while open
  bool open_ = false;                        // the transaction is open
  bool committed_ = false;
  std::optional<Error> failed_;

  Table practices_, patients_, activities_;
  KeyCache concepts_;
  bool concepts_had_rows_ = true;
  std::string concept_buffer_;
  StmtPtr insert_practice_, update_practice_, insert_patient_, update_patient_, insert_activity_,
      update_activity_, insert_event_, update_event_, insert_medication_, update_medication_,
      find_concept_, insert_concept_, set_cost_;
};

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using DbPtr = std::unique_ptr<sqlite3, DbCloser>;

// Checkpoints one database file's WAL on a thread of its own, for the stores of this process
// on that file (they share one; their commits only tell it when one is due).
// - SQLite's automatic checkpoint runs inside the COMMIT that crossed 1000 WAL pages, fsync
//   included, while that connection holds the process's write turn: every waiting request paid.
// - Under a steady stream of commits (each request appends an audit event) the WAL is never
//   fully copied back when a writer begins, so SQLite never starts it afresh: it grew by GBs and
//   every page read searched it (sqlite3WalFindFrame was 13% of the server's CPU). Past
//   kRestartPages a RESTART checkpoint, holding the process's write turn, lets the next writer
//   start the WAL from the beginning; the PASSIVE one before it leaves it little to copy.
class Checkpointer {
 public:
  static constexpr int kDuePages = 1000;  // SQLite's default wal_autocheckpoint
  static constexpr int kRestartPages = 4 * kDuePages;

  // The one for `file` in this process (whose stores share `shared`), started on first use.
  static std::shared_ptr<Checkpointer> For(const std::string& file,
                                           std::shared_ptr<SharedDatabase> shared) {
    static std::mutex registry_mutex;
    static std::unordered_map<std::string, std::weak_ptr<Checkpointer>> registry;
    std::lock_guard lock(registry_mutex);
    std::erase_if(registry, [](const auto& entry) { return entry.second.expired(); });
    std::weak_ptr<Checkpointer>& entry = registry[file];
    std::shared_ptr<Checkpointer> checkpointer = entry.lock();
    if (!checkpointer) {
      checkpointer = std::make_shared<Checkpointer>(file, std::move(shared));
      entry = checkpointer;
    }
    return checkpointer;
  }

  Checkpointer(std::string file, std::shared_ptr<SharedDatabase> shared)
      : file_(std::move(file)),
        shared_(std::move(shared)),
        thread_([this](std::stop_token stop) { Run(stop); }) {}
  ~Checkpointer() {
    thread_.request_stop();
    wake_.notify_all();
  }

  // The WAL hook of every store on the file (it replaces the automatic checkpoint).
  static int OnCommit(void* self, sqlite3*, const char*, int wal_pages) {
    auto* checkpointer = static_cast<Checkpointer*>(self);
    if (wal_pages >= checkpointer->due_at_.load(std::memory_order_relaxed)) checkpointer->Due();
    return SQLITE_OK;
  }

 private:
  void Due() {
    {
      std::lock_guard lock(mutex_);
      due_ = true;
    }
    wake_.notify_one();
  }

  // If a checkpoint fails (the file is busy, or gone), the next commit past the mark asks
  // again; the WAL only grows meanwhile.
  void Run(std::stop_token stop) {
    DbPtr db;
    for (;;) {
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, stop, [&] { return due_; });
        if (stop.stop_requested()) return;
        due_ = false;
      }
      if (!db) {
        sqlite3* opened = nullptr;
        const int rc = sqlite3_open_v2(file_.c_str(), &opened,
                                       SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
        db.reset(opened);
        if (rc != SQLITE_OK) {
          db.reset();
          continue;
        }
        sqlite3_busy_timeout(db.get(), 1000);
        // A connection learns the file is in WAL mode on its first read.
        if (!Exec(db.get(), "SELECT 1 FROM sqlite_master LIMIT 1").ok()) {
          db.reset();
          continue;
        }
      }
      int wal_pages = 0;
      if (sqlite3_wal_checkpoint_v2(db.get(), "main", SQLITE_CHECKPOINT_PASSIVE, &wal_pages,
                                    nullptr) != SQLITE_OK)
        continue;
      if (wal_pages < kRestartPages) {
        due_at_ = wal_pages + kDuePages;
        continue;
      }
      std::unique_lock<std::timed_mutex> turn;
      if (!TakeWriteTurn(shared_->write_mutex, turn).ok()) continue;
      if (sqlite3_wal_checkpoint_v2(db.get(), "main", SQLITE_CHECKPOINT_RESTART, nullptr,
                                    nullptr) == SQLITE_OK)
        due_at_ = kDuePages;  // the next writer starts the WAL afresh
    }
  }

  std::string file_;
  std::shared_ptr<SharedDatabase> shared_;
  std::mutex mutex_;
  std::condition_variable_any wake_;
  bool due_ = false;
  std::atomic<int> due_at_{kDuePages};  // WAL pages: kDuePages past the last checkpoint
  std::jthread thread_;                 // last: starts once the rest is ready, stops first
};

class SqliteStore final : public SqlStore {
 public:
  explicit SqliteStore(sqlite3* db) : db_(db) {}
  ~SqliteStore() override { sqlite3_close_v2(db_); }

  std::string_view backend() const override { return "sqlite"; }
  int schema_version() const override { return schema_version_; }

  Status Configure();
  Status Migrate();
  // Shares the write turn, the audit group commit and the checkpointer with the other stores
  // of this process on the same file (none for ":memory:").
  void ShareFile() {
    const char* file = sqlite3_db_filename(db_, "main");
    if (file == nullptr || *file == '\0') return;
    ShareDatabase(file);
    checkpointer_ = Checkpointer::For(file, shared_database());
    sqlite3_wal_hook(db_, &Checkpointer::OnCommit, checkpointer_.get());
  }

  Result<std::unique_ptr<Writer>> BeginWrite() override {
    if (writer_active_) return Error::Conflict("sqlite: a writer is already open on this store");
    auto writer = std::make_unique<SqliteWriter>(*this, db_);
    writer_active_ = true;  // cleared by the writer's destructor, even if Init fails
    JU_RETURN_IF_ERROR(writer->Init());
    return std::unique_ptr<Writer>(std::move(writer));
  }
  void WriterClosed() { writer_active_ = false; }
  std::timed_mutex& WriteTurn() { return shared().write_mutex; }

  Result<Cohort> LoadCohort(const CohortLoadOptions& options) override;
  Result<int64_t> SaveRun(const StratificationRun& run,
                          std::span<const PersonRunResult> results) override;

  void Observe(std::function<void(std::string_view)> observer) { observer_ = std::move(observer); }
  Result<std::string> Plan(std::string_view sql) {
    std::string plan;
    const std::string explain = "EXPLAIN QUERY PLAN " + std::string(sql);
    JU_ASSIGN_OR_RETURN(StmtPtr stmt, Prepare(db_, explain));
    for (;;) {
      const int rc = sqlite3_step(stmt.get());
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return SqliteError(db_, rc, "explaining a query");
      plan += reinterpret_cast<const char*>(sqlite3_column_text(stmt.get(), 3));
      plan += '\n';
    }
    return plan;
  }

  Result<std::string> Pragma(std::string_view name) {
    std::string value;
    JU_RETURN_IF_ERROR(Query("PRAGMA " + std::string(name), {}, [&](const SqlRow& row) -> Status {
      value = row.Text(0);
      return Ok();
    }));
    return value;
  }

 protected:
  Status Query(std::string_view sql, std::span<const SqlParam> params,
               const RowFn& on_row) override;
  Status InTransaction(bool audit_lock, const std::function<Status()>& body) override;
  Dialect dialect() const override { return Dialect::kSqlite; }
  // BEGIN IMMEDIATE (the Writer's and InTransaction's) already holds the one write lock.
  Status LockResource(std::string_view, std::string_view) override { return Ok(); }
  Status FlushWriter(Writer&) override { return Ok(); }  // the writer writes at once

 private:
  sqlite3* db_;
  int schema_version_ = 0;
  bool writer_active_ = false;
  // Read statements, prepared once per store and reused.
  std::unordered_map<std::string, StmtPtr, StringHash, std::equal_to<>> statements_;
  std::function<void(std::string_view)> observer_;  // tests only
  std::shared_ptr<Checkpointer> checkpointer_;      // file databases only
};

Status SqliteStore::Configure() {
  sqlite3_busy_timeout(db_, kBusyTimeoutMs);
  // page_size only takes effect on a new database; 64 MiB of page cache keeps the id indexes
  // of a million-patient import in memory.
  //
  // No memory map (mmap_size 0): pages are read with pread(). In WAL mode a connection whose
  // next read transaction finds that anything was committed since its last one drops its page
  // cache and unmaps the whole file (pagerBeginReadTransaction: pager_reset and
  // sqlite3OsUnfetch(fd, 0, 0)), then maps it again on its next page. A server commits an
  // audit group all the time, so with the map every request of every pooled connection paid a
  // munmap of a GB-sized mapping (page tables freed, TLBs of the process's other CPUs flushed),
  // an mmap and a page fault per page touched, serialised on the process's mmap lock. Measured
  // at 245k people on a 2-core VM: a read cost 1.5 ms of CPU against 0.45 ms with pread, half
  // of it the kernel's, and the server answered a third as many (bench/README.md, "The memory
  // map"). LoadCohort's readers, one long read transaction each, still map the file.
  return Exec(db_,
              "PRAGMA page_size = 8192;"
              "PRAGMA journal_mode = WAL;"
              "PRAGMA foreign_keys = ON;"
              "PRAGMA synchronous = NORMAL;"
              "PRAGMA cache_size = -65536;"
              "PRAGMA temp_store = MEMORY;"
              "PRAGMA mmap_size = 0;");
}

Status SqliteStore::Migrate() {
  JU_RETURN_IF_ERROR(Exec(db_, SchemaMigrationsTableSql(Dialect::kSqlite)));
  // IMMEDIATE: two processes opening a new file at once must not both apply migration 1.
  JU_RETURN_IF_ERROR(Exec(db_, "BEGIN IMMEDIATE"));
  auto migrate = [&]() -> Status {
    JU_RETURN_IF_ERROR(
        ApplyMigrations("sqlite", [&](const std::string& script) { return Exec(db_, script); }));
    schema_version_ = kLatestSchemaVersion;
    return Ok();
  };
  Status status = migrate();
  if (!status.ok()) {
    (void)Exec(db_, "ROLLBACK");
    return status;
  }
  return Exec(db_, "COMMIT");
}

Status SqliteStore::Query(std::string_view sql, std::span<const SqlParam> params,
                          const RowFn& on_row) {
  if (observer_) observer_(sql);
  auto it = statements_.find(sql);
  const bool cache_fresh = it == statements_.end();
  StmtPtr fresh;
  sqlite3_stmt* stmt = nullptr;
  if (it != statements_.end() && !sqlite3_stmt_busy(it->second.get())) {
    stmt = it->second.get();
  } else {
    JU_ASSIGN_OR_RETURN(fresh, Prepare(db_, sql));
    stmt = fresh.get();
  }
  for (size_t i = 0; i < params.size(); ++i) {
    const int index = static_cast<int>(i) + 1;
    switch (params[i].kind) {
      case SqlParam::Kind::kNull:
        sqlite3_bind_null(stmt, index);
        break;
      case SqlParam::Kind::kInt:
        sqlite3_bind_int64(stmt, index, params[i].integer);
        break;
      case SqlParam::Kind::kReal:
        sqlite3_bind_double(stmt, index, params[i].real);
        break;
      case SqlParam::Kind::kText:
        BindText(stmt, index, params[i].text);
        break;
      case SqlParam::Kind::kBlob:
        sqlite3_bind_blob(stmt, index, params[i].text.data(),
                          static_cast<int>(params[i].text.size()), SQLITE_STATIC);
        break;
    }
  }
  Status status;
  SqliteRow row(stmt);
  for (;;) {
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) {
      status = SqliteError(db_, rc, "query");
      break;
    }
    status = on_row(row);
    if (!status.ok()) break;
  }
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
  if (fresh && cache_fresh) statements_.emplace(std::string(sql), std::move(fresh));
  return status;
}

// IMMEDIATE takes the database's single write lock at BEGIN, so audit appends from any
// connection or process are serialised whatever `audit_lock` says. Within this process the
// writers take turns on the shared write mutex first (see SharedDatabase).
Status SqliteStore::InTransaction(bool /*audit_lock*/, const std::function<Status()>& body) {
  if (writer_active_) return Error::Conflict("sqlite: a writer is open on this store");
  // Waiting for the mutex inside an open transaction could wait for ever on ourselves.
  if (sqlite3_get_autocommit(db_) == 0)
    return Error::Conflict("sqlite: a transaction is already open on this connection");
  std::unique_lock<std::timed_mutex> turn;
  JU_RETURN_IF_ERROR(TakeWriteTurn(shared().write_mutex, turn));
  JU_RETURN_IF_ERROR(Exec(db_, "BEGIN IMMEDIATE"));
  Status status = body();
  Status ended = Exec(db_, status.ok() ? "COMMIT" : "ROLLBACK");
  if (!ended.ok() && status.ok()) {
    (void)Exec(db_, "ROLLBACK");
    return ended;
  }
  return status;
}

// ---- LoadCohort -------------------------------------------------------------------------------

std::optional<int64_t> OptionalInt(sqlite3_stmt* stmt, int column) {
  if (sqlite3_column_type(stmt, column) == SQLITE_NULL) return std::nullopt;
  return sqlite3_column_int64(stmt, column);
}
std::string_view ColumnText(sqlite3_stmt* stmt, int column) {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, column));
  if (text == nullptr) return {};
  return {text, static_cast<size_t>(sqlite3_column_bytes(stmt, column))};
}

// Runs `sql` with integer parameters on `db`, calling on_row(stmt) for each row.
template <typename OnRow>
Status Scan(sqlite3* db, std::string_view sql, std::initializer_list<int64_t> params,
            const OnRow& on_row) {
  JU_ASSIGN_OR_RETURN(StmtPtr stmt, Prepare(db, sql));
  int index = 0;
  for (int64_t param : params) sqlite3_bind_int64(stmt.get(), ++index, param);
  for (;;) {
    const int rc = sqlite3_step(stmt.get());
    if (rc == SQLITE_DONE) return Ok();
    if (rc != SQLITE_ROW) return SqliteError(db, rc, "loading the cohort");
    JU_RETURN_IF_ERROR(on_row(stmt.get()));
  }
}

// [first, last] key range of a table; first > last when it is empty.
Result<std::pair<int64_t, int64_t>> KeyRange(sqlite3* db, std::string_view table) {
  std::pair<int64_t, int64_t> range{1, 0};
  JU_RETURN_IF_ERROR(
      Scan(db, "SELECT MIN(key), MAX(key) FROM " + std::string(table), {},
           [&](sqlite3_stmt* stmt) -> Status {
             if (sqlite3_column_type(stmt, 0) != SQLITE_NULL)
               range = {sqlite3_column_int64(stmt, 0), sqlite3_column_int64(stmt, 1)};
             return Ok();
           }));
  return range;
}

// Counts rows read across threads, for the progress callback.
struct LoadProgress {
  std::atomic<int64_t> done{0};
  int64_t total = 0;
};

// What a reader's row functions write to (see ReadSlice).
struct SliceSink {
  CohortBuilder& builder;
  std::array<int64_t, 3> first_key;  // position = key - first key of the table
  LoadProgress& progress;
  const std::atomic<bool>& stop;
  int64_t unreported = 0;
  Status status;  // the first failure, which also aborts the statement
};

int64_t Arg(sqlite3_value** argv, int i) { return sqlite3_value_int64(argv[i]); }
std::optional<int64_t> OptionalArg(sqlite3_value** argv, int i) {
  if (sqlite3_value_type(argv[i]) == SQLITE_NULL) return std::nullopt;
  return sqlite3_value_int64(argv[i]);
}

// Ends a row function: counts the row, and aborts the scan on failure (or when another
// reader failed).
void RowDone(sqlite3_context* context, SliceSink& sink, Status status) {
  if (status.ok() && ++sink.unreported == 16384) {
    sink.progress.done += sink.unreported;
    sink.unreported = 0;
    if (sink.stop) status = Error::Internal("stopped");
  }
  if (status.ok()) {
    sqlite3_result_int(context, 1);
    return;
  }
  sink.status = std::move(status);
  sqlite3_result_error(context, "cohort load stopped", -1);
}

void EventRow(sqlite3_context* context, int, sqlite3_value** argv) {
  auto& sink = *static_cast<SliceSink*>(sqlite3_user_data(context));
  std::optional<double> value;
  if (sqlite3_value_type(argv[7]) != SQLITE_NULL) value = sqlite3_value_double(argv[7]);
  RowDone(context, sink,
          sink.builder.SetEvent(static_cast<uint64_t>(Arg(argv, 0) - sink.first_key[0]),
                                Arg(argv, 1), Arg(argv, 2), Arg(argv, 3), Arg(argv, 4),
                                Arg(argv, 5), Arg(argv, 6), value));
}

void ActivityRow(sqlite3_context* context, int, sqlite3_value** argv) {
  auto& sink = *static_cast<SliceSink*>(sqlite3_user_data(context));
  RowDone(context, sink,
          sink.builder.SetActivity(static_cast<uint64_t>(Arg(argv, 0) - sink.first_key[1]),
                                   Arg(argv, 1), Arg(argv, 2), Arg(argv, 3), OptionalArg(argv, 4),
                                   Arg(argv, 5), Arg(argv, 6)));
}

void MedicationRow(sqlite3_context* context, int, sqlite3_value** argv) {
  auto& sink = *static_cast<SliceSink*>(sqlite3_user_data(context));
  RowDone(
      context, sink,
      sink.builder.SetMedication(static_cast<uint64_t>(Arg(argv, 0) - sink.first_key[2]),
                                 Arg(argv, 1), Arg(argv, 2), Arg(argv, 3), OptionalArg(argv, 4)));
}

// Reads share `slice` of `slices` of the event, activity and medication tables' key ranges, in
// key order; a row's position in the builder is its key's offset in the table's range.
//
// Each row is handed to the builder by an SQL function called inside one aggregate query per
// table, rather than stepped out and read column by column: on tens of millions of rows the
// per-row step and column API calls cost more than SQLite's own decoding of the row.
Status ReadSlice(sqlite3* db, int slice, int slices,
                 const std::array<std::pair<int64_t, int64_t>, 3>& ranges, CohortBuilder& out,
                 LoadProgress& progress, const std::atomic<bool>& stop,
                 std::optional<Date> activities_from) {
  SliceSink sink{out, {ranges[0].first, ranges[1].first, ranges[2].first}, progress, stop, 0, Ok()};
  struct Function {
    const char* name;
    int args;
    void (*fn)(sqlite3_context*, int, sqlite3_value**);
  };
  for (const Function& f :
       {Function{"ju_event_row", 8, EventRow}, Function{"ju_activity_row", 7, ActivityRow},
        Function{"ju_medication_row", 5, MedicationRow}}) {
    const int rc = sqlite3_create_function_v2(db, f.name, f.args, SQLITE_UTF8, &sink, f.fn, nullptr,
                                              nullptr, nullptr);
    if (rc != SQLITE_OK) return SqliteError(db, rc, "registering a cohort row function");
  }
  auto scan = [&](int table, std::string_view sql) -> Status {
    const auto [first, last] = ranges[static_cast<size_t>(table)];
    const int64_t span = last >= first ? last - first + 1 : 0;
    Status status =
        Scan(db, sql, {first + span * slice / slices, first + span * (slice + 1) / slices},
             [](sqlite3_stmt*) { return Ok(); });
    if (!sink.status.ok()) return std::move(sink.status);  // the real cause of the abort
    return status;
  };
  JU_RETURN_IF_ERROR(scan(0,
                          "SELECT COUNT(ju_event_row(key, patient_key, concept_key, date, kind,"
                          " source, admission_method, value)) FROM events"
                          " WHERE key >= ?1 AND key < ?2"));
  // Rows the filter leaves out are holes in the builder's positions (see cohort_builder.h).
  const std::string activities =
      "SELECT COUNT(ju_activity_row(key, patient_key, type, start_date, end_date,"
      " length_of_stay_days, cost_pence)) FROM activities WHERE key >= ?1 AND key < ?2" +
      (activities_from ? " AND " + ActivitiesFromCondition(*activities_from) : std::string());
  JU_RETURN_IF_ERROR(scan(1, activities));
  JU_RETURN_IF_ERROR(scan(2,
                          "SELECT COUNT(ju_medication_row(key, patient_key, concept_key,"
                          " start_date, end_date)) FROM medications WHERE key >= ?1 AND key < ?2"));
  progress.done += sink.unreported;
  return Ok();
}

// Practices, concepts and people, on one connection.
Status ReadPeople(sqlite3* db, CohortBuilder& builder, LoadProgress& progress,
                  const std::function<void(int64_t, int64_t)>& report) {
  JU_RETURN_IF_ERROR(Scan(
      db, "SELECT id, name, pch, postcode_district FROM practices ORDER BY id", {},
      [&](sqlite3_stmt* stmt) -> Status {
        builder.AddPractice({std::string(ColumnText(stmt, 0)), std::string(ColumnText(stmt, 1)),
                             std::string(ColumnText(stmt, 2)), std::string(ColumnText(stmt, 3))});
        return Ok();
      }));
  JU_RETURN_IF_ERROR(Scan(db, "SELECT key, code_system, code FROM concepts ORDER BY key", {},
                          [&](sqlite3_stmt* stmt) -> Status {
                            return builder.AddConcept(sqlite3_column_int64(stmt, 0),
                                                      sqlite3_column_int64(stmt, 1),
                                                      ColumnText(stmt, 2));
                          }));
  return Scan(
      db,
      "SELECT key, id, nhs_number, practice_id, birth_date, sex, deprivation_decile,"
      " death_date FROM patients ORDER BY key",
      {}, [&](sqlite3_stmt* stmt) -> Status {
        JU_RETURN_IF_ERROR(builder.AddPerson(
            sqlite3_column_int64(stmt, 0), ColumnText(stmt, 1), ColumnText(stmt, 2),
            ColumnText(stmt, 3), sqlite3_column_int64(stmt, 4), sqlite3_column_int64(stmt, 5),
            sqlite3_column_int64(stmt, 6), OptionalInt(stmt, 7)));
        if (++progress.done % 65536 == 0 && report) report(progress.done, progress.total);
        return Ok();
      });
}

Result<Cohort> SqliteStore::LoadCohort(const CohortLoadOptions& options) {
  if (writer_active_) return Error::Conflict("sqlite: a writer is open on this store");
  int threads = options.threads > 0
                    ? options.threads
                    : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  threads = std::min(threads, 64);
  const char* file = sqlite3_db_filename(db_, "main");
  const bool in_memory = file == nullptr || *file == '\0';

  // Readers: fresh read-only connections on the file, so the load sees committed data only
  // and runs in parallel (WAL lets readers work beside a writer). A private in-memory
  // database cannot be shared between connections: it is read on the store's own.
  std::vector<DbPtr> owned;
  std::vector<sqlite3*> readers;
  if (in_memory) {
    threads = 1;
    readers.push_back(db_);
  } else {
    for (int i = 0; i < threads; ++i) {
      sqlite3* reader = nullptr;
      const int rc =
          sqlite3_open_v2(file, &reader, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
      owned.emplace_back(reader);
      if (rc != SQLITE_OK) return SqliteError(reader, rc, "opening a reader");
      sqlite3_busy_timeout(reader, kBusyTimeoutMs);
      // Memory-mapped pages: a full scan then costs no read() call and copy per page. Unlike
      // the store's own connection (Configure) a reader holds one read transaction from start
      // to end, so commits meanwhile never make it unmap and map the file again.
      JU_RETURN_IF_ERROR(Exec(reader, "PRAGMA mmap_size = 17179869184"));
      readers.push_back(reader);
    }
  }

  // One snapshot for all readers: each starts its read transaction while the store holds the
  // write lock, so no commit can fall between them. The lock is only tried, never waited
  // for: if another writer holds it, the load reads on one connection instead.
  bool locked = false;
  if (threads > 1) {
    sqlite3_busy_timeout(db_, 0);
    locked = Exec(db_, "BEGIN IMMEDIATE").ok();
    sqlite3_busy_timeout(db_, kBusyTimeoutMs);
  }
  if (threads > 1 && !locked) {
    threads = 1;
    owned.resize(1);
    readers.resize(1);
  }
  // Ends the read transactions whatever happens below (COMMIT where none began is harmless).
  struct EndReads {
    std::vector<sqlite3*>& readers;
    ~EndReads() {
      for (sqlite3* reader : readers) (void)Exec(reader, "COMMIT");
    }
  } end_reads{readers};
  Status begun;
  for (sqlite3* reader : readers) {
    begun = Exec(reader, "BEGIN");
    if (begun.ok()) begun = Exec(reader, "SELECT 1 FROM sqlite_master LIMIT 1");  // starts it
    if (!begun.ok()) break;
  }
  if (locked) (void)Exec(db_, "ROLLBACK");
  JU_RETURN_IF_ERROR(begun);

  LoadProgress progress;
  std::array<std::pair<int64_t, int64_t>, 4> ranges;
  const char* tables[] = {"events", "activities", "medications", "patients"};
  for (size_t t = 0; t < 4; ++t) {
    JU_ASSIGN_OR_RETURN(ranges[t], KeyRange(readers[0], tables[t]));
    if (options.people_only && t < 3) ranges[t] = {1, 0};  // an empty key range: nothing read
    if (ranges[t].second >= ranges[t].first)
      progress.total += ranges[t].second - ranges[t].first + 1;
  }

  CohortBuilder builder;
  auto span = [&](size_t table) -> uint64_t {
    const auto [first, last] = ranges[table];
    return last >= first ? static_cast<uint64_t>(last - first) + 1 : 0;
  };
  {
    std::jthread allocate([&] { builder.AllocateRows(span(0), span(1), span(2)); });
    JU_RETURN_IF_ERROR(ReadPeople(readers[0], builder, progress, options.progress));
  }
  builder.EndPeople();

  std::vector<Status> results(static_cast<size_t>(threads));
  std::atomic<bool> stop{false};
  std::mutex mutex;
  std::condition_variable finished;
  int running = threads;
  {
    const std::array<std::pair<int64_t, int64_t>, 3> row_ranges{ranges[0], ranges[1], ranges[2]};
    std::vector<std::jthread> workers;
    for (int i = 0; i < threads; ++i) {
      workers.emplace_back([&, i] {
        Status status = ReadSlice(readers[static_cast<size_t>(i)], i, threads, row_ranges, builder,
                                  progress, stop, options.activities_from);
        if (!status.ok()) stop = true;
        std::lock_guard lock(mutex);
        results[static_cast<size_t>(i)] = std::move(status);
        --running;
        finished.notify_all();
      });
    }
    std::unique_lock lock(mutex);
    while (!finished.wait_for(lock, std::chrono::milliseconds(100), [&] { return running == 0; })) {
      if (options.progress) {
        lock.unlock();
        options.progress(progress.done, progress.total);
        lock.lock();
      }
    }
  }
  // The first failure in slice order is the real one; later slices may just have stopped.
  for (Status& status : results)
    if (!status.ok() && status.error().message != "stopped") return status.take_error();
  for (Status& status : results)
    if (!status.ok()) return status.take_error();

  Cohort cohort = builder.Finish(threads);
  if (options.progress) options.progress(progress.total, progress.total);
  return cohort;
}

// ---- SaveRun ----------------------------------------------------------------------------------

// One IMMEDIATE transaction; like the Writer, foreign key enforcement is suspended while it is
// open because the references are checked first (CheckPatientKeys) — SQLite's own check would
// add a lookup and a statement journal to each of a million inserts.
Result<int64_t> SqliteStore::SaveRun(const StratificationRun& run,
                                     std::span<const PersonRunResult> results) {
  if (writer_active_) return Error::Conflict("sqlite: a writer is open on this store");
  JU_ASSIGN_OR_RETURN(std::vector<uint32_t> order, CheckRunResults(run, results));
  JU_RETURN_IF_ERROR(Exec(db_, "PRAGMA foreign_keys = OFF"));
  Status begun = Exec(db_, "BEGIN IMMEDIATE");
  if (!begun.ok()) {
    (void)Exec(db_, "PRAGMA foreign_keys = ON");
    return begun.take_error();
  }
  auto save = [&]() -> Result<int64_t> {
    JU_RETURN_IF_ERROR(CheckPatientKeys(results, order));
    JU_ASSIGN_OR_RETURN(int64_t id, InsertRun(run));
    JU_ASSIGN_OR_RETURN(
        StmtPtr insert,
        Prepare(db_,
                "INSERT INTO stratification_results (run_id, patient_key, ltc_count,"
                " efi_deficits, hfrs_tenths, charlson_1987, charlson_quan2011, elixhauser,"
                " admission_risk, cost_12m_pence, segments)"
                " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"));
    sqlite3_stmt* stmt = insert.get();
    std::string segments;
    sqlite3_bind_int64(stmt, 1, id);
    for (uint32_t i : order) {
      const PersonRunResult& r = results[i];
      sqlite3_bind_int64(stmt, 2, r.patient_key);
      sqlite3_bind_int(stmt, 3, r.ltc_count);
      sqlite3_bind_int(stmt, 4, r.efi_deficits);
      sqlite3_bind_int(stmt, 5, r.hfrs_tenths);
      sqlite3_bind_int(stmt, 6, r.charlson_1987);
      sqlite3_bind_int(stmt, 7, r.charlson_quan2011);
      sqlite3_bind_int(stmt, 8, r.elixhauser);
      sqlite3_bind_double(stmt, 9, static_cast<double>(r.admission_risk));
      sqlite3_bind_int64(stmt, 10, r.cost_12m_pence);
      EncodeSegments(r, segments);
      sqlite3_bind_blob(stmt, 11, segments.data(), static_cast<int>(segments.size()),
                        SQLITE_STATIC);
      const int rc = sqlite3_step(stmt);
      sqlite3_reset(stmt);
      if (rc != SQLITE_DONE)
        return SqliteError(db_, rc, "saving results[" + std::to_string(i) + "]");
    }
    return id;
  };
  Result<int64_t> saved = save();
  Status ended = Exec(db_, saved.ok() ? "COMMIT" : "ROLLBACK");
  if (!ended.ok() && saved.ok()) (void)Exec(db_, "ROLLBACK");
  (void)Exec(db_, "PRAGMA foreign_keys = ON");
  if (!ended.ok() && saved.ok()) return ended.take_error();
  return saved;
}

// ---- Writer ---------------------------------------------------------------------------------

SqliteWriter::~SqliteWriter() {
  if (open_) Close("ROLLBACK");
  store_.WriterClosed();
}

void SqliteWriter::Close(std::string_view end) {
  if (!end.empty()) (void)Exec(db_, std::string(end));
  open_ = false;
  if (turn_.owns_lock()) turn_.unlock();
  // Back to enforcing foreign keys for whatever else uses the connection.
  (void)Exec(db_, "PRAGMA foreign_keys = ON");
}

Status SqliteWriter::Init() {
  // A Writer is a write transaction too: it takes this process's turn like InTransaction (the
  // server's PUTs used to wait in SQLite's sleeping busy handler behind the audit appends).
  JU_RETURN_IF_ERROR(TakeWriteTurn(store_.WriteTurn(), turn_));
  // Must precede BEGIN: the pragma is a no-op inside a transaction.
  JU_RETURN_IF_ERROR(Exec(db_, "PRAGMA foreign_keys = OFF"));
  open_ = true;  // from here on Close() restores the pragma
  JU_RETURN_IF_ERROR(Exec(db_, "BEGIN IMMEDIATE"));
  auto prepare = [&](StmtPtr& stmt, std::string_view sql) -> Status {
    JU_ASSIGN_OR_RETURN(stmt, Prepare(db_, sql));
    return Ok();
  };
  JU_RETURN_IF_ERROR(prepare(practices_.lookup, "SELECT 0 FROM practices WHERE id = ?1"));
  JU_RETURN_IF_ERROR(prepare(patients_.lookup, "SELECT key FROM patients WHERE id = ?1"));
  JU_RETURN_IF_ERROR(prepare(activities_.lookup, "SELECT key FROM activities WHERE id = ?1"));
  JU_RETURN_IF_ERROR(prepare(insert_practice_,
                             "INSERT INTO practices (id, name, pch, postcode_district)"
                             " VALUES (?1, ?2, ?3, ?4)"));
  JU_RETURN_IF_ERROR(prepare(update_practice_,
                             "UPDATE practices SET name = ?2, pch = ?3, postcode_district = ?4"
                             " WHERE id = ?1 RETURNING 0"));
  JU_RETURN_IF_ERROR(
      prepare(insert_patient_,
              "INSERT INTO patients (id, nhs_number, source_identifier, family_name, given_name,"
              " birth_date, sex, postcode_district, deprivation_decile, practice_id, death_date,"
              " family_folded, given_folded)"
              " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"));
  JU_RETURN_IF_ERROR(
      prepare(update_patient_,
              "UPDATE patients SET nhs_number = ?2, source_identifier = ?3, family_name = ?4,"
              " given_name = ?5, birth_date = ?6, sex = ?7, postcode_district = ?8,"
              " deprivation_decile = ?9, practice_id = ?10, death_date = ?11,"
              " family_folded = ?12, given_folded = ?13 WHERE id = ?1 RETURNING key"));
  JU_RETURN_IF_ERROR(prepare(
      insert_activity_,
      "INSERT INTO activities (id, patient_key, type, start_date, end_date, length_of_stay_days,"
      " cost_pence, specialty, practice_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"));
  JU_RETURN_IF_ERROR(
      prepare(update_activity_,
              "UPDATE activities SET patient_key = ?2, type = ?3, start_date = ?4, end_date = ?5,"
              " length_of_stay_days = ?6, cost_pence = ?7, specialty = ?8, practice_id = ?9"
              " WHERE id = ?1 RETURNING key"));
  JU_RETURN_IF_ERROR(prepare(
      insert_event_,
      "INSERT INTO events (id, patient_key, kind, concept_key, date, source, admission_method,"
      " activity_key, value, unit) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"));
  JU_RETURN_IF_ERROR(prepare(
      update_event_,
      "UPDATE events SET patient_key = ?2, kind = ?3, concept_key = ?4, date = ?5, source = ?6,"
      " admission_method = ?7, activity_key = ?8, value = ?9, unit = ?10 WHERE id = ?1"
      " RETURNING key"));
  JU_RETURN_IF_ERROR(
      prepare(insert_medication_,
              "INSERT INTO medications (id, patient_key, concept_key, start_date, end_date)"
              " VALUES (?1, ?2, ?3, ?4, ?5)"));
  JU_RETURN_IF_ERROR(prepare(update_medication_,
                             "UPDATE medications SET patient_key = ?2, concept_key = ?3,"
                             " start_date = ?4, end_date = ?5 WHERE id = ?1 RETURNING key"));
  JU_RETURN_IF_ERROR(prepare(find_concept_,
                             "SELECT key FROM concepts WHERE code_system = ?1 AND code = ?2"
                             " AND term = ?3"));
  JU_RETURN_IF_ERROR(prepare(insert_concept_,
                             "INSERT INTO concepts (code_system, code, term) VALUES (?1, ?2, ?3)"));
  JU_RETURN_IF_ERROR(prepare(set_cost_, "UPDATE activities SET cost_pence = ?2 WHERE key = ?1"));

  auto has_rows = [&](std::string_view table, bool& out) -> Status {
    JU_ASSIGN_OR_RETURN(StmtPtr stmt,
                        Prepare(db_, "SELECT EXISTS (SELECT 1 FROM " + std::string(table) + ")"));
    int rc = sqlite3_step(stmt.get());
    if (rc != SQLITE_ROW) return SqliteError(db_, rc, "checking " + std::string(table));
    out = sqlite3_column_int(stmt.get(), 0) != 0;
    return Ok();
  };
  JU_RETURN_IF_ERROR(has_rows("practices", practices_.had_rows_at_begin));
  JU_RETURN_IF_ERROR(has_rows("patients", patients_.had_rows_at_begin));
  JU_RETURN_IF_ERROR(has_rows("activities", activities_.had_rows_at_begin));
  JU_RETURN_IF_ERROR(has_rows("concepts", concepts_had_rows_));
  return Ok();
}

Status SqliteWriter::Usable() const {
  if (committed_) return Error::Internal("sqlite: the writer has already committed");
  if (failed_)
    return Error{failed_->code,
                 "an earlier write failed, nothing more can be written in this "
                 "transaction: " +
                     failed_->message,
                 failed_->field, failed_->backend_text};
  return Ok();
}

Status SqliteWriter::Fail(Error error) {
  failed_ = error;
  return error;
}

Status SqliteWriter::StepDone(sqlite3_stmt* stmt, std::string_view what) {
  int rc = sqlite3_step(stmt);
  Status status;
  if (rc != SQLITE_DONE) status = Fail(SqliteError(db_, rc, what));
  sqlite3_reset(stmt);
  return status;
}

// Inserts a record or, when its id is taken, updates that row; returns the row's key.
// Two steps rather than INSERT … ON CONFLICT DO UPDATE because SQLite runs an upsert under a
// statement journal, while a plain single-row INSERT checks its constraints before writing
// anything and needs none — and new records are the common case.
template <typename Bind, typename Describe>
Result<int64_t> SqliteWriter::Upsert(sqlite3_stmt* insert, sqlite3_stmt* update, const Bind& bind,
                                     const Describe& describe) {
  bind(insert);
  int rc = sqlite3_step(insert);
  if (rc == SQLITE_DONE) {
    sqlite3_reset(insert);
    return sqlite3_last_insert_rowid(db_);
  }
  Error insert_error = SqliteError(db_, rc, describe());
  sqlite3_reset(insert);
  if ((rc & 0xff) != SQLITE_CONSTRAINT) return Fail(std::move(insert_error)).take_error();
  bind(update);
  rc = sqlite3_step(update);
  if (rc == SQLITE_ROW) {
    const int64_t key = sqlite3_column_int64(update, 0);
    rc = sqlite3_step(update);  // runs the statement to completion
    sqlite3_reset(update);
    if (rc != SQLITE_DONE) return Fail(SqliteError(db_, rc, describe())).take_error();
    return key;
  }
  Error update_error = SqliteError(db_, rc, describe());
  sqlite3_reset(update);
  // No row with this id: the insert clashed on another unique column (an NHS number).
  if (rc == SQLITE_DONE) return Fail(std::move(insert_error)).take_error();
  return Fail(std::move(update_error)).take_error();
}

Result<std::optional<int64_t>> SqliteWriter::Resolve(Table& table, std::string_view id) {
  if (auto it = table.keys.find(id); it != table.keys.end()) return std::optional(it->second);
  if (!table.had_rows_at_begin) return std::optional<int64_t>();
  sqlite3_stmt* stmt = table.lookup.get();
  BindText(stmt, 1, id);
  int rc = sqlite3_step(stmt);
  std::optional<int64_t> key;
  if (rc == SQLITE_ROW) key = sqlite3_column_int64(stmt, 0);
  sqlite3_reset(stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return Fail(SqliteError(db_, rc, "lookup")).take_error();
  if (key) table.Remember(id, *key);
  return key;
}

Result<int64_t> SqliteWriter::ConceptKey(CodeSystem system, std::string_view code,
                                         std::string_view term) {
  // Length-prefixed so that no (code, term) split can collide with another.
  concept_buffer_.clear();
  concept_buffer_ += static_cast<char>('0' + Ordinal(system));
  concept_buffer_ += std::to_string(code.size());
  concept_buffer_ += ':';
  concept_buffer_ += code;
  concept_buffer_ += term;
  if (auto it = concepts_.find(concept_buffer_); it != concepts_.end()) return it->second;

  std::optional<int64_t> key;
  if (concepts_had_rows_) {
    sqlite3_stmt* find = find_concept_.get();
    sqlite3_bind_int(find, 1, Ordinal(system));
    BindText(find, 2, code);
    BindText(find, 3, term);
    int rc = sqlite3_step(find);
    if (rc == SQLITE_ROW) key = sqlite3_column_int64(find, 0);
    sqlite3_reset(find);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
      return Fail(SqliteError(db_, rc, "looking up a concept")).take_error();
  }
  if (!key) {
    sqlite3_stmt* insert = insert_concept_.get();
    sqlite3_bind_int(insert, 1, Ordinal(system));
    BindText(insert, 2, code);
    BindText(insert, 3, term);
    JU_RETURN_IF_ERROR(StepDone(insert, "adding a code to concepts"));
    key = sqlite3_last_insert_rowid(db_);
  }
  if (concepts_.size() >= kMaxCachedIds) {
    concepts_.clear();
    concepts_had_rows_ = true;
  }
  concepts_.emplace(concept_buffer_, *key);
  return *key;
}

Status SqliteWriter::Add(const Practice& practice) {
  JU_RETURN_IF_ERROR(Usable());
  JU_RETURN_IF_ERROR(ValidateForStore(practice));
  auto bind = [&](sqlite3_stmt* stmt) {
    BindText(stmt, 1, practice.id);
    BindText(stmt, 2, practice.name);
    BindText(stmt, 3, practice.pch);
    BindText(stmt, 4, practice.postcode_district);
  };
  auto written = Upsert(insert_practice_.get(), update_practice_.get(), bind,
                        [&] { return "writing Organization/" + practice.id; });
  if (!written.ok()) return written.take_error();
  practices_.Remember(practice.id, 0);
  return Ok();
}

Status SqliteWriter::Add(const Patient& patient) {
  JU_RETURN_IF_ERROR(Usable());
  JU_RETURN_IF_ERROR(ValidateForStore(patient));
  if (!patient.practice_id.empty()) {
    JU_ASSIGN_OR_RETURN(auto practice, Resolve(practices_, patient.practice_id));
    if (!practice) return UnknownPractice(patient.practice_id);
  }
  // Folded for name searches (resource_store.h), once for the insert and the update.
  const std::string family_folded = FoldForSearch(patient.family_name);
  const std::string given_folded = FoldForSearch(patient.given_name);
  auto bind = [&](sqlite3_stmt* stmt) {
    BindText(stmt, 1, patient.id);
    if (patient.nhs_number) {
      BindText(stmt, 2, patient.nhs_number->digits());
    } else {
      sqlite3_bind_null(stmt, 2);
    }
    BindText(stmt, 3, patient.source_identifier);
    BindText(stmt, 4, patient.family_name);
    BindText(stmt, 5, patient.given_name);
    sqlite3_bind_int(stmt, 6, patient.birth_date.days_since_epoch());
    sqlite3_bind_int(stmt, 7, Ordinal(patient.sex));
    BindText(stmt, 8, patient.postcode_district);
    sqlite3_bind_int(stmt, 9, patient.deprivation_decile);
    BindTextOrNull(stmt, 10, patient.practice_id);
    BindOptionalDate(stmt, 11, patient.death_date);
    BindText(stmt, 12, family_folded);
    BindText(stmt, 13, given_folded);
  };
  JU_ASSIGN_OR_RETURN(int64_t key, Upsert(insert_patient_.get(), update_patient_.get(), bind,
                                          [&] { return "writing Patient/" + patient.id; }));
  patients_.Remember(patient.id, key);
  return Ok();
}

Status SqliteWriter::Add(const Activity& activity) {
  JU_RETURN_IF_ERROR(Usable());
  JU_RETURN_IF_ERROR(ValidateForStore(activity));
  JU_ASSIGN_OR_RETURN(auto patient, Resolve(patients_, activity.patient_id));
  if (!patient) return UnknownPatient(activity.patient_id);
  if (!activity.practice_id.empty()) {
    JU_ASSIGN_OR_RETURN(auto practice, Resolve(practices_, activity.practice_id));
    if (!practice) return UnknownPractice(activity.practice_id);
  }
  auto bind = [&](sqlite3_stmt* stmt) {
    BindText(stmt, 1, activity.id);
    sqlite3_bind_int64(stmt, 2, *patient);
    sqlite3_bind_int(stmt, 3, Ordinal(activity.type));
    sqlite3_bind_int(stmt, 4, activity.start.days_since_epoch());
    BindOptionalDate(stmt, 5, activity.end);
    sqlite3_bind_int(stmt, 6, activity.length_of_stay_days);
    sqlite3_bind_int64(stmt, 7, activity.cost_pence);
    BindText(stmt, 8, activity.specialty);
    BindTextOrNull(stmt, 9, activity.practice_id);
  };
  JU_ASSIGN_OR_RETURN(int64_t key, Upsert(insert_activity_.get(), update_activity_.get(), bind,
                                          [&] { return "writing Activity/" + activity.id; }));
  activities_.Remember(activity.id, key);
  return Ok();
}

Status SqliteWriter::Add(const ClinicalEvent& event) {
  JU_RETURN_IF_ERROR(Usable());
  JU_RETURN_IF_ERROR(ValidateForStore(event));
  JU_ASSIGN_OR_RETURN(auto patient, Resolve(patients_, event.patient_id));
  if (!patient) return UnknownPatient(event.patient_id);
  std::optional<int64_t> activity;
  if (!event.activity_id.empty()) {
    JU_ASSIGN_OR_RETURN(activity, Resolve(activities_, event.activity_id));
    if (!activity) return UnknownActivity(event.activity_id);
  }
  JU_ASSIGN_OR_RETURN(int64_t concept_key, ConceptKey(event.system, event.code, event.term));
  auto bind = [&](sqlite3_stmt* stmt) {
    BindText(stmt, 1, event.id);
    sqlite3_bind_int64(stmt, 2, *patient);
    sqlite3_bind_int(stmt, 3, Ordinal(event.kind));
    sqlite3_bind_int64(stmt, 4, concept_key);
    sqlite3_bind_int(stmt, 5, event.date.days_since_epoch());
    sqlite3_bind_int(stmt, 6, Ordinal(event.source));
    sqlite3_bind_int(stmt, 7, Ordinal(event.admission_method));
    if (activity) {
      sqlite3_bind_int64(stmt, 8, *activity);
    } else {
      sqlite3_bind_null(stmt, 8);
    }
    if (event.value) {
      sqlite3_bind_double(stmt, 9, *event.value);
    } else {
      sqlite3_bind_null(stmt, 9);
    }
    BindText(stmt, 10, event.unit);
  };
  auto written = Upsert(insert_event_.get(), update_event_.get(), bind,
                        [&] { return "writing clinical event " + event.id; });
  if (!written.ok()) return written.take_error();
  return Ok();
}

Status SqliteWriter::Add(const Medication& medication) {
  JU_RETURN_IF_ERROR(Usable());
  JU_RETURN_IF_ERROR(ValidateForStore(medication));
  JU_ASSIGN_OR_RETURN(auto patient, Resolve(patients_, medication.patient_id));
  if (!patient) return UnknownPatient(medication.patient_id);
  JU_ASSIGN_OR_RETURN(int64_t concept_key,
                      ConceptKey(medication.system, medication.code, medication.term));
  auto bind = [&](sqlite3_stmt* stmt) {
    BindText(stmt, 1, medication.id);
    sqlite3_bind_int64(stmt, 2, *patient);
    sqlite3_bind_int64(stmt, 3, concept_key);
    sqlite3_bind_int(stmt, 4, medication.start.days_since_epoch());
    BindOptionalDate(stmt, 5, medication.end);
  };
  auto written = Upsert(insert_medication_.get(), update_medication_.get(), bind,
                        [&] { return "writing MedicationRequest/" + medication.id; });
  if (!written.ok()) return written.take_error();
  return Ok();
}

Status SqliteWriter::SetActivityCost(std::string_view activity_id, int64_t cost_pence) {
  JU_RETURN_IF_ERROR(Usable());
  JU_ASSIGN_OR_RETURN(auto activity, Resolve(activities_, activity_id));
  if (!activity) return UnknownActivity(activity_id);
  sqlite3_stmt* stmt = set_cost_.get();
  sqlite3_bind_int64(stmt, 1, *activity);
  sqlite3_bind_int64(stmt, 2, cost_pence);
  return StepDone(stmt, "setting the cost of an activity");
}

// Written at once on the writer's connection, in its transaction (SqlStore::WriteDocument).
Status SqliteWriter::AddDocument(const ResourceWrite& write) {
  JU_RETURN_IF_ERROR(Usable());
  ResourceMeta written;
  return store_.WriteDocument(write, written);
}

Status SqliteWriter::Commit() {
  JU_RETURN_IF_ERROR(Usable());
  Status status = Exec(db_, "COMMIT");
  if (!status.ok()) return Fail(status.take_error());
  committed_ = true;
  Close("");  // committed: only the pragma to restore
  return Ok();
}

}  // namespace

Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path) {
  if (path.empty()) return Error::Invalid("sqlite: empty database path");
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = "sqlite: cannot open " + path + ": " +
                          (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    sqlite3_close_v2(db);
    return Error::Unavailable(std::move(message));
  }
  auto store = std::make_unique<SqliteStore>(db);
  store->ShareFile();
  Status status = store->Configure();
  if (status.ok()) status = store->Migrate();
  if (!status.ok()) {
    Error error = status.take_error();
    // A file that is not a database (or unreadable) is "cannot open", not a bug.
    if (error.code == ErrorCode::kInternal) error.code = ErrorCode::kUnavailable;
    error.message = "cannot open " + path + ": " + error.message;
    return error;
  }
  return std::unique_ptr<Store>(std::move(store));
}

Result<std::string> SqlitePragma(Store& store, std::string_view name) {
  auto* sqlite = dynamic_cast<SqliteStore*>(&store);
  if (sqlite == nullptr) return Error::Invalid("not a SQLite store");
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_'))
      return Error::Invalid("not a pragma name: " + std::string(name));
  return sqlite->Pragma(name);
}

Status SqliteObserveQueries(Store& store, std::function<void(std::string_view sql)> observer) {
  auto* sqlite = dynamic_cast<SqliteStore*>(&store);
  if (sqlite == nullptr) return Error::Invalid("not a SQLite store");
  sqlite->Observe(std::move(observer));
  return Ok();
}

Result<std::string> SqliteQueryPlan(Store& store, std::string_view sql) {
  auto* sqlite = dynamic_cast<SqliteStore*>(&store);
  if (sqlite == nullptr) return Error::Invalid("not a SQLite store");
  return sqlite->Plan(sql);
}

}  // namespace joinedup::store
