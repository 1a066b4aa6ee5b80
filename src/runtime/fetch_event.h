// FetchEvent: delivers an HTTP request to an object's fetch handler and sends the outcome back
// through the object's output gate (so a response never leaves before the writes it depends on).
#pragma once

#include <functional>

#include "duro/http.h"
#include "runtime/object_event.h"

namespace duro::runtime {

class FetchEvent final : public ObjectEvent {
 public:
  // Called exactly once, on the object's shard, with the response or the error. It forwards the
  // outcome to the caller's thread.
  using Reply = std::function<void(Result<Response>)>;

  FetchEvent(Request request, Reply reply)
      : request_(std::move(request)), reply_(std::move(reply)) {}

  Task<void> run(ObjectHost& host, DurableObject& object) override;
  void fail(Status status) override { reply_(std::move(status)); }

 private:
  Request request_;
  Reply reply_;
};

}  // namespace duro::runtime
