// Clock: wall-clock time in milliseconds since the Unix epoch, as alarms use it. SystemClock reads
// the real clock; ManualClock is moved by tests, which then need no real sleeps. Listeners hear
// about every manual move (the alarm scheduler re-checks what is due). Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <vector>

namespace duro::base {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t nowMs() const = 0;
  // Called (on the mover's thread) whenever the clock jumps; a real clock never calls it.
  virtual void addListener(std::function<void()> onJump) {}
};

class SystemClock final : public Clock {
 public:
  int64_t nowMs() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  static SystemClock& instance() {
    static SystemClock clock;
    return clock;
  }
};

class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t startMs) : now_(startMs) {}
  int64_t nowMs() const override { return now_.load(); }
  void addListener(std::function<void()> onJump) override {
    std::lock_guard lock(mu_);
    listeners_.push_back(std::move(onJump));
  }
  void advance(std::chrono::milliseconds by) {
    now_ += by.count();
    std::vector<std::function<void()>> listeners;
    {
      std::lock_guard lock(mu_);
      listeners = listeners_;
    }
    for (auto& l : listeners) l();
  }

 private:
  std::atomic<int64_t> now_;
  std::mutex mu_;
  std::vector<std::function<void()>> listeners_;
};

}  // namespace duro::base
