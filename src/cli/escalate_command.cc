// joinedup escalate: runs the escalation rules over everyone on a caseload (records/escalation.h)
// — what a scheduler runs every few minutes so that a planned visit left undone is escalated
// on time; imports and stratification runs run the rules themselves.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>

#include "cli/commands.h"
#include "cli/escalation.h"
#include "cli/segmentation_models.h"
#include "cli/today.h"
#include "records/escalation.h"
#include "security/audit.h"

namespace joinedup::cli {

Status RunEscalationRules(store::Store& store, Date as_of,
                          std::span<const analytics::SegmentationModel> models,
                          const std::string& rules_file, const std::vector<std::string>& only,
                          const char* context) {
  records::EscalationRules from_file;
  if (!rules_file.empty()) {
    std::ifstream in(rules_file, std::ios::binary);
    if (!in) return Error::Invalid("--rules: cannot read " + rules_file);
    std::stringstream text;
    text << in.rdbuf();
    JU_ASSIGN_OR_RETURN(from_file, records::ParseEscalationRules(rules_file, text.str()));
  }
  const records::EscalationRules& rules =
      rules_file.empty() ? records::ShippedEscalationRules() : from_file;
  for (const std::string& id : only) {
    bool known = false;
    for (const records::EscalationRule& rule : rules.rules) known = known || rule.id == id;
    if (!known) return Error{ErrorCode::kInvalidInput, "--rule: no rule \"" + id + "\"", "rule"};
  }
  records::EscalationRun run;
  run.now_ms = security::SystemClockMs();
  run.as_of = as_of;
  run.models = models;
  run.actor = security::AuditActor::Operator();
  run.only_rules = only;
  JU_ASSIGN_OR_RETURN(records::EscalationOutcome outcome,
                      records::RunEscalation(store, rules, run));
  int64_t total = 0;
  std::string detail;
  for (const auto& [rule, count] : outcome.raised) {
    total += count;
    if (count) detail += (detail.empty() ? "" : ", ") + rule + " " + std::to_string(count);
  }
  std::printf("%s: %lld raised%s%s%s (%lld people on caseloads; %lld raised before)\n", context,
              static_cast<long long>(total), detail.empty() ? "" : " (", detail.c_str(),
              detail.empty() ? "" : ")", static_cast<long long>(outcome.people_on_caseloads),
              static_cast<long long>(outcome.already_raised));
  for (const std::string& note : outcome.notes) std::printf("  note: %s\n", note.c_str());
  return Ok();
}

namespace {

struct EscalateOptions {
  std::string db = DefaultDatabaseUrl();
  std::string as_of;
  std::string rules;
  std::vector<std::string> only;
};

Status Escalate(const EscalateOptions& o) {
  JU_ASSIGN_OR_RETURN(Date as_of, ParseAsOf(o.as_of));
  JU_ASSIGN_OR_RETURN(std::vector<analytics::SegmentationModel> models, LoadModels({}));
  JU_ASSIGN_OR_RETURN(std::unique_ptr<store::Store> store, store::OpenStore(o.db));
  return RunEscalationRules(*store, as_of, models, o.rules, o.only, "escalation");
}

}  // namespace

void AddEscalateCommand(CLI::App& app, int* exit_code) {
  auto options = std::make_shared<EscalateOptions>();
  auto* cmd = app.add_subcommand(
      "escalate", "Raise a flag and a task for the coordinator of anyone on a caseload who has "
                  "become unstable (the escalation rules)");
  cmd->add_option("--db", options->db, "Store: a SQLite file path or postgresql:// URL")
      ->capture_default_str();
  cmd->add_option("--as-of", options->as_of,
                  "Activities and events count within each rule's lookback before this date "
                  "(YYYY-MM-DD; default today)");
  cmd->add_option("--rules", options->rules,
                  "A rules file (default: the shipped data/escalation/escalation_rules.json)");
  cmd->add_option("--rule", options->only, "Run only these rules (by id)");
  cmd->callback([options, exit_code] {
    ReportFailure("escalate", Escalate(*options), exit_code);
  });
}

}  // namespace joinedup::cli
