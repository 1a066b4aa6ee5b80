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

Result<RecoveryResult> recoverCommitLog(const std::filesystem::path& dataDir) {
  RecoveryResult result;
  const std::filesystem::path logDir = dataDir / ".commit-log";
  std::error_code ec;
  if (!std::filesystem::exists(logDir, ec)) return result;

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
      ObjectId id(record->id);
      std::filesystem::path nsDir = dataDir / record->ns;
      std::filesystem::create_directories(nsDir, ec);
      std::filesystem::path path = nsDir / (id.toString() + ".sqlite");
      auto it = open.find(path.string());
      if (it == open.end()) {
        if (open.size() >= kMaxOpen) open.erase(open.begin());  // closes, keeping its WAL
        Result<std::unique_ptr<SqliteDb>> db = SqliteDb::open(path, /*create=*/true);
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
  for (const SegmentFile& segment : *segments) {
    std::filesystem::remove(segment.path, ec);
    if (ec) return Status::storage("cannot delete " + segment.path.string() + ": " + ec.message());
  }
  if (result.records > 0) {
    base::logInfo("storage", "recovered " + std::to_string(result.applied) + " of " +
                                 std::to_string(result.records) + " logged commits from " +
                                 std::to_string(result.segments) + " segments");
  }
  return result;
}

}  // namespace duro::storage
