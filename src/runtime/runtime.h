// Runtime: the actor system of one node: the shards, the registered object classes (namespaces)
// and the directory that says which shard owns each object. deliver() is the single way an event
// reaches an object, from any thread.
// Lifecycle: addNamespace() calls, then start(), then deliver() from anywhere, then stop().
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string_view>
#include <string>
#include <vector>

#include "base/clock.h"
#include "duro/object.h"
#include "runtime/directory.h"
#include "runtime/namespace_entry.h"
#include "runtime/object_event.h"
#include "runtime/shard.h"
#include "storage/shard_storage.h"

namespace duro::runtime {

struct RuntimeOptions {
  // Number of shard threads (at least 1).
  size_t threads = 1;
  // An object idle this long is evicted.
  std::chrono::milliseconds idleTimeout{10000};
  // Queued (not yet started) events per object beyond which new ones are refused as overloaded.
  size_t maxQueuedEventsPerObject = 1000;
  // Storage settings for every shard (dataDir must be set; `shard` is filled in per shard).
  storage::ShardStorageOptions storage;
  // The clock alarms use; nullptr means the system clock. Must outlive the runtime.
  base::Clock* clock = nullptr;
};

struct RuntimeStats {
  uint64_t alarmsPending = 0;  // alarms waiting in the shards' timetables
  uint64_t alarmsFired = 0;    // alarm runs started (first runs and retries)
  uint64_t commits = 0;        // object commits logged
  uint64_t logSyncs = 0;       // fdatasync calls on the commit logs
  uint64_t openDatabases = 0;
  uint64_t liveObjects = 0;
  uint64_t objectsConstructed = 0;
  uint64_t objectsEvicted = 0;
  uint64_t overloadRejections = 0;
};

class Runtime {
 public:
  // `env` must outlive the runtime; objects receive it in their constructor.
  Runtime(RuntimeOptions options, Env& env);
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // Before start(): registers an object class. Returns its index.
  NamespaceIndex addNamespace(std::string name, ObjectFactory factory,
                              StorageBackend backend = StorageBackend::kKeyValue);
  // Before start(): alarms found at start-up (recovery), handed to the shards that own them.
  void setInitialAlarms(std::vector<storage::AlarmEntry> alarms);
  // Opens every shard's storage and starts the shard threads.
  Status start();
  // Stops every shard: running events are abandoned, objects destroyed, storage closed. Returns
  // whether every shard's storage stopped cleanly (synced, log deleted). Idempotent.
  bool stop();

  // Sends `event` to object `id` of namespace `ns`. Thread-safe. After stop() the event fails.
  void deliver(NamespaceIndex ns, const ObjectId& id, std::unique_ptr<ObjectEvent> event);

  const RuntimeOptions& options() const noexcept { return options_; }
  Env& env() noexcept { return env_; }
  size_t shardCount() const noexcept { return shards_.size(); }
  Shard& shard(size_t i) { return *shards_[i]; }
  const NamespaceEntry& namespaceEntry(NamespaceIndex ns) const { return *namespaces_[ns]; }
  std::optional<NamespaceIndex> namespaceIndexOf(std::string_view name) const;
  base::Clock& clock() noexcept { return *clock_; }
  // For Shard::start: this shard's share of the initial alarms.
  std::vector<storage::AlarmEntry> takeInitialAlarms(size_t shard);
  RuntimeStats stats() const;

 private:
  RuntimeOptions options_;
  Env& env_;
  std::vector<std::unique_ptr<NamespaceEntry>> namespaces_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::unique_ptr<ObjectDirectory> directory_;
  base::Clock* clock_;
  std::vector<std::vector<storage::AlarmEntry>> initialAlarms_;
  std::atomic<bool> running_{false};
  bool stoppedCleanly_ = true;
};

}  // namespace duro::runtime
