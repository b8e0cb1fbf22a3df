// Stratification runs after the fact: `runs` lists them, `history` shows one person's, `movement`
// compares two (transition matrices and the people whose risk rose: the MDT's case-finding list),
// `worklist` selects people for active case management from one.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "analytics/movement.h"
#include "analytics/worklist.h"
#include "cli/commands.h"
#include "cli/segmentation_models.h"
#include "core/csv.h"
#include "store/store.h"

namespace joinedup::cli {
namespace {

// What a list of people needs to name them: NHS number (or source id) and practice, by key.
struct PeopleIndex {
  std::vector<int64_t> keys;  // ascending, as LoadCohort returns people
  Cohort cohort;
  const Cohort::Person* Find(int64_t key) const {
    auto it = std::lower_bound(keys.begin(), keys.end(), key);
    return it != keys.end() && *it == key ? &cohort.people[it - keys.begin()] : nullptr;
  }
  std::string Name(int64_t key) const {
    const Cohort::Person* p = Find(key);
    if (!p) return fmt::format("(patient key {})", key);
    return p->nhs_number ? p->nhs_number->Formatted() : p->id;
  }
  std::string Practice(int32_t index) const {
    return index >= 0 ? cohort.practices[index].id : "(none)";
  }
};

Result<PeopleIndex> IndexPeople(store::Store& store) {
  PeopleIndex index;
  store::CohortLoadOptions options;
  options.people_only = true;
  JU_ASSIGN_OR_RETURN(index.cohort, store.LoadCohort(options));
  for (const Cohort::Person& p : index.cohort.people) index.keys.push_back(p.key);
  return index;
}

// The run numbered `id`, or with id 0 the newest.
Result<StratificationRun> PickRun(store::Store& store, int64_t id) {
  if (id != 0) {
    JU_ASSIGN_OR_RETURN(std::optional<StratificationRun> run, store.FindRun(id));
    if (!run) return Error::NotFound(fmt::format("there is no run {}", id));
    return *run;
  }
  JU_ASSIGN_OR_RETURN(std::vector<StratificationRun> runs, store.Runs());
  if (runs.empty()) return Error::NotFound("0 stored run(s) (run `joinedup stratify`)");
  return runs.front();
}

std::string ModelList(const StratificationRun& run) {
  std::string out;
  for (const auto& m : run.models) out += (out.empty() ? "" : ", ") + m.name + " " + m.version;
  return out;
}

Status RunRuns(const std::string& db) {
  JU_ASSIGN_OR_RETURN(std::unique_ptr<store::Store> store, store::OpenStore(db));
  JU_ASSIGN_OR_RETURN(std::vector<StratificationRun> runs, store->Runs());
  if (runs.empty())
    std::printf("No stratification runs yet (run `joinedup stratify`).\n");
  else
    std::printf("%6s  %-20s  %-10s  %10s  %s\n", "run", "created", "index date", "people",
                "models");
  for (const auto& r : runs)
    std::printf("%6lld  %-20s  %-10s  %10lld  %s\n", static_cast<long long>(r.id),
                r.created_at.c_str(), r.index_date.ToString().c_str(),
                static_cast<long long>(r.people), ModelList(r).c_str());
  return Ok();
}

struct MovementArgs {
  std::string db = DefaultDatabaseUrl();
  int64_t from = 0, to = 0;
  std::vector<std::string> models;
  double top_percent = 5;
  std::string out;
  int show = 20;
};

Status RunMovement(const MovementArgs& args) {
  JU_ASSIGN_OR_RETURN(std::vector<analytics::SegmentationModel> models, LoadModels(args.models));
  JU_ASSIGN_OR_RETURN(std::unique_ptr<store::Store> store, store::OpenStore(args.db));
  JU_ASSIGN_OR_RETURN(StratificationRun after, PickRun(*store, args.to));
  StratificationRun before;
  if (args.from != 0) {
    JU_ASSIGN_OR_RETURN(before, PickRun(*store, args.from));
  } else {  // the run stored just before `after`
    JU_ASSIGN_OR_RETURN(std::vector<StratificationRun> runs, store->Runs());
    const auto it = std::find_if(runs.begin(), runs.end(),
                                 [&](const StratificationRun& r) { return r.id < after.id; });
    if (it == runs.end())
      return Error::NotFound(
          fmt::format("no run was stored before run {} (give --from)", after.id));
    before = *it;
  }
  JU_ASSIGN_OR_RETURN(std::vector<PersonRunResult> before_people, store->RunResults(before.id));
  JU_ASSIGN_OR_RETURN(std::vector<PersonRunResult> after_people, store->RunResults(after.id));
  analytics::MovementOptions options;
  options.admission_risk_top_fraction = args.top_percent / 100.0;
  JU_ASSIGN_OR_RETURN(
      analytics::Movement movement,
      analytics::CompareRuns({before, before_people}, {after, after_people}, models, options));
  JU_ASSIGN_OR_RETURN(PeopleIndex people, IndexPeople(*store));

  std::printf("Movement from run %lld (%s) to run %lld (%s): %lld stayed, %lld joined, %lld left\n",
              static_cast<long long>(before.id), before.index_date.ToString().c_str(),
              static_cast<long long>(after.id), after.index_date.ToString().c_str(),
              static_cast<long long>(movement.stayed), static_cast<long long>(movement.joined),
              static_cast<long long>(movement.left));
  for (const analytics::ModelMovement& m : movement.models) {
    std::printf("\n%s%s: rows run %lld, columns run %lld\n", m.name.c_str(),
                m.version_changed
                    ? fmt::format(" (version {} → {})", m.from_version, m.to_version).c_str()
                    : "",
                static_cast<long long>(before.id), static_cast<long long>(after.id));
    // Columns are too many for labels: number the states, with a legend.
    const auto short_name = [](size_t i, const std::string& state) {
      return state == analytics::kNoSegmentState           ? std::string("none")
             : state == analytics::kOutsidePopulationState ? std::string("outside")
             : state == analytics::kJoinedState            ? std::string("joined")
             : state == analytics::kLeftState              ? std::string("left")
                                                           : fmt::format("[{}]", i);
    };
    for (size_t i = 0; i < m.to_states.size(); ++i)
      if (short_name(i, m.to_states[i]).front() == '[')
        std::printf("  [%zu] %s\n", i, m.to_states[i].c_str());
    std::printf("  %-10s", "from \\ to");
    for (size_t c = 0; c < m.to_states.size(); ++c)
      std::printf("%10s", short_name(c, m.to_states[c]).c_str());
    std::printf("\n");
    for (size_t r = 0; r < m.from_states.size(); ++r) {
      std::printf("  %-10s", short_name(r, m.from_states[r]).c_str());
      for (size_t c = 0; c < m.to_states.size(); ++c)
        std::printf("%10lld", static_cast<long long>(m.At(r, c)));
      std::printf("\n");
    }
  }
  std::printf("\n%zu people whose risk rose (the case-finding list)\n", movement.risers.size());
  std::ofstream out;
  if (!args.out.empty()) {
    out.open(args.out, std::ios::trunc);
    if (!out) return Error::Unavailable("cannot write '" + args.out + "'");
    out << "nhs_number,patient_id,practice,rises\n";
  }
  int shown = 0;
  for (const analytics::Riser& riser : movement.risers) {
    std::string why;
    for (const analytics::Rise& rise : riser.rises)
      why += (why.empty() ? "" : "; ") + analytics::DescribeRise(movement, rise);
    if (shown++ < args.show)
      std::printf("  %-14s %s\n", people.Name(riser.patient_key).c_str(), why.c_str());
    if (out.is_open()) {
      const Cohort::Person* p = people.Find(riser.patient_key);
      std::string row = p && p->nhs_number ? p->nhs_number->digits() : "";
      for (const std::string& field :
           {p ? p->id : "", p ? people.Practice(p->practice) : "", why}) {
        row += ',';
        AppendCsvField(row, field);
      }
      out << row << '\n';
    }
  }
  if (static_cast<int>(movement.risers.size()) > args.show)
    std::printf("  … and %zu more%s\n", movement.risers.size() - args.show,
                args.out.empty() ? " (--out FILE lists them all)" : "");
  if (out.is_open()) {
    out.close();
    if (!out) return Error::Unavailable("write to '" + args.out + "' failed");
  }
  return Ok();
}

struct WorklistArgs {
  std::string db = DefaultDatabaseUrl();
  int64_t run = 0;
  std::string model;
  int top_segments = 0;
  double top_percent = 0;
  std::vector<std::string> models;
  std::string out;
  int show = 10;
};

Status RunWorklist(const WorklistArgs& args) {
  JU_ASSIGN_OR_RETURN(std::unique_ptr<store::Store> store, store::OpenStore(args.db));
  JU_ASSIGN_OR_RETURN(StratificationRun run, PickRun(*store, args.run));
  analytics::WorklistSelection selection;
  selection.top_risk_fraction = args.top_percent / 100.0;
  if (!args.model.empty()) {
    JU_ASSIGN_OR_RETURN(std::vector<analytics::SegmentationModel> models, LoadModels(args.models));
    const auto in_run = std::find_if(run.models.begin(), run.models.end(),
                                     [&](const auto& m) { return m.name == args.model; });
    const auto model = std::find_if(models.begin(), models.end(),
                                    [&](const auto& m) { return m.name == args.model; });
    if (in_run == run.models.end() || model == models.end())
      return Error::Invalid(
          fmt::format("--model {}: run {} applied {}", args.model, run.id, ModelList(run)));
    selection.model = static_cast<int>(in_run - run.models.begin());
    selection.segments = analytics::TopSegments(*model, std::max(1, args.top_segments));
  }
  JU_ASSIGN_OR_RETURN(std::vector<PersonRunResult> results, store->RunResults(run.id));
  JU_ASSIGN_OR_RETURN(PeopleIndex people, IndexPeople(*store));
  std::vector<int32_t> practice;
  practice.reserve(results.size());
  for (const PersonRunResult& r : results) {
    const Cohort::Person* p = people.Find(r.patient_key);
    practice.push_back(p ? p->practice : -1);
  }
  // Caseloads arrive with the care layer; until then nobody is on one.
  JU_ASSIGN_OR_RETURN(analytics::Worklist list,
                      analytics::BuildWorklist(run, results, practice, selection));

  std::printf("Worklist from run %lld (%s): %lld people to consider for case management\n",
              static_cast<long long>(run.id), run.index_date.ToString().c_str(),
              static_cast<long long>(list.selected));
  std::ofstream out;
  if (!args.out.empty()) {
    out.open(args.out, std::ios::trunc);
    if (!out) return Error::Unavailable("cannot write '" + args.out + "'");
    out << "practice,rank,nhs_number,patient_id,admission_risk,annual_cost_pence,segment,by_"
           "segment,by_risk\n";
  }
  for (const analytics::PracticeWorklist& p : list.practices) {
    std::printf("\n%s: %zu people\n", people.Practice(p.practice).c_str(), p.entries.size());
    int rank = 0;
    for (const analytics::WorklistEntry& e : p.entries) {
      ++rank;
      const std::string segment = e.segment >= 0 && selection.model >= 0
                                      ? run.models[selection.model].segments[e.segment]
                                      : "";
      if (rank <= args.show)
        std::printf("  %3d  %-14s risk %5.1f%%  £%-9.0f %s\n", rank,
                    people.Name(e.patient_key).c_str(), 100.0 * e.admission_risk,
                    static_cast<double>(e.cost_12m_pence) / 100.0, segment.c_str());
      if (out.is_open()) {
        const Cohort::Person* person = people.Find(e.patient_key);
        std::string row;
        AppendCsvField(row, people.Practice(p.practice));
        row += fmt::format(",{},{},", rank,
                           person && person->nhs_number ? person->nhs_number->digits() : "");
        AppendCsvField(row, person ? person->id : "");
        row += fmt::format(",{:.4f},{},", e.admission_risk, e.cost_12m_pence);
        AppendCsvField(row, segment);
        row += fmt::format(",{},{}\n", e.by_segment ? 1 : 0, e.by_risk ? 1 : 0);
        out << row;
      }
    }
  }
  if (out.is_open()) {
    out.close();
    if (!out) return Error::Unavailable("write to '" + args.out + "' failed");
  }
  return Ok();
}

// A person's results in every run, oldest first: how their scores and segments have moved.
Status RunHistory(const std::string& db, const std::string& nhs_text) {
  JU_ASSIGN_OR_RETURN(NhsNumber nhs_number, NhsNumber::Parse(nhs_text));
  JU_ASSIGN_OR_RETURN(std::unique_ptr<store::Store> store, store::OpenStore(db));
  JU_ASSIGN_OR_RETURN(std::optional<int64_t> key, store->PatientKeyForNhsNumber(nhs_number));
  if (!key) return Error::NotFound("no patient has NHS number " + nhs_number.Formatted());
  JU_ASSIGN_OR_RETURN(auto history, store->PersonHistory(*key));
  std::printf("%s: %zu stratification run(s)\n", nhs_number.Formatted().c_str(), history.size());
  if (history.empty()) return Ok();
  std::printf("%6s  %-10s  %4s  %4s  %5s  %8s  %8s  %6s  %10s  %s\n", "run", "index date", "ltc",
              "eFI", "HFRS", "Charlson", "Quan2011", "risk", "cost £", "segments");
  for (const auto& [run, r] : history) {
    std::string segments;
    for (size_t m = 0; m < run.models.size() && m < r.segment.size(); ++m) {
      const int16_t s = r.segment[m];
      segments += (m ? "; " : "") + run.models[m].name + ": " +
                  (s >= 0            ? run.models[m].segments[static_cast<size_t>(s)]
                   : s == kNoSegment ? std::string("no segment")
                                     : std::string("outside population"));
    }
    std::printf("%6lld  %-10s  %4d  %4d  %5.1f  %8d  %8d  %5.1f%%  %10.0f  %s\n",
                static_cast<long long>(run.id), run.index_date.ToString().c_str(), r.ltc_count,
                r.efi_deficits, r.hfrs_tenths / 10.0, r.charlson_1987, r.charlson_quan2011,
                100.0 * r.admission_risk, static_cast<double>(r.cost_12m_pence) / 100.0,
                segments.c_str());
  }
  return Ok();
}

}  // namespace

void AddRunsCommands(CLI::App& app, int* exit_code) {
  auto db = std::make_shared<std::string>(DefaultDatabaseUrl());
  auto* runs = app.add_subcommand("runs", "List the stored stratification runs");
  runs->add_option("--db", *db, "Store: a SQLite file path or postgresql:// URL")
      ->capture_default_str();
  runs->callback([db, exit_code] { ReportFailure("runs", RunRuns(*db), exit_code); });

  auto h = std::make_shared<std::pair<std::string, std::string>>(DefaultDatabaseUrl(), "");
  auto* history = app.add_subcommand("history", "One person's scores and segments in every run");
  history->add_option("nhs_number", h->second, "NHS number (e.g. 943 476 5919)")->required();
  history->add_option("--db", h->first, "Store")->capture_default_str();
  history->callback(
      [h, exit_code] { ReportFailure("history", RunHistory(h->first, h->second), exit_code); });

  auto m = std::make_shared<MovementArgs>();
  auto* movement = app.add_subcommand(
      "movement", "Compare two runs: transitions between segments and the people whose risk rose");
  movement->add_option("--db", m->db, "Store")->capture_default_str();
  movement->add_option("--from", m->from, "Earlier run (default: the one before --to)");
  movement->add_option("--to", m->to, "Later run (default: the newest)");
  movement->add_option("--model", m->models, "Model files the runs applied (default: shipped)");
  movement
      ->add_option("--top-percent", m->top_percent,
                   "Admission risk band: crossing into this top percent is a rise")
      ->check(CLI::Range(0.0, 100.0))
      ->capture_default_str();
  movement->add_option("--show", m->show, "Risers to print")->capture_default_str();
  movement->add_option("--out", m->out, "Write every riser to this CSV file");
  movement->callback([m, exit_code] { ReportFailure("movement", RunMovement(*m), exit_code); });

  auto w = std::make_shared<WorklistArgs>();
  auto* worklist = app.add_subcommand(
      "worklist", "People to consider for active case management, per practice, by risk");
  worklist->add_option("--db", w->db, "Store")->capture_default_str();
  worklist->add_option("--run", w->run, "Run (default: the newest)");
  worklist->add_option("--model", w->model, "Select the top segment(s) of this model (by name)");
  worklist->add_option("--top-segments", w->top_segments, "How many top-ranked segments")
      ->check(CLI::Range(1, 100));
  worklist->add_option("--top-percent", w->top_percent, "Select the top percent by admission risk")
      ->check(CLI::Range(0.0, 100.0));
  worklist->add_option("--model-file", w->models, "Model files (default: shipped)");
  worklist->add_option("--show", w->show, "People to print per practice")->capture_default_str();
  worklist->add_option("--out", w->out, "Write the whole worklist to this CSV file");
  worklist->callback([w, exit_code] {
    if (w->model.empty() && w->top_percent <= 0) {
      std::fprintf(
          stderr,
          "joinedup worklist: choose --model NAME [--top-segments N] and/or --top-percent P\n");
      *exit_code = 2;
      return;
    }
    ReportFailure("worklist", RunWorklist(*w), exit_code);
  });
}

}  // namespace joinedup::cli
