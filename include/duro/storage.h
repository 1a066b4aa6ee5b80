// duro::Storage: a Durable Object's own strongly consistent key-value storage (Cloudflare's
// `ctx.storage` KV API), for native C++ objects. Keys are strings; values are bytes (JS objects
// store V8-serialized values through the same interface).
//
// Semantics (as Cloudflare documents them):
//  - Reads see every earlier write at once, durable or not. A read served from the cache or from
//    the object's database does not suspend the handler.
//  - Writes are buffered: put/delete return at once, and every write made without a suspension in
//    between is committed as one atomic transaction ("write coalescing").
//  - Output gate: the object's responses wait until the writes made before them are durable
//    (fsync'd). If a commit fails, those responses become errors and the object is reset.
//  - Input gate: while a storage call is suspended, no other event is delivered to the object.
// Limits (KV API): key at most 2,048 bytes, value at most 128 KiB (2 MB in SQLite-backed
// objects), at most 128 keys per batch.
// A violation throws duro::Error (kLimitExceeded / kInvalidArgument) and changes nothing.
// Call only from the object's own handlers, on its shard.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "duro/sql.h"
#include "duro/task.h"

namespace duro {

struct StorageGetOptions {
  // Let other events run while this read waits for the database (no input gate).
  bool allowConcurrency = false;
  // Do not keep the value in the in-memory cache.
  bool noCache = false;
};

struct StoragePutOptions {
  // Let other events run while this operation waits (no input gate).
  bool allowConcurrency = false;
  // Do not hold the object's outputs until this write is durable.
  bool allowUnconfirmed = false;
  // Do not keep the written value in the in-memory cache once it is committed.
  bool noCache = false;
};

struct StorageListOptions {
  std::optional<std::string> start;       // first key (inclusive)
  std::optional<std::string> startAfter;  // first key (exclusive); not together with start
  std::optional<std::string> end;         // last key (exclusive)
  std::optional<std::string> prefix;      // only keys with this prefix
  bool reverse = false;                   // descending key order
  std::optional<size_t> limit;            // at most this many entries
  bool allowConcurrency = false;
  bool noCache = false;
};

// Key-value pairs in key order (UTF-8 byte order; descending with reverse).
using StorageEntries = std::vector<std::pair<std::string, std::string>>;

// The synchronous key-value API of a SQLite-backed object (`ctx.storage.kv`): the same keys and
// values as the asynchronous API, read and written without suspending. list() ignores
// allowConcurrency and noCache.
class SyncKv {
 public:
  virtual ~SyncKv() = default;
  virtual std::optional<std::string> get(std::string_view key) = 0;
  virtual void put(std::string key, std::string value) = 0;
  // Whether the key existed.
  virtual bool delete_(std::string_view key) = 0;
  virtual StorageEntries list(StorageListOptions options = {}) = 0;
};

// Operations shared by Storage and a transaction.
class StorageOps {
 public:
  static constexpr size_t kMaxKeyBytes = 2048;
  static constexpr size_t kMaxValueBytes = 128 * 1024;
  static constexpr size_t kMaxBatchKeys = 128;

  virtual ~StorageOps() = default;

  virtual Task<std::optional<std::string>> get(std::string key, StorageGetOptions options = {}) = 0;
  // Up to 128 keys; the result holds the keys that exist, in key order.
  virtual Task<StorageEntries> get(std::vector<std::string> keys,
                                   StorageGetOptions options = {}) = 0;
  virtual void put(std::string key, std::string value, StoragePutOptions options = {}) = 0;
  // Up to 128 entries, committed atomically.
  virtual void put(StorageEntries entries, StoragePutOptions options = {}) = 0;
  // Whether the key existed. (`delete` in JavaScript.)
  virtual Task<bool> delete_(std::string key, StoragePutOptions options = {}) = 0;
  // How many of the keys (up to 128) existed.
  virtual Task<size_t> delete_(std::vector<std::string> keys, StoragePutOptions options = {}) = 0;
  virtual Task<StorageEntries> list(StorageListOptions options = {}) = 0;
};

class StorageTransaction : public StorageOps {
 public:
  // Discards every write of the transaction; it commits nothing.
  virtual void rollback() = 0;
};

class Storage : public StorageOps {
 public:
  // Deletes every key.
  virtual Task<void> deleteAll(StoragePutOptions options = {}) = 0;
  // Runs `fn` with a transaction: its writes commit together if `fn` returns, and none of them
  // if `fn` throws (the error is rethrown) or calls rollback(). No other event runs meanwhile.
  virtual Task<void> transaction(std::function<Task<void>(StorageTransaction&)> fn) = 0;
  // Completes when every write made so far is durable.
  virtual Task<void> sync() = 0;

  // Alarms: one per object; setting replaces. Times are milliseconds since the Unix epoch; a time
  // in the past fires at once. The alarm is stored with the object's data, committed with its
  // other writes and behind the same output gate. Inside the alarm() handler getAlarm() is empty
  // unless the handler sets a new alarm.
  virtual Task<std::optional<int64_t>> getAlarm(StorageGetOptions options = {}) = 0;
  virtual void setAlarm(int64_t scheduledTimeMs, StoragePutOptions options = {}) = 0;
  void setAlarm(std::chrono::system_clock::time_point time, StoragePutOptions options = {}) {
    setAlarm(std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count(),
             options);
  }
  virtual void deleteAlarm(StoragePutOptions options = {}) = 0;

  // SQLite-backed objects only (Server::defineObject with StorageBackend::kSqlite, or a class in
  // wrangler's new_sqlite_classes); nullptr for key-value-backed objects. include/duro/sql.h.
  virtual SqlStorage* sql() = 0;
  virtual SyncKv* kv() = 0;
  // SQLite-backed objects: runs `fn` as one transaction, synchronously: every write it makes (SQL
  // and KV) is undone if it throws, and the exception propagates. Calls nest. Key-value-backed
  // objects throw.
  virtual void transactionSync(const std::function<void()>& fn) = 0;
};

}  // namespace duro
