// SqliteDb: one object's SQLite database file (<data>/<namespace>/<id>.sqlite) with the KV table.
//
// How the file is used (see shard_storage.cc for the whole durability design):
//  - WAL journal, locking_mode=EXCLUSIVE (one connection, no -shm file), synchronous=OFF and no
//    automatic checkpoints: a commit only writes WAL frames into the page cache. Durability comes
//    from the shard's commit log, not from SQLite's own syncs.
//  - The database file itself changes only in checkpointAndClose(), run by the shard's retirer
//    thread between two filesystem syncs, so a power cut can never leave it torn.
//  - KV data lives in `_duro_kv`, the commit sequence in `_duro_meta`; the `_duro_` prefix is
//    reserved (user SQL, a later feature, may not touch it).
// Threading: used by one thread at a time; the shard's loop thread, then the retirer thread once
// handed over for closing. Errors come back as Status (kStorage), never as exceptions.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "duro/sql.h"
#include "duro/status.h"
#include "storage/commit_record.h"
#include "storage/user_sql.h"

struct sqlite3;
struct sqlite3_stmt;

namespace duro::storage {

// A key range for list(): lower bound (inclusive or exclusive), upper bound (exclusive).
struct KeyRange {
  std::optional<std::string> lower;
  bool lowerInclusive = true;
  std::optional<std::string> upper;
  bool reverse = false;
  std::optional<size_t> limit;
};

class SqliteDb {
 public:
  // How the database keeps duro's own data.
  //  kKeyValue (key-value-backed objects): tables _duro_kv and _duro_meta (commit sequence, alarm).
  //  kSqlite (SQLite-backed objects, whose users see the schema): as workerd lays it out, only
  //  _cf_KV once a key is stored and _cf_METADATA once an alarm is set; the commit sequence is in
  //  the file header (user_version low 32 bits, application_id high 32 bits), so a new database
  //  is one empty page.
  // An existing file keeps the flavor it was created with (found out at open).
  enum class Flavor : uint8_t { kKeyValue, kSqlite };

  // Opens the database at `path`. With create=false a missing file is kNotFound and nothing is
  // created (objects that are only read leave nothing on disk).
  static Result<std::unique_ptr<SqliteDb>> open(const std::filesystem::path& path, bool create,
                                                Flavor flavor = Flavor::kKeyValue);
  Flavor flavor() const { return flavor_; }
  // Writes a complete database holding `ops` (as commit `seq`) to `path` at once: built in memory,
  // written to a temporary file and renamed into place, already in WAL mode. For objects whose
  // data was only in the commit log; far cheaper than creating the file through SQLite.
  // The caller syncs the filesystem before relying on it.
  static Status writeNew(const std::filesystem::path& path, const std::vector<KvOp>& ops,
                         uint64_t seq);
  ~SqliteDb();
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  const std::filesystem::path& path() const { return path_; }
  // The sequence number of the last commit applied to this database (0 if none).
  uint64_t appliedSeq() const { return appliedSeq_; }
  // Pages currently in the WAL (grows until the database is checkpointed).
  int walPages() const { return walPages_; }

  Result<std::optional<std::string>> get(std::string_view key);
  // The object's alarm time (ms since the epoch), if one is set.
  Result<std::optional<int64_t>> getAlarm();
  // Calls `fn` for each entry in range order; stops early if `fn` returns false.
  Status list(const KeyRange& range,
              const std::function<bool(std::string_view key, std::string_view value)>& fn);
  // Applies `ops` and records `seq` in one transaction (rolled back entirely on error). SQL ops
  // (replayed from the log) run as they ran the first time.
  Status apply(const std::vector<KvOp>& ops, uint64_t seq);

  // ---- SQLite-backed objects: writes go into the database at once, inside the "turn"
  // transaction that commitTurn() ends (with the commit's sequence number) at the flush.
  // Sets up user SQL (authorizer, limits) on this connection; idempotent.
  Status enableUserSql(const SqlLimits& limits);
  bool inTurn() const;
  Status beginTurn();
  // One KV op (put, delete, deleteAll, alarm) inside the turn.
  Status applyInTurn(const KvOp& op);
  // User SQL inside the turn if it writes; `outcome` says what must be logged.
  Result<SqlResult> execUserSql(const SqlExecRecord& record, UserSql::Outcome* outcome);
  Status commitTurn(uint64_t seq);
  void rollbackTurn();
  // Nested transactions (transactionSync, transaction on SQLite-backed objects).
  Status savepoint(int depth);
  Status rollbackToSavepoint(int depth);
  Status releaseSavepoint(int depth);
  // Pages in use times the page size.
  Result<uint64_t> databaseSize();

  // Retirer thread: copies the WAL into the database file (no sync; the caller syncs around it).
  Status checkpoint();
  // Retirer thread, after checkpoint() and a filesystem sync: closes and removes the empty WAL.
  void close();

 private:
  SqliteDb(std::filesystem::path path, sqlite3* db) : path_(std::move(path)), db_(db) {}
  // kSqlite: whether _cf_KV exists (creating it first if `create`).
  Result<bool> kvTable(bool create);
  Status storeSeq(uint64_t seq);
  Status prepare(sqlite3_stmt** stmt, const char* sql);
  Status error(const char* what) const;
  Status loadAppliedSeq();
  Status applyOp(const KvOp& op);
  Status run(const std::string& sql);
  void closeConnection(bool checkpointOnClose);
  static int onWalCommit(void* self, sqlite3*, const char*, int pages);

  std::filesystem::path path_;
  sqlite3* db_;
  uint64_t appliedSeq_ = 0;
  int walPages_ = 0;
  sqlite3_stmt* get_ = nullptr;
  sqlite3_stmt* put_ = nullptr;
  sqlite3_stmt* delete_ = nullptr;
  sqlite3_stmt* deleteAll_ = nullptr;
  sqlite3_stmt* setSeq_ = nullptr;
  sqlite3_stmt* getAlarm_ = nullptr;
  sqlite3_stmt* setAlarm_ = nullptr;
  sqlite3_stmt* deleteAlarm_ = nullptr;
  sqlite3_stmt* begin_ = nullptr;
  sqlite3_stmt* commit_ = nullptr;
  sqlite3_stmt* rollback_ = nullptr;
  std::unique_ptr<UserSql> userSql_;
  Flavor flavor_ = Flavor::kKeyValue;
  bool kvTableKnown_ = false;  // kSqlite: _cf_KV is known to exist (reset when it may be gone)
};

}  // namespace duro::storage
