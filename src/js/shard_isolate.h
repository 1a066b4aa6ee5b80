// ShardIsolate: one V8 isolate and context on one shard thread, running one Script. The Worker's
// fetch handler and every JavaScript Durable Object of that shard run in it (objects are plain JS
// objects in the shared context, as in workerd). Created lazily on the shard thread the first time
// JavaScript runs there; destroyed when the thread exits. Touch only from its own thread.
//
// ENTERING JAVASCRIPT FROM C++
// Every call from C++ into JS happens inside a ShardIsolate::Scope. Scopes nest; when the
// outermost one closes, the microtask queue is drained (microtasks policy kExplicit) and the C++
// coroutines waiting on promises that settled are resumed, in order, before control returns to the
// event loop. So an `await` on an already-settled promise (a storage read served from the cache)
// never lets another event in: the input gate holds by construction.
//
// AWAITING A PROMISE FROM C++
// `co_await js.settle(value)` (inside a coroutine, with the value taken inside a Scope) completes
// with the promise's outcome; a non-promise completes at once. Waiters hold no V8 handles across
// threads; nothing here is ever touched off the shard's thread.
#pragma once

#include <chrono>
#include <coroutine>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <atomic>
#include <vector>

#include <v8.h>

#include "base/event_loop.h"
#include "duro/http.h"
#include "duro/object.h"
#include "js/script.h"
#include "runtime/object_socket.h"
#include "runtime/websocket_event.h"

namespace duro::js {

class ShardIsolate;

// The outcome of a settled promise (or a plain value).
struct Settled {
  bool fulfilled = true;
  v8::Global<v8::Value> value;
};

// A JavaScript exception caught in C++: its message for logs and HTTP errors.
struct JsErrorInfo {
  std::string name;     // "TypeError", "Error", ... ("" for non-Error throws)
  std::string message;  // the error's message (or the thrown value as a string)
  std::string stack;    // the stack trace if any
};

// What each object instance registers so that native calls from JS (storage, ctx) find its state.
struct ObjectSlot {
  ObjectState* state = nullptr;
  std::string logTag;  // "NAMESPACE/id"
};

class ShardIsolate {
 public:
  // The isolate of the calling thread for `script`, created on first use. Throws duro::Error if
  // the script cannot be loaded (a syntax error, a missing module or class).
  static ShardIsolate& forCurrentThread(const std::shared_ptr<const Script>& script, Env& env);
  // The calling thread's isolate, if any.
  static ShardIsolate* current();
  // Loads `script` in a throwaway isolate on the calling thread (no env bindings): reports
  // syntax errors, missing modules and missing classes before the server starts.
  static Status validate(const std::shared_ptr<const Script>& script);

  ~ShardIsolate();
  ShardIsolate(const ShardIsolate&) = delete;
  ShardIsolate& operator=(const ShardIsolate&) = delete;

  v8::Isolate* isolate() const noexcept { return isolate_; }
  v8::Local<v8::Context> context() const { return context_.Get(isolate_); }
  const Script& script() const noexcept { return *script_; }
  Env& env() const noexcept { return *env_; }

  class Scope {
   public:
    // `logTag` names who runs ("worker" or "NAMESPACE/id") for console output in this scope;
    // `owner` is the object handle (0 = the Worker) that JavaScript in it runs for: promises
    // awaited from it belong to that owner, and a termination in it is blamed on it. Both are
    // inherited from the enclosing scope when not given.
    explicit Scope(ShardIsolate& js, const std::string* logTag = nullptr, int64_t owner = -1);
    ~Scope();
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    ShardIsolate& js_;
    v8::HandleScope handles_;
    v8::Context::Scope context_;
    const std::string* previousTag_;
    uint32_t previousOwner_;
  };

  // --- awaiting promises ---
  struct Waiter;
  class SettleAwaiter {
   public:
    explicit SettleAwaiter(std::unique_ptr<Waiter> waiter);
    SettleAwaiter(SettleAwaiter&&) noexcept;
    ~SettleAwaiter();
    bool await_ready() const noexcept;
    void await_suspend(std::coroutine_handle<> h) noexcept;
    Settled await_resume();

   private:
    std::unique_ptr<Waiter> waiter_;
  };
  // Call inside a Scope; co_await the result after the Scope has closed (or inside it).
  SettleAwaiter settle(v8::Local<v8::Value> value);

  // --- calling JS ---
  // Calls `fn` with `receiver` and args; a thrown exception is returned as an Error-free failure.
  // Inside a Scope.
  v8::MaybeLocal<v8::Value> call(v8::Local<v8::Function> fn, v8::Local<v8::Value> receiver,
                                 std::initializer_list<v8::Local<v8::Value>> args,
                                 JsErrorInfo* error);
  JsErrorInfo describe(v8::Local<v8::Value> exception);
  // Logs an uncaught error under the current tag.
  void reportError(v8::Local<v8::Value> exception);

  // --- the Web API bundle's hooks (src/js/builtins) ---
  v8::Local<v8::Value> makeRequest(const Request& request);
  // A Response (or a promise of one) returned by JS, converted once its body is complete.
  Task<Response> toResponse(v8::Global<v8::Value> value);

  // --- module exports ---
  v8::Local<v8::Object> mainExports() const { return mainExports_.Get(isolate_); }
  v8::Local<v8::Object> runtimeExports() const { return runtimeExports_.Get(isolate_); }
  v8::Local<v8::Object> jsEnv() const { return env_js_.Get(isolate_); }
  // The exported class bound as a Durable Object class (checked at load).
  v8::Local<v8::Function> objectClass(const std::string& className);
  v8::Local<v8::Value> runtimeExport(const char* name);
  // An internalized string for a literal (property names on hot paths: interned once per
  // isolate instead of looked up in the string table on every use). `literal` must be a string
  // literal: the cache is keyed by its address.
  v8::Local<v8::String> name(const char* literal);
  // Per-request constants shared by every request on this isolate: the Worker's ctx (its methods
  // hold no per-request state) and request.cf (frozen).
  v8::Local<v8::Object> workerContext();

  // --- objects and native state ---
  uint32_t registerObject(ObjectSlot slot);
  void unregisterObject(uint32_t handle);
  ObjectSlot* object(uint32_t handle);
  uint32_t registerTransaction(StorageTransaction* txn, uint32_t objectHandle);
  void unregisterTransaction(uint32_t handle);
  // rollback() was called on the transaction: its further operations are errors.
  void markRolledBack(uint32_t handle);
  bool isRolledBack(uint32_t handle) const;
  // The storage operations for a handle from JS (an object's storage or a live transaction);
  // nullptr if it is gone. `storage` is set for objects, `txn` for transactions.
  StorageOps* storageOps(uint32_t handle, Storage** storage, StorageTransaction** txn,
                         ObjectSlot** slot);

  // Namespaces by the index JS holds.
  Namespace& ns(uint32_t index) const { return *namespaces_.at(index); }
  // The index of the namespace bound as `binding` (for an object's ctx.id).
  uint32_t namespaceIndexOf(const std::string& binding) const;
  size_t namespaceCount() const { return namespaces_.size(); }

  // --- WebSockets ---
  // Server ends created in this isolate (by id), and client ends waiting to leave in a Response.
  std::unordered_map<uint64_t, std::weak_ptr<runtime::ObjectSocket>> sockets;
  std::unordered_map<uint64_t, std::shared_ptr<WebSocketEndpoint>> clientEnds;
  // Ids for client ends received from other objects: above the runtime's socket ids, below 2^53
  // (JavaScript numbers carry them).
  uint64_t nextClientEndId = 1ull << 52;
  // Standard-API sockets answer a client's close frame themselves (compatibility date).
  bool autoReplyToClose = true;
  // Adds a server end to `sockets` (so JavaScript can reach it by id).
  void rememberSocket(const std::shared_ptr<runtime::ObjectSocket>& socket);
  // An event of a socket the stateless Worker created: to its listeners.
  void deliverWorkerSocketEvent(std::unique_ptr<runtime::WebSocketEvent> event);

  // --- timers (setTimeout / setInterval) ---
  uint32_t setTimer(v8::Local<v8::Function> callback, double delayMs, bool repeat);
  void clearTimer(uint32_t id);

  const std::string& currentTag() const { return *currentTag_; }
  uint32_t currentOwner() const { return currentOwner_.load(std::memory_order_relaxed); }
  // Why JavaScript was terminated, if it was during the current entry ("" otherwise).
  std::string terminationReason();
  void onPromiseRejectEvent(v8::PromiseRejectMessage message);
  // Resumes a coroutine from the ready list after the current microtask checkpoint.
  void markReady(Waiter* waiter);
  // False if V8 refused (execution being terminated).
  bool attachReactions(Waiter* waiter, v8::Local<v8::Promise> promise);
  // Waiters whose promise was pending inside a scope: checked after each microtask checkpoint.
  void resolveDeferred();
  void forgetWaiter(Waiter* waiter) { pendingWaiters_.erase(waiter); }
  void drain();

 private:
  ShardIsolate(std::shared_ptr<const Script> script, Env* env);
  void load();
  void fireTimer(uint32_t id);

  friend class Scope;
  friend class ModuleLoader;

  std::shared_ptr<const Script> script_;
  Env* env_;  // null while validating
  std::unique_ptr<v8::ArrayBuffer::Allocator> allocator_;
  v8::Isolate* isolate_ = nullptr;
  v8::Global<v8::Context> context_;
  v8::Global<v8::Object> native_;
  v8::Global<v8::Object> webExports_;
  v8::Global<v8::Object> runtimeExports_;
  v8::Global<v8::Object> mainExports_;
  v8::Global<v8::Object> env_js_;
  v8::Global<v8::Function> makeRequest_, responseParts_;
  std::vector<v8::Global<v8::Promise>> unhandledRejections_;
  std::vector<Namespace*> namespaces_;
  std::unordered_map<const char*, v8::Eternal<v8::String>> names_;
  v8::Global<v8::Object> workerContext_, cf_;

  int depth_ = 0;
  bool draining_ = false;
  bool compilingWasmModule_ = false;  // only CompiledWasm modules may generate Wasm code

  // CPU and memory limits (see NOTES 4 in shard_isolate.cc).
  void watchEnter();
  // Returns the culprit if JavaScript was terminated during this entry.
  std::optional<std::pair<uint32_t, std::string>> watchExit();
  static size_t nearHeapLimit(void* data, size_t current, size_t initial);
  friend class Watchdog;
  std::mutex watchMu_;
  int64_t enteredAtNanos_ = 0;  // guarded by watchMu_; 0 while no JavaScript runs
  bool terminateRequested_ = false;  // guarded by watchMu_
  std::string terminationReason_;    // guarded by watchMu_
  uint32_t culprit_ = 0;             // guarded by watchMu_: the owner running when terminated
  size_t heapLimit_ = 0;
  std::atomic<uint32_t> currentOwner_{0};
  // Waiters whose promise has not settled yet (so a terminated owner's can be failed).
  std::unordered_set<Waiter*> pendingWaiters_;
  // After a termination: fails the culprit's pending promises and resets its object.
  void failOwner(uint32_t owner, const std::string& reason);

 public:
  // Everything `owner` waits for fails with `reason` (the C++ side of its pending promises
  // rejects, so the events awaiting them finish); an object's (owner != 0) timers are cancelled.
  // Inside a Scope, which resumes the failed waiters when it closes.
  void cancelOwner(uint32_t owner, const std::string& reason);

 private:
  std::vector<Waiter*> ready_;
  std::vector<Waiter*> deferred_;
  size_t socketSweepAt_ = 1024;
  std::string workerTag_ = "worker";
  const std::string* currentTag_ = &workerTag_;

  uint32_t nextHandle_ = 1;
  // Giving back the heap of released instances (unregisterObject()).
  static constexpr size_t kGcAfterReleasedObjects = 1;
  static constexpr std::chrono::milliseconds kGcAfterReleaseDelay{1000};
  size_t releasedSinceGc_ = 0;
  bool gcScheduled_ = false;
  std::unique_ptr<base::Timer> gcTimer_;
  struct TxnSlot {
    StorageTransaction* txn;
    uint32_t object;
    bool rolledBack = false;
  };
  std::unordered_map<uint32_t, ObjectSlot> objects_;
  std::unordered_map<uint32_t, TxnSlot> transactions_;

  struct TimerSlot;
  uint32_t nextTimer_ = 1;
  std::unordered_map<uint32_t, std::unique_ptr<TimerSlot>> timers_;

  // Modules by name (a path relative to the project, or "cloudflare:workers"), and by identity
  // hash (several per hash are possible) for the resolve callback.
  struct ModuleRecord;
  std::unordered_map<std::string, std::unique_ptr<ModuleRecord>> modulesByName_;
  std::unordered_multimap<int, ModuleRecord*> modulesByHash_;
  ModuleRecord* recordOf(v8::Local<v8::Module> module);
  ModuleRecord* loadModule(const std::string& name, const std::filesystem::path& path,
                           bool internal);
  static v8::MaybeLocal<v8::Module> resolveModule(v8::Local<v8::Context> context,
                                                  v8::Local<v8::String> specifier,
                                                  v8::Local<v8::FixedArray> assertions,
                                                  v8::Local<v8::Module> referrer);
  static v8::MaybeLocal<v8::Value> evaluateSynthetic(v8::Local<v8::Context> context,
                                                     v8::Local<v8::Module> module);
  v8::Local<v8::Object> evaluateModule(ModuleRecord& record);
  v8::Local<v8::Object> makeNativeObject();
};

// A duro::Error from a JavaScript exception (status kInternal with "Name: message").
[[noreturn]] void throwJsError(const JsErrorInfo& error);
// Likewise, with the exception itself attached as the status detail (serializeThrown), so that
// a caller in another object rethrows it with its class, name and message. Inside a Scope.
[[noreturn]] void throwJsException(ShardIsolate& js, v8::Local<v8::Value> exception);

// The handle, or a duro::Error if V8 returned none (an exception, or execution being terminated
// by the CPU or memory limit): never ToLocalChecked() on anything that can run JavaScript.
template <typename T>
v8::Local<T> checked(v8::MaybeLocal<T> value) {
  v8::Local<T> out;
  if (!value.ToLocal(&out)) {
    throw Error(Status::internal("JavaScript execution failed or was terminated"));
  }
  return out;
}

}  // namespace duro::js
