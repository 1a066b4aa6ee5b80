// Start-up recovery: replays every commit-log segment left in <data>/.commit-log into the objects'
// databases, makes them durable, then deletes the segments. Runs once, before the shards start.
#pragma once

#include <cstdint>
#include <filesystem>

#include "duro/status.h"

namespace duro::storage {

struct RecoveryResult {
  uint64_t segments = 0;          // segment files read
  uint64_t records = 0;           // records read
  uint64_t applied = 0;           // records applied (newer than the database)
  uint64_t nextGeneration = 1;    // above every generation seen: where new segments start
  bool tornTail = false;          // some segment ended in an incomplete record (a crash mid-write)
};

Result<RecoveryResult> recoverCommitLog(const std::filesystem::path& dataDir);

}  // namespace duro::storage
