// RFC 6455 framing for the server end of a WebSocket: FrameParser reads the client's (masked)
// frames into messages and control frames; makeFrame()/makeCloseFrame() build our (unmasked)
// frames. Pure computation: no I/O, no threads, no Beast. Internal to src/net (WebSocketSession).
//
// Why not Beast's websocket::stream: it answers a client's close frame itself, at once, and that
// cannot be turned off, while Cloudflare's semantics leave the answer (when, with what code and
// reason) to the application. See websocket_session.cc.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "net/utf8_validator.h"

namespace duro::net::detail {

// Opcodes (RFC 6455 5.2).
inline constexpr uint8_t kOpContinuation = 0x0;
inline constexpr uint8_t kOpText = 0x1;
inline constexpr uint8_t kOpBinary = 0x2;
inline constexpr uint8_t kOpClose = 0x8;
inline constexpr uint8_t kOpPing = 0x9;
inline constexpr uint8_t kOpPong = 0xA;

// Control frame payloads are at most 125 bytes, 2 of which hold a close frame's code.
inline constexpr size_t kMaxControlPayload = 125;
inline constexpr size_t kMaxCloseReasonBytes = 123;
// The largest frame header: 2 bytes, 8 of extended length, 4 of mask.
inline constexpr size_t kMaxFrameHeader = 14;

// One unmasked frame with FIN set: header and payload in one buffer (one allocation).
std::string makeFrame(uint8_t opcode, std::string_view payload);
// A close frame. `code` 0 or 1005 sends no code (and no reason); otherwise the code and `reason`
// cut to kMaxCloseReasonBytes without splitting a UTF-8 sequence.
std::string makeCloseFrame(int code, std::string_view reason);
// `reason` cut to at most kMaxCloseReasonBytes without splitting a UTF-8 sequence.
std::string_view truncateCloseReason(std::string_view reason);

// Codes a close frame may carry (RFC 6455 7.4: 1000-1003, 1007-1014 and 3000-4999; 1004-1006
// and 1015 are reserved, the rest of 0-2999 unassigned).
bool isValidCloseCode(int code);

// Copies n bytes from `src` to `dst` XOR-ing them with the 4-byte masking key, starting at key
// byte *keyOffset (advanced past them). `dst` may equal `src` (unmasking in place).
void applyMask(char* dst, const char* src, size_t n, const uint8_t key[4], size_t* keyOffset);

// Turns the client's bytes into events, one at a time, however they are split across reads.
//
//   parse() ── kNeedMore: all given bytes consumed, feed more
//           ── kMessage: a complete data message (fragments joined): takeMessage()
//           ── kPing / kPong: controlPayload()
//           ── kClose: closeCode() (1005 if the frame had none) and closeReason(); the parser
//              ignores every later byte (nothing may follow a close frame)
//           ── kError: the client broke the protocol: errorCode() (1002 protocol error, 1007
//              invalid UTF-8, 1009 too large) and errorReason() for our close frame. Final.
//
// Checks, in the order workerd (KJ's WebSocket) makes them, with KJ's texts where it has them:
// RSV2/RSV3 set; a frame longer than what remains of the message limit ("Message is too large:
// <frame length> > <remaining limit>", 1009); a continuation frame with no message started, or a
// new data frame inside a fragmented message; a fragmented control frame; then (RFC 6455 MUSTs
// that KJ leaves out) an unmasked frame, a control frame over 125 bytes; an unknown opcode; RSV1
// (no extension is negotiated). Text messages are checked for UTF-8 as their bytes arrive; close
// frames for a valid code and a UTF-8 reason.
//
// Large payloads can be read straight into the message (directSpace()/commitDirect()), skipping
// the copy out of the read buffer. Not thread-safe.
class FrameParser {
 public:
  enum class Event { kNeedMore, kMessage, kPing, kPong, kClose, kError };

  // 0: no limit.
  explicit FrameParser(size_t maxMessageBytes);

  // Consumes bytes from [*pos, end) until an event completes (or they run out); *pos is advanced
  // past what was consumed.
  Event parse(const char** pos, const char* end);

  // Where the rest of the current data frame's payload can be read to directly (empty when the
  // parser is not in the middle of a data frame's payload).
  std::span<char> directSpace() noexcept;
  // `n` bytes were read into directSpace(); the next parse() reports what they completed.
  void commitDirect(size_t n);

  // kMessage: the message (moved out) and its kind.
  std::string takeMessage() noexcept;
  bool messageIsBinary() const noexcept { return messageOpcode_ == kOpBinary; }
  // kPing / kPong.
  std::string_view controlPayload() const noexcept { return control_; }
  // kClose.
  int closeCode() const noexcept { return closeCode_; }
  const std::string& closeReason() const noexcept { return closeReason_; }
  // kError.
  int errorCode() const noexcept { return errorCode_; }
  const std::string& errorReason() const noexcept { return errorReason_; }

 private:
  enum class State { kHeader, kPayload, kClosed, kFailed };

  Event startFrame();
  Event finishFrame();
  void consumePayload(const char* src, size_t n);
  void unmaskedPayload(char* data, size_t n);  // data frame bytes now in place: validate
  Event fail(int code, std::string reason);

  const size_t maxMessageBytes_;  // SIZE_MAX for no limit
  State state_ = State::kHeader;

  // The frame being read.
  unsigned char header_[kMaxFrameHeader];
  size_t headerHave_ = 0;
  uint8_t opcode_ = 0;
  bool fin_ = false;
  uint8_t mask_[4] = {0, 0, 0, 0};
  size_t maskOffset_ = 0;
  uint64_t remaining_ = 0;  // payload bytes still to come

  // The data message being assembled (possibly over several frames).
  std::string message_;  // sized for the frames seen so far; the first fill_ bytes are data
  size_t fill_ = 0;
  uint8_t messageOpcode_ = 0;  // kOpText or kOpBinary while a message is open, else 0
  bool inMessage_ = false;
  Utf8Validator utf8_;

  std::string control_;  // the current control frame's payload
  int closeCode_ = 0;
  std::string closeReason_;
  int errorCode_ = 0;
  std::string errorReason_;
};

}  // namespace duro::net::detail
