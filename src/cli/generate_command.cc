// `joinedup generate`: a deterministic synthetic population, written as FHIR R4 Bulk Data
// NDJSON (--out DIR), straight into the store (--db URL), or both at once.
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "cli/progress.h"
#include "cli/today.h"
#include "fhir/ndjson_writer.h"
#include "store/store.h"
#include "synth/generator.h"

namespace joinedup::cli {
namespace {

// Sends every record to each of its sinks in turn; the first error stops it.
class TeeSink final : public PopulationSink {
 public:
  void Attach(PopulationSink* sink) { sinks_.push_back(sink); }
  Status Add(const Practice& r) override { return Each(r); }
  Status Add(const Patient& r) override { return Each(r); }
  Status Add(const ClinicalEvent& r) override { return Each(r); }
  Status Add(const Activity& r) override { return Each(r); }
  Status Add(const Medication& r) override { return Each(r); }

 private:
  template <typename Record>
  Status Each(const Record& record) {
    for (PopulationSink* sink : sinks_) JU_RETURN_IF_ERROR(sink->Add(record));
    return Ok();
  }
  std::vector<PopulationSink*> sinks_;
};

struct GenerateArgs {
  std::string out;
  std::string db;
  uint64_t seed = 1;
  int practices = 45;
  int64_t patients = 245315;
  std::string as_of = "2026-03-31";
  int threads = 0;
};

Status RunGenerate(const GenerateArgs& args) {
  JU_ASSIGN_OR_RETURN(Date as_of, Date::Parse(args.as_of));
  synth::GenerateOptions options;
  options.seed = args.seed;
  options.practices = args.practices;
  options.patients = args.patients;
  options.as_of = as_of;
  options.threads = args.threads;

  TeeSink tee;
  std::unique_ptr<fhir::NdjsonWriter> ndjson;
  if (!args.out.empty()) {
    fhir::NdjsonWriterOptions writer_options;
    // The export's notional time is the extract date, so the same seed gives the same files.
    writer_options.transaction_time = as_of.ToString() + "T00:00:00Z";
    JU_ASSIGN_OR_RETURN(ndjson, fhir::NdjsonWriter::Open(args.out, writer_options));
    tee.Attach(ndjson.get());
  }
  std::unique_ptr<store::Store> store;
  std::unique_ptr<store::Writer> writer;
  if (!args.db.empty()) {
    JU_ASSIGN_OR_RETURN(store, store::OpenStore(args.db));
    JU_ASSIGN_OR_RETURN(writer, store->BeginWrite());
    tee.Attach(writer.get());
  }

  ProgressBar bar("generate", "patients");
  options.progress = [&bar](int64_t done, int64_t total) {
    bar.Update(static_cast<uint64_t>(done), static_cast<uint64_t>(total));
  };
  const auto start = std::chrono::steady_clock::now();
  JU_ASSIGN_OR_RETURN(synth::GenerateStats stats, synth::Generate(options, tee));
  if (ndjson) JU_RETURN_IF_ERROR(ndjson->Close());
  if (writer) JU_RETURN_IF_ERROR(writer->Commit());
  bar.Finish();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  std::printf(
      "Generated %lld patients in %lld practices (%lld Primary Care Homes), as of %s, "
      "seed %llu, in %.1f s\n",
      static_cast<long long>(stats.patients), static_cast<long long>(stats.practices),
      static_cast<long long>(stats.primary_care_homes), as_of.ToString().c_str(),
      static_cast<unsigned long long>(args.seed), seconds);
  std::printf(
      "  %lld clinical events (%lld hospital diagnoses), %lld medications, "
      "%lld activities, %lld deaths\n",
      static_cast<long long>(stats.clinical_events),
      static_cast<long long>(stats.hospital_diagnoses), static_cast<long long>(stats.medications),
      static_cast<long long>(stats.activities), static_cast<long long>(stats.deaths));
  std::printf("  total cost £%.0f\n", static_cast<double>(stats.total_cost_pence) / 100.0);
  if (stats.patients_without_nhs_number > 0)
    std::printf(
        "  %lld people beyond the %lld numbers of the 999 test range have no NHS number "
        "(import them with --allow-missing-nhs-number)\n",
        static_cast<long long>(stats.patients_without_nhs_number),
        static_cast<long long>(synth::NhsNumberCapacity()));
  if (!args.out.empty()) std::printf("  FHIR NDJSON written to %s\n", args.out.c_str());
  if (!args.db.empty()) std::printf("  stored in %s\n", args.db.c_str());
  return Ok();
}

}  // namespace

void AddGenerateCommand(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<GenerateArgs>();
  auto* cmd = app.add_subcommand(
      "generate", "Generate a realistic synthetic registered population (deterministic per seed)");
  cmd->add_option("--out", args->out, "Write FHIR R4 Bulk Data NDJSON files to this directory");
  cmd->add_option("--db", args->db,
                  "Write straight into this store (SQLite path or postgresql:// URL)");
  cmd->add_option("--seed", args->seed, "Random seed")->capture_default_str();
  cmd->add_option("--practices", args->practices, "GP practices")
      ->check(CLI::Range(1, 999))
      ->capture_default_str();
  cmd->add_option("--patients", args->patients, "Registered patients")
      ->check(CLI::Range(int64_t{0}, int64_t{9999999}))
      ->capture_default_str();
  cmd->add_option("--as-of", args->as_of, "Extract date (YYYY-MM-DD); history runs 5 years back")
      ->capture_default_str();
  cmd->add_option("--threads", args->threads, "Worker threads (0: all cores)")
      ->check(CLI::Range(0, 256))
      ->capture_default_str();
  cmd->callback([args, exit_code] {
    if (args->out.empty() && args->db.empty()) {
      std::fprintf(stderr, "joinedup generate: say where to put it: --out DIR and/or --db URL\n");
      *exit_code = 2;
      return;
    }
    ReportFailure("generate", RunGenerate(*args), exit_code);
  });
}

}  // namespace joinedup::cli
