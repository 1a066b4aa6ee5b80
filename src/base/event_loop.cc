// Implementation of EventLoop and Timer (event_loop.h).
#include "base/event_loop.h"

namespace duro::base {

namespace {
thread_local EventLoop* tCurrentLoop = nullptr;
}

EventLoop::EventLoop()
    : work_(std::make_unique<boost::asio::executor_work_guard<
                boost::asio::io_context::executor_type>>(io_.get_executor())) {}

EventLoop::~EventLoop() = default;

void EventLoop::run() {
  EventLoop* previous = tCurrentLoop;
  tCurrentLoop = this;
  io_.run();
  tCurrentLoop = previous;
}

void EventLoop::stop() { io_.stop(); }

EventLoop* EventLoop::current() noexcept { return tCurrentLoop; }

void Timer::start(std::chrono::nanoseconds delay, std::function<void()> fn) {
  timer_.expires_after(delay);
  timer_.async_wait([fn = std::move(fn)](const boost::system::error_code& ec) {
    if (!ec) fn();
  });
}

}  // namespace duro::base
