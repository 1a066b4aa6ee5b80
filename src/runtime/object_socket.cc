// Implementation of ObjectSocket (object_socket.h).
//
// NOTES
//  1. Endpoint calls come from the connection's thread and are posted to the object's shard with
//     a shared_ptr to the socket, so the socket outlives every posted call. Nothing else crosses
//     threads: the transport is thread-safe by contract. A connection that runs on the object's
//     shard (HttpServerOptions::webSocketLoop) calls from that thread: then a call is handled at
//     once, unless earlier ones are still queued (queuedCalls_), so the order stays the arrival
//     order; a same-thread post would cost the loop a wake-up (epoll_ctl and epoll_wait) per
//     message. The session makes these calls only from its own I/O completions, never from inside
//     a send or close, so no handler runs nested in another.
//  2. Outgoing order: every send of the object goes through the output gate, which releases in
//     call order; before the handshake completes, released messages wait in pending_ and are
//     flushed in order by onConnected(). A close is queued behind them the same way.
//  3. Incoming: a message equal to the object's auto-response request is answered here, on the
//     shard, without an event (the instance is not constructed for it). Everything else becomes a
//     WebSocketEvent in the object's queue, in arrival order.
//  4. Closing, as workerd does it (include/duro/websocket.h has the net side):
//     - the client closes first (closeReceived): a standard socket with auto-reply answers at once
//       and is CLOSED in its close event; otherwise (hibernatable, or an old compatibility date)
//       nothing is answered, the socket is CLOSING in the event and the code answers with close();
//     - the object closes first: CLOSING until the client answers; the answer (closed(), clean)
//       is the close event, with readyState CLOSED;
//     - a drop: the close event has code 1006, wasClean false; readyState stays CLOSING
//       (hibernatable) or OPEN (standard) during it;
//     - a protocol error: an error event and no close event.
//     A socket leaves getWebSockets() once its close event was handled, and the host once the
//     connection is gone as well (finish()).
#include "runtime/object_socket.h"

#include "duro/status.h"
#include "runtime/object_host.h"
#include "runtime/websocket_event.h"

namespace duro::runtime {

ObjectSocket::ObjectSocket(ObjectHost* host, base::EventLoop& loop, uint64_t id)
    : host_(host), loop_(loop), id_(id) {}

ObjectSocket::~ObjectSocket() = default;

// ---- the object's side -------------------------------------------------------------------------

void ObjectSocket::accept(bool hibernatable, std::vector<std::string> tags, bool autoReplyToClose) {
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
  autoReplyToClose_ = autoReplyToClose;
  tags_ = std::move(tags);
  if (host_ != nullptr) host_->socketAccepted(*this);
}

bool ObjectSocket::listed() const noexcept {
  return accepted_ && hibernatable_ && !closeHandled_ && state_ != State::kClosed;
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
  if (host_ == nullptr) {
    if (sink_) transmit(std::move(data), binary);  // a Worker's socket: no output gate
    return;
  }
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
  bool valid = code == 0 || (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
               (code >= 1016 && code <= 4999);
  if (!valid) {
    throw Error(Status::invalidArgument("Invalid WebSocket close code: " + std::to_string(code) +
                                        "."));
  }
  if (reason.size() > 123) {
    throw Error(Status::invalidArgument("The WebSocket close reason is longer than 123 bytes."));
  }
  if (closeSent_ || state_ == State::kClosed) return;
  closeSent_ = true;
  // Answering the client's close frame ends the handshake; starting one leaves us CLOSING.
  state_ = (closeReceived_ || connectionGone_) ? State::kClosed : State::kClosing;
  if (host_ == nullptr) {
    if (sink_) sendDirectClose(code, std::move(reason));
    return;
  }
  host_->outputGate().whenDurable(
      [self = shared_from_this(), code, reason = std::move(reason)](const Status&) mutable {
        self->sendDirectClose(code, std::move(reason));
      });
}

void ObjectSocket::sendDirectClose(int code, std::string reason) {
  if (transport_) {
    transport_->close(code, std::move(reason));
  } else {
    pendingClose_ = std::make_unique<std::pair<int, std::string>>(code, std::move(reason));
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
  sink_.reset();
  if (transport_ && state_ != State::kClosed) transport_->close(1001, "Durable Object is going away");
  state_ = State::kClosed;
  finished_ = true;
}

// ---- endpoint calls (note 1) -------------------------------------------------------------------

template <typename Fn>
void ObjectSocket::onShard(Fn fn) {
  if (queuedCalls_.load(std::memory_order_relaxed) == 0 && loop_.isCurrent()) {
    fn(*this);
    return;
  }
  queuedCalls_.fetch_add(1, std::memory_order_relaxed);
  loop_.post([self = shared_from_this(), fn = std::move(fn)]() mutable {
    self->queuedCalls_.fetch_sub(1, std::memory_order_relaxed);
    fn(*self);
  });
}

void ObjectSocket::connected(std::shared_ptr<WebSocketTransport> transport) {
  onShard([transport = std::move(transport)](ObjectSocket& self) mutable {
    self.onConnected(std::move(transport));
  });
}

void ObjectSocket::message(std::string data, bool binary) {
  onShard([data = std::move(data), binary](ObjectSocket& self) mutable {
    self.onMessage(std::move(data), binary);
  });
}

void ObjectSocket::closeReceived(int code, std::string reason) {
  onShard([code, reason = std::move(reason)](ObjectSocket& self) mutable {
    self.onCloseReceived(code, std::move(reason));
  });
}

void ObjectSocket::closed(int code, std::string reason, bool wasClean) {
  onShard([code, reason = std::move(reason), wasClean](ObjectSocket& self) mutable {
    self.onClosed(code, std::move(reason), wasClean);
  });
}

void ObjectSocket::error(std::string message) {
  onShard([message = std::move(message)](ObjectSocket& self) mutable {
    self.onError(std::move(message));
  });
}

void ObjectSocket::onConnected(std::shared_ptr<WebSocketTransport> transport) {
  transport_ = std::move(transport);
  if (!live()) {
    transport_->close(1001, "Durable Object is going away");
    return;
  }
  for (auto& [data, binary] : pending_) transport_->send(std::move(data), binary);
  pending_.clear();
  pending_.shrink_to_fit();
  if (pendingClose_) {
    transport_->close(pendingClose_->first, std::move(pendingClose_->second));
    pendingClose_.reset();
  }
}

void ObjectSocket::onMessage(std::string data, bool binary) {
  if (!live() || state_ == State::kClosed) return;
  if (host_ != nullptr && !binary && host_->autoResponds(*this, data)) return;  // note 3
  deliver(std::make_unique<WebSocketEvent>(
      shared_from_this(), WebSocketEvent::Kind::kMessage, std::move(data), binary));
}

void ObjectSocket::onCloseReceived(int code, std::string reason) {
  if (!live() || closeReceived_) return;
  closeReceived_ = true;
  if (closeSent_) return;  // we were closing already: this is the answer
  if (!hibernatable_ && autoReplyToClose_) {
    // Note 4: the runtime answers with the client's code and reason.
    closeSent_ = true;
    sendDirectClose(code == 1005 ? 0 : code, reason);
    state_ = State::kClosed;
  } else {
    state_ = State::kClosing;
  }
  deliverClose(code, std::move(reason), true);
}

void ObjectSocket::onClosed(int code, std::string reason, bool wasClean) {
  connectionGone_ = true;
  if (!live()) return;
  if (errorReported_) {
    // A protocol error was reported: no close event (as workerd).
    state_ = State::kClosed;
    closeHandled_ = true;
    finish();
    return;
  }
  if (closeDelivered_) {
    // The close event was (or will be) delivered already; the connection is done now.
    state_ = State::kClosed;
    if (closeHandled_) finish();
    return;
  }
  if (closeSent_) {
    state_ = State::kClosed;  // the client answered our close frame (or it timed out)
  } else if (hibernatable_) {
    state_ = State::kClosing;  // a drop: CLOSING during the handler (note 4)
  }
  deliverClose(code, std::move(reason), wasClean);
}

void ObjectSocket::deliverClose(int code, std::string reason, bool wasClean) {
  closeDelivered_ = true;
  deliver(std::make_unique<WebSocketEvent>(
      shared_from_this(), WebSocketEvent::Kind::kClose, std::move(reason), false, code, wasClean));
}

void ObjectSocket::closeEventHandled() {
  closeHandled_ = true;
  if (connectionGone_) {
    state_ = State::kClosed;
    finish();
  } else if (host_ != nullptr) {
    host_->socketUnlisted(*this);
  }
}

void ObjectSocket::deliver(std::unique_ptr<WebSocketEvent> event) {
  if (host_ != nullptr) {
    host_->deliverSocketEvent(std::move(event));
  } else if (sink_) {
    (*sink_)(std::move(event));
  }
}

void ObjectSocket::finish() {
  if (finished_) return;
  finished_ = true;
  if (host_ != nullptr) host_->socketClosed(*this);
}

void ObjectSocket::onError(std::string message) {
  if (!live() || state_ == State::kClosed || errorReported_) return;
  errorReported_ = true;
  // workerd's wording, with the close code the net layer sent.
  int code = 1002;
  if (message.rfind("Message is too large", 0) == 0) code = 1009;
  if (message.find("UTF-8") != std::string::npos) code = 1007;
  deliver(std::make_unique<WebSocketEvent>(
      shared_from_this(), WebSocketEvent::Kind::kError,
      "WebSocket protocol error; protocolError.statusCode = " + std::to_string(code) +
          "; protocolError.description = " + message,
      false));
}

}  // namespace duro::runtime
