// object_churn: how fast a server creates new durable objects.
//
//   object_churn --port P [--host 127.0.0.1] [--connections C] [--count N] [--prefix S]
//                [--time-limit SECONDS]
//
// Sends `GET /counter/<prefix><i>` exactly once for each i in [0, N) (default N = 100000) over C
// HTTP/1.1 keep-alive connections (default 32), one blocking socket and one thread per connection,
// one request in flight per connection. Each name is new, so each request constructs an object,
// reads a missing key and makes a first durable write: every response must be 200 with body "1".
// Stops when all N were answered, or at the time limit (default 120 s; a stuck read times out too).
// Prints one line:
//
//   RESULT requests=N seconds=S rate=R p50_ms=.. p99_ms=.. max_ms=.. errors=E
//
// requests = responses received; rate = responses that were 200 "1" per second (new objects per
// second); latencies are per request, from send to the end of the response. errors counts wrong
// statuses or bodies, connection failures and requests not sent before the time limit. Exit
// status 0 only when errors == 0.
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string host = "127.0.0.1";
  int port = 0;
  int connections = 32;
  long count = 100000;
  std::string prefix = "churn-";
  double timeLimit = 120;
};

struct Shared {
  Options opt;
  Clock::time_point deadline;
  std::atomic<long> next{0};
  std::atomic<long> answered{0};  // responses received, any status
  std::atomic<long> ok{0};        // 200 with body "1"
  std::atomic<long> errors{0};
  std::atomic<bool> stop{false};
  std::atomic<int> reportedErrors{0};
  std::mutex latencyMu;
  std::vector<double> latenciesMs;
};

void reportError(Shared& s, const std::string& what) {
  s.errors.fetch_add(1);
  if (s.reportedErrors.fetch_add(1) < 5) std::fprintf(stderr, "object_churn: %s\n", what.c_str());
}

// One blocking keep-alive connection.
class Connection {
 public:
  explicit Connection(const Options& opt) : opt_(opt) {}
  ~Connection() { close(); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  bool connect(std::string* error) {
    close();
    buffer_.clear();
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    std::string port = std::to_string(opt_.port);
    if (int rc = ::getaddrinfo(opt_.host.c_str(), port.c_str(), &hints, &res); rc != 0) {
      *error = std::string("getaddrinfo: ") + ::gai_strerror(rc);
      return false;
    }
    for (addrinfo* a = res; a != nullptr; a = a->ai_next) {
      fd_ = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
      if (fd_ < 0) continue;
      if (::connect(fd_, a->ai_addr, a->ai_addrlen) == 0) break;
      ::close(fd_);
      fd_ = -1;
    }
    ::freeaddrinfo(res);
    if (fd_ < 0) {
      *error = std::string("connect: ") + std::strerror(errno);
      return false;
    }
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    timeval tv{10, 0};  // a stuck server cannot hold a thread past the time limit for long
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    return true;
  }

  bool connected() const { return fd_ >= 0; }

  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  // Sends one GET and reads its response. False (with *error) on any transport or parse failure;
  // the connection must then be reopened.
  bool get(const std::string& target, int* status, std::string* body, std::string* error) {
    std::string req = "GET " + target + " HTTP/1.1\r\nHost: " + opt_.host + "\r\n\r\n";
    size_t off = 0;
    while (off < req.size()) {
      ssize_t n = ::send(fd_, req.data() + off, req.size() - off, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        *error = std::string("send: ") + std::strerror(errno);
        return false;
      }
      off += static_cast<size_t>(n);
    }
    size_t headerEnd;
    while ((headerEnd = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill(error)) return false;
    }
    std::string_view head(buffer_.data(), headerEnd);
    // Status line: HTTP/1.1 200 OK
    size_t sp = head.find(' ');
    if (head.substr(0, 5) != "HTTP/" || sp == std::string_view::npos) {
      *error = "bad status line";
      return false;
    }
    *status = std::atoi(std::string(head.substr(sp + 1, 3)).c_str());
    std::optional<size_t> contentLength;
    bool chunked = false;
    size_t lineStart = head.find("\r\n");
    while (lineStart != std::string_view::npos && lineStart < head.size()) {
      lineStart += 2;
      size_t lineEnd = head.find("\r\n", lineStart);
      std::string_view line = head.substr(lineStart, lineEnd == std::string_view::npos
                                                         ? std::string_view::npos
                                                         : lineEnd - lineStart);
      size_t colon = line.find(':');
      if (colon != std::string_view::npos) {
        std::string name(line.substr(0, colon));
        std::transform(name.begin(), name.end(), name.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        std::string_view value = line.substr(colon + 1);
        while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
          value.remove_prefix(1);
        }
        if (name == "content-length") {
          contentLength = std::strtoul(std::string(value).c_str(), nullptr, 10);
        }
        if (name == "transfer-encoding" && value.find("chunked") != std::string_view::npos) {
          chunked = true;
        }
      }
      lineStart = lineEnd;
    }
    buffer_.erase(0, headerEnd + 4);
    body->clear();
    if (chunked) return readChunked(body, error);
    size_t length = contentLength.value_or(0);
    while (buffer_.size() < length) {
      if (!fill(error)) return false;
    }
    body->assign(buffer_, 0, length);
    buffer_.erase(0, length);
    return true;
  }

 private:
  bool fill(std::string* error) {
    char chunk[16384];
    for (;;) {
      ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n > 0) {
        buffer_.append(chunk, static_cast<size_t>(n));
        return true;
      }
      if (n == 0) {
        *error = "connection closed by server";
        return false;
      }
      if (errno == EINTR) continue;
      *error = std::string("recv: ") + std::strerror(errno);
      return false;
    }
  }

  bool readChunked(std::string* body, std::string* error) {
    for (;;) {
      size_t eol;
      while ((eol = buffer_.find("\r\n")) == std::string::npos) {
        if (!fill(error)) return false;
      }
      size_t size = std::strtoul(buffer_.substr(0, eol).c_str(), nullptr, 16);
      buffer_.erase(0, eol + 2);
      if (size == 0) {
        // No trailers expected: the final CRLF.
        while (buffer_.size() < 2) {
          if (!fill(error)) return false;
        }
        buffer_.erase(0, 2);
        return true;
      }
      while (buffer_.size() < size + 2) {
        if (!fill(error)) return false;
      }
      body->append(buffer_, 0, size);
      buffer_.erase(0, size + 2);
    }
  }

  const Options& opt_;
  int fd_ = -1;
  std::string buffer_;
};

void runConnection(Shared& s) {
  Connection conn(s.opt);
  std::vector<double> latencies;
  std::string body, error, target;
  int status = 0;
  for (;;) {
    if (s.stop.load(std::memory_order_relaxed)) break;
    if (Clock::now() >= s.deadline) {
      s.stop = true;
      break;
    }
    long i = s.next.fetch_add(1);
    if (i >= s.opt.count) break;
    if (!conn.connected() && !conn.connect(&error)) {
      reportError(s, error);
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      continue;  // this name is lost; counted as an error
    }
    target = "/counter/" + s.opt.prefix + std::to_string(i);
    auto t0 = Clock::now();
    if (!conn.get(target, &status, &body, &error)) {
      reportError(s, target + ": " + error);
      conn.close();
      continue;
    }
    latencies.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    s.answered.fetch_add(1);
    if (status != 200 || body != "1") {
      reportError(s, target + ": status " + std::to_string(status) + " body \"" +
                         body.substr(0, 80) + "\"");
      continue;
    }
    s.ok.fetch_add(1);
  }
  std::lock_guard lock(s.latencyMu);
  s.latenciesMs.insert(s.latenciesMs.end(), latencies.begin(), latencies.end());
}

int usage() {
  std::fprintf(stderr,
               "usage: object_churn --port P [--host H] [--connections C] [--count N] "
               "[--prefix S] [--time-limit SECONDS]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Shared s;
  Options& opt = s.opt;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (i + 1 >= argc) return usage();
    std::string value = argv[++i];
    if (arg == "--host") opt.host = value;
    else if (arg == "--port") opt.port = std::atoi(value.c_str());
    else if (arg == "--connections") opt.connections = std::atoi(value.c_str());
    else if (arg == "--count") opt.count = std::atol(value.c_str());
    else if (arg == "--prefix") opt.prefix = value;
    else if (arg == "--time-limit") opt.timeLimit = std::atof(value.c_str());
    else return usage();
  }
  if (opt.port <= 0 || opt.connections <= 0 || opt.count < 0 || !(opt.timeLimit > 0)) {
    return usage();
  }

  auto start = Clock::now();
  s.deadline = start + std::chrono::duration_cast<Clock::duration>(
                           std::chrono::duration<double>(opt.timeLimit));
  std::vector<std::thread> threads;
  threads.reserve(static_cast<size_t>(opt.connections));
  for (int c = 0; c < opt.connections; ++c) threads.emplace_back(runConnection, std::ref(s));
  for (std::thread& t : threads) t.join();
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();

  long sent = std::min(s.next.load(), opt.count);
  long notSent = opt.count - sent;
  if (notSent > 0) {
    std::fprintf(stderr, "object_churn: time limit of %.0f s reached, %ld names not requested\n",
                 opt.timeLimit, notSent);
  }
  long errors = s.errors.load() + notSent;
  std::vector<double>& lat = s.latenciesMs;
  std::sort(lat.begin(), lat.end());
  auto pct = [&](double p) {
    if (lat.empty()) return 0.0;
    return lat[static_cast<size_t>(p / 100.0 * static_cast<double>(lat.size() - 1))];
  };
  std::printf("RESULT requests=%ld seconds=%.3f rate=%.0f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f "
              "errors=%ld\n",
              s.answered.load(), seconds, static_cast<double>(s.ok.load()) / seconds, pct(50),
              pct(99), lat.empty() ? 0.0 : lat.back(), errors);
  return errors == 0 ? 0 : 1;
}
