// Implementation of ObjectStore (object_store.h). The shard-wide design notes and invariants are
// in shard_storage.cc; the per-object rules are:
//  1. Every write goes to the cache (dirty, pinned) and to pending_ at once, so reads see it.
//  2. pending_ is applied and logged as one commit by flushInto(): writes made without a
//     suspension in between are always in the same commit (the flush runs between loop handlers).
//  3. complete_ means the cache holds every key (a new object, or after deleteAll); a miss is then
//     "absent" without asking the database. Evicting any entry clears it.
//  4. A read that misses the cache reads the database synchronously; it suspends only while the
//     object's database is being retired, and then holds the input gate (unless allowConcurrency).
#include "storage/object_store.h"

#include <algorithm>
#include <chrono>
#include <coroutine>
#include <random>
#include <utility>

#include "storage/commit_log.h"
#include "storage/shard_storage.h"

namespace duro::storage {

namespace {

void throwIfError(const Status& status) {
  if (!status.isOk()) throw Error(status);
}

// Suspends until the slot's database comes back from the retirer.
struct SlotReturned {
  std::shared_ptr<DbSlot> slot;
  bool await_ready() const noexcept { return slot->state != DbSlot::State::kRetiring; }
  void await_suspend(std::coroutine_handle<> h) { slot->waiters.push_back(h); }
  void await_resume() const noexcept {}
};

// Suspends until a callback-style operation reports its Status; rethrows a failure.
struct StatusWaiter {
  struct State {
    bool done = false;
    Status status;
    std::coroutine_handle<> waiter;
  };
  std::shared_ptr<State> state = std::make_shared<State>();
  std::function<void(const Status&)> callback() {
    return [s = state](const Status& status) {
      s->done = true;
      s->status = status;
      if (auto h = std::exchange(s->waiter, {})) h.resume();
    };
  }
  bool await_ready() const noexcept { return state->done; }
  void await_suspend(std::coroutine_handle<> h) { state->waiter = h; }
  void await_resume() const { throwIfError(state->status); }
};

// The effective range of a list() call: the tighter of start/startAfter and prefix, and of end
// and the first key after every key with the prefix.
KeyRange rangeOf(const StorageListOptions& options) {
  if (options.start && options.startAfter) {
    throw Error(Status::invalidArgument(
        "list() cannot be called with both start and startAfter values."));
  }
  if (options.limit && *options.limit == 0) {
    throw Error(Status::invalidArgument("List limit must be positive."));
  }
  KeyRange range;
  range.reverse = options.reverse;
  range.limit = options.limit;
  if (options.start) {
    range.lower = *options.start;
  } else if (options.startAfter) {
    range.lower = *options.startAfter;
    range.lowerInclusive = false;
  }
  range.upper = options.end;
  if (options.prefix && !options.prefix->empty()) {
    const std::string& prefix = *options.prefix;
    if (!range.lower || *range.lower < prefix) {
      range.lower = prefix;
      range.lowerInclusive = true;
    }
    // The smallest string greater than every string with this prefix.
    std::string after = prefix;
    while (!after.empty() && static_cast<unsigned char>(after.back()) == 0xff) after.pop_back();
    if (!after.empty()) {
      after.back() = static_cast<char>(static_cast<unsigned char>(after.back()) + 1);
      if (!range.upper || after < *range.upper) range.upper = after;
    }
  }
  return range;
}

bool inRange(const KeyRange& range, std::string_view key) {
  if (range.lower) {
    if (range.lowerInclusive ? key < *range.lower : key <= *range.lower) return false;
  }
  if (range.upper && key >= *range.upper) return false;
  return true;
}

// Lists the entries of an ordered map (key -> optional value) that fall in `range`.
template <typename Map, typename ValueOf>
StorageEntries listMap(const Map& map, const KeyRange& range, ValueOf valueOf) {
  StorageEntries out;
  auto take = [&](const auto& kv) {
    if (!inRange(range, kv.first)) return true;
    const std::optional<std::string>& value = valueOf(kv.second);
    if (value) out.emplace_back(kv.first, *value);
    return !range.limit || out.size() < *range.limit;
  };
  if (range.reverse) {
    for (auto it = map.rbegin(); it != map.rend(); ++it) {
      if (!take(*it)) break;
    }
  } else {
    for (const auto& kv : map) {
      if (!take(kv)) break;
    }
  }
  return out;
}

// What the shard reports once a commit holding `ops` is durable.
CommitNotice noticeFor(uint64_t storeId, uint64_t writeNumber, const std::vector<KvOp>& ops) {
  CommitNotice notice{storeId, writeNumber};
  for (const KvOp& op : ops) {
    if (op.kind == KvOp::Kind::kSetAlarm) {
      notice.alarm = CommitNotice::Alarm::kSet;
      notice.alarmMs = op.alarmMs();
    } else if (op.kind == KvOp::Kind::kDeleteAlarm) {
      notice.alarm = CommitNotice::Alarm::kDeleted;
    }
  }
  return notice;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Transactions: writes collect in an overlay and join the object's write buffer only when the
// callback returns, all at once (so they commit together); a throw or rollback() discards them.

class TransactionImpl final : public StorageTransaction {
 public:
  explicit TransactionImpl(ObjectStore& store) : store_(store) {}

  Task<std::optional<std::string>> get(std::string key, StorageGetOptions options) override {
    throwIfError(checkKey(limits(), key));
    if (auto it = overlay_.find(key); it != overlay_.end()) co_return it->second;
    co_return co_await store_.get(std::move(key), options);
  }
  Task<StorageEntries> get(std::vector<std::string> keys, StorageGetOptions options) override {
    throwIfError(checkBatch(limits(), keys.size()));
    std::map<std::string, std::string> found;
    for (std::string& key : keys) {
      std::optional<std::string> v = co_await get(key, options);
      if (v) found.emplace(std::move(key), std::move(*v));
    }
    co_return StorageEntries(found.begin(), found.end());
  }
  void put(std::string key, std::string value, StoragePutOptions) override {
    throwIfError(checkValue(limits(), key, value));
    overlay_[key] = value;
    ops_.push_back(KvOp{KvOp::Kind::kPut, std::move(key), std::move(value)});
  }
  void put(StorageEntries entries, StoragePutOptions options) override {
    throwIfError(checkBatch(limits(), entries.size()));
    for (const auto& [k, v] : entries) throwIfError(checkValue(limits(), k, v));
    for (auto& [k, v] : entries) put(std::move(k), std::move(v), options);
  }
  Task<bool> delete_(std::string key, StoragePutOptions) override {
    bool existed = (co_await get(key, {})).has_value();
    overlay_[key] = std::nullopt;
    ops_.push_back(KvOp{KvOp::Kind::kDelete, std::move(key), {}});
    co_return existed;
  }
  Task<size_t> delete_(std::vector<std::string> keys, StoragePutOptions options) override {
    throwIfError(checkBatch(limits(), keys.size()));
    for (const auto& k : keys) throwIfError(checkKey(limits(), k));
    size_t count = 0;
    for (std::string& key : keys) count += (co_await delete_(std::move(key), options)) ? 1 : 0;
    co_return count;
  }
  Task<StorageEntries> list(StorageListOptions options) override {
    KeyRange range = rangeOf(options);
    std::map<std::string, std::optional<std::string>> merged;
    StorageListOptions unlimited = options;
    unlimited.limit.reset();
    for (auto& [k, v] : co_await store_.list(unlimited)) merged.emplace(std::move(k), std::move(v));
    for (const auto& [k, v] : overlay_) {
      if (inRange(range, k)) merged[k] = v;
    }
    co_return listMap(merged, range, [](const std::optional<std::string>& v) -> const auto& {
      return v;
    });
  }
  void rollback() override {
    rolledBack_ = true;
    ops_.clear();
    overlay_.clear();
  }

  bool rolledBack() const { return rolledBack_; }
  std::vector<KvOp> takeOps() { return std::move(ops_); }

 private:
  const KvLimits& limits() const;

  ObjectStore& store_;
  std::map<std::string, std::optional<std::string>> overlay_;
  std::vector<KvOp> ops_;
  bool rolledBack_ = false;
};

// ---------------------------------------------------------------------------------------------

void ObjectStore::throwIfShardFailed() const { throwIfError(shard_.failure()); }

ObjectStore::ObjectStore(ShardStorage& shard, std::string ns, ObjectId id, ObjectStoreHooks& hooks,
                         bool sqlBacked)
    : shard_(shard), ns_(std::move(ns)), id_(std::move(id)), hooks_(hooks), sqlBacked_(sqlBacked) {
  storeId_ = shard_.registerStore(*this);
  slot_ = shard_.slotFor(ns_, id_, storeId_);
  if (sqlBacked_) slot_->flavor = SqliteDb::Flavor::kSqlite;
}

ObjectStore::~ObjectStore() {
  // Writes never flushed (the object is going away after a failure) must not reach the file.
  if (sqlBacked_ && slot_->state == DbSlot::State::kOpen) slot_->db->rollbackTurn();
  shard_.unregisterStore(*this);  // first: a log-only object's cache becomes its database
  dropCache();
  shard_.releaseSlot(slot_);
}

const KvLimits& ObjectStore::limits() const {
  return sqlBacked_ ? shard_.sqliteKvLimits() : shard_.limits();
}

const KvLimits& TransactionImpl::limits() const { return store_.limits(); }

std::optional<std::optional<std::string>> ObjectStore::readNow(const std::string& key,
                                                                bool noCache) {
  if (auto it = cache_.find(key); it != cache_.end()) {
    if (it->second.inLru) shard_.cacheTouch(*this, it->first);
    return it->second.value;
  }
  if (slot_->state == DbSlot::State::kFailed) throwIfError(shard_.database(slot_, false).status());
  if (complete_) return std::optional<std::string>();
  Result<SqliteDb*> db = static_cast<SqliteDb*>(nullptr);
  if (sqlBacked_) {
    db = sqlDatabase(/*create=*/false);
  } else {
    if (slot_->state == DbSlot::State::kRetiring) return std::nullopt;
    db = shard_.database(slot_, /*create=*/false);
  }
  throwIfError(db.status());
  if (*db == nullptr) {
    // No database file: nothing was ever stored, so the cache (with the writes in it) is complete.
    complete_ = true;
    return std::optional<std::string>();
  }
  Result<std::optional<std::string>> value = (*db)->get(key);
  throwIfError(value.status());
  if (!noCache) {
    auto [it, inserted] = cache_.emplace(key, CacheEntry{*value});
    cacheClean(it->first, it->second);  // may evict it again at once: do not touch `it` after
  }
  return std::move(value).value();
}

Task<void> ObjectStore::waitForDatabase(bool allowConcurrency) {
  std::unique_ptr<ObjectStoreHooks::InputLock> lock;
  if (!allowConcurrency) lock = hooks_.lockInput();
  co_await SlotReturned{slot_};
}

Task<std::optional<std::string>> ObjectStore::read(std::string key, bool allowConcurrency,
                                                   bool noCache) {
  for (;;) {
    std::optional<std::optional<std::string>> value = readNow(key, noCache);
    if (value) co_return std::move(*value);
    co_await waitForDatabase(allowConcurrency);
  }
}

Task<std::optional<std::string>> ObjectStore::get(std::string key, StorageGetOptions options) {
  throwIfShardFailed();
  throwIfError(checkKey(limits(), key));
  return read(std::move(key), options.allowConcurrency, options.noCache);
}

Task<StorageEntries> ObjectStore::get(std::vector<std::string> keys, StorageGetOptions options) {
  throwIfShardFailed();
  throwIfError(checkBatch(limits(), keys.size()));
  for (const auto& key : keys) throwIfError(checkKey(limits(), key));
  std::map<std::string, std::string> found;
  for (std::string& key : keys) {
    std::optional<std::string> value = co_await read(key, options.allowConcurrency, options.noCache);
    if (value) found.emplace(std::move(key), std::move(*value));
  }
  co_return StorageEntries(found.begin(), found.end());
}

void ObjectStore::write(std::string key, std::optional<std::string> value,
                        const StoragePutOptions& options) {
  if (sqlBacked_) {
    KvOp op = value ? KvOp{KvOp::Kind::kPut, key, *value} : KvOp{KvOp::Kind::kDelete, key, {}};
    applyNow(op);
    // The database has it now: the cache entry is an ordinary clean one.
    auto [it, inserted] = cache_.try_emplace(std::move(key));
    if (it->second.inLru) {
      shard_.cacheRemove(*this, it->first);
      it->second.inLru = false;
    }
    it->second.value = std::move(value);
    it->second.dirty = false;
    it->second.noCache = options.noCache;
    pending_.push_back(std::move(op));
    cacheClean(it->first, it->second);  // may drop it again at once: do not touch `it` after
    return;
  }
  auto [it, inserted] = cache_.try_emplace(key);
  CacheEntry& entry = it->second;
  if (entry.inLru) {
    shard_.cacheRemove(*this, it->first);
    entry.inLru = false;
  }
  entry.value = value;
  entry.dirty = true;
  entry.noCache = options.noCache;
  if (value) {
    pending_.push_back(KvOp{KvOp::Kind::kPut, std::move(key), std::move(*value)});
  } else {
    pending_.push_back(KvOp{KvOp::Kind::kDelete, std::move(key), {}});
  }
}

void ObjectStore::markWritten(const StoragePutOptions& options) {
  if (!options.allowUnconfirmed) pendingWriteNumber_ = hooks_.beginWrite();
  shard_.markDirty(*this);
  hooks_.storageBusyChanged();
}

void ObjectStore::put(std::string key, std::string value, StoragePutOptions options) {
  throwIfShardFailed();
  throwIfError(checkValue(limits(), key, value));
  write(std::move(key), std::move(value), options);
  markWritten(options);
}

void ObjectStore::put(StorageEntries entries, StoragePutOptions options) {
  throwIfShardFailed();
  throwIfError(checkBatch(limits(), entries.size()));
  // Check everything first: an invalid entry must leave the batch entirely unwritten.
  for (const auto& [k, v] : entries) throwIfError(checkValue(limits(), k, v));
  if (entries.empty()) return;
  for (auto& [k, v] : entries) write(std::move(k), std::move(v), options);
  markWritten(options);
}

Task<bool> ObjectStore::delete_(std::string key, StoragePutOptions options) {
  throwIfShardFailed();
  throwIfError(checkKey(limits(), key));
  bool existed = (co_await read(key, options.allowConcurrency, options.noCache)).has_value();
  write(std::move(key), std::nullopt, options);
  markWritten(options);
  co_return existed;
}

Task<size_t> ObjectStore::delete_(std::vector<std::string> keys, StoragePutOptions options) {
  throwIfShardFailed();
  throwIfError(checkBatch(limits(), keys.size()));
  for (const auto& key : keys) throwIfError(checkKey(limits(), key));
  size_t existed = 0;
  for (const std::string& key : keys) {
    if ((co_await read(key, options.allowConcurrency, options.noCache)).has_value()) ++existed;
  }
  if (keys.empty()) co_return 0;
  for (std::string& key : keys) write(std::move(key), std::nullopt, options);
  markWritten(options);
  co_return existed;
}

Task<void> ObjectStore::deleteAll(StoragePutOptions options) {
  throwIfShardFailed();
  if (sqlBacked_) {
    applyNow(KvOp{KvOp::Kind::kDeleteAll, {}, {}});
    if (shard_.deleteAllDeletesAlarm()) applyNow(KvOp::deleteAlarm());
  }
  dropCache();
  complete_ = true;
  pending_.push_back(KvOp{KvOp::Kind::kDeleteAll, {}, {}});
  if (shard_.deleteAllDeletesAlarm()) {
    pending_.push_back(KvOp::deleteAlarm());
    alarm_.emplace(std::nullopt);
    if (inAlarmHandler_) alarmChangedInHandler_ = true;
  }
  markWritten(options);
  co_return;
}

Task<std::optional<int64_t>> ObjectStore::getAlarm(StorageGetOptions options) {
  throwIfShardFailed();
  for (;;) {
    if (inAlarmHandler_ && !alarmChangedInHandler_) co_return std::nullopt;
    if (alarm_) co_return *alarm_;
    if (complete_ && pending_.empty() && slot_->state == DbSlot::State::kAbsent) {
      alarm_.emplace(std::nullopt);
      continue;
    }
    if (slot_->state == DbSlot::State::kRetiring && !sqlBacked_) {
      co_await waitForDatabase(options.allowConcurrency);
      continue;
    }
    Result<SqliteDb*> db = sqlBacked_ ? sqlDatabase(false) : shard_.database(slot_, /*create=*/false);
    throwIfError(db.status());
    if (*db == nullptr) {
      alarm_.emplace(std::nullopt);
      continue;
    }
    Result<std::optional<int64_t>> stored = (*db)->getAlarm();
    throwIfError(stored.status());
    // Unflushed alarm changes are already in alarm_, so the database's value is current.
    alarm_.emplace(*stored);
  }
}

void ObjectStore::setAlarm(int64_t scheduledTimeMs, StoragePutOptions options) {
  throwIfShardFailed();
  if (sqlBacked_) applyNow(KvOp::setAlarm(scheduledTimeMs));
  alarm_.emplace(scheduledTimeMs);
  if (inAlarmHandler_) alarmChangedInHandler_ = true;
  pending_.push_back(KvOp::setAlarm(scheduledTimeMs));
  markWritten(options);
}

void ObjectStore::deleteAlarm(StoragePutOptions options) {
  throwIfShardFailed();
  if (sqlBacked_) applyNow(KvOp::deleteAlarm());
  alarm_.emplace(std::nullopt);
  if (inAlarmHandler_) alarmChangedInHandler_ = true;
  pending_.push_back(KvOp::deleteAlarm());
  markWritten(options);
}

void ObjectStore::forgetStaleAlarm() { shard_.forgetAlarm(ns_, id_.bytes()); }

void ObjectStore::beginAlarmHandler() {
  inAlarmHandler_ = true;
  alarmChangedInHandler_ = false;
}

void ObjectStore::endAlarmHandler(bool succeeded, int64_t scheduledTimeMs) {
  bool changed = alarmChangedInHandler_;
  inAlarmHandler_ = false;
  alarmChangedInHandler_ = false;
  if (succeeded && !changed) deleteAlarmIfStill(scheduledTimeMs);
}

void ObjectStore::deleteAlarmIfStill(int64_t scheduledTimeMs) {
  // alarm_ is loaded: the alarm event read it before running the handler.
  if (alarm_ && *alarm_ && **alarm_ == scheduledTimeMs) deleteAlarm();
}

Task<StorageEntries> ObjectStore::list(StorageListOptions options) {
  throwIfShardFailed();
  if (sqlBacked_) co_return listNow(options);
  KeyRange range = rangeOf(options);
  if (complete_) {
    co_return listMap(cache_, range, [](const CacheEntry& e) -> const auto& { return e.value; });
  }
  // Commit buffered writes first, so the database holds every write the object made. The flush
  // itself may hand the database to the retirer (its WAL grew too big): wait for it again then.
  for (;;) {
    while (slot_->state == DbSlot::State::kRetiring) {
      co_await waitForDatabase(options.allowConcurrency);
    }
    if (!pending_.empty()) throwIfError(flushNowForRead());
    if (slot_->state != DbSlot::State::kRetiring) break;
  }
  StorageEntries out;
  if (complete_) {
    co_return listMap(cache_, range, [](const CacheEntry& e) -> const auto& { return e.value; });
  }
  Result<SqliteDb*> db = shard_.database(slot_, /*create=*/false);
  throwIfError(db.status());
  if (*db == nullptr) co_return out;
  throwIfError((*db)->list(range, [&](std::string_view k, std::string_view v) {
    out.emplace_back(k, v);
    return true;
  }));
  co_return out;
}

Status ObjectStore::flushNowForRead() {
  std::string log;
  std::vector<CommitNotice> notify;
  if (!flushInto(log, notify)) return Status::internal("database unavailable");
  shard_.submitNow(std::move(log), std::move(notify));
  return Status::ok();
}

Task<void> ObjectStore::transaction(std::function<Task<void>(StorageTransaction&)> fn) {
  throwIfShardFailed();
  // No other event runs while the transaction is open, so it is serializable.
  std::unique_ptr<ObjectStoreHooks::InputLock> lock = hooks_.lockInput();
  std::function<Task<void>(StorageTransaction&)> keepFn = std::move(fn);  // owns the lambda
  TransactionImpl txn(*this);
  if (sqlBacked_) {
    // A savepoint, so that SQL run inside the callback is undone with it.
    int depth = beginNested();
    bool threw = false;
    try {
      co_await keepFn(txn);
    } catch (...) {
      threw = true;
      endNested(depth, /*commit=*/false);
      throw;
    }
    if (!threw && txn.rolledBack()) {
      endNested(depth, /*commit=*/false);
      co_return;
    }
    std::vector<KvOp> ops = txn.takeOps();
    try {
      for (KvOp& op : ops) {
        write(std::move(op.key),
              op.kind == KvOp::Kind::kPut ? std::optional<std::string>(std::move(op.value))
                                          : std::nullopt,
              {});
      }
    } catch (...) {
      endNested(depth, /*commit=*/false);
      throw;
    }
    if (!ops.empty()) markWritten({});
    endNested(depth, /*commit=*/true);
    co_return;
  }
  co_await keepFn(txn);
  if (txn.rolledBack()) co_return;
  std::vector<KvOp> ops = txn.takeOps();
  if (ops.empty()) co_return;
  // All at once, without suspending: they join one commit.
  for (KvOp& op : ops) {
    if (op.kind == KvOp::Kind::kPut) {
      write(std::move(op.key), std::move(op.value), {});
    } else {
      write(std::move(op.key), std::nullopt, {});
    }
  }
  markWritten({});
}

Task<void> ObjectStore::sync() {
  StatusWaiter waiter;
  hooks_.whenDurable(waiter.callback());
  co_await waiter;
}

bool ObjectStore::flushInto(std::string& log, std::vector<CommitNotice>& notify) {
  if (sqlBacked_) return flushSqlInto(log, notify);
  if (pending_.empty()) return true;
  if (slot_->state == DbSlot::State::kRetiring) return false;
  Status status;
  if (slot_->state == DbSlot::State::kUnknown) {
    status = shard_.database(slot_, /*create=*/false).status();  // finds out whether a file exists
  }
  // A new object gets no database file here: its commits live in the log, and in the cache
  // (pinned), until the retirer creates the file in the background (ShardStorage::materialize).
  // Creating files is the slowest thing a filesystem does; the loop never waits for it.
  const bool logOnly = status.isOk() && (slot_->state == DbSlot::State::kAbsent ||
                                         slot_->state == DbSlot::State::kLogOnly);
  uint64_t seq = 0;
  SqliteDb* db = nullptr;
  if (status.isOk() && logOnly) {
    seq = ++logOnlySeq_;
  } else if (status.isOk()) {
    Result<SqliteDb*> opened = shard_.database(slot_, /*create=*/true);
    status = opened.status();
    if (status.isOk()) {
      db = *opened;
      seq = db->appliedSeq() + 1;
      status = db->apply(pending_, seq);
    }
  }
  if (!status.isOk()) {
    // Nothing of this commit is applied or logged: the object is reset and starts over from disk.
    hooks_.storageFailed(status);
    return true;
  }
  CommitRecord record{ns_, id_.bytes(), seq, std::move(pending_)};
  pending_.clear();
  if (Status framed = appendFramedRecord(log, encodeCommitRecord(record)); !framed) {
    // Unreachable within the KV limits (a commit is at most 128 values of 128 KiB).
    hooks_.storageFailed(framed);
    return true;
  }
  if (logOnly) {
    // The cache holds every key of a new object; its entries stay pinned until materialized.
    complete_ = true;
    if (slot_->state != DbSlot::State::kLogOnly) {
      slot_->state = DbSlot::State::kLogOnly;
      shard_.trackLogOnly(*this);
    }
    for (const KvOp& op : record.ops) logOnlyBytes_ += op.key.size() + op.value.size() + 96;
  } else {
    for (const KvOp& op : record.ops) {
      if (op.kind != KvOp::Kind::kPut && op.kind != KvOp::Kind::kDelete) continue;
      auto it = cache_.find(op.key);
      if (it != cache_.end() && it->second.dirty) {
        it->second.dirty = false;
        cacheClean(it->first, it->second);
      }
    }
  }
  notify.push_back(noticeFor(storeId_, pendingWriteNumber_, record.ops));
  pendingWriteNumber_ = 0;
  ++inFlight_;
  if (logOnly && logOnlyBytes_ > kMaxLogOnlyBytes) shard_.materialize(*this);
  if (db != nullptr && db->walPages() > shard_.walPagesBeforeCheckpoint()) shard_.retire(*slot_);
  return true;
}

std::vector<KvOp> ObjectStore::snapshotForMaterialize(uint64_t* seq) const {
  *seq = logOnlySeq_;
  std::vector<KvOp> ops;
  ops.reserve(cache_.size() + 1);
  for (const auto& [key, entry] : cache_) {
    if (entry.value) ops.push_back(KvOp{KvOp::Kind::kPut, key, *entry.value});
  }
  if (alarm_ && *alarm_) ops.push_back(KvOp::setAlarm(**alarm_));
  return ops;
}

void ObjectStore::materialized() {
  logOnlyBytes_ = 0;
  // Entries written since the snapshot stay pinned until their own flush; the rest are ordinary
  // clean entries now.
  std::set<std::string_view> pendingKeys;
  for (const KvOp& op : pending_) pendingKeys.insert(op.key);
  std::vector<std::string> clean;
  for (auto& [key, entry] : cache_) {
    if (entry.dirty && !pendingKeys.contains(key)) clean.push_back(key);
  }
  for (const std::string& key : clean) {
    auto it = cache_.find(key);
    if (it == cache_.end()) continue;
    it->second.dirty = false;
    cacheClean(it->first, it->second);  // may evict entries, hence the lookup per key
  }
}

void ObjectStore::commitFinished(uint64_t writeNumber, const Status& status) {
  --inFlight_;
  if (!status.isOk()) {
    hooks_.storageFailed(status);
  } else if (writeNumber != 0) {
    hooks_.writesDurableThrough(writeNumber);
  }
  if (!busy()) hooks_.storageBusyChanged();
}

void ObjectStore::cacheClean(const std::string& key, CacheEntry& entry) {
  if (entry.noCache) {
    cache_.erase(key);
    complete_ = false;
    return;
  }
  entry.inLru = true;
  size_t bytes = key.size() + (entry.value ? entry.value->size() : 0) + 96;
  shard_.cacheAdd(*this, key, bytes);
}

void ObjectStore::evictCacheEntry(const std::string& key) {
  auto it = cache_.find(key);
  if (it == cache_.end()) return;
  shard_.cacheRemove(*this, it->first);
  cache_.erase(it);
  complete_ = false;
}

void ObjectStore::dropCache() {
  for (auto& [key, entry] : cache_) {
    if (entry.inLru) shard_.cacheRemove(*this, key);
  }
  cache_.clear();
  complete_ = false;
}

void ObjectStore::discardVolatileState() {
  if (sqlBacked_ && slot_->state == DbSlot::State::kOpen) slot_->db->rollbackTurn();
  nestedMarks_.clear();
  flushDeferred_ = false;
  dropCache();
  alarm_.reset();
  inAlarmHandler_ = false;
  alarmChangedInHandler_ = false;
  pending_.clear();
  pendingWriteNumber_ = 0;
  hooks_.storageBusyChanged();
}

// ---------------------------------------------------------------------------------------------
// SQLite-backed objects. Every write goes into the database at once, inside the "turn"
// transaction (SqliteDb::beginTurn), and into pending_ for the log; the end-of-turn flush commits
// the transaction and logs pending_ as one record. Savepoints nest inside the turn for
// transactionSync() and transaction(). The database stays open while the turn is open (the shard
// never retires it then), and a synchronous call that finds it being retired waits for it.

class ObjectStore::SqlApi final : public SqlStorage {
 public:
  explicit SqlApi(ObjectStore& store) : store_(store) {}
  SqlResult exec(std::string_view query, std::vector<SqlValue> bindings) override {
    return store_.execSql(query, std::move(bindings));
  }
  uint64_t databaseSize() override {
    store_.throwIfShardFailed();
    Result<uint64_t> size = store_.sqlDatabase(/*create=*/true)->databaseSize();
    throwIfError(size.status());
    return *size;
  }

 private:
  ObjectStore& store_;
};

class ObjectStore::SyncKvApi final : public SyncKv {
 public:
  explicit SyncKvApi(ObjectStore& store) : store_(store) {}
  std::optional<std::string> get(std::string_view key) override {
    store_.throwIfShardFailed();
    throwIfError(checkKey(store_.limits(), key));
    // Never empty for a SQLite-backed object: it reads synchronously.
    return *store_.readNow(std::string(key), /*noCache=*/false);
  }
  void put(std::string key, std::string value) override { store_.put(std::move(key), std::move(value)); }
  bool delete_(std::string_view key) override {
    store_.throwIfShardFailed();
    throwIfError(checkKey(store_.limits(), key));
    bool existed = store_.readNow(std::string(key), false)->has_value();
    store_.write(std::string(key), std::nullopt, {});
    store_.markWritten({});
    return existed;
  }
  StorageEntries list(StorageListOptions options) override { return store_.listNow(options); }

 private:
  ObjectStore& store_;
};

SqlStorage* ObjectStore::sql() {
  if (!sqlBacked_) return nullptr;
  if (!sqlApi_) sqlApi_ = std::make_unique<SqlApi>(*this);
  return sqlApi_.get();
}

SyncKv* ObjectStore::kv() {
  if (!sqlBacked_) return nullptr;
  if (!kvApi_) kvApi_ = std::make_unique<SyncKvApi>(*this);
  return kvApi_.get();
}

SqliteDb* ObjectStore::sqlDatabase(bool create) {
  Result<SqliteDb*> db = shard_.databaseNow(slot_, create);
  throwIfError(db.status());
  if (*db != nullptr) throwIfError((*db)->enableUserSql(shard_.sqlLimits()));
  return *db;
}

void ObjectStore::applyNow(const KvOp& op) {
  SqliteDb* db = sqlDatabase(/*create=*/true);
  Status status = db->applyInTurn(op);
  if (!status.isOk() && !db->inTurn()) restoreTurn(*db);
  throwIfError(status);
}

void ObjectStore::restoreTurn(SqliteDb& db) {
  if (pending_.empty() && nestedMarks_.empty()) return;  // nothing was lost
  Status status = db.beginTurn();
  size_t nested = 0;
  for (size_t i = 0; status.isOk() && i <= pending_.size(); ++i) {
    while (status.isOk() && nested < nestedMarks_.size() && nestedMarks_[nested] == i) {
      status = db.savepoint(static_cast<int>(++nested));
    }
    if (status.isOk() && i < pending_.size()) status = db.applyInTurn(pending_[i]);
  }
  if (!status.isOk()) {
    hooks_.storageFailed(Status::storage("cannot restore the object's uncommitted writes after an "
                                         "error: " + status.message()));
  }
}

SqlResult ObjectStore::execSql(std::string_view query, std::vector<SqlValue> bindings) {
  throwIfShardFailed();
  SqliteDb* db = sqlDatabase(/*create=*/true);
  thread_local std::mt19937_64 seeds{std::random_device{}()};
  SqlExecRecord record{std::string(query), std::move(bindings),
                       std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count(),
                       seeds()};
  UserSql::Outcome outcome;
  Result<SqlResult> result = db->execUserSql(record, &outcome);
  if (!result.isOk() && !db->inTurn()) {
    // The error ended the transaction; the statements of this exec that ran before the failing
    // one are gone with it too, so only the turn's earlier writes come back.
    outcome.wrote = false;
    restoreTurn(*db);
  }
  if (outcome.wrote) {
    if (outcome.appliedBytes < record.query.size()) {
      // It failed part-way: only the statements before the failing one took effect.
      record.query.resize(outcome.appliedBytes);
      record.bindings.clear();
    }
    std::string rest = encodeSqlExec(record);
    pending_.push_back(KvOp{KvOp::Kind::kSql, std::move(record.query), std::move(rest)});
    markWritten({});
  }
  return std::move(result).valueOrThrow();
}

StorageEntries ObjectStore::listNow(const StorageListOptions& options) {
  throwIfShardFailed();
  KeyRange range = rangeOf(options);
  if (complete_) {
    return listMap(cache_, range, [](const CacheEntry& e) -> const auto& { return e.value; });
  }
  StorageEntries out;
  SqliteDb* db = sqlDatabase(/*create=*/false);
  if (db == nullptr) return out;
  throwIfError(db->list(range, [&](std::string_view k, std::string_view v) {
    out.emplace_back(k, v);
    return true;
  }));
  return out;
}

int ObjectStore::beginNested() {
  throwIfShardFailed();
  int depth = static_cast<int>(nestedMarks_.size()) + 1;
  throwIfError(sqlDatabase(/*create=*/true)->savepoint(depth));
  nestedMarks_.push_back(pending_.size());
  return depth;
}

void ObjectStore::endNested(int depth, bool commit) {
  if (nestedMarks_.size() != static_cast<size_t>(depth)) return;  // the object was reset meanwhile
  const size_t pendingMark = nestedMarks_.back();
  nestedMarks_.pop_back();
  SqliteDb* db = slot_->state == DbSlot::State::kOpen ? slot_->db.get() : nullptr;
  Status status = db == nullptr ? Status::internal("the object's database closed in a transaction")
                  : commit      ? db->releaseSavepoint(depth)
                                : db->rollbackToSavepoint(depth);
  if (!commit && status.isOk()) {
    // The database is back as it was; what memory knew since then is forgotten and re-read.
    pending_.erase(pending_.begin() + static_cast<std::ptrdiff_t>(std::min(pendingMark, pending_.size())),
                   pending_.end());
    dropCache();
    alarm_.reset();
  }
  if (!status.isOk()) {
    hooks_.storageFailed(status);
    return;
  }
  // The outermost end: a flush deferred meanwhile happens now. (A write number taken inside an
  // undone part still needs its, possibly empty, commit.)
  if (nestedMarks_.empty() && (std::exchange(flushDeferred_, false) || pendingWriteNumber_ != 0)) {
    shard_.markDirty(*this);
  }
}

void ObjectStore::transactionSync(const std::function<void()>& fn) {
  if (!sqlBacked_) {
    // As workerd: a key-value-backed object just runs the callback (there is no SQL to undo).
    fn();
    return;
  }
  int depth = beginNested();
  try {
    fn();
  } catch (...) {
    endNested(depth, /*commit=*/false);
    throw;
  }
  endNested(depth, /*commit=*/true);
}

bool ObjectStore::flushSqlInto(std::string& log, std::vector<CommitNotice>& notify) {
  if (pending_.empty() && pendingWriteNumber_ == 0) return true;
  if (!nestedMarks_.empty()) {
    // A transaction is open across a suspension: its end commits the turn.
    flushDeferred_ = true;
    return true;
  }
  if (slot_->state != DbSlot::State::kOpen) {
    hooks_.storageFailed(Status::internal("the database of a SQLite-backed object closed mid-turn"));
    return true;
  }
  SqliteDb* db = slot_->db.get();
  uint64_t seq = db->appliedSeq() + 1;
  CommitRecord record{ns_, id_.bytes(), seq, std::move(pending_), /*sqlite=*/true};
  pending_.clear();
  // The record first: if it cannot be logged (over the log's record size), nothing commits.
  const size_t logSize = log.size();
  Status status = appendFramedRecord(log, encodeCommitRecord(record));
  if (status.isOk()) {
    status = db->commitTurn(seq);
    if (!status.isOk()) log.resize(logSize);
  } else {
    db->rollbackTurn();
    status = Status::limitExceeded("the object wrote too much in one atomic write (" +
                                   status.message() + ")");
  }
  if (!status.isOk()) {
    hooks_.storageFailed(status);
    return true;
  }
  notify.push_back(noticeFor(storeId_, pendingWriteNumber_, record.ops));
  pendingWriteNumber_ = 0;
  ++inFlight_;
  if (db->walPages() > shard_.walPagesBeforeCheckpoint()) shard_.retire(*slot_);
  return true;
}

}  // namespace duro::storage
