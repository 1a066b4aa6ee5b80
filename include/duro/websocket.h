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

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace duro {

// The network side of an accepted WebSocket (implemented by the net layer). Thread-safe: callable
// from any thread; send() and close() leave in call order. Calls after close(), or after the
// connection ended (closed() was delivered), are ignored.
class WebSocketTransport {
 public:
  virtual ~WebSocketTransport() = default;
  // Sends one message (a text frame must be valid UTF-8). Allowed until close() is called, also
  // after the client's close frame arrived (WebSocketEndpoint::closeReceived).
  virtual void send(std::string data, bool binary) = 0;
  // Sends our close frame after the messages queued before it, with `code` (1000-1003,
  // 1007-1014 or 3000-4999; 0 or 1005 send a close frame without a code; others are logged and
  // replaced by 1000) and `reason` (cut to 123 bytes). It either answers the client's close frame
  // (after closeReceived(): the connection then ends) or starts the closing handshake (the
  // connection ends when the client answers, or after a timeout). See WebSocketEndpoint.
  virtual void close(int code, std::string reason) = 0;
  // Bytes queued for sending and not yet written to the socket (for back-pressure and tests).
  virtual size_t bufferedBytes() const = 0;
};

// What receives the client's side of a WebSocket (implemented by the runtime). Called on the
// connection's event-loop thread, one call at a time, in the order the frames arrived;
// implementations hand the work to their own thread.
//
// The closing handshake (RFC 6455 5.5.1 / 7), as Cloudflare runs it: the application decides
// when, and with what, a client's close frame is answered.
//  - The client closes first: closeReceived(code, reason); nothing is answered yet, and sends still
//    go out. transport->close(code', reason') sends our close frame, then the TCP connection is
//    shut down and closed(code, reason, true) follows (the client's code and reason). If nobody
//    calls close() within HttpServerOptions::webSocketCloseReplyTimeout (30 s), the connection is
//    closed without a close frame and closed(code, reason, true) follows all the same.
//  - We close first: transport->close(code, reason) sends our close frame; the client's answer
//    does NOT call closeReceived(); closed(its code, its reason, true) follows. Without an answer
//    within HttpServerOptions::webSocketCloseTimeout (5 s): closed(1006, ..., false). Messages
//    the client sends before its answer are still delivered.
//  - The connection drops without the client's close frame: closed(1006, "WebSocket disconnected
//    without sending Close frame.", false) (workerd's text).
//  - The client breaks the protocol: error(what), then closed(1006, <the text above>, false); the
//    client gets a close frame as workerd sends it: 1009 "Message is too large: <frame size> >
//    <what remained of the limit>" for a message over the limit, 1007 for invalid UTF-8 in a text
//    message, 1002 for protocol errors (unmasked frame, reserved bits or opcodes, bad control
//    frames, bad continuation).
//  - Server shutdown answers or starts the closing handshake with 1001.
// Once the client's close frame has arrived, every end is reported with its code and reason and
// wasClean true.
class WebSocketEndpoint {
 public:
  virtual ~WebSocketEndpoint() = default;
  // The handshake completed: from now on the object can send through `transport`.
  virtual void connected(std::shared_ptr<WebSocketTransport> transport) = 0;
  // One complete message (fragments are joined). Pings are answered by the net layer, unreported.
  virtual void message(std::string data, bool binary) = 0;
  // The client sent a close frame (code 1005 if it had none) that started the closing handshake,
  // and it has NOT been answered: the answer is transport->close(), from the endpoint or anyone
  // else; until then the socket is closing and sends still go out. Not called for the client's
  // answer to our own close frame. At most once; closed() follows (see above).
  virtual void closeReceived(int code, std::string reason) = 0;
  // The connection ended (see above for the codes). Called exactly once, last.
  virtual void closed(int code, std::string reason, bool wasClean) = 0;
  // A protocol error (a malformed frame, invalid UTF-8 in a text message, a message larger than
  // the limit): the connection is being closed; closed() follows.
  virtual void error(std::string message) = 0;
};

// A WebSocket accepted by a Durable Object, as the object sees it (Cloudflare's server end of a
// WebSocketPair). Use only on the object's shard. Hibernatable sockets (ObjectState::
// acceptWebSocket) stay connected while the object is evicted; their messages wake it up.
class WebSocket {
 public:
  enum class State { kConnecting = 0, kOpen = 1, kClosing = 2, kClosed = 3 };  // readyState

  // Limits as Cloudflare documents them for hibernatable sockets.
  static constexpr size_t kMaxTags = 10;
  static constexpr size_t kMaxTagLength = 256;
  static constexpr size_t kMaxAttachmentBytes = 16 * 1024;

  virtual ~WebSocket() = default;
  // Unique within the process.
  virtual uint64_t id() const = 0;
  virtual State state() const = 0;
  // Sends a message; it leaves once every write the object made before it is durable (the output
  // gate). Throws duro::Error if the socket is not open (closed, or not yet accepted).
  virtual void send(std::string data, bool binary = false) = 0;
  // Starts the closing handshake (code 1000 or 3000-4999, reason up to 123 bytes; throws
  // duro::Error for others).
  virtual void close(int code = 1000, std::string reason = "") = 0;
  // The tags given to acceptWebSocket.
  virtual const std::vector<std::string>& tags() const = 0;
  // Bytes kept with the socket across hibernation (at most 16 KiB; throws duro::Error beyond).
  virtual void setAttachment(std::string bytes) = 0;
  virtual const std::string& attachment() const = 0;
  // When the auto-response last answered on this socket, if ever.
  virtual std::optional<std::chrono::system_clock::time_point> autoResponseTime() const = 0;
};

// A new pair: put `client` in a 101 Response's webSocket; use `server` from the object.
struct WebSocketPair {
  std::shared_ptr<WebSocketEndpoint> client;
  std::shared_ptr<WebSocket> server;
};

}  // namespace duro
