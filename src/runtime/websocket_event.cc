// Implementation of WebSocketEvent (websocket_event.h).
#include "runtime/websocket_event.h"

#include "runtime/object_host.h"

namespace duro::runtime {

Task<void> WebSocketEvent::run(ObjectHost& host, DurableObject& object) {
  try {
    switch (kind_) {
      case Kind::kMessage:
        co_await object.webSocketMessage(*socket_, std::move(data_), binary_);
        break;
      case Kind::kClose:
        co_await object.webSocketClose(*socket_, code_, std::move(data_), wasClean_);
        break;
      case Kind::kError:
        co_await object.webSocketError(*socket_, std::move(data_));
        break;
    }
  } catch (const std::exception& e) {
    // As on Cloudflare, a throwing WebSocket handler does not close the socket.
    host.logError(std::string("WebSocket handler failed: ") + e.what());
  }
  if (kind_ == Kind::kClose) socket_->closeEventHandled();
}

void WebSocketEvent::fail(Status status) {
  if (kind_ == Kind::kClose) socket_->closeEventHandled();
  // The event never ran (queue full, constructor threw, shutdown): the client hears about it.
  if (kind_ == Kind::kMessage && socket_->state() == WebSocket::State::kOpen) {
    socket_->close(1011, "Durable Object could not handle the message");
  }
}

}  // namespace duro::runtime
