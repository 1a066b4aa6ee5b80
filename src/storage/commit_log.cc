// Implementation of the commit log format, reader and SegmentWriter (commit_log.h).
#include "storage/commit_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <system_error>
#include <utility>

#include "base/log.h"

namespace duro::storage {

namespace {

constexpr std::string_view kSegmentPrefix = "shard-";
constexpr std::string_view kSegmentSuffix = ".log";
constexpr size_t kGenerationDigits = 20;
// How much the reader pulls from the file per read.
constexpr size_t kReadChunk = 1u << 20;
// Source of zeros for SegmentWriter's zero-ahead.
constexpr size_t kZeroBlock = 64u << 10;
const char kZeros[kZeroBlock] = {};

std::string errnoMessage(int err) { return std::generic_category().message(err); }

Status ioError(std::string_view op, const std::filesystem::path& path, int err) {
  return Status::storage(std::string(op) + " " + path.string() + ": " + errnoMessage(err));
}

void putU32(char* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

uint32_t getU32(const char* in) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i)
    v |= static_cast<uint32_t>(static_cast<unsigned char>(in[i])) << (8 * i);
  return v;
}

// crc32 over the 4 length bytes, then the payload (see "Format" in commit_log.h).
uint32_t recordCrc(const char* lengthBytes, std::string_view payload) {
  uLong crc = crc32(0L, Z_NULL, 0);
  crc = crc32(crc, reinterpret_cast<const Bytef*>(lengthBytes), 4);
  crc =
      crc32(crc, reinterpret_cast<const Bytef*>(payload.data()), static_cast<uInt>(payload.size()));
  return static_cast<uint32_t>(crc);
}

bool allZero(std::string_view bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](char c) { return c == 0; });
}

// Sequential reads of one file through a buffer holding file bytes [bufOffset_, +buf_.size()).
class BufferedFile {
 public:
  BufferedFile(int fd, uint64_t fileSize, const std::filesystem::path& path)
      : fd_(fd), fileSize_(fileSize), path_(path) {}

  // Makes file bytes [offset, offset + n) available through *out. Requires offset + n <= size.
  // Offsets must not go backwards.
  Status view(uint64_t offset, size_t n, std::string_view* out) {
    if (offset < bufOffset_ || offset + n > bufOffset_ + buf_.size()) {
      Status st = fill(offset, n);
      if (!st) return st;
    }
    *out = std::string_view(buf_).substr(offset - bufOffset_, n);
    return Status::ok();
  }

 private:
  Status fill(uint64_t offset, size_t n) {
    if (offset >= bufOffset_ && offset <= bufOffset_ + buf_.size()) {
      buf_.erase(0, offset - bufOffset_);  // keep the bytes we already have
    } else {
      buf_.clear();
    }
    bufOffset_ = offset;
    size_t want =
        static_cast<size_t>(std::min<uint64_t>(std::max(n, kReadChunk), fileSize_ - offset));
    size_t have = buf_.size();
    buf_.resize(want);
    while (have < want) {
      ssize_t r = ::pread(fd_, buf_.data() + have, want - have, static_cast<off_t>(offset + have));
      if (r < 0) {
        if (errno == EINTR) continue;
        return ioError("read", path_, errno);
      }
      if (r == 0) {
        return Status::storage("read " + path_.string() + ": file shrank while being read");
      }
      have += static_cast<size_t>(r);
    }
    return Status::ok();
  }

  int fd_;
  uint64_t fileSize_;
  const std::filesystem::path& path_;
  std::string buf_;
  uint64_t bufOffset_ = 0;
};

// True when file bytes [offset, size) are all zero.
Result<bool> restIsZero(BufferedFile& file, uint64_t offset, uint64_t size) {
  while (offset < size) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(kReadChunk, size - offset));
    std::string_view bytes;
    Status st = file.view(offset, n, &bytes);
    if (!st) return st;
    if (!allZero(bytes)) return false;
    offset += n;
  }
  return true;
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

Status syncDirectory(const std::filesystem::path& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return ioError("open directory", dir, errno);
  while (::fsync(fd.get()) != 0) {
    if (errno != EINTR) return ioError("fsync directory", dir, errno);
  }
  return Status::ok();
}

}  // namespace

std::string segmentFileName(uint32_t shard, uint64_t generation) {
  std::string gen = std::to_string(generation);
  return std::string(kSegmentPrefix) + std::to_string(shard) + "-" +
         std::string(kGenerationDigits - gen.size(), '0') + gen + std::string(kSegmentSuffix);
}

bool parseSegmentFileName(std::string_view name, uint32_t* shard, uint64_t* generation) {
  if (!name.starts_with(kSegmentPrefix) || !name.ends_with(kSegmentSuffix)) return false;
  name.remove_prefix(kSegmentPrefix.size());
  name.remove_suffix(kSegmentSuffix.size());
  size_t dash = name.find('-');
  if (dash == std::string_view::npos || dash == 0) return false;
  std::string_view shardText = name.substr(0, dash);
  std::string_view genText = name.substr(dash + 1);
  if (genText.size() != kGenerationDigits) return false;
  auto isDigits = [](std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (!isDigits(shardText) || !isDigits(genText)) return false;
  uint32_t s = 0;
  uint64_t g = 0;
  auto r1 = std::from_chars(shardText.data(), shardText.data() + shardText.size(), s);
  if (r1.ec != std::errc() || r1.ptr != shardText.data() + shardText.size()) return false;
  auto r2 = std::from_chars(genText.data(), genText.data() + genText.size(), g);
  if (r2.ec != std::errc() || r2.ptr != genText.data() + genText.size()) return false;
  // Exactly one spelling per (shard, generation): no leading zeros on the shard.
  if (shardText.size() > 1 && shardText[0] == '0') return false;
  *shard = s;
  *generation = g;
  return true;
}

Result<std::vector<SegmentFile>> listSegments(const std::filesystem::path& dir) {
  std::vector<SegmentFile> out;
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec) {
    if (ec == std::errc::no_such_file_or_directory) return out;
    return Status::storage("list " + dir.string() + ": " + ec.message());
  }
  for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
    if (ec) break;
    SegmentFile f;
    std::string name = it->path().filename().string();
    if (!parseSegmentFileName(name, &f.shard, &f.generation)) continue;
    f.path = it->path();
    out.push_back(std::move(f));
  }
  if (ec) return Status::storage("list " + dir.string() + ": " + ec.message());
  std::sort(out.begin(), out.end(), [](const SegmentFile& a, const SegmentFile& b) {
    return a.generation != b.generation ? a.generation < b.generation : a.shard < b.shard;
  });
  return out;
}

Status appendFramedRecord(std::string& out, std::string_view payload) {
  if (payload.size() > kMaxRecordPayload) {
    return Status::limitExceeded("commit log record of " + std::to_string(payload.size()) +
                                 " bytes exceeds the maximum of " +
                                 std::to_string(kMaxRecordPayload));
  }
  char header[kRecordHeaderBytes];
  putU32(header, static_cast<uint32_t>(payload.size()));
  putU32(header + 4, recordCrc(header, payload));
  out.reserve(out.size() + kRecordHeaderBytes + payload.size());
  out.append(header, kRecordHeaderBytes);
  out.append(payload);
  return Status::ok();
}

Status readSegment(const std::filesystem::path& path,
                   const std::function<Status(std::string_view payload)>& onRecord,
                   ReadStats* stats) {
  ReadStats local;
  ReadStats& s = stats ? *stats : local;
  s = ReadStats{};
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return ioError("open", path, errno);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return ioError("stat", path, errno);
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  s.fileBytes = size;
  BufferedFile file(fd.get(), size, path);

  auto torn = [&](std::string reason) {
    s.tornTail = true;
    s.tailReason = std::move(reason);
    return Status::ok();
  };
  // At a zero header or a short all-zero remainder: clean end if the rest is zero too.
  auto endAtZeros = [&](uint64_t offset, std::string_view what) -> Status {
    Result<bool> zero = restIsZero(file, offset, size);
    if (!zero) return zero.status();
    if (*zero) return Status::ok();
    return torn(std::string(what) + " at " + std::to_string(offset) +
                " followed by non-zero bytes");
  };

  uint64_t offset = 0;
  while (offset < size) {
    const uint64_t left = size - offset;
    if (left < kRecordHeaderBytes) return endAtZeros(offset, "partial header");
    std::string_view header;
    Status rs = file.view(offset, kRecordHeaderBytes, &header);
    if (!rs) return rs;
    const uint32_t length = getU32(header.data());
    const uint32_t crc = getU32(header.data() + 4);
    if (length == 0 && crc == 0) return endAtZeros(offset, "zero header");
    if (length > kMaxRecordPayload) {
      return torn("record length " + std::to_string(length) + " above the maximum at " +
                  std::to_string(offset));
    }
    if (length > left - kRecordHeaderBytes) {
      return torn("record of " + std::to_string(length) + " bytes at " + std::to_string(offset) +
                  " runs past the end of the file (" + std::to_string(size) + " bytes)");
    }
    std::string_view record;
    rs = file.view(offset, kRecordHeaderBytes + length, &record);
    if (!rs) return rs;
    std::string_view payload = record.substr(kRecordHeaderBytes);
    if (recordCrc(record.data(), payload) != crc) {
      return torn("crc mismatch in the record at " + std::to_string(offset));
    }
    Status cs = onRecord(payload);
    if (!cs) return cs;
    offset += kRecordHeaderBytes + length;
    s.records++;
    s.bytesConsumed = offset;
  }
  return Status::ok();
}

SegmentWriter::SegmentWriter(int fd, std::filesystem::path path, uint32_t shard,
                             uint64_t generation, SegmentWriterOptions options)
    : fd_(fd), path_(std::move(path)), shard_(shard), generation_(generation), options_(options) {}

SegmentWriter::~SegmentWriter() { ::close(fd_); }

Result<std::unique_ptr<SegmentWriter>> SegmentWriter::create(const std::filesystem::path& dir,
                                                             uint32_t shard, uint64_t generation,
                                                             SegmentWriterOptions options) {
  std::filesystem::path path = dir / segmentFileName(shard, generation);
  Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (fd.get() < 0) return ioError("create", path, errno);
  Status st = syncDirectory(dir);
  if (!st) {
    // The name may not be durable; remove the empty file so that a retry can create it again.
    ::unlink(path.c_str());
    return st;
  }
  return std::unique_ptr<SegmentWriter>(
      new SegmentWriter(fd.release(), std::move(path), shard, generation, options));
}

Status SegmentWriter::write(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t r = ::pwrite(fd_, bytes.data(), bytes.size(), static_cast<off_t>(size_));
    if (r < 0) {
      if (errno == EINTR) continue;
      return ioError("write", path_, errno);
    }
    size_ += static_cast<uint64_t>(r);
    bytes.remove_prefix(static_cast<size_t>(r));
  }
  zeroAhead();
  return Status::ok();
}

// Keeps at least half a chunk of zeros past size_, extending to a chunk boundary. Best effort: the
// zeros only make fdatasync cheaper, so a failure (ENOSPC) turns zero-ahead off instead of failing.
void SegmentWriter::zeroAhead() {
  const uint64_t chunk = options_.zeroAheadBytes;
  if (chunk == 0 || size_ + chunk / 2 <= zeroedEnd_) return;
  const uint64_t newEnd = (size_ + chunk / 2 + chunk - 1) / chunk * chunk;
  uint64_t pos = std::max(size_, zeroedEnd_);
  while (pos < newEnd) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(kZeroBlock, newEnd - pos));
    ssize_t r = ::pwrite(fd_, kZeros, n, static_cast<off_t>(pos));
    if (r < 0) {
      if (errno == EINTR) continue;
      base::logWarn("commit_log", "zero-ahead in " + path_.string() +
                                      " failed, writing plain appends: " + errnoMessage(errno));
      options_.zeroAheadBytes = 0;
      break;
    }
    pos += static_cast<uint64_t>(r);
  }
  zeroedEnd_ = pos;
}

Status SegmentWriter::sync() {
  while (::fdatasync(fd_) != 0) {
    if (errno != EINTR) return ioError("fdatasync", path_, errno);
  }
  return Status::ok();
}

}  // namespace duro::storage
