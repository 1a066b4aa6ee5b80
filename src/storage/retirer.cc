// Implementation of Retirer (retirer.h).
#include "storage/retirer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "base/log.h"
#include "storage/alarm_index.h"

namespace duro::storage {

Retirer::Retirer(base::EventLoop& loop, std::filesystem::path dataDir)
    : loop_(loop), dataDir_(std::move(dataDir)) {}

Retirer::~Retirer() {
  stop();
  if (dirFd_ >= 0) ::close(dirFd_);
}

void Retirer::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Status Retirer::start() {
  dirFd_ = ::open(dataDir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirFd_ < 0) {
    return Status::storage("cannot open " + dataDir_.string() + ": " + std::strerror(errno));
  }
  thread_ = std::thread([this] { run(); });
  return Status::ok();
}

void Retirer::retire(std::unique_ptr<SqliteDb> db, std::function<void(const Status&)> done,
                     std::shared_ptr<RetireTicket> ticket) {
  {
    std::lock_guard lock(mu_);
    Job job;
    job.db = std::move(db);
    job.done = std::move(done);
    job.ticket = std::move(ticket);
    jobs_.push_back(std::move(job));
    ++backlog_;
  }
  cv_.notify_one();
}

std::unique_ptr<SqliteDb> Retirer::reclaim(const std::shared_ptr<RetireTicket>& ticket) {
  std::lock_guard lock(mu_);
  for (auto it = jobs_.begin(); it != jobs_.end(); ++it) {
    if (it->ticket != ticket) continue;
    std::unique_ptr<SqliteDb> db = std::move(it->db);
    jobs_.erase(it);
    --backlog_;
    return db;
  }
  return nullptr;
}

void Retirer::materialize(std::filesystem::path path, std::vector<KvOp> ops, uint64_t seq,
                          std::function<void(const Status&)> done) {
  {
    std::lock_guard lock(mu_);
    Job job;
    job.done = std::move(done);
    job.createPath = std::move(path);
    job.createOps = std::move(ops);
    job.createSeq = seq;
    jobs_.push_back(std::move(job));
    ++backlog_;
  }
  cv_.notify_one();
}

void Retirer::deleteSegmentsAfterSync(std::vector<std::filesystem::path> segments,
                                      std::filesystem::path snapshotPath, std::string snapshot) {
  {
    std::lock_guard lock(mu_);
    for (auto& s : segments) segments_.push_back(std::move(s));
    snapshotPath_ = std::move(snapshotPath);
    snapshot_ = std::move(snapshot);
  }
  cv_.notify_one();
}

void Retirer::setPausedForTest(bool paused) {
  {
    std::lock_guard lock(mu_);
    pausedForTest_ = paused;
  }
  cv_.notify_all();
}

size_t Retirer::queuedJobsForTest() const {
  std::lock_guard lock(mu_);
  return jobs_.size();
}

uint64_t Retirer::syncCount() const {
  std::lock_guard lock(mu_);
  return syncs_;
}

Status Retirer::syncFilesystem() {
  if (::syncfs(dirFd_) != 0) {
    return Status::storage("cannot sync the filesystem of " + dataDir_.string() + ": " +
                           std::strerror(errno));
  }
  std::lock_guard lock(mu_);
  ++syncs_;
  return Status::ok();
}

void Retirer::run() {
  for (;;) {
    std::vector<Job> jobs;
    std::vector<std::filesystem::path> segments;
    std::filesystem::path snapshotPath;
    std::string snapshot;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] {
        return stopping_ || (!pausedForTest_ && (!jobs_.empty() || !segments_.empty()));
      });
      if (jobs_.empty() && segments_.empty()) return;  // stopping, nothing left
      jobs.swap(jobs_);
      segments.swap(segments_);
      snapshotPath.swap(snapshotPath_);
      snapshot.swap(snapshot_);
    }
    // Databases that exist only in the log are created first: the sync below then covers them
    // before any log segment is deleted.
    std::vector<Status> created(jobs.size());
    for (size_t i = 0; i < jobs.size(); ++i) {
      if (jobs[i].createPath.empty()) continue;
      // Transient failures (too many open files while a burst is being closed) pass: retry a
      // few times before giving up on this batch.
      for (int attempt = 0; attempt < 20; ++attempt) {
        created[i] = SqliteDb::writeNew(jobs[i].createPath, jobs[i].createOps, jobs[i].createSeq);
        if (created[i].isOk()) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      if (!created[i].isOk()) {
        // The log holds the only durable copy: keep these segments (the next start replays and
        // deletes them).
        base::logWarn("storage", "keeping log segments: " + created[i].message());
        creationFailed_ = true;
        segments.clear();
      }
    }
    Status status = syncFilesystem();
    if (status.isOk() && !segments.empty()) {
      if (Status s = writeFileDurably(snapshotPath, snapshot); !s) {
        base::logWarn("storage", "keeping log segments: " + s.message());
        segments.clear();
      }
    }
    if (status.isOk()) {
      for (const auto& segment : segments) {
        std::error_code ec;
        std::filesystem::remove(segment, ec);
        if (ec) base::logWarn("storage", "cannot delete " + segment.string() + ": " + ec.message());
      }
    }
    std::vector<Status> results(jobs.size(), status);
    if (status.isOk() && !jobs.empty()) {
      for (size_t i = 0; i < jobs.size(); ++i) {
        results[i] = !created[i].isOk() ? created[i]
                     : jobs[i].db       ? jobs[i].db->checkpoint()
                                        : Status::ok();
      }
      status = syncFilesystem();
    }
    for (size_t i = 0; i < jobs.size(); ++i) {
      if (!status.isOk() && results[i].isOk()) results[i] = status;
      if (!created[i].isOk()) results[i] = created[i];
      --backlog_;
      if (!jobs[i].db) {
        loop_.post([done = std::move(jobs[i].done), result = results[i]] { done(result); });
        continue;
      }
      // A failed checkpoint or sync leaves the WAL in place (the destructor closes without
      // checkpointing), which is always safe: the next open reads the WAL back.
      if (results[i].isOk()) jobs[i].db->close();
      jobs[i].db.reset();
      if (jobs[i].ticket) {
        std::lock_guard lock(jobs[i].ticket->mu);
        jobs[i].ticket->finished = true;
        jobs[i].ticket->status = results[i];
        jobs[i].ticket->cv.notify_all();
      }
      loop_.post([done = std::move(jobs[i].done), result = results[i]] { done(result); });
    }
  }
}

}  // namespace duro::storage
