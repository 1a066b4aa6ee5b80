// Tests for the runtime: ordering, errors, overload, blockConcurrencyWhile, interleaving at
// awaits, eviction and re-construction. Objects run on real shard threads; the test talks to them
// through a NamespaceBinding from a client loop, as a Worker would.
#include "runtime/runtime.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include "runtime/deferred.h"
#include "runtime/env_impl.h"
#include "runtime/namespace_binding.h"
#include "runtime/runtime_test_harness.h"

namespace duro::runtime {
namespace {

using namespace std::chrono_literals;

// Named one-shot latches that object code awaits and the test thread releases.
class Latches {
 public:
  Task<void> wait(std::string name) {
    Deferred<int> d(*base::EventLoop::current());
    {
      std::lock_guard lock(mu_);
      waiting_.emplace(name, d);
    }
    cv_.notify_all();
    co_await d;
  }
  // Blocks until someone waits on `name`, then releases it. False on timeout.
  bool release(const std::string& name) {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, 10s, [&] { return waiting_.count(name) > 0; })) return false;
    auto it = waiting_.find(name);
    Deferred<int> d = it->second;
    waiting_.erase(it);
    lock.unlock();
    d.complete(1);
    return true;
  }
  bool isWaiting(const std::string& name) {
    std::lock_guard lock(mu_);
    return waiting_.count(name) > 0;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::multimap<std::string, Deferred<int>> waiting_;
};

Latches gLatches;
std::atomic<int> gConstructions{0};

// Test object: behaviour chosen by the request path.
class TestObject final : public DurableObject {
 public:
  TestObject(ObjectState& state, Env& env) : state_(state), env_(env) {
    ++gConstructions;
    if (state.id().name() && state.id().name()->starts_with("ctor-block")) {
      state.blockConcurrencyWhile([name = *state.id().name()]() -> Task<void> {
        co_await gLatches.wait(name);
      });
    }
  }

  Task<Response> fetch(Request request) override {
    std::string_view path = request.path();
    ++count_;
    if (path == "/count") co_return Response::text(std::to_string(count_));
    if (path == "/throw") throw std::runtime_error("kaboom");
    if (path == "/hold") {
      std::string latch = std::string(request.queryParam("latch").value_or("hold"));
      co_await state_.blockConcurrencyWhile(
          [latch]() -> Task<void> { co_await gLatches.wait(latch); });
      co_return Response::text("held " + std::to_string(count_));
    }
    if (path == "/bcw-throw") {
      co_await state_.blockConcurrencyWhile([]() -> Task<void> {
        throw std::runtime_error("bad init");
        co_return;
      });
      co_return Response::text("unreachable");
    }
    if (path == "/await-latch") {
      co_await gLatches.wait(std::string(request.queryParam("latch").value_or("x")));
      co_return Response::text("released");
    }
    if (path == "/release-latch") {
      // Runs while another event of this object is suspended in /await-latch.
      std::string latch(request.queryParam("latch").value_or("x"));
      bool ok = gLatches.isWaiting(latch) && gLatches.release(latch);
      co_return Response::text(ok ? "did release" : "nobody waiting");
    }
    if (path == "/call") {
      // An object calling another object through env.
      Response r = co_await env_.ns("TEST").getByName("callee").fetch(Request{"GET", "http://x/count", {}, {}, {}});
      co_return Response::text("callee said " + r.body);
    }
    if (path == "/store") {
      state_.storage().put(std::string(request.queryParam("k").value_or("k")),
                           std::string(request.queryParam("v").value_or("v")));
      co_return Response::text("stored");
    }
    if (path == "/load") {
      auto v = co_await state_.storage().get(std::string(request.queryParam("k").value_or("k")));
      co_return Response::text(v.value_or("(none)"));
    }
    co_return Response::text("unknown path", 404);
  }

 private:
  ObjectState& state_;
  Env& env_;
  int count_ = 0;
};

class RuntimeTest : public ::testing::Test {
 protected:
  void startRuntime(RuntimeOptions options) {
    rt_.start(options, [](ObjectState& s, Env& e) { return std::make_unique<TestObject>(s, e); });
    runtime_ = &rt_.runtime();
    dataDir_ = rt_.dataDir();
  }
  std::future<std::string> send(const std::string& name, const std::string& path) {
    return rt_.send(name, path);
  }
  std::string call(const std::string& name, const std::string& path) {
    return rt_.call(name, path);
  }
  template <typename Pred>
  bool eventually(Pred pred) {
    return testing::RuntimeHarness::eventually(pred);
  }

  testing::RuntimeHarness rt_;
  Runtime* runtime_ = nullptr;
  std::filesystem::path dataDir_;
};

TEST_F(RuntimeTest, ConcurrentRequestsToOneObjectRunOneAtATimeInOrder) {
  startRuntime({.threads = 2});
  constexpr int kN = 200;
  std::vector<std::future<std::string>> futures;
  for (int i = 0; i < kN; ++i) futures.push_back(send("counter", "/count"));
  // Calls from one client through one stub arrive in order, so the answers are exactly 1..N.
  for (int i = 0; i < kN; ++i) {
    ASSERT_EQ(futures[i].wait_for(10s), std::future_status::ready);
    EXPECT_EQ(futures[i].get(), std::to_string(i + 1));
  }
}

TEST_F(RuntimeTest, SameNameIsOneObjectDifferentNamesAreDifferent) {
  startRuntime({.threads = 2});
  EXPECT_EQ(call("a", "/count"), "1");
  EXPECT_EQ(call("a", "/count"), "2");
  EXPECT_EQ(call("b", "/count"), "1");
  EXPECT_EQ(runtime_->stats().liveObjects, 2u);
}

TEST_F(RuntimeTest, AThrowingHandlerFailsOnlyThatRequest) {
  startRuntime({.threads = 2});
  EXPECT_EQ(call("t", "/count"), "1");
  EXPECT_EQ(call("t", "/throw"), "error: kaboom");
  // The object keeps its state (it is not reset) and keeps serving; others are untouched.
  EXPECT_EQ(call("t", "/count"), "3");
  EXPECT_EQ(call("other", "/count"), "1");
  EXPECT_EQ(gConstructions.load() >= 2, true);
}

TEST_F(RuntimeTest, OverloadedWhenTheQueueIsFull) {
  startRuntime({.threads = 2, .maxQueuedEventsPerObject = 5});
  auto held = send("busy", "/hold?latch=busy");
  // Wait until the object is inside blockConcurrencyWhile: its input gate is now locked.
  ASSERT_TRUE(eventually([] { return gLatches.isWaiting("busy"); }));
  std::vector<std::future<std::string>> queued;
  for (int i = 0; i < 8; ++i) queued.push_back(send("busy", "/count"));
  // The first 5 wait in the queue; the other 3 are refused at once.
  for (int i = 5; i < 8; ++i) {
    ASSERT_EQ(queued[i].wait_for(10s), std::future_status::ready);
    EXPECT_EQ(queued[i].get(), "overloaded: Durable Object is overloaded. Too many requests queued.");
  }
  for (int i = 0; i < 5; ++i) {
    EXPECT_NE(queued[i].wait_for(0ms), std::future_status::ready);
  }
  EXPECT_EQ(runtime_->stats().overloadRejections, 3u);
  // Another object is not affected.
  EXPECT_EQ(call("free", "/count"), "1");
  ASSERT_TRUE(gLatches.release("busy"));
  EXPECT_EQ(held.get(), "held 1");
  for (int i = 0; i < 5; ++i) EXPECT_EQ(queued[i].get(), std::to_string(i + 2));
}

TEST_F(RuntimeTest, BlockConcurrencyWhileInTheConstructorHoldsTheFirstEvent) {
  startRuntime({.threads = 1});
  auto first = send("ctor-block-1", "/count");
  ASSERT_TRUE(eventually([] { return gLatches.isWaiting("ctor-block-1"); }));
  EXPECT_NE(first.wait_for(20ms), std::future_status::ready);
  ASSERT_TRUE(gLatches.release("ctor-block-1"));
  EXPECT_EQ(first.get(), "1");
}

TEST_F(RuntimeTest, ThrowingInBlockConcurrencyWhileResetsTheObject) {
  startRuntime({.threads = 1});
  EXPECT_EQ(call("r", "/count"), "1");
  EXPECT_EQ(call("r", "/count"), "2");
  EXPECT_EQ(call("r", "/bcw-throw"), "error: bad init");
  // A fresh instance: in-memory state starts over.
  EXPECT_EQ(call("r", "/count"), "1");
}

TEST_F(RuntimeTest, EventsInterleaveWhereAHandlerSuspends) {
  startRuntime({.threads = 2});
  auto waiting = send("il", "/await-latch?latch=il");
  ASSERT_TRUE(eventually([] { return gLatches.isWaiting("il"); }));
  // The second event runs while the first is suspended, and releases it.
  EXPECT_EQ(call("il", "/release-latch?latch=il"), "did release");
  ASSERT_EQ(waiting.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(waiting.get(), "released");
}

TEST_F(RuntimeTest, ObjectsCallOtherObjects) {
  startRuntime({.threads = 2});
  EXPECT_EQ(call("caller", "/call"), "callee said 1");
  EXPECT_EQ(call("caller", "/call"), "callee said 2");
}

TEST_F(RuntimeTest, IdleObjectsAreEvictedAndReconstructed) {
  startRuntime({.threads = 2, .idleTimeout = 50ms});
  EXPECT_EQ(call("e", "/count"), "1");
  ASSERT_TRUE(eventually([&] { return runtime_->stats().objectsEvicted >= 1; }));
  EXPECT_EQ(runtime_->stats().liveObjects, 0u);
  // A new instance: its in-memory count starts over.
  EXPECT_EQ(call("e", "/count"), "1");
  EXPECT_EQ(runtime_->stats().objectsConstructed, 2u);
}

TEST_F(RuntimeTest, BusyObjectsAreNotEvicted) {
  startRuntime({.threads = 1, .idleTimeout = 20ms});
  auto held = send("busy-evict", "/await-latch?latch=busy-evict");
  ASSERT_TRUE(eventually([] { return gLatches.isWaiting("busy-evict"); }));
  // Let several idle timeouts pass while the event is suspended (another object shows time passing).
  EXPECT_EQ(call("ticker", "/count"), "1");
  ASSERT_TRUE(eventually([&] { return runtime_->stats().objectsEvicted >= 1; }));  // the ticker
  EXPECT_EQ(runtime_->stats().liveObjects, 1u);                                      // busy-evict
  ASSERT_TRUE(gLatches.release("busy-evict"));
  EXPECT_EQ(held.get(), "released");
}

TEST_F(RuntimeTest, StorageWritesAreReadableAndSurviveEviction) {
  startRuntime({.threads = 2, .idleTimeout = 30ms});
  EXPECT_EQ(call("st", "/store?k=a&v=1"), "stored");
  EXPECT_EQ(call("st", "/load?k=a"), "1");
  ASSERT_TRUE(eventually([&] { return runtime_->stats().objectsEvicted >= 1; }));
  EXPECT_EQ(call("st", "/load?k=a"), "1");  // a new instance reads it back from disk
}

TEST_F(RuntimeTest, AFailedCommitFailsTheRequestWithAClearError) {
  startRuntime({.threads = 1});
  EXPECT_EQ(call("victim", "/store?k=a&v=1"), "stored");
  std::promise<void> injected;
  runtime_->shard(0).loop().post([&] {
    runtime_->shard(0).storage().failNextLogWriteForTest(
        Status::storage("No space left on device (injected)"));
    injected.set_value();
  });
  injected.get_future().wait();
  std::string failed = call("victim", "/store?k=a&v=2");
  EXPECT_TRUE(failed.starts_with("error: Durable Object storage operation failed")) << failed;
  EXPECT_NE(failed.find("No space left"), std::string::npos) << failed;
  // Later storage calls get a clear error too; the server itself goes on (no crash).
  std::string later = call("victim", "/load?k=a");
  EXPECT_NE(later.find("restart the server"), std::string::npos) << later;
  EXPECT_EQ(call("other", "/count"), "1");
}

TEST_F(RuntimeTest, AResponseWaitsUntilItsWritesAreDurable) {
  startRuntime({.threads = 1});
  auto onShard = [&](std::function<void()> fn) {
    std::promise<void> done;
    runtime_->shard(0).loop().post([&] {
      fn();
      done.set_value();
    });
    done.get_future().wait();
  };
  onShard([&] { runtime_->shard(0).storage().setLogPausedForTest(true); });
  auto response = send("gated", "/store?k=a&v=1");
  // The write is applied and handed to the log; only the log's sync is missing.
  ASSERT_TRUE(eventually([&] { return runtime_->stats().commits >= 1; }));
  EXPECT_EQ(response.wait_for(50ms), std::future_status::timeout);
  // Reads of the object itself see the write at once (they are not outputs).
  onShard([&] { runtime_->shard(0).storage().setLogPausedForTest(false); });
  ASSERT_EQ(response.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(response.get(), "stored");
}

TEST_F(RuntimeTest, StoppedRuntimeFailsNewEvents) {
  startRuntime({.threads = 1});
  EXPECT_EQ(call("s", "/count"), "1");
  runtime_->stop();
  EXPECT_EQ(call("s", "/count"), "error: the server is shutting down");
}

}  // namespace
}  // namespace duro::runtime
