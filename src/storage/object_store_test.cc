// Tests for ObjectStore and ShardStorage: every KV operation, option and limit, write coalescing,
// the output-gate protocol (recorded through fake hooks), persistence across reopen, recovery
// from the commit log, caching, and the bounded set of open databases. The loop is stepped by hand
// on the test thread; the commit and retirer threads are real.
#include "storage/object_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "storage/recovery.h"
#include "storage/shard_storage.h"
#include "storage/store_test_fixture.h"

namespace duro::storage {
namespace {

using namespace std::chrono_literals;

TEST_F(StoreTest, PutGetDeleteRoundTrip) {
  ObjectStore& s = store();
  s.put("b", "2");
  s.put("a", "1");
  EXPECT_EQ(await(s.get("a")), "1");
  EXPECT_EQ(await(s.get("missing")), std::nullopt);
  StorageEntries many = await(s.get(std::vector<std::string>{"b", "zz", "a"}));
  EXPECT_EQ(many, (StorageEntries{{"a", "1"}, {"b", "2"}}));
  EXPECT_TRUE(await(s.delete_("a")));
  EXPECT_FALSE(await(s.delete_("a")));
  EXPECT_EQ(await(s.get("a")), std::nullopt);
  s.put(StorageEntries{{"x", "1"}, {"y", "2"}});
  EXPECT_EQ(await(s.delete_(std::vector<std::string>{"x", "y", "nope"})), 2u);
}

TEST_F(StoreTest, WritesWithoutASuspensionCommitTogetherAndGateOutputs) {
  ObjectStore& s = store();
  s.put("a", "1");
  s.put("b", "2");
  s.put("c", "3");
  EXPECT_EQ(hooks_.issued, 3u);
  EXPECT_EQ(hooks_.durable, 0u);  // nothing is durable before the log sync
  bool released = false;
  hooks_.whenDurable([&](const Status& st) { released = st.isOk(); });
  EXPECT_FALSE(released);
  waitDurable();
  EXPECT_TRUE(released);
  EXPECT_EQ(shard_->stats().commits, 1u);  // one atomic commit for the three writes
  EXPECT_EQ(hooks_.durable, 3u);
}

TEST_F(StoreTest, AllowUnconfirmedDoesNotHoldOutputs) {
  ObjectStore& s = store();
  s.put("a", "1", {.allowUnconfirmed = true});
  EXPECT_EQ(hooks_.issued, 0u);
  ASSERT_TRUE(runUntil([&] { return !s.busy(); }));
  EXPECT_EQ(await(s.get("a")), "1");
}

TEST_F(StoreTest, DataSurvivesReopening) {
  store().put("k", "v");
  store(2).put("other", "x");
  waitDurable();
  openShard();
  EXPECT_EQ(await(store().get("k")), "v");
  EXPECT_EQ(await(store(2).get("other")), "x");
  EXPECT_EQ(await(store(3).get("k")), std::nullopt);
}

TEST_F(StoreTest, AnObjectThatIsOnlyReadLeavesNothingOnDisk) {
  EXPECT_EQ(await(store().get("k")), std::nullopt);
  EXPECT_TRUE(await(store().list()).empty());
  runPending();
  EXPECT_FALSE(std::filesystem::exists(dbPath(1)));
  store().put("k", "v");
  waitDurable();
  // A new object's data lives in the log until the object goes away (or the log rotates); then
  // its database is created in the background.
  EXPECT_FALSE(std::filesystem::exists(dbPath(1)));
  EXPECT_EQ(store().slot().state, DbSlot::State::kLogOnly);
  stores_.clear();
  ASSERT_TRUE(runUntil([&] { return std::filesystem::exists(dbPath(1)) && shard_->stats().retiredDatabases >= 1; }));
  EXPECT_EQ(await(store().get("k")), "v");
}

TEST_F(StoreTest, RecoveryReplaysTheLogIntoLostDatabases) {
  store().put("a", "1");
  waitDurable();
  store().put("b", "2");
  waitDurable();
  // The log as a crash would leave it (a clean stop deletes it once the databases are synced).
  std::filesystem::copy(dir_ / ".commit-log", dir_ / "log-copy");
  stores_.clear();
  shard_.reset();
  EXPECT_TRUE(std::filesystem::is_empty(dir_ / ".commit-log"));
  std::filesystem::remove_all(dir_ / ".commit-log");
  std::filesystem::rename(dir_ / "log-copy", dir_ / ".commit-log");
  // Lose the database entirely, as if its writes never reached the disk.
  for (const char* suffix : {"", "-wal"}) std::filesystem::remove(dbPath(1).string() + suffix);
  Result<RecoveryResult> r = recoverCommitLog(dir_);
  ASSERT_TRUE(r.isOk()) << r.status().toString();
  EXPECT_EQ(r->records, 2u);
  EXPECT_EQ(r->applied, 2u);
  EXPECT_TRUE(std::filesystem::is_empty(dir_ / ".commit-log"));
  openShard({.firstLogGeneration = r->nextGeneration});
  EXPECT_EQ(await(store().get("a")), "1");
  EXPECT_EQ(await(store().get("b")), "2");
  // Replaying again (nothing left) is harmless.
  EXPECT_TRUE(recoverCommitLog(dir_).isOk());
}

TEST_F(StoreTest, RecoverySkipsCommitsAlreadyInTheDatabase) {
  store().put("a", "1");
  waitDurable();
  std::filesystem::copy(dir_ / ".commit-log", dir_ / "log-copy");
  stores_.clear();
  shard_.reset();
  std::filesystem::remove_all(dir_ / ".commit-log");
  std::filesystem::rename(dir_ / "log-copy", dir_ / ".commit-log");
  Result<RecoveryResult> r = recoverCommitLog(dir_);
  ASSERT_TRUE(r.isOk());
  EXPECT_EQ(r->records, 1u);
  EXPECT_EQ(r->applied, 0u);
}

TEST_F(StoreTest, ListHonoursEveryOption) {
  ObjectStore& s = store();
  for (const char* k : {"a", "b", "ba", "bb", "c", "d"}) s.put(k, std::string("v") + k);
  waitDurable();
  stores_.clear();  // read back from the database, not the cache
  ObjectStore& r = store();
  auto keys = [&](StorageListOptions o) {
    std::vector<std::string> out;
    for (auto& [k, v] : await(r.list(o))) out.push_back(k);
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(keys({}), (V{"a", "b", "ba", "bb", "c", "d"}));
  EXPECT_EQ(keys({.start = "b", .end = "c"}), (V{"b", "ba", "bb"}));
  EXPECT_EQ(keys({.startAfter = "b", .end = "c"}), (V{"ba", "bb"}));
  EXPECT_EQ(keys({.prefix = "b"}), (V{"b", "ba", "bb"}));
  EXPECT_EQ(keys({.prefix = "b", .reverse = true}), (V{"bb", "ba", "b"}));
  EXPECT_EQ(keys({.reverse = true, .limit = 2}), (V{"d", "c"}));
  EXPECT_EQ(keys({.limit = 1}), (V{"a"}));
  EXPECT_EQ(await(r.list({.start = "c"})), (StorageEntries{{"c", "vc"}, {"d", "vd"}}));
  EXPECT_THROW(await(r.list({.start = "a", .startAfter = "b"})), Error);
  EXPECT_THROW(await(r.list({.limit = 0})), Error);
}

TEST_F(StoreTest, ListSeesUnflushedWritesAndDeletes) {
  ObjectStore& s = store();
  s.put("a", "1");
  s.put("b", "2");
  waitDurable();
  stores_.clear();
  ObjectStore& r = store();
  r.put("c", "3");
  EXPECT_TRUE(await(r.delete_("a")));
  EXPECT_EQ(await(r.list()), (StorageEntries{{"b", "2"}, {"c", "3"}}));
}

TEST_F(StoreTest, ListUsesUtf8ByteOrder) {
  ObjectStore& s = store();
  s.put("\xc3\xa9", "e-acute");  // U+00E9
  s.put("z", "z");
  s.put("Z", "Z");
  std::vector<std::string> keys;
  for (auto& [k, v] : await(s.list())) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"Z", "z", "\xc3\xa9"}));
}

TEST_F(StoreTest, LimitsAreClearErrorsThatChangeNothing) {
  ObjectStore& s = store();
  s.put("keep", "1");
  try {
    s.put(std::string(2049, 'k'), "v");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.status().code(), StatusCode::kLimitExceeded);
    EXPECT_NE(std::string(e.what()).find("2048"), std::string::npos);
  }
  EXPECT_NO_THROW(s.put(std::string(2048, 'k'), "v"));
  EXPECT_THROW(s.put("big", std::string(128 * 1024 + 1, 'v')), Error);
  EXPECT_NO_THROW(s.put("big", std::string(128 * 1024, 'v')));
  StorageEntries tooMany;
  for (int i = 0; i < 129; ++i) tooMany.emplace_back("m" + std::to_string(i), "v");
  EXPECT_THROW(s.put(tooMany), Error);
  // A batch with one bad value writes none of its entries.
  EXPECT_THROW(s.put(StorageEntries{{"ok1", "v"}, {"bad", std::string(200000, 'x')}}), Error);
  EXPECT_EQ(await(s.get("ok1")), std::nullopt);
  EXPECT_THROW(await(s.get(std::vector<std::string>(129, "k"))), Error);
  EXPECT_THROW(await(s.delete_(std::string(3000, 'd'))), Error);
  EXPECT_EQ(await(s.get("keep")), "1");
}

TEST_F(StoreTest, DeleteAllRemovesEverythingDurably) {
  ObjectStore& s = store();
  s.put("a", "1");
  s.put("b", "2");
  waitDurable();
  await(s.deleteAll());
  s.put("c", "3");  // after deleteAll in the same commit
  EXPECT_EQ(await(s.get("a")), std::nullopt);
  EXPECT_EQ(await(s.list()), (StorageEntries{{"c", "3"}}));
  waitDurable();
  openShard();
  EXPECT_EQ(await(store().list()), (StorageEntries{{"c", "3"}}));
}

TEST_F(StoreTest, TransactionsCommitAllOrNothing) {
  ObjectStore& s = store();
  s.put("balance", "10");
  await(s.transaction([](StorageTransaction& txn) -> Task<void> {
    auto v = co_await txn.get("balance");
    txn.put("balance", std::to_string(std::stoi(*v) - 3));
    txn.put("log", "spent 3");
    EXPECT_EQ(co_await txn.get("log"), "spent 3");  // reads see the transaction's writes
    EXPECT_EQ((co_await txn.list({.prefix = "l"})).size(), 1u);
  }));
  EXPECT_EQ(await(s.get("balance")), "7");
  EXPECT_THROW(await(s.transaction([](StorageTransaction& txn) -> Task<void> {
                 txn.put("balance", "0");
                 throw std::runtime_error("abort");
                 co_return;
               })),
               std::runtime_error);
  EXPECT_EQ(await(s.get("balance")), "7");
  await(s.transaction([](StorageTransaction& txn) -> Task<void> {
    txn.put("balance", "0");
    txn.rollback();
    co_return;
  }));
  EXPECT_EQ(await(s.get("balance")), "7");
  EXPECT_EQ(hooks_.inputLocks, 0);
}

TEST_F(StoreTest, NoCacheKeepsValuesOutOfTheCache) {
  store().put("other", "x");  // give the object a database (new objects pin their data)
  waitDurable();
  stores_.clear();
  ASSERT_TRUE(runUntil([&] { return std::filesystem::exists(dbPath(1)); }));
  ObjectStore& s = store();
  EXPECT_EQ(await(s.get("other")), "x");  // waits for the database, then opens it
  s.put("big", std::string(10000, 'x'), {.noCache = true});
  waitDurable();
  EXPECT_LT(shard_->stats().cacheBytes, 1000u);
  EXPECT_EQ(await(s.get("big", {.noCache = true}))->size(), 10000u);
  EXPECT_LT(shard_->stats().cacheBytes, 1000u);
  EXPECT_EQ(await(s.get("big"))->size(), 10000u);
  EXPECT_GT(shard_->stats().cacheBytes, 10000u);
}

TEST_F(StoreTest, TheCacheStaysWithinItsBudget) {
  openShard({.cacheBytes = 4096});
  ObjectStore& s = store();
  for (int i = 0; i < 200; ++i) s.put("key" + std::to_string(i), std::string(100, 'v'));
  waitDurable();
  EXPECT_LE(shard_->stats().cacheBytes, 4096u);
  for (int i = 0; i < 200; ++i) EXPECT_EQ(await(s.get("key" + std::to_string(i)))->size(), 100u);
  EXPECT_LE(shard_->stats().cacheBytes, 4096u);
}

TEST_F(StoreTest, OpenDatabasesAreBoundedAndClosedSafely) {
  openShard({.maxOpenDatabases = 2});
  for (uint8_t n = 1; n <= 6; ++n) store(n).put("n", std::to_string(n));
  ASSERT_TRUE(runUntil([&] {
    bool idle = true;
    for (uint8_t n = 1; n <= 6; ++n) idle = idle && !store(n).busy();
    return idle;
  }));
  stores_.clear();  // their databases are created
  ASSERT_TRUE(runUntil([&] { return shard_->stats().retiredDatabases >= 6; }));
  // Reading them back opens their databases, at most two at a time.
  for (uint8_t n = 1; n <= 6; ++n) {
    EXPECT_EQ(await(store(n).get("n")), std::to_string(n));
    EXPECT_LE(shard_->stats().openDatabases, 2u);
  }
  stores_.clear();
  ASSERT_TRUE(runUntil([&] { return shard_->stats().openDatabases == 0; }));
  for (uint8_t n = 1; n <= 6; ++n) EXPECT_EQ(await(store(n).get("n")), std::to_string(n));
  // A retired database leaves an empty WAL behind (kept, not deleted: see sqlite_db.cc).
  ASSERT_TRUE(runUntil([&] {
    std::error_code ec;
    return std::filesystem::file_size(dbPath(1).string() + "-wal", ec) == 0 && !ec;
  }));
}

TEST_F(StoreTest, AReadWaitingForItsDatabaseHoldsTheInputGateUnlessAllowConcurrency) {
  store().put("k", "v");
  waitDurable();
  for (bool allowConcurrency : {false, true}) {
    stores_.clear();  // a fresh store: "k" is not cached
    ObjectStore& r = store();
    EXPECT_EQ(await(r.get("other")), std::nullopt);  // opens the database
    ASSERT_EQ(r.slot().state, DbSlot::State::kOpen);
    shard_->retire(r.slot());
    ASSERT_EQ(r.slot().state, DbSlot::State::kRetiring);
    bool done = false;
    std::optional<std::string> got;
    startTask<std::optional<std::string>>(
        r.get("k", {.allowConcurrency = allowConcurrency}),
        [&](std::optional<std::optional<std::string>> v, std::exception_ptr) {
          if (v) got = *v;
          done = true;
        });
    EXPECT_FALSE(done);  // suspended until the database is back
    EXPECT_EQ(hooks_.inputLocks, allowConcurrency ? 0 : 1);
    ASSERT_TRUE(runUntil([&] { return done; }));
    EXPECT_EQ(got, "v");
    EXPECT_EQ(hooks_.inputLocks, 0);
  }
}

TEST_F(StoreTest, AFailedLogWriteIsReportedAndAcknowledgedDataSurvivesARestart) {
  store().put("safe", "1");
  waitDurable();
  std::filesystem::copy(dir_ / ".commit-log", dir_ / "log-copy");  // as a crash would leave it
  shard_->failNextLogWriteForTest(Status::storage("No space left on device (injected)"));
  store(2).put("k", "v");
  ASSERT_TRUE(runUntil([&] { return !hooks_.failures.empty(); }));
  EXPECT_NE(hooks_.failures[0].find("No space left"), std::string::npos) << hooks_.failures[0];
  // The shard's storage now refuses work with a clear error instead of serving state it cannot
  // make durable.
  try {
    await(store().get("safe"));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("restart the server"), std::string::npos) << e.what();
  }
  EXPECT_THROW(store().put("more", "x"), Error);
  // Restart: what was acknowledged is there, the failed write is not.
  stores_.clear();
  shard_.reset();
  std::filesystem::remove_all(dir_ / ".commit-log");
  std::filesystem::rename(dir_ / "log-copy", dir_ / ".commit-log");
  Result<RecoveryResult> r = recoverCommitLog(dir_);
  ASSERT_TRUE(r.isOk()) << r.status().toString();
  openShard({.firstLogGeneration = r->nextGeneration});
  EXPECT_EQ(await(store().get("safe")), "1");
  EXPECT_EQ(await(store(2).get("k")), std::nullopt);
}

TEST_F(StoreTest, ADatabaseThatCannotBeCreatedKeepsItsLog) {
  // A file where the namespace directory should be: creating the object's database fails.
  auto broken = shard_->createStore("BROKEN", idOf(9), hooks_);
  { std::ofstream(dir_ / "BROKEN") << "not a directory"; }
  broken->put("k", "v");
  ASSERT_TRUE(runUntil([&] { return !broken->busy(); }));  // durable in the log
  EXPECT_TRUE(hooks_.failures.empty());
  broken.reset();  // the object goes away: creating its database fails in the background
  Status closed = Status::ok();
  stores_.clear();
  closed = shard_->close();
  EXPECT_FALSE(closed.isOk());
  EXPECT_FALSE(std::filesystem::is_empty(dir_ / ".commit-log"));  // the only copy stays
  // Fixed, the next start replays it.
  std::filesystem::remove(dir_ / "BROKEN");
  Result<RecoveryResult> r = recoverCommitLog(dir_);
  ASSERT_TRUE(r.isOk()) << r.status().toString();
  EXPECT_EQ(r->applied, 1u);
  EXPECT_TRUE(std::filesystem::exists(dir_ / "BROKEN" / (idOf(9).toString() + ".sqlite")));
}

}  // namespace
}  // namespace duro::storage
