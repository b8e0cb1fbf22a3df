// Prints store figures on a large synthetic population; not a test (timing is never asserted).
//   store_figures make PATH PATIENTS     generate PATIENTS people (seed 1) into a new SQLite store
//   store_figures load URL [THREADS]     time LoadCohort
//   store_figures runs URL               time SaveRun, RunResults and PersonHistory on a run
//                                        covering everyone (adds a run to the store)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "store/store.h"
#include "synth/generator.h"

namespace {

using joinedup::store::OpenStore;
using Clock = std::chrono::steady_clock;

double Since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

int Fail(const joinedup::Error& error) {
  std::fprintf(stderr, "%s\n", error.ToString().c_str());
  return 1;
}

int Make(const std::string& path, int64_t patients) {
  auto store = OpenStore(path);
  if (!store.ok()) return Fail(store.error());
  auto writer = (*store)->BeginWrite();
  if (!writer.ok()) return Fail(writer.error());
  joinedup::synth::GenerateOptions options;
  options.patients = patients;
  const auto start = Clock::now();
  auto stats = joinedup::synth::Generate(options, **writer);
  if (!stats.ok()) return Fail(stats.error());
  auto committed = (*writer)->Commit();
  if (!committed.ok()) return Fail(committed.error());
  std::printf("made %lld patients, %lld events, %lld activities, %lld medications in %.1f s\n",
              static_cast<long long>(stats->patients),
              static_cast<long long>(stats->clinical_events),
              static_cast<long long>(stats->activities), static_cast<long long>(stats->medications),
              Since(start));
  return 0;
}

int Load(const std::string& url, int threads) {
  auto store = OpenStore(url);
  if (!store.ok()) return Fail(store.error());
  joinedup::store::CohortLoadOptions options;
  options.threads = threads;
  int calls = 0;
  options.progress = [&](int64_t, int64_t) { ++calls; };
  const auto start = Clock::now();
  auto cohort = (*store)->LoadCohort(options);
  const double seconds = Since(start);
  if (!cohort.ok()) return Fail(cohort.error());
  std::printf(
      "LoadCohort threads=%d: %.2f s: %zu people, %zu events, %zu activities, %zu "
      "medications, %zu concepts, %zu practices (%d progress calls)\n",
      threads, seconds, cohort->people.size(), cohort->events.size(), cohort->activities.size(),
      cohort->medications.size(), cohort->concepts.size(), cohort->practices.size(), calls);
  return 0;
}

int Runs(const std::string& url) {
  auto store = OpenStore(url);
  if (!store.ok()) return Fail(store.error());
  joinedup::store::CohortLoadOptions options;
  auto cohort = (*store)->LoadCohort(options);
  if (!cohort.ok()) return Fail(cohort.error());
  joinedup::StratificationRun run;
  run.index_date = joinedup::Date::FromYmd(2024, 3, 31);
  run.models = {{"mcmw", "1", {"tier 0", "tier 1", "tier 3", "tier 4"}},
                {"worcestershire", "1", {"group 1", "group 2", "group 3", "group 4"}}};
  std::vector<joinedup::PersonRunResult> results(cohort->people.size());
  for (size_t i = 0; i < results.size(); ++i) {
    auto& r = results[i];
    r.patient_key = cohort->people[i].key;
    r.ltc_count = static_cast<int16_t>(i % 7);
    r.admission_risk = static_cast<float>(i % 1000) / 997.0f;
    r.cost_12m_pence = static_cast<int64_t>(i) * 37;
    r.segment = {static_cast<int16_t>(i % 4), static_cast<int16_t>(static_cast<int>(i % 5) - 1)};
    r.rule = {static_cast<int16_t>(i % 9), -1};
  }
  run.people = static_cast<int64_t>(results.size());
  auto start = Clock::now();
  auto id = (*store)->SaveRun(run, results);
  if (!id.ok()) return Fail(id.error());
  std::printf("SaveRun %zu results: %.2f s\n", results.size(), Since(start));
  start = Clock::now();
  auto read = (*store)->RunResults(*id);
  if (!read.ok()) return Fail(read.error());
  std::printf("RunResults: %.2f s (%s)\n", Since(start),
              *read == results ? "identical" : "DIFFERENT");
  start = Clock::now();
  auto history = (*store)->PersonHistory(results[results.size() / 2].patient_key);
  if (!history.ok()) return Fail(history.error());
  std::printf("PersonHistory: %.4f s, %zu runs\n", Since(start), history->size());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 4 && std::string(argv[1]) == "make") return Make(argv[2], std::atoll(argv[3]));
  if (argc >= 3 && std::string(argv[1]) == "load")
    return Load(argv[2], argc >= 4 ? std::atoi(argv[3]) : 0);
  if (argc >= 3 && std::string(argv[1]) == "runs") return Runs(argv[2]);
  std::fprintf(stderr, "usage: store_figures make PATH PATIENTS | load URL [THREADS]\n");
  return 2;
}
