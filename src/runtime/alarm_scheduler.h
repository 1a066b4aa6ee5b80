// AlarmScheduler: one shard's timetable of object alarms. It learns about alarms from the shard's
// storage once they are durable (set / cancel), fires each one when due by delivering an
// AlarmEvent to the object (serialized with its other events), and re-queues failed runs with
// exponential backoff. One timer per shard, armed for the earliest alarm. Loop thread only.
// See alarm_scheduler.cc for the delivery rules.
#pragma once

#include <cstdint>
#include <map>
#include <unordered_map>

#include "base/clock.h"
#include "base/event_loop.h"
#include "duro/id.h"
#include "runtime/namespace_entry.h"

namespace duro::runtime {

class Shard;

class AlarmScheduler {
 public:
  // Cloudflare: up to 6 retries, backoff starting at 2 seconds.
  static constexpr int kMaxRetries = 6;
  static constexpr int64_t kFirstBackoffMs = 2000;
  // Alarms delivered per loop turn before yielding to other work.
  static constexpr int kDeliveriesPerTurn = 64;

  AlarmScheduler(Shard& shard, base::Clock& clock);
  ~AlarmScheduler();
  AlarmScheduler(const AlarmScheduler&) = delete;
  AlarmScheduler& operator=(const AlarmScheduler&) = delete;

  // The object's alarm is now `scheduledMs` (durably); replaces any pending run of it.
  void set(NamespaceIndex ns, const ObjectId::Bytes& id, int64_t scheduledMs);
  // The object's alarm was deleted (durably).
  void cancel(NamespaceIndex ns, const ObjectId::Bytes& id);
  // A run failed or could not start: run again at `dueMs` with this retry number, unless the
  // object's alarm was set again meanwhile.
  void retry(NamespaceIndex ns, const ObjectId::Bytes& id, int64_t scheduledMs, int retryCount,
             int64_t dueMs);
  // Re-checks what is due (the clock jumped).
  void poke();

  base::Clock& clock() { return clock_; }

 private:
  struct Key {
    NamespaceIndex ns;
    ObjectId::Bytes id;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const noexcept;
  };
  struct Entry {
    int64_t dueMs;
    int64_t scheduledMs;
    int retryCount;
    std::multimap<int64_t, Key>::iterator position;
  };

  void add(const Key& key, int64_t dueMs, int64_t scheduledMs, int retryCount);
  void remove(const Key& key);
  void arm();
  void fireDue();

  Shard& shard_;
  base::Clock& clock_;
  std::unordered_map<Key, Entry, KeyHash> entries_;
  std::multimap<int64_t, Key> byDue_;
  base::Timer timer_;
  int64_t armedForMs_ = INT64_MAX;
  bool alive_ = true;
  bool continuationPosted_ = false;
};

}  // namespace duro::runtime
