// population_bench: how fast joinedup generates, imports and stores a population, and what it
// costs in disk and memory. bench/README.md has the figures measured and how to read them.
//
// For each population size it runs these phases, each in a forked child so that every
// phase's peak memory (ru_maxrss from wait4) is its own and not inherited from the last:
//
//   generate       synth::Generate → FHIR R4 Bulk NDJSON files (uses --threads)
//   read           the NDJSON files split into lines, nothing else (I/O floor)
//   read+map       read, and MapResource on every line, no store (parse + mapping)
//   sqlite         fhir::Import into a fresh SQLite file
//   sqlite again   fhir::Import of the same files into that file (every record an update)
//   store only     synth::Generate on one thread straight into a SQLite Writer, timing only
//                  the Writer's calls: the store's share of an import without any parsing
//   postgresql     fhir::Import into a fresh database (created and dropped via --postgres-url)
//
// The import phases run on one thread: fhir::Import reads, maps and writes on the calling
// thread (import.h). The CPU column shows it: CPU ≈ wall.
#include <fcntl.h>
#include <libpq-fe.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <fmt/core.h>

#include "fhir/import.h"
#include "fhir/ndjson_reader.h"
#include "fhir/ndjson_writer.h"
#include "fhir/resource.h"
#include "store/store.h"
#include "synth/generator.h"

namespace joinedup::bench {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// What a phase's child hands back to the parent, in a shared anonymous mapping.
struct PhaseOutcome {
  bool ok = false;
  char error[2048] = {};
  double seconds = 0;     // the measured work, timed inside the child
  int64_t records = 0;    // what the rate counts: patients, lines or resources
  int64_t bytes = 0;      // input or output bytes, where it applies
  int64_t extra[4] = {};  // phase-specific (see each phase)
  double split[2] = {};   // phase-specific sub-timings, seconds
};

struct PhaseRun {
  PhaseOutcome outcome;
  double cpu_seconds = 0;  // user + system of the child and anything it waited for
  long peak_rss_kib = 0;
  // The whole machine over the phase (/proc/stat): CPU busy on all cores, including a database
  // server's, and time cores sat idle waiting for the disk.
  double machine_busy_seconds = 0;
  double iowait_seconds = 0;
};

// Cumulative machine-wide CPU time from the first line of /proc/stat, in seconds.
struct MachineCpu {
  double busy = 0;
  double iowait = 0;
};

MachineCpu ReadMachineCpu() {
  MachineCpu cpu;
  std::FILE* file = std::fopen("/proc/stat", "r");
  if (file == nullptr) return cpu;
  unsigned long long user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0;
  if (std::fscanf(file, "cpu %llu %llu %llu %llu %llu %llu %llu", &user, &nice, &system, &idle,
                  &iowait, &irq, &softirq) == 7) {
    const double hz = static_cast<double>(sysconf(_SC_CLK_TCK));
    cpu.busy = static_cast<double>(user + nice + system + irq + softirq) / hz;
    cpu.iowait = static_cast<double>(iowait) / hz;
  }
  std::fclose(file);
  return cpu;
}

void SetError(PhaseOutcome& out, const std::string& message) {
  std::snprintf(out.error, sizeof out.error, "%s", message.c_str());
  out.ok = false;
}

// Runs `work` in a forked child and returns its outcome with the child's CPU time and peak
// resident set size. The parent holds no threads at this point, so fork is safe.
Result<PhaseRun> RunPhase(const std::function<Status(PhaseOutcome&)>& work) {
  void* shared = mmap(nullptr, sizeof(PhaseOutcome), PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (shared == MAP_FAILED) return Error::Unavailable(std::string("mmap: ") + strerror(errno));
  auto* outcome = new (shared) PhaseOutcome{};
  std::fflush(stdout);
  std::fflush(stderr);
  const MachineCpu before = ReadMachineCpu();
  const pid_t pid = fork();
  if (pid < 0) {
    munmap(shared, sizeof(PhaseOutcome));
    return Error::Unavailable(std::string("fork: ") + strerror(errno));
  }
  if (pid == 0) {
    Status status = work(*outcome);
    if (status.ok()) {
      outcome->ok = true;
    } else {
      SetError(*outcome, status.error().ToString());
    }
    std::fflush(stdout);
    _exit(0);
  }
  int wait_status = 0;
  rusage usage{};
  if (wait4(pid, &wait_status, 0, &usage) < 0) {
    munmap(shared, sizeof(PhaseOutcome));
    return Error::Unavailable(std::string("wait4: ") + strerror(errno));
  }
  const MachineCpu after = ReadMachineCpu();
  PhaseRun run;
  run.outcome = *outcome;
  run.machine_busy_seconds = after.busy - before.busy;
  run.iowait_seconds = after.iowait - before.iowait;
  munmap(shared, sizeof(PhaseOutcome));
  if (!WIFEXITED(wait_status) || WEXITSTATUS(wait_status) != 0) {
    run.outcome.ok = false;
    std::snprintf(run.outcome.error, sizeof run.outcome.error, "the phase's process died (%s)",
                  WIFSIGNALED(wait_status) ? strsignal(WTERMSIG(wait_status)) : "non-zero exit");
  }
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  run.cpu_seconds = seconds(usage.ru_utime) + seconds(usage.ru_stime);
  run.peak_rss_kib = usage.ru_maxrss;  // Linux: kibibytes
  return run;
}

// ---- Phases (each runs in its child) ------------------------------------------------------------

struct Config {
  uint64_t seed = 1;
  int practices = 45;
  int threads = 0;
  std::string postgres_url;
  Date as_of = Date::FromYmd(2026, 3, 31);
};

synth::GenerateOptions GenerateOptionsFor(const Config& config, int64_t patients, int threads) {
  synth::GenerateOptions options;
  options.seed = config.seed;
  options.practices = config.practices;
  options.patients = patients;
  options.as_of = config.as_of;
  options.threads = threads;
  return options;
}

// extra[0] = people without an NHS number, extra[1] = resources written; split[0] = sync s.
Status Generate(const Config& config, int64_t patients, const fs::path& dir, PhaseOutcome& out) {
  fhir::NdjsonWriterOptions writer_options;
  writer_options.transaction_time = config.as_of.ToString() + "T00:00:00Z";
  const auto start = Clock::now();
  JU_ASSIGN_OR_RETURN(std::unique_ptr<fhir::NdjsonWriter> writer,
                      fhir::NdjsonWriter::Open(dir, writer_options));
  JU_ASSIGN_OR_RETURN(
      synth::GenerateStats stats,
      synth::Generate(GenerateOptionsFor(config, patients, config.threads), *writer));
  JU_ASSIGN_OR_RETURN(std::vector<fhir::NdjsonFile> files, writer->Close());
  out.seconds = SecondsSince(start);
  // Written files sit dirty in the page cache; flushing them here keeps their write-back
  // from landing in (and slowing) the phases that follow. Timed apart.
  const auto sync_start = Clock::now();
  sync();
  out.split[0] = SecondsSince(sync_start);
  out.records = stats.patients;
  out.extra[0] = stats.patients_without_nhs_number;
  out.extra[1] = 0;
  for (const fhir::NdjsonFile& file : files) {
    out.extra[1] += file.count;  // resources written
    std::error_code ec;
    out.bytes += static_cast<int64_t>(fs::file_size(file.path, ec));
  }
  return Ok();
}

std::vector<fs::path> NdjsonFiles(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.path().extension() == ".ndjson") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

// Reads every line of every NDJSON file; with `map`, also maps each through MapResource.
// extra[0] = lines MapResource refused.
Status ReadAndMap(const fs::path& dir, bool map, bool allow_missing_nhs_number, PhaseOutcome& out) {
  fhir::MapOptions map_options;
  map_options.allow_missing_nhs_number = allow_missing_nhs_number;
  const fhir::ReferenceResolver resolve = [](std::string_view reference,
                                             std::string_view expected_type) {
    return fhir::ResolveRelativeReference(reference, expected_type);
  };
  const auto start = Clock::now();
  for (const fs::path& path : NdjsonFiles(dir)) {
    JU_ASSIGN_OR_RETURN(std::unique_ptr<fhir::InputBuffer> input,
                        fhir::InputBuffer::OpenFile(path.string()));
    fhir::LineReader reader(std::move(input), 16 << 20);
    fhir::Line line;
    for (;;) {
      JU_ASSIGN_OR_RETURN(bool more, reader.Next(line));
      if (!more) break;
      ++out.records;
      out.bytes += static_cast<int64_t>(line.size) + 1;
      if (!map) continue;
      auto mapped = fhir::MapResource(line.text, map_options, resolve);
      if (std::holds_alternative<fhir::MapError>(mapped)) ++out.extra[0];
    }
  }
  out.seconds = SecondsSince(start);
  return Ok();
}

// extra[0] = rejected, extra[1] = skipped, extra[2] = issues.
Status ImportInto(const std::string& url, const fs::path& dir, bool allow_missing_nhs_number,
                  PhaseOutcome& out) {
  JU_ASSIGN_OR_RETURN(std::unique_ptr<store::Store> store, store::OpenStore(url));
  fhir::ImportOptions options;
  options.allow_missing_nhs_number = allow_missing_nhs_number;
  const auto start = Clock::now();
  JU_ASSIGN_OR_RETURN(fhir::ImportReport report, fhir::Import({dir.string()}, options, *store));
  out.seconds = SecondsSince(start);
  store.reset();  // closing (SQLite: the WAL checkpoint) is not import work; timed apart
  out.split[0] = SecondsSince(start) - out.seconds;
  const fhir::ImportTypeCounts totals = report.Totals();
  out.records = static_cast<int64_t>(totals.imported);
  out.bytes = static_cast<int64_t>(report.bytes);
  out.extra[0] = static_cast<int64_t>(totals.rejected);
  out.extra[1] = static_cast<int64_t>(totals.skipped);
  out.extra[2] = static_cast<int64_t>(report.issue_count);
  if (!report.committed) {
    std::string message =
        "the import was not committed: " + std::to_string(report.issue_count) + " issue(s)";
    if (!report.issues.empty()) message += "; the first: " + report.issues.front().ToString();
    return Error::Invalid(message);
  }
  return Ok();
}

// Forwards every record to a store Writer and adds up the time spent inside its calls.
class TimedSink final : public PopulationSink {
 public:
  explicit TimedSink(store::Writer& writer) : writer_(writer) {}
  Status Add(const Practice& r) override { return Timed(r); }
  Status Add(const Patient& r) override { return Timed(r); }
  Status Add(const ClinicalEvent& r) override { return Timed(r); }
  Status Add(const Activity& r) override { return Timed(r); }
  Status Add(const Medication& r) override { return Timed(r); }
  double seconds() const { return seconds_; }
  int64_t records() const { return records_; }

 private:
  template <typename Record>
  Status Timed(const Record& record) {
    const auto start = Clock::now();
    Status status = writer_.Add(record);
    seconds_ += SecondsSince(start);
    ++records_;
    return status;
  }
  store::Writer& writer_;
  double seconds_ = 0;
  int64_t records_ = 0;
};

// Generation runs inline on the calling thread (threads = 1) so that nothing competes with the
// writer for a core; only the Writer's own calls are timed. split[0] = commit seconds.
Status StoreOnly(const Config& config, int64_t patients, const fs::path& db, PhaseOutcome& out) {
  JU_ASSIGN_OR_RETURN(std::unique_ptr<store::Store> store, store::OpenStore(db.string()));
  JU_ASSIGN_OR_RETURN(std::unique_ptr<store::Writer> writer, store->BeginWrite());
  TimedSink sink(*writer);
  JU_ASSIGN_OR_RETURN(synth::GenerateStats stats,
                      synth::Generate(GenerateOptionsFor(config, patients, 1), sink));
  (void)stats;
  const auto commit_start = Clock::now();
  JU_RETURN_IF_ERROR(writer->Commit());
  out.split[0] = SecondsSince(commit_start);
  out.seconds = sink.seconds() + out.split[0];
  out.records = sink.records();
  return Ok();
}

// ---- PostgreSQL: a fresh database per size, made and dropped through the given URL -----------

// The URL with its database name replaced: postgresql://user@host:port/NAME?params.
std::string WithDatabase(const std::string& url, const std::string& name) {
  const size_t scheme = url.find("://");
  const size_t path = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  const size_t query = url.find('?', path == std::string::npos ? 0 : path);
  const std::string params = query == std::string::npos ? "" : url.substr(query);
  const std::string base = url.substr(0, std::min(path, query));
  return base + "/" + name + params;
}

class PgAdmin {
 public:
  static Result<PgAdmin> Connect(const std::string& url) {
    PGconn* conn = PQconnectdb(url.c_str());
    PgAdmin admin(conn);
    if (PQstatus(conn) != CONNECTION_OK)
      return Error::Unavailable("postgresql: cannot connect to " + url + ": " +
                                PQerrorMessage(conn));
    return admin;
  }
  PgAdmin(PgAdmin&& other) noexcept : conn_(std::exchange(other.conn_, nullptr)) {}
  PgAdmin(const PgAdmin&) = delete;
  PgAdmin& operator=(const PgAdmin&) = delete;
  PgAdmin& operator=(PgAdmin&&) = delete;
  ~PgAdmin() { PQfinish(conn_); }

  // Runs one statement; returns the first column of the first row ("" if none).
  Result<std::string> Exec(const std::string& sql) {
    PGresult* result = PQexec(conn_, sql.c_str());
    const ExecStatusType status = PQresultStatus(result);
    std::string value;
    if (status == PGRES_TUPLES_OK && PQntuples(result) > 0) value = PQgetvalue(result, 0, 0);
    std::string message = PQresultErrorMessage(result);
    PQclear(result);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
      return Error::Unavailable("postgresql: " + sql + ": " + message);
    return value;
  }

 private:
  explicit PgAdmin(PGconn* conn) : conn_(conn) {}
  PGconn* conn_;
};

// ---- Printing -----------------------------------------------------------------------------------

std::string Thousands(int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

std::string Megabytes(int64_t bytes) {
  return fmt::format("{:.0f} MB", static_cast<double>(bytes) / 1e6);
}

struct Row {
  std::string phase;
  PhaseRun run;
  std::string rate;
  std::string note;
};

void PrintTable(const std::vector<Row>& rows) {
  fmt::print("  {:<14} {:>7} {:>7} {:>8} {:>8} {:>23} {:>9}  {}\n", "phase", "wall s", "CPU s",
             "busy s", "iowait s", "rate", "peak RSS", "notes");
  for (const Row& row : rows) {
    fmt::print("  {:<14} {:>7.1f} {:>7.1f} {:>8.1f} {:>8.1f} {:>23} {:>6.0f} MB  {}\n", row.phase,
               row.run.outcome.seconds, row.run.cpu_seconds, row.run.machine_busy_seconds,
               row.run.iowait_seconds, row.rate, static_cast<double>(row.run.peak_rss_kib) / 1024.0,
               row.note);
  }
  fmt::print(
      "  (wall: the phase's work, timed inside its process; CPU: that process's user+system;\n"
      "   busy/iowait: the whole machine, all cores, from fork to exit, database server "
      "included)\n");
}

std::string Rate(int64_t records, double seconds, const char* unit) {
  if (seconds <= 0) return "-";
  return Thousands(static_cast<int64_t>(static_cast<double>(records) / seconds)) + " " + unit;
}

int64_t SqliteFileBytes(const fs::path& db) {
  int64_t total = 0;
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::error_code ec;
    const uint64_t size = fs::file_size(db.string() + suffix, ec);
    if (!ec) total += static_cast<int64_t>(size);
  }
  return total;
}

void RemoveSqlite(const fs::path& db) {
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(db.string() + suffix);
}

struct SizeSummary {
  int64_t patients = 0;
  double generate_patients_per_s = 0;
  double sqlite_resources_per_s = 0;
  double reimport_resources_per_s = 0;
  double postgres_resources_per_s = 0;
  double sqlite_bytes_per_patient = 0;
  double postgres_bytes_per_patient = 0;
  long peak_rss_kib = 0;
};

// Runs every phase for one size. Returns false if a phase failed (the rest are still tried
// where they do not depend on it).
bool RunSize(const Config& config, int64_t patients, const fs::path& work, bool keep,
             SizeSummary& summary) {
  const fs::path dir = work / fmt::format("{}-patients", patients);
  const fs::path ndjson = dir / "ndjson";
  const fs::path db = dir / "population.db";
  fs::remove_all(dir);
  fs::create_directories(ndjson);
  summary.patients = patients;
  const bool beyond_nhs_numbers = patients > synth::NhsNumberCapacity();

  fmt::print("\n== {} patients, {} practices, seed {} ==\n", Thousands(patients), config.practices,
             config.seed);
  if (beyond_nhs_numbers)
    fmt::print(
        "  Note: the synthetic generator has NHS numbers for at most {} people; the other {} get\n"
        "  only a source identifier, so every import below runs with allow_missing_nhs_number\n"
        "  (joinedup import --allow-missing-nhs-number).\n",
        Thousands(synth::NhsNumberCapacity()), Thousands(patients - synth::NhsNumberCapacity()));
  std::fflush(stdout);

  std::vector<Row> rows;
  bool all_ok = true;
  auto phase = [&](const std::string& name,
                   const std::function<Status(PhaseOutcome&)>& work) -> std::optional<PhaseRun> {
    auto run = RunPhase(work);
    if (!run.ok()) {
      fmt::print("  {}: FAILED: {}\n", name, run.error().ToString());
      all_ok = false;
      return std::nullopt;
    }
    if (!run->outcome.ok) {
      fmt::print("  {}: FAILED: {}\n", name, run->outcome.error);
      all_ok = false;
      return std::nullopt;
    }
    summary.peak_rss_kib = std::max(summary.peak_rss_kib, run->peak_rss_kib);
    return *run;
  };

  // generate
  const int threads = config.threads > 0
                          ? config.threads
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  auto generated =
      phase("generate", [&](PhaseOutcome& out) { return Generate(config, patients, ndjson, out); });
  if (!generated) return false;
  const int64_t resources_written = generated->outcome.extra[1];
  summary.generate_patients_per_s = static_cast<double>(patients) / generated->outcome.seconds;
  rows.push_back({"generate", *generated, Rate(patients, generated->outcome.seconds, "patients/s"),
                  fmt::format("{} threads; {} resources, {} of NDJSON; then {:.1f} s to sync",
                              threads, Thousands(resources_written),
                              Megabytes(generated->outcome.bytes), generated->outcome.split[0])});

  // read, read+map
  double read_seconds = 0, map_seconds = 0;
  if (auto read = phase("read", [&](PhaseOutcome& out) {
        return ReadAndMap(ndjson, false, beyond_nhs_numbers, out);
      })) {
    read_seconds = read->outcome.seconds;
    rows.push_back({"read", *read, Rate(read->outcome.records, read_seconds, "lines/s"),
                    fmt::format("{} lines, {} MB/s (files in the page cache)",
                                Thousands(read->outcome.records),
                                static_cast<int64_t>(read->outcome.bytes / 1e6 / read_seconds))});
  }
  if (auto mapped = phase("read+map", [&](PhaseOutcome& out) {
        return ReadAndMap(ndjson, true, beyond_nhs_numbers, out);
      })) {
    map_seconds = mapped->outcome.seconds;
    rows.push_back({"read+map", *mapped, Rate(mapped->outcome.records, map_seconds, "resources/s"),
                    fmt::format("MapResource on every line, no store; {} refused",
                                Thousands(mapped->outcome.extra[0]))});
  }

  // SQLite: import, size, re-import
  double import_seconds = 0;
  auto import_note = [&](const PhaseOutcome& out) {
    std::string note = fmt::format("{} resources, 1 thread", Thousands(out.records));
    if (out.extra[0] > 0) note += fmt::format(", {} rejected", Thousands(out.extra[0]));
    if (out.extra[1] > 0) note += fmt::format(", {} skipped", Thousands(out.extra[1]));
    if (out.split[0] >= 0.05) note += fmt::format("; close {:.1f} s", out.split[0]);
    return note;
  };
  RemoveSqlite(db);
  if (auto imported = phase("sqlite", [&](PhaseOutcome& out) {
        return ImportInto(db.string(), ndjson, beyond_nhs_numbers, out);
      })) {
    import_seconds = imported->outcome.seconds;
    summary.sqlite_resources_per_s =
        static_cast<double>(imported->outcome.records) / import_seconds;
    const int64_t bytes = SqliteFileBytes(db);
    summary.sqlite_bytes_per_patient = static_cast<double>(bytes) / static_cast<double>(patients);
    rows.push_back({"sqlite import", *imported,
                    Rate(imported->outcome.records, import_seconds, "resources/s"),
                    import_note(imported->outcome) +
                        fmt::format("; db {} = {:.0f} bytes/patient", Megabytes(bytes),
                                    summary.sqlite_bytes_per_patient)});
    if (auto again = phase("sqlite again", [&](PhaseOutcome& out) {
          return ImportInto(db.string(), ndjson, beyond_nhs_numbers, out);
        })) {
      summary.reimport_resources_per_s =
          static_cast<double>(again->outcome.records) / again->outcome.seconds;
      rows.push_back({"sqlite again", *again,
                      Rate(again->outcome.records, again->outcome.seconds, "resources/s"),
                      import_note(again->outcome) +
                          fmt::format("; all updates; db now {}", Megabytes(SqliteFileBytes(db)))});
    }
  }
  RemoveSqlite(db);

  // The store's share, without parsing.
  const fs::path scratch = dir / "store-only.db";
  double store_seconds = 0;
  if (auto stored = phase("store only", [&](PhaseOutcome& out) {
        return StoreOnly(config, patients, scratch, out);
      })) {
    store_seconds = stored->outcome.seconds;
    rows.push_back({"store only", *stored,
                    Rate(stored->outcome.records, store_seconds, "records/s"),
                    fmt::format("SQLite Writer calls + commit ({:.1f} s) only; CPU includes "
                                "generating",
                                stored->outcome.split[0])});
  }
  RemoveSqlite(scratch);

  // PostgreSQL
  std::string postgres_note;
  if (config.postgres_url.empty()) {
    postgres_note = "PostgreSQL phase skipped: no --postgres-url given";
  } else {
    const std::string name = fmt::format("joinedup_bench_{}_{}", patients, getpid());
    auto admin = PgAdmin::Connect(config.postgres_url);
    Status created = admin.ok() ? Status(Ok()) : Status(admin.error());
    if (created.ok()) {
      auto made = admin->Exec("CREATE DATABASE " + name);
      if (!made.ok()) created = made.error();
    }
    if (!created.ok()) {
      fmt::print("  postgresql: FAILED: {}\n", created.error().ToString());
      all_ok = false;
    } else {
      const std::string url = WithDatabase(config.postgres_url, name);
      if (auto imported = phase("postgresql", [&](PhaseOutcome& out) {
            return ImportInto(url, ndjson, beyond_nhs_numbers, out);
          })) {
        summary.postgres_resources_per_s =
            static_cast<double>(imported->outcome.records) / imported->outcome.seconds;
        auto size = admin->Exec("SELECT pg_database_size('" + name + "')");
        std::string note = import_note(imported->outcome) + "; the server's CPU is not counted";
        if (size.ok()) {
          const int64_t bytes = std::stoll(*size);
          summary.postgres_bytes_per_patient =
              static_cast<double>(bytes) / static_cast<double>(patients);
          note += fmt::format("; db {} = {:.0f} bytes/patient", Megabytes(bytes),
                              summary.postgres_bytes_per_patient);
        }
        rows.push_back({"postgresql", *imported,
                        Rate(imported->outcome.records, imported->outcome.seconds, "resources/s"),
                        note});
      }
      if (auto dropped = admin->Exec("DROP DATABASE " + name); !dropped.ok())
        fmt::print("  note: could not drop {}: {}\n", name, dropped.error().ToString());
    }
  }

  PrintTable(rows);
  if (!postgres_note.empty()) fmt::print("  {}\n", postgres_note);
  if (import_seconds > 0 && read_seconds > 0 && map_seconds > 0 && store_seconds > 0) {
    // Phases timed apart, so the parts are estimates that need not add up exactly.
    const double parse = map_seconds - read_seconds;
    const double rest = import_seconds - map_seconds - store_seconds;
    auto part = [&](double seconds) {
      return fmt::format("{:5.1f} s {:3.0f}%", seconds, 100.0 * seconds / import_seconds);
    };
    fmt::print("  Where the SQLite import's {:.1f} s go (from the phases above):\n",
               import_seconds);
    fmt::print("    reading and splitting lines      {}   (read)\n", part(read_seconds));
    fmt::print("    JSON parse + FHIR mapping        {}   (read+map − read)\n", part(parse));
    fmt::print("    store writes + commit            {}   (store only)\n", part(store_seconds));
    fmt::print("    importer bookkeeping, the rest   {}   (import − read+map − store only)\n",
               part(rest));
  }
  std::fflush(stdout);
  if (!keep) fs::remove_all(dir);
  return all_ok;
}

std::vector<int64_t> ParseSizes(const std::string& text) {
  std::vector<int64_t> sizes;
  size_t at = 0;
  while (at <= text.size()) {
    size_t comma = text.find(',', at);
    if (comma == std::string::npos) comma = text.size();
    std::string item = text.substr(at, comma - at);
    std::erase(item, '_');
    if (!item.empty()) sizes.push_back(std::stoll(item));
    at = comma + 1;
  }
  return sizes;
}

int Main(int argc, char** argv) {
  CLI::App app{"population_bench: generation, import and storage figures for joinedup"};
  std::string sizes_text = "245315,1000000";
  std::string work = "bench-work";
  bool keep = false;
  Config config;
  app.add_option("--patients", sizes_text, "Population sizes, comma-separated")
      ->capture_default_str();
  app.add_option("--practices", config.practices, "GP practices")
      ->check(CLI::Range(1, 999))
      ->capture_default_str();
  app.add_option("--seed", config.seed, "Random seed")->capture_default_str();
  app.add_option("--work", work, "Scratch directory (NDJSON files and databases)")
      ->capture_default_str();
  app.add_option("--postgres-url", config.postgres_url,
                 "A PostgreSQL server URL whose user may CREATE DATABASE; a database is made and "
                 "dropped per size. Without it the PostgreSQL phase is skipped");
  app.add_option("--threads", config.threads, "Generator threads (0: all cores)")
      ->capture_default_str();
  app.add_flag("--keep", keep, "Keep each size's NDJSON files and databases in --work");
  CLI11_PARSE(app, argc, argv);

  std::vector<int64_t> sizes;
  try {
    sizes = ParseSizes(sizes_text);
  } catch (const std::exception&) {
    std::fprintf(stderr, "population_bench: --patients: not a list of numbers: %s\n",
                 sizes_text.c_str());
    return 2;
  }
  for (int64_t n : sizes) {
    if (n < 1 || n > 9'999'999) {
      std::fprintf(stderr, "population_bench: --patients: %lld is outside 1..9,999,999\n",
                   static_cast<long long>(n));
      return 2;
    }
  }
  std::error_code ec;
  fs::create_directories(work, ec);
  if (ec) {
    std::fprintf(stderr, "population_bench: --work %s: %s\n", work.c_str(), ec.message().c_str());
    return 2;
  }

  fmt::print("population_bench: {} cores, work directory {}\n", std::thread::hardware_concurrency(),
             fs::absolute(work).string());
  fmt::print(
      "Phases run one after another, each in its own process (peak RSS is that process's).\n");
  std::vector<SizeSummary> summaries;
  bool all_ok = true;
  for (int64_t n : sizes) {
    SizeSummary summary;
    all_ok = RunSize(config, n, work, keep, summary) && all_ok;
    summaries.push_back(summary);
  }

  fmt::print("\n== Summary ==\n");
  fmt::print("  {:>10} {:>12} {:>14} {:>14} {:>14} {:>10} {:>10} {:>9}\n", "patients", "generate/s",
             "sqlite res/s", "again res/s", "pg res/s", "sqlite B/p", "pg B/p", "peak RSS");
  for (const SizeSummary& s : summaries) {
    auto number = [](double value) {
      return value > 0 ? Thousands(static_cast<int64_t>(value)) : std::string("-");
    };
    fmt::print("  {:>10} {:>12} {:>14} {:>14} {:>14} {:>10} {:>10} {:>6.0f} MB\n",
               Thousands(s.patients), number(s.generate_patients_per_s),
               number(s.sqlite_resources_per_s), number(s.reimport_resources_per_s),
               number(s.postgres_resources_per_s), number(s.sqlite_bytes_per_patient),
               number(s.postgres_bytes_per_patient), static_cast<double>(s.peak_rss_kib) / 1024.0);
  }
  fmt::print("  (res/s: resources imported per second; B/p: database bytes per patient)\n");
  return all_ok ? 0 : 1;
}

}  // namespace
}  // namespace joinedup::bench

int main(int argc, char** argv) { return joinedup::bench::Main(argc, argv); }
