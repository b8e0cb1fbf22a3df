// Measures generation throughput with a sink that only counts records, so the figure
// excludes the cost of storing them. Usage: synth_rate [patients] [threads] [seed]
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "synth/generator.h"

namespace {

class CountingSink : public joinedup::PopulationSink {
 public:
  joinedup::Status Add(const joinedup::Practice&) override { return ++records, joinedup::Ok(); }
  joinedup::Status Add(const joinedup::Patient&) override { return ++records, joinedup::Ok(); }
  joinedup::Status Add(const joinedup::ClinicalEvent&) override {
    return ++records, joinedup::Ok();
  }
  joinedup::Status Add(const joinedup::Activity&) override { return ++records, joinedup::Ok(); }
  joinedup::Status Add(const joinedup::Medication&) override { return ++records, joinedup::Ok(); }
  long long records = 0;
};

}  // namespace

int main(int argc, char** argv) {
  joinedup::synth::GenerateOptions options;
  if (argc > 1) options.patients = std::atoll(argv[1]);
  if (argc > 2) options.threads = std::atoi(argv[2]);
  if (argc > 3) options.seed = std::strtoull(argv[3], nullptr, 10);
  CountingSink sink;
  const auto start = std::chrono::steady_clock::now();
  auto stats = joinedup::synth::Generate(options, sink);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!stats.ok()) {
    std::fprintf(stderr, "%s\n", stats.error().ToString().c_str());
    return 1;
  }
  std::printf(
      "patients %lld threads %d: %.2f s, %.0f patients/s, %lld records (%.1f per patient), "
      "events %lld (icd10 %lld), activities %lld, medications %lld, deaths %lld, without NHS "
      "number %lld, "
      "cost %.1f GBP/patient\n",
      static_cast<long long>(stats->patients), options.threads, seconds, stats->patients / seconds,
      sink.records, static_cast<double>(sink.records) / std::max<long long>(1, stats->patients),
      static_cast<long long>(stats->clinical_events),
      static_cast<long long>(stats->hospital_diagnoses), static_cast<long long>(stats->activities),
      static_cast<long long>(stats->medications), static_cast<long long>(stats->deaths),
      static_cast<long long>(stats->patients_without_nhs_number),
      stats->total_cost_pence / 100.0 / std::max<long long>(1, stats->patients));
  return 0;
}
