// Tests for HttpServer's WebSockets (websocket_session.cc, websocket_frame.cc): a real server on
// 127.0.0.1 (port 0) with two EventLoops on two threads, driven by TestWebSocketClient (Beast) and,
// for raw frames and bytes, TestHttpClient. Endpoints record every call; waits are condition
// variables with deadlines. websocket_frame_test.cc tests the parser without sockets.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "base/event_loop.h"
#include "duro/websocket.h"
#include "net/http_server.h"
#include "net/test_http_client.h"
#include "net/test_websocket_client.h"

namespace duro::net {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr auto kWait = 10s;

// N EventLoops, each run by its own thread until stop().
class LoopThreads {
 public:
  explicit LoopThreads(size_t n) {
    for (size_t i = 0; i < n; ++i) loops_.push_back(std::make_unique<base::EventLoop>());
    for (auto& loop : loops_) threads_.emplace_back([l = loop.get()] { l->run(); });
  }
  ~LoopThreads() { stop(); }
  LoopThreads(const LoopThreads&) = delete;
  LoopThreads& operator=(const LoopThreads&) = delete;

  void stop() {
    for (auto& loop : loops_) loop->stop();
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }
  std::vector<base::EventLoop*> pointers() const {
    std::vector<base::EventLoop*> out;
    for (auto& loop : loops_) out.push_back(loop.get());
    return out;
  }

 private:
  std::vector<std::unique_ptr<base::EventLoop>> loops_;
  std::vector<std::thread> threads_;
};

// Polls `condition` until true or the timeout passes (for state owned by other threads).
template <typename Fn>
bool eventually(Fn condition, std::chrono::milliseconds timeout = kWait) {
  auto deadline = Clock::now() + timeout;
  while (!condition()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

struct ClosedCall {
  int code = 0;
  std::string reason;
  bool wasClean = false;
};

// Records every call (as text, in order) and the thread it came on; optionally echoes each
// message back through the transport (from the loop thread, inside message()) and answers the
// client's close frame at once with its own code and reason (inside closeReceived()).
class RecordingEndpoint : public WebSocketEndpoint {
 public:
  explicit RecordingEndpoint(bool echo) : echo_(echo), answerClose_(echo) {}

  void connected(std::shared_ptr<WebSocketTransport> transport) override {
    std::lock_guard<std::mutex> lock(mu_);
    transport_ = std::move(transport);
    note("connected");
  }
  void message(std::string data, bool binary) override {
    std::shared_ptr<WebSocketTransport> transport;
    {
      std::lock_guard<std::mutex> lock(mu_);
      note(std::string(binary ? "binary:" : "text:") +
           (data.size() <= 64 ? data : "<" + std::to_string(data.size()) + " bytes>"));
      messages_.push_back(data);
      transport = transport_;
    }
    if (echo_ && transport) transport->send(std::move(data), binary);
  }
  void closeReceived(int code, std::string reason) override {
    std::shared_ptr<WebSocketTransport> transport;
    {
      std::lock_guard<std::mutex> lock(mu_);
      note("closeReceived:" + std::to_string(code) + ":" + reason);
      ++closeReceivedCalls_;
      transport = transport_;
    }
    if (answerClose_ && transport) transport->close(code, std::move(reason));
  }
  void closed(int code, std::string reason, bool wasClean) override {
    std::lock_guard<std::mutex> lock(mu_);
    note("closed:" + std::to_string(code) + ":" + reason + ":" + (wasClean ? "clean" : "unclean"));
    ++closedCalls_;
    closed_ = ClosedCall{code, std::move(reason), wasClean};
  }
  void error(std::string message) override {
    std::lock_guard<std::mutex> lock(mu_);
    note("error:" + message);
    errors_.push_back(std::move(message));
  }

  // Waits until `condition` (called under the lock) holds.
  bool waitFor(const std::function<bool()>& condition) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, kWait, condition);
  }
  bool waitConnected() {
    return waitFor([&] { return transport_ != nullptr || closedCalls_ > 0; }) && transport_;
  }
  bool waitClosed() {
    return waitFor([&] { return closedCalls_ > 0; });
  }
  bool waitMessages(size_t n) {
    return waitFor([&] { return messages_.size() >= n; });
  }
  bool waitCloseReceived() {
    return waitFor([&] { return closeReceivedCalls_ > 0; });
  }

  std::shared_ptr<WebSocketTransport> transport() {
    std::lock_guard<std::mutex> lock(mu_);
    return transport_;
  }
  std::vector<std::string> events() {
    std::lock_guard<std::mutex> lock(mu_);
    return events_;
  }
  std::vector<std::string> messages() {
    std::lock_guard<std::mutex> lock(mu_);
    return messages_;
  }
  std::vector<std::string> errors() {
    std::lock_guard<std::mutex> lock(mu_);
    return errors_;
  }
  ClosedCall closedCall() {
    std::lock_guard<std::mutex> lock(mu_);
    return closed_;
  }
  int closedCalls() {
    std::lock_guard<std::mutex> lock(mu_);
    return closedCalls_;
  }
  std::set<std::thread::id> threads() {
    std::lock_guard<std::mutex> lock(mu_);
    return threads_;
  }

 private:
  // mu_ held.
  void note(std::string event) {
    if (closedCalls_ > 0) event = "AFTER-CLOSED " + event;  // must never happen
    events_.push_back(std::move(event));
    threads_.insert(std::this_thread::get_id());
    cv_.notify_all();
  }

  const bool echo_;
  const bool answerClose_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::shared_ptr<WebSocketTransport> transport_;
  std::vector<std::string> events_;
  std::vector<std::string> messages_;
  std::vector<std::string> errors_;
  std::set<std::thread::id> threads_;
  ClosedCall closed_;
  int closedCalls_ = 0;
  int closeReceivedCalls_ = 0;
};

// An endpoint whose message() throws.
class ThrowingEndpoint : public RecordingEndpoint {
 public:
  ThrowingEndpoint() : RecordingEndpoint(false) {}
  void message(std::string data, bool binary) override {
    RecordingEndpoint::message(std::move(data), binary);
    throw std::runtime_error("boom");
  }
};

// Echoes like the runtime does: each message is posted to another thread (an object's shard),
// which sends the echo through the transport (so the send crosses back to the connection's loop).
class ShardEchoEndpoint : public WebSocketEndpoint,
                          public std::enable_shared_from_this<ShardEchoEndpoint> {
 public:
  explicit ShardEchoEndpoint(base::EventLoop& shard) : shard_(shard) {}
  void connected(std::shared_ptr<WebSocketTransport> transport) override {
    shard_.post([self = shared_from_this(), transport] { self->transport_ = transport; });
  }
  void message(std::string data, bool binary) override {
    shard_.post([self = shared_from_this(), data = std::move(data), binary]() mutable {
      self->transport_->send(std::move(data), binary);
    });
  }
  void closeReceived(int code, std::string reason) override {
    shard_.post([self = shared_from_this(), code, reason = std::move(reason)]() mutable {
      self->transport_->close(code, std::move(reason));
    });
  }
  void closed(int, std::string, bool) override {
    shard_.post([self = shared_from_this()] { self->transport_.reset(); });
  }
  void error(std::string) override {}

 private:
  base::EventLoop& shard_;
  std::shared_ptr<WebSocketTransport> transport_;  // shard thread only
};

// A valid upgrade request's fields (RFC 6455's example key).
constexpr std::string_view kUpgradeHeaders =
    "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";

// A close frame's payload: the code (big-endian) and the reason.
std::string closePayload(int code, std::string_view reason = {}) {
  std::string payload;
  payload.push_back(static_cast<char>(code >> 8));
  payload.push_back(static_cast<char>(code & 0xFF));
  return payload.append(reason);
}

class WebSocketTest : public ::testing::Test {
 protected:
  // Routes: /echo and /record accept WebSockets (echoing or not; echoing back the first offered
  // subprotocol), /throw accepts with a ThrowingEndpoint, /101-without-endpoint answers 101
  // alone, /200-with-endpoint gives an endpoint with a 200, /426 refuses the upgrade, /deferred
  // keeps its Responder for the test (deferred()), anything else is a plain 200.
  void startServer(HttpServerOptions options = {}) {
    server_ = std::make_unique<HttpServer>(
        loops_.pointers(), std::move(options),
        [this](Request request, Responder respond) { handle(std::move(request), respond); });
    Status s = server_->start();
    ASSERT_TRUE(s.isOk()) << s.toString();
  }

  void handle(Request request, const Responder& respond) {
    std::string_view path = request.path();
    std::shared_ptr<RecordingEndpoint> endpoint;
    if (path == "/echo") {
      endpoint = std::make_shared<RecordingEndpoint>(true);
    } else if (path == "/record") {
      endpoint = std::make_shared<RecordingEndpoint>(false);
    } else if (path == "/throw") {
      endpoint = std::make_shared<ThrowingEndpoint>();
    } else if (path == "/shard-echo") {
      Response response;
      response.status = 101;
      response.webSocket = std::make_shared<ShardEchoEndpoint>(*shard_.pointers()[0]);
      respond(std::move(response));
      return;
    } else if (path == "/deferred") {
      {
        std::lock_guard<std::mutex> lock(mu_);
        deferred_.push_back(respond);
      }
      cv_.notify_all();
      return;
    } else if (path == "/200-with-endpoint") {
      auto e = std::make_shared<RecordingEndpoint>(false);
      {
        std::lock_guard<std::mutex> lock(mu_);
        endpoints_.push_back(e);
      }
      cv_.notify_all();
      Response response = Response::text("not a WebSocket\n");
      response.webSocket = e;
      respond(std::move(response));
      return;
    } else if (path == "/101-without-endpoint") {
      Response response;
      response.status = 101;
      respond(std::move(response));
      return;
    } else if (path == "/426") {
      Response response = Response::text("Expected Upgrade: websocket\n", 426);
      respond(std::move(response));
      return;
    } else {
      respond(Response::text("plain " + std::string(path) + "\n"));
      return;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      endpoints_.push_back(endpoint);
    }
    cv_.notify_all();
    Response response;
    response.status = 101;
    response.webSocket = endpoint;
    if (auto protocols = request.headers.get("sec-websocket-protocol")) {
      std::string_view first = protocols->substr(0, protocols->find(','));
      response.headers.set("Sec-WebSocket-Protocol", first);
    }
    respond(std::move(response));
  }

  // The i-th endpoint the handler created (waits for it).
  std::shared_ptr<RecordingEndpoint> endpoint(size_t i) {
    std::unique_lock<std::mutex> lock(mu_);
    if (!cv_.wait_for(lock, kWait, [&] { return endpoints_.size() > i; })) return nullptr;
    return endpoints_[i];
  }

  // The i-th Responder kept by /deferred (waits for it).
  Responder deferred(size_t i) {
    std::unique_lock<std::mutex> lock(mu_);
    if (!cv_.wait_for(lock, kWait, [&] { return deferred_.size() > i; })) return nullptr;
    return deferred_[i];
  }

  // A 101 accepting a new (echoing) endpoint, which endpoint() will list.
  Response accept101() {
    auto e = std::make_shared<RecordingEndpoint>(true);
    {
      std::lock_guard<std::mutex> lock(mu_);
      endpoints_.push_back(e);
    }
    cv_.notify_all();
    Response response;
    response.status = 101;
    response.webSocket = e;
    return response;
  }

  TestWebSocketClient connect(std::string_view target = "/echo", const Headers& headers = {}) {
    TestWebSocketClient client;
    Status s = client.connect(server_->port(), target, headers);
    EXPECT_TRUE(s.isOk()) << s.toString();
    return client;
  }

  // A raw connection upgraded to a WebSocket on `target` (the 101 already read), for tests that
  // write hand-made frames and check the exact bytes the server sends.
  TestHttpClient rawWebSocket(std::string_view target) {
    TestHttpClient raw;
    EXPECT_TRUE(raw.connect(server_->port()).isOk());
    EXPECT_TRUE(raw.send(TestHttpClient::formatRequest("GET", target, {}, kUpgradeHeaders)).isOk());
    auto head = raw.readUntil("\r\n\r\n");
    EXPECT_TRUE(head.isOk()) << head.status().toString();
    if (head.isOk()) {
      EXPECT_EQ(head->rfind("HTTP/1.1 101 Switching Protocols\r\n", 0), 0u) << *head;
    }
    return raw;
  }

  bool shutdownAndWait() {
    auto drained = std::make_shared<std::promise<void>>();
    server_->shutdown([drained] { drained->set_value(); });
    return drained->get_future().wait_for(kWait) == std::future_status::ready;
  }

  void TearDown() override {
    if (server_) {
      EXPECT_TRUE(shutdownAndWait());
      EXPECT_EQ(server_->openConnections(), 0u);
    }
    loops_.stop();
    server_.reset();
    // Every endpoint that was connected saw exactly one closed(), last.
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& e : endpoints_) {
      auto events = e->events();
      if (events.empty()) continue;
      EXPECT_EQ(e->closedCalls(), 1);
      EXPECT_EQ(events.back().rfind("closed:", 0), 0u) << events.back();
      EXPECT_EQ(e->threads().count(std::this_thread::get_id()), 0u);
    }
  }

  LoopThreads shard_{1};  // declared first: outlives the server's loops and their endpoints
  LoopThreads loops_{2};
  std::unique_ptr<HttpServer> server_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::shared_ptr<RecordingEndpoint>> endpoints_;
  std::vector<Responder> deferred_;
};

TEST_F(WebSocketTest, HandshakeThenTextAndBinaryEchoInOrder) {
  startServer();
  Headers headers;
  headers.set("Sec-WebSocket-Protocol", "chat, superchat");
  TestWebSocketClient client = connect("/echo", headers);
  ASSERT_TRUE(client.isOpen());
  const Response& handshake = client.handshakeResponse();
  EXPECT_EQ(handshake.status, 101);
  EXPECT_EQ(handshake.headers.get("sec-websocket-protocol").value_or(""), "chat");
  EXPECT_EQ(handshake.headers.get("server").value_or(""), "duro");
  EXPECT_FALSE(handshake.headers.has("content-length"));

  const std::string binary("\x00\x01\xff\x80", 4);
  ASSERT_TRUE(client.send("hello").isOk());
  ASSERT_TRUE(client.send(binary, true).isOk());
  ASSERT_TRUE(client.send("w\xc3\xb6rld").isOk());
  auto first = client.receive();
  auto second = client.receive();
  auto third = client.receive();
  ASSERT_TRUE(first.isOk() && second.isOk() && third.isOk()) << third.status().toString();
  EXPECT_EQ(first->data, "hello");
  EXPECT_FALSE(first->binary);
  EXPECT_EQ(second->data, binary);
  EXPECT_TRUE(second->binary);
  EXPECT_EQ(third->data, "w\xc3\xb6rld");
  EXPECT_FALSE(third->binary);

  auto e = endpoint(0);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->events(), (std::vector<std::string>{"connected", "text:hello", "binary:" + binary,
                                                   "text:w\xc3\xb6rld"}));
  // One loop thread made every call.
  EXPECT_EQ(e->threads().size(), 1u);
  EXPECT_EQ(server_->inFlightRequests(), 0u);
}

TEST_F(WebSocketTest, AThousandMessagesKeepTheirOrderBothWays) {
  startServer();
  TestWebSocketClient client = connect("/echo");
  constexpr int kCount = 1000;
  for (int i = 0; i < kCount; ++i) {
    ASSERT_TRUE(client.send("m" + std::to_string(i)).isOk());
  }
  for (int i = 0; i < kCount; ++i) {
    auto message = client.receive();
    ASSERT_TRUE(message.isOk()) << message.status().toString();
    ASSERT_EQ(message->data, "m" + std::to_string(i));
  }
  auto e = endpoint(0);
  ASSERT_TRUE(e && e->waitMessages(kCount));
  auto messages = e->messages();
  ASSERT_EQ(messages.size(), static_cast<size_t>(kCount));
  for (int i = 0; i < kCount; ++i) ASSERT_EQ(messages[i], "m" + std::to_string(i));
}

TEST_F(WebSocketTest, FragmentedMessageIsDeliveredJoined) {
  startServer();
  TestWebSocketClient client = connect("/echo");
  ASSERT_TRUE(client.sendFragmented({"Hel", "lo, ", "", "world"}).isOk());
  ASSERT_TRUE(client.sendFragmented({"\x01\x02", "\x03"}, true).isOk());
  auto text = client.receive();
  auto binary = client.receive();
  ASSERT_TRUE(text.isOk() && binary.isOk());
  EXPECT_EQ(text->data, "Hello, world");
  EXPECT_EQ(binary->data, "\x01\x02\x03");
  EXPECT_TRUE(binary->binary);
  auto e = endpoint(0);
  EXPECT_EQ(e->messages(), (std::vector<std::string>{"Hello, world", "\x01\x02\x03"}));
}

TEST_F(WebSocketTest, LargeMessagesArriveWhole) {
  startServer();
  TestWebSocketClient client = connect("/echo");
  std::string big(5 * 1024 * 1024 + 7, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 131 + (i >> 12));
  std::string text;
  while (text.size() < 200 * 1024) text += "w\xc3\xb6rld, ";
  ASSERT_TRUE(client.send(big, true).isOk());
  ASSERT_TRUE(client.sendFragmented({text.substr(0, 70001), text.substr(70001)}).isOk());
  auto first = client.receive();
  ASSERT_TRUE(first.isOk()) << first.status().toString();
  EXPECT_TRUE(first->binary);
  EXPECT_TRUE(first->data == big);
  auto second = client.receive();
  ASSERT_TRUE(second.isOk()) << second.status().toString();
  EXPECT_FALSE(second->binary);
  EXPECT_TRUE(second->data == text);
}

TEST_F(WebSocketTest, ClientCloseAnsweredByTheEndpointEndsCleanWithTheClientsCodeAndReason) {
  startServer();
  TestWebSocketClient client = connect("/echo");  // answers a close frame at once, in kind
  ASSERT_TRUE(client.send("bye soon").isOk());
  ASSERT_TRUE(client.receive().isOk());
  ASSERT_TRUE(client.close(4001, "done here").isOk());
  ASSERT_TRUE(client.closeFrame());
  EXPECT_EQ(client.closeFrame()->code, 4001);  // the endpoint's answer, reason included
  EXPECT_EQ(client.closeFrame()->reason, "done here");
  auto e = endpoint(0);
  ASSERT_TRUE(e->waitClosed());
  EXPECT_EQ(e->events(),
            (std::vector<std::string>{"connected", "text:bye soon", "closeReceived:4001:done here",
                                      "closed:4001:done here:clean"}));
  EXPECT_TRUE(eventually([&] { return server_->openConnections() == 0; }));
}

TEST_F(WebSocketTest, ClientCloseIsNotAnsweredUntilTheEndpointClosesAndSendsStillGoOut) {
  startServer();
  TestHttpClient raw = rawWebSocket("/record");  // does not answer close frames by itself
  auto e = endpoint(0);
  ASSERT_TRUE(e && e->waitConnected());
  // The close frame, and a frame that may not follow it (ignored).
  ASSERT_TRUE(raw.send(TestWebSocketClient::frame(8, closePayload(4001, "done here")) +
                       TestWebSocketClient::frame(1, "after the close frame"))
                  .isOk());
  ASSERT_TRUE(e->waitCloseReceived());
  EXPECT_EQ(e->closedCalls(), 0);
  auto transport = e->transport();
  transport->send("still open", false);  // the socket is closing: sends still go out
  transport->close(4002, "answer");
  transport->send("after our close", false);  // ignored
  std::string bytes;
  EXPECT_TRUE(raw.waitForClose(kWait, &bytes));  // our close frame, then the server's FIN
  // Nothing went out before the endpoint's answer: the message precedes the close frame.
  EXPECT_EQ(bytes,
            "\x81\x0a"
            "still open"
            "\x88\x08\x0f\xa2"
            "answer");
  raw.close();
  ASSERT_TRUE(e->waitClosed());
  // closed() has the client's code and reason.
  EXPECT_EQ(e->events(), (std::vector<std::string>{"connected", "closeReceived:4001:done here",
                                                   "closed:4001:done here:clean"}));
  EXPECT_TRUE(eventually([&] { return server_->openConnections() == 0; }));
  EXPECT_EQ(transport->bufferedBytes(), 0u);
}

TEST_F(WebSocketTest, AnUnansweredClientCloseEndsAfterTheReplyTimeoutStillClean) {
  HttpServerOptions options;
  options.webSocketCloseReplyTimeout = 200ms;
  startServer(options);
  TestHttpClient raw = rawWebSocket("/record");
  auto e = endpoint(0);
  ASSERT_TRUE(e && e->waitConnected());
  ASSERT_TRUE(raw.send(TestWebSocketClient::frame(8, closePayload(1000, "bye"))).isOk());
  std::string bytes;
  EXPECT_TRUE(raw.waitForClose(kWait, &bytes));
  EXPECT_EQ(bytes, "");  // nobody answered: no close frame either
  ASSERT_TRUE(e->waitClosed());
  EXPECT_EQ(e->events(), (std::vector<std::string>{"connected", "closeReceived:1000:bye",
                                                   "closed:1000:bye:clean"}));
  EXPECT_TRUE(eventually([&] { return server_->openConnections() == 0; }));
  // A late answer is ignored.
  e->transport()->close(1000, "");
  EXPECT_EQ(e->transport()->bufferedBytes(), 0u);
}

TEST_F(WebSocketTest, ClientCloseWithoutCodeIsReportedAs1005AndAnsweredWithoutCode) {
  startServer();
  TestWebSocketClient client = connect("/echo");  // answers with close(1005, ""): no code
  ASSERT_TRUE(client.close(0).isOk());
  ASSERT_TRUE(client.closeFrame());
  EXPECT_EQ(client.closeFrame()->code, 1005);
  auto e = endpoint(0);
  ASSERT_TRUE(e->waitClosed());
  EXPECT_EQ(e->events(),
            (std::vector<std::string>{"connected", "closeReceived:1005:", "closed:1005::clean"}));
}

TEST_F(WebSocketTest, ServerCloseFromAnotherThreadReachesTheClientAfterQueuedMessages) {
  startServer();
  TestWebSocketClient client = connect("/record");
  auto e = endpoint(0);
  ASSERT_TRUE(e && e->waitConnected());
  auto transport = e->transport();
  transport->send("last words", false);
  transport->close(4000, "bye");
  transport->send("ignored: after close", false);
  auto message = client.receive();
  ASSERT_TRUE(message.isOk()) << message.status().toString();
  EXPECT_EQ(message->data, "last words");
  auto end = client.receive();
  EXPECT_FALSE(end.isOk());
  ASSERT_TRUE(client.closeFrame());
  EXPECT_EQ(client.closeFrame()->code, 4000);
  EXPECT_EQ(client.closeFrame()->reason, "bye");
  ASSERT_TRUE(e->waitClosed());
  // The client's answer (Beast echoes the code) ends it; it is not a closeReceived().
  EXPECT_EQ(e->events(), (std::vector<std::string>{"connected", "closed:4000::clean"}));
  EXPECT_TRUE(eventually([&] { return server_->openConnections() == 0; }));
  // Calls after the end are ignored.
  transport->send("after the end", false);
  transport->close(1000, "");
  EXPECT_EQ(transport->bufferedBytes(), 0u);
}

TEST_F(WebSocketTest, MessagesBeforeTheClientsAnswerToOurCloseAreStillDelivered) {
  startServer();
  TestHttpClient raw = rawWebSocket("/record");
  auto e = endpoint(0);
  ASSERT_TRUE(e && e->waitConnected());
  e->transport()->close(4000, "bye");
  auto closeBytes = raw.readUntil("bye");
  ASSERT_TRUE(closeBytes.isOk()) << closeBytes.status().toString();
  EXPECT_EQ(*closeBytes,
            "\x88\x05\x0f\xa0"
            "bye");
  ASSERT_TRUE(raw.send(TestWebSocketClient::frame(1, "late") +
                       TestWebSocketClient::frame(8, closePayload(4000, "ok")))
                  .isOk());
  EXPECT_TRUE(raw.waitForClose());
  raw.close();
  ASSERT_TRUE(e->waitClosed());
  EXPECT_EQ(e->events(),
            (std::vector<std::string>{"connected", "text:late", "closed:4000:ok:clean"}));
  EXPECT_TRUE(eventually([&] { return server_->openConnections() == 0; }));
}

TEST_F(WebSocketTest, AbruptDisconnectIsReportedAs1006WithWorkerdsReason) {
  startServer();
  TestWebSocketClient client = connect("/echo");
  ASSERT_TRUE(client.send("x").isOk());
  ASSERT_TRUE(client.receive().isOk());
  client.abort();
  auto e = endpoint(0);
  ASSERT_TRUE(e->waitClosed());
  EXPECT_EQ(e->closedCall().code, 1006);
  EXPECT_EQ(e->closedCall().reason, "WebSocket disconnected without sending Close frame.");
  EXPECT_FALSE(e->closedCall().wasClean);
  EXPECT_TRUE(e->errors().empty());
  EXPECT_TRUE(eventually([&] { return server_->openConnections() == 0; }));
}

TEST_F(WebSocketTest, OversizedMessageClosesWith1009AndSparesOtherConnections) {
  HttpServerOptions options;
  options.maxWebSocketMessageBytes = 1024;
  startServer(options);
  TestWebSocketClient big = connect("/echo");
  TestWebSocketClient other = connect("/echo");
  ASSERT_TRUE(big.send(std::string(1024, 'a')).isOk());  // exactly the limit is fine
  auto atLimit = big.receive();
  ASSERT_TRUE(atLimit.isOk()) << atLimit.status().toString();
  EXPECT_EQ(atLimit->data.size(), 1024u);

  // As workerd counts: the frame against what is left of the limit.
  ASSERT_TRUE(big.sendFragmented({std::string(600, 'b'), std::string(600, 'b')}).isOk());
  EXPECT_FALSE(big.receive().isOk());
  ASSERT_TRUE(big.closeFrame());
  EXPECT_EQ(big.closeFrame()->code, 1009);
  EXPECT_EQ(big.closeFrame()->reason, "Message is too large: 600 > 424");
  auto e = endpoint(0);
  ASSERT_TRUE(e->waitClosed());
  EXPECT_EQ(e->errors(), std::vector<std::string>{"Message is too large: 600 > 424"});
  EXPECT_EQ(e->closedCall().code, 1006);
  EXPECT_EQ(e->closedCall().reason, "WebSocket disconnected without sending Close frame.");
  EXPECT_FALSE(e->closedCall().wasClean);
  auto events = e->events();
  ASSERT_GE(events.size(), 2u);
  EXPECT_EQ(events[events.size() - 2].rfind("error:", 0), 0u);  // error(), then closed()

  ASSERT_TRUE(other.send("still here").isOk());
  auto echo = other.receive();
  ASSERT_TRUE(echo.isOk()) << echo.status().toString();
  EXPECT_EQ(echo->data, "still here");
}

TEST_F(WebSocketTest, AFrameOverTheDefault32MiBLimitIsRefusedFromItsHeader) {
  startServer();
  TestHttpClient raw = rawWebSocket("/record");
  // Only the header of a 32 MiB + 1 byte binary frame: nothing more needs to arrive.
  std::string header("\x82\xff", 2);
  const uint64_t length = 32 * 1024 * 1024 + 1;
  for (int shift = 56; shift >= 0; shift -= 8) header.push_back(static_cast<char>(length >> shift));
  header.append("\x01\x02\x03\x04", 4);
  ASSERT_TRUE(raw.send(header).isOk());
  const std::string reason = "Message is too large: 33554433 > 33554432";
  std::string bytes;
  EXPECT_TRUE(raw.waitForClose(kWait, &bytes));
  EXPECT_EQ(bytes,
            "\x88" + std::string(1, static_cast<char>(2 + reason.size())) + "\x03\xf1" + reason);
  raw.close();
  auto e = endpoint(0);
  ASSERT_TRUE(e->waitClosed());
  EXPECT_EQ(e->errors(), std::vector<std::string>{reason});
  EXPECT_EQ(e->closedCall().code, 1006);
}

TEST_F(WebSocketTest, InvalidUtf8TextClosesWith1007) {
  startServer();
  TestWebSocketClient client = connect("/echo");
  ASSERT_TRUE(client.sendRaw(TestWebSocketClient::frame(1, "ok \xff\xfe")).isOk());
  EXPECT_FALSE(client.receive().isOk());
  ASSERT_TRUE(client.closeFrame());
  EXPECT_EQ(client.closeFrame()->code, 1007);
  EXPECT_EQ(client.closeFrame()->reason, "Received a text message that is not valid UTF-8");
  auto e = endpoint(0);
  ASSERT_TRUE(e->waitClosed());
  ASSERT_EQ(e->errors().size(), 1u);
  EXPECT_NE(e->errors()[0].find("UTF-8"), std::string::npos) << e->errors()[0];
  EXPECT_TRUE(e->messages().empty());
}

TEST_F(WebSocketTest, UnmaskedClientFrameClosesWith1002) {
  startServer();
  TestWebSocketClient client = connect("/echo");
  ASSERT_TRUE(client.sendRaw(TestWebSocketClient::frame(1, "hi", true, /*masked=*/false)).isOk());
  EXPECT_FALSE(client.receive().isOk());
  ASSERT_TRUE(client.closeFrame());
  EXPECT_EQ(client.closeFrame()->code, 1002);
  EXPECT_EQ(client.closeFrame()->reason, "Received an unmasked frame from the client");
  auto e = endpoint(0);
  ASSERT_TRUE(e->waitClosed());
  EXPECT_EQ(e->errors().size(), 1u);
  EXPECT_EQ(e->closedCall().code, 1006);
}

TEST_F(WebSocketTest, ReservedOpcodeClosesWith1002) {
  startServer();
  TestWebSocketClient client = connect("/echo");
  ASSERT_TRUE(client.sendRaw(TestWebSocketClient::frame(3, "?")).isOk());
  EXPECT_FALSE(client.receive().isOk());
  ASSERT_TRUE(client.closeFrame());
  EXPECT_EQ(client.closeFrame()->code, 1002);
  EXPECT_EQ(client.closeFrame()->reason, "Unknown opcode 3");
  auto e = endpoint(0);
  ASSERT_TRUE(e->waitClosed());
  EXPECT_EQ(e->errors(), std::vector<std::string>{"Unknown opcode 3"});
}

TEST_F(WebSocketTest, PingIsAnsweredWithPong) {
  startServer();
  TestWebSocketClient client = connect("/echo");
  ASSERT_TRUE(client.ping("are you there").isOk());
  ASSERT_TRUE(client.send("after the ping").isOk());
  auto echo = client.receive();  // reads the pong first
  ASSERT_TRUE(echo.isOk());
  EXPECT_EQ(echo->data, "after the ping");
  EXPECT_EQ(client.pongsReceived(), 1);
}

TEST_F(WebSocketTest, FragmentsWithAPingBetweenThemAreJoinedAndThePingAnswered) {
  startServer();
  TestHttpClient raw = rawWebSocket("/echo");
  ASSERT_TRUE(raw.send(TestWebSocketClient::frame(1, "Hel", /*fin=*/false) +
                       TestWebSocketClient::frame(9, "are you there") +
                       TestWebSocketClient::frame(0, "lo", /*fin=*/true))
                  .isOk());
  auto bytes = raw.readUntil("Hello");
  ASSERT_TRUE(bytes.isOk()) << bytes.status().toString();
  // The pong (same payload, unmasked) as soon as the ping was read, then the joined message.
  EXPECT_EQ(*bytes,
            "\x8a\x0d"
            "are you there"
            "\x81\x05"
            "Hello");
  auto e = endpoint(0);
  EXPECT_EQ(e->messages(), std::vector<std::string>{"Hello"});
}

TEST_F(WebSocketTest, FramesArrivingOneByteAtATimeAreReassembled) {
  startServer();
  TestWebSocketClient client = connect("/echo");
  const std::string medium(300, 'm');  // a 16-bit length
  const std::string bytes =
      TestWebSocketClient::frame(1, "split") + TestWebSocketClient::frame(2, medium) +
      TestWebSocketClient::frame(1, "fr", /*fin=*/false) + TestWebSocketClient::frame(9, "p") +
      TestWebSocketClient::frame(0, "ag\xc3", /*fin=*/false) +
      TestWebSocketClient::frame(0, "\xb6", /*fin=*/true);
  for (char c : bytes) ASSERT_TRUE(client.sendRaw(std::string_view(&c, 1)).isOk());
  auto first = client.receive();
  auto second = client.receive();
  auto third = client.receive();
  ASSERT_TRUE(first.isOk() && second.isOk() && third.isOk()) << third.status().toString();
  EXPECT_EQ(first->data, "split");
  EXPECT_EQ(second->data, medium);
  EXPECT_TRUE(second->binary);
  EXPECT_EQ(third->data, "frag\xc3\xb6");
  EXPECT_EQ(client.pongsReceived(), 1);
}

TEST_F(WebSocketTest, BytesSentRightAfterTheUpgradeRequestAreNotLost) {
  startServer();
  TestHttpClient raw;
  ASSERT_TRUE(raw.connect(server_->port()).isOk());
  // An eager client: the request, its first frame and half of the second in one write.
  const std::string second = TestWebSocketClient::frame(2, "second");
  std::string bytes = TestHttpClient::formatRequest("GET", "/echo", {}, kUpgradeHeaders) +
                      TestWebSocketClient::frame(1, "early") + second.substr(0, 5);
  ASSERT_TRUE(raw.send(bytes).isOk());
  auto head = raw.readUntil("\r\n\r\n");
  ASSERT_TRUE(head.isOk()) << head.status().toString();
  EXPECT_EQ(head->rfind("HTTP/1.1 101 Switching Protocols\r\n", 0), 0u) << *head;
  // RFC 6455 1.3's worked example.
  EXPECT_NE(head->find("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"), std::string::npos)
      << *head;
  EXPECT_NE(head->find("Server: duro\r\n"), std::string::npos) << *head;
  auto echo = raw.readUntil("early");
  ASSERT_TRUE(echo.isOk()) << echo.status().toString();
  EXPECT_EQ(*echo,
            "\x81\x05"
            "early");  // an unmasked server text frame
  ASSERT_TRUE(raw.send(second.substr(5)).isOk());
  auto echo2 = raw.readUntil("second");
  ASSERT_TRUE(echo2.isOk()) << echo2.status().toString();
  EXPECT_EQ(*echo2,
            "\x82\x06"
            "second");
}

TEST_F(WebSocketTest, PipelinedResponsesBeforeTheUpgradeAreWrittenFirst) {
  startServer();
  TestHttpClient raw;
  ASSERT_TRUE(raw.connect(server_->port()).isOk());
  ASSERT_TRUE(raw.send(TestHttpClient::formatRequest("GET", "/plain") +
                       TestHttpClient::formatRequest("GET", "/echo", {}, kUpgradeHeaders))
                  .isOk());
  auto plain = raw.readResponse();
  ASSERT_TRUE(plain.isOk()) << plain.status().toString();
  EXPECT_EQ(plain->status, 200);
  EXPECT_EQ(plain->body, "plain /plain\n");
  auto head = raw.readUntil("\r\n\r\n");
  ASSERT_TRUE(head.isOk()) << head.status().toString();
  EXPECT_EQ(head->rfind("HTTP/1.1 101 Switching Protocols\r\n", 0), 0u) << *head;
  ASSERT_TRUE(raw.send(TestWebSocketClient::frame(2, "after")).isOk());
  auto echo = raw.readUntil("after");
  ASSERT_TRUE(echo.isOk()) << echo.status().toString();
  EXPECT_EQ(*echo,
            "\x82\x05"
            "after");
}

TEST_F(WebSocketTest, A101WithoutEndpointIsA500) {
  startServer();
  TestHttpClient raw;
  ASSERT_TRUE(raw.connect(server_->port()).isOk());
  ASSERT_TRUE(
      raw.send(TestHttpClient::formatRequest("GET", "/101-without-endpoint", {}, kUpgradeHeaders))
          .isOk());
  auto response = raw.readResponse();
  ASSERT_TRUE(response.isOk()) << response.status().toString();
  EXPECT_EQ(response->status, 500);
}

TEST_F(WebSocketTest, A101WithEndpointToANonUpgradeRequestIsA500) {
  startServer();
  TestHttpClient raw;
  ASSERT_TRUE(raw.connect(server_->port()).isOk());
  auto response = raw.roundTrip("GET", "/echo");
  ASSERT_TRUE(response.isOk()) << response.status().toString();
  EXPECT_EQ(response->status, 500);
  // Nor is a request with the wrong Sec-WebSocket-Version an upgrade.
  TestHttpClient raw2;
  ASSERT_TRUE(raw2.connect(server_->port()).isOk());
  auto wrongVersion =
      raw2.roundTrip("GET", "/echo", {},
                     "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 8\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n");
  ASSERT_TRUE(wrongVersion.isOk());
  EXPECT_EQ(wrongVersion->status, 500);
  // The endpoints were told it is over, without connected().
  for (size_t i = 0; i < 2; ++i) {
    auto e = endpoint(i);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->events(), std::vector<std::string>{"closed:1006::unclean"});
  }
}

TEST_F(WebSocketTest, AnEndpointGivenWithAnotherStatusIsToldItIsClosed) {
  startServer();
  TestHttpClient raw;
  ASSERT_TRUE(raw.connect(server_->port()).isOk());
  auto response = raw.roundTrip("GET", "/200-with-endpoint", {}, kUpgradeHeaders);
  ASSERT_TRUE(response.isOk()) << response.status().toString();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "not a WebSocket\n");
  auto e = endpoint(0);
  ASSERT_TRUE(e && e->waitClosed());
  EXPECT_EQ(e->events(), std::vector<std::string>{"closed:1006::unclean"});
}

TEST_F(WebSocketTest, AnEndpointAnsweredAfterTheClientLeftIsToldItIsClosed) {
  startServer();
  {
    TestHttpClient raw;
    ASSERT_TRUE(raw.connect(server_->port()).isOk());
    ASSERT_TRUE(
        raw.send(TestHttpClient::formatRequest("GET", "/deferred", {}, kUpgradeHeaders)).isOk());
    ASSERT_TRUE(deferred(0));
  }  // the client leaves before the answer
  // The server does not read while a request is handled, so it learns only now, when the
  // WebSocket starts (connected() may come first).
  deferred(0)(accept101());
  auto e = endpoint(0);
  ASSERT_TRUE(e && e->waitClosed());
  // "closed:1006::unclean" if the server saw it first, with workerd's reason after connected().
  const std::string last = e->events().back();
  EXPECT_EQ(last.rfind("closed:1006:", 0), 0u) << last;
  EXPECT_NE(last.find(":unclean"), std::string::npos) << last;
  EXPECT_TRUE(eventually([&] { return server_->openConnections() == 0; }));
}

TEST_F(WebSocketTest, AWebSocketAcceptedDuringShutdownIsClosedWith1001) {
  startServer();
  uint16_t port = server_->port();
  auto clientDone = std::async(std::launch::async, [port] {
    TestWebSocketClient client;
    Status s = client.connect(port, "/deferred");
    if (!s.isOk()) return "connect: " + s.toString();
    auto message = client.receive();
    if (message.isOk()) return "unexpected message " + message->data;
    if (!client.closeFrame()) return message.status().toString();
    return "closed " + std::to_string(client.closeFrame()->code);
  });
  Responder respond = deferred(0);
  ASSERT_TRUE(respond);
  auto drained = std::make_shared<std::promise<void>>();
  server_->shutdown([drained] { drained->set_value(); });
  respond(accept101());
  ASSERT_EQ(clientDone.wait_for(kWait), std::future_status::ready);
  EXPECT_EQ(clientDone.get(), "closed 1001");
  EXPECT_EQ(drained->get_future().wait_for(kWait), std::future_status::ready);
  auto e = endpoint(0);
  ASSERT_TRUE(e->waitClosed());
  EXPECT_EQ(e->events().front(), "connected");
  EXPECT_EQ(e->closedCall().code, 1001);
}

TEST_F(WebSocketTest, ANon101AnswerToAnUpgradeRequestStaysHttp) {
  startServer();
  TestHttpClient raw;
  ASSERT_TRUE(raw.connect(server_->port()).isOk());
  auto refused = raw.roundTrip("GET", "/426", {}, kUpgradeHeaders);
  ASSERT_TRUE(refused.isOk()) << refused.status().toString();
  EXPECT_EQ(refused->status, 426);
  EXPECT_EQ(refused->body, "Expected Upgrade: websocket\n");
  auto next = raw.roundTrip("GET", "/plain");  // same connection: keep-alive
  ASSERT_TRUE(next.isOk()) << next.status().toString();
  EXPECT_EQ(next->status, 200);
  EXPECT_EQ(next->body, "plain /plain\n");
  // The Beast client reports the refusal with the server's answer.
  TestWebSocketClient client;
  EXPECT_FALSE(client.connect(server_->port(), "/426").isOk());
  EXPECT_EQ(client.handshakeResponse().status, 426);
}

TEST_F(WebSocketTest, ShutdownClosesWebSocketsWith1001AndDrains) {
  startServer();
  TestWebSocketClient a = connect("/echo");
  TestWebSocketClient b = connect("/record");
  ASSERT_TRUE(a.send("ping").isOk());
  ASSERT_TRUE(a.receive().isOk());
  ASSERT_TRUE(endpoint(1) && endpoint(1)->waitConnected());
  EXPECT_EQ(server_->openConnections(), 2u);

  auto drained = std::make_shared<std::promise<void>>();
  server_->shutdown([drained] { drained->set_value(); });
  EXPECT_FALSE(a.receive().isOk());
  EXPECT_FALSE(b.receive().isOk());
  ASSERT_TRUE(a.closeFrame() && b.closeFrame());
  EXPECT_EQ(a.closeFrame()->code, 1001);
  EXPECT_EQ(b.closeFrame()->code, 1001);
  EXPECT_EQ(drained->get_future().wait_for(kWait), std::future_status::ready);
  for (size_t i = 0; i < 2; ++i) {
    auto e = endpoint(i);
    ASSERT_TRUE(e->waitClosed());
    EXPECT_EQ(e->closedCall().code, 1001);
    EXPECT_TRUE(e->closedCall().wasClean);
  }
  EXPECT_EQ(server_->inFlightRequests(), 0u);
  EXPECT_EQ(server_->openConnections(), 0u);
}

TEST_F(WebSocketTest, SendsFromAnotherThreadArriveInOrder) {
  startServer();
  TestWebSocketClient client = connect("/record");
  auto e = endpoint(0);
  ASSERT_TRUE(e && e->waitConnected());
  auto transport = e->transport();
  constexpr int kCount = 1000;
  std::thread sender([transport] {
    for (int i = 0; i < kCount; ++i) transport->send("t" + std::to_string(i), i % 2 == 1);
  });
  for (int i = 0; i < kCount; ++i) {
    auto message = client.receive();
    ASSERT_TRUE(message.isOk()) << message.status().toString();
    ASSERT_EQ(message->data, "t" + std::to_string(i));
    ASSERT_EQ(message->binary, i % 2 == 1);
  }
  sender.join();
  EXPECT_TRUE(eventually([&] { return transport->bufferedBytes() == 0; }));
}

TEST_F(WebSocketTest, AConnectionMovesToTheLoopItsEndpointChoseAndWorksThere) {
  // Every WebSocket runs on the second loop, wherever it was accepted (round-robin: half of
  // these on the first one).
  base::EventLoop* second = loops_.pointers()[1];
  std::promise<std::thread::id> secondThread;
  second->post([&] { secondThread.set_value(std::this_thread::get_id()); });
  const std::thread::id secondId = secondThread.get_future().get();
  HttpServerOptions options;
  options.webSocketLoop = [second](const WebSocketEndpoint&) { return second; };
  startServer(options);
  std::vector<TestWebSocketClient> clients;
  for (int i = 0; i < 4; ++i) {
    clients.push_back(connect("/echo"));
    ASSERT_TRUE(clients.back().isOpen());
  }
  // An eager client (request and first frame in one write) on each loop: the frame moves along.
  for (int i = 0; i < 2; ++i) {
    TestHttpClient raw;
    ASSERT_TRUE(raw.connect(server_->port()).isOk());
    ASSERT_TRUE(raw.send(TestHttpClient::formatRequest("GET", "/echo", {}, kUpgradeHeaders) +
                         TestWebSocketClient::frame(1, "early"))
                    .isOk());
    auto echo = raw.readUntil("early");
    ASSERT_TRUE(echo.isOk()) << echo.status().toString();
    EXPECT_NE(echo->find("HTTP/1.1 101 Switching Protocols\r\n"), std::string::npos);
    EXPECT_EQ(echo->substr(echo->size() - 7), "\x81\x05" "early");
  }
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(clients[i].send("m" + std::to_string(i)).isOk());
    auto echo = clients[i].receive();
    ASSERT_TRUE(echo.isOk()) << echo.status().toString();
    EXPECT_EQ(echo->data, "m" + std::to_string(i));
  }
  for (int i = 0; i < 6; ++i) {
    auto e = endpoint(i);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->threads(), std::set<std::thread::id>{secondId});
  }
  // The raw clients left without a close frame.
  EXPECT_TRUE(eventually([&] { return server_->openConnections() == 4u; }));
  // Closing, and the server's shutdown (TearDown), reach them on their new loop.
  ASSERT_TRUE(clients[0].close(4000, "bye").isOk());
  auto e0 = endpoint(0);
  ASSERT_TRUE(e0->waitClosed());
  EXPECT_EQ(e0->closedCall().code, 4000);
  EXPECT_TRUE(eventually([&] { return server_->openConnections() == 3u; }));
}

TEST_F(WebSocketTest, IdleTimeoutDoesNotCloseAWebSocket) {
  HttpServerOptions options;
  options.idleTimeout = 50ms;
  startServer(options);
  TestWebSocketClient client = connect("/echo");
  // Not synchronization: the point is that time passes, several idle timeouts' worth.
  std::this_thread::sleep_for(300ms);
  ASSERT_TRUE(client.send("still open").isOk());
  auto echo = client.receive();
  ASSERT_TRUE(echo.isOk()) << echo.status().toString();
  EXPECT_EQ(echo->data, "still open");
}

TEST_F(WebSocketTest, CloseHandshakeTimesOutWhenTheClientDoesNotAnswer) {
  HttpServerOptions options;
  options.webSocketCloseTimeout = 200ms;
  startServer(options);
  TestWebSocketClient client = connect("/record");
  auto e = endpoint(0);
  ASSERT_TRUE(e && e->waitConnected());
  e->transport()->close(1000, "");
  // The client reads raw bytes, so it never answers the close frame.
  EXPECT_TRUE(client.waitForTcpClose());
  ASSERT_TRUE(e->waitClosed());
  EXPECT_EQ(e->closedCall().code, 1006);
  EXPECT_EQ(e->closedCall().reason, "WebSocket disconnected without sending Close frame.");
  EXPECT_FALSE(e->closedCall().wasClean);
  EXPECT_TRUE(eventually([&] { return server_->openConnections() == 0; }));
}

// More than loopback's socket buffers hold, so the write stays pending while the client does not
// read.
const std::string& hugeMessage() {
  static const std::string message(24 * 1024 * 1024, 'h');
  return message;
}

TEST_F(WebSocketTest, ClientVanishingWhileALargeMessageIsBeingWrittenIsReportedAs1006) {
  startServer();
  TestWebSocketClient client = connect("/record");
  auto e = endpoint(0);
  ASSERT_TRUE(e && e->waitConnected());
  auto transport = e->transport();
  transport->send(hugeMessage(), true);
  transport->send("queued behind it", false);
  EXPECT_GT(transport->bufferedBytes(), hugeMessage().size());
  client.abort();
  ASSERT_TRUE(e->waitClosed());
  EXPECT_EQ(e->closedCall().code, 1006);
  EXPECT_FALSE(e->closedCall().wasClean);
  EXPECT_EQ(transport->bufferedBytes(), 0u);
  EXPECT_TRUE(eventually([&] { return server_->openConnections() == 0; }));
}

TEST_F(WebSocketTest, AnAnswerStuckBehindALargeMessageEndsAfterTheCloseTimeoutStillClean) {
  HttpServerOptions options;
  options.webSocketCloseTimeout = 200ms;
  startServer(options);
  TestWebSocketClient client = connect("/record");
  auto e = endpoint(0);
  ASSERT_TRUE(e && e->waitConnected());
  e->transport()->send(hugeMessage(), true);
  // A close frame (code 1000), but the client never reads: our answer cannot be written.
  ASSERT_TRUE(client.sendRaw(TestWebSocketClient::frame(8, closePayload(1000))).isOk());
  ASSERT_TRUE(e->waitCloseReceived());
  e->transport()->close(1000, "");
  ASSERT_TRUE(e->waitClosed());
  // The client did close cleanly; our answer just never got out.
  EXPECT_EQ(e->events(),
            (std::vector<std::string>{"connected", "closeReceived:1000:", "closed:1000::clean"}));
  EXPECT_TRUE(eventually([&] { return server_->openConnections() == 0; }));
}

TEST_F(WebSocketTest, ShutdownAnswersAnUnansweredClientCloseWith1001) {
  startServer();
  TestHttpClient raw = rawWebSocket("/record");
  auto e = endpoint(0);
  ASSERT_TRUE(e && e->waitConnected());
  ASSERT_TRUE(raw.send(TestWebSocketClient::frame(8, closePayload(4000, "leaving"))).isOk());
  ASSERT_TRUE(e->waitCloseReceived());
  auto drained = std::make_shared<std::promise<void>>();
  server_->shutdown([drained] { drained->set_value(); });
  std::string bytes;
  EXPECT_TRUE(raw.waitForClose(kWait, &bytes));
  EXPECT_EQ(bytes, std::string("\x88\x02\x03\xe9", 4));
  raw.close();
  EXPECT_EQ(drained->get_future().wait_for(kWait), std::future_status::ready);
  ASSERT_TRUE(e->waitClosed());
  EXPECT_EQ(e->events(), (std::vector<std::string>{"connected", "closeReceived:4000:leaving",
                                                   "closed:4000:leaving:clean"}));
}

TEST_F(WebSocketTest, EndpointThatThrowsClosesTheWebSocketWith1011) {
  startServer();
  TestWebSocketClient client = connect("/throw");
  ASSERT_TRUE(client.send("trigger").isOk());
  EXPECT_FALSE(client.receive().isOk());
  ASSERT_TRUE(client.closeFrame());
  EXPECT_EQ(client.closeFrame()->code, 1011);
  auto e = endpoint(0);
  ASSERT_TRUE(e->waitClosed());
  EXPECT_EQ(e->closedCall().code, 1011);
}

TEST_F(WebSocketTest, DestroyingTheServerReportsOpenWebSocketsClosed) {
  startServer();
  TestWebSocketClient client = connect("/record");
  auto e = endpoint(0);
  ASSERT_TRUE(e && e->waitConnected());
  loops_.stop();
  server_.reset();  // abandon(): the loops are not running, so it happens on this thread
  EXPECT_EQ(e->closedCalls(), 1);
  EXPECT_EQ(e->closedCall().code, 1006);
  EXPECT_FALSE(e->closedCall().wasClean);
  std::lock_guard<std::mutex> lock(mu_);
  endpoints_.clear();  // TearDown's thread check does not apply here
}

// Not a pass/fail test: prints echo round trips per second through the whole stack (Beast client,
// server session, echo from the loop thread or from another thread), over one connection and
// over 32.
TEST_F(WebSocketTest, MeasuresEchoRoundTrips) {
  startServer();
  constexpr auto kDuration = 1s;
  for (std::string_view target : {"/echo", "/shard-echo"}) {
    TestWebSocketClient client = connect(target);
    const std::string payload(32, 'x');
    int count = 0;
    auto start = Clock::now();
    while (Clock::now() - start < kDuration) {
      ASSERT_TRUE(client.send(payload).isOk());
      ASSERT_TRUE(client.receive().isOk());
      ++count;
    }
    double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    std::printf("[ measure  ] 1 connection, %s: %.0f echo round trips/s\n",
                std::string(target).c_str(), count / seconds);
  }
  {
    constexpr int kConnections = 32;
    std::atomic<long> total{0};
    std::atomic<bool> failed{false};
    std::vector<std::thread> threads;
    uint16_t port = server_->port();
    auto start = Clock::now();
    for (int c = 0; c < kConnections; ++c) {
      threads.emplace_back([&, port] {
        TestWebSocketClient client;
        if (!client.connect(port, "/echo").isOk()) {
          failed = true;
          return;
        }
        const std::string payload(32, 'y');
        long count = 0;
        while (Clock::now() - start < kDuration) {
          if (!client.send(payload).isOk() || !client.receive().isOk()) {
            failed = true;
            return;
          }
          ++count;
        }
        total += count;
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_FALSE(failed.load());
    double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    std::printf("[ measure  ] %d connections: %.0f echo round trips/s in total\n", kConnections,
                total.load() / seconds);
  }
}

}  // namespace
}  // namespace duro::net
