// Integration tests: a real duro-test-server process on a free loopback port, driven over HTTP.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "harness.h"

namespace duro::testing {
namespace {

class ServerTest : public ::testing::Test {
 protected:
  // Starts the test server with extra flags; fails the test if it does not come up.
  void start(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"--listen", "127.0.0.1:0", "--data", data_.path(),
                                     "--threads", "2", "--log-level", "info"};
    args.insert(args.end(), extra.begin(), extra.end());
    server_ = std::make_unique<ServerProcess>(DURO_TEST_SERVER, args);
    port_ = server_->waitForPort();
    ASSERT_NE(port_, 0) << server_->log();
  }
  void TearDown() override {
    if (server_ && HasFailure()) std::cerr << "server log:\n" << server_->log();
  }

  int statValue(const std::string& name) {
    HttpResult r = httpGet(port_, "/stats");
    size_t at = r.body.find("\"" + name + "\":");
    if (at == std::string::npos) return -1;
    return std::atoi(r.body.c_str() + at + name.size() + 3);
  }

  TempDir data_;
  std::unique_ptr<ServerProcess> server_;
  uint16_t port_ = 0;
};

TEST_F(ServerTest, ConcurrentClientsIncrementOneCounterExactlyOnceEach) {
  start();
  constexpr int kClients = 32;
  constexpr int kPerClient = 25;
  std::vector<std::future<std::vector<int>>> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.push_back(std::async(std::launch::async, [this] {
      HttpConnection conn(port_);
      std::vector<int> got;
      for (int i = 0; i < kPerClient; ++i) {
        HttpResult r = conn.get("/counter/shared");
        if (r.status != 200) return got;
        got.push_back(std::stoi(r.body));
      }
      return got;
    }));
  }
  std::vector<int> all;
  for (auto& f : clients) {
    std::vector<int> got = f.get();
    EXPECT_EQ(got.size(), static_cast<size_t>(kPerClient));
    // Each client's own requests are answered in order.
    EXPECT_TRUE(std::is_sorted(got.begin(), got.end()));
    all.insert(all.end(), got.begin(), got.end());
  }
  std::sort(all.begin(), all.end());
  ASSERT_EQ(all.size(), static_cast<size_t>(kClients * kPerClient));
  for (int i = 0; i < kClients * kPerClient; ++i) ASSERT_EQ(all[i], i + 1);
}

TEST_F(ServerTest, StatelessRouteAndUnknownRoute) {
  start();
  HttpResult root = httpGet(port_, "/");
  EXPECT_EQ(root.status, 200);
  EXPECT_NE(root.body.find("native-counter"), std::string::npos);
  EXPECT_EQ(httpGet(port_, "/nope").status, 404);
}

TEST_F(ServerTest, TokenBucketAllowsTheCapacityThenLimits) {
  start();
  HttpConnection conn(port_);
  // A full bucket holds 10 tokens; refill is 1/s, so 10 quick requests all pass.
  for (int i = 0; i < 10; ++i) EXPECT_EQ(conn.get("/limit/alice").status, 200) << i;
  bool limited = false;
  for (int i = 0; i < 10 && !limited; ++i) limited = conn.get("/limit/alice").status == 429;
  EXPECT_TRUE(limited);
  // Another name has its own bucket.
  EXPECT_EQ(conn.get("/limit/bob").status, 200);
}

TEST_F(ServerTest, AThrowingObjectFailsOnlyItsRequest) {
  start();
  HttpConnection conn(port_);
  EXPECT_EQ(conn.get("/probe/a/count").body, "1");
  HttpResult failed = conn.get("/probe/a/throw");
  EXPECT_EQ(failed.status, 500);
  EXPECT_NE(failed.body.find("probe handler failed on purpose"), std::string::npos);
  // The same connection, the same object and other objects all keep working.
  EXPECT_EQ(conn.get("/probe/a/count").body, "2");
  EXPECT_EQ(conn.get("/probe/b/count").body, "1");
  EXPECT_EQ(conn.get("/counter/x").body, "1");
  EXPECT_NE(server_->log().find("probe handler failed on purpose"), std::string::npos);
}

TEST_F(ServerTest, IdleObjectsAreEvictedAndConstructedAgain) {
  start({"--idle-timeout-ms", "100"});
  EXPECT_EQ(httpGet(port_, "/probe/e/count").body, "1");
  ASSERT_TRUE(eventually([&] { return statValue("objectsEvicted") >= 1; }));
  EXPECT_EQ(statValue("liveObjects"), 0);
  // In-memory state is gone; a new instance starts over.
  EXPECT_EQ(httpGet(port_, "/probe/e/count").body, "1");
  EXPECT_EQ(statValue("objectsConstructed"), 2);
}

TEST_F(ServerTest, AFullObjectQueueGives503AndOthersAreUnaffected) {
  start({"--max-queue", "3"});
  HttpConnection holder(port_);
  ASSERT_TRUE(holder.sendRequest("GET", "/probe/busy/hold"));
  ASSERT_TRUE(eventually([&] { return httpGet(port_, "/waiting").body == "1"; }));

  std::vector<std::unique_ptr<HttpConnection>> queued;
  for (int i = 0; i < 6; ++i) {
    queued.push_back(std::make_unique<HttpConnection>(port_));
    ASSERT_TRUE(queued.back()->sendRequest("GET", "/probe/busy/count"));
  }
  // Three wait in the object's queue; the other three are refused as overloaded.
  ASSERT_TRUE(eventually([&] { return statValue("overloadRejections") == 3; }));
  EXPECT_EQ(httpGet(port_, "/probe/calm/count").body, "1");

  EXPECT_EQ(httpGet(port_, "/release/busy").status, 200);
  EXPECT_EQ(holder.readResponse().body, "released");
  int ok = 0, overloaded = 0;
  for (auto& c : queued) {
    HttpResult r = c->readResponse();
    if (r.status == 200) ++ok;
    if (r.status == 503) {
      ++overloaded;
      EXPECT_NE(r.body.find("overloaded"), std::string::npos);
    }
  }
  EXPECT_EQ(ok, 3);
  EXPECT_EQ(overloaded, 3);
}

TEST_F(ServerTest, MalformedRequestsGet400AndTheServerKeepsServing) {
  start({"--max-header-bytes", "4096", "--max-body-bytes", "1024"});
  {
    HttpConnection c(port_);
    ASSERT_TRUE(c.sendRaw("GARBAGE\r\n\r\n"));
    EXPECT_EQ(c.readResponse().status, 400);
    EXPECT_TRUE(c.closedByPeer());
  }
  {
    HttpConnection c(port_);
    ASSERT_TRUE(c.sendRaw("GET / HTTP/1.1\r\nHost: x\r\nBad Header Line\r\n\r\n"));
    EXPECT_EQ(c.readResponse().status, 400);
  }
  {
    HttpConnection c(port_);
    std::string big(8000, 'a');
    ASSERT_TRUE(c.sendRaw("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + big + "\r\n\r\n"));
    EXPECT_EQ(c.readResponse().status, 431);
  }
  {
    HttpConnection c(port_);
    ASSERT_TRUE(c.sendRequest("POST", "/counter/y", std::string(5000, 'b')));
    EXPECT_EQ(c.readResponse().status, 413);
  }
  EXPECT_EQ(httpGet(port_, "/counter/after").body, "1");
}

TEST_F(ServerTest, SigtermFinishesInFlightRequestsThenExitsZero) {
  start();
  HttpConnection slow(port_);
  ASSERT_TRUE(slow.sendRequest("GET", "/probe/s/slow?ms=1500"));
  ASSERT_TRUE(eventually([&] { return httpGet(port_, "/waiting").body == "1"; }));
  server_->sendSignal(SIGTERM);
  // New connections are refused once the listener is closed...
  EXPECT_TRUE(eventually([&] { return !HttpConnection(port_).connected(); }));
  // ...but the request already in flight completes.
  HttpResult r = slow.readResponse();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "slow done");
  EXPECT_EQ(server_->waitForExit(), 0);
}

TEST_F(ServerTest, SigintAlsoStopsGracefully) {
  start();
  EXPECT_EQ(httpGet(port_, "/counter/x").status, 200);
  server_->sendSignal(SIGINT);
  EXPECT_EQ(server_->waitForExit(), 0);
}

TEST_F(ServerTest, ASecondServerCannotShareTheDataDir) {
  start();
  ServerProcess second(DURO_TEST_SERVER, {"--listen", "127.0.0.1:0", "--data", data_.path()});
  EXPECT_EQ(second.waitForExit(), 1);
  EXPECT_NE(second.log().find("in use by another duro server"), std::string::npos);
}

TEST_F(ServerTest, ObjectIdsStayValidAcrossRestarts) {
  start();
  std::string keyFile = data_.path() + "/COUNTER/namespace.key";
  std::string before;
  ASSERT_TRUE(eventually([&] { return std::filesystem::exists(keyFile); }));
  {
    std::ifstream in(keyFile);
    std::getline(in, before);
  }
  EXPECT_EQ(before.size(), 64u);
  server_->sendSignal(SIGTERM);
  ASSERT_EQ(server_->waitForExit(), 0);
  start();
  std::string after;
  std::ifstream in(keyFile);
  std::getline(in, after);
  EXPECT_EQ(before, after);
}

TEST_F(ServerTest, CountersSurviveARestart) {
  start();
  HttpConnection c(port_);
  for (int i = 1; i <= 5; ++i) EXPECT_EQ(c.get("/counter/persist").body, std::to_string(i));
  server_->sendSignal(SIGTERM);
  ASSERT_EQ(server_->waitForExit(), 0);
  start();
  EXPECT_EQ(httpGet(port_, "/counter/persist").body, "6");
}

TEST_F(ServerTest, AcknowledgedIncrementsSurviveSigkill) {
  start();
  HttpConnection c(port_);
  for (int i = 1; i <= 20; ++i) ASSERT_EQ(c.get("/counter/crash").body, std::to_string(i));
  server_->sendSignal(SIGKILL);
  ASSERT_EQ(server_->waitForExit(), 128 + SIGKILL);
  start();
  EXPECT_EQ(httpGet(port_, "/counter/crash").body, "21");
}

}  // namespace
}  // namespace duro::testing
