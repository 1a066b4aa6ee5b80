// Implementation of WebSocketSession (websocket_session.h) and of the WebSocketTransport it gives
// the endpoint.
//
// Why not Beast's websocket::stream (the "better way" exception to using the library): Beast
// always answers a client's close frame itself, at once, echoing the code without the reason, and
// offers no way to suppress that. Cloudflare's semantics, which duro follows (workerd is the
// reference), leave the answer to the application: with the Hibernation API the object answers
// with ws.close(code, reason) in webSocketClose() and the socket is CLOSING until then; with the
// standard API the runtime answers at once or not at all, depending on the compatibility date. So
// the WebSocket protocol after the handshake is ours: websocket_frame.h parses the client's masked
// frames and builds our unmasked ones, this file runs the connection. Beast still parses the HTTP
// request (http_server.cc) and computes the handshake's Sec-WebSocket-Accept.
//
// Design notes
// ============
// Threads. A session lives on its connection's EventLoop. The Transport is the only thing other
// threads touch: calls from the loop thread go straight into the session's write queue; calls from
// other threads are appended to Transport::incoming_ under a mutex, and one posted drain() per
// batch moves them into the queue (no post per message under load). A loop-thread call made while a
// batch is waiting joins the batch, so calls leave in the order they were made. Frames are built
// (header and payload in one buffer) by the thread that calls send(), not by the loop.
//
// Phases (Session::phase_):
//
//   kNew ── accept() ─► kHandshake ── onHandshakeWritten() ok: connected(), readAvailable() ─►
//   kOpen
//                          │ write error / timer                                             │
//                          ▼                                                                 │
//   kEnded ◄── report(): endpoint.closed() exactly once ◄───────────────────────────────────┘
//     │          from endClean()        (both close frames exchanged: the client's code, clean),
//     │               failConnection()  (protocol error: error() first, then 1006),
//     │               onReadEnd()       (EOF/reset without a close frame: 1006),
//     │               onWrite()         (write error), onTimer(), abort()
//     │ halfCloseAndLinger(): our close frame written, shutdown(send), read and discard until
//     │ the client's EOF, bounded by closeTimeout
//     ▼
//   kFinished ── finish(): socket closed, onFinished() (HttpServer's connection accounting)
//
// The closing handshake inside kOpen (peerClose_ = the client's close frame arrived; closeQueued_
// = our close frame is in the write queue; closeSent_ = it has been written):
//
//   client starts:  onPeerClose(): closeReceived() to the endpoint, timer = closeReplyTimeout;
//                   frames still read are discarded; sends still go out
//                   ── transport.close() ─► enqueue(): closeQueued_, timer = closeTimeout
//                   ── onWrite() of it ─► onCloseSent() ─► endClean()
//                   ── timer: report(client's code, clean), finish() (no answer, no close frame)
//   we start:       enqueue(): closeQueued_, timer = closeTimeout; messages still delivered
//                   ── onWrite() of it ─► onCloseSent(): closeSent_, wait
//                   ── onPeerClose() (the answer: no closeReceived()) ─► endClean() once sent
//                   ── timer: report(1006, unclean), finish()
//
// Invariants
//  1. At most one wait for input (waitReadable(), entered only after a read would block: the
//     reactor is edge-triggered) or posted readAvailable() and one write (writeNext: the pending
//     pong, then queued frames, gathered) are outstanding.
//  2. The write queue is in call order; a close frame is its last entry (Transport refuses later
//     calls) and nothing is written after it: no pong once closeStarted_.
//  3. endpoint_->closed() is called once, by report(), which also stops the Transport; nothing is
//     delivered to the endpoint after it (every delivery checks phase_ == kOpen).
//  4. The timer runs whenever the session waits on a peer or on the endpoint: the 101's write, our
//     close (from the moment it is queued), the endpoint's answer to the client's close, and the
//     lingering close. When it fires the session ends (report() if still open, then finish()).
//  5. Once the client's close frame has arrived, every end is reported with its code and reason
//     and wasClean (it did close cleanly); before that, an end without both frames is 1006.
//  6. Frames at the head of queue_ (inFlight_ of them) and pongInFlight_ are being written: they
//     stay in place until onWrite() (report() and dropQueue() keep them).
// checkInvariants() checks what it can of these in debug builds.
//
// Reading. An idle connection holds only a 192-byte landing buffer, which its waiting read fills
// (waitReadable()); what does not fit is read by readAvailable() into the loop thread's scratch
// buffer (ScratchBuffer) and parsed at once.
// FrameParser keeps whatever it needs (a partial header, or the payload copied into the message
// being assembled), so nothing is left in the scratch buffer between reads; what remains of a large
// frame's payload is read straight into the message instead. This keeps hibernated connections
// small (no 16 KiB per connection).
//
// Idle connections. HttpServerOptions::idleTimeout does not apply: a WebSocket may be silent for
// hours (chat rooms, hibernating objects). Dead peers are found by TCP keep-alive (enableKeepAlive:
// probes after 60 s of silence, closed after ~2 min without answers), which the kernel runs at no
// cost per message; no pings, no per-message timer.
#include "net/websocket_session.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <array>
#include <atomic>
#include <cassert>
#include <exception>
#include <mutex>
#include <span>
#include <utility>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/websocket/detail/hybi13.hpp>

#include "base/log.h"
#include "duro/http.h"
#include "net/websocket_frame.h"

namespace duro::net::detail {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::string_view kLogComponent = "websocket";
// What an endpoint is told when a connection ends without the client's close frame (workerd's
// text, which Durable Objects see in webSocketClose()).
constexpr std::string_view kDisconnectedReason =
    "WebSocket disconnected without sending Close frame.";
// The loop thread's read buffer; payloads of at least kDirectReadMin still to come are read
// straight into the message instead. At most kMaxReadsPerWakeup reads before other connections
// get their turn.
constexpr size_t kScratchBytes = 64 * 1024;
constexpr size_t kDirectReadMin = 4 * 1024;
constexpr int kMaxReadsPerWakeup = 4;
// Frames gathered into one write.
constexpr size_t kMaxGather = 16;
// Queue capacity (frames) an emptied write queue keeps.
constexpr size_t kKeptQueueCapacity = 16;
// Bytes discarded after the client's close frame, or while lingering, before we stop waiting.
constexpr size_t kMaxDiscardBytes = 1024 * 1024;
// TCP keep-alive for idle WebSockets: first probe after this much silence, then every
// kKeepAliveInterval; the connection is dropped after kKeepAliveProbes unanswered probes.
constexpr int kKeepAliveIdleSeconds = 60;
constexpr int kKeepAliveIntervalSeconds = 10;
constexpr int kKeepAliveProbes = 6;

// One prepared frame in the write queue.
struct OutFrame {
  std::string bytes;        // header and payload
  size_t payloadBytes = 0;  // what bufferedBytes() counts (messages only)
  bool isClose = false;
};

// The bytes of a frame about to be written, moved out of the string's inline (small-string)
// storage if they are there: the queue is a vector, and a frame queued during the write may move
// the ones being written; a heap buffer moves with its string, inline bytes would not.
asio::const_buffer pinnedBuffer(std::string& bytes) {
  if (bytes.capacity() < 2 * sizeof(void*)) bytes.reserve(2 * sizeof(void*));
  return asio::buffer(bytes);
}

// A read buffer lent for the duration of one read and its parsing: the loop thread's (one per
// thread, so idle connections hold none; it is a cache, not shared state), or a private one if
// that is already lent (a nested read; not expected).
class ScratchBuffer {
 public:
  ScratchBuffer() {
    Slot& slot = threadSlot();
    if (!slot.inUse) {
      if (!slot.data) slot.data = std::make_unique<char[]>(kScratchBytes);
      slot.inUse = true;
      lent_ = &slot;
      data_ = slot.data.get();
    } else {
      own_ = std::make_unique<char[]>(kScratchBytes);
      data_ = own_.get();
    }
  }
  ~ScratchBuffer() {
    if (lent_ != nullptr) lent_->inUse = false;
  }
  ScratchBuffer(const ScratchBuffer&) = delete;
  ScratchBuffer& operator=(const ScratchBuffer&) = delete;

  char* data() const { return data_; }
  static constexpr size_t size() { return kScratchBytes; }

 private:
  struct Slot {
    std::unique_ptr<char[]> data;
    bool inUse = false;
  };
  static Slot& threadSlot() {
    thread_local Slot slot;
    return slot;
  }

  Slot* lent_ = nullptr;
  std::unique_ptr<char[]> own_;
  char* data_ = nullptr;
};

// Codes an endpoint may put in a close frame; 0 and 1005 mean a frame without a code.
bool isSendableCloseCode(int code) { return code == 0 || code == 1005 || isValidCloseCode(code); }

}  // namespace

class Session;

// The endpoint's handle for sending (duro::WebSocketTransport). Thread-safe; see the design notes.
class Transport final : public WebSocketTransport, public std::enable_shared_from_this<Transport> {
 public:
  Transport(base::EventLoop& loop, std::weak_ptr<Session> session)
      : loop_(loop), session_(std::move(session)) {}

  void send(std::string data, bool binary) override {
    const size_t bytes = data.size();
    submit(OutFrame{makeFrame(binary ? kOpBinary : kOpText, data), bytes, false});
  }
  void close(int code, std::string reason) override {
    if (!isSendableCloseCode(code)) {
      base::logWarn(kLogComponent, "WebSocket close code " + std::to_string(code) +
                                       " may not be sent; sending 1000 instead");
      code = 1000;
    }
    submit(OutFrame{makeCloseFrame(code, reason), 0, true});
  }
  size_t bufferedBytes() const override { return buffered_.load(std::memory_order_relaxed); }

  // Loop thread. The session ended: later calls are ignored and nothing counts as buffered.
  void markClosed() {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    incoming_.clear();
    buffered_.store(0, std::memory_order_relaxed);
  }
  // Loop thread. `bytes` of messages left the queue (written).
  void released(size_t bytes) { buffered_.fetch_sub(bytes, std::memory_order_relaxed); }

 private:
  void submit(OutFrame frame);
  void drain();

  base::EventLoop& loop_;
  const std::weak_ptr<Session> session_;
  std::mutex mu_;
  std::vector<OutFrame> incoming_;  // guarded by mu_: calls from other threads, in call order
  bool drainPosted_ = false;        // guarded by mu_: a drain() is queued on the loop
  bool closed_ = false;             // guarded by mu_: close() was called or the session ended
  std::vector<OutFrame> draining_;  // loop thread: the batch drain() is handing over
  std::atomic<size_t> buffered_{0};
};

class Session final : public WebSocketSession, public std::enable_shared_from_this<Session> {
 public:
  Session(base::EventLoop& loop, tcp::socket socket, const WebSocketSessionOptions& options,
          std::shared_ptr<WebSocketEndpoint> endpoint, std::function<void()> onFinished)
      : loop_(loop),
        options_(options),
        socket_(std::move(socket)),
        endpoint_(std::move(endpoint)),
        onFinished_(std::move(onFinished)),
        parser_(options.maxMessageBytes) {}

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
    armTimer(options_.closeTimeout);
    boost::beast::websocket::detail::sec_ws_accept_type acceptKey;
    boost::beast::websocket::detail::make_sec_ws_accept(acceptKey, key);
    handshake_ = std::make_unique<Handshake>();
    std::string& response = handshake_->response;
    response.reserve(256);
    response.append(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Accept: ");
    response.append(acceptKey.data(), acceptKey.size()).append("\r\n");
    bool hasServer = false;
    for (const auto& [name, value] : responseHeaders) {  // validated by HttpServer
      if (equalsIgnoreCase(name, "server")) hasServer = true;
      response.append(name).append(": ").append(value).append("\r\n");
    }
    if (!hasServer) response.append("Server: duro\r\n");
    response.append("\r\n");
    // The bytes the client sent after its request are the first frames, parsed once the endpoint
    // is connected.
    handshake_->pending.assign(pending.data(), pending.size());
    asio::async_write(socket_, asio::buffer(response),
                      [self = shared_from_this()](const error_code& ec, size_t) {
                        self->onHandshakeWritten(ec);
                      });
  }

  void goingAway() override {
    if (phase_ == Phase::kNew || phase_ == Phase::kHandshake) {
      goingAwayRequested_ = true;
    } else if (phase_ == Phase::kOpen && transport_) {
      transport_->close(1001, "");  // ignored if a close is already queued
    }
  }

  void abort() override {
    if (phase_ == Phase::kFinished) return;
    reportEnd();
    finish();
  }

  // Loop thread, from Transport: one send() or close() in call order.
  void enqueue(OutFrame frame) {
    if (phase_ != Phase::kOpen) return;  // ended: markClosed() already cleared the count
    if (closeQueued_) {                  // unreachable (Transport refuses calls after close)
      transport_->released(frame.payloadBytes);
      return;
    }
    if (frame.isClose) {
      closeQueued_ = true;
      armTimer(options_.closeTimeout);  // invariant 4: the queue ahead of the close counts too
    }
    queue_.push_back(std::move(frame));
    writeNext();
  }

 private:
  enum class Phase { kNew, kHandshake, kOpen, kEnded, kFinished };
  struct PeerClose {
    int code = 1005;
    std::string reason;
  };

  void onHandshakeWritten(const error_code& ec) {
    if (phase_ != Phase::kHandshake) return;  // aborted meanwhile
    std::string pending = std::move(handshake_->pending);
    handshake_.reset();
    if (ec) {
      base::log(base::LogLevel::kDebug, kLogComponent,
                "writing the WebSocket handshake failed: " + ec.message());
      report(1006, "", false);
      finish();
      return;
    }
    phase_ = Phase::kOpen;
    timer_.reset();  // cancels; an open connection needs no timer until it closes
    enableKeepAlive();
    transport_ = std::make_shared<Transport>(loop_, weak_from_this());
    callEndpoint("connected", [&] { endpoint_->connected(transport_); });
    if (phase_ != Phase::kOpen) return;
    error_code ignored;
    socket_.non_blocking(true, ignored);  // readAvailable()'s reads return would_block
    processInput(pending.data(), pending.data() + pending.size());  // came with the request
    pending = std::string();
    readAvailable();
    if (goingAwayRequested_) goingAway();
  }

  // ---- reading -------------------------------------------------------------------------------

  // Waits until the socket is readable (invariant 1: only after a read would block, or came back
  // short). While frames are parsed, the wait is a read into the small landing buffer: asio then
  // keeps the socket registered as it is (an async_wait re-arms it with an epoll_ctl every time)
  // and skips its speculative read after a short one, so a small message costs epoll_wait, one
  // recv and the answer's send. What does not fit is read at once by readAvailable().
  void waitReadable() {
    if (reading_ || readEof_ || phase_ == Phase::kFinished) return;
    reading_ = true;
    if (phase_ == Phase::kOpen && !peerClose_) {
      socket_.async_read_some(
          asio::buffer(landing_.data(), landing_.size()),
          [self = shared_from_this()](const error_code& ec, size_t n) {
            self->reading_ = false;
            if (self->phase_ == Phase::kFinished) return;
            if (ec) {
              self->onReadError(ec);
              return;
            }
            self->processInput(self->landing_.data(), self->landing_.data() + n);
            if (n < self->landing_.size()) {
              self->waitReadable();
            } else {
              self->readAvailable();
            }
          });
      return;
    }
    socket_.async_wait(tcp::socket::wait_read, [self = shared_from_this()](const error_code& ec) {
      self->reading_ = false;
      if (self->phase_ == Phase::kFinished) return;
      if (ec) {
        self->onReadEnd(ec);
        return;
      }
      self->readAvailable();
    });
  }

  // Reads what the socket holds and processes it, until a read would block (then waits) or
  // kMaxReadsPerWakeup reads were made (then continues after a post, so that other connections on
  // the loop get their turn). Before the client's close frame the bytes are parsed; after it, and
  // while lingering, they are discarded.
  void readAvailable() {
    if (reading_ || inReadLoop_) return;
    inReadLoop_ = true;
    struct Leave {
      bool& flag;
      ~Leave() { flag = false; }
    } leave{inReadLoop_};
    for (int i = 0; i < kMaxReadsPerWakeup; ++i) {
      if (phase_ == Phase::kFinished || readEof_) return;
      const bool parsing = phase_ == Phase::kOpen && !peerClose_;
      const std::span<char> direct = parsing ? parser_.directSpace() : std::span<char>();
      error_code ec;
      if (direct.size() >= kDirectReadMin) {
        const size_t n = socket_.read_some(asio::buffer(direct.data(), direct.size()), ec);
        if (ec) {
          onReadError(ec);
          return;
        }
        parser_.commitDirect(n);
        processInput(nullptr, nullptr);
        if (n < direct.size()) {
          waitReadable();  // drained (see below)
          return;
        }
        continue;
      }
      ScratchBuffer scratch;
      const size_t n = socket_.read_some(asio::buffer(scratch.data(), scratch.size()), ec);
      if (ec) {
        onReadError(ec);
        return;
      }
      if (parsing) {
        processInput(scratch.data(), scratch.data() + n);
        // A short read emptied the socket's receive queue: whatever arrives later is a new
        // readiness event (epoll, edge-triggered), so wait now rather than spend a read on
        // EAGAIN (one system call per message on a request-response connection).
        if (n < scratch.size()) {
          waitReadable();
          return;
        }
        continue;
      }
      // Nothing may follow the client's close frame; lingering reads only wait for EOF.
      discarded_ += n;
      if (discarded_ > kMaxDiscardBytes) {
        reportEnd();
        finish();
        return;
      }
    }
    if (phase_ == Phase::kFinished || readEof_) return;
    reading_ = true;
    asio::post(socket_.get_executor(), [self = shared_from_this()] {
      self->reading_ = false;
      if (self->phase_ != Phase::kFinished) self->readAvailable();
    });
  }

  void onReadError(const error_code& ec) {
    if (ec == asio::error::would_block || ec == asio::error::try_again) {
      waitReadable();
      return;
    }
    onReadEnd(ec);
  }

  // EOF, reset, or the socket closed under the read.
  void onReadEnd(const error_code& ec) {
    readEof_ = true;
    if (phase_ == Phase::kOpen && peerClose_ && ec == asio::error::eof) {
      // The client half-closed after its close frame: it may still read our answer, which the
      // timer bounds.
      return;
    }
    if (phase_ == Phase::kOpen) reportEnd();
    finish();
  }

  // Parses [begin, end) and delivers what it completes, in order, while the session is open and
  // the client has not closed. The parser keeps partial frames, so nothing is left over; bytes
  // after the client's close frame, or after the end, are dropped.
  void processInput(const char* begin, const char* end) {
    const char* pos = begin;
    while (phase_ == Phase::kOpen && !peerClose_) {
      const FrameParser::Event event = parser_.parse(&pos, end);
      if (event == FrameParser::Event::kNeedMore) break;
      switch (event) {
        case FrameParser::Event::kMessage: {
          const bool binary = parser_.messageIsBinary();
          std::string message = parser_.takeMessage();
          callEndpoint("message", [&] { endpoint_->message(std::move(message), binary); });
          break;
        }
        case FrameParser::Event::kPing:
          queuePong(parser_.controlPayload());
          break;
        case FrameParser::Event::kPong:  // unsolicited (we send no pings): ignored
          break;
        case FrameParser::Event::kClose:
          onPeerClose(parser_.closeCode(), parser_.closeReason());
          break;
        case FrameParser::Event::kError:
          failConnection(parser_.errorCode(), parser_.errorReason());
          break;
        case FrameParser::Event::kNeedMore:
          break;
      }
    }
  }

  // ---- the closing handshake -----------------------------------------------------------------

  void onPeerClose(int code, std::string reason) {
    peerClose_ = std::make_unique<PeerClose>(PeerClose{code, std::move(reason)});
    if (closeQueued_) {
      // The answer to our close frame: the endpoint hears of it in closed().
      if (closeSent_) endClean();
      return;  // else endClean() once ours is written (onCloseSent)
    }
    armTimer(options_.closeReplyTimeout);
    const PeerClose& peer = *peerClose_;
    callEndpoint("closeReceived", [&] { endpoint_->closeReceived(peer.code, peer.reason); });
  }

  // Our close frame has been written.
  void onCloseSent() {
    closeSent_ = true;
    if (phase_ == Phase::kOpen) {
      if (peerClose_) endClean();  // else wait for the answer (the timer runs)
    } else if (phase_ == Phase::kEnded) {
      halfCloseAndLinger();
    }
  }

  // Sends FIN (once): nothing more will be written.
  void shutdownSend() {
    if (halfClosed_) return;
    error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
    halfClosed_ = true;
  }

  // Both close frames were exchanged.
  void endClean() {
    shutdownSend();  // the client sees the end before the endpoint's close handler runs
    PeerClose peer = *peerClose_;
    report(peer.code, std::move(peer.reason), true);
    halfCloseAndLinger();
  }

  // The client broke the protocol: error() to the endpoint, the end reported as 1006, and a close
  // frame with `code` and `reason` to the client (unless ours is already queued).
  void failConnection(int code, std::string reason) {
    base::log(base::LogLevel::kDebug, kLogComponent, "closing a WebSocket: " + reason);
    callEndpoint("error", [&] { endpoint_->error(reason); });
    if (phase_ != Phase::kOpen) return;
    const bool sendClose = !closeQueued_;
    report(1006, std::string(kDisconnectedReason), false);
    armTimer(options_.closeTimeout);
    if (sendClose) {
      closeQueued_ = true;
      queue_.push_back(OutFrame{makeCloseFrame(code, reason), 0, true});
      writeNext();
    } else if (closeSent_) {
      halfCloseAndLinger();
    }  // else: our queued close frame goes out, then onCloseSent() half-closes
  }

  // After our close frame: half-close, then read (and discard) until the client's EOF so that it
  // reads our close frame instead of a reset (unread input at close() makes the kernel send RST),
  // bounded by closeTimeout.
  void halfCloseAndLinger() {
    shutdownSend();
    if (readEof_) {
      finish();
      return;
    }
    armTimer(options_.closeTimeout);
    // Discard until EOF: readAvailable() goes on doing so if it is running (we are inside it), or
    // a wait is outstanding; otherwise start reading.
    readAvailable();
  }

  // ---- writing -------------------------------------------------------------------------------

  void queuePong(std::string_view payload) {
    if (closeStarted_ || phase_ != Phase::kOpen) return;  // invariant 2
    // A newer ping may be answered instead of an older one not yet answered (RFC 6455 5.5.3).
    pong_ = makeFrame(kOpPong, payload);
    writeNext();
  }

  // Gathers the pending pong and the queued frames (up to and including a close frame) into one
  // write.
  void writeNext() {
    assert(checkInvariants());
    if (writing_ || phase_ == Phase::kFinished) return;
    const bool withPong = !pong_.empty() && !closeStarted_;
    if (!withPong && queue_.empty()) return;
    if (withPong) {
      pongInFlight_.swap(pong_);
      pong_.clear();
    }
    inFlight_ = 0;
    writing_ = true;
    auto handler = [self = shared_from_this()](const error_code& ec, size_t) { self->onWrite(ec); };
    // The common case, one frame: no gather array.
    const bool single = withPong ? queue_.empty() : (queue_.size() == 1 || queue_[0].isClose);
    if (single) {
      if (!withPong) {
        inFlight_ = 1;
        if (queue_[0].isClose) closeStarted_ = true;
      }
      asio::async_write(socket_,
                        withPong ? asio::buffer(pongInFlight_) : pinnedBuffer(queue_[0].bytes),
                        std::move(handler));
      return;
    }
    if (!buffers_) buffers_ = std::make_unique<std::array<asio::const_buffer, kMaxGather>>();
    auto& buffers = *buffers_;
    size_t count = 0;
    if (withPong) buffers[count++] = asio::buffer(pongInFlight_);
    for (OutFrame& frame : queue_) {
      if (count == kMaxGather) break;
      buffers[count++] = pinnedBuffer(frame.bytes);
      ++inFlight_;
      if (frame.isClose) {
        closeStarted_ = true;
        break;
      }
    }
    asio::async_write(socket_, std::span<const asio::const_buffer>(buffers.data(), count),
                      std::move(handler));
  }

  void onWrite(const error_code& ec) {
    writing_ = false;
    size_t released = 0;
    bool closeWritten = false;
    for (size_t i = 0; i < inFlight_; ++i) {
      released += queue_[i].payloadBytes;
      closeWritten = closeWritten || queue_[i].isClose;
    }
    queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(inFlight_));
    // A burst may have grown it: an idle connection keeps no big array.
    if (queue_.empty() && queue_.capacity() > kKeptQueueCapacity) queue_ = std::vector<OutFrame>();
    inFlight_ = 0;
    pongInFlight_.clear();
    if (phase_ == Phase::kFinished) return;
    if (phase_ == Phase::kOpen && released > 0) transport_->released(released);
    if (ec) {
      base::log(base::LogLevel::kDebug, kLogComponent,
                "writing to a WebSocket failed: " + ec.message());
      if (phase_ == Phase::kOpen) reportEnd();
      finish();
      return;
    }
    if (closeWritten) {
      onCloseSent();
      if (phase_ == Phase::kFinished) return;
    }
    writeNext();
  }

  // The design notes' invariants, as far as the state shows them (debug builds).
  bool checkInvariants() const {
    if (inFlight_ > queue_.size()) return false;                                // 6
    if (!writing_ && (inFlight_ != 0 || !pongInFlight_.empty())) return false;  // 1, 6
    if ((closeStarted_ && !closeQueued_) || (closeSent_ && !closeStarted_)) return false;
    for (size_t i = 0; i < queue_.size(); ++i) {
      if (queue_[i].isClose && i + 1 != queue_.size()) return false;  // 2
    }
    const bool ended = phase_ == Phase::kEnded || phase_ == Phase::kFinished;
    return ended == (endpoint_ == nullptr);  // 3
  }

  // Drops what is queued and not being written, except a close frame (invariant 6).
  void dropQueue() {
    pong_.clear();
    auto out = queue_.begin() + static_cast<std::ptrdiff_t>(inFlight_);
    for (auto it = out; it != queue_.end(); ++it) {
      if (!it->isClose) continue;
      if (out != it) *out = std::move(*it);
      ++out;
    }
    queue_.erase(out, queue_.end());
  }

  // ---- the end -------------------------------------------------------------------------------

  // Reports the end as things stand (invariant 5).
  void reportEnd() {
    if (peerClose_) {
      PeerClose peer = *peerClose_;
      report(peer.code, std::move(peer.reason), true);
    } else {
      report(1006, transport_ ? std::string(kDisconnectedReason) : std::string(), false);
    }
  }

  // Delivers the end to the endpoint, once (invariant 3).
  void report(int code, std::string reason, bool wasClean) {
    assert(checkInvariants());
    if (phase_ == Phase::kEnded || phase_ == Phase::kFinished) return;
    phase_ = Phase::kEnded;
    if (transport_) transport_->markClosed();
    dropQueue();
    std::shared_ptr<WebSocketEndpoint> endpoint = std::move(endpoint_);
    callEndpoint("closed", [&] { endpoint->closed(code, std::move(reason), wasClean); });
  }

  // Buffers stay until the session is destroyed (right after its last handler ran): a cancelled
  // operation may still refer to them.
  void finish() {
    if (phase_ == Phase::kFinished) return;
    phase_ = Phase::kFinished;
    if (timer_) timer_->cancel();
    error_code ignored;
    socket_.close(ignored);
    auto onFinished = std::move(onFinished_);
    onFinished_ = nullptr;
    if (onFinished) onFinished();
  }

  void armTimer(std::chrono::milliseconds delay) {
    if (!timer_) timer_ = std::make_unique<asio::steady_timer>(loop_.io());
    timer_->expires_after(delay);
    timer_->async_wait([self = shared_from_this()](const error_code& ec) {
      // A wait that expired just as the timer was re-armed (or dropped) must not act on the old
      // deadline.
      if (ec == asio::error::operation_aborted || !self->timer_ ||
          self->timer_->expiry() > Clock::now()) {
        return;
      }
      self->onTimer();
    });
  }

  void onTimer() {
    switch (phase_) {
      case Phase::kHandshake:
      case Phase::kOpen:
        base::log(base::LogLevel::kDebug, kLogComponent,
                  peerClose_ && !closeQueued_
                      ? "nobody answered the client's WebSocket close frame in time; closing"
                      : "the WebSocket peer did not complete a handshake in time; closing");
        reportEnd();
        finish();
        break;
      case Phase::kEnded:
        finish();
        break;
      case Phase::kNew:
      case Phase::kFinished:
        break;
    }
  }

  // Idle WebSockets stay open while the peer is alive; see "Idle connections".
  void enableKeepAlive() {
    error_code ignored;
    socket_.set_option(asio::socket_base::keep_alive(true), ignored);
    int fd = socket_.native_handle();
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
  tcp::socket socket_;
  std::shared_ptr<WebSocketEndpoint> endpoint_;  // reset once closed() was delivered
  std::function<void()> onFinished_;
  std::shared_ptr<Transport> transport_;  // created when the handshake completes
  // Invariant 4. Only while a deadline applies (handshake, closing): idle connections have none.
  std::unique_ptr<asio::steady_timer> timer_;
  Phase phase_ = Phase::kNew;
  // Until the 101 is written: the response, and bytes that came with the upgrade request.
  struct Handshake {
    std::string response;
    std::string pending;
  };
  std::unique_ptr<Handshake> handshake_;

  // Reading.
  FrameParser parser_;
  size_t discarded_ = 0;     // bytes read after the client's close frame or while lingering
  // Where a waiting read lands (waitReadable()); large enough for a typical small message.
  std::array<char, 192> landing_;
  bool reading_ = false;     // a wait for input, or a posted readAvailable(), is outstanding
  bool inReadLoop_ = false;  // readAvailable() is running (an endpoint call may re-enter)
  bool readEof_ = false;     // the read side has ended (EOF or error)

  // Writing.
  // Frames not yet fully written, in call order (invariant 2). A vector, not a deque: a deque
  // allocates ~550 bytes up front, for every connection, idle or not.
  std::vector<OutFrame> queue_;
  size_t inFlight_ = 0;         // how many at its head the current write holds
  std::string pong_;            // the pong to write before the next queued frames
  std::string pongInFlight_;    // the pong the current write holds
  // For a write of several frames (allocated by the first one: most idle connections never
  // need it).
  std::unique_ptr<std::array<asio::const_buffer, kMaxGather>> buffers_;
  bool writing_ = false;

  // Closing (see the design notes).
  std::unique_ptr<PeerClose> peerClose_;  // the client's close frame, once it arrived
  bool closeQueued_ = false;            // our close frame is in queue_ (or written)
  bool closeStarted_ = false;           // ... and part of a write
  bool closeSent_ = false;              // ... and written
  bool halfClosed_ = false;             // shutdown(send) was done
  bool goingAwayRequested_ = false;     // goingAway() during the opening handshake
};

void Transport::submit(OutFrame frame) {
  const size_t bytes = frame.payloadBytes;
  if (loop_.isCurrent()) {
    std::unique_lock<std::mutex> lock(mu_);
    if (closed_) return;
    if (frame.isClose) closed_ = true;
    buffered_.fetch_add(bytes, std::memory_order_relaxed);
    if (!incoming_.empty()) {  // a batch from another thread is waiting: keep call order
      incoming_.push_back(std::move(frame));
      return;
    }
    lock.unlock();
    if (auto session = session_.lock()) {
      session->enqueue(std::move(frame));
    } else {
      released(bytes);
    }
    return;
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_) return;
  if (frame.isClose) closed_ = true;
  buffered_.fetch_add(bytes, std::memory_order_relaxed);
  incoming_.push_back(std::move(frame));
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
  for (OutFrame& frame : draining_) {
    if (session) {
      session->enqueue(std::move(frame));
    } else {
      released(frame.payloadBytes);
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
