// Implementation of WebSocketSession (websocket_session.h) and of the WebSocketTransport it gives
// the endpoint. Framing, masking, UTF-8 checks, ping/pong and the close handshake are Beast's
// (websocket::stream over the upgraded TCP socket); this file sequences them and talks to the
// endpoint.
//
// Design notes
// ============
// Threads. A session lives on its connection's EventLoop. The Transport is the only thing other
// threads touch: calls from the loop thread go straight into the session's write queue; calls from
// other threads are appended to Transport::incoming_ under a mutex, and one posted drain() per
// batch moves them into the queue (no post per message under load). A loop-thread call made while a
// batch is waiting joins the batch, so calls leave in the order they were made.
//
// Phases (Session::phase_):
//
//   kNew ── accept() ─► kHandshake ── onAccept() ok: endpoint.connected(), doRead() ─► kOpen
//                          │ onAccept() error / timer                                    │
//                          ▼                                                             │
//   kEnded ◄── report(): endpoint.closed() exactly once ◄───────────────────────────────┘
//     │          from onRead()  (client close frame: clean; protocol error: error() first;
//     │                          EOF/reset: 1006),
//     │               onClose() (our close handshake finished, or timed out: 1006),
//     │               abort()
//     │ linger(): read and discard until the client's EOF, bounded by closeTimeout
//     ▼
//   kFinished ── finish(): socket closed, onFinished() (HttpServer's connection accounting)
//
// Invariants
//  1. At most one Beast read (doRead) and one Beast write (writeNext: a message or the close) are
//     issued by us at a time; Beast's own pongs and close replies interleave through its locks.
//  2. The write queue is in call order; the close is its last entry (Transport refuses later
//     calls), and it is started only after every message before it has been written.
//  3. endpoint_->closed() is called once, by report(), which also stops the Transport; nothing is
//     delivered to the endpoint after it (handlers check phase_).
//  4. closeTimer_ runs whenever the session waits on the peer to finish: the opening handshake, a
//     close we queued (from the moment it is queued), a close frame the client sent (our reply may
//     be stuck behind a client that does not read) and the lingering close. When it fires the
//     socket is closed, so every pending operation completes and the session reaches kFinished.
//  5. Teardown is ours (async_teardown below): half-close and report success at once, so the
//     outcome of the close handshake is not overwritten by however the TCP connection ends.
//
// Idle connections. HttpServerOptions::idleTimeout does not apply: a WebSocket may be silent for
// hours (chat rooms, hibernating objects). Dead peers are found by TCP keep-alive (enableKeepAlive:
// probes after 60 s of silence, closed after ~2 min without answers), which the kernel runs at no
// cost per message. Beast's alternative (idle_timeout with keep_alive_pings) would also close
// silent-but-alive connections whose client does not answer pings, and re-arms a timer on every
// read, which costs a timer cancel and a handler per message on the echo path.
#include "net/websocket_session.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <atomic>
#include <deque>
#include <exception>
#include <mutex>
#include <utility>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/role.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/websocket/stream.hpp>

#include "base/log.h"

namespace duro::net::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

// The TCP socket under the websocket::stream: its own type only so that Beast finds our
// async_teardown (below) by argument-dependent lookup instead of its TCP default.
class WsSocket : public tcp::socket {
 public:
  explicit WsSocket(tcp::socket&& socket) : tcp::socket(std::move(socket)) {}
};

// Beast's teardown customization point, called after the close frames are exchanged (or after
// Beast failed the connection with a close frame). Beast's TCP version half-closes and then reads
// until the client's EOF with no time limit, and whatever ends that read replaces the close's
// outcome. Ours half-closes and succeeds at once; Session::linger() waits for the EOF, bounded.
template <class TeardownHandler>
void async_teardown(beast::role_type role, WsSocket& socket, TeardownHandler&& handler) {
  error_code ignored;
  if (role == beast::role_type::server) socket.shutdown(tcp::socket::shutdown_send, ignored);
  asio::post(socket.get_executor(),
             beast::bind_front_handler(std::forward<TeardownHandler>(handler), error_code{}));
}

// The synchronous form (unused: sessions only use async operations), for completeness.
inline void teardown(beast::role_type role, WsSocket& socket, error_code& ec) {
  ec = {};
  error_code ignored;
  if (role == beast::role_type::server) socket.shutdown(tcp::socket::shutdown_send, ignored);
}

namespace {

constexpr std::string_view kLogComponent = "websocket";
// Receive buffers larger than this are released after the message (a 32 MiB message should not
// pin 32 MiB for the rest of a long-lived connection).
constexpr size_t kMaxRetainedReadBuffer = 64 * 1024;
// Lingering close: bytes read (and discarded) per read, and at most in total.
constexpr size_t kLingerChunk = 4096;
constexpr size_t kLingerMaxBytes = 1024 * 1024;
// TCP keep-alive for idle WebSockets: first probe after this much silence, then every
// kKeepAliveInterval; the connection is dropped after kKeepAliveProbes unanswered probes.
constexpr int kKeepAliveIdleSeconds = 60;
constexpr int kKeepAliveIntervalSeconds = 10;
constexpr int kKeepAliveProbes = 6;
// RFC 6455 5.5: control frame payloads are at most 125 bytes, 2 of which hold the code.
constexpr size_t kMaxCloseReasonBytes = 123;

// One entry of the write queue: a message, or the close (code, reason in `data`).
struct OutgoingOp {
  std::string data;
  int code = 0;
  bool binary = false;
  bool isClose = false;
};

// Codes an endpoint may put in a close frame (RFC 6455 7.4; 1004-1006 and 1015 may not be sent).
bool isSendableCloseCode(int code) {
  return code == 0 || (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
         (code >= 3000 && code <= 4999);
}

// `reason` cut to at most kMaxCloseReasonBytes without splitting a UTF-8 sequence.
std::string_view truncateReason(std::string_view reason) {
  if (reason.size() <= kMaxCloseReasonBytes) return reason;
  size_t end = kMaxCloseReasonBytes;
  while (end > 0 && (static_cast<unsigned char>(reason[end]) & 0xC0) == 0x80) --end;
  return reason.substr(0, end);
}

bool isWebSocketError(const error_code& ec) {
  return ec.category() == websocket::make_error_code(websocket::error::closed).category();
}

}  // namespace

class Session;

// The endpoint's handle for sending (duro::WebSocketTransport). Thread-safe; see the design notes.
class Transport final : public WebSocketTransport, public std::enable_shared_from_this<Transport> {
 public:
  Transport(base::EventLoop& loop, std::weak_ptr<Session> session)
      : loop_(loop), session_(std::move(session)) {}

  void send(std::string data, bool binary) override {
    submit(OutgoingOp{std::move(data), 0, binary, false});
  }
  void close(int code, std::string reason) override {
    submit(OutgoingOp{std::move(reason), code, false, true});
  }
  size_t bufferedBytes() const override { return buffered_.load(std::memory_order_relaxed); }

  // Loop thread. The session ended: later calls are ignored and nothing counts as buffered.
  void markClosed() {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    incoming_.clear();
    buffered_.store(0, std::memory_order_relaxed);
  }
  // Loop thread. `bytes` of a message left the queue (written, or dropped before the end).
  void released(size_t bytes) { buffered_.fetch_sub(bytes, std::memory_order_relaxed); }

 private:
  void submit(OutgoingOp op);
  void drain();

  base::EventLoop& loop_;
  const std::weak_ptr<Session> session_;
  std::mutex mu_;
  std::vector<OutgoingOp> incoming_;  // guarded by mu_: calls from other threads, in call order
  bool drainPosted_ = false;          // guarded by mu_: a drain() is queued on the loop
  bool closed_ = false;               // guarded by mu_: close() was called or the session ended
  std::vector<OutgoingOp> draining_;  // loop thread: the batch drain() is handing over
  std::atomic<size_t> buffered_{0};
};

class Session final : public WebSocketSession, public std::enable_shared_from_this<Session> {
 public:
  Session(base::EventLoop& loop, tcp::socket socket, const WebSocketSessionOptions& options,
          std::shared_ptr<WebSocketEndpoint> endpoint, std::function<void()> onFinished)
      : loop_(loop),
        options_(options),
        ws_(std::move(socket)),
        endpoint_(std::move(endpoint)),
        onFinished_(std::move(onFinished)),
        closeTimer_(loop.io()) {
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = websocket::stream_base::none();  // closeTimer_ bounds these
    timeouts.idle_timeout = websocket::stream_base::none();       // see "Idle connections"
    timeouts.keep_alive_pings = false;
    ws_.set_option(timeouts);
    ws_.read_message_max(options_.maxMessageBytes);
    // Each message goes out as one frame (one write), whatever its size.
    ws_.auto_fragment(false);
    // Only close frames matter here (Beast answers pings itself): the client started the closing
    // handshake, so bound the time our reply and the teardown may take (invariant 4).
    ws_.control_callback([this](websocket::frame_type kind, beast::string_view) {
      if (kind == websocket::frame_type::close && !closeQueued_) armCloseTimer();
    });
  }

  ~Session() override {
    // Reached with onFinished_ set only if the io_context dropped our handlers (torn down with
    // the session open): keep the server's accounting right, but do not call into the endpoint.
    if (onFinished_) {
      auto onFinished = std::move(onFinished_);
      onFinished_ = nullptr;
      onFinished();
    }
  }

  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void accept(std::string_view key, HeaderList responseHeaders, std::string_view pending) override {
    if (phase_ != Phase::kNew) return;
    phase_ = Phase::kHandshake;
    armCloseTimer();
    // Beast completes the handshake from the request's raw bytes: we hand it the fields it checks
    // (already validated by HttpServer) followed by whatever the client sent after its request,
    // which stays in Beast's read buffer as the first frames.
    handshake_.reserve(160 + key.size() + pending.size());
    handshake_.append(
        "GET / HTTP/1.1\r\nHost: duro\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ");
    handshake_.append(key).append("\r\n\r\n").append(pending);
    ws_.set_option(websocket::stream_base::decorator(
        [headers = std::move(responseHeaders)](websocket::response_type& response) {
          for (const auto& [name, value] : headers) response.insert(name, value);
          // Beast would otherwise add its own name and version.
          if (response.count(beast::http::field::server) == 0) {
            response.set(beast::http::field::server, "duro");
          }
        }));
    ws_.async_accept(asio::buffer(handshake_),
                     [self = shared_from_this()](error_code ec) { self->onAccept(ec); });
  }

  void goingAway() override {
    if (phase_ == Phase::kNew || phase_ == Phase::kHandshake) {
      goingAwayRequested_ = true;
    } else if (phase_ == Phase::kOpen && transport_) {
      transport_->close(1001, "");  // ignored if the endpoint already closed
    }
  }

  void abort() override {
    if (phase_ == Phase::kFinished) return;
    report(1006, "", false);
    finish();
  }

  // Loop thread, from Transport: one send() or close() in call order.
  void enqueue(OutgoingOp op) {
    if (phase_ != Phase::kOpen) return;  // ended: markClosed() already cleared the count
    if (closeQueued_) {                  // unreachable (Transport refuses calls after close)
      if (!op.isClose) transport_->released(op.data.size());
      return;
    }
    if (op.isClose) {
      closeQueued_ = true;
      armCloseTimer();  // invariant 4: the queue ahead of the close counts too
    }
    queue_.push_back(std::move(op));
    if (!writing_ && !closeStarted_) writeNext();
  }

 private:
  enum class Phase { kNew, kHandshake, kOpen, kEnded, kFinished };

  WsSocket& socket() { return ws_.next_layer(); }

  void onAccept(error_code ec) {
    if (phase_ != Phase::kHandshake) return;  // aborted meanwhile
    handshake_ = std::string();
    if (ec) {
      base::log(base::LogLevel::kDebug, kLogComponent,
                "WebSocket opening handshake failed: " + ec.message());
      report(1006, "", false);
      finish();
      return;
    }
    phase_ = Phase::kOpen;
    closeTimer_.cancel();
    enableKeepAlive();
    transport_ = std::make_shared<Transport>(loop_, weak_from_this());
    callEndpoint("connected", [&] { endpoint_->connected(transport_); });
    if (phase_ != Phase::kOpen) return;
    doRead();
    if (goingAwayRequested_) goingAway();
  }

  void doRead() {
    ws_.async_read(readBuf_,
                   [self = shared_from_this()](error_code ec, size_t) { self->onRead(ec); });
  }

  void onRead(error_code ec) {
    if (phase_ != Phase::kOpen) return;  // the end was already reported
    if (!ec) {
      auto data = readBuf_.cdata();
      std::string message(static_cast<const char*>(data.data()), data.size());
      readBuf_.consume(data.size());
      if (readBuf_.capacity() > kMaxRetainedReadBuffer) readBuf_ = beast::flat_buffer();
      bool binary = ws_.got_binary();
      callEndpoint("message", [&] { endpoint_->message(std::move(message), binary); });
      if (phase_ == Phase::kOpen) doRead();
      return;
    }
    if (ec == websocket::error::closed) {
      // The client's close frame. Beast answered it (same code) and half-closed.
      const websocket::close_reason& reason = ws_.reason();
      report(reason.code == websocket::close_code::none ? 1005 : reason.code,
             std::string(reason.reason.data(), reason.reason.size()), true);
      linger();
      return;
    }
    if (closeStarted_) return;  // our close handshake is under way; onClose() reports
    if (isWebSocketError(ec)) {
      // Beast failed the connection: it sent a close frame (1002 protocol error, 1007 invalid
      // UTF-8, 1009 too big) and half-closed. The client's answer is not read, hence 1006.
      std::string what;
      if (ec == websocket::error::message_too_big) {
        what = "Message is too large: the limit is " + std::to_string(options_.maxMessageBytes) +
               " bytes";
      } else if (ec == websocket::error::bad_frame_payload) {
        what = "Invalid UTF-8 in a text message";
      } else {
        what = "WebSocket protocol error: " + ec.message();
      }
      base::log(base::LogLevel::kDebug, kLogComponent, "closing a WebSocket: " + what);
      callEndpoint("error", [&] { endpoint_->error(what); });
      report(1006, "", false);
      linger();
      return;
    }
    // EOF or reset without a close frame, or the socket closed by our timer.
    report(1006, "", false);
    finish();
  }

  void writeNext() {
    if (queue_.empty()) return;
    OutgoingOp& op = queue_.front();
    if (op.isClose) {
      startClose(op.code, std::move(op.data));
      queue_.pop_front();
      return;
    }
    writing_ = true;
    ws_.binary(op.binary);
    // A deque keeps op.data in place while later entries are appended.
    ws_.async_write(asio::buffer(op.data),
                    [self = shared_from_this()](error_code ec, size_t) { self->onWrite(ec); });
  }

  void onWrite(error_code ec) {
    writing_ = false;
    const size_t bytes = queue_.front().data.size();
    queue_.pop_front();
    if (phase_ != Phase::kOpen) return;  // ended: markClosed() already cleared the count
    transport_->released(bytes);
    if (ec) {
      // The connection is failing; the read side reports how. Make sure it learns (a write error
      // such as EPIPE does not always reach a pending read).
      dropQueue();
      if (ec != asio::error::operation_aborted) closeSocket();
      return;
    }
    writeNext();
  }

  void startClose(int code, std::string reason) {
    closeStarted_ = true;
    websocket::close_reason cr;
    if (!isSendableCloseCode(code)) {
      base::logWarn(kLogComponent, "WebSocket close code " + std::to_string(code) +
                                       " may not be sent; sending 1000 instead");
      code = 1000;
    }
    if (code != 0) {
      cr.code = static_cast<std::uint16_t>(code);
      std::string_view cut = truncateReason(reason);
      cr.reason.assign(cut.data(), cut.size());
    }
    ws_.async_close(cr, [self = shared_from_this()](error_code ec) { self->onClose(ec); });
  }

  void onClose(error_code ec) {
    if (phase_ != Phase::kOpen) return;
    if (!ec) {
      const websocket::close_reason& reason = ws_.reason();
      report(reason.code == websocket::close_code::none ? 1005 : reason.code,
             std::string(reason.reason.data(), reason.reason.size()), true);
      linger();
      return;
    }
    // Timed out (closeTimer_ closed the socket), or the connection broke while closing.
    report(1006, "", false);
    finish();
  }

  // Delivers the end to the endpoint, once (invariant 3).
  void report(int code, std::string reason, bool wasClean) {
    if (phase_ == Phase::kEnded || phase_ == Phase::kFinished) return;
    phase_ = Phase::kEnded;
    if (transport_) transport_->markClosed();
    dropQueue();
    std::shared_ptr<WebSocketEndpoint> endpoint = std::move(endpoint_);
    callEndpoint("closed", [&] { endpoint->closed(code, std::move(reason), wasClean); });
  }

  // Waits for the client's EOF after our half-close so that it reads our close frame instead of
  // a reset (unread input at close() makes the kernel send RST), bounded by closeTimeout.
  void linger() {
    if (!socket().is_open()) {
      finish();
      return;
    }
    armCloseTimer();
    // Its own buffer: Beast's read may still be unwinding with readBuf_.
    lingerBuf_ = std::make_unique<char[]>(kLingerChunk);
    doLingerRead();
  }

  void doLingerRead() {
    socket().async_read_some(asio::buffer(lingerBuf_.get(), kLingerChunk),
                             [self = shared_from_this()](error_code ec, size_t n) {
                               if (self->phase_ != Phase::kEnded) return;
                               self->lingerBytes_ += n;
                               if (ec || self->lingerBytes_ > kLingerMaxBytes) {
                                 self->finish();
                                 return;
                               }
                               self->doLingerRead();
                             });
  }

  // Buffers stay until the session is destroyed (right after its last handler ran): a cancelled
  // operation may still refer to them.
  void finish() {
    if (phase_ == Phase::kFinished) return;
    phase_ = Phase::kFinished;
    closeTimer_.cancel();
    closeSocket();
    auto onFinished = std::move(onFinished_);
    onFinished_ = nullptr;
    if (onFinished) onFinished();
  }

  void armCloseTimer() {
    closeTimer_.expires_after(options_.closeTimeout);
    closeTimer_.async_wait([self = shared_from_this()](error_code ec) {
      // A wait that expired just as the timer was re-armed must not act on the old deadline.
      if (ec == asio::error::operation_aborted || self->closeTimer_.expiry() > Clock::now()) {
        return;
      }
      self->onCloseTimer();
    });
  }

  void onCloseTimer() {
    switch (phase_) {
      case Phase::kHandshake:
      case Phase::kOpen:
        // Pending operations now fail; their handlers report 1006 and finish.
        base::log(base::LogLevel::kDebug, kLogComponent,
                  "the WebSocket peer did not complete a handshake in time; closing the socket");
        closeSocket();
        break;
      case Phase::kEnded:
        finish();
        break;
      case Phase::kNew:
      case Phase::kFinished:
        break;
    }
  }

  void closeSocket() {
    error_code ignored;
    socket().close(ignored);
  }

  // Drops the queued messages, except the one being written: its bytes must outlive the write
  // (onWrite() pops it). Counts them as released while the session is open.
  void dropQueue() {
    const size_t keep = writing_ ? 1 : 0;
    if (phase_ == Phase::kOpen) {
      for (size_t i = keep; i < queue_.size(); ++i) {
        if (!queue_[i].isClose) transport_->released(queue_[i].data.size());
      }
    }
    queue_.erase(queue_.begin() + static_cast<std::ptrdiff_t>(keep), queue_.end());
  }

  // Idle WebSockets stay open while the peer is alive; see "Idle connections".
  void enableKeepAlive() {
    error_code ignored;
    socket().set_option(asio::socket_base::keep_alive(true), ignored);
    int fd = socket().native_handle();
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &kKeepAliveIdleSeconds,
                 sizeof(kKeepAliveIdleSeconds));
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &kKeepAliveIntervalSeconds,
                 sizeof(kKeepAliveIntervalSeconds));
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &kKeepAliveProbes, sizeof(kKeepAliveProbes));
  }

  // Runs one endpoint callback; an exception is logged and closes the WebSocket with 1011
  // (Internal Error) instead of escaping into the event loop.
  template <typename Fn>
  void callEndpoint(const char* what, Fn&& fn) noexcept {
    std::string failure;
    try {
      fn();
      return;
    } catch (const std::exception& e) {
      failure = e.what();
    } catch (...) {
      failure = "a non-std exception";
    }
    base::logError(kLogComponent,
                   std::string("WebSocket endpoint's ") + what + "() threw: " + failure);
    if (phase_ == Phase::kOpen && transport_) transport_->close(1011, "");
  }

  base::EventLoop& loop_;
  const WebSocketSessionOptions options_;
  websocket::stream<WsSocket, /*deflateSupported=*/false> ws_;
  std::shared_ptr<WebSocketEndpoint> endpoint_;  // reset once closed() was delivered
  std::function<void()> onFinished_;
  std::shared_ptr<Transport> transport_;  // created when the handshake completes
  asio::steady_timer closeTimer_;
  beast::flat_buffer readBuf_;
  std::string handshake_;              // the request bytes for async_accept, until it completes
  std::deque<OutgoingOp> queue_;       // messages (and the close) not yet fully written
  std::unique_ptr<char[]> lingerBuf_;  // lingering close: discarded input
  Phase phase_ = Phase::kNew;
  bool writing_ = false;             // an async_write of queue_.front() is outstanding
  bool closeQueued_ = false;         // a close is in queue_ or started
  bool closeStarted_ = false;        // async_close was issued
  bool goingAwayRequested_ = false;  // goingAway() during the opening handshake
  size_t lingerBytes_ = 0;
};

void Transport::submit(OutgoingOp op) {
  const size_t bytes = op.isClose ? 0 : op.data.size();
  if (loop_.isCurrent()) {
    std::unique_lock<std::mutex> lock(mu_);
    if (closed_) return;
    if (op.isClose) closed_ = true;
    buffered_.fetch_add(bytes, std::memory_order_relaxed);
    if (!incoming_.empty()) {  // a batch from another thread is waiting: keep call order
      incoming_.push_back(std::move(op));
      return;
    }
    lock.unlock();
    if (auto session = session_.lock()) {
      session->enqueue(std::move(op));
    } else {
      released(bytes);
    }
    return;
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_) return;
  if (op.isClose) closed_ = true;
  buffered_.fetch_add(bytes, std::memory_order_relaxed);
  incoming_.push_back(std::move(op));
  if (!drainPosted_) {
    drainPosted_ = true;
    loop_.post([self = shared_from_this()] { self->drain(); });
  }
}

void Transport::drain() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    draining_.swap(incoming_);
    drainPosted_ = false;
  }
  std::shared_ptr<Session> session = session_.lock();
  for (OutgoingOp& op : draining_) {
    if (session) {
      session->enqueue(std::move(op));
    } else if (!op.isClose) {
      released(op.data.size());
    }
  }
  draining_.clear();
}

std::shared_ptr<WebSocketSession> WebSocketSession::create(
    base::EventLoop& loop, tcp::socket socket, const WebSocketSessionOptions& options,
    std::shared_ptr<WebSocketEndpoint> endpoint, std::function<void()> onFinished) {
  return std::make_shared<Session>(loop, std::move(socket), options, std::move(endpoint),
                                   std::move(onFinished));
}

}  // namespace duro::net::detail
