// ObjectSocket: the server end of a WebSocket that belongs to a Durable Object. It is the
// WebSocketEndpoint the net layer feeds (client frames arrive on the connection's thread and are
// posted to the object's shard), and the duro::WebSocket the object uses (sends go out through the
// object's output gate, in order, once the connection exists).
//
// A socket is created unaccepted (a WebSocketPair), then accepted either as hibernatable (events
// are delivered as object events, also after the instance was evicted: the host stays, the
// instance is rebuilt) or in the standard way (events go to whoever listens; the object stays in
// memory while it is open). Lives on, and is touched only from, its object's shard, except for
// the WebSocketEndpoint calls, which only post.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/event_loop.h"
#include "duro/websocket.h"

namespace duro::runtime {

class ObjectHost;
class WebSocketEvent;

class ObjectSocket final : public WebSocket,
                           public WebSocketEndpoint,
                           public std::enable_shared_from_this<ObjectSocket> {
 public:
  ObjectSocket(ObjectHost* host, base::EventLoop& loop, uint64_t id);
  // A socket of the stateless Worker (no object): sends leave at once and events go to `sink`,
  // called on `loop`'s thread.
  using EventSink = std::function<void(std::unique_ptr<WebSocketEvent>)>;
  ObjectSocket(EventSink sink, base::EventLoop& loop, uint64_t id)
      : ObjectSocket(nullptr, loop, id) {
    if (sink) sink_ = std::make_unique<EventSink>(std::move(sink));
  }
  ~ObjectSocket() override;

  // --- duro::WebSocket (object's shard) ---
  uint64_t id() const override { return id_; }
  // The object's shard loop (where every call of the runtime's side happens).
  base::EventLoop& loop() const noexcept { return loop_; }
  State state() const override { return state_; }
  void send(std::string data, bool binary = false) override;
  void close(int code = 1000, std::string reason = "") override;
  const std::vector<std::string>& tags() const override { return tags_; }
  void setAttachment(std::string bytes) override;
  const std::string& attachment() const override { return attachment_; }
  std::optional<std::chrono::system_clock::time_point> autoResponseTime() const override {
    return autoResponseTime_;
  }

  // --- WebSocketEndpoint (the connection's thread: each call posts to the object's shard) ---
  void connected(std::shared_ptr<WebSocketTransport> transport) override;
  void message(std::string data, bool binary) override;
  void closeReceived(int code, std::string reason) override;
  void closed(int code, std::string reason, bool wasClean) override;
  void error(std::string message) override;

  // --- the runtime's side (object's shard) ---
  // Accepts the socket (once). Hibernatable sockets take tags (validated: duro::Error).
  // `autoReplyToClose`: a standard (not hibernatable) socket answers the client's close frame at
  // once (Cloudflare, compatibility dates from 2026-04-07); otherwise the code must call close().
  void accept(bool hibernatable, std::vector<std::string> tags, bool autoReplyToClose = true);
  // Listed by getWebSockets: accepted as hibernatable, and its close event not handled yet.
  bool listed() const noexcept;
  // After the close event's handler ran: the socket leaves the list, and the host once the
  // connection is gone too.
  void closeEventHandled();
  bool accepted() const noexcept { return accepted_; }
  bool hibernatable() const noexcept { return hibernatable_; }
  // The host is going away (shutdown): close the connection, drop the link.
  void detach();
  void noteAutoResponse() { autoResponseTime_ = std::chrono::system_clock::now(); }
  // Sends now, bypassing the output gate (auto-responses: no object code ran).
  void sendDirect(std::string data, bool binary);
  // Closes now (or as soon as the connection exists), bypassing the output gate.
  void sendDirectClose(int code, std::string reason);

 private:
  // Runs fn(*this) on the object's shard: now if called there with nothing queued, else posted
  // (note 1).
  template <typename Fn>
  void onShard(Fn fn);
  void onConnected(std::shared_ptr<WebSocketTransport> transport);
  void onMessage(std::string data, bool binary);
  void onCloseReceived(int code, std::string reason);
  void onClosed(int code, std::string reason, bool wasClean);
  void onError(std::string message);
  void transmit(std::string data, bool binary);
  void deliverClose(int code, std::string reason, bool wasClean);
  void deliver(std::unique_ptr<WebSocketEvent> event);
  bool live() const noexcept { return host_ != nullptr || static_cast<bool>(sink_); }
  void finish();

  ObjectHost* host_;  // null once detached, and for a Worker's socket
  // Boxed: most sockets belong to objects and have none (fields here cost every socket).
  std::unique_ptr<EventSink> sink_;
  base::EventLoop& loop_;
  uint64_t id_;
  // Both ends of a new pair are OPEN (readyState 1) from the start, as in workerd.
  State state_ = State::kOpen;
  bool accepted_ = false;
  bool hibernatable_ = false;
  bool closeSent_ = false;
  bool autoReplyToClose_ = true;
  bool closeReceived_ = false;   // the client's close frame arrived (it started the handshake)
  bool closeDelivered_ = false;  // the close event was queued for the object
  bool closeHandled_ = false;    // ... and its handler ran
  bool connectionGone_ = false;  // closed() arrived
  bool errorReported_ = false;   // error() arrived: no close event (as workerd)
  bool finished_ = false;
  std::atomic<uint32_t> queuedCalls_{0};  // endpoint calls posted and not yet run (note 1)
  std::shared_ptr<WebSocketTransport> transport_;
  // Sends made before the connection exists (after accept, before the handshake completed).
  // A vector, not a deque: a deque allocates ~600 bytes up front, for every socket.
  std::vector<std::pair<std::string, bool>> pending_;
  std::unique_ptr<std::pair<int, std::string>> pendingClose_;  // rare: boxed
  std::vector<std::string> tags_;
  std::string attachment_;
  std::optional<std::chrono::system_clock::time_point> autoResponseTime_;
};

}  // namespace duro::runtime
