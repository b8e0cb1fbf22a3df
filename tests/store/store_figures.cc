// Prints store figures on a large synthetic population; not a test (timing is never asserted).
//   store_figures make PATH PATIENTS     generate PATIENTS people (seed 1) into a new SQLite store
//   store_figures load URL [THREADS]     time LoadCohort
//   store_figures runs URL               time SaveRun, RunResults and PersonHistory on a run
//                                        covering everyone (adds a run to the store)
//   store_figures search URL PATIENTS    the FHIR server benchmark's store calls (read by id,
//                                        Patient?identifier=, Condition?subject=, birthdate
//                                        paged): p50/p99; first fills an empty store with
//                                        PATIENTS people with two Conditions each
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "fhir/search/paging.h"
#include "fhir/search/search_params.h"
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

// NHS numbers passing Modulus 11, distinct for distinct n (as TestNhsNumber makes them).
std::string NhsDigits(int64_t n) {
  for (int64_t candidate = n * 10;; ++candidate) {
    const std::string nine = std::to_string(400000000 + candidate);
    auto check = joinedup::NhsNumber::CheckDigit(nine);
    if (check) return nine + *check;
  }
}

int Search(const std::string& url, int64_t patients) {
  namespace search = joinedup::fhir::search;
  using namespace joinedup;
  auto store = OpenStore(url);
  if (!store.ok()) return Fail(store.error());
  auto counts = (*store)->Counts();
  if (!counts.ok()) return Fail(counts.error());
  if (counts->patients == 0) {
    auto start = Clock::now();
    auto writer = (*store)->BeginWrite();
    if (!writer.ok()) return Fail(writer.error());
    (void)(*writer)->Add(Practice{"A81001", "Alpha", "P", "TS1"});
    for (int64_t i = 0; i < patients; ++i) {
      Patient p;
      p.id = "p" + std::to_string(i);
      p.nhs_number = NhsNumber::Parse(NhsDigits(i)).value();
      p.family_name = i % 2 ? "Smith" : "Jones";
      p.given_name = "Ann";
      p.birth_date = Date::FromDays(static_cast<int32_t>(-25000 + (i * 7919) % 30000));
      p.practice_id = "A81001";
      if (auto s = (*writer)->Add(p); !s.ok()) return Fail(s.error());
      for (int k = 0; k < 2; ++k) {
        ClinicalEvent e;
        e.id = "c" + std::to_string(i) + "-" + std::to_string(k);
        e.patient_id = p.id;
        e.code = k ? "44054006" : "38341003";
        e.date = Date::FromDays(static_cast<int32_t>(15000 + (i * 31 + k) % 4000));
        if (auto s = (*writer)->Add(e); !s.ok()) return Fail(s.error());
      }
    }
    if (auto s = (*writer)->Commit(); !s.ok()) return Fail(s.error());
    std::printf("filled %lld patients in %.1f s\n", static_cast<long long>(patients), Since(start));
    counts = (*store)->Counts();
  }
  const int64_t n = counts->patients;
  const store::Visibility everyone{store::Visibility::Kind::kEveryone, 0, "", 0};
  auto report = [](const char* what, std::vector<double>& ms) {
    std::sort(ms.begin(), ms.end());
    std::printf("%-44s n=%zu p50 %.3f ms  p99 %.3f ms  max %.3f ms\n", what, ms.size(),
                ms[ms.size() / 2], ms[ms.size() * 99 / 100], ms.back());
  };
  auto timed = [](auto&& fn) {
    const auto start = Clock::now();
    fn();
    return Since(start) * 1000;
  };
  auto request = [](std::string_view type, const std::string& query) {
    return std::get<search::SearchRequest>(search::ParseSearch(type, query));
  };
  std::vector<double> read, identifier, subject, first_page, next_page;
  for (int i = 0; i < 2000; ++i) {
    const int64_t pick = (static_cast<int64_t>(i) * 104729) % n;
    read.push_back(
        timed([&] { (void)(*store)->FindResource("Patient", "p" + std::to_string(pick)); }));
    const auto by_nhs =
        request("Patient", "identifier=https://fhir.nhs.uk/Id/nhs-number%7C" + NhsDigits(pick));
    identifier.push_back(
        timed([&] { (void)(*store)->SearchResources(by_nhs, nullptr, everyone, true); }));
    const auto by_subject = request("Condition", "subject=Patient/p" + std::to_string(pick));
    subject.push_back(
        timed([&] { (void)(*store)->SearchResources(by_subject, nullptr, everyone, true); }));
  }
  const auto birthdate = request("Patient", "birthdate=le1950-01-01&_count=50");
  std::optional<search::PageCursor> cursor;
  for (int page = 0; page < 200; ++page) {
    store::ResourcePage result;
    const double ms = timed([&] {
      result = (*store)
                   ->SearchResources(birthdate, cursor ? &*cursor : nullptr, everyone, !cursor)
                   .value();
    });
    (cursor ? next_page : first_page).push_back(ms);
    if (!result.has_next) break;
    cursor = search::PageCursor{result.matches.back().sort_values, result.matches.back().id};
  }
  std::printf("%s, %lld patients\n", std::string((*store)->backend()).c_str(),
              static_cast<long long>(n));
  report("FindResource Patient", read);
  report("Patient?identifier=nhs|X (+total)", identifier);
  report("Condition?subject=Patient/X (+total)", subject);
  report("Patient?birthdate=le1950-01-01 page 1 (+total)", first_page);
  report("  … next pages (cursor, no total)", next_page);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 4 && std::string(argv[1]) == "make") return Make(argv[2], std::atoll(argv[3]));
  if (argc >= 3 && std::string(argv[1]) == "load")
    return Load(argv[2], argc >= 4 ? std::atoi(argv[3]) : 0);
  if (argc >= 3 && std::string(argv[1]) == "runs") return Runs(argv[2]);
  if (argc >= 4 && std::string(argv[1]) == "search") return Search(argv[2], std::atoll(argv[3]));
  std::fprintf(stderr, "usage: store_figures make PATH PATIENTS | load URL [THREADS]\n");
  return 2;
}
