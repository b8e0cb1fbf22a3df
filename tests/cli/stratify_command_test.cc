// `joinedup stratify`, `runs`, `movement` and `worklist` end to end through the real binary.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <string>

#include "cli_test_support.h"

namespace joinedup::cli_test {
namespace {

class StratifyCommandTest : public CommandTest {
 protected:
  void SetUp() override {
    CommandTest::SetUp();
    const CommandRun run =
        Run("generate --db pop.db --patients 2000 --practices 2 --seed 5 --as-of 2026-03-31");
    ASSERT_EQ(run.exit_code, 0) << run.err;
  }
  static int Lines(const std::string& text) {
    return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
  }
};

TEST_F(StratifyCommandTest, StratifiesStoresTheRunAndWritesOneRowPerPerson) {
  CommandRun run = Run("stratify --db pop.db --as-of 2026-03-31 --out people.csv");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("Population pyramid"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("costliest  5% use"), std::string::npos);
  EXPECT_NE(run.out.find("Segments of mcmw"), std::string::npos);
  EXPECT_NE(run.out.find("Segments of south_worcestershire"), std::string::npos);
  EXPECT_NE(run.out.find("Stored as run 1."), std::string::npos);

  const std::string csv = ReadFile(Path("people.csv"));
  EXPECT_EQ(csv.rfind("nhs_number,practice,age,ltc_count,efi,efi_category,hfrs,hfrs_category,"
                      "charlson_1987,charlson_quan2011,elixhauser,admission_risk,"
                      "annual_cost_pence,segment:mcmw,segment:south_worcestershire,reasons\n",
                      0),
            0u)
      << csv.substr(0, 300);
  // One row per living person: the summary's count.
  const size_t at = run.out.find(" living people");
  ASSERT_NE(at, std::string::npos);
  const size_t start = run.out.rfind(' ', at - 1) + 1;
  EXPECT_EQ(Lines(csv) - 1, std::stoi(run.out.substr(start, at - start)));
  EXPECT_NE(csv.find("\"{\"\"mcmw\"\":{\"\"model\"\":\"\"mcmw\"\""), std::string::npos);

  // The first person's history: this one run, with both models' segments.
  const size_t row = csv.find('\n') + 1;
  const std::string nhs_number = csv.substr(row, csv.find(',', row) - row);
  ASSERT_EQ(nhs_number.size(), 10u) << nhs_number;
  run = Run("history --db pop.db " + nhs_number);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find(": 1 stratification run(s)"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("south_worcestershire: Group"), std::string::npos) << run.out;
  run = Run("history --db pop.db 9434765919");  // valid, but nobody here has it
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("no patient has NHS number 943 476 5919"), std::string::npos) << run.err;

  run = Run("runs --db pop.db");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("2026-03-31"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("mcmw 1.0, south_worcestershire 1.0"), std::string::npos) << run.out;
}

TEST_F(StratifyCommandTest, MovementAndWorklistWorkFromStoredRuns) {
  ASSERT_EQ(Run("stratify --db pop.db --as-of 2025-03-31").exit_code, 0);
  ASSERT_EQ(Run("stratify --db pop.db --as-of 2026-03-31").exit_code, 0);
  CommandRun run = Run("movement --db pop.db --out risers.csv");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("Movement from run 1 (2025-03-31) to run 2 (2026-03-31)"),
            std::string::npos)
      << run.out;
  EXPECT_NE(run.out.find("from \\ to"), std::string::npos);
  EXPECT_NE(run.out.find("people whose risk rose"), std::string::npos);
  EXPECT_EQ(ReadFile(Path("risers.csv")).rfind("nhs_number,patient_id,practice,rises\n", 0), 0u);

  run = Run("worklist --db pop.db --model mcmw --top-percent 5 --out worklist.csv");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("Worklist from run 2 (2026-03-31)"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("SYN001:"), std::string::npos) << run.out;
  EXPECT_GT(Lines(ReadFile(Path("worklist.csv"))), 1);

  EXPECT_EQ(Run("worklist --db pop.db").exit_code, 2);  // no criterion
  run = Run("worklist --db pop.db --model nosuch");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("--model nosuch"), std::string::npos) << run.err;
}

TEST_F(StratifyCommandTest, ABadModelFileNamesThePlaceAndStoresNoRun) {
  std::ofstream(Path("bad.model"))
      << "model: bad\nversion: 1\nsegment a \"A\" when frailness > 3\n";
  CommandRun run = Run("stratify --db pop.db --model bad.model");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("bad.model:3:"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("frailness"), std::string::npos) << run.err;
  run = Run("runs --db pop.db");
  EXPECT_NE(run.out.find("No stratification runs yet"), std::string::npos) << run.out;

  // An unwritable --out also stores nothing.
  run = Run("stratify --db pop.db --out no/such/dir/people.csv");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("no/such/dir/people.csv"), std::string::npos) << run.err;
  EXPECT_NE(Run("runs --db pop.db").out.find("No stratification runs yet"), std::string::npos);

  run = Run("movement --db pop.db");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("0 stored run(s)"), std::string::npos) << run.err;
}

// A case-management team's day, as the demo builds it: a caseload seeded from the run, its care
// work written as the coordinators, then the escalation rules — which raise each trigger once,
// and refuse a rule that does not exist by name.
TEST_F(StratifyCommandTest, CaseloadCareWorkAndEscalation) {
  ASSERT_EQ(Run("stratify --db pop.db --as-of 2025-09-30").exit_code, 0);
  ASSERT_EQ(Run("stratify --db pop.db --as-of 2026-03-31").exit_code, 0);
  // `user add` reads the password from standard input (Run gives the command /dev/null).
  for (const char* user : {"cm-a", "cm-b"}) {
    CommandRun added = Run(std::string("--version > /dev/null; { printf 'a-long-password-123!\\n' | ") +
                           Quote(JOINEDUP_EXECUTABLE) + " user add --db pop.db --username " + user +
                           " --role case-manager --organisation RYG --organisation-name Trust"
                           " --organisation-kind community_trust; }");
    ASSERT_EQ(added.exit_code, 0) << added.err;
  }
  CommandRun team = Run("careteam add --db pop.db --name North --organisation RYG --member cm-a "
                        "--member cm-b");
  ASSERT_EQ(team.exit_code, 0) << team.err;
  ASSERT_EQ(Run("caseload capacity --db pop.db --team 1 --capacity 40").exit_code, 0);
  CommandRun seeded = Run("caseload seed --db pop.db --team 1 --fill 1 --waiting 2");
  ASSERT_EQ(seeded.exit_code, 0) << seeded.err;
  EXPECT_NE(seeded.out.find("40 enrolled with 2 coordinator(s), 2 waiting"), std::string::npos)
      << seeded.out;
  CommandRun work = Run("caseload care-work --db pop.db --team 1 --plans 1");
  ASSERT_EQ(work.exit_code, 0) << work.err;
  EXPECT_NE(work.out.find("40 care plans"), std::string::npos) << work.out;
  EXPECT_NE(work.out.find("80 open tasks"), std::string::npos) << work.out;

  CommandRun first = Run("escalate --db pop.db --as-of 2026-03-31");
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_NE(first.out.find("(42 people on caseloads; 0 raised before)"), std::string::npos)
      << first.out;
  const size_t raised_at = first.out.find(": ") + 2;
  const long long raised = std::stoll(first.out.substr(raised_at));
  EXPECT_GT(raised, 0) << first.out;
  CommandRun again = Run("escalate --db pop.db --as-of 2026-03-31");
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("escalation: 0 raised (42 people on caseloads; " +
                           std::to_string(raised) + " raised before)"),
            std::string::npos)
      << again.out;

  CommandRun bad = Run("escalate --db pop.db --rule no-such-rule");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("--rule: no rule \"no-such-rule\""), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace joinedup::cli_test
