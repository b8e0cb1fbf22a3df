// joinedup careteam add | extend: care teams by hand until caseloads and MDTs fill them. A care
// team is a legitimate relationship (security/policy.h): its members see its people, so every
// change is audited like an account change.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "core/nhs_number.h"
#include "security/audit.h"
#include "store/store.h"

namespace joinedup::cli {
namespace {

struct TeamOptions {
  std::string db = DefaultDatabaseUrl();
  std::string name, organisation;
  int64_t team = 0;
  std::vector<std::string> members;      // usernames
  std::vector<std::string> nhs_numbers;  // people on the team
};

// The members' user ids and the people's patient keys the options name; an unknown name is
// an error (checked before anything is written).
struct Named {
  std::vector<int64_t> users, patients;
};
Result<Named> Resolve(store::Store& s, const TeamOptions& o) {
  Named named;
  for (const std::string& username : o.members) {
    JU_ASSIGN_OR_RETURN(std::optional<store::User> user, s.FindUser(username));
    if (!user) return Error::NotFound("--member: no user '" + username + "'");
    named.users.push_back(user->id);
  }
  for (const std::string& text : o.nhs_numbers) {
    auto nhs_number = NhsNumber::Parse(text);
    if (!nhs_number.ok()) return Error::Invalid("--patient: " + nhs_number.error().message);
    JU_ASSIGN_OR_RETURN(std::optional<int64_t> key, s.PatientKeyForNhsNumber(*nhs_number));
    if (!key) return Error::NotFound("--patient: no stored patient has NHS number " + text);
    named.patients.push_back(*key);
  }
  return named;
}

// Adds the named members and people to `team`, then audits the change.
Status Extend(store::Store& s, int64_t team, Named named, std::string_view subtype) {
  for (int64_t user : named.users) JU_RETURN_IF_ERROR(s.AddCareTeamMember(team, user));
  for (int64_t key : named.patients) JU_RETURN_IF_ERROR(s.AddCareTeamPatient(team, key));

  security::AuditEntry entry;
  entry.action = 'U';
  entry.subtype = std::string(subtype);
  entry.query =
      "care_team=" + std::to_string(team) + "&members=" + std::to_string(named.users.size());
  const size_t members = named.users.size(), people = named.patients.size();
  entry.patient_keys = std::move(named.patients);
  JU_RETURN_IF_ERROR(security::AuditTrail(s, security::SystemClockMs)
                         .Record(security::AuditActor::Operator(), std::move(entry)));
  std::printf("care team %lld: %zu member(s) and %zu person(s) added\n",
              static_cast<long long>(team), members, people);
  return Ok();
}

Status AddTeam(const TeamOptions& o) {
  JU_ASSIGN_OR_RETURN(std::unique_ptr<store::Store> s, store::OpenStore(o.db));
  JU_ASSIGN_OR_RETURN(Named named, Resolve(*s, o));  // before the team exists
  JU_ASSIGN_OR_RETURN(int64_t team, s->AddCareTeam(o.name, o.organisation));
  std::printf("added care team %lld (%s at %s)\n", static_cast<long long>(team), o.name.c_str(),
              o.organisation.c_str());
  return Extend(*s, team, std::move(named), "care-team-create");
}

Status ExtendTeam(const TeamOptions& o) {
  JU_ASSIGN_OR_RETURN(std::unique_ptr<store::Store> s, store::OpenStore(o.db));
  JU_ASSIGN_OR_RETURN(Named named, Resolve(*s, o));
  return Extend(*s, o.team, std::move(named), "care-team-update");
}

void AddMemberOptions(CLI::App& command, TeamOptions& o) {
  command.add_option("--db", o.db, "Store: a SQLite file path or postgresql:// URL")
      ->capture_default_str();
  command.add_option("--member", o.members, "Username of a member (repeatable)");
  command.add_option("--patient", o.nhs_numbers, "NHS number of a person on the team (repeatable)");
}

}  // namespace

void AddCareTeamCommands(CLI::App& app, int* exit_code) {
  auto options = std::make_shared<TeamOptions>();
  auto* careteam = app.add_subcommand("careteam", "Manage care teams (who sees whom)");
  careteam->require_subcommand(1);
  auto* add = careteam->add_subcommand("add", "Add a care team, with members and people");
  add->add_option("--name", options->name, "The team's name")->required();
  add->add_option("--organisation", options->organisation, "ODS code of the team's organisation")
      ->required();
  AddMemberOptions(*add, *options);
  add->callback(
      [options, exit_code] { ReportFailure("careteam add", AddTeam(*options), exit_code); });
  auto* extend = careteam->add_subcommand("extend", "Add members and people to a care team");
  extend->add_option("--team", options->team, "The care team's id")->required();
  AddMemberOptions(*extend, *options);
  extend->callback(
      [options, exit_code] { ReportFailure("careteam extend", ExtendTeam(*options), exit_code); });
}

}  // namespace joinedup::cli
