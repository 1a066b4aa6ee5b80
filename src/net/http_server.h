// HttpServer: duro's HTTP/1.1 front door. It accepts TCP connections on one listening socket,
// spreads them round-robin over the shard EventLoops, parses requests into duro::Request, hands
// them to one HttpHandler and writes the duro::Response back (keep-alive, pipelining, limits,
// graceful drain). A `101` answer with `Response::webSocket` turns the connection into a WebSocket
// (include/duro/websocket.h; websocket_session.cc). Beast and the wire format stay in .cc files.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/event_loop.h"
#include "duro/http.h"
#include "duro/status.h"
#include "duro/websocket.h"

namespace duro::net {

namespace detail {
class ServerCore;  // the state shared by the acceptor and the connections (http_server.cc)
}

struct HttpServerOptions {
  // Address to listen on: an IPv4/IPv6 literal or a host name resolved once at start().
  std::string host = "127.0.0.1";
  // 0 = let the kernel pick a free port; port() tells which.
  uint16_t port = 0;
  // Request line + header fields. Beyond this the client gets 431 and the connection closes.
  size_t maxHeaderBytes = 32 * 1024;
  // Request body (Content-Length or the sum of chunks). Beyond this: 413, then close.
  size_t maxBodyBytes = 16 * 1024 * 1024;
  // A keep-alive connection idle for this long is closed; so is one whose client takes longer than
  // this to send a request header (counted from its first byte), stalls this long in a body, or
  // does not read our response for this long. Time spent inside the handler does not count.
  std::chrono::milliseconds idleTimeout{60000};

  // WebSockets (a 101 answer with Response::webSocket). idleTimeout does not apply to them: an
  // open WebSocket may stay silent for as long as its peer is alive (TCP keep-alive finds dead
  // peers; see websocket_session.cc).
  //
  // A message from a client larger than this (the sum of its frames) fails the connection: the
  // endpoint gets error(), the client a close frame with 1009 (Message Too Big). The default is
  // the limit Cloudflare documents for WebSocket messages received by a Durable Object, 32 MiB
  // (developers.cloudflare.com/durable-objects/platform/limits/; older pages said 1 MiB). 0: no
  // limit.
  size_t maxWebSocketMessageBytes = 32 * 1024 * 1024;
  // How long a closing handshake we start may take (from queueing our close frame until the
  // client's answer, then until the TCP connection has ended) and how long the opening handshake
  // may take to be written. Past it the socket is closed and the endpoint sees closed(1006, ...,
  // false) (or the client's code, clean, if its close frame had arrived).
  std::chrono::milliseconds webSocketCloseTimeout{5000};
  // How long a client's close frame waits for the endpoint's answer (transport->close(); see
  // WebSocketEndpoint::closeReceived). Past it the connection is closed without a close frame and
  // the endpoint sees closed() with the client's code and reason, wasClean true.
  std::chrono::milliseconds webSocketCloseReplyTimeout{30000};
  // Where an upgraded connection lives (optional): the loop (one of the server's loops) to run
  // the WebSocket of `endpoint` on, or null to keep it on the loop that accepted it. Choosing the
  // loop the endpoint's own work runs on (a Durable Object's shard) saves two thread hops per
  // message and answer. The endpoint is then called on that loop's thread. Called once per
  // upgrade, on the accepting loop; must not throw (an exception keeps the accepting loop).
  std::function<base::EventLoop*(const WebSocketEndpoint&)> webSocketLoop;
};

// Completes one request. Call exactly once; further calls are ignored. Call it on the
// connection's loop thread (the one the handler ran on); a call from another thread is posted to
// that loop. It may be called later (asynchronously). If the connection is gone, it is a harmless
// no-op. If every copy is destroyed without a call, the client gets a 500. Must not outlive the
// EventLoop the request arrived on.
using Responder = std::function<void(duro::Response)>;
// Called on the connection's loop thread for each request, one request at a time per connection
// (pipelined requests wait for the previous response). Any exception it throws becomes a 500.
//
// WebSockets: answering a valid upgrade request (GET, HTTP/1.1, `Upgrade: websocket`,
// `Connection: upgrade`, `Sec-WebSocket-Version: 13`, a `Sec-WebSocket-Key`) with status 101 and
// `Response::webSocket` set completes the handshake (the 101 carries the response's headers, e.g.
// Sec-WebSocket-Protocol) and hands the connection to that endpoint: connected(transport), then
// message() per client message, closeReceived() when the client starts the closing handshake (it
// is answered only by transport->close()), error() on a protocol error, and closed() exactly
// once, last, all on the connection's loop thread (the accepting loop, or the one
// HttpServerOptions::webSocketLoop chose). The transport (thread-safe) must not be used after the
// EventLoop is destroyed. A 101 without an endpoint, or to a request that is not a valid upgrade,
// is logged and answered 500; any other status to an upgrade request is a plain HTTP response.
// An endpoint that gets no WebSocket (the request was not an upgrade, the status is not 101, the
// client left before the answer) is told closed(1006, "", false) without connected().
using HttpHandler = std::function<void(duro::Request, Responder)>;

// Threading: construct, start() and destroy on one controlling thread; shutdown(),
// inFlightRequests(), openConnections() and port() may be called from any thread. Each connection
// lives entirely on one loop.
//
// Lifetime: destroy the server before its loops, and either on loops[0]'s thread, after
// shutdown()'s onDrained has run, or while no loop is running (stopped and joined). Destroying a
// server that still has connections closes them abruptly without calling the handler again (an
// open WebSocket's endpoint gets closed(1006, "", false), on the destroying thread if its loop is
// not running).
class HttpServer {
 public:
  // loops: the shard loops (not empty, borrowed); connections are spread round-robin over them and
  // the listening socket lives on loops[0].
  HttpServer(std::vector<base::EventLoop*> loops, HttpServerOptions options, HttpHandler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds, listens and starts accepting (on loops[0]). Returns an error Status such as
  // "cannot listen on 127.0.0.1:80: Permission denied" if the address cannot be bound.
  // Call at most once.
  duro::Status start();
  // The bound port (after a successful start()), else 0.
  uint16_t port() const;

  // Graceful shutdown, callable from any thread: stops accepting (closes the listening socket),
  // closes idle keep-alive connections, closes open WebSockets with 1001 (Going Away; their
  // endpoints see closed()), lets every in-flight request finish and be written (with
  // "Connection: close"), then calls onDrained exactly once (on some loop thread, or inline if the
  // server is already drained) when no connection remains. Calling it again is allowed; each
  // callback is called once. The loops must keep running until onDrained.
  void shutdown(std::function<void()> onDrained);

  // Requests handed to the handler whose response has not been given yet.
  size_t inFlightRequests() const;
  // Accepted connections that are not yet closed.
  size_t openConnections() const;
  // False before start(), and once shutdown() has closed the listening socket.
  bool isAccepting() const;

 private:
  std::shared_ptr<detail::ServerCore> core_;
};

}  // namespace duro::net
