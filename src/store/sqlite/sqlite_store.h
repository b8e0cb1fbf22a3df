// The SQLite backend of Store (private to the store layer; callers use OpenStore).
//
// One connection per Store, opened with journal_mode=WAL (readers in other connections see
// the last commit while a writer works), foreign_keys=ON, synchronous=NORMAL (durable at
// checkpoints, never corrupt), a 5 s busy timeout and no memory map (under a stream of commits
// SQLite unmaps and maps the whole file again at each read transaction: see Configure). A Writer is
// one IMMEDIATE transaction (it takes the write lock when it begins) with statements prepared once
// and reused. While a Writer is open its connection's foreign key enforcement is suspended: the
// Writer checks every reference itself before writing (as the Writer contract requires) and
// SQLite's own check would double the cost of each insert. Enforcement is restored when the Writer
// ends.
//
// The Store must outlive any Writer it returned.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"
#include "store/store.h"

namespace joinedup::store {

// Opens (creating if needed) and migrates the SQLite database at `path` (":memory:" for a
// private in-memory one). kUnavailable if it cannot be opened; kConflict if its schema is
// newer than this program.
Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path);

// For tests: the value of `PRAGMA <name>` on the store's own connection (per-connection
// settings such as foreign_keys cannot be observed from another connection). `store` must
// have come from OpenSqliteStore; `name` must be a bare identifier.
Result<std::string> SqlitePragma(Store& store, std::string_view name);

// For tests: `observer` sees the text of every statement the store's shared SQL runs (an empty
// function stops it), and SqliteQueryPlan gives EXPLAIN QUERY PLAN's details for `sql` on the
// store's connection, one line each (parameters unbound) — so a test can check that the
// statements searches really run are served by indexes.
Status SqliteObserveQueries(Store& store, std::function<void(std::string_view sql)> observer);
Result<std::string> SqliteQueryPlan(Store& store, std::string_view sql);

}  // namespace joinedup::store
