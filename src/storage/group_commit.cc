// Implementation of GroupCommitter (group_commit.h).
//
// ## Design notes
//
// Two threads share a mutex-guarded queue. The shard's loop thread pushes submissions (submit());
// the commit thread swaps the whole queue out, writes it as one group and makes it durable with one
// fdatasync, then posts the group's callbacks back to the loop. While a group is being written and
// synced, new submissions pile up in the queue and become the next group: under load the number of
// fdatasyncs follows the disk's sync rate, not the commit rate.
//
// Commit thread states (run()):
//
//   start() ──> Waiting ──(queue non-empty and not paused, or stopping)──> take group
//                  ^                                                          │
//                  │                                 failed_ set? ──yes───────┤
//                  │                                      │ no                │
//                  │                               writeGroup(): write + fdatasync
//                  │                                      │  (error -> failed_)
//                  │                                      v                   │
//                  │                         postCallbacks(group, OK or failed_) <──┘
//                  │                                      │
//                  └──── rotate() if segment > segmentBytes (error -> failed_)
//
//   Waiting ──(stopping_ and queue empty)──> exit; ~GroupCommitter() joins.
//
// Invariants:
//   1. After start(), only the commit thread touches writer_, failed_ and groupBuffer_.
//   2. Groups are taken from queue_ in FIFO order and posted in the order taken; EventLoop::post is
//      FIFO for one posting thread, so callbacks run in submission order.
//   3. A group is posted with OK only after all its bytes were written and fdatasync returned OK.
//      Group k+1 is not written before group k's fdatasync returned, so after a crash everything
//      past the first invalid record was never acknowledged (commit_log.h relies on this).
//   4. failed_ never goes back to OK; every group taken after it is posted with it, untouched.
//   5. A path enters retired_ only after its last group's fdatasync returned OK and writer_ moved
//      on to the next generation.
//   6. The loop thread holds mu_ only to push or swap; no I/O happens under mu_.
//   7. The commit thread exits only when stopping_ is set and queue_ is empty, so everything
//      submitted before the destructor ran is written (or failed) and posted.
#include "storage/group_commit.h"

#include <pthread.h>

#include <cassert>
#include <exception>
#include <system_error>
#include <utility>

#include "base/log.h"

namespace duro::storage {

namespace {
// Submissions smaller than this are copied into one buffer per group (fewer write() calls);
// larger ones are written straight from the caller's string.
constexpr size_t kCoalesceBytes = 4u << 20;
}  // namespace

GroupCommitter::GroupCommitter(base::EventLoop& loop, GroupCommitOptions options)
    : loop_(loop), options_(std::move(options)) {}

GroupCommitter::~GroupCommitter() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Status GroupCommitter::start() {
  assert(!thread_.joinable() && "GroupCommitter::start() called twice");
  std::error_code ec;
  std::filesystem::create_directories(options_.dir, ec);
  if (ec) {
    return Status::storage("create directory " + options_.dir.string() + ": " + ec.message());
  }
  auto writer =
      SegmentWriter::create(options_.dir, options_.shard, options_.firstGeneration,
                            SegmentWriterOptions{.zeroAheadBytes = options_.zeroAheadBytes});
  if (!writer) return writer.status();
  writer_ = std::move(writer).value();
  currentGeneration_.store(options_.firstGeneration, std::memory_order_relaxed);
  thread_ = std::thread([this] { run(); });
  return Status::ok();
}

void GroupCommitter::submit(std::string framedRecords,
                            std::function<void(const Status&)> onDurable) {
  assert(loop_.isCurrent());
  submitted_.fetch_add(1, std::memory_order_relaxed);
  if (!thread_.joinable()) {
    // Not started (or start() failed): nothing will ever write this. Every submission takes this
    // path, so order is still submission order.
    std::vector<std::function<void(const Status&)>> callbacks;
    callbacks.push_back(std::move(onDurable));
    postCallbacks(std::move(callbacks), Status::unavailable("the commit log is not running"));
    return;
  }
  bool wake;
  {
    std::lock_guard<std::mutex> lock(mu_);
    // The commit thread only waits while the queue is empty, so only the first push needs a wake.
    wake = queue_.empty();
    queue_.push_back(Submission{std::move(framedRecords), std::move(onDurable)});
  }
  if (wake) cv_.notify_one();
}

std::vector<std::filesystem::path> GroupCommitter::takeRetiredSegments() {
  std::vector<std::filesystem::path> out;
  std::lock_guard<std::mutex> lock(mu_);
  out.swap(retired_);
  return out;
}

void GroupCommitter::failNextWriteForTest(Status s) {
  std::lock_guard<std::mutex> lock(mu_);
  injectedFailure_ = std::move(s);
}

void GroupCommitter::setPausedForTest(bool paused) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    paused_ = paused;
  }
  cv_.notify_one();
}

void GroupCommitter::run() noexcept {
  std::string name = "duro-commit-" + std::to_string(options_.shard);
  name.resize(std::min<size_t>(name.size(), 15));  // the kernel's limit
  pthread_setname_np(pthread_self(), name.c_str());

  std::vector<Submission> group;
  for (;;) {
    Status injected;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || (!paused_ && !queue_.empty()); });
      if (queue_.empty()) break;  // stopping, and everything submitted has been handled
      group.swap(queue_);         // `group` is empty here; queue_ reuses its capacity
      injected = std::exchange(injectedFailure_, Status());
    }
    if (failed_.isOk() && !injected.isOk()) failed_ = injected;
    if (failed_.isOk()) {
      Status st = writeGroup(group);
      if (!st) failed_ = std::move(st);
    }
    postCallbacks(std::move(group), failed_);
    group.clear();
    if (failed_.isOk() && writer_->size() > options_.segmentBytes) {
      Status st = rotate();
      if (!st) failed_ = std::move(st);
    }
    assert(checkInvariants());
  }
}

Status GroupCommitter::writeGroup(std::vector<Submission>& group) {
  groupBuffer_.clear();
  uint64_t total = 0;
  auto flush = [&]() -> Status {
    if (groupBuffer_.empty()) return Status::ok();
    Status st = writer_->write(groupBuffer_);
    groupBuffer_.clear();
    return st;
  };
  for (const Submission& s : group) {
    total += s.bytes.size();
    if (s.bytes.size() >= kCoalesceBytes) {
      Status st = flush();
      if (st) st = writer_->write(s.bytes);
      if (!st) return st;
      continue;
    }
    if (groupBuffer_.size() + s.bytes.size() > kCoalesceBytes) {
      Status st = flush();
      if (!st) return st;
    }
    groupBuffer_.append(s.bytes);
  }
  Status st = flush();
  if (!st) return st;
  groups_.fetch_add(1, std::memory_order_relaxed);
  // Nothing new to sync (only empty submissions): every earlier byte is already durable (3).
  if (total == 0) return Status::ok();
  syncs_.fetch_add(1, std::memory_order_relaxed);
  st = writer_->sync();
  if (!st) return st;
  bytesWritten_.fetch_add(total, std::memory_order_relaxed);
  return Status::ok();
}

Status GroupCommitter::rotate() {
  auto next =
      SegmentWriter::create(options_.dir, options_.shard, writer_->generation() + 1,
                            SegmentWriterOptions{.zeroAheadBytes = options_.zeroAheadBytes});
  if (!next) return next.status();
  std::filesystem::path old = writer_->path();
  writer_ = std::move(next).value();
  currentGeneration_.store(writer_->generation(), std::memory_order_relaxed);
  std::lock_guard<std::mutex> lock(mu_);
  retired_.push_back(std::move(old));
  return Status::ok();
}

void GroupCommitter::postCallbacks(std::vector<Submission> group, const Status& status) {
  if (group.empty()) return;
  // Free the record bytes here, on the commit thread; only the callbacks travel to the loop.
  std::vector<std::function<void(const Status&)>> callbacks;
  callbacks.reserve(group.size());
  for (Submission& s : group) callbacks.push_back(std::move(s.onDurable));
  group.clear();
  postCallbacks(std::move(callbacks), status);
}

void GroupCommitter::postCallbacks(std::vector<std::function<void(const Status&)>> callbacks,
                                   const Status& status) {
  loop_.post([callbacks = std::move(callbacks), status]() noexcept {
    for (const auto& cb : callbacks) {
      try {
        cb(status);
      } catch (const std::exception& e) {
        base::logError("group_commit", std::string("onDurable callback threw: ") + e.what());
      } catch (...) {
        base::logError("group_commit", "onDurable callback threw a non-std exception");
      }
    }
  });
}

bool GroupCommitter::checkInvariants() const {
  // (1) The writer exists while the log is usable, and its generation is the advertised one.
  if (failed_.isOk() && writer_ == nullptr) return false;
  if (writer_ && writer_->generation() != currentGeneration_.load(std::memory_order_relaxed)) {
    return false;
  }
  // (5) The current segment is never in the retired list.
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& p : retired_) {
    if (writer_ && p == writer_->path()) return false;
  }
  return true;
}

}  // namespace duro::storage
