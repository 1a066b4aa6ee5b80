// WebSocketSession: one WebSocket connection after HttpServer has accepted an upgrade (internal to
// src/net). It owns the TCP socket from then on, writes the 101 (accept key from Beast), speaks
// RFC 6455 itself (websocket_frame.h: Beast's websocket::stream would answer close frames on its
// own), feeds the client's messages to a duro::WebSocketEndpoint and gives that endpoint a
// thread-safe duro::WebSocketTransport to answer with.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/ip/tcp.hpp>

#include "base/event_loop.h"
#include "duro/websocket.h"

namespace duro::net::detail {

struct WebSocketSessionOptions {
  // Larger client messages fail the connection with 1009 (HttpServerOptions).
  size_t maxMessageBytes = 32 * 1024 * 1024;
  // Bound on the opening handshake write, on a close we send (from queueing it until the
  // client's answer) and on the TCP teardown after it (HttpServerOptions::webSocketCloseTimeout).
  std::chrono::milliseconds closeTimeout{5000};
  // How long a client's close frame may wait for the endpoint's answer (transport->close())
  // before the connection is closed anyway (HttpServerOptions::webSocketCloseReplyTimeout).
  std::chrono::milliseconds closeReplyTimeout{30000};
};

// Lives on one EventLoop: create(), accept(), goingAway() and abort() are loop-thread only (abort()
// also while the loop is not running). Owned by shared_ptrs held by its own pending operations;
// the caller keeps a weak_ptr. Errors never throw: a failed handshake or connection ends in the
// endpoint's closed() (1006), protocol errors in error() and then closed().
//
// Endpoint calls: connected() once the 101 is written; message() per complete client message;
// closeReceived() when the client starts the closing handshake (not when it answers ours); error()
// before closed() when the client broke the protocol; closed() exactly once, last (also when the
// handshake fails, then without connected() and with reason ""). All on the loop thread.
class WebSocketSession {
 public:
  // Header fields for the 101 beyond the ones the handshake owns (already filtered by the caller).
  using HeaderList = std::vector<std::pair<std::string, std::string>>;

  virtual ~WebSocketSession() = default;

  // `socket` is the upgraded connection (its request already parsed). `onFinished` runs exactly
  // once on the loop after closed() was delivered and the socket is closed (or from the
  // destructor, if the io_context dropped the session's handlers).
  static std::shared_ptr<WebSocketSession> create(base::EventLoop& loop,
                                                  boost::asio::ip::tcp::socket socket,
                                                  const WebSocketSessionOptions& options,
                                                  std::shared_ptr<WebSocketEndpoint> endpoint,
                                                  std::function<void()> onFinished);

  // Completes the opening handshake for a validated upgrade request with this
  // Sec-WebSocket-Key (at most 24 characters): writes the 101 with `responseHeaders`. `pending`
  // holds bytes the client sent after the request (already read from the socket); they are parsed
  // as the first WebSocket frames, not lost. Call once.
  virtual void accept(std::string_view key, HeaderList responseHeaders,
                      std::string_view pending) = 0;
  // Server shutdown: closes with 1001 (Going Away) after what is already queued, or right after
  // the opening handshake if it is still under way. Also answers a client's close frame that
  // the endpoint has not answered yet.
  virtual void goingAway() = 0;
  // Closes the socket now; the endpoint sees closed() before this returns: 1006 (wasClean false),
  // or the client's code and reason (wasClean true) if its close frame had already arrived.
  virtual void abort() = 0;
};

}  // namespace duro::net::detail
