// Implementation of AlarmScheduler (alarm_scheduler.h).
//
// Delivery rules
//  1. An alarm is scheduled only once its setAlarm is durable (the storage tells us then), so a
//     handler never runs for an alarm that a failed commit took back.
//  2. When due, the entry leaves the timetable and an AlarmEvent is queued on the object; the
//     event checks the object's own stored alarm first (the index may be stale), runs alarm(),
//     and on success the storage deletes the alarm (unless the handler set or deleted one).
//  3. A failed run comes back through retry() with backoff 2 s, 4 s, ... 64 s; after the 6th
//     retry fails the alarm is deleted. A set() while a run or a retry is pending wins.
//  4. The timer is armed for the earliest due time only; a later alarm never re-arms it.
//  5. At most kDeliveriesPerTurn alarms are delivered per loop turn; the rest follow in later
//     turns, so a burst of due alarms cannot starve the shard's other work.
#include "runtime/alarm_scheduler.h"

#include <cstring>

#include "runtime/alarm_event.h"
#include "runtime/runtime.h"
#include "runtime/shard.h"

namespace duro::runtime {

size_t AlarmScheduler::KeyHash::operator()(const Key& k) const noexcept {
  uint64_t h;
  std::memcpy(&h, k.id.data(), sizeof h);
  return static_cast<size_t>(h ^ (static_cast<uint64_t>(k.ns) * 0x9e3779b97f4a7c15ull));
}

AlarmScheduler::AlarmScheduler(Shard& shard, base::Clock& clock)
    : shard_(shard), clock_(clock), timer_(shard.loop()) {}

AlarmScheduler::~AlarmScheduler() {
  alive_ = false;
  timer_.cancel();
}

void AlarmScheduler::set(NamespaceIndex ns, const ObjectId::Bytes& id, int64_t scheduledMs) {
  add(Key{ns, id}, scheduledMs, scheduledMs, 0);
}

void AlarmScheduler::cancel(NamespaceIndex ns, const ObjectId::Bytes& id) { remove(Key{ns, id}); }

void AlarmScheduler::retry(NamespaceIndex ns, const ObjectId::Bytes& id, int64_t scheduledMs,
                           int retryCount, int64_t dueMs) {
  Key key{ns, id};
  if (entries_.contains(key)) return;  // the alarm was set again meanwhile: that one wins
  add(key, dueMs, scheduledMs, retryCount);
}

void AlarmScheduler::add(const Key& key, int64_t dueMs, int64_t scheduledMs, int retryCount) {
  remove(key);
  auto position = byDue_.emplace(dueMs, key);
  entries_.emplace(key, Entry{dueMs, scheduledMs, retryCount, position});
  shard_.stats().alarmsPending.store(entries_.size(), std::memory_order_relaxed);
  if (dueMs < armedForMs_) arm();
}

void AlarmScheduler::remove(const Key& key) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return;
  byDue_.erase(it->second.position);
  entries_.erase(it);
  shard_.stats().alarmsPending.store(entries_.size(), std::memory_order_relaxed);
}

void AlarmScheduler::poke() { fireDue(); }

void AlarmScheduler::arm() {
  if (byDue_.empty()) {
    armedForMs_ = INT64_MAX;
    timer_.cancel();
    return;
  }
  int64_t due = byDue_.begin()->first;
  armedForMs_ = due;
  int64_t delay = std::max<int64_t>(0, due - clock_.nowMs());
  timer_.start(std::chrono::milliseconds(delay), [this] {
    armedForMs_ = INT64_MAX;
    fireDue();
  });
}

void AlarmScheduler::fireDue() {
  if (!alive_) return;
  int64_t now = clock_.nowMs();
  // A burst of due alarms is delivered in slices, so requests and other events get their turn
  // between them (rule 5).
  int budget = kDeliveriesPerTurn;
  while (!byDue_.empty() && byDue_.begin()->first <= now) {
    if (budget-- == 0) {
      if (!continuationPosted_) {
        continuationPosted_ = true;
        shard_.loop().post([this] {
          continuationPosted_ = false;
          fireDue();
        });
      }
      return;
    }
    Key key = byDue_.begin()->second;
    auto it = entries_.find(key);
    Entry entry = it->second;
    byDue_.erase(byDue_.begin());
    entries_.erase(it);
    shard_.stats().alarmsFired.fetch_add(1, std::memory_order_relaxed);
    shard_.stats().alarmsPending.store(entries_.size(), std::memory_order_relaxed);
    const NamespaceEntry& ns = shard_.runtime().namespaceEntry(key.ns);
    shard_.deliver(ns, ObjectId(key.id),
                   std::make_unique<AlarmEvent>(*this, key.ns, key.id, entry.scheduledMs,
                                                entry.retryCount));
  }
  if (!byDue_.empty() && byDue_.begin()->first < armedForMs_) arm();
}

}  // namespace duro::runtime
