// Tests for the SQL API of SQLite-backed objects (ObjectStore with sqlBacked, SqliteDb's turn,
// UserSql): values, gating and coalescing with KV writes, exact replay from the commit log
// (random(), the clock, failed scripts, rolled-back transactions), transactionSync, what user SQL
// may not touch, the database size limit, and synchronous calls on a database being retired.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "storage/recovery.h"
#include "storage/store_test_fixture.h"

namespace duro::storage {
namespace {

// Every row of a query, as text, for comparing databases.
std::string dump(ObjectStore& s, const std::string& query) {
  SqlResult r = s.sql()->exec(query);
  std::string out;
  for (const auto& row : r.rows) {
    for (const SqlValue& v : row) {
      if (const auto* i = std::get_if<int64_t>(&v)) out += "i" + std::to_string(*i);
      else if (const auto* d = std::get_if<double>(&v)) out += "d" + std::to_string(*d);
      else if (const auto* t = std::get_if<std::string>(&v)) out += "t" + *t;
      else if (const auto* b = std::get_if<SqlBlob>(&v)) out += "b" + std::to_string(b->bytes.size()) + ":" + b->bytes;
      else out += "null";
      out += "|";
    }
    out += "\n";
  }
  return out;
}

std::string errorOf(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.status().message();
  }
  return "no error";
}

class SqlStoreTest : public StoreTest {
 protected:
  void waitSqlDurable() {
    ASSERT_TRUE(runUntil([&] { return hooks_.durable == hooks_.issued && !sqlStore().busy(); }));
  }
  // Stops the shard as a crash would leave it (the log kept), loses the object's database files
  // if asked, and recovers: the log alone must rebuild them.
  void crashAndRecover(bool loseDatabase) {
    std::filesystem::copy(dir_ / ".commit-log", dir_ / "log-copy");
    stores_.clear();
    shard_.reset();
    std::filesystem::remove_all(dir_ / ".commit-log");
    std::filesystem::rename(dir_ / "log-copy", dir_ / ".commit-log");
    if (loseDatabase) {
      for (const char* suffix : {"", "-wal"}) std::filesystem::remove(dbPath(100).string() + suffix);
    }
    Result<RecoveryResult> r = recoverCommitLog(dir_);
    ASSERT_TRUE(r.isOk()) << r.status().toString();
    openShard({.firstLogGeneration = r->nextGeneration});
  }
};

TEST_F(SqlStoreTest, KeyValueObjectsHaveNoSql) {
  EXPECT_EQ(store().sql(), nullptr);
  EXPECT_EQ(store().kv(), nullptr);
  ASSERT_NE(sqlStore().sql(), nullptr);
}

TEST_F(SqlStoreTest, ValuesRoundTripExactly) {
  SqlStorage& sql = *sqlStore().sql();
  sql.exec("CREATE TABLE t(i INTEGER, d REAL, s TEXT, b BLOB, n)");
  sql.exec("INSERT INTO t VALUES (?, ?, ?, ?, ?)",
           {int64_t{9007199254740993}, 2.5, std::string("héllo"), SqlBlob{std::string("\0\1\2", 3)},
            nullptr});
  SqlResult r = sql.exec("SELECT * FROM t");
  EXPECT_EQ(r.columnNames, (std::vector<std::string>{"i", "d", "s", "b", "n"}));
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(std::get<int64_t>(r.rows[0][0]), 9007199254740993);  // beyond 2^53, exact in C++
  EXPECT_EQ(std::get<double>(r.rows[0][1]), 2.5);
  EXPECT_EQ(std::get<std::string>(r.rows[0][2]), "héllo");
  EXPECT_EQ(std::get<SqlBlob>(r.rows[0][3]).bytes, std::string("\0\1\2", 3));
  EXPECT_TRUE(std::holds_alternative<std::nullptr_t>(r.rows[0][4]));
  EXPECT_EQ(r.rowsRead, 1u);
}

TEST_F(SqlStoreTest, SqlAndKvWritesCommitTogetherBehindTheOutputGate) {
  ObjectStore& s = sqlStore();
  s.sql()->exec("CREATE TABLE t(v)");
  s.sql()->exec("INSERT INTO t VALUES (1)");
  s.kv()->put("k", "v");
  EXPECT_GT(hooks_.issued, 0u);
  EXPECT_EQ(hooks_.durable, 0u);  // outputs wait for the log
  // A read-only exec writes nothing and takes no write number.
  uint64_t issued = hooks_.issued;
  EXPECT_EQ(dump(s, "SELECT v FROM t"), "i1|\n");
  EXPECT_EQ(hooks_.issued, issued);
  waitSqlDurable();
  EXPECT_EQ(shard_->stats().commits, 1u);  // one atomic commit
  openShard();
  EXPECT_EQ(dump(sqlStore(), "SELECT v FROM t"), "i1|\n");
  EXPECT_EQ(sqlStore().kv()->get("k"), "v");
}

TEST_F(SqlStoreTest, ReplayRebuildsTheSameDatabase) {
  ObjectStore& s = sqlStore();
  s.sql()->exec("CREATE TABLE t(id INTEGER PRIMARY KEY, r, blob, at)");
  // What differs from run to run: random values and the clock. Replay must give the same.
  s.sql()->exec("INSERT INTO t(r, blob, at) VALUES (random(), randomblob(16), "
                "strftime('%Y-%m-%d %H:%M:%f', 'now'))");
  waitSqlDurable();
  // A script that fails half-way keeps what ran before the failing statement.
  EXPECT_NE(errorOf([&] {
              s.sql()->exec("INSERT INTO t(r) VALUES (random()); INSERT INTO nope VALUES (1)");
            }),
            "no error");
  // A rolled-back transaction leaves nothing, in the database or the log.
  EXPECT_THROW(s.transactionSync([&] {
    s.sql()->exec("INSERT INTO t(r) VALUES (-1)");
    throw Error(Status::invalidArgument("undo"));
  }),
               Error);
  s.kv()->put("key", "value");
  waitSqlDurable();
  const std::string query = "SELECT id, r, hex(blob), at FROM t ORDER BY id";
  std::string before = dump(s, query);
  EXPECT_EQ(std::count(before.begin(), before.end(), '\n'), 2);
  crashAndRecover(/*loseDatabase=*/true);
  EXPECT_EQ(dump(sqlStore(), query), before);
  EXPECT_EQ(sqlStore().kv()->get("key"), "value");
  // Replaying onto a database that already has the commits changes nothing.
  crashAndRecover(/*loseDatabase=*/false);
  EXPECT_EQ(dump(sqlStore(), query), before);
}

TEST_F(SqlStoreTest, TransactionSyncUndoesSqlAndKvWritesOnThrow) {
  ObjectStore& s = sqlStore();
  s.sql()->exec("CREATE TABLE t(v)");
  s.transactionSync([&] {
    s.sql()->exec("INSERT INTO t VALUES ('outer')");
    EXPECT_THROW(s.transactionSync([&] {
      s.sql()->exec("INSERT INTO t VALUES ('inner')");
      s.kv()->put("inner", "x");
      throw Error(Status::invalidArgument("inner fails"));
    }),
                 Error);
    s.kv()->put("outer", "y");
  });
  EXPECT_EQ(dump(s, "SELECT v FROM t"), "touter|\n");
  EXPECT_EQ(s.kv()->get("inner"), std::nullopt);
  EXPECT_EQ(s.kv()->get("outer"), "y");
  // Nothing but a rolled-back write: outputs still get their (empty) commit.
  s.transactionSync([&] {
    EXPECT_THROW(s.transactionSync([&] {
      s.kv()->put("gone", "z");
      throw Error(Status::invalidArgument("x"));
    }),
                 Error);
  });
  waitSqlDurable();
  openShard();
  EXPECT_EQ(dump(sqlStore(), "SELECT v FROM t"), "touter|\n");
  EXPECT_EQ(sqlStore().kv()->get("gone"), std::nullopt);
}

TEST_F(SqlStoreTest, UserSqlCannotReachDurosDataOrOutsideTheDatabase) {
  ObjectStore& s = sqlStore();
  s.kv()->put("secret", "v");
  s.setAlarm(4102444800000);
  SqlStorage& sql = *s.sql();
  EXPECT_EQ(errorOf([&] { sql.exec("SELECT * FROM _cf_KV"); }),
            "access to _cf_KV.key is prohibited: SQLITE_AUTH");
  for (const char* query :
       {"DELETE FROM _cf_KV", "DROP TABLE _cf_METADATA", "CREATE TABLE _cf_x(a)",
        "ATTACH DATABASE '/tmp/x.db' AS x", "PRAGMA writable_schema=1", "PRAGMA journal_mode=DELETE",
        "PRAGMA max_page_count=1", "CREATE TEMP TABLE t(a)"}) {
    EXPECT_NE(errorOf([&] { sql.exec(query); }).find("not authorized"), std::string::npos) << query;
  }
  EXPECT_NE(errorOf([&] { sql.exec("SELECT load_extension('/tmp/x.so')"); }).find("not authorized"),
            std::string::npos);
  EXPECT_NE(errorOf([&] { sql.exec("BEGIN"); }).find("please use the state.storage.transaction()"),
            std::string::npos);
  sql.exec("CREATE TABLE t(a)");
  EXPECT_EQ(errorOf([&] { sql.exec("ALTER TABLE t RENAME TO _cf_t"); }), "not authorized: SQLITE_AUTH");
  EXPECT_EQ(dump(s, "SELECT name FROM sqlite_schema WHERE name = 't'"), "tt|\n");
  EXPECT_EQ(s.kv()->get("secret"), "v");
  EXPECT_EQ(await(s.getAlarm()), 4102444800000);
}

TEST_F(SqlStoreTest, TheSizeLimitGivesSqliteFullAndKeepsTheObjectUsable) {
  ShardStorageOptions options;
  options.sqlLimits.maxDatabaseBytes = 256 * 1024;
  openShard(options);
  ObjectStore& s = sqlStore();
  s.sql()->exec("CREATE TABLE big(id INTEGER PRIMARY KEY, b BLOB)");
  waitSqlDurable();
  std::string full;
  int stored = 0;
  for (int i = 0; i < 100 && full.empty(); ++i) {
    full = errorOf([&] { s.sql()->exec("INSERT INTO big(b) VALUES (zeroblob(20000))"); });
    if (full == "no error") {
      full.clear();
      ++stored;
    }
  }
  EXPECT_EQ(full, "database or disk is full: SQLITE_FULL");
  EXPECT_GT(stored, 5);
  EXPECT_EQ(dump(s, "SELECT count(*) FROM big"), "i" + std::to_string(stored) + "|\n");
  s.sql()->exec("DELETE FROM big WHERE id % 2 = 0");
  s.sql()->exec("INSERT INTO big(b) VALUES (zeroblob(20000))");  // room again
  waitSqlDurable();
  EXPECT_TRUE(hooks_.failures.empty());
  openShard(options);
  EXPECT_EQ(dump(sqlStore(), "SELECT count(*) FROM big"),
            "i" + std::to_string(stored - stored / 2 + 1) + "|\n");
}

TEST_F(SqlStoreTest, RowsOverTwoMillionBytesAreRefusedAndChangeNothing) {
  ObjectStore& s = sqlStore();
  s.sql()->exec("CREATE TABLE t(v)");
  // The limit is on the row as stored (2,000,000 bytes), so a value just under it fits.
  s.sql()->exec("INSERT INTO t VALUES (?)", {SqlBlob{std::string(1'999'900, 'x')}});
  EXPECT_EQ(errorOf([&] { s.sql()->exec("INSERT INTO t VALUES (?)", {SqlBlob{std::string(2'000'001, 'x')}}); }),
            "string or blob too big: SQLITE_TOOBIG");
  EXPECT_EQ(errorOf([&] { s.sql()->exec("INSERT INTO t VALUES (zeroblob(3000000))"); }),
            "string or blob too big: SQLITE_TOOBIG");
  EXPECT_EQ(dump(s, "SELECT length(v) FROM t"), "i1999900|\n");
}

TEST_F(SqlStoreTest, KvKeyAndValueTogetherStayUnderTwoMegabytes) {
  ObjectStore& s = sqlStore();
  s.kv()->put("k", std::string(2'000'000 - 64 - 1, 'v'));  // the largest that fits
  EXPECT_EQ(errorOf([&] { s.kv()->put("kk", std::string(2'000'000 - 64 - 1, 'v')); }),
            "Key and value combined cannot be larger than 1999936 bytes. A key and value of size "
            "1999937 were provided.");
  EXPECT_EQ(s.kv()->get("k")->size(), 2'000'000u - 64 - 1);
  EXPECT_EQ(s.kv()->get("kk"), std::nullopt);
  waitSqlDurable();
  EXPECT_TRUE(hooks_.failures.empty());
}

TEST_F(SqlStoreTest, ARunawayQueryIsInterruptedAndLosesNothingElse) {
  ShardStorageOptions options;
  options.sqlLimits.maxExecMs = 200;
  openShard(options);
  ObjectStore& s = sqlStore();
  s.sql()->exec("CREATE TABLE t(x)");
  s.sql()->exec("INSERT INTO t VALUES (1)");
  const char* endless = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) ";
  EXPECT_EQ(errorOf([&] { s.sql()->exec(std::string(endless) + "SELECT count(*) FROM c"); }),
            "interrupted: SQLITE_INTERRUPT");
  // A write that never ends: SQLite rolls the whole transaction back, duro puts the turn back.
  EXPECT_EQ(errorOf([&] { s.sql()->exec(std::string(endless) + "INSERT INTO t SELECT x FROM c"); }),
            "interrupted: SQLITE_INTERRUPT");
  EXPECT_EQ(dump(s, "SELECT x FROM t"), "i1|\n");
  waitSqlDurable();
  EXPECT_TRUE(hooks_.failures.empty());
  openShard(options);
  EXPECT_EQ(dump(sqlStore(), "SELECT x FROM t"), "i1|\n");
}

TEST_F(SqlStoreTest, SynchronousCallsGetADatabaseBeingRetiredBack) {
  ObjectStore& s = sqlStore();
  s.sql()->exec("CREATE TABLE t(v)");
  s.sql()->exec("INSERT INTO t VALUES (1)");
  // Never retired in the middle of a turn: its uncommitted writes live in the connection.
  shard_->retire(s.slot());
  EXPECT_EQ(s.slot().state, DbSlot::State::kOpen);
  waitSqlDurable();
  // Retired and already taken by the retirer: the call waits for it, then reopens the file.
  shard_->retire(s.slot());
  ASSERT_EQ(s.slot().state, DbSlot::State::kRetiring);
  ASSERT_TRUE(runUntil([&] { return shard_->retirerQueuedJobsForTest() == 0; }));
  s.sql()->exec("INSERT INTO t VALUES (2)");
  EXPECT_EQ(s.slot().state, DbSlot::State::kOpen);
  EXPECT_EQ(dump(s, "SELECT v FROM t ORDER BY v"), "i1|\ni2|\n");
  waitSqlDurable();
  runPending();  // the retirer's own callback comes late and must change nothing
  EXPECT_EQ(s.slot().state, DbSlot::State::kOpen);
  EXPECT_EQ(dump(s, "SELECT count(*) FROM t"), "i2|\n");
  // Retired but not taken yet: the call takes the open database back, with nothing to wait for.
  shard_->setRetirerPausedForTest(true);
  uint64_t retired = shard_->stats().retiredDatabases;
  shard_->retire(s.slot());
  ASSERT_EQ(s.slot().state, DbSlot::State::kRetiring);
  s.sql()->exec("INSERT INTO t VALUES (3)");
  EXPECT_EQ(s.slot().state, DbSlot::State::kOpen);
  EXPECT_EQ(shard_->retirerQueuedJobsForTest(), 0u);
  shard_->setRetirerPausedForTest(false);
  waitSqlDurable();
  runPending();
  EXPECT_EQ(shard_->stats().retiredDatabases, retired);
  EXPECT_EQ(dump(s, "SELECT v FROM t ORDER BY v"), "i1|\ni2|\ni3|\n");
  openShard();
  EXPECT_EQ(dump(sqlStore(), "SELECT count(*) FROM t"), "i3|\n");
}

TEST_F(SqlStoreTest, DeleteAllDropsEveryTableAndKey) {
  ObjectStore& s = sqlStore();
  s.sql()->exec("CREATE TABLE a(x); CREATE TABLE b(y REFERENCES a(x)); CREATE VIEW v AS SELECT 1");
  s.kv()->put("k", "v");
  uint64_t before = s.sql()->databaseSize();
  await(s.deleteAll());
  EXPECT_EQ(dump(s, "SELECT name FROM sqlite_schema"), "");
  EXPECT_EQ(s.kv()->get("k"), std::nullopt);
  EXPECT_LT(s.sql()->databaseSize(), before);
  waitSqlDurable();
  openShard();
  EXPECT_EQ(dump(sqlStore(), "SELECT name FROM sqlite_schema"), "");
}

TEST_F(SqlStoreTest, MalformedScriptsAreErrors) {
  SqlStorage& sql = *sqlStore().sql();
  for (std::string query : {std::string(""), std::string("  ;  "), std::string("SELECT 1; -- trailing"),
                            std::string("SELECT 1\0 SELECT 2", 19), std::string("\0", 1)}) {
    EXPECT_EQ(errorOf([&] { sql.exec(query); }), "SQL code did not contain a statement.") << query;
  }
  EXPECT_EQ(errorOf([&] { sql.exec("SELECT ?; SELECT 1", {int64_t{1}}); }),
            "When executing multiple SQL statements in a single call, only the last statement can "
            "have parameters.");
  EXPECT_EQ(errorOf([&] { sql.exec("SELECT ?", {}); }), "Wrong number of parameter bindings for SQL query.");
  EXPECT_EQ(dump(sqlStore(), "SELECT 1 ; "), "i1|\n");
}

TEST_F(SqlStoreTest, AlarmsLiveInTheObjectsOwnDatabase) {
  ObjectStore& s = sqlStore();
  EXPECT_EQ(await(s.getAlarm()), std::nullopt);
  s.setAlarm(4102444800000);
  EXPECT_EQ(dump(s, "SELECT name FROM sqlite_schema"), "t_cf_METADATA|\n");
  waitSqlDurable();
  crashAndRecover(/*loseDatabase=*/true);
  EXPECT_EQ(await(sqlStore().getAlarm()), 4102444800000);
  sqlStore().deleteAlarm();
  EXPECT_EQ(dump(sqlStore(), "SELECT name FROM sqlite_schema"), "");
  waitSqlDurable();
  openShard();
  EXPECT_EQ(await(sqlStore().getAlarm()), std::nullopt);
}

}  // namespace
}  // namespace duro::storage
