// Implementation of HttpServer (http_server.h): the acceptor, one Connection state machine per
// TCP connection, the request parser (a Beast basic_parser that fills duro::Request directly), the
// response serializer and the hand-over of upgraded connections to WebSocketSession
// (websocket_session.cc).
//
// Design notes
// ============
// Threads. The acceptor and its retry timer live on loops[0]. An accepted socket is created on
// the io_context of the loop chosen round-robin and handed to that loop with post(); from then on
// its Connection is touched only on that loop. Cross-thread state is in ServerCore as atomics
// (counters, flags) or under drainMutex_ (the drain callbacks).
//
// Connection state machine (Connection::phase_). One request at a time per connection: pipelined
// requests wait in readBuf_ until the previous response is queued, so responses are in order.
//
//          start()                   processInput(): parse readBuf_
//   new ──────────► kReading ◄──────────────────────────┐
//                      │ onRead() ─► processInput()      │
//                      │   complete request: dispatch() ─► kHandling ── deliver() ─┐
//                      │   need more bytes, out_ empty: doRead() (stay kReading)   │
//                      │   need more bytes, out_ queued: doWrite() ─► kWriting     │
//                      │   malformed / too large: errorResponse(), closeAfterWrite_│
//                      ▼                                                           │
//                   kWriting ── onWrite() ─► processInput() ◄──────────────────────┘
//                      │ closeAfterWrite_ and out_ flushed: lingerClose()
//                      ▼
//                  kLingering ── EOF / error / kLingerTimeout / kLingerMaxBytes ─► close()
//   Any phase ── I/O error, idle deadline (onTimer), server shutdown while idle ─► kClosed
// kIdle is the transient phase while processInput() runs synchronously (no I/O outstanding).
//
// WebSockets. deliver() of a 101 with Response::webSocket for a request dispatch() found to be a
// valid upgrade (reqWebSocketKey_) sets upgrade_ instead of queueing a response; processInput()
// flushes the earlier pipelined responses, then startWebSocket() moves the socket and the bytes
// read past the request into a WebSocketSession and hands the connection over:
//
//   kIdle ── startWebSocket() ─► kClosed (the Connection is freed; the session lives on)
//
// An idle WebSocket may stay open for days, so nothing of the HTTP side is kept for it (parser,
// buffers, timer: about 900 bytes). Its loop keeps only an entry in LoopState::webSockets (the
// session, weakly) so that shutdown reaches it (closeIdleConnections() → goingAway(): close
// 1001) and so does abandon() (closeAllConnections() → abort()). The session's onFinished removes
// the entry and uncounts the connection.
//
// Invariants
//  1. At most one read and at most one write are outstanding, never both (phase_ says which).
//  2. A request is dispatched only when no earlier response is pending (phase_ != kHandling), so
//     out_ holds responses in request order; a large body (outBody_) is flushed before the next
//     response is appended.
//  3. inFlight_ counts Connections in kHandling; it is decremented exactly once per dispatch, by
//     deliver() or by close(), whichever comes first. seq_ makes a late Responder a no-op.
//  4. openConnections_ is incremented on loops[0] before the Connection is posted to its loop and
//     decremented once by close() (or the destructor if the io_context was torn down first). It
//     is never incremented after acceptorClosed_ is set, so "shuttingDown_ && acceptorClosed_ &&
//     openConnections_ == 0" is stable once true: maybeDrained() fires the callbacks once.
//  5. The idle timer always has one wait outstanding while the connection is open (lazy deadline:
//     activity moves deadline_, the timer re-arms itself on expiry), so there is no per-request
//     timer cost. Time in kHandling never counts.
//  6. Closing after a final response uses a lingering close (shutdown(send), then read and discard
//     until EOF), so a client that is still sending sees the 4xx instead of a reset.
//  7. An upgraded connection was counted by openConnections_ when accepted and is uncounted
//     exactly once, by its session's onFinished (webSocketFinished()); its request left inFlight_
//     in deliver() (the 101).
#include "net/http_server.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <limits>
#include <mutex>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <utility>

#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>

#include "base/log.h"
#include "net/websocket_session.h"

namespace duro::net {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using boost::system::error_code;
// Beast 1.81 uses boost::core::string_view (BOOST_BEAST_USE_STD_STRING_VIEW no longer applies); it
// converts implicitly to std::string_view.
using BeastStringView = boost::beast::string_view;

namespace {

constexpr std::string_view kLogComponent = "http";
// Bytes requested per read(2).
constexpr size_t kReadChunk = 16 * 1024;
// Bodies up to this size are copied behind the response head (one buffer, one write); larger ones
// are written from the Response's own string.
constexpr size_t kInlineBodyLimit = 16 * 1024;
// Queued response bytes beyond which processInput() flushes before parsing the next request.
constexpr size_t kFlushThreshold = 64 * 1024;
// Per-connection buffers larger than this are released once flushed.
constexpr size_t kMaxRetainedBuffer = 256 * 1024;
// Lingering close: how long and how much we keep reading (and discarding) after the last response.
constexpr auto kLingerTimeout = std::chrono::seconds(2);
constexpr size_t kLingerMaxBytes = 1024 * 1024;
// Never pre-reserve more than this for a body, whatever Content-Length claims.
constexpr size_t kMaxBodyReserve = 1024 * 1024;
// Back-off after accept() fails for lack of resources (EMFILE etc.).
constexpr auto kAcceptRetryDelay = std::chrono::milliseconds(50);

void appendNumber(std::string& out, uint64_t value) {
  char buf[24];
  auto result = std::to_chars(buf, buf + sizeof(buf), value);
  out.append(buf, result.ptr);
}

std::string_view trimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// True if the comma-separated list `value` contains `token` (case-insensitive).
bool hasToken(std::string_view value, std::string_view token) {
  while (true) {
    size_t comma = value.find(',');
    if (equalsIgnoreCase(trimOws(value.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) return false;
    value.remove_prefix(comma + 1);
  }
}

bool isValidHeaderName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == ':') return false;
  }
  return true;
}

bool isValidHeaderValue(std::string_view value) {
  return value.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

// A Host header we are willing to paste into "http://<host><target>": printable, no characters
// that would change where the authority ends.
bool isValidHost(std::string_view host) {
  for (char c : host) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) return false;
    if (c == '/' || c == '\\' || c == '?' || c == '#' || c == '@') return false;
  }
  return true;
}

bool startsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && equalsIgnoreCase(s.substr(0, prefix.size()), prefix);
}

// "host:port", bracketing IPv6 literals.
std::string formatHostPort(std::string_view host, uint16_t port) {
  std::string out;
  bool v6 = host.find(':') != std::string_view::npos;
  if (v6) out += '[';
  out += host;
  if (v6) out += ']';
  out += ':';
  appendNumber(out, port);
  return out;
}

// Parses one request straight into a duro::Request (no intermediate beast::http::fields).
// Limits come from HttpServerOptions; Beast reports header_limit / body_limit / syntax errors.
class RequestParser final : public bhttp::basic_parser<true> {
 public:
  // `target` is scratch storage owned by the connection, reused across requests.
  RequestParser(const HttpServerOptions& options, std::string& target)
      : target_(target), maxHeaderBytes_(options.maxHeaderBytes) {
    header_limit(static_cast<std::uint32_t>(
        std::min<size_t>(options.maxHeaderBytes, std::numeric_limits<std::uint32_t>::max())));
    body_limit(static_cast<std::uint64_t>(options.maxBodyBytes));
    eager(true);
    target_.clear();
  }

  duro::Request& request() { return request_; }
  const std::string& target() const { return target_; }
  int version() const { return version_; }
  bool isHead() const { return isHead_; }
  bool expectContinue() const { return expectContinue_; }
  // The request has an Upgrade header (so it may be a WebSocket handshake).
  bool hasUpgrade() const { return hasUpgrade_; }
  // The Host header value, or nullopt if there was none. Valid until request() is moved from.
  std::optional<std::string_view> host() const {
    if (hostIndex_ < 0) return std::nullopt;
    return std::string_view(request_.headers.fields()[static_cast<size_t>(hostIndex_)].second);
  }

 private:
  void on_request_impl(bhttp::verb method, BeastStringView methodString, BeastStringView target,
                       int version, error_code& ec) override {
    request_.method.assign(methodString);
    target_.assign(target);
    version_ = version;
    isHead_ = method == bhttp::verb::head;
    headerBytes_ = methodString.size() + target.size() + sizeof(" HTTP/1.1\r\n");
    if (headerBytes_ > maxHeaderBytes_) ec = bhttp::error::header_limit;
  }

  void on_response_impl(int, BeastStringView, int, error_code& ec) override {
    ec = bhttp::error::bad_version;  // unreachable for a request parser
  }

  void on_field_impl(bhttp::field name, BeastStringView nameString, BeastStringView value,
                     error_code& ec) override {
    // Beast applies header_limit to the request line and to the fields separately; the option
    // bounds them together.
    headerBytes_ += nameString.size() + value.size() + 4;
    if (headerBytes_ > maxHeaderBytes_) {
      ec = bhttp::error::header_limit;
      return;
    }
    switch (name) {
      case bhttp::field::host:
        if (hostIndex_ >= 0) {  // RFC 9112 3.2: more than one Host is a 400
          ec = bhttp::error::bad_value;
          return;
        }
        hostIndex_ = static_cast<int>(request_.headers.fields().size());
        break;
      case bhttp::field::transfer_encoding: {
        // Beast treats a request whose last coding is not "chunked" as having no body; RFC 9112
        // 6.3 says such a request must be rejected (otherwise the body would be read as the next
        // request: a smuggling vector).
        std::string_view last = value;
        size_t comma = last.rfind(',');
        if (comma != std::string_view::npos) last.remove_prefix(comma + 1);
        if (!equalsIgnoreCase(trimOws(last), "chunked")) {
          ec = bhttp::error::bad_transfer_encoding;
          return;
        }
        break;
      }
      case bhttp::field::expect:
        if (equalsIgnoreCase(trimOws(value), "100-continue")) expectContinue_ = true;
        break;
      case bhttp::field::upgrade:
        hasUpgrade_ = true;
        break;
      default:
        break;
    }
    request_.headers.append(nameString, value);
  }

  void on_header_impl(error_code&) override {}

  void on_body_init_impl(const boost::optional<std::uint64_t>& contentLength,
                         error_code&) override {
    if (contentLength) {
      request_.body.reserve(
          static_cast<size_t>(std::min<std::uint64_t>(*contentLength, kMaxBodyReserve)));
    }
  }

  size_t on_body_impl(BeastStringView body, error_code&) override {
    request_.body.append(body);
    return body.size();
  }

  void on_chunk_header_impl(std::uint64_t, BeastStringView, error_code&) override {}

  size_t on_chunk_body_impl(std::uint64_t, BeastStringView body, error_code&) override {
    request_.body.append(body);
    return body.size();
  }

  void on_finish_impl(error_code&) override {}

  duro::Request request_;
  std::string& target_;
  const size_t maxHeaderBytes_;
  size_t headerBytes_ = 0;
  int version_ = 11;
  int hostIndex_ = -1;
  bool isHead_ = false;
  bool expectContinue_ = false;
  bool hasUpgrade_ = false;
};

// The request's URL as a Worker sees it. False if the Host header or the target is unusable.
bool buildUrl(const RequestParser& parser, const std::string& defaultHost, std::string* url) {
  const std::string& target = parser.target();
  if (startsWithIgnoreCase(target, "http://") || startsWithIgnoreCase(target, "https://")) {
    *url = target;  // absolute-form (proxy style): the target already is the URL
    return true;
  }
  if (target.empty() || target.front() != '/') return false;  // authority-form, "*"
  std::string_view host = defaultHost;
  if (auto h = parser.host(); h && !h->empty()) host = *h;
  if (!isValidHost(host)) return false;
  url->clear();
  url->reserve(7 + host.size() + target.size());
  url->append("http://").append(host).append(target);
  return true;
}

// True if any `name` field of `headers` lists `token` (case-insensitive; "Connection: keep-alive"
// and "Connection: Upgrade" may come as separate fields).
bool anyFieldHasToken(const duro::Headers& headers, std::string_view name, std::string_view token) {
  for (const auto& [fieldName, value] : headers.fields()) {
    if (equalsIgnoreCase(fieldName, name) && hasToken(value, token)) return true;
  }
  return false;
}

// If the request is a valid WebSocket opening handshake (RFC 6455 4.2.1), returns its
// Sec-WebSocket-Key; otherwise "" and *problem says why (for the log).
std::string webSocketKey(const duro::Request& request, int version, const char** problem) {
  if (request.method != "GET") {
    *problem = "the method is not GET";
    return {};
  }
  if (version != 11) {
    *problem = "it is not HTTP/1.1";
    return {};
  }
  if (!anyFieldHasToken(request.headers, "upgrade", "websocket")) {
    *problem = "no \"Upgrade: websocket\"";
    return {};
  }
  if (!anyFieldHasToken(request.headers, "connection", "upgrade")) {
    *problem = "no \"Connection: upgrade\"";
    return {};
  }
  std::optional<std::string_view> wsVersion = request.headers.get("sec-websocket-version");
  if (!wsVersion || trimOws(*wsVersion) != "13") {
    *problem = "Sec-WebSocket-Version is not 13";
    return {};
  }
  std::optional<std::string_view> key = request.headers.get("sec-websocket-key");
  std::string_view trimmed = key ? trimOws(*key) : std::string_view();
  // A base64-encoded 16-byte nonce: 24 characters (Beast's accept-key helper takes no more).
  if (trimmed.empty() || trimmed.size() > 24) {
    *problem = "no valid Sec-WebSocket-Key";
    return {};
  }
  return std::string(trimmed);
}

// Header fields of a 101 that the WebSocket handshake owns (or that make no sense on it).
bool isHandshakeOwnedField(std::string_view name) {
  return equalsIgnoreCase(name, "content-length") || equalsIgnoreCase(name, "transfer-encoding") ||
         equalsIgnoreCase(name, "keep-alive") || equalsIgnoreCase(name, "connection") ||
         equalsIgnoreCase(name, "upgrade") || equalsIgnoreCase(name, "sec-websocket-accept") ||
         equalsIgnoreCase(name, "sec-websocket-extensions");  // no extension is negotiated
}

// Tells an endpoint that will get no connection (the client is gone, or the response could not
// accept a WebSocket) that it is over, so that whoever waits for connected() is not left hanging.
void refuseEndpoint(std::shared_ptr<WebSocketEndpoint> endpoint) noexcept {
  if (!endpoint) return;
  try {
    endpoint->closed(1006, "", false);
  } catch (const std::exception& e) {
    base::logError(kLogComponent, std::string("WebSocket endpoint's closed() threw: ") + e.what());
  } catch (...) {
    base::logError(kLogComponent, "WebSocket endpoint's closed() threw a non-std exception");
  }
}

}  // namespace

namespace detail {

class Connection;

// The connections of one loop. Touched only on that loop's thread.
struct LoopState {
  base::EventLoop* loop = nullptr;
  std::vector<Connection*> connections;
  // Upgraded connections (their Connection is gone), by a number of this loop.
  std::unordered_map<uint64_t, std::weak_ptr<WebSocketSession>> webSockets;
  uint64_t nextWebSocket = 0;
};

// What the acceptor, every Connection and HttpServer share. Held by shared_ptr from each of them
// and from posted tasks, so it outlives whichever goes last.
class ServerCore : public std::enable_shared_from_this<ServerCore> {
 public:
  ServerCore(std::vector<base::EventLoop*> loops, HttpServerOptions options, HttpHandler handler)
      : options_(std::move(options)), handler_(std::move(handler)) {
    for (base::EventLoop* loop : loops) {
      auto state = std::make_unique<LoopState>();
      state->loop = loop;
      loops_.push_back(std::move(state));
    }
  }

  Status start();
  void shutdown(std::function<void()> onDrained);
  // Called by ~HttpServer.
  void abandon();

  // Loop-thread entry points used by Connection.
  void connectionClosed();
  // A WebSocket session of loop `ls` finished (invariant 7).
  void webSocketFinished(LoopState* ls, uint64_t id);
  // The loop an upgraded connection should live on (options().webSocketLoop), else `current`.
  LoopState* webSocketLoopFor(const WebSocketEndpoint& endpoint, LoopState* current);
  // Starts the session of an upgraded connection on `ls` (its loop's thread).
  void openWebSocket(LoopState* ls, tcp::socket socket, std::shared_ptr<WebSocketEndpoint> endpoint,
                     std::string_view key, WebSocketSession::HeaderList headers,
                     std::string_view pending);
  // Takes the connection's file descriptor out of `socket` (the loop `current`'s) and opens the
  // session on `ls`'s thread (or on `current`, if the descriptor cannot be taken out).
  void moveWebSocket(LoopState* ls, LoopState* current, tcp::socket& socket,
                     std::shared_ptr<WebSocketEndpoint> endpoint, std::string key,
                     WebSocketSession::HeaderList headers, std::string pending);

  const HttpServerOptions& options() const { return options_; }
  const HttpHandler& handler() const { return handler_; }
  const std::string& defaultHost() const { return defaultHost_; }
  bool shuttingDown() const { return shuttingDown_.load(std::memory_order_relaxed); }
  bool abandoned() const { return abandoned_.load(std::memory_order_relaxed); }

  // Read by HttpServer from any thread; see invariants 3 and 4.
  std::atomic<size_t> inFlight_{0};
  std::atomic<size_t> openConnections_{0};
  std::atomic<uint16_t> port_{0};
  std::atomic<bool> accepting_{false};

 private:
  void doAccept();
  void onAccept(const error_code& ec, tcp::socket socket, LoopState* target);
  void closeAcceptor();                      // loops[0] only
  void closeIdleConnections(LoopState* ls);  // that loop only
  void closeAllConnections(LoopState* ls);   // that loop only
  void maybeDrained();
  // Runs fn on `loop` now if that is safe (we are on it, or it is not running), else posts it.
  template <typename Fn>
  void runOn(base::EventLoop* loop, Fn fn) {
    if (loop->isCurrent() || loop->io().stopped()) {
      fn();
    } else {
      loop->post(std::move(fn));
    }
  }

  const HttpServerOptions options_;
  const HttpHandler handler_;
  std::vector<std::unique_ptr<LoopState>> loops_;
  // Set by start() before the first connection exists; read-only afterwards.
  std::string defaultHost_;

  // loops[0] only.
  std::optional<tcp::acceptor> acceptor_;
  std::optional<asio::steady_timer> acceptRetryTimer_;
  size_t nextLoop_ = 0;

  std::atomic<bool> shuttingDown_{false};
  std::atomic<bool> abandoned_{false};
  std::atomic<bool> acceptorClosed_{true};

  std::mutex drainMutex_;
  bool drained_ = false;                               // guarded by drainMutex_
  std::vector<std::function<void()>> drainCallbacks_;  // guarded by drainMutex_
};

// One TCP connection. Owned by shared_ptrs held by its pending I/O handlers and Responders.
// Lives entirely on its loop's thread.
class Connection final : public std::enable_shared_from_this<Connection> {
 public:
  Connection(std::shared_ptr<ServerCore> core, LoopState& loopState, tcp::socket socket)
      : core_(std::move(core)),
        loopState_(loopState),
        socket_(std::move(socket)),
        timer_(loopState.loop->io()) {
    error_code ec;
    tcp::endpoint peer = socket_.remote_endpoint(ec);
    if (!ec) clientAddress_ = peer.address().to_string();
  }

  ~Connection() {
    // Reached without close() only when the io_context destroyed our pending handlers.
    if (phase_ != Phase::kClosed) {
      if (phase_ == Phase::kHandling) core_->inFlight_.fetch_sub(1);
      unregister();
      core_->openConnections_.fetch_sub(1);
    }
  }

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  base::EventLoop& loop() { return *loopState_.loop; }

  void start() {
    registryIndex_ = loopState_.connections.size();
    loopState_.connections.push_back(this);
    deadline_ = Clock::now() + core_->options().idleTimeout;
    armTimer(deadline_);
    if (core_->shuttingDown() || core_->abandoned()) {
      close();
      return;
    }
    doRead();
  }

  // The server is draining: an idle keep-alive connection closes now; one with a request under
  // way finishes it (its response says "Connection: close").
  void onServerShutdown() {
    if (phase_ == Phase::kReading && isBetweenRequests()) close();
  }

  enum class Delivery { kResponded, kDropped };

  // Gives the response for request `seq`. Loop thread only. kDropped: the handler let go of its
  // Responder without calling it (`response` is then our 500).
  void deliver(uint64_t seq, Response response, Delivery how) {
    if (phase_ != Phase::kHandling || seq != seq_) {
      refuseEndpoint(std::move(response.webSocket));  // the connection is gone
      return;
    }
    if (how == Delivery::kDropped) {
      base::logError(kLogComponent, "a Responder was dropped without a response; sending 500");
    }
    core_->inFlight_.fetch_sub(1);
    phase_ = Phase::kIdle;
    deadline_ = Clock::now() + core_->options().idleTimeout;
    if (!takeWebSocket(response)) queueResponse(std::move(response));
    if (!inDispatch_) processInput();
  }

  void close() {
    if (phase_ == Phase::kClosed) return;
    Phase previous = phase_;
    if (previous == Phase::kHandling) core_->inFlight_.fetch_sub(1);
    phase_ = Phase::kClosed;
    if (upgrade_) {  // closed while flushing the responses before a 101
      refuseEndpoint(std::move(upgrade_->endpoint));
      upgrade_.reset();
    }
    error_code ignored;
    socket_.close(ignored);
    timer_.cancel();
    unregister();
    if (previous == Phase::kHandling || previous == Phase::kIdle) {
      // No read or write holds our buffers, and a Responder may keep this object alive for a
      // while: release the memory now.
      parser_.reset();
      readBuf_ = boost::beast::flat_buffer();
      out_ = std::string();
      outBody_ = std::string();
    }
    core_->connectionClosed();
  }

 private:
  enum class Phase { kIdle, kReading, kHandling, kWriting, kLingering, kClosed };

  // A 101 accepted by takeWebSocket(), waiting for the earlier responses to be flushed.
  struct PendingUpgrade {
    std::shared_ptr<WebSocketEndpoint> endpoint;
    WebSocketSession::HeaderList headers;
  };

  bool isBetweenRequests() const {
    return readBuf_.size() == 0 && (!parser_ || !parser_->got_some());
  }

  void unregister() {
    auto& list = loopState_.connections;
    if (registryIndex_ >= list.size() || list[registryIndex_] != this) return;
    list[registryIndex_] = list.back();
    list[registryIndex_]->registryIndex_ = registryIndex_;
    list.pop_back();
    registryIndex_ = static_cast<size_t>(-1);
  }

  // Parses what readBuf_ holds, dispatching complete requests one at a time, and decides the next
  // I/O. See the state diagram at the top of the file.
  void processInput() {
    phase_ = Phase::kIdle;
    while (true) {
      // The last response leaves first; then the connection is handed over or closed.
      if (upgrade_ || closeAfterWrite_) {
        if (!out_.empty() || !outBody_.empty()) {
          doWrite();
        } else if (upgrade_) {
          startWebSocket();
        } else {
          lingerClose();
        }
        return;
      }
      if (!outBody_.empty() || out_.size() >= kFlushThreshold) {
        doWrite();
        return;
      }
      if (core_->abandoned()) {
        close();
        return;
      }
      if (!parser_) parser_.emplace(core_->options(), targetScratch_);
      error_code ec;
      auto data = readBuf_.data();
      size_t used = parser_->put(asio::const_buffer(data.data(), data.size()), ec);
      readBuf_.consume(used);
      if (ec == bhttp::error::need_more || (!ec && used == 0 && !parser_->is_done())) {
        if (parser_->is_header_done() && parser_->expectContinue() && !continueSent_ &&
            parser_->version() >= 11) {
          out_.append("HTTP/1.1 100 Continue\r\n\r\n");
          continueSent_ = true;
        }
        if (!out_.empty()) {
          doWrite();
        } else if (core_->shuttingDown() && isBetweenRequests()) {
          close();
        } else {
          doRead();
        }
        return;
      }
      if (ec) {
        rejectRequest(ec);
        continue;  // flushes, then closes
      }
      if (parser_->is_done()) {
        dispatch();
        if (phase_ != Phase::kIdle) return;  // kHandling (async handler) or kClosed
      }
    }
  }

  void rejectRequest(const error_code& ec) {
    if (ec == bhttp::error::header_limit) {
      errorResponse(431, "Request Header Fields Too Large");
    } else if (ec == bhttp::error::body_limit) {
      errorResponse(413, "Payload Too Large");
    } else {
      errorResponse(400, std::string("Bad Request: ") + ec.message());
    }
  }

  void errorResponse(int status, std::string_view message) {
    parser_.reset();
    reqVersion_ = 11;
    reqKeepAlive_ = false;
    reqHead_ = false;
    queueResponse(Response::text(std::string(message) + "\n", status));
  }

  void dispatch() {
    RequestParser& parser = *parser_;
    reqVersion_ = parser.version();
    reqKeepAlive_ = parser.keep_alive();
    reqHead_ = parser.isHead();
    continueSent_ = false;
    duro::Request request;
    bool urlOk = buildUrl(parser, core_->defaultHost(), &request.url);
    if (!urlOk) {
      errorResponse(400, "Bad Request: invalid Host header or request target");
      return;
    }
    request.method = std::move(parser.request().method);
    request.headers = std::move(parser.request().headers);
    request.body = std::move(parser.request().body);
    request.clientAddress = clientAddress_;
    if (parser.hasUpgrade()) {
      reqWebSocketKey_ = webSocketKey(request, reqVersion_, &reqUpgradeProblem_);
    } else {
      reqWebSocketKey_.clear();
      reqUpgradeProblem_ = "it has no Upgrade header";
    }
    parser_.reset();

    phase_ = Phase::kHandling;
    ++seq_;
    core_->inFlight_.fetch_add(1);
    auto state = std::make_shared<ResponderState>(shared_from_this(), seq_);
    inDispatch_ = true;
    try {
      core_->handler()(std::move(request),
                       Responder([state](Response r) { state->respond(std::move(r)); }));
    } catch (const std::exception& e) {
      base::logError(kLogComponent, std::string("handler threw: ") + e.what());
      state->respond(Response::text("Internal Server Error\n", 500));
    } catch (...) {
      base::logError(kLogComponent, "handler threw a non-std exception");
      state->respond(Response::text("Internal Server Error\n", 500));
    }
    inDispatch_ = false;
  }

  // Looks at Response::webSocket. True if the response accepts a WebSocket (upgrade_ is set and
  // processInput() will switch protocols). Otherwise the response is sent as HTTP: a 101 that
  // cannot start a WebSocket is replaced by a 500 (and logged), and an endpoint given with another
  // status is refused (closed(1006) without connected()).
  bool takeWebSocket(Response& response) {
    if (response.status != 101) {
      if (response.webSocket) {
        base::logWarn(kLogComponent, "the handler gave a WebSocket endpoint with status " +
                                         std::to_string(response.status) +
                                         " (only 101 accepts a WebSocket); ignoring the endpoint");
        refuseEndpoint(std::move(response.webSocket));
      }
      return false;
    }
    if (!response.webSocket) {
      base::logError(kLogComponent,
                     "the handler answered 101 without a WebSocket endpoint; sending 500");
    } else if (reqWebSocketKey_.empty()) {
      base::logError(kLogComponent,
                     std::string("the handler answered 101 with a WebSocket endpoint to a request "
                                 "that is not a WebSocket upgrade (") +
                         reqUpgradeProblem_ + "); sending 500");
    } else {
      PendingUpgrade upgrade;
      upgrade.endpoint = std::move(response.webSocket);
      for (const auto& [name, value] : response.headers.fields()) {
        if (isHandshakeOwnedField(name)) continue;
        if (!isValidHeaderName(name) || !isValidHeaderValue(value)) continue;
        upgrade.headers.emplace_back(name, value);
      }
      upgrade_.emplace(std::move(upgrade));
      return true;
    }
    refuseEndpoint(std::move(response.webSocket));
    response = Response::text("Internal Server Error", 500);  // workerd's body for this case
    return false;
  }

  // Hands the socket, and the bytes read past the upgrade request, to a WebSocketSession.
  void startWebSocket() {
    PendingUpgrade upgrade = std::move(*upgrade_);
    upgrade_.reset();
    // Hand-over: from here the session counts as the open connection (invariant 7).
    phase_ = Phase::kClosed;
    timer_.cancel();  // idleTimeout does not apply to WebSockets
    unregister();
    auto pending = readBuf_.data();
    std::string_view pendingBytes(static_cast<const char*>(pending.data()), pending.size());
    LoopState* target = core_->webSocketLoopFor(*upgrade.endpoint, &loopState_);
    if (target == &loopState_) {
      core_->openWebSocket(target, std::move(socket_), std::move(upgrade.endpoint),
                           reqWebSocketKey_, std::move(upgrade.headers), pendingBytes);
    } else {
      core_->moveWebSocket(target, &loopState_, socket_, std::move(upgrade.endpoint),
                           std::move(reqWebSocketKey_), std::move(upgrade.headers),
                           std::string(pendingBytes));
    }
    parser_.reset();
    readBuf_ = boost::beast::flat_buffer();
    out_ = std::string();
    outBody_ = std::string();
    targetScratch_ = std::string();
    reqWebSocketKey_ = std::string();
  }

  // Appends the response head (and a small body) to out_.
  void queueResponse(Response response) {
    int status = response.status;
    // takeWebSocket() has dealt with 101 (a WebSocket, or a 500 instead); other 1xx answers are
    // not supported.
    if (status < 200 || status > 999) {
      base::logError(kLogComponent, "handler returned an invalid status; sending 500");
      response = Response::text("Internal Server Error\n", 500);
      status = 500;
    }
    bool keepAlive = reqKeepAlive_ && !core_->shuttingDown() && !core_->abandoned();
    out_.append(reqVersion_ == 10 ? "HTTP/1.0 " : "HTTP/1.1 ");
    appendNumber(out_, static_cast<uint64_t>(status));
    out_.push_back(' ');
    out_.append(reasonPhrase(status));
    out_.append("\r\n");
    for (const auto& [name, value] : response.headers.fields()) {
      if (equalsIgnoreCase(name, "content-length") || equalsIgnoreCase(name, "transfer-encoding") ||
          equalsIgnoreCase(name, "keep-alive")) {
        continue;  // framing is ours
      }
      if (equalsIgnoreCase(name, "connection")) {
        if (hasToken(value, "close")) keepAlive = false;
        continue;
      }
      if (!isValidHeaderName(name) || !isValidHeaderValue(value))
        continue;  // no response splitting
      out_.append(name).append(": ").append(value).append("\r\n");
    }
    // RFC 9110: 204 and 304 carry no content (and 204 no Content-Length).
    bool hasBody = status != 204 && status != 304;
    if (hasBody) {
      out_.append("Content-Length: ");
      appendNumber(out_, response.body.size());
      out_.append("\r\n");
    }
    if (!keepAlive) {
      out_.append("Connection: close\r\n");
    } else if (reqVersion_ == 10) {
      out_.append("Connection: keep-alive\r\n");
    }
    out_.append("\r\n");
    if (hasBody && !reqHead_) {
      if (response.body.size() <= kInlineBodyLimit) {
        out_.append(response.body);
      } else {
        outBody_ = std::move(response.body);
      }
    }
    if (!keepAlive) closeAfterWrite_ = true;
  }

  void doRead() {
    phase_ = Phase::kReading;
    socket_.async_read_some(
        readBuf_.prepare(kReadChunk),
        [self = shared_from_this()](const error_code& ec, size_t n) { self->onRead(ec, n); });
  }

  void onRead(const error_code& ec, size_t n) {
    if (phase_ == Phase::kClosed) return;
    if (ec) {  // EOF, reset, cancelled: nothing more to answer
      close();
      return;
    }
    readBuf_.commit(n);
    // Header bytes do not extend the deadline once a request has begun (a client trickling a
    // header cannot hold the connection forever); body bytes do (slow uploads are legitimate).
    if (!parser_ || !parser_->got_some() || parser_->is_header_done()) {
      deadline_ = Clock::now() + core_->options().idleTimeout;
    }
    processInput();
  }

  // Writes with write_some rather than async_write so that every partial write moves the idle
  // deadline: a large response to a slow but live client is not cut off.
  void doWrite() {
    phase_ = Phase::kWriting;
    std::array<asio::const_buffer, 2> buffers{asio::buffer(out_) + outSent_,
                                              asio::buffer(outBody_) + bodySent_};
    socket_.async_write_some(buffers, [self = shared_from_this()](const error_code& ec, size_t n) {
      self->onWrite(ec, n);
    });
  }

  void onWrite(const error_code& ec, size_t n) {
    if (phase_ == Phase::kClosed) return;
    if (ec) {
      close();
      return;
    }
    deadline_ = Clock::now() + core_->options().idleTimeout;
    size_t fromHead = std::min(n, out_.size() - outSent_);
    outSent_ += fromHead;
    bodySent_ += n - fromHead;
    if (outSent_ < out_.size() || bodySent_ < outBody_.size()) {
      doWrite();
      return;
    }
    out_.clear();
    if (out_.capacity() > kMaxRetainedBuffer) out_ = std::string();
    outBody_ = std::string();
    outSent_ = 0;
    bodySent_ = 0;
    processInput();
  }

  // Half-closes and discards input until the client closes too (invariant 6).
  void lingerClose() {
    phase_ = Phase::kLingering;
    error_code ec;
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    if (ec) {
      close();
      return;
    }
    parser_.reset();
    readBuf_.clear();
    lingerBytes_ = 0;
    deadline_ = Clock::now() + kLingerTimeout;
    if (deadline_ < timerExpiry_) armTimer(deadline_);
    doLingerRead();
  }

  void doLingerRead() {
    socket_.async_read_some(readBuf_.prepare(kReadChunk),
                            [self = shared_from_this()](const error_code& ec, size_t n) {
                              if (self->phase_ == Phase::kClosed) return;
                              self->lingerBytes_ += n;
                              if (ec || self->lingerBytes_ > kLingerMaxBytes) {
                                self->close();
                                return;
                              }
                              self->doLingerRead();
                            });
  }

  void armTimer(Clock::time_point at) {
    timerExpiry_ = at;
    timer_.expires_at(at);
    timer_.async_wait([self = shared_from_this()](const error_code& ec) { self->onTimer(ec); });
  }

  void onTimer(const error_code& ec) {
    if (ec == asio::error::operation_aborted || phase_ == Phase::kClosed) return;
    Clock::time_point now = Clock::now();
    if (phase_ == Phase::kHandling) deadline_ = now + core_->options().idleTimeout;
    if (now < deadline_) {
      armTimer(deadline_);
      return;
    }
    close();
  }

  // The state behind one Responder (and its copies): at most one response gets through, and a
  // Responder dropped without a call still answers (500) so the connection cannot hang.
  struct ResponderState {
    ResponderState(std::shared_ptr<Connection> c, uint64_t s) : conn(std::move(c)), seq(s) {}
    ResponderState(const ResponderState&) = delete;
    ResponderState& operator=(const ResponderState&) = delete;
    ~ResponderState() {
      if (!used.load(std::memory_order_relaxed)) {
        send(Response::text("Internal Server Error\n", 500), Delivery::kDropped);
      }
    }
    void respond(Response r) {
      if (used.exchange(true)) return;
      send(std::move(r), Delivery::kResponded);
    }
    void send(Response r, Delivery how) {
      if (conn->loop().isCurrent()) {
        conn->deliver(seq, std::move(r), how);
      } else {
        conn->loop().post([c = conn, s = seq, r = std::move(r), how]() mutable {
          c->deliver(s, std::move(r), how);
        });
      }
    }
    std::shared_ptr<Connection> conn;
    uint64_t seq;
    std::atomic<bool> used{false};
  };

  std::shared_ptr<ServerCore> core_;
  LoopState& loopState_;
  size_t registryIndex_ = static_cast<size_t>(-1);
  tcp::socket socket_;
  std::string clientAddress_;  // the peer's IP address, for Request::clientAddress
  asio::steady_timer timer_;
  boost::beast::flat_buffer readBuf_;
  std::optional<RequestParser> parser_;
  std::string targetScratch_;
  std::string out_;      // queued response bytes (heads and small bodies), in request order
  std::string outBody_;  // one large body, written right after out_
  size_t outSent_ = 0;   // bytes of out_ already written
  size_t bodySent_ = 0;  // bytes of outBody_ already written
  Phase phase_ = Phase::kIdle;
  bool inDispatch_ = false;
  bool closeAfterWrite_ = false;
  bool continueSent_ = false;
  // The request being handled / answered.
  uint64_t seq_ = 0;
  int reqVersion_ = 11;
  bool reqKeepAlive_ = true;
  bool reqHead_ = false;
  // The request's Sec-WebSocket-Key if it is a valid WebSocket upgrade, else "" and why not.
  std::string reqWebSocketKey_;
  const char* reqUpgradeProblem_ = "";
  std::optional<PendingUpgrade> upgrade_;
  Clock::time_point deadline_{};
  Clock::time_point timerExpiry_{};
  size_t lingerBytes_ = 0;
};

Status ServerCore::start() {
  if (loops_.empty()) return Status::invalidArgument("HttpServer needs at least one EventLoop");
  if (shuttingDown_.load()) return Status::unavailable("HttpServer was shut down");
  if (acceptor_) return Status::invalidArgument("HttpServer::start() called twice");
  const std::string where = formatHostPort(options_.host, options_.port);
  asio::io_context& io = loops_[0]->loop->io();
  error_code ec;
  tcp::endpoint endpoint;
  asio::ip::address address = asio::ip::make_address(options_.host, ec);
  if (!ec) {
    endpoint = tcp::endpoint(address, options_.port);
  } else {
    tcp::resolver resolver(io);
    auto results =
        resolver.resolve(options_.host, std::to_string(options_.port), tcp::resolver::passive, ec);
    if (ec || results.empty()) {
      return Status::invalidArgument("cannot listen on " + where + ": " +
                                     (ec ? ec.message() : std::string("host not found")));
    }
    endpoint = results.begin()->endpoint();
  }

  tcp::acceptor acceptor(io);
  auto fail = [&](const error_code& e) {
    return Status::invalidArgument("cannot listen on " + where + ": " + e.message());
  };
  acceptor.open(endpoint.protocol(), ec);
  if (ec) return fail(ec);
  acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (ec) return fail(ec);
  acceptor.bind(endpoint, ec);
  if (ec) return fail(ec);
  acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail(ec);
  uint16_t boundPort = acceptor.local_endpoint(ec).port();
  if (ec) return fail(ec);

  port_.store(boundPort);
  defaultHost_ = formatHostPort(options_.host, boundPort);
  acceptor_.emplace(std::move(acceptor));
  acceptorClosed_.store(false);
  accepting_.store(true);
  loops_[0]->loop->post([self = shared_from_this()] { self->doAccept(); });
  return Status::ok();
}

void ServerCore::doAccept() {
  if (!acceptor_) return;
  LoopState* target = loops_[nextLoop_].get();
  nextLoop_ = (nextLoop_ + 1) % loops_.size();
  acceptor_->async_accept(target->loop->io(), [self = shared_from_this(), target](
                                                  const error_code& ec, tcp::socket socket) {
    self->onAccept(ec, std::move(socket), target);
  });
}

void ServerCore::onAccept(const error_code& ec, tcp::socket socket, LoopState* target) {
  if (!acceptor_ || abandoned()) return;  // closed meanwhile: `socket` is closed on return
  if (ec) {
    if (ec == asio::error::operation_aborted) return;
    if (ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space ||
        ec == asio::error::no_memory) {
      base::logWarn(kLogComponent, "accept failed, retrying shortly: " + ec.message());
      acceptRetryTimer_.emplace(loops_[0]->loop->io());
      acceptRetryTimer_->expires_after(kAcceptRetryDelay);
      acceptRetryTimer_->async_wait([self = shared_from_this()](const error_code& e) {
        if (!e) self->doAccept();
      });
      return;
    }
    doAccept();  // e.g. ECONNABORTED: the peer gave up; keep going
    return;
  }
  error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  openConnections_.fetch_add(1);
  target->loop->post([self = shared_from_this(), target, s = std::move(socket)]() mutable {
    std::make_shared<Connection>(self, *target, std::move(s))->start();
  });
  doAccept();
}

void ServerCore::closeAcceptor() {
  if (acceptor_) {
    error_code ignored;
    acceptor_->close(ignored);
    acceptor_.reset();
  }
  if (acceptRetryTimer_) {
    acceptRetryTimer_->cancel();
    acceptRetryTimer_.reset();
  }
  accepting_.store(false);
  acceptorClosed_.store(true);
  maybeDrained();
}

namespace {
// The live sessions of a loop (a session may finish, and leave the map, while we call it).
std::vector<std::shared_ptr<WebSocketSession>> liveWebSockets(LoopState* ls) {
  std::vector<std::shared_ptr<WebSocketSession>> sessions;
  sessions.reserve(ls->webSockets.size());
  for (auto& [id, weak] : ls->webSockets) {
    if (auto session = weak.lock()) sessions.push_back(std::move(session));
  }
  return sessions;
}
}  // namespace

void ServerCore::closeIdleConnections(LoopState* ls) {
  std::vector<std::shared_ptr<Connection>> snapshot;
  snapshot.reserve(ls->connections.size());
  for (Connection* c : ls->connections) snapshot.push_back(c->shared_from_this());
  for (auto& c : snapshot) c->onServerShutdown();
  // WebSockets close with 1001.
  for (auto& session : liveWebSockets(ls)) session->goingAway();
}

void ServerCore::closeAllConnections(LoopState* ls) {
  std::vector<std::shared_ptr<Connection>> snapshot;
  snapshot.reserve(ls->connections.size());
  for (Connection* c : ls->connections) snapshot.push_back(c->shared_from_this());
  for (auto& c : snapshot) c->close();
  // Each reports closed(1006) and ends in webSocketFinished().
  for (auto& session : liveWebSockets(ls)) session->abort();
}

void ServerCore::shutdown(std::function<void()> onDrained) {
  bool callNow = false;
  {
    std::lock_guard<std::mutex> lock(drainMutex_);
    if (drained_) {
      callNow = true;
    } else {
      drainCallbacks_.push_back(std::move(onDrained));
    }
  }
  if (callNow) {
    if (onDrained) onDrained();
    return;
  }
  if (shuttingDown_.exchange(true)) return;  // the first call already set things in motion
  if (loops_.empty()) {
    maybeDrained();
    return;
  }
  auto self = shared_from_this();
  loops_[0]->loop->post([self] { self->closeAcceptor(); });
  for (auto& ls : loops_) {
    LoopState* raw = ls.get();
    raw->loop->post([self, raw] { self->closeIdleConnections(raw); });
  }
}

void ServerCore::abandon() {
  abandoned_.store(true);
  if (loops_.empty()) return;
  auto self = shared_from_this();
  runOn(loops_[0]->loop, [self] { self->closeAcceptor(); });
  for (auto& ls : loops_) {
    LoopState* raw = ls.get();
    runOn(raw->loop, [self, raw] { self->closeAllConnections(raw); });
  }
}

void ServerCore::connectionClosed() {
  openConnections_.fetch_sub(1);
  maybeDrained();
}

void ServerCore::webSocketFinished(LoopState* ls, uint64_t id) {
  if (ls->webSockets.erase(id) == 0) return;  // once (invariant 7)
  connectionClosed();
}

LoopState* ServerCore::webSocketLoopFor(const WebSocketEndpoint& endpoint, LoopState* current) {
  if (!options_.webSocketLoop) return current;
  base::EventLoop* wanted = nullptr;
  try {
    wanted = options_.webSocketLoop(endpoint);
  } catch (...) {
    return current;
  }
  if (wanted == nullptr || wanted == current->loop) return current;
  for (auto& ls : loops_) {
    if (ls->loop == wanted) return ls.get();
  }
  return current;  // not one of ours
}

void ServerCore::openWebSocket(LoopState* ls, tcp::socket socket,
                               std::shared_ptr<WebSocketEndpoint> endpoint, std::string_view key,
                               WebSocketSession::HeaderList headers, std::string_view pending) {
  WebSocketSessionOptions sessionOptions;
  sessionOptions.maxMessageBytes = options_.maxWebSocketMessageBytes;
  sessionOptions.closeTimeout = options_.webSocketCloseTimeout;
  sessionOptions.closeReplyTimeout = options_.webSocketCloseReplyTimeout;
  const uint64_t id = ls->nextWebSocket++;
  std::shared_ptr<WebSocketSession> session = WebSocketSession::create(
      *ls->loop, std::move(socket), sessionOptions, std::move(endpoint),
      [core = shared_from_this(), ls, id] { core->webSocketFinished(ls, id); });
  ls->webSockets.emplace(id, session);
  session->accept(key, std::move(headers), pending);
  if (abandoned()) {
    session->abort();
  } else if (shuttingDown()) {
    session->goingAway();
  }
}

namespace {
// An upgraded connection on its way to another loop: if the post never runs (the loop was torn
// down), the socket is closed, the endpoint told and the connection uncounted all the same.
struct MovingWebSocket {
  std::shared_ptr<ServerCore> core;
  int fd = -1;
  tcp protocol = tcp::v4();
  std::shared_ptr<WebSocketEndpoint> endpoint;
  std::string key;
  WebSocketSession::HeaderList headers;
  std::string pending;

  MovingWebSocket() = default;
  MovingWebSocket(MovingWebSocket&& other) noexcept
      : core(std::move(other.core)),
        fd(std::exchange(other.fd, -1)),
        protocol(other.protocol),
        endpoint(std::move(other.endpoint)),
        key(std::move(other.key)),
        headers(std::move(other.headers)),
        pending(std::move(other.pending)) {}
  MovingWebSocket& operator=(MovingWebSocket&&) = delete;
  ~MovingWebSocket() {
    if (fd < 0) return;
    ::close(fd);
    refuseEndpoint(std::move(endpoint));
    core->connectionClosed();
  }
};
}  // namespace

void ServerCore::moveWebSocket(LoopState* ls, LoopState* current, tcp::socket& socket,
                               std::shared_ptr<WebSocketEndpoint> endpoint, std::string key,
                               WebSocketSession::HeaderList headers, std::string pending) {
  MovingWebSocket moving;
  moving.core = shared_from_this();
  moving.endpoint = std::move(endpoint);
  moving.key = std::move(key);
  moving.headers = std::move(headers);
  moving.pending = std::move(pending);
  error_code ec;
  moving.protocol = socket.local_endpoint(ec).protocol();
  if (!ec) moving.fd = socket.release(ec);
  if (ec || moving.fd < 0) {
    // Stay here after all (the socket is still ours).
    moving.fd = -1;
    if (socket.is_open()) {
      openWebSocket(current, std::move(socket), std::move(moving.endpoint), moving.key,
                    std::move(moving.headers), moving.pending);
      return;
    }
    refuseEndpoint(std::move(moving.endpoint));
    connectionClosed();
    return;
  }
  ls->loop->post([self = shared_from_this(), ls, moving = std::move(moving)]() mutable {
    tcp::socket socket(ls->loop->io());
    error_code ec;
    socket.assign(moving.protocol, std::exchange(moving.fd, -1), ec);
    if (ec) {
      refuseEndpoint(std::move(moving.endpoint));
      self->connectionClosed();
      return;
    }
    self->openWebSocket(ls, std::move(socket), std::move(moving.endpoint), moving.key,
                        std::move(moving.headers), moving.pending);
  });
}

void ServerCore::maybeDrained() {
  if (!shuttingDown_.load() || !acceptorClosed_.load() || openConnections_.load() != 0) return;
  std::vector<std::function<void()>> callbacks;
  {
    std::lock_guard<std::mutex> lock(drainMutex_);
    if (drained_) return;
    drained_ = true;
    callbacks.swap(drainCallbacks_);
  }
  for (auto& cb : callbacks) {
    if (cb) cb();
  }
}

}  // namespace detail

HttpServer::HttpServer(std::vector<base::EventLoop*> loops, HttpServerOptions options,
                       HttpHandler handler)
    : core_(std::make_shared<detail::ServerCore>(std::move(loops), std::move(options),
                                                 std::move(handler))) {}

HttpServer::~HttpServer() { core_->abandon(); }

Status HttpServer::start() { return core_->start(); }

uint16_t HttpServer::port() const { return core_->port_.load(); }

void HttpServer::shutdown(std::function<void()> onDrained) {
  core_->shutdown(std::move(onDrained));
}

size_t HttpServer::inFlightRequests() const { return core_->inFlight_.load(); }

size_t HttpServer::openConnections() const { return core_->openConnections_.load(); }

bool HttpServer::isAccepting() const { return core_->accepting_.load(); }

}  // namespace duro::net
