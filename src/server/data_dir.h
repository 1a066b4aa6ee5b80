// DataDir: opens (creating if needed) a data directory and holds an exclusive lock on it for the
// server's lifetime, so two servers never share one directory's objects. The lock is flock(2) on
// <dir>/LOCK; the kernel drops it when the process dies, even by SIGKILL.
#pragma once

#include <filesystem>
#include <memory>

#include "duro/status.h"

namespace duro::server {

class DataDir {
 public:
  static Result<std::unique_ptr<DataDir>> open(const std::filesystem::path& path);
  ~DataDir();
  DataDir(const DataDir&) = delete;
  DataDir& operator=(const DataDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  DataDir(std::filesystem::path path, int lockFd) : path_(std::move(path)), lockFd_(lockFd) {}
  std::filesystem::path path_;
  int lockFd_;
};

}  // namespace duro::server
