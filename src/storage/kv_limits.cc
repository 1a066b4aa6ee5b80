// Implementation of the KV limit checks (kv_limits.h).
#include "storage/kv_limits.h"

#include <string>

namespace duro::storage {

Status checkKey(const KvLimits& limits, std::string_view key) {
  if (key.size() > limits.maxKeyBytes) {
    return Status::limitExceeded("Keys cannot be larger than " +
                                 std::to_string(limits.maxKeyBytes) + " bytes. A key of size " +
                                 std::to_string(key.size()) + " was provided.");
  }
  return Status::ok();
}

Status checkValue(const KvLimits& limits, std::string_view key, std::string_view value) {
  if (Status s = checkKey(limits, key); !s) return s;
  if (limits.maxKeyPlusValueBytes != 0 && key.size() + value.size() > limits.maxKeyPlusValueBytes) {
    return Status::limitExceeded("Key and value combined cannot be larger than " +
                                 std::to_string(limits.maxKeyPlusValueBytes) + " bytes. A key and "
                                 "value of size " + std::to_string(key.size() + value.size()) +
                                 " were provided.");
  }
  if (value.size() > limits.maxValueBytes) {
    return Status::limitExceeded("Values cannot be larger than " +
                                 std::to_string(limits.maxValueBytes) + " bytes. A value of size " +
                                 std::to_string(value.size()) + " was provided.");
  }
  return Status::ok();
}

Status checkBatch(const KvLimits& limits, size_t keys) {
  if (keys > limits.maxBatchKeys) {
    return Status::limitExceeded("Maximum number of key value pairs is " +
                                 std::to_string(limits.maxBatchKeys) + ". " +
                                 std::to_string(keys) + " pairs were provided.");
  }
  return Status::ok();
}

}  // namespace duro::storage
