// Tests for HttpServer: a real server on 127.0.0.1 (port 0) with two EventLoops on two threads,
// driven by the blocking TestHttpClient. No sleeps: waits are futures or polls with timeouts.
#include "net/http_server.h"

#include <atomic>
#include <future>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "base/event_loop.h"
#include "net/test_http_client.h"

namespace duro::net {
namespace {

using namespace std::chrono_literals;

constexpr auto kWait = 10s;

// Polls `condition` until true or the timeout passes (for state owned by other threads).
template <typename Fn>
bool eventually(Fn condition, std::chrono::milliseconds timeout = kWait) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

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

// Answers "<METHOD> <url>\n<body>".
void echoHandler(Request request, Responder respond) {
  Response response = Response::text(request.method + " " + request.url + "\n" + request.body);
  response.headers.set("x-path", request.path());
  respond(std::move(response));
}

class HttpServerTest : public ::testing::Test {
 protected:
  void startServer(HttpHandler handler, HttpServerOptions options = {}) {
    server_ =
        std::make_unique<HttpServer>(loops_.pointers(), std::move(options), std::move(handler));
    Status s = server_->start();
    ASSERT_TRUE(s.isOk()) << s.toString();
    ASSERT_NE(server_->port(), 0);
  }

  // Shuts the server down and waits for the drain (true if it drained in time).
  bool shutdownAndWait() {
    auto drained = std::make_shared<std::promise<void>>();
    server_->shutdown([drained] { drained->set_value(); });
    return drained->get_future().wait_for(kWait) == std::future_status::ready;
  }

  void TearDown() override {
    if (server_) {
      EXPECT_TRUE(shutdownAndWait());
    }
    loops_.stop();
    server_.reset();
  }

  TestHttpClient connect() {
    TestHttpClient client;
    Status s = client.connect(server_->port());
    EXPECT_TRUE(s.isOk()) << s.toString();
    return client;
  }

  LoopThreads loops_{2};
  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpServerTest, AnswersASimpleGetWithFullUrlAndReasonPhrase) {
  startServer(echoHandler);
  TestHttpClient client = connect();
  ASSERT_TRUE(client.send(TestHttpClient::formatRequest("GET", "/hello?x=1")).isOk());
  auto head = client.readUntil("\r\n\r\n");
  ASSERT_TRUE(head.isOk()) << head.status().toString();
  EXPECT_EQ(head->rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << *head;
  std::string expectedBody = "GET http://example.com/hello?x=1\n";
  EXPECT_NE(head->find("Content-Length: " + std::to_string(expectedBody.size()) + "\r\n"),
            std::string::npos);
  EXPECT_NE(head->find("content-type: text/plain;charset=UTF-8\r\n"), std::string::npos);
  auto body = client.readUntil("\n");
  ASSERT_TRUE(body.isOk());
  EXPECT_EQ(*body, expectedBody);
}

TEST_F(HttpServerTest, UsesTheListenAddressWhenHostIsMissing) {
  startServer(echoHandler);
  TestHttpClient client = connect();
  ASSERT_TRUE(client.send("GET /a/b HTTP/1.0\r\n\r\n").isOk());
  auto response = client.readResponse();
  ASSERT_TRUE(response.isOk()) << response.status().toString();
  EXPECT_EQ(response->body, "GET http://127.0.0.1:" + std::to_string(server_->port()) + "/a/b\n");
}

TEST_F(HttpServerTest, PassesMethodHeadersAndBody) {
  std::promise<Request> seen;
  startServer([&seen](Request request, Responder respond) {
    seen.set_value(request);
    respond(Response::text("ok"));
  });
  TestHttpClient client = connect();
  auto response = client.roundTrip("PUT", "/x", "payload", "X-One: 1\r\nx-two: two\r\n");
  ASSERT_TRUE(response.isOk());
  Request request = seen.get_future().get();
  EXPECT_EQ(request.method, "PUT");
  EXPECT_EQ(request.url, "http://example.com/x");
  EXPECT_EQ(request.body, "payload");
  EXPECT_EQ(request.headers.get("x-one").value_or(""), "1");
  EXPECT_EQ(request.headers.get("X-Two").value_or(""), "two");
  EXPECT_EQ(request.headers.get("host").value_or(""), "example.com");
  EXPECT_EQ(request.headers.get("content-length").value_or(""), "7");
}

TEST_F(HttpServerTest, KeepsTheConnectionAliveForThreeRequests) {
  std::atomic<int> requests{0};
  startServer([&requests](Request request, Responder respond) {
    ++requests;
    echoHandler(std::move(request), std::move(respond));
  });
  TestHttpClient client = connect();
  for (int i = 0; i < 3; ++i) {
    std::string target = "/n" + std::to_string(i);
    auto response = client.roundTrip("GET", target);
    ASSERT_TRUE(response.isOk()) << response.status().toString();
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->headers.get("x-path").value_or(""), target);
    EXPECT_FALSE(response->headers.has("connection"));
  }
  EXPECT_EQ(requests.load(), 3);
  EXPECT_EQ(server_->openConnections(), 1u);
}

TEST_F(HttpServerTest, AnswersPipelinedRequestsInOrder) {
  // The first request is answered last in wall-clock terms (after a hop through another thread),
  // yet its response must come first.
  base::EventLoop worker;
  std::thread workerThread([&worker] { worker.run(); });
  startServer([&worker](Request request, Responder respond) {
    base::EventLoop* home = base::EventLoop::current();
    if (request.path() == "/a") {
      worker.post([home, respond = std::move(respond)]() mutable {
        home->post([respond = std::move(respond)] { respond(Response::text("a")); });
      });
      return;
    }
    respond(Response::text(std::string(request.path().substr(1))));
  });
  TestHttpClient client = connect();
  std::string batch;
  for (const char* t : {"/a", "/b", "/c", "/d"}) batch += TestHttpClient::formatRequest("GET", t);
  ASSERT_TRUE(client.send(batch).isOk());
  for (const char* expected : {"a", "b", "c", "d"}) {
    auto response = client.readResponse();
    ASSERT_TRUE(response.isOk()) << response.status().toString();
    EXPECT_EQ(response->body, expected);
  }
  worker.stop();
  workerThread.join();
}

TEST_F(HttpServerTest, RoundTripsPostBodies) {
  startServer(
      [](Request request, Responder respond) { respond(Response::text(std::move(request.body))); });
  TestHttpClient client = connect();

  auto plain = client.roundTrip("POST", "/", "hello body");
  ASSERT_TRUE(plain.isOk());
  EXPECT_EQ(plain->body, "hello body");

  ASSERT_TRUE(client
                  .send("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                        "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nTrailer: x\r\n\r\n")
                  .isOk());
  auto chunked = client.readResponse();
  ASSERT_TRUE(chunked.isOk()) << chunked.status().toString();
  EXPECT_EQ(chunked->body, "hello world");

  // Large enough to span many reads and to take the separate-body write path.
  std::string big(3 * 1024 * 1024 + 7, 'x');
  for (size_t i = 0; i < big.size(); i += 4096) big[i] = static_cast<char>('a' + (i / 4096) % 26);
  auto large = client.roundTrip("POST", "/", big);
  ASSERT_TRUE(large.isOk()) << large.status().toString();
  EXPECT_EQ(large->body.size(), big.size());
  EXPECT_TRUE(large->body == big);

  auto after = client.roundTrip("POST", "/", "still alive");
  ASSERT_TRUE(after.isOk());
  EXPECT_EQ(after->body, "still alive");
}

TEST_F(HttpServerTest, RejectsGarbageWith400AndCloses) {
  startServer(echoHandler);
  TestHttpClient client = connect();
  ASSERT_TRUE(client.send("GARBAGE\r\n\r\n").isOk());
  auto response = client.readResponse();
  ASSERT_TRUE(response.isOk()) << response.status().toString();
  EXPECT_EQ(response->status, 400);
  EXPECT_EQ(response->headers.get("connection").value_or(""), "close");
  EXPECT_FALSE(response->body.empty());
  EXPECT_TRUE(client.waitForClose());

  TestHttpClient fresh = connect();
  auto ok = fresh.roundTrip("GET", "/after");
  ASSERT_TRUE(ok.isOk());
  EXPECT_EQ(ok->status, 200);
}

TEST_F(HttpServerTest, RejectsMalformedFramingWith400) {
  startServer(echoHandler);
  const char* cases[] = {
      "GET / HTTP/1.1\r\nHost: a\r\nBad Header\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
      "GET / HTTP/9.9\r\nHost: a\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1, 2\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
      "GET / HTTP/1.1\r\nHost: evil.com/x?\r\n\r\n",
      "GET * HTTP/1.1\r\nHost: a\r\n\r\n",
  };
  for (const char* bytes : cases) {
    TestHttpClient client = connect();
    ASSERT_TRUE(client.send(bytes).isOk());
    auto response = client.readResponse();
    ASSERT_TRUE(response.isOk()) << bytes << ": " << response.status().toString();
    EXPECT_EQ(response->status, 400) << bytes;
    EXPECT_TRUE(client.waitForClose()) << bytes;
  }
}

TEST_F(HttpServerTest, Answers431ForHugeHeaders) {
  startServer(echoHandler);
  TestHttpClient client = connect();
  std::string request = "GET / HTTP/1.1\r\nHost: a\r\n";
  for (int i = 0; i < 70; ++i)
    request += "X-Filler-" + std::to_string(i) + ": " + std::string(1000, 'f') + "\r\n";
  request += "\r\n";
  ASSERT_GT(request.size(), 64u * 1024);
  ASSERT_TRUE(client.send(request).isOk());
  auto response = client.readResponse();
  ASSERT_TRUE(response.isOk()) << response.status().toString();
  EXPECT_EQ(response->status, 431);
  EXPECT_TRUE(client.waitForClose());

  // The limit covers the request line and the fields together.
  TestHttpClient combined = connect();
  ASSERT_TRUE(combined
                  .send("GET /" + std::string(20000, 'p') +
                        " HTTP/1.1\r\nHost: a\r\nX-Big: " + std::string(20000, 'h') + "\r\n\r\n")
                  .isOk());
  auto second = combined.readResponse();
  ASSERT_TRUE(second.isOk()) << second.status().toString();
  EXPECT_EQ(second->status, 431);

  // Just under the limit is fine.
  TestHttpClient fits = connect();
  auto ok = fits.roundTrip("GET", "/" + std::string(15000, 'p'), {},
                           "X-Big: " + std::string(15000, 'h') + "\r\n");
  ASSERT_TRUE(ok.isOk());
  EXPECT_EQ(ok->status, 200);
}

TEST_F(HttpServerTest, Answers413ForOversizedBodies) {
  HttpServerOptions options;
  options.maxBodyBytes = 1024;
  startServer(echoHandler, options);
  {
    TestHttpClient client = connect();
    ASSERT_TRUE(
        client.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100000000\r\n\r\n").isOk());
    auto response = client.readResponse();
    ASSERT_TRUE(response.isOk()) << response.status().toString();
    EXPECT_EQ(response->status, 413);
    EXPECT_TRUE(client.waitForClose());
  }
  {
    TestHttpClient client = connect();
    std::string request = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 3; ++i) request += "200\r\n" + std::string(512, 'c') + "\r\n";
    request += "0\r\n\r\n";
    ASSERT_TRUE(client.send(request).isOk());
    auto response = client.readResponse();
    ASSERT_TRUE(response.isOk()) << response.status().toString();
    EXPECT_EQ(response->status, 413);
    EXPECT_TRUE(client.waitForClose());
  }
  {
    TestHttpClient client = connect();  // exactly at the limit is fine
    auto response = client.roundTrip("POST", "/", std::string(1024, 'k'));
    ASSERT_TRUE(response.isOk());
    EXPECT_EQ(response->status, 200);
  }
}

TEST_F(HttpServerTest, SupportsHandlersThatRespondLater) {
  base::EventLoop worker;
  std::thread workerThread([&worker] { worker.run(); });
  startServer([&worker](Request request, Responder respond) {
    base::EventLoop* home = base::EventLoop::current();
    if (request.path() == "/same-loop") {
      home->post([respond = std::move(respond)] { respond(Response::text("later")); });
    } else {
      // Work elsewhere, then post back to the connection's loop to respond.
      worker.post([home, respond = std::move(respond)]() mutable {
        std::string result = "from worker";
        home->post([respond = std::move(respond), result] { respond(Response::text(result)); });
      });
    }
  });
  TestHttpClient client = connect();
  auto a = client.roundTrip("GET", "/same-loop");
  ASSERT_TRUE(a.isOk());
  EXPECT_EQ(a->body, "later");
  auto b = client.roundTrip("GET", "/worker");
  ASSERT_TRUE(b.isOk());
  EXPECT_EQ(b->body, "from worker");
  worker.stop();
  workerThread.join();
}

TEST_F(HttpServerTest, ToleratesRespondFromAnotherThreadAndSecondCalls) {
  std::mutex mu;
  std::vector<std::thread> threads;
  startServer([&](Request, Responder respond) {
    std::lock_guard<std::mutex> lock(mu);
    threads.emplace_back([respond = std::move(respond)] {
      respond(Response::text("first"));
      respond(Response::text("second"));  // ignored
    });
  });
  TestHttpClient client = connect();
  auto a = client.roundTrip("GET", "/");
  ASSERT_TRUE(a.isOk());
  EXPECT_EQ(a->body, "first");
  auto b = client.roundTrip("GET", "/");
  ASSERT_TRUE(b.isOk());
  EXPECT_EQ(b->body, "first");
  std::lock_guard<std::mutex> lock(mu);
  for (auto& t : threads) t.join();
}

TEST_F(HttpServerTest, TurnsHandlerExceptionsInto500) {
  startServer([](Request request, Responder respond) {
    if (request.path() == "/throw") throw std::runtime_error("boom");
    if (request.path() == "/throw-int") throw 42;
    if (request.path() == "/drop") return;  // drops the Responder
    respond(Response::text("fine"));
  });
  TestHttpClient client = connect();
  for (const char* target : {"/throw", "/throw-int", "/drop"}) {
    auto response = client.roundTrip("GET", target);
    ASSERT_TRUE(response.isOk()) << target;
    EXPECT_EQ(response->status, 500) << target;
  }
  auto ok = client.roundTrip("GET", "/ok");  // the connection survived
  ASSERT_TRUE(ok.isOk());
  EXPECT_EQ(ok->body, "fine");
}

TEST_F(HttpServerTest, KeepsFramingHeadersItsOwn) {
  startServer([](Request, Responder respond) {
    Response response = Response::text("abc", 404);
    response.headers.set("Content-Length", "999");
    response.headers.set("Transfer-Encoding", "chunked");
    response.headers.set("X-Evil", "a\r\nSet-Cookie: x=y");
    response.headers.set("X-Good", "yes");
    respond(std::move(response));
  });
  TestHttpClient client = connect();
  ASSERT_TRUE(client.send(TestHttpClient::formatRequest("GET", "/")).isOk());
  auto head = client.readUntil("\r\n\r\n");
  ASSERT_TRUE(head.isOk());
  EXPECT_EQ(head->rfind("HTTP/1.1 404 Not Found\r\n", 0), 0u);
  EXPECT_NE(head->find("Content-Length: 3\r\n"), std::string::npos);
  EXPECT_EQ(head->find("999"), std::string::npos);
  EXPECT_EQ(head->find("chunked"), std::string::npos);
  EXPECT_EQ(head->find("Set-Cookie"), std::string::npos);
  EXPECT_NE(head->find("X-Good: yes\r\n"), std::string::npos);
}

TEST_F(HttpServerTest, FollowsHttp10KeepAliveRules) {
  startServer(echoHandler);
  {
    TestHttpClient client = connect();
    ASSERT_TRUE(client.send("GET /old HTTP/1.0\r\n\r\n").isOk());
    auto head = client.readUntil("\r\n\r\n");
    ASSERT_TRUE(head.isOk());
    EXPECT_EQ(head->rfind("HTTP/1.0 200 OK\r\n", 0), 0u);
    EXPECT_NE(head->find("Connection: close\r\n"), std::string::npos);
    EXPECT_TRUE(client.waitForClose());
  }
  {
    TestHttpClient client = connect();
    for (int i = 0; i < 2; ++i) {
      ASSERT_TRUE(client.send("GET /ka HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").isOk());
      auto response = client.readResponse();
      ASSERT_TRUE(response.isOk()) << response.status().toString();
      EXPECT_EQ(response->headers.get("connection").value_or(""), "keep-alive");
    }
  }
  {
    TestHttpClient client = connect();
    auto response = client.roundTrip("GET", "/bye", {}, "Connection: close\r\n");
    ASSERT_TRUE(response.isOk());
    EXPECT_EQ(response->headers.get("connection").value_or(""), "close");
    EXPECT_TRUE(client.waitForClose());
  }
}

TEST_F(HttpServerTest, AnswersHeadWithoutABody) {
  startServer([](Request, Responder respond) { respond(Response::text("12345")); });
  TestHttpClient client = connect();
  auto head = client.roundTrip("HEAD", "/");
  ASSERT_TRUE(head.isOk());
  EXPECT_EQ(head->headers.get("content-length").value_or(""), "5");
  EXPECT_TRUE(head->body.empty());
  auto get = client.roundTrip("GET", "/");  // no stray body bytes in between
  ASSERT_TRUE(get.isOk());
  EXPECT_EQ(get->body, "12345");
}

TEST_F(HttpServerTest, SendsContinueForExpect100) {
  startServer(
      [](Request request, Responder respond) { respond(Response::text(std::move(request.body))); });
  TestHttpClient client = connect();
  ASSERT_TRUE(client
                  .send("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n"
                        "Content-Length: 4\r\n\r\n")
                  .isOk());
  auto interim = client.readResponse();
  ASSERT_TRUE(interim.isOk()) << interim.status().toString();
  EXPECT_EQ(interim->status, 100);
  ASSERT_TRUE(client.send("data").isOk());
  auto final = client.readResponse();
  ASSERT_TRUE(final.isOk());
  EXPECT_EQ(final->status, 200);
  EXPECT_EQ(final->body, "data");
}

TEST_F(HttpServerTest, ClosesIdleConnectionsAfterTheTimeout) {
  HttpServerOptions options;
  options.idleTimeout = 50ms;
  startServer(echoHandler, options);
  TestHttpClient idle = connect();
  ASSERT_TRUE(idle.roundTrip("GET", "/").isOk());
  EXPECT_TRUE(idle.waitForClose());
  TestHttpClient silent = connect();  // never sends a byte
  EXPECT_TRUE(silent.waitForClose());
  TestHttpClient partial = connect();  // stalls in the middle of a header
  ASSERT_TRUE(partial.send("GET / HTTP/1.1\r\nHo").isOk());
  EXPECT_TRUE(partial.waitForClose());
  EXPECT_TRUE(eventually([&] { return server_->openConnections() == 0; }));
}

TEST_F(HttpServerTest, SpreadsConnectionsOverTheLoops) {
  std::mutex mu;
  std::set<base::EventLoop*> seen;
  startServer([&](Request, Responder respond) {
    {
      std::lock_guard<std::mutex> lock(mu);
      seen.insert(base::EventLoop::current());
    }
    respond(Response::text("ok"));
  });
  TestHttpClient a = connect();
  TestHttpClient b = connect();
  ASSERT_TRUE(a.roundTrip("GET", "/").isOk());
  ASSERT_TRUE(b.roundTrip("GET", "/").isOk());
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen.count(nullptr), 0u);
}

TEST_F(HttpServerTest, ReportsBindFailureAsStatus) {
  startServer(echoHandler);
  HttpServerOptions options;
  options.port = server_->port();
  HttpServer second(loops_.pointers(), options, echoHandler);
  Status s = second.start();
  ASSERT_FALSE(s.isOk());
  EXPECT_EQ(s.message(), "cannot listen on 127.0.0.1:" + std::to_string(server_->port()) +
                             ": Address already in use");
  EXPECT_FALSE(second.isAccepting());

  HttpServerOptions bad;
  bad.host = "256.1.2.3.invalid";
  HttpServer third(loops_.pointers(), bad, echoHandler);
  Status t = third.start();
  ASSERT_FALSE(t.isOk());
  EXPECT_EQ(t.message().rfind("cannot listen on 256.1.2.3.invalid:0: ", 0), 0u) << t.message();
}

TEST_F(HttpServerTest, DrainsInFlightRequestsOnShutdown) {
  struct Held {
    Responder respond;
    base::EventLoop* loop = nullptr;
  };
  std::promise<Held> heldPromise;
  startServer([&heldPromise](Request request, Responder respond) {
    if (request.path() == "/hold") {
      heldPromise.set_value(Held{std::move(respond), base::EventLoop::current()});
      return;
    }
    respond(Response::text("quick"));
  });

  TestHttpClient idle = connect();  // an idle keep-alive connection
  ASSERT_TRUE(idle.roundTrip("GET", "/quick").isOk());

  TestHttpClient busy = connect();
  ASSERT_TRUE(busy.send(TestHttpClient::formatRequest("GET", "/hold")).isOk());
  auto heldFuture = heldPromise.get_future();
  ASSERT_EQ(heldFuture.wait_for(kWait), std::future_status::ready);
  Held held = heldFuture.get();
  EXPECT_EQ(server_->inFlightRequests(), 1u);

  auto drained = std::make_shared<std::promise<void>>();
  auto drainedFuture = drained->get_future();
  std::atomic<int> drainCalls{0};
  server_->shutdown([drained, &drainCalls] {
    ++drainCalls;
    drained->set_value();
  });

  // The listening socket closes, the idle connection is closed, the busy one waits.
  ASSERT_TRUE(eventually([&] { return !server_->isAccepting(); }));
  EXPECT_TRUE(isConnectionRefused(server_->port()));
  EXPECT_TRUE(idle.waitForClose());
  EXPECT_EQ(drainedFuture.wait_for(0ms), std::future_status::timeout);

  held.loop->post([respond = std::move(held.respond)] { respond(Response::text("finished")); });
  auto response = busy.readResponse();
  ASSERT_TRUE(response.isOk()) << response.status().toString();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "finished");
  EXPECT_EQ(response->headers.get("connection").value_or(""), "close");
  EXPECT_TRUE(busy.waitForClose());
  busy.close();  // the server lingers (reading) until the client closes too

  ASSERT_EQ(drainedFuture.wait_for(kWait), std::future_status::ready);
  EXPECT_EQ(drainCalls.load(), 1);
  EXPECT_EQ(server_->inFlightRequests(), 0u);
  EXPECT_EQ(server_->openConnections(), 0u);

  // A later shutdown() call is answered at once.
  std::atomic<bool> again{false};
  server_->shutdown([&again] { again = true; });
  EXPECT_TRUE(again.load());
}

TEST_F(HttpServerTest, SurvivesRandomInput) {
  std::atomic<int> handled{0};
  HttpServerOptions options;
  options.maxHeaderBytes = 2048;
  options.maxBodyBytes = 4096;
  startServer(
      [&handled](Request request, Responder respond) {
        ++handled;
        respond(Response::text(std::move(request.body)));
      },
      options);
  std::mt19937 rng(12345);
  const std::string valid =
      "POST /p?q=1 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3\r\nabc\r\n0\r\n\r\n";
  for (int round = 0; round < 200; ++round) {
    std::string bytes;
    switch (round % 3) {
      case 0: {  // pure noise
        size_t n = rng() % 3000;
        for (size_t i = 0; i < n; ++i) bytes.push_back(static_cast<char>(rng() & 0xff));
        break;
      }
      case 1: {  // a valid request with a few bytes flipped
        bytes = valid;
        for (int i = 0; i < 3; ++i) bytes[rng() % bytes.size()] = static_cast<char>(rng() & 0xff);
        break;
      }
      default:  // a truncated valid request, then the client goes away
        bytes = valid.substr(0, rng() % valid.size());
        break;
    }
    TestHttpClient client = connect();
    (void)client.send(bytes);  // the server may already have closed: fine
    client.close();
  }
  TestHttpClient client = connect();
  auto response = client.roundTrip("POST", "/", "alive");
  ASSERT_TRUE(response.isOk());
  EXPECT_EQ(response->body, "alive");
  EXPECT_TRUE(eventually([&] { return server_->openConnections() == 1; }));
}

}  // namespace
}  // namespace duro::net
