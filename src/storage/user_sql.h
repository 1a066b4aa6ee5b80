// UserSql: runs the SQL that an object's code passes to `sql.exec()` on the object's SQLite
// connection, inside the guard rails Cloudflare documents: reserved tables, no ATTACH, no
// extensions, no transaction statements, allowed PRAGMAs only, the size limits.
//
// Why it also makes SQL deterministic: duro's durability comes from the shard's commit log
// (shard_storage.cc), which records each writing exec() (query, bindings) and replays it after a
// crash on the database as it was before. Replay must then do exactly what the first run did, so
// the two sources of non-determinism SQLite has are pinned per exec and logged with it: the time
// ('now' in date functions; a VFS wrapper answers SQLite's clock) and random()/randomblob() (a
// seeded generator replaces them).
// Threading: the connection's thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "duro/sql.h"
#include "duro/status.h"
#include "storage/sql_write_counter.h"

struct sqlite3;
struct sqlite3_stmt;

namespace duro::storage {

// Cloudflare's limits for SQLite-backed objects.
struct SqlLimits {
  int maxValueBytes = 2'000'000;       // a string, BLOB or row
  int maxStatementBytes = 100'000;     // the query text
  int maxBoundParameters = 100;
  int maxColumns = 100;                // per table (and per index, result, ORDER BY)
  int maxFunctionArgs = 32;
  int maxLikePatternBytes = 50;
  uint64_t maxDatabaseBytes = 10ull << 30;  // storage per object (configurable)
  // One exec() may run this long (a runaway query, e.g. an endless recursive CTE, would otherwise
  // hold its shard forever); then it fails with SQLITE_INTERRUPT and changes nothing.
  int64_t maxExecMs = 30'000;
};

// One exec() as the commit log records it.
struct SqlExecRecord {
  std::string query;
  std::vector<SqlValue> bindings;
  int64_t timeMs = 0;   // the clock the statements saw
  uint64_t seed = 0;    // the random() sequence they drew from
};
std::string encodeSqlExec(const SqlExecRecord& record);
Result<SqlExecRecord> decodeSqlExec(std::string_view query, std::string_view encoded);

class UserSql {
 public:
  UserSql() = default;
  UserSql(const UserSql&) = delete;
  UserSql& operator=(const UserSql&) = delete;

  // Sets up `db` for user SQL (authorizer, functions, limits). `limits` apply to the user's
  // statements only, never to duro's own. Call once per connection.
  Status attach(sqlite3* db, const SqlLimits& limits);

  // What a run changed, for the log: the statements in query[0, appliedBytes) took effect (all of
  // them after a success; those before the failing one after an error, which itself changed
  // nothing), and whether any of them may have written.
  struct Outcome {
    bool wrote = false;
    size_t appliedBytes = 0;
  };
  // Runs `record.query` with `record.bindings`, pinned to `record.timeMs` and `record.seed`.
  // Errors carry Cloudflare's messages.
  Result<SqlResult> run(const SqlExecRecord& record, Outcome* outcome);

  // Whether user SQL is running (the authorizer applies its rules only then).
  bool active() const { return active_; }

  // For the authorizer and the replaced functions (C callbacks).
  int authorize(int action, const char* a, const char* b, const char* dbName);
  // Nonzero once the running exec() is past its time (SQLite's progress handler).
  int overTime();
  uint64_t nextRandom();

 private:
  Status failure(int rc, std::string_view fallback);
  // Duro's own statement (a savepoint) while user SQL runs: not subject to the authorizer.
  bool internalStep(sqlite3_stmt*& stmt, const char* sql);
  // Tables, indexes, ... whose names have a reserved prefix.
  int64_t reservedSchemaEntries();

  sqlite3* db_ = nullptr;
  SqlLimits limits_;
  bool active_ = false;
  std::string denial_;  // why the authorizer refused the last statement
  uint64_t rng_ = 0;
  std::chrono::steady_clock::time_point deadline_;
  SqlWriteCounter writes_;
  bool readsTable_ = false;   // the statement being prepared reads a user table
  bool altersTable_ = false;  // ... is an ALTER TABLE
  sqlite3_stmt* savepoint_ = nullptr;
  sqlite3_stmt* rollbackTo_ = nullptr;
  sqlite3_stmt* release_ = nullptr;

 public:
  ~UserSql();
};

// The SQLite VFS every duro connection opens with: the default one, with a clock that user SQL can
// pin (see above). Registered once; returns its name.
const char* deterministicVfsName();

}  // namespace duro::storage
