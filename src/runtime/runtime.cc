// Implementation of Runtime (runtime.h).
#include "runtime/runtime.h"

#include "runtime/object_host.h"

namespace duro::runtime {

Runtime::Runtime(RuntimeOptions options, Env& env)
    : options_(options),
      env_(env),
      clock_(options.clock != nullptr ? options.clock : &base::SystemClock::instance()) {
  if (options_.threads == 0) options_.threads = 1;
  for (size_t i = 0; i < options_.threads; ++i) {
    shards_.push_back(std::make_unique<Shard>(*this, i));
  }
  directory_ = std::make_unique<LocalDirectory>(shards_.size());
}

Runtime::~Runtime() { stop(); }

NamespaceIndex Runtime::addNamespace(std::string name, ObjectFactory factory,
                                     StorageBackend backend) {
  auto entry = std::make_unique<NamespaceEntry>();
  entry->index = static_cast<NamespaceIndex>(namespaces_.size());
  entry->name = std::move(name);
  entry->factory = std::move(factory);
  entry->backend = backend;
  namespaces_.push_back(std::move(entry));
  return namespaces_.back()->index;
}

Status Runtime::start() {
  running_ = true;
  for (auto& shard : shards_) {
    if (Status s = shard->start(); !s) {
      stop();
      return s;
    }
  }
  return Status::ok();
}

bool Runtime::stop() {
  if (!running_.exchange(false)) return stoppedCleanly_;
  for (auto& shard : shards_) {
    shard->stopAndJoin();
    if (!shard->storageCloseStatus().isOk()) stoppedCleanly_ = false;
  }
  return stoppedCleanly_;
}

std::optional<NamespaceIndex> Runtime::namespaceIndexOf(std::string_view name) const {
  for (const auto& ns : namespaces_) {
    if (ns->name == name) return ns->index;
  }
  return std::nullopt;
}

void Runtime::setInitialAlarms(std::vector<storage::AlarmEntry> alarms) {
  initialAlarms_.assign(shards_.size(), {});
  for (storage::AlarmEntry& e : alarms) {
    std::optional<NamespaceIndex> ns = namespaceIndexOf(e.ns);
    // An alarm of a class that is no longer defined stays on disk but does not fire.
    if (!ns) continue;
    size_t shard = directory_->locate(*ns, ObjectId(e.id)).shard;
    initialAlarms_[shard].push_back(std::move(e));
  }
}

std::vector<storage::AlarmEntry> Runtime::takeInitialAlarms(size_t shard) {
  if (shard >= initialAlarms_.size()) return {};
  return std::move(initialAlarms_[shard]);
}

void Runtime::deliver(NamespaceIndex ns, const ObjectId& id, std::unique_ptr<ObjectEvent> event) {
  if (!running_.load(std::memory_order_relaxed)) {
    event->fail(Status::unavailable("the server is shutting down"));
    return;
  }
  Shard& shard = *shards_[directory_->locate(ns, id).shard];
  const NamespaceEntry& entry = *namespaces_[ns];
  // TODO(perf): asio's post takes the scheduler's mutex; a per-shard-pair SPSC ring would not.
  shard.loop().post([&shard, &entry, id, event = std::move(event)]() mutable {
    shard.deliver(entry, id, std::move(event));
  });
}

RuntimeStats Runtime::stats() const {
  RuntimeStats out;
  for (const auto& shard : shards_) {
    ShardStats& s = shard->stats();
    out.liveObjects += s.liveObjects.load(std::memory_order_relaxed);
    out.objectsConstructed += s.objectsConstructed.load(std::memory_order_relaxed);
    out.objectsEvicted += s.objectsEvicted.load(std::memory_order_relaxed);
    out.overloadRejections += s.overloadRejections.load(std::memory_order_relaxed);
    out.alarmsPending += s.alarmsPending.load(std::memory_order_relaxed);
    out.alarmsFired += s.alarmsFired.load(std::memory_order_relaxed);
    if (shard->hasStorage()) {
      storage::ShardStorageStats st = shard->storage().stats();
      out.commits += st.commits;
      out.logSyncs += st.logSyncs;
      out.openDatabases += st.openDatabases;
    }
  }
  return out;
}

}  // namespace duro::runtime
