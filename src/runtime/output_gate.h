// OutputGate: holds an object's outputs (responses, outgoing messages) until every write issued
// before them is durable.
//
// Invariants (storage plugs in here; see src/storage once it exists):
//  1. Writes are numbered in issue order by beginWrite(); durability is reported in the same order
//     (writesDurableThrough(n) means writes 1..n are on disk). Group commit may report many at once.
//  2. An output released with whenDurable(fn) captures the newest write number at that moment; fn
//     runs only after that write is durable. Outputs are released in the order they were held.
//  3. If a write fails (fail(status)), every held output and every later one until reset() gets
//     the error instead: nothing that depended on a lost write ever leaves.
//  4. With no writes outstanding, whenDurable runs fn at once (no hop through the loop).
// One per object; call only on the object's shard.
#pragma once

#include <cstdint>
#include <vector>
#include <functional>

#include "duro/status.h"

namespace duro::runtime {

class OutputGate {
 public:
  // Called with OK when the output may leave, or with the commit error.
  using Release = std::function<void(const Status&)>;

  // Registers a write; returns its number.
  uint64_t beginWrite() { return ++issued_; }
  // Writes 1..n are durable: releases every output that waited only for them.
  void writesDurableThrough(uint64_t n);
  // A write failed: every held output gets `error`, and so does every later one until reset().
  void fail(Status error);
  // Clears a failure (the object was reset and is starting over from what is on disk).
  void reset();

  void whenDurable(Release release);

  bool hasPendingWrites() const noexcept { return durable_ < issued_; }
  size_t heldOutputs() const noexcept { return held_.size(); }

 private:
  struct Held {
    uint64_t waitFor;
    Release release;
  };
  uint64_t issued_ = 0;
  uint64_t durable_ = 0;
  Status failed_;
  std::vector<Held> held_;  // usually empty; a deque would allocate up front
};

}  // namespace duro::runtime
