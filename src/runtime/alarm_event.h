// AlarmEvent: runs an object's alarm() handler for the alarm scheduled at a given time, as one of
// the object's events (ordered with its fetches, behind its gates). See alarm_scheduler.cc.
#pragma once

#include "runtime/alarm_scheduler.h"
#include "runtime/object_event.h"

namespace duro::runtime {

class AlarmEvent final : public ObjectEvent {
 public:
  AlarmEvent(AlarmScheduler& scheduler, NamespaceIndex ns, const ObjectId::Bytes& id,
             int64_t scheduledMs, int retryCount)
      : scheduler_(scheduler), ns_(ns), id_(id), scheduledMs_(scheduledMs), retryCount_(retryCount) {}

  Task<void> run(ObjectHost& host, DurableObject& object) override;
  // Could not be delivered (queue full, constructor threw): try again like a failed run.
  void fail(Status status) override;

 private:
  void retryAfterFailure(int64_t scheduledMs);

  AlarmScheduler& scheduler_;
  NamespaceIndex ns_;
  ObjectId::Bytes id_;
  int64_t scheduledMs_;
  int retryCount_;
};

}  // namespace duro::runtime
