// Implementation of Utf8Validator (utf8_validator.h): a byte-at-a-time state machine following
// RFC 3629's table of well-formed sequences, with a fast path that skips ASCII eight bytes at a
// time (most WebSocket text is ASCII: JSON).
#include "net/utf8_validator.h"

#include <cstring>

namespace duro::net::detail {

bool Utf8Validator::feed(std::string_view bytes) noexcept {
  if (failed_) return false;
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const unsigned char* const end = p + bytes.size();
  while (p < end) {
    if (needed_ == 0) {
      // Fast path: eight ASCII bytes at a time.
      while (end - p >= 8) {
        uint64_t word;
        std::memcpy(&word, p, sizeof(word));
        if ((word & 0x8080808080808080ULL) != 0) break;
        p += 8;
      }
      if (p == end) break;
      const unsigned char b = *p++;
      if (b < 0x80) continue;
      low_ = 0x80;
      high_ = 0xBF;
      if (b >= 0xC2 && b <= 0xDF) {
        needed_ = 1;
      } else if (b == 0xE0) {
        needed_ = 2;
        low_ = 0xA0;  // no overlong 3-byte forms
      } else if ((b >= 0xE1 && b <= 0xEC) || b == 0xEE || b == 0xEF) {
        needed_ = 2;
      } else if (b == 0xED) {
        needed_ = 2;
        high_ = 0x9F;  // no surrogates (U+D800..U+DFFF)
      } else if (b == 0xF0) {
        needed_ = 3;
        low_ = 0x90;  // no overlong 4-byte forms
      } else if (b >= 0xF1 && b <= 0xF3) {
        needed_ = 3;
      } else if (b == 0xF4) {
        needed_ = 3;
        high_ = 0x8F;  // nothing above U+10FFFF
      } else {
        failed_ = true;  // 0x80..0xC1 (continuation or overlong lead), 0xF5..0xFF
        return false;
      }
      continue;
    }
    const unsigned char b = *p++;
    if (b < low_ || b > high_) {
      failed_ = true;
      return false;
    }
    low_ = 0x80;
    high_ = 0xBF;
    --needed_;
  }
  return true;
}

}  // namespace duro::net::detail
