// duro::Task<T>: the coroutine type of every asynchronous duro handler and SDK call.
//
//   duro::Task<duro::Response> fetch(duro::Request req) override {
//     auto r = co_await env.COUNTER.get(id).fetch(req);   // suspends; other events may run
//     co_return r;
//   }
//
// A Task is lazy: its body starts when it is first co_awaited (or handed to the runtime, which
// starts it). co_await on a Task resumes the awaiting coroutine directly when the Task finishes
// (symmetric transfer: no queueing, no thread hop). An exception thrown in the body is rethrown at
// the co_await. A Task is move-only; destroying an unstarted or finished Task frees its frame.
// Tasks run on the thread that resumes them; duro's awaitables always resume on the owning
// object's (or connection's) event-loop thread.
#pragma once

#include <coroutine>
#include <exception>
#include <functional>
#include <optional>
#include <type_traits>
#include <utility>

namespace duro {

template <typename T = void>
class Task;

namespace detail {

struct TaskPromiseBase {
  std::coroutine_handle<> continuation = std::noop_coroutine();
  std::exception_ptr error;

  std::suspend_always initial_suspend() noexcept { return {}; }

  struct FinalAwaiter {
    bool await_ready() noexcept { return false; }
    template <typename P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) noexcept {
      return h.promise().continuation;
    }
    void await_resume() noexcept {}
  };
  FinalAwaiter final_suspend() noexcept { return {}; }
  void unhandled_exception() noexcept { error = std::current_exception(); }
};

template <typename T>
struct TaskPromise : TaskPromiseBase {
  std::optional<T> value;
  Task<T> get_return_object() noexcept;
  template <typename U>
  void return_value(U&& v) {
    value.emplace(std::forward<U>(v));
  }
  T take() {
    if (error) std::rethrow_exception(error);
    return std::move(*value);
  }
};

template <>
struct TaskPromise<void> : TaskPromiseBase {
  Task<void> get_return_object() noexcept;
  void return_void() noexcept {}
  void take() {
    if (error) std::rethrow_exception(error);
  }
};

}  // namespace detail

template <typename T>
class [[nodiscard]] Task {
 public:
  using promise_type = detail::TaskPromise<T>;
  using Handle = std::coroutine_handle<promise_type>;

  Task() noexcept = default;
  explicit Task(Handle h) noexcept : h_(h) {}
  Task(Task&& other) noexcept : h_(std::exchange(other.h_, {})) {}
  Task& operator=(Task&& other) noexcept {
    if (this != &other) {
      if (h_) h_.destroy();
      h_ = std::exchange(other.h_, {});
    }
    return *this;
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task() {
    if (h_) h_.destroy();
  }

  bool valid() const noexcept { return static_cast<bool>(h_); }

  struct Awaiter {
    Handle h;
    bool await_ready() noexcept { return !h || h.done(); }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) noexcept {
      h.promise().continuation = awaiting;
      return h;
    }
    T await_resume() { return h.promise().take(); }
  };
  Awaiter operator co_await() && noexcept { return Awaiter{h_}; }

 private:
  Handle h_;
};

namespace detail {
template <typename T>
Task<T> TaskPromise<T>::get_return_object() noexcept {
  return Task<T>(std::coroutine_handle<TaskPromise<T>>::from_promise(*this));
}
inline Task<void> TaskPromise<void>::get_return_object() noexcept {
  return Task<void>(std::coroutine_handle<TaskPromise<void>>::from_promise(*this));
}

// An eager, self-destroying coroutine used to start a Task from non-coroutine code.
struct Detached {
  struct promise_type {
    Detached get_return_object() noexcept { return {}; }
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void return_void() noexcept {}
    void unhandled_exception() noexcept { std::terminate(); }  // bodies catch everything
  };
};
}  // namespace detail

// Starts `task` now, on the calling thread, and calls `done` with its outcome when it finishes:
// `done(value, nullptr)` on success, `done({}, error)` if it threw. `done` must not throw.
template <typename T>
void startTask(Task<T> task,
               std::function<void(std::optional<T>, std::exception_ptr)> done) {
  [](Task<T> t, std::function<void(std::optional<T>, std::exception_ptr)> d) -> detail::Detached {
    std::optional<T> value;
    std::exception_ptr error;
    try {
      value.emplace(co_await std::move(t));
    } catch (...) {
      error = std::current_exception();
    }
    d(std::move(value), error);
  }(std::move(task), std::move(done));
}

inline void startTask(Task<void> task, std::function<void(std::exception_ptr)> done) {
  [](Task<void> t, std::function<void(std::exception_ptr)> d) -> detail::Detached {
    std::exception_ptr error;
    try {
      co_await std::move(t);
    } catch (...) {
      error = std::current_exception();
    }
    d(error);
  }(std::move(task), std::move(done));
}

}  // namespace duro
