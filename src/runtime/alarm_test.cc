// Tests for alarms in the runtime, driven by a ManualClock: firing time and order, replace and
// delete, a time in the past, retries with their counts and backoff, exhausted retries, a handler
// that sets the next alarm and writes storage, deleteAll. After moving the clock, a fetch to the
// object is the synchronization point: the scheduler's check is posted to the object's shard
// before the fetch, so any alarm that became due runs before the fetch is answered.
#include <gtest/gtest.h>

#include <mutex>
#include <vector>

#include "base/clock.h"
#include "runtime/runtime_test_harness.h"

namespace duro::runtime {
namespace {

using testing::RuntimeHarness;
constexpr int64_t kT0 = 1'800'000'000'000;

struct AlarmRun {
  std::string object;
  int retryCount;
  bool isRetry;
  int64_t atMs;
  bool alarmVisibleInside;
};

std::mutex gMu;
std::vector<AlarmRun> gRuns;
base::ManualClock* gClock = nullptr;

std::vector<AlarmRun> runs() {
  std::lock_guard lock(gMu);
  return gRuns;
}

class AlarmObject final : public DurableObject {
 public:
  AlarmObject(ObjectState& state, Env&) : state_(state), storage_(state.storage()) {}

  Task<Response> fetch(Request request) override {
    std::string_view path = request.path();
    auto param = [&](std::string_view name) {
      return std::string(request.queryParam(name).value_or("0"));
    };
    if (path == "/set") storage_.setAlarm(kT0 + std::stoll(param("at")));
    if (path == "/delete") storage_.deleteAlarm();
    if (path == "/fail") storage_.put("fail", param("n"));
    if (path == "/again") storage_.put("again", "1");
    if (path == "/deleteAll") co_await storage_.deleteAll();
    std::optional<int64_t> alarm = co_await storage_.getAlarm();
    std::optional<std::string> count = co_await storage_.get("runs");
    co_return Response::text("alarm=" + (alarm ? std::to_string(*alarm - kT0) : "none") +
                             " runs=" + count.value_or("0"));
  }

  Task<void> alarm(AlarmInfo info) override {
    std::optional<int64_t> inside = co_await storage_.getAlarm();
    {
      std::lock_guard lock(gMu);
      gRuns.push_back(AlarmRun{*state_.id().name(), info.retryCount, info.isRetry,
                          gClock->nowMs() - kT0, inside.has_value()});
    }
    std::optional<std::string> fail = co_await storage_.get("fail");
    if (fail && info.retryCount < std::stoi(*fail)) throw std::runtime_error("failing on purpose");
    std::optional<std::string> count = co_await storage_.get("runs");
    storage_.put("runs", std::to_string((count ? std::stoi(*count) : 0) + 1));
    if (co_await storage_.get("again")) {
      co_await storage_.delete_("again");
      storage_.setAlarm(gClock->nowMs() + 1000);
    }
  }

 private:
  ObjectState& state_;
  Storage& storage_;
};

class AlarmTest : public ::testing::Test {
 protected:
  void SetUp() override {
    {
      std::lock_guard lock(gMu);
      gRuns.clear();
    }
    gClock = &clock_;
    rt_.start({.threads = 2, .clock = &clock_}, [](ObjectState& s, Env& e) {
      return std::make_unique<AlarmObject>(s, e);
    });
  }
  void TearDown() override { gClock = nullptr; }

  void advance(int64_t ms) { clock_.advance(std::chrono::milliseconds(ms)); }
  std::vector<std::string> runOrder() {
    std::vector<std::string> out;
    for (const AlarmRun& r : runs()) out.push_back(r.object);
    return out;
  }

  base::ManualClock clock_{kT0};
  RuntimeHarness rt_;
};

using Names = std::vector<std::string>;

TEST_F(AlarmTest, AlarmsFireAtTheirTimeInOrder) {
  EXPECT_EQ(rt_.call("a", "/set?at=300"), "alarm=300 runs=0");
  EXPECT_EQ(rt_.call("b", "/set?at=100"), "alarm=100 runs=0");
  EXPECT_EQ(rt_.call("c", "/set?at=200"), "alarm=200 runs=0");
  advance(99);
  EXPECT_EQ(rt_.call("b", "/"), "alarm=100 runs=0");
  EXPECT_TRUE(runs().empty());
  advance(51);  // T+150
  EXPECT_EQ(rt_.call("b", "/"), "alarm=none runs=1");
  EXPECT_EQ(runOrder(), Names{"b"});
  advance(100);  // T+250
  EXPECT_EQ(rt_.call("c", "/"), "alarm=none runs=1");
  EXPECT_EQ(rt_.call("a", "/"), "alarm=300 runs=0");
  advance(50);  // T+300
  EXPECT_EQ(rt_.call("a", "/"), "alarm=none runs=1");
  EXPECT_EQ(runOrder(), (Names{"b", "c", "a"}));
  for (const AlarmRun& r : runs()) {
    EXPECT_EQ(r.retryCount, 0);
    EXPECT_FALSE(r.isRetry);
    EXPECT_FALSE(r.alarmVisibleInside);  // getAlarm() is empty inside the handler
  }
  EXPECT_EQ(rt_.runtime().stats().alarmsPending, 0u);
}

TEST_F(AlarmTest, SettingReplacesAndDeleteCancels) {
  rt_.call("r", "/set?at=100");
  EXPECT_EQ(rt_.call("r", "/set?at=500"), "alarm=500 runs=0");
  advance(200);
  EXPECT_EQ(rt_.call("r", "/"), "alarm=500 runs=0");
  advance(300);
  EXPECT_EQ(rt_.call("r", "/"), "alarm=none runs=1");

  rt_.call("d", "/set?at=1000");
  EXPECT_EQ(rt_.call("d", "/delete"), "alarm=none runs=0");
  advance(2000);
  EXPECT_EQ(rt_.call("d", "/"), "alarm=none runs=0");
  EXPECT_EQ(runOrder(), Names{"r"});
}

TEST_F(AlarmTest, ATimeInThePastFiresAtOnce) {
  rt_.call("past", "/set?at=-5000");
  ASSERT_TRUE(RuntimeHarness::eventually([&] { return runs().size() == 1; }));
  EXPECT_EQ(rt_.call("past", "/"), "alarm=none runs=1");
}

TEST_F(AlarmTest, AThrowingHandlerIsRetriedWithBackoff) {
  rt_.call("flaky", "/fail?n=2");
  rt_.call("flaky", "/set?at=10");
  advance(10);
  EXPECT_EQ(rt_.call("flaky", "/"), "alarm=10 runs=0");  // ran and threw; the alarm stays
  advance(1999);
  EXPECT_EQ(rt_.call("flaky", "/"), "alarm=10 runs=0");
  EXPECT_EQ(runs().size(), 1u);
  advance(1);  // 2 s after the failure
  EXPECT_EQ(rt_.call("flaky", "/"), "alarm=10 runs=0");
  advance(3999);
  EXPECT_EQ(runs().size(), 2u);
  advance(1);  // 4 s after the second failure
  EXPECT_EQ(rt_.call("flaky", "/"), "alarm=none runs=1");
  std::vector<AlarmRun> r = runs();
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].retryCount, 0);
  EXPECT_FALSE(r[0].isRetry);
  EXPECT_EQ(r[1].retryCount, 1);
  EXPECT_TRUE(r[1].isRetry);
  EXPECT_EQ(r[1].atMs - r[0].atMs, 2000);
  EXPECT_EQ(r[2].retryCount, 2);
  EXPECT_EQ(r[2].atMs - r[1].atMs, 4000);
}

TEST_F(AlarmTest, AfterSixFailedRetriesTheAlarmIsDeleted) {
  rt_.call("doomed", "/fail?n=100");
  rt_.call("doomed", "/set?at=0");
  ASSERT_TRUE(RuntimeHarness::eventually([&] { return runs().size() == 1; }));
  rt_.call("doomed", "/");  // the failed run has finished (and scheduled its retry)
  for (int64_t backoff : {2000, 4000, 8000, 16000, 32000, 64000}) {
    size_t before = runs().size();
    advance(backoff);
    rt_.call("doomed", "/");
    EXPECT_EQ(runs().size(), before + 1) << "backoff " << backoff;
  }
  EXPECT_EQ(rt_.call("doomed", "/"), "alarm=none runs=0");
  advance(1'000'000);
  rt_.call("doomed", "/");
  EXPECT_EQ(runs().size(), 7u);
  EXPECT_EQ(runs().back().retryCount, 6);
}

TEST_F(AlarmTest, AHandlerCanScheduleTheNextRun) {
  rt_.call("periodic", "/again");
  rt_.call("periodic", "/set?at=100");
  advance(100);
  // The handler set a new alarm 1 s after it ran, so the alarm is not cleared.
  EXPECT_EQ(rt_.call("periodic", "/"), "alarm=1100 runs=1");
  advance(1000);
  EXPECT_EQ(rt_.call("periodic", "/"), "alarm=none runs=2");
}

TEST_F(AlarmTest, DeleteAllDeletesTheAlarm) {
  rt_.call("wipe", "/set?at=100");
  EXPECT_EQ(rt_.call("wipe", "/deleteAll"), "alarm=none runs=0");
  advance(1000);
  EXPECT_EQ(rt_.call("wipe", "/"), "alarm=none runs=0");
  EXPECT_TRUE(runs().empty());
}

}  // namespace
}  // namespace duro::runtime
