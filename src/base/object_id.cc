// duro::ObjectId's text form (include/duro/id.h): 64 lowercase hex characters.
#include "duro/id.h"

namespace duro {

std::string ObjectId::toString() const {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s(2 * kSize, '0');
  for (size_t i = 0; i < kSize; ++i) {
    s[2 * i] = kHex[bytes_[i] >> 4];
    s[2 * i + 1] = kHex[bytes_[i] & 0xf];
  }
  return s;
}

}  // namespace duro
