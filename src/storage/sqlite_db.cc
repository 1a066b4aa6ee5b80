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
const std::string& templateImage() {
  static const std::string image = [] {
    std::string bytes;
    std::filesystem::path path = std::filesystem::temp_directory_path() /
                                  ("duro-template-" + std::to_string(::getpid()) + ".sqlite");
    sqlite3* db = nullptr;
    if (sqlite3_open(path.c_str(), &db) == SQLITE_OK &&
        sqlite3_exec(db, "PRAGMA journal_mode=WAL;", nullptr, nullptr, nullptr) == SQLITE_OK &&
        sqlite3_exec(db, kSchema, nullptr, nullptr, nullptr) == SQLITE_OK) {
      sqlite3_close(db);  // checkpoints: everything is in the main file
      db = nullptr;
      std::ifstream in(path, std::ios::binary);
      bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    if (db) sqlite3_close(db);
    std::error_code ec;
    std::filesystem::remove(path, ec);
    return bytes;
  }();
  return image;
}

// Writes the template to `path` if no file is there. Any failure is left to SQLite to report.
void createFromTemplate(const std::filesystem::path& path) {
  const std::string& image = templateImage();
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

Result<std::unique_ptr<SqliteDb>> SqliteDb::open(const std::filesystem::path& path, bool create) {
  configureSqliteOnce();
  struct stat st{};
  if (!create && ::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return Status::notFound("no database");
    return Status::storage("cannot stat " + path.string() + ": " + std::strerror(errno));
  }
  if (create) createFromTemplate(path);
  sqlite3* raw = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
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

Result<std::optional<std::string>> SqliteDb::get(std::string_view key) {
  if (Status s = prepare(&get_, "SELECT value FROM _duro_kv WHERE key=?1"); !s) return s;
  bindBytes(get_, 1, key);
  int rc = sqlite3_step(get_);
  std::optional<std::string> value;
  if (rc == SQLITE_ROW) value.emplace(columnBytes(get_, 0));
  sqlite3_reset(get_);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return error("cannot read");
  return value;
}

Result<std::optional<int64_t>> SqliteDb::getAlarm() {
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
  std::string sql = "SELECT key, value FROM _duro_kv";
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

Status SqliteDb::apply(const std::vector<KvOp>& ops, uint64_t seq) {
  auto step = [&](sqlite3_stmt* stmt) {
    int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    return rc == SQLITE_DONE;
  };
  if (Status s = prepare(&begin_, "BEGIN"); !s) return s;
  if (!step(begin_)) return error("cannot begin a transaction in");
  bool ok = true;
  for (const KvOp& op : ops) {
    switch (op.kind) {
      case KvOp::Kind::kPut:
        ok = prepare(&put_, "INSERT OR REPLACE INTO _duro_kv(key, value) VALUES(?1, ?2)").isOk();
        if (ok) {
          bindBytes(put_, 1, op.key);
          bindBytes(put_, 2, op.value);
          ok = step(put_);
        }
        break;
      case KvOp::Kind::kDelete:
        ok = prepare(&delete_, "DELETE FROM _duro_kv WHERE key=?1").isOk();
        if (ok) {
          bindBytes(delete_, 1, op.key);
          ok = step(delete_);
        }
        break;
      case KvOp::Kind::kDeleteAll:
        ok = prepare(&deleteAll_, "DELETE FROM _duro_kv").isOk() && step(deleteAll_);
        break;
      case KvOp::Kind::kSetAlarm:
        ok = prepare(&setAlarm_,
                     "INSERT OR REPLACE INTO _duro_meta(name, value) VALUES('alarm', ?1)")
                 .isOk();
        if (ok) {
          sqlite3_bind_int64(setAlarm_, 1, op.alarmMs());
          ok = step(setAlarm_);
        }
        break;
      case KvOp::Kind::kDeleteAlarm:
        ok = prepare(&deleteAlarm_, "DELETE FROM _duro_meta WHERE name='alarm'").isOk() &&
             step(deleteAlarm_);
        break;
    }
    if (!ok) break;
  }
  if (ok) {
    ok = prepare(&setSeq_, "INSERT OR REPLACE INTO _duro_meta(name, value) VALUES('seq', ?1)")
             .isOk();
    if (ok) {
      sqlite3_bind_int64(setSeq_, 1, static_cast<sqlite3_int64>(seq));
      ok = step(setSeq_);
    }
  }
  if (ok) {
    ok = prepare(&commit_, "COMMIT").isOk() && step(commit_);
  }
  if (!ok) {
    Status failure = error("cannot write to");
    if (prepare(&rollback_, "ROLLBACK").isOk()) step(rollback_);
    return failure;
  }
  appliedSeq_ = seq;
  return Status::ok();
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
