// fsync_probe: how many write(512 bytes) + fdatasync a file system sustains on one file.
//
//   fsync_probe DIR [--seconds S] [--append]
//
// Creates a temporary file in DIR, then for ~S seconds (default 1) writes 512 bytes at the end of
// the data written so far and calls fdatasync, one after the other, and prints
//
//   fdatasync_per_s=N
//   mode=zero-ahead syncs=... seconds=... p50_us=... p99_us=... max_us=...
//
// By default the file is kept zero-filled ahead of the writes the way the commit log's
// SegmentWriter does it (at least 512 KiB of zeros past the end, extended 1 MiB at a time; see
// src/storage/commit_log.h, "Zero-ahead"), so most syncs are data-only like the server's.
// --append does plain appends instead (each sync must also commit the new file size). The file is
// removed at exit. This is the ceiling for one thread that syncs after every write: the durable
// benchmarks (bench/storage.sh) compare their request rate to it.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

constexpr size_t kWriteBytes = 512;
constexpr off_t kChunk = 1 << 20;     // zero-ahead extension step
constexpr off_t kMinAhead = 512 << 10;  // keep at least this much zeroed past the end

[[noreturn]] void die(const char* what, const std::string& path) {
  std::fprintf(stderr, "fsync_probe: %s %s: %s\n", what, path.c_str(), std::strerror(errno));
  std::exit(1);
}

void writeAll(int fd, const char* data, size_t n, off_t at, const std::string& path) {
  while (n > 0) {
    ssize_t r = ::pwrite(fd, data, n, at);
    if (r < 0) {
      if (errno == EINTR) continue;
      die("pwrite", path);
    }
    data += r;
    n -= static_cast<size_t>(r);
    at += r;
  }
}

void syncFile(int fd, const std::string& path) {
  while (::fdatasync(fd) != 0) {
    if (errno != EINTR) die("fdatasync", path);
  }
}

int usage() {
  std::fprintf(stderr, "usage: fsync_probe DIR [--seconds S] [--append]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir;
  double seconds = 1.0;
  bool append = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--seconds" && i + 1 < argc) {
      seconds = std::atof(argv[++i]);
      if (!(seconds > 0)) return usage();
    } else if (arg == "--append") {
      append = true;
    } else if (!arg.empty() && arg[0] != '-' && dir.empty()) {
      dir = arg;
    } else {
      return usage();
    }
  }
  if (dir.empty()) return usage();

  std::string path = dir + "/fsync-probe-" + std::to_string(::getpid()) + ".tmp";
  int fd = ::open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0) die("open", path);
  syncFile(fd, path);

  std::vector<char> zeros(kChunk, 0);
  char record[kWriteBytes];
  std::memset(record, 'x', sizeof record);
  off_t end = 0;      // logical end (bytes written by the probe)
  off_t zeroed = 0;   // the file holds zeros in [end, zeroed)
  std::vector<double> latenciesUs;
  latenciesUs.reserve(1 << 16);

  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration<double>(seconds);
  auto now = start;
  while (now < deadline) {
    if (!append && zeroed - end < kMinAhead) {
      off_t target = (end + kMinAhead + kChunk - 1) / kChunk * kChunk;
      while (zeroed < target) {
        writeAll(fd, zeros.data(), static_cast<size_t>(kChunk), zeroed, path);
        zeroed += kChunk;
      }
    }
    writeAll(fd, record, sizeof record, end, path);
    end += static_cast<off_t>(sizeof record);
    auto before = Clock::now();
    syncFile(fd, path);
    now = Clock::now();
    latenciesUs.push_back(std::chrono::duration<double, std::micro>(now - before).count());
  }
  double elapsed = std::chrono::duration<double>(now - start).count();
  ::close(fd);
  ::unlink(path.c_str());

  std::sort(latenciesUs.begin(), latenciesUs.end());
  auto pct = [&](double p) {
    if (latenciesUs.empty()) return 0.0;
    size_t i = static_cast<size_t>(p / 100.0 * static_cast<double>(latenciesUs.size() - 1));
    return latenciesUs[i];
  };
  std::printf("fdatasync_per_s=%.0f\n", static_cast<double>(latenciesUs.size()) / elapsed);
  std::printf("mode=%s syncs=%zu seconds=%.3f p50_us=%.0f p99_us=%.0f max_us=%.0f\n",
              append ? "append" : "zero-ahead", latenciesUs.size(), elapsed, pct(50), pct(99),
              latenciesUs.empty() ? 0.0 : latenciesUs.back());
  return 0;
}
