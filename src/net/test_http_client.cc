// Implementation of TestHttpClient (test_http_client.h): POSIX sockets + poll() for timeouts,
// Beast's response_parser for framing (Content-Length, chunked, read-to-EOF).
#include "net/test_http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <utility>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

namespace duro::net {

namespace bhttp = boost::beast::http;
using Clock = std::chrono::steady_clock;

namespace {

Status errnoStatus(std::string_view what) {
  return Status::internal(std::string(what) + ": " + std::strerror(errno));
}

int millisUntil(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

}  // namespace

TestHttpClient::~TestHttpClient() { close(); }

TestHttpClient::TestHttpClient(TestHttpClient&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), buffer_(std::move(other.buffer_)) {}

TestHttpClient& TestHttpClient::operator=(TestHttpClient&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = std::exchange(other.fd_, -1);
    buffer_ = std::move(other.buffer_);
  }
  return *this;
}

Status TestHttpClient::connect(uint16_t port, std::string_view host) {
  close();
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return errnoStatus("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  std::string hostCopy(host);
  if (::inet_pton(AF_INET, hostCopy.c_str(), &addr.sin_addr) != 1) {
    close();
    return Status::invalidArgument("not an IPv4 address: " + hostCopy);
  }
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    Status s = errnoStatus("connect");
    close();
    return s;
  }
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return Status::ok();
}

void TestHttpClient::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  buffer_.clear();
}

Status TestHttpClient::send(std::string_view bytes) {
  if (fd_ < 0) return Status::invalidArgument("not connected");
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errnoStatus("send");
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return Status::ok();
}

Status TestHttpClient::fill(Clock::time_point deadline, bool* eof) {
  *eof = false;
  if (fd_ < 0) return Status::invalidArgument("not connected");
  while (true) {
    pollfd p{fd_, POLLIN, 0};
    int r = ::poll(&p, 1, millisUntil(deadline));
    if (r < 0) {
      if (errno == EINTR) continue;
      return errnoStatus("poll");
    }
    if (r == 0) return Status::unavailable("timed out waiting for the server");
    char chunk[16384];
    ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return errnoStatus("recv");
    }
    if (n == 0) {
      *eof = true;
      return Status::ok();
    }
    buffer_.append(chunk, static_cast<size_t>(n));
    return Status::ok();
  }
}

Result<Response> TestHttpClient::readResponse(bool headRequest, std::chrono::milliseconds timeout) {
  Clock::time_point deadline = Clock::now() + timeout;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.header_limit(1024 * 1024);
  parser.body_limit(boost::none);
  parser.eager(true);
  if (headRequest) parser.skip(true);
  while (true) {
    if (!buffer_.empty()) {
      boost::system::error_code ec;
      size_t used = parser.put(boost::asio::buffer(buffer_), ec);
      buffer_.erase(0, used);
      if (ec && ec != bhttp::error::need_more) {
        return Status::invalidArgument("bad response: " + ec.message());
      }
      if (parser.is_done()) break;
      if (!ec && used > 0) continue;
    }
    bool eof = false;
    Status s = fill(deadline, &eof);
    if (!s.isOk()) return s;
    if (eof) {
      if (parser.got_some()) {
        boost::system::error_code ec;
        parser.put_eof(ec);
        if (!ec && parser.is_done()) break;
      }
      return Status::unavailable("connection closed before a complete response");
    }
  }
  auto& message = parser.get();
  Response response;
  response.status = static_cast<int>(message.result_int());
  for (const auto& field : message) {
    response.headers.append(field.name_string(), field.value());
  }
  response.body = std::move(message.body());
  return response;
}

Result<std::string> TestHttpClient::readUntil(std::string_view delimiter,
                                              std::chrono::milliseconds timeout) {
  Clock::time_point deadline = Clock::now() + timeout;
  while (true) {
    size_t at = buffer_.find(delimiter);
    if (at != std::string::npos) {
      std::string out = buffer_.substr(0, at + delimiter.size());
      buffer_.erase(0, at + delimiter.size());
      return out;
    }
    bool eof = false;
    Status s = fill(deadline, &eof);
    if (!s.isOk()) return s;
    if (eof) return Status::unavailable("connection closed before the delimiter");
  }
}

bool TestHttpClient::waitForClose(std::chrono::milliseconds timeout, std::string* discarded) {
  Clock::time_point deadline = Clock::now() + timeout;
  while (true) {
    if (discarded) discarded->append(buffer_);
    buffer_.clear();
    bool eof = false;
    Status s = fill(deadline, &eof);
    if (eof) return true;
    if (!s.isOk()) {
      // A reset counts as closed; a timeout does not.
      return s.code() != StatusCode::kUnavailable;
    }
  }
}

Result<Response> TestHttpClient::roundTrip(std::string_view method, std::string_view target,
                                           std::string_view body, std::string_view extraHeaders) {
  Status s = send(formatRequest(method, target, body, extraHeaders));
  if (!s.isOk()) return s;
  return readResponse(method == "HEAD");
}

std::string TestHttpClient::formatRequest(std::string_view method, std::string_view target,
                                          std::string_view body, std::string_view extraHeaders) {
  std::string out;
  out.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: example.com\r\n");
  out.append(extraHeaders);
  if (!body.empty()) out.append("Content-Length: ").append(std::to_string(body.size()));
  if (!body.empty()) out.append("\r\n");
  out.append("\r\n").append(body);
  return out;
}

bool isConnectionRefused(uint16_t port) {
  TestHttpClient client;
  Status s = client.connect(port);
  return !s.isOk() && s.message().find(std::strerror(ECONNREFUSED)) != std::string::npos;
}

}  // namespace duro::net
