// `joinedup user add|list`, `joinedup careteam add|extend` and `joinedup audit verify` through the
// real executable.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace joinedup {
namespace {

using ::testing::HasSubstr;

class SecurityCliTest : public ::testing::Test {
 protected:
  struct RunResult {
    int exit_code = -1;
    std::string out, err;
  };

  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("joinedup-security-cli-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Path(const std::string& name) const { return (dir_ / name).string(); }
  static std::string Read(const std::string& path) {
    std::stringstream s;
    s << std::ifstream(path, std::ios::binary).rdbuf();
    return s.str();
  }

  // Runs `joinedup <args>` with `input` on standard input.
  RunResult Run(const std::string& args, const std::string& input = "") const {
    std::ofstream(Path("stdin.txt"), std::ios::binary) << input;
    const std::string command = "cd '" + dir_.string() + "' && env -u JOINEDUP_DB '" +
                                JOINEDUP_EXECUTABLE + "' " + args + " >'" + Path("out.txt") +
                                "' 2>'" + Path("err.txt") + "' <'" + Path("stdin.txt") + "'";
    const int status = std::system(command.c_str());
    RunResult r;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = Read(Path("out.txt"));
    r.err = Read(Path("err.txt"));
    return r;
  }

  std::string Sql(const std::string& sql) const {
    sqlite3* db = nullptr;
    sqlite3_open(Path("joinedup.db").c_str(), &db);
    std::string value;
    char* error = nullptr;
    sqlite3_exec(
        db, sql.c_str(),
        [](void* out, int, char** values, char**) {
          *static_cast<std::string*>(out) = values[0] != nullptr ? values[0] : "";
          return 0;
        },
        &value, &error);
    if (error != nullptr) {
      value = std::string("error: ") + error;
      sqlite3_free(error);
    }
    sqlite3_close(db);
    return value;
  }

  std::filesystem::path dir_;
};

TEST_F(SecurityCliTest, AddsUsersWithPasswordsFromStdinAndListsThem) {
  auto added = Run(
      "user add --username grace --role gp --organisation A81001 --organisation-kind gp_practice "
      "--organisation-name 'Alpha Surgery' --display-name 'Dr Grace Hopper'",
      "a long enough password\n");
  ASSERT_EQ(added.exit_code, 0) << added.err;
  EXPECT_THAT(added.out, HasSubstr("added user grace"));
  // Stored as Argon2id, never the password.
  EXPECT_THAT(Sql("SELECT password_hash FROM users WHERE username = 'grace'"),
              ::testing::StartsWith("$argon2id$"));
  EXPECT_EQ(Sql("SELECT COUNT(*) FROM users WHERE password_hash LIKE '%long enough%'"), "0");

  auto second = Run("user add --username ada --role privacy-officer --organisation A81001",
                    "another long password");
  ASSERT_EQ(second.exit_code, 0) << second.err;

  auto list = Run("user list");
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_THAT(list.out, HasSubstr("grace"));
  EXPECT_THAT(list.out, HasSubstr("Dr Grace Hopper"));
  EXPECT_THAT(list.out, HasSubstr("privacy-officer"));
  EXPECT_THAT(list.out, ::testing::Not(HasSubstr("argon2")));
  EXPECT_LT(list.out.find("ada"), list.out.find("grace"));  // by username
}

TEST_F(SecurityCliTest, RefusesBadInputWithClearMessages) {
  auto short_password =
      Run("user add --username u --role gp --organisation X --organisation-kind council", "short");
  EXPECT_EQ(short_password.exit_code, 2);
  EXPECT_THAT(short_password.err, HasSubstr("shorter than 12"));

  auto bad_role = Run("user add --username u --role doctor --organisation X", "long enough pw!");
  EXPECT_EQ(bad_role.exit_code, 2);
  EXPECT_THAT(bad_role.err, HasSubstr("'doctor' is not a role"));

  auto unknown_org = Run("user add --username u --role gp --organisation Z1", "long enough pw!");
  EXPECT_EQ(unknown_org.exit_code, 1);
  EXPECT_THAT(unknown_org.err, HasSubstr("Organization/Z1 is not known"));

  auto patient_without =
      Run("user add --username p --role patient --organisation X --organisation-kind council",
          "long enough pw!");
  EXPECT_EQ(patient_without.exit_code, 2);
  EXPECT_THAT(patient_without.err, HasSubstr("--patient-nhs-number is required"));

  auto no_such_patient =
      Run("user add --username p --role patient --organisation X --organisation-kind council "
          "--patient-nhs-number 9434765919",
          "long enough pw!");
  EXPECT_EQ(no_such_patient.exit_code, 1);
  EXPECT_THAT(no_such_patient.err, HasSubstr("no stored patient has NHS number 9434765919"));

  ASSERT_EQ(Run("user add --username u --role gp --organisation X --organisation-kind council",
                "long enough pw!")
                .exit_code,
            0);
  auto taken = Run("user add --username u --role gp --organisation X", "long enough pw!");
  EXPECT_EQ(taken.exit_code, 1);
  EXPECT_THAT(taken.err, HasSubstr("username 'u' is already taken"));
}

TEST_F(SecurityCliTest, AuditVerifyPassesThenNamesTheTamperedEvent) {
  for (const char* name : {"a1", "a2", "a3"})
    ASSERT_EQ(Run(std::string("user add --username ") + name +
                      " --role nurse --organisation T1 --organisation-kind community_trust",
                  "long enough pw!")
                  .exit_code,
              0);
  auto intact = Run("audit verify");
  EXPECT_EQ(intact.exit_code, 0) << intact.err;
  EXPECT_THAT(intact.out, HasSubstr("intact: 3 events; head event 3 hash "));

  // The database itself refuses the edit …
  EXPECT_THAT(Sql("UPDATE audit_events SET query = 'x' WHERE sequence = 2"),
              HasSubstr("append-only"));
  // … so an attacker drops the guard first; the chain still shows it.
  ASSERT_EQ(Sql("DROP TRIGGER audit_events_no_update"), "");
  ASSERT_EQ(Sql("UPDATE audit_events SET query = 'username=nobody' WHERE sequence = 2"), "");
  auto broken = Run("audit verify");
  EXPECT_EQ(broken.exit_code, 1);
  EXPECT_THAT(broken.out, HasSubstr("BROKEN at event 2"));

  auto missing = Run("audit verify --db " + Path("nowhere/x.db"));
  EXPECT_EQ(missing.exit_code, 2);
}

TEST_F(SecurityCliTest, CareTeamsGiveTheirMembersTheirPeopleAndAreAudited) {
  ASSERT_EQ(Run("generate --out fhir --patients 5 --practices 1 --seed 3").exit_code, 0);
  ASSERT_EQ(Run("import fhir").exit_code, 0);
  const std::string nhs_number = Sql("SELECT nhs_number FROM patients ORDER BY key LIMIT 1");
  ASSERT_EQ(nhs_number.size(), 10u) << nhs_number;
  ASSERT_EQ(Run("user add --username cm --role case-manager --organisation RYG "
                "--organisation-kind community_trust",
                "long enough pw!")
                .exit_code,
            0);

  auto added = Run("careteam add --name 'Frailty team' --organisation RYG --member cm --patient " +
                   nhs_number);
  ASSERT_EQ(added.exit_code, 0) << added.err;
  EXPECT_THAT(added.out, HasSubstr("added care team 1 (Frailty team at RYG)"));
  EXPECT_EQ(Sql("SELECT COUNT(*) FROM care_team_members"), "1");
  EXPECT_EQ(Sql("SELECT COUNT(*) FROM care_team_patients"), "1");
  EXPECT_EQ(Sql("SELECT COUNT(*) FROM audit_events WHERE subtype = 'care-team-create'"), "1");

  // Unknown names are refused before anything is written.
  auto unknown = Run("careteam extend --team 1 --member cm --member nobody");
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_THAT(unknown.err, HasSubstr("--member: no user 'nobody'"));
  auto bad_number = Run("careteam extend --team 1 --patient 1234567890");
  EXPECT_EQ(bad_number.exit_code, 1);
  EXPECT_THAT(bad_number.err, HasSubstr("--patient:"));
  auto no_team = Run("careteam extend --team 9 --member cm");
  EXPECT_EQ(no_team.exit_code, 1);
  // A new team naming an unknown member is not created at all.
  auto unknown_new = Run("careteam add --name 'Other' --organisation RYG --member nobody");
  EXPECT_EQ(unknown_new.exit_code, 1);
  EXPECT_THAT(unknown_new.err, HasSubstr("--member: no user 'nobody'"));
  EXPECT_EQ(Sql("SELECT COUNT(*) FROM care_teams"), "1");
  EXPECT_EQ(Sql("SELECT COUNT(*) FROM audit_events WHERE subtype = 'care-team-update'"), "0");
  EXPECT_EQ(Run("audit verify").exit_code, 0);
}

}  // namespace
}  // namespace joinedup
