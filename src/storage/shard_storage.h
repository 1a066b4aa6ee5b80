// ShardStorage: the storage of every object on one shard: the group-committed commit log, the
// bounded set of open databases (LRU) with the retirer thread that closes them, the shard-wide
// cache budget, and the end-of-turn flush that turns buffered writes into commits.
// Call only on the shard's loop thread (except construction and stop()).
#pragma once

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <list>
#include <optional>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "base/event_loop.h"
#include "storage/alarm_index.h"
#include "storage/group_commit.h"
#include "storage/kv_limits.h"
#include "storage/object_store.h"
#include "storage/retirer.h"
#include "storage/sqlite_db.h"

namespace duro::storage {

struct ShardStorageOptions {
  std::filesystem::path dataDir;
  uint32_t shard = 0;
  // First commit-log generation this process writes (above every segment already replayed).
  uint64_t firstLogGeneration = 1;
  // Bytes of cached keys and values per shard (dirty entries are pinned beyond it).
  size_t cacheBytes = 32 << 20;
  // Open object databases per shard; the least recently used beyond this is closed.
  size_t maxOpenDatabases = 512;
  // A database whose WAL holds more pages than this is checkpointed (closed and reopened): the
  // same 1,000 pages (~4 MiB) at which SQLite checkpoints by default, bounding WAL disk use.
  int walPagesBeforeCheckpoint = 1000;
  KvLimits limits;
  // SQLite-backed objects: their KV limits (a value may be up to 2 MB) and their SQL limits.
  KvLimits sqliteKvLimits{StorageOps::kMaxKeyBytes, 2'000'000, StorageOps::kMaxBatchKeys,
                          2'000'000 - 64};
  SqlLimits sqlLimits;
  // deleteAll() also deletes the alarm (Cloudflare: compatibility date 2026-02-24 or later).
  bool deleteAllDeletesAlarm = true;
  // Alarms of this shard's objects found at start-up (recovery.h).
  std::vector<AlarmEntry> initialAlarms;
};

// One object's database connection and where it is in its lifecycle.
struct DbSlot {
  // kLogOnly: no file yet; the object's commits are only in the log (and pinned in its cache)
  // until the retirer creates the database (materialize). kRetiring covers that creation too.
  // kFailed: creating the database of a log-only object failed; its data is only in the log,
  // so the object refuses storage calls until a restart replays it.
  enum class State { kUnknown, kAbsent, kLogOnly, kOpen, kClosed, kRetiring, kFailed };
  State state = State::kUnknown;
  std::filesystem::path path;
  std::unique_ptr<SqliteDb> db;
  std::list<DbSlot*>::iterator lruPosition;
  uint64_t ownerStoreId = 0;
  std::vector<std::coroutine_handle<>> waiters;  // resumed when a retirement finishes
  std::shared_ptr<RetireTicket> retirement;      // while retiring (kRetiring, not materializing)
  SqliteDb::Flavor flavor = SqliteDb::Flavor::kKeyValue;  // for a database created here
};

// Counters: safe to read from any thread.
struct ShardStorageStats {
  uint64_t commits = 0;         // object commits applied and logged
  uint64_t logSyncs = 0;        // fdatasync calls on the commit log
  uint64_t openDatabases = 0;   // open right now
  uint64_t retiredDatabases = 0; // databases closed by the retirer (created ones included)
  uint64_t cacheBytes = 0;
};

class ShardStorage {
 public:
  ShardStorage(base::EventLoop& loop, ShardStorageOptions options);
  ~ShardStorage();
  ShardStorage(const ShardStorage&) = delete;
  ShardStorage& operator=(const ShardStorage&) = delete;

  Status start();
  // Loop thread, at shutdown: commits what is buffered; close() then waits for the log.
  void flushAllNow() { flushAll(); }
  // After the loop has stopped: waits for the log and the retirer, syncs, writes the alarm
  // snapshot and deletes this shard's log (a clean stop). OK only if all of that succeeded.
  // The destructor calls it if nobody did.
  Status close();

  // `sqlBacked`: a SQLite-backed object (SQL API; its writes go into its database at once).
  std::unique_ptr<ObjectStore> createStore(std::string ns, const ObjectId& id,
                                           ObjectStoreHooks& hooks, bool sqlBacked = false);
  const KvLimits& limits() const { return options_.limits; }
  const KvLimits& sqliteKvLimits() const { return options_.sqliteKvLimits; }
  const SqlLimits& sqlLimits() const { return options_.sqlLimits; }
  bool deleteAllDeletesAlarm() const { return options_.deleteAllDeletesAlarm; }

  // Alarms: the durable index of this shard's alarms, and who to tell when it changes (the
  // runtime's scheduler). The listener runs on the loop thread once a change is durable.
  using AlarmListener = std::function<void(const std::string& ns, const ObjectId::Bytes& id,
                                           std::optional<int64_t> timeMs)>;
  void setAlarmListener(AlarmListener listener) { alarmListener_ = std::move(listener); }
  const AlarmIndex& alarmIndex() const { return alarmIndex_; }
  // Drops a stale index entry (the object's own database has no such alarm).
  void forgetAlarm(const std::string& ns, const ObjectId::Bytes& id);
  ShardStorageStats stats() const;

  // Holds (true) or lets go (false) the commit log's syncs, to observe outputs waiting for them.
  void setLogPausedForTest(bool paused) { log_->setPausedForTest(paused); }
  // The retirer (see Retirer::setPausedForTest).
  void setRetirerPausedForTest(bool paused) { retirer_->setPausedForTest(paused); }
  size_t retirerQueuedJobsForTest() const { return retirer_->queuedJobsForTest(); }
  // Makes the next log write fail (and the log unusable afterwards), as a full disk would.
  void failNextLogWriteForTest(Status status) { log_->failNextWriteForTest(std::move(status)); }

  // Non-OK once the commit log failed (a write or sync error, e.g. a full disk). The log is then
  // unusable, so the shard's storage refuses further reads and writes with this error rather than
  // serve state it can no longer make durable; a restart replays what was acknowledged.
  const Status& failure() const { return failure_; }

  // ---- for ObjectStore ----
  uint64_t registerStore(ObjectStore& store);
  void unregisterStore(ObjectStore& store);
  std::shared_ptr<DbSlot> slotFor(const std::string& ns, const ObjectId& id, uint64_t storeId);
  // The open database of `slot`, opening it (creating it if `create`) if needed. nullptr if the
  // file does not exist and create is false. Must not be called while the slot is retiring.
  Result<SqliteDb*> database(const std::shared_ptr<DbSlot>& slot, bool create);
  // Like database(), for synchronous callers (SQL): if the database is being closed, takes it
  // back from the retirer's queue, or, if the retirer is already at it, blocks until it is done
  // (rare: a batch's two syncfs).
  Result<SqliteDb*> databaseNow(const std::shared_ptr<DbSlot>& slot, bool create);
  // Hands the slot's database to the retirer (no-op unless open, or in the middle of a
  // SQLite-backed object's turn).
  void retire(DbSlot& slot);
  // Has the retirer create the database of a log-only object from its current state.
  void materialize(ObjectStore& store);
  void trackLogOnly(ObjectStore& store) { logOnly_.insert(store.storeId()); }
  void releaseSlot(std::shared_ptr<DbSlot> slot);
  void markDirty(ObjectStore& store);
  // Submits commits flushed outside the end-of-turn pass (list() flushes before reading).
  void submitNow(std::string log, std::vector<CommitNotice> notify);
  int walPagesBeforeCheckpoint() const { return options_.walPagesBeforeCheckpoint; }
  // Cache accounting for clean entries (evictable, least recently used first).
  void cacheAdd(ObjectStore& store, const std::string& key, size_t bytes);
  void cacheTouch(ObjectStore& store, const std::string& key);
  void cacheRemove(ObjectStore& store, const std::string& key);

 private:
  struct CacheNode {
    ObjectStore* store;
    const std::string* key;
    size_t bytes;
  };
  struct CacheKey {
    uint64_t store;
    std::string_view key;
    bool operator==(const CacheKey&) const = default;
  };
  struct CacheKeyHash {
    size_t operator()(const CacheKey& k) const noexcept;
  };

  void flushAll();
  // The retirer is done with `slot`'s database: it may be opened again. `resumeLater` posts the
  // resumption of its waiters instead of running them here.
  void finishRetirement(const std::shared_ptr<DbSlot>& slot, const Status& status, bool resumeLater);
  // The slot's database is open: it joins the open-database LRU as the most recent.
  void enterLru(DbSlot& slot);
  // Resumes the coroutines waiting for the slot's database, here or (`later`) from the loop.
  void resumeWaiters(DbSlot& slot, bool later);
  void onGroupDurable(std::vector<CommitNotice> notify, const Status& status);
  std::filesystem::path snapshotPath() const;
  void evictCache();

  base::EventLoop& loop_;
  ShardStorageOptions options_;
  std::unique_ptr<GroupCommitter> log_;
  std::unique_ptr<Retirer> retirer_;
  std::unordered_map<uint64_t, ObjectStore*> stores_;
  uint64_t nextStoreId_ = 1;
  std::vector<ObjectStore*> dirty_;
  bool flushScheduled_ = false;
  std::unordered_map<std::string, std::shared_ptr<DbSlot>> slots_;  // open or retiring, by path
  std::unordered_set<std::string> knownDirs_;
  std::unordered_set<uint64_t> logOnly_;  // stores whose database exists only in the log
  std::unordered_map<std::string, std::shared_ptr<DbSlot>> failedSlots_;  // see State::kFailed                        // namespace dirs that exist
  std::list<DbSlot*> openLru_;                                       // least recently used first
  std::list<CacheNode> cacheLru_;
  std::unordered_map<CacheKey, std::list<CacheNode>::iterator, CacheKeyHash> cacheIndex_;
  size_t cacheBytes_ = 0;
  AlarmIndex alarmIndex_;
  bool closed_ = false;
  // Expires at close(): callbacks the retirer posted to the loop check it before touching us.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  Status failure_;
  Status closeStatus_;
  AlarmListener alarmListener_;
  // Mirrors for stats() from other threads.
  std::atomic<uint64_t> commits_{0};
  std::atomic<uint64_t> retired_{0};
  std::atomic<uint64_t> openCount_{0};
  std::atomic<uint64_t> cacheBytesSeen_{0};
};

}  // namespace duro::storage
