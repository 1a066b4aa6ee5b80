// Tests for duro::Task and startTask (include/duro/task.h).
#include "duro/task.h"

#include <gtest/gtest.h>

#include <coroutine>
#include <stdexcept>
#include <string>

namespace duro {
namespace {

Task<int> value(int v) { co_return v; }

Task<int> sum() {
  int a = co_await value(2);
  int b = co_await value(3);
  co_return a + b;
}

Task<void> thrower() {
  throw std::runtime_error("boom");
  co_return;
}

Task<std::string> catcher() {
  try {
    co_await thrower();
  } catch (const std::exception& e) {
    co_return std::string("caught ") + e.what();
  }
  co_return "not caught";
}

// An awaitable resumed by hand, standing in for an event-loop completion.
struct Manual {
  std::coroutine_handle<> waiter;
  struct Awaiter {
    Manual* m;
    bool await_ready() { return false; }
    void await_suspend(std::coroutine_handle<> h) { m->waiter = h; }
    int await_resume() { return 7; }
  };
  Awaiter operator co_await() { return {this}; }
};

Task<int> waitsOn(Manual& m) { co_return co_await m + 1; }

TEST(Task, IsLazyAndComposes) {
  bool started = false;
  auto lazy = [&]() -> Task<int> {
    started = true;
    co_return 1;
  };
  Task<int> t = lazy();
  EXPECT_FALSE(started);
  std::optional<int> got;
  startTask<int>(sum(), [&](std::optional<int> v, std::exception_ptr e) {
    EXPECT_FALSE(e);
    got = v;
  });
  EXPECT_EQ(got, 5);
}

TEST(Task, ExceptionsPropagateToTheAwaiter) {
  std::optional<std::string> got;
  startTask<std::string>(catcher(), [&](std::optional<std::string> v, std::exception_ptr) { got = v; });
  EXPECT_EQ(got, "caught boom");

  std::exception_ptr error;
  startTask(thrower(), [&](std::exception_ptr e) { error = e; });
  ASSERT_TRUE(error);
  EXPECT_THROW(std::rethrow_exception(error), std::runtime_error);
}

TEST(Task, SuspendsUntilResumed) {
  Manual m;
  std::optional<int> got;
  startTask<int>(waitsOn(m), [&](std::optional<int> v, std::exception_ptr) { got = v; });
  EXPECT_FALSE(got.has_value());
  ASSERT_TRUE(m.waiter);
  m.waiter.resume();
  EXPECT_EQ(got, 8);
}

static_assert(std::is_nothrow_move_constructible_v<Task<int>>);

}  // namespace
}  // namespace duro
