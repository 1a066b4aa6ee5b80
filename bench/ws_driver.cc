// ws_driver: WebSocket load driver for bench/compare-workerd (Boost.Beast client, Asio coroutines).
//
//   ws-driver --mode echo|fanout|hold --port P [options]
//
// Modes (routes of bench/compare-workerd/worker/worker.js):
//
//   echo    N connections (--connections) to /ws/echo/<room>, connection i in room i % R
//           (--rooms; default N: one room per connection). Each runs a closed loop: send one
//           message of --size bytes, wait for its echo (which must be identical), send the next.
//           After --warmup seconds it counts and times every round trip for --duration seconds
//           (messages sent in that window). Prints
//             RESULT mode=echo ... messages=M seconds=D rate=M/D p50_ms p90_ms p99_ms max_ms errors
//
//   fanout  M listeners (--connections) plus one sender, all in room --room-prefix + "0" of
//           /ws/room/ (the object broadcasts every message to every socket of the room, the
//           sender's included). The sender keeps at most --window messages in flight: message k+W
//           leaves only once every listener has received message k (--window 1: a strict closed
//           loop). Every listener must receive every message, in order. Measured: messages sent
//           after the warm-up, for --duration seconds or --messages K, whichever ends first.
//           Prints deliveries (messages x listeners), deliveries per second and the time from a
//           message's send to its receipt by the last listener (p50/p99/max).
//
//   hold    N connections to /ws/hold/<room> (room i % R). Each sends one probe; the object
//           answers with an ID drawn when it was constructed. Prints "CONNECTED ..." , waits
//           --hold-seconds (time for the server to hibernate the objects), checks that no
//           connection was closed meanwhile, prints "READY connections=N" and waits, up to
//           --hold-max seconds, for SIGUSR1 (the caller reads the server's memory meanwhile).
//           Then every connection sends a probe again: its answer must arrive, and a different
//           ID means the object was constructed again (it had hibernated; counted as
//           rehydrated). Prints RESULT mode=hold ... verified=V rehydrated=H errors=E.
//
// Common options: --host (127.0.0.1), --threads T (1: io_contexts on their own threads,
// connections spread round-robin), --connect-concurrency C (64 handshakes in flight at most,
// over all threads), --timeout S (10: connect + handshake of one connection, one echo, one
// broadcast, one close), --connect-timeout S (120: the whole connect phase), --room-prefix
// (default "r"), --path (overrides the mode's route prefix).
//
// Every wait has a deadline; when one passes, the connections still busy count as errors and
// are closed. Errors (failed handshakes with the HTTP status, wrong or missing echoes, lost or
// reordered broadcasts, closed connections) are counted and the first 10 printed to stderr.
// Exit status 0 only when errors == 0 (and something was measured); 2 on bad arguments.
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using Ws = websocket::stream<beast::tcp_stream>;
using boost::system::error_code;

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

enum class Mode { kEcho, kFanout, kHold };

struct Options {
  Mode mode = Mode::kEcho;
  std::string host = "127.0.0.1";
  int port = 0;
  std::string path;  // route prefix, the room name follows
  std::string roomPrefix = "r";
  long connections = 1;
  long rooms = 0;  // 0: one per connection (echo, hold)
  size_t size = 64;
  double duration = 10;
  double warmup = 2;
  long messages = 0;  // fanout: 0 = until the duration ends
  long window = 1;
  int threads = 1;
  long connectConcurrency = 64;
  double timeout = 10;
  double connectTimeout = 120;
  double holdSeconds = 5;
  double holdMax = 600;
};

Clock::duration seconds(double s) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
}

std::string fmtSeconds(double s) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", s);
  return text;
}

double msBetween(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// Phases every connection goes through; Shared::arrived counts the connections done with each.
enum Phase { kConnected = 0, kRan = 1, kClosed = 2, kPhases = 3 };

struct Worker;

struct Shared {
  Options opt;
  std::vector<std::unique_ptr<Worker>> workers;
  long total = 0;  // connections (fanout: listeners + the sender)

  std::mutex mutex;
  std::condition_variable changed;
  long arrived[kPhases] = {};

  std::atomic<long> errors{0};
  std::vector<std::string> errorMessages;  // the first few, under mutex

  // The measurement plan, written before the run starts (published by asio::post).
  Clock::time_point warmEnd, end;
  std::atomic<bool> aborted{false};
  std::atomic<bool> verifying{false};  // hold: probes after the wait are expected
  std::atomic<long> connected{0};      // connections open after the connect phase (hold: probed)

  // Connect-phase admission: handshakes in flight over all threads.
  std::atomic<long> nextToConnect{0};

  // Fan-out: one slot per message in flight (index seq % window).
  struct Slot {
    Clock::time_point sent;
    bool measured = false;
    std::atomic<long> remaining{0};
  };
  std::unique_ptr<Slot[]> slots;

  void error(std::string message) {
    errors.fetch_add(1);
    std::lock_guard lock(mutex);
    if (errorMessages.size() < 10) errorMessages.push_back(std::move(message));
  }

  void arrive(Phase phase) {
    std::lock_guard lock(mutex);
    ++arrived[phase];
    changed.notify_all();
  }

  // Waits until every connection arrived at `phase`, or the deadline. False at the deadline.
  bool waitFor(Phase phase, Clock::time_point deadline) {
    std::unique_lock lock(mutex);
    return changed.wait_until(lock, deadline, [&] { return arrived[phase] >= total; });
  }

  long arrivedAt(Phase phase) {
    std::lock_guard lock(mutex);
    return arrived[phase];
  }
};

// An event coroutines can wait for: a timer that never expires, cancelled to wake the waiters.
class Event {
 public:
  explicit Event(asio::io_context& ioc) : timer_(ioc, Clock::time_point::max()) {}
  asio::awaitable<void> wait() {
    while (!set_) co_await timer_.async_wait(kNoThrow);
  }
  void set() {
    set_ = true;
    timer_.cancel();
  }
  bool isSet() const { return set_; }

 private:
  asio::steady_timer timer_;
  bool set_ = false;
};

struct Conn {
  explicit Conn(asio::io_context& ioc, long index) : ws(ioc), index(index) {}
  Ws ws;
  long index;
  std::string room;
  bool open = false;
  bool sender = false;   // fanout
  bool arrivedRun = false;
  std::string message;   // the message being sent
  beast::flat_buffer buffer;
  std::string instance;  // hold: the object's ID from the first probe
  long nextSeq = 0;      // fanout: the next sequence number expected
};

struct Worker {
  explicit Worker(Shared& shared) : shared(shared) {}
  Shared& shared;
  asio::io_context ioc{1};
  asio::executor_work_guard<asio::io_context::executor_type> guard =
      asio::make_work_guard(ioc);
  Event go{ioc};
  Event closeNow{ioc};
  std::vector<std::unique_ptr<Conn>> conns;
  std::vector<double> latencies;  // ms, measured round trips (echo) or broadcasts (fanout)
  long measured = 0;              // echo: measured messages
  std::thread thread;

  // Fan-out sender state (worker 0 only).
  long inflight = 0;
  long fanMeasured = 0;  // measured messages completed
  Clock::time_point firstMeasuredSend{}, lastCompletion{};
  bool anyMeasured = false;
  std::unique_ptr<asio::steady_timer> progress;

  // Hold: probes answered after the wait, and how many came from a new instance.
  long verified = 0;
  long rehydrated = 0;
};

std::string_view bufferView(const beast::flat_buffer& buffer) {
  return {static_cast<const char*>(buffer.data().data()), buffer.size()};
}

void fill(std::string& message, size_t size, const char* head) {
  message.assign(head);
  if (message.size() < size) message.append(size - message.size(), '.');
}

// Connects and completes the WebSocket handshake (both bounded by --timeout). False (after
// counting the error) when it fails.
asio::awaitable<bool> connect(Worker& w, Conn& c, const tcp::resolver::results_type& endpoints) {
  const Options& opt = w.shared.opt;
  auto& stream = beast::get_lowest_layer(c.ws);
  stream.expires_after(seconds(opt.timeout));
  auto [ec, ep] = co_await stream.async_connect(endpoints, kNoThrow);
  if (ec) {
    w.shared.error("connection " + std::to_string(c.index) + ": connect: " + ec.message());
    co_return false;
  }
  stream.socket().set_option(tcp::no_delay(true), ec);
  websocket::response_type response;
  std::string target = opt.path + c.room;
  auto [hec] = co_await c.ws.async_handshake(
      response, opt.host + ":" + std::to_string(opt.port), target, kNoThrow);
  if (hec) {
    std::string detail = hec.message();
    if (hec == websocket::error::upgrade_declined) {
      detail += " (HTTP " + std::to_string(response.result_int()) + ": " +
                response.body().substr(0, 120) + ")";
    }
    w.shared.error("connection " + std::to_string(c.index) + ": handshake on " + target + ": " +
                   detail);
    stream.socket().close(ec);
    co_return false;
  }
  stream.expires_never();
  websocket::stream_base::timeout t{};
  t.handshake_timeout = seconds(opt.timeout);  // also bounds the closing handshake
  t.idle_timeout = websocket::stream_base::none();
  t.keep_alive_pings = false;
  c.ws.set_option(t);
  c.ws.auto_fragment(false);
  c.ws.text(true);
  c.open = true;
  co_return true;
}

asio::awaitable<void> closeConn(Worker& w, Conn& c) {
  if (!c.open || w.shared.aborted.load()) co_return;
  c.open = false;
  auto [ec] = co_await c.ws.async_close(websocket::close_code::normal, kNoThrow);
  if (ec && ec != asio::error::eof && ec != websocket::error::closed) {
    w.shared.error("connection " + std::to_string(c.index) + ": close: " + ec.message());
  }
}

void fail(Worker& w, Conn& c, const std::string& what, error_code ec) {
  if (w.shared.aborted.load()) return;  // counted by the deadline that aborted the run
  w.shared.error("connection " + std::to_string(c.index) + ": " + what + ": " + ec.message());
  c.open = false;
  error_code ignored;
  beast::get_lowest_layer(c.ws).socket().close(ignored);
}

// echo: closed loop until the end of the measurement.
asio::awaitable<void> echoLoop(Worker& w, Conn& c) {
  Shared& s = w.shared;
  char head[64];
  for (long seq = 0; c.open && !s.aborted.load(); ++seq) {
    Clock::time_point sent = Clock::now();
    if (sent >= s.end) break;
    std::snprintf(head, sizeof head, "echo %ld %ld ", c.index, seq);
    fill(c.message, s.opt.size, head);
    auto [wec, wn] = co_await c.ws.async_write(asio::buffer(c.message), kNoThrow);
    if (wec) {
      fail(w, c, "send", wec);
      break;
    }
    c.buffer.clear();
    auto [rec, rn] = co_await c.ws.async_read(c.buffer, kNoThrow);
    if (rec) {
      fail(w, c, "waiting for an echo", rec);
      break;
    }
    Clock::time_point received = Clock::now();
    if (bufferView(c.buffer) != c.message) {
      s.error("connection " + std::to_string(c.index) + ": the echo of message " +
              std::to_string(seq) + " differs from it: '" +
              std::string(bufferView(c.buffer).substr(0, 80)) + "'");
      c.open = false;
      error_code ignored;
      beast::get_lowest_layer(c.ws).socket().close(ignored);
      break;
    }
    if (sent >= s.warmEnd) {
      w.latencies.push_back(msBetween(sent, received));
      ++w.measured;
    }
  }
}

// fanout, listener side (and the sender's own reader): every broadcast in order, until "end".
asio::awaitable<void> listenLoop(Worker& w, Conn& c) {
  Shared& s = w.shared;
  Worker& senderWorker = *s.workers[0];
  while (c.open && !s.aborted.load()) {
    c.buffer.clear();
    auto [rec, rn] = co_await c.ws.async_read(c.buffer, kNoThrow);
    if (rec) {
      fail(w, c, "waiting for a broadcast", rec);
      break;
    }
    Clock::time_point received = Clock::now();
    std::string_view m = bufferView(c.buffer);
    if (m.substr(0, 4) == "end ") break;
    if (m.substr(0, 4) != "fan ") {
      s.error("connection " + std::to_string(c.index) + ": unexpected broadcast '" +
              std::string(m.substr(0, 80)) + "'");
      continue;
    }
    long seq = std::strtol(std::string(m.substr(4, 24)).c_str(), nullptr, 10);
    if (seq != c.nextSeq) {
      s.error("connection " + std::to_string(c.index) + ": broadcast " + std::to_string(seq) +
              " arrived when " + std::to_string(c.nextSeq) + " was expected");
    }
    c.nextSeq = seq + 1;
    if (c.sender) continue;  // the sender's own copy: not a delivery
    Shared::Slot& slot = s.slots[seq % s.opt.window];
    if (slot.remaining.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      double ms = msBetween(slot.sent, received);
      bool measured = slot.measured;
      asio::post(senderWorker.ioc, [&senderWorker, ms, measured, received] {
        --senderWorker.inflight;
        if (measured) {
          senderWorker.latencies.push_back(ms);
          ++senderWorker.fanMeasured;
          senderWorker.lastCompletion = received;
        }
        senderWorker.progress->cancel();
      });
    }
  }
}

// fanout, the sender: at most --window messages in flight, then "end" once all were delivered.
asio::awaitable<void> sendLoop(Worker& w, Conn& c) {
  Shared& s = w.shared;
  const Options& opt = s.opt;
  long listeners = opt.connections;
  long measuredSent = 0;
  char head[64];
  // Waits until fewer than `limit` messages are in flight; false after --timeout without
  // progress.
  auto drain = [&](long limit) -> asio::awaitable<bool> {
    while (w.inflight >= limit && !s.aborted.load()) {
      long before = w.inflight;
      w.progress->expires_after(seconds(opt.timeout));
      auto [ec] = co_await w.progress->async_wait(kNoThrow);
      if (!ec && w.inflight == before) co_return false;  // expired without a completion
    }
    co_return true;
  };
  for (long seq = 0; c.open && !s.aborted.load(); ++seq) {
    if (!co_await drain(opt.window)) {
      s.error("fanout: message " + std::to_string(seq - w.inflight) + " did not reach all " +
              std::to_string(listeners) + " listeners within " +
              fmtSeconds(opt.timeout) + " s");
      c.open = false;
      co_return;
    }
    Clock::time_point now = Clock::now();
    if (now >= s.end || (opt.messages > 0 && measuredSent >= opt.messages)) break;
    Shared::Slot& slot = s.slots[seq % opt.window];
    slot.sent = now;
    slot.measured = now >= s.warmEnd;
    if (slot.measured) {
      if (!w.anyMeasured) w.firstMeasuredSend = now;
      w.anyMeasured = true;
      ++measuredSent;
    }
    slot.remaining.store(listeners, std::memory_order_release);
    ++w.inflight;
    std::snprintf(head, sizeof head, "fan %ld ", seq);
    fill(c.message, opt.size, head);
    auto [wec, wn] = co_await c.ws.async_write(asio::buffer(c.message), kNoThrow);
    if (wec) {
      fail(w, c, "send", wec);
      co_return;
    }
  }
  if (!co_await drain(1)) {
    s.error("fanout: the last messages did not reach all listeners within " +
            fmtSeconds(opt.timeout) + " s");
    c.open = false;
    co_return;
  }
  fill(c.message, opt.size, "end ");
  auto [wec, wn] = co_await c.ws.async_write(asio::buffer(c.message), kNoThrow);
  if (wec) fail(w, c, "send end", wec);
}

// hold: one probe, answered with the object's instance ID.
asio::awaitable<bool> probe(Worker& w, Conn& c) {
  fill(c.message, 5, "probe");
  auto [wec, wn] = co_await c.ws.async_write(asio::buffer(c.message), kNoThrow);
  if (wec) {
    fail(w, c, "send probe", wec);
    co_return false;
  }
  c.buffer.clear();
  auto [rec, rn] = co_await c.ws.async_read(c.buffer, kNoThrow);
  if (rec) {
    fail(w, c, "waiting for the probe's answer", rec);
    co_return false;
  }
  c.instance = std::string(bufferView(c.buffer));
  co_return true;
}

// One connection's life after it connected (or failed to).
asio::awaitable<void> lifecycle(Worker& w, Conn& c) {
  Shared& s = w.shared;
  if (s.opt.mode == Mode::kHold && c.open) co_await probe(w, c);
  if (c.open) s.connected.fetch_add(1);
  s.arrive(kConnected);
  if (s.opt.mode == Mode::kHold) {
    if (c.open) {
      // Stays pending through the hold: it completes with the answer to the verifying probe,
      // or early if the server closes the connection or sends something.
      c.buffer.clear();
      auto [rec, rn] = co_await c.ws.async_read(c.buffer, kNoThrow);
      if (rec) {
        fail(w, c, s.verifying.load() ? "waiting for the probe's answer after the wait"
                                      : "held connection ended",
             rec);
      } else if (!s.verifying.load()) {
        s.error("connection " + std::to_string(c.index) + ": unexpected message while held: '" +
                std::string(bufferView(c.buffer).substr(0, 80)) + "'");
      } else {
        ++w.verified;
        if (bufferView(c.buffer) != c.instance) ++w.rehydrated;
      }
    }
  } else {
    co_await w.go.wait();
    if (c.open && !s.aborted.load()) {
      if (s.opt.mode == Mode::kEcho) {
        co_await echoLoop(w, c);
      } else if (c.sender) {
        // The sender reads its own copies of the broadcasts while it sends.
        bool readerDone = false;
        Event readerFinished(w.ioc);
        asio::co_spawn(w.ioc, listenLoop(w, c), [&](std::exception_ptr) {
          readerDone = true;
          readerFinished.set();
        });
        co_await sendLoop(w, c);
        if (!readerDone) co_await readerFinished.wait();
      } else {
        co_await listenLoop(w, c);
      }
    }
  }
  c.arrivedRun = true;
  s.arrive(kRan);
  co_await w.closeNow.wait();
  co_await closeConn(w, c);
  s.arrive(kClosed);
}

// Connects connections of this worker while fewer than --connect-concurrency handshakes are in
// flight (each worker runs its share of that many connector coroutines).
asio::awaitable<void> connector(Worker& w, size_t start, size_t step,
                                std::shared_ptr<tcp::resolver::results_type> endpoints) {
  for (size_t i = start; i < w.conns.size(); i += step) {
    Conn& c = *w.conns[i];
    if (!w.shared.aborted.load()) co_await connect(w, c, *endpoints);
    asio::co_spawn(w.ioc, lifecycle(w, c), [&w, &c](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& x) {
        w.shared.error("connection " + std::to_string(c.index) + ": " + x.what());
      }
    });
  }
}

[[noreturn]] void usage(const char* message) {
  std::fprintf(stderr, "ws-driver: %s\n", message);
  std::fprintf(stderr,
               "usage: ws-driver --mode echo|fanout|hold --port P [--host H] [--connections N]\n"
               "         [--rooms R] [--room-prefix S] [--path /ws/KIND/] [--size BYTES]\n"
               "         [--duration S] [--warmup S] [--messages K] [--window W] [--threads T]\n"
               "         [--connect-concurrency C] [--timeout S] [--connect-timeout S]\n"
               "         [--hold-seconds S] [--hold-max S]\n");
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  bool pathSet = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) usage(("missing value after " + a).c_str());
    std::string v = argv[++i];
    auto num = [&](double min) {
      char* endp = nullptr;
      double x = std::strtod(v.c_str(), &endp);
      if (endp == v.c_str() || *endp != '\0' || !(x >= min)) {
        usage((a + ": expected a number >= " + std::to_string(min) + ", got '" + v + "'").c_str());
      }
      return x;
    };
    if (a == "--mode") {
      if (v == "echo") o.mode = Mode::kEcho;
      else if (v == "fanout") o.mode = Mode::kFanout;
      else if (v == "hold") o.mode = Mode::kHold;
      else usage("--mode: echo, fanout or hold");
    } else if (a == "--host") o.host = v;
    else if (a == "--port") o.port = static_cast<int>(num(1));
    else if (a == "--path") { o.path = v; pathSet = true; }
    else if (a == "--room-prefix") o.roomPrefix = v;
    else if (a == "--connections") o.connections = static_cast<long>(num(1));
    else if (a == "--rooms") o.rooms = static_cast<long>(num(1));
    else if (a == "--size") o.size = static_cast<size_t>(num(32));
    else if (a == "--duration") o.duration = num(0.001);
    else if (a == "--warmup") o.warmup = num(0);
    else if (a == "--messages") o.messages = static_cast<long>(num(0));
    else if (a == "--window") o.window = static_cast<long>(num(1));
    else if (a == "--threads") o.threads = static_cast<int>(num(1));
    else if (a == "--connect-concurrency") o.connectConcurrency = static_cast<long>(num(1));
    else if (a == "--timeout") o.timeout = num(0.001);
    else if (a == "--connect-timeout") o.connectTimeout = num(0.001);
    else if (a == "--hold-seconds") o.holdSeconds = num(0);
    else if (a == "--hold-max") o.holdMax = num(0.001);
    else usage(("unknown option " + a).c_str());
  }
  if (o.port == 0) usage("--port is required");
  if (!pathSet) {
    o.path = o.mode == Mode::kEcho ? "/ws/echo/" : o.mode == Mode::kFanout ? "/ws/room/"
                                                                             : "/ws/hold/";
  }
  if (o.rooms == 0 || o.mode == Mode::kFanout) o.rooms = o.mode == Mode::kFanout ? 1 : o.connections;
  return o;
}

double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  size_t i = static_cast<size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(i, sorted.size() - 1)];
}

// Ends the run after a missed deadline: closes every socket (their coroutines finish with
// errors that are not counted again) and counts the connections that were not done.
void abortRun(Shared& s, Phase phase, const char* what) {
  long missing = s.total - s.arrivedAt(phase);
  s.error(std::to_string(missing) + " connection(s) did not finish " + what + " in time");
  s.errors.fetch_add(missing > 0 ? missing - 1 : 0);
  s.aborted.store(true);
  for (auto& w : s.workers) {
    asio::post(w->ioc, [&w = *w] {
      for (auto& c : w.conns) {
        error_code ignored;
        beast::get_lowest_layer(c->ws).socket().close(ignored);
      }
      w.go.set();
      w.closeNow.set();
      if (w.progress) w.progress->cancel();
    });
  }
}

}  // namespace

int main(int argc, char** argv) {
  Shared s;
  s.opt = parse(argc, argv);
  const Options& opt = s.opt;

  // Thousands of connections: raise the descriptor limit to the hard limit.
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  // hold: SIGUSR1 is taken with sigtimedwait by the main thread only.
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  if (opt.mode == Mode::kHold) pthread_sigmask(SIG_BLOCK, &usr1, nullptr);

  tcp::resolver::results_type endpoints;
  {
    asio::io_context ioc;
    tcp::resolver resolver(ioc);
    error_code ec;
    endpoints = resolver.resolve(opt.host, std::to_string(opt.port), ec);
    if (ec) {
      std::fprintf(stderr, "ws-driver: resolving %s: %s\n", opt.host.c_str(),
                   ec.message().c_str());
      return 1;
    }
  }
  auto sharedEndpoints = std::make_shared<tcp::resolver::results_type>(endpoints);

  s.total = opt.connections + (opt.mode == Mode::kFanout ? 1 : 0);
  for (int t = 0; t < opt.threads; ++t) s.workers.push_back(std::make_unique<Worker>(s));
  for (long i = 0; i < s.total; ++i) {
    bool sender = opt.mode == Mode::kFanout && i == opt.connections;
    // The fan-out sender lives on worker 0, where the listeners post the completions.
    Worker& w = *s.workers[sender ? 0 : static_cast<size_t>(i % opt.threads)];
    auto c = std::make_unique<Conn>(w.ioc, i);
    c->room = opt.roomPrefix + std::to_string(i % opt.rooms);
    c->sender = sender;
    w.conns.push_back(std::move(c));
  }
  if (opt.mode == Mode::kFanout) {
    s.workers[0]->progress = std::make_unique<asio::steady_timer>(s.workers[0]->ioc);
    s.slots = std::make_unique<Shared::Slot[]>(static_cast<size_t>(opt.window));
  }
  // Each latency vector grows to its final size in the measurement without stalling it much;
  // reserve a little up front anyway.
  for (auto& w : s.workers) w->latencies.reserve(1 << 16);

  // Connect phase.
  Clock::time_point t0 = Clock::now();
  long perWorker = std::max<long>(1, opt.connectConcurrency / opt.threads);
  for (auto& wp : s.workers) {
    Worker& w = *wp;
    size_t n = std::min<size_t>(static_cast<size_t>(perWorker), std::max<size_t>(1, w.conns.size()));
    for (size_t k = 0; k < n; ++k) {
      asio::co_spawn(w.ioc, connector(w, k, n, sharedEndpoints), asio::detached);
    }
    w.thread = std::thread([&w] { w.ioc.run(); });
  }
  bool ok = s.waitFor(kConnected, t0 + seconds(opt.connectTimeout));
  double connectSeconds = std::chrono::duration<double>(Clock::now() - t0).count();
  long connected = s.connected.load();
  if (!ok) abortRun(s, kConnected, "connecting");
  std::fprintf(stderr, "ws-driver: %ld of %ld connections open after %.1f s\n", connected,
               s.total, connectSeconds);

  double heldSeconds = 0;
  if (ok && opt.mode == Mode::kHold) {
    std::printf("CONNECTED connections=%ld seconds=%.3f\n", connected, connectSeconds);
    std::fflush(stdout);
    // Wait for the server to hibernate the objects; connections it closes meanwhile are
    // counted as they end.
    std::this_thread::sleep_for(seconds(opt.holdSeconds));
    // Connections that never opened arrive at kRan at once; the others only if they ended.
    long ended = s.arrivedAt(kRan) - (s.total - connected);
    std::printf("READY connections=%ld closed_meanwhile=%ld\n", connected - ended, ended);
    std::fflush(stdout);
    Clock::time_point heldFrom = Clock::now();
    timespec ts{};
    ts.tv_sec = static_cast<time_t>(opt.holdMax);
    ts.tv_nsec = static_cast<long>((opt.holdMax - static_cast<double>(ts.tv_sec)) * 1e9);
    int sig = sigtimedwait(&usr1, nullptr, &ts);
    heldSeconds = std::chrono::duration<double>(Clock::now() - heldFrom).count();
    if (sig != SIGUSR1) {
      s.error("no SIGUSR1 within --hold-max " + fmtSeconds(opt.holdMax) + " s");
      ok = false;
      abortRun(s, kRan, "the hold");
    } else {
      // Verify: a probe on every connection still open (wakes the objects).
      s.verifying.store(true);
      for (auto& wp : s.workers) {
        Worker& w = *wp;
        asio::co_spawn(
            w.ioc,
            [&w]() -> asio::awaitable<void> {
              for (auto& c : w.conns) {
                if (!c->open || c->arrivedRun) continue;
                fill(c->message, 5, "probe");
                auto [ec, n] = co_await c->ws.async_write(asio::buffer(c->message), kNoThrow);
                if (ec) fail(w, *c, "send probe after the wait", ec);
              }
            },
            asio::detached);
      }
    }
  } else if (ok) {
    // Run phase: plan it, then start every connection's loop.
    Clock::time_point start = Clock::now();
    s.warmEnd = start + seconds(opt.warmup);
    s.end = s.warmEnd + seconds(opt.duration);
    for (auto& w : s.workers) asio::post(w->ioc, [&w = *w] { w.go.set(); });
  }
  if (ok) {
    Clock::time_point deadline =
        (opt.mode == Mode::kHold ? Clock::now() : s.end) + seconds(opt.timeout);
    if (!s.waitFor(kRan, deadline)) {
      abortRun(s, kRan, opt.mode == Mode::kHold ? "the probe after the wait" : "the run");
      ok = false;
    }
  }
  if (ok) {
    for (auto& w : s.workers) asio::post(w->ioc, [&w = *w] { w.closeNow.set(); });
    if (!s.waitFor(kClosed, Clock::now() + seconds(opt.timeout) + std::chrono::seconds(1))) {
      abortRun(s, kClosed, "closing");
    }
  }
  for (auto& w : s.workers) {
    w->guard.reset();
    if (s.aborted.load()) {
      // Give the closed sockets' coroutines a moment, then stop.
      asio::post(w->ioc, [] {});
    }
  }
  if (s.aborted.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    for (auto& w : s.workers) w->ioc.stop();
  }
  for (auto& w : s.workers) w->thread.join();

  for (const auto& m : s.errorMessages) std::fprintf(stderr, "  error: %s\n", m.c_str());
  long errors = s.errors.load();
  std::vector<double> lat;
  for (auto& w : s.workers) lat.insert(lat.end(), w->latencies.begin(), w->latencies.end());
  std::sort(lat.begin(), lat.end());
  bool measuredSomething = true;
  switch (opt.mode) {
    case Mode::kEcho: {
      long messages = 0;
      for (auto& w : s.workers) messages += w->measured;
      measuredSomething = messages > 0;
      std::printf(
          "RESULT mode=echo connections=%ld rooms=%ld threads=%d size=%zu connected=%ld "
          "connect_s=%.3f seconds=%.3f messages=%ld rate=%.1f p50_ms=%.3f p90_ms=%.3f "
          "p99_ms=%.3f max_ms=%.3f errors=%ld\n",
          opt.connections, opt.rooms, opt.threads, opt.size, connected, connectSeconds,
          opt.duration, messages, static_cast<double>(messages) / opt.duration,
          percentile(lat, 0.5), percentile(lat, 0.9), percentile(lat, 0.99),
          lat.empty() ? 0.0 : lat.back(), errors);
      break;
    }
    case Mode::kFanout: {
      Worker& w0 = *s.workers[0];
      long messages = w0.fanMeasured;
      double secs = messages > 0 ? std::chrono::duration<double>(w0.lastCompletion -
                                                                 w0.firstMeasuredSend).count()
                                 : 0;
      long deliveries = messages * opt.connections;
      measuredSomething = messages > 0 && secs > 0;
      std::printf(
          "RESULT mode=fanout listeners=%ld rooms=1 window=%ld threads=%d size=%zu connected=%ld "
          "connect_s=%.3f seconds=%.3f messages=%ld deliveries=%ld rate=%.1f msg_rate=%.1f "
          "p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f errors=%ld\n",
          opt.connections, opt.window, opt.threads, opt.size, connected, connectSeconds, secs,
          messages, deliveries, secs > 0 ? static_cast<double>(deliveries) / secs : 0.0,
          secs > 0 ? static_cast<double>(messages) / secs : 0.0, percentile(lat, 0.5),
          percentile(lat, 0.9), percentile(lat, 0.99), lat.empty() ? 0.0 : lat.back(), errors);
      break;
    }
    case Mode::kHold: {
      long verified = 0, rehydrated = 0;
      for (auto& w : s.workers) {
        verified += w->verified;
        rehydrated += w->rehydrated;
      }
      measuredSomething = verified > 0;
      std::printf(
          "RESULT mode=hold connections=%ld rooms=%ld connected=%ld connect_s=%.3f held_s=%.3f "
          "verified=%ld rehydrated=%ld errors=%ld\n",
          opt.connections, opt.rooms, connected, connectSeconds, heldSeconds, verified,
          rehydrated, errors);
      break;
    }
  }
  std::fflush(stdout);
  std::fflush(stderr);
  // Sockets and coroutine frames go with the process (after an abort some are still pending).
  std::_Exit(errors == 0 && measuredSomething ? 0 : 1);
}
