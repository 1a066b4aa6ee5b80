// Implementation of DataDir (data_dir.h).
#include "server/data_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace duro::server {

Result<std::unique_ptr<DataDir>> DataDir::open(const std::filesystem::path& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) {
    return Status::storage("cannot create data directory " + path.string() + ": " + ec.message());
  }
  std::filesystem::path lockPath = path / "LOCK";
  int fd = ::open(lockPath.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return Status::storage("cannot open " + lockPath.string() + ": " + std::strerror(errno));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) {
      return Status::unavailable("data directory " + path.string() +
                                 " is in use by another duro server");
    }
    return Status::storage("cannot lock " + lockPath.string() + ": " + std::strerror(err));
  }
  return std::unique_ptr<DataDir>(new DataDir(std::filesystem::absolute(path).lexically_normal(), fd));
}

DataDir::~DataDir() { ::close(lockFd_); }

}  // namespace duro::server
