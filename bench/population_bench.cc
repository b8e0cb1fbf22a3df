// population_bench: how fast joinedup generates, imports and stores a population, and what it
// costs in disk and memory. bench/README.md has the figures measured and how to read them.
//
// For each population size it runs these phases, each in a forked child so that every
// phase's peak memory (ru_maxrss from wait4) is its own and not inherited from the last:
//
//   generate        synth::Generate → FHIR R4 Bulk NDJSON files (on --threads threads)
//   read            the NDJSON files split into lines, nothing else
//   read+map        … and MapResource on every line (simdjson parse, FHIR → domain), no store
//   read+map+write  … and each record written to a SQLite Writer, without the importer
//   sqlite import   fhir::Import into a fresh SQLite file
//   sqlite again    fhir::Import of the same files into it again (every record an update)
//   postgresql      fhir::Import into a fresh database (created and dropped via --postgres-url)
//
// Successive phases differ by one part, so their CPU times give where an import's time goes.
// fhir::Import reads, maps and writes on the calling thread (import.h): the import phases use
// one core, and their rate per CPU second is the one-core rate even on a busy machine.
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
#include <set>
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
  std::set<std::string> skip;  // phases not to run
  Date as_of = Date::FromYmd(2026, 3, 31);
};

// extra[0] = people without an NHS number, extra[1] = resources written; split[0] = sync s.
Status Generate(const Config& config, int64_t patients, const fs::path& dir, PhaseOutcome& out) {
  fhir::NdjsonWriterOptions writer_options;
  writer_options.transaction_time = config.as_of.ToString() + "T00:00:00Z";
  synth::GenerateOptions options;
  options.seed = config.seed;
  options.practices = config.practices;
  options.patients = patients;
  options.as_of = config.as_of;
  options.threads = config.threads;
  const auto start = Clock::now();
  JU_ASSIGN_OR_RETURN(std::unique_ptr<fhir::NdjsonWriter> writer,
                      fhir::NdjsonWriter::Open(dir, writer_options));
  JU_ASSIGN_OR_RETURN(synth::GenerateStats stats, synth::Generate(options, *writer));
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

// The files in the order their records may refer to each other (import.h's order).
std::vector<fs::path> InDependencyOrder(std::vector<fs::path> files) {
  auto rank = [](const fs::path& path) {
    const std::string type = path.stem().string();
    if (type == "Organization") return 0;
    if (type == "Patient") return 1;
    if (type == "Encounter" || type == "EpisodeOfCare") return 2;
    return 3;
  };
  std::stable_sort(files.begin(), files.end(),
                   [&](const fs::path& a, const fs::path& b) { return rank(a) < rank(b); });
  return files;
}

// The same records as an import, read and mapped as it does, each written straight to a
// SQLite Writer with only the Writer's calls (and the commit) timed: the store's share of an
// import. What it leaves out is the importer's own bookkeeping (duplicate-id and NHS number
// checks, counts, holding back forward references); the admission method of diagnoses is not
// filled in. seconds = Writer calls + commit; split[0] = commit; split[1] = the whole phase.
Status ReplayIntoStore(const fs::path& dir, const fs::path& db, bool allow_missing_nhs_number,
                       PhaseOutcome& out) {
  fhir::MapOptions map_options;
  map_options.allow_missing_nhs_number = allow_missing_nhs_number;
  const fhir::ReferenceResolver resolve = [](std::string_view reference,
                                             std::string_view expected_type) {
    return fhir::ResolveRelativeReference(reference, expected_type);
  };
  JU_ASSIGN_OR_RETURN(std::unique_ptr<store::Store> store, store::OpenStore(db.string()));
  const auto phase_start = Clock::now();
  JU_ASSIGN_OR_RETURN(std::unique_ptr<store::Writer> writer, store->BeginWrite());
  Clock::duration writing{};
  auto write = [&](fhir::Mapped& mapped) -> Status {
    return std::visit(
        [&](auto& record) -> Status {
          using T = std::decay_t<decltype(record)>;
          if constexpr (std::is_same_v<T, fhir::Skipped>) {
            return Ok();
          } else {
            const auto start = Clock::now();
            Status status = Ok();
            if constexpr (std::is_same_v<T, fhir::Charge>) {
              status = writer->SetActivityCost(record.activity_id, record.cost_pence);
            } else if constexpr (std::is_same_v<T, fhir::Document>) {
              store::ResourceWrite document;
              document.resource_type = record.resource_type;
              document.id = record.id;
              document.record = store::ResourceJson{record.json};
              document.json = record.json;
              document.patient_id = record.patient_id;
              document.index = record.index;
              status = writer->AddDocument(document);
            } else {
              status = writer->Add(record);
            }
            writing += Clock::now() - start;
            ++out.records;
            return status;
          }
        },
        mapped);
  };
  for (const fs::path& path : InDependencyOrder(NdjsonFiles(dir))) {
    JU_ASSIGN_OR_RETURN(std::unique_ptr<fhir::InputBuffer> input,
                        fhir::InputBuffer::OpenFile(path.string()));
    fhir::LineReader reader(std::move(input), 16 << 20);
    fhir::Line line;
    for (;;) {
      JU_ASSIGN_OR_RETURN(bool more, reader.Next(line));
      if (!more) break;
      auto mapped = fhir::MapResource(line.text, map_options, resolve);
      if (auto* error = std::get_if<fhir::MapError>(&mapped))
        return Error::Invalid(path.string() + ":" + std::to_string(line.number) + ": " +
                              error->field + ": " + error->message);
      Status written = write(std::get<fhir::Mapped>(mapped));
      if (!written.ok())
        return Error::Invalid(path.string() + ":" + std::to_string(line.number) + ": " +
                              written.error().ToString());
    }
  }
  const auto commit_start = Clock::now();
  JU_RETURN_IF_ERROR(writer->Commit());
  out.split[0] = SecondsSince(commit_start);
  out.seconds = std::chrono::duration<double>(writing).count() + out.split[0];
  out.split[1] = SecondsSince(phase_start);
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

// One line of a size's table. `seconds` is the phase's timed work (wall clock).
struct Row {
  std::string phase;
  PhaseRun run;
  double seconds = 0;
  int64_t records = 0;
  std::string unit;  // what `records` counts
  std::string note;
};

std::string Rate(int64_t records, double seconds) {
  if (seconds <= 0) return "-";
  return Thousands(static_cast<int64_t>(static_cast<double>(records) / seconds));
}

void PrintHeader() {
  fmt::print("  {:<14} {:>7} {:>7} {:>11} {:>11} {:<9} {:>8} {:>7} {:>8}  {}\n", "phase", "wall s",
             "CPU s", "per wall s", "per CPU s", "of", "peak RSS", "busy s", "iowait s", "notes");
}

// Printed as each phase ends, so a long run shows its figures as it goes.
void PrintRow(const Row& row) {
  fmt::print("  {:<14} {:>7.1f} {:>7.1f} {:>11} {:>11} {:<9} {:>5.0f} MB {:>7.1f} {:>8.1f}  {}\n",
             row.phase, row.seconds, row.run.cpu_seconds, Rate(row.records, row.seconds),
             Rate(row.records, row.run.cpu_seconds), row.unit,
             static_cast<double>(row.run.peak_rss_kib) / 1024.0, row.run.machine_busy_seconds,
             row.run.iowait_seconds, row.note);
  std::fflush(stdout);
}

void PrintLegend() {
  fmt::print(
      "  wall: the phase's work, timed inside its process. CPU: that process's user+system time\n"
      "  (all its threads; for a one-thread phase, records per CPU second is about the rate of\n"
      "  one core with the machine to itself). busy/iowait: the whole machine, every core, while\n"
      "  the phase ran: other processes, and a database server, included.\n");
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
  int64_t resources = 0;
  double generate_patients_per_s = 0;
  double sqlite_per_s = 0;
  double sqlite_per_cpu_s = 0;
  double reimport_per_s = 0;
  double postgres_per_s = 0;
  double sqlite_bytes_per_patient = 0;
  double postgres_bytes_per_patient = 0;
  long peak_rss_kib = 0;
};

std::string LoadAverage() {
  std::FILE* file = std::fopen("/proc/loadavg", "r");
  if (file == nullptr) return "?";
  double one = 0, five = 0;
  const bool read = std::fscanf(file, "%lf %lf", &one, &five) == 2;
  std::fclose(file);
  return read ? fmt::format("{:.1f} (1 min), {:.1f} (5 min)", one, five) : "?";
}

// Runs every phase for one size. Returns false if a phase failed (the phases that do not
// depend on it still run).
bool RunSize(const Config& config, int64_t patients, const fs::path& work, bool keep,
             SizeSummary& summary) {
  const fs::path dir = work / fmt::format("{}-patients", patients);
  const fs::path ndjson = dir / "ndjson";
  const fs::path db = dir / "population.db";
  fs::remove_all(dir);
  fs::create_directories(ndjson);
  summary.patients = patients;
  const bool beyond_nhs_numbers = patients > synth::NhsNumberCapacity();

  fmt::print("\n== {} patients, {} practices, seed {} (load average {}) ==\n", Thousands(patients),
             config.practices, config.seed, LoadAverage());
  if (beyond_nhs_numbers)
    fmt::print(
        "  Note: the synthetic generator has NHS numbers for at most {} people; the other {} get\n"
        "  only a source identifier, so every import below runs with allow_missing_nhs_number\n"
        "  (joinedup import --allow-missing-nhs-number).\n",
        Thousands(synth::NhsNumberCapacity()), Thousands(patients - synth::NhsNumberCapacity()));
  std::fflush(stdout);

  PrintHeader();
  auto print_row = [](const Row& row) { PrintRow(row); };
  bool all_ok = true;
  auto phase = [&](const std::string& name,
                   const std::function<Status(PhaseOutcome&)>& work) -> std::optional<PhaseRun> {
    if (config.skip.contains(name)) {
      fmt::print("  … {}: skipped (--skip)\n", name);
      return std::nullopt;
    }
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

  // Generate.
  const int threads = config.threads > 0
                          ? config.threads
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  auto generated =
      phase("generate", [&](PhaseOutcome& out) { return Generate(config, patients, ndjson, out); });
  if (!generated) return false;
  const PhaseOutcome& gen = generated->outcome;
  summary.resources = gen.extra[1];
  summary.generate_patients_per_s = static_cast<double>(patients) / gen.seconds;
  print_row({"generate", *generated, gen.seconds, patients, "patients",
             fmt::format("{} threads; {} resources ({:.0f} per patient), {} of NDJSON; "
                         "then {:.1f} s to sync",
                         threads, Thousands(gen.extra[1]),
                         static_cast<double>(gen.extra[1]) / static_cast<double>(patients),
                         Megabytes(gen.bytes), gen.split[0])});

  // The parts of an import, one at a time.
  std::optional<PhaseRun> read = phase("read", [&](PhaseOutcome& out) {
    return ReadAndMap(ndjson, false, beyond_nhs_numbers, out);
  });
  if (read)
    print_row(
        {"read", *read, read->outcome.seconds, read->outcome.records, "lines",
         fmt::format("{:.0f} MB/s, splitting lines only",
                     static_cast<double>(read->outcome.bytes) / 1e6 / read->outcome.seconds)});
  std::optional<PhaseRun> mapped = phase("read+map", [&](PhaseOutcome& out) {
    return ReadAndMap(ndjson, true, beyond_nhs_numbers, out);
  });
  if (mapped)
    print_row({"read+map", *mapped, mapped->outcome.seconds, mapped->outcome.records, "resources",
               fmt::format("+ MapResource (simdjson parse, FHIR mapping); {} refused",
                           Thousands(mapped->outcome.extra[0]))});
  const fs::path scratch = dir / "store-only.db";
  RemoveSqlite(scratch);
  std::optional<PhaseRun> replayed = phase("read+map+write", [&](PhaseOutcome& out) {
    return ReplayIntoStore(ndjson, scratch, beyond_nhs_numbers, out);
  });
  RemoveSqlite(scratch);
  if (replayed)
    print_row({"read+map+write", *replayed, replayed->outcome.split[1], replayed->outcome.records,
               "resources",
               fmt::format("+ each record to a SQLite Writer, no importer: Writer calls and "
                           "commit {:.1f} s wall = {}/s",
                           replayed->outcome.seconds,
                           Rate(replayed->outcome.records, replayed->outcome.seconds))});

  // SQLite: import, size, re-import.
  auto import_note = [&](const PhaseOutcome& out) {
    std::string note;
    if (out.extra[0] > 0) note += fmt::format("{} rejected; ", Thousands(out.extra[0]));
    if (out.extra[1] > 0) note += fmt::format("{} skipped; ", Thousands(out.extra[1]));
    if (out.split[0] >= 0.05) note += fmt::format("closing {:.1f} s; ", out.split[0]);
    return note;
  };
  RemoveSqlite(db);
  std::optional<PhaseRun> imported = phase("sqlite import", [&](PhaseOutcome& out) {
    return ImportInto(db.string(), ndjson, beyond_nhs_numbers, out);
  });
  if (imported) {
    const PhaseOutcome& out = imported->outcome;
    summary.sqlite_per_s = static_cast<double>(out.records) / out.seconds;
    summary.sqlite_per_cpu_s = static_cast<double>(out.records) / imported->cpu_seconds;
    const int64_t bytes = SqliteFileBytes(db);
    summary.sqlite_bytes_per_patient = static_cast<double>(bytes) / static_cast<double>(patients);
    print_row({"sqlite import", *imported, out.seconds, out.records, "resources",
               import_note(out) + fmt::format("one thread; db {} = {:.0f} bytes/patient",
                                              Megabytes(bytes), summary.sqlite_bytes_per_patient)});
    if (auto again = phase("sqlite again", [&](PhaseOutcome& out) {
          return ImportInto(db.string(), ndjson, beyond_nhs_numbers, out);
        })) {
      summary.reimport_per_s = static_cast<double>(again->outcome.records) / again->outcome.seconds;
      print_row({"sqlite again", *again, again->outcome.seconds, again->outcome.records,
                 "resources",
                 import_note(again->outcome) + fmt::format("the same files again: every record an "
                                                           "update; db now {}",
                                                           Megabytes(SqliteFileBytes(db)))});
    }
  }
  RemoveSqlite(db);

  // PostgreSQL: a database of its own, dropped afterwards.
  std::string postgres_note;
  if (config.postgres_url.empty()) {
    postgres_note = "PostgreSQL phase skipped: no --postgres-url given";
  } else if (config.skip.contains("postgresql")) {
    postgres_note = "PostgreSQL phase skipped (--skip)";
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
      if (auto pg = phase("postgresql", [&](PhaseOutcome& out) {
            return ImportInto(url, ndjson, beyond_nhs_numbers, out);
          })) {
        const PhaseOutcome& out = pg->outcome;
        summary.postgres_per_s = static_cast<double>(out.records) / out.seconds;
        std::string note = import_note(out) + "CPU: the client's only";
        if (auto size = admin->Exec("SELECT pg_database_size('" + name + "')"); size.ok()) {
          const int64_t bytes = std::stoll(*size);
          summary.postgres_bytes_per_patient =
              static_cast<double>(bytes) / static_cast<double>(patients);
          note += fmt::format("; db {} = {:.0f} bytes/patient", Megabytes(bytes),
                              summary.postgres_bytes_per_patient);
        }
        print_row({"postgresql", *pg, out.seconds, out.records, "resources", note});
      }
      if (auto dropped = admin->Exec("DROP DATABASE " + name); !dropped.ok())
        fmt::print("  note: could not drop {}: {}\n", name, dropped.error().ToString());
    }
  }

  PrintLegend();
  if (!postgres_note.empty()) fmt::print("  {}\n", postgres_note);
  if (read && mapped && replayed && imported) {
    // CPU seconds of one-thread phases, so that other work on the machine does not skew the
    // split; each part is the difference between two phases that differ by that part alone.
    const double total = imported->cpu_seconds;
    auto part = [&](double seconds) {
      return fmt::format("{:6.1f} s {:3.0f}%", seconds, 100.0 * seconds / total);
    };
    fmt::print("  Where the SQLite import's {:.1f} CPU seconds go:\n", total);
    fmt::print("    reading, splitting lines        {}   read\n", part(read->cpu_seconds));
    fmt::print("    JSON parse + FHIR mapping       {}   read+map - read\n",
               part(mapped->cpu_seconds - read->cpu_seconds));
    fmt::print("    SQLite Writer + commit          {}   read+map+write - read+map\n",
               part(replayed->cpu_seconds - mapped->cpu_seconds));
    fmt::print("    the importer's own bookkeeping  {}   sqlite import - read+map+write\n",
               part(imported->cpu_seconds - replayed->cpu_seconds));
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
  std::vector<std::string> skip;
  app.add_option("--skip", skip,
                 "Phases not to run: read, read+map, read+map+write, sqlite again, postgresql "
                 "(without read, read+map and read+map+write there is no breakdown)")
      ->delimiter(',')
      ->check(CLI::IsMember(
          {"read", "read+map", "read+map+write", "sqlite again", "postgresql", "sqlite-again"}));
  app.add_flag("--keep", keep, "Keep each size's NDJSON files and databases in --work");
  CLI11_PARSE(app, argc, argv);

  for (std::string name : skip) {
    if (name == "sqlite-again") name = "sqlite again";
    config.skip.insert(name);
  }
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
  fmt::print("  {:>10} {:>11} {:>10} {:>12} {:>12} {:>12} {:>12} {:>10} {:>10} {:>9}\n", "patients",
             "resources", "generate", "sqlite", "sqlite/CPU", "sqlite again", "postgresql",
             "sqlite", "postgresql", "peak RSS");
  fmt::print("  {:>10} {:>11} {:>10} {:>12} {:>12} {:>12} {:>12} {:>10} {:>10} {:>9}\n", "", "",
             "patients/s", "resources/s", "resources/s", "resources/s", "resources/s", "B/patient",
             "B/patient", "");
  for (const SizeSummary& s : summaries) {
    auto number = [](double value) {
      return value > 0 ? Thousands(static_cast<int64_t>(value)) : std::string("-");
    };
    fmt::print("  {:>10} {:>11} {:>10} {:>12} {:>12} {:>12} {:>12} {:>10} {:>10} {:>6.0f} MB\n",
               Thousands(s.patients), Thousands(s.resources), number(s.generate_patients_per_s),
               number(s.sqlite_per_s), number(s.sqlite_per_cpu_s), number(s.reimport_per_s),
               number(s.postgres_per_s), number(s.sqlite_bytes_per_patient),
               number(s.postgres_bytes_per_patient), static_cast<double>(s.peak_rss_kib) / 1024.0);
  }
  fmt::print("  sqlite/CPU: resources imported per CPU second of the (one-thread) importer.\n");
  return all_ok ? 0 : 1;
}

}  // namespace
}  // namespace joinedup::bench

int main(int argc, char** argv) { return joinedup::bench::Main(argc, argv); }
