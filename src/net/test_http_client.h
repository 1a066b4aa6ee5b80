// TestHttpClient: a tiny blocking HTTP/1.1 client over a raw POSIX socket, for tests of the HTTP
// server and of anything that embeds it. It sends whatever bytes a test wants (garbage included)
// and parses responses one at a time, so keep-alive and pipelining can be asserted. Every wait has
// a timeout, so a broken server fails a test instead of hanging it. Test-only (target
// duro_net_testing); not thread-safe; errors come back as Status.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "duro/http.h"
#include "duro/status.h"

namespace duro::net {

class TestHttpClient {
 public:
  static constexpr std::chrono::milliseconds kDefaultTimeout{10000};

  TestHttpClient() = default;
  ~TestHttpClient();
  TestHttpClient(const TestHttpClient&) = delete;
  TestHttpClient& operator=(const TestHttpClient&) = delete;
  TestHttpClient(TestHttpClient&& other) noexcept;
  TestHttpClient& operator=(TestHttpClient&& other) noexcept;

  // Connects to host:port (an IPv4 literal).
  Status connect(uint16_t port, std::string_view host = "127.0.0.1");
  bool isConnected() const { return fd_ >= 0; }
  void close();

  // Writes all of `bytes`. A reset by the server is reported as an error Status.
  Status send(std::string_view bytes);

  // Reads one response (an interim 1xx counts as one). `headRequest`: the response to a HEAD,
  // which has no body whatever its Content-Length says.
  Result<Response> readResponse(bool headRequest = false,
                                std::chrono::milliseconds timeout = kDefaultTimeout);
  // Raw bytes up to and including `delimiter` (e.g. "\r\n\r\n" for a response head).
  Result<std::string> readUntil(std::string_view delimiter,
                                std::chrono::milliseconds timeout = kDefaultTimeout);
  // Reads and discards until the server closes the connection (EOF or reset). True if it did so
  // within `timeout`; the bytes discarded are appended to *discarded if given.
  bool waitForClose(std::chrono::milliseconds timeout = kDefaultTimeout,
                    std::string* discarded = nullptr);

  // send(formatRequest(...)) then readResponse().
  Result<Response> roundTrip(std::string_view method, std::string_view target,
                             std::string_view body = {}, std::string_view extraHeaders = {});

  // "METHOD target HTTP/1.1\r\nHost: example.com\r\n" + extraHeaders (each ending in "\r\n") +
  // Content-Length when body is not empty + "\r\n" + body.
  static std::string formatRequest(std::string_view method, std::string_view target,
                                   std::string_view body = {}, std::string_view extraHeaders = {});

 private:
  // Appends what arrives within the deadline to buffer_. Error Status on timeout or failure; sets
  // *eof on an orderly close.
  Status fill(std::chrono::steady_clock::time_point deadline, bool* eof);

  int fd_ = -1;
  std::string buffer_;  // received, not yet consumed
};

// True if connecting to 127.0.0.1:port is refused (nothing listens there).
bool isConnectionRefused(uint16_t port);

}  // namespace duro::net
