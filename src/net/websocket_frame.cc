// Implementation of the WebSocket framing in websocket_frame.h. duro's own RFC 6455 code instead
// of Boost.Beast's websocket::stream (the "better way" exception to using the library): Beast
// always answers a client's close frame itself, immediately, echoing the code without the reason,
// and offers no way to suppress that, but Durable Objects must let the application decide when
// and how to answer (Hibernation API: in webSocketClose(); standard API: depending on the
// compatibility date). Beast still parses HTTP and supplies the handshake's accept key.
#include "net/websocket_frame.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <new>
#include <stdexcept>

namespace duro::net::detail {

namespace {

// Writes the header of an unmasked, final frame; returns its length.
size_t writeHeader(char* out, uint8_t opcode, uint64_t length) {
  out[0] = static_cast<char>(0x80 | opcode);
  if (length < 126) {
    out[1] = static_cast<char>(length);
    return 2;
  }
  if (length <= 0xFFFF) {
    out[1] = static_cast<char>(126);
    out[2] = static_cast<char>(length >> 8);
    out[3] = static_cast<char>(length & 0xFF);
    return 4;
  }
  out[1] = static_cast<char>(127);
  for (int i = 0; i < 8; ++i) out[2 + i] = static_cast<char>(length >> (56 - 8 * i));
  return 10;
}

size_t headerSize(const unsigned char* header) {
  size_t size = 2;
  if (header[1] & 0x80) size += 4;
  const unsigned len7 = header[1] & 0x7F;
  if (len7 == 126) size += 2;
  if (len7 == 127) size += 8;
  return size;
}

bool isControl(uint8_t opcode) { return (opcode & 0x8) != 0; }

}  // namespace

std::string makeFrame(uint8_t opcode, std::string_view payload) {
  char header[10];
  const size_t headerLength = writeHeader(header, opcode, payload.size());
  std::string frame;
  frame.reserve(headerLength + payload.size());
  frame.append(header, headerLength);
  frame.append(payload);
  return frame;
}

std::string_view truncateCloseReason(std::string_view reason) {
  if (reason.size() <= kMaxCloseReasonBytes) return reason;
  size_t end = kMaxCloseReasonBytes;
  while (end > 0 && (static_cast<unsigned char>(reason[end]) & 0xC0) == 0x80) --end;
  return reason.substr(0, end);
}

std::string makeCloseFrame(int code, std::string_view reason) {
  if (code == 0 || code == 1005) return makeFrame(kOpClose, {});
  std::string_view cut = truncateCloseReason(reason);
  char payload[kMaxControlPayload];
  payload[0] = static_cast<char>((code >> 8) & 0xFF);
  payload[1] = static_cast<char>(code & 0xFF);
  std::memcpy(payload + 2, cut.data(), cut.size());
  return makeFrame(kOpClose, std::string_view(payload, 2 + cut.size()));
}

bool isValidCloseCode(int code) {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
         (code >= 3000 && code <= 4999);
}

void applyMask(char* dst, const char* src, size_t n, const uint8_t key[4], size_t* keyOffset) {
  size_t offset = *keyOffset & 3;
  size_t i = 0;
  if (n >= 16) {
    // Eight bytes at a time with the key rotated to the current offset.
    unsigned char rotated[8];
    for (size_t k = 0; k < 8; ++k) rotated[k] = key[(offset + k) & 3];
    uint64_t key64;
    std::memcpy(&key64, rotated, sizeof(key64));
    for (; i + 8 <= n; i += 8) {
      uint64_t word;
      std::memcpy(&word, src + i, sizeof(word));
      word ^= key64;
      std::memcpy(dst + i, &word, sizeof(word));
    }
    // Eight bytes keep the offset where it was.
  }
  for (; i < n; ++i) {
    dst[i] = static_cast<char>(src[i] ^ key[offset]);
    offset = (offset + 1) & 3;
  }
  *keyOffset = offset;
}

FrameParser::FrameParser(size_t maxMessageBytes)
    : maxMessageBytes_(maxMessageBytes == 0 ? std::numeric_limits<size_t>::max()
                                            : maxMessageBytes) {}

FrameParser::Event FrameParser::parse(const char** pos, const char* end) {
  for (;;) {
    switch (state_) {
      case State::kFailed:
        return Event::kError;
      case State::kClosed:
        *pos = end;
        return Event::kNeedMore;
      case State::kHeader: {
        // Gather the 2 fixed bytes, then the rest of the header (whose size they tell).
        size_t want = headerHave_ < 2 ? 2 : headerSize(header_);
        while (headerHave_ < want) {
          const size_t available = static_cast<size_t>(end - *pos);
          if (available == 0) return Event::kNeedMore;
          const size_t n = std::min(want - headerHave_, available);
          std::memcpy(header_ + headerHave_, *pos, n);
          headerHave_ += n;
          *pos += n;
          if (headerHave_ == 2) want = headerSize(header_);
        }
        Event e = startFrame();
        if (e != Event::kNeedMore) return e;
        break;
      }
      case State::kPayload: {
        if (remaining_ > 0) {
          const size_t available = static_cast<size_t>(end - *pos);
          if (available == 0) return Event::kNeedMore;
          const size_t n = static_cast<size_t>(std::min<uint64_t>(remaining_, available));
          consumePayload(*pos, n);
          *pos += n;
          if (state_ == State::kFailed) return Event::kError;
          if (remaining_ > 0) return Event::kNeedMore;
        }
        Event e = finishFrame();
        if (e != Event::kNeedMore) return e;
        break;
      }
    }
  }
}

FrameParser::Event FrameParser::startFrame() {
  headerHave_ = 0;
  const unsigned char b0 = header_[0];
  const unsigned char b1 = header_[1];
  fin_ = (b0 & 0x80) != 0;
  opcode_ = b0 & 0x0F;
  const bool masked = (b1 & 0x80) != 0;
  uint64_t length = b1 & 0x7F;
  size_t at = 2;
  if (length == 126) {
    length = (uint64_t{header_[2]} << 8) | header_[3];
    at = 4;
  } else if (length == 127) {
    length = 0;
    for (size_t i = 0; i < 8; ++i) length = (length << 8) | header_[2 + i];
    at = 10;
  }
  if (masked) {
    std::memcpy(mask_, header_ + at, 4);
  } else {
    std::memset(mask_, 0, 4);
  }
  maskOffset_ = 0;

  if (b0 & 0x30) return fail(1002, "Received frame had RSV bits 2 or 3 set");
  const size_t budget = maxMessageBytes_ - fill_;
  if (length > budget) {
    return fail(1009,
                "Message is too large: " + std::to_string(length) + " > " + std::to_string(budget));
  }
  if (opcode_ == kOpContinuation) {
    if (!inMessage_) return fail(1002, "Unexpected continuation frame");
  } else if (!isControl(opcode_)) {
    if (inMessage_) return fail(1002, "Missing continuation frame");
  } else if (!fin_) {
    return fail(1002, "Received fragmented control frame");
  }
  if (!masked) return fail(1002, "Received an unmasked frame from the client");
  if (isControl(opcode_) && length > kMaxControlPayload) {
    return fail(1002, "Received a control frame longer than 125 bytes");
  }
  if (opcode_ != kOpContinuation && opcode_ != kOpText && opcode_ != kOpBinary &&
      opcode_ != kOpClose && opcode_ != kOpPing && opcode_ != kOpPong) {
    return fail(1002, "Unknown opcode " + std::to_string(opcode_));
  }
  if (b0 & 0x40) {
    return fail(1002,
                "Received a WebSocket frame whose compression bit was set, but the compression "
                "extension was not negotiated for this connection.");
  }

  remaining_ = length;
  if (isControl(opcode_)) {
    control_.clear();
  } else {
    if (opcode_ != kOpContinuation) {
      inMessage_ = true;
      messageOpcode_ = opcode_;
      fill_ = 0;
      utf8_.reset();
    }
    try {
      message_.resize(fill_ + static_cast<size_t>(length));
    } catch (const std::length_error&) {
      return fail(1009, "Message is too large: " + std::to_string(length));
    } catch (const std::bad_alloc&) {
      return fail(1009, "Message is too large: " + std::to_string(length));
    }
  }
  state_ = State::kPayload;
  return Event::kNeedMore;
}

void FrameParser::consumePayload(const char* src, size_t n) {
  remaining_ -= n;
  if (isControl(opcode_)) {
    const size_t at = control_.size();
    control_.resize(at + n);
    applyMask(control_.data() + at, src, n, mask_, &maskOffset_);
    return;
  }
  char* dst = message_.data() + fill_;
  applyMask(dst, src, n, mask_, &maskOffset_);
  unmaskedPayload(dst, n);
}

void FrameParser::unmaskedPayload(char* data, size_t n) {
  fill_ += n;
  if (messageOpcode_ == kOpText && !utf8_.feed(std::string_view(data, n))) {
    fail(1007, "Received a text message that is not valid UTF-8");
  }
}

std::span<char> FrameParser::directSpace() noexcept {
  if (state_ != State::kPayload || isControl(opcode_) || remaining_ == 0) return {};
  return std::span<char>(message_.data() + fill_, static_cast<size_t>(remaining_));
}

void FrameParser::commitDirect(size_t n) {
  char* data = message_.data() + fill_;
  remaining_ -= n;
  applyMask(data, data, n, mask_, &maskOffset_);
  unmaskedPayload(data, n);
}

FrameParser::Event FrameParser::finishFrame() {
  state_ = State::kHeader;
  switch (opcode_) {
    case kOpContinuation:
    case kOpText:
    case kOpBinary:
      if (!fin_) return Event::kNeedMore;
      if (messageOpcode_ == kOpText && !utf8_.complete()) {
        return fail(1007, "Received a text message that is not valid UTF-8");
      }
      inMessage_ = false;
      return Event::kMessage;
    case kOpPing:
      return Event::kPing;
    case kOpPong:
      return Event::kPong;
    case kOpClose:
      if (control_.empty()) {
        closeCode_ = 1005;
        closeReason_.clear();
      } else if (control_.size() == 1) {
        return fail(1002, "Received a close frame with a 1-byte payload");
      } else {
        closeCode_ = (static_cast<unsigned char>(control_[0]) << 8) |
                     static_cast<unsigned char>(control_[1]);
        if (!isValidCloseCode(closeCode_)) {
          return fail(1002,
                      "Received a close frame with invalid code " + std::to_string(closeCode_));
        }
        closeReason_.assign(control_, 2);
        if (!Utf8Validator::isValid(closeReason_)) {
          return fail(1007, "Received a close frame whose reason is not valid UTF-8");
        }
      }
      state_ = State::kClosed;
      return Event::kClose;
    default:
      return fail(1002, "Unknown opcode " + std::to_string(opcode_));  // unreachable
  }
}

std::string FrameParser::takeMessage() noexcept {
  std::string out = std::move(message_);
  message_ = std::string();
  out.resize(fill_);
  fill_ = 0;
  return out;
}

FrameParser::Event FrameParser::fail(int code, std::string reason) {
  state_ = State::kFailed;
  errorCode_ = code;
  errorReason_ = std::move(reason);
  message_ = std::string();
  control_ = std::string();
  return Event::kError;
}

}  // namespace duro::net::detail
