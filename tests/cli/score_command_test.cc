// `joinedup score` end to end, through the real executable.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "cli_test_support.h"

namespace joinedup::cli_test {
namespace {

class ScoreCommandTest : public CommandTest {
 protected:
  CommandRun Score(const std::string& args) const { return Run("score " + args); }
};

TEST_F(ScoreCommandTest, ScoresAFile) {
  std::ofstream(Path("in.csv")) << "id,code\n7,I21.0\n7,I50.0\n8,C78\n";
  const CommandRun run = Score("charlson --input '" + Path("in.csv") + "' --out '" +
                               Path("out.csv") + "' --threads 2");
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.err.find("3 rows, 2 people"), std::string::npos) << run.err;
  const std::string out = ReadFile(Path("out.csv"));
  EXPECT_NE(out.find("\n7,2,2,1,1,0"), std::string::npos) << out;
  EXPECT_NE(out.find("\n8,6,6,"), std::string::npos) << out;
}

TEST_F(ScoreCommandTest, UnknownScoreNameIsAUsageError) {
  std::ofstream(Path("in.csv")) << "1,I21\n";
  const CommandRun run =
      Score("frailty --input '" + Path("in.csv") + "' --out '" + Path("out.csv") + "'");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("unknown score 'frailty' (expected charlson, elixhauser or hfrs)"),
            std::string::npos)
      << run.err;
  EXPECT_FALSE(std::filesystem::exists(Path("out.csv")));
}

TEST_F(ScoreCommandTest, BadEmptyAndMissingInputsNameThePlace) {
  std::ofstream(Path("bad.csv")) << "id,code\n1,I21\n2,I22,extra\n";
  CommandRun run = Score("hfrs --input '" + Path("bad.csv") + "' --out '" + Path("out.csv") + "'");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find(Path("bad.csv") + ":3: expected 2 fields (id,code), found 3"),
            std::string::npos)
      << run.err;

  std::ofstream(Path("empty.csv")) << "";
  run = Score("elixhauser --input '" + Path("empty.csv") + "' --out '" + Path("out.csv") + "'");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find(Path("empty.csv") + ": empty file"), std::string::npos) << run.err;

  run = Score("charlson --input '" + Path("missing.csv") + "' --out '" + Path("out.csv") + "'");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("cannot open '" + Path("missing.csv") + "': No such file or directory"),
            std::string::npos)
      << run.err;
  EXPECT_FALSE(std::filesystem::exists(Path("out.csv")));

  run = Score("charlson --input '" + Path("bad.csv") + "'");  // --out missing: CLI11's own error
  EXPECT_NE(run.exit_code, 0);
  EXPECT_NE(run.err.find("--out"), std::string::npos) << run.err;
}

}  // namespace
}  // namespace joinedup::cli_test
