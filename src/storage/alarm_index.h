// AlarmIndex: which objects have an alarm, and when. Kept in memory per shard (the durable truth is
// each object's database) and made to survive restarts without opening every database:
//   - every alarm change is part of a commit record in the shard's log, and
//   - before log segments are deleted, the shard writes a snapshot of its index
//     (<data>/.alarms/shard-<n>-<generation>.snapshot); start-up (recovery.cc) takes the union of
//     all snapshots, replays the log's alarm changes on top, and writes one consolidated snapshot.
// The index may hold stale entries (an alarm deleted after a snapshot was taken); the scheduler
// checks the object's own database before running a handler, so an entry is never missed and a
// stale one never fires.
// Snapshot file: "DUROALM1", u64 count, entries (u16 ns length, ns, 32-byte ID, i64 time ms),
// then u32 CRC32 of everything before it. Written to a temporary file, fsync'd, renamed.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <unordered_map>
#include <vector>

#include "duro/id.h"
#include "duro/status.h"

namespace duro::storage {

struct AlarmEntry {
  std::string ns;
  ObjectId::Bytes id{};
  int64_t timeMs = 0;
};

class AlarmIndex {
 public:
  void set(const std::string& ns, const ObjectId::Bytes& id, int64_t timeMs);
  void erase(const std::string& ns, const ObjectId::Bytes& id);
  size_t size() const { return entries_.size(); }
  std::vector<AlarmEntry> entries() const;
  std::string encodeSnapshot() const;

 private:
  struct Key {
    std::string ns;
    ObjectId::Bytes id;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const noexcept;
  };
  std::unordered_map<Key, int64_t, KeyHash> entries_;
};

std::filesystem::path alarmSnapshotDir(const std::filesystem::path& dataDir);
// Writes `bytes` to `path` atomically and durably (temporary file, fsync, rename, fsync dir).
Status writeFileDurably(const std::filesystem::path& path, const std::string& bytes);
// Reads a snapshot; a damaged file is an error (the caller decides what to do).
Result<std::vector<AlarmEntry>> readAlarmSnapshot(const std::filesystem::path& path);

}  // namespace duro::storage
