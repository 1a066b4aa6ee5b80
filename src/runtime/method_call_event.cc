// Implementation of MethodCallEvent and callObjectMethod (method_call_event.h).
#include "runtime/method_call_event.h"

#include "runtime/deferred.h"
#include "runtime/object_host.h"

namespace duro {

Task<MethodResult> DurableObject::callMethod(std::string name, std::string serializedArgs) {
  throw Error(Status::invalidArgument(
      "The receiving Durable Object does not support RPC, because its class was not declared "
      "with `extends DurableObject`."));
  co_return MethodResult{};
}

}  // namespace duro

namespace duro::runtime {

Task<void> MethodCallEvent::run(ObjectHost& host, DurableObject& object) {
  Result<MethodResult> outcome = Status::internal("the method call produced no result");
  const uint64_t generation = host.generation();
  try {
    outcome = co_await object.callMethod(std::move(method_), std::move(args_));
  } catch (const Error& e) {
    outcome = e.status();
  } catch (const std::exception& e) {
    outcome = Status::internal(e.what());
  } catch (...) {
    outcome = Status::internal("the method threw a non-standard exception");
  }
  if (host.generation() != generation && outcome.isOk()) {
    outcome = Status::objectReset("Durable Object reset while the call was running");
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

Task<MethodResult> callObjectMethod(Runtime& runtime, NamespaceIndex ns, ObjectId id,
                                    std::string method, std::string serializedArgs) {
  base::EventLoop* loop = base::EventLoop::current();
  if (loop == nullptr) {
    throw Error(Status::internal("a stub was called outside a duro event loop"));
  }
  Deferred<MethodResult> reply(*loop);
  runtime.deliver(ns, id,
                  std::make_unique<MethodCallEvent>(
                      std::move(method), std::move(serializedArgs),
                      [reply](Result<MethodResult> r) { reply.complete(std::move(r)); }));
  co_return co_await reply;
}

}  // namespace duro::runtime
