// Crash tests: concurrent writers over 1,000 objects, the server killed with SIGKILL under load at
// several points, restarted each time. Every write whose response arrived must be there, and no
// half of a coalesced batch (a/b) or of a transaction (c/d) may ever be visible.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include "harness.h"

namespace duro::testing {
namespace {

constexpr int kObjects = 1000;
constexpr int kClients = 16;

struct ObjectState {
  int64_t nextN = 1;       // next value to write
  int64_t ackedWrite = 0;  // highest a/b value whose response arrived
  int64_t ackedTxn = 0;    // highest c/d value whose response arrived
  int64_t sentMax = 0;     // highest value ever sent (unacknowledged ones may or may not persist)
};

class CrashTest : public ::testing::Test {
 protected:
  uint16_t startServer() {
    server_ = std::make_unique<ServerProcess>(
        DURO_TEST_SERVER, std::vector<std::string>{"--listen", "127.0.0.1:0", "--data", data_.path(),
                                                   "--threads", "2", "--log-level", "info"});
    return server_->waitForPort();
  }

  // Writers run until the server dies; each client owns every kClients-th object, so the values
  // of one object are written in order by one connection.
  void writeUntilKilled(uint16_t port, int64_t killAfterAcks) {
    std::atomic<int64_t> acks{0};
    std::atomic<bool> killed{false};
    std::vector<std::thread> clients;
    for (int c = 0; c < kClients; ++c) {
      clients.emplace_back([&, c] {
        HttpConnection conn(port, std::chrono::seconds(10));
        for (int round = 0;; ++round) {
          for (int o = c; o < kObjects; o += kClients) {
            ObjectState& st = objects_[o];
            bool txn = (round + o) % 2 == 1;
            int64_t n = st.nextN++;
            st.sentMax = n;
            std::string target = "/ledger/obj" + std::to_string(o) + (txn ? "/txn?n=" : "/write?n=") +
                                 std::to_string(n);
            HttpResult r = conn.get(target);
            if (r.status == 0) return;  // the server is gone
            if (r.status == 200 && r.body == "ok " + std::to_string(n)) {
              (txn ? st.ackedTxn : st.ackedWrite) = n;
              if (++acks >= killAfterAcks && !killed.exchange(true)) server_->sendSignal(SIGKILL);
            } else {
              ADD_FAILURE() << "unexpected response " << r.status << " " << r.body;
              return;
            }
          }
        }
      });
    }
    for (auto& t : clients) t.join();
    ASSERT_TRUE(killed.load());
    ASSERT_EQ(server_->waitForExit(), 128 + SIGKILL);
  }

  // After a restart: every acknowledged value is there, pairs are whole, nothing exceeds what
  // was sent. Continues numbering above whatever survived.
  void verify(uint16_t port) {
    HttpConnection conn(port);
    for (int o = 0; o < kObjects; ++o) {
      ObjectState& st = objects_[o];
      HttpResult r = conn.get("/ledger/obj" + std::to_string(o) + "/read");
      ASSERT_EQ(r.status, 200) << r.body;
      std::istringstream in(r.body);
      int64_t a, b, c, d;
      in >> a >> b >> c >> d;
      ASSERT_EQ(a, b) << "half of a coalesced batch is visible in obj" << o;
      ASSERT_EQ(c, d) << "half of a transaction is visible in obj" << o;
      if (st.ackedWrite > 0) ASSERT_GE(a, st.ackedWrite) << "lost acknowledged write, obj" << o;
      if (st.ackedTxn > 0) ASSERT_GE(c, st.ackedTxn) << "lost acknowledged transaction, obj" << o;
      ASSERT_LE(std::max(a, c), st.sentMax) << "obj" << o;
      st.nextN = std::max({st.nextN, a + 1, c + 1});
      ++verified_;
    }
  }

  TempDir data_;
  std::unique_ptr<ServerProcess> server_;
  std::vector<ObjectState> objects_ = std::vector<ObjectState>(kObjects);
  int verified_ = 0;
};

TEST_F(CrashTest, AcknowledgedWritesSurviveSigkillAtSeveralPoints) {
  // Kill early (objects being created), mid-way and late (objects with history).
  for (int64_t killAfter : {300, 2500, 6000}) {
    uint16_t port = startServer();
    ASSERT_NE(port, 0) << server_->log();
    writeUntilKilled(port, killAfter);
    if (HasFailure()) return;
    port = startServer();
    ASSERT_NE(port, 0) << server_->log();
    verify(port);
    if (HasFailure()) {
      std::cerr << server_->log();
      return;
    }
    server_->sendSignal(SIGTERM);
    ASSERT_EQ(server_->waitForExit(), 0);
  }
  EXPECT_EQ(verified_, 3 * kObjects);
}

}  // namespace
}  // namespace duro::testing
