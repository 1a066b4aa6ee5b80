// Tests of WebSockets in the runtime (object_socket.h, websocket_event.h) through the native SDK:
// a chat room object, with fake transports standing in for the network side.
#include <gtest/gtest.h>

#include <atomic>
#include <coroutine>
#include <mutex>

#include "runtime/runtime_test_harness.h"

namespace duro::runtime {
namespace {

using namespace std::chrono_literals;
using testing::RuntimeHarness;

// What the network side would write to the client: recorded for the test to read.
class FakeTransport final : public WebSocketTransport {
 public:
  void send(std::string data, bool binary) override {
    std::lock_guard lock(mu_);
    sent_.push_back(binary ? "bin:" + data : data);
  }
  void close(int code, std::string reason) override {
    std::lock_guard lock(mu_);
    closeCode_ = code;
    closeReason_ = reason;
  }
  size_t bufferedBytes() const override { return 0; }

  std::vector<std::string> sent() const {
    std::lock_guard lock(mu_);
    return sent_;
  }
  int closeCode() const {
    std::lock_guard lock(mu_);
    return closeCode_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> sent_;
  int closeCode_ = -1;
  std::string closeReason_;
};

std::atomic<int> constructed{0};
std::atomic<int> handledMessages{0};
std::atomic<int> abandonedInstances{0};

// Suspends a handler until release() (a test's stand-in for work that takes long).
class Latch {
 public:
  bool await_ready() const noexcept { return open_; }
  void await_suspend(std::coroutine_handle<> h) noexcept { waiter_ = h; }
  void await_resume() const noexcept {}
  void release() {
    open_ = true;
    if (auto h = std::exchange(waiter_, {})) h.resume();
  }

 private:
  bool open_ = false;
  std::coroutine_handle<> waiter_;
};
std::mutex closesMu;
std::vector<std::string> closes;

// A chat room: /join?tag=T accepts a hibernatable socket tagged T (attachment "from T"); every
// message is broadcast to every socket as "<message> <attachment>"; /count?tag=T counts sockets.
class Room final : public DurableObject {
 public:
  Room(ObjectState& state, Env&) : state_(state) { ++constructed; }

  Task<Response> fetch(Request request) override {
    std::string tag(request.queryParam("tag").value_or(""));
    if (request.path() == "/join") {
      std::vector<std::string> tags;
      if (!tag.empty()) tags.push_back(tag);
      WebSocketPair pair = state_.acceptWebSocket(tags);
      pair.server->setAttachment("from " + tag);
      Response response;
      response.status = 101;
      response.webSocket = pair.client;
      co_return response;
    }
    if (request.path() == "/count") {
      std::optional<std::string> filter;
      if (!tag.empty()) filter = tag;
      co_return Response::text(std::to_string(state_.getWebSockets(filter).size()));
    }
    if (request.path() == "/timeout") {
      if (auto ms = request.queryParam("ms")) {
        try {
          state_.setHibernatableWebSocketEventTimeout(
              std::chrono::milliseconds(std::stoll(std::string(*ms))));
        } catch (const Error& e) {
          co_return Response::text(e.what());
        }
      }
      auto timeout = state_.hibernatableWebSocketEventTimeout();
      co_return Response::text(timeout ? std::to_string(timeout->count()) : "none");
    }
    if (request.path() == "/auto") {
      state_.setWebSocketAutoResponse(std::make_pair(std::string("ping"), std::string("pong")));
      co_return Response::text("ok");
    }
    if (request.path() == "/too-many-tags") {
      try {
        state_.acceptWebSocket(std::vector<std::string>(11, "t"));
      } catch (const Error& e) {
        co_return Response::text(e.what());
      }
      co_return Response::text("accepted");
    }
    if (request.path() == "/big-attachment") {
      WebSocketPair pair = state_.acceptWebSocket();
      try {
        pair.server->setAttachment(std::string(16 * 1024 + 1, 'x'));
      } catch (const Error& e) {
        co_return Response::text(e.what());
      }
      co_return Response::text("stored");
    }
    co_return Response::text("not found", 404);
  }

  Task<void> webSocketMessage(WebSocket& socket, std::string data, bool binary) override {
    ++handledMessages;
    if (data == "hang") {
      // Runs until the runtime abandons the instance (the event timeout).
      socket.send("hanging");
      co_await hang_;
      if (!abandoned_) socket.send("late");
      co_return;
    }
    for (const auto& other : state_.getWebSockets()) other->send(data + " " + socket.attachment());
    co_return;
  }

  Task<void> webSocketClose(WebSocket& socket, int code, std::string reason,
                            bool wasClean) override {
    std::lock_guard lock(closesMu);
    closes.push_back(std::to_string(code) + " " + reason + (wasClean ? " clean" : " unclean") +
                     " " + socket.attachment());
    co_return;
  }

  void abandoned(const Status& why) override {
    EXPECT_EQ(why.message(), "Actor exceeded event execution time and was disconnected.");
    abandoned_ = true;
    ++abandonedInstances;
    hang_.release();
  }

 private:
  ObjectState& state_;
  Latch hang_;
  bool abandoned_ = false;
};

class WebSocketTest : public ::testing::Test {
 protected:
  void start(std::chrono::milliseconds idleTimeout = 10s) {
    constructed = 0;
    handledMessages = 0;
    abandonedInstances = 0;
    closes.clear();
    RuntimeOptions options;
    options.threads = 2;
    options.idleTimeout = idleTimeout;
    harness_.start(options, [](ObjectState& state, Env& env) -> std::unique_ptr<DurableObject> {
      return std::make_unique<Room>(state, env);
    });
  }

  // Joins the room: the 101 response's endpoint, connected to a fresh fake transport.
  std::pair<std::shared_ptr<WebSocketEndpoint>, std::shared_ptr<FakeTransport>> join(
      const std::string& room, const std::string& tag) {
    Response response = harness_.fetchFull(room, "/join?tag=" + tag);
    EXPECT_EQ(response.status, 101);
    EXPECT_TRUE(response.webSocket != nullptr);
    auto transport = std::make_shared<FakeTransport>();
    response.webSocket->connected(transport);
    return {response.webSocket, transport};
  }

  RuntimeHarness harness_;
};

TEST_F(WebSocketTest, EveryClientSeesEveryMessageInTheSameOrder) {
  start();
  auto [a, ta] = join("room", "alice");
  auto [b, tb] = join("room", "bob");
  auto [c, tc] = join("room", "carol");
  EXPECT_EQ(harness_.call("room", "/count"), "3");
  EXPECT_EQ(harness_.call("room", "/count?tag=bob"), "1");
  // Three senders interleaved from this thread: the object sees them in some order, and every
  // client must receive exactly that order.
  for (int i = 0; i < 20; ++i) {
    a->message("a" + std::to_string(i), false);
    b->message("b" + std::to_string(i), false);
    c->message("c" + std::to_string(i), false);
  }
  ASSERT_TRUE(RuntimeHarness::eventually([&] { return tc->sent().size() == 60; }));
  ASSERT_TRUE(RuntimeHarness::eventually([&] { return ta->sent().size() == 60; }));
  ASSERT_TRUE(RuntimeHarness::eventually([&] { return tb->sent().size() == 60; }));
  EXPECT_EQ(ta->sent(), tb->sent());
  EXPECT_EQ(tb->sent(), tc->sent());
  // Each sender's own messages stay in the order it sent them, with its attachment.
  std::vector<std::string> fromAlice;
  for (const std::string& m : ta->sent()) {
    if (m[0] == 'a') fromAlice.push_back(m);
  }
  ASSERT_EQ(fromAlice.size(), 20u);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(fromAlice[i], "a" + std::to_string(i) + " from alice");
}

TEST_F(WebSocketTest, AHibernatedObjectIsRebuiltByTheNextMessageWithItsSocketsIntact) {
  start(50ms);
  auto [a, ta] = join("hib", "alice");
  EXPECT_EQ(constructed.load(), 1);
  // The idle sweep drops the instance (hibernation) but not the socket.
  ASSERT_TRUE(RuntimeHarness::eventually(
      [&] { return harness_.runtime().stats().objectsEvicted >= 1; }));
  EXPECT_EQ(harness_.runtime().stats().liveObjects, 0u);
  a->message("hello", false);
  ASSERT_TRUE(RuntimeHarness::eventually([&] { return ta->sent().size() == 1; }));
  EXPECT_EQ(ta->sent()[0], "hello from alice");  // the attachment survived hibernation
  EXPECT_EQ(constructed.load(), 2);
  EXPECT_EQ(harness_.call("hib", "/count?tag=alice"), "1");  // so did the tag
}

TEST_F(WebSocketTest, TheAutoResponseAnswersWithoutWakingTheObject) {
  start(50ms);
  auto [a, ta] = join("auto", "x");
  EXPECT_EQ(harness_.call("auto", "/auto"), "ok");
  ASSERT_TRUE(RuntimeHarness::eventually(
      [&] { return harness_.runtime().stats().objectsEvicted >= 1; }));
  int before = constructed.load();
  a->message("ping", false);
  ASSERT_TRUE(RuntimeHarness::eventually([&] { return ta->sent().size() == 1; }));
  EXPECT_EQ(ta->sent()[0], "pong");
  EXPECT_EQ(constructed.load(), before);
  EXPECT_EQ(handledMessages.load(), 0);
  // Anything else still reaches the object.
  a->message("other", false);
  ASSERT_TRUE(RuntimeHarness::eventually([&] { return ta->sent().size() == 2; }));
  EXPECT_EQ(ta->sent()[1], "other from x");
  EXPECT_EQ(handledMessages.load(), 1);
}

TEST_F(WebSocketTest, ClosesReachTheHandlerAndTheSocketLeavesTheRoom) {
  start();
  auto [a, ta] = join("close", "alice");
  auto [b, tb] = join("close", "bob");
  a->closed(4001, "leaving", true);
  b->closed(1006, "", false);
  ASSERT_TRUE(RuntimeHarness::eventually([&] {
    std::lock_guard lock(closesMu);
    return closes.size() == 2;
  }));
  {
    std::lock_guard lock(closesMu);
    EXPECT_EQ(closes[0], "4001 leaving clean from alice");
    EXPECT_EQ(closes[1], "1006  unclean from bob");
  }
  EXPECT_EQ(harness_.call("close", "/count"), "0");
}

TEST_F(WebSocketTest, LimitsAreClearErrors) {
  start();
  EXPECT_EQ(harness_.call("limits", "/too-many-tags"), "A WebSocket can have a maximum of 10 tags.");
  EXPECT_EQ(harness_.call("limits", "/big-attachment"),
            "A WebSocket attachment cannot be larger than 16384 bytes (16385 bytes were given).");
}

TEST_F(WebSocketTest, AHandlerPastTheEventTimeoutIsCutOffAndTheObjectResetWithItsSocketsKept) {
  start();
  auto [a, ta] = join("slow", "alice");
  EXPECT_EQ(harness_.call("slow", "/timeout"), "none");
  EXPECT_EQ(harness_.call("slow", "/timeout?ms=50"), "50");
  // A handler that finishes in time is not affected.
  a->message("quick", false);
  ASSERT_TRUE(RuntimeHarness::eventually([&] { return ta->sent().size() == 1; }));
  // One that does not is abandoned once the timeout expires, and sends nothing more.
  a->message("hang", false);
  ASSERT_TRUE(RuntimeHarness::eventually([&] { return abandonedInstances.load() == 1; }));
  EXPECT_EQ(ta->sent(), (std::vector<std::string>{"quick from alice", "hanging"}));
  EXPECT_EQ(constructed.load(), 1);
  // The object was reset: a new instance handles the next message, on the same socket, with its
  // attachment and tags; the timeout is still set.
  a->message("who", false);
  ASSERT_TRUE(RuntimeHarness::eventually([&] { return ta->sent().size() == 3; }));
  EXPECT_EQ(ta->sent()[2], "who from alice");
  EXPECT_EQ(constructed.load(), 2);
  EXPECT_EQ(harness_.call("slow", "/count?tag=alice"), "1");
  EXPECT_EQ(harness_.call("slow", "/timeout"), "50");
  EXPECT_EQ(abandonedInstances.load(), 1);
  EXPECT_EQ(ta->closeCode(), -1);  // still connected
  // 0 removes the timeout; more than 7 days is refused.
  EXPECT_EQ(harness_.call("slow", "/timeout?ms=604800001"),
            "Event timeout should not exceed 604800000 ms.");
  EXPECT_EQ(harness_.call("slow", "/timeout?ms=0"), "none");
}

TEST_F(WebSocketTest, MessagesSentBeforeTheHandshakeCompletesLeaveInOrderAfterIt) {
  start();
  Response response = harness_.fetchFull("early", "/join?tag=t");
  ASSERT_TRUE(response.webSocket);
  // A second client joins and talks before the first one's connection exists.
  auto [b, tb] = join("early", "u");
  b->message("one", false);
  b->message("two", false);
  ASSERT_TRUE(RuntimeHarness::eventually([&] { return tb->sent().size() == 2; }));
  auto late = std::make_shared<FakeTransport>();
  response.webSocket->connected(late);
  ASSERT_TRUE(RuntimeHarness::eventually([&] { return late->sent().size() == 2; }));
  EXPECT_EQ(late->sent(), (std::vector<std::string>{"one from u", "two from u"}));
}

}  // namespace
}  // namespace duro::runtime
