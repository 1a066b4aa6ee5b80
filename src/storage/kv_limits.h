// Validation of the KV API's documented limits (include/duro/storage.h): key size, value size and
// keys per batch. Each check returns a Status whose message matches what Cloudflare reports, so
// callers (C++ and, later, JS) get the same clear error.
#pragma once

#include <cstddef>
#include <string_view>

#include "duro/status.h"
#include "duro/storage.h"

namespace duro::storage {

struct KvLimits {
  size_t maxKeyBytes = StorageOps::kMaxKeyBytes;
  size_t maxValueBytes = StorageOps::kMaxValueBytes;  // KV-backed classes
  size_t maxBatchKeys = StorageOps::kMaxBatchKeys;
  // SQLite-backed classes: key and value together (0: no such limit). Cloudflare documents 2 MB;
  // it is a little under 2,000,000 here so that the row, with SQLite's record header, stays within
  // the 2,000,000-byte row limit of the SQL API.
  size_t maxKeyPlusValueBytes = 0;
};

Status checkKey(const KvLimits& limits, std::string_view key);
Status checkValue(const KvLimits& limits, std::string_view key, std::string_view value);
Status checkBatch(const KvLimits& limits, size_t keys);

}  // namespace duro::storage
