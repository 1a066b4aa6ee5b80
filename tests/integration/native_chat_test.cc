// The native-chat example (examples/native-chat) as a real process on a free loopback port, driven
// by WebSocket clients: every client sees every message in the same order, "ping" is answered by
// the runtime, and a client that vanishes without a close frame reaches webSocketClose (the others
// are told it left).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "harness.h"
#include "net/test_websocket_client.h"

namespace duro::testing {
namespace {

using net::TestWebSocketClient;

class NativeChatTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<ServerProcess>(
        NATIVE_CHAT_BINARY,
        std::vector<std::string>{"--listen", "127.0.0.1:0", "--data", data_.path()});
    port_ = server_->waitForPort();
    ASSERT_NE(port_, 0) << server_->log();
  }

  TestWebSocketClient join(const std::string& room, const std::string& user) {
    TestWebSocketClient client;
    Status s = client.connect(port_, "/room/" + room + "/ws?user=" + user);
    EXPECT_TRUE(s.isOk()) << s.toString();
    return client;
  }

  // The next `n` messages of `client`.
  static std::vector<std::string> receive(TestWebSocketClient& client, size_t n) {
    std::vector<std::string> out;
    for (size_t i = 0; i < n; ++i) {
      auto message = client.receive();
      EXPECT_TRUE(message.isOk()) << message.status().toString();
      if (!message.isOk()) break;
      out.push_back(message->data);
    }
    return out;
  }

  TempDir data_;
  std::unique_ptr<ServerProcess> server_;
  uint16_t port_ = 0;
};

TEST_F(NativeChatTest, EveryClientSeesEveryMessageInTheSameNumberedOrder) {
  std::vector<TestWebSocketClient> clients;
  for (const char* user : {"alice", "bob", "carol"}) clients.push_back(join("lobby", user));
  EXPECT_EQ(httpGet(port_, "/room/lobby/who").body, "carol\nbob\nalice\n");
  // Senders interleaved: the room picks one order, and every client gets exactly that order.
  for (int i = 0; i < 10; ++i) {
    for (auto& client : clients) ASSERT_TRUE(client.send("m" + std::to_string(i)).isOk());
  }
  std::vector<std::string> first = receive(clients[0], 30);
  ASSERT_EQ(first.size(), 30u);
  for (size_t i = 0; i < first.size(); ++i) {
    EXPECT_EQ(first[i].rfind("#" + std::to_string(i + 1) + " ", 0), 0u) << first[i];
  }
  EXPECT_EQ(receive(clients[1], 30), first);
  EXPECT_EQ(receive(clients[2], 30), first);
  // Another room is separate and numbers from 1.
  TestWebSocketClient other = join("kitchen", "dave");
  ASSERT_TRUE(other.send("hello").isOk());
  EXPECT_EQ(receive(other, 1), std::vector<std::string>{"#1 dave: hello"});
}

TEST_F(NativeChatTest, PingIsAnsweredByTheRuntimeAndADroppedClientIsAnnounced) {
  TestWebSocketClient alice = join("lobby", "alice");
  TestWebSocketClient bob = join("lobby", "bob");
  ASSERT_TRUE(alice.send("ping").isOk());
  EXPECT_EQ(receive(alice, 1), std::vector<std::string>{"pong"});
  // Gone without a close frame: webSocketClose (1006) runs and tells the others.
  alice.abort();
  EXPECT_EQ(receive(bob, 1), std::vector<std::string>{"alice left"});
  EXPECT_EQ(httpGet(port_, "/room/lobby/who").body, "bob\n");
  // A clean close is answered with the client's code.
  ASSERT_TRUE(bob.close(4001, "bye").isOk());
  ASSERT_TRUE(bob.closeFrame().has_value());
  EXPECT_EQ(bob.closeFrame()->code, 4001);
  EXPECT_EQ(httpGet(port_, "/room/lobby/who").body, "");
}

}  // namespace
}  // namespace duro::testing
