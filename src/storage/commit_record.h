// CommitRecord: one object's atomic commit (a coalesced batch of KV writes) as it is applied to the
// object's SQLite database and written to the shard's commit log.
//
// Payload format (little-endian), inside the commit log's framing (commit_log.h):
//   u8  version (1; 2 for a SQLite-backed object, whose database replay creates as such)
//   u16 namespace length, namespace bytes
//   32  object ID bytes
//   u64 sequence number (per object, starting at 1, +1 per commit)
//   u32 op count, then per op:
//     u8 kind: 1 put, 2 delete, 3 deleteAll, 4 setAlarm, 5 deleteAlarm, 6 sql
//     put:      u32 key length, key, u32 value length, value
//     sql:      u32 query length, query, u32 length, the rest of the exec (user_sql.h)
//     delete:   u32 key length, key
//     setAlarm: u32 8, i64 scheduled time (ms since the Unix epoch)
// Replay applies a record only if its sequence is greater than the one stored in the database, so
// applying the log twice is harmless.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "duro/id.h"
#include "duro/status.h"

namespace duro::storage {

struct KvOp {
  // kDeleteAll deletes every key and, in a SQLite-backed object, every table too. kSql is one
  // sql.exec() that wrote (replayed by running it again, user_sql.h).
  enum class Kind : uint8_t {
    kPut = 1, kDelete = 2, kDeleteAll = 3, kSetAlarm = 4, kDeleteAlarm = 5, kSql = 6
  };
  Kind kind;
  std::string key;    // kSql: the query
  std::string value;  // kPut; kSetAlarm: the time as 8 bytes, little-endian (see alarmOp);
                      // kSql: encodeSqlExec()

  static KvOp setAlarm(int64_t scheduledMs);
  static KvOp deleteAlarm() { return KvOp{Kind::kDeleteAlarm, {}, {}}; }
  // The time of a kSetAlarm op.
  int64_t alarmMs() const;
};

struct CommitRecord {
  std::string ns;
  ObjectId::Bytes id{};
  uint64_t seq = 0;
  std::vector<KvOp> ops;
  bool sqlite = false;  // from a SQLite-backed object (SqliteDb::Flavor::kSqlite)
};

std::string encodeCommitRecord(const CommitRecord& record);
Result<CommitRecord> decodeCommitRecord(std::string_view payload);

}  // namespace duro::storage
