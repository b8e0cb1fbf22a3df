// Runs the real `joinedup` executable in a per-test scratch directory.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

namespace joinedup::cli_test {

struct CommandRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

class CommandTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  std::string Path(const std::string& name) const { return (dir_ / name).string(); }
  // `args` is passed through the shell as written: quote paths with Quote().
  CommandRun Run(const std::string& args) const;
  static std::string Quote(const std::string& text) { return "'" + text + "'"; }
  static std::string ReadFile(const std::string& path);

  std::filesystem::path dir_;
};

}  // namespace joinedup::cli_test
