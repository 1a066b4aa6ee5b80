// Implementation of Shard (shard.h): object routing and idle eviction.
//
// Idle eviction: a host that becomes idle is appended to idle_, so idle_ is ordered by the time
// each host went idle. One timer per shard is armed for the oldest entry's deadline; when it
// fires, sweepIdle() evicts every host whose idle timeout has passed and re-arms for the next.
// Touching an object is O(1) (list splice out); there is no per-object timer.
#include "runtime/shard.h"

#include <cstring>

#include "runtime/alarm_scheduler.h"
#include "runtime/object_host.h"
#include "runtime/runtime.h"

namespace duro::runtime {

size_t Shard::KeyHash::operator()(const Key& k) const noexcept {
  uint64_t h;
  std::memcpy(&h, k.bytes.data(), sizeof h);
  return static_cast<size_t>(h ^ (static_cast<uint64_t>(k.ns) * 0x9e3779b97f4a7c15ull));
}

Shard::Shard(Runtime& runtime, size_t index) : runtime_(runtime), index_(index) {}

Shard::~Shard() { stopAndJoin(); }

Status Shard::start() {
  storage::ShardStorageOptions options = runtime_.options().storage;
  options.shard = static_cast<uint32_t>(index_);
  options.initialAlarms = runtime_.takeInitialAlarms(index_);
  storage_ = std::make_unique<storage::ShardStorage>(loop_, options);
  if (Status s = storage_->start(); !s) return s;

  // Alarms: durable changes flow from storage to the scheduler, which starts from the index.
  alarms_ = std::make_unique<AlarmScheduler>(*this, runtime_.clock());
  storage_->setAlarmListener(
      [this](const std::string& ns, const ObjectId::Bytes& id, std::optional<int64_t> time) {
        std::optional<NamespaceIndex> index = runtime_.namespaceIndexOf(ns);
        if (!index) return;
        if (time) {
          alarms_->set(*index, id, *time);
        } else {
          alarms_->cancel(*index, id);
        }
      });
  for (const storage::AlarmEntry& e : storage_->alarmIndex().entries()) {
    if (std::optional<NamespaceIndex> index = runtime_.namespaceIndexOf(e.ns)) {
      alarms_->set(*index, e.id, e.timeMs);
    }
  }
  runtime_.clock().addListener([this] { loop_.post([this] {
    if (alarms_) alarms_->poke();
  }); });
  thread_ = std::thread([this] { loop_.run(); });
  return Status::ok();
}

void Shard::stopAndJoin() {
  if (thread_.joinable()) {
    loop_.post([this] {
      sweepTimer_.cancel();
      idle_.clear();
      // Commit whatever is buffered (the log syncs it when the storage is destroyed below).
      storage_->flushAllNow();
      for (auto& [key, host] : hosts_) host->inIdleList = false;
      hosts_.clear();
      alarms_.reset();
      loop_.stop();
    });
    thread_.join();
  }
  if (storage_) storageClose_ = storage_->close();
  storage_.reset();
}

Env& Shard::env() noexcept { return runtime_.env(); }

size_t Shard::maxQueuedEventsPerObject() const noexcept {
  return runtime_.options().maxQueuedEventsPerObject;
}

void Shard::deliver(const NamespaceEntry& ns, const ObjectId& id,
                    std::unique_ptr<ObjectEvent> event) {
  Key key{ns.index, id.bytes()};
  auto it = hosts_.find(key);
  if (it == hosts_.end()) {
    it = hosts_.emplace(key, std::make_unique<ObjectHost>(*this, ns, id)).first;
  }
  it->second->enqueue(std::move(event));
}

uint64_t Shard::nowNanos() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

void Shard::markIdle(ObjectHost& host) {
  host.idleSinceNanos = nowNanos();
  host.idleListPosition = idle_.insert(idle_.end(), &host);
  host.inIdleList = true;
  if (!sweepArmed_) armSweep();
}

void Shard::markBusy(ObjectHost& host) {
  idle_.erase(host.idleListPosition);
  host.inIdleList = false;
}

void Shard::armSweep() {
  if (idle_.empty()) {
    sweepArmed_ = false;
    return;
  }
  uint64_t timeout = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(runtime_.options().idleTimeout).count());
  uint64_t deadline = idle_.front()->idleSinceNanos + timeout;
  uint64_t now = nowNanos();
  sweepArmed_ = true;
  sweepTimer_.start(std::chrono::nanoseconds(deadline > now ? deadline - now : 0),
                    [this] { sweepIdle(); });
}

void Shard::sweepIdle() {
  uint64_t timeout = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(runtime_.options().idleTimeout).count());
  uint64_t now = nowNanos();
  while (!idle_.empty() && idle_.front()->idleSinceNanos + timeout <= now) {
    ObjectHost* host = idle_.front();
    idle_.pop_front();
    host->inIdleList = false;
    if (host->hasHibernatableSockets()) {
      // Hibernation: the instance goes, the host and its connected sockets stay; the next socket
      // message (or any event) constructs the instance again.
      host->hibernate();
      continue;
    }
    if (host->hasInstance()) stats_.objectsEvicted.fetch_add(1, std::memory_order_relaxed);
    hosts_.erase(Key{host->namespaceIndex(), host->id().bytes()});
  }
  armSweep();
}

}  // namespace duro::runtime
