// Encoding and decoding of CommitRecord payloads (commit_record.h).
#include "storage/commit_record.h"

#include <cstring>

namespace duro::storage {

namespace {
constexpr uint8_t kVersion = 1;        // a key-value-backed object's commit
constexpr uint8_t kVersionSqlite = 2;  // a SQLite-backed object's commit

void putU8(std::string& out, uint8_t v) { out.push_back(static_cast<char>(v)); }
template <typename T>
void putLe(std::string& out, T v) {
  for (size_t i = 0; i < sizeof(T); ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void putBytes(std::string& out, std::string_view s) {
  putLe<uint32_t>(out, static_cast<uint32_t>(s.size()));
  out.append(s);
}

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool u8(uint8_t& v) {
    if (in_.empty()) return false;
    v = static_cast<uint8_t>(in_[0]);
    in_.remove_prefix(1);
    return true;
  }
  template <typename T>
  bool le(T& v) {
    if (in_.size() < sizeof(T)) return false;
    v = 0;
    for (size_t i = 0; i < sizeof(T); ++i) {
      v |= static_cast<T>(static_cast<uint8_t>(in_[i])) << (8 * i);
    }
    in_.remove_prefix(sizeof(T));
    return true;
  }
  bool raw(size_t n, std::string_view& out) {
    if (in_.size() < n) return false;
    out = in_.substr(0, n);
    in_.remove_prefix(n);
    return true;
  }
  bool bytes(std::string& out) {
    uint32_t n;
    std::string_view view;
    if (!le(n) || !raw(n, view)) return false;
    out.assign(view);
    return true;
  }
  bool done() const { return in_.empty(); }

 private:
  std::string_view in_;
};
}  // namespace

KvOp KvOp::setAlarm(int64_t scheduledMs) {
  std::string bytes;
  putLe<uint64_t>(bytes, static_cast<uint64_t>(scheduledMs));
  return KvOp{Kind::kSetAlarm, {}, std::move(bytes)};
}

int64_t KvOp::alarmMs() const {
  uint64_t v = 0;
  for (size_t i = 0; i < 8 && i < value.size(); ++i) {
    v |= static_cast<uint64_t>(static_cast<uint8_t>(value[i])) << (8 * i);
  }
  return static_cast<int64_t>(v);
}

std::string encodeCommitRecord(const CommitRecord& record) {
  std::string out;
  size_t size = 64 + record.ns.size();
  for (const KvOp& op : record.ops) size += 9 + op.key.size() + op.value.size();
  out.reserve(size);
  putU8(out, record.sqlite ? kVersionSqlite : kVersion);
  putLe<uint16_t>(out, static_cast<uint16_t>(record.ns.size()));
  out.append(record.ns);
  out.append(reinterpret_cast<const char*>(record.id.data()), record.id.size());
  putLe<uint64_t>(out, record.seq);
  putLe<uint32_t>(out, static_cast<uint32_t>(record.ops.size()));
  for (const KvOp& op : record.ops) {
    putU8(out, static_cast<uint8_t>(op.kind));
    switch (op.kind) {
      case KvOp::Kind::kPut:
      case KvOp::Kind::kSql:
        putBytes(out, op.key);
        putBytes(out, op.value);
        break;
      case KvOp::Kind::kDelete:
        putBytes(out, op.key);
        break;
      case KvOp::Kind::kSetAlarm:
        putBytes(out, op.value);
        break;
      case KvOp::Kind::kDeleteAll:
      case KvOp::Kind::kDeleteAlarm:
        break;
    }
  }
  return out;
}

Result<CommitRecord> decodeCommitRecord(std::string_view payload) {
  auto bad = [](const char* what) {
    return Status::storage(std::string("malformed commit record: ") + what);
  };
  Reader r(payload);
  CommitRecord record;
  uint8_t version;
  uint16_t nsLen;
  std::string_view view;
  if (!r.u8(version)) return bad("empty");
  if (version != kVersion && version != kVersionSqlite) return bad("unknown version");
  record.sqlite = version == kVersionSqlite;
  if (!r.le(nsLen) || !r.raw(nsLen, view)) return bad("namespace");
  record.ns.assign(view);
  if (!r.raw(record.id.size(), view)) return bad("object ID");
  std::memcpy(record.id.data(), view.data(), record.id.size());
  uint32_t count;
  if (!r.le(record.seq) || !r.le(count)) return bad("header");
  record.ops.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    uint8_t kind;
    if (!r.u8(kind) || kind < 1 || kind > 6) return bad("op kind");
    KvOp op{static_cast<KvOp::Kind>(kind), {}, {}};
    const bool sql = op.kind == KvOp::Kind::kSql;
    if (op.kind == KvOp::Kind::kPut || op.kind == KvOp::Kind::kDelete || sql) {
      if (!r.bytes(op.key)) return bad("key");
    }
    if (op.kind == KvOp::Kind::kPut || op.kind == KvOp::Kind::kSetAlarm || sql) {
      if (!r.bytes(op.value)) return bad("value");
      if (op.kind == KvOp::Kind::kSetAlarm && op.value.size() != 8) return bad("alarm time");
    }
    record.ops.push_back(std::move(op));
  }
  if (!r.done()) return bad("trailing bytes");
  return record;
}

}  // namespace duro::storage
