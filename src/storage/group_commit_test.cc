// Tests for GroupCommitter (group_commit.h): a real EventLoop on its own thread, real files.
#include "storage/group_commit.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "base/event_loop.h"
#include "storage/commit_log.h"

namespace duro::storage {
namespace {

std::string payloadFor(int i) {
  // Varying sizes, so that groups do not line up with anything.
  return "record-" + std::to_string(i) + "-" + std::string(static_cast<size_t>(i % 97), 'p');
}

std::string framed(const std::string& payload) {
  std::string out;
  EXPECT_TRUE(appendFramedRecord(out, payload).isOk());
  return out;
}

// Records the callbacks' order and statuses. Touched only on the loop thread; `done` is fulfilled
// there once `expected` callbacks ran.
struct Recorder {
  explicit Recorder(int n) : expected(n) {}
  std::function<void(const Status&)> callback(base::EventLoop& loop, int index) {
    return [this, &loop, index](const Status& status) {
      EXPECT_TRUE(loop.isCurrent());
      order.push_back(index);
      statuses.push_back(status);
      if (static_cast<int>(order.size()) == expected) done.set_value();
    };
  }
  void wait() { done.get_future().wait(); }

  int expected;
  std::vector<int> order;
  std::vector<Status> statuses;
  std::promise<void> done;
};

class GroupCommitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("duro-group-commit-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    thread_ = std::thread([this] { loop_.run(); });
  }
  void TearDown() override {
    loop_.stop();
    thread_.join();
    std::filesystem::remove_all(dir_);
  }

  GroupCommitOptions options() {
    GroupCommitOptions o;
    o.dir = dir_;
    o.shard = 3;
    o.firstGeneration = 7;
    return o;
  }

  // Runs `fn` as one handler on the loop and waits for it.
  void onLoop(const std::function<void()>& fn) {
    std::promise<void> ran;
    loop_.post([&] {
      fn();
      ran.set_value();
    });
    ran.get_future().wait();
  }

  // Every payload in every segment of `dir_`, in log order; expects no torn tails.
  std::vector<std::string> replayAll() {
    std::vector<std::string> out;
    auto segments = listSegments(dir_);
    EXPECT_TRUE(segments.isOk());
    for (const SegmentFile& f : *segments) {
      ReadStats stats;
      Status st = readSegment(
          f.path,
          [&](std::string_view p) {
            out.emplace_back(p);
            return Status::ok();
          },
          &stats);
      EXPECT_TRUE(st.isOk()) << st.toString();
      EXPECT_FALSE(stats.tornTail) << f.path << ": " << stats.tailReason;
    }
    return out;
  }

  std::filesystem::path dir_;
  base::EventLoop loop_;
  std::thread thread_;
};

TEST_F(GroupCommitTest, BurstsAreDurableInOrderWithFewSyncs) {
  constexpr int kBursts = 10;
  constexpr int kPerBurst = 100;
  constexpr int kTotal = kBursts * kPerBurst;
  GroupCommitter committer(loop_, options());
  ASSERT_TRUE(committer.start().isOk());
  EXPECT_EQ(committer.currentGeneration(), 7u);

  Recorder rec(kTotal);
  // Each burst is submitted from one loop handler; the next burst starts from the handler that
  // ran the previous burst's last callback.
  std::function<void(int)> burst = [&](int b) {
    for (int i = b * kPerBurst; i < (b + 1) * kPerBurst; ++i) {
      auto cb = rec.callback(loop_, i);
      bool last = i == (b + 1) * kPerBurst - 1;
      committer.submit(framed(payloadFor(i)), [&, cb, b, last](const Status& s) {
        cb(s);
        if (last && b + 1 < kBursts) burst(b + 1);
      });
    }
  };
  loop_.post([&] { burst(0); });
  rec.wait();

  ASSERT_EQ(rec.order.size(), static_cast<size_t>(kTotal));
  for (int i = 0; i < kTotal; ++i) {
    EXPECT_EQ(rec.order[i], i);
    EXPECT_TRUE(rec.statuses[i].isOk()) << rec.statuses[i].toString();
  }
  EXPECT_EQ(committer.submittedCount(), static_cast<uint64_t>(kTotal));
  // While one group syncs, the rest of its burst queues up: about 1-2 groups per burst.
  EXPECT_LE(committer.syncCount(), static_cast<uint64_t>(kTotal / 4));
  EXPECT_GE(committer.syncCount(), static_cast<uint64_t>(kBursts));
  EXPECT_EQ(committer.syncCount(), committer.groupCount());
  std::cout << "[ info     ] " << kTotal << " submissions, " << committer.syncCount()
            << " fdatasyncs\n";

  std::vector<std::string> expected;
  uint64_t bytes = 0;
  for (int i = 0; i < kTotal; ++i) {
    expected.push_back(payloadFor(i));
    bytes += kRecordHeaderBytes + expected.back().size();
  }
  EXPECT_EQ(committer.bytesWritten(), bytes);
  auto segments = listSegments(dir_);
  ASSERT_TRUE(segments.isOk());
  ASSERT_EQ(segments->size(), 1u);
  EXPECT_EQ((*segments)[0].shard, 3u);
  EXPECT_EQ((*segments)[0].generation, 7u);
  EXPECT_EQ(replayAll(), expected);
}

TEST_F(GroupCommitTest, SubmissionsWhilePausedBecomeOneGroup) {
  GroupCommitter committer(loop_, options());
  ASSERT_TRUE(committer.start().isOk());
  Recorder rec(1000);
  onLoop([&] { committer.setPausedForTest(true); });
  for (int handler = 0; handler < 10; ++handler) {
    onLoop([&, handler] {
      for (int i = handler * 100; i < (handler + 1) * 100; ++i) {
        committer.submit(framed(payloadFor(i)), rec.callback(loop_, i));
      }
    });
  }
  onLoop([&] {
    EXPECT_TRUE(rec.order.empty());
    committer.setPausedForTest(false);
  });
  rec.wait();
  EXPECT_EQ(committer.syncCount(), 1u);
  EXPECT_EQ(committer.groupCount(), 1u);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(rec.order[i], i);
  EXPECT_EQ(replayAll().size(), 1000u);
}

TEST_F(GroupCommitTest, RotationSplitsTheLogIntoSegmentsAndRetiresTheOldOnes) {
  GroupCommitOptions o = options();
  o.segmentBytes = 4096;
  GroupCommitter committer(loop_, o);
  ASSERT_TRUE(committer.start().isOk());

  constexpr int kHandlers = 30;
  std::vector<std::string> expected;
  // Each handler submits 10 records of ~520 bytes and waits until they are durable: every
  // handler's records leave the segment above segmentBytes at least once, so it rotates often.
  for (int handler = 0; handler < kHandlers; ++handler) {
    Recorder rec(10);
    onLoop([&, handler] {
      for (int i = handler * 10; i < (handler + 1) * 10; ++i) {
        std::string p = payloadFor(i) + std::string(450, 'r');
        expected.push_back(p);
        committer.submit(framed(p), rec.callback(loop_, i));
      }
    });
    rec.wait();
    for (const Status& s : rec.statuses) EXPECT_TRUE(s.isOk()) << s.toString();
  }
  // An empty submission is a barrier: the commit thread finishes a group's rotation before it
  // takes the next group, so once this one is durable every rotation so far has happened.
  std::promise<void> barrier;
  onLoop([&] {
    committer.submit("", [&](const Status& s) {
      EXPECT_TRUE(s.isOk());
      barrier.set_value();
    });
  });
  barrier.get_future().wait();

  std::vector<std::filesystem::path> retired;
  onLoop([&] { retired = committer.takeRetiredSegments(); });
  auto segments = listSegments(dir_);
  ASSERT_TRUE(segments.isOk());
  ASSERT_GE(segments->size(), static_cast<size_t>(kHandlers / 2));
  EXPECT_EQ(committer.currentGeneration(), segments->back().generation);
  ASSERT_EQ(retired.size(), segments->size() - 1);
  for (size_t i = 0; i < segments->size(); ++i) {
    EXPECT_EQ((*segments)[i].generation, 7 + i);
    if (i < retired.size()) EXPECT_EQ(retired[i], (*segments)[i].path);
  }
  onLoop([&] { EXPECT_TRUE(committer.takeRetiredSegments().empty()); });
  EXPECT_EQ(replayAll(), expected);
}

TEST_F(GroupCommitTest, InjectedWriteFailureFailsThatGroupAndEveryLaterOne) {
  GroupCommitter committer(loop_, options());
  ASSERT_TRUE(committer.start().isOk());

  Recorder first(1);
  onLoop([&] { committer.submit(framed("before"), first.callback(loop_, 0)); });
  first.wait();
  EXPECT_TRUE(first.statuses[0].isOk());

  Recorder failing(2);
  onLoop([&] {
    committer.failNextWriteForTest(Status::storage("injected"));
    committer.submit(framed("lost-1"), failing.callback(loop_, 1));
    committer.submit(framed("lost-2"), failing.callback(loop_, 2));
  });
  failing.wait();
  EXPECT_EQ(failing.order, (std::vector<int>{1, 2}));
  for (const Status& s : failing.statuses) {
    EXPECT_EQ(s.code(), StatusCode::kStorage);
    EXPECT_EQ(s.message(), "injected");
  }

  Recorder later(1);
  onLoop([&] { committer.submit(framed("lost-3"), later.callback(loop_, 3)); });
  later.wait();
  EXPECT_EQ(later.statuses[0].message(), "injected");

  EXPECT_EQ(replayAll(), std::vector<std::string>{"before"});
}

TEST_F(GroupCommitTest, DestructorSyncsPendingSubmissions) {
  auto committer = std::make_unique<GroupCommitter>(loop_, options());
  ASSERT_TRUE(committer->start().isOk());
  Recorder rec(50);
  std::vector<std::string> expected;
  onLoop([&] {
    committer->setPausedForTest(true);  // guarantees nothing is written before the destructor
    for (int i = 0; i < 50; ++i) {
      expected.push_back(payloadFor(i));
      committer->submit(framed(expected.back()), rec.callback(loop_, i));
    }
    committer.reset();               // on the loop thread, as a shard would at shutdown
    EXPECT_TRUE(rec.order.empty());  // the callbacks are posted, not run inline
  });
  rec.wait();
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(rec.order[i], i);
    EXPECT_TRUE(rec.statuses[i].isOk());
  }
  EXPECT_EQ(replayAll(), expected);
}

TEST_F(GroupCommitTest, LargeAndSmallSubmissionsInOneGroupKeepTheirOrder) {
  GroupCommitter committer(loop_, options());
  ASSERT_TRUE(committer.start().isOk());
  std::vector<std::string> expected = {"small-1",
                                       std::string(5u << 20, 'L'),
                                       "small-2",
                                       std::string(3u << 20, 'M'),
                                       std::string(2u << 20, 'N'),
                                       "small-3"};
  Recorder rec(static_cast<int>(expected.size()));
  onLoop([&] {
    committer.setPausedForTest(true);
    for (size_t i = 0; i < expected.size(); ++i) {
      committer.submit(framed(expected[i]), rec.callback(loop_, static_cast<int>(i)));
    }
    committer.setPausedForTest(false);
  });
  rec.wait();
  EXPECT_EQ(committer.syncCount(), 1u);
  EXPECT_EQ(replayAll(), expected);
}

TEST_F(GroupCommitTest, StartFailsWhenTheFirstSegmentExists) {
  std::filesystem::create_directories(dir_);
  { std::ofstream(dir_ / segmentFileName(3, 7)); }
  GroupCommitter committer(loop_, options());
  Status st = committer.start();
  EXPECT_EQ(st.code(), StatusCode::kStorage);
  // Submissions to a committer that never started fail instead of hanging.
  Recorder rec(1);
  onLoop([&] { committer.submit(framed("x"), rec.callback(loop_, 0)); });
  rec.wait();
  EXPECT_EQ(rec.statuses[0].code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace duro::storage
