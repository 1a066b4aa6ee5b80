// EventLoop: one thread's event loop (an Asio io_context run by exactly one thread). Shards, HTTP
// connections and timers all run on an EventLoop; work reaches another thread's loop only through
// post(), which is the one thread-safe entry point.
//
// Asio's io_context is the event loop throughout duro (see docs/architecture.md); Beast types stay
// in src/net. Contract: everything except post() and stop() must be called on the loop's thread.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

namespace duro::base {

class EventLoop {
 public:
  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Queues `fn` to run on this loop's thread. Thread-safe; FIFO among posts from one thread.
  template <typename Fn>
  void post(Fn&& fn) {
    boost::asio::post(io_, std::forward<Fn>(fn));
  }

  // Runs the loop on the calling thread until stop(). Sets current() for that thread.
  void run();
  // Makes run() return once the current handler finishes. Thread-safe.
  void stop();

  // The loop running on the calling thread, or nullptr off any loop thread.
  static EventLoop* current() noexcept;
  bool isCurrent() const noexcept { return current() == this; }

  boost::asio::io_context& io() noexcept { return io_; }

 private:
  boost::asio::io_context io_{1};  // concurrency hint 1: one thread runs it
  std::unique_ptr<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
};

// A cancellable one-shot timer on an EventLoop. Destroying it cancels it. Loop thread only.
class Timer {
 public:
  explicit Timer(EventLoop& loop) : timer_(loop.io()) {}
  // (Re)arms the timer; `fn` runs on the loop after `delay` unless cancelled first.
  void start(std::chrono::nanoseconds delay, std::function<void()> fn);
  void cancel() { timer_.cancel(); }

 private:
  boost::asio::steady_timer timer_;
};

}  // namespace duro::base
