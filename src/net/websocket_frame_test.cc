// Tests for duro's RFC 6455 framing (websocket_frame.h) and Utf8Validator, without sockets: client
// frames are built by hand and fed to FrameParser whole, byte by byte, and through directSpace().
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "net/utf8_validator.h"
#include "net/websocket_frame.h"

namespace duro::net::detail {
namespace {

using Event = FrameParser::Event;

// A client frame: `firstByte` holds FIN, RSV and the opcode as given; masked with `key` unless
// `masked` is false.
std::string clientFrame(uint8_t firstByte, std::string_view payload, bool masked = true,
                        uint32_t key = 0x37fa213d) {
  std::string out;
  out.push_back(static_cast<char>(firstByte));
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
  const char k[4] = {static_cast<char>(key >> 24), static_cast<char>(key >> 16),
                     static_cast<char>(key >> 8), static_cast<char>(key)};
  out.append(k, 4);
  for (size_t i = 0; i < payload.size(); ++i)
    out.push_back(static_cast<char>(payload[i] ^ k[i % 4]));
  return out;
}

std::string text(std::string_view payload, bool fin = true) {
  return clientFrame((fin ? 0x80 : 0x00) | kOpText, payload);
}
std::string binary(std::string_view payload, bool fin = true) {
  return clientFrame((fin ? 0x80 : 0x00) | kOpBinary, payload);
}
std::string continuation(std::string_view payload, bool fin) {
  return clientFrame((fin ? 0x80 : 0x00) | kOpContinuation, payload);
}
std::string ping(std::string_view payload) { return clientFrame(0x80 | kOpPing, payload); }
std::string closeFrame(std::string_view payload) { return clientFrame(0x80 | kOpClose, payload); }
std::string closePayload(int code, std::string_view reason = {}) {
  std::string p;
  p.push_back(static_cast<char>(code >> 8));
  p.push_back(static_cast<char>(code & 0xFF));
  return p.append(reason);
}

// Feeds `bytes` in pieces of `step` bytes (0: all at once) and records every event as text.
std::vector<std::string> run(FrameParser& parser, std::string_view bytes, size_t step = 0) {
  std::vector<std::string> events;
  size_t at = 0;
  while (true) {
    const size_t n = step == 0 ? bytes.size() - at : std::min(step, bytes.size() - at);
    const char* pos = bytes.data() + at;
    const char* end = pos + n;
    while (true) {
      Event e = parser.parse(&pos, end);
      if (e == Event::kNeedMore) break;
      switch (e) {
        case Event::kMessage: {
          const bool isBinary = parser.messageIsBinary();
          events.push_back(std::string(isBinary ? "binary:" : "text:") + parser.takeMessage());
          break;
        }
        case Event::kPing:
          events.push_back("ping:" + std::string(parser.controlPayload()));
          break;
        case Event::kPong:
          events.push_back("pong:" + std::string(parser.controlPayload()));
          break;
        case Event::kClose:
          events.push_back("close:" + std::to_string(parser.closeCode()) + ":" +
                           parser.closeReason());
          break;
        case Event::kError:
          events.push_back("error:" + std::to_string(parser.errorCode()) + ":" +
                           parser.errorReason());
          return events;
        case Event::kNeedMore:
          break;
      }
    }
    EXPECT_EQ(pos, end);  // kNeedMore means everything given was consumed
    at += n;
    if (at >= bytes.size()) break;
  }
  return events;
}

// ---- Utf8Validator ---------------------------------------------------------------------------

TEST(Utf8ValidatorTest, AcceptsWellFormedText) {
  EXPECT_TRUE(Utf8Validator::isValid(""));
  EXPECT_TRUE(Utf8Validator::isValid("plain ASCII, long enough for the eight-byte fast path"));
  EXPECT_TRUE(Utf8Validator::isValid("w\xc3\xb6rld \xe2\x82\xac \xf0\x9f\x98\x80"));
  EXPECT_TRUE(Utf8Validator::isValid("\xed\x9f\xbf"));      // U+D7FF, just below the surrogates
  EXPECT_TRUE(Utf8Validator::isValid("\xf4\x8f\xbf\xbf"));  // U+10FFFF
  EXPECT_TRUE(Utf8Validator::isValid(std::string("\0", 1)));
}

TEST(Utf8ValidatorTest, RejectsMalformedText) {
  for (std::string_view bad : {"\x80", "\xbf", "\xc0\x80", "\xc1\xbf", "\xe0\x80\x80",
                               "\xe0\x9f\xbf", "\xed\xa0\x80", "\xed\xbf\xbf", "\xf0\x80\x80\x80",
                               "\xf0\x8f\xbf\xbf", "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xff",
                               "ok \xff\xfe", "\xc3", "\xe2\x82", "\xf0\x9f\x98", "\xc3\x28"}) {
    EXPECT_FALSE(Utf8Validator::isValid(bad)) << testing::PrintToString(std::string(bad));
  }
}

TEST(Utf8ValidatorTest, SequencesSplitAcrossPiecesAreJoined) {
  const std::string s = "a\xc3\xb6\xe2\x82\xac\xf0\x9f\x98\x80z";
  for (size_t split = 0; split <= s.size(); ++split) {
    Utf8Validator v;
    EXPECT_TRUE(v.feed(std::string_view(s).substr(0, split)));
    EXPECT_TRUE(v.feed(std::string_view(s).substr(split)));
    EXPECT_TRUE(v.complete()) << split;
  }
  Utf8Validator v;
  EXPECT_TRUE(v.feed("\xe2\x82"));
  EXPECT_FALSE(v.complete());  // ends inside a sequence
  EXPECT_FALSE(v.feed("x"));   // not a continuation byte
  EXPECT_FALSE(v.feed("ok"));  // stays failed
}

// ---- building frames -------------------------------------------------------------------------

TEST(WebSocketFrameTest, ServerFramesAreUnmaskedWithTheShortestLength) {
  EXPECT_EQ(makeFrame(kOpText, "hi"), std::string("\x81\x02hi"));
  EXPECT_EQ(makeFrame(kOpBinary, ""), std::string("\x82\x00", 2));
  EXPECT_EQ(makeFrame(kOpText, std::string(125, 'a')).substr(0, 2), "\x81\x7d");
  EXPECT_EQ(makeFrame(kOpText, std::string(126, 'a')).substr(0, 4),
            std::string("\x81\x7e\x00\x7e", 4));
  EXPECT_EQ(makeFrame(kOpText, std::string(65535, 'a')).substr(0, 4), "\x81\x7e\xff\xff");
  const std::string big = makeFrame(kOpBinary, std::string(65536, 'a'));
  EXPECT_EQ(big.substr(0, 10), std::string("\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10));
  EXPECT_EQ(big.size(), 10u + 65536u);
}

TEST(WebSocketFrameTest, CloseFramesCarryCodeAndReasonCutAtACharacter) {
  EXPECT_EQ(makeCloseFrame(0, "ignored"), std::string("\x88\x00", 2));
  EXPECT_EQ(makeCloseFrame(1005, ""), std::string("\x88\x00", 2));
  EXPECT_EQ(makeCloseFrame(4001, "bye"), std::string("\x88\x05\x0f\xa1"
                                                     "bye"));
  // 122 ASCII bytes then a 2-byte character: the character does not fit in 123 bytes.
  const std::string reason = std::string(122, 'r') + "\xc3\xb6";
  const std::string frame = makeCloseFrame(1000, reason);
  EXPECT_EQ(frame.size(), 2u + 2u + 122u);
  EXPECT_EQ(truncateCloseReason(reason), std::string(122, 'r'));
}

TEST(WebSocketFrameTest, MaskingMatchesTheBytewiseDefinitionAtEveryOffset) {
  const uint8_t key[4] = {0x12, 0x9a, 0xff, 0x01};
  std::string src;
  for (int i = 0; i < 100; ++i) src.push_back(static_cast<char>(i * 7));
  for (size_t start = 0; start < 4; ++start) {
    for (size_t n : {0, 1, 3, 8, 15, 16, 17, 31, 64, 99}) {
      std::string dst(n, '\0');
      size_t offset = start;
      applyMask(dst.data(), src.data(), n, key, &offset);
      for (size_t i = 0; i < n; ++i) {
        ASSERT_EQ(static_cast<uint8_t>(dst[i]), static_cast<uint8_t>(src[i] ^ key[(start + i) % 4]))
            << start << " " << n << " " << i;
      }
      EXPECT_EQ(offset, (start + n) % 4);
      // In place.
      std::string inPlace = src.substr(0, n);
      offset = start;
      applyMask(inPlace.data(), inPlace.data(), n, key, &offset);
      EXPECT_EQ(inPlace, dst);
    }
  }
}

// ---- parsing ---------------------------------------------------------------------------------

const std::string& mixedStream() {
  static const std::string bytes =
      text("hello") + binary(std::string("\x00\x01\xff", 3)) + text("") + text("Hel", false) +
      ping("in between") + continuation("lo, w\xc3", false) +
      clientFrame(0x80 | kOpPong, "unsolicited") + continuation("\xb6rld", true) +
      binary(std::string(70000, 'B')) + text(std::string(300, 't')) +
      closeFrame(closePayload(4001, "done here")) + "garbage after the close frame";
  return bytes;
}

const std::vector<std::string>& mixedEvents() {
  static const std::vector<std::string> events = {
      "text:hello",
      std::string("binary:\x00\x01\xff", 10),
      "text:",
      "ping:in between",
      "pong:unsolicited",
      "text:Hello, w\xc3\xb6rld",
      "binary:" + std::string(70000, 'B'),
      "text:" + std::string(300, 't'),
      "close:4001:done here",
  };
  return events;
}

TEST(FrameParserTest, ParsesMessagesFragmentsAndControlFramesAllAtOnce) {
  FrameParser parser(0);
  EXPECT_EQ(run(parser, mixedStream()), mixedEvents());
}

TEST(FrameParserTest, ParsesTheSameFedOneByteAtATime) {
  FrameParser parser(0);
  EXPECT_EQ(run(parser, mixedStream(), 1), mixedEvents());
}

TEST(FrameParserTest, ParsesTheSameInOddPieces) {
  for (size_t step : {2, 3, 7, 13, 1000}) {
    FrameParser parser(0);
    EXPECT_EQ(run(parser, mixedStream(), step), mixedEvents()) << step;
  }
}

TEST(FrameParserTest, LargePayloadsCanBeReadStraightIntoTheMessage) {
  const std::string payload = [] {
    std::string p;
    for (int i = 0; i < 100000; ++i) p.push_back(static_cast<char>('a' + i % 26));
    return p;
  }();
  const std::string frame = text(payload);
  FrameParser parser(0);
  // The header and a few payload bytes through parse(), the rest "read" into directSpace().
  const char* pos = frame.data();
  ASSERT_EQ(parser.parse(&pos, pos + 20), Event::kNeedMore);
  size_t at = 20;
  while (at < frame.size()) {
    std::span<char> space = parser.directSpace();
    ASSERT_EQ(space.size(), frame.size() - at);
    const size_t n = std::min<size_t>(space.size(), 4099);
    std::memcpy(space.data(), frame.data() + at, n);
    parser.commitDirect(n);
    at += n;
  }
  EXPECT_TRUE(parser.directSpace().empty());
  pos = frame.data() + frame.size();
  ASSERT_EQ(parser.parse(&pos, pos), Event::kMessage);
  EXPECT_FALSE(parser.messageIsBinary());
  EXPECT_EQ(parser.takeMessage(), payload);
}

TEST(FrameParserTest, CloseWithoutCodeIs1005AndNothingIsParsedAfterIt) {
  FrameParser parser(0);
  EXPECT_EQ(run(parser, closeFrame("") + text("after")), std::vector<std::string>{"close:1005:"});
}

struct ErrorCase {
  std::string name;
  std::string bytes;
  std::string expected;  // "error:<code>:<reason>"
  size_t limit = 0;
};

TEST(FrameParserTest, ProtocolErrorsGiveWorkerdsCodesAndReasons) {
  const std::vector<ErrorCase> cases = {
      {"unmasked", clientFrame(0x81, "hi", /*masked=*/false),
       "error:1002:Received an unmasked frame from the client"},
      {"rsv2", clientFrame(0x80 | 0x20 | kOpText, "x"),
       "error:1002:Received frame had RSV bits 2 or 3 set"},
      {"rsv3", clientFrame(0x80 | 0x10 | kOpBinary, "x"),
       "error:1002:Received frame had RSV bits 2 or 3 set"},
      {"rsv1", clientFrame(0x80 | 0x40 | kOpText, "x"),
       "error:1002:Received a WebSocket frame whose compression bit was set, but the "
       "compression extension was not negotiated for this connection."},
      {"opcode 3", clientFrame(0x80 | 3, "?"), "error:1002:Unknown opcode 3"},
      {"opcode 11", clientFrame(0x80 | 11, "?"), "error:1002:Unknown opcode 11"},
      {"continuation first", continuation("x", true), "error:1002:Unexpected continuation frame"},
      {"data inside fragments", text("a", false) + text("b"),
       "error:1002:Missing continuation frame"},
      {"fragmented ping", clientFrame(kOpPing, "x"),
       "error:1002:Received fragmented control frame"},
      {"long ping", ping(std::string(126, 'p')),
       "error:1002:Received a control frame longer than 125 bytes"},
      {"close with 1 byte", closeFrame("\x03"),
       "error:1002:Received a close frame with a 1-byte payload"},
      {"close 1005", closeFrame(closePayload(1005)),
       "error:1002:Received a close frame with invalid code 1005"},
      {"close 999", closeFrame(closePayload(999)),
       "error:1002:Received a close frame with invalid code 999"},
      {"close 5000", closeFrame(closePayload(5000)),
       "error:1002:Received a close frame with invalid code 5000"},
      {"close reason", closeFrame(closePayload(1000, "\xff")),
       "error:1007:Received a close frame whose reason is not valid UTF-8"},
      {"bad utf-8", text("ok \xff\xfe"),
       "error:1007:Received a text message that is not valid UTF-8"},
      {"truncated utf-8", text("\xe2\x82"),
       "error:1007:Received a text message that is not valid UTF-8"},
      {"bad utf-8 in a fragment", text("fine", false) + continuation("\xc0\x80", true),
       "error:1007:Received a text message that is not valid UTF-8"},
      {"over the limit", binary(std::string(1025, 'b')),
       "error:1009:Message is too large: 1025 > 1024", 1024},
      // As KJ counts: the frame against what remains of the limit.
      {"fragments over the limit",
       text(std::string(600, 'a'), false) + continuation(std::string(600, 'a'), true),
       "error:1009:Message is too large: 600 > 424", 1024},
  };
  for (const ErrorCase& c : cases) {
    for (size_t step : {size_t{0}, size_t{1}}) {
      FrameParser parser(c.limit);
      std::vector<std::string> events = run(parser, c.bytes, step);
      ASSERT_FALSE(events.empty()) << c.name;
      EXPECT_EQ(events.back(), c.expected) << c.name << " step " << step;
      // Final: nothing more is parsed.
      const char* pos = "x";
      EXPECT_EQ(parser.parse(&pos, pos + 1), Event::kError) << c.name;
    }
  }
}

TEST(FrameParserTest, TheDefaultLimitIsCheckedFromTheHeaderAlone) {
  FrameParser parser(32 * 1024 * 1024);
  // Only the header of a 32 MiB + 1 frame: refused before any payload arrives.
  std::string bytes;
  bytes.push_back(static_cast<char>(0x82));
  bytes.push_back(static_cast<char>(0x80 | 127));
  const uint64_t n = 32 * 1024 * 1024 + 1;
  for (int shift = 56; shift >= 0; shift -= 8) bytes.push_back(static_cast<char>(n >> shift));
  bytes.append("\x01\x02\x03\x04", 4);
  EXPECT_EQ(run(parser, bytes),
            std::vector<std::string>{"error:1009:Message is too large: 33554433 > 33554432"});
  FrameParser atLimit(32 * 1024 * 1024);
  const char* pos = bytes.data();
  bytes[9] = 0;  // exactly 32 MiB: accepted, waiting for the payload
  EXPECT_EQ(atLimit.parse(&pos, bytes.data() + bytes.size()), Event::kNeedMore);
  EXPECT_EQ(atLimit.directSpace().size(), 32u * 1024 * 1024);
}

TEST(FrameParserTest, AnAbsurdLengthWithoutALimitIsRefusedNotAllocated) {
  FrameParser parser(0);
  std::string bytes("\x82\xff", 2);
  for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<char>(i == 0 ? 0x7f : 0xff));
  bytes.append("\x01\x02\x03\x04", 4);
  std::vector<std::string> events = run(parser, bytes);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].rfind("error:1009:Message is too large: ", 0), 0u) << events[0];
}

}  // namespace
}  // namespace duro::net::detail
