// GroupCommitter: a shard's commit thread. The shard's event loop hands it framed commit-log
// records; the thread appends them to the shard's current segment (commit_log.h) and makes whole
// groups durable with one fdatasync, then posts each submission's callback back to the loop.
//
// Contract:
//   - One GroupCommitter per shard, owned by the shard. submit(), takeRetiredSegments() and
//     setPausedForTest() are called only on the shard's loop thread; the counters and
//     failNextWriteForTest() from any thread. The loop thread never waits for I/O: it only holds a
//     mutex long enough to push onto a vector.
//   - Callbacks run on the loop, in submission order, exactly once each (as long as the loop runs
//     them: they are posted with EventLoop::post, and capture nothing of the committer).
//   - Errors: a failed write, sync or segment rotation is reported as that Status to the failed
//     group's callbacks and to every later one. The log is then unusable (the shard must stop
//     acknowledging commits); nothing is retried (a failed fdatasync proves nothing on retry).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/event_loop.h"
#include "duro/status.h"
#include "storage/commit_log.h"

namespace duro::storage {

struct GroupCommitOptions {
  // Where segments live; created (with parents) by start() if missing.
  std::filesystem::path dir;
  uint32_t shard = 0;
  // Generation of the first segment this process writes; must be above every generation already
  // in `dir` for this shard (the segment is created O_EXCL).
  uint64_t firstGeneration = 1;
  // Rotate to a new segment (next generation) after a group leaves the current one above this.
  uint64_t segmentBytes = 64u << 20;
  // SegmentWriterOptions::zeroAheadBytes for every segment (0 = plain appends).
  uint64_t zeroAheadBytes = SegmentWriterOptions{}.zeroAheadBytes;
};

class GroupCommitter {
 public:
  // `loop` is the shard's loop: every callback is posted to it. It must outlive this object.
  GroupCommitter(base::EventLoop& loop, GroupCommitOptions options);
  // Writes and syncs everything submitted so far (their callbacks are posted as usual), then joins
  // the commit thread. Blocks on that I/O: call it at shard shutdown only.
  ~GroupCommitter();
  GroupCommitter(const GroupCommitter&) = delete;
  GroupCommitter& operator=(const GroupCommitter&) = delete;

  // Creates the directory and the first segment, then starts the commit thread. Call once, before
  // submit(). kStorage if the directory or segment cannot be created.
  Status start();

  // Loop thread only; after a successful start(). Queues `framedRecords` (one or more records
  // framed with appendFramedRecord) for the next group. `onDurable(status)` is posted to the loop
  // once those bytes are written and fdatasync'd (OK), or once writing them failed (the error).
  // Never blocks on I/O.
  void submit(std::string framedRecords, std::function<void(const Status&)> onDurable);

  // Loop thread only. Segments, oldest first, that were completely written and synced and are no
  // longer written (a rotation happened after them). The caller deletes each once its content is
  // durable elsewhere. Each path is returned once.
  std::vector<std::filesystem::path> takeRetiredSegments();

  // Counters for tests and benchmarks; any thread.
  uint64_t syncCount() const noexcept { return syncs_.load(std::memory_order_relaxed); }
  uint64_t groupCount() const noexcept { return groups_.load(std::memory_order_relaxed); }
  uint64_t submittedCount() const noexcept { return submitted_.load(std::memory_order_relaxed); }
  uint64_t bytesWritten() const noexcept { return bytesWritten_.load(std::memory_order_relaxed); }
  // Generation of the segment currently being written.
  uint64_t currentGeneration() const noexcept {
    return currentGeneration_.load(std::memory_order_relaxed);
  }

  // Fault injection: the next group the commit thread takes fails with `s` instead of being
  // written (and so does everything after it).
  void failNextWriteForTest(Status s);
  // While paused the commit thread takes no new group, so submissions accumulate into one group.
  // The destructor overrides a pause. Loop thread only.
  void setPausedForTest(bool paused);

 private:
  struct Submission {
    std::string bytes;
    std::function<void(const Status&)> onDurable;
  };

  void run() noexcept;
  Status writeGroup(std::vector<Submission>& group);
  Status rotate();
  // Posts one loop handler that runs the callbacks in order; a callback that throws is logged.
  void postCallbacks(std::vector<Submission> group, const Status& status);
  void postCallbacks(std::vector<std::function<void(const Status&)>> callbacks,
                     const Status& status);
  bool checkInvariants() const;

  base::EventLoop& loop_;
  const GroupCommitOptions options_;

  // Shared between the loop and the commit thread.
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Submission> queue_;               // guarded by mu_
  std::vector<std::filesystem::path> retired_;  // guarded by mu_
  Status injectedFailure_;                      // guarded by mu_
  bool stopping_ = false;                       // guarded by mu_
  bool paused_ = false;                         // guarded by mu_

  // Commit thread only (and start(), before the thread exists).
  std::unique_ptr<SegmentWriter> writer_;
  Status failed_;            // first failure; every later group gets it
  std::string groupBuffer_;  // coalesces a group's submissions into few write() calls

  std::atomic<uint64_t> syncs_{0};
  std::atomic<uint64_t> groups_{0};
  std::atomic<uint64_t> submitted_{0};
  std::atomic<uint64_t> bytesWritten_{0};
  std::atomic<uint64_t> currentGeneration_{0};

  std::thread thread_;
};

}  // namespace duro::storage
