#include <cstdio>
#include <cstdlib>

#include "cli/commands.h"

namespace joinedup::cli {

std::string DefaultDatabaseUrl() {
  const char* env = std::getenv("JOINEDUP_DB");
  return env && *env ? env : "joinedup.db";
}

void ReportFailure(const char* command, const Status& status, int* exit_code) {
  if (status.ok()) return;
  std::fprintf(stderr, "joinedup %s: %s\n", command, status.error().ToString().c_str());
  *exit_code = 1;
}

}  // namespace joinedup::cli
