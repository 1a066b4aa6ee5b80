// Start-up recovery: replays every commit-log segment left in <data>/.commit-log into the objects'
// databases, rebuilds the alarm index (the union of the alarm snapshots plus the log's alarm
// changes), makes all of it durable (databases synced, one consolidated alarm snapshot
// <data>/.alarms/base.snapshot), then deletes the segments and the older snapshots.
// Runs once, before the shards start.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

#include "duro/status.h"
#include "storage/alarm_index.h"

namespace duro::storage {

struct RecoveryResult {
  uint64_t segments = 0;          // segment files read
  uint64_t records = 0;           // records read
  uint64_t applied = 0;           // records applied (newer than the database)
  uint64_t nextGeneration = 1;    // above every generation seen: where new segments start
  bool tornTail = false;          // some segment ended in an incomplete record (a crash mid-write)
  std::vector<AlarmEntry> alarms; // every object that may have an alarm (a superset; see alarm_index.h)
};

// After a clean stop in which every shard wrote its own alarm snapshot, the consolidated one is
// redundant; removing it lets stale entries (alarms deleted since) disappear.
void removeConsolidatedAlarmSnapshot(const std::filesystem::path& dataDir);

Result<RecoveryResult> recoverCommitLog(const std::filesystem::path& dataDir);

}  // namespace duro::storage
