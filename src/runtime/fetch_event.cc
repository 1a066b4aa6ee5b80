// Implementation of FetchEvent (fetch_event.h).
#include "runtime/fetch_event.h"

#include "runtime/object_host.h"

namespace duro::runtime {

Task<void> FetchEvent::run(ObjectHost& host, DurableObject& object) {
  Result<Response> outcome = Status::internal("the fetch handler returned no response");
  const uint64_t generation = host.generation();
  try {
    outcome = co_await object.fetch(std::move(request_));
  } catch (const Error& e) {
    outcome = e.status();
  } catch (const std::exception& e) {
    outcome = Status::internal(e.what());
  } catch (...) {
    outcome = Status::internal("the fetch handler threw a non-standard exception");
  }
  if (!outcome.isOk() && !outcome.status().isOverloaded()) {
    host.logError("fetch handler failed: " + outcome.status().message());
  }
  if (host.generation() != generation && outcome.isOk()) {
    // The object was reset while this handler ran (a failed commit, a throwing
    // blockConcurrencyWhile): what it answers may rest on state that is gone.
    outcome = Status::objectReset("Durable Object reset while the request was running");
  }
  host.outputGate().whenDurable(
      [reply = std::move(reply_), outcome = std::move(outcome)](const Status& gate) mutable {
        if (!gate.isOk()) {
          reply(gate);
        } else {
          reply(std::move(outcome));
        }
      });
}

}  // namespace duro::runtime
