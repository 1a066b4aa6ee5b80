// MethodCallEvent: delivers a method call made through a stub (JavaScript RPC) to an object and
// sends the result back through the object's output gate, exactly like a fetch. callObjectMethod()
// is the caller's side: deliver the event, await the reply on the caller's loop.
#pragma once

#include <functional>
#include <string>

#include "duro/object.h"
#include "runtime/object_event.h"
#include "runtime/runtime.h"

namespace duro::runtime {

class MethodCallEvent final : public ObjectEvent {
 public:
  // Called exactly once, on the object's shard.
  using Reply = std::function<void(Result<MethodResult>)>;

  MethodCallEvent(std::string method, std::string serializedArgs, Reply reply)
      : method_(std::move(method)), args_(std::move(serializedArgs)), reply_(std::move(reply)) {}

  Task<void> run(ObjectHost& host, DurableObject& object) override;
  void fail(Status status) override { reply_(std::move(status)); }

 private:
  std::string method_;
  std::string args_;
  Reply reply_;
};

// Calls `method` on object `id` of namespace `ns` and awaits the result on the calling loop.
// Throws duro::Error when the call could not be delivered (overload, shutdown) or the object's
// output gate failed; a method that threw is a MethodResult with threw = true.
Task<MethodResult> callObjectMethod(Runtime& runtime, NamespaceIndex ns, ObjectId id,
                                    std::string method, std::string serializedArgs);

}  // namespace duro::runtime
