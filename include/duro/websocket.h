// WebSockets between the network and Durable Objects: the two interfaces that meet when a handler
// answers an upgrade request with `101 Switching Protocols`.
//
//   client <-> net::HttpServer (WebSocketTransport) <-> runtime (WebSocketEndpoint) <-> object
//
// A handler that accepts a WebSocket returns a Response with status 101 and `webSocket` set to the
// endpoint that should receive the client's frames (for JavaScript: the server end of a
// WebSocketPair). The HTTP layer then completes the handshake on that connection, hands the
// endpoint a WebSocketTransport to send with, and delivers every frame the client sends. A 101
// response without an endpoint, or to a request that is not a WebSocket upgrade, is an error (500).
#pragma once

#include <memory>
#include <string>

namespace duro {

// The network side of an accepted WebSocket (implemented by the net layer). Thread-safe: callable
// from any thread; messages leave in call order. Calls after the socket closed are ignored.
class WebSocketTransport {
 public:
  virtual ~WebSocketTransport() = default;
  // Sends one message (a text frame must be valid UTF-8).
  virtual void send(std::string data, bool binary) = 0;
  // Starts the closing handshake with `code` (1000 or 3000-4999; 0 sends a close frame without a
  // code) and `reason` (at most 123 bytes). The connection ends when the client answers, or after
  // a timeout.
  virtual void close(int code, std::string reason) = 0;
  // Bytes queued for sending and not yet written to the socket (for back-pressure and tests).
  virtual size_t bufferedBytes() const = 0;
};

// What receives the client's side of a WebSocket (implemented by the runtime). Called on the
// connection's event-loop thread, one call at a time, in the order the frames arrived;
// implementations hand the work to their own thread.
class WebSocketEndpoint {
 public:
  virtual ~WebSocketEndpoint() = default;
  // The handshake completed: from now on the object can send through `transport`.
  virtual void connected(std::shared_ptr<WebSocketTransport> transport) = 0;
  // One complete message (fragments are joined).
  virtual void message(std::string data, bool binary) = 0;
  // The connection ended: with the client's close frame (wasClean, its code and reason; 1005 if
  // it sent no code), or without one (code 1006, wasClean false). Called exactly once, last.
  virtual void closed(int code, std::string reason, bool wasClean) = 0;
  // A protocol error (a malformed frame, invalid UTF-8 in a text message, a message larger than
  // the limit): the connection is being closed; closed() follows.
  virtual void error(std::string message) = 0;
};

}  // namespace duro
