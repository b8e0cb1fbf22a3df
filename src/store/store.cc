// OpenStore: the one place that maps a store URL to a backend.
#include <string>

#include "store/postgres/postgres_store.h"
#include "store/sqlite/sqlite_store.h"
#include "store/store.h"

namespace joinedup::store {

Result<std::unique_ptr<Store>> OpenStore(std::string_view url) {
  if (url.empty()) return Error::Invalid("store URL is empty");
  if (url.starts_with("postgresql://") || url.starts_with("postgres://"))
    return OpenPostgresStore(std::string(url));
  std::string_view path = url;
  if (url.starts_with("sqlite:")) {
    path.remove_prefix(std::string_view("sqlite:").size());
    if (path.empty()) return Error::Invalid("store URL \"sqlite:\" names no file");
  } else if (auto scheme = url.find("://"); scheme != std::string_view::npos) {
    // Something like mysql://… is a mistake, not a file name to create.
    return Error::Invalid("store URL \"" + std::string(url) +
                          "\" has an unknown scheme; use postgresql://…, sqlite:PATH or a path");
  }
  return OpenSqliteStore(std::string(path));
}

}  // namespace joinedup::store
