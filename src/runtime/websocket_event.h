// WebSocketEvent: a client's message, close or error on one of an object's WebSockets, delivered
// like every other event (in order, subject to the input gate, constructing the instance again if
// it was evicted while the socket hibernated).
#pragma once

#include <memory>
#include <string>

#include "runtime/object_event.h"
#include "runtime/object_socket.h"

namespace duro::runtime {

class WebSocketEvent final : public ObjectEvent {
 public:
  enum class Kind { kMessage, kClose, kError };

  WebSocketEvent(std::shared_ptr<ObjectSocket> socket, Kind kind, std::string data, bool binary,
                 int code = 0, bool wasClean = false)
      : socket_(std::move(socket)),
        kind_(kind),
        data_(std::move(data)),
        binary_(binary),
        code_(code),
        wasClean_(wasClean) {}

  Task<void> run(ObjectHost& host, DurableObject& object) override;
  void fail(Status status) override;
  bool isHibernatableSocketEvent() const override { return socket_->hibernatable(); }

  // For a Worker's socket (no object): the event's parts.
  const std::shared_ptr<ObjectSocket>& socket() const { return socket_; }
  Kind kind() const { return kind_; }
  std::string& data() { return data_; }
  bool binary() const { return binary_; }
  int code() const { return code_; }
  bool wasClean() const { return wasClean_; }

 private:
  std::shared_ptr<ObjectSocket> socket_;
  Kind kind_;
  std::string data_;  // the message, the close reason or the error
  bool binary_;
  int code_;
  bool wasClean_;
};

}  // namespace duro::runtime
