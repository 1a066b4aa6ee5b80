// ObjectHost: the runtime's record of one Durable Object on its shard: the event queue, the input
// and output gates, the instance (constructed on demand), and its place in the idle list. It is
// also the object's ObjectState (`ctx`). Lives on, and is touched only from, its shard's thread.
// See object_host.cc for the delivery invariants and the lifecycle diagram.
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>
#include <list>
#include <memory>
#include <string>

#include "duro/object.h"
#include "runtime/input_gate.h"
#include "runtime/namespace_entry.h"
#include "runtime/object_event.h"
#include "runtime/object_socket.h"
#include "runtime/output_gate.h"
#include "storage/object_store.h"

namespace duro::runtime {

class Shard;

class ObjectHost final : public ObjectState, private storage::ObjectStoreHooks {
 public:
  ObjectHost(Shard& shard, const NamespaceEntry& ns, ObjectId id);
  ~ObjectHost() override;
  ObjectHost(const ObjectHost&) = delete;
  ObjectHost& operator=(const ObjectHost&) = delete;

  // Queues an event, or fails it as overloaded if the queue is full; then delivers what it can.
  void enqueue(std::unique_ptr<ObjectEvent> event);

  // Nothing running, queued, held or pending: the object may be evicted.
  bool isIdle() const noexcept;
  bool hasInstance() const noexcept { return instance_ != nullptr; }
  NamespaceIndex namespaceIndex() const noexcept { return ns_.index; }

  InputGate& inputGate() noexcept { return inputGate_; }
  OutputGate& outputGate() noexcept { return outputGate_; }

  // Discards the instance (events already running keep the old one until they finish); the next
  // event constructs a new one. Used when blockConcurrencyWhile's callback throws and, later,
  // when a commit fails.
  void reset(const Status& why);

  // Logs with the object's namespace and ID.
  void logError(const std::string& message) const;

  // ObjectState.
  const ObjectId& id() const override { return id_; }
  const std::string& namespaceName() const override { return ns_.name; }
  Started blockConcurrencyWhile(std::function<Task<void>()> fn) override;
  void waitUntil(Task<void> task) override;
  Storage& storage() override;
  void abort(const std::string& reason) override { reset(Status::objectReset(reason)); }
  WebSocketPair acceptWebSocket(std::vector<std::string> tags = {}) override;
  std::vector<std::shared_ptr<WebSocket>> getWebSockets(
      std::optional<std::string> tag = std::nullopt) override;
  void setWebSocketAutoResponse(
      std::optional<std::pair<std::string, std::string>> requestResponse) override;

  // --- WebSockets (object_socket.h) ---
  // A new, unaccepted server end (JavaScript's WebSocketPair).
  std::shared_ptr<ObjectSocket> newSocket();
  // Socket ids are unique in the process.
  static uint64_t nextWebSocketId();
  std::shared_ptr<ObjectSocket> socket(uint64_t id) const;
  const std::optional<std::pair<std::string, std::string>>& webSocketAutoResponse() const {
    return autoResponse_;
  }
  // Cloudflare's limit of hibernatable WebSockets per object.
  static constexpr size_t kMaxHibernatableSockets = 32768;
  // Throws duro::Error if another hibernatable socket would exceed the limit.
  void checkSocketLimit() const;
  // Called by ObjectSocket on this shard.
  void socketAccepted(ObjectSocket& socket);
  void socketClosed(ObjectSocket& socket);
  // The socket's close event was handled but its connection is still open.
  void socketUnlisted(ObjectSocket& socket);
  bool autoResponds(ObjectSocket& socket, const std::string& message);
  void deliverSocketEvent(std::unique_ptr<ObjectEvent> event);
  // Open hibernatable sockets keep the host (not the instance) after the idle timeout.
  bool hasHibernatableSockets() const noexcept;
  // Drops the instance but keeps the host and its sockets (the shard's idle sweep).
  void hibernate();
  void setHibernatableWebSocketEventTimeout(
      std::optional<std::chrono::milliseconds> timeout) override;
  std::optional<std::chrono::milliseconds> hibernatableWebSocketEventTimeout() const override {
    return webSocketEventTimeout_;
  }
  // Cloudflare's longest event timeout (7 days).
  static constexpr std::chrono::milliseconds kMaxWebSocketEventTimeout{604800000};
  storage::ObjectStore& objectStore();

  // Bumped by reset(): an event that started on an older generation may not release outputs.
  uint64_t generation() const noexcept { return generation_; }

  // The shard's idle list keeps these.
  std::list<ObjectHost*>::iterator idleListPosition;
  bool inIdleList = false;
  uint64_t idleSinceNanos = 0;

 private:
  void pump();
  bool construct();
  void eventFinished();
  // A hibernatable socket's event that started on `generation` ran past the event timeout (note 6).
  void eventTimedOut(const std::shared_ptr<DurableObject>& instance, uint64_t generation);
  void updateIdle();
  // storage::ObjectStoreHooks: storage under this object's gates.
  uint64_t beginWrite() override { return outputGate_.beginWrite(); }
  void writesDurableThrough(uint64_t writeNumber) override;
  void whenDurable(std::function<void(const Status&)> fn) override;
  std::unique_ptr<InputLock> lockInput() override;
  void storageFailed(const Status& status) override;
  void storageBusyChanged() override { updateIdle(); }

  static detail::Detached runEvent(ObjectHost* host, std::unique_ptr<ObjectEvent> event,
                                   std::shared_ptr<DurableObject> instance);

  Shard& shard_;
  const NamespaceEntry& ns_;
  ObjectId id_;
  InputGate inputGate_;
  OutputGate outputGate_;
  std::shared_ptr<DurableObject> instance_;
  // Sockets whose server end belongs to this object, until closed.
  std::vector<std::shared_ptr<ObjectSocket>> sockets_;
  std::optional<std::pair<std::string, std::string>> autoResponse_;
  // setHibernatableWebSocketEventTimeout (kept across hibernation: the host stays).
  std::optional<std::chrono::milliseconds> webSocketEventTimeout_;
  std::unique_ptr<storage::ObjectStore> store_;  // created on first use of storage()
  // A vector, not a deque: a deque allocates a block up front, and most objects queue nothing.
  std::vector<std::unique_ptr<ObjectEvent>> queue_;
  uint32_t running_ = 0;        // events started and not finished
  uint32_t waitUntil_ = 0;      // waitUntil tasks pending
  uint64_t generation_ = 0;     // bumped by reset(); stale callbacks compare against it
  bool pumping_ = false;
};

}  // namespace duro::runtime
