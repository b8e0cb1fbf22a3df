// The PostgreSQL backend of Store (private to the store layer; callers use OpenStore).
//
// One libpq connection per Store. Migrations run under a transaction-scoped advisory lock so
// processes opening the same database at once apply each migration exactly once.
//
// A Writer is one transaction. For speed it batches: records are checked at once (validation
// and references, against what the writer has added and what the database holds — so
// kNotFound/kInvalidInput are reported by the Add that caused them and leave nothing behind),
// then streamed with COPY into temporary staging tables and merged with
// INSERT … SELECT … ON CONFLICT (id) DO UPDATE every few thousand records and at Commit.
// A database-side failure (e.g. kConflict for an NHS number already held by another patient)
// is therefore reported by a later Add or by Commit; after any such failure the writer refuses
// further work and its transaction is rolled back when it is destroyed.
//
// The Store must outlive any Writer it returned.
#pragma once

#include <memory>
#include <string>

#include "core/result.h"
#include "store/store.h"

namespace joinedup::store {

// Connects to `url` (a libpq connection URI) and migrates. kUnavailable if the server cannot
// be reached; kConflict if the database's schema is newer than this program.
Result<std::unique_ptr<Store>> OpenPostgresStore(const std::string& url);

}  // namespace joinedup::store
