// TestWebSocketClient: a blocking WebSocket client (Beast) for tests of HttpServer's WebSockets and
// of anything that embeds the server (integration tests). It can also put hand-made frames on the
// wire (frame(), sendRaw()) to test the server's checks. Every wait has a timeout, so a broken
// server fails a test instead of hanging it; a timed-out operation closes the connection.
// Test-only (target duro_net_testing); not thread-safe (use one client per thread); errors come
// back as Status.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "duro/http.h"
#include "duro/status.h"

namespace duro::net {

class TestWebSocketClient {
 public:
  static constexpr std::chrono::milliseconds kDefaultTimeout{10000};

  struct Message {
    std::string data;
    bool binary = false;
  };
  // A close frame from the server: its code (1005 if it had none) and reason.
  struct CloseFrame {
    int code = 0;
    std::string reason;
  };

  TestWebSocketClient();
  ~TestWebSocketClient();
  TestWebSocketClient(const TestWebSocketClient&) = delete;
  TestWebSocketClient& operator=(const TestWebSocketClient&) = delete;
  TestWebSocketClient(TestWebSocketClient&&) noexcept;
  TestWebSocketClient& operator=(TestWebSocketClient&&) noexcept;

  // Connects to host:port (an IP literal) and performs the opening handshake for `target`, adding
  // `extraHeaders` to the request (set, so they replace Beast's own, e.g. Sec-WebSocket-Version).
  // A refused upgrade is an error Status; handshakeResponse() then holds the server's answer.
  Status connect(uint16_t port, std::string_view target = "/", const Headers& extraHeaders = {},
                 std::chrono::milliseconds timeout = kDefaultTimeout,
                 std::string_view host = "127.0.0.1");
  // The server's answer to the handshake: status, headers and body (empty for a 101).
  const Response& handshakeResponse() const;
  // Connected, and no close frame seen or sent yet.
  bool isOpen() const;

  // Sends one message as one frame.
  Status send(std::string_view data, bool binary = false,
              std::chrono::milliseconds timeout = kDefaultTimeout);
  // Sends one message as one frame per fragment (continuation frames after the first).
  Status sendFragmented(const std::vector<std::string>& fragments, bool binary = false,
                        std::chrono::milliseconds timeout = kDefaultTimeout);
  // Sends a ping; the pong is counted by pongsReceived() when a later receive() reads it.
  Status ping(std::string_view payload = {}, std::chrono::milliseconds timeout = kDefaultTimeout);
  // Writes bytes straight to the TCP connection, past Beast (see frame()).
  Status sendRaw(std::string_view bytes, std::chrono::milliseconds timeout = kDefaultTimeout);

  // The next message. If the server closes instead, this is an error Status, closeFrame() holds
  // the server's close frame and Beast has answered it (with the same code).
  Result<Message> receive(std::chrono::milliseconds timeout = kDefaultTimeout);

  // Starts the closing handshake (code 0: a close frame without a code) and waits for the
  // server's close frame (closeFrame()) and the end of the TCP connection. Messages that arrive
  // meanwhile are discarded.
  Status close(int code, std::string_view reason = {},
               std::chrono::milliseconds timeout = kDefaultTimeout);
  // Closes the TCP connection without a close frame.
  void abort();
  // Reads and discards raw bytes (so a close frame is not answered) until the server ends the TCP
  // connection. True if it did within `timeout`.
  bool waitForTcpClose(std::chrono::milliseconds timeout = kDefaultTimeout);

  const std::optional<CloseFrame>& closeFrame() const;
  int pongsReceived() const;

  // A client-to-server frame made by hand: FIN (if `fin`), `opcode` (1 text, 2 binary, 0
  // continuation, 8 close, 9 ping, or anything else to test the server), and the payload, masked
  // with a fixed key unless `masked` is false (which servers must refuse).
  static std::string frame(int opcode, std::string_view payload, bool fin = true,
                           bool masked = true);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace duro::net
