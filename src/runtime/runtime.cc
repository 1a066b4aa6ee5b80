// Implementation of Runtime (runtime.h).
#include "runtime/runtime.h"

#include "runtime/object_host.h"

namespace duro::runtime {

Runtime::Runtime(RuntimeOptions options, Env& env) : options_(options), env_(env) {
  if (options_.threads == 0) options_.threads = 1;
  for (size_t i = 0; i < options_.threads; ++i) {
    shards_.push_back(std::make_unique<Shard>(*this, i));
  }
  directory_ = std::make_unique<LocalDirectory>(shards_.size());
}

Runtime::~Runtime() { stop(); }

NamespaceIndex Runtime::addNamespace(std::string name, ObjectFactory factory) {
  auto entry = std::make_unique<NamespaceEntry>();
  entry->index = static_cast<NamespaceIndex>(namespaces_.size());
  entry->name = std::move(name);
  entry->factory = std::move(factory);
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

void Runtime::stop() {
  if (!running_.exchange(false)) return;
  for (auto& shard : shards_) shard->stopAndJoin();
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
