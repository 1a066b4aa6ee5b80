// Implementation of TestWebSocketClient (test_websocket_client.h): a Beast websocket::stream on a
// private io_context, driven one operation at a time with run_one_until() for timeouts.
#include "net/test_websocket_client.h"

#include <algorithm>
#include <utility>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/websocket/stream.hpp>

namespace duro::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

struct TestWebSocketClient::Impl {
  asio::io_context io{1};
  websocket::stream<tcp::socket> ws{io};
  Response handshake;
  std::optional<CloseFrame> closeFrame;
  int pongs = 0;
  bool open = false;

  // Starts an asynchronous operation with `start(handler)` and runs the io_context until it
  // completes. On timeout the socket is closed (the operation then fails) and *timedOut is set.
  template <typename Start>
  error_code run(Start&& start, std::chrono::milliseconds timeout, bool* timedOut = nullptr) {
    bool done = false;
    error_code result;
    start([&done, &result](error_code ec, auto&&...) {
      done = true;
      result = ec;
    });
    io.restart();
    const Clock::time_point deadline = Clock::now() + timeout;
    while (!done && io.run_one_until(deadline) > 0) {
    }
    if (!done) {
      if (timedOut) *timedOut = true;
      closeSocket();
      io.restart();
      while (!done && io.run_one() > 0) {
      }
      open = false;
    }
    return result;
  }

  void closeSocket() {
    error_code ignored;
    beast::get_lowest_layer(ws).close(ignored);
  }

  void noteClose() {
    const websocket::close_reason& reason = ws.reason();
    closeFrame = CloseFrame{reason.code == websocket::close_code::none ? 1005 : reason.code,
                            std::string(reason.reason.data(), reason.reason.size())};
    open = false;
  }

  Status failure(std::string_view what, const error_code& ec, bool timedOut) {
    open = false;
    return Status::internal(std::string(what) + (timedOut ? " timed out" : ": " + ec.message()));
  }
};

TestWebSocketClient::TestWebSocketClient() : impl_(std::make_unique<Impl>()) {}
TestWebSocketClient::~TestWebSocketClient() {
  if (impl_) impl_->closeSocket();
}
TestWebSocketClient::TestWebSocketClient(TestWebSocketClient&&) noexcept = default;
TestWebSocketClient& TestWebSocketClient::operator=(TestWebSocketClient&&) noexcept = default;

Status TestWebSocketClient::connect(uint16_t port, std::string_view target,
                                    const Headers& extraHeaders, std::chrono::milliseconds timeout,
                                    std::string_view host) {
  Impl& d = *impl_;
  error_code ec;
  asio::ip::address address = asio::ip::make_address(std::string(host), ec);
  if (ec) return Status::invalidArgument("not an IP address: " + std::string(host));
  tcp::endpoint endpoint(address, port);
  bool timedOut = false;
  ec = d.run([&](auto handler) { d.ws.next_layer().async_connect(endpoint, std::move(handler)); },
             timeout, &timedOut);
  if (ec) return d.failure("connect", ec, timedOut);
  d.ws.next_layer().set_option(tcp::no_delay(true), ec);

  std::vector<std::pair<std::string, std::string>> headers;
  for (const auto& field : extraHeaders.fields()) headers.push_back(field);
  d.ws.set_option(websocket::stream_base::decorator([headers](websocket::request_type& request) {
    for (const auto& [name, value] : headers) request.set(name, value);
  }));
  d.ws.control_callback([&d](websocket::frame_type kind, beast::string_view) {
    if (kind == websocket::frame_type::pong) ++d.pongs;
  });

  websocket::response_type response;
  std::string hostHeader = std::string(host) + ":" + std::to_string(port);
  ec = d.run(
      [&](auto handler) {
        d.ws.async_handshake(response, hostHeader, std::string(target), std::move(handler));
      },
      timeout, &timedOut);
  d.handshake = Response{};
  d.handshake.status = response.result_int();
  for (const auto& field : response) {
    d.handshake.headers.append(std::string(field.name_string()), std::string(field.value()));
  }
  d.handshake.body = response.body();
  if (ec) {
    return d.failure("WebSocket handshake (HTTP " + std::to_string(d.handshake.status) + ")", ec,
                     timedOut);
  }
  d.open = true;
  return Status::ok();
}

const Response& TestWebSocketClient::handshakeResponse() const { return impl_->handshake; }

bool TestWebSocketClient::isOpen() const { return impl_->open; }

Status TestWebSocketClient::send(std::string_view data, bool binary,
                                 std::chrono::milliseconds timeout) {
  Impl& d = *impl_;
  d.ws.binary(binary);
  bool timedOut = false;
  error_code ec =
      d.run([&](auto handler) { d.ws.async_write(asio::buffer(data), std::move(handler)); },
            timeout, &timedOut);
  return ec ? d.failure("send", ec, timedOut) : Status::ok();
}

Status TestWebSocketClient::sendFragmented(const std::vector<std::string>& fragments, bool binary,
                                           std::chrono::milliseconds timeout) {
  Impl& d = *impl_;
  d.ws.binary(binary);
  for (size_t i = 0; i < fragments.size(); ++i) {
    bool last = i + 1 == fragments.size();
    bool timedOut = false;
    error_code ec = d.run(
        [&](auto handler) {
          d.ws.async_write_some(last, asio::buffer(fragments[i]), std::move(handler));
        },
        timeout, &timedOut);
    if (ec) return d.failure("send fragment", ec, timedOut);
  }
  return Status::ok();
}

Status TestWebSocketClient::ping(std::string_view payload, std::chrono::milliseconds timeout) {
  Impl& d = *impl_;
  websocket::ping_data data;
  data.assign(payload.data(), std::min(payload.size(), data.max_size()));
  bool timedOut = false;
  error_code ec =
      d.run([&](auto handler) { d.ws.async_ping(data, std::move(handler)); }, timeout, &timedOut);
  return ec ? d.failure("ping", ec, timedOut) : Status::ok();
}

Status TestWebSocketClient::sendRaw(std::string_view bytes, std::chrono::milliseconds timeout) {
  Impl& d = *impl_;
  bool timedOut = false;
  error_code ec = d.run(
      [&](auto handler) {
        asio::async_write(d.ws.next_layer(), asio::buffer(bytes), std::move(handler));
      },
      timeout, &timedOut);
  return ec ? d.failure("raw write", ec, timedOut) : Status::ok();
}

Result<TestWebSocketClient::Message> TestWebSocketClient::receive(
    std::chrono::milliseconds timeout) {
  Impl& d = *impl_;
  beast::flat_buffer buffer;
  bool timedOut = false;
  error_code ec =
      d.run([&](auto handler) { d.ws.async_read(buffer, std::move(handler)); }, timeout, &timedOut);
  if (!ec) return Message{beast::buffers_to_string(buffer.cdata()), d.ws.got_binary()};
  if (ec == websocket::error::closed) {
    d.noteClose();
    return Status::unavailable("the server closed the WebSocket with " +
                               std::to_string(d.closeFrame->code) + " \"" + d.closeFrame->reason +
                               "\"");
  }
  return d.failure("receive", ec, timedOut);
}

Status TestWebSocketClient::close(int code, std::string_view reason,
                                  std::chrono::milliseconds timeout) {
  Impl& d = *impl_;
  websocket::close_reason frame;
  if (code != 0) {
    frame.code = static_cast<std::uint16_t>(code);
    frame.reason.assign(reason.data(), std::min(reason.size(), frame.reason.max_size()));
  }
  bool timedOut = false;
  error_code ec =
      d.run([&](auto handler) { d.ws.async_close(frame, std::move(handler)); }, timeout, &timedOut);
  if (ec) return d.failure("close", ec, timedOut);
  d.noteClose();
  return Status::ok();
}

void TestWebSocketClient::abort() {
  impl_->closeSocket();
  impl_->open = false;
}

bool TestWebSocketClient::waitForTcpClose(std::chrono::milliseconds timeout) {
  Impl& d = *impl_;
  const Clock::time_point deadline = Clock::now() + timeout;
  char scratch[4096];
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    bool timedOut = false;
    error_code ec = d.run(
        [&](auto handler) {
          d.ws.next_layer().async_read_some(asio::buffer(scratch), std::move(handler));
        },
        left, &timedOut);
    if (timedOut) return false;
    if (ec) {
      d.open = false;
      return true;
    }
  }
}

const std::optional<TestWebSocketClient::CloseFrame>& TestWebSocketClient::closeFrame() const {
  return impl_->closeFrame;
}

int TestWebSocketClient::pongsReceived() const { return impl_->pongs; }

std::string TestWebSocketClient::frame(int opcode, std::string_view payload, bool fin,
                                       bool masked) {
  std::string out;
  out.push_back(static_cast<char>((fin ? 0x80 : 0x00) | (opcode & 0x0F)));
  const unsigned char maskBit = masked ? 0x80 : 0x00;
  const uint64_t n = payload.size();
  if (n < 126) {
    out.push_back(static_cast<char>(maskBit | n));
  } else if (n <= 0xFFFF) {
    out.push_back(static_cast<char>(maskBit | 126));
    out.push_back(static_cast<char>(n >> 8));
    out.push_back(static_cast<char>(n & 0xFF));
  } else {
    out.push_back(static_cast<char>(maskBit | 127));
    for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(n >> shift));
  }
  if (!masked) return out.append(payload);
  const char key[4] = {0x12, 0x34, 0x56, 0x78};
  out.append(key, sizeof(key));
  for (size_t i = 0; i < payload.size(); ++i)
    out.push_back(static_cast<char>(payload[i] ^ key[i % 4]));
  return out;
}

}  // namespace duro::net
