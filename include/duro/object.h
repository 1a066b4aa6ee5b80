// The native Durable Object SDK: duro::DurableObject (what a C++ object class implements),
// duro::ObjectState (its `ctx`: ID, blockConcurrencyWhile, waitUntil), and duro::Env with
// duro::Namespace and duro::Stub (how a Worker or an object reaches other objects).
//
//   class Counter : public duro::DurableObject {
//    public:
//     Counter(duro::ObjectState& state, duro::Env& env) : state_(state) {}
//     duro::Task<duro::Response> fetch(duro::Request req) override {
//       co_return duro::Response::text(std::to_string(++n_));
//     }
//    private:
//     duro::ObjectState& state_;
//     int n_ = 0;
//   };
//
// Threading: an object instance lives on one shard thread for its whole life; every event for it
// (fetch, later alarm and WebSocket events) runs there, one at a time, interleaving only where a
// handler co_awaits something that really suspends (a call to another object, a timer). Handlers
// may throw: the exception fails that event only (the caller sees it; at the HTTP edge it is a
// 500) and the object stays usable.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "duro/http.h"
#include "duro/id.h"
#include "duro/status.h"
#include "duro/storage.h"
#include "duro/task.h"
#include "duro/websocket.h"

namespace duro {

class Env;

// Work that has already started (unlike a Task, which starts when awaited): co_await it to wait
// for its outcome (errors are rethrown), or drop it and let it finish on its own.
class Started {
 public:
  explicit Started(Task<void> waiter) : waiter_(std::move(waiter)) {}
  auto operator co_await() && noexcept { return std::move(waiter_).operator co_await(); }

 private:
  Task<void> waiter_;
};

// The per-instance context handed to an object's constructor (Cloudflare's `ctx` / `state`).
// Valid for the instance's lifetime; call only on the object's shard.
class ObjectState {
 public:
  virtual ~ObjectState() = default;

  virtual const ObjectId& id() const = 0;
  // The namespace (binding) this object belongs to.
  virtual const std::string& namespaceName() const = 0;

  // Runs `fn` now and delivers no other event to this object until its Task settles (the input
  // gate stays locked). Usable from the constructor, where the returned Task may be dropped, or
  // co_awaited from a handler. If `fn` throws, the object is reset: the instance is discarded and
  // the next event constructs a new one; awaiting the result rethrows the error.
  virtual Started blockConcurrencyWhile(std::function<Task<void>()> fn) = 0;

  // Keeps the object alive (not evicted) until `task` settles. Errors are logged.
  virtual void waitUntil(Task<void> task) = 0;

  // The object's durable key-value storage (include/duro/storage.h).
  virtual Storage& storage() = 0;

  // Resets the object (Cloudflare's ctx.abort): the instance is discarded and the next event
  // constructs a new one from what is stored; events still running keep the old instance.
  virtual void abort(const std::string& reason) = 0;

  // WebSockets (Cloudflare's Hibernation API). acceptWebSocket makes a pair whose server end is
  // accepted as hibernatable with up to 10 tags of up to 256 characters (throws duro::Error
  // beyond): its messages arrive as webSocketMessage events, also after the object was evicted.
  virtual WebSocketPair acceptWebSocket(std::vector<std::string> tags = {}) = 0;
  // The hibernatable sockets that are still open (not closed by either side), optionally only
  // those with `tag`.
  virtual std::vector<std::shared_ptr<WebSocket>> getWebSockets(
      std::optional<std::string> tag = std::nullopt) = 0;
  // A message equal to `request` is answered with `response` by the runtime itself, without
  // running the object (nullopt removes it). Strings of at most 2,048 characters.
  virtual void setWebSocketAutoResponse(
      std::optional<std::pair<std::string, std::string>> requestResponse) = 0;
  // The longest a hibernatable socket's event (webSocketMessage, webSocketClose, webSocketError)
  // may run (Cloudflare's setHibernatableWebSocketEventTimeout; nullopt or 0: no limit; at most
  // 7 days, beyond throws duro::Error). A handler still running when it expires is cut off: the
  // object is reset (DurableObject::abandoned is called on the instance, and the next event
  // constructs a new one) while its sockets stay connected. Survives hibernation.
  virtual void setHibernatableWebSocketEventTimeout(
      std::optional<std::chrono::milliseconds> timeout) = 0;
  virtual std::optional<std::chrono::milliseconds> hibernatableWebSocketEventTimeout() const = 0;
};

// What the alarm() handler is told (Cloudflare's alarmInfo).
struct AlarmInfo {
  int retryCount = 0;    // 0 on the first run; 1..6 on retries after the handler threw
  bool isRetry = false;
};

// The outcome of a method call made through a stub (JavaScript RPC): the structured-clone
// serialization of the value the method returned, or of the error it threw.
struct MethodResult {
  std::string serialized;
  bool threw = false;
};

// What a native Durable Object class implements.
class DurableObject {
 public:
  virtual ~DurableObject() = default;
  // Handles one HTTP request sent to this object through a stub.
  virtual Task<Response> fetch(Request request) = 0;
  // Runs when the object's alarm (Storage::setAlarm) is due. Throwing makes it retry with
  // exponential backoff (2 s, 4 s, ... up to 6 retries); the alarm is cleared only after a run
  // that does not throw (unless the handler set a new one).
  virtual Task<void> alarm(AlarmInfo info) { co_return; }
  // Calls the method `name` with structured-clone serialized arguments (an array): JavaScript RPC
  // on classes that extend DurableObject. Native classes do not take RPC calls (the default
  // throws duro::Error kInvalidArgument).
  virtual Task<MethodResult> callMethod(std::string name, std::string serializedArgs);

  // Events of hibernatable WebSockets (ObjectState::acceptWebSocket), in the order they happened.
  virtual Task<void> webSocketMessage(WebSocket& socket, std::string data, bool binary) {
    co_return;
  }
  // The client closed (wasClean) or the connection dropped (code 1006).
  virtual Task<void> webSocketClose(WebSocket& socket, int code, std::string reason,
                                    bool wasClean) {
    co_return;
  }
  virtual Task<void> webSocketError(WebSocket& socket, std::string error) { co_return; }

  // The runtime gave up on this instance while handlers may still be suspended in it (a
  // hibernatable socket's event ran past ObjectState::setHibernatableWebSocketEventTimeout): it
  // has been discarded and the next event goes to a new instance. Handlers still running should
  // finish without further effects. Called on the object's shard, at most once per timed-out
  // event. The default does nothing: a native handler then runs on until it returns (the runtime
  // cannot cancel a coroutine safely), and keeps its input-gate locks until then.
  virtual void abandoned(const Status& why) {}
};

class Namespace;

// A client for one object: calls made through it reach the object's shard, in order.
// Cheap to copy; usable from any shard thread.
class Stub {
 public:
  Stub(Namespace* ns, ObjectId id) : ns_(ns), id_(std::move(id)) {}
  const ObjectId& id() const { return id_; }
  // Sends `request` to the object's fetch handler. Throws duro::Error if the object is
  // overloaded (status kOverloaded), the handler threw (its message), or the server is stopping.
  Task<Response> fetch(Request request) const;

 private:
  Namespace* ns_;
  ObjectId id_;
};

// One Durable Object namespace as bound in `env` (Cloudflare's DurableObjectNamespace).
// Thread-safe: usable from every shard.
class Namespace {
 public:
  virtual ~Namespace() = default;
  virtual const std::string& name() const = 0;
  virtual ObjectId idFromName(std::string_view name) const = 0;
  virtual ObjectId newUniqueId() const = 0;
  // Throws duro::Error (kInvalidArgument) for a malformed ID or one of another namespace.
  virtual ObjectId idFromString(std::string_view text) const = 0;
  Stub get(const ObjectId& id) { return Stub(this, id); }
  Stub getByName(std::string_view name) { return get(idFromName(name)); }

  // Delivers a fetch to the object `id` (what Stub::fetch calls).
  virtual Task<Response> fetchObject(ObjectId id, Request request) = 0;
};

inline Task<Response> Stub::fetch(Request request) const {
  return ns_->fetchObject(id_, std::move(request));
}

// The bindings visible to the Worker and to every object. Thread-safe and immutable once the
// server has started.
class Env {
 public:
  virtual ~Env() = default;
  // The namespace bound as `binding`; throws duro::Error (kNotFound) if there is none.
  virtual Namespace& ns(std::string_view binding) const = 0;
  // A configured variable, if set.
  virtual std::optional<std::string> var(std::string_view name) const = 0;
};

// Makes an object instance; called on the object's shard when its first event arrives.
using ObjectFactory = std::function<std::unique_ptr<DurableObject>(ObjectState&, Env&)>;

// How a class's objects store their data: key-value only (wrangler's new_classes), or a SQLite
// database with the SQL API as well (new_sqlite_classes, what Cloudflare recommends).
enum class StorageBackend { kKeyValue, kSqlite };

// The Worker's fetch handler: routes an incoming HTTP request (usually to an object's stub).
// Runs on the shard that accepted the connection.
using WorkerFetch = std::function<Task<Response>(Request, Env&)>;

// Suspends the calling handler for `ms` milliseconds on its shard's event loop (like awaiting
// setTimeout). Other events may be delivered to the object meanwhile.
Task<void> sleepFor(std::chrono::milliseconds ms);

}  // namespace duro
