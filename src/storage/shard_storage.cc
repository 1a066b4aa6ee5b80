// Implementation of ShardStorage (shard_storage.h).
//
// NOTES ON THE DESIGN OF DURABLE STORAGE
//
// Each object has its own SQLite database; durability comes from one commit log per shard.
//   write (put/delete)   -> the object's write buffer and cache (reads see it at once)
//   end of the loop turn -> flushAll(): each dirty object applies its buffer to its database as
//                           one SQLite transaction (synchronous=OFF: page cache only, microseconds)
//                           and appends one record to the shard's log buffer
//                        -> GroupCommitter (its own thread) writes the buffer and fdatasyncs; one
//                           sync covers every commit of every object since the previous sync
//   durable              -> onGroupDurable(): each object's output gate opens up to its write
//
// Why a shard log rather than syncing each object's database: one fdatasync per group, whatever
// the number of objects written (measured here: ~6,500-9,000 fdatasync/s on one file, so syncing
// per object would cap a spread workload at that rate; the log groups everything of a shard).
// The loop thread never syncs: GroupCommitter and the Retirer do, on their own threads.
// Measured with bench/storage.sh on the 2-core machine (docs/benchmarks.md): probe 10,300
// fdatasync/s; one hot counter 44,000 req/s (4.3x the probe; ~107 log syncs per 1,000 requests);
// counters spread over 1,000 objects 47,700 req/s (175 syncs per 1,000 requests, one commit each).
// Alternatives considered: syncing each object's SQLite file (capped by the per-file rate above,
// and SQLite's own checkpoints would fsync on the loop thread); concurrent fsyncs of many files
// (the journal does batch them, ~40,000/s with 16 threads, but needs a thread per in-flight sync).
//
// Invariants
//  1. A record is appended to the log only after its transaction is applied to the database, and
//     the database's sequence number is stored in that same transaction; replay (recovery.cc)
//     applies a record only if its sequence is newer, so replay is idempotent.
//  2. An output is released only after the log sync covering every earlier write of its object.
//  3. A database file is modified only by the Retirer between two syncfs calls (retirer.h), so a
//     power cut cannot tear it; until then its changes live in its WAL and in the log.
//  4. A log segment is deleted only after a syncfs that followed its rotation: by (1) its records
//     are then durable in the databases' WALs.
//  5. A database slot is in exactly one state: unknown, absent (no file), open (in openLru_),
//     closed, retiring (its connection belongs to the Retirer; no one may open the file until it
//     comes back). Slots that are open or retiring are in slots_, keyed by path.
//  6. Dirty cache entries (written, not yet flushed) are never evicted; clean ones are, least
//     recently used first, when the shard exceeds its cache budget.
//
// Slot lifecycle:
//   unknown/closed --database()--> open --retire() [LRU overflow, WAL too big, object evicted]-->
//   retiring --Retirer done--> closed;   unknown --database(create=false), no file--> absent
#include "storage/shard_storage.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>

#include "base/log.h"
#include "storage/commit_log.h"

namespace duro::storage {

size_t ShardStorage::CacheKeyHash::operator()(const CacheKey& k) const noexcept {
  return std::hash<std::string_view>()(k.key) ^ (k.store * 0x9e3779b97f4a7c15ull);
}

ShardStorage::ShardStorage(base::EventLoop& loop, ShardStorageOptions options)
    : loop_(loop), options_(std::move(options)) {}

ShardStorage::~ShardStorage() { close(); }

Status ShardStorage::close() {
  if (closed_) return closeStatus_;
  closed_ = true;
  alive_.reset();  // the retirer's callbacks still queued on the loop must not come back here
  // The committer's destructor syncs what was submitted; the retirer finishes its batches.
  log_.reset();
  for (auto& [path, slot] : slots_) {
    if (slot->state == DbSlot::State::kOpen) slot->db.reset();  // closes, keeping the WAL
  }
  bool started = retirer_ != nullptr;
  bool createdAll = true;
  if (retirer_) {
    retirer_->stop();  // creates the databases of objects that had them only in the log
    createdAll = retirer_->everyCreationSucceeded();
    retirer_.reset();
  }
  if (!started) return closeStatus_ = Status::unavailable("storage was never started");
  if (!failure_.isOk()) return closeStatus_ = failure_;  // keep the log: the next start replays it
  if (!createdAll) {
    return closeStatus_ = Status::storage("some databases could not be created; the commit log "
                                          "is kept and replayed at the next start");
  }
  // A clean stop: once everything written is on disk, this shard's log is redundant. Deleting it
  // spares the next start a replay (after a crash the log stays and is replayed). The alarm
  // index goes to its snapshot first, since the log holds alarm changes too.
  std::filesystem::path logDir = options_.dataDir / ".commit-log";
  int fd = ::open(options_.dataDir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  bool synced = fd >= 0 && ::syncfs(fd) == 0;
  if (fd >= 0) ::close(fd);
  if (!synced) return closeStatus_ = Status::storage("cannot sync " + options_.dataDir.string());
  if (Status s = writeFileDurably(snapshotPath(), alarmIndex_.encodeSnapshot()); !s) {
    base::logWarn("storage", "keeping the commit log: " + s.message());
    return closeStatus_ = s;
  }
  Result<std::vector<SegmentFile>> segments = listSegments(logDir);
  if (!segments) return closeStatus_ = segments.status();
  for (const SegmentFile& segment : *segments) {
    if (segment.shard != options_.shard) continue;
    std::error_code ec;
    std::filesystem::remove(segment.path, ec);
  }
  return closeStatus_ = Status::ok();
}

void ShardStorage::forgetAlarm(const std::string& ns, const ObjectId::Bytes& id) {
  alarmIndex_.erase(ns, id);
}

Status ShardStorage::start() {
  for (const AlarmEntry& e : options_.initialAlarms) alarmIndex_.set(e.ns, e.id, e.timeMs);
  options_.initialAlarms.clear();
  GroupCommitOptions logOptions;
  logOptions.dir = options_.dataDir / ".commit-log";
  logOptions.shard = options_.shard;
  logOptions.firstGeneration = options_.firstLogGeneration;
  log_ = std::make_unique<GroupCommitter>(loop_, logOptions);
  if (Status s = log_->start(); !s) return s;
  retirer_ = std::make_unique<Retirer>(loop_, options_.dataDir);
  return retirer_->start();
}

std::unique_ptr<ObjectStore> ShardStorage::createStore(std::string ns, const ObjectId& id,
                                                       ObjectStoreHooks& hooks, bool sqlBacked) {
  return std::make_unique<ObjectStore>(*this, std::move(ns), id, hooks, sqlBacked);
}

ShardStorageStats ShardStorage::stats() const {
  ShardStorageStats s;
  s.commits = commits_.load(std::memory_order_relaxed);
  s.logSyncs = log_ ? log_->syncCount() : 0;
  s.openDatabases = openCount_.load(std::memory_order_relaxed);
  s.retiredDatabases = retired_.load(std::memory_order_relaxed);
  s.cacheBytes = cacheBytesSeen_.load(std::memory_order_relaxed);
  return s;
}

uint64_t ShardStorage::registerStore(ObjectStore& store) {
  uint64_t id = nextStoreId_++;
  stores_.emplace(id, &store);
  return id;
}

void ShardStorage::unregisterStore(ObjectStore& store) {
  // An object going away with data only in the log gets its database now.
  if (store.slot().state == DbSlot::State::kLogOnly) materialize(store);
  logOnly_.erase(store.storeId());
  stores_.erase(store.storeId());
  std::erase(dirty_, &store);
}

std::shared_ptr<DbSlot> ShardStorage::slotFor(const std::string& ns, const ObjectId& id,
                                              uint64_t storeId) {
  std::filesystem::path path = options_.dataDir / ns / (id.toString() + ".sqlite");
  auto it = slots_.find(path.string());
  if (it != slots_.end()) {
    it->second->ownerStoreId = storeId;
    return it->second;
  }
  if (auto failed = failedSlots_.find(path.string()); failed != failedSlots_.end()) {
    failed->second->ownerStoreId = storeId;
    return failed->second;
  }
  auto slot = std::make_shared<DbSlot>();
  slot->path = std::move(path);
  slot->ownerStoreId = storeId;
  return slot;
}

Result<SqliteDb*> ShardStorage::database(const std::shared_ptr<DbSlot>& slotPtr, bool create) {
  DbSlot& slot = *slotPtr;
  switch (slot.state) {
    case DbSlot::State::kOpen:
      openLru_.splice(openLru_.end(), openLru_, slot.lruPosition);
      return slot.db.get();
    case DbSlot::State::kRetiring:
      return Status::internal("database requested while it is being closed");
    case DbSlot::State::kFailed:
      return Status::storage("the database of this object could not be created (" +
                             slot.path.string() +
                             "); its data is kept in the commit log: restart the server");
    case DbSlot::State::kAbsent:
      if (!create) return static_cast<SqliteDb*>(nullptr);
      break;
    case DbSlot::State::kLogOnly:
      // Created only by the retirer (materialize); until then everything is in the cache.
      if (!create) return static_cast<SqliteDb*>(nullptr);
      return Status::internal("a log-only database is created by the retirer");
    case DbSlot::State::kUnknown:
    case DbSlot::State::kClosed:
      break;
  }
  if (create && !knownDirs_.contains(slot.path.parent_path().string())) {
    std::error_code ec;
    std::filesystem::create_directories(slot.path.parent_path(), ec);
    if (ec) {
      return Status::storage("cannot create " + slot.path.parent_path().string() + ": " +
                             ec.message());
    }
    knownDirs_.insert(slot.path.parent_path().string());
  }
  Result<std::unique_ptr<SqliteDb>> opened = SqliteDb::open(slot.path, create, slot.flavor);
  if (!opened) {
    if (opened.status().code() == StatusCode::kNotFound) {
      slot.state = DbSlot::State::kAbsent;
      return static_cast<SqliteDb*>(nullptr);
    }
    return opened.status();
  }
  slot.db = std::move(opened).value();
  enterLru(slot);
  // Keep the slot alive while open or retiring, even if its object goes away.
  slots_[slot.path.string()] = slotPtr;
  // Close the least recently used beyond the budget, skipping any in the middle of a SQLite-backed
  // object's turn (its uncommitted writes live in the connection until the flush).
  auto candidate = openLru_.begin();
  while (openLru_.size() > options_.maxOpenDatabases && candidate != openLru_.end()) {
    DbSlot* oldest = *candidate++;
    if (oldest == &slot) break;
    retire(*oldest);
  }
  return slot.db.get();
}

void ShardStorage::enterLru(DbSlot& slot) {
  slot.state = DbSlot::State::kOpen;
  slot.lruPosition = openLru_.insert(openLru_.end(), &slot);
  openCount_.store(openLru_.size(), std::memory_order_relaxed);
}

void ShardStorage::resumeWaiters(DbSlot& slot, bool later) {
  std::vector<std::coroutine_handle<>> waiters = std::exchange(slot.waiters, {});
  if (waiters.empty()) return;
  if (later) {
    // Inside a synchronous storage call: other code must not run on this stack.
    loop_.post([waiters = std::move(waiters)] {
      for (auto h : waiters) h.resume();
    });
    return;
  }
  for (auto h : waiters) h.resume();
}

Result<SqliteDb*> ShardStorage::databaseNow(const std::shared_ptr<DbSlot>& slot, bool create) {
  if (slot->state == DbSlot::State::kRetiring && slot->retirement) {
    std::shared_ptr<RetireTicket> ticket = slot->retirement;
    if (std::unique_ptr<SqliteDb> db = retirer_->reclaim(ticket)) {
      // Not started yet: the database comes straight back, open, with nothing to wait for.
      ticket->handled = true;
      slot->retirement.reset();
      slot->db = std::move(db);
      enterLru(*slot);
      resumeWaiters(*slot, /*later=*/true);
      return slot->db.get();
    }
    Status status = ticket->wait();
    finishRetirement(slot, status, /*resumeLater=*/true);
  }
  if (slot->state == DbSlot::State::kLogOnly) {
    return Status::internal("a SQLite-backed object's database is never log-only");
  }
  return database(slot, create);
}

void ShardStorage::finishRetirement(const std::shared_ptr<DbSlot>& keep, const Status& status,
                                    bool resumeLater) {
  if (!keep->retirement || keep->retirement->handled) return;
  keep->retirement->handled = true;
  keep->retirement.reset();
  if (!status.isOk()) base::logWarn("storage", "closing " + keep->path.string() + ": " + status.message());
  retired_.fetch_add(1, std::memory_order_relaxed);
  keep->state = DbSlot::State::kClosed;
  slots_.erase(keep->path.string());
  resumeWaiters(*keep, resumeLater);
  // Writes buffered while the database was away can be committed now.
  auto owner = stores_.find(keep->ownerStoreId);
  if (owner != stores_.end() && owner->second->busy()) markDirty(*owner->second);
}

void ShardStorage::retire(DbSlot& slot) {
  if (slot.state != DbSlot::State::kOpen) return;
  if (slot.db->inTurn()) return;
  if (retirer_->backlog() >= options_.maxOpenDatabases) {
    // The retirer is behind (a burst): close here instead, without a checkpoint. That needs no
    // sync and is always safe (the WAL stays and is read back on the next open), and it keeps
    // open files bounded: databases waiting for the retirer hold theirs.
    openLru_.erase(slot.lruPosition);
    openCount_.store(openLru_.size(), std::memory_order_relaxed);
    slot.db.reset();
    slot.state = DbSlot::State::kClosed;
    slots_.erase(slot.path.string());
    return;
  }
  openLru_.erase(slot.lruPosition);
  openCount_.store(openLru_.size(), std::memory_order_relaxed);
  slot.state = DbSlot::State::kRetiring;
  std::shared_ptr<DbSlot> keep = slots_[slot.path.string()];
  auto ticket = std::make_shared<RetireTicket>();
  keep->retirement = ticket;
  retirer_->retire(
      std::move(slot.db),
      [this, alive = std::weak_ptr<bool>(alive_), keep, ticket](const Status& status) {
        if (alive.expired()) return;  // this shard's storage was closed meanwhile
        // A synchronous caller may have given the slot back already (databaseNow).
        if (keep->retirement == ticket) finishRetirement(keep, status, /*resumeLater=*/false);
      },
      ticket);
}

void ShardStorage::releaseSlot(std::shared_ptr<DbSlot> slot) {
  // The object is going away: its database is closed (safely, by the retirer).
  if (slot->state == DbSlot::State::kOpen) retire(*slot);
}

void ShardStorage::materialize(ObjectStore& store) {
  DbSlot& slot = store.slot();
  if (slot.state != DbSlot::State::kLogOnly) return;
  // After a log failure memory may hold writes that never became durable: only a restart's
  // replay may create databases from the log then.
  if (!failure_.isOk()) return;
  logOnly_.erase(store.storeId());
  std::shared_ptr<DbSlot> keep = store.slotShared();
  slots_[slot.path.string()] = keep;
  slot.state = DbSlot::State::kRetiring;
  uint64_t seq = 0;
  std::vector<KvOp> ops = store.snapshotForMaterialize(&seq);
  if (!knownDirs_.contains(slot.path.parent_path().string())) {
    std::error_code ec;
    std::filesystem::create_directories(slot.path.parent_path(), ec);
    knownDirs_.insert(slot.path.parent_path().string());
  }
  auto done = [this, alive = std::weak_ptr<bool>(alive_), keep](const Status& status) {
    if (alive.expired()) return;  // this shard's storage was closed meanwhile
    slots_.erase(keep->path.string());
    auto owner = stores_.find(keep->ownerStoreId);
    if (status.isOk()) {
      keep->state = DbSlot::State::kClosed;
      retired_.fetch_add(1, std::memory_order_relaxed);
    } else {
      // The data is only in the log now (kept until the next start, which replays it). The slot
      // stays known so that this object refuses storage calls instead of looking empty.
      base::logError("storage", "creating " + keep->path.string() + ": " + status.message() +
                                    "; the object's data stays in the commit log until restart");
      keep->state = DbSlot::State::kFailed;
      failedSlots_[keep->path.string()] = keep;
    }
    resumeWaiters(*keep, /*later=*/false);
    if (owner != stores_.end()) {
      if (status.isOk()) owner->second->materialized();
      if (!status.isOk()) owner->second->discardVolatileState();
      if (owner->second->busy()) markDirty(*owner->second);
    }
  };
  retirer_->materialize(slot.path, std::move(ops), seq, std::move(done));
}

void ShardStorage::markDirty(ObjectStore& store) {
  if (!store.dirtyScheduled) {
    store.dirtyScheduled = true;
    dirty_.push_back(&store);
  }
  if (!flushScheduled_) {
    flushScheduled_ = true;
    loop_.post([this] { flushAll(); });
  }
}

void ShardStorage::flushAll() {
  flushScheduled_ = false;
  std::vector<ObjectStore*> dirty;
  dirty.swap(dirty_);
  std::string log;
  std::vector<CommitNotice> notify;
  for (ObjectStore* store : dirty) {
    store->dirtyScheduled = false;
    // false: its database is being retired; the retirer's callback marks it dirty again.
    store->flushInto(log, notify);
  }
  submitNow(std::move(log), std::move(notify));
}

void ShardStorage::submitNow(std::string log, std::vector<CommitNotice> notify) {
  if (notify.empty()) return;
  commits_.fetch_add(notify.size(), std::memory_order_relaxed);
  log_->submit(std::move(log), [this, notify = std::move(notify)](const Status& status) mutable {
    onGroupDurable(std::move(notify), status);
  });
  std::vector<std::filesystem::path> retiredSegments = log_->takeRetiredSegments();
  if (!retiredSegments.empty()) {
    // Objects whose data is only in the log get their databases before any segment goes.
    std::vector<uint64_t> logOnly(logOnly_.begin(), logOnly_.end());
    for (uint64_t id : logOnly) {
      auto it = stores_.find(id);
      if (it != stores_.end()) materialize(*it->second);
    }
    // The segments' alarm changes must outlive them: a snapshot of the index goes first.
    retirer_->deleteSegmentsAfterSync(std::move(retiredSegments), snapshotPath(),
                                      alarmIndex_.encodeSnapshot());
  }
}

std::filesystem::path ShardStorage::snapshotPath() const {
  return alarmSnapshotDir(options_.dataDir) /
         ("shard-" + std::to_string(options_.shard) + ".snapshot");
}

void ShardStorage::onGroupDurable(std::vector<CommitNotice> notify, const Status& status) {
  if (!status.isOk() && failure_.isOk()) {
    failure_ = Status::storage("the commit log of shard " + std::to_string(options_.shard) +
                               " failed (" + status.message() +
                               "); restart the server to recover what was acknowledged");
    base::logError("storage", failure_.message());
  }
  for (const CommitNotice& notice : notify) {
    auto it = stores_.find(notice.storeId);
    if (it == stores_.end()) continue;
    ObjectStore& store = *it->second;
    if (status.isOk() && notice.alarm != CommitNotice::Alarm::kUnchanged) {
      std::optional<int64_t> time;
      if (notice.alarm == CommitNotice::Alarm::kSet) {
        time = notice.alarmMs;
        alarmIndex_.set(store.ns(), store.id().bytes(), notice.alarmMs);
      } else {
        alarmIndex_.erase(store.ns(), store.id().bytes());
      }
      if (alarmListener_) alarmListener_(store.ns(), store.id().bytes(), time);
    }
    store.commitFinished(notice.writeNumber, status);
  }
}

void ShardStorage::cacheAdd(ObjectStore& store, const std::string& key, size_t bytes) {
  CacheKey k{store.storeId(), key};
  auto node = cacheLru_.insert(cacheLru_.end(), CacheNode{&store, &key, bytes});
  cacheIndex_[k] = node;
  cacheBytes_ += bytes;
  evictCache();
  cacheBytesSeen_.store(cacheBytes_, std::memory_order_relaxed);
}

void ShardStorage::cacheTouch(ObjectStore& store, const std::string& key) {
  auto it = cacheIndex_.find(CacheKey{store.storeId(), key});
  if (it != cacheIndex_.end()) cacheLru_.splice(cacheLru_.end(), cacheLru_, it->second);
}

void ShardStorage::cacheRemove(ObjectStore& store, const std::string& key) {
  auto it = cacheIndex_.find(CacheKey{store.storeId(), key});
  if (it == cacheIndex_.end()) return;
  cacheBytes_ -= it->second->bytes;
  cacheLru_.erase(it->second);
  cacheIndex_.erase(it);
  cacheBytesSeen_.store(cacheBytes_, std::memory_order_relaxed);
}

void ShardStorage::evictCache() {
  while (cacheBytes_ > options_.cacheBytes && !cacheLru_.empty()) {
    CacheNode node = cacheLru_.front();
    // evictCacheEntry calls cacheRemove, which unlinks the node.
    node.store->evictCacheEntry(*node.key);
  }
}

}  // namespace duro::storage
