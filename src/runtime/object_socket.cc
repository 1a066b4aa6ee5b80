// Implementation of ObjectSocket (object_socket.h).
//
// NOTES
//  1. Endpoint calls come from the connection's thread and are posted to the object's shard with
//     a shared_ptr to the socket, so the socket outlives every posted call. Nothing else crosses
//     threads: the transport is thread-safe by contract.
//  2. Outgoing order: every send of the object goes through the output gate, which releases in
//     call order; before the handshake completes, released messages wait in pending_ and are
//     flushed in order by onConnected(). A close is queued behind them the same way.
//  3. Incoming: a message equal to the object's auto-response request is answered here, on the
//     shard, without an event (the instance is not constructed for it). Everything else becomes a
//     WebSocketEvent in the object's queue, in arrival order.
#include "runtime/object_socket.h"

#include "duro/status.h"
#include "runtime/object_host.h"
#include "runtime/websocket_event.h"

namespace duro::runtime {

ObjectSocket::ObjectSocket(ObjectHost* host, base::EventLoop& loop, uint64_t id)
    : host_(host), loop_(loop), id_(id) {}

ObjectSocket::~ObjectSocket() = default;

// ---- the object's side -------------------------------------------------------------------------

void ObjectSocket::accept(bool hibernatable, std::vector<std::string> tags) {
  if (accepted_) {
    throw Error(Status::invalidArgument("The WebSocket has already been accepted."));
  }
  if (hibernatable) {
    if (host_ != nullptr) host_->checkSocketLimit();
    if (tags.size() > kMaxTags) {
      throw Error(Status::invalidArgument("A WebSocket can have a maximum of 10 tags."));
    }
    for (const std::string& tag : tags) {
      if (tag.size() > kMaxTagLength) {
        throw Error(Status::invalidArgument(
            "A WebSocket tag can have a maximum of 256 characters."));
      }
    }
  }
  accepted_ = true;
  hibernatable_ = hibernatable;
  tags_ = std::move(tags);
  if (state_ == State::kConnecting && transport_) state_ = State::kOpen;
  if (host_ != nullptr) host_->socketAccepted(*this);
}

void ObjectSocket::send(std::string data, bool binary) {
  if (!accepted_) {
    throw Error(Status::invalidArgument(
        "You must call one of accept() or state.acceptWebSocket() on this WebSocket before "
        "sending messages."));
  }
  if (state_ == State::kClosing || state_ == State::kClosed || closeSent_) {
    throw Error(Status::invalidArgument("Can't call WebSocket send() after close()."));
  }
  if (host_ == nullptr) return;
  // Note 2: behind the writes made before it.
  host_->outputGate().whenDurable(
      [self = shared_from_this(), data = std::move(data), binary](const Status& gate) mutable {
        if (!gate.isOk()) {
          // The writes it depended on were lost: the message must not leave.
          self->sendDirectClose(1011, "Durable Object storage failed");
          return;
        }
        self->transmit(std::move(data), binary);
      });
}

void ObjectSocket::close(int code, std::string reason) {
  if (code != 0 && code != 1000 && (code < 3000 || code > 4999)) {
    throw Error(Status::invalidArgument("Invalid WebSocket close code: " + std::to_string(code) +
                                        "."));
  }
  if (reason.size() > 123) {
    throw Error(Status::invalidArgument("The WebSocket close reason is longer than 123 bytes."));
  }
  if (closeSent_ || state_ == State::kClosed) return;
  closeSent_ = true;
  if (state_ == State::kOpen || state_ == State::kConnecting) state_ = State::kClosing;
  if (host_ == nullptr) return;
  host_->outputGate().whenDurable(
      [self = shared_from_this(), code, reason = std::move(reason)](const Status&) mutable {
        self->sendDirectClose(code, std::move(reason));
      });
}

void ObjectSocket::sendDirectClose(int code, std::string reason) {
  if (transport_) {
    transport_->close(code, std::move(reason));
  } else {
    pendingClose_.emplace(code, std::move(reason));
  }
}

void ObjectSocket::setAttachment(std::string bytes) {
  if (bytes.size() > kMaxAttachmentBytes) {
    throw Error(Status::limitExceeded(
        "A WebSocket attachment cannot be larger than 16384 bytes (" +
        std::to_string(bytes.size()) + " bytes were given)."));
  }
  attachment_ = std::move(bytes);
}

void ObjectSocket::sendDirect(std::string data, bool binary) { transmit(std::move(data), binary); }

void ObjectSocket::transmit(std::string data, bool binary) {
  if (transport_) {
    transport_->send(std::move(data), binary);
  } else if (state_ != State::kClosed) {
    pending_.emplace_back(std::move(data), binary);
  }
}

void ObjectSocket::detach() {
  host_ = nullptr;
  if (transport_ && state_ != State::kClosed) transport_->close(1001, "Durable Object is going away");
  state_ = State::kClosed;
}

// ---- endpoint calls (note 1) -------------------------------------------------------------------

void ObjectSocket::connected(std::shared_ptr<WebSocketTransport> transport) {
  loop_.post([self = shared_from_this(), transport = std::move(transport)]() mutable {
    self->onConnected(std::move(transport));
  });
}

void ObjectSocket::message(std::string data, bool binary) {
  loop_.post([self = shared_from_this(), data = std::move(data), binary]() mutable {
    self->onMessage(std::move(data), binary);
  });
}

void ObjectSocket::closeReceived(int code, std::string reason) {
  loop_.post([self = shared_from_this(), code, reason = std::move(reason)]() mutable {
    if (self->transport_) self->transport_->close(code, std::move(reason));
  });
}

void ObjectSocket::closed(int code, std::string reason, bool wasClean) {
  loop_.post([self = shared_from_this(), code, reason = std::move(reason), wasClean]() mutable {
    self->onClosed(code, std::move(reason), wasClean);
  });
}

void ObjectSocket::error(std::string message) {
  loop_.post([self = shared_from_this(), message = std::move(message)]() mutable {
    self->onError(std::move(message));
  });
}

void ObjectSocket::onConnected(std::shared_ptr<WebSocketTransport> transport) {
  transport_ = std::move(transport);
  if (host_ == nullptr) {
    transport_->close(1001, "Durable Object is going away");
    return;
  }
  if (state_ == State::kConnecting) state_ = accepted_ ? State::kOpen : State::kConnecting;
  while (!pending_.empty()) {
    transport_->send(std::move(pending_.front().first), pending_.front().second);
    pending_.pop_front();
  }
  if (pendingClose_) {
    transport_->close(pendingClose_->first, std::move(pendingClose_->second));
    pendingClose_.reset();
  }
}

void ObjectSocket::onMessage(std::string data, bool binary) {
  if (host_ == nullptr || state_ == State::kClosed) return;
  if (!binary && host_->autoResponds(*this, data)) return;  // note 3
  host_->deliverSocketEvent(std::make_unique<WebSocketEvent>(
      shared_from_this(), WebSocketEvent::Kind::kMessage, std::move(data), binary));
}

void ObjectSocket::onClosed(int code, std::string reason, bool wasClean) {
  if (state_ == State::kClosed) return;
  state_ = State::kClosed;
  if (host_ == nullptr) return;
  host_->deliverSocketEvent(std::make_unique<WebSocketEvent>(
      shared_from_this(), WebSocketEvent::Kind::kClose, std::move(reason), false, code, wasClean));
  host_->socketClosed(*this);
}

void ObjectSocket::onError(std::string message) {
  if (host_ == nullptr || state_ == State::kClosed) return;
  host_->deliverSocketEvent(std::make_unique<WebSocketEvent>(
      shared_from_this(), WebSocketEvent::Kind::kError, std::move(message), false));
}

}  // namespace duro::runtime
