// Implementation of AlarmEvent (alarm_event.h).
#include "runtime/alarm_event.h"

#include "base/log.h"
#include "runtime/object_host.h"

namespace duro::runtime {

void AlarmEvent::retryAfterFailure(int64_t scheduledMs) {
  if (retryCount_ >= AlarmScheduler::kMaxRetries) return;
  int64_t backoff = AlarmScheduler::kFirstBackoffMs << retryCount_;
  scheduler_.retry(ns_, id_, scheduledMs, retryCount_ + 1, scheduler_.clock().nowMs() + backoff);
}

void AlarmEvent::fail(Status status) {
  if (status.code() == StatusCode::kUnavailable) return;  // shutting down: it fires after restart
  retryAfterFailure(scheduledMs_);
}

Task<void> AlarmEvent::run(ObjectHost& host, DurableObject& object) {
  storage::ObjectStore& store = host.objectStore();
  std::optional<int64_t> stored;
  try {
    stored = co_await store.getAlarm();
  } catch (const std::exception& e) {
    host.logError(std::string("cannot read the alarm: ") + e.what());
    retryAfterFailure(scheduledMs_);
    co_return;
  }
  if (!stored) {
    store.forgetStaleAlarm();  // deleted since the index entry was made
    co_return;
  }
  if (*stored > scheduler_.clock().nowMs()) {
    scheduler_.set(ns_, id_, *stored);  // moved later since the index entry was made
    co_return;
  }
  store.beginAlarmHandler();
  std::string error;
  bool succeeded = false;
  try {
    co_await object.alarm(AlarmInfo{retryCount_, retryCount_ > 0});
    succeeded = true;
  } catch (const std::exception& e) {
    error = e.what();
  } catch (...) {
    error = "a non-standard exception";
  }
  store.endAlarmHandler(succeeded, *stored);
  if (succeeded) {
    // The run counts only once its writes (and the alarm's deletion) are durable; if that
    // commit fails, the object is reset and the alarm, still stored, must run again.
    try {
      co_await store.sync();
    } catch (const std::exception& e) {
      host.logError(std::string("the alarm handler's writes failed: ") + e.what());
      retryAfterFailure(*stored);
    }
    co_return;
  }
  if (retryCount_ < AlarmScheduler::kMaxRetries) {
    host.logError("alarm handler threw: " + error + " (retry " + std::to_string(retryCount_ + 1) +
                  " of " + std::to_string(AlarmScheduler::kMaxRetries) + " in " +
                  std::to_string((AlarmScheduler::kFirstBackoffMs << retryCount_) / 1000) + " s)");
    retryAfterFailure(*stored);
  } else {
    host.logError("alarm handler threw: " + error + "; retries exhausted, the alarm is deleted");
    store.deleteAlarmIfStill(*stored);
  }
}

}  // namespace duro::runtime
