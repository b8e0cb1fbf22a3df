// `joinedup generate`, `import` and `report` end to end, through the real executable: the
// README's main job on a small population, and the exit codes scripts rely on.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <string>

#include "cli_test_support.h"

namespace joinedup::cli_test {
namespace {

class PopulationCommandTest : public CommandTest {
 protected:
  void Generate(const std::string& where) {
    const CommandRun run =
        Run("generate --patients 300 --practices 3 --seed 11 --as-of 2026-03-31 " + where);
    ASSERT_EQ(run.exit_code, 0) << run.err;
    ASSERT_NE(run.out.find("Generated 300 patients in 3 practices"), std::string::npos) << run.out;
  }
  // The "total" row of an import report: read, imported, skipped, rejected.
  static std::string TotalRow(const std::string& out) {
    std::smatch m;
    std::regex_search(out, m, std::regex(R"(total\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+))"));
    return m.empty() ? "" : m[1].str() + " " + m[2].str() + " " + m[3].str() + " " + m[4].str();
  }
  // Replaces the NHS number on the `n`th (1-based) line of Patient.ndjson with one that fails
  // the Modulus 11 check (943 476 5919 is valid; …5918 is not).
  void CorruptNhsNumber(const std::string& dir, int n) {
    const std::string path = dir + "/Patient.ndjson";
    std::ifstream in(path);
    std::string text, line;
    for (int i = 1; std::getline(in, line); ++i) {
      if (i == n)
        line = std::regex_replace(line, std::regex(R"("value":"999\d{7}")"),
                                  R"("value":"9434765918")");
      text += line + "\n";
    }
    std::ofstream(path, std::ios::trunc) << text;
  }
};

TEST_F(PopulationCommandTest, GeneratesImportsAndReports) {
  Generate("--out fhir");
  for (const char* type : {"Organization", "Patient", "Encounter", "Condition", "MedicationRequest",
                           "ChargeItem", "Observation"})
    EXPECT_TRUE(std::filesystem::exists(Path(std::string("fhir/") + type + ".ndjson"))) << type;
  EXPECT_TRUE(std::filesystem::exists(Path("fhir/manifest.json")));

  CommandRun run = Run("import --db pop.db fhir");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const std::string totals = TotalRow(run.out);
  ASSERT_FALSE(totals.empty()) << run.out;
  EXPECT_NE(run.out.find("Patient                     300        300"), std::string::npos)
      << run.out;
  EXPECT_NE(totals.find(" 0 0"), std::string::npos) << "nothing skipped or rejected: " << totals;

  run = Run("report --db pop.db --as-of 2026-03-31");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("3 practices, 300 patients"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("Registered people per practice"), std::string::npos);
  EXPECT_NE(run.out.find("SYN001"), std::string::npos);
  EXPECT_NE(run.out.find("Registered people by age band"), std::string::npos);
  EXPECT_NE(run.out.find("Top 15 recorded conditions"), std::string::npos);

  // Importing the same files again updates: the report's counts do not change.
  const std::string first_report = run.out;
  ASSERT_EQ(Run("import --db pop.db fhir").exit_code, 0);
  EXPECT_EQ(Run("report --db pop.db --as-of 2026-03-31").out, first_report);
}

TEST_F(PopulationCommandTest, GeneratingIntoTheStoreMatchesImportingTheFiles) {
  Generate("--out fhir --db direct.db");
  ASSERT_EQ(Run("import --db imported.db fhir").exit_code, 0);
  const CommandRun direct = Run("report --db direct.db --as-of 2026-03-31");
  const CommandRun imported = Run("report --db imported.db --as-of 2026-03-31");
  ASSERT_EQ(direct.exit_code, 0) << direct.err;
  EXPECT_EQ(direct.out, imported.out);
}

TEST_F(PopulationCommandTest, AnImportWithAnErrorChangesNothingAndNamesThePlace) {
  Generate("--out fhir");
  CorruptNhsNumber(Path("fhir"), 7);
  CommandRun run = Run("import --db pop.db fhir");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("Patient.ndjson:7: Patient/"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("identifier[0].value"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("nothing was imported"), std::string::npos) << run.err;
  run = Run("report --db pop.db --as-of 2026-03-31");
  EXPECT_NE(run.out.find("0 practices, 0 patients"), std::string::npos) << run.out;

  // --max-errors 0 lists none and counts them all (the person's own records are refused too).
  run = Run("import --db pop.db --max-errors 0 fhir");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.err.find("Patient.ndjson:7"), std::string::npos) << run.err;
  std::smatch more, total;
  ASSERT_TRUE(std::regex_search(run.err, more, std::regex(R"(… and (\d+) more problems)")))
      << run.err;
  ASSERT_TRUE(std::regex_search(run.err, total, std::regex(R"((\d+) problem\(s\); nothing)")));
  EXPECT_EQ(more[1].str(), total[1].str());

  // --skip-invalid imports the rest, refuses that person (and their records), exits 3.
  run = Run("import --db pop.db --skip-invalid --rejects rejects.ndjson fhir");
  EXPECT_EQ(run.exit_code, 3) << run.err;
  EXPECT_NE(ReadFile(Path("rejects.ndjson")).find("Modulus 11"), std::string::npos);
  run = Run("report --db pop.db --as-of 2026-03-31");
  EXPECT_NE(run.out.find("3 practices, 299 patients"), std::string::npos) << run.out;
}

TEST_F(PopulationCommandTest, UsageErrorsExitTwo) {
  CommandRun run = Run("generate --patients 10");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("--out DIR and/or --db URL"), std::string::npos) << run.err;
  run = Run("import --db x.db --rejects r.ndjson somewhere");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("--rejects needs --skip-invalid"), std::string::npos) << run.err;
  run = Run("report --db x.db --as-of 2026-02-30");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("--as-of"), std::string::npos) << run.err;
  EXPECT_NE(Run("no-such-command").exit_code, 0);
}

TEST_F(PopulationCommandTest, AMissingPathIsAnErrorNotACrash) {
  const CommandRun run = Run("import --db pop.db nowhere");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("nowhere"), std::string::npos) << run.err;
}

}  // namespace
}  // namespace joinedup::cli_test
