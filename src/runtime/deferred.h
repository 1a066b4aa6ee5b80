// Deferred<T>: a one-shot result that one coroutine on an owning event loop co_awaits and that any
// thread may complete. Completion is posted to the owner loop, so all of the state is touched only
// on that loop: no locks. This is how a call that crosses shards (a stub fetch) gets its answer
// back to the caller's thread.
#pragma once

#include <coroutine>
#include <memory>
#include <optional>
#include <utility>

#include "base/event_loop.h"
#include "duro/status.h"

namespace duro::runtime {

template <typename T>
class Deferred {
 private:
  struct State {
    explicit State(base::EventLoop* l) : loop(l) {}
    base::EventLoop* loop;
    std::optional<Result<T>> result;
    std::coroutine_handle<> waiter;
  };

 public:
  // `owner` is the loop of the coroutine that will co_await the result.
  explicit Deferred(base::EventLoop& owner) : state_(std::make_shared<State>(&owner)) {}

  // Delivers the result (a value or a non-OK Status). Thread-safe; call at most once.
  void complete(Result<T> result) const {
    auto state = state_;
    state->loop->post([state, result = std::move(result)]() mutable {
      state->result.emplace(std::move(result));
      if (auto waiter = std::exchange(state->waiter, {})) waiter.resume();
    });
  }

  // co_await yields the value, or throws duro::Error with the Status.
  struct Awaiter {
    std::shared_ptr<State> state;
    bool await_ready() const noexcept { return state->result.has_value(); }
    void await_suspend(std::coroutine_handle<> h) noexcept { state->waiter = h; }
    T await_resume() { return std::move(*state->result).valueOrThrow(); }
  };
  Awaiter operator co_await() const noexcept { return Awaiter{state_}; }

 private:
  std::shared_ptr<State> state_;
};

}  // namespace duro::runtime
