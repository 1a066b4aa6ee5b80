// Retirer: the shard's maintenance thread. It closes object databases safely and deletes commit-log
// segments whose records are safely in those databases, so the shard's loop thread never syncs.
//
// One batch of work:
//   1. syncfs            every WAL frame written so far, and every file created, is on disk; so the
//                        records of retired log segments are durable in the databases -> delete them
//   2. checkpoint each   copy each handed-over database's WAL into its database file (no sync)
//   3. syncfs            the database files are on disk
//   4. close each        closing removes the now-redundant WAL file
// The database file is written only in step 2, between two syncs, and only while no one else uses
// the connection: a power cut at any point leaves each file either as before or fully updated.
// Contract: retire() and deleteSegmentsAfterSync() are called on the shard's loop thread; callbacks
// are posted back to that loop. The destructor finishes all queued work.
#pragma once

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/event_loop.h"
#include "storage/sqlite_db.h"

namespace duro::storage {

// Lets the loop thread wait, synchronously, for one retirement (a synchronous SQL call on a
// database that is being closed; see ShardStorage::databaseNow).
struct RetireTicket {
  std::mutex mu;
  std::condition_variable cv;
  bool finished = false;  // the retirer is done with the database (guarded by mu)
  Status status;          // its result (guarded by mu)
  bool handled = false;   // loop thread: the slot was given back already
  Status wait() {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return finished; });
    return status;
  }
};

class Retirer {
 public:
  Retirer(base::EventLoop& loop, std::filesystem::path dataDir);
  ~Retirer();
  Retirer(const Retirer&) = delete;
  Retirer& operator=(const Retirer&) = delete;

  Status start();
  // Finishes all queued work and stops the thread (the destructor does this too).
  void stop();
  // False once a database creation failed: the log segments must then stay for the next start.
  bool everyCreationSucceeded() const { return !creationFailed_.load(); }
  // Takes over `db`; `done` runs on the loop once its file is closed (status of the close), and
  // `ticket` (if any) is signalled from the retirer's thread before that.
  void retire(std::unique_ptr<SqliteDb> db, std::function<void(const Status&)> done,
              std::shared_ptr<RetireTicket> ticket = nullptr);
  // Gives back the database of a retire() whose job has not started yet (nullptr once it has):
  // its `done` never runs then.
  std::unique_ptr<SqliteDb> reclaim(const std::shared_ptr<RetireTicket>& ticket);
  // Creates the database at `path` holding `ops` (as commit `seq`), then closes it like retire().
  // Log segments handed over in the same or a later call are deleted only if every creation
  // before them succeeded (the log is the only other copy of that data).
  void materialize(std::filesystem::path path, std::vector<KvOp> ops, uint64_t seq,
                   std::function<void(const Status&)> done);
  // After the next filesystem sync, writes `snapshot` durably to `snapshotPath` and then deletes
  // these log segments (if the snapshot cannot be written, the segments stay).
  void deleteSegmentsAfterSync(std::vector<std::filesystem::path> segments,
                               std::filesystem::path snapshotPath, std::string snapshot);

  uint64_t syncCount() const;
  // Tests: hold (true) or let go (false) the thread before it takes the next jobs; how many jobs
  // wait to be taken.
  void setPausedForTest(bool paused);
  size_t queuedJobsForTest() const;
  // Jobs handed over and not finished yet (loop thread's view; approximate).
  size_t backlog() const { return backlog_.load(std::memory_order_relaxed); }

 private:
  struct Job {
    std::unique_ptr<SqliteDb> db;
    std::function<void(const Status&)> done;
    std::shared_ptr<RetireTicket> ticket;
    // A database to create first (materialize()).
    std::filesystem::path createPath;
    std::vector<KvOp> createOps;
    uint64_t createSeq = 0;
  };
  void run();
  Status syncFilesystem();

  base::EventLoop& loop_;
  std::filesystem::path dataDir_;
  int dirFd_ = -1;
  std::thread thread_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Job> jobs_;
  std::vector<std::filesystem::path> segments_;
  std::filesystem::path snapshotPath_;
  std::string snapshot_;  // the newest; written before any segment is deleted
  bool stopping_ = false;
  bool pausedForTest_ = false;
  std::atomic<bool> creationFailed_{false};
  std::atomic<size_t> backlog_{0};
  uint64_t syncs_ = 0;
};

}  // namespace duro::storage
