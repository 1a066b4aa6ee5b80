// Utf8Validator: checks that bytes are well-formed UTF-8 (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF) when they arrive in pieces, as the frames of a WebSocket
// text message do. Internal to src/net (WebSocket text messages and close reasons).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace duro::net::detail {

// Feed the bytes of one text in order, in pieces of any size (a multi-byte sequence may be split
// between pieces), then ask complete(). Not thread-safe; a plain value, cheap to copy. Errors are
// the return values: once feed() returned false the validator stays failed until reset().
class Utf8Validator {
 public:
  // Checks the next piece. False as soon as the bytes so far cannot be the start of valid UTF-8.
  bool feed(std::string_view bytes) noexcept;
  // True if everything fed so far is valid and does not end inside a multi-byte sequence.
  bool complete() const noexcept { return !failed_ && needed_ == 0; }
  void reset() noexcept { *this = Utf8Validator(); }

  // Whole-text check.
  static bool isValid(std::string_view bytes) noexcept {
    Utf8Validator v;
    return v.feed(bytes) && v.complete();
  }

 private:
  uint8_t needed_ = 0;  // continuation bytes still expected for the current sequence
  uint8_t low_ = 0x80;  // bounds of the next continuation byte (tighter right after some leads)
  uint8_t high_ = 0xBF;
  bool failed_ = false;
};

}  // namespace duro::net::detail
