// joinedup user add | list: bootstraps accounts. The password is read from standard input
// (never the command line, where other users of the machine could see it in `ps`).
#include <termios.h>
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <iterator>

#include "cli/commands.h"
#include "security/audit.h"
#include "security/crypto.h"
#include "security/policy.h"
#include "store/store.h"

namespace joinedup::cli {
namespace {

// The whole of standard input less one trailing newline; on a terminal, prompts without echo.
std::string ReadPassword() {
  const bool terminal = isatty(STDIN_FILENO) != 0;
  termios saved{};
  if (terminal) {
    std::fputs("Password: ", stderr);
    tcgetattr(STDIN_FILENO, &saved);
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  }
  std::string password;
  if (terminal) {
    std::getline(std::cin, password);
    tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    std::fputs("\n", stderr);
  } else {
    password.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    if (password.ends_with('\n')) password.pop_back();
    if (password.ends_with('\r')) password.pop_back();
  }
  return password;
}

int AddUser(const std::string& db, const std::string& username, const std::string& role_name,
            const std::string& organisation, std::string display_name,
            const std::string& organisation_name, const std::string& organisation_kind,
            const std::string& nhs_number_text) {
  auto fail = [](int code, const std::string& message) {
    std::fprintf(stderr, "joinedup user add: %s\n", message.c_str());
    return code;
  };
  const std::optional<store::Role> role = security::ParseRole(role_name);
  if (!role) {
    std::string known;
    for (int r = 0; r < store::kRoleCount; ++r)
      known +=
          std::string(r ? ", " : "") + std::string(security::RoleName(static_cast<store::Role>(r)));
    return fail(2, "--role: '" + role_name + "' is not a role (one of: " + known + ")");
  }
  if ((*role == store::Role::kPatient) != !nhs_number_text.empty())
    return fail(2, *role == store::Role::kPatient
                       ? "--patient-nhs-number is required for role patient"
                       : "--patient-nhs-number is only for role patient");
  std::optional<NhsNumber> nhs_number;
  if (!nhs_number_text.empty()) {
    auto parsed = NhsNumber::Parse(nhs_number_text);
    if (!parsed.ok()) return fail(2, "--patient-nhs-number: " + parsed.error().message);
    nhs_number = *parsed;
  }
  std::optional<store::OrganisationKind> kind;
  if (!organisation_kind.empty()) {
    kind = security::ParseOrganisationKind(organisation_kind);
    if (!kind) return fail(2, "--organisation-kind: '" + organisation_kind + "' is not a kind");
  }
  const std::string password = ReadPassword();
  auto hash = security::HashPassword(password);
  if (!hash.ok()) return fail(2, "password from standard input: " + hash.error().message);

  auto store = store::OpenStore(db);
  if (!store.ok()) return fail(1, store.error().ToString());
  store::Store& s = **store;
  auto existing = s.FindOrganisation(organisation);
  if (!existing.ok()) return fail(1, existing.error().ToString());
  if (!*existing || kind) {
    // A new organisation needs a kind — except a stored GP practice, which is one.
    std::string name = organisation_name;
    if (!kind) {
      auto practices = s.Practices();
      if (!practices.ok()) return fail(1, practices.error().ToString());
      for (const Practice& practice : *practices)
        if (practice.id == organisation) {
          kind = store::OrganisationKind::kGpPractice;
          if (name.empty()) name = practice.name;
        }
      if (!kind)
        return fail(1, "Organization/" + organisation +
                           " is not known; give --organisation-kind (and --organisation-name) "
                           "to create it");
    }
    if (name.empty()) name = *existing ? (*existing)->name : organisation;
    Status put = s.PutOrganisation({organisation, name, *kind});
    if (!put.ok()) return fail(1, put.error().ToString());
  }
  store::User user;
  user.username = username;
  user.display_name = display_name.empty() ? username : std::move(display_name);
  user.organisation_id = organisation;
  user.role = *role;
  user.password_hash = std::move(hash).value();
  if (nhs_number) {
    auto key = s.PatientKeyForNhsNumber(*nhs_number);
    if (!key.ok()) return fail(1, key.error().ToString());
    if (!*key) return fail(1, "no stored patient has NHS number " + nhs_number_text);
    user.patient_key = **key;
  }
  auto id = s.AddUser(user);
  if (!id.ok()) return fail(1, id.error().message);

  security::AuditEntry entry;
  entry.action = 'C';
  entry.subtype = "user-create";
  entry.query = "username=" + username + "&role=" + role_name + "&organisation=" + organisation;
  auto recorded = security::AuditTrail(s, security::SystemClockMs)
                      .Record(security::AuditActor::Operator(), std::move(entry));
  if (!recorded.ok())
    return fail(1, "the user was added but not audited: " + recorded.error().ToString());
  std::printf("added user %s (id %lld, %s at %s)\n", username.c_str(), static_cast<long long>(*id),
              role_name.c_str(), organisation.c_str());
  return 0;
}

int ListUsers(const std::string& db) {
  auto store = store::OpenStore(db);
  if (!store.ok()) {
    std::fprintf(stderr, "joinedup user list: %s\n", store.error().ToString().c_str());
    return 1;
  }
  auto users = (*store)->Users();
  if (!users.ok()) {
    std::fprintf(stderr, "joinedup user list: %s\n", users.error().ToString().c_str());
    return 1;
  }
  std::printf("%-6s %-20s %-16s %-12s %-8s %s\n", "id", "username", "role", "organisation",
              "status", "display name");
  for (const store::User& u : *users)
    std::printf("%-6lld %-20s %-16s %-12s %-8s %s\n", static_cast<long long>(u.id),
                u.username.c_str(), std::string(security::RoleName(u.role)).c_str(),
                u.organisation_id.c_str(), u.disabled ? "disabled" : "active",
                u.display_name.c_str());
  return 0;
}

}  // namespace

void AddUserCommands(CLI::App& app, int* exit_code) {
  struct Options {
    std::string db = DefaultDatabaseUrl();
    std::string username, role, organisation, display_name, organisation_name, organisation_kind,
        nhs_number;
  };
  auto options = std::make_shared<Options>();
  auto* user = app.add_subcommand("user", "Manage user accounts");
  user->require_subcommand(1);
  auto* add = user->add_subcommand(
      "add", "Add a user; the password is read from standard input (at least 12 characters)");
  add->add_option("--db", options->db, "Store: a SQLite file path or postgresql:// URL")
      ->capture_default_str();
  add->add_option("--username", options->username, "Sign-in name (unique)")->required();
  add->add_option("--role", options->role,
                  "gp, nurse, case-manager, care-assistant, social-worker, mental-health, "
                  "pharmacist, link-worker, commissioner, privacy-officer, administrator, patient")
      ->required();
  add->add_option("--organisation", options->organisation, "ODS code of the user's organisation")
      ->required();
  add->add_option("--display-name", options->display_name, "Name shown to others");
  add->add_option("--organisation-name", options->organisation_name,
                  "Creates the organisation if it is not stored (with --organisation-kind)");
  add->add_option("--organisation-kind", options->organisation_kind,
                  "gp_practice, community_trust, council, voluntary_organisation, commissioner");
  add->add_option("--patient-nhs-number", options->nhs_number,
                  "For role patient: the stored patient this account is");
  add->callback([options, exit_code] {
    *exit_code = AddUser(options->db, options->username, options->role, options->organisation,
                         options->display_name, options->organisation_name,
                         options->organisation_kind, options->nhs_number);
  });
  auto* list = user->add_subcommand("list", "List user accounts (never their passwords)");
  list->add_option("--db", options->db, "Store: a SQLite file path or postgresql:// URL")
      ->capture_default_str();
  list->callback([options, exit_code] { *exit_code = ListUsers(options->db); });
}

}  // namespace joinedup::cli
