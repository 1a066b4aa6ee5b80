// InputGate: decides when the next event may be delivered to an object. While the gate is locked
// (a storage operation is outstanding, or blockConcurrencyWhile is running) queued events wait.
// Locks are counted, so several holders may lock it at once; the gate reopens when the last lock is
// released and then calls the host's onOpen hook so delivery resumes. One per object; call only on
// the object's shard.
#pragma once

#include <cstddef>
#include <functional>
#include <utility>

namespace duro::runtime {

class InputGate {
 public:
  // `onOpen` runs each time the last lock is released.
  explicit InputGate(std::function<void()> onOpen) : onOpen_(std::move(onOpen)) {}
  InputGate(const InputGate&) = delete;
  InputGate& operator=(const InputGate&) = delete;

  // RAII: locked while alive. Movable; release() unlocks early.
  class Lock {
   public:
    Lock() = default;
    explicit Lock(InputGate* gate) : gate_(gate) { ++gate_->locks_; }
    Lock(Lock&& other) noexcept : gate_(std::exchange(other.gate_, nullptr)) {}
    Lock& operator=(Lock&& other) noexcept {
      if (this != &other) {
        release();
        gate_ = std::exchange(other.gate_, nullptr);
      }
      return *this;
    }
    ~Lock() { release(); }
    void release() {
      if (InputGate* g = std::exchange(gate_, nullptr)) g->unlockOne();
    }

   private:
    InputGate* gate_ = nullptr;
  };

  Lock lock() { return Lock(this); }
  bool isOpen() const noexcept { return locks_ == 0; }
  size_t lockCount() const noexcept { return locks_; }

 private:
  void unlockOne() {
    if (--locks_ == 0 && onOpen_) onOpen_();
  }

  size_t locks_ = 0;
  std::function<void()> onOpen_;
};

}  // namespace duro::runtime
