// duro::sleepFor (include/duro/object.h): a timer on the calling shard's event loop.
#include <coroutine>

#include "base/event_loop.h"
#include "duro/object.h"

namespace duro {

namespace {
struct SleepAwaiter {
  base::Timer timer;
  std::chrono::milliseconds delay;
  bool await_ready() const noexcept { return delay.count() <= 0; }
  void await_suspend(std::coroutine_handle<> h) {
    timer.start(delay, [h] { h.resume(); });
  }
  void await_resume() const noexcept {}
};
}  // namespace

Task<void> sleepFor(std::chrono::milliseconds ms) {
  base::EventLoop* loop = base::EventLoop::current();
  if (loop == nullptr) throw Error(Status::internal("sleepFor called outside a duro event loop"));
  co_await SleepAwaiter{base::Timer(*loop), ms};
}

}  // namespace duro
