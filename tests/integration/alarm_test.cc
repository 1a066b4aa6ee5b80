// Alarm integration tests: a real duro-test-server process driven over HTTP through the ALARM
// probe class (tests/integration/test_server.cc). An alarm fires once and not before its time; a
// second setAlarm replaces the first and deleteAlarm cancels it; a throwing handler is retried
// with backoff and the alarm stays set until a run succeeds; alarms survive SIGKILL and a clean
// restart (overdue ones fire soon after start); 100,000 alarms within a few seconds all fire.
//
// Waits are conditions polled with `eventually`, except where the behaviour under test is time
// itself (an alarm must not fire early, or must not fire again): there the test waits for the
// wall clock to pass a point and asserts with margins.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"

namespace duro::testing {
namespace {

// Milliseconds since the epoch, the clock the server's alarms use.
int64_t nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Lets the wall clock reach `ms` since the epoch (for checks about time itself, not for sync).
void waitUntilMs(int64_t ms) {
  for (int64_t now = nowMs(); now < ms; now = nowMs()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min<int64_t>(ms - now, 50)));
  }
}

// One object's /alarm/<name>/status answer.
struct AlarmStatus {
  int fired = -1;       // successful runs; -1 if the answer could not be parsed
  std::string alarm;    // "none" or the scheduled time in ms since the epoch
  std::string raw;
};

// /alarmstats: lateness (run time - due time) of successful alarm runs since the server started.
struct AlarmStats {
  int64_t fired = -1;
  int64_t p50Ms = 0, p99Ms = 0, maxMs = 0;
  std::string raw;
};

int64_t jsonNumber(const std::string& body, const std::string& name) {
  size_t at = body.find("\"" + name + "\":");
  if (at == std::string::npos) return INT64_MIN;
  return std::strtoll(body.c_str() + at + name.size() + 3, nullptr, 10);
}

class AlarmTest : public ::testing::Test {
 protected:
  // Starts the test server on data_ with extra flags; fails the test if it does not come up.
  void start(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"--listen", "127.0.0.1:0", "--data", data_.path(),
                                     "--threads", "2", "--log-level", "info"};
    args.insert(args.end(), extra.begin(), extra.end());
    if (server_) priorLogs_ += server_->log();
    server_ = std::make_unique<ServerProcess>(DURO_TEST_SERVER, args);
    port_ = server_->waitForPort();
    ASSERT_NE(port_, 0) << server_->log();
  }
  void stop(int signal, int expectedExit) {
    server_->sendSignal(signal);
    ASSERT_EQ(server_->waitForExit(), expectedExit) << server_->log();
  }
  // On failure, the server logs (their first and last 10,000 characters: a scale test can log an
  // error per object).
  void TearDown() override {
    if (!server_ || !HasFailure()) return;
    std::string log = priorLogs_ + server_->log();
    if (log.size() > 20000) {
      log = log.substr(0, 10000) + "\n[... " + std::to_string(log.size() - 20000) +
            " characters ...]\n" + log.substr(log.size() - 10000);
    }
    std::cerr << "server log:\n" << log;
  }

  // Sets the alarm of /alarm/<name> with `query` ("in=300", "at=...", "in=300&fail=2"); returns
  // the scheduled time the object answered, or -1.
  int64_t set(const std::string& name, const std::string& query) {
    HttpResult r = get("/alarm/" + name + "/set?" + query);
    EXPECT_EQ(r.status, 200) << name << ": " << r.body;
    if (r.status != 200) return -1;
    return std::strtoll(r.body.c_str(), nullptr, 10);
  }
  AlarmStatus status(const std::string& name) { return statusOn(nullptr, name); }
  AlarmStatus statusOn(HttpConnection* conn, const std::string& name) {
    HttpResult r = conn ? conn->get("/alarm/" + name + "/status")
                        : get("/alarm/" + name + "/status");
    AlarmStatus s;
    s.raw = std::to_string(r.status) + " " + r.body;
    if (r.status != 200 || r.body.rfind("fired=", 0) != 0) return s;
    size_t space = r.body.find(" alarm=");
    if (space == std::string::npos) return s;
    s.fired = std::atoi(r.body.c_str() + 6);
    s.alarm = r.body.substr(space + 7);
    return s;
  }
  // True when the object's alarm ran successfully exactly once and no alarm is set.
  bool firedOnce(const std::string& name) {
    AlarmStatus s = status(name);
    return s.fired == 1 && s.alarm == "none";
  }
  AlarmStats alarmStats() {
    HttpResult r = get("/alarmstats");
    AlarmStats s;
    s.raw = r.body;
    if (r.status != 200) return s;
    s.fired = jsonNumber(r.body, "fired");
    s.p50Ms = jsonNumber(r.body, "p50Ms");
    s.p99Ms = jsonNumber(r.body, "p99Ms");
    s.maxMs = jsonNumber(r.body, "maxMs");
    return s;
  }
  int64_t statValue(const std::string& name) {
    return jsonNumber(get("/stats").body, name);
  }
  // One GET on a fresh connection, waiting up to timeout_ for the answer.
  HttpResult get(const std::string& target) {
    HttpConnection conn(port_, timeout_);
    return conn.get(target);
  }

  TempDir data_;
  std::unique_ptr<ServerProcess> server_;
  std::string priorLogs_;
  uint16_t port_ = 0;
  std::chrono::milliseconds timeout_ = 20s;
};

TEST_F(AlarmTest, AnAlarmFiresOnceAndNotBeforeItsTime) {
  start();
  int64_t due = set("a", "in=300");
  ASSERT_GT(due, 0);
  AlarmStatus s = status("a");
  EXPECT_EQ(s.fired, 0) << s.raw;
  EXPECT_EQ(s.alarm, std::to_string(due)) << s.raw;
  // Until shortly before its time it has not run (each status read is a fresh check).
  while (nowMs() < due - 30) {
    s = status("a");
    ASSERT_EQ(s.fired, 0) << "fired early: " << s.raw << " at due" << (nowMs() - due) << " ms";
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_TRUE(eventually([&] { return firedOnce("a"); }, 10s)) << status("a").raw;
  EXPECT_GE(nowMs(), due);
  AlarmStats st = alarmStats();
  EXPECT_EQ(st.fired, 1) << st.raw;
  EXPECT_GE(st.p50Ms, 0) << "the run started before its due time: " << st.raw;  // the one run
  EXPECT_LT(st.maxMs, 1000) << st.raw;
  EXPECT_EQ(statValue("alarmsFired"), 1);
  EXPECT_TRUE(eventually([&] { return statValue("alarmsPending") == 0; }));
  // It does not run again.
  waitUntilMs(nowMs() + 500);
  EXPECT_TRUE(firedOnce("a")) << status("a").raw;
  EXPECT_EQ(alarmStats().fired, 1);
}

TEST_F(AlarmTest, SettingAgainReplacesTheAlarm) {
  start();
  int64_t first = set("r", "in=2000");
  int64_t second = set("r", "in=300");
  ASSERT_GT(first, 0);
  ASSERT_GT(second, 0);
  AlarmStatus s = status("r");
  EXPECT_EQ(s.fired, 0) << s.raw;
  EXPECT_EQ(s.alarm, std::to_string(second)) << s.raw;
  // It fires around the second time, well before the first.
  ASSERT_TRUE(eventually([&] { return firedOnce("r"); }, 10s)) << status("r").raw;
  int64_t seen = nowMs();
  EXPECT_GE(seen, second);
  EXPECT_LT(seen, first - 500) << "fired at the replaced time, not the new one";
  // The replaced time passes without another run.
  waitUntilMs(first + 500);
  EXPECT_TRUE(firedOnce("r")) << status("r").raw;
  AlarmStats st = alarmStats();
  EXPECT_EQ(st.fired, 1) << st.raw;
  EXPECT_GE(st.p50Ms, 0) << st.raw;
  EXPECT_LT(st.maxMs, 1000) << st.raw;
  EXPECT_EQ(statValue("alarmsFired"), 1);
  EXPECT_EQ(statValue("alarmsPending"), 0);
}

TEST_F(AlarmTest, ADeletedAlarmDoesNotFire) {
  start();
  int64_t due = set("d", "in=300");
  ASSERT_GT(due, 0);
  HttpResult r = get("/alarm/d/delete");
  EXPECT_EQ(r.status, 200) << r.body;
  AlarmStatus s = status("d");
  EXPECT_EQ(s.fired, 0) << s.raw;
  EXPECT_EQ(s.alarm, "none") << s.raw;
  EXPECT_TRUE(eventually([&] { return statValue("alarmsPending") == 0; }));
  // A second after the deleted time it still has not run.
  waitUntilMs(due + 1000);
  s = status("d");
  EXPECT_EQ(s.fired, 0) << s.raw;
  EXPECT_EQ(s.alarm, "none") << s.raw;
  EXPECT_EQ(alarmStats().fired, 0);
  EXPECT_EQ(statValue("alarmsFired"), 0);
}

TEST_F(AlarmTest, AFailingHandlerIsRetriedWithBackoffUntilItSucceeds) {
  start();
  int64_t runs0 = statValue("alarmsFired");
  ASSERT_EQ(runs0, 0);
  // The first two runs throw: runs at about due, due + 2 s, due + 2 s + 4 s.
  int64_t due = set("f", "in=300&fail=2");
  ASSERT_GT(due, 0);
  auto runs = [&] { return statValue("alarmsFired") - runs0; };

  ASSERT_TRUE(eventually([&] { return runs() >= 1; }, 5s));
  int64_t firstRun = nowMs();
  AlarmStatus s = status("f");
  EXPECT_EQ(s.fired, 0) << s.raw;
  EXPECT_EQ(s.alarm, std::to_string(due)) << "the alarm must stay set while it is retried: " << s.raw;

  ASSERT_TRUE(eventually([&] { return runs() >= 2; }, 5s));
  int64_t secondRun = nowMs();
  EXPECT_GE(secondRun - firstRun, 2000 - 100) << "first retry came too soon";
  EXPECT_LE(secondRun - firstRun, 2000 + 1000);
  s = status("f");
  EXPECT_EQ(s.fired, 0) << s.raw;
  EXPECT_EQ(s.alarm, std::to_string(due)) << s.raw;

  ASSERT_TRUE(eventually([&] { return firedOnce("f"); }, 8s)) << status("f").raw;
  int64_t succeeded = nowMs();
  EXPECT_GE(succeeded - secondRun, 4000 - 100) << "second retry came too soon";
  EXPECT_LE(succeeded - secondRun, 4000 + 1000);
  EXPECT_EQ(runs(), 3);
  AlarmStats st = alarmStats();
  EXPECT_EQ(st.fired, 1) << st.raw;  // only successful runs are recorded
  EXPECT_GE(st.p50Ms, 6000 - 100) << st.raw;
  EXPECT_LT(st.p50Ms, 6000 + 2000) << st.raw;
  EXPECT_EQ(statValue("alarmsPending"), 0);
  EXPECT_NE(server_->log().find("alarm probe fails on purpose"), std::string::npos);
}

TEST_F(AlarmTest, AlarmsSurviveSigkillAndOverdueOnesFireSoonAfterStart) {
  start();
  int64_t pendingDue = set("pending", "in=3000");
  int64_t overdueDue = set("overdue", "in=300");
  ASSERT_GT(pendingDue, 0);
  ASSERT_GT(overdueDue, 0);
  AlarmStatus p = status("pending");
  AlarmStatus o = status("overdue");
  int64_t checked = nowMs();
  ASSERT_LT(checked, overdueDue) << "too slow to kill the server before the alarm";
  ASSERT_EQ(p.fired, 0) << p.raw;
  ASSERT_EQ(p.alarm, std::to_string(pendingDue)) << p.raw;
  ASSERT_EQ(o.fired, 0) << o.raw;
  ASSERT_EQ(o.alarm, std::to_string(overdueDue)) << o.raw;
  stop(SIGKILL, 128 + SIGKILL);
  int64_t killed = nowMs();
  ASSERT_LT(killed, overdueDue) << "the server was killed after the alarm's time";

  // While the server is down the first alarm's time passes.
  waitUntilMs(overdueDue + 700);
  start();
  int64_t started = nowMs();
  ASSERT_LT(started, pendingDue - 500) << "restart too slow to check the pending alarm's time";
  ASSERT_TRUE(eventually([&] { return firedOnce("overdue"); }, 10s)) << status("overdue").raw;
  EXPECT_LT(nowMs() - started, 2000) << "an overdue alarm should fire soon after start";

  // The pending one keeps its time: not before it, then once.
  while (nowMs() < pendingDue - 30) {
    p = status("pending");
    ASSERT_EQ(p.fired, 0) << "fired early: " << p.raw;
    ASSERT_EQ(p.alarm, std::to_string(pendingDue)) << p.raw;
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_TRUE(eventually([&] { return firedOnce("pending"); }, 10s)) << status("pending").raw;
  EXPECT_LT(nowMs() - pendingDue, 1000);

  // Exactly once each.
  waitUntilMs(nowMs() + 500);
  EXPECT_TRUE(firedOnce("overdue")) << status("overdue").raw;
  EXPECT_TRUE(firedOnce("pending")) << status("pending").raw;
  AlarmStats st = alarmStats();
  EXPECT_EQ(st.fired, 2) << st.raw;
  EXPECT_GE(st.p50Ms, 0) << st.raw;
  EXPECT_GE(st.maxMs, 700) << "the overdue alarm cannot have run before the restart: " << st.raw;
  EXPECT_EQ(statValue("alarmsFired"), 2);
  EXPECT_EQ(statValue("alarmsPending"), 0);
  stop(SIGTERM, 0);
}

TEST_F(AlarmTest, AlarmsSurviveACleanRestart) {
  start();
  int64_t due = set("clean", "in=1500");
  ASSERT_GT(due, 0);
  EXPECT_EQ(status("clean").fired, 0);
  stop(SIGTERM, 0);
  ASSERT_LT(nowMs(), due) << "the clean stop took longer than the alarm's delay";
  start();
  EXPECT_EQ(statValue("alarmsPending"), 1);
  AlarmStatus s = status("clean");
  if (nowMs() < due - 30) {
    EXPECT_EQ(s.fired, 0) << s.raw;
    EXPECT_EQ(s.alarm, std::to_string(due)) << s.raw;
  }
  ASSERT_TRUE(eventually([&] { return firedOnce("clean"); }, 10s)) << status("clean").raw;
  EXPECT_GE(nowMs(), due);
  AlarmStats st = alarmStats();
  EXPECT_EQ(st.fired, 1) << st.raw;
  EXPECT_GE(st.p50Ms, 0) << st.raw;
  EXPECT_LT(st.maxMs, 1000) << st.raw;
  // And a second clean restart after it fired brings nothing back.
  stop(SIGTERM, 0);
  start();
  EXPECT_EQ(statValue("alarmsPending"), 0);
  EXPECT_TRUE(firedOnce("clean")) << status("clean").raw;
  waitUntilMs(nowMs() + 300);
  EXPECT_EQ(alarmStats().fired, 0);
  stop(SIGTERM, 0);
}

// 100,000 objects, each with an alarm a few seconds ahead, set over 16 keep-alive connections.
// The due times are absolute (at=) and spread over a window meant to start kLeadMs after the last
// set: first kCalibration other new objects get alarms an hour ahead (they stay pending), the set
// rate is measured over the second half of them (the first few thousand new objects go faster:
// the shard's log absorbs a burst), and the window is placed from that rate with 25% headroom.
// If setting still turns out slower, the last alarms are set after their time and simply fire at
// once; the test only requires that every alarm fires exactly once.
//
// Slow: 100,000 new objects are created, and each is loaded again when its alarm runs (on the
// shared 2-core development machine the set rate varied from 450/s to 39,000/s as the storage
// code changed). Registered as its own ctest entry, integration_alarm_scale_test, with a longer
// timeout (tests/integration/CMakeLists.txt).
TEST_F(AlarmTest, AHundredThousandAlarmsAllFire) {
  constexpr int kObjects = 100000;
  constexpr int kCalibration = 10000;
  constexpr int kClients = 16;
  constexpr int64_t kLeadMs = 2000;
  constexpr int64_t kWindowMs = 5000;
  start({"--idle-timeout-ms", "1000"});
  auto name = [](int i) { return "many" + std::to_string(i); };
  // While a burst of alarms runs, the shards answer slowly: a long receive timeout.
  timeout_ = 120s;

  // Sets objects prefix<i>, i in [from, to), over kClients connections; dueOf(i) gives each
  // one's time.
  auto setRange = [&](const std::string& prefix, int from, int to, auto dueOf) {
    std::atomic<int> next{from};
    std::atomic<int> errors{0};
    std::vector<std::thread> clients;
    for (int c = 0; c < kClients; ++c) {
      clients.emplace_back([&] {
        HttpConnection conn(port_, 60s);
        for (int i = next++; i < to; i = next++) {
          std::string at = std::to_string(dueOf(i));
          HttpResult r = conn.get("/alarm/" + prefix + std::to_string(i) + "/set?at=" + at);
          if (r.status != 200 || r.body != at) {
            if (errors++ < 5) ADD_FAILURE() << prefix << i << ": " << r.status << " " << r.body;
            if (r.status == 0) return;
          }
        }
      });
    }
    for (auto& t : clients) t.join();
    return errors.load();
  };

  auto t0 = std::chrono::steady_clock::now();
  auto secondsSince = [](std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
  };
  int64_t far = nowMs() + 3600 * 1000;
  auto farAway = [&](int) { return far; };
  ASSERT_EQ(setRange("calibration", 0, kCalibration / 2, farAway), 0);
  auto timed = std::chrono::steady_clock::now();
  ASSERT_EQ(setRange("calibration", kCalibration / 2, kCalibration, farAway), 0);
  double msPerSet = secondsSince(timed) * 1000 / (kCalibration - kCalibration / 2);
  auto t1 = std::chrono::steady_clock::now();
  int64_t windowStart = nowMs() + static_cast<int64_t>(1.25 * msPerSet * kObjects) + kLeadMs;
  int64_t windowEnd = windowStart + kWindowMs;
  auto dueOf = [&](int i) { return windowStart + kWindowMs * i / kObjects; };
  ASSERT_EQ(setRange("many", 0, kObjects, dueOf), 0);
  int64_t setDone = nowMs();
  double setSeconds = secondsSince(t1);
  std::cerr << "set " << kObjects << " alarms in " << setSeconds << " s ("
            << static_cast<int>(kObjects / setSeconds) << "/s, calibration " << msPerSet
            << " ms per set); the window starts " << (windowStart - setDone)
            << " ms after the last set\n";

  // Every alarm has run (the probe records a run's lateness as its handler finishes) and none but
  // the calibration objects' is waiting, neither for its time nor for a retry.
  // Stops early when nothing is left to run but runs are missing (alarms lost).
  AlarmStats st;
  int64_t pending = -1;
  int64_t lastFired = -1, lastChangeMs = nowMs();
  eventually(
      [&] {
        st = alarmStats();
        pending = statValue("alarmsPending");
        if (st.fired >= kObjects && pending == kCalibration) return true;
        if (st.fired != lastFired) {
          lastFired = st.fired;
          lastChangeMs = nowMs();
        }
        if (pending == kCalibration && nowMs() > std::max(windowEnd, lastChangeMs) + 30000) {
          return true;  // nothing pending and no run for 30 s
        }
        std::this_thread::sleep_for(1s);
        return false;
      },
      std::chrono::milliseconds(std::max<int64_t>(windowEnd - nowMs(), 0)) + 180s);
  ASSERT_TRUE(st.fired >= kObjects && pending == kCalibration)
      << "runs recorded " << st.fired << " of " << kObjects << " (" << st.raw
      << "), alarmsPending=" << pending << " (" << kCalibration << " expected: the calibration "
      << "objects' alarms an hour ahead)";
  int64_t allFired = nowMs();
  std::cerr << "all fired " << (allFired - windowEnd) << " ms after the window's end (polled "
            << "every second); lateness " << st.raw << "; total " << secondsSince(t0) << " s\n";
  EXPECT_EQ(st.fired, kObjects) << "handlers ran more than once: " << st.raw;
  EXPECT_GE(st.p50Ms, 0) << st.raw;
  EXPECT_EQ(statValue("alarmsFired"), kObjects) << "runs that failed and were retried (see the log)";

  HttpConnection conn(port_, 120s);
  // About 1,000 objects: each ran exactly once, durably, and has no alarm left.
  int sampled = 0, wrong = 0;
  std::string examples;
  for (int i = 0; i < kObjects; i += 97, ++sampled) {
    AlarmStatus s = statusOn(&conn, name(i));
    if (s.fired == 1 && s.alarm == "none") continue;
    if (++wrong <= 5) examples += "\n  " + name(i) + ": " + s.raw;
  }
  EXPECT_EQ(wrong, 0) << "of " << sampled << " sampled objects, " << wrong
                      << " did not show fired=1 alarm=none, e.g." << examples;
  EXPECT_EQ(alarmStats().fired, st.fired) << "runs after everything had fired";
}

}  // namespace
}  // namespace duro::testing
