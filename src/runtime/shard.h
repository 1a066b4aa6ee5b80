// Shard: one event-loop thread and the objects that live on it. Every event for an object runs on
// its shard's thread, so an object's state needs no locks; other threads reach a shard only through
// its loop's post(). The shard also evicts objects that stayed idle past the idle timeout.
// Contract: deliver(), markIdle(), markBusy() run on the shard's thread; loop().post(), stats() and
// the constructor/start/stop are for other threads.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <list>
#include <memory>
#include <thread>
#include <unordered_map>

#include "base/event_loop.h"
#include "duro/id.h"
#include "runtime/namespace_entry.h"
#include "runtime/object_event.h"
#include "storage/shard_storage.h"

namespace duro::runtime {

class AlarmScheduler;
class ObjectHost;
class Runtime;

// Counters for one shard, written by its thread, read by any.
struct ShardStats {
  std::atomic<uint64_t> liveObjects{0};
  std::atomic<uint64_t> objectsConstructed{0};
  std::atomic<uint64_t> objectsEvicted{0};
  std::atomic<uint64_t> overloadRejections{0};
  std::atomic<uint64_t> alarmsPending{0};
  std::atomic<uint64_t> alarmsFired{0};
};

class Shard {
 public:
  Shard(Runtime& runtime, size_t index);
  ~Shard();
  Shard(const Shard&) = delete;
  Shard& operator=(const Shard&) = delete;

  // Opens the shard's storage and starts the thread that runs the loop.
  Status start();
  // Stops the loop, joins the thread and destroys every object. Call from another thread.
  void stopAndJoin();

  size_t index() const noexcept { return index_; }
  base::EventLoop& loop() noexcept { return loop_; }
  ShardStats& stats() noexcept { return stats_; }
  Env& env() noexcept;
  storage::ShardStorage& storage() noexcept { return *storage_; }
  AlarmScheduler& alarms() noexcept { return *alarms_; }
  Runtime& runtime() noexcept { return runtime_; }
  // Status of the storage's clean stop (after stopAndJoin).
  const Status& storageCloseStatus() const noexcept { return storageClose_; }
  bool hasStorage() const noexcept { return storage_ != nullptr; }
  size_t maxQueuedEventsPerObject() const noexcept;

  // Routes an event to its object, creating the host if needed. Shard thread only.
  void deliver(const NamespaceEntry& ns, const ObjectId& id, std::unique_ptr<ObjectEvent> event);

  // Idle tracking (ObjectHost calls these when it becomes idle or busy).
  void markIdle(ObjectHost& host);
  void markBusy(ObjectHost& host);

 private:
  struct Key {
    NamespaceIndex ns;
    ObjectId::Bytes bytes;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const noexcept;
  };

  void armSweep();
  void sweepIdle();
  static uint64_t nowNanos();

  Runtime& runtime_;
  size_t index_;
  ShardStats stats_;
  // Declared before loop_: the loop (and any handlers still queued in it) is destroyed first.
  std::unordered_map<Key, std::unique_ptr<ObjectHost>, KeyHash> hosts_;
  std::list<ObjectHost*> idle_;  // oldest idle first
  base::EventLoop loop_;
  base::Timer sweepTimer_{loop_};
  bool sweepArmed_ = false;
  // Created by start(); destroyed after the thread stops, while the loop object still exists.
  std::unique_ptr<storage::ShardStorage> storage_;
  std::unique_ptr<AlarmScheduler> alarms_;
  Status storageClose_;
  std::thread thread_;
};

}  // namespace duro::runtime
