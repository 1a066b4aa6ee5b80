// ObjectDirectory: where an object lives. Today every object lives on this node, on the shard its
// ID hashes to (LocalDirectory). A cluster will implement the same interface on top of etcd
// leases, answering "which node, which shard" — so nothing else in the runtime computes placement.
// Implementations are immutable after start: safe to call from any thread.
#pragma once

#include <cstddef>

#include "duro/id.h"
#include "runtime/namespace_entry.h"

namespace duro::runtime {

struct ObjectLocation {
  size_t shard = 0;  // a node identifier joins this when duro clusters
};

class ObjectDirectory {
 public:
  virtual ~ObjectDirectory() = default;
  virtual ObjectLocation locate(NamespaceIndex ns, const ObjectId& id) const = 0;
};

// Single node: shard = hash(ID) mod shard count. IDs are keyed hashes, so this spreads evenly.
class LocalDirectory final : public ObjectDirectory {
 public:
  explicit LocalDirectory(size_t shardCount) : shardCount_(shardCount) {}
  ObjectLocation locate(NamespaceIndex, const ObjectId& id) const override {
    return ObjectLocation{static_cast<size_t>(id.hash() % shardCount_)};
  }

 private:
  size_t shardCount_;
};

}  // namespace duro::runtime
