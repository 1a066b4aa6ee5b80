// Implementation of SqliteDb (sqlite_db.h).
#include "storage/sqlite_db.h"

#include <sqlite3.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <iterator>
#include <mutex>
#include <atomic>
#include <cctype>
#include <cstring>

namespace duro::storage {

namespace {
constexpr const char* kSchema =
    "CREATE TABLE IF NOT EXISTS _duro_kv(key BLOB PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS _duro_meta(name TEXT PRIMARY KEY, value INTEGER) WITHOUT ROWID;";

// The settings of every connection; see the header for why.
// Order matters. locking_mode=EXCLUSIVE must come before anything touches the database, or a
// WAL database gets a -shm file and shared-memory locking. synchronous=OFF must come before
// journal_mode=WAL: switching a new file to WAL writes its header, and with the default (FULL)
// that write is fsync'd (measured: 2.5 ms per new database instead of microseconds).
constexpr const char* kPragmas =
    "PRAGMA locking_mode=EXCLUSIVE;"
    "PRAGMA synchronous=OFF;"
    "PRAGMA journal_mode=WAL;"
    "PRAGMA wal_autocheckpoint=0;"
    "PRAGMA journal_size_limit=0;"
    "PRAGMA cache_size=-512;";

std::string_view columnBytes(sqlite3_stmt* stmt, int column) {
  const void* data = sqlite3_column_blob(stmt, column);
  int size = sqlite3_column_bytes(stmt, column);
  return data ? std::string_view(static_cast<const char*>(data), static_cast<size_t>(size))
              : std::string_view();
}

void bindBytes(sqlite3_stmt* stmt, int index, std::string_view bytes) {
  sqlite3_bind_blob(stmt, index, bytes.data(), static_cast<int>(bytes.size()), SQLITE_STATIC);
}

// Runs a (cached) statement that returns no rows and resets it: whether it completed.
bool stepDone(sqlite3_stmt* stmt) {
  int rc = sqlite3_step(stmt);
  sqlite3_reset(stmt);
  return rc == SQLITE_DONE;
}

// Whether the schema has an entry called `name` (nullopt if it cannot be read).
std::optional<bool> hasSchemaEntry(sqlite3* db, const char* name) {
  sqlite3_stmt* probe = nullptr;
  std::optional<bool> found;
  if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_schema WHERE name=?1", -1, &probe, nullptr) ==
      SQLITE_OK) {
    sqlite3_bind_text(probe, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(probe);
    if (rc == SQLITE_ROW || rc == SQLITE_DONE) found = rc == SQLITE_ROW;
  }
  sqlite3_finalize(probe);
  return found;
}
}  // namespace

// Process-wide SQLite settings, applied once before SQLite initializes. Without a page-cache
// configuration every connection preallocates 20 pages (~86 KiB) up front; duro keeps hundreds of
// small databases open, so pages are allocated only as used (measured: 139 KiB -> 65 KiB per open
// connection, most of the rest being the 32 KiB WAL index).
namespace {

// A new database is born from a template: the bytes of an empty database already in WAL mode
// with duro's tables. SQLite's own way of creating one makes and deletes a -journal file, and on
// this ext4 creating files right after deleting others is slow (inode allocation skips recently
// deleted inodes): a deleted file per new object cut creation from ~20,000/s to ~900/s.
std::string makeTemplate(const char* schema) {
    std::string bytes;
    static std::atomic<int> counter{0};
    std::filesystem::path path = std::filesystem::temp_directory_path() /
                                 ("duro-template-" + std::to_string(::getpid()) + "-" +
                                  std::to_string(++counter) + ".sqlite");
    sqlite3* db = nullptr;
    if (sqlite3_open(path.c_str(), &db) == SQLITE_OK &&
        sqlite3_exec(db, "PRAGMA journal_mode=WAL;", nullptr, nullptr, nullptr) == SQLITE_OK &&
        sqlite3_exec(db, schema, nullptr, nullptr, nullptr) == SQLITE_OK) {
      sqlite3_close(db);  // checkpoints: everything is in the main file
      db = nullptr;
      std::ifstream in(path, std::ios::binary);
      bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    if (db) sqlite3_close(db);
    std::error_code ec;
    std::filesystem::remove(path, ec);
    return bytes;
}

const std::string& templateImage(SqliteDb::Flavor flavor) {
  // kSqlite: an empty database (one page); "PRAGMA user_version=0" only makes SQLite write it.
  static const std::string keyValue = makeTemplate(kSchema);
  static const std::string sqlite = makeTemplate("PRAGMA user_version=0;");
  return flavor == SqliteDb::Flavor::kSqlite ? sqlite : keyValue;
}

// Writes the template to `path` if no file is there. Any failure is left to SQLite to report.
void createFromTemplate(const std::filesystem::path& path, SqliteDb::Flavor flavor) {
  const std::string& image = templateImage(flavor);
  if (image.empty()) return;
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return;
  bool ok = ::write(fd, image.data(), image.size()) == static_cast<ssize_t>(image.size());
  ::close(fd);
  if (!ok) ::unlink(path.c_str());
}

void configureSqliteOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    sqlite3_config(SQLITE_CONFIG_PAGECACHE, nullptr, 0, 0);
    // Memory statistics put a process-wide mutex on every SQLite allocation; with a connection
    // per object used from several threads it showed up as ~20% of the server's profile.
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  });
}
}  // namespace

Result<std::unique_ptr<SqliteDb>> SqliteDb::open(const std::filesystem::path& path, bool create,
                                                 Flavor flavor) {
  configureSqliteOnce();
  struct stat st{};
  if (!create && ::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return Status::notFound("no database");
    return Status::storage("cannot stat " + path.string() + ": " + std::strerror(errno));
  }
  if (create) createFromTemplate(path, flavor);
  sqlite3* raw = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
  // The VFS lets user SQL run on a pinned clock (user_sql.h).
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, deterministicVfsName());
  std::unique_ptr<SqliteDb> db(new SqliteDb(path, raw));
  if (rc != SQLITE_OK) return db->error("cannot open");
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_db_config(raw, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
  // Keep the -wal file when closing (truncated to nothing: journal_size_limit=0) instead of
  // deleting it, for the same reason as the template: deleting files makes creating them slow.
  int persistWal = 1;
  sqlite3_file_control(raw, "main", SQLITE_FCNTL_PERSIST_WAL, &persistWal);
  if (sqlite3_exec(raw, kPragmas, nullptr, nullptr, nullptr) != SQLITE_OK) {
    return db->error("cannot configure");
  }
  // The tables come with the template; loadAppliedSeq creates them if they are missing.
  sqlite3_wal_hook(raw, &SqliteDb::onWalCommit, db.get());
  // The flavor of an existing file is what it was made with: _duro_meta marks key-value ones.
  if (!hasSchemaEntry(raw, "_duro_meta").value_or(false) && flavor == Flavor::kSqlite) {
    db->flavor_ = Flavor::kSqlite;
  }
  db->kvTableKnown_ = db->flavor_ == Flavor::kKeyValue;
  if (Status s = db->loadAppliedSeq(); !s) return s;
  return db;
}

Status SqliteDb::writeNew(const std::filesystem::path& path, const std::vector<KvOp>& ops,
                          uint64_t seq) {
  configureSqliteOnce();
  sqlite3* raw = nullptr;
  if (sqlite3_open_v2(":memory:", &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) !=
      SQLITE_OK) {
    sqlite3_close(raw);
    return Status::storage("cannot open an in-memory database for " + path.string());
  }
  std::unique_ptr<SqliteDb> db(new SqliteDb(path, raw));
  if (sqlite3_exec(raw, kSchema, nullptr, nullptr, nullptr) != SQLITE_OK) {
    return db->error("cannot create tables for");
  }
  if (Status s = db->apply(ops, seq); !s) return s;
  sqlite3_int64 size = 0;
  unsigned char* image = sqlite3_serialize(raw, "main", &size, 0);
  if (image == nullptr || size < 100) {
    sqlite3_free(image);
    return db->error("cannot serialize");
  }
  // File format read/write versions 2 = WAL mode (https://sqlite.org/fileformat.html, offset 18).
  image[18] = 2;
  image[19] = 2;
  std::filesystem::path tmp = path;
  tmp += ".new";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  bool ok = fd >= 0;
  size_t done = 0;
  while (ok && done < static_cast<size_t>(size)) {
    ssize_t n = ::write(fd, image + done, static_cast<size_t>(size) - done);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) done += static_cast<size_t>(n);
  }
  int err = errno;
  if (fd >= 0) ::close(fd);
  sqlite3_free(image);
  if (ok && ::rename(tmp.c_str(), path.c_str()) != 0) {
    ok = false;
    err = errno;
  }
  if (!ok) {
    ::unlink(tmp.c_str());
    return Status::storage("cannot write " + path.string() + ": " + std::strerror(err));
  }
  return Status::ok();
}

SqliteDb::~SqliteDb() {
  // Not retired: close without touching the database file; the WAL stays and is read back on the
  // next open. Always safe, whatever happens to the machine afterwards.
  closeConnection(/*checkpointOnClose=*/false);
}

int SqliteDb::onWalCommit(void* self, sqlite3*, const char*, int pages) {
  static_cast<SqliteDb*>(self)->walPages_ = pages;
  return SQLITE_OK;
}

Status SqliteDb::error(const char* what) const {
  std::string message = std::string(what) + " " + path_.string() + ": " +
                        (db_ ? sqlite3_errmsg(db_) : "out of memory");
  return Status::storage(message);
}

Status SqliteDb::prepare(sqlite3_stmt** stmt, const char* sql) {
  if (*stmt != nullptr) {
    sqlite3_reset(*stmt);
    sqlite3_clear_bindings(*stmt);
    return Status::ok();
  }
  if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, stmt, nullptr) != SQLITE_OK) {
    return error("cannot prepare a statement for");
  }
  return Status::ok();
}

Status SqliteDb::loadAppliedSeq() {
  if (flavor_ == Flavor::kSqlite) {
    sqlite3_stmt* stmt = nullptr;
    uint64_t low = 0, high = 0;
    if (sqlite3_prepare_v2(db_, "SELECT user_version, application_id FROM pragma_user_version(), "
                                "pragma_application_id()",
                           -1, &stmt, nullptr) != SQLITE_OK) {
      sqlite3_finalize(stmt);
      return error("cannot read the commit sequence of");
    }
    if (sqlite3_step(stmt) == SQLITE_ROW) {
      low = static_cast<uint32_t>(sqlite3_column_int64(stmt, 0));
      high = static_cast<uint32_t>(sqlite3_column_int64(stmt, 1));
    }
    sqlite3_finalize(stmt);
    appliedSeq_ = (high << 32) | low;
    return Status::ok();
  }
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db_, "SELECT value FROM _duro_meta WHERE name='seq'", -1, &stmt,
                              nullptr);
  if (rc != SQLITE_OK) {
    // A database without our tables (e.g. an empty file) has no commits yet.
    sqlite3_finalize(stmt);
    if (sqlite3_exec(db_, kSchema, nullptr, nullptr, nullptr) != SQLITE_OK) {
      return error("cannot create tables in");
    }
    appliedSeq_ = 0;
    return Status::ok();
  }
  rc = sqlite3_step(stmt);
  appliedSeq_ = rc == SQLITE_ROW ? static_cast<uint64_t>(sqlite3_column_int64(stmt, 0)) : 0;
  sqlite3_finalize(stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return error("cannot read");
  return Status::ok();
}

Result<bool> SqliteDb::kvTable(bool create) {
  if (kvTableKnown_) return true;
  if (create) {
    if (Status s = run("CREATE TABLE IF NOT EXISTS _cf_KV(key BLOB PRIMARY KEY, value BLOB NOT NULL) "
                       "WITHOUT ROWID");
        !s) {
      return s;
    }
    kvTableKnown_ = true;
    return true;
  }
  std::optional<bool> exists = hasSchemaEntry(db_, "_cf_KV");
  if (!exists) return error("cannot read the schema of");
  kvTableKnown_ = *exists;
  return kvTableKnown_;
}

Result<std::optional<std::string>> SqliteDb::get(std::string_view key) {
  Result<bool> table = kvTable(/*create=*/false);
  if (!table) return table.status();
  if (!*table) return std::optional<std::string>();
  if (Status s = prepare(&get_, flavor_ == Flavor::kSqlite ? "SELECT value FROM _cf_KV WHERE key=?1"
                                                           : "SELECT value FROM _duro_kv WHERE key=?1");
      !s) {
    return s;
  }
  bindBytes(get_, 1, key);
  int rc = sqlite3_step(get_);
  std::optional<std::string> value;
  if (rc == SQLITE_ROW) value.emplace(columnBytes(get_, 0));
  sqlite3_reset(get_);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return error("cannot read");
  return value;
}

Result<std::optional<int64_t>> SqliteDb::getAlarm() {
  if (flavor_ == Flavor::kSqlite) {
    sqlite3_stmt* stmt = nullptr;
    std::optional<int64_t> alarm;
    if (sqlite3_prepare_v2(db_, "SELECT value FROM _cf_METADATA WHERE key=1", -1, &stmt, nullptr) ==
            SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
      alarm = sqlite3_column_int64(stmt, 0);
    }
    sqlite3_finalize(stmt);  // no such table: no alarm
    return alarm;
  }
  if (Status s = prepare(&getAlarm_, "SELECT value FROM _duro_meta WHERE name='alarm'"); !s) {
    return s;
  }
  int rc = sqlite3_step(getAlarm_);
  std::optional<int64_t> alarm;
  if (rc == SQLITE_ROW) alarm = sqlite3_column_int64(getAlarm_, 0);
  sqlite3_reset(getAlarm_);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return error("cannot read the alarm of");
  return alarm;
}

Status SqliteDb::list(const KeyRange& range,
                      const std::function<bool(std::string_view, std::string_view)>& fn) {
  Result<bool> table = kvTable(/*create=*/false);
  if (!table) return table.status();
  if (!*table) return Status::ok();
  std::string sql = flavor_ == Flavor::kSqlite ? "SELECT key, value FROM _cf_KV"
                                               : "SELECT key, value FROM _duro_kv";
  const char* glue = " WHERE ";
  if (range.lower) {
    sql += glue;
    sql += range.lowerInclusive ? "key >= ?1" : "key > ?1";
    glue = " AND ";
  }
  if (range.upper) {
    sql += glue;
    sql += "key < ?2";
  }
  sql += range.reverse ? " ORDER BY key DESC" : " ORDER BY key";
  if (range.limit) sql += " LIMIT ?3";
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    return error("cannot list");
  }
  if (range.lower) bindBytes(stmt, 1, *range.lower);
  if (range.upper) bindBytes(stmt, 2, *range.upper);
  if (range.limit) sqlite3_bind_int64(stmt, 3, static_cast<sqlite3_int64>(*range.limit));
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    if (!fn(columnBytes(stmt, 0), columnBytes(stmt, 1))) {
      rc = SQLITE_DONE;
      break;
    }
  }
  sqlite3_finalize(stmt);
  if (rc != SQLITE_DONE) return error("cannot list");
  return Status::ok();
}

Status SqliteDb::run(const std::string& sql) {
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
    return error("cannot write to");
  }
  return Status::ok();
}

Status SqliteDb::applyOp(const KvOp& op) {
  bool ok = true;
  const bool sqlite = flavor_ == Flavor::kSqlite;
  switch (op.kind) {
    case KvOp::Kind::kPut:
      if (sqlite) {
        if (Result<bool> table = kvTable(/*create=*/true); !table) return table.status();
      }
      ok = prepare(&put_, sqlite ? "INSERT OR REPLACE INTO _cf_KV(key, value) VALUES(?1, ?2)"
                                 : "INSERT OR REPLACE INTO _duro_kv(key, value) VALUES(?1, ?2)")
               .isOk();
      if (ok) {
        bindBytes(put_, 1, op.key);
        bindBytes(put_, 2, op.value);
        ok = stepDone(put_);
      }
      break;
    case KvOp::Kind::kDelete:
      if (sqlite) {
        Result<bool> table = kvTable(/*create=*/false);
        if (!table) return table.status();
        if (!*table) break;
      }
      ok = prepare(&delete_, sqlite ? "DELETE FROM _cf_KV WHERE key=?1"
                                    : "DELETE FROM _duro_kv WHERE key=?1")
               .isOk();
      if (ok) {
        bindBytes(delete_, 1, op.key);
        ok = stepDone(delete_);
      }
      break;
    case KvOp::Kind::kDeleteAll: {
      if (!sqlite) {
        ok = prepare(&deleteAll_, "DELETE FROM _duro_kv").isOk() && stepDone(deleteAll_);
        break;
      }
      // A SQLite-backed object: every table goes, _cf_KV included (Cloudflare: deleteAll deletes
      // all data); the alarm stays unless a deleteAlarm op follows.
      kvTableKnown_ = false;
      std::vector<std::string> drops;
      sqlite3_stmt* stmt = nullptr;
      if (sqlite3_prepare_v2(db_,
                             "SELECT type, name FROM sqlite_schema WHERE name NOT LIKE "
                             "'sqlite\\_%' ESCAPE '\\' AND name != '_cf_METADATA' AND "
                             "type IN ('table', 'view', 'trigger') AND sql IS NOT NULL",
                             -1, &stmt, nullptr) == SQLITE_OK) {
        while (sqlite3_step(stmt) == SQLITE_ROW) {
          std::string type(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)));
          std::string name(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 1)));
          std::string quoted = "\"";
          for (char c : name) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
          quoted += "\"";
          for (char& c : type) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
          drops.push_back("DROP " + type + " IF EXISTS " + quoted);
        }
      }
      sqlite3_finalize(stmt);
      if (!drops.empty()) {
        // Foreign keys between the dropped tables must not stop the drop.
        std::string sql = "PRAGMA defer_foreign_keys=ON;";
        for (auto it = drops.rbegin(); it != drops.rend(); ++it) sql += *it + ";";
        ok = run(sql).isOk();
      }
      break;
    }
    case KvOp::Kind::kSetAlarm:
      if (sqlite) {
        std::string sql =
            "CREATE TABLE IF NOT EXISTS _cf_METADATA(key INTEGER PRIMARY KEY, value BLOB);"
            "INSERT OR REPLACE INTO _cf_METADATA(key, value) VALUES(1, " +
            std::to_string(op.alarmMs()) + ")";
        ok = run(sql).isOk();
        break;
      }
      ok = prepare(&setAlarm_, "INSERT OR REPLACE INTO _duro_meta(name, value) VALUES('alarm', ?1)")
               .isOk();
      if (ok) {
        sqlite3_bind_int64(setAlarm_, 1, op.alarmMs());
        ok = stepDone(setAlarm_);
      }
      break;
    case KvOp::Kind::kDeleteAlarm:
      if (sqlite) {
        // The alarm is all _cf_METADATA holds: the table goes with it, as it came with it.
        ok = run("DROP TABLE IF EXISTS _cf_METADATA").isOk();
        break;
      }
      ok = prepare(&deleteAlarm_, "DELETE FROM _duro_meta WHERE name='alarm'").isOk() &&
           stepDone(deleteAlarm_);
      break;
    case KvOp::Kind::kSql: {
      // Replay: the exec runs again, exactly as it ran the first time (user_sql.h).
      Result<SqlExecRecord> record = decodeSqlExec(op.key, op.value);
      if (!record) return record.status();
      if (!userSql_) {
        SqlLimits replayLimits;
        replayLimits.maxDatabaseBytes = ~0ull >> 2;  // what was accepted once is never refused
        replayLimits.maxExecMs = int64_t{1} << 40;
        if (Status s = enableUserSql(replayLimits); !s) return s;
      }
      UserSql::Outcome outcome;
      Result<SqlResult> result = userSql_->run(*record, &outcome);
      if (!result.isOk()) {
        return Status::storage("replaying SQL in " + path_.string() + " failed (" +
                               result.status().message() + "): " + record->query);
      }
      return Status::ok();
    }
  }
  if (!ok) return error("cannot write to");
  return Status::ok();
}

Status SqliteDb::apply(const std::vector<KvOp>& ops, uint64_t seq) {
  if (Status s = beginTurn(); !s) return s;
  for (const KvOp& op : ops) {
    if (Status s = applyOp(op); !s) {
      rollbackTurn();
      return s;
    }
  }
  return commitTurn(seq);
}

Status SqliteDb::enableUserSql(const SqlLimits& limits) {
  if (userSql_) return Status::ok();
  auto userSql = std::make_unique<UserSql>();
  if (Status s = userSql->attach(db_, limits); !s) return s;
  userSql_ = std::move(userSql);
  return Status::ok();
}

bool SqliteDb::inTurn() const { return sqlite3_get_autocommit(db_) == 0; }

Status SqliteDb::beginTurn() {
  if (inTurn()) return Status::ok();
  if (Status s = prepare(&begin_, "BEGIN"); !s) return s;
  if (!stepDone(begin_)) return error("cannot begin a transaction in");
  return Status::ok();
}

Status SqliteDb::applyInTurn(const KvOp& op) {
  if (Status s = beginTurn(); !s) return s;
  return applyOp(op);
}

Result<SqlResult> SqliteDb::execUserSql(const SqlExecRecord& record, UserSql::Outcome* outcome) {
  if (!userSql_) return Status::internal("user SQL is not enabled on this database");
  // Reads outside a turn run on their own; a statement that writes needs the turn, so the
  // turn is begun first and ended again if nothing wrote.
  const bool began = !inTurn();
  if (Status s = beginTurn(); !s) return s;
  Result<SqlResult> result = userSql_->run(record, outcome);
  // SQLITE_FULL or ON CONFLICT ROLLBACK may have ended the whole transaction: the caller sees
  // inTurn() false and puts the turn's earlier writes back (ObjectStore::restoreTurn).
  if (began && !outcome->wrote && inTurn()) {
    if (Status s = prepare(&commit_, "COMMIT"); !s) return s;
    stepDone(commit_);
  }
  return result;
}

Status SqliteDb::commitTurn(uint64_t seq) {
  if (Status s = beginTurn(); !s) return s;
  bool ok = storeSeq(seq).isOk();
  if (ok) ok = prepare(&commit_, "COMMIT").isOk() && stepDone(commit_);
  if (!ok) {
    Status failure = error("cannot write to");
    rollbackTurn();
    return failure;
  }
  appliedSeq_ = seq;
  return Status::ok();
}

Status SqliteDb::storeSeq(uint64_t seq) {
  if (flavor_ == Flavor::kSqlite) {
    // Header fields, written in the transaction like any page (see Flavor).
    return run("PRAGMA user_version=" + std::to_string(static_cast<int32_t>(seq & 0xffffffffu)) +
               ";PRAGMA application_id=" + std::to_string(static_cast<int32_t>(seq >> 32)));
  }
  if (Status s = prepare(&setSeq_, "INSERT OR REPLACE INTO _duro_meta(name, value) VALUES('seq', ?1)");
      !s) {
    return s;
  }
  sqlite3_bind_int64(setSeq_, 1, static_cast<sqlite3_int64>(seq));
  return stepDone(setSeq_) ? Status::ok() : error("cannot write to");
}

void SqliteDb::rollbackTurn() {
  kvTableKnown_ = flavor_ == Flavor::kKeyValue;
  if (!inTurn()) return;
  if (prepare(&rollback_, "ROLLBACK").isOk()) stepDone(rollback_);
}

Status SqliteDb::savepoint(int depth) {
  if (Status s = beginTurn(); !s) return s;
  return run("SAVEPOINT duro_" + std::to_string(depth));
}

Status SqliteDb::rollbackToSavepoint(int depth) {
  kvTableKnown_ = flavor_ == Flavor::kKeyValue;
  std::string name = "duro_" + std::to_string(depth);
  return run("ROLLBACK TO " + name + "; RELEASE " + name);
}

Status SqliteDb::releaseSavepoint(int depth) { return run("RELEASE duro_" + std::to_string(depth)); }

Result<uint64_t> SqliteDb::databaseSize() {
  sqlite3_stmt* stmt = nullptr;
  uint64_t size = 0;
  // Pages in use: freed pages (after DROP or DELETE) are not counted, so that deleteAll() brings
  // an object back to the size of an empty database, as on Cloudflare.
  if (sqlite3_prepare_v2(db_,
                         "SELECT (page_count - freelist_count) * page_size FROM pragma_page_count(), "
                         "pragma_freelist_count(), pragma_page_size()",
                         -1, &stmt, nullptr) != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return error("cannot measure");
  }
  if (sqlite3_step(stmt) == SQLITE_ROW) size = static_cast<uint64_t>(sqlite3_column_int64(stmt, 0));
  sqlite3_finalize(stmt);
  return size;
}

Status SqliteDb::checkpoint() {
  int logFrames = 0, checkpointed = 0;
  int rc = sqlite3_wal_checkpoint_v2(db_, "main", SQLITE_CHECKPOINT_PASSIVE, &logFrames,
                                     &checkpointed);
  if (rc != SQLITE_OK) return error("cannot checkpoint");
  return Status::ok();
}

void SqliteDb::close() { closeConnection(/*checkpointOnClose=*/true); }

void SqliteDb::closeConnection(bool checkpointOnClose) {
  if (db_ == nullptr) return;
  for (sqlite3_stmt* stmt : {get_, put_, delete_, deleteAll_, setSeq_, getAlarm_, setAlarm_,
                             deleteAlarm_, begin_, commit_, rollback_}) {
    sqlite3_finalize(stmt);
  }
  get_ = put_ = delete_ = deleteAll_ = setSeq_ = getAlarm_ = setAlarm_ = deleteAlarm_ = nullptr;
  begin_ = commit_ = rollback_ = nullptr;
  // After checkpoint() and a sync, closing finds nothing left to copy and removes the WAL file.
  if (checkpointOnClose) sqlite3_db_config(db_, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 0, nullptr);
  sqlite3_close_v2(db_);
  db_ = nullptr;
}

}  // namespace duro::storage
