// Integration tests for the JavaScript runtime: `duro serve --config` processes serving the Worker
// projects in tests/integration/js_projects/, driven over HTTP on free loopback ports. Durability
// of JS storage under SIGKILL (counters, coalesced pairs, transactions), runaway JavaScript (CPU
// limit in an object, after an await, in the Worker; heap limit), throwing constructors and
// handlers, config and module errors at start-up, persistence and alarms across a clean restart,
// and idle eviction.
//
// Waits are conditions polled with deadlines. The one exception is eviction, where idleness itself
// is the stimulus: the test stays idle for longer than the idle timeout before each poll.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"

namespace duro::testing {
namespace {

using Clock = std::chrono::steady_clock;

const std::string kProjects = DURO_JS_PROJECTS;

std::string configOf(const std::string& project) {
  return kProjects + "/" + project + "/wrangler.toml";
}

// `duro serve` for a project, listening on a free loopback port, with its data in `dataDir`.
std::unique_ptr<ServerProcess> serveProject(const std::string& project,
                                            const std::string& dataDir) {
  return std::make_unique<ServerProcess>(
      DURO_BINARY, std::vector<std::string>{"serve", "--config", configOf(project), "--listen",
                                            "127.0.0.1:0", "--data", dataDir});
}

int64_t nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool startsWith(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}
bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

// The outcome of a command expected to exit by itself.
struct Exited {
  std::optional<int> code;  // nullopt: still running at the deadline (then killed)
  std::string output;       // its stderr, complete (read to EOF)
};

// Runs `duro args...` until it exits or `timeout` passes (then SIGKILLs it); stdout is discarded.
// Unlike runCommand it cannot hang on a server that unexpectedly starts; unlike ServerProcess it
// returns stderr only once the pipe is at EOF, so nothing written just before exit is missed.
Exited runDuro(const std::vector<std::string>& args, std::chrono::milliseconds timeout = 20s) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) std::abort();
  std::vector<std::string> storage = {DURO_BINARY};
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& s : storage) argv.push_back(s.data());
  argv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) {
    int devNull = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    ::dup2(devNull, STDOUT_FILENO);
    ::dup2(fds[1], STDERR_FILENO);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  Exited result;
  auto deadline = Clock::now() + timeout;
  bool killed = false;
  char buf[4096];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0 && !killed) {
      ::kill(pid, SIGKILL);
      killed = true;
    }
    pollfd p{fds[0], POLLIN, 0};
    int waitMs = killed ? 1000 : static_cast<int>(std::min<int64_t>(left.count(), 100));
    int ready = ::poll(&p, 1, waitMs);
    if (ready < 0 || (ready == 0 && killed)) break;
    if (ready == 0) continue;
    ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n <= 0) break;
    result.output.append(buf, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!killed) {
    result.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// 1. Durability under SIGKILL (projects crash/ with the KV API, crash-sql/ with SQL and the
// synchronous KV API on a SQLite-backed class): 16 clients over 200 Ledger objects; each client
// owns every 16th object, so one object's requests go in order over one connection and at most
// one of them is in flight when the server dies. After a restart on the same data dir each value
// is exactly what was acknowledged, or the one in-flight write on top of it; pairs are whole.

constexpr int kLedgers = 200;
constexpr int kLedgerClients = 16;

struct Ledger {
  int64_t count = 0;       // counter value last acknowledged or read after a restart
  int64_t countSent = 0;   // highest counter value a sent request could have stored
  int64_t pair = 0;        // a/b value last acknowledged or read after a restart
  int64_t pairSent = 0;    // highest a/b value sent
  int64_t txn = 0;         // c/d value last acknowledged or read after a restart
  int64_t txnSent = 0;     // highest c/d value sent
};

class JsCrashTest : public ::testing::TestWithParam<std::string> {
 protected:
  uint16_t start() {
    if (server_) logs_ += server_->log();
    server_ = serveProject(GetParam(), data_.path());
    return server_->waitForPort();
  }

  // Clients run until the server dies. Each counter answer must be exactly one more than the
  // previous one (the counter is read-modify-write on one object, in order).
  void loadUntilKilled(uint16_t port, int64_t killAfterAcks) {
    std::atomic<int64_t> acks{0};
    std::atomic<bool> killed{false};
    std::vector<std::thread> clients;
    for (int c = 0; c < kLedgerClients; ++c) {
      clients.emplace_back([&, c] {
        HttpConnection conn(port, 10s);
        for (int round = 0;; ++round) {
          for (int o = c; o < kLedgers; o += kLedgerClients) {
            Ledger& st = ledgers_[o];
            std::string base = "/o/ledger" + std::to_string(o) + "/";
            std::string expected;
            int64_t* acked = nullptr;
            int64_t value = 0;
            switch ((round + o) % 4) {
              case 0:
                value = st.countSent = st.count + 1;
                acked = &st.count;
                expected = std::to_string(value);
                base += "count";
                break;
              case 1:
              case 3:
                value = ++st.pairSent;
                acked = &st.pair;
                expected = "ok " + std::to_string(value);
                base += ((round + o) % 4 == 1 ? "pair?v=" : "pair2?v=") + std::to_string(value);
                break;
              case 2:
                value = ++st.txnSent;
                acked = &st.txn;
                expected = "ok " + std::to_string(value);
                base += "txn?v=" + std::to_string(value);
                break;
            }
            HttpResult r = conn.get(base);
            if (r.status == 0) return;  // the server is gone
            if (r.status != 200 || r.body != expected) {
              ADD_FAILURE() << base << ": expected 200 \"" << expected << "\", got " << r.status
                            << " \"" << r.body << "\"";
              return;
            }
            *acked = value;
            if (++acks >= killAfterAcks && !killed.exchange(true)) server_->sendSignal(SIGKILL);
          }
        }
      });
    }
    for (auto& t : clients) t.join();
    ASSERT_TRUE(killed.load()) << "the clients stopped before " << killAfterAcks << " acks";
    ASSERT_EQ(server_->waitForExit(), 128 + SIGKILL);
    totalAcks_ += acks.load();
  }

  // After a restart: every ledger holds exactly its acknowledged values, or the single write that
  // was in flight at the kill; a == b and c == d.
  void verify(uint16_t port) {
    HttpConnection conn(port);
    for (int o = 0; o < kLedgers; ++o) {
      Ledger& st = ledgers_[o];
      std::string name = "ledger" + std::to_string(o);
      HttpResult r = conn.get("/o/" + name + "/read");
      ASSERT_EQ(r.status, 200) << r.body;
      std::istringstream in(r.body);
      int64_t n = -1, a = -1, b = -1, c = -1, d = -1;
      in >> n >> a >> b >> c >> d;
      ASSERT_EQ(a, b) << "half of a coalesced pair is visible in " << name << ": " << r.body;
      ASSERT_EQ(c, d) << "half of a transaction is visible in " << name << ": " << r.body;
      ASSERT_GE(n, st.count) << "lost an acknowledged counter value in " << name;
      ASSERT_LE(n, st.countSent) << "a counter value never sent in " << name;
      ASSERT_GE(a, st.pair) << "lost an acknowledged pair write in " << name;
      ASSERT_LE(a, st.pairSent) << "a pair value never sent in " << name;
      ASSERT_GE(c, st.txn) << "lost an acknowledged transaction in " << name;
      ASSERT_LE(c, st.txnSent) << "a transaction value never sent in " << name;
      st.count = st.countSent = n;
      st.pair = a;
      st.txn = c;
      ++verified_;
    }
  }

  void TearDown() override {
    if (HasFailure() && server_) std::cerr << logs_ << server_->log();
  }

  TempDir data_;
  std::unique_ptr<ServerProcess> server_;
  std::string logs_;
  std::vector<Ledger> ledgers_ = std::vector<Ledger>(kLedgers);
  int64_t totalAcks_ = 0;
  int verified_ = 0;
};

TEST_P(JsCrashTest, AcknowledgedJsWritesSurviveSigkill) {
  // Killed early (objects still being created), then later with history; each run after a
  // restart also checks that counters continue exactly from the recovered values.
  for (int64_t killAfter : {500, 2500, 5000}) {
    uint16_t port = start();
    ASSERT_NE(port, 0) << server_->log();
    loadUntilKilled(port, killAfter);
    if (HasFailure()) return;
    port = start();
    ASSERT_NE(port, 0) << server_->log();
    verify(port);
    if (HasFailure()) return;
    server_->sendSignal(SIGTERM);
    ASSERT_EQ(server_->waitForExit(), 0) << server_->log();
  }
  EXPECT_EQ(verified_, 3 * kLedgers);
  EXPECT_GE(totalAcks_, 8000);
  // Every ledger received writes of each kind.
  for (const Ledger& st : ledgers_) {
    EXPECT_GT(st.count, 0);
    EXPECT_GT(st.pair, 0);
    EXPECT_GT(st.txn, 0);
  }
}

INSTANTIATE_TEST_SUITE_P(Storage, JsCrashTest, ::testing::Values("crash", "crash-sql"),
                         [](const auto& info) { return info.param == "crash" ? "Kv" : "Sql"; });

// ---------------------------------------------------------------------------------------------
// A server for one project, started in SetUp, with its log printed when a test fails.

class JsServerTest : public ::testing::Test {
 protected:
  void serve(const std::string& project) {
    server_ = serveProject(project, data_.path());
    port_ = server_->waitForPort();
    ASSERT_NE(port_, 0) << server_->log();
  }
  void TearDown() override {
    if (HasFailure() && server_) std::cerr << "server log:\n" << server_->log();
  }
  bool stillRunning() { return !server_->waitForExit(0ms).has_value(); }

  TempDir data_;
  std::unique_ptr<ServerProcess> server_;
  uint16_t port_ = 0;
};

// A request and how long its answer took.
struct Timed {
  HttpResult result;
  std::chrono::milliseconds elapsed{0};
};
Timed timedGet(HttpConnection& conn, const std::string& target) {
  auto start = Clock::now();
  HttpResult r = conn.get(target);
  return {r, std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start)};
}

// ---------------------------------------------------------------------------------------------
// 2. Runaway JavaScript (project cpu-limit/, cpu_limit_ms = 200).

class JsCpuLimitTest : public JsServerTest {
 protected:
  void SetUp() override { serve("cpu-limit"); }

  // The Worker's answer when the object it called was stopped by the CPU limit.
  static void expectCpuLimitError(const Timed& t) {
    EXPECT_EQ(t.result.status, 500) << t.result.body;
    EXPECT_TRUE(startsWith(t.result.body, "caught Error: ")) << t.result.body;
    EXPECT_TRUE(contains(t.result.body, "exceeded CPU time limit")) << t.result.body;
    // It ran at least the limit, and was stopped well before the client's patience ran out.
    EXPECT_GE(t.elapsed, 200ms);
    EXPECT_LT(t.elapsed, 5s);
  }
};

TEST_F(JsCpuLimitTest, ALoopingObjectIsStoppedWhileOthersKeepAnswering) {
  // Four connections accepted one after another: the front end deals them round-robin over the
  // two shards, so some are served by a shard the looping object does not occupy.
  std::vector<std::unique_ptr<HttpConnection>> conns;
  for (int i = 0; i < 4; ++i) {
    conns.push_back(std::make_unique<HttpConnection>(port_));
    ASSERT_EQ(conns.back()->get("/ping").body, "pong");
  }
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(conns[0]->get("/o/calm" + std::to_string(i) + "/count").body, "hits 1 stored 1");
  }
  EXPECT_EQ(conns[0]->get("/o/spin/count").body, "hits 1 stored 1");

  HttpConnection loopConn(port_);
  ASSERT_EQ(loopConn.get("/ping").body, "pong");
  std::atomic<bool> loopDone{false};
  Timed loop;
  std::thread looper([&] {
    loop = timedGet(loopConn, "/o/spin/loop");
    loopDone = true;
  });
  // While the loop runs: the stateless route answers on the free shard (at least one answer
  // arrives before the looping request's), and every other object answers (those on the busy
  // shard once the loop is stopped).
  int pongsDuringLoop = 0;
  auto deadline = Clock::now() + 10s;
  while (!loopDone && Clock::now() < deadline) {
    for (auto& conn : conns) {
      HttpResult r = conn->get("/ping");
      EXPECT_EQ(r.body, "pong");
      if (r.body == "pong" && !loopDone) ++pongsDuringLoop;
    }
  }
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(conns[i % 4]->get("/o/calm" + std::to_string(i) + "/count").body, "hits 2 stored 2");
  }
  looper.join();
  expectCpuLimitError(loop);
  EXPECT_GE(pongsDuringLoop, 1);

  // The looping object was reset (its in-memory count starts again) but its storage is intact, and
  // it answers normally; the other objects kept their in-memory state.
  EXPECT_EQ(loopConn.get("/o/spin/count").body, "hits 1 stored 2");
  EXPECT_EQ(loopConn.get("/o/spin/count").body, "hits 2 stored 3");
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(conns[0]->get("/o/calm" + std::to_string(i) + "/count").body, "hits 3 stored 3");
  }
  EXPECT_TRUE(stillRunning());
  EXPECT_TRUE(contains(server_->log(), "Worker exceeded CPU time limit.")) << server_->log();
}

TEST_F(JsCpuLimitTest, AnEndlessQueryIsStoppedAndTheObjectKeepsItsData) {
  HttpConnection conn(port_);
  EXPECT_EQ(conn.get("/s/q/count").body, "rows 1");
  Timed endless = timedGet(conn, "/s/q/sql-loop");
  // Stopped by the time limit (the query's interrupt or the CPU limit, whichever the object sees
  // first), long before the client gives up; the shard went on serving.
  EXPECT_EQ(endless.result.status, 500) << endless.result.body;
  EXPECT_TRUE(contains(endless.result.body, "SQLITE_INTERRUPT") ||
              contains(endless.result.body, "exceeded CPU time limit"))
      << endless.result.body;
  EXPECT_GE(endless.elapsed, 200ms);
  EXPECT_LT(endless.elapsed, 5s);
  EXPECT_EQ(conn.get("/s/q/count").body, "rows 2");
  EXPECT_EQ(conn.get("/ping").body, "pong");
}

TEST_F(JsCpuLimitTest, ALoopAfterAnAwaitIsStoppedToo) {
  HttpConnection conn(port_);
  EXPECT_EQ(conn.get("/o/later/count").body, "hits 1 stored 1");
  expectCpuLimitError(timedGet(conn, "/o/later/await-loop"));
  EXPECT_EQ(conn.get("/o/later/count").body, "hits 1 stored 2");
  // Twice: the isolate is not left terminated after the first stop.
  expectCpuLimitError(timedGet(conn, "/o/later/await-loop"));
  EXPECT_EQ(conn.get("/o/later/count").body, "hits 1 stored 3");
  EXPECT_EQ(conn.get("/o/other/count").body, "hits 1 stored 1");
  EXPECT_EQ(conn.get("/ping").body, "pong");
}

TEST_F(JsCpuLimitTest, ALoopingWorkerFailsAndTheServerKeepsServing) {
  HttpConnection conn(port_);
  EXPECT_EQ(conn.get("/o/bystander/count").body, "hits 1 stored 1");
  for (int i = 0; i < 2; ++i) {
    Timed t = timedGet(conn, "/worker-loop");
    EXPECT_EQ(t.result.status, 500) << t.result.body;
    EXPECT_GE(t.elapsed, 200ms);
    EXPECT_LT(t.elapsed, 5s);
    // The same connection, the same shard and isolate: served normally right after.
    EXPECT_EQ(conn.get("/ping").body, "pong");
    EXPECT_EQ(conn.get("/o/bystander/count").body,
              "hits " + std::to_string(i + 2) + " stored " + std::to_string(i + 2));
  }
  EXPECT_TRUE(stillRunning());
}

// ---------------------------------------------------------------------------------------------
// 3. A heap bomb (project heap-limit/, heap_limit_mb = 64).

TEST_F(JsServerTest, AHeapBombFailsWithTheMemoryLimitErrorAndTheServerSurvives) {
  serve("heap-limit");
  HttpConnection conn(port_);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(conn.get("/o/calm" + std::to_string(i) + "/count").body, "hits 1 stored 1");
  }
  EXPECT_EQ(conn.get("/o/bomber/count").body, "hits 1 stored 1");
  for (int round = 0; round < 2; ++round) {
    // Twice: the limit is back in force after the first bomb.
    Timed t = timedGet(conn, "/o/bomber/bomb");
    EXPECT_EQ(t.result.status, 500) << t.result.body;
    EXPECT_TRUE(startsWith(t.result.body, "caught Error: ")) << t.result.body;
    EXPECT_TRUE(contains(t.result.body, "exceeded its memory limit")) << t.result.body;
    EXPECT_LT(t.elapsed, 8s);
    ASSERT_TRUE(stillRunning()) << server_->log();
    EXPECT_EQ(conn.get("/ping").body, "pong");
    // Other objects keep their in-memory state and storage; the bomber was reset.
    for (int i = 0; i < 4; ++i) {
      std::string n = std::to_string(round + 2);
      EXPECT_EQ(conn.get("/o/calm" + std::to_string(i) + "/count").body,
                "hits " + n + " stored " + n);
    }
    EXPECT_EQ(conn.get("/o/bomber/count").body, "hits 1 stored " + std::to_string(round + 2));
  }
  server_->sendSignal(SIGTERM);
  EXPECT_EQ(server_->waitForExit(), 0);
}

// ---------------------------------------------------------------------------------------------
// 4. Throwing constructors and handlers (project errors/).

TEST_F(JsServerTest, ThrowingConstructorsAndHandlersFailOnlyTheirRequest) {
  serve("errors");
  HttpConnection conn(port_);
  EXPECT_EQ(conn.get("/caught/good-1/hello").body, "good-1 1");

  // A throwing fetch: the caller's stub.fetch rejects with the object's error (class and
  // message); uncaught in the Worker it is a 500. The object stays in memory, usable.
  HttpResult thrown = conn.get("/caught/good-1/throw");
  EXPECT_EQ(thrown.status, 500);
  EXPECT_EQ(thrown.body, "caught TypeError: fetch failed on purpose in good-1");
  HttpResult raw = conn.get("/raw/good-1/throw");
  EXPECT_EQ(raw.status, 500);
  EXPECT_EQ(raw.body, "Internal Server Error");
  EXPECT_EQ(conn.get("/caught/good-1/hello").body, "good-1 4");

  // A throwing constructor: every request to that object fails, each one trying afresh; other
  // objects are served meanwhile.
  for (int i = 0; i < 3; ++i) {
    HttpResult r = conn.get("/caught/bad-1/hello");
    EXPECT_EQ(r.status, 500);
    EXPECT_TRUE(startsWith(r.body, "caught Error: ")) << r.body;
    EXPECT_TRUE(r.body.size() >= 28 &&
                r.body.compare(r.body.size() - 28, 28, "constructor failed for bad-1") == 0)
        << r.body;
    HttpResult rawBad = conn.get("/raw/bad-2/hello");
    EXPECT_EQ(rawBad.status, 500);
    EXPECT_EQ(rawBad.body, "Internal Server Error");
    EXPECT_EQ(conn.get("/caught/good-2/hello").body, "good-2 " + std::to_string(i + 1));
    EXPECT_EQ(conn.get("/ping").body, "pong");
  }
  EXPECT_EQ(conn.get("/caught/good-1/hello").body, "good-1 5");
  EXPECT_TRUE(contains(server_->log(), "constructor failed for bad-1")) << server_->log();
  server_->sendSignal(SIGTERM);
  EXPECT_EQ(server_->waitForExit(), 0);
}

// ---------------------------------------------------------------------------------------------
// 5. Config and module errors at start-up; [duro] listen.

TEST(JsConfigErrors, ATomlSyntaxErrorExitsTwoNamingTheFileAndLine) {
  TempDir data;
  Exited e = runDuro({"serve", "--config", configOf("config-bad-toml"), "--listen", "127.0.0.1:0",
                      "--data", data.path()});
  EXPECT_EQ(e.code, 2) << e.output;
  // Line 5 of the fixture is `threads = = 2`.
  EXPECT_TRUE(contains(e.output, configOf("config-bad-toml") + ":5")) << e.output;
}

TEST(JsConfigErrors, AMissingMainFileExitsTwoNamingThePath) {
  TempDir data;
  Exited e = runDuro({"serve", "--config", configOf("config-missing-main"), "--listen",
                      "127.0.0.1:0", "--data", data.path()});
  EXPECT_EQ(e.code, 2) << e.output;
  EXPECT_TRUE(contains(e.output, kProjects + "/config-missing-main/src/no-such-entry.js"))
      << e.output;
}

TEST(JsConfigErrors, AJsSyntaxErrorExitsOneNamingTheModuleAndLine) {
  TempDir data;
  Exited e = runDuro({"serve", "--config", configOf("config-js-syntax-error"), "--listen",
                      "127.0.0.1:0", "--data", data.path()});
  EXPECT_EQ(e.code, 1) << e.output;
  // Line 6 of src/index.js is `return new Response(a +* b);`.
  EXPECT_TRUE(contains(e.output, "index.js:6")) << e.output;
  EXPECT_TRUE(contains(e.output, "SyntaxError")) << e.output;
}

TEST(JsConfigErrors, AMissingImportExitsOneNamingTheMissingFile) {
  TempDir data;
  Exited e = runDuro({"serve", "--config", configOf("config-missing-import"), "--listen",
                      "127.0.0.1:0", "--data", data.path()});
  EXPECT_EQ(e.code, 1) << e.output;
  EXPECT_TRUE(contains(e.output, "lib/vanished-helper.js")) << e.output;
  // The importing module is named, and nothing in the message is an unset placeholder.
  EXPECT_TRUE(contains(e.output, "index.js")) << e.output;
  EXPECT_FALSE(contains(e.output, "undefined")) << e.output;
}

TEST(JsConfigErrors, ABoundClassTheModuleDoesNotExportExitsOneNamingIt) {
  TempDir data;
  Exited e = runDuro({"serve", "--config", configOf("config-unexported-class"), "--listen",
                      "127.0.0.1:0", "--data", data.path()});
  EXPECT_EQ(e.code, 1) << e.output;
  EXPECT_TRUE(contains(e.output, "GhostClass")) << e.output;
}

TEST(JsConfigErrors, AnUnknownKeyIsAWarningAndTheServerStarts) {
  TempDir data;
  std::unique_ptr<ServerProcess> server = serveProject("config-unknown-key", data.path());
  uint16_t port = server->waitForPort();
  ASSERT_NE(port, 0) << server->log();
  std::string log = server->log();
  std::smatch warning;
  EXPECT_TRUE(std::regex_search(log, warning, std::regex(" warn [^\n]*frobnicate_level")))
      << log;
  EXPECT_TRUE(contains(log, "wrangler.toml")) << log;
  EXPECT_EQ(httpGet(port, "/").body, "hello from config-unknown-key");
  server->sendSignal(SIGTERM);
  EXPECT_EQ(server->waitForExit(), 0) << server->log();
}

TEST(JsConfigErrors, DuroListenInTheConfigIsHonouredAndTheFlagOverridesIt) {
  // listen = "127.0.0.1:0" and no --listen: a free port, not the default 8787.
  {
    TempDir data;
    ServerProcess server(DURO_BINARY,
                         {"serve", "--config", configOf("config-listen"), "--data", data.path()});
    uint16_t port = server.waitForPort();
    ASSERT_NE(port, 0) << server.log();
    EXPECT_NE(port, 8787);
    EXPECT_TRUE(contains(server.log(), "listening on http://127.0.0.1:" + std::to_string(port)))
        << server.log();
    EXPECT_EQ(httpGet(port, "/").body, "hello from config-listen");
    server.sendSignal(SIGTERM);
    EXPECT_EQ(server.waitForExit(), 0);
  }
  // listen = "192.0.2.1:8787", an address no interface has: used, and fails...
  {
    TempDir data;
    Exited e = runDuro(
        {"serve", "--config", configOf("config-listen-unusable"), "--data", data.path()});
    EXPECT_EQ(e.code, 1) << e.output;
    EXPECT_TRUE(contains(e.output, "192.0.2.1:8787")) << e.output;
  }
  // ...unless --listen overrides it.
  {
    TempDir data;
    std::unique_ptr<ServerProcess> server = serveProject("config-listen-unusable", data.path());
    uint16_t port = server->waitForPort();
    ASSERT_NE(port, 0) << server->log();
    EXPECT_EQ(httpGet(port, "/").body, "hello from config-listen-unusable");
    server->sendSignal(SIGTERM);
    EXPECT_EQ(server->waitForExit(), 0);
  }
}

// ---------------------------------------------------------------------------------------------
// 6. Persistence across a clean restart (project persist/).

TEST(JsPersistence, ValuesAndAnAlarmSurviveACleanRestart) {
  TempDir data;
  const std::string expectedValues =
      "{\"keys\":[\"date\",\"map\",\"num\",\"obj\",\"str\"],"
      "\"str\":\"h\xC3\xA9llo \xE2\x98\x83\",\"num\":-1234.5,"
      "\"obj\":{\"nested\":{\"list\":[1,\"two\",null,true]},\"n\":7},"
      "\"map\":[[\"k1\",1],[\"k2\",{\"x\":[2]}]],\"date\":1700000000123}";
  std::unique_ptr<ServerProcess> server = serveProject("persist", data.path());
  uint16_t port = server->waitForPort();
  ASSERT_NE(port, 0) << server->log();
  std::string alarmAt;
  {
    HttpConnection conn(port);
    EXPECT_EQ(conn.get("/write").body, "written");
    EXPECT_EQ(conn.get("/read").body, expectedValues);
    HttpResult set = conn.get("/alarm/set");
    ASSERT_EQ(set.status, 200) << set.body;
    alarmAt = set.body;
    EXPECT_EQ(conn.get("/alarm/status").body,
              "{\"at\":" + alarmAt + ",\"fired\":0,\"firedAt\":null,\"pending\":" + alarmAt + "}");
  }
  server->sendSignal(SIGTERM);
  ASSERT_EQ(server->waitForExit(), 0) << server->log();

  int64_t restartedAt = nowMs();
  ASSERT_LT(restartedAt, std::stoll(alarmAt)) << "the restart began after the alarm was due";
  std::string firstLog = server->log();
  server = serveProject("persist", data.path());
  port = server->waitForPort();
  ASSERT_NE(port, 0) << server->log();
  HttpConnection conn(port);
  EXPECT_EQ(conn.get("/read").body, expectedValues);
  // The alarm fires in the new process, once, no earlier than it was set for.
  std::string status;
  bool fired = eventually(
      [&] {
        status = conn.get("/alarm/status").body;
        return !contains(status, "\"fired\":0");
      },
      10s);
  ASSERT_TRUE(fired) << status << "\n" << firstLog << server->log();
  std::smatch m;
  ASSERT_TRUE(std::regex_match(
      status, m,
      std::regex("\\{\"at\":" + alarmAt + ",\"fired\":1,\"firedAt\":(\\d+),\"pending\":null\\}")))
      << status;
  int64_t firedAt = std::stoll(m[1].str());
  EXPECT_GE(firedAt, std::stoll(alarmAt));
  EXPECT_GE(firedAt, restartedAt);
  server->sendSignal(SIGTERM);
  EXPECT_EQ(server->waitForExit(), 0) << server->log();
}

// ---------------------------------------------------------------------------------------------
// 7. Eviction (project eviction/, idle_timeout_ms = 100).

TEST(JsEviction, AnIdleObjectLosesItsMemoryButNotItsStorage) {
  TempDir data;
  std::unique_ptr<ServerProcess> server = serveProject("eviction", data.path());
  uint16_t port = server->waitForPort();
  ASSERT_NE(port, 0) << server->log();
  HttpConnection conn(port);
  // Back to back, well inside the idle timeout: one instance.
  EXPECT_EQ(conn.get("/").body, "instance 1 hits 1 stored 1");
  EXPECT_EQ(conn.get("/").body, "instance 1 hits 2 stored 2");
  // Idle past the timeout, then ask; until a second instance answers (fresh in-memory state,
  // storage continuing), each answer must be the first instance continuing.
  int64_t hits = 2, stored = 2;
  bool evicted = false;
  auto deadline = Clock::now() + 10s;
  while (!evicted && Clock::now() < deadline) {
    std::this_thread::sleep_for(150ms);  // the idleness under test, longer than 100 ms
    std::string body = conn.get("/").body;
    ++stored;
    if (body == "instance 2 hits 1 stored " + std::to_string(stored)) {
      evicted = true;
    } else {
      ASSERT_EQ(body, "instance 1 hits " + std::to_string(++hits) + " stored " +
                          std::to_string(stored));
    }
  }
  ASSERT_TRUE(evicted) << server->log();
  EXPECT_EQ(conn.get("/").body, "instance 2 hits 2 stored " + std::to_string(stored + 1));
  server->sendSignal(SIGTERM);
  EXPECT_EQ(server->waitForExit(), 0) << server->log();
}

}  // namespace
}  // namespace duro::testing
