#include "cli_test_support.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace joinedup::cli_test {

void CommandTest::SetUp() {
  dir_ = std::filesystem::temp_directory_path() /
         ("ju_cli_" + std::to_string(::getpid()) + "_" +
          ::testing::UnitTest::GetInstance()->current_test_info()->name());
  std::filesystem::remove_all(dir_);
  std::filesystem::create_directories(dir_);
}

void CommandTest::TearDown() { std::filesystem::remove_all(dir_); }

std::string CommandTest::ReadFile(const std::string& path) {
  std::stringstream s;
  s << std::ifstream(path, std::ios::binary).rdbuf();
  return s.str();
}

CommandRun CommandTest::Run(const std::string& args) const {
  const std::string out = Path("stdout.txt"), err = Path("stderr.txt");
  // Not a terminal, so progress bars stay quiet; JOINEDUP_DB unset so --db defaults are local.
  const std::string command = "cd " + Quote(dir_.string()) + " && env -u JOINEDUP_DB " +
                              Quote(JOINEDUP_EXECUTABLE) + " " + args + " >" + Quote(out) + " 2>" +
                              Quote(err) + " </dev/null";
  const int status = std::system(command.c_str());
  CommandRun run;
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  run.out = ReadFile(out);
  run.err = ReadFile(err);
  return run;
}

}  // namespace joinedup::cli_test
