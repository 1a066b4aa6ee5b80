// Commit log: the on-disk format of a shard's redo log (segment files of CRC-framed records), the
// reader that recovery uses to replay a segment, and SegmentWriter, the append-only file that the
// shard's commit thread (group_commit.h) writes. Payloads are opaque bytes here (commit_record.h
// defines what the storage layer puts in them).
//
// ## Format
//
// Segment files live in one directory and are named `shard-<shard>-<generation>.log`: <shard> is
// the shard number in plain decimal, <generation> a 20-digit zero-padded decimal u64, so for one
// shard lexical order equals numeric order. A process writes generations firstGeneration,
// firstGeneration+1, ... and never appends to a file it did not create (files are opened O_EXCL).
//
// A segment is a sequence of records, each
//
//   [u32 LE payload length][u32 LE crc][payload bytes]
//
// where crc = zlib crc32 over the 4 length bytes followed by the payload. Covering the length
// makes an all-zero header invalid even for an empty payload (crc32 of four zero bytes is
// 0x2144df1c), so zero-filled space is never mistaken for records. Payloads are at most
// kMaxRecordPayload bytes.
//
// After the last record the file may hold zeros (see "Zero-ahead" below). A reader stops at:
//   - a header whose 8 bytes are zero, or fewer than 8 bytes left, when every byte from there to
//     the end of the file is zero: the clean end of the log;
//   - anything else that is not a valid record: a length above kMaxRecordPayload, a length that
//     runs past the end of the file, a crc mismatch, or non-zero bytes after a zero header. This
//     is a torn (or corrupt) tail. After a crash it is expected: the commit thread only
//     acknowledges a group after its fdatasync returned and only starts writing the next group
//     after that, so everything after the first bad record was never acknowledged.
//
// ## Zero-ahead (measured choice)
//
// fdatasync after an append that grows the file must also commit the inode size (an ext4 journal
// commit); an overwrite of already-written blocks inside the file does not. SegmentWriter therefore
// keeps the file zero-filled at least 512 KiB past the logical end, extending it to the next 1 MiB
// boundary as it goes (SegmentWriterOptions::zeroAheadBytes), so that most fdatasyncs are
// data-only. Zeroing a whole 64 MiB segment up front instead stalls every rotation by 30-180 ms.
// Measured on the dev VM's ext4 (virtio disk), 3,000 × (write + fdatasync) on one file, per second:
//
//   write size   plain append   SegmentWriter, zero-ahead 1 MiB
//   256 B        2,700-9,200    13,200-13,600
//   4 KiB        8,300-8,500    12,200-12,800
//   64 KiB       3,800-5,000     8,300-8,400
//
// (A standalone probe — open O_EXCL, then 3,000 × pwrite + fdatasync, variants: plain append /
// zero 1 MiB chunks ahead / pre-zero 64 MiB — agreed: 256 B 8.2-8.8k vs 11.9-12.4k/s, 4 KiB
// 7.6-7.8k vs 11.1-11.9k/s.) zeroAheadBytes = 0 turns it off (plain appends).
//
// ## Errors
//
// Everything returns duro::Status; file system failures are kStorage with the path and strerror.
// After a failed write or sync a SegmentWriter's file is in an unknown state: do not reuse it
// (a failed fdatasync may have dropped dirty pages, so retrying it proves nothing).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "duro/status.h"

namespace duro::storage {

// Largest payload one record may carry.
inline constexpr uint32_t kMaxRecordPayload = 64u << 20;
// Bytes of framing before each payload (length + crc).
inline constexpr size_t kRecordHeaderBytes = 8;

// "shard-<shard>-<generation, 20 digits>.log".
std::string segmentFileName(uint32_t shard, uint64_t generation);
// Parses a segmentFileName(); false for any other name.
bool parseSegmentFileName(std::string_view name, uint32_t* shard, uint64_t* generation);

struct SegmentFile {
  std::filesystem::path path;
  uint32_t shard = 0;
  uint64_t generation = 0;
};

// Every segment file in `dir` (all shards), sorted by generation, then shard. Other files are
// ignored. A directory that does not exist has no segments (OK, empty).
Result<std::vector<SegmentFile>> listSegments(const std::filesystem::path& dir);

// Appends one framed record (header + payload) to `out`. A payload above kMaxRecordPayload is
// kLimitExceeded and leaves `out` unchanged.
Status appendFramedRecord(std::string& out, std::string_view payload);

struct ReadStats {
  uint64_t records = 0;        // records handed to onRecord that it accepted (returned OK)
  uint64_t bytesConsumed = 0;  // file offset just past the last accepted record
  uint64_t fileBytes = 0;      // size of the file, including any zero tail
  bool tornTail = false;       // stopped at an invalid record (not at the clean end)
  std::string tailReason;      // why and where it stopped when tornTail, e.g. "crc mismatch at 42"
};

// Reads `path`'s records in order, calling onRecord for each payload (the view is valid only during
// the call). Stops at the clean end of the log (OK) or at the first invalid record (OK with
// stats->tornTail set: see "Format"). An error returned by onRecord stops the read and is returned.
// Open/read failures are kStorage. `stats` may be null.
Status readSegment(const std::filesystem::path& path,
                   const std::function<Status(std::string_view payload)>& onRecord,
                   ReadStats* stats);

struct SegmentWriterOptions {
  // Zero-ahead chunk (see "Zero-ahead"): the file is kept zero-filled at least half a chunk past
  // the logical end, extended a chunk at a time. 0 = plain appends.
  uint64_t zeroAheadBytes = 1u << 20;
};

// One segment file being written. Not thread-safe: one thread (the commit thread) owns it.
// Writes are buffered by the kernel until sync(). The destructor closes the file without syncing.
class SegmentWriter {
 public:
  // Creates `dir`/segmentFileName(shard, generation), failing if it already exists, and fsyncs
  // `dir` so that the new file's name survives a crash. `dir` must exist.
  static Result<std::unique_ptr<SegmentWriter>> create(const std::filesystem::path& dir,
                                                       uint32_t shard, uint64_t generation,
                                                       SegmentWriterOptions options = {});
  ~SegmentWriter();
  SegmentWriter(const SegmentWriter&) = delete;
  SegmentWriter& operator=(const SegmentWriter&) = delete;

  // Appends `bytes` at the logical end (retrying short writes and EINTR).
  Status write(std::string_view bytes);
  // fdatasync: everything written so far is durable once this returns OK.
  Status sync();

  // Logical size: bytes written by write(), excluding the zero tail.
  uint64_t size() const noexcept { return size_; }
  const std::filesystem::path& path() const noexcept { return path_; }
  uint32_t shard() const noexcept { return shard_; }
  uint64_t generation() const noexcept { return generation_; }

 private:
  SegmentWriter(int fd, std::filesystem::path path, uint32_t shard, uint64_t generation,
                SegmentWriterOptions options);
  void zeroAhead();

  int fd_;
  std::filesystem::path path_;
  uint32_t shard_;
  uint64_t generation_;
  SegmentWriterOptions options_;
  uint64_t size_ = 0;
  uint64_t zeroedEnd_ = 0;  // the file holds zeros in [size_, zeroedEnd_)
};

}  // namespace duro::storage
