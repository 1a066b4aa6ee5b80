// Implementation of AlarmIndex and its snapshot files (alarm_index.h).
#include "storage/alarm_index.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

namespace duro::storage {

namespace {
constexpr char kMagic[] = "DUROALM1";

template <typename T>
void putLe(std::string& out, T v) {
  for (size_t i = 0; i < sizeof(T); ++i) {
    out.push_back(static_cast<char>((static_cast<uint64_t>(v) >> (8 * i)) & 0xff));
  }
}
template <typename T>
bool getLe(std::string_view& in, T& v) {
  if (in.size() < sizeof(T)) return false;
  uint64_t x = 0;
  for (size_t i = 0; i < sizeof(T); ++i) x |= static_cast<uint64_t>(static_cast<uint8_t>(in[i])) << (8 * i);
  v = static_cast<T>(x);
  in.remove_prefix(sizeof(T));
  return true;
}
uint32_t crcOf(std::string_view bytes) {
  return static_cast<uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(bytes.size())));
}
}  // namespace

size_t AlarmIndex::KeyHash::operator()(const Key& k) const noexcept {
  uint64_t h;
  std::memcpy(&h, k.id.data(), sizeof h);
  return static_cast<size_t>(h ^ std::hash<std::string>()(k.ns));
}

void AlarmIndex::set(const std::string& ns, const ObjectId::Bytes& id, int64_t timeMs) {
  entries_[Key{ns, id}] = timeMs;
}

void AlarmIndex::erase(const std::string& ns, const ObjectId::Bytes& id) {
  entries_.erase(Key{ns, id});
}

std::vector<AlarmEntry> AlarmIndex::entries() const {
  std::vector<AlarmEntry> out;
  out.reserve(entries_.size());
  for (const auto& [key, time] : entries_) out.push_back(AlarmEntry{key.ns, key.id, time});
  return out;
}

std::string AlarmIndex::encodeSnapshot() const {
  std::string out(kMagic, 8);
  putLe<uint64_t>(out, entries_.size());
  for (const auto& [key, time] : entries_) {
    putLe<uint16_t>(out, static_cast<uint16_t>(key.ns.size()));
    out.append(key.ns);
    out.append(reinterpret_cast<const char*>(key.id.data()), key.id.size());
    putLe<int64_t>(out, time);
  }
  putLe<uint32_t>(out, crcOf(out));
  return out;
}

std::filesystem::path alarmSnapshotDir(const std::filesystem::path& dataDir) {
  return dataDir / ".alarms";
}

Status writeFileDurably(const std::filesystem::path& path, const std::string& bytes) {
  auto fail = [&](const std::string& what, const std::filesystem::path& p) {
    return Status::storage(what + " " + p.string() + ": " + std::strerror(errno));
  };
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  std::filesystem::path tmp = path;
  tmp += ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return fail("cannot create", tmp);
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      Status s = fail("cannot write", tmp);
      ::close(fd);
      return s;
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    Status s = fail("cannot sync", tmp);
    ::close(fd);
    return s;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return fail("cannot rename", tmp);
  int dir = ::open(path.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return fail("cannot open", path.parent_path());
  int rc = ::fsync(dir);
  ::close(dir);
  if (rc != 0) return fail("cannot sync", path.parent_path());
  return Status::ok();
}

Result<std::vector<AlarmEntry>> readAlarmSnapshot(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::storage("cannot read " + path.string());
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto damaged = [&](const char* why) {
    return Status::storage("alarm snapshot " + path.string() + " is damaged (" + why + ")");
  };
  if (bytes.size() < 8 + 8 + 4 || bytes.compare(0, 8, kMagic) != 0) return damaged("header");
  std::string_view body(bytes.data(), bytes.size() - 4);
  std::string_view tail(bytes.data() + bytes.size() - 4, 4);
  uint32_t crc;
  getLe(tail, crc);
  if (crc != crcOf(body)) return damaged("checksum");
  body.remove_prefix(8);
  uint64_t count;
  getLe(body, count);
  std::vector<AlarmEntry> out;
  for (uint64_t i = 0; i < count; ++i) {
    AlarmEntry e;
    uint16_t nsLen;
    if (!getLe(body, nsLen) || body.size() < nsLen + e.id.size()) return damaged("entry");
    e.ns.assign(body.substr(0, nsLen));
    body.remove_prefix(nsLen);
    std::memcpy(e.id.data(), body.data(), e.id.size());
    body.remove_prefix(e.id.size());
    if (!getLe(body, e.timeMs)) return damaged("entry");
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace duro::storage
