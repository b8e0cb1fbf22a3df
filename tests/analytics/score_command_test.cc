// `joinedup score` end to end through the command-line parser (score_driver_main.cc).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace {

struct CommandRun {
  int exit_code = -1;
  std::string err;
};

class ScoreCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("ju_score_cli_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  CommandRun Score(const std::string& args) const {
    const std::string err = Path("stderr.txt");
    const std::string command = std::string("'") + JOINEDUP_SCORE_DRIVER + "' score " + args +
                                " 2>'" + err + "' >/dev/null";
    const int status = std::system(command.c_str());
    CommandRun run;
    run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::stringstream s;
    s << std::ifstream(err).rdbuf();
    run.err = s.str();
    return run;
  }

  std::filesystem::path dir_;
};

TEST_F(ScoreCommandTest, ScoresAFile) {
  std::ofstream(Path("in.csv")) << "id,code\n7,I21.0\n7,I50.0\n8,C78\n";
  const CommandRun run = Score("charlson --input '" + Path("in.csv") + "' --out '" +
                               Path("out.csv") + "' --threads 2");
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.err.find("3 rows, 2 people"), std::string::npos) << run.err;
  std::stringstream out;
  out << std::ifstream(Path("out.csv")).rdbuf();
  EXPECT_NE(out.str().find("\n7,2,2,1,1,0"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("\n8,6,6,"), std::string::npos) << out.str();
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
