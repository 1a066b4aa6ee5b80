// ObjectStore: one Durable Object's storage (duro::Storage) on its shard: the write buffer that
// coalesces writes into commits, the object's part of the shard cache, and the link to its
// database slot. The runtime plugs it under the object's gates through ObjectStoreHooks.
// Call only on the object's shard; see shard_storage.cc for the design notes and invariants.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "duro/id.h"
#include "duro/storage.h"
#include "storage/commit_record.h"
#include "storage/kv_limits.h"
#include "storage/user_sql.h"

namespace duro::storage {

class ShardStorage;
class SqliteDb;
struct DbSlot;

// What the shard tells an object (and the alarm index) once a commit is durable.
struct CommitNotice {
  uint64_t storeId;
  uint64_t writeNumber;  // 0: no output waits for it
  enum class Alarm : uint8_t { kUnchanged, kSet, kDeleted } alarm = Alarm::kUnchanged;
  int64_t alarmMs = 0;
};

// What storage needs from the runtime (its gates and lifecycle). Implemented by the object host.
class ObjectStoreHooks {
 public:
  // Held while a storage call waits; the object receives no new event meanwhile.
  class InputLock {
   public:
    virtual ~InputLock() = default;
  };

  virtual ~ObjectStoreHooks() = default;
  // Output gate: number a write whose durability outputs must wait for.
  virtual uint64_t beginWrite() = 0;
  virtual void writesDurableThrough(uint64_t writeNumber) = 0;
  // Runs `fn` once every write numbered so far is durable (or with the failure).
  virtual void whenDurable(std::function<void(const Status&)> fn) = 0;
  virtual std::unique_ptr<InputLock> lockInput() = 0;
  // A commit failed: reset the object (outputs become errors, the instance is discarded).
  virtual void storageFailed(const Status& status) = 0;
  // The store became busy or idle (pending or in-flight writes): the object may not be evicted
  // while busy.
  virtual void storageBusyChanged() = 0;
};

class ObjectStore final : public Storage {
 public:
  // A new object's data is pinned in memory until its database is created; beyond this many bytes
  // the database is created at once.
  static constexpr size_t kMaxLogOnlyBytes = 1 << 20;

  // `sqlBacked`: a SQLite-backed object. Its writes (KV and SQL) go into its database at once,
  // inside a transaction that the end-of-turn flush commits, so SQL sees them and savepoints
  // can undo them; the flush logs them all as one record.
  ObjectStore(ShardStorage& shard, std::string ns, ObjectId id, ObjectStoreHooks& hooks,
              bool sqlBacked = false);
  ~ObjectStore() override;
  ObjectStore(const ObjectStore&) = delete;
  ObjectStore& operator=(const ObjectStore&) = delete;

  // duro::Storage.
  Task<std::optional<std::string>> get(std::string key, StorageGetOptions options = {}) override;
  Task<StorageEntries> get(std::vector<std::string> keys, StorageGetOptions options = {}) override;
  void put(std::string key, std::string value, StoragePutOptions options = {}) override;
  void put(StorageEntries entries, StoragePutOptions options = {}) override;
  Task<bool> delete_(std::string key, StoragePutOptions options = {}) override;
  Task<size_t> delete_(std::vector<std::string> keys, StoragePutOptions options = {}) override;
  Task<StorageEntries> list(StorageListOptions options = {}) override;
  Task<void> deleteAll(StoragePutOptions options = {}) override;
  Task<void> transaction(std::function<Task<void>(StorageTransaction&)> fn) override;
  Task<void> sync() override;
  Task<std::optional<int64_t>> getAlarm(StorageGetOptions options = {}) override;
  void setAlarm(int64_t scheduledTimeMs, StoragePutOptions options = {}) override;
  using Storage::setAlarm;
  void deleteAlarm(StoragePutOptions options = {}) override;
  SqlStorage* sql() override;
  SyncKv* kv() override;
  void transactionSync(const std::function<void()>& fn) override;
  bool sqlBacked() const noexcept { return sqlBacked_; }

  // Around the alarm() handler for the alarm scheduled at `scheduledTimeMs`: inside, getAlarm()
  // is empty unless the handler sets one. On success the alarm is deleted unless the handler set
  // or deleted one itself (at-least-once: it is cleared only after a successful run).
  void beginAlarmHandler();
  void endAlarmHandler(bool succeeded, int64_t scheduledTimeMs);
  // Deletes the alarm if it is still the one scheduled at `scheduledTimeMs` (retries exhausted).
  void deleteAlarmIfStill(int64_t scheduledTimeMs);
  // The index said this object had an alarm, but it has none: drop the index entry.
  void forgetStaleAlarm();

  // Writes buffered or committed but not yet durable.
  bool busy() const noexcept { return !pending_.empty() || pendingWriteNumber_ != 0 || inFlight_ > 0; }
  // After a reset: forget cached state and buffered writes; the next read goes to disk.
  void discardVolatileState();

  const KvLimits& limits() const;

  // ---- for ShardStorage ----
  uint64_t storeId() const noexcept { return storeId_; }
  const std::string& ns() const noexcept { return ns_; }
  const ObjectId& id() const noexcept { return id_; }
  DbSlot& slot() noexcept { return *slot_; }
  const std::shared_ptr<DbSlot>& slotShared() const noexcept { return slot_; }
  // For materialize: the object's whole state as ops for a new database, and its commit number.
  // Called only with no buffered writes.
  std::vector<KvOp> snapshotForMaterialize(uint64_t* seq) const;
  // The database now exists: entries pinned because only the log had them become evictable.
  void materialized();
  // Applies the buffered writes to the database and appends their record to `log`. Returns false
  // (and keeps them) if the database is away being retired; the shard calls again later.
  bool flushInto(std::string& log, std::vector<struct CommitNotice>& notify);
  // The commit whose outputs wait for write number `writeNumber` is durable (or failed).
  void commitFinished(uint64_t writeNumber, const Status& status);
  // The shard cache dropped this entry (budget).
  void evictCacheEntry(const std::string& key);
  bool dirtyScheduled = false;

 private:
  struct CacheEntry {
    std::optional<std::string> value;  // nullopt: known to be absent
    bool dirty = false;                // written since the last flush (pinned, not evictable)
    bool noCache = false;              // drop once clean
    bool inLru = false;
  };

  // Looks `key` up: cache, then the database (synchronously). Suspends only while the database is
  // being retired (holding the input gate unless allowConcurrency).
  Task<std::optional<std::string>> read(std::string key, bool allowConcurrency, bool noCache);
  std::optional<std::optional<std::string>> readNow(const std::string& key, bool noCache);
  Task<void> waitForDatabase(bool allowConcurrency);
  void throwIfShardFailed() const;
  void write(std::string key, std::optional<std::string> value, const StoragePutOptions& options);
  void markWritten(const StoragePutOptions& options);
  void cacheClean(const std::string& key, CacheEntry& entry);
  void dropCache();
  Status flushNowForRead();
  // ---- SQLite-backed objects
  class SqlApi;
  class SyncKvApi;
  friend class SqlApi;
  friend class SyncKvApi;
  // The object's database, opened (and, with `create`, created) now; nullptr if it has none.
  SqliteDb* sqlDatabase(bool create);
  // Applies a write to the database at once (inside the turn); throws if it fails.
  void applyNow(const KvOp& op);
  SqlResult execSql(std::string_view query, std::vector<SqlValue> bindings);
  StorageEntries listNow(const StorageListOptions& options);
  // SQLite ended the turn's transaction on an error (SQLITE_FULL, ON CONFLICT ROLLBACK): applies
  // the turn's writes again, savepoints included (replay is exact, see user_sql.h). Resets the
  // object if that fails.
  void restoreTurn(SqliteDb& db);
  // Opens a nested transaction (returns its depth); the matching end commits it into the turn or
  // undoes it.
  int beginNested();
  void endNested(int depth, bool commit);
  bool flushSqlInto(std::string& log, std::vector<struct CommitNotice>& notify);

  ShardStorage& shard_;
  std::string ns_;
  ObjectId id_;
  ObjectStoreHooks& hooks_;
  uint64_t storeId_;
  std::shared_ptr<DbSlot> slot_;
  std::map<std::string, CacheEntry, std::less<>> cache_;
  bool complete_ = false;  // the cache knows every key (new object, or after deleteAll)
  std::vector<KvOp> pending_;
  uint64_t pendingWriteNumber_ = 0;  // 0: no confirmed write pending
  uint32_t inFlight_ = 0;
  // The alarm as the object sees it (with unflushed changes); outer nullopt: not loaded yet.
  std::optional<std::optional<int64_t>> alarm_;
  uint64_t logOnlySeq_ = 0;      // commits made while the object had no database file
  size_t logOnlyBytes_ = 0;      // bytes pinned in the cache for them
  bool inAlarmHandler_ = false;
  bool alarmChangedInHandler_ = false;
  const bool sqlBacked_;
  // One entry per open transactionSync/transaction savepoint: pending_.size() when it opened.
  std::vector<size_t> nestedMarks_;
  bool flushDeferred_ = false; // a flush came while a savepoint was open
  std::unique_ptr<SqlApi> sqlApi_;
  std::unique_ptr<SyncKvApi> kvApi_;
};

}  // namespace duro::storage
