// Implementation of start-up recovery (recovery.h).
//
// Records are applied in log order; each carries its object's commit sequence number, and a
// database remembers the last sequence it applied (in the same transaction), so records already
// in a database are skipped: replaying twice, or after a crash during recovery, is harmless.
// After replay a syncfs makes the databases' WALs durable; only then are the segments deleted.
#include "storage/recovery.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <memory>

#include "base/log.h"
#include "duro/id.h"
#include "storage/commit_log.h"
#include "storage/commit_record.h"
#include "storage/sqlite_db.h"

namespace duro::storage {

namespace {
// Open databases during replay, bounded so a log touching many objects does not exhaust fds.
constexpr size_t kMaxOpen = 256;
}  // namespace

void removeConsolidatedAlarmSnapshot(const std::filesystem::path& dataDir) {
  std::error_code ec;
  std::filesystem::remove(alarmSnapshotDir(dataDir) / "base.snapshot", ec);
}

Result<RecoveryResult> recoverCommitLog(const std::filesystem::path& dataDir) {
  RecoveryResult result;
  const std::filesystem::path logDir = dataDir / ".commit-log";
  const std::filesystem::path alarmDir = alarmSnapshotDir(dataDir);
  std::error_code ec;

  // The alarm index: the union of every snapshot (earliest time wins: the scheduler checks the
  // object's own alarm before running anything, so early is safe and late is not).
  std::map<std::pair<std::string, ObjectId::Bytes>, int64_t> alarms;
  std::vector<std::filesystem::path> snapshots;
  if (std::filesystem::exists(alarmDir, ec)) {
    for (const auto& entry : std::filesystem::directory_iterator(alarmDir, ec)) {
      if (entry.path().extension() != ".snapshot") continue;
      snapshots.push_back(entry.path());
      Result<std::vector<AlarmEntry>> read = readAlarmSnapshot(entry.path());
      if (!read) return read.status();
      for (AlarmEntry& e : *read) {
        auto key = std::make_pair(std::move(e.ns), e.id);
        auto it = alarms.find(key);
        if (it == alarms.end() || e.timeMs < it->second) alarms[key] = e.timeMs;
      }
    }
  }

  Result<std::vector<SegmentFile>> segments = listSegments(logDir);
  if (!segments) return segments.status();

  std::map<std::string, std::unique_ptr<SqliteDb>> open;
  for (const SegmentFile& segment : *segments) {
    result.nextGeneration = std::max(result.nextGeneration, segment.generation + 1);
    ++result.segments;
    ReadStats stats;
    Status s = readSegment(segment.path, [&](std::string_view payload) -> Status {
      Result<CommitRecord> record = decodeCommitRecord(payload);
      if (!record) return record.status();
      ++result.records;
      // Alarm changes update the index whether or not the database already has the commit.
      for (const KvOp& op : record->ops) {
        if (op.kind == KvOp::Kind::kSetAlarm) {
          alarms[std::make_pair(record->ns, record->id)] = op.alarmMs();
        } else if (op.kind == KvOp::Kind::kDeleteAlarm) {
          alarms.erase(std::make_pair(record->ns, record->id));
        }
      }
      ObjectId id(record->id);
      std::filesystem::path nsDir = dataDir / record->ns;
      std::filesystem::create_directories(nsDir, ec);
      std::filesystem::path path = nsDir / (id.toString() + ".sqlite");
      auto it = open.find(path.string());
      if (it == open.end()) {
        if (open.size() >= kMaxOpen) open.erase(open.begin());  // closes, keeping its WAL
        Result<std::unique_ptr<SqliteDb>> db = SqliteDb::open(
            path, /*create=*/true,
            record->sqlite ? SqliteDb::Flavor::kSqlite : SqliteDb::Flavor::kKeyValue);
        if (!db) return db.status();
        it = open.emplace(path.string(), std::move(db).value()).first;
      }
      if (record->seq <= it->second->appliedSeq()) return Status::ok();
      ++result.applied;
      return it->second->apply(record->ops, record->seq);
    }, &stats);
    if (!s) return Status::storage("recovering " + segment.path.string() + ": " + s.message());
    if (stats.tornTail) {
      result.tornTail = true;
      base::logInfo("storage", "commit log " + segment.path.filename().string() +
                                   " ends in an incomplete record (" + stats.tailReason +
                                   "); it was never acknowledged");
    }
  }
  open.clear();

  // Make what was replayed durable before the log that holds it goes away.
  int fd = ::open(dataDir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || ::syncfs(fd) != 0) {
    Status s = Status::storage("cannot sync " + dataDir.string() + ": " + std::strerror(errno));
    if (fd >= 0) ::close(fd);
    return s;
  }
  ::close(fd);

  // The consolidated index goes to disk before anything it was built from is deleted.
  AlarmIndex index;
  for (const auto& [key, time] : alarms) {
    index.set(key.first, key.second, time);
    result.alarms.push_back(AlarmEntry{key.first, key.second, time});
  }
  if (!alarms.empty() || !snapshots.empty()) {
    if (Status s = writeFileDurably(alarmDir / "base.snapshot", index.encodeSnapshot()); !s) {
      return s;
    }
  }
  for (const auto& snapshot : snapshots) {
    if (snapshot.filename() != "base.snapshot") std::filesystem::remove(snapshot, ec);
  }
  for (const SegmentFile& segment : *segments) {
    std::filesystem::remove(segment.path, ec);
    if (ec) return Status::storage("cannot delete " + segment.path.string() + ": " + ec.message());
  }
  if (!result.alarms.empty()) {
    base::logInfo("storage", std::to_string(result.alarms.size()) + " objects have alarms");
  }
  if (result.records > 0) {
    base::logInfo("storage", "recovered " + std::to_string(result.applied) + " of " +
                                 std::to_string(result.records) + " logged commits from " +
                                 std::to_string(result.segments) + " segments");
  }
  return result;
}

}  // namespace duro::storage
