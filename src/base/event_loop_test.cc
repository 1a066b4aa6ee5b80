// Tests for EventLoop and Timer (event_loop.h).
#include "base/event_loop.h"

#include <gtest/gtest.h>

#include <future>
#include <thread>
#include <vector>

namespace duro::base {
namespace {

TEST(EventLoop, PostsRunOnTheLoopThreadInOrder) {
  EventLoop loop;
  std::thread t([&] { loop.run(); });
  std::vector<int> seen;
  std::promise<void> done;
  for (int i = 0; i < 100; ++i) {
    loop.post([&, i] {
      EXPECT_TRUE(loop.isCurrent());
      seen.push_back(i);
      if (i == 99) done.set_value();
    });
  }
  done.get_future().wait();
  loop.stop();
  t.join();
  ASSERT_EQ(seen.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(seen[i], i);
  EXPECT_EQ(EventLoop::current(), nullptr);
}

TEST(Timer, FiresUnlessCancelled) {
  EventLoop loop;
  std::thread t([&] { loop.run(); });
  std::promise<std::string> result;
  loop.post([&] {
    auto cancelled = std::make_shared<Timer>(loop);
    auto fired = std::make_shared<Timer>(loop);
    cancelled->start(std::chrono::milliseconds(1), [&] { result.set_value("cancelled fired"); });
    cancelled->cancel();
    fired->start(std::chrono::milliseconds(5), [&, cancelled, fired] { result.set_value("ok"); });
  });
  EXPECT_EQ(result.get_future().get(), "ok");
  loop.stop();
  t.join();
}

}  // namespace
}  // namespace duro::base
