#include <cstdlib>

#include "cli/commands.h"

namespace joinedup::cli {

std::string DefaultDatabaseUrl() {
  const char* env = std::getenv("JOINEDUP_DB");
  return env && *env ? env : "joinedup.db";
}

}  // namespace joinedup::cli
