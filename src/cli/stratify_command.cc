// `joinedup stratify`: scores and segments the whole stored population, stores the run and
// prints its summary; `runs`, `movement` and `worklist` work from stored runs.
//
// Exit codes: 0 done; 1 bad input (a model file, the store, an unwritable --out) — and then
// no run is stored; 2 usage.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "analytics/feature_engine.h"
#include "analytics/movement.h"
#include "analytics/risk_model.h"
#include "analytics/segmentation.h"
#include "analytics/stratification_report.h"
#include "analytics/worklist.h"
#include "cli/commands.h"
#include "cli/escalation.h"
#include "cli/progress.h"
#include "cli/segmentation_models.h"
#include "cli/today.h"
#include "core/csv.h"
#include "store/store.h"

namespace joinedup::cli {
namespace {

using Clock = std::chrono::steady_clock;
double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

// ",age,ltc_count,efi,efi_category,hfrs,hfrs_category,charlson_1987,charlson_quan2011,
// elixhauser,admission_risk,annual_cost_pence"
void AppendScores(std::string& out, const analytics::PersonFeatures& p) {
  using analytics::Feature;
  const auto level = [&](Feature f) {
    return analytics::FeatureLevels(f)[static_cast<size_t>(analytics::FeatureValue(p, f))];
  };
  fmt::format_to(std::back_inserter(out), ",{},{},{:.4f},{},{:.1f},{},{},{},{},{:.4f},{}", p.age,
                 p.ltc_count, analytics::FeatureValue(p, Feature::kEfi),
                 level(Feature::kEfiCategory), p.hfrs_tenths / 10.0, level(Feature::kHfrsCategory),
                 p.charlson_1987, p.charlson_quan2011, p.elixhauser, p.admission_risk,
                 p.cost_12m_pence);
}

// One CSV row per living person: the columns of issue 3, a segment column per model and the
// reasons (a JSON object keyed by model name). Rows are formatted on all cores in chunks and
// written in person order, to a temporary file renamed into place only when complete.
Status WritePeopleCsv(const std::string& path, const Cohort& cohort,
                      const analytics::CohortFeatures& features,
                      const std::vector<analytics::SegmentationModel>& models,
                      const analytics::CohortAssignments& assigned, int threads) {
  const std::string partial = path + ".partial";
  std::ofstream out(partial, std::ios::binary | std::ios::trunc);
  if (!out) return Error::Unavailable("cannot write '" + path + "'");
  std::string header =
      "nhs_number,practice,age,ltc_count,efi,efi_category,hfrs,hfrs_category,charlson_1987,"
      "charlson_quan2011,elixhauser,admission_risk,annual_cost_pence";
  for (const auto& model : models) header += ",segment:" + model.name;
  header += ",reasons\n";
  out << header;

  const size_t n = cohort.size();
  constexpr size_t kChunk = 16384;
  const size_t workers =
      std::max<size_t>(1, threads > 0 ? threads : std::thread::hardware_concurrency());
  for (size_t begin = 0; begin < n; begin += kChunk * workers) {
    std::vector<std::string> parts(workers);
    std::vector<std::thread> pool;
    for (size_t w = 0; w < workers; ++w) {
      pool.emplace_back([&, w] {
        const size_t from = begin + w * kChunk, to = std::min(n, from + kChunk);
        std::string& text = parts[w];
        for (size_t i = from; i < to; ++i) {
          const analytics::PersonFeatures& p = features.people[i];
          if (p.deceased) continue;
          const Cohort::Person& person = cohort.people[i];
          if (person.nhs_number) text += person.nhs_number->digits();
          text += ',';
          if (p.practice >= 0) AppendCsvField(text, cohort.practices[p.practice].id);
          AppendScores(text, p);
          std::string reasons = "{";
          for (size_t m = 0; m < models.size(); ++m) {
            const analytics::SegmentAssignment& a = assigned.At(i, m);
            text += ',';
            if (a.segment >= 0)
              AppendCsvField(text, models[m].segments[a.segment].id);
            else
              text += a.segment == kNoSegment ? "(no segment)" : "(outside)";
            if (m) reasons += ',';
            reasons += '"' + models[m].name + "\":";
            reasons +=
                analytics::ExplainJson(models[m], a, p, features.EvidenceOf(i), cohort.concepts);
          }
          reasons += '}';
          text += ',';
          AppendCsvField(text, reasons);
          text += '\n';
        }
      });
    }
    for (auto& t : pool) t.join();
    for (const std::string& part : parts) out << part;
  }
  out.close();
  std::error_code renamed;
  if (out) std::filesystem::rename(partial, path, renamed);
  if (!out || renamed) {
    std::filesystem::remove(partial, renamed);
    return Error::Unavailable("write to '" + path + "' failed");
  }
  return Ok();
}

struct StratifyArgs {
  std::string db = DefaultDatabaseUrl();
  std::string as_of;
  std::vector<std::string> models;
  std::string out;
  int threads = 0;
  bool save = true;
};

Status RunStratify(const StratifyArgs& args) {
  JU_ASSIGN_OR_RETURN(Date index_date, ParseAsOf(args.as_of));
  // Everything that can be wrong with the inputs is found before any work is done.
  JU_ASSIGN_OR_RETURN(std::vector<analytics::SegmentationModel> models, LoadModels(args.models));
  JU_ASSIGN_OR_RETURN(const analytics::RiskModel* risk, analytics::AdmissionRiskModel());
  JU_ASSIGN_OR_RETURN(std::unique_ptr<store::Store> store, store::OpenStore(args.db));

  const auto start = Clock::now();
  auto phase = Clock::now();
  std::vector<std::pair<std::string, double>> timings;
  const auto lap = [&](const char* name) {
    timings.emplace_back(name, Seconds(phase));
    phase = Clock::now();
  };

  Cohort cohort;
  {
    ProgressBar bar("load", "records");
    store::CohortLoadOptions options;
    options.threads = args.threads;
    // Features look back 12 months for activity (feature_engine.h); older contacts are most
    // of the store's rows and not worth reading.
    options.activities_from = index_date.AddYears(-analytics::kActivityWindowYears);
    options.progress = [&bar](int64_t done, int64_t total) {
      bar.Update(static_cast<uint64_t>(done), static_cast<uint64_t>(total));
    };
    JU_ASSIGN_OR_RETURN(cohort, store->LoadCohort(options));
  }
  lap("load");

  analytics::CohortFeatures features;
  {
    ProgressBar bar("score", "people");
    analytics::FeatureOptions options;
    options.index_date = index_date;
    options.threads = args.threads;
    options.risk_model = risk;
    options.progress = [&bar](int64_t done, int64_t total) {
      bar.Update(static_cast<uint64_t>(done), static_cast<uint64_t>(total));
    };
    JU_ASSIGN_OR_RETURN(features, analytics::ComputeFeatures(cohort, options));
  }
  lap("features and scores");

  const analytics::CohortAssignments assigned =
      analytics::ApplyModels(models, features, args.threads);
  lap("segmentation");

  StratificationRun run;
  run.index_date = index_date;
  for (const auto& model : models) run.models.push_back(analytics::Info(model));
  std::vector<PersonRunResult> results;
  results.reserve(cohort.size());
  for (size_t i = 0; i < cohort.size(); ++i) {
    const analytics::PersonFeatures& p = features.people[i];
    if (p.deceased) continue;
    PersonRunResult r;
    r.patient_key = cohort.people[i].key;
    r.ltc_count = p.ltc_count;
    r.efi_deficits = p.efi_deficits;
    r.hfrs_tenths = p.hfrs_tenths;
    r.charlson_1987 = p.charlson_1987;
    r.charlson_quan2011 = p.charlson_quan2011;
    r.elixhauser = p.elixhauser;
    r.admission_risk = p.admission_risk;
    r.cost_12m_pence = p.cost_12m_pence;
    for (size_t m = 0; m < models.size(); ++m) {
      r.segment.push_back(assigned.At(i, m).segment);
      r.rule.push_back(assigned.At(i, m).rule);
    }
    results.push_back(std::move(r));
  }
  run.people = static_cast<int64_t>(results.size());

  // The CSV is written before the run is stored, so a failure to write it stores nothing.
  if (!args.out.empty()) {
    JU_RETURN_IF_ERROR(WritePeopleCsv(args.out, cohort, features, models, assigned, args.threads));
    lap("write csv");
  }
  int64_t run_id = 0;
  if (args.save) {
    JU_ASSIGN_OR_RETURN(run_id, store->SaveRun(run, results));
    lap("write-back");
  }

  std::fputs(analytics::FormatStratificationSummary(
                 analytics::SummariseStratification(cohort, features, run.models, assigned))
                 .c_str(),
             stdout);
  std::printf("\n");
  if (args.save) std::printf("Stored as run %lld. ", static_cast<long long>(run_id));
  std::printf("%zu people, %zu coded events in %.2f s (", cohort.size(), cohort.events.size(),
              Seconds(start));
  for (size_t i = 0; i < timings.size(); ++i)
    std::printf("%s%s %.2f s", i ? ", " : "", timings[i].first.c_str(), timings[i].second);
  std::printf(")\n");
  if (!args.out.empty()) std::printf("One row per person written to %s\n", args.out.c_str());
  // A person on a caseload whose frailty or segment rose since the last run is escalated now.
  if (args.save)
    JU_RETURN_IF_ERROR(RunEscalationRules(*store, index_date, models, "", {},
                                          "escalation after the run"));
  return Ok();
}

}  // namespace

void AddStratifyCommand(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<StratifyArgs>();
  auto* cmd = app.add_subcommand(
      "stratify", "Score and segment the whole population, store the run and summarise it");
  cmd->add_option("--db", args->db, "Store: a SQLite file path or postgresql:// URL")
      ->capture_default_str();
  cmd->add_option("--as-of", args->as_of, "Index date (YYYY-MM-DD; default today)");
  cmd->add_option("--model", args->models,
                  "Segmentation model files (default: the shipped MCMW tiers and South "
                  "Worcestershire groups)");
  cmd->add_option("--out", args->out, "Write one CSV row per person, with reasons, to this file");
  cmd->add_option("--threads", args->threads, "Worker threads (0: all cores)")
      ->check(CLI::Range(0, 256))
      ->capture_default_str();
  cmd->add_flag("!--no-save", args->save, "Do not store the run");
  cmd->callback([args, exit_code] { ReportFailure("stratify", RunStratify(*args), exit_code); });
}

}  // namespace joinedup::cli
