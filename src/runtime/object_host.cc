// Implementation of ObjectHost (object_host.h).
//
// NOTES ON EVENT DELIVERY
//  1. Events for one object are started in arrival order. An event starts only while the input gate
//     is open; a started event runs until it finishes or suspends, and only then may the next one
//     start (interleaving happens at real suspension points, never inside synchronous code).
//  2. At most maxQueuedEventsPerObject events wait in the queue; one more is failed at once as
//     overloaded (nothing else about the object changes).
//  3. The instance is constructed lazily by pump() right before the first event that needs it. If
//     the constructor locked the input gate (blockConcurrencyWhile), delivery waits for it.
//  4. A running event holds a reference to the instance it started on, so reset() can drop the
//     instance at any time without freeing memory under a running handler.
//  5. The host is idle (evictable) only with nothing queued, running, gated, held at the output gate
//     or pending in waitUntil. Only the shard evicts, and only idle hosts; so no coroutine of this
//     host is ever suspended when the host is destroyed (except at process shutdown).
//  6. An event of a hibernatable WebSocket runs under the event timeout, if one is set when it
//     starts (setHibernatableWebSocketEventTimeout; as in workerd, which races the handler against
//     a timer and shuts the actor down). When the timer fires first, eventTimedOut() resets the
//     object (the instance is discarded; the next event constructs a new one; the sockets stay)
//     and tells the old instance it was abandoned, so that what still runs on it fails and
//     finishes (JavaScript: its pending promises reject and its timers are cancelled). The event
//     still counts as running until its coroutine returns (note 5 must hold), so a native handler
//     that ignores abandoned() keeps the host in memory until it returns.
//
// LIFECYCLE
//   (no host) --deliver--> queued --pump/construct()--> live --eventFinished/updateIdle()--> idle
//   idle --enqueue()--> live            idle --Shard::sweepIdle() after idleTimeout--> (no host)
//   live --reset()--> live without instance (next pump() constructs again)
#include "runtime/object_host.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <optional>

#include "base/event_loop.h"
#include "base/log.h"
#include "runtime/shard.h"

namespace duro::runtime {

ObjectHost::ObjectHost(Shard& shard, const NamespaceEntry& ns, ObjectId id)
    : shard_(shard), ns_(ns), id_(std::move(id)), inputGate_([this] { pump(); }) {}

ObjectHost::~ObjectHost() {
  for (auto& socket : sockets_) socket->detach();
  sockets_.clear();
  // The instance goes before its storage (it may hold references to it).
  if (instance_) {
    instance_.reset();
    shard_.stats().liveObjects.fetch_sub(1, std::memory_order_relaxed);
  }
  store_.reset();
  for (auto& event : queue_) event->fail(Status::unavailable("the server is shutting down"));
}

void ObjectHost::enqueue(std::unique_ptr<ObjectEvent> event) {
  if (queue_.size() >= shard_.maxQueuedEventsPerObject()) {
    shard_.stats().overloadRejections.fetch_add(1, std::memory_order_relaxed);
    event->fail(Status::overloaded("Durable Object is overloaded. Too many requests queued."));
    return;
  }
  queue_.push_back(std::move(event));
  pump();
}

bool ObjectHost::isIdle() const noexcept {
  if (!(running_ == 0 && waitUntil_ == 0 && queue_.empty() && inputGate_.isOpen() &&
        outputGate_.heldOutputs() == 0 && !(store_ && store_->busy()))) {
    return false;
  }
  // A socket accepted the standard way (or not accepted yet) keeps the instance in memory.
  // (sockets_ holds only sockets whose connection is not finished.)
  for (const auto& socket : sockets_) {
    if (!socket->hibernatable()) return false;
  }
  return true;
}

// ---- WebSockets --------------------------------------------------------------------------------

namespace {
std::atomic<uint64_t> nextSocketId{1};
}  // namespace

uint64_t ObjectHost::nextWebSocketId() { return nextSocketId.fetch_add(1); }

std::shared_ptr<ObjectSocket> ObjectHost::newSocket() {
  auto socket = std::make_shared<ObjectSocket>(this, shard_.loop(), nextWebSocketId());
  sockets_.push_back(socket);
  updateIdle();
  return socket;
}

std::shared_ptr<ObjectSocket> ObjectHost::socket(uint64_t id) const {
  for (const auto& socket : sockets_) {
    if (socket->id() == id) return socket;
  }
  return nullptr;
}

WebSocketPair ObjectHost::acceptWebSocket(std::vector<std::string> tags) {
  std::shared_ptr<ObjectSocket> socket = newSocket();
  try {
    socket->accept(true, std::move(tags));
  } catch (...) {
    socketClosed(*socket);
    throw;
  }
  return WebSocketPair{socket, socket};
}

std::vector<std::shared_ptr<WebSocket>> ObjectHost::getWebSockets(std::optional<std::string> tag) {
  std::vector<std::shared_ptr<WebSocket>> out;
  // Newest first, as workerd lists them.
  for (auto it = sockets_.rbegin(); it != sockets_.rend(); ++it) {
    const auto& socket = *it;
    if (!socket->listed()) continue;
    if (tag) {
      const auto& tags = socket->tags();
      if (std::find(tags.begin(), tags.end(), *tag) == tags.end()) continue;
    }
    out.push_back(socket);
  }
  return out;
}

void ObjectHost::setWebSocketAutoResponse(
    std::optional<std::pair<std::string, std::string>> requestResponse) {
  if (requestResponse &&
      (requestResponse->first.size() > 2048 || requestResponse->second.size() > 2048)) {
    throw Error(Status::limitExceeded(
        "The WebSocket auto-response request and response are limited to 2048 characters."));
  }
  autoResponse_ = std::move(requestResponse);
}

void ObjectHost::socketAccepted(ObjectSocket&) { updateIdle(); }

void ObjectHost::checkSocketLimit() const {
  size_t hibernatable = 0;
  for (const auto& socket : sockets_) {
    if (socket->listed()) ++hibernatable;
  }
  if (hibernatable >= kMaxHibernatableSockets) {
    throw Error(Status::limitExceeded(
        "A Durable Object can have at most 32768 hibernatable WebSockets."));
  }
}

void ObjectHost::socketUnlisted(ObjectSocket&) { updateIdle(); }

void ObjectHost::socketClosed(ObjectSocket& socket) {
  std::erase_if(sockets_, [&](const auto& s) { return s.get() == &socket; });
  updateIdle();
}

bool ObjectHost::autoResponds(ObjectSocket& socket, const std::string& message) {
  if (!socket.hibernatable() || !autoResponse_ || message != autoResponse_->first) return false;
  socket.noteAutoResponse();
  socket.sendDirect(autoResponse_->second, false);
  return true;
}

void ObjectHost::deliverSocketEvent(std::unique_ptr<ObjectEvent> event) { enqueue(std::move(event)); }

bool ObjectHost::hasHibernatableSockets() const noexcept {
  for (const auto& socket : sockets_) {
    if (socket->hibernatable()) return true;
  }
  return false;
}

void ObjectHost::hibernate() {
  if (instance_) {
    instance_.reset();
    shard_.stats().liveObjects.fetch_sub(1, std::memory_order_relaxed);
    shard_.stats().objectsEvicted.fetch_add(1, std::memory_order_relaxed);
  }
  // Its storage handle goes too (created again on first use); the data is on disk or in the log.
  if (store_ && !store_->busy()) store_.reset();
}

Storage& ObjectHost::storage() { return objectStore(); }

storage::ObjectStore& ObjectHost::objectStore() {
  if (!store_) {
    store_ = shard_.storage().createStore(ns_.name, id_, *this,
                                          ns_.backend == StorageBackend::kSqlite);
  }
  return *store_;
}

void ObjectHost::writesDurableThrough(uint64_t writeNumber) {
  outputGate_.writesDurableThrough(writeNumber);
  updateIdle();
}

void ObjectHost::whenDurable(std::function<void(const Status&)> fn) {
  outputGate_.whenDurable(std::move(fn));
  updateIdle();
}

namespace {
class HeldInputLock final : public storage::ObjectStoreHooks::InputLock {
 public:
  explicit HeldInputLock(InputGate::Lock lock) : lock_(std::move(lock)) {}

 private:
  InputGate::Lock lock_;
};
}  // namespace

std::unique_ptr<storage::ObjectStoreHooks::InputLock> ObjectHost::lockInput() {
  return std::make_unique<HeldInputLock>(inputGate_.lock());
}

void ObjectHost::storageFailed(const Status& status) {
  // Outputs that waited for the lost writes become errors; then the object starts over from what
  // is on disk: new instance, empty cache, no buffered writes.
  outputGate_.fail(Status::storage("Durable Object storage operation failed: " + status.message()));
  if (store_) store_->discardVolatileState();
  reset(status);
}

bool ObjectHost::construct() {
  try {
    std::unique_ptr<DurableObject> made = ns_.factory(*this, shard_.env());
    if (!made) throw Error(Status::internal("the object factory returned null"));
    instance_ = std::move(made);
  } catch (const std::exception& e) {
    std::string message = std::string("the object's constructor threw: ") + e.what();
    logError(message);
    std::unique_ptr<ObjectEvent> event = std::move(queue_.front());
    queue_.erase(queue_.begin());
    // An Error that carries detail (a JavaScript exception) reaches the caller as it was thrown.
    const auto* error = dynamic_cast<const Error*>(&e);
    event->fail(error != nullptr && error->status().detail() != nullptr ? error->status()
                                                                         : Status::internal(message));
    return false;
  }
  shard_.stats().liveObjects.fetch_add(1, std::memory_order_relaxed);
  shard_.stats().objectsConstructed.fetch_add(1, std::memory_order_relaxed);
  return true;
}

void ObjectHost::pump() {
  if (pumping_) return;  // the outer pump() loop picks up whatever changed
  pumping_ = true;
  while (!queue_.empty() && inputGate_.isOpen()) {
    if (!instance_) {
      if (!construct()) continue;
      if (!inputGate_.isOpen()) break;  // the constructor called blockConcurrencyWhile
    }
    std::unique_ptr<ObjectEvent> event = std::move(queue_.front());
    queue_.erase(queue_.begin());
    ++running_;
    runEvent(this, std::move(event), instance_);
  }
  pumping_ = false;
  updateIdle();
}

detail::Detached ObjectHost::runEvent(ObjectHost* host, std::unique_ptr<ObjectEvent> event,
                                      std::shared_ptr<DurableObject> instance) {
  // Note 6. `running` tells the timer whether the event is still going: a timer that expired
  // just as the event finished may still call back once, after the frame is gone.
  std::optional<base::Timer> deadline;
  std::shared_ptr<bool> running;
  if (host->webSocketEventTimeout_ && event->isHibernatableSocketEvent()) {
    running = std::make_shared<bool>(true);
    deadline.emplace(host->shard_.loop());
    deadline->start(*host->webSocketEventTimeout_,
                    [host, running, weak = std::weak_ptr<DurableObject>(instance),
                     generation = host->generation_] {
                      if (!*running) return;
                      // Running: the event holds the instance and the host is alive (note 5).
                      host->eventTimedOut(weak.lock(), generation);
                    });
  }
  try {
    co_await event->run(*host, *instance);
  } catch (const std::exception& e) {
    host->logError(std::string("event failed: ") + e.what());
  } catch (...) {
    host->logError("event failed with a non-standard exception");
  }
  if (running) *running = false;
  deadline.reset();
  event.reset();
  instance.reset();
  host->eventFinished();
}

void ObjectHost::eventTimedOut(const std::shared_ptr<DurableObject>& instance,
                               uint64_t generation) {
  // workerd's words (the actor is shut down with them).
  Status why =
      Status::objectReset("Actor exceeded event execution time and was disconnected.");
  // Reset once: if something else reset the object meanwhile, the instance is already discarded.
  if (generation == generation_) reset(why);
  // `instance` keeps the old instance alive while it is told, even if its last event finishes
  // inside the call.
  if (instance) instance->abandoned(why);
}

void ObjectHost::setHibernatableWebSocketEventTimeout(
    std::optional<std::chrono::milliseconds> timeout) {
  if (timeout && timeout->count() < 0) {
    throw Error(Status::invalidArgument("The WebSocket event timeout cannot be negative."));
  }
  if (timeout && *timeout > kMaxWebSocketEventTimeout) {
    throw Error(Status::limitExceeded("Event timeout should not exceed 604800000 ms."));
  }
  // 0 removes it, as documented.
  if (timeout && timeout->count() == 0) timeout.reset();
  webSocketEventTimeout_ = timeout;
}

void ObjectHost::eventFinished() {
  --running_;
  pump();
}

void ObjectHost::updateIdle() {
  bool idle = isIdle();
  if (idle && !inIdleList) {
    shard_.markIdle(*this);
  } else if (!idle && inIdleList) {
    shard_.markBusy(*this);
  }
}

void ObjectHost::reset(const Status& why) {
  logError("object reset: " + why.message());
  if (instance_) {
    instance_.reset();
    shard_.stats().liveObjects.fetch_sub(1, std::memory_order_relaxed);
  }
  ++generation_;
  outputGate_.reset();
}

void ObjectHost::logError(const std::string& message) const {
  base::logError(ns_.name + "/" + id_.toString(), message);
}

namespace {
// Shared between blockConcurrencyWhile's runner and the Task it returns.
struct BlockState {
  bool finished = false;
  std::exception_ptr error;
  std::coroutine_handle<> waiter;
};

struct BlockAwaiter {
  std::shared_ptr<BlockState> state;
  bool await_ready() const noexcept { return state->finished; }
  void await_suspend(std::coroutine_handle<> h) noexcept { state->waiter = h; }
  void await_resume() const {
    if (state->error) std::rethrow_exception(state->error);
  }
};

Task<void> awaitBlock(std::shared_ptr<BlockState> state) { co_await BlockAwaiter{state}; }
}  // namespace

Started ObjectHost::blockConcurrencyWhile(std::function<Task<void>()> fn) {
  auto state = std::make_shared<BlockState>();
  auto lock = std::make_shared<InputGate::Lock>(inputGate_.lock());
  updateIdle();
  // A lambda coroutine's captures live in the lambda, not in its frame: keep `fn` alive until the
  // task it made has finished.
  auto keepFn = std::make_shared<std::function<Task<void>()>>(std::move(fn));
  Task<void> task;
  try {
    task = (*keepFn)();
  } catch (...) {
    task = [](std::exception_ptr e) -> Task<void> { std::rethrow_exception(e); }(
        std::current_exception());
  }
  uint64_t generation = generation_;
  startTask(std::move(task), [this, state, lock, generation, keepFn](std::exception_ptr error) {
    state->finished = true;
    state->error = error;
    if (error && generation == generation_) {
      std::string what = "unknown error";
      try {
        std::rethrow_exception(error);
      } catch (const std::exception& e) {
        what = e.what();
      } catch (...) {
      }
      reset(Status::objectReset("blockConcurrencyWhile callback threw: " + what));
    }
    // Resume the waiting handler before other events are let in.
    if (auto waiter = std::exchange(state->waiter, {})) {
      shard_.loop().post([waiter] { waiter.resume(); });
    }
    shard_.loop().post([lock] { lock->release(); });
  });
  return Started(awaitBlock(state));
}

void ObjectHost::waitUntil(Task<void> task) {
  ++waitUntil_;
  updateIdle();
  startTask(std::move(task), [this](std::exception_ptr error) {
    if (error) {
      try {
        std::rethrow_exception(error);
      } catch (const std::exception& e) {
        logError(std::string("waitUntil task failed: ") + e.what());
      } catch (...) {
        logError("waitUntil task failed");
      }
    }
    --waitUntil_;
    updateIdle();
  });
}

}  // namespace duro::runtime
