// Implementation of NamespaceBinding (namespace_binding.h).
#include "runtime/namespace_binding.h"

#include "runtime/deferred.h"
#include "runtime/fetch_event.h"

namespace duro::runtime {

Task<Response> NamespaceBinding::fetchObject(ObjectId id, Request request) {
  base::EventLoop* loop = base::EventLoop::current();
  if (loop == nullptr) {
    throw Error(Status::internal("a stub was called outside a duro event loop"));
  }
  Deferred<Response> reply(*loop);
  runtime_.deliver(index_, id,
                   std::make_unique<FetchEvent>(std::move(request), [reply](Result<Response> r) {
                     reply.complete(std::move(r));
                   }));
  co_return co_await reply;
}

}  // namespace duro::runtime
